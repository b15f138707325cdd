//! The strict token verifier, one for the whole project: the authorizer checks every request
//! with it and the signer checks a token it is asked to renew with it, so both read a token
//! under the same rules.
//!
//! What lives where:
//!
//! - [`policy`]: [`TokenPolicy`], the rules (issuer, audiences, algorithms, leeway, maximum
//!   lifetime, `typ`), each field with its default.
//! - [`rejected`]: [`Rejected`] and [`Rejection`], why a token is refused, with the `sub` and
//!   `jti` of a token whose signature verified.
//! - `header`: [`inspect`], everything checked before a key is chosen (shape, sizes, a header
//!   of `alg`, `kid` and `typ` only).
//! - `ring`: [`VerifyingKey`] and [`KeyRing`], keys prepared once per key set.
//! - `claims`: [`verify`], the signature with the key's pinned algorithm, then the claims,
//!   into [`Verified`].
//! - [`paseto`]: PASETO v4.public tokens (contract §8): their shape and footer, the key bound
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
pub mod policy;
pub mod rejected;
mod ring;
#[cfg(test)]
mod tests;

pub use claims::{claims_map, rfc3339, rfc3339_seconds, verify, Verified};
pub use header::{inspect, TokenHeader, HEADER_MEMBERS};
pub use policy::{TokenFormats, TokenPolicy};
pub use rejected::{Refusal, Rejected, Rejection};
pub use ring::{KeyRing, VerifyingKey};

/// Longest token accepted (the cookie value), bytes.
pub const MAX_TOKEN_BYTES: usize = 4096;
/// Longest `sub`, `jti`, `scope` or `csrf` value accepted.
pub const MAX_CLAIM_BYTES: usize = 1024;

/// Checks `token` completely against `policy` with a key from `ring`: [`inspect`], the key of
/// its `kid`, then [`verify`].
pub fn check(
    token: &str,
    policy: &TokenPolicy,
    ring: &KeyRing,
    now: u64,
) -> Result<Verified, Rejection> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(Rejected::TooLarge.into());
    }
    if paseto::looks_like_paseto(token) {
        if !policy.formats.paseto {
            return Err(Rejected::Malformed.into());
        }
        let header = paseto::inspect(token)?;
        let key = ring.get(&header.kid).ok_or(Rejected::UnknownKid)?;
        return paseto::verify_with_key(token, &header, key, policy, now);
    }
    if !policy.formats.jwt {
        return Err(Rejected::Malformed.into());
    }
    let header = inspect(token, policy)?;
    let key = ring.get(&header.kid).ok_or(Rejected::UnknownKid)?;
    verify(token, &header, key, policy, now)
}
