//! The in-memory revocations of a container and the progress of its reads, shard by shard.
//! Pure: every method takes the time it should consider as now, and the pages it is given.

use std::time::{Duration, Instant};

use jwt_session::revocation::{FeedShards, RevocationSet};

use super::feed::{Page, Pass, ReadError, StartKey};
use super::RevocationRules;
use crate::decision::{Refused, Verified};

/// How far back an incremental pass starts before what the last one knew: a writer's clock a
/// little behind ours, or the feed index a little behind the table, cannot hide an item.
pub const FEED_OVERLAP_MS: u64 = 30_000;

/// How often a pass reaches further back ([`DEEP_OVERLAP_MS`]): an item the index delivered
/// later than [`FEED_OVERLAP_MS`] is still found within this.
pub const DEEP_READ_EVERY: Duration = Duration::from_secs(900);

/// How far back the periodic deep pass starts before what the last pass knew.
pub const DEEP_OVERLAP_MS: u64 = 900_000 + FEED_OVERLAP_MS;

/// Items per `Query` page at most: a page is parsed whole by the SDK before its items are
/// kept, so smaller pages keep the transient memory of a load small.
pub const PAGE_ITEMS: i32 = 2_000;

/// The smallest page: a page that failed (time-out, throttling) is asked again at half the
/// size, down to this, and grows back after each success.
pub const MIN_PAGE_ITEMS: i32 = 100;

/// While a shard was never loaded (a cold container whose load failed), how soon to try again.
pub const FIRST_LOAD_RETRY: Duration = Duration::from_millis(500);

/// One page to read now.
#[derive(Debug, Clone, PartialEq)]
pub struct Due {
    /// The shard.
    pub shard: u16,
    /// Its pass.
    pub pass: Pass,
    /// Where the pass goes on (`None`: its first page).
    pub start: Option<StartKey>,
    /// Items at most.
    pub limit: i32,
}

/// A pass in progress.
#[derive(Debug, Clone)]
struct Progress {
    pass: Pass,
    start: Option<StartKey>,
    /// Our clock when it began, milliseconds since the epoch.
    began_ms: u64,
    /// The latest `at` read so far.
    high_at: Option<u64>,
}

/// One shard's reads.
#[derive(Debug, Clone)]
struct Shard {
    /// A load of this shard has finished at least once.
    loaded: bool,
    /// Every item written before this (ms since the epoch, less the overlap) has been read.
    known_ms: Option<u64>,
    progress: Option<Progress>,
    /// When the last pass began: the next begins a refresh interval later.
    pass_began: Option<Instant>,
    /// When the last deep pass began.
    deep_began: Option<Instant>,
    /// The last page read: the staleness bound counts from it.
    last_ok: Option<Instant>,
    /// The last page asked for, read or failed: rounds take shards in this order.
    last_attempt: Option<Instant>,
    /// When the last page failed, if the last attempt failed.
    failed: Option<Instant>,
    /// A page was asked for and its result is not recorded yet (it may outlive the request
    /// that asked: the next one waits for it instead of asking again).
    asked: bool,
    limit: i32,
}

impl Shard {
    /// Whether a page of this shard may be read now.
    fn ready(&self, now: Instant, policy: &RevocationRules) -> bool {
        if self.asked {
            return false;
        }
        let backoff = if self.loaded {
            policy.refresh
        } else {
            policy.refresh.min(FIRST_LOAD_RETRY)
        };
        if self
            .failed
            .is_some_and(|t| now.saturating_duration_since(t) < backoff)
        {
            return false;
        }
        self.progress.is_some()
            || self
                .pass_began
                .is_none_or(|t| now.saturating_duration_since(t) >= policy.refresh)
    }

