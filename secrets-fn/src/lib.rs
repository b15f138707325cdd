//! secrets-fn: loads the JWT signing keys from AWS Secrets Manager and serves the public
//! verification keys to the authorizer. Private keys never leave this function.
//!
//! # Events
//!
//! - `{"action": "get_keys"}` → `{"keys": [public JWK, ...], "cache_ttl_seconds": N, "confirmed_at": T}`: the keys
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
//! - `{"action": "revoke_session", "token" | "sid"}`, `{"action": "revoke_subject", "sub"}`:
//!   see [`revoke`] (only on the signing deployment, with `REVOCATION_TABLE`; renewals are
//!   then refused for revoked sessions).
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
//! | `SECRETS_FN_ACTIONS` | what this deployment answers: `get_keys`, `rotate`, `sign`, comma-separated | `get_keys` |
//! | `ROTATION_OVERLAP_SECONDS` | how long a retired signing key stays in new versions (≥ the longest token lifetime) | `86400` |
//! | `ROTATION_ALGORITHM` | algorithm of the first key when rotation starts on an empty secret | `EdDSA` |
//! | `SIGN_ISSUER`, `SIGN_AUDIENCE` | `iss` and `aud` of issued tokens (signing role) | required with `sign` |
//! | `SIGN_LIFETIME_SECONDS` | lifetime of one issued token | `900` |
//! | `SESSION_MAX_SECONDS` | absolute session lifetime from the first login (`auth_time`) | `43200` |
//! | `SESSION_COOKIE_NAME`, `SESSION_SAME_SITE` | the cookie in `set_cookie` | `__Host-session`, `Strict` |
//! | `SIGN_MAX_CLAIMS_BYTES` | largest accepted JSON of the caller's claims | `2048` |
//! | `REVOCATION_TABLE` | the DynamoDB revocation table (signing deployment only): revoke, and refuse to renew what is revoked | unset: revocation off |
//! | `REVOCATION_SHARDS` | partitions of the revocation feed written to (the authorizers must read at least as many) | `8` |
//!
//! Region, credentials and endpoint come from the AWS SDK chain
//! (`AWS_ENDPOINT_URL_SECRETS_MANAGER`, `AWS_ENDPOINT_URL_DYNAMODB` locally).
//!
//! # What lives where
//!
//! `config` (variables, every problem reported together), `error` (codes, whether transient),
//! `read` (the one Secrets Manager reader of key sets, for serving and rotation; the two
//! versions validated together, the public answer built once), `sm` (one shape
//! for Secrets Manager failures), `signer` (sign and renew), `rotation` (the four steps); here,
//! the function: the request read once ([`Request`]), the key cache with its stale bound, and
//! the typed answers ([`Answer`]).
//!
//! # Error codes
//!
//! `config`, `unsupported_event`, `action_not_allowed`, `secrets_manager`, `secret_not_string`,
//! `keyset_not_json`, `keyset_shape`, `keyset_empty`, `key_invalid`, `rotation_disabled`,
//! `wrong_secret`, `unknown_version`, `not_pending`, `unknown_step`, `rotation_test_failed`,
//! `key_generation`, `revocation_store`; the signer's (`bad_request`, `reserved_claim`,
//! `claims_too_large`, `invalid_token`, `session_over`, `revoked`, `no_signing_key`,
//! `signing`). A `secrets_manager` error says which call failed and whether a retry may
//! succeed ([`Error::is_transient`]: time-outs, connection failures, throttling, 5xx), in its
//! message and in the `transient` field of the `keys_load_failed` log record.

