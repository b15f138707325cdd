//! Revoked sessions and subjects (contract §7), kept in memory: no revocation I/O per
//! request.
//!
//! The set is loaded before the first decision of a container (one `Query` of the table's
//! feed index: every item), then refreshed incrementally, at most once per
//! `REVOCATION_REFRESH_SECONDS` (counted from when the last read began), by the request that
//! finds it due: one `Query` for the items written since the last read, less
//! [`FEED_OVERLAP_MS`] (a writer's clock a little behind ours, or the index a little behind
//! the table, cannot hide an item). Once every [`FULL_RELOAD_EVERY`] the whole feed is read
//! again; reads only ever add to the set (revocations are never undone; an entry leaves when
//! it expires). A verified token whose session or subject is revoked is refused (`revoked`).
//! Without a successful read for `REVOCATION_MAX_STALE_SECONDS` every verified token is
//! refused (`key_unavailable`): fail closed. An item that is not a revocation fails the read
//! (it could be one we cannot read). A failed read is retried no sooner than the next refresh
//! interval ([`FIRST_LOAD_RETRY`] while nothing was ever read), so DynamoDB calls per
//! container are bounded however many requests arrive or however long it is down; one read,
//! all its pages, takes at most three `REVOCATION_TIMEOUT_MS`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use jwt_session::revocation::dynamodb::from_item;
use jwt_session::revocation::{table, Entry, RevocationSet};
use tokio::sync::Mutex;

use crate::decision::{Refused, Verified};

/// How far back an incremental read starts before the last read's own start.
pub const FEED_OVERLAP_MS: u64 = 30_000;

/// How often the whole feed is read again instead of what is new.
pub const FULL_RELOAD_EVERY: Duration = Duration::from_secs(900);

/// Items per `Query` page: a page is parsed whole by the SDK before its items are kept, so
/// smaller pages keep the load's transient memory small (a 1 MB page of ~5,000 items would
/// leave several MB in the allocator of a 128 MB function).
pub const PAGE_ITEMS: i32 = 2_000;

/// At most this many pages per read (500,000 revocations, ~30 MB of set): a bound on one
/// read's calls and on the memory a flood of revocations can take; beyond it reads fail and
/// the authorizer fails closed after its staleness bound.
pub const MAX_PAGES: usize = 250;

/// While no read ever succeeded (a cold container whose load failed), how soon to try again.
pub const FIRST_LOAD_RETRY: Duration = Duration::from_millis(500);

/// How much of an invocation may pass before its revocation read must be over: a read made
/// by a request is cut to what is left of this (the key fetch may have used some), so that a
/// slow key server and a slow DynamoDB together still answer, and audit, within the
/// template's 5 s function time-out. A request with nothing left does not read (the next one
/// does); the set keeps serving until its staleness bound.
pub const INVOCATION_BUDGET: Duration = Duration::from_millis(4_000);

/// Where revocations are read from and how fresh they must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationPolicy {
    /// The DynamoDB table (`REVOCATION_TABLE`).
    pub table: String,
    /// At most one read per this interval (`REVOCATION_REFRESH_SECONDS`). Default: 5 s.
    pub refresh: Duration,
    /// Without a successful read for this long, fail closed (`REVOCATION_MAX_STALE_SECONDS`).
    /// Default: 300 s.
    pub max_stale: Duration,
    /// Time-out of one `Query` call (connect and whole call) (`REVOCATION_TIMEOUT_MS`).
    /// Default: 1 s.
    pub timeout: Duration,
}

impl RevocationPolicy {
    /// The defaults, reading `table`.
    pub fn new(table: String) -> Self {
        RevocationPolicy {
            table,
            refresh: Duration::from_secs(crate::config::defaults::REVOCATION_REFRESH_SECONDS),
            max_stale: Duration::from_secs(crate::config::defaults::REVOCATION_MAX_STALE_SECONDS),
            timeout: Duration::from_millis(crate::config::defaults::REVOCATION_TIMEOUT_MS),
        }
    }

