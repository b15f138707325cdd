//! JSON Web Keys (RFC 7517) as the secret stores them and as secrets-fn serves them.
//!
//! Parsing is strict and done member by member from a `serde_json::Value`, so every problem is
//! reported with the key's `kid` and a description of the problem, and no error can carry a
//! member's value (serde's own messages sometimes quote the offending value).
//!
//! What lives where: the model (`Jwk`, `KeyMaterial`, `JwkSet`, `Visibility`) and the base64 and
//! EC-point helpers here; `alg` (the algorithm table), `error` (key and set problems), `parse`
//! (one key, member by member), `set` (sets: parse, lookup, merge, public view), `verify` (the
//! prepared signature check), `ser` (serialisation); `tests` beside them.

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::hmac;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeyPairComponents, PublicKeyComponents};
use aws_lc_rs::signature::{
    EcdsaKeyPair, EcdsaSigningAlgorithm, EcdsaVerificationAlgorithm, Ed25519KeyPair,
    ParsedPublicKey, RsaParameters, ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING,
    ECDSA_P384_SHA384_FIXED, ECDSA_P384_SHA384_FIXED_SIGNING, ED25519, RSA_PKCS1_2048_8192_SHA256,
    RSA_PKCS1_2048_8192_SHA384, RSA_PKCS1_2048_8192_SHA512, RSA_PSS_2048_8192_SHA256,
    RSA_PSS_2048_8192_SHA384, RSA_PSS_2048_8192_SHA512,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::secret::SecretBytes;

mod alg;
mod error;
mod parse;
mod paserk;
mod ser;
mod set;
mod verify;

#[cfg(test)]
mod tests;

// The public interface of the key model:
pub use alg::{Alg, UnknownAlg};
pub use error::{KeyError, KeyProblem, KeySetError};
pub use paserk::paserk_id;
pub use verify::Verifier;

// Shared inside the crate:
pub(crate) use alg::rsa_params;
pub(crate) use parse::rsa_key_pair;
#[cfg(test)]
use parse::{is_weak_ed25519, ED25519_SMALL_ORDER, PRIVATE_MEMBERS};

/// Which members a parsed set must (or must not) carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// As stored in the secret: every key has its private members.
    Private,
    /// As served to the authorizer: no private members, except `k` of an `oct` key.
    Public,
}

/// RSA private members, decoded.
#[derive(Clone, Debug)]
pub struct RsaPrivate {
    /// Private exponent.
    pub d: SecretBytes,
    /// First prime.
    pub p: SecretBytes,
    /// Second prime.
    pub q: SecretBytes,
    /// First CRT exponent.
    pub dp: SecretBytes,
    /// Second CRT exponent.
    pub dq: SecretBytes,
    /// CRT coefficient.
    pub qi: SecretBytes,
}

/// The key material of a JWK, by key type, decoded once when the key is read: every consumer
/// (validation, the verifier, the signer, `jsonwebtoken`'s key, serialisation) uses these
/// bytes; base64url exists only at the edges (parsing, serialising, the thumbprint).
#[derive(Clone, Debug)]
pub enum KeyMaterial {
    /// `kty` `OKP`, `crv` `Ed25519`.
    Okp {
        /// Public key (32 bytes).
        x: Vec<u8>,
        /// Private seed (32 bytes).
        d: Option<SecretBytes>,
    },
    /// `kty` `EC`.
    Ec {
        /// `P-256` or `P-384`.
        crv: &'static str,
        /// Public x coordinate.
        x: Vec<u8>,
        /// Public y coordinate.
        y: Vec<u8>,
        /// Private scalar.
        d: Option<SecretBytes>,
    },
    /// `kty` `RSA`.
    Rsa {
        /// Modulus, big-endian.
        n: Vec<u8>,
        /// Public exponent, big-endian.
        e: Vec<u8>,
        /// Private members.
        private: Option<Box<RsaPrivate>>,
    },
    /// `kty` `oct`.
    Oct {
        /// The shared secret.
        k: SecretBytes,
    },
}

/// One validated key.
#[derive(Clone, Debug)]
pub struct Jwk {
    /// Key id, unique in its set.
    pub kid: String,
    /// The one algorithm this key is used with.
    pub alg: Alg,
    /// Key material.
    pub material: KeyMaterial,
}

/// A validated set of keys, in order. The first key of a secret's `AWSCURRENT` version signs.
#[derive(Clone, Debug, Default)]
pub struct JwkSet {
    /// The keys.
    pub keys: Vec<Jwk>,
}

/// The `kid` rule of this project: 1 to 128 characters of `A-Z a-z 0-9 . _ - ~ : + / =`.
/// Keys are refused without such a `kid`, and a token whose `kid` breaks it cannot name one.
pub fn is_valid_kid(kid: &str) -> bool {
    (1..=128).contains(&kid.len())
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_~:+/=".contains(&b))
}

pub(crate) fn b64(value: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(value).ok()
}

pub(crate) fn b64_secret(value: &str) -> Option<SecretBytes> {
    URL_SAFE_NO_PAD.decode(value).ok().map(SecretBytes::new)
}

/// Strips leading zero bytes (big-endian integers in JWKs should have none, but be lenient).
fn trim_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes.get(first..).unwrap_or_default()
}

/// The uncompressed SEC 1 point `04 || x || y`.
pub(crate) fn ec_point(x: &[u8], y: &[u8]) -> Vec<u8> {
    let mut point = Vec::with_capacity(1 + x.len() + y.len());
    point.push(0x04);
    point.extend_from_slice(x);
    point.extend_from_slice(y);
    point
}

/// base64url without padding, as JWK members are written.
pub(crate) fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}