pub mod revoke;
pub mod rotation;
pub mod signer;
pub mod sm;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::Client;
use jwt_session::revocation::{Entry, Revocation};
use jwt_session::wire::{
    KeysResponse, Request, RequestError, RevokeResponse, RotationResponse, SessionRef,
    SignResponse, GET_KEYS, RENEW, REVOKE_SESSION, REVOKE_SUBJECT, SIGN,
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

mod config;
mod error;
mod read;

pub use config::*;
pub use error::*;
pub use read::*;

/// What secrets-fn answers: one typed answer per request of [`Request`].
#[derive(Debug)]
pub enum Answer {
    /// The public key set: serialised straight from the answer built when the keys were
    /// loaded, not copied per request, with when Secrets Manager last confirmed them.
    Keys(Arc<Loaded>, Confirmation),
    /// A signed session token.
    Signed(SignResponse),
    /// A rotation step's result.
    Rotated(RotationResponse),
    /// What a revocation wrote.
    Revoked(RevokeResponse),
}

impl serde::Serialize for Answer {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Answer::Keys(loaded, c) => {
                loaded
                    .public
                    .serialize_confirmed(Some(c.confirmed_at), c.revalidated, s)
            }
            Answer::Signed(a) => a.serialize(s),
            Answer::Rotated(a) => a.serialize(s),
            Answer::Revoked(a) => a.serialize(s),
        }
    }
}

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

#[derive(Debug)]
struct Cached {
    /// When the versions were last confirmed.
    checked_at: Instant,
    /// The same moment, in seconds since the epoch (sent in key answers).
    checked_unix: u64,
    loaded: Arc<Loaded>,
}

/// The function's state: SDK client and key cache, built once per container.
#[derive(Debug)]
pub struct SecretsFn {
    cfg: Config,
    client: Client,
    cache: Mutex<Option<Cached>>,
    revocations: Option<revoke::RevocationStore>,
}

impl SecretsFn {
    /// Builds the function state.
    pub fn new(cfg: Config, client: Client) -> Self {
        SecretsFn {
            cfg,
            client,
            cache: Mutex::new(None),
            revocations: None,
        }
    }

    /// The same, revoking (and checking renewals) in `REVOCATION_TABLE` with `dynamodb`.
    pub fn with_revocations(mut self, dynamodb: aws_sdk_dynamodb::Client) -> Self {
        self.revocations =
            self.cfg.revocation_table.clone().map(|table| {
                revoke::RevocationStore::new(dynamodb, table, self.cfg.revocation_shards)
            });
        self
    }

    /// The keys. Within `SECRET_CACHE_TTL_SECONDS` they come from memory; after it (or when
    /// `revalidate` is asked) `DescribeSecret` tells whether the
    /// versions changed, and only then are they read again. With a TTL of 0 every request
    /// reads both versions. While Secrets Manager fails, the last keys serve until
    /// `SECRET_MAX_STALE_SECONDS` after they were last confirmed.
    pub async fn keys(&self, revalidate: bool) -> Result<Arc<Loaded>, Error> {
        self.confirmed_keys(revalidate)
            .await
            .map(|(loaded, _)| loaded)
    }

