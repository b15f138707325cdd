//! A local API Gateway stand-in for development and tests.
//!
//! It serves the HTTP API (payload 2.0) and the REST API (payload 1.0) that a SAM template
//! declares, each on its own loopback port, and does for every request what API Gateway does:
//! picks the route, reads the identity sources (401 without invoking the authorizer when one is
//! missing), consults the authorizer result cache or invokes the Lambda authorizer through the
//! Lambda Invoke API, evaluates its answer (simple response, or IAM policy with IAM's rules),
//! invokes the route's function with the authorizer's context, and maps its answer back to
//! HTTP. It writes one log line per request. Functions are reached only through the Invoke API
//! (`AWS_ENDPOINT_URL_LAMBDA`, locally `cargo lambda watch`): no function code runs in here.
//!
//! It serves any SAM template whose functions are `cargo lambda` binaries (see `gateway --help`
//! and the book page `docs/local-gateway.md`). Development tooling, not a product: it binds
//! loopback only and has none of API Gateway's throttling, WAF, custom domains, request
//! validation, CORS or mapping templates.
//!
//! What lives where: here, the request path, the authorizer result cache and the server;
//! [`template`] (routes and authorizers read from the template, and the context variables an
//! identity source may name), [`router`], [`event`] (the events API Gateway sends),
//! [`policy`] (IAM evaluation, simple answers), [`answer`] (responses and refusals), [`cli`]
//! (the command line, checked together, and the run).

pub mod answer;
pub mod cli;
pub mod event;
pub mod policy;
pub mod router;
pub mod template;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use http_body_util::BodyExt as _;
use hyper::body::Bytes;
use serde_json::{Map, Value};

use answer::{Refusal, Reply};
use event::{Incoming, Matched};
use policy::Outcome;
use template::{Api, ApiKind, Authorizer, Template};

/// API Gateway's payload limit.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// Entries the authorizer result cache holds at most (expired ones are dropped first).
pub const MAX_CACHE_ENTRIES: usize = 10_000;

/// Errors of the gateway (start-up only: every request gets an HTTP answer).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The template cannot be served.
    #[error("template: {0}")]
    Template(String),
    /// The configuration is invalid.
    #[error("configuration: {0}")]
    Config(String),
    /// A port could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// A stable code for the error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Template(_) => "template",
            Error::Config(_) => "config",
            Error::Bind { .. } => "bind",
        }
    }
}

/// One HTTP request as received: the path and query string as sent (not decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The method.
    pub method: String,
    /// The path.
    pub path: String,
    /// The query string, without `?`.
    pub query: String,
    /// Headers in arrival order, names lower-case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// The peer's address.
    pub source_ip: String,
}

/// How the authorizer took part in a request (for the log line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizerUse {
    /// The route has no authorizer.
    None,
    /// An identity source was missing: 401 without invoking it.
    IdentityMissing,
    /// It was invoked.
    Invoked,
    /// Its cached answer was used.
    Cached,
}

impl AuthorizerUse {
    fn as_str(self) -> &'static str {
        match self {
            AuthorizerUse::None => "none",
            AuthorizerUse::IdentityMissing => "identity_missing",
            AuthorizerUse::Invoked => "invoked",
            AuthorizerUse::Cached => "cached",
        }
    }
}

/// What one Invoke gave.
#[derive(Debug)]
enum Invoked {
    /// The function's JSON answer.
    Answer(Vec<u8>),
    /// The function failed with this `errorMessage`.
    FunctionError(String),
    /// The call failed (no such function, time-out, connection).
    Failed(String),
}

type CacheKey = (ApiKind, String, Vec<String>);

/// The authorizer result cache: answers by identity source values, until their TTL.
#[derive(Debug, Default)]
pub struct ResultCache {
    entries: Mutex<HashMap<CacheKey, (Instant, Value)>>,
}

