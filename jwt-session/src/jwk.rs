//! JSON Web Keys (RFC 7517) as the secret stores them and as secrets-fn serves them.
//!
//! Parsing is strict and done member by member from a `serde_json::Value`, so every problem is
//! reported with the key's `kid` and a description of the problem, and no error can carry a
//! member's value (serde's own messages sometimes quote the offending value).

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

use crate::secret::{SecretBytes, SecretString};

/// The algorithms a key may carry in `alg` (contract §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(clippy::upper_case_acronyms)]
pub enum Alg {
    /// Ed25519 (`kty` `OKP`, `crv` `Ed25519`).
    EdDSA,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// HMAC with SHA-256.
    HS256,
    /// HMAC with SHA-384.
    HS384,
    /// HMAC with SHA-512.
    HS512,
}

impl Alg {
    /// Every supported algorithm, in a stable order.
    pub const ALL: [Alg; 12] = [
        Alg::EdDSA,
        Alg::ES256,
        Alg::ES384,
        Alg::RS256,
        Alg::RS384,
        Alg::RS512,
        Alg::PS256,
        Alg::PS384,
        Alg::PS512,
        Alg::HS256,
        Alg::HS384,
        Alg::HS512,
    ];

    /// The name used in JOSE headers and JWKs.
    pub fn as_str(self) -> &'static str {
        match self {
            Alg::EdDSA => "EdDSA",
            Alg::ES256 => "ES256",
            Alg::ES384 => "ES384",
            Alg::RS256 => "RS256",
            Alg::RS384 => "RS384",
            Alg::RS512 => "RS512",
            Alg::PS256 => "PS256",
            Alg::PS384 => "PS384",
            Alg::PS512 => "PS512",
            Alg::HS256 => "HS256",
            Alg::HS384 => "HS384",
            Alg::HS512 => "HS512",
        }
    }

    /// The `kty` a key of this algorithm must have.
    pub fn kty(self) -> &'static str {
        match self {
            Alg::EdDSA => "OKP",
            Alg::ES256 | Alg::ES384 => "EC",
            Alg::RS256 | Alg::RS384 | Alg::RS512 | Alg::PS256 | Alg::PS384 | Alg::PS512 => "RSA",
            Alg::HS256 | Alg::HS384 | Alg::HS512 => "oct",
        }
    }

    /// Whether this is an HMAC algorithm (a shared secret rather than a key pair).
    pub fn is_symmetric(self) -> bool {
        matches!(self, Alg::HS256 | Alg::HS384 | Alg::HS512)
    }

    /// The matching `jsonwebtoken` algorithm.
    pub fn to_jsonwebtoken(self) -> jsonwebtoken::Algorithm {
        use jsonwebtoken::Algorithm as J;
        match self {
            Alg::EdDSA => J::EdDSA,
            Alg::ES256 => J::ES256,
            Alg::ES384 => J::ES384,
            Alg::RS256 => J::RS256,
            Alg::RS384 => J::RS384,
            Alg::RS512 => J::RS512,
            Alg::PS256 => J::PS256,
            Alg::PS384 => J::PS384,
            Alg::PS512 => J::PS512,
            Alg::HS256 => J::HS256,
            Alg::HS384 => J::HS384,
            Alg::HS512 => J::HS512,
        }
    }

    /// The curve of an ECDSA `alg`: ES384's, else ES256's.
    pub(crate) fn curve(self) -> &'static Curve {
        if self == Alg::ES384 {
            &P384
        } else {
            &P256
        }
    }

    /// Minimum HMAC key length in bytes: the hash output size (RFC 7518 §3.2). Generated keys
    /// have exactly this length.
    pub(crate) fn min_hmac_len(self) -> usize {
        match self {
            Alg::HS384 => 48,
            Alg::HS512 => 64,
            _ => 32,
        }
    }
}

/// An ECDSA curve: its JWK `crv`, coordinate size and aws-lc-rs algorithms.
pub(crate) struct Curve {
    pub(crate) crv: &'static str,
    pub(crate) size: usize,
    pub(crate) verify: &'static EcdsaVerificationAlgorithm,
    pub(crate) sign: &'static EcdsaSigningAlgorithm,
}

static P256: Curve = Curve {
    crv: "P-256",
    size: 32,
    verify: &ECDSA_P256_SHA256_FIXED,
    sign: &ECDSA_P256_SHA256_FIXED_SIGNING,
};

