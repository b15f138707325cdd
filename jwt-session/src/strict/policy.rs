//! The rules a token is checked against.

use crate::Alg;

/// Default of [`TokenPolicy::algorithms`].
pub const DEFAULT_ALGORITHMS: [Alg; 2] = [Alg::EdDSA, Alg::ES256];
/// Default of [`TokenPolicy::leeway`], seconds.
pub const DEFAULT_LEEWAY: u64 = 30;
/// Default of [`TokenPolicy::max_lifetime`], seconds.
pub const DEFAULT_MAX_LIFETIME: u64 = 86_400;

/// What a token must satisfy, beyond a signature by the key its `kid` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPolicy {
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
    /// Required header `typ`. Default: `None`, not checked.
    pub typ: Option<String>,
}

impl TokenPolicy {
    /// The policy for `issuer` and `audiences`, every other rule at its default.
    pub fn new(issuer: impl Into<String>, audiences: Vec<String>) -> TokenPolicy {
        TokenPolicy {
            issuer: issuer.into(),
            audiences,
            algorithms: DEFAULT_ALGORITHMS.to_vec(),
            leeway: DEFAULT_LEEWAY,
            max_lifetime: DEFAULT_MAX_LIFETIME,
            typ: None,
        }
    }
}