impl ResultCache {
    fn get(&self, key: &CacheKey, now: Instant) -> Option<Value> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(until, _)| *until > now)
            .map(|(_, v)| v.clone())
    }

    fn put(&self, key: CacheKey, until: Instant, answer: Value, now: Instant) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_CACHE_ENTRIES {
                entries.retain(|_, (u, _)| *u > now);
                if entries.len() >= MAX_CACHE_ENTRIES {
                    entries.clear();
                }
            }
            entries.insert(key, (until, answer));
        }
    }

    /// Empties the cache (what `FlushStageAuthorizersCache` does).
    pub fn flush(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

/// The gateway: the template's APIs, the Invoke client, the result cache.
#[derive(Debug)]
pub struct Gateway {
    template: Template,
    lambda: aws_sdk_lambda::Client,
    cache: ResultCache,
}

fn request_id() -> String {
    let mut b = [0u8; 16];
    if aws_lc_rs::rand::fill(&mut b).is_err() {
        return "00000000-0000-0000-0000-000000000000".into();
    }
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        h.get(0..8).unwrap_or_default(),
        h.get(8..12).unwrap_or_default(),
        h.get(12..16).unwrap_or_default(),
        h.get(16..20).unwrap_or_default(),
        h.get(20..32).unwrap_or_default()
    )
}

/// An error and its causes, for the log.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

impl Gateway {
    /// A gateway for `template`, invoking functions with `lambda`.
    pub fn new(template: Template, lambda: aws_sdk_lambda::Client) -> Gateway {
        Gateway {
            template,
            lambda,
            cache: ResultCache::default(),
        }
    }

    /// The API of `kind`, if the template has one.
    pub fn api(&self, kind: ApiKind) -> Option<&Api> {
        match kind {
            ApiKind::Http => self.template.http.as_ref(),
            ApiKind::Rest => self.template.rest.as_ref(),
        }
    }

    /// The result cache.
    pub fn cache(&self) -> &ResultCache {
        &self.cache
    }

    async fn invoke(&self, function: &str, payload: &Value) -> Invoked {
        let body = match serde_json::to_vec(payload) {
            Ok(b) => b,
            Err(e) => return Invoked::Failed(e.to_string()),
        };
        match jwt_session::invoke::invoke(&self.lambda, function, body).await {
            Ok(jwt_session::invoke::Invoked::Answer(bytes)) => Invoked::Answer(bytes),
            Ok(jwt_session::invoke::Invoked::FunctionError { message, .. }) => {
                Invoked::FunctionError(message)
            }
            // A client error of the Invoke API (no such function, a payload it refuses):
            // API Gateway answers as for a failed function.
            Err(failed) if failed.status.is_some_and(|s| s < 500) => {
                Invoked::FunctionError(String::new())
            }
            Err(failed) => Invoked::Failed(error_chain(&failed)),
        }
    }

    async fn authorize(
        &self,
        m: &Matched<'_>,
        authorizer: &Authorizer,
        context: &Value,
    ) -> (Outcome, AuthorizerUse) {
        let mut identity = Vec::with_capacity(authorizer.identity.len());
        for source in &authorizer.identity {
            match m.identity_value(source, context) {
                Some(v) => identity.push(v),
                None => return (Outcome::Unauthorized, AuthorizerUse::IdentityMissing),
            }
        }
        let arn = event::execute_arn(m.api, m.req);
        let flat = m.api.kind == ApiKind::Rest;
        let key: CacheKey = (m.api.kind, authorizer.name.clone(), identity.clone());
        let now = Instant::now();
        if authorizer.ttl_seconds > 0 {
            if let Some(answer) = self.cache.get(&key, now) {
                return (
                    policy::interpret(&answer, authorizer.simple, &arn, flat),
                    AuthorizerUse::Cached,
                );
            }
        }
        let ev = m.authorizer_event(context, &identity);
        let outcome = match self.invoke(&authorizer.function, &ev).await {
            Invoked::Answer(bytes) => match serde_json::from_slice::<Value>(&bytes) {
                Ok(answer) => {
                    let outcome = policy::interpret(&answer, authorizer.simple, &arn, flat);
                    if authorizer.ttl_seconds > 0 && !matches!(outcome, Outcome::Failure(_)) {
                        let until = now + Duration::from_secs(authorizer.ttl_seconds);
                        self.cache.put(key, until, answer, now);
                    }
                    outcome
                }
                Err(_) => Outcome::Failure("the answer is not JSON".into()),
            },
            Invoked::FunctionError(msg) if msg == "Unauthorized" => Outcome::Unauthorized,
            Invoked::FunctionError(_) => Outcome::Failure("the authorizer failed".into()),
            Invoked::Failed(e) => Outcome::Failure(e),
        };
        (outcome, AuthorizerUse::Invoked)
    }

