//! The reading rules, pinned on the pure state: what is read when, what a page or a failure
//! changes, and the verdicts.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use jwt_session::revocation::dynamodb::to_item;
use jwt_session::revocation::{Entry, FeedShards};
use jwt_session::testing::VerifiedBuilder;

use super::state::{
    DEEP_OVERLAP_MS, DEEP_READ_EVERY, FEED_OVERLAP_MS, FIRST_LOAD_RETRY, MIN_PAGE_ITEMS, PAGE_ITEMS,
};
use super::*;

const T: u64 = 1_800_000_000;
const T_MS: u64 = T * 1000;

fn policy(shards: u16) -> RevocationRules {
    RevocationRules {
        shards: FeedShards::new(shards).unwrap(),
        ..RevocationRules::new("t".into())
    }
}

fn token(sub: &str, sid: &str, auth_time: u64) -> Verified {
    VerifiedBuilder::new(sub)
        .issued(auth_time, 900)
        .sid(sid)
        .build()
}

fn session(sid: &str, at_ms: u64) -> Entry {
    Entry::session(sid.into(), at_ms, 3600, 0)
}

fn key(n: u32) -> StartKey {
    [("id".to_owned(), AttributeValue::S(format!("sid#{n}")))].into()
}

fn page(entries: Vec<Entry>, next: Option<StartKey>) -> Page {
    let high_at = entries.iter().map(|e| e.at_ms).max();
    Page {
        entries,
        high_at,
        next,
        ..Page::default()
    }
}

/// Reads every due page with `answer(due)` at `now`; returns what was due.
fn round(
    s: &mut RevocationState,
    p: &RevocationRules,
    now: Instant,
    now_ms: u64,
    answer: impl Fn(&Due) -> Result<Page, ReadError>,
) -> Vec<Due> {
    let due = s.due(now, now_ms, p);
    let mut r = Round::default();
    for d in &due {
        let result = answer(d);
        s.record(d, result.as_ref().map(Clone::clone), now, now_ms, T, &mut r);
    }
    s.end_round(&r);
    due
}

fn empty(_: &Due) -> Result<Page, ReadError> {
    Ok(Page::default())
}

#[test]
fn nothing_is_decided_before_every_shard_is_loaded() {
    let p = policy(2);
    let mut s = RevocationState::new(p.shards);
    let t0 = Instant::now();
    assert_eq!(
        s.check(&token("a", "s", T), t0, T, &p),
        Err(Refused::KeyUnavailable)
    );
    // Shard 0 loads, shard 1 fails: still nothing decided.
    round(&mut s, &p, t0, T_MS, |d| {
        if d.shard == 0 {
            Ok(Page::default())
        } else {
            Err(ReadError::TimedOut)
        }
    });
    assert!(!s.loaded());
    assert_eq!(
        s.check(&token("a", "s", T), t0, T, &p),
        Err(Refused::KeyUnavailable)
    );
    // Shard 1 is retried soon (it was never loaded) and then the set serves.
    let t1 = t0 + FIRST_LOAD_RETRY;
    let due = round(&mut s, &p, t1, T_MS, empty);
    assert_eq!(due.len(), 1, "only the shard that failed: {due:?}");
    assert_eq!(due[0].pass, Pass::Load);
    assert_eq!(s.check(&token("a", "s", T), t1, T, &p), Ok(()));
}

#[test]
fn a_shard_is_loaded_from_the_expiry_index_then_read_incrementally_from_its_cursor() {
    let p = policy(1);
    let mut s = RevocationState::new(p.shards);
    let t0 = Instant::now();
    let due = round(&mut s, &p, t0, T_MS, |_| {
        Ok(page(vec![session("old", T_MS - 3_600_000)], None))
    });
    assert_eq!(due[0].pass, Pass::Load);
    // The next pass starts the overlap before the load began (a load is in expiry order:
    // only its start is known to be covered), a refresh interval later.
    assert!(s.due(t0 + p.refresh / 2, T_MS + 1, &p).is_empty());
    let due = s.due(t0 + p.refresh, T_MS + 5_000, &p);
    assert_eq!(due[0].pass, Pass::Since(T_MS - FEED_OVERLAP_MS));
}

