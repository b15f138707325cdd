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
//!   `rotation`.
//! - `{"action": "sign", ...}` and `{"action": "renew", ...}`: see `signer` (only where
//!   `SECRETS_FN_ACTIONS` lists `sign`).
//! - `{"action": "revoke_session", "token" | "sid"}`, `{"action": "revoke_subject", "sub"}`:
//!   see `revoke` (only on the signing deployment, with `REVOCATION_TABLE`; renewals are
//!   then refused for revoked sessions).
//! - Anything else is answered with an error that says what was expected.
//!
//! # Configuration
//!
//! Every variable, its meaning and its default: docs/configuration.md (section "secrets-fn"),
//! checked against `config.rs` by `make docs`.
//!
//! Region, credentials and endpoint come from the AWS SDK chain
//! (`AWS_ENDPOINT_URL_SECRETS_MANAGER`, `AWS_ENDPOINT_URL_DYNAMODB` locally).
//!
//! # What lives where
//!
//! Here, the function: the request read once ([`KeyServerRequest`]) and dispatched to the module of
//! its action, and the typed answers ([`Answer`]). Then one file per concern:
//!
//! - `keys`: the `get_keys` action, the key cache with its stale bound, the key answer;
//! - `read`: the one Secrets Manager reader of key sets, for serving and rotation (the two
//!   versions validated together, the public answer built once);
//! - `signer`: `sign` and `renew` (one verification of our own tokens, for renewal and revocation);
//! - `revoke`: the revoke actions and the revocation table ([`RevocationStore`]), read
//!   before every renewal;
//! - `rotation`: the four steps;
//! - `aws`: one shape for every failed AWS call ([`SdkFailure`]: Secrets Manager and
//!   DynamoDB) and one rule for whether a retry may succeed;
//! - `config` (variables, every problem reported together), `error` (codes, whether
//!   transient).
//!
//! The public interface is the list of `pub use` below; the modules are private.
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

mod aws;
mod config;
mod error;
mod keys;
mod read;
mod revoke;
mod rotation;
mod signer;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use aws_sdk_secretsmanager::Client;
use jwt_session::wire::{
    KeyServerRequest, RequestError, RevokeResponse, RotationResponse, SignResponse, GET_KEYS,
    RENEW, REVOKE_SESSION, REVOKE_SUBJECT, SIGN,
};
use serde_json::Value;

// The public interface: what `main.rs`, the tests and the deployment use.
pub use aws::{SdkFailure, Service};
pub use config::{vars, Config, Problem};
pub use error::{Error, RotationError};
pub use keys::{Confirmation, REVALIDATE_MIN_INTERVAL};
pub use read::{stages, Loaded, Versions};
pub use revoke::{RevocationStore, REVOKE_LEEWAY_SECONDS};
pub use signer::{SignConfig, SignError};

use keys::KeyCache;
use signer::Renewal;

/// What secrets-fn answers: one typed answer per request of [`KeyServerRequest`].
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
            Answer::Keys(loaded, confirmation) => keys::serialize(loaded, confirmation, s),
            Answer::Signed(a) => a.serialize(s),
            Answer::Rotated(a) => a.serialize(s),
            Answer::Revoked(a) => a.serialize(s),
        }
    }
}

/// The function's state: SDK clients and key cache, built once per container.
#[derive(Debug)]
pub struct SecretsFn {
    cfg: Config,
    client: Client,
    key_cache: KeyCache,
    revocations: Option<RevocationStore>,
}

impl SecretsFn {
    /// Builds the function state.
    pub fn new(cfg: Config, client: Client) -> Self {
        SecretsFn {
            cfg,
            client,
            key_cache: KeyCache::default(),
            revocations: None,
        }
    }

    /// The same, revoking (and checking renewals) in `REVOCATION_TABLE` with `dynamodb`.
    pub fn with_revocations(mut self, dynamodb: aws_sdk_dynamodb::Client) -> Self {
        self.revocations = self
            .cfg
            .revocation_table
            .clone()
            .map(|table| RevocationStore::new(dynamodb, table, self.cfg.revocation_shards));
        self
    }

    /// The keys: from the cache while fresh, revalidated with Secrets Manager after
    /// `SECRET_CACHE_TTL_SECONDS` (or when `revalidate` is asked), the last ones while Secrets
    /// Manager fails, up to `SECRET_MAX_STALE_SECONDS`.
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
        self.key_cache
            .confirmed(&self.client, &self.cfg, revalidate)
            .await
    }

    /// Handles one event, read once into a [`KeyServerRequest`], in the module of its action.
    pub async fn handle(&self, event: &Value) -> Result<Answer, Error> {
        let request = KeyServerRequest::from_value(event).map_err(|e| match e {
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
            KeyServerRequest::GetKeys { refresh } => {
                if !self.cfg.serve_keys {
                    return Err(Error::ActionNotAllowed(GET_KEYS));
                }
                let (loaded, confirmation) = self.confirmed_keys(refresh).await?;
                Ok(Answer::Keys(loaded, confirmation))
            }
            KeyServerRequest::Sign { sub, claims } => {
                let sign = self.signing()?;
                let loaded = self.keys(false).await?;
                let now = jwt_session::unix_now();
                signer::sign(&sub, &claims, &loaded.keys, sign, now)
                    .map(Answer::Signed)
                    .map_err(Error::refused)
            }
            KeyServerRequest::Renew { token } => {
                let sign = self.signing()?;
                let loaded = self.keys(false).await?;
                let now = jwt_session::unix_now();
                let renewal =
                    Renewal::verify(&token, &loaded.keys, sign, now, 0).map_err(Error::refused)?;
                revoke::check_renewal(self.revocations.as_ref(), &renewal, now).await?;
                renewal
                    .issue(&loaded.keys, sign, now)
                    .map(Answer::Signed)
                    .map_err(Error::refused)
            }
            KeyServerRequest::RevokeSession(session) => {
                let (sign, store) = self.revoking()?;
                revoke::session(store, sign, session, || self.keys(false))
                    .await
                    .map(Answer::Revoked)
            }
            KeyServerRequest::RevokeSubject { sub } => {
                let (sign, store) = self.revoking()?;
                revoke::subject(store, sign, sub).await.map(Answer::Revoked)
            }
            KeyServerRequest::Rotate(event) => {
                if !self.cfg.rotate {
                    return Err(Error::ActionNotAllowed("rotate"));
                }
                Ok(Answer::Rotated(
                    rotation::handle(&self.client, &self.cfg, event).await?,
                ))
            }
        }
    }

    /// The signing settings, where this deployment signs.
    fn signing(&self) -> Result<&SignConfig, Error> {
        self.cfg.sign.as_ref().ok_or(Error::ActionNotAllowed(SIGN))
    }

    /// The signing settings and the revocation table, where this deployment revokes.
    fn revoking(&self) -> Result<(&SignConfig, &RevocationStore), Error> {
        let sign = self.signing()?;
        let store = self.revocations.as_ref().ok_or(Error::RevocationOff)?;
        Ok((sign, store))
    }
}
