//! The cache's state and its rules, pure: every method takes the time it should consider as
//! now.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jwt_session::strict::{KeyRing, VerifyingKey};

/// `KEYS_CACHE_TTL_SECONDS`'s default.
pub const DEFAULT_CACHE_TTL_SECONDS: u64 = 300;
/// `KEYS_REFRESH_MIN_INTERVAL_SECONDS`'s default.
pub const DEFAULT_REFRESH_MIN_INTERVAL_SECONDS: u64 = 10;
/// `KEYS_MAX_STALE_SECONDS`'s default.
pub const DEFAULT_MAX_STALE_SECONDS: u64 = 3_600;
/// When cached keys are refreshed and how long they serve. Owned by the [`KeyCache`](super::KeyCache).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheRules {
    /// How long fetched keys are used before a refresh (`KEYS_CACHE_TTL_SECONDS`). Default:
    /// 300 s.
    pub ttl: Duration,
    /// At most one refresh for an unknown `kid` per this interval
    /// (`KEYS_REFRESH_MIN_INTERVAL_SECONDS`). Default: 10 s.
    pub refresh_min_interval: Duration,
    /// How long cached keys keep serving while refreshes fail, then every request is refused
    /// `key_unavailable` (`KEYS_MAX_STALE_SECONDS`). Default: 3600 s.
    pub max_stale: Duration,
}

impl Default for CacheRules {
    fn default() -> Self {
        CacheRules {
            ttl: Duration::from_secs(DEFAULT_CACHE_TTL_SECONDS),
            refresh_min_interval: Duration::from_secs(DEFAULT_REFRESH_MIN_INTERVAL_SECONDS),
            max_stale: Duration::from_secs(DEFAULT_MAX_STALE_SECONDS),
        }
    }
}

/// Most unknown `kid`s remembered; past it the memory starts again (a flood of random kids is
/// held back by the refresh interval anyway).
pub const MAX_REMEMBERED_UNKNOWN: usize = 1024;

/// Longest backoff between failed refreshes.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The cache's state. Pure: every method takes the time it should consider as now.
#[derive(Debug, Default)]
pub struct CacheState {
    ring: Option<Arc<KeyRing>>,
    fetched_at: Option<Instant>,
    last_attempt: Option<Instant>,
    failures: u32,
    last_unknown_kid_refresh: Option<Instant>,
    /// `kid`s a refresh did not find, and when: they cause no other refresh until the keys
    /// change (a refresh that finds new keys forgets them) or the TTL passes. At most
    /// [`MAX_REMEMBERED_UNKNOWN`] are kept.
    unknown: std::collections::HashMap<String, Instant>,
    /// Whether the key server revalidated the last fetch's keys with Secrets Manager for it
    /// (the answer's `revalidated`; a key server bounds its revalidations, so an answer to
    /// `refresh` may come from its cache).
    freshly_confirmed: bool,
    /// The keys are `KEYS_BOOTSTRAP_JWKS`, not yet confirmed by a fetch.
    bootstrap: bool,
    /// When the fetched keys stop serving, counted from when Secrets Manager last confirmed
    /// them (the key answer's `confirmed_at`), so that secrets-fn's own stale window is not
    /// added to ours.
    confirmed_until: Option<Instant>,
}

/// What a lookup found.
#[derive(Debug)]
pub enum Lookup {
    /// The key for the kid.
    Found(Arc<VerifyingKey>),
    /// Keys are usable, but none has this kid.
    UnknownKid,
    /// No usable keys: none fetched yet, or too stale.
    Unavailable,
}

impl CacheState {
    /// Refreshes failed in a row.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Whether the last fetch's keys were confirmed with the store for it.
    pub fn freshly_confirmed(&self) -> bool {
        self.freshly_confirmed
    }

    /// How long after a failed refresh the next may run.
    pub fn backoff(&self) -> Duration {
        if self.failures == 0 {
            return Duration::ZERO;
        }
        let exp = self.failures.saturating_sub(1).min(6);
        Duration::from_secs(1u64 << exp).min(MAX_BACKOFF)
    }

    fn in_backoff(&self, now: Instant) -> bool {
        match self.last_attempt {
            Some(t) if self.failures > 0 => now.saturating_duration_since(t) < self.backoff(),
            _ => false,
        }
    }

    fn age(&self, now: Instant) -> Option<Duration> {
        self.fetched_at.map(|t| now.saturating_duration_since(t))
    }

    /// Whether a refresh is due (keys missing or past their TTL) and allowed (not backing off).
    pub fn refresh_due(&self, now: Instant, cfg: &CacheRules) -> bool {
        // Bootstrap keys are never "fresh": until a fetch confirms them, every request (outside
        // the backoff) tries one, so a key removed from the secret stops being trusted as soon
        // as secrets-fn answers.
        let unconfirmed = self.confirmed_until.is_some_and(|until| now >= until);
        let expired = self.bootstrap || unconfirmed || self.age(now).is_none_or(|a| a >= cfg.ttl);
        expired && !self.in_backoff(now)
    }

