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
    /// (docs/revocation.md).
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

/// The reason vocabulary, declared once: each reason's name, what it is and its contract code
/// (the audit record's `reason`). [`Reason::ALL`], [`Reason::as_str`] and the named constants
/// (`Reason::BadSig`…) are generated from it; the reason-codes page, the contract and the
/// attack catalogue are checked against [`Reason::ALL`]. The codes of a token's refusals are
/// the shared verifier's ([`Rejected::as_str`], which the signer uses too): the table names
/// them rather than spelling them again. The HTTP status follows from the kind of reason
/// ([`Reason::status`]), so no row can contradict the answer.
macro_rules! reasons {
    ($( $name:ident => $value:expr, $code:expr; )*) => {
        #[allow(non_upper_case_globals)]
        impl Reason {
            $(
                #[doc = concat!("`Reason::", stringify!($name), "`: see the reason codes page.")]
                pub const $name: Reason = $value;
            )*

            /// Every reason, in the contract's order.
            pub const ALL: [Reason; [$(stringify!($name)),*].len()] = [$(Reason::$name),*];

            /// The contract's code.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( Reason::$name => $code, )*
                }
            }
        }
    };
}

reasons! {
    Allowed => Reason::Ok, "ok";
    NoToken => Reason::Refused(Refused::NoToken), "no_token";
    AmbiguousCookie => Reason::Refused(Refused::AmbiguousCookie), "ambiguous_cookie";
    TooLarge => Reason::Refused(Refused::Token(Rejected::TooLarge)), Rejected::TooLarge.as_str();
    Malformed => Reason::Refused(Refused::Token(Rejected::Malformed)), Rejected::Malformed.as_str();
    BadAlg => Reason::Refused(Refused::Token(Rejected::BadAlg)), Rejected::BadAlg.as_str();
    UnknownKid => Reason::Refused(Refused::Token(Rejected::UnknownKid)), Rejected::UnknownKid.as_str();
    BadSig => Reason::Refused(Refused::Token(Rejected::BadSig)), Rejected::BadSig.as_str();
    Expired => Reason::Refused(Refused::Token(Rejected::Expired)), Rejected::Expired.as_str();
    NotYetValid => Reason::Refused(Refused::Token(Rejected::NotYetValid)), Rejected::NotYetValid.as_str();
    BadIss => Reason::Refused(Refused::Token(Rejected::BadIss)), Rejected::BadIss.as_str();
    BadAud => Reason::Refused(Refused::Token(Rejected::BadAud)), Rejected::BadAud.as_str();
    BadTyp => Reason::Refused(Refused::Token(Rejected::BadTyp)), Rejected::BadTyp.as_str();
    BadClaim => Reason::Refused(Refused::Token(Rejected::BadClaim)), Rejected::BadClaim.as_str();
    Csrf => Reason::Forbid(Forbidden::Csrf), "csrf";
    Forbidden => Reason::Forbid(Forbidden::Scope), "forbidden";
    Revoked => Reason::Refused(Refused::Revoked), "revoked";
    KeyUnavailable => Reason::Refused(Refused::KeyUnavailable), "key_unavailable";
}

impl Reason {
    /// The HTTP status of the answer: 200 allowed; 403 forbidden (a `Deny` policy or
    /// `isAuthorized: false`); 401 refused (the `Unauthorized` error or `isAuthorized:
    /// false`). The answer is built from the [`Decision`]'s variant, which carries the same
    /// kind.
    pub const fn status(self) -> u16 {
        match self {
            Reason::Ok => 200,
            Reason::Forbid(_) => 403,
            Reason::Refused(_) => 401,
        }
    }
}

impl Refused {
    /// The contract's code.
    pub fn as_str(self) -> &'static str {
        Reason::Refused(self).as_str()
    }
}

impl Forbidden {
    /// The contract's code.
    pub fn as_str(self) -> &'static str {
        Reason::Forbid(self).as_str()
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
    Forbidden(Verified, Forbidden),
    /// Refused: no token, or one that did not verify: `Unauthorized`, 401.
    Unauthorized(Refusal),
}

impl Decision {
    /// The audit reason.
    pub fn reason(&self) -> Reason {
        match self {
            Decision::Allow(_) => Reason::Ok,
            Decision::Forbidden(_, f) => Reason::Forbid(*f),
            Decision::Unauthorized(r) => Reason::Refused(r.reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_a_code_of_its_own() {
        let mut codes: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Reason::ALL.len());
    }

    #[test]
    fn every_value_is_in_the_table() {
        let mut values: Vec<Reason> = vec![Reason::Ok, Refused::NoToken.into()];
        values.extend(
            [
                Refused::AmbiguousCookie,
                Refused::Revoked,
                Refused::KeyUnavailable,
            ]
            .map(Reason::from),
        );
        values.extend(Rejected::ALL.map(|r| Reason::from(Refused::Token(r))));
        values.extend([Forbidden::Csrf, Forbidden::Scope].map(Reason::from));
        assert_eq!(values.len(), Reason::ALL.len());
        for v in values {
            assert!(Reason::ALL.contains(&v), "{v:?} is not in the table");
        }
        let statuses: Vec<u16> = Reason::ALL.iter().map(|r| r.status()).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1);
        assert_eq!(Reason::Csrf.status(), 403);
        assert_eq!(Reason::Forbidden.status(), 403);
        assert_eq!(Reason::Revoked.status(), 401);
    }

    #[test]
    fn the_reason_codes_page_lists_every_reason_in_order() {
        let page = include_str!("../../docs/reason-codes.md");
        let listed: Vec<&str> = page
            .split("# Reason codes")
            .nth(1)
            .unwrap_or_default()
            .lines()
            .skip_while(|l| !l.starts_with("| `"))
            .take_while(|l| l.starts_with("| `"))
            .filter_map(|l| l.split('`').nth(1))
            .collect();
        let ours: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(
            listed, ours,
            "docs/reason-codes.md differs from Reason::ALL"
        );
    }

    #[test]
    fn the_contract_lists_every_reason_in_order() {
        // docs/contract.md §5 (the audit log): the contract users and outside suites rely on.
        let contract = include_str!("../../docs/contract.md");
        let listed: Vec<&str> = contract
            .split("## 5. Audit log")
            .nth(1)
            .and_then(|s| s.split("`reason` is one of:").nth(1))
            .and_then(|s| s.split("\n\n").find(|p| !p.trim().is_empty()))
            .unwrap_or_default()
            .split('`')
            .skip(1)
            .step_by(2)
            .collect();
        let ours: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(listed, ours, "docs/contract.md §5 differs from Reason::ALL");
    }

    #[test]
    fn every_refusal_of_the_shared_verifier_is_a_reason_of_the_table() {
        for r in Rejected::ALL {
            let reason = Reason::from(Refused::from(r));
            assert!(Reason::ALL.contains(&reason), "{r:?} is not in the table");
            assert_eq!(reason.as_str(), r.as_str());
        }
    }

    #[test]
    fn the_answer_follows_the_kind_of_reason() {
        let d = Decision::Unauthorized(Refused::Token(Rejected::BadSig).into());
        assert!(matches!(
            d.reason(),
            Reason::Refused(Refused::Token(Rejected::BadSig))
        ));
        assert_eq!(Reason::from(Forbidden::Scope).as_str(), "forbidden");
    }
}