#[test]
fn the_cursor_moves_to_the_latest_item_an_incremental_pass_read() {
    let p = policy(1);
    let mut s = RevocationState::new(p.shards);
    let t0 = Instant::now();
    round(&mut s, &p, t0, T_MS, empty);
    let t1 = t0 + p.refresh;
    // A pass that began at T+5 s read, by T+9.5 s, items written up to T+9 s (a backlog
    // written while it ran, read in the order written).
    let due = s.due(t1, T_MS + 5_000, &p);
    let mut r = Round::default();
    let read = page(vec![session("a", T_MS + 9_000)], None);
    s.record(&due[0], Ok(read), t1, T_MS + 9_500, T, &mut r);
    assert_eq!(r.items, 1);
    let due = s.due(t1 + p.refresh, T_MS + 20_000, &p);
    assert_eq!(due[0].pass, Pass::Since(T_MS + 9_000 - FEED_OVERLAP_MS));
    assert_eq!(s.lag_ms(T_MS + 20_000), Some(11_000));
}

#[test]
fn a_backlog_is_read_a_page_per_shard_per_request_and_pages_read_are_kept_when_a_later_one_fails() {
    let p = policy(1);
    let mut s = RevocationState::new(p.shards);
    let t0 = Instant::now();
    round(&mut s, &p, t0, T_MS, empty);
    let t1 = t0 + p.refresh;
    let due = round(&mut s, &p, t1, T_MS + 5_000, |_| {
        Ok(page(vec![session("a", T_MS + 1_000)], Some(key(1))))
    });
    assert_eq!(due[0].start, None);
    assert_eq!(s.behind(), 1);
    // The next request goes on at once, from where the page ended, even within the interval.
    let t2 = t1 + Duration::from_millis(100);
    let due = round(&mut s, &p, t2, T_MS + 5_100, |_| Err(ReadError::TimedOut));
    assert_eq!(due[0].start, Some(key(1)));
    // What the first page held is kept.
    assert_eq!(
        s.check(&token("x", "a", T), t2, T, &p),
        Err(Refused::Revoked)
    );
    // After the failure: a refresh interval's wait, then the same page at half the size.
    assert!(s.due(t2 + p.refresh / 2, T_MS + 6_000, &p).is_empty());
    let due = s.due(t2 + p.refresh, T_MS + 10_100, &p);
    assert_eq!(due[0].start, Some(key(1)));
    assert_eq!(due[0].limit, PAGE_ITEMS / 2);
    assert_eq!(due[0].pass, Pass::Since(T_MS - FEED_OVERLAP_MS));
}

#[test]
fn the_page_size_halves_on_each_failure_down_to_a_floor_and_grows_back() {
    let p = policy(1);
    let mut s = RevocationState::new(p.shards);
    let mut t = Instant::now();
    for _ in 0..10 {
        round(&mut s, &p, t, T_MS, |_| Err(ReadError::TimedOut));
        t += p.refresh;
    }
    let read = round(&mut s, &p, t, T_MS, |_| Ok(page(Vec::new(), Some(key(1)))));
    assert_eq!(read.first().map(|d| d.limit), Some(MIN_PAGE_ITEMS));
    let read = round(&mut s, &p, t, T_MS, |_| Ok(page(Vec::new(), Some(key(2)))));
    assert_eq!(read.first().map(|d| d.limit), Some(MIN_PAGE_ITEMS * 2));
}

