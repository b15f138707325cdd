//! API Gateway REQUEST authorizer for JWTs carried in a Secure/HttpOnly/SameSite cookie.
//!
//! One invocation, one decision, one audit record:
//!
//! 1. The raw event is read (`event::Request`); REST (payload 1.0) and HTTP API (payload
//!    2.0) events are parsed with `aws_lambda_events` types, anything else is denied.
//! 2. The cookie is found by exact name (`cookie::find_token`), sizes checked first.
//! 3. The token's shape and header are checked with no key (`strict::inspect`, the
//!    project's one strict verifier, shared with the signer).
//! 4. The key is chosen by `kid` from the cache (`keys::KeyCache`), refreshed from
//!    secrets-fn when due.
//! 5. The signature is verified with the algorithm pinned to that key, then the claims are
//!    checked (`strict::verify`).
//! 6. Unsafe methods need the CSRF header, no cross-site fetch and an allowed origin
//!    (`csrf`).
//! 7. With `REVOCATION_TABLE`, a verified token whose session or subject was revoked is
//!    refused (`revocation`: an in-memory set, read at most every
//!    `REVOCATION_REFRESH_SECONDS`).
//! 8. The answer is built (`response`) and one JSON audit record is written (`audit`).
//!
//! What lives where (each module private; the interface is the `pub use` list below, and
//! `internal`, hidden, serves fuzz, bench and end-to-end code):
//!
//! - `pipeline`: the decision, sans-IO: `begin` → the key lookup (the only await, in a thin
//!   shell) → `resume`;
//! - `decision`: the outcome vocabulary, at the bottom (every other module imports from it):
//!   [`Refused`] (401), [`Forbidden`] (403), [`Decision`], and the `reasons!` table, the one
//!   declaration of every reason ([`Reason`]);
//! - `event` and `event_filter`: reading the event; `headers`: the headers the reader keeps,
//!   the union of what each check declares;
//! - the checks, each with its `*Rules` and their defaults: `cookie`, `bearer` (double-token
//!   mode), `csrf`, `routes`; token checks are the shared crate's `strict`;
//! - `keys`: the key cache and `KeySource`, the one seam for a source of keys (`state`: its
//!   rules, pure; `source`: what every source answers; `lambda`: secrets-fn through the
//!   Invoke API);
//! - `revocation`: the in-memory revocation set, its feed reads and `RevocationRules`;
//! - `response`: outcome → wire; `audit`: the record;
//! - `config`: environment → rules, one reader per section, every problem reported together
//!   (nothing but start-up imports it).
mod audit;
mod bearer;
mod config;
mod cookie;
mod csrf;
mod decision;
mod event;
mod event_filter;
mod headers;
mod keys;
mod pipeline;
mod response;
mod revocation;
mod routes;

// The public interface is:
pub use crate::audit::{AuditLayer, TARGET as AUDIT_TARGET};
pub use crate::config::{vars, Config, ConfigError, HttpApiResponse, Problem};
pub use crate::decision::{Decision, Forbidden, Reason, Refusal, Refused, Verified};
pub use crate::keys::{KeyCache, LambdaKeySource, Lookup};
pub use jwt_session::unix_now;

/// Items for the fuzz targets, benchmarks and the end-to-end harness. They do **not** form
/// part of the stable interface.
#[doc(hidden)]
pub mod internal {
    pub use crate::audit::record as audit_record;
    pub use crate::config::defaults;
    pub use crate::cookie::{find_token, CookieRules, MAX_TOKEN_BYTES};
    pub use crate::csrf::CsrfRules;
    pub use crate::event::{HeaderFilter, Payload, Request};
    pub use crate::headers::header_filter;
    pub use crate::keys::{CacheRules, FetchRules};
    pub use crate::pipeline::{decide_offline, decide_with, handle_offline};
    pub use crate::response::{build as build_answer, Answer, AnswerRules, Response};
    pub use crate::revocation::{
        DynamoFeed, Page, Pass, ReadError, RevocationRules, RevocationState, Revocations, Round,
        StartKey, INVOCATION_BUDGET,
    };
    pub use crate::routes::RouteRules;
    pub use jwt_session::strict;
}

use crate::event::Request;
use crate::pipeline::decide_with;
use crate::response::Answer;

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
            Decision::Allow(v) | Decision::Forbidden(v, _) => {
                revocations.check(v, now, invoked).await
            }
            Decision::Unauthorized(_) => Ok(()),
        };
        match (verdict, decision) {
            (Err(reason), Decision::Allow(v) | Decision::Forbidden(v, _)) => {
                Decision::Unauthorized(v.refusal(reason))
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