    /// Begins a pass: the load while the shard was never loaded, then incremental passes from
    /// its cursor, reaching further back once every [`DEEP_READ_EVERY`].
    fn begin(&mut self, now: Instant, now_ms: u64) {
        let pass = match (self.loaded, self.known_ms) {
            (true, Some(known)) => {
                let deep = self
                    .deep_began
                    .is_none_or(|t| now.saturating_duration_since(t) >= DEEP_READ_EVERY);
                if deep {
                    self.deep_began = Some(now);
                    Pass::Since(known.saturating_sub(DEEP_OVERLAP_MS))
                } else {
                    Pass::Since(known.saturating_sub(FEED_OVERLAP_MS))
                }
            }
            _ => {
                self.deep_began = Some(now);
                Pass::Load
            }
        };
        self.progress = Some(Progress {
            pass,
            start: None,
            began_ms: now_ms,
            high_at: None,
        });
        self.pass_began = Some(now);
    }
}

impl Default for Shard {
    fn default() -> Self {
        Shard {
            loaded: false,
            known_ms: None,
            progress: None,
            pass_began: None,
            deep_began: None,
            last_ok: None,
            last_attempt: None,
            failed: None,
            asked: false,
            limit: PAGE_ITEMS,
        }
    }
}

/// What reading one round of pages changed.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Round {
    /// Pages read.
    pub pages: usize,
    /// Pages that failed.
    pub failed: usize,
    /// Pages read that went on with a pass a failed page had interrupted (from where it
    /// stopped, not from its start).
    pub resumed: usize,
    /// Revocations read.
    pub items: usize,
    /// Items skipped (not understood).
    pub skipped: usize,
    /// Read capacity consumed.
    pub capacity: f64,
}

/// The revocations of a container and where each shard's reads stand.
#[derive(Debug)]
pub struct RevocationState {
    set: RevocationSet,
    shards: Vec<Shard>,
    /// How many pages a round reads at once at most.
    parallel: u16,
    skipped: u64,
}

impl RevocationState {
    /// Nothing read yet, from `shards` shards.
    pub fn new(shards: FeedShards) -> Self {
        RevocationState {
            set: RevocationSet::default(),
            shards: vec![Shard::default(); usize::from(shards.count())],
            parallel: shards.count(),
            skipped: 0,
        }
    }

    /// The pages to ask for now, at most one per shard and at most the current parallelism,
    /// pages asked and not yet recorded included (the shards asked least recently first, so
    /// none is starved, not even by one that keeps failing): a pass in progress goes on at
    /// once (a backlog is read a page per shard per request, never all in one); a new pass
    /// begins a refresh interval after the last one began; a shard whose last page failed
    /// waits a refresh interval ([`FIRST_LOAD_RETRY`] while it was never loaded); a shard
    /// whose page is still on its way is not asked again. Starting a pass, and asking, is
    /// recorded here: each `Due` returned must be given to [`RevocationState::record`].
    pub fn due(&mut self, now: Instant, now_ms: u64, policy: &RevocationRules) -> Vec<Due> {
        let mut ready: Vec<usize> = self
            .shards
            .iter()
            .enumerate()
            .filter(|(_, shard)| shard.ready(now, policy))
            .map(|(k, _)| k)
            .collect();
        ready.sort_by_key(|k| self.shards.get(*k).and_then(|s| s.last_attempt));
        let asked = self.shards.iter().filter(|s| s.asked).count();
        ready.truncate(usize::from(self.parallel).saturating_sub(asked));
        let mut out = Vec::new();
        for k in ready {
            let Some(shard) = self.shards.get_mut(k) else {
                continue;
            };
            if shard.progress.is_none() {
                shard.begin(now, now_ms);
            }
            if let Some(p) = &shard.progress {
                shard.asked = true;
                out.push(Due {
                    shard: u16::try_from(k).unwrap_or(u16::MAX),
                    pass: p.pass,
                    start: p.start.clone(),
                    limit: shard.limit,
                });
            }
        }
        out
    }

    /// After a round: the parallelism halves when a page failed (a slow or throttling table
    /// is asked less at once) and grows by one after a round without failure.
    pub fn end_round(&mut self, round: &Round) {
        let most = u16::try_from(self.shards.len()).unwrap_or(u16::MAX).max(1);
        self.parallel = if round.failed > 0 {
            (self.parallel / 2).max(1)
        } else if round.pages > 0 {
            self.parallel.saturating_add(1).min(most)
        } else {
            self.parallel
        };
    }

