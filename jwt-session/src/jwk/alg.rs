//! The algorithm table: every `alg` a key may carry, its key type, curve and sizes, and the
//! aws-lc-rs primitives that sign and verify with it.

#[allow(unused_imports)]
use super::*;

/// The algorithms a key may carry in `alg` (docs/keys.md).
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
    /// PASETO v4.public: an Ed25519 key (`kty` `OKP`, `crv` `Ed25519`) whose `kid` is its
    /// PASERK id. It signs and verifies PASETO only, never a JWT (docs/paseto.md).
    V4Public,
}

impl Alg {
    /// Every JWT algorithm, in a stable order ([`Alg::V4Public`] is not one).
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
            Alg::V4Public => "v4.public",
        }
    }

    /// Whether this is a JWT algorithm (everything but [`Alg::V4Public`]).
    pub fn is_jwt(self) -> bool {
        self != Alg::V4Public
    }

    /// The `kty` a key of this algorithm must have.
    pub fn kty(self) -> &'static str {
        match self {
            Alg::EdDSA | Alg::V4Public => "OKP",
            Alg::ES256 | Alg::ES384 => "EC",
            Alg::RS256 | Alg::RS384 | Alg::RS512 | Alg::PS256 | Alg::PS384 | Alg::PS512 => "RSA",
            Alg::HS256 | Alg::HS384 | Alg::HS512 => "oct",
        }
    }

    /// Whether this is an HMAC algorithm (a shared secret rather than a key pair).
    pub fn is_symmetric(self) -> bool {
        matches!(self, Alg::HS256 | Alg::HS384 | Alg::HS512)
    }

    /// The matching `jsonwebtoken` algorithm (`None` for [`Alg::V4Public`], which is not a
    /// JWT algorithm).
    pub fn to_jsonwebtoken(self) -> Option<jsonwebtoken::Algorithm> {
        use jsonwebtoken::Algorithm as J;
        Some(match self {
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
            Alg::V4Public => return None,
        })
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
            .chain(&[Alg::V4Public])
            .copied()
            .find(|a| a.as_str() == s)
            .ok_or(UnknownAlg)
    }
}

/// An `alg` value outside the supported set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unsupported algorithm")]
pub struct UnknownAlg;

/// The aws-lc-rs RSA verification parameters of an RSA `alg`.
pub(crate) fn rsa_params(alg: Alg) -> Option<&'static RsaParameters> {
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
