//! The decision vocabulary, at the bottom of the crate: every outcome of a request, in types
//! that can express only legal ones, each named after the answer it produces. Every other
//! module imports from here; this module imports nothing of the crate.
//!
//! - [`Refused`]: no token, or one that cannot be accepted → `Unauthorized` (401), or
//!   `isAuthorized: false` for HTTP API simple answers.
//! - [`Forbidden`]: a verified token that may not make this request → an IAM `Deny` policy
//!   (403), or `isAuthorized: false`.
//! - [`Reason`]: the audit record's code: `ok`, or the code of one of the above.

use jwt_session::strict::Rejected;

/// Why a request is refused before or while its token is checked: the answer is 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Refused {
    /// No cookie with the configured name.
    NoToken,
    /// The cookie name appears more than once with different values.
    AmbiguousCookie,
    /// The token, or the request around it, breaks a rule of the shared strict verifier
    /// (`too_large`, `malformed`, `bad_alg`, `unknown_kid`, `bad_sig`, `expired`,
    /// `not_yet_valid`, `bad_iss`, `bad_aud`, `bad_typ`, `bad_claim`): one vocabulary for
    /// the authorizer and the signer.
    Token(Rejected),
    /// The token's session, or every token of its subject issued by then, was revoked
    /// (contract §7).
    Revoked,
    /// No usable verification keys, or no revocation set read recently enough.
    KeyUnavailable,
}

/// Why a request with a valid token is not allowed: the answer is a `Deny` policy, 403.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Forbidden {
    /// The CSRF checks of an unsafe method failed.
    Csrf,
    /// The token lacks a scope the route needs (code `forbidden`).
    Scope,
}

/// Why a request was allowed or denied (the audit record's `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Allowed.
    Ok,
    /// Refused: 401.
    Refused(Refused),
    /// Forbidden: 403.
    Forbid(Forbidden),
}

#[allow(non_upper_case_globals)]
impl Reason {
    /// `no_token`.
    pub const NoToken: Reason = Reason::Refused(Refused::NoToken);
    /// `ambiguous_cookie`.
    pub const AmbiguousCookie: Reason = Reason::Refused(Refused::AmbiguousCookie);
    /// `too_large`.
    pub const TooLarge: Reason = Reason::Refused(Refused::Token(Rejected::TooLarge));
    /// `malformed`.
    pub const Malformed: Reason = Reason::Refused(Refused::Token(Rejected::Malformed));
    /// `bad_alg`.
    pub const BadAlg: Reason = Reason::Refused(Refused::Token(Rejected::BadAlg));
    /// `unknown_kid`.
    pub const UnknownKid: Reason = Reason::Refused(Refused::Token(Rejected::UnknownKid));
    /// `bad_sig`.
    pub const BadSig: Reason = Reason::Refused(Refused::Token(Rejected::BadSig));
    /// `expired`.
    pub const Expired: Reason = Reason::Refused(Refused::Token(Rejected::Expired));
    /// `not_yet_valid`.
    pub const NotYetValid: Reason = Reason::Refused(Refused::Token(Rejected::NotYetValid));
    /// `bad_iss`.
    pub const BadIss: Reason = Reason::Refused(Refused::Token(Rejected::BadIss));
    /// `bad_aud`.
    pub const BadAud: Reason = Reason::Refused(Refused::Token(Rejected::BadAud));
    /// `bad_typ`.
    pub const BadTyp: Reason = Reason::Refused(Refused::Token(Rejected::BadTyp));
    /// `bad_claim`.
    pub const BadClaim: Reason = Reason::Refused(Refused::Token(Rejected::BadClaim));
    /// `csrf`.
    pub const Csrf: Reason = Reason::Forbid(Forbidden::Csrf);
    /// `forbidden`.
    pub const Forbidden: Reason = Reason::Forbid(Forbidden::Scope);
    /// `revoked`.
    pub const Revoked: Reason = Reason::Refused(Refused::Revoked);
    /// `key_unavailable`.
    pub const KeyUnavailable: Reason = Reason::Refused(Refused::KeyUnavailable);