    /// The result of reading `due` at `now` (`now_ms` on our wall clock, `unix_now` in
    /// seconds). A page read is kept whatever happens to the next; a pass that ends moves
    /// the shard's cursor; a failure keeps the pass where it was, halves the page size, and
    /// waits.
    pub fn record(
        &mut self,
        due: &Due,
        result: Result<Page, &ReadError>,
        now: Instant,
        now_ms: u64,
        unix_now: u64,
        round: &mut Round,
    ) {
        let Some(shard) = self.shards.get_mut(usize::from(due.shard)) else {
            return;
        };
        shard.last_attempt = Some(now);
        shard.asked = false;
        let page = match result {
            Ok(page) => page,
            Err(_) => {
                shard.failed = Some(now);
                shard.limit = (shard.limit / 2).max(MIN_PAGE_ITEMS);
                round.failed += 1;
                return;
            }
        };
        round.pages += 1;
        if shard.failed.is_some() && due.start.is_some() {
            round.resumed += 1;
        }
        round.items += page.entries.len();
        round.skipped += page.skipped;
        round.capacity += page.capacity;
        self.skipped = self
            .skipped
            .saturating_add(u64::try_from(page.skipped).unwrap_or(u64::MAX));
        for entry in page.entries {
            self.set.insert(entry, unix_now);
        }
        shard.failed = None;
        shard.last_ok = Some(now);
        shard.limit = shard.limit.saturating_mul(2).min(PAGE_ITEMS);
        let Some(progress) = shard.progress.as_mut() else {
            return;
        };
        progress.high_at = progress.high_at.max(page.high_at);
        if page.next.is_some() {
            progress.start = page.next;
            return;
        }
        // The pass is over. A load (in expiry order) knows what was written before it began;
        // an incremental pass (in the order written) also what it read after that.
        shard.known_ms = Some(match progress.pass {
            Pass::Load => progress.began_ms,
            Pass::Since(_) => progress
                .began_ms
                .max(progress.high_at.unwrap_or(0).min(now_ms)),
        });
        shard.loaded = true;
        shard.progress = None;
        self.set.prune(unix_now);
    }

    /// Whether every shard has been loaded once.
    pub fn loaded(&self) -> bool {
        self.shards.iter().all(|s| s.loaded)
    }

    /// Pages asked for whose result is not recorded yet.
    pub fn asked(&self) -> usize {
        self.shards.iter().filter(|s| s.asked).count()
    }

    /// Shards whose pass is not over (a backlog being read).
    pub fn behind(&self) -> usize {
        self.shards.iter().filter(|s| s.progress.is_some()).count()
    }

    /// How far behind our clock the least current shard's cursor is, in milliseconds.
    pub fn lag_ms(&self, now_ms: u64) -> Option<u64> {
        self.shards
            .iter()
            .map(|s| s.known_ms.map(|k| now_ms.saturating_sub(k)))
            .try_fold(0u64, |acc, lag| lag.map(|l| acc.max(l)))
    }

    /// Whether the set may be used: every shard loaded, and a page of each read within the
    /// staleness bound.
    pub fn usable(&self, now: Instant, policy: &RevocationRules) -> bool {
        self.shards.iter().all(|s| {
            s.loaded
                && s.last_ok
                    .is_some_and(|t| now.saturating_duration_since(t) < policy.max_stale)
        })
    }

    /// The verdict on a verified token: refused (`revoked`) when its session or a revocation
    /// of its subject after its session began covers it; `key_unavailable` when the set may
    /// not be used.
    pub fn check(
        &self,
        token: &Verified,
        now: Instant,
        unix_now: u64,
        policy: &RevocationRules,
    ) -> Result<(), Refused> {
        if !self.usable(now, policy) {
            return Err(Refused::KeyUnavailable);
        }
        let began = token.auth_time.or(token.iat);
        if self
            .set
            .is_revoked(&token.sub, token.sid.as_deref(), began, unix_now)
        {
            return Err(Refused::Revoked);
        }
        Ok(())
    }

    /// How many sessions and subjects are revoked.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// Whether nothing is revoked.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// How many pages a round reads at once at most now.
    pub fn parallel(&self) -> u16 {
        self.parallel
    }

    /// Items skipped since the container started.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }
}
