//! The audit record: exactly one JSON line per authorization attempt.
//!
//! Fields: `decision`, `reason`, `request_id` (API Gateway's), `lambda_request_id`,
//! `source_ip`, `route_arn`, `route`, `method`, `payload`, `user_agent`, `latency_us`, and
//! — only when the token's signature verified — `sub`, `kid`, `jti`, `token_age_s`,
//! `expires_in_s`. Never the token, a cookie value, a claim of an unverified token, or key
//! material.

use std::time::Duration;

use crate::event::Request;
use crate::Decision;

/// The `tracing` target of audit records (filter on it to route them).
pub const TARGET: &str = "audit";

/// Longest user agent logged.
const MAX_UA: usize = 256;

fn clip(s: Option<&str>, max: usize) -> Option<&str> {
    s.map(|s| match s.char_indices().nth(max) {
        Some((i, _)) => s.get(..i).unwrap_or(s),
        None => s,
    })
}

/// Writes the audit record for one decision.
pub fn record(
    req: &Request,
    decision: &Decision,
    lambda_request_id: &str,
    now: u64,
    latency: Duration,
) {
    let (sub, kid, jti, iat, exp) = match decision {
        Decision::Allow(v) | Decision::Forbid(v, _) => (
            Some(v.sub.as_str()),
            Some(v.kid.as_str()),
            v.jti.as_deref(),
            v.iat,
            Some(v.exp),
        ),
        Decision::Deny(r) => (r.sub.as_deref(), None, r.jti.as_deref(), None, None),
    };
    let allowed = matches!(decision, Decision::Allow(_));
    let method = req.method.as_ref().map(|m| m.as_str());
    tracing::info!(
        target: TARGET,
        decision = if allowed { "allow" } else { "deny" },
        reason = decision.reason().as_str(),
        request_id = req.request_id.as_deref(),
        lambda_request_id,
        source_ip = req.source_ip.as_deref(),
        route_arn = req.resource_arn.as_deref(),
        route = req.route.as_deref(),
        method,
        payload = req.payload.as_str(),
        user_agent = clip(req.user_agent.as_deref(), MAX_UA),
        sub,
        kid,
        jti,
        token_age_s = iat.map(|i| now.saturating_sub(i)),
        expires_in_s = exp.map(|e| e.saturating_sub(now)),
        latency_us = latency.as_micros() as u64,
        "authorization"
    );
}