static P384: Curve = Curve {
    crv: "P-384",
    size: 48,
    verify: &ECDSA_P384_SHA384_FIXED,
    sign: &ECDSA_P384_SHA384_FIXED_SIGNING,
};

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Alg {
    type Err = UnknownAlg;

    /// Exact, case-sensitive names only: `none`, `NONE`, `hs256` are all unknown.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Alg::ALL
            .iter()
            .copied()
            .find(|a| a.as_str() == s)
            .ok_or(UnknownAlg)
    }
}

/// An `alg` value outside the supported set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unsupported algorithm")]
pub struct UnknownAlg;

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

/// Which members a parsed set must (or must not) carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// As stored in the secret: every key has its private members.
    Private,
    /// As served to the authorizer: no private members, except `k` of an `oct` key.
    Public,
}

/// RSA private members.
#[derive(Clone, Debug)]
pub struct RsaPrivate {
    /// Private exponent.
    pub d: SecretString,
    /// First prime.
    pub p: SecretString,
    /// Second prime.
    pub q: SecretString,
    /// First CRT exponent.
    pub dp: SecretString,
    /// Second CRT exponent.
    pub dq: SecretString,
    /// CRT coefficient.
    pub qi: SecretString,
}

/// The key material of a JWK, by key type. Members hold their base64url text.
#[derive(Clone, Debug)]
pub enum KeyMaterial {
    /// `kty` `OKP`, `crv` `Ed25519`.
    Okp {
        /// Public key.
        x: String,
        /// Private seed.
        d: Option<SecretString>,
    },
    /// `kty` `EC`.
    Ec {
        /// `P-256` or `P-384`.
        crv: &'static str,
        /// Public x coordinate.
        x: String,
        /// Public y coordinate.
        y: String,
        /// Private scalar.
        d: Option<SecretString>,
    },
    /// `kty` `RSA`.
    Rsa {
        /// Modulus.
        n: String,
        /// Public exponent.
        e: String,
        /// Private members.
        private: Option<Box<RsaPrivate>>,
    },
    /// `kty` `oct`.
    Oct {
        /// The shared secret.
        k: SecretString,
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

/// The uncompressed SEC 1 point `04 || x || y` of base64url coordinates (`None` if one is
/// not base64url).
pub(crate) fn ec_point(x: &str, y: &str) -> Option<Vec<u8>> {
    let (x, y) = (b64(x)?, b64(y)?);
    let mut point = Vec::with_capacity(1 + x.len() + y.len());
    point.push(0x04);
    point.extend(x);
    point.extend(y);
    Some(point)
}

/// The aws-lc-rs RSA verification parameters of an RSA `alg`.
fn rsa_params(alg: Alg) -> Option<&'static RsaParameters> {
    Some(match alg {
        Alg::RS256 => &RSA_PKCS1_2048_8192_SHA256,
        Alg::RS384 => &RSA_PKCS1_2048_8192_SHA384,
        Alg::RS512 => &RSA_PKCS1_2048_8192_SHA512,
        Alg::PS256 => &RSA_PSS_2048_8192_SHA256,
        Alg::PS384 => &RSA_PSS_2048_8192_SHA384,
        Alg::PS512 => &RSA_PSS_2048_8192_SHA512,
        _ => return None,
    })
}

/// A key's signature check, prepared once for many: the aws-lc-rs primitive of its `alg` (the
/// ones `jsonwebtoken`'s `aws_lc_rs` backend calls) with the key already parsed, where
/// `jsonwebtoken::crypto::verify` parses it on every call.
pub struct Verifier {
    check: Check,
}

enum Check {
    Public(ParsedPublicKey),
    Hmac(Box<hmac::Key>),
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.check {
            Check::Public(_) => "Verifier(public key)",
            Check::Hmac(_) => "Verifier(HMAC, redacted)",
        })
    }
}

impl Verifier {
    /// Whether `signature` (raw bytes, JOSE form) signs `message`. HMAC tags are compared in
    /// constant time.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.check {
            Check::Public(key) => key.verify_sig(message, signature).is_ok(),
            Check::Hmac(key) => hmac::verify(key, message, signature).is_ok(),
        }
    }
}

fn bit_len(bytes: &[u8]) -> usize {
    let trimmed = trim_leading_zeros(bytes);
    match trimmed.first() {
        Some(top) => trimmed.len() * 8 - top.leading_zeros() as usize,
        None => 0,
    }
}

const PRIVATE_MEMBERS: [&str; 6] = ["d", "p", "q", "dp", "dq", "qi"];