    /// How long one read, all its pages, may take: three `REVOCATION_TIMEOUT_MS` (a request's
    /// read also stops at what is left of [`INVOCATION_BUDGET`]).
    pub fn read_deadline(&self) -> Duration {
        self.timeout.saturating_mul(3)
    }

    /// The DynamoDB client: no SDK retries (a failed read is retried at the next interval,
    /// not multiplied here) and the time-out.
    pub fn client_config(&self, sdk: &aws_config::SdkConfig) -> aws_sdk_dynamodb::config::Config {
        use aws_sdk_dynamodb::config::{retry::RetryConfig, timeout::TimeoutConfig};
        aws_sdk_dynamodb::config::Builder::from(sdk)
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(self.timeout)
                    .operation_attempt_timeout(self.timeout)
                    .operation_timeout(self.timeout)
                    .build(),
            )
            .build()
    }
}

/// What one read of the feed returned.
#[derive(Debug, Default)]
pub struct FeedRead {
    /// The items.
    pub entries: Vec<Entry>,
    /// `Query` calls made (pages).
    pub calls: usize,
    /// Read capacity DynamoDB says it consumed.
    pub capacity: f64,
}

/// Reads the table's feed index with the real DynamoDB client.
#[derive(Debug)]
pub struct DynamoFeed {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoFeed {
    /// The feed of `table`.
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        DynamoFeed { client, table }
    }

    /// Every item written at or after `since_ms` (all of them for `None`) that has not
    /// expired, within `deadline` for all its pages.
    pub async fn read(
        &self,
        since_ms: Option<u64>,
        deadline: Duration,
    ) -> Result<FeedRead, ReadError> {
        tokio::time::timeout(deadline, self.read_pages(since_ms))
            .await
            .map_err(|_| ReadError::Deadline)?
    }

    async fn read_pages(&self, since_ms: Option<u64>) -> Result<FeedRead, ReadError> {
        let mut out = FeedRead::default();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        let now = jwt_session::unix_now();
        let condition = match since_ms {
            Some(_) => "#feed = :feed AND #at >= :since",
            None => "#feed = :feed",
        };
        loop {
            if out.calls == MAX_PAGES {
                return Err(ReadError::TooManyPages);
            }
            // Only what an entry needs: not `id` and `feed`, which repeat what is read.
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(table::FEED_INDEX)
                .key_condition_expression(condition)
                // Expired items stay until DynamoDB's TTL deletes them, up to days later: they
                // are still read (and billed) but not sent, parsed or kept.
                .filter_expression("#expires > :now")
                .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
                .limit(PAGE_ITEMS)
                .projection_expression("#kind, #value, #before, #expires, #at")
                .expression_attribute_names("#kind", table::KIND)
                .expression_attribute_names("#value", table::VALUE)
                .expression_attribute_names("#before", table::BEFORE)
                .expression_attribute_names("#expires", table::EXPIRES_AT)
                .expression_attribute_names("#at", table::AT)
                .expression_attribute_names("#feed", table::FEED)
                .expression_attribute_values(":feed", AttributeValue::S(table::FEED_VALUE.into()))
                .return_consumed_capacity(aws_sdk_dynamodb::types::ReturnConsumedCapacity::Total)
                .set_exclusive_start_key(start.take());
            if let Some(since) = since_ms {
                q = q.expression_attribute_values(":since", AttributeValue::N(since.to_string()));
            }
            out.calls += 1;
            let page = q.send().await.map_err(|e| ReadError::Query(Box::new(e)))?;
            out.capacity += page
                .consumed_capacity()
                .and_then(|c| c.capacity_units())
                .unwrap_or(0.0);
            for item in page.items() {
                out.entries
                    .push(from_item(item).map_err(ReadError::InvalidItem)?);
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(out),
            }
        }
    }
}

