//! The cost of a decision, beside its floor.
//!
//! For each algorithm, in the same run:
//! - `floor`: the bare signature verification with aws-lc-rs, key pre-parsed;
//! - `jsonwebtoken_decode`: `jsonwebtoken::decode` alone (issuer, audience, expiry checked);
//! - `decision/rest` and `decision/http`: raw event JSON in, answer JSON and audit record out;
//! - `parts/*`: the REST decision's stages on their own (the runtime's JSON check and copy,
//!   reading the event, cookie and token, answer and audit).
//!
//! And the deny paths (REST event, EdDSA keys loaded): no token, oversized cookie, malformed
//! token, unknown kid (cache fresh), bad signature, expired.
//!
//! Run: `make bench` (or `cargo bench -p authorizer-bench --bench decision`). The ratio of each
//! decision to its floor is what the README reports.

use std::hint::black_box;
use std::sync::Arc;

use authorizer::internal::strict::KeyRing;
use authorizer::Config;
use criterion::{criterion_group, criterion_main, Criterion};

use authorizer_bench::floor::floor;
use jwt_session::keygen::generate;
use jwt_session::mint::{SessionClaims, SigningKey};
use jwt_session::{Alg, Jwk, JwkSet};
use serde_json::{json, Value};

const ISS: &str = "https://issuer.example";
const AUD: &str = "orders-api";

fn now() -> u64 {
    authorizer::unix_now()
}

fn cfg() -> Config {
    let pairs = [
        ("JWT_ISSUER", ISS),
        ("JWT_AUDIENCE", AUD),
        ("JWT_ALGORITHMS", "EdDSA,ES256,RS256,HS256"),
    ];
    Config::from_lookup(|k| {
        pairs
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    })
    .expect("config")
}

fn mint(jwk: &Jwk) -> String {
    let claims = SessionClaims {
        issuer: ISS,
        audience: AUD,
        subject: "alice",
        issued_at: now(),
        lifetime: 3600,
        jti: Some("jti-0123456789"),
        csrf: Some("csrf-0123456789"),
        scope: Some("orders:read"),
    };
    SigningKey::from_jwk(jwk)
        .and_then(|s| s.mint(&claims.to_map(), Some("JWT")))
        .expect("mint")
        .expose()
        .to_owned()
}

/// A realistic REST API REQUEST event (payload 1.0) carrying `cookie`.
fn rest_event(cookie: &str) -> Vec<u8> {
    let headers = json!({
        "Accept": "application/json", "Accept-Encoding": "gzip, deflate, br",
        "Accept-Language": "en-GB,en;q=0.9", "Cookie": cookie,
        "Host": "abc123.execute-api.eu-west-1.amazonaws.com",
        "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
        "X-Amzn-Trace-Id": "Root=1-67891233-abcdef012345678912345678",
        "X-Forwarded-For": "203.0.113.10", "X-Forwarded-Port": "443", "X-Forwarded-Proto": "https"
    });
    let multi: serde_json::Map<String, Value> = headers
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), json!([v]))).collect())
        .unwrap_or_default();
    serde_json::to_vec(&json!({
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/orders",
        "resource": "/orders", "path": "/orders", "httpMethod": "GET",
        "headers": headers, "multiValueHeaders": multi,
        "queryStringParameters": {"page": "1"}, "multiValueQueryStringParameters": {"page": ["1"]},
        "pathParameters": {}, "stageVariables": {},
        "requestContext": {
            "path": "/prod/orders", "accountId": "123456789012", "resourceId": "r1a2b3",
            "stage": "prod", "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": "203.0.113.10", "userAgent": "Mozilla/5.0"},
            "resourcePath": "/orders", "httpMethod": "GET", "apiId": "abc123"
        }
    }))
    .expect("json")
}

