//! The `get_keys` action: the key cache with its stale bound, and the key answer.
//!
//! Within `SECRET_CACHE_TTL_SECONDS` the keys come from memory; after it (or when a
//! revalidation is asked for) `DescribeSecret` tells whether the versions changed, and only
//! then are they read again. With a TTL of 0 every request reads both versions. While Secrets
//! Manager fails, the last keys serve until `SECRET_MAX_STALE_SECONDS` after they were last
//! confirmed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::Client;
use tokio::sync::Mutex;

use crate::config::Config;
use crate::error::Error;
use crate::read::{describe_versions, load, Loaded};

/// The shortest time between two revalidations of the cached keys with Secrets Manager that
/// key requests with `refresh` may cause: at most ten `DescribeSecret` calls a second per
/// container, however many authorizer containers meet unknown `kid`s. Short, because a key
/// added within it is not seen by the asking authorizer until its next refresh.
pub const REVALIDATE_MIN_INTERVAL: Duration = Duration::from_millis(100);

/// When Secrets Manager last confirmed the keys an answer serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Confirmation {
    /// Seconds since the epoch.
    pub confirmed_at: u64,
    /// Whether it was for this request (a `DescribeSecret` just now), not from the cache.
    pub revalidated: bool,
}

/// The key answer: the public key set, serialised straight from the answer built when the
/// keys were loaded (not copied per request), with when Secrets Manager last confirmed them.
pub(crate) fn serialize<S: serde::Serializer>(
    loaded: &Loaded,
    confirmation: &Confirmation,
    s: S,
) -> Result<S::Ok, S::Error> {
    loaded
        .public
        .serialize_confirmed(Some(confirmation.confirmed_at), confirmation.revalidated, s)
}

#[derive(Debug)]
struct Cached {
    /// When the versions were last confirmed.
    checked_at: Instant,
    /// The same moment, in seconds since the epoch (sent in key answers).
    checked_unix: u64,
    loaded: Arc<Loaded>,
}

impl Cached {
    fn confirmation(&self) -> Confirmation {
        Confirmation {
            confirmed_at: self.checked_unix,
            revalidated: false,
        }
    }
}

/// The keys read last, built once per container.
#[derive(Debug, Default)]
pub(crate) struct KeyCache {
    cached: Mutex<Option<Cached>>,
}

impl KeyCache {
    /// The keys (see the module's docs), with when Secrets Manager last confirmed them.
    pub(crate) async fn confirmed(
        &self,
        client: &Client,
        cfg: &Config,
        revalidate: bool,
    ) -> Result<(Arc<Loaded>, Confirmation), Error> {
        let mut cache = self.cached.lock().await;
        let now = Instant::now();
        if let Some(c) = cache.as_ref() {
            let age = now.saturating_duration_since(c.checked_at);
            // A revalidation asked for (an authorizer met an unknown `kid`) is honoured at
            // most once per REVALIDATE_MIN_INTERVAL: every container of every authorizer may
            // ask, and each costs a DescribeSecret.
            let fresh = age < cfg.cache_ttl && (!revalidate || age < REVALIDATE_MIN_INTERVAL);
            if fresh {
                return Ok((Arc::clone(&c.loaded), c.confirmation()));
            }
        }
        let result = match describe_versions(client, &cfg.secret_id).await {
            Ok(versions) => match cache.as_ref() {
                Some(c) if c.loaded.versions == versions && !cfg.cache_ttl.is_zero() => {
                    Ok(Arc::clone(&c.loaded))
                }
                _ => load(client, cfg, &versions).await.map(Arc::new),
            },
            Err(e) => Err(e),
        };
        match result {
            Ok(loaded) => {
                let checked_unix = jwt_session::unix_now();
                *cache = Some(Cached {
                    checked_at: now,
                    checked_unix,
                    loaded: Arc::clone(&loaded),
                });
                let now_confirmed = Confirmation {
                    confirmed_at: checked_unix,
                    revalidated: true,
                };
                Ok((loaded, now_confirmed))
            }
            Err(e) => {
                let stale = cache
                    .as_ref()
                    .filter(|c| now.saturating_duration_since(c.checked_at) < cfg.max_stale);
                let cause = std::error::Error::source(&e).map(ToString::to_string);
                tracing::warn!(event = "keys_load_failed", code = e.code(), transient = e.is_transient(), error = %e, cause, serving_stale = stale.is_some(), "could not load the key set");
                match stale {
                    Some(c) => Ok((Arc::clone(&c.loaded), c.confirmation())),
                    None => Err(e),
                }
            }
        }
    }
}