#[test]
fn staleness_counts_per_shard_from_its_last_page() {
    let p = policy(2);
    let mut s = RevocationState::new(p.shards);
    let t0 = Instant::now();
    round(&mut s, &p, t0, T_MS, |_| {
        Ok(page(vec![session("s1", T_MS)], None))
    });
    // Shard 1 fails from now on; shard 0 keeps reading.
    let mut t = t0;
    while t < t0 + p.max_stale {
        t += p.refresh;
        round(&mut s, &p, t, T_MS, |d| {
            if d.shard == 0 {
                Ok(Page::default())
            } else {
                Err(ReadError::TimedOut)
            }
        });
        if t < t0 + p.max_stale {
            assert_eq!(s.check(&token("a", "s2", T), t, T, &p), Ok(()));
            assert_eq!(
                s.check(&token("a", "s1", T), t, T, &p),
                Err(Refused::Revoked)
            );
        }
    }
    assert_eq!(
        s.check(&token("a", "s2", T), t0 + p.max_stale, T, &p),
        Err(Refused::KeyUnavailable)
    );
    // Recovery: a page of each shard (the failures left one page at a time), and the set
    // serves again.
    let t = t0 + p.max_stale + p.refresh;
    let mut read = std::collections::BTreeSet::new();
    for i in 0..2 {
        read.extend(
            round(&mut s, &p, t + p.refresh * i, T_MS, empty)
                .iter()
                .map(|d| d.shard),
        );
    }
    assert_eq!(read.len(), 2, "a failing shard does not starve the other");
    assert_eq!(s.check(&token("a", "s2", T), t + p.refresh, T, &p), Ok(()));
}

#[test]
fn a_deep_pass_reaches_further_back_once_every_interval() {
    let p = policy(1);
    let mut s = RevocationState::new(p.shards);
    let t0 = Instant::now();
    round(&mut s, &p, t0, T_MS, empty);
    let mut t = t0;
    let mut passes = Vec::new();
    while t < t0 + DEEP_READ_EVERY {
        t += p.refresh;
        passes.extend(
            round(&mut s, &p, t, T_MS, empty)
                .into_iter()
                .map(|d| d.pass),
        );
    }
    assert_eq!(
        passes.last(),
        Some(&Pass::Since(T_MS - DEEP_OVERLAP_MS)),
        "the deep pass"
    );
    let shallow = Pass::Since(T_MS - FEED_OVERLAP_MS);
    assert!(passes[..passes.len() - 1].iter().all(|p| *p == shallow));
}

#[test]
fn items_this_version_does_not_understand_are_skipped_and_counted_not_fatal() {
    let good = to_item(&session("a", T_MS), FeedShards::DEFAULT);
    let mut newer = good.clone();
    newer.insert("kind".into(), AttributeValue::S("device".into()));
    let mut broken = good.clone();
    broken.remove("expires_at");
    let page = Page::of(&[newer, good, broken], Some(key(3)));
    assert_eq!(page.entries, vec![session("a", T_MS)]);
    assert_eq!(page.skipped, 2);
    assert_eq!(page.skipped_why, Some("unknown_kind"));
    assert_eq!(page.high_at, Some(T_MS));
    assert_eq!(page.next, Some(key(3)));
    let p = policy(1);
    let mut s = RevocationState::new(p.shards);
    let t0 = Instant::now();
    round(&mut s, &p, t0, T_MS, |_| Ok(Page::of(&[], None)));
    round(&mut s, &p, t0 + p.refresh, T_MS, |_| {
        let mut odd = to_item(&session("b", T_MS), FeedShards::DEFAULT);
        odd.insert("kind".into(), AttributeValue::S("device".into()));
        Ok(Page::of(&[odd], None))
    });
    assert_eq!(s.skipped(), 1);
    assert_eq!(s.check(&token("a", "x", T), t0 + p.refresh, T, &p), Ok(()));
}

#[test]
fn a_subject_revocation_covers_sessions_begun_before_it_even_when_renewed_after_it() {
    let p = policy(1);
    let mut s = RevocationState::new(p.shards);
    let t0 = Instant::now();
    round(&mut s, &p, t0, T_MS, |_| {
        Ok(page(
            vec![Entry::subject("alice".into(), T, T_MS, 43_200)],
            None,
        ))
    });
    // A token renewed a second after the revocation (iat later), of a session that began
    // before it (auth_time earlier): refused.
    let mut renewed = token("alice", "s1", T - 100);
    renewed.iat = Some(T + 1);
    assert_eq!(s.check(&renewed, t0, T + 1, &p), Err(Refused::Revoked));
    // A session begun after it: accepted.
    assert_eq!(s.check(&token("alice", "s2", T + 1), t0, T + 1, &p), Ok(()));
    // A token without auth_time falls back to its iat.
    let mut plain = token("alice", "s3", T + 1);
    plain.auth_time = None;
    assert_eq!(s.check(&plain, t0, T + 1, &p), Ok(()));
    plain.iat = Some(T);
    assert_eq!(s.check(&plain, t0, T + 1, &p), Err(Refused::Revoked));
}

