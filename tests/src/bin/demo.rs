//! `make demo`: the whole pair, locally, deciding a handful of requests.
//!
//! Starts moto's Secrets Manager and `cargo lambda watch` on free loopback ports, stores a
//! fresh EdDSA key set (generated now, never printed, deleted at exit) as the secret, runs
//! both functions, mints tokens with the `jwt-session` tool, invokes the authorizer and prints
//! one row per case with the reason from the audit record. Everything it started is stopped
//! at the end, on Ctrl-C and on SIGTERM.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use e2e::events::{http, rest};
use e2e::{authorizer_env, secrets_env, Invocation, Stack};
use serde_json::Value;

const COOKIE: &str = "__Host-session";

struct Row {
    case: &'static str,
    api: &'static str,
    answer: String,
    decision: String,
    reason: String,
}

fn answer(inv: &Invocation) -> String {
    match inv {
        Invocation::Error { message, .. } if message == "Unauthorized" => "401 Unauthorized".into(),
        Invocation::Error { error_type, .. } => format!("error {error_type}"),
        Invocation::Ok(v) if v.get("isAuthorized").is_some() => {
            if v["isAuthorized"] == Value::Bool(true) {
                "200 isAuthorized".into()
            } else {
                "403 isAuthorized=false".into()
            }
        }
        Invocation::Ok(v) => match v["policyDocument"]["Statement"][0]["Effect"].as_str() {
            Some("Allow") => "200 Allow policy".into(),
            Some("Deny") => "403 Deny policy".into(),
            _ => "?".into(),
        },
    }
}

async fn run(stack: &mut Stack) {
    println!(
        "==> generating a fresh EdDSA key set (kept in {}, never printed)",
        stack.dir.path().display()
    );
    let keys = stack.keygen("dev-keys.json", &["EdDSA"]);
    stack.create_secret(&keys.text()).await;
    println!(
        "==> stored it as secret {} in moto (Secrets Manager on 127.0.0.1:{})",
        e2e::SECRET_ID,
        stack.moto_port
    );
    stack.start_function("secrets-fn", "secrets-fn", &secrets_env());
    stack.start_function("authorizer", "authorizer", &authorizer_env());
    println!(
        "==> secrets-fn and authorizer running under cargo lambda watch (127.0.0.1:{})\n",
        stack.watch_port
    );

    let good = keys.mint(&["--scope", "orders:read orders:write"]);
    let csrf = good.csrf.clone().unwrap_or_default();
    let expired = keys.mint(&["--issued-offset", "-7200", "--ttl", "900"]);
    let other_env = stack.keygen("other-env-keys.json", &["EdDSA"]).mint(&[]);
    let c = |t: &str| format!("theme=dark; {COOKIE}={t}");
    let cases: Vec<(&str, &str, Value)> = vec![
        (
            "valid cookie, GET",
            "REST",
            rest("GET", Some(&c(&good.token)), &[]),
        ),
        (
            "valid cookie, GET",
            "HTTP",
            http("GET", &[&format!("{COOKIE}={}", good.token)], &[]),
        ),
        ("no cookie", "REST", rest("GET", Some("theme=dark"), &[])),
        ("no cookie", "HTTP", http("GET", &["theme=dark"], &[])),
        (
            "expired token",
            "REST",
            rest("GET", Some(&c(&expired.token)), &[]),
        ),
        (
            "tampered token",
            "HTTP",
            http("GET", &[&format!("{COOKIE}={}", good.tampered())], &[]),
        ),
        (
            "key from another environment",
            "REST",
            rest("GET", Some(&c(&other_env.token)), &[]),
        ),
        (
            "POST without CSRF header",
            "REST",
            rest("POST", Some(&c(&good.token)), &[]),
        ),
        (
            "POST with CSRF header",
            "REST",
            rest("POST", Some(&c(&good.token)), &[("X-CSRF-Token", &csrf)]),
        ),
        (
            "POST with CSRF header",
            "HTTP",
            http(
                "POST",
                &[&format!("{COOKIE}={}", good.token)],
                &[("X-CSRF-Token", &csrf)],
            ),
        ),
        (
            "POST from a foreign Origin",
            "HTTP",
            http(
                "POST",
                &[&format!("{COOKIE}={}", good.token)],
                &[("X-CSRF-Token", &csrf), ("Origin", "https://evil.example")],
            ),
        ),
        (
            "cookie twice, different values",
            "REST",
            rest(
                "GET",
                Some(&format!(
                    "{COOKIE}={}; {COOKIE}={}",
                    good.token, other_env.token
                )),
                &[],
            ),
        ),
    ];
    let mut rows = Vec::new();
    for (i, (case, api, event)) in cases.iter().enumerate() {
        let inv = stack.invoke("authorizer", event).await;
        let records = stack.wait_audit("authorizer", i + 1).await;
        let rec = records.get(i).cloned().unwrap_or(Value::Null);
        rows.push(Row {
            case,
            api,
            answer: answer(&inv),
            decision: rec["decision"].as_str().unwrap_or("?").to_owned(),
            reason: rec["reason"].as_str().unwrap_or("?").to_owned(),
        });
    }
    println!(
        "{:<32} {:<5} {:<24} {:<8} reason",
        "case", "API", "API Gateway answers", "decision"
    );
    println!("{}", "-".repeat(84));
    for r in &rows {
        println!(
            "{:<32} {:<5} {:<24} {:<8} {}",
            r.case, r.api, r.answer, r.decision, r.reason
        );
    }
    let records = stack.audit("authorizer");
    println!(
        "\n{} audit records written, one per attempt. The first one:",
        records.len()
    );
    if let Some(first) = records.first() {
        println!("{}", serde_json::to_string(first).unwrap_or_default());
    }
    let leaked = [&good.token, &expired.token, &other_env.token]
        .iter()
        .any(|t| stack.all_output().contains(t.as_str()));
    println!(
        "tokens in any log: {}",
        if leaked { "YES (bug)" } else { "none" }
    );
}

#[tokio::main]
async fn main() {
    let mut stack = Stack::start();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        () = run(&mut stack) => {}
        _ = tokio::signal::ctrl_c() => eprintln!("\ninterrupted"),
        _ = term.recv() => eprintln!("\nterminated"),
    }
    println!("==> stopping everything the demo started");
    drop(stack);
}
