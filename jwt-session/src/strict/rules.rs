//! The rules a token is checked against.

use crate::Alg;

/// Default of [`TokenRules::algorithms`].
pub const DEFAULT_ALGORITHMS: [Alg; 2] = [Alg::EdDSA, Alg::ES256];
/// Default of [`TokenRules::leeway`], seconds.
pub const DEFAULT_LEEWAY: u64 = 30;
/// Default of [`TokenRules::max_lifetime`], seconds.
pub const DEFAULT_MAX_LIFETIME: u64 = 86_400;

/// What a token must satisfy, beyond a signature by the key its `kid` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRules {
    /// The one accepted `iss`, compared exactly. No default.
    pub issuer: String,
    /// Accepted `aud` values: the token's `aud` (string or array) must hold one. No default.
    pub audiences: Vec<String>,
    /// Accepted `alg` values. Default: [`DEFAULT_ALGORITHMS`] (`EdDSA`, `ES256`).
    pub algorithms: Vec<Alg>,
    /// Clock skew allowed on `exp`, `nbf` and `iat`, seconds. Default: [`DEFAULT_LEEWAY`].
    pub leeway: u64,
    /// Longest accepted `exp - now`, seconds (no leeway added). Default:
    /// [`DEFAULT_MAX_LIFETIME`].
    pub max_lifetime: u64,
    /// Required header `typ`. Default: `None`, not checked (JWT only).
    pub typ: Option<String>,
    /// Accepted token formats. Default: JWT only ([`TokenFormats::default`]).
    pub formats: TokenFormats,
}

/// Which token formats are accepted (`TOKEN_FORMATS`, docs/paseto.md): a cookie value starting
/// `v<digit>.public.` or `v<digit>.local.` is a PASETO, anything else a JWT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenFormats {
    /// JWTs (JWS compact serialisation).
    pub jwt: bool,
    /// PASETO v4.public.
    pub paseto: bool,
}

impl Default for TokenFormats {
    fn default() -> Self {
        TokenFormats::JWT
    }
}

impl TokenFormats {
    /// JWT only.
    pub const JWT: TokenFormats = TokenFormats {
        jwt: true,
        paseto: false,
    };
    /// PASETO only.
    pub const PASETO: TokenFormats = TokenFormats {
        jwt: false,
        paseto: true,
    };
    /// Both.
    pub const BOTH: TokenFormats = TokenFormats {
        jwt: true,
        paseto: true,
    };

    /// `jwt`, `paseto` or both, comma-separated (each once); `None` for anything else.
    pub fn parse(text: &str) -> Option<TokenFormats> {
        let mut out = TokenFormats {
            jwt: false,
            paseto: false,
        };
        for name in text.split(',').map(str::trim) {
            match name {
                "jwt" if !out.jwt => out.jwt = true,
                "paseto" if !out.paseto => out.paseto = true,
                _ => return None,
            }
        }
        Some(out)
    }

    /// The formats the keys of `algorithms` produce: JWT for any JWT algorithm, PASETO for
    /// `v4.public`.
    pub fn of(algorithms: &[Alg]) -> TokenFormats {
        TokenFormats {
            jwt: algorithms.iter().any(|a| a.is_jwt()),
            paseto: algorithms.contains(&Alg::V4Public),
        }
    }
}

impl TokenRules {
    /// The policy for `issuer` and `audiences`, every other rule at its default.
    pub fn new(issuer: impl Into<String>, audiences: Vec<String>) -> TokenRules {
        TokenRules {
            issuer: issuer.into(),
            audiences,
            algorithms: DEFAULT_ALGORITHMS.to_vec(),
            leeway: DEFAULT_LEEWAY,
            max_lifetime: DEFAULT_MAX_LIFETIME,
            typ: None,
            formats: TokenFormats::default(),
        }
    }
}