struct Reader<'a> {
    map: &'a Map<String, Value>,
}

impl<'a> Reader<'a> {
    fn opt_str(&self, name: &'static str) -> Result<Option<&'a str>, KeyProblem> {
        match self.map.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(KeyProblem::BadMember(name)),
        }
    }

    fn req_str(&self, name: &'static str) -> Result<&'a str, KeyProblem> {
        self.opt_str(name)?.ok_or(KeyProblem::MissingMember(name))
    }

    /// A base64url member that must decode to exactly `len` bytes (any length when `None`).
    fn b64_member(&self, name: &'static str, len: Option<usize>) -> Result<String, KeyProblem> {
        let text = self.req_str(name)?;
        let bytes = b64(text).ok_or(KeyProblem::BadMember(name))?;
        if bytes.is_empty() || len.is_some_and(|l| l != bytes.len()) {
            return Err(KeyProblem::BadMember(name));
        }
        Ok(text.to_owned())
    }

    fn secret_member(
        &self,
        name: &'static str,
        len: Option<usize>,
    ) -> Result<Option<SecretString>, KeyProblem> {
        let Some(text) = self.opt_str(name)? else {
            return Ok(None);
        };
        let bytes = b64_secret(text).ok_or(KeyProblem::BadMember(name))?;
        if bytes.expose().is_empty() || len.is_some_and(|l| l != bytes.expose().len()) {
            return Err(KeyProblem::BadMember(name));
        }
        Ok(Some(SecretString::new(text.to_owned())))
    }
}

impl Jwk {
    /// Parses and validates one key. `visibility` says whether private members are required
    /// (the secret) or forbidden (what the authorizer receives; `oct` keys excepted).
    pub fn from_value(value: &Value, visibility: Visibility) -> Result<Jwk, KeyProblem> {
        let map = value.as_object().ok_or(KeyProblem::NotAnObject)?;
        let r = Reader { map };
        let kid = match map.get("kid") {
            None => return Err(KeyProblem::MissingKid),
            Some(Value::String(k)) if is_valid_kid(k) => k.clone(),
            Some(_) => return Err(KeyProblem::BadKid),
        };
        let alg: Alg = match map.get("alg") {
            None => return Err(KeyProblem::MissingAlg),
            Some(Value::String(a)) => a.parse().map_err(|_| KeyProblem::UnsupportedAlg)?,
            Some(_) => return Err(KeyProblem::UnsupportedAlg),
        };
        if r.opt_str("kty").ok().flatten() != Some(alg.kty()) {
            return Err(KeyProblem::KtyMismatch {
                alg,
                expected: alg.kty(),
            });
        }
        match map.get("use") {
            None => {}
            Some(Value::String(u)) if u == "sig" => {}
            Some(_) => return Err(KeyProblem::BadUse),
        }
        let material = match alg {
            Alg::EdDSA => parse_okp(&r, alg)?,
            Alg::ES256 | Alg::ES384 => parse_ec(&r, alg)?,
            Alg::HS256 | Alg::HS384 | Alg::HS512 => parse_oct(&r, alg)?,
            _ => parse_rsa(&r)?,
        };
        let jwk = Jwk { kid, alg, material };
        match visibility {
            Visibility::Private if !jwk.has_private() => Err(KeyProblem::MissingPrivateKey),
            Visibility::Public if !alg.is_symmetric() => {
                match PRIVATE_MEMBERS.iter().find(|m| map.contains_key(**m)) {
                    Some(member) => Err(KeyProblem::UnexpectedPrivateMember(member)),
                    None => Ok(jwk),
                }
            }
            _ => Ok(jwk),
        }
    }

    /// Whether the private part (or the shared secret) is present.
    pub fn has_private(&self) -> bool {
        match &self.material {
            KeyMaterial::Okp { d, .. } | KeyMaterial::Ec { d, .. } => d.is_some(),
            KeyMaterial::Rsa { private, .. } => private.is_some(),
            KeyMaterial::Oct { .. } => true,
        }
    }

    /// The same key without its private members. `None` for a symmetric key, which has no
    /// public part.
    pub fn to_public(&self) -> Option<Jwk> {
        let material = match &self.material {
            KeyMaterial::Okp { x, .. } => KeyMaterial::Okp {
                x: x.clone(),
                d: None,
            },
            KeyMaterial::Ec { crv, x, y, .. } => KeyMaterial::Ec {
                crv,
                x: x.clone(),
                y: y.clone(),
                d: None,
            },
            KeyMaterial::Rsa { n, e, .. } => KeyMaterial::Rsa {
                n: n.clone(),
                e: e.clone(),
                private: None,
            },
            KeyMaterial::Oct { .. } => return None,
        };
        Some(Jwk {
            kid: self.kid.clone(),
            alg: self.alg,
            material,
        })
    }

