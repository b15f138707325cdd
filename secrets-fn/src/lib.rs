//! secrets-fn: loads the JWT signing keys from AWS Secrets Manager and serves the public
//! verification keys to the authorizer. Private keys never leave this function.
//!
//! # Events
//!
//! - `{"action": "get_keys"}` → `{"keys": [public JWK, ...], "cache_ttl_seconds": N}`: the keys
//!   of the secret's `AWSCURRENT` version, then those of `AWSPREVIOUS` (the overlap after a
//!   rotation). `AWSPENDING` keys are never served. `oct` (HMAC) keys are left out unless
//!   `ALLOW_SYMMETRIC_KEYS=true`.
//! - `{"action": "get_keys", "refresh": true}`: the same, but the cached key set is revalidated
//!   first (one cheap `DescribeSecret`). The authorizer sends it when it
//!   meets an unknown `kid`, so a freshly rotated key is served at once.
//! - A Secrets Manager rotation event (`Step`, `SecretId`, `ClientRequestToken`): see
//!   [`rotation`].
//! - `{"action": "sign", ...}` and `{"action": "renew", ...}`: see [`signer`] (only where
//!   `SECRETS_FN_ACTIONS` lists `sign`).
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
//! | `SECRETS_FN_ACTIONS` | what this deployment answers: `get_keys`, `rotate`, comma-separated | `get_keys,rotate` |
//! | `ROTATION_OVERLAP_SECONDS` | how long a retired signing key stays in new versions (≥ the longest token lifetime) | `86400` |
//! | `ROTATION_ALGORITHM` | algorithm of the first key when rotation starts on an empty secret | `EdDSA` |
//! | `SIGN_ISSUER`, `SIGN_AUDIENCE` | `iss` and `aud` of issued tokens (signing role) | required with `sign` |
//! | `SIGN_LIFETIME_SECONDS` | lifetime of one issued token | `900` |
//! | `SESSION_MAX_SECONDS` | absolute session lifetime from the first login (`auth_time`) | `43200` |
//! | `SESSION_COOKIE_NAME`, `SESSION_SAME_SITE` | the cookie in `set_cookie` | `__Host-session`, `Strict` |
//! | `SIGN_MAX_CLAIMS_BYTES` | largest accepted JSON of the caller's claims | `2048` |
//!
//! Region, credentials and endpoint come from the AWS SDK chain
//! (`AWS_ENDPOINT_URL_SECRETS_MANAGER` locally).
//!
//! # Error codes
//!
//! `config`, `unsupported_event`, `action_not_allowed`, `secrets_manager`, `secret_not_string`,
//! `keyset_not_json`, `keyset_shape`, `keyset_empty`, `key_invalid`, `rotation_disabled`,
//! `wrong_secret`, `unknown_version`, `not_pending`, `unknown_step`, `rotation_test_failed`,
//! `key_generation`. A `secrets_manager` error says which call failed and whether a retry may
//! succeed ([`Error::is_transient`]: time-outs, connection failures, throttling, 5xx), in its
//! message and in the `transient` field of the `keys_load_failed` log record.

pub mod rotation;
pub mod signer;
pub mod sm;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::Client;
use jwt_session::wire::{
    KeysResponse, Request, RequestError, RotationResponse, SignResponse, GET_KEYS, RENEW, SIGN,
};
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
    /// Which actions this deployment answers.
    pub const SECRETS_FN_ACTIONS: &str = "SECRETS_FN_ACTIONS";
    /// How long a retired signing key is carried into new versions.
    pub const ROTATION_OVERLAP_SECONDS: &str = "ROTATION_OVERLAP_SECONDS";
    /// Algorithm of the first key written into an empty secret.
    pub const ROTATION_ALGORITHM: &str = "ROTATION_ALGORITHM";
    /// `iss` of issued tokens (signing role).
    pub const SIGN_ISSUER: &str = "SIGN_ISSUER";
    /// `aud` of issued tokens (signing role).
    pub const SIGN_AUDIENCE: &str = "SIGN_AUDIENCE";
    /// Lifetime of one issued token.
    pub const SIGN_LIFETIME_SECONDS: &str = "SIGN_LIFETIME_SECONDS";
    /// Absolute session lifetime.
    pub const SESSION_MAX_SECONDS: &str = "SESSION_MAX_SECONDS";
    /// Session cookie name.
    pub const SESSION_COOKIE_NAME: &str = "SESSION_COOKIE_NAME";
    /// Session cookie `SameSite`.
    pub const SESSION_SAME_SITE: &str = "SESSION_SAME_SITE";
    /// Largest accepted size of a caller's claims.
    pub const SIGN_MAX_CLAIMS_BYTES: &str = "SIGN_MAX_CLAIMS_BYTES";
}

