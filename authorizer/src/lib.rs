//! API Gateway REQUEST authorizer for JWTs carried in a Secure/HttpOnly/SameSite cookie.
//!
//! One invocation, one decision, one audit record:
//!
//! 1. The raw event is read ([`event::Request`]); REST (payload 1.0) and HTTP API (payload
//!    2.0) events are parsed with `aws_lambda_events` types, anything else is denied.
//! 2. The cookie is found by exact name ([`cookie::find_token`]), sizes checked first.
//! 3. The token's shape and header are checked with no key ([`strict::inspect`], the
//!    project's one strict verifier, shared with the signer).
//! 4. The key is chosen by `kid` from the cache ([`keys::KeyCache`]), refreshed from
//!    secrets-fn when due.
//! 5. The signature is verified with the algorithm pinned to that key, then the claims are
//!    checked ([`strict::verify`]).
//! 6. Unsafe methods need the CSRF header, no cross-site fetch and an allowed origin
//!    ([`csrf`]).
//! 7. With `REVOCATION_TABLE`, a verified token whose session or subject was revoked is
//!    refused ([`revocation`]: an in-memory set, read at most every
//!    `REVOCATION_REFRESH_SECONDS`).
//! 8. The answer is built ([`response`]) and one JSON audit record is written ([`audit`]).
//!
//! What lives where: [`decision`] (the outcomes, at the bottom: every other module imports
//! from it), [`event`] and [`event_filter`] (reading the event), [`cookie`], [`csrf`],
//! [`routes`] (the checks, each with its policy and the headers it reads), [`keys`] (the key
//! cache and its policy), [`response`] (outcome → wire, with its policy), [`audit`] (the
//! record), [`config`] (environment → policies, nothing else). Reason codes: [`Reason`].

pub mod audit;
pub mod config;
pub mod cookie;
pub mod csrf;
pub mod decision;
pub mod event;
pub mod event_filter;
pub mod keys;
pub mod response;
pub mod revocation;
pub mod routes;

pub use jwt_session::strict;

use std::future::Future as _;

use serde_json::Value;

use crate::config::Config;
use crate::event::Request;
use crate::keys::{KeyCache, Lookup};
use crate::response::Answer;
use crate::strict::{Rejected, TokenPolicy};

pub use crate::decision::{Decision, Forbidden, Reason, Refusal, Refused, Verified};

/// The error a REST authorizer returns for a 401: its message must be exactly `Unauthorized`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Unauthorized")]
pub struct Unauthorized;

impl From<Unauthorized> for lambda_runtime::Diagnostic {
    fn from(_: Unauthorized) -> Self {
        lambda_runtime::Diagnostic {
            error_type: "Unauthorized".into(),
            error_message: "Unauthorized".into(),
        }
    }
}

/// The whole decision for one request, with `keys` resolving a `kid` (the cache in Lambda; a
/// fixed key ring in fuzzing and benchmarks).
pub async fn decide_with(
    req: &Request,
    cfg: &Config,
    now: u64,
    keys: &impl AsyncFn(&str) -> Lookup,
) -> Decision {
    if req.malformed || req.resource_arn.as_deref().is_some_and(has_wildcard) {
        return Decision::Deny(Refused::Token(Rejected::Malformed).into());
    }
    let token = match cookie::find_token(req, &cfg.cookie.name) {
        Ok(t) => t,
        Err(r) => return Decision::Deny(r.into()),
    };
    let verified = match verify_token(token, &cfg.token, now, keys).await {
        Ok(v) => v,
        Err(refusal) => return Decision::Deny(refusal),
    };
    if cfg.cookie.double_token {
        if let Err(reason) = check_bearer(req, &verified, &cfg.token, now, keys).await {
            return Decision::Deny(verified.refusal(reason));
        }
    }
    if has_method_override(req) || !has_required_scopes(req, &verified, &cfg.routes) {
        return Decision::Forbid(verified, Forbidden::Scope);
    }
    if let Err(r) = csrf::check(req, &verified, &cfg.csrf) {
        return Decision::Forbid(verified, r);
    }
    Decision::Allow(verified)
}