/// A realistic HTTP API event, payload 2.0, carrying `cookies`.
fn http_event(cookies: &[&str]) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "version": "2.0", "type": "REQUEST",
        "routeArn": "arn:aws:execute-api:eu-west-1:123456789012:xyz789/$default/GET/orders",
        "identitySource": ["$request.header.cookie"], "routeKey": "GET /orders",
        "rawPath": "/orders", "rawQueryString": "page=1", "cookies": cookies,
        "headers": {
            "accept": "application/json", "accept-encoding": "gzip, deflate, br",
            "host": "xyz789.execute-api.eu-west-1.amazonaws.com",
            "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0",
            "x-amzn-trace-id": "Root=1-67891233-abcdef012345678912345678",
            "x-forwarded-for": "198.51.100.20", "x-forwarded-proto": "https"
        },
        "queryStringParameters": {"page": "1"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "xyz789",
            "domainName": "xyz789.execute-api.eu-west-1.amazonaws.com", "domainPrefix": "xyz789",
            "http": {"method": "GET", "path": "/orders", "protocol": "HTTP/1.1",
                     "sourceIp": "198.51.100.20", "userAgent": "Mozilla/5.0"},
            "requestId": "JKJaXmPLvHcESHA=", "routeKey": "GET /orders", "stage": "$default",
            "time": "30/Nov/2026:00:00:00 +0000", "timeEpoch": 1796000000000_i64
        }
    }))
    .expect("json")
}

