//! Why a token is refused.

/// Why a token is refused. The codes are the contract's audit reasons (§5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rejected {
    /// The token is larger than the limits.
    TooLarge,
    /// Not a well-formed token: segments, base64url, strict JSON, header members.
    Malformed,
    /// `alg` not allowed, unknown, or not the key's algorithm.
    BadAlg,
    /// No key with the token's `kid` (or no valid `kid`).
    UnknownKid,
    /// The signature does not verify.
    BadSig,
    /// `exp` passed.
    Expired,
    /// `nbf` or `iat` in the future.
    NotYetValid,
    /// `iss` is not the accepted issuer.
    BadIss,
    /// `aud` holds no accepted audience.
    BadAud,
    /// `typ` is not the required type.
    BadTyp,
    /// A claim is missing, of the wrong type, or out of bounds.
    BadClaim,
}

impl Rejected {
    /// Every reason.
    pub const ALL: [Rejected; 11] = [
        Rejected::TooLarge,
        Rejected::Malformed,
        Rejected::BadAlg,
        Rejected::UnknownKid,
        Rejected::BadSig,
        Rejected::Expired,
        Rejected::NotYetValid,
        Rejected::BadIss,
        Rejected::BadAud,
        Rejected::BadTyp,
        Rejected::BadClaim,
    ];

    /// The contract's code: declared here only (the authorizer's reason table names these).
    pub const fn as_str(self) -> &'static str {
        match self {
            Rejected::TooLarge => "too_large",
            Rejected::Malformed => "malformed",
            Rejected::BadAlg => "bad_alg",
            Rejected::UnknownKid => "unknown_kid",
            Rejected::BadSig => "bad_sig",
            Rejected::Expired => "expired",
            Rejected::NotYetValid => "not_yet_valid",
            Rejected::BadIss => "bad_iss",
            Rejected::BadAud => "bad_aud",
            Rejected::BadTyp => "bad_typ",
            Rejected::BadClaim => "bad_claim",
        }
    }
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal, with what may be logged about the token: its `kid`, `sub`, `jti` and `sid` once its
/// signature verified, nothing before. `R` says why: [`Rejected`] here ([`Rejection`]), the
/// authorizer's own reasons there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal<R> {
    /// Why.
    pub reason: R,
    /// `kid` of the key that verified the signature.
    pub kid: Option<String>,
    /// `sub` of a token whose signature verified.
    pub sub: Option<String>,
    /// `jti` of a token whose signature verified.
    pub jti: Option<String>,
    /// `sid` of a token whose signature verified.
    pub sid: Option<String>,
}

/// A refused token.
pub type Rejection = Refusal<Rejected>;

impl<R> From<R> for Refusal<R> {
    fn from(reason: R) -> Self {
        Refusal {
            reason,
            kid: None,
            sub: None,
            jti: None,
            sid: None,
        }
    }
}

impl<R> Refusal<R> {
    /// The same refusal, its reason mapped (to another vocabulary of reasons).
    pub fn map<S>(self, f: impl FnOnce(R) -> S) -> Refusal<S> {
        Refusal {
            reason: f(self.reason),
            kid: self.kid,
            sub: self.sub,
            jti: self.jti,
            sid: self.sid,
        }
    }
}