/// One configuration problem.
pub use jwt_session::config::Problem;

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
    /// Answer key requests.
    pub serve_keys: bool,
    /// Answer rotation events.
    pub rotate: bool,
    /// How long a retired signing key is carried into new versions.
    pub rotation_overlap: Duration,
    /// Algorithm of the first key written into an empty secret.
    pub rotation_algorithm: jwt_session::Alg,
    /// Signing settings, when this deployment signs.
    pub sign: Option<signer::SignConfig>,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, Error> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the configuration through `lookup`; every problem is reported together.
    pub fn from_lookup<F: Fn(&str) -> Option<String>>(lookup: F) -> Result<Config, Error> {
        let mut env = jwt_session::config::Env::new(lookup);
        let secret_id = env.required(vars::SECRET_ID, "set it to the secret's name or ARN");
        let seconds = "must be a whole number of seconds from 0 to 86400";
        let ttl = env.number_or(vars::SECRET_CACHE_TTL_SECONDS, 60, 0, 86_400, seconds);
        let max_stale = env.number_or(vars::SECRET_MAX_STALE_SECONDS, 3_600, 0, 86_400, seconds);
        let overlap = env.number_or(
            vars::ROTATION_OVERLAP_SECONDS,
            86_400,
            0,
            31_536_000,
            "must be a whole number of seconds up to one year",
        );
        let rotation_algorithm = match env.get(vars::ROTATION_ALGORITHM) {
            None => jwt_session::Alg::EdDSA,
            Some(a) => a.parse().unwrap_or_else(|_| {
                env.problem(
                    vars::ROTATION_ALGORITHM,
                    "invalid",
                    "must be one of EdDSA, ES256, ES384, RS256..PS512, HS256..HS512",
                );
                jwt_session::Alg::EdDSA
            }),
        };
        let (mut serve_keys, mut rotate, mut sign) = (true, true, false);
        if let Some(list) = env.get(vars::SECRETS_FN_ACTIONS) {
            serve_keys = false;
            rotate = false;
            for action in list.split(',').map(str::trim).filter(|a| !a.is_empty()) {
                match action {
                    GET_KEYS => serve_keys = true,
                    "rotate" => rotate = true,
                    "sign" => sign = true,
                    _ => env.problem(
                        vars::SECRETS_FN_ACTIONS,
                        "invalid",
                        "list `get_keys`, `rotate` and/or `sign`, comma-separated",
                    ),
                }
            }
            if !serve_keys && !rotate && !sign {
                env.problem(
                    vars::SECRETS_FN_ACTIONS,
                    "invalid",
                    "list at least one of `get_keys`, `rotate`, `sign`",
                );
            }
        }
        let sign = if sign {
            let needed = "required when SECRETS_FN_ACTIONS lists `sign`";
            let issuer = env.required(vars::SIGN_ISSUER, needed);
            let audience = env.required(vars::SIGN_AUDIENCE, needed);
            let bounded = "must be a positive whole number within its documented bound";
            let lifetime = env.number_or(vars::SIGN_LIFETIME_SECONDS, 900, 1, 86_400, bounded);
            let session_max =
                env.number_or(vars::SESSION_MAX_SECONDS, 43_200, 1, 2_592_000, bounded);
            let max_claims_bytes =
                env.number_or(vars::SIGN_MAX_CLAIMS_BYTES, 2048, 1, 8192, bounded) as usize;
            let cookie_name = env
                .get(vars::SESSION_COOKIE_NAME)
                .unwrap_or_else(|| jwt_session::cookie::DEFAULT_COOKIE_NAME.to_owned());
            if !jwt_session::cookie::is_valid_cookie_name(&cookie_name) {
                env.problem(
                    vars::SESSION_COOKIE_NAME,
                    "invalid",
                    "must be a cookie name",
                );
            }
            let same_site = match env.get(vars::SESSION_SAME_SITE) {
                None => jwt_session::cookie::SameSite::Strict,
                Some(v) => v.parse().unwrap_or_else(|_| {
                    env.problem(
                        vars::SESSION_SAME_SITE,
                        "invalid",
                        "must be `Strict` or `Lax`",
                    );
                    jwt_session::cookie::SameSite::Strict
                }),
            };
            Some(signer::SignConfig {
                issuer,
                audience,
                lifetime,
                session_max,
                cookie_name,
                same_site,
                max_claims_bytes,
            })
        } else {
            None
        };
        let allow_symmetric = env.flag(vars::ALLOW_SYMMETRIC_KEYS);
        let problems = env.into_problems();
        if !problems.is_empty() {
            return Err(Error::Config(problems));
        }
        Ok(Config {
            secret_id,
            cache_ttl: Duration::from_secs(ttl),
            max_stale: Duration::from_secs(max_stale.max(ttl)),
            allow_symmetric,
            serve_keys,
            rotate,
            rotation_overlap: Duration::from_secs(overlap),
            rotation_algorithm,
            sign,
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
    #[error("unsupported event: expected {{\"action\": \"get_keys\"}} or a Secrets Manager rotation event ({{\"Step\", \"SecretId\", \"ClientRequestToken\"}})")]
    UnsupportedEvent,
    /// An action this deployment is not configured to answer.
    #[error("this function does not answer `{0}` (SECRETS_FN_ACTIONS)")]
    ActionNotAllowed(&'static str),
    /// A Secrets Manager call failed.
    #[error("reading stage {stage}: {failure}")]
    SecretsManager {
        /// The version stage asked for.
        stage: &'static str,
        /// The call, whether it may succeed later, and the SDK error.
        #[source]
        failure: sm::SmFailure,
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
    /// A rotation step was refused.
    #[error(transparent)]
    Rotation(#[from] rotation::RotationError),
    /// A signing request was refused.
    #[error(transparent)]
    Sign(#[from] signer::SignError),
}

impl Error {
    /// Whether a later retry may succeed (a Secrets Manager time-out, connection failure,
    /// throttling or 5xx); configuration, key, request and rotation-state errors are not.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::SecretsManager { failure, .. }
            | Error::Rotation(rotation::RotationError::SecretsManager(failure)) => {
                failure.transient
            }
            _ => false,
        }
    }
}

fn describe(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    /// A stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Config(_) => "config",
            Error::UnsupportedEvent => "unsupported_event",
            Error::ActionNotAllowed(_) => "action_not_allowed",
            Error::Rotation(e) => e.code(),
            Error::Sign(e) => e.code(),
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

/// The keys read from the secret, with the answer served from them.
pub struct Loaded {
    /// Private keys: `AWSCURRENT` first, then `AWSPREVIOUS`.
    pub keys: JwkSet,
    /// The public answer, built once per load.
    pub public: KeysResponse,
    /// The versions they came from.
    pub versions: Versions,
}

impl fmt::Debug for Loaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Loaded")
            .field("keys", &self.keys.keys.len())
            .finish_non_exhaustive()
    }
}

/// The version ids that hold `AWSCURRENT` and `AWSPREVIOUS`, from `DescribeSecret`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versions {
    /// `AWSCURRENT`.
    pub current: String,
    /// `AWSPREVIOUS`, if any.
    pub previous: Option<String>,
}

/// `DescribeSecret`, reduced to what the serving path needs.
pub async fn describe_versions(client: &Client, secret_id: &str) -> Result<Versions, Error> {
    let out = client
        .describe_secret()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| Error::SecretsManager {
            stage: stages::CURRENT,
            failure: sm::SmFailure::new("DescribeSecret", e),
        })?;
    let find = |stage: &str| {
        out.version_ids_to_stages().and_then(|m| {
            m.iter()
                .find(|(_, stages)| stages.iter().any(|s| s == stage))
                .map(|(id, _)| id.clone())
        })
    };
    Ok(Versions {
        current: find(stages::CURRENT).ok_or(Error::SecretNotString(stages::CURRENT))?,
        previous: find(stages::PREVIOUS),
    })
}

/// Reads one version's key set by id.
#[tracing::instrument(skip_all, fields(stage))]
async fn read_version(
    client: &Client,
    secret_id: &str,
    version_id: &str,
    stage: &'static str,
) -> Result<JwkSet, Error> {
    let mut out = client
        .get_secret_value()
        .secret_id(secret_id)
        .version_id(version_id)
        .send()
        .await
        .map_err(|e| Error::SecretsManager {
            stage,
            failure: sm::SmFailure::new("GetSecretValue", e),
        })?;
    take_key_set(&mut out)
        .ok_or(Error::SecretNotString(stage))?
        .map_err(|source| Error::KeySet { stage, source })
}

/// Parses the private key set of a `GetSecretValue` answer. The secret string is taken out of
/// the answer, so the only copy this function holds is wiped once parsed (a copy would leave
/// the answer's own string behind, unwiped). `None`: the version has no string value.
pub(crate) fn take_key_set(
    out: &mut aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueOutput,
) -> Option<Result<JwkSet, jwt_session::KeySetError>> {
    let text = zeroize::Zeroizing::new(out.secret_string.take()?);
    Some(JwkSet::parse(&text, Visibility::Private))
}

/// Loads the two versions and validates them together.
pub async fn load(client: &Client, cfg: &Config, versions: &Versions) -> Result<Loaded, Error> {
    let current = read_version(client, &cfg.secret_id, &versions.current, stages::CURRENT).await?;
    let previous = match &versions.previous {
        Some(id) => Some(read_version(client, &cfg.secret_id, id, stages::PREVIOUS).await?),
        None => None,
    };
    let keys =
        JwkSet::merge(std::iter::once(&current).chain(previous.as_ref())).map_err(Error::Merge)?;
    let answer = KeysResponse {
        keys: keys.to_public(cfg.allow_symmetric),
        cache_ttl_seconds: cfg.cache_ttl.as_secs(),
    };
    tracing::info!(
        event = "keys_loaded",
        current_version = %versions.current,
        previous_version = versions.previous.as_deref(),
        current = current.keys.len(),
        previous = previous.as_ref().map_or(0, |p| p.keys.len()),
        served = answer.keys.keys.len(),
        signing_kid = current.keys.first().map(|k| k.kid.as_str()),
        "key set loaded from Secrets Manager"
    );
    Ok(Loaded {
        keys,
        public: answer,
        versions: versions.clone(),
    })
}

/// What secrets-fn answers: one typed answer per request of [`Request`].
#[derive(Debug)]
pub enum Answer {
    /// The public key set: serialised straight from the answer built when the keys were
    /// loaded, not copied per request.
    Keys(Arc<Loaded>),
    /// A signed session token.
    Signed(SignResponse),
    /// A rotation step's result.
    Rotated(RotationResponse),
}

impl serde::Serialize for Answer {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Answer::Keys(loaded) => loaded.public.serialize(s),
            Answer::Signed(a) => a.serialize(s),
            Answer::Rotated(a) => a.serialize(s),
        }
    }
}

