//! Revoked sessions and subjects (docs/revocation.md), kept in memory: no revocation I/O per
//! request but the reads that keep the set current.
//!
//! The feed (see [`jwt_session::revocation`]) is spread over `REVOCATION_SHARDS` partitions;
//! each shard is read on its own, all of them in parallel, a page at a time:
//!
//! - **Load.** A shard's first pass reads every item still in force from the expiry index
//!   (expired items are left out by the key condition). Before the first decision the
//!   container loads every shard, page after page, for at most [`INIT_BUDGET`]; what is not
//!   loaded then is loaded by the next requests, each within what is left of its
//!   [`INVOCATION_BUDGET`] (a request that finds the set unusable — not loaded, or a shard
//!   stale after an outage — reads rounds until it is usable, as far as its budget goes).
//!   Until every shard is loaded, every verified token is refused (`key_unavailable`): fail
//!   closed.
//! - **Incremental passes.** Then, at most once per `REVOCATION_REFRESH_SECONDS` (counted from
//!   when the last pass began), the request that finds one due reads what was written since
//!   the shard's cursor, less [`state::FEED_OVERLAP_MS`] (once every
//!   [`state::DEEP_READ_EVERY`], [`state::DEEP_OVERLAP_MS`]). A pass with more pages than one
//!   goes on at the next request: a request reads at most one page per shard, so a backlog
//!   (a burst of revocations) is read in bounded steps, never in one read that must finish
//!   before a deadline.
//! - **Progress is kept page by page.** Entries read are kept whatever happens to the next
//!   page; a failed page (time-out, throttling, DynamoDB down) is retried from where it
//!   stopped, at half the page size, a refresh interval later ([`state::FIRST_LOAD_RETRY`]
//!   while the shard was never loaded). The cursor moves when a pass ends: to where the pass
//!   began, or to the latest item it read if that is later.
//! - **Parallelism adapts.** A round reads the due shards in parallel, the least recently
//!   read first, at most as many at once as the table has lately served without failure:
//!   halved after a round with a failed page, one more after a round without (a slow or
//!   throttling table is asked less at once, and no shard is starved).
//! - **Staleness** counts per shard from its last page read: a shard with no page read for
//!   `REVOCATION_MAX_STALE_SECONDS` makes every verified token refused (`key_unavailable`)
//!   until one is read again.
//! - **Forward compatible.** An item this version does not understand (a kind written by a
//!   newer signer) is skipped, counted and logged (`revocation_item_unknown`, alarmed by the
//!   template); it never stops the reader.
//!
//! Reads only add to the set; an entry leaves when it expires. A verified token whose session
//! is revoked, or whose subject was revoked after its session began (`auth_time`), is refused
//! (`revoked`).

mod feed;
mod state;

#[cfg(test)]
mod tests;

use std::future::Future;
use std::time::{Duration, Instant};

use jwt_session::revocation::FeedShards;
use tokio::sync::Mutex;

use crate::decision::{Refused, Verified};

pub use feed::{DynamoFeed, Page, Pass, ReadError, StartKey};
pub use state::{Due, RevocationState, Round};

/// How much of an invocation may pass before its revocation reads must be over: a request's
/// read is cut to what is left of this (the key fetch may have used some), so that a slow key
/// server and a slow DynamoDB together still answer, and audit, within the template's 5 s
/// function time-out. A request with nothing left does not read (the next one does); the set
/// keeps serving until its staleness bound.
pub const INVOCATION_BUDGET: Duration = Duration::from_millis(4_000);

/// How long the container's start-up may spend loading the feed (Lambda allows an
/// initialisation 10 s).
pub const INIT_BUDGET: Duration = Duration::from_millis(8_000);

/// `REVOCATION_REFRESH_SECONDS` (docs/revocation.md).
pub const DEFAULT_REFRESH_SECONDS: u64 = 5;
/// `REVOCATION_MAX_STALE_SECONDS` (docs/revocation.md).
pub const DEFAULT_MAX_STALE_SECONDS: u64 = 300;
/// `REVOCATION_TIMEOUT_MS`.
pub const DEFAULT_TIMEOUT_MS: u64 = 1_000;

