//! What can be wrong with a key or a key set, never carrying key material.

#[allow(unused_imports)]
use super::*;

/// What is wrong with one key. Never carries key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyProblem {
    /// A JWK that is not a JSON object.
    #[error("the key is not a JSON object")]
    NotAnObject,
    /// `kid` absent.
    #[error("`kid` is missing")]
    MissingKid,
    /// `kid` of the wrong type, empty, too long or with characters outside the allowed set.
    #[error("`kid` must be 1 to 128 characters of A-Z a-z 0-9 and . _ - ~ : + / =")]
    BadKid,
    /// Two keys with the same `kid`.
    #[error("`kid` is used by more than one key")]
    DuplicateKid,
    /// `alg` absent.
    #[error("`alg` is missing")]
    MissingAlg,
    /// `alg` not one of the supported algorithms.
    #[error("`alg` is not one of the supported algorithms")]
    UnsupportedAlg,
    /// `kty` absent or not the one `alg` requires.
    #[error("`kty` does not match `alg` {alg} (expected `{expected}`)")]
    KtyMismatch {
        /// The key's algorithm.
        alg: Alg,
        /// The `kty` that algorithm requires.
        expected: &'static str,
    },
    /// `crv` absent or not the one `alg` requires.
    #[error("`crv` does not match `alg` {alg} (expected `{expected}`)")]
    CurveMismatch {
        /// The key's algorithm.
        alg: Alg,
        /// The `crv` that algorithm requires.
        expected: &'static str,
    },
    /// A required member is absent.
    #[error("member `{0}` is missing")]
    MissingMember(&'static str),
    /// A member is not a base64url (unpadded) string, or decodes to the wrong length.
    #[error("member `{0}` is not valid unpadded base64url of the right length")]
    BadMember(&'static str),
    /// `use` other than `sig`, or `key_ops` without `verify`/`sign`.
    #[error("`use` must be `sig` when present")]
    BadUse,
    /// RSA modulus under 2048 bits.
    #[error("RSA modulus is {bits} bits; at least 2048 are required")]
    RsaTooSmall {
        /// The modulus size found.
        bits: usize,
    },
    /// HMAC key shorter than its hash output.
    #[error("HMAC key is {len} bytes; {alg} needs at least {min}")]
    HmacTooShort {
        /// The key's algorithm.
        alg: Alg,
        /// Its length in bytes.
        len: usize,
        /// The minimum length in bytes.
        min: usize,
    },
    /// The private members do not form a valid key, or do not match the public ones.
    #[error("the private key is invalid or does not match the public key")]
    InconsistentPrivateKey,
    /// The public members do not form a valid key.
    #[error("the public key is invalid")]
    InvalidPublicKey,
    /// An Ed25519 public key of small order or in a non-canonical encoding: signatures that
    /// verify under it can be forged (with the identity point, any signature `R = identity,
    /// S = 0` verifies).
    #[error("the Ed25519 public key is of small order or not canonically encoded")]
    WeakPublicKey,
    /// A public key set (as served to the authorizer) carries a private member.
    #[error("a public key set carries private member `{0}`")]
    UnexpectedPrivateMember(&'static str),
    /// A private key set (as stored in the secret) lacks the private members.
    #[error("the key has no private members")]
    MissingPrivateKey,
}

/// A key that was refused, with its `kid` (when it had a readable one) and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("key {kid}: {problem}")]
pub struct KeyError {
    /// The key's `kid`, or a description of its position when it has none.
    pub kid: String,
    /// What is wrong.
    #[source]
    pub problem: KeyProblem,
}

/// Why a key set as a whole was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeySetError {
    /// The document is not JSON. Only the position is kept: the text may be key material.
    #[error("the key set is not valid JSON (line {line}, column {column})")]
    NotJson {
        /// Line of the syntax error.
        line: usize,
        /// Column of the syntax error.
        column: usize,
    },
    /// Not `{"keys": [ ... ]}`.
    #[error("the key set must be a JSON object with a `keys` array")]
    NotAKeySet,
    /// No key at all.
    #[error("the key set holds no key")]
    Empty,
    /// One key was refused.
    #[error(transparent)]
    Key(#[from] KeyError),
}

impl KeySetError {
    /// A stable code for logs and errors.
    pub fn code(&self) -> &'static str {
        match self {
            KeySetError::NotJson { .. } => "keyset_not_json",
            KeySetError::NotAKeySet => "keyset_shape",
            KeySetError::Empty => "keyset_empty",
            KeySetError::Key(_) => "key_invalid",
        }
    }
}
