//! secrets-fn: loads the JWT signing keys from AWS Secrets Manager and serves the public
//! verification keys to the authorizer. Private keys never leave this function.
//!
//! # Events
//!
//! - `{"action": "get_keys"}` → `{"keys": [public JWK, ...], "cache_ttl_seconds": N}`: the keys
//!   of the secret's `AWSCURRENT` version, then those of `AWSPREVIOUS` (the overlap after a
//!   rotation). `AWSPENDING` keys are never served. `oct` (HMAC) keys are left out unless
//!   `ALLOW_SYMMETRIC_KEYS=true`.
//! - Anything else is answered with an error that says what was expected.
//!
//! # Configuration
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `SECRET_ID` | name or ARN of the secret | required |
//! | `SECRET_CACHE_TTL_SECONDS` | how long a warm container reuses the keys it read (`0`: every request) | `60` |
//! | `SECRET_MAX_STALE_SECONDS` | how long the last keys keep serving while Secrets Manager fails | `3600` |
//! | `ALLOW_SYMMETRIC_KEYS` | `true` to serve `oct` keys (they are secrets) | `false` |
//!
//! Region, credentials and endpoint come from the AWS SDK chain
//! (`AWS_ENDPOINT_URL_SECRETS_MANAGER` locally).
//!
//! # Error codes
//!
//! `config`, `unsupported_event`, `secrets_manager`, `secret_not_string`, `keyset_not_json`,
//! `keyset_shape`, `keyset_empty`, `key_invalid`.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::Client;
use jwt_session::wire::{KeysResponse, GET_KEYS};
use jwt_session::{JwkSet, KeySetError, Visibility};
use serde_json::Value;
use tokio::sync::Mutex;

/// Stage labels of Secrets Manager.
pub mod stages {
    /// The version in use; its first key signs.
    pub const CURRENT: &str = "AWSCURRENT";
    /// The version before the last rotation; its keys still verify.
    pub const PREVIOUS: &str = "AWSPREVIOUS";
    /// A version being rotated in; never trusted for verification.
    pub const PENDING: &str = "AWSPENDING";
}

/// Environment variable names.
pub mod vars {
    /// Secret name or ARN.
    pub const SECRET_ID: &str = "SECRET_ID";
    /// Cache lifetime of the loaded key set.
    pub const SECRET_CACHE_TTL_SECONDS: &str = "SECRET_CACHE_TTL_SECONDS";
    /// How long the last key set serves while Secrets Manager fails.
    pub const SECRET_MAX_STALE_SECONDS: &str = "SECRET_MAX_STALE_SECONDS";
    /// Serve `oct` keys.
    pub const ALLOW_SYMMETRIC_KEYS: &str = "ALLOW_SYMMETRIC_KEYS";
}

/// One configuration problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The variable at fault.
    pub variable: &'static str,
    /// `missing` or `invalid`.
    pub code: &'static str,
    /// What to do.
    pub hint: &'static str,
}

/// secrets-fn's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Secret name or ARN.
    pub secret_id: String,
    /// Cache lifetime.
    pub cache_ttl: Duration,
    /// Staleness bound while Secrets Manager fails.
    pub max_stale: Duration,
    /// Serve `oct` keys.
    pub allow_symmetric: bool,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, Error> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the configuration through `lookup`; every problem is reported together.
    pub fn from_lookup<F: Fn(&str) -> Option<String>>(lookup: F) -> Result<Config, Error> {
        let get = |k: &str| {
            lookup(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut problems = Vec::new();
        let secret_id = get(vars::SECRET_ID).unwrap_or_else(|| {
            problems.push(Problem {
                variable: vars::SECRET_ID,
                code: "missing",
                hint: "set it to the secret's name or ARN",
            });
            String::new()
        });
        let mut seconds = |var: &'static str, default: u64| match get(var) {
            None => default,
            Some(t) => t
                .parse::<u64>()
                .ok()
                .filter(|n| *n <= 86_400)
                .unwrap_or_else(|| {
                    problems.push(Problem {
                        variable: var,
                        code: "invalid",
                        hint: "must be a whole number of seconds from 0 to 86400",
                    });
                    default
                }),
        };
        let ttl = seconds(vars::SECRET_CACHE_TTL_SECONDS, 60);
        let max_stale = seconds(vars::SECRET_MAX_STALE_SECONDS, 3_600);
        let allow_symmetric = match get(vars::ALLOW_SYMMETRIC_KEYS).as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => {
                problems.push(Problem {
                    variable: vars::ALLOW_SYMMETRIC_KEYS,
                    code: "invalid",
                    hint: "must be `true` or `false`",
                });
                false
            }
        };
        if !problems.is_empty() {
            return Err(Error::Config(problems));
        }
        Ok(Config {
            secret_id,
            cache_ttl: Duration::from_secs(ttl),
            max_stale: Duration::from_secs(max_stale.max(ttl)),
            allow_symmetric,
        })
    }
}