    /// Answers one request to the API of `kind`.
    pub async fn handle(&self, kind: ApiKind, received: Received) -> (Reply, AuthorizerUse) {
        let Received {
            method,
            path: raw_path,
            query: raw_query,
            headers,
            body,
            source_ip,
        } = received;
        let Some(api) = self.api(kind) else {
            return (Refusal::NoRoute.reply(kind), AuthorizerUse::None);
        };
        let rel = match kind {
            ApiKind::Http => Some(raw_path.as_str()),
            ApiKind::Rest => raw_path
                .strip_prefix('/')
                .and_then(|p| p.strip_prefix(api.stage.as_str()))
                .filter(|rest| rest.is_empty() || rest.starts_with('/')),
        };
        let Some(rel) = rel else {
            return (Refusal::Forbidden.reply(kind), AuthorizerUse::None);
        };
        let rel = if rel.is_empty() { "/" } else { rel };
        let req = Incoming {
            method: method.to_ascii_uppercase(),
            path: percent_encoding::percent_decode_str(rel)
                .decode_utf8_lossy()
                .into_owned(),
            raw_path: rel.to_owned(),
            raw_query,
            headers,
            body,
            source_ip,
            request_id: request_id(),
            time: SystemTime::now(),
        };
        let Some((route, path_parameters)) = router::find(api, &req.method, &req.path) else {
            return (Refusal::NoRoute.reply(kind), AuthorizerUse::None);
        };
        let m = Matched {
            api,
            route,
            path_parameters,
            req: &req,
        };
        let context = m.request_context();
        let mut used = AuthorizerUse::None;
        let mut authorizer_value = None;
        if let Some(name) = &route.authorizer {
            let Some(authorizer) = api.authorizers.get(name) else {
                return (Refusal::AuthorizerFailure.reply(kind), used);
            };
            let started = Instant::now();
            let (outcome, u) = self.authorize(&m, authorizer, &context).await;
            used = u;
            let refusal = match outcome {
                Outcome::Allow {
                    context: ctx,
                    principal,
                } => {
                    authorizer_value =
                        Some(authorizer_context(kind, ctx, principal, started.elapsed()));
                    None
                }
                Outcome::Forbidden => Some(Refusal::Forbidden),
                Outcome::ExplicitDeny => Some(Refusal::ExplicitDeny),
                Outcome::NotAllowed => Some(Refusal::NotAllowed),
                Outcome::Unauthorized => Some(Refusal::Unauthorized),
                Outcome::Failure(why) => {
                    tracing::warn!(target: "gateway", authorizer = %authorizer.name, error = %why, "authorizer failure");
                    Some(Refusal::AuthorizerFailure)
                }
            };
            if let Some(r) = refusal {
                return (r.reply(kind), used);
            }
        }
        let ev = m.integration_event(context, authorizer_value);
        let reply = match self.invoke(&route.function, &ev).await {
            Invoked::Answer(bytes) => answer::map_integration(kind, &bytes).unwrap_or_else(|| {
                tracing::warn!(target: "gateway", function = %route.function, "malformed integration answer");
                Refusal::IntegrationFailure.reply(kind)
            }),
            Invoked::FunctionError(_) => Refusal::IntegrationFailure.reply(kind),
            Invoked::Failed(e) => {
                tracing::warn!(target: "gateway", function = %route.function, error = %e, "integration failed");
                Refusal::IntegrationFailure.reply(kind)
            }
        };
        (reply, used)
    }
}