    /// [`SecretsFn::keys`], with when Secrets Manager last confirmed them (seconds since the
    /// epoch).
    pub async fn confirmed_keys(
        &self,
        revalidate: bool,
    ) -> Result<(Arc<Loaded>, Confirmation), Error> {
        let cached = |c: &Cached| Confirmation {
            confirmed_at: c.checked_unix,
            revalidated: false,
        };
        let mut cache = self.cache.lock().await;
        let now = Instant::now();
        if let Some(c) = cache.as_ref() {
            let age = now.saturating_duration_since(c.checked_at);
            // A revalidation asked for (an authorizer met an unknown `kid`) is honoured at
            // most once per REVALIDATE_MIN_INTERVAL: every container of every authorizer may
            // ask, and each costs a DescribeSecret.
            let fresh = age < self.cfg.cache_ttl && (!revalidate || age < REVALIDATE_MIN_INTERVAL);
            if fresh {
                return Ok((Arc::clone(&c.loaded), cached(c)));
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
                    .filter(|c| now.saturating_duration_since(c.checked_at) < self.cfg.max_stale);
                let cause = std::error::Error::source(&e).map(ToString::to_string);
                tracing::warn!(event = "keys_load_failed", code = e.code(), transient = e.is_transient(), error = %e, cause, serving_stale = stale.is_some(), "could not load the key set");
                match stale {
                    Some(c) => Ok((Arc::clone(&c.loaded), cached(c))),
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
            RequestError::Malformed(SIGN | RENEW | REVOKE_SESSION | REVOKE_SUBJECT) => {
                match self.cfg.sign {
                    Some(_) => Error::Sign(signer::BAD_REQUEST),
                    None => Error::ActionNotAllowed(SIGN),
                }
            }
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
                let (loaded, confirmed_at) = self.confirmed_keys(refresh).await?;
                Ok(Answer::Keys(loaded, confirmed_at))
            }
            Request::Sign { .. } | Request::Renew { .. } => {
                let Some(sign) = &self.cfg.sign else {
                    return Err(Error::ActionNotAllowed(SIGN));
                };
                let loaded = self.keys(false).await?;
                let now = jwt_session::unix_now();
                let signed = match &request {
                    Request::Sign { sub, claims } => {
                        signer::sign(sub, claims, &loaded.keys, sign, now).map_err(refused)
                    }
                    Request::Renew { token } => self.renew(token, &loaded.keys, sign, now).await,
                    _ => Err(refused(signer::BAD_REQUEST)),
                };
                signed.map(Answer::Signed)
            }
            Request::RevokeSession(_) | Request::RevokeSubject { .. } => {
                let Some(sign) = &self.cfg.sign else {
                    return Err(Error::ActionNotAllowed(SIGN));
                };
                let Some(store) = &self.revocations else {
                    return Err(Error::RevocationOff);
                };
                let now_ms = jwt_session::unix_now_ms();
                let (entry, sub) = match request {
                    Request::RevokeSession(SessionRef::Token(token)) => {
                        let loaded = self.keys(false).await?;
                        let session = signer::Renewal::verify_for_revocation(
                            &token,
                            &loaded.keys,
                            sign,
                            now_ms / 1000,
                        )
                        .map_err(refused)?;
                        let sid = session.sid.ok_or_else(|| {
                            refused(signer::SignError::BadRequest(
                                "the token has no session id (`sid`): revoke its subject",
                            ))
                        })?;
                        // Until the last token the session can hold has expired: this one,
                        // or one issued now for the current lifetime.
                        let entry = Entry::session(sid, now_ms, sign.lifetime, session.exp);
                        (entry, Some(session.sub))
                    }
                    Request::RevokeSession(SessionRef::Sid(sid)) => {
                        let sid = bounded(sid)?;
                        (Entry::session(sid, now_ms, sign.lifetime, 0), None)
                    }
                    Request::RevokeSubject { sub } => {
                        let sub = bounded(sub)?;
                        let before = now_ms / 1000;
                        (Entry::subject(sub, before, now_ms, sign.session_max), None)
                    }
                    _ => return Err(refused(signer::BAD_REQUEST)),
                };
                let subject = matches!(entry.revocation, Revocation::Subject { .. });
                let answer = store
                    .revoke(entry, sub.as_deref())
                    .await
                    .inspect_err(|e| {
                        tracing::error!(event = "revocation_failed", code = "revocation_store", transient = e.transient, error = %e, "revocation not written");
                    })?;
                // A subject revocation covers sessions begun up to its second (`auth_time`
                // ≤ `before`): it answers only once that second is over, so a login that
                // follows the answer (a password change: revoke, then sign in again) is
                // never covered by it.
                if subject {
                    let next_second = (now_ms / 1000 + 1) * 1000;
                    let wait = next_second.saturating_sub(jwt_session::unix_now_ms());
                    tokio::time::sleep(Duration::from_millis(wait)).await;
                }
                Ok(Answer::Revoked(answer))
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

/// A signing request refused: logged, then the function's error.
fn refused(e: signer::SignError) -> Error {
    tracing::warn!(event = "sign_refused", code = e.code(), error = %e, "signing request refused");
    Error::Sign(e)
}

/// A session id or subject to revoke: not empty, and no longer than a token's claim can be.
fn bounded(value: String) -> Result<String, Error> {
    if value.is_empty() || value.len() > jwt_session::revocation::MAX_VALUE_BYTES {
        return Err(refused(signer::SignError::BadRequest(
            "`sid` and `sub` must be non-empty strings of at most 1 KiB",
        )));
    }
    Ok(value)
}

impl SecretsFn {
    /// `renew`, refused when the table says the session or its subject was revoked.
    async fn renew(
        &self,
        token: &jwt_session::SecretString,
        keys: &JwkSet,
        sign: &signer::SignConfig,
        now: u64,
    ) -> Result<SignResponse, Error> {
        let renewal = signer::Renewal::verify(token, keys, sign, now).map_err(refused)?;
        if let Some(store) = &self.revocations {
            let revoked = store
                .is_revoked(
                    &renewal.sub,
                    renewal.sid.as_deref(),
                    Some(renewal.auth_time()),
                    now,
                )
                .await
                .inspect_err(|e| {
                    tracing::error!(event = "revocation_check_failed", transient = e.transient, error = %e, "renewal refused: the revocation table could not be read");
                })?;
            if revoked {
                return Err(refused(signer::SignError::Revoked));
            }
        }
        renewal.issue(keys, sign, now).map_err(refused)
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
                confirmed_at: None,
                revalidated: false,
            },
            versions: Versions {
                current: "v1".into(),
                previous: None,
            },
        });
        let confirmation = Confirmation {
            confirmed_at: 1_800_000_000,
            revalidated: true,
        };
        let keys = serde_json::to_value(Answer::Keys(loaded, confirmation)).unwrap();
        assert_eq!(
            keys,
            serde_json::json!({"keys": [], "cache_ttl_seconds": 300, "confirmed_at": 1_800_000_000u64, "revalidated": true})
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
        assert!(
            c.serve_keys && !c.rotate && c.sign.is_none(),
            "by default the key server serves keys only"
        );
        assert!(cfg(&[("SECRET_ID", "s"), ("SECRETS_FN_ACTIONS", "sign")]).is_err());
    }

    #[test]
    fn only_the_signing_deployment_takes_a_revocation_table() {
        let err = cfg(&[("SECRET_ID", "s"), ("REVOCATION_TABLE", "t")]).unwrap_err();
        assert!(
            err.to_string().contains("REVOCATION_TABLE [contradictory]"),
            "{err}"
        );
        let c = cfg(&[
            ("SECRET_ID", "s"),
            ("SECRETS_FN_ACTIONS", "sign"),
            ("SIGN_ISSUER", "i"),
            ("SIGN_AUDIENCE", "a"),
            ("REVOCATION_TABLE", "t"),
        ])
        .unwrap();
        assert_eq!(c.revocation_table.as_deref(), Some("t"));
    }

    #[tokio::test]
    async fn revocations_are_refused_where_revocation_is_off() {
        let signer = function(&[
            ("SECRET_ID", "s"),
            ("SECRETS_FN_ACTIONS", "sign"),
            ("SIGN_ISSUER", "i"),
            ("SIGN_AUDIENCE", "a"),
        ]);
        let err = signer
            .handle(&serde_json::json!({"action": "revoke_subject", "sub": "alice"}))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "action_not_allowed");
        assert!(err.to_string().contains("REVOCATION_TABLE"));
        let keys_only = function(&[("SECRET_ID", "s")]);
        let err = keys_only
            .handle(&serde_json::json!({"action": "revoke_session", "sid": "x"}))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "action_not_allowed");
        let malformed = signer
            .handle(&serde_json::json!({"action": "revoke_session"}))
            .await
            .unwrap_err();
        assert_eq!(malformed.code(), "bad_request");
    }
}