#[derive(Debug)]
struct Cached {
    /// When the versions were last confirmed.
    checked_at: Instant,
    loaded: Arc<Loaded>,
}

/// The function's state: SDK client and key cache, built once per container.
#[derive(Debug)]
pub struct SecretsFn {
    cfg: Config,
    client: Client,
    cache: Mutex<Option<Cached>>,
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

    /// The keys. Within `SECRET_CACHE_TTL_SECONDS` they come from memory; after it (or when
    /// `revalidate` is asked) `DescribeSecret` tells whether the
    /// versions changed, and only then are they read again. With a TTL of 0 every request
    /// reads both versions. While Secrets Manager fails, the last keys serve until
    /// `SECRET_MAX_STALE_SECONDS` after they were last confirmed.
    pub async fn keys(&self, revalidate: bool) -> Result<Arc<Loaded>, Error> {
        let mut cache = self.cache.lock().await;
        let now = Instant::now();
        if let Some(c) = cache.as_ref() {
            let age = now.saturating_duration_since(c.checked_at);
            if !revalidate && age < self.cfg.cache_ttl {
                return Ok(Arc::clone(&c.loaded));
            }
        }
        let result = match describe_versions(&self.client, &self.cfg.secret_id).await {
            Ok(versions) => match cache.as_ref() {
                Some(c) if c.loaded.versions == versions && !self.cfg.cache_ttl.is_zero() => {
                    Ok(Arc::clone(&c.loaded))
                }
                _ => load(&self.client, &self.cfg, &versions).await.map(Arc::new),
            },
            Err(e) => Err(e),
        };
        match result {
            Ok(loaded) => {
                *cache = Some(Cached {
                    checked_at: now,
                    loaded: Arc::clone(&loaded),
                });
                Ok(loaded)
            }
            Err(e) => {
                let stale = cache
                    .as_ref()
                    .filter(|c| now.saturating_duration_since(c.checked_at) < self.cfg.max_stale);
                let cause = std::error::Error::source(&e).map(ToString::to_string);
                tracing::warn!(event = "keys_load_failed", code = e.code(), transient = e.is_transient(), error = %e, cause, serving_stale = stale.is_some(), "could not load the key set");
                match stale {
                    Some(c) => Ok(Arc::clone(&c.loaded)),
                    None => Err(e),
                }
            }
        }
    }