    /// RFC 7638 thumbprint (SHA-256, base64url) of the public part; for `oct` keys, of `k`.
    pub fn thumbprint(&self) -> String {
        let canonical = match &self.material {
            KeyMaterial::Okp { x, .. } => {
                format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#)
            }
            KeyMaterial::Ec { crv, x, y, .. } => {
                format!(r#"{{"crv":"{crv}","kty":"EC","x":"{x}","y":"{y}"}}"#)
            }
            KeyMaterial::Rsa { n, e, .. } => format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#),
            KeyMaterial::Oct { k } => format!(r#"{{"k":"{}","kty":"oct"}}"#, k.expose()),
        };
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
        URL_SAFE_NO_PAD.encode(digest.as_ref())
    }

    /// The `jsonwebtoken` verification key.
    pub fn decoding_key(&self) -> Result<jsonwebtoken::DecodingKey, KeyProblem> {
        use jsonwebtoken::DecodingKey;
        let key = match &self.material {
            KeyMaterial::Okp { x, .. } => DecodingKey::from_ed_components(x),
            KeyMaterial::Ec { x, y, .. } => DecodingKey::from_ec_components(x, y),
            KeyMaterial::Rsa { n, e, .. } => DecodingKey::from_rsa_components(n, e),
            KeyMaterial::Oct { k } => {
                let bytes = b64_secret(k.expose()).ok_or(KeyProblem::BadMember("k"))?;
                DecodingKey::from_secret(bytes.expose())
            }
        };
        key.map_err(|_| KeyProblem::InvalidPublicKey)
    }

    /// The key's signature check for its `alg`, prepared once ([`Verifier`]).
    pub fn verifier(&self) -> Result<Verifier, KeyProblem> {
        let bad = || KeyProblem::InvalidPublicKey;
        let check = match (&self.material, self.alg) {
            (KeyMaterial::Okp { x, .. }, Alg::EdDSA) => Check::Public(
                ParsedPublicKey::new(&ED25519, b64(x).ok_or_else(bad)?).map_err(|_| bad())?,
            ),
            (KeyMaterial::Ec { x, y, .. }, Alg::ES256 | Alg::ES384) => {
                let point = ec_point(x, y).ok_or_else(bad)?;
                Check::Public(
                    ParsedPublicKey::new(self.alg.curve().verify, point).map_err(|_| bad())?,
                )
            }
            (KeyMaterial::Rsa { n, e, .. }, alg) => {
                let params = rsa_params(alg).ok_or_else(bad)?;
                let (n, e) = (b64(n).ok_or_else(bad)?, b64(e).ok_or_else(bad)?);
                let components = PublicKeyComponents {
                    n: trim_leading_zeros(&n),
                    e: trim_leading_zeros(&e),
                };
                Check::Public(components.to_parsed_public_key(params).map_err(|_| bad())?)
            }
            (KeyMaterial::Oct { k }, alg) => {
                let mac = match alg {
                    Alg::HS256 => hmac::HMAC_SHA256,
                    Alg::HS384 => hmac::HMAC_SHA384,
                    Alg::HS512 => hmac::HMAC_SHA512,
                    _ => return Err(bad()),
                };
                let secret = b64_secret(k.expose()).ok_or(KeyProblem::BadMember("k"))?;
                Check::Hmac(Box::new(hmac::Key::new(mac, secret.expose())))
            }
            _ => return Err(bad()),
        };
        Ok(Verifier { check })
    }
}

fn parse_okp(r: &Reader<'_>, alg: Alg) -> Result<KeyMaterial, KeyProblem> {
    if r.opt_str("crv").ok().flatten() != Some("Ed25519") {
        return Err(KeyProblem::CurveMismatch {
            alg,
            expected: "Ed25519",
        });
    }
    let x = r.b64_member("x", Some(32))?;
    let x_bytes = b64(&x).unwrap_or_default();
    ParsedPublicKey::new(&ED25519, &x_bytes).map_err(|_| KeyProblem::InvalidPublicKey)?;
    let d = r.secret_member("d", Some(32))?;
    if let Some(d) = &d {
        let seed = b64_secret(d.expose()).unwrap_or_default();
        Ed25519KeyPair::from_seed_and_public_key(seed.expose(), &x_bytes)
            .map_err(|_| KeyProblem::InconsistentPrivateKey)?;
    }
    Ok(KeyMaterial::Okp { x, d })
}

fn parse_ec(r: &Reader<'_>, alg: Alg) -> Result<KeyMaterial, KeyProblem> {
    let curve = alg.curve();
    let (crv, size) = (curve.crv, curve.size);
    if r.opt_str("crv").ok().flatten() != Some(crv) {
        return Err(KeyProblem::CurveMismatch { alg, expected: crv });
    }
    let x = r.b64_member("x", Some(size))?;
    let y = r.b64_member("y", Some(size))?;
    let point = ec_point(&x, &y).unwrap_or_default();
    ParsedPublicKey::new(curve.verify, &point).map_err(|_| KeyProblem::InvalidPublicKey)?;
    let d = r.secret_member("d", Some(size))?;
    if let Some(d) = &d {
        let scalar = b64_secret(d.expose()).unwrap_or_default();
        EcdsaKeyPair::from_private_key_and_public_key(curve.sign, scalar.expose(), &point)
            .map_err(|_| KeyProblem::InconsistentPrivateKey)?;
    }
    Ok(KeyMaterial::Ec { crv, x, y, d })
}

fn parse_rsa(r: &Reader<'_>) -> Result<KeyMaterial, KeyProblem> {
    let n = r.b64_member("n", None)?;
    let e = r.b64_member("e", None)?;
    let n_bytes = b64(&n).unwrap_or_default();
    let e_bytes = b64(&e).unwrap_or_default();
    let bits = bit_len(&n_bytes);
    if bits < 2048 {
        return Err(KeyProblem::RsaTooSmall { bits });
    }
    let e_trimmed = trim_leading_zeros(&e_bytes);
    let e_odd = e_trimmed.last().is_some_and(|b| b & 1 == 1);
    if bits > 8192 || !e_odd || bit_len(e_trimmed) < 2 || bit_len(e_trimmed) > 33 {
        return Err(KeyProblem::InvalidPublicKey);
    }
    let present: Vec<&str> = PRIVATE_MEMBERS
        .iter()
        .copied()
        .filter(|m| r.map.contains_key(*m))
        .collect();
    let private = if present.is_empty() {
        None
    } else {
        let get = |name: &'static str| -> Result<SecretString, KeyProblem> {
            r.secret_member(name, None)?
                .ok_or(KeyProblem::MissingMember(name))
        };
        let private = RsaPrivate {
            d: get("d")?,
            p: get("p")?,
            q: get("q")?,
            dp: get("dp")?,
            dq: get("dq")?,
            qi: get("qi")?,
        };
        rsa_key_pair(&n_bytes, &e_bytes, &private)?;
        Some(Box::new(private))
    };
    Ok(KeyMaterial::Rsa { n, e, private })
}

/// Builds (and so validates) the aws-lc RSA key pair from JWK members.
pub(crate) fn rsa_key_pair(
    n: &[u8],
    e: &[u8],
    private: &RsaPrivate,
) -> Result<RsaKeyPair, KeyProblem> {
    let dec = |s: &SecretString| b64_secret(s.expose()).ok_or(KeyProblem::InconsistentPrivateKey);
    let components = KeyPairComponents {
        public_key: PublicKeyComponents {
            n: trim_leading_zeros(n),
            e: trim_leading_zeros(e),
        },
        d: dec(&private.d)?.expose().to_vec(),
        p: dec(&private.p)?.expose().to_vec(),
        q: dec(&private.q)?.expose().to_vec(),
        dP: dec(&private.dp)?.expose().to_vec(),
        dQ: dec(&private.dq)?.expose().to_vec(),
        qInv: dec(&private.qi)?.expose().to_vec(),
    };
    let pair = RsaKeyPair::from_components(&components);
    // The component vectors are private key material: wipe them before they are freed.
    let KeyPairComponents {
        d,
        p,
        q,
        dP,
        dQ,
        qInv,
        ..
    } = components;
    for v in [d, p, q, dP, dQ, qInv] {
        drop(zeroize::Zeroizing::new(v));
    }
    pair.map_err(|_| KeyProblem::InconsistentPrivateKey)
}

fn parse_oct(r: &Reader<'_>, alg: Alg) -> Result<KeyMaterial, KeyProblem> {
    let k = r
        .secret_member("k", None)?
        .ok_or(KeyProblem::MissingMember("k"))?;
    let len = b64_secret(k.expose())
        .map(|b| b.expose().len())
        .unwrap_or(0);
    let min = alg.min_hmac_len();
    if len < min {
        return Err(KeyProblem::HmacTooShort { alg, len, min });
    }
    Ok(KeyMaterial::Oct { k })
}

impl JwkSet {
    /// Parses `{"keys": [...]}` text. Every key is validated; `kid`s must be unique.
    pub fn parse(text: &str, visibility: Visibility) -> Result<JwkSet, KeySetError> {
        let value: Value = serde_json::from_str(text).map_err(|e| KeySetError::NotJson {
            line: e.line(),
            column: e.column(),
        })?;
        Self::from_value(&value, visibility)
    }

