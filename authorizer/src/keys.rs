//! The verification key cache, and fetching keys from secrets-fn through the Invoke API.
//!
//! Policy (times from the last successful fetch; staleness from when Secrets Manager last
//! confirmed the keys, the key answer's `confirmed_at`):
//! - fresh for `KEYS_CACHE_TTL_SECONDS`: used as is, no network;
//! - then a refresh is due; while refreshes fail the cached keys keep serving until
//!   `KEYS_MAX_STALE_SECONDS`, then every request is denied `key_unavailable`;
//! - failed refreshes back off exponentially (1 s doubling to 60 s) instead of running on
//!   every request;
//! - a `kid` not in the cache causes at most one refresh per
//!   `KEYS_REFRESH_MIN_INTERVAL_SECONDS`;
//! - the state sits behind one async mutex held during a fetch, so concurrent callers wait for
//!   a single refresh.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_lambda::primitives::Blob;
use jwt_session::wire::{KeysResponse, Request};
use jwt_session::KeySetError;
use tokio::sync::Mutex;

use jwt_session::strict::{KeyRing, VerifyingKey};

/// `KEYS_FUNCTION_NAME`'s default.
pub const DEFAULT_FUNCTION_NAME: &str = "secrets-fn";
/// `KEYS_CACHE_TTL_SECONDS`'s default.
pub const DEFAULT_CACHE_TTL_SECONDS: u64 = 300;
/// `KEYS_REFRESH_MIN_INTERVAL_SECONDS`'s default.
pub const DEFAULT_REFRESH_MIN_INTERVAL_SECONDS: u64 = 10;
/// `KEYS_MAX_STALE_SECONDS`'s default.
pub const DEFAULT_MAX_STALE_SECONDS: u64 = 3_600;
/// `KEYS_CONNECT_TIMEOUT_MS`'s default.
pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 500;
/// `KEYS_FETCH_TIMEOUT_MS`'s default.
pub const DEFAULT_FETCH_TIMEOUT_MS: u64 = 2_000;

/// When cached keys are refreshed and how long they serve. Owned by the [`KeyCache`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
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

impl Default for CachePolicy {
    fn default() -> Self {
        CachePolicy {
            ttl: Duration::from_secs(DEFAULT_CACHE_TTL_SECONDS),
            refresh_min_interval: Duration::from_secs(DEFAULT_REFRESH_MIN_INTERVAL_SECONDS),
            max_stale: Duration::from_secs(DEFAULT_MAX_STALE_SECONDS),
        }
    }
}

/// Where the keys come from and how long a fetch may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchPolicy {
    /// Function name or ARN of the key server (`KEYS_FUNCTION_NAME`). Default: `secrets-fn`.
    pub function_name: String,
    /// Connect timeout of the Invoke call (`KEYS_CONNECT_TIMEOUT_MS`). Default: 500 ms.
    pub connect_timeout: Duration,
    /// Total timeout of the Invoke call (`KEYS_FETCH_TIMEOUT_MS`). Default: 2000 ms.
    pub timeout: Duration,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        FetchPolicy {
            function_name: DEFAULT_FUNCTION_NAME.to_owned(),
            connect_timeout: Duration::from_millis(DEFAULT_CONNECT_TIMEOUT_MS),
            timeout: Duration::from_millis(DEFAULT_FETCH_TIMEOUT_MS),
        }
    }
}

/// Most unknown `kid`s remembered; past it the memory starts again (a flood of random kids is
/// held back by the refresh interval anyway).
pub const MAX_REMEMBERED_UNKNOWN: usize = 1024;

/// Longest backoff between failed refreshes.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Why a key fetch failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The Invoke call failed (network, timeout, throttling, HTTP error from the endpoint).
    #[error("invoking the key function failed")]
    Invoke(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The key function ran and returned an error.
    #[error("the key function returned an error ({0})")]
    FunctionError(String),
    /// The key function answered with no payload.
    #[error("the key function returned no payload")]
    EmptyPayload,
    /// The answer is not a valid public key set.
    #[error("the key function returned an invalid key set")]
    InvalidKeySet(#[source] KeySetError),
}

impl FetchError {
    /// A stable code for the logs.
    pub fn code(&self) -> &'static str {
        match self {
            FetchError::Invoke(_) => "keys_invoke_failed",
            FetchError::FunctionError(_) => "keys_function_error",
            FetchError::EmptyPayload => "keys_empty_payload",
            FetchError::InvalidKeySet(_) => "keys_invalid_set",
        }
    }
}