    /// Every reason, in the contract's order.
    pub const ALL: [Reason; 18] = [
        Reason::Ok,
        Reason::NoToken,
        Reason::AmbiguousCookie,
        Reason::TooLarge,
        Reason::Malformed,
        Reason::BadAlg,
        Reason::UnknownKid,
        Reason::BadSig,
        Reason::Expired,
        Reason::NotYetValid,
        Reason::BadIss,
        Reason::BadAud,
        Reason::BadTyp,
        Reason::BadClaim,
        Reason::Csrf,
        Reason::Forbidden,
        Reason::Revoked,
        Reason::KeyUnavailable,
    ];

    /// The contract's code.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Ok => "ok",
            Reason::Refused(r) => r.as_str(),
            Reason::Forbid(f) => f.as_str(),
        }
    }
}

impl Refused {
    /// The contract's code.
    pub fn as_str(self) -> &'static str {
        match self {
            Refused::NoToken => "no_token",
            Refused::AmbiguousCookie => "ambiguous_cookie",
            Refused::Token(r) => r.as_str(),
            Refused::Revoked => "revoked",
            Refused::KeyUnavailable => "key_unavailable",
        }
    }
}

impl Forbidden {
    /// The contract's code.
    pub fn as_str(self) -> &'static str {
        match self {
            Forbidden::Csrf => "csrf",
            Forbidden::Scope => "forbidden",
        }
    }
}

impl From<Refused> for Reason {
    fn from(r: Refused) -> Self {
        Reason::Refused(r)
    }
}

impl From<Forbidden> for Reason {
    fn from(f: Forbidden) -> Self {
        Reason::Forbid(f)
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Claims of a token whose signature verified and whose claims passed (the shared strict
/// verifier's).
pub use jwt_session::strict::Verified;

/// A refusal (401), with what may be logged: `kid`, `sub` and `jti` only once the signature
/// verified (the shared verifier's shape, with this crate's reasons).
pub type Refusal = jwt_session::strict::Refusal<Refused>;

impl From<Rejected> for Refused {
    fn from(r: Rejected) -> Self {
        Refused::Token(r)
    }
}

/// The outcome of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Allowed, with the verified claims.
    Allow(Verified),
    /// Denied after the token verified (CSRF, scope): a `Deny` policy, 403.
    Forbid(Verified, Forbidden),
    /// Refused: no token, or one that did not verify: `Unauthorized`, 401.
    Deny(Refusal),
}

impl Decision {
    /// The audit reason.
    pub fn reason(&self) -> Reason {
        match self {
            Decision::Allow(_) => Reason::Ok,
            Decision::Forbid(_, f) => Reason::Forbid(*f),
            Decision::Deny(r) => Reason::Refused(r.reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_its_contract_code_once() {
        let codes: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(
            codes,
            [
                "ok",
                "no_token",
                "ambiguous_cookie",
                "too_large",
                "malformed",
                "bad_alg",
                "unknown_kid",
                "bad_sig",
                "expired",
                "not_yet_valid",
                "bad_iss",
                "bad_aud",
                "bad_typ",
                "bad_claim",
                "csrf",
                "forbidden",
                "revoked",
                "key_unavailable"
            ]
        );
    }

    #[test]
    fn every_reason_of_the_shared_verifier_keeps_its_code() {
        for r in Rejected::ALL {
            assert_eq!(Refused::from(r).as_str(), r.as_str());
        }
    }

    #[test]
    fn the_answer_follows_the_kind_of_reason() {
        let d = Decision::Deny(Refused::Token(Rejected::BadSig).into());
        assert!(matches!(
            d.reason(),
            Reason::Refused(Refused::Token(Rejected::BadSig))
        ));
        assert_eq!(Reason::from(Forbidden::Scope).as_str(), "forbidden");
    }
}