    /// Parses an already decoded `{"keys": [...]}` document.
    pub fn from_value(value: &Value, visibility: Visibility) -> Result<JwkSet, KeySetError> {
        let keys = value
            .get("keys")
            .and_then(Value::as_array)
            .ok_or(KeySetError::NotAKeySet)?;
        let mut set = JwkSet::default();
        for (index, key) in keys.iter().enumerate() {
            let jwk = Jwk::from_value(key, visibility).map_err(|problem| KeyError {
                kid: describe_kid(key, index),
                problem,
            })?;
            set.push(jwk)?;
        }
        if set.keys.is_empty() {
            return Err(KeySetError::Empty);
        }
        Ok(set)
    }

    /// Adds a key, refusing a duplicate `kid`.
    pub fn push(&mut self, jwk: Jwk) -> Result<(), KeyError> {
        if self.get(&jwk.kid).is_some() {
            return Err(KeyError {
                kid: jwk.kid,
                problem: KeyProblem::DuplicateKid,
            });
        }
        self.keys.push(jwk);
        Ok(())
    }

    /// The key with this `kid`.
    pub fn get(&self, kid: &str) -> Option<&Jwk> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// Joins the keys of several versions (`AWSCURRENT` first). A key carried over from one
    /// version to the next (same `kid`, same `alg`, same public key) is kept once; the same
    /// `kid` naming a different key is refused.
    pub fn merge<'a>(sets: impl IntoIterator<Item = &'a JwkSet>) -> Result<JwkSet, KeyError> {
        let mut out = JwkSet::default();
        for set in sets {
            for key in &set.keys {
                match out.get(&key.kid) {
                    None => out.keys.push(key.clone()),
                    Some(seen) if seen.alg == key.alg && seen.thumbprint() == key.thumbprint() => {}
                    Some(_) => {
                        return Err(KeyError {
                            kid: key.kid.clone(),
                            problem: KeyProblem::DuplicateKid,
                        })
                    }
                }
            }
        }
        Ok(out)
    }

