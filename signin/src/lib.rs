//! Sign-in through OpenID Connect providers, as a backend-for-frontend (RFC 10017): the
//! browser gets only the session cookie the signer issues, never a provider's token.
//!
//! Under way (issue 26). What is here:
//!
//! - `config`: [`Providers`], `OIDC_PROVIDERS` read and checked (docs/contract.md §9): each
//!   provider's name, issuer (`https://`, or `http://` on a loopback address for local
//!   development), client, secret or its Secrets Manager ARN, scopes and claim mapping;
//! - `flow`: [`FlowState`] and [`FlowKey`], the flow's state (PKCE verifier, `state`,
//!   `nonce`, provider, where to return) sealed into a short-lived `__Host-` cookie with
//!   AES-256-GCM, bound to the browser that started the flow.
//!
//! Error codes ([`Error::code`]): `flow_cookie_missing`, `flow_cookie_invalid`,
//! `flow_expired`, `flow_key`.

mod config;
mod flow;

pub use config::{vars, ClaimMapping, ClientSecret, Provider, Providers};
pub use flow::{safe_return_path, FlowKey, FlowState, FLOW_COOKIE, FLOW_SECONDS};

/// Errors of this crate. None carries a secret, a cookie value or a token.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The callback came without the flow cookie (another browser, or after it expired).
    #[error("no sign-in flow cookie")]
    FlowCookieMissing,
    /// The flow cookie does not open with the flow key (tampered, another deployment's, or
    /// not ours).
    #[error("the sign-in flow cookie is not valid")]
    FlowCookieInvalid,
    /// The flow outlived its lifetime.
    #[error("the sign-in flow expired")]
    FlowExpired,
    /// The flow key is not 32 bytes, or sealing failed.
    #[error("the sign-in flow key cannot be used")]
    FlowKey,
}

impl Error {
    /// A stable code for logs, refusal pages and the audit record.
    pub fn code(&self) -> &'static str {
        match self {
            Error::FlowCookieMissing => "flow_cookie_missing",
            Error::FlowCookieInvalid => "flow_cookie_invalid",
            Error::FlowExpired => "flow_expired",
            Error::FlowKey => "flow_key",
        }
    }
}
