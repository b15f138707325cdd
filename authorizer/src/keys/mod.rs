//! The verification key cache over a key source: secrets-fn through the Invoke API today.
//!
//! - `state.rs`: the rules, pure ([`CacheState`], [`CacheRules`]);
//! - `source.rs`: what every source answers ([`FetchedKeys`], [`FetchError`]);
//! - `lambda.rs`: secrets-fn through the Invoke API ([`LambdaKeySource`], [`FetchRules`]);
//! - here: [`KeySource`], the one seam (a second source of keys is one variant and one file),
//!   and [`KeyCache`], the state behind a lock with the source.
//!
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

mod lambda;
mod source;
mod state;

use std::time::{Duration, Instant};

use jwt_session::strict::KeyRing;
use tokio::sync::Mutex;

pub use lambda::{
    FetchRules, LambdaKeySource, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_FETCH_TIMEOUT_MS,
    DEFAULT_FUNCTION_NAME,
};
pub use source::{FetchError, FetchedKeys};
pub use state::{
    CacheRules, CacheState, Lookup, DEFAULT_CACHE_TTL_SECONDS, DEFAULT_MAX_STALE_SECONDS,
    DEFAULT_REFRESH_MIN_INTERVAL_SECONDS,
};

/// Where keys come from: one variant per source.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum KeySource {
    /// secrets-fn, through the Lambda Invoke API.
    Lambda(LambdaKeySource),
}

impl KeySource {
    /// Fetches the key set; `revalidate` asks the source to confirm it with its store first
    /// (for an unknown `kid`).
    pub async fn fetch(&self, revalidate: bool) -> Result<FetchedKeys, FetchError> {
        match self {
            KeySource::Lambda(source) => source.fetch(revalidate).await,
        }
    }
}

impl From<LambdaKeySource> for KeySource {
    fn from(source: LambdaKeySource) -> Self {
        KeySource::Lambda(source)
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

/// The authorizer's key cache over its source.
#[derive(Debug)]
pub struct KeyCache {
    source: KeySource,
    policy: CacheRules,
    state: Mutex<CacheState>,
}

impl KeyCache {
    /// An empty cache over `source`, refreshed as `policy` says.
    pub fn new(source: impl Into<KeySource>, policy: CacheRules) -> Self {
        KeyCache {
            source: source.into(),
            policy,
            state: Mutex::new(CacheState::default()),
        }
    }

    /// Whether an answer's keys were last confirmed longer ago than the staleness bound: such
    /// an answer is a failed fetch, not keys to install.
    fn too_old(&self, resp: &FetchedKeys) -> bool {
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
                    failures = state.failures(),
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
                let cause = e.cause();
                tracing::warn!(
                    event = "keys_refresh_failed",
                    why = why.as_str(),
                    code = e.code(),
                    transient = e.is_transient(),
                    error = %e,
                    cause,
                    failures = state.failures(),
                    retry_in_ms = state.backoff().as_millis() as u64,
                    "could not fetch verification keys"
                );
            }
        }
    }

    /// Seeds the cache with keys supplied at deploy time (`KEYS_BOOTSTRAP_JWKS`): they serve
    /// only until the first successful fetch, which is due at once (`CacheState::refresh_due`).
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
                if matches!(after, Lookup::UnknownKid) && state.freshly_confirmed() {
                    state.remember_unknown(kid, now);
                }
                after
            }
            found => found,
        }
    }
}