    /// The public set to hand to verifiers: private members removed; `oct` keys kept only when
    /// `include_symmetric` (they are secrets, and leave secrets-fn only when opted in).
    pub fn to_public(&self, include_symmetric: bool) -> JwkSet {
        let keys = self
            .keys
            .iter()
            .filter_map(|k| {
                if k.alg.is_symmetric() {
                    include_symmetric.then(|| k.clone())
                } else {
                    k.to_public()
                }
            })
            .collect();
        JwkSet { keys }
    }
}

fn describe_kid(key: &Value, index: usize) -> String {
    match key.get("kid").and_then(Value::as_str) {
        Some(kid) if is_valid_kid(kid) => kid.to_owned(),
        _ => format!("#{index} (no valid kid)"),
    }
}

impl Serialize for Jwk {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("kty", self.alg.kty())?;
        m.serialize_entry("kid", &self.kid)?;
        m.serialize_entry("alg", self.alg.as_str())?;
        m.serialize_entry("use", "sig")?;
        match &self.material {
            KeyMaterial::Okp { x, d } => {
                m.serialize_entry("crv", "Ed25519")?;
                m.serialize_entry("x", x)?;
                if let Some(d) = d {
                    m.serialize_entry("d", d)?;
                }
            }
            KeyMaterial::Ec { crv, x, y, d } => {
                m.serialize_entry("crv", crv)?;
                m.serialize_entry("x", x)?;
                m.serialize_entry("y", y)?;
                if let Some(d) = d {
                    m.serialize_entry("d", d)?;
                }
            }
            KeyMaterial::Rsa { n, e, private } => {
                m.serialize_entry("n", n)?;
                m.serialize_entry("e", e)?;
                if let Some(p) = private {
                    m.serialize_entry("d", &p.d)?;
                    m.serialize_entry("p", &p.p)?;
                    m.serialize_entry("q", &p.q)?;
                    m.serialize_entry("dp", &p.dp)?;
                    m.serialize_entry("dq", &p.dq)?;
                    m.serialize_entry("qi", &p.qi)?;
                }
            }
            KeyMaterial::Oct { k } => m.serialize_entry("k", k)?,
        }
        m.end()
    }
}