/// Header, key, signature and claims of one token.
async fn verify_token(
    token: &str,
    cfg: &TokenPolicy,
    now: u64,
    keys: &impl AsyncFn(&str) -> Lookup,
) -> Result<Verified, Refusal> {
    let refused = |r: Rejected| Refusal::from(Refused::from(r));
    // A PASETO (any version or purpose) is never read as a JWT, nor the other way round.
    if strict::paseto::looks_like_paseto(token) {
        if !cfg.formats.paseto {
            return Err(refused(Rejected::Malformed));
        }
        let header = strict::paseto::inspect(token).map_err(refused)?;
        let key = find_key(keys, &header.kid).await?;
        return strict::paseto::verify_with_key(token, &header, &key, cfg, now)
            .map_err(|r| r.map(Refused::from));
    }
    if !cfg.formats.jwt {
        return Err(refused(Rejected::Malformed));
    }
    let header = strict::inspect(token, cfg).map_err(refused)?;
    let key = find_key(keys, &header.kid).await?;
    strict::verify(token, &header, &key, cfg, now).map_err(|r| r.map(Refused::from))
}

/// The key of `kid`, or why there is none.
async fn find_key(
    keys: &impl AsyncFn(&str) -> Lookup,
    kid: &str,
) -> Result<std::sync::Arc<strict::VerifyingKey>, Refusal> {
    match keys(kid).await {
        Lookup::Found(k) => Ok(k),
        Lookup::UnknownKid => Err(Refused::Token(Rejected::UnknownKid).into()),
        Lookup::Unavailable => Err(Refused::KeyUnavailable.into()),
    }
}

/// Double-token mode: `Authorization: Bearer <token>`, itself valid, with the cookie token's
/// `sub` and `jti`.
async fn check_bearer(
    req: &Request,
    cookie: &Verified,
    cfg: &TokenPolicy,
    now: u64,
    keys: &impl AsyncFn(&str) -> Lookup,
) -> Result<(), Refused> {
    let bearer = bearer_token(req)?;
    let other = verify_token(bearer, cfg, now, keys)
        .await
        .map_err(|r| r.reason)?;
    let same_jti = cookie.jti.is_some() && other.jti == cookie.jti;
    if other.sub != cookie.sub || !same_jti {
        return Err(Refused::Token(Rejected::BadClaim));
    }
    Ok(())
}

/// Decides with a fixed key ring, synchronously (fuzzing, benchmarks, tests).
pub fn decide_offline(req: &Request, cfg: &Config, now: u64, ring: &strict::KeyRing) -> Decision {
    let lookup = async |kid: &str| match ring.get(kid) {
        Some(k) => Lookup::Found(std::sync::Arc::clone(k)),
        None => Lookup::UnknownKid,
    };
    let fut = std::pin::pin!(decide_with(req, cfg, now, &lookup));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match fut.poll(&mut cx) {
        std::task::Poll::Ready(d) => d,
        // Nothing in the offline path waits; deny rather than spin if that ever changes.
        std::task::Poll::Pending => Decision::Deny(Refused::KeyUnavailable.into()),
    }
}

/// The whole invocation offline: raw event bytes in, answer and decision out.
pub fn handle_offline(
    event: &[u8],
    cfg: &Config,
    now: u64,
    ring: &strict::KeyRing,
) -> (Answer, Decision) {
    let req = match std::str::from_utf8(event) {
        Ok(text) => Request::read(text, &cfg.read_headers),
        Err(_) => Request::from_value(&Value::Null),
    };
    let decision = decide_offline(&req, cfg, now, ring);
    (response::build(&req, &decision, &cfg.answer), decision)
}

/// The header the double-token mode reads.
pub const AUTHORIZATION_HEADER: &str = "authorization";

/// The token of a single `Authorization: Bearer` header.
fn bearer_token(req: &Request) -> Result<&str, Refused> {
    let mut values = req.headers.get_all(AUTHORIZATION_HEADER).iter();
    let value = values.next().ok_or(Refused::NoToken)?;
    if values.any(|v| v != value) {
        return Err(Refused::Token(Rejected::Malformed));
    }
    if value.len() > cookie::MAX_TOKEN_BYTES + 7 {
        return Err(Refused::Token(Rejected::TooLarge));
    }
    let value = value
        .to_str()
        .map_err(|_| Refused::Token(Rejected::Malformed))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or(Refused::Token(Rejected::Malformed))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(Refused::Token(Rejected::Malformed));
    }
    Ok(token)
}