/// What API Gateway puts in `requestContext.authorizer`.
fn authorizer_context(
    kind: ApiKind,
    context: Map<String, Value>,
    principal: Option<String>,
    latency: Duration,
) -> Value {
    match kind {
        ApiKind::Http => {
            let mut a = Map::new();
            a.insert("lambda".into(), Value::Object(context));
            if let Some(p) = principal {
                a.insert("principalId".into(), Value::String(p));
            }
            Value::Object(a)
        }
        ApiKind::Rest => {
            // A REST API hands the context to a proxy integration with every value a string
            // (`1` → `"1"`, `true` → `"true"`; `null` stays `null`).
            let mut a: Map<String, Value> = context
                .into_iter()
                .map(|(k, v)| (k, stringified(v)))
                .collect();
            if let Some(p) = principal {
                a.insert("principalId".into(), Value::String(p));
            }
            a.insert(
                "integrationLatency".into(),
                Value::from(u64::try_from(latency.as_millis()).unwrap_or(u64::MAX)),
            );
            Value::Object(a)
        }
    }
}

/// A REST authorizer context value as the integration receives it: numbers and booleans as
/// their JSON text ([Output from an API Gateway Lambda authorizer](https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html):
/// "The returned values are all stringified").
fn stringified(v: Value) -> Value {
    match v {
        Value::Number(n) => Value::String(n.to_string()),
        Value::Bool(b) => Value::String(b.to_string()),
        other => other,
    }
}

fn to_http(reply: Reply) -> hyper::Response<http_body_util::Full<Bytes>> {
    let mut resp = hyper::Response::new(http_body_util::Full::new(Bytes::from(reply.body)));
    *resp.status_mut() = hyper::StatusCode::from_u16(reply.status)
        .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    for (k, v) in reply.headers {
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(k.as_bytes()),
            hyper::header::HeaderValue::from_str(&v),
        ) {
            h.append(name, value);
        }
    }
    resp
}

/// Serves the API of `kind` on `listener` until the task is dropped.
pub async fn serve(gateway: Arc<Gateway>, kind: ApiKind, listener: tokio::net::TcpListener) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: wait rather than spin.
                tracing::warn!(target: "gateway", error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let gw = gateway.clone();
        tokio::spawn(async move {
            let svc =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let gw = gw.clone();
                    async move { Ok::<_, std::convert::Infallible>(gw.http(kind, req, peer).await) }
                });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                .await;
        });
    }
}

impl Gateway {
    async fn http(
        &self,
        kind: ApiKind,
        req: hyper::Request<hyper::body::Incoming>,
        peer: std::net::SocketAddr,
    ) -> hyper::Response<http_body_util::Full<Bytes>> {
        let started = Instant::now();
        let (parts, body) = req.into_parts();
        let method = parts.method.as_str().to_owned();
        let raw_path = parts.uri.path().to_owned();
        let raw_query = parts.uri.query().unwrap_or_default().to_owned();
        let headers: Vec<(String, String)> = parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = http_body_util::Limited::new(body, MAX_BODY_BYTES)
            .collect()
            .await;
        let (reply, used) = match body {
            Ok(b) => {
                let received = Received {
                    method: method.clone(),
                    path: raw_path.clone(),
                    query: raw_query,
                    headers,
                    body: b.to_bytes().to_vec(),
                    source_ip: peer.ip().to_string(),
                };
                self.handle(kind, received).await
            }
            Err(_) => (Refusal::TooLarge.reply(kind), AuthorizerUse::None),
        };
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        // The path only: a query string may carry anything, and the log carries no secrets.
        tracing::info!(
            target: "gateway",
            api = match kind { ApiKind::Http => "http", ApiKind::Rest => "rest" },
            method = %method,
            path = %raw_path,
            status = reply.status,
            authorizer = used.as_str(),
            latency_ms = (latency_ms * 1000.0).round() / 1000.0,
            "request"
        );
        to_http(reply)
    }
}