    /// Handles one event, read once into a [`Request`].
    pub async fn handle(&self, event: &Value) -> Result<Answer, Error> {
        let request = Request::from_value(event).map_err(|e| match e {
            // A `sign` or `renew` request with bad members is the signer's `bad_request`
            // (where this deployment signs at all).
            RequestError::Malformed(SIGN | RENEW) => match self.cfg.sign {
                Some(_) => Error::Sign(signer::BAD_REQUEST),
                None => Error::ActionNotAllowed(SIGN),
            },
            RequestError::Malformed(_) | RequestError::Unknown => Error::UnsupportedEvent,
        });
        let request = request.inspect_err(|e| {
            tracing::warn!(
                event = "unsupported_event",
                code = e.code(),
                "event refused"
            );
        })?;
        match request {
            Request::GetKeys { refresh } => {
                if !self.cfg.serve_keys {
                    return Err(Error::ActionNotAllowed(GET_KEYS));
                }
                Ok(Answer::Keys(self.keys(refresh).await?))
            }
            Request::Sign { .. } | Request::Renew { .. } => {
                let Some(sign) = &self.cfg.sign else {
                    return Err(Error::ActionNotAllowed(SIGN));
                };
                let loaded = self.keys(false).await?;
                let now = jwt_session::unix_now();
                let signed = match &request {
                    Request::Sign { sub, claims } => {
                        signer::sign(sub, claims, &loaded.keys, sign, now)
                    }
                    Request::Renew { token } => signer::renew(token, &loaded.keys, sign, now),
                    _ => Err(signer::BAD_REQUEST),
                };
                signed.map(Answer::Signed).map_err(|e| {
                    tracing::warn!(event = "sign_refused", code = e.code(), error = %e, "signing request refused");
                    Error::Sign(e)
                })
            }
            Request::Rotate(event) => {
                if !self.cfg.rotate {
                    return Err(Error::ActionNotAllowed("rotate"));
                }
                let result = rotation::rotate(&self.client, &self.cfg, &event).await;
                if let Err(e) = &result {
                    let cause = std::error::Error::source(e).map(ToString::to_string);
                    tracing::error!(event = "rotation_failed", step = event.step.as_str(), version = %event.client_request_token, code = e.code(), error = %e, cause, "rotation step failed");
                }
                Ok(Answer::Rotated(RotationResponse {
                    step: event.step,
                    result: result?,
                }))
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

    fn function(pairs: &[(&str, &str)]) -> SecretsFn {
        let conf = aws_sdk_secretsmanager::Config::builder()
            .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
            .build();
        SecretsFn::new(cfg(pairs).unwrap(), Client::from_conf(conf))
    }

    #[tokio::test]
    async fn anything_but_a_request_of_the_protocol_is_explained() {
        let f = function(&[("SECRET_ID", "s")]);
        for e in [
            serde_json::json!({}),
            serde_json::json!(null),
            serde_json::json!({"action": "delete"}),
            serde_json::json!({"Step": 1}),
            serde_json::json!({"action": "get_keys", "refresh": "yes"}),
        ] {
            let err = f.handle(&e).await.unwrap_err();
            assert!(err.to_string().contains("get_keys"), "{e}");
            assert!(err.to_string().contains("ClientRequestToken"));
            let d = lambda_runtime::Diagnostic::from(err);
            assert_eq!(d.error_type, "unsupported_event");
        }
        let sign = serde_json::json!({"action": "sign"});
        assert_eq!(
            f.handle(&sign).await.unwrap_err().code(),
            "action_not_allowed"
        );
        let signer = function(&[
            ("SECRET_ID", "s"),
            ("SECRETS_FN_ACTIONS", "sign"),
            ("SIGN_ISSUER", "i"),
            ("SIGN_AUDIENCE", "a"),
        ]);
        assert_eq!(
            signer.handle(&sign).await.unwrap_err().code(),
            "bad_request"
        );
    }

    #[test]
    fn answers_serialise_as_the_public_set_built_at_load_or_as_typed() {
        let loaded = Arc::new(Loaded {
            keys: JwkSet::default(),
            public: KeysResponse {
                keys: JwkSet::default(),
                cache_ttl_seconds: 300,
            },
            versions: Versions {
                current: "v1".into(),
                previous: None,
            },
        });
        let keys = serde_json::to_value(Answer::Keys(loaded)).unwrap();
        assert_eq!(
            keys,
            serde_json::json!({"keys": [], "cache_ttl_seconds": 300})
        );
        let rotated = Answer::Rotated(RotationResponse {
            step: jwt_session::wire::RotationStep::Set,
            result: jwt_session::wire::RotationResult::NothingToSet,
        });
        assert_eq!(
            serde_json::to_value(rotated).unwrap(),
            serde_json::json!({"step": "setSecret", "result": "nothing_to_set"})
        );
    }

    #[test]
    fn actions_can_be_restricted_per_deployment() {
        let c = cfg(&[("SECRET_ID", "s"), ("SECRETS_FN_ACTIONS", "get_keys")]).unwrap();
        assert!(c.serve_keys && !c.rotate);
        let c = cfg(&[("SECRET_ID", "s"), ("SECRETS_FN_ACTIONS", "rotate")]).unwrap();
        assert!(!c.serve_keys && c.rotate);
        let c = cfg(&[("SECRET_ID", "s")]).unwrap();
        assert!(c.serve_keys && c.rotate);
        assert!(cfg(&[("SECRET_ID", "s"), ("SECRETS_FN_ACTIONS", "sign")]).is_err());
    }
}