/// Calls secrets-fn with the real Lambda client.
#[derive(Debug, Clone)]
pub struct LambdaKeySource {
    client: aws_sdk_lambda::Client,
    function_name: String,
}

impl LambdaKeySource {
    /// Wraps a client (built once at start-up) and the function to invoke.
    pub fn new(client: aws_sdk_lambda::Client, function_name: String) -> Self {
        LambdaKeySource {
            client,
            function_name,
        }
    }

    /// Builds the Lambda client from the shared SDK config: no SDK retries (a failed fetch is
    /// retried by the cache's backoff, not multiplied here) and the configured timeouts.
    pub fn client_config(
        sdk: &aws_config::SdkConfig,
        cfg: &FetchPolicy,
    ) -> aws_sdk_lambda::config::Config {
        use aws_sdk_lambda::config::{retry::RetryConfig, timeout::TimeoutConfig};
        aws_sdk_lambda::config::Builder::from(sdk)
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(cfg.connect_timeout)
                    .operation_attempt_timeout(cfg.timeout)
                    .operation_timeout(cfg.timeout)
                    .build(),
            )
            .build()
    }

    /// Fetches and validates the public key set. `revalidate` asks secrets-fn to check its own
    /// cache against Secrets Manager first (used for an unknown `kid`).
    #[tracing::instrument(skip_all, fields(function = %self.function_name))]
    pub async fn fetch(&self, revalidate: bool) -> Result<KeysResponse, FetchError> {
        // The typed request of the shared wire protocol (a few bytes, serialised per fetch:
        // fetches are rare and rate-limited).
        let body = Request::GetKeys {
            refresh: revalidate,
        }
        .to_json()
        .map_err(|e| FetchError::Invoke(Box::new(e)))?;
        let out = self
            .client
            .invoke()
            .function_name(&self.function_name)
            .payload(Blob::new(body))
            .send()
            .await
            .map_err(|e| FetchError::Invoke(Box::new(e)))?;
        if let Some(kind) = out.function_error() {
            return Err(FetchError::FunctionError(kind.chars().take(64).collect()));
        }
        let payload = out.payload().ok_or(FetchError::EmptyPayload)?;
        KeysResponse::parse(payload.as_ref()).map_err(FetchError::InvalidKeySet)
    }
}

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
    fn backoff(&self) -> Duration {
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
    pub fn refresh_due(&self, now: Instant, cfg: &CachePolicy) -> bool {
        // Bootstrap keys are never "fresh": until a fetch confirms them, every request (outside
        // the backoff) tries one, so a key removed from the secret stops being trusted as soon
        // as secrets-fn answers.
        let unconfirmed = self.confirmed_until.is_some_and(|until| now >= until);
        let expired = self.bootstrap || unconfirmed || self.age(now).is_none_or(|a| a >= cfg.ttl);
        expired && !self.in_backoff(now)
    }

    /// Whether an unknown kid may trigger a refresh now: not within the refresh interval, not
    /// while backing off, and not for a kid a refresh already failed to find within the TTL.
    pub fn unknown_kid_refresh_allowed(&self, kid: &str, now: Instant, cfg: &CachePolicy) -> bool {
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
    pub fn usable(&self, now: Instant, cfg: &CachePolicy) -> Option<&Arc<KeyRing>> {
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
        cfg: &CachePolicy,
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

    fn lookup(&self, kid: &str, now: Instant, cfg: &CachePolicy) -> Lookup {
        match self.usable(now, cfg) {
            None => Lookup::Unavailable,
            Some(ring) => match ring.get(kid) {
                Some(k) => Lookup::Found(Arc::clone(k)),
                None => Lookup::UnknownKid,
            },
        }
    }
}

/// Why a refresh runs (logged as `why`); only an unknown `kid` asks secrets-fn to revalidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Why {
    ColdStart,
    Ttl,
    UnknownKid,
}

impl Why {
    fn as_str(self) -> &'static str {
        match self {
            Why::ColdStart => "cold_start",
            Why::Ttl => "ttl",
            Why::UnknownKid => "unknown_kid",
        }
    }
}