    /// Whether an unknown kid may trigger a refresh now: not within the refresh interval, not
    /// while backing off, and not for a kid a refresh already failed to find within the TTL.
    pub fn unknown_kid_refresh_allowed(&self, kid: &str, now: Instant, cfg: &CacheRules) -> bool {
        let interval_ok = self
            .last_unknown_kid_refresh
            .is_none_or(|t| now.saturating_duration_since(t) >= cfg.refresh_min_interval);
        let remembered = self
            .unknown
            .get(kid)
            .is_some_and(|t| now.saturating_duration_since(*t) < cfg.ttl);
        interval_ok && !remembered && !self.in_backoff(now)
    }

    /// Remembers that a refresh did not find `kid`.
    pub fn remember_unknown(&mut self, kid: &str, now: Instant) {
        if self.unknown.len() >= MAX_REMEMBERED_UNKNOWN {
            self.unknown.clear();
        }
        self.unknown.insert(kid.to_owned(), now);
    }

    /// The keys, if still usable (younger than the staleness bound).
    pub fn usable(&self, now: Instant, cfg: &CacheRules) -> Option<&Arc<KeyRing>> {
        // Bootstrap keys serve for the TTL at most while no fetch succeeds, not for the
        // staleness bound: they were never confirmed by the key server.
        let bound = if self.bootstrap {
            cfg.ttl
        } else {
            cfg.max_stale
        };
        let confirmed = self.confirmed_until.is_none_or(|until| now < until);
        match self.age(now) {
            Some(a) if a < bound && confirmed => self.ring.as_ref(),
            _ => None,
        }
    }

    /// Records keys supplied at deploy time: usable until the first successful fetch replaces
    /// them (and for the TTL at most), with a fetch due at once.
    pub fn record_bootstrap(&mut self, now: Instant, ring: KeyRing) {
        self.ring = Some(Arc::new(ring));
        self.fetched_at = Some(now);
        self.bootstrap = true;
        self.confirmed_until = None;
    }

    /// Records a successful fetch of keys that Secrets Manager confirmed `confirmed_age` ago
    /// (`revalidated`: just now, for this request): they serve for `KEYS_MAX_STALE_SECONDS` from
    /// that confirmation at most, and a refresh is due once that has passed.
    pub fn record_fetch(
        &mut self,
        now: Instant,
        ring: KeyRing,
        confirmed_age: Duration,
        revalidated: bool,
        cfg: &CacheRules,
    ) {
        self.record_success(now, ring);
        self.confirmed_until = Some(now + cfg.max_stale.saturating_sub(confirmed_age));
        self.freshly_confirmed = revalidated;
    }

    /// Records a successful fetch.
    pub fn record_success(&mut self, now: Instant, ring: KeyRing) {
        self.ring = Some(Arc::new(ring));
        self.fetched_at = Some(now);
        self.last_attempt = Some(now);
        self.failures = 0;
        self.bootstrap = false;
        self.confirmed_until = None;
        self.unknown.clear();
    }

    /// Records a failed fetch.
    pub fn record_failure(&mut self, now: Instant) {
        self.last_attempt = Some(now);
        self.failures = self.failures.saturating_add(1);
    }

    /// Records that an unknown kid caused a refresh.
    pub fn record_unknown_kid_refresh(&mut self, now: Instant) {
        self.last_unknown_kid_refresh = Some(now);
    }