#[test]
fn reads_only_add_and_entries_leave_when_they_expire() {
    let p = policy(1);
    let mut s = RevocationState::new(p.shards);
    let t0 = Instant::now();
    let e = session("s1", T_MS);
    let expires = e.expires_at;
    round(&mut s, &p, t0, T_MS, |_| Ok(page(vec![e.clone()], None)));
    round(&mut s, &p, t0 + p.refresh, T_MS, empty);
    assert_eq!(s.len(), 1, "a pass without it does not drop it");
    assert_eq!(
        s.check(&token("a", "s1", T), t0 + p.refresh, expires - 1, &p),
        Err(Refused::Revoked)
    );
    assert_eq!(
        s.check(&token("a", "s1", T), t0 + p.refresh, expires, &p),
        Ok(())
    );
}

#[test]
fn a_round_after_a_failure_reads_fewer_shards_at_once_the_least_recently_asked_first() {
    let p = policy(4);
    let mut s = RevocationState::new(p.shards);
    let t0 = Instant::now();
    assert_eq!(round(&mut s, &p, t0, T_MS, empty).len(), 4, "all at once");
    // Shards 2 and 3 time out: half as many at once next time.
    let t1 = t0 + p.refresh;
    round(&mut s, &p, t1, T_MS, |d| {
        if d.shard >= 2 {
            Err(ReadError::TimedOut)
        } else {
            Ok(Page::default())
        }
    });
    assert_eq!(s.parallel(), 2);
    // A refresh interval later every shard is due: two of them are read ...
    let t2 = t1 + p.refresh;
    let due = round(&mut s, &p, t2, T_MS, empty);
    assert_eq!(due.iter().map(|d| d.shard).collect::<Vec<_>>(), vec![0, 1]);
    // ... no failure: one more at a time, and the two not asked come next, where they stopped.
    assert_eq!(s.parallel(), 3);
    let due = round(&mut s, &p, t2 + Duration::from_millis(1), T_MS, empty);
    assert_eq!(due.iter().map(|d| d.shard).collect::<Vec<_>>(), vec![2, 3]);
    assert!(due.iter().all(|d| d.limit == PAGE_ITEMS / 2));
    assert_eq!(s.parallel(), 4);
}

#[test]
fn a_page_still_on_its_way_is_not_asked_again_and_counts_against_the_parallelism() {
    let p = policy(4);
    let mut s = RevocationState::new(p.shards);
    let now = Instant::now();
    // A request asks for the four load pages; its budget ends before they come.
    let asked = s.due(now, T_MS, &p);
    assert_eq!(asked.len(), 4);
    assert_eq!(s.asked(), 4);
    // The next request asks for nothing more while they are on their way...
    let later = now + Duration::from_secs(30);
    assert!(s.due(later, T_MS + 30_000, &p).is_empty());
    // ...and records them when they come: two of them now.
    let mut r = Round::default();
    for d in asked.iter().take(2) {
        s.record(d, Ok(page(vec![], None)), later, T_MS + 30_000, T, &mut r);
    }
    assert_eq!(s.asked(), 2);
    assert!(!s.loaded(), "two shards are still loading");
    // Only the shards whose pages came may be asked again, and only as many as the
    // parallelism leaves beside the two on their way.
    let mut fewer = RevocationState::new(p.shards);
    let first = fewer.due(now, T_MS, &p);
    let mut r = Round {
        failed: 1,
        ..Round::default()
    };
    fewer.record(&first[0], Err(&ReadError::TimedOut), now, T_MS, T, &mut r);
    fewer.end_round(&r); // parallelism 4 → 2, with 3 pages on their way
    assert_eq!(fewer.parallel(), 2);
    assert!(fewer
        .due(now + Duration::from_secs(60), T_MS + 60_000, &p)
        .is_empty());
    for d in asked.iter().skip(2) {
        s.record(d, Ok(page(vec![], None)), later, T_MS + 30_000, T, &mut r);
    }
    assert!(s.loaded());
    assert_eq!(s.asked(), 0);
}