/// secrets-fn's errors. None carries key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Bad configuration (every problem listed).
    #[error("invalid configuration: {}", describe(.0))]
    Config(Vec<Problem>),
    /// An event this function does not handle.
    #[error("unsupported event: expected {{\"action\": \"get_keys\"}}")]
    UnsupportedEvent,
    /// A Secrets Manager call failed.
    #[error("Secrets Manager {operation} failed for stage {stage}")]
    SecretsManager {
        /// The API call.
        operation: &'static str,
        /// The version stage asked for.
        stage: &'static str,
        /// The SDK error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The version has no `SecretString` (binary secrets are not supported).
    #[error("the {0} version has no SecretString")]
    SecretNotString(&'static str),
    /// The key set of a version was refused.
    #[error("the {stage} version was refused: {source}")]
    KeySet {
        /// The version stage.
        stage: &'static str,
        /// Why.
        #[source]
        source: KeySetError,
    },
    /// The two versions share a `kid`.
    #[error("the key sets of AWSCURRENT and AWSPREVIOUS were refused: {0}")]
    Merge(#[source] jwt_session::KeyError),
}

fn describe(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("{} [{}]: {}", p.variable, p.code, p.hint))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    /// A stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Config(_) => "config",
            Error::UnsupportedEvent => "unsupported_event",
            Error::SecretsManager { .. } => "secrets_manager",
            Error::SecretNotString(_) => "secret_not_string",
            Error::KeySet { source, .. } => source.code(),
            Error::Merge(_) => "key_invalid",
        }
    }
}

impl From<Error> for lambda_runtime::Diagnostic {
    fn from(e: Error) -> Self {
        lambda_runtime::Diagnostic {
            error_type: e.code().to_owned(),
            error_message: e.to_string(),
        }
    }
}

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The public key set.
    GetKeys,
}

impl Action {
    /// Reads the event.
    pub fn from_event(event: &Value) -> Result<Action, Error> {
        match event.get("action").and_then(Value::as_str) {
            Some(GET_KEYS) => Ok(Action::GetKeys),
            _ => Err(Error::UnsupportedEvent),
        }
    }
}

/// The keys read from the secret, with the answer served from them.
pub struct Loaded {
    /// Private keys: `AWSCURRENT` first, then `AWSPREVIOUS`.
    pub keys: JwkSet,
    /// The public answer, built once per load.
    pub public: Value,
}

impl fmt::Debug for Loaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Loaded")
            .field("keys", &self.keys.keys.len())
            .finish_non_exhaustive()
    }
}

/// Reads one version's key set. `Ok(None)` when the stage does not exist (no AWSPREVIOUS
/// before the first rotation).
#[tracing::instrument(skip_all, fields(stage))]
async fn read_stage(
    client: &Client,
    secret_id: &str,
    stage: &'static str,
) -> Result<Option<JwkSet>, Error> {
    let out = match client
        .get_secret_value()
        .secret_id(secret_id)
        .version_stage(stage)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e)
            if stage != stages::CURRENT
                && e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            return Ok(None);
        }
        Err(e) => {
            return Err(Error::SecretsManager {
                operation: "GetSecretValue",
                stage,
                source: Box::new(e),
            })
        }
    };
    let text = out.secret_string().ok_or(Error::SecretNotString(stage))?;
    let text = zeroize::Zeroizing::new(text.to_owned());
    JwkSet::parse(&text, Visibility::Private)
        .map(Some)
        .map_err(|source| Error::KeySet { stage, source })
}