    /// The key of `kid` at `now`.
    pub fn lookup(&self, kid: &str, now: Instant, cfg: &CacheRules) -> Lookup {
        match self.usable(now, cfg) {
            None => Lookup::Unavailable,
            Some(ring) => match ring.get(kid) {
                Some(k) => Lookup::Found(Arc::clone(k)),
                None => Lookup::UnknownKid,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> CacheRules {
        CacheRules {
            max_stale: Duration::from_secs(900),
            ..CacheRules::default()
        }
    }

    #[test]
    fn empty_cache_needs_a_refresh_and_has_no_keys() {
        let s = CacheState::default();
        let now = Instant::now();
        assert!(s.refresh_due(now, &cfg()));
        assert!(s.usable(now, &cfg()).is_none());
    }

    #[test]
    fn fresh_keys_need_no_refresh_until_the_ttl() {
        let c = cfg();
        let t0 = Instant::now();
        let mut s = CacheState::default();
        s.record_success(t0, KeyRing::default());
        assert!(!s.refresh_due(t0 + Duration::from_secs(299), &c));
        assert!(s.refresh_due(t0 + Duration::from_secs(300), &c));
    }

    #[test]
    fn stale_keys_serve_until_the_staleness_bound_then_fail_closed() {
        let c = cfg();
        let t0 = Instant::now();
        let mut s = CacheState::default();
        s.record_success(t0, KeyRing::default());
        s.record_failure(t0 + Duration::from_secs(300));
        assert!(s.usable(t0 + Duration::from_secs(899), &c).is_some());
        assert!(s.usable(t0 + Duration::from_secs(900), &c).is_none());
    }

    #[test]
    fn failures_back_off_exponentially_up_to_a_minute() {
        let c = cfg();
        let t0 = Instant::now();
        let mut s = CacheState::default();
        s.record_failure(t0);
        assert!(!s.refresh_due(t0 + Duration::from_millis(999), &c));
        assert!(s.refresh_due(t0 + Duration::from_secs(1), &c));
        for _ in 0..20 {
            s.record_failure(t0);
        }
        assert_eq!(s.backoff(), MAX_BACKOFF);
        s.record_success(t0, KeyRing::default());
        assert_eq!(s.backoff(), Duration::ZERO);
    }

    #[test]
    fn bootstrap_keys_serve_only_until_the_first_fetch_and_never_past_the_ttl() {
        let c = cfg();
        let t0 = Instant::now();
        let mut s = CacheState::default();
        s.record_bootstrap(t0, KeyRing::default());
        assert!(s.refresh_due(t0, &c), "a fetch is due at once");
        assert!(s.usable(t0, &c).is_some());
        s.record_failure(t0);
        assert!(!s.refresh_due(t0, &c), "failed fetches back off");
        assert!(s.refresh_due(t0 + Duration::from_secs(1), &c));
        assert!(s.usable(t0 + Duration::from_secs(299), &c).is_some());
        assert!(
            s.usable(t0 + Duration::from_secs(300), &c).is_none(),
            "unconfirmed bootstrap keys stop at the TTL, not the staleness bound"
        );
        s.record_success(t0 + Duration::from_secs(2), KeyRing::default());
        assert!(!s.refresh_due(t0 + Duration::from_secs(3), &c));
        assert!(s.usable(t0 + Duration::from_secs(400), &c).is_some());
    }

    #[test]
    fn staleness_is_bounded_from_the_secrets_managers_confirmation_not_our_fetch() {
        let c = cfg();
        let t0 = Instant::now();
        let mut s = CacheState::default();
        // secrets-fn served keys Secrets Manager last confirmed 800 s ago (of a 900 s bound).
        s.record_fetch(t0, KeyRing::default(), Duration::from_secs(800), false, &c);
        assert!(s.usable(t0 + Duration::from_secs(99), &c).is_some());
        assert!(
            s.usable(t0 + Duration::from_secs(100), &c).is_none(),
            "the two stale windows do not add up"
        );
        assert!(
            s.refresh_due(t0 + Duration::from_secs(100), &c),
            "a refresh is due as soon as the confirmation runs out, not after the TTL"
        );
        // Keys confirmed longer ago than the bound never serve.
        s.record_fetch(
            t0,
            KeyRing::default(),
            Duration::from_secs(5_000),
            false,
            &c,
        );
        assert!(s.usable(t0, &c).is_none());
        // A fresh confirmation serves for the whole bound.
        s.record_fetch(t0, KeyRing::default(), Duration::ZERO, true, &c);
        assert!(s.usable(t0 + Duration::from_secs(899), &c).is_some());
    }

    #[test]
    fn unknown_kid_refreshes_are_rate_limited() {
        let c = cfg();
        let t0 = Instant::now();
        let mut s = CacheState::default();
        s.record_success(t0, KeyRing::default());
        assert!(s.unknown_kid_refresh_allowed("k", t0, &c));
        s.record_unknown_kid_refresh(t0);
        assert!(!s.unknown_kid_refresh_allowed("k", t0 + Duration::from_secs(9), &c));
        assert!(s.unknown_kid_refresh_allowed("k", t0 + Duration::from_secs(10), &c));
        // A kid a refresh did not find causes no other refresh within the TTL; others may.
        s.remember_unknown("gone", t0);
        assert!(!s.unknown_kid_refresh_allowed("gone", t0 + Duration::from_secs(10), &c));
        assert!(s.unknown_kid_refresh_allowed("new", t0 + Duration::from_secs(10), &c));
        assert!(s.unknown_kid_refresh_allowed("gone", t0 + Duration::from_secs(300), &c));
        for i in 0..=MAX_REMEMBERED_UNKNOWN {
            s.remember_unknown(&format!("k{i}"), t0);
        }
        assert!(
            s.unknown.len() <= MAX_REMEMBERED_UNKNOWN,
            "the memory is bounded"
        );
    }
}
