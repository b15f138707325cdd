//! The decision for one request: event checks, token, key, claims, double token, route
//! scopes, CSRF. Pure but for the key lookup, which the caller supplies.

use serde_json::Value;

use jwt_session::strict::{self, Inspected, Rejected, TokenRules};

use crate::bearer::bearer_token;
use crate::config::Config;
use crate::decision::{Decision, Forbidden, Refusal, Refused, Verified};
use crate::event::Request;
use crate::keys::Lookup;
use crate::response::{self, Answer};
use crate::{cookie, csrf, routes};

/// Where a decision stands: made, or waiting for the key of a `kid`.
#[derive(Debug)]
pub enum Step<'r> {
    /// The decision.
    Done(Decision),
    /// The key of [`Pending::kid`] is needed to go on ([`resume`]).
    NeedKey(Pending<'r>),
}

/// A decision waiting for a key.
#[derive(Debug)]
pub struct Pending<'r>(Stage<'r>);

#[derive(Debug)]
enum Stage<'r> {
    /// The cookie's token, inspected.
    Cookie(Inspected<'r>),
    /// Double-token mode: the cookie's token verified, the bearer token inspected.
    Bearer {
        cookie: Box<Verified>,
        bearer: Inspected<'r>,
    },
}

impl Pending<'_> {
    /// The key id whose key is needed.
    pub fn kid(&self) -> &str {
        match &self.0 {
            Stage::Cookie(t) | Stage::Bearer { bearer: t, .. } => t.kid(),
        }
    }
}

/// The first steps, with no key: the event, the cookie, the token's shape and header.
pub fn begin<'r>(req: &'r Request, cfg: &Config) -> Step<'r> {
    if req.malformed || req.resource_arn.as_deref().is_some_and(has_wildcard) {
        return Step::Done(Decision::Unauthorized(
            Refused::Token(Rejected::Malformed).into(),
        ));
    }
    let token = match cookie::find_token(req, &cfg.cookie.name) {
        Ok(t) => t,
        Err(r) => return Step::Done(Decision::Unauthorized(r.into())),
    };
    match strict::inspect_token(token, &cfg.token) {
        Ok(t) => Step::NeedKey(Pending(Stage::Cookie(t))),
        Err(r) => Step::Done(Decision::Unauthorized(Refused::from(r).into())),
    }
}

/// The next steps, with the key `pending` asked for (`now`: seconds since the epoch).
pub fn resume<'r>(
    req: &'r Request,
    cfg: &Config,
    now: u64,
    pending: Pending<'r>,
    key: Lookup,
) -> Step<'r> {
    match pending.0 {
        Stage::Cookie(token) => {
            let verified = match verify(&token, key, &cfg.token, now) {
                Ok(v) => v,
                Err(refusal) => return Step::Done(Decision::Unauthorized(refusal)),
            };
            if !cfg.cookie.double_token {
                return Step::Done(finish(req, cfg, verified));
            }
            // Double-token mode: `Authorization: Bearer <token>`, itself valid, with the
            // cookie token's `sub` and `jti`.
            let bearer = bearer_token(req)
                .and_then(|t| strict::inspect_token(t, &cfg.token).map_err(Refused::from));
            match bearer {
                Ok(bearer) => Step::NeedKey(Pending(Stage::Bearer {
                    cookie: Box::new(verified),
                    bearer,
                })),
                Err(reason) => Step::Done(Decision::Unauthorized(verified.refusal(reason))),
            }
        }
        Stage::Bearer { cookie, bearer } => {
            let other = match verify(&bearer, key, &cfg.token, now) {
                Ok(v) => v,
                Err(refusal) => {
                    return Step::Done(Decision::Unauthorized(cookie.refusal(refusal.reason)))
                }
            };
            let same_jti = cookie.jti.is_some() && other.jti == cookie.jti;
            if other.sub != cookie.sub || !same_jti {
                return Step::Done(Decision::Unauthorized(
                    cookie.refusal(Refused::Token(Rejected::BadClaim)),
                ));
            }
            Step::Done(finish(req, cfg, *cookie))
        }
    }
}

/// Signature and claims of an inspected token with the key found (or not) for it.
fn verify(
    token: &Inspected<'_>,
    key: Lookup,
    cfg: &TokenRules,
    now: u64,
) -> Result<Verified, Refusal> {
    let key = match key {
        Lookup::Found(k) => k,
        Lookup::UnknownKid => return Err(Refused::Token(Rejected::UnknownKid).into()),
        Lookup::Unavailable => return Err(Refused::KeyUnavailable.into()),
    };
    token
        .verify(&key, cfg, now)
        .map_err(|r| r.map(Refused::from))
}

/// The checks of a verified token against the request: route scopes, method override, CSRF.
fn finish(req: &Request, cfg: &Config, verified: Verified) -> Decision {
    if has_method_override(req) || !has_required_scopes(req, &verified, &cfg.routes) {
        return Decision::Forbidden(verified, Forbidden::Scope);
    }
    if let Err(r) = csrf::check(req, &verified, &cfg.csrf) {
        return Decision::Forbidden(verified, r);
    }
    Decision::Allow(verified)
}

/// The whole decision for one request, with `keys` resolving a `kid` (the key cache, which
/// may fetch): the pure steps, with only the lookup awaited.
pub async fn decide_with(
    req: &Request,
    cfg: &Config,
    now: u64,
    keys: &impl AsyncFn(&str) -> Lookup,
) -> Decision {
    let mut step = begin(req, cfg);
    loop {
        match step {
            Step::Done(decision) => return decision,
            Step::NeedKey(pending) => {
                let key = keys(pending.kid()).await;
                step = resume(req, cfg, now, pending, key);
            }
        }
    }
}

/// Decides with a fixed key ring, synchronously (fuzzing, benchmarks, tests): the same steps.
pub fn decide_offline(req: &Request, cfg: &Config, now: u64, ring: &strict::KeyRing) -> Decision {
    let mut step = begin(req, cfg);
    loop {
        match step {
            Step::Done(decision) => return decision,
            Step::NeedKey(pending) => {
                let key = match ring.get(pending.kid()) {
                    Some(k) => Lookup::Found(std::sync::Arc::clone(k)),
                    None => Lookup::UnknownKid,
                };
                step = resume(req, cfg, now, pending, key);
            }
        }
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