/// Whether an ARN holds `*` or `?`: IAM reads them as wildcards in a policy's `Resource`, so a
/// request path holding one (`GET /orders/*` through `/orders/{id}`) would be granted, and with
/// result caching the cached policy would open every route the wildcard covers. No part of an
/// execute-api ARN holds them legitimately; such a request is refused (`malformed`).
fn has_wildcard(arn: &str) -> bool {
    arn.contains(['*', '?'])
}

/// Whether the request carries a method-override header (any value).
fn has_method_override(req: &Request) -> bool {
    routes::METHOD_OVERRIDE_HEADERS
        .iter()
        .any(|h| req.headers.contains_key(*h))
}

/// Whether the token carries every scope the route rules require.
fn has_required_scopes(req: &Request, token: &Verified, rules: &routes::RouteRules) -> bool {
    if rules.is_empty() {
        return true;
    }
    let arn = req
        .resource_arn
        .as_deref()
        .and_then(routes::method_and_path);
    let method = req.method.as_ref().map(|m| m.as_str());
    match rules.required(method, arn.map(|(_, path)| path)) {
        Some(needed) => needed.iter().all(|s| token.scopes.iter().any(|t| t == s)),
        None => false,
    }
}

pub use jwt_session::unix_now;

/// The authorizer: configuration, key cache and revocations, built once per container.
#[derive(Debug)]
pub struct Authorizer {
    cfg: Config,
    keys: KeyCache,
    revocations: Option<revocation::Revocations>,
}

impl Authorizer {
    /// Builds the authorizer (revocation off).
    pub fn new(keys: KeyCache, cfg: Config) -> Self {
        Authorizer {
            cfg,
            keys,
            revocations: None,
        }
    }

    /// The same, refusing revoked sessions read from the table of `REVOCATION_TABLE` through
    /// `dynamodb` (nothing when the table is not configured).
    pub fn with_revocations(mut self, dynamodb: aws_sdk_dynamodb::Client) -> Self {
        self.revocations = self.cfg.revocation.clone().map(|policy| {
            let feed = revocation::DynamoFeed::new(dynamodb, policy.table.clone());
            revocation::Revocations::new(feed, policy)
        });
        self
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Readies the key cache before the first request: keys from `KEYS_BOOTSTRAP_JWKS` when
    /// set (they serve if secrets-fn cannot be reached), then a fetch from secrets-fn, which
    /// replaces them.
    pub async fn warm(&self) {
        if let Some(set) = &self.cfg.bootstrap_keys {
            self.keys.seed(set).await;
        }
        self.keys.warm().await;
        if let Some(revocations) = &self.revocations {
            revocations.warm().await;
        }
    }

    /// Decides one request of an invocation that began at `invoked`. Never fails and never
    /// panics on any input.
    pub async fn decide(&self, req: &Request, now: u64, invoked: std::time::Instant) -> Decision {
        let decision = decide_with(req, &self.cfg, now, &async |kid: &str| {
            self.keys.get(kid).await
        })
        .await;
        let Some(revocations) = &self.revocations else {
            return decision;
        };
        // Only a token whose signature and claims verified is looked up; a revoked one is
        // refused (401) whatever else was decided for it.
        let verdict = match &decision {
            Decision::Allow(v) | Decision::Forbid(v, _) => revocations.check(v, now, invoked).await,
            Decision::Deny(_) => Ok(()),
        };
        match (verdict, decision) {
            (Err(reason), Decision::Allow(v) | Decision::Forbid(v, _)) => {
                Decision::Deny(v.refusal(reason))
            }
            (_, decision) => decision,
        }
    }

    /// Handles one invocation (the event's JSON text): decision, audit record, answer.
    pub async fn handle(
        &self,
        event: &str,
        lambda_request_id: &str,
    ) -> Result<response::Response, Unauthorized> {
        let started = std::time::Instant::now();
        let now = unix_now();
        let req = Request::read(event, &self.cfg.read_headers);
        let decision = self.decide(&req, now, started).await;
        let answer = response::build(&req, &decision, &self.cfg.answer);
        audit::record(&req, &decision, lambda_request_id, now, started.elapsed());
        match answer {
            Answer::Json(v) => Ok(v),
            Answer::Unauthorized => Err(Unauthorized),
        }
    }
}