/// Loads `AWSCURRENT` and `AWSPREVIOUS` and validates them together.
pub async fn load(client: &Client, cfg: &Config) -> Result<Loaded, Error> {
    let current = read_stage(client, &cfg.secret_id, stages::CURRENT)
        .await?
        .ok_or(Error::SecretNotString(stages::CURRENT))?;
    let previous = read_stage(client, &cfg.secret_id, stages::PREVIOUS).await?;
    let keys =
        JwkSet::merge(std::iter::once(&current).chain(previous.as_ref())).map_err(Error::Merge)?;
    let answer = KeysResponse {
        keys: keys.to_public(cfg.allow_symmetric),
        cache_ttl_seconds: cfg.cache_ttl.as_secs(),
    };
    let public = serde_json::to_value(&answer).unwrap_or(Value::Null);
    tracing::info!(
        event = "keys_loaded",
        current = current.keys.len(),
        previous = previous.as_ref().map_or(0, |p| p.keys.len()),
        served = answer.keys.keys.len(),
        signing_kid = current.keys.first().map(|k| k.kid.as_str()),
        "key set loaded from Secrets Manager"
    );
    Ok(Loaded { keys, public })
}

/// The function's state: SDK client and key cache, built once per container.
#[derive(Debug)]
pub struct SecretsFn {
    cfg: Config,
    client: Client,
    cache: Mutex<Option<(Instant, Arc<Loaded>)>>,
}

impl SecretsFn {
    /// Builds the function state.
    pub fn new(cfg: Config, client: Client) -> Self {
        SecretsFn {
            cfg,
            client,
            cache: Mutex::new(None),
        }
    }

    /// The keys, from cache while fresh, else from Secrets Manager; on failure the last keys
    /// serve until `SECRET_MAX_STALE_SECONDS`.
    pub async fn keys(&self) -> Result<Arc<Loaded>, Error> {
        let mut cache = self.cache.lock().await;
        let now = Instant::now();
        if let Some((at, loaded)) = cache.as_ref() {
            if now.saturating_duration_since(*at) < self.cfg.cache_ttl {
                return Ok(Arc::clone(loaded));
            }
        }
        match load(&self.client, &self.cfg).await {
            Ok(loaded) => {
                let loaded = Arc::new(loaded);
                *cache = Some((now, Arc::clone(&loaded)));
                Ok(loaded)
            }
            Err(e) => {
                let stale = cache
                    .as_ref()
                    .filter(|(at, _)| now.saturating_duration_since(*at) < self.cfg.max_stale);
                let cause = std::error::Error::source(&e).map(ToString::to_string);
                tracing::warn!(event = "keys_load_failed", code = e.code(), error = %e, cause, serving_stale = stale.is_some(), "could not load the key set");
                match stale {
                    Some((_, loaded)) => Ok(Arc::clone(loaded)),
                    None => Err(e),
                }
            }
        }
    }

    /// Handles one event.
    pub async fn handle(&self, event: &Value) -> Result<Value, Error> {
        let action = Action::from_event(event).inspect_err(|e| {
            tracing::warn!(
                event = "unsupported_event",
                code = e.code(),
                "event refused"
            );
        })?;
        match action {
            Action::GetKeys => {
                let loaded = self.keys().await?;
                Ok(loaded.public.clone())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, Error> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn secret_id_is_required_and_defaults_apply() {
        let err = cfg(&[]).unwrap_err();
        assert_eq!(err.code(), "config");
        assert!(err.to_string().contains("SECRET_ID [missing]"));
        let c = cfg(&[("SECRET_ID", "dev/jwt")]).unwrap();
        assert_eq!(c.cache_ttl, Duration::from_secs(60));
        assert!(!c.allow_symmetric);
    }

    #[test]
    fn every_bad_variable_is_reported() {
        let err = cfg(&[
            ("SECRET_CACHE_TTL_SECONDS", "soon"),
            ("ALLOW_SYMMETRIC_KEYS", "yes"),
        ])
        .unwrap_err();
        let text = err.to_string();
        for v in [
            "SECRET_ID",
            "SECRET_CACHE_TTL_SECONDS",
            "ALLOW_SYMMETRIC_KEYS",
        ] {
            assert!(text.contains(v), "{text}");
        }
    }

    #[test]
    fn only_get_keys_is_understood_and_the_error_says_what_was_expected() {
        assert_eq!(
            Action::from_event(&serde_json::json!({"action": "get_keys"})).unwrap(),
            Action::GetKeys
        );
        for e in [
            serde_json::json!({}),
            serde_json::json!(null),
            serde_json::json!({"action": "sign"}),
        ] {
            let err = Action::from_event(&e).unwrap_err();
            assert!(err.to_string().contains("get_keys"));
            let d = lambda_runtime::Diagnostic::from(err);
            assert_eq!(d.error_type, "unsupported_event");
        }
    }
}