/// The authorizer's key cache over secrets-fn.
#[derive(Debug)]
pub struct KeyCache {
    source: LambdaKeySource,
    policy: CachePolicy,
    state: Mutex<CacheState>,
}

impl KeyCache {
    /// An empty cache over `source`, refreshed as `policy` says.
    pub fn new(source: LambdaKeySource, policy: CachePolicy) -> Self {
        KeyCache {
            source,
            policy,
            state: Mutex::new(CacheState::default()),
        }
    }

    /// Whether an answer's keys were last confirmed longer ago than the staleness bound: such
    /// an answer is a failed fetch, not keys to install.
    fn too_old(&self, resp: &jwt_session::wire::KeysResponse) -> bool {
        let now_unix = jwt_session::unix_now();
        resp.confirmed_at.is_some_and(|at| {
            Duration::from_secs(now_unix.saturating_sub(at)) >= self.policy.max_stale
        })
    }

    async fn refresh(&self, state: &mut CacheState, why: Why) {
        match self.source.fetch(why == Why::UnknownKid).await {
            Ok(resp) if self.too_old(&resp) => {
                state.record_failure(Instant::now());
                tracing::warn!(
                    event = "keys_refresh_failed",
                    why = why.as_str(),
                    code = "keys_too_old",
                    failures = state.failures,
                    confirmed_at = resp.confirmed_at,
                    "the key server answered keys Secrets Manager confirmed too long ago"
                );
            }
            Ok(resp) => {
                let ring = KeyRing::from_set(&resp.keys);
                let now_unix = jwt_session::unix_now();
                let confirmed_age = now_unix.saturating_sub(resp.confirmed_at.unwrap_or(now_unix));
                tracing::info!(
                    event = "keys_refreshed",
                    why = why.as_str(),
                    keys = ring.len(),
                    confirmed_age_s = confirmed_age,
                    "verification keys fetched"
                );
                state.record_fetch(
                    Instant::now(),
                    ring,
                    Duration::from_secs(confirmed_age),
                    resp.revalidated,
                    &self.policy,
                );
            }
            Err(e) => {
                state.record_failure(Instant::now());
                let cause = std::error::Error::source(&e).map(ToString::to_string);
                tracing::warn!(
                    event = "keys_refresh_failed",
                    why = why.as_str(),
                    code = e.code(),
                    error = %e,
                    cause,
                    failures = state.failures,
                    retry_in_ms = state.backoff().as_millis() as u64,
                    "could not fetch verification keys"
                );
            }
        }
    }

    /// Seeds the cache with keys supplied at deploy time (`KEYS_BOOTSTRAP_JWKS`): they serve
    /// only until the first successful fetch, which is due at once ([`CacheState::refresh_due`]).
    pub async fn seed(&self, set: &jwt_session::JwkSet) {
        let mut state = self.state.lock().await;
        state.record_bootstrap(Instant::now(), KeyRing::from_set(set));
        tracing::info!(
            event = "keys_seeded",
            keys = set.keys.len(),
            "verification keys from KEYS_BOOTSTRAP_JWKS"
        );
    }

    /// Fetches keys now (used once at start-up so the first request does not pay for it).
    pub async fn warm(&self) {
        let mut state = self.state.lock().await;
        self.refresh(&mut state, Why::ColdStart).await;
    }

    /// The key for `kid`, refreshing when due (TTL) or, rate-limited, for an unknown kid.
    pub async fn get(&self, kid: &str) -> Lookup {
        let cfg = &self.policy;
        let mut state = self.state.lock().await;
        if state.refresh_due(Instant::now(), cfg) {
            self.refresh(&mut state, Why::Ttl).await;
        }
        let now = Instant::now();
        match state.lookup(kid, now, cfg) {
            Lookup::UnknownKid if state.unknown_kid_refresh_allowed(kid, now, cfg) => {
                state.record_unknown_kid_refresh(now);
                self.refresh(&mut state, Why::UnknownKid).await;
                let after = state.lookup(kid, Instant::now(), cfg);
                // Remembered only when Secrets Manager itself just said the kid is not there.
                if matches!(after, Lookup::UnknownKid) && state.freshly_confirmed {
                    state.remember_unknown(kid, now);
                }
                after
            }
            found => found,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> CachePolicy {
        CachePolicy {
            max_stale: Duration::from_secs(900),
            ..CachePolicy::default()
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