/// Where revocations are read from and how fresh they must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationRules {
    /// The DynamoDB table (`REVOCATION_TABLE`).
    pub table: String,
    /// At most one pass per shard per this interval (`REVOCATION_REFRESH_SECONDS`). Default:
    /// 5 s.
    pub refresh: Duration,
    /// A shard without a page read for this long fails closed
    /// (`REVOCATION_MAX_STALE_SECONDS`). Default: 300 s.
    pub max_stale: Duration,
    /// Time-out of one `Query` page (connect and whole call) (`REVOCATION_TIMEOUT_MS`).
    /// Default: 1 s.
    pub timeout: Duration,
    /// The feed's partitions (`REVOCATION_SHARDS`): at least as many as the signer writes.
    /// Default: [`FeedShards::DEFAULT`] (8).
    pub shards: FeedShards,
}

impl RevocationRules {
    /// The defaults, reading `table`.
    pub fn new(table: String) -> Self {
        RevocationRules {
            table,
            refresh: Duration::from_secs(DEFAULT_REFRESH_SECONDS),
            max_stale: Duration::from_secs(DEFAULT_MAX_STALE_SECONDS),
            timeout: Duration::from_millis(DEFAULT_TIMEOUT_MS),
            shards: FeedShards::DEFAULT,
        }
    }

    /// The DynamoDB client: no SDK retries (a failed page is retried at the next interval,
    /// not multiplied here) and the time-out.
    pub fn client_config(&self, sdk: &aws_config::SdkConfig) -> aws_sdk_dynamodb::config::Config {
        let (retry, timeouts) = jwt_session::aws::one_attempt(self.timeout, self.timeout);
        aws_sdk_dynamodb::config::Builder::from(sdk)
            .retry_config(retry)
            .timeout_config(timeouts)
            .build()
    }
}

/// How many rounds of pages a read may make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rounds {
    /// Until every shard is loaded and no pass is left (start-up).
    UntilCurrent,
    /// One round while the set may be used; while it may not (a shard not loaded yet, or
    /// stale after an outage), rounds until it may: the request would be refused otherwise
    /// (a request).
    OneOnceUsable,
}

/// The revocations of one container: the feed, the policy and the state.
#[derive(Debug)]
pub struct Revocations {
    feed: DynamoFeed,
    policy: RevocationRules,
    reader: Mutex<Reader>,
}

/// The state and the pages asked for whose result is not recorded yet.
#[derive(Debug)]
struct Reader {
    state: RevocationState,
    asked: Vec<Asked>,
}

/// A page on its way: its own time-out (`REVOCATION_TIMEOUT_MS`) bounds it, not the request
/// that asked for it.
#[derive(Debug)]
struct Asked {
    due: Due,
    page: tokio::task::JoinHandle<Result<Page, ReadError>>,
    /// Its result, once it came (a finished task is not polled again).
    result: Option<Result<Page, ReadError>>,
}

