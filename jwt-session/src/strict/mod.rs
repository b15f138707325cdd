//! The strict token verifier, one for the whole project: the authorizer checks every request
//! with it and the signer checks a token it is asked to renew with it, so both read a token
//! under the same rules.
//!
//! What lives where:
//!
//! - `rules`: [`TokenRules`], the rules (issuer, audiences, algorithms, leeway, maximum
//!   lifetime, `typ`), each field with its default.
//! - `rejected`: [`Rejected`] and [`Rejection`], why a token is refused, with the `sub` and
//!   `jti` of a token whose signature verified.
//! - `header`: [`inspect`], everything checked before a key is chosen (shape, sizes, a header
//!   of `alg`, `kid` and `typ` only).
//! - `ring`: [`VerifyingKey`] and [`KeyRing`], keys prepared once per key set.
//! - `claims`: [`verify`], the signature with the key's pinned algorithm, then the claims,
//!   into [`Verified`].
//! - [`paseto`]: PASETO v4.public tokens (docs/paseto.md): their shape and footer, the key bound
//!   to its PASERK id, the signature by `pasetors`, then the same claim checks.
//! - [`json`]: the strict JSON reader (no duplicate member at any depth, bounded nesting).
//!
//! The signature is checked with the aws-lc-rs primitive `jsonwebtoken` itself calls
//! ([`crate::jwk::Verifier`], prepared once per key); `jsonwebtoken::decode` stays the referee:
//! the `differential` fuzz target checks that every token accepted here is accepted by it
//! with the same claims.

mod claims;
mod header;
pub mod json;
pub mod paseto;
mod rejected;
mod ring;
mod rules;
#[cfg(test)]
mod tests;

pub use claims::{rfc3339, rfc3339_seconds, verify, Verified};
pub use header::{inspect, TokenHeader, HEADER_MEMBERS};
pub use rejected::{Refusal, Rejected, Rejection};
pub use ring::{KeyRing, VerifyingKey};
pub use rules::{
    TokenFormats, TokenRules, DEFAULT_ALGORITHMS, DEFAULT_LEEWAY, DEFAULT_MAX_LIFETIME,
};

/// Longest token accepted (the cookie value), bytes.
pub const MAX_TOKEN_BYTES: usize = 4096;
/// Longest `sub`, `jti`, `scope` or `csrf` value accepted.
pub const MAX_CLAIM_BYTES: usize = 1024;

/// A token whose shape and header passed, before a key is chosen: the one seam between the
/// token formats and their callers (the authorizer, the signer's renewal, the rotation's test
/// step). A caller inspects ([`inspect_token`]), finds the key of [`Inspected::kid`] however
/// it keeps keys (a ring, an async cache), then [`Inspected::verify`]s: only the lookup may
/// wait, the rest is pure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inspected<'t> {
    /// A JWS compact JWT.
    Jws {
        /// The token.
        token: &'t str,
        /// Its checked header.
        header: TokenHeader,
    },
    /// A PASETO v4.public token.
    PasetoV4 {
        /// The token.
        token: &'t str,
        /// Its checked footer.
        header: paseto::PasetoHeader,
    },
}

impl Inspected<'_> {
    /// The key id the token names.
    pub fn kid(&self) -> &str {
        match self {
            Inspected::Jws { header, .. } => &header.kid,
            Inspected::PasetoV4 { header, .. } => &header.kid,
        }
    }

    /// The signature with `key` (its pinned algorithm), then the claims.
    pub fn verify(
        &self,
        key: &VerifyingKey,
        policy: &TokenRules,
        now: u64,
    ) -> Result<Verified, Rejection> {
        match self {
            Inspected::Jws { token, header } => verify(token, header, key, policy, now),
            Inspected::PasetoV4 { token, header } => {
                paseto::verify_with_key(token, header, key, policy, now)
            }
        }
    }
}

/// Everything checked before a key is chosen, whatever the format: the size, the format
/// (a PASETO, of any version or purpose, is never read as a JWT, nor the other way round)
/// and whether `policy` accepts it, then that format's header checks.
pub fn inspect_token<'t>(token: &'t str, policy: &TokenRules) -> Result<Inspected<'t>, Rejected> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(Rejected::TooLarge);
    }
    if paseto::looks_like_paseto(token) {
        if !policy.formats.paseto {
            return Err(Rejected::Malformed);
        }
        let header = paseto::inspect(token)?;
        return Ok(Inspected::PasetoV4 { token, header });
    }
    if !policy.formats.jwt {
        return Err(Rejected::Malformed);
    }
    let header = inspect(token, policy)?;
    Ok(Inspected::Jws { token, header })
}

/// Checks `token` completely against `policy` with a key from `ring`: [`inspect_token`], the
/// key of its `kid`, then [`Inspected::verify`].
pub fn check(
    token: &str,
    policy: &TokenRules,
    ring: &KeyRing,
    now: u64,
) -> Result<Verified, Rejection> {
    let inspected = inspect_token(token, policy)?;
    let key = ring.get(inspected.kid()).ok_or(Rejected::UnknownKid)?;
    inspected.verify(key, policy, now)
}

/// Every claim of a token, for a caller that needs more than [`Verified`] (the signer carries
/// a session's extra claims over on renewal). Call it only on a token [`verify`] accepted: it
/// checks no signature, and the strict reader has already refused duplicates.
pub fn claims_map(token: &str) -> Result<serde_json::Map<String, serde_json::Value>, Rejected> {
    if token.starts_with(paseto::V4_PUBLIC) {
        let bytes = paseto::payload_of(token).ok_or(Rejected::Malformed)?;
        return serde_json::from_slice(&bytes).map_err(|_| Rejected::Malformed);
    }
    let payload = token.split('.').nth(1).ok_or(Rejected::Malformed)?;
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| Rejected::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| Rejected::Malformed)
}