fn benches(c: &mut Criterion) {
    // Audit records are formatted as in Lambda, then discarded.
    let subscriber = tracing_subscriber::layer::SubscriberExt::with(
        tracing_subscriber::registry(),
        authorizer::AuditLayer::with_writer(std::io::sink),
    );
    let _ = tracing::subscriber::set_global_default(subscriber);
    let cfg = cfg();
    for alg in [Alg::EdDSA, Alg::ES256, Alg::RS256, Alg::HS256] {
        let jwk = generate(alg).expect("keygen");
        let token = mint(&jwk);
        // The clock the decisions see: fixed per group, so timings do not include reading it.
        let t = now();
        let public = JwkSet {
            keys: vec![jwk.clone()],
        }
        .to_public(true);
        let ring = Arc::new(KeyRing::from_set(&public));
        let verify_floor = floor(&jwk, &token);
        assert!(verify_floor());
        let mut g = c.benchmark_group(alg.as_str());
        g.bench_function("floor", |b| b.iter(|| black_box(verify_floor())));
        let decoding = public.keys[0].decoding_key().expect("key");
        let mut validation =
            jsonwebtoken::Validation::new(alg.to_jsonwebtoken().expect("a JWT algorithm"));
        validation.set_issuer(&[ISS]);
        validation.set_audience(&[AUD]);
        g.bench_function("jsonwebtoken_decode", |b| {
            b.iter(|| {
                jsonwebtoken::decode::<Value>(black_box(&token), &decoding, &validation).is_ok()
            })
        });
        let rest = rest_event(&format!("theme=dark; __Host-session={token}; lang=en"));
        let cookie = format!("__Host-session={token}");
        let http = http_event(&["theme=dark", &cookie, "lang=en"]);
        for (name, event) in [("decision/rest", &rest), ("decision/http", &http)] {
            let (answer, decision) = authorizer::internal::handle_offline(event, &cfg, t, &ring);
            assert_eq!(decision.reason(), authorizer::Reason::Ok, "{alg} {name}");
            assert!(matches!(answer, authorizer::internal::Answer::Json(_)));
            g.bench_function(name, |b| {
                b.iter(|| {
                    let started = std::time::Instant::now();
                    // What the Lambda runtime does with the bytes, then the handler.
                    let raw: Box<serde_json::value::RawValue> =
                        serde_json::from_slice(black_box(event)).expect("json");
                    let req = authorizer::internal::Request::read(raw.get(), &cfg.read_headers);
                    let decision = authorizer::internal::decide_offline(&req, &cfg, t, &ring);
                    let answer = authorizer::internal::build_answer(&req, &decision, &cfg.answer);
                    authorizer::internal::audit_record(
                        &req,
                        &decision,
                        "bench",
                        t,
                        started.elapsed(),
                    );
                    match answer {
                        authorizer::internal::Answer::Json(v) => {
                            serde_json::to_vec(&v).map(|b| b.len()).unwrap_or(0)
                        }
                        authorizer::internal::Answer::Unauthorized => 0,
                    }
                })
            });
        }
        {
            // Where the time goes, REST event: the stages of a decision on their own.
            let text = std::str::from_utf8(&rest).unwrap_or("null");
            let req = authorizer::internal::Request::read(text, &cfg.read_headers);
            let decision = authorizer::internal::decide_offline(&req, &cfg, t, &ring);
            g.bench_function("parts/0_runtime_json", |b| {
                b.iter(|| {
                    let raw: Box<serde_json::value::RawValue> =
                        serde_json::from_slice(black_box(&rest)).expect("json");
                    raw
                })
            });
            g.bench_function("parts/1_read_event", |b| {
                b.iter(|| authorizer::internal::Request::read(black_box(text), &cfg.read_headers))
            });
            g.bench_function("parts/2_cookie_and_token", |b| {
                b.iter(|| authorizer::internal::decide_offline(black_box(&req), &cfg, t, &ring))
            });
            g.bench_function("parts/3_answer_and_audit", |b| {
                b.iter(|| {
                    let answer =
                        authorizer::internal::build_answer(&req, black_box(&decision), &cfg.answer);
                    authorizer::internal::audit_record(
                        &req,
                        &decision,
                        "bench",
                        t,
                        std::time::Duration::from_micros(40),
                    );
                    match answer {
                        authorizer::internal::Answer::Json(v) => {
                            serde_json::to_vec(&v).map(|b| b.len()).unwrap_or(0)
                        }
                        authorizer::internal::Answer::Unauthorized => 0,
                    }
                })
            });
        }
        g.finish();
    }

    // Deny paths, EdDSA key loaded and fresh.
    let t = now();
    let jwk = generate(Alg::EdDSA).expect("keygen");
    let token = mint(&jwk);
    let ring = KeyRing::from_set(
        &JwkSet {
            keys: vec![jwk.clone()],
        }
        .to_public(false),
    );
    let other = mint(&generate(Alg::EdDSA).expect("keygen"));
    let (head, sig) = token.rsplit_once('.').expect("token");
    let bad_sig = format!("{head}.{}", &other.rsplit_once('.').expect("token").1);
    let expired = {
        let claims = SessionClaims {
            issuer: ISS,
            audience: AUD,
            subject: "alice",
            issued_at: t - 7200,
            lifetime: 600,
            jti: None,
            csrf: None,
            scope: None,
        };
        SigningKey::from_jwk(&jwk)
            .and_then(|s| s.mint(&claims.to_map(), None))
            .expect("mint")
            .expose()
            .to_owned()
    };
    let mut g = c.benchmark_group("deny");
    for (name, cookie, reason) in [
        ("no_token", "theme=dark; lang=en".to_owned(), "no_token"),
        (
            "too_large",
            format!("__Host-session={}", "a".repeat(5000)),
            "too_large",
        ),
        ("malformed", format!("__Host-session={head}"), "malformed"),
        (
            "unknown_kid",
            format!("__Host-session={other}"),
            "unknown_kid",
        ),
        ("bad_sig", format!("__Host-session={bad_sig}"), "bad_sig"),
        ("expired", format!("__Host-session={expired}"), "expired"),
    ] {
        let event = rest_event(&cookie);
        let (_, d) = authorizer::internal::handle_offline(&event, &cfg, t, &ring);
        assert_eq!(d.reason().as_str(), reason, "{name}");
        g.bench_function(name, |b| {
            b.iter(|| authorizer::internal::handle_offline(black_box(&event), &cfg, t, &ring).1)
        });
    }
    let _ = sig;
    g.finish();
}

criterion_group!(decision, benches);
criterion_main!(decision);