/// Why a read failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The `Query` call failed (network, time-out, throttling, missing table, denied).
    #[error("DynamoDB Query failed")]
    Query(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// More than [`MAX_PAGES`] pages.
    #[error("the feed holds more than {MAX_PAGES} pages")]
    TooManyPages,
    /// An item that is not a revocation (written by something else than the signer).
    #[error("an item of the feed is not a revocation")]
    InvalidItem(#[source] jwt_session::revocation::ItemError),
    /// The read, all pages, took longer than three `REVOCATION_TIMEOUT_MS`.
    #[error("the read did not finish in time")]
    Deadline,
}

/// The in-memory state. Pure: every method takes the time it should consider as now.
#[derive(Debug, Default)]
pub struct RevocationState {
    set: RevocationSet,
    last_success: Option<Instant>,
    last_attempt: Option<Instant>,
    /// When the last full read after the first load began, successful or not: a periodic
    /// full read that fails is not retried until the next one is due, so incremental reads
    /// go on meanwhile (a feed too large for one read's deadline cannot stop them).
    last_full: Option<Instant>,
    /// Our clock (ms since the epoch) when the last successful read began.
    cursor_ms: Option<u64>,
}

impl RevocationState {
    /// Whether a read is due: never read, or the last attempt (successful or not) began a
    /// refresh interval ago ([`FIRST_LOAD_RETRY`] while no read ever succeeded).
    pub fn refresh_due(&self, now: Instant, policy: &RevocationPolicy) -> bool {
        let interval = match self.last_success {
            Some(_) => policy.refresh,
            None => policy.refresh.min(FIRST_LOAD_RETRY),
        };
        self.last_attempt
            .is_none_or(|t| now.saturating_duration_since(t) >= interval)
    }

    /// Where the next read starts: `None` for the whole feed.
    pub fn since(&self, now: Instant) -> Option<u64> {
        let full_due = self
            .last_full
            .is_none_or(|t| now.saturating_duration_since(t) >= FULL_RELOAD_EVERY);
        match (full_due, self.cursor_ms) {
            (false, Some(c)) => Some(c.saturating_sub(FEED_OVERLAP_MS)),
            _ => None,
        }
    }

    /// A read that began at `started` (`started_ms` on our wall clock) returned `entries`.
    /// Entries are only added: a full read catches what incremental ones missed, it never
    /// drops what they found.
    pub fn record_success(
        &mut self,
        started: Instant,
        started_ms: u64,
        full: bool,
        entries: Vec<Entry>,
        unix_now: u64,
    ) {
        let now = started;
        if full {
            self.last_full = Some(now);
        }
        for e in entries {
            self.set.insert(e, unix_now);
        }
        self.set.prune(unix_now);
        self.cursor_ms = Some(started_ms);
        self.last_success = Some(now);
        self.last_attempt = Some(now);
    }

    /// A read that began at `started` failed; `full` if it was a read of the whole feed.
    pub fn record_failure(&mut self, started: Instant, full: bool) {
        self.last_attempt = Some(started);
        if full && self.cursor_ms.is_some() {
            self.last_full = Some(started);
        }
    }

    /// Whether the set may still be used.
    pub fn usable(&self, now: Instant, policy: &RevocationPolicy) -> bool {
        self.last_success
            .is_some_and(|t| now.saturating_duration_since(t) < policy.max_stale)
    }

    /// The verdict on a verified token.
    pub fn check(
        &self,
        token: &Verified,
        now: Instant,
        unix_now: u64,
        policy: &RevocationPolicy,
    ) -> Result<(), Refused> {
        if !self.usable(now, policy) {
            return Err(Refused::KeyUnavailable);
        }
        if self
            .set
            .is_revoked(&token.sub, token.sid.as_deref(), token.iat, unix_now)
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
}

/// The revocations of one container: the feed, the policy and the state.
#[derive(Debug)]
pub struct Revocations {
    feed: DynamoFeed,
    policy: RevocationPolicy,
    state: Mutex<RevocationState>,
}

impl Revocations {
    /// The revocations read from `feed` under `policy`.
    pub fn new(feed: DynamoFeed, policy: RevocationPolicy) -> Self {
        Revocations {
            feed,
            policy,
            state: Mutex::new(RevocationState::default()),
        }
    }

    /// Loads the set now (at start-up, before the first decision).
    pub async fn warm(&self) {
        let mut state = self.state.lock().await;
        self.refresh(&mut state, self.policy.read_deadline()).await;
    }

    async fn refresh(&self, state: &mut RevocationState, deadline: Duration) {
        let started = Instant::now();
        let started_ms = jwt_session::unix_now_ms();
        let since = state.since(started);
        let full = since.is_none();
        match self.feed.read(since, deadline).await {
            Ok(read) => {
                let (items, calls, capacity) = (read.entries.len(), read.calls, read.capacity);
                state.record_success(
                    started,
                    started_ms,
                    full,
                    read.entries,
                    jwt_session::unix_now(),
                );
                tracing::info!(
                    event = "revocations_refreshed",
                    full,
                    items,
                    revoked = state.len(),
                    calls,
                    consumed_rcu = capacity,
                    latency_us = started.elapsed().as_micros() as u64,
                    "revocations read"
                );
            }
            Err(e) => {
                state.record_failure(started, full);
                let cause = std::error::Error::source(&e).map(ToString::to_string);
                tracing::warn!(
                    event = "revocations_refresh_failed",
                    error = %e,
                    cause,
                    serving = state.usable(Instant::now(), &self.policy),
                    "could not read the revocation table"
                );
            }
        }
    }

    /// The verdict on a verified token, reading the feed first when a read is due, within
    /// what is left of [`INVOCATION_BUDGET`] since the invocation began (`invoked`).
    pub async fn check(
        &self,
        token: &Verified,
        unix_now: u64,
        invoked: Instant,
    ) -> Result<(), Refused> {
        let mut state = self.state.lock().await;
        let left = INVOCATION_BUDGET.saturating_sub(invoked.elapsed());
        if state.refresh_due(Instant::now(), &self.policy) && !left.is_zero() {
            self.refresh(&mut state, self.policy.read_deadline().min(left))
                .await;
        }
        state.check(token, Instant::now(), unix_now, &self.policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jwt_session::revocation::Revocation;

    const T: u64 = 1_800_000_000;

    fn policy() -> RevocationPolicy {
        RevocationPolicy::new("t".into())
    }

    fn token(sub: &str, sid: &str, iat: u64) -> Verified {
        Verified {
            kid: "k".into(),
            sub: sub.into(),
            exp: iat + 900,
            iat: Some(iat),
            jti: None,
            sid: Some(sid.into()),
            scope: None,
            scopes: Vec::new(),
            csrf: None,
            renew: false,
        }
    }

    fn session(sid: &str) -> Entry {
        Entry::new(Revocation::Session { sid: sid.into() }, T * 1000, 3600)
    }

    #[test]
    fn nothing_is_decided_before_the_first_successful_read() {
        let s = RevocationState::default();
        let now = Instant::now();
        assert!(s.refresh_due(now, &policy()));
        assert_eq!(
            s.check(&token("a", "s", T), now, T, &policy()),
            Err(Refused::KeyUnavailable)
        );
    }

    #[test]
    fn a_revoked_session_is_refused_and_the_others_pass() {
        let mut s = RevocationState::default();
        let now = Instant::now();
        s.record_success(now, T * 1000, true, vec![session("s1")], T);
        assert_eq!(
            s.check(&token("a", "s1", T), now, T, &policy()),
            Err(Refused::Revoked)
        );
        assert_eq!(s.check(&token("a", "s2", T), now, T, &policy()), Ok(()));
    }

    #[test]
    fn reads_are_at_most_one_per_interval_whether_they_succeed_or_fail() {
        let p = policy();
        let mut s = RevocationState::default();
        let t0 = Instant::now();
        s.record_success(t0, T * 1000, true, Vec::new(), T);
        assert!(!s.refresh_due(t0 + p.refresh - Duration::from_millis(1), &p));
        assert!(s.refresh_due(t0 + p.refresh, &p));
        let t1 = t0 + p.refresh;
        s.record_failure(t1, false);
        assert!(!s.refresh_due(t1 + p.refresh - Duration::from_millis(1), &p));
        assert!(s.refresh_due(t1 + p.refresh, &p));
    }

    #[test]
    fn incremental_reads_start_an_overlap_before_the_last_read_and_full_reads_recur() {
        let mut s = RevocationState::default();
        let t0 = Instant::now();
        assert_eq!(s.since(t0), None, "the first read is the whole feed");
        s.record_success(t0, 1_000_000, true, Vec::new(), T);
        assert_eq!(
            s.since(t0 + Duration::from_secs(5)),
            Some(1_000_000 - FEED_OVERLAP_MS)
        );
        assert_eq!(s.since(t0 + FULL_RELOAD_EVERY), None);
    }

    #[test]
    fn a_failed_full_reload_gives_way_to_incremental_reads_until_the_next_one_is_due() {
        let mut s = RevocationState::default();
        let t0 = Instant::now();
        s.record_success(t0, 1_000_000, true, Vec::new(), T);
        // The periodic full read fails (a feed too large for its deadline, say) ...
        let t1 = t0 + FULL_RELOAD_EVERY;
        assert_eq!(s.since(t1), None);
        s.record_failure(t1, true);
        // ... the next reads are incremental, from the last successful read ...
        assert_eq!(
            s.since(t1 + Duration::from_secs(5)),
            Some(1_000_000 - FEED_OVERLAP_MS)
        );
        // ... and the whole feed is tried again an interval of full reloads later.
        assert_eq!(s.since(t1 + FULL_RELOAD_EVERY), None);
    }

    #[test]
    fn the_last_set_serves_until_the_staleness_bound_then_fails_closed() {
        let p = policy();
        let mut s = RevocationState::default();
        let t0 = Instant::now();
        s.record_success(t0, T * 1000, true, vec![session("s1")], T);
        s.record_failure(t0 + Duration::from_secs(10), false);
        let before = t0 + p.max_stale - Duration::from_millis(1);
        assert_eq!(s.check(&token("a", "s2", T), before, T, &p), Ok(()));
        assert_eq!(
            s.check(&token("a", "s1", T), before, T, &p),
            Err(Refused::Revoked)
        );
        assert_eq!(
            s.check(&token("a", "s2", T), t0 + p.max_stale, T, &p),
            Err(Refused::KeyUnavailable)
        );
        // Recovery: the next successful read serves again.
        s.record_success(t0 + p.max_stale, T * 1000, false, Vec::new(), T);
        assert_eq!(
            s.check(&token("a", "s2", T), t0 + p.max_stale, T, &p),
            Ok(())
        );
    }

    #[test]
    fn reads_only_add_and_a_full_read_never_drops_what_an_incremental_one_found() {
        let mut s = RevocationState::default();
        let t0 = Instant::now();
        s.record_success(t0, T * 1000, true, vec![session("s1")], T);
        s.record_success(t0, T * 1000, false, vec![session("s2")], T);
        assert_eq!(s.len(), 2);
        // A full read that (index lag) does not hold s1 yet.
        s.record_success(t0, T * 1000, true, vec![session("s2")], T);
        assert_eq!(s.len(), 2);
        // Expiry alone removes.
        s.record_success(t0, T * 1000, false, Vec::new(), T + 3600 + 600);
        assert!(s.is_empty());
    }

    #[test]
    fn a_container_whose_first_load_failed_retries_sooner_than_the_interval() {
        let p = policy();
        let mut s = RevocationState::default();
        let t0 = Instant::now();
        s.record_failure(t0, true);
        assert_eq!(s.since(t0 + FIRST_LOAD_RETRY), None, "still the whole feed");
        assert!(!s.refresh_due(t0 + FIRST_LOAD_RETRY - Duration::from_millis(1), &p));
        assert!(s.refresh_due(t0 + FIRST_LOAD_RETRY, &p));
        s.record_success(t0 + FIRST_LOAD_RETRY, T * 1000, true, Vec::new(), T);
        assert!(
            !s.refresh_due(t0 + FIRST_LOAD_RETRY * 2, &p),
            "then the interval"
        );
    }
}
