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

/// The reason vocabulary, declared once: each reason's name, what it is, its contract code
/// (the audit record's `reason`) and the HTTP status of its answer. [`Reason::ALL`],
/// [`Reason::as_str`], [`Reason::status`] and the named constants (`Reason::BadSig`…) are
/// generated from it; the README's table and the end-to-end attack suite are checked against
/// [`Reason::ALL`]. The shared verifier's own codes ([`Rejected::as_str`], which the signer
/// uses) are pinned equal to these by a test.
macro_rules! reasons {
    ($( $name:ident => $value:expr, $code:literal, $status:literal; )*) => {
        #[allow(non_upper_case_globals)]
        impl Reason {
            $(
                #[doc = concat!("`", $code, "` (", stringify!($status), ").")]
                pub const $name: Reason = $value;
            )*

            /// Every reason, in the contract's order.
            pub const ALL: [Reason; [$($code),*].len()] = [$(Reason::$name),*];

            /// The contract's code.
            pub fn as_str(self) -> &'static str {
                $( if self == Reason::$name { return $code; } )*
                // Unreachable: the table covers every value (`every_value_is_in_the_table`).
                "unknown"
            }

            /// The HTTP status of the answer (a 403 is a `Deny` policy or `isAuthorized:
            /// false`, a 401 the `Unauthorized` error or `isAuthorized: false`).
            pub fn status(self) -> u16 {
                $( if self == Reason::$name { return $status; } )*
                401
            }
        }
    };
}

reasons! {
    Allowed => Reason::Ok, "ok", 200;
    NoToken => Reason::Refused(Refused::NoToken), "no_token", 401;
    AmbiguousCookie => Reason::Refused(Refused::AmbiguousCookie), "ambiguous_cookie", 401;
    TooLarge => Reason::Refused(Refused::Token(Rejected::TooLarge)), "too_large", 401;
    Malformed => Reason::Refused(Refused::Token(Rejected::Malformed)), "malformed", 401;
    BadAlg => Reason::Refused(Refused::Token(Rejected::BadAlg)), "bad_alg", 401;
    UnknownKid => Reason::Refused(Refused::Token(Rejected::UnknownKid)), "unknown_kid", 401;
    BadSig => Reason::Refused(Refused::Token(Rejected::BadSig)), "bad_sig", 401;
    Expired => Reason::Refused(Refused::Token(Rejected::Expired)), "expired", 401;
    NotYetValid => Reason::Refused(Refused::Token(Rejected::NotYetValid)), "not_yet_valid", 401;
    BadIss => Reason::Refused(Refused::Token(Rejected::BadIss)), "bad_iss", 401;
    BadAud => Reason::Refused(Refused::Token(Rejected::BadAud)), "bad_aud", 401;
    BadTyp => Reason::Refused(Refused::Token(Rejected::BadTyp)), "bad_typ", 401;
    BadClaim => Reason::Refused(Refused::Token(Rejected::BadClaim)), "bad_claim", 401;
    Csrf => Reason::Forbid(Forbidden::Csrf), "csrf", 403;
    Forbidden => Reason::Forbid(Forbidden::Scope), "forbidden", 403;
    Revoked => Reason::Refused(Refused::Revoked), "revoked", 401;
    KeyUnavailable => Reason::Refused(Refused::KeyUnavailable), "key_unavailable", 401;
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
            assert_ne!(v.as_str(), "unknown");
        }
        let statuses: Vec<u16> = Reason::ALL.iter().map(|r| r.status()).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1);
        assert_eq!(Reason::Csrf.status(), 403);
        assert_eq!(Reason::Forbidden.status(), 403);
        assert_eq!(Reason::Revoked.status(), 401);
    }

    #[test]
    fn the_readme_lists_every_reason_in_order() {
        let readme = include_str!("../../README.md");
        let listed: Vec<&str> = readme
            .split("## Reason codes")
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
            "README.md § Reason codes differs from Reason::ALL"
        );
    }

    #[test]
    fn the_contract_lists_every_reason_in_order() {
        // docs/contract.md, the contract the code cites as "contract §N" (§5, the audit log).
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
    fn every_reason_of_the_shared_verifier_keeps_its_code() {
        for r in Rejected::ALL {
            assert_eq!(Refused::from(r).as_str(), r.as_str());
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