/// Waits up to `left` for every page on its way; takes out those that came, in the order
/// asked (a task that failed to run counts as a page that did not arrive).
async fn wait(asked: &mut Vec<Asked>, left: Duration) -> Vec<(Due, Result<Page, ReadError>)> {
    let all = std::future::poll_fn(|cx| {
        let mut waiting = false;
        for a in asked.iter_mut().filter(|a| a.result.is_none()) {
            match std::pin::Pin::new(&mut a.page).poll(cx) {
                std::task::Poll::Ready(joined) => {
                    a.result = Some(joined.unwrap_or_else(|_| Err(ReadError::TimedOut)));
                }
                std::task::Poll::Pending => waiting = true,
            }
        }
        if waiting {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    });
    // Whatever came within `left` is kept, whether or not every page did.
    let _ = tokio::time::timeout(left, all).await;
    let mut answered = Vec::new();
    let mut waiting = Vec::new();
    for a in asked.drain(..) {
        match a.result {
            Some(result) => answered.push((a.due, result)),
            None => waiting.push(Asked { result: None, ..a }),
        }
    }
    *asked = waiting;
    answered
}

impl Revocations {
    /// The revocations read from `feed` under `policy`.
    pub fn new(feed: DynamoFeed, policy: RevocationRules) -> Self {
        Revocations {
            reader: Mutex::new(Reader {
                state: RevocationState::new(policy.shards),
                asked: Vec::new(),
            }),
            feed,
            policy,
        }
    }

    /// Loads the set now (at start-up, before the first decision), for at most
    /// [`INIT_BUDGET`].
    pub async fn warm(&self) {
        let mut reader = self.reader.lock().await;
        let now = Instant::now();
        let deadline = now.checked_add(INIT_BUDGET).unwrap_or(now);
        self.read(&mut reader, deadline, Rounds::UntilCurrent).await;
    }

    /// Rounds of pages, every due shard in parallel, until `deadline` or what `rounds` allows.
    /// A page still on its way at `deadline` is not dropped: it goes on (the table's work is
    /// not wasted) and the next read records it, waiting for it instead of asking again.
    async fn read(&self, reader: &mut Reader, deadline: Instant, rounds: Rounds) {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            let started = Instant::now();
            let state = &mut reader.state;
            let due = state.due(started, jwt_session::unix_now_ms(), &self.policy);
            let unix_now = jwt_session::unix_now();
            for d in due {
                let feed = self.feed.clone();
                let timeout = self.policy.timeout;
                let ask = d.clone();
                let page = tokio::spawn(async move {
                    feed.page(ask.shard, ask.pass, ask.start, ask.limit, unix_now, timeout)
                        .await
                });
                reader.asked.push(Asked {
                    due: d,
                    page,
                    result: None,
                });
            }
            if reader.asked.is_empty() {
                return;
            }
            let answered = wait(&mut reader.asked, left).await;
            if answered.is_empty() {
                // The budget is spent; the pages go on and the next request records them.
                return;
            }
            let state = &mut reader.state;
            let (now, now_ms, unix_now) = (
                Instant::now(),
                jwt_session::unix_now_ms(),
                jwt_session::unix_now(),
            );
            let mut round = Round::default();
            for (d, result) in answered {
                match result {
                    Ok(page) => {
                        if page.skipped > 0 {
                            tracing::warn!(
                                event = "revocation_item_unknown",
                                shard = d.shard,
                                count = page.skipped,
                                why = page.skipped_why,
                                "feed items this version does not understand were skipped: deploy the authorizers' new version"
                            );
                        }
                        state.record(&d, Ok(page), now, now_ms, unix_now, &mut round);
                    }
                    Err(e) => {
                        state.record(&d, Err(&e), now, now_ms, unix_now, &mut round);
                        let cause = std::error::Error::source(&e).map(ToString::to_string);
                        tracing::warn!(
                            event = "revocations_refresh_failed",
                            shard = d.shard,
                            transient = e.is_transient(),
                            error = %e,
                            cause,
                            serving = state.usable(now, &self.policy),
                            "could not read a page of the revocation feed"
                        );
                    }
                }
            }
            state.end_round(&round);
            tracing::info!(
                event = "revocations_refreshed",
                pages = round.pages,
                failed = round.failed,
                resumed = round.resumed,
                items = round.items,
                skipped = round.skipped,
                revoked = state.len(),
                loaded = state.loaded(),
                behind = state.behind(),
                on_the_way = state.asked(),
                parallel = state.parallel(),
                lag_ms = state.lag_ms(now_ms),
                consumed_rcu = round.capacity,
                latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
                "revocations read"
            );
            let done = match rounds {
                Rounds::UntilCurrent => state.loaded() && state.behind() == 0,
                Rounds::OneOnceUsable => state.usable(Instant::now(), &self.policy),
            };
            if done {
                return;
            }
        }
    }

    /// The verdict on a verified token, reading the feed first where a read is due, within
    /// what is left of [`INVOCATION_BUDGET`] since the invocation began (`invoked`).
    pub async fn check(
        &self,
        token: &Verified,
        unix_now: u64,
        invoked: Instant,
    ) -> Result<(), Refused> {
        let mut reader = self.reader.lock().await;
        let deadline = invoked.checked_add(INVOCATION_BUDGET).unwrap_or(invoked);
        self.read(&mut reader, deadline, Rounds::OneOnceUsable)
            .await;
        reader
            .state
            .check(token, Instant::now(), unix_now, &self.policy)
    }
}