impl Serialize for JwkSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(Some(1))?;
        m.serialize_entry("keys", &self.keys)?;
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keygen::generate;
    use serde_json::json;

    fn private_value(alg: Alg) -> Value {
        serde_json::to_value(generate(alg).unwrap()).unwrap()
    }

    #[test]
    fn every_algorithm_gets_a_verifier_whose_debug_shows_no_key() {
        for alg in [
            Alg::EdDSA,
            Alg::ES256,
            Alg::ES384,
            Alg::RS256,
            Alg::PS512,
            Alg::HS256,
            Alg::HS512,
        ] {
            let jwk = generate(alg).unwrap();
            let v = jwk.verifier().unwrap();
            let shown = format!("{v:?}");
            assert!(shown.starts_with("Verifier("), "{alg}: {shown}");
            if let KeyMaterial::Oct { k } = &jwk.material {
                assert!(!shown.contains(k.expose()), "{alg}");
            }
            assert!(
                !v.verify(b"message", &[0u8; 64]),
                "{alg}: a zero signature never verifies"
            );
        }
    }

    #[test]
    fn generated_keys_of_every_algorithm_parse_back_as_private_keys() {
        for alg in Alg::ALL {
            let v = private_value(alg);
            let jwk = Jwk::from_value(&v, Visibility::Private).unwrap();
            assert_eq!(jwk.alg, alg);
            assert!(jwk.has_private());
        }
    }

    #[test]
    fn public_set_has_no_private_members_and_drops_symmetric_keys_unless_asked() {
        let set = JwkSet {
            keys: vec![
                generate(Alg::EdDSA).unwrap(),
                generate(Alg::ES256).unwrap(),
                generate(Alg::RS256).unwrap(),
                generate(Alg::HS256).unwrap(),
            ],
        };
        let public = serde_json::to_value(set.to_public(false)).unwrap();
        let keys = public["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 3);
        for k in keys {
            for m in PRIVATE_MEMBERS.iter().chain(["k"].iter()) {
                assert!(k.get(*m).is_none(), "member {m} leaked in {k}");
            }
        }
        let parsed = JwkSet::from_value(&public, Visibility::Public).unwrap();
        assert_eq!(parsed.keys.len(), 3);
        let with_oct = set.to_public(true);
        assert_eq!(with_oct.keys.len(), 4);
    }

    #[test]
    fn public_set_with_a_private_member_is_refused() {
        let v = json!({"keys": [private_value(Alg::EdDSA)]});
        let err = JwkSet::from_value(&v, Visibility::Public).unwrap_err();
        assert!(matches!(
            err,
            KeySetError::Key(KeyError {
                problem: KeyProblem::UnexpectedPrivateMember("d"),
                ..
            })
        ));
    }

    #[test]
    fn kty_that_does_not_match_alg_is_refused_naming_the_kid() {
        let mut v = private_value(Alg::ES256);
        v["kty"] = json!("RSA");
        let kid = v["kid"].as_str().unwrap().to_owned();
        let err = JwkSet::from_value(&json!({"keys": [v]}), Visibility::Private).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(&kid), "{text}");
        assert!(text.contains("kty"), "{text}");
    }

    #[test]
    fn short_hmac_key_is_refused_and_the_error_hides_the_key() {
        let k = URL_SAFE_NO_PAD.encode([7u8; 31]);
        let v = json!({"keys": [{"kty": "oct", "kid": "h1", "alg": "HS256", "k": k}]});
        let err = JwkSet::from_value(&v, Visibility::Private).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("h1") && text.contains("31 bytes"), "{text}");
        assert!(!text.contains(&k));
    }

    #[test]
    fn hmac_384_and_512_need_longer_keys() {
        let k = URL_SAFE_NO_PAD.encode([7u8; 40]);
        let v = json!({"kty": "oct", "kid": "h", "alg": "HS384", "k": k});
        assert!(matches!(
            Jwk::from_value(&v, Visibility::Private),
            Err(KeyProblem::HmacTooShort { min: 48, .. })
        ));
    }

    #[test]
    fn rsa_key_under_2048_bits_is_refused() {
        let n = URL_SAFE_NO_PAD.encode([0xffu8; 128]);
        let v = json!({"kty": "RSA", "kid": "r", "alg": "RS256", "n": n, "e": "AQAB"});
        assert_eq!(
            Jwk::from_value(&v, Visibility::Public).unwrap_err(),
            KeyProblem::RsaTooSmall { bits: 1024 }
        );
    }

    #[test]
    fn duplicate_kid_in_one_set_is_refused() {
        let a = private_value(Alg::EdDSA);
        let mut b = private_value(Alg::EdDSA);
        b["kid"] = a["kid"].clone();
        let err = JwkSet::from_value(&json!({"keys": [a, b]}), Visibility::Private).unwrap_err();
        assert!(matches!(
            err,
            KeySetError::Key(KeyError {
                problem: KeyProblem::DuplicateKid,
                ..
            })
        ));
    }

    #[test]
    fn a_key_carried_across_versions_is_kept_once_but_a_reused_kid_is_refused() {
        let a = JwkSet {
            keys: vec![generate(Alg::EdDSA).unwrap()],
        };
        assert_eq!(JwkSet::merge([&a, &a]).unwrap().keys.len(), 1);
        let mut other = generate(Alg::EdDSA).unwrap();
        other.kid = a.keys[0].kid.clone();
        let b = JwkSet { keys: vec![other] };
        let err = JwkSet::merge([&a, &b]).unwrap_err();
        assert_eq!(err.problem, KeyProblem::DuplicateKid);
    }

    #[test]
    fn private_key_that_does_not_match_its_public_key_is_refused() {
        for alg in [Alg::EdDSA, Alg::ES256, Alg::RS256] {
            let mut a = private_value(alg);
            let b = private_value(alg);
            a["d"] = b["d"].clone();
            assert_eq!(
                Jwk::from_value(&a, Visibility::Private).unwrap_err(),
                KeyProblem::InconsistentPrivateKey,
                "{alg}"
            );
        }
    }

    #[test]
    fn secret_without_private_members_is_refused() {
        let mut v = private_value(Alg::EdDSA);
        v.as_object_mut().unwrap().remove("d");
        assert_eq!(
            Jwk::from_value(&v, Visibility::Private).unwrap_err(),
            KeyProblem::MissingPrivateKey
        );
    }

    #[test]
    fn malformed_members_are_refused() {
        let mut v = private_value(Alg::EdDSA);
        v["x"] = json!("not base64!");
        assert_eq!(
            Jwk::from_value(&v, Visibility::Private).unwrap_err(),
            KeyProblem::BadMember("x")
        );
        let mut v = private_value(Alg::ES256);
        v["crv"] = json!("P-384");
        assert!(matches!(
            Jwk::from_value(&v, Visibility::Private),
            Err(KeyProblem::CurveMismatch { .. })
        ));
        let mut v = private_value(Alg::EdDSA);
        v["kid"] = json!("bad kid with spaces");
        assert_eq!(
            Jwk::from_value(&v, Visibility::Private).unwrap_err(),
            KeyProblem::BadKid
        );
        let mut v = private_value(Alg::EdDSA);
        v["alg"] = json!("none");
        assert_eq!(
            Jwk::from_value(&v, Visibility::Private).unwrap_err(),
            KeyProblem::UnsupportedAlg
        );
    }

    #[test]
    fn errors_for_non_json_text_do_not_echo_it() {
        let err = JwkSet::parse("{\"keys\": [SECRETSTUFF", Visibility::Private).unwrap_err();
        assert!(!err.to_string().contains("SECRETSTUFF"));
        assert_eq!(err.code(), "keyset_not_json");
    }

    #[test]
    fn thumbprint_matches_rfc7638_example() {
        // RFC 7638 §3.1 example key.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let v = json!({"kty": "RSA", "kid": "x", "alg": "RS256", "n": n, "e": "AQAB"});
        let jwk = Jwk::from_value(&v, Visibility::Public).unwrap();
        assert_eq!(
            jwk.thumbprint(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn serialised_set_round_trips() {
        let set = JwkSet {
            keys: vec![generate(Alg::ES384).unwrap(), generate(Alg::PS256).unwrap()],
        };
        let text = serde_json::to_string(&set).unwrap();
        let back = JwkSet::parse(&text, Visibility::Private).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
    }
}
