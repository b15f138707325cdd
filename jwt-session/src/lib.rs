//! Shared code of the cookie-JWT authorizer pair.
//!
//! - [`jwk`]: JSON Web Keys and key sets (RFC 7517) as stored in the secret and served to the
//!   authorizer, with the contract's validation rules (kid unique, `kty` matching `alg`,
//!   RSA ≥ 2048 bits, HMAC keys at least as long as their hash, private part consistent with
//!   the public one).
//! - [`keygen`]: new keys with aws-lc-rs; `kid` = RFC 7638 thumbprint.
//! - [`mint`]: signing tokens with a private JWK.
//! - [`cookie`]: the `Set-Cookie` value for the session cookie.
//! - [`wire`]: the one wire protocol: every request secrets-fn answers (key requests, signing,
//!   renewal, rotation events), typed once, and its typed answers.
//! - `password` (feature `password`, for the EXAMPLE login and the command-line tool only; the
//!   production functions do not link it): PBKDF2 password hashes.
//! - [`strict`]: the one strict token verifier (header, key ring, signature, claims), used by
//!   the authorizer on every request and by the signer for renewal.
//! - [`revocation`]: revoked sessions and subjects (docs/revocation.md): the table's items and the
//!   in-memory set the authorizer checks.
//! - [`secret`]: zeroizing containers for key material, without a revealing `Debug`.
//! - `aws` (features `dynamodb`, `lambda`): whether a failed AWS call may succeed later, and
//!   a call bounded to one attempt within a time-out, one rule for every function.
//! - `invoke` (feature `lambda`): calling a function through the Lambda Invoke API, and
//!   reading its answer or its error, one reading for every caller.
//! - [`config`]: reading a function's environment, every problem reported together (typed
//!   codes `missing`, `invalid`, `contradictory`).
//! - [`logging`]: JSON log lines and the level filter (third-party targets capped at INFO).
//! - [`origin`]: `Sec-Fetch-Site`, `Origin` and `ALLOWED_ORIGINS`, one reading for the
//!   authorizer's CSRF check and the example login.
//! - `testing` (feature `test-util`): `VerifiedBuilder`, the one place tests build a verified
//!   token.
//!
//! Error codes ([`Error::code`]): `key_generation`, `keyset_not_json`, `keyset_shape`,
//! `keyset_empty`, `key_invalid`, `not_a_signing_key`, `signing`, `cookie`.

#[cfg(feature = "aws")]
pub mod aws;
pub mod config;
pub mod cookie;
#[cfg(feature = "lambda")]
pub mod invoke;
pub mod jwk;
pub mod keygen;
pub mod logging;
pub mod mint;
pub mod origin;
#[cfg(feature = "password")]
pub mod password;
pub mod revocation;
pub mod secret;
pub mod strict;
#[cfg(any(test, feature = "test-util"))]
pub mod testing;
pub mod wire;

pub use jwk::{Alg, Jwk, JwkSet, KeyError, KeyProblem, KeySetError, Visibility};
pub use mint::{SessionClaims, SigningKey};
pub use secret::{SecretBytes, SecretString};

/// Seconds since the Unix epoch (0 if the clock is before it).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub fn unix_now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Errors of this crate. None of them carries key material or a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The system random generator or aws-lc failed to produce a key.
    #[error("key generation failed")]
    KeyGeneration,
    /// A key set was refused.
    #[error(transparent)]
    KeySet(#[from] KeySetError),
    /// One key was refused.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The key has no (usable) private part.
    #[error("the key cannot sign: it has no valid private part")]
    NotASigningKey,
    /// jsonwebtoken failed to sign.
    #[error("signing failed")]
    Signing(#[source] jsonwebtoken::errors::Error),
    /// A cookie name or value was refused.
    #[error("invalid cookie: {0}")]
    Cookie(&'static str),
}

impl Error {
    /// A stable code for logs and errors.
    pub fn code(&self) -> &'static str {
        match self {
            Error::KeyGeneration => "key_generation",
            Error::KeySet(e) => e.code(),
            Error::Key(_) => "key_invalid",
            Error::NotASigningKey => "not_a_signing_key",
            Error::Signing(_) => "signing",
            Error::Cookie(_) => "cookie",
        }
    }
}
