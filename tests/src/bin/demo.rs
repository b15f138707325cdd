//! `make demo`: the whole pair, locally, deciding a handful of requests.
//!
//! Starts moto's Secrets Manager and `cargo lambda watch` on free loopback ports, stores a
//! fresh EdDSA key set (generated now, never printed, deleted at exit) as the secret, runs
//! both functions, mints tokens with the `jwt-session` tool, invokes the authorizer and prints
//! one row per case with the reason from the audit record. Everything it started is stopped
//! at the end, on Ctrl-C and on SIGTERM.

use e2e::events::{http, rest};
use e2e::{authorizer_env, secrets_env, Invocation, Stack, COOKIE};
use serde_json::Value;

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
    stack.create_revocation_table().await;
    println!(
        "==> stored it as secret {} in moto (Secrets Manager on 127.0.0.1:{})",
        e2e::SECRET_ID,
        stack.moto_port
    );
    let mut s_env = secrets_env();
    s_env.extend([
        ("SECRETS_FN_ACTIONS", "get_keys,sign"),
        ("SIGN_ISSUER", e2e::ISSUER),
        ("SIGN_AUDIENCE", e2e::AUDIENCE),
        ("SIGN_LIFETIME_SECONDS", "6"),
    ]);
    s_env.extend(e2e::revocation_env());
    stack.start_function("secrets-fn", "secrets-fn", &s_env);
    let mut a_env = authorizer_env();
    a_env.extend(e2e::revocation_env());
    // The demo waits one refresh interval for a logout to reach the authorizer.
    a_env.push(("REVOCATION_REFRESH_SECONDS", "1"));
    stack.start_function("authorizer", "authorizer", &a_env);
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
    sessions(stack).await;
}

fn cookie_from(answer: &Invocation) -> String {
    answer.json()["cookies"][0]
        .as_str()
        .and_then(|c| c.split(';').next())
        .unwrap_or_default()
        .to_owned()
}

/// The cookie's life: log in, use it, renew it, log out.
async fn sessions(stack: &mut Stack) {
    println!("\n==> issuing cookies: the example login function asks secrets-fn (signing role) for a token");
    let password = jwt_session::mint::random_token(18).unwrap_or_default();
    let hash = jwt_session::password::hash(&password).unwrap_or_default();
    let users =
        serde_json::json!({"alice": {"password": hash, "scope": "orders:read orders:write"}});
    stack.start_login(&users, &[]);
    let mut rows: Vec<(String, String)> = Vec::new();
    let creds = serde_json::json!({"username": "alice", "password": password});
    let login = stack
        .invoke(
            "login-example",
            &e2e::events::login("/login", Some(creds), &[], None),
        )
        .await;
    let set_cookie = login.json()["cookies"][0]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let shown = match set_cookie.split_once(';') {
        Some((_, attrs)) => format!("__Host-session=<token>;{attrs}"),
        None => set_cookie.clone(),
    };
    rows.push((
        "POST /login (alice)".into(),
        format!("{} Set-Cookie: {shown}", login.json()["statusCode"]),
    ));
    let body_text = login.json()["body"].as_str().unwrap_or_default().to_owned();
    rows.push(("  response body (no token)".into(), body_text.clone()));
    let body: Value = serde_json::from_str(&body_text).unwrap_or(Value::Null);
    let csrf = body["csrf"].as_str().unwrap_or_default().to_owned();
    let cookie = cookie_from(&login);
    let get = stack
        .invoke("authorizer", &http("GET", &[&cookie], &[]))
        .await;
    rows.push(("GET /orders with the cookie".into(), answer(&get)));
    let post = stack
        .invoke(
            "authorizer",
            &http("POST", &[&cookie], &[("X-CSRF-Token", &csrf)]),
        )
        .await;
    rows.push(("POST /orders with X-CSRF-Token".into(), answer(&post)));
    println!("    (waiting 4.5 s: the demo signer issues 6 s tokens; renewal is offered in their last third)");
    tokio::time::sleep(std::time::Duration::from_millis(4500)).await;
    let get = stack
        .invoke("authorizer", &http("GET", &[&cookie], &[]))
        .await;
    let ctx = get.json()["context"].clone();
    rows.push((
        "GET /orders, late in the token's life".into(),
        format!("{}, context renew={}", answer(&get), ctx["renew"]),
    ));
    let renew = stack
        .invoke(
            "login-example",
            &e2e::events::login("/renew", None, &[&cookie], Some(&ctx)),
        )
        .await;
    let renewed = cookie_from(&renew);
    rows.push((
        "POST /renew".into(),
        format!(
            "{} new Set-Cookie (same session, new jti and csrf)",
            renew.json()["statusCode"]
        ),
    ));
    let get = stack
        .invoke("authorizer", &http("GET", &[&renewed], &[]))
        .await;
    rows.push(("GET /orders with the renewed cookie".into(), answer(&get)));
    let logout = stack
        .invoke(
            "login-example",
            &e2e::events::login("/logout", None, &[&renewed], None),
        )
        .await;
    let cleared = logout.json()["cookies"][0]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    rows.push((
        "POST /logout".into(),
        format!("{} Set-Cookie: {cleared}", logout.json()["statusCode"]),
    ));
    let after = stack.invoke("authorizer", &http("GET", &[], &[])).await;
    rows.push((
        "GET /orders after logout (no cookie)".into(),
        answer(&after),
    ));
    // Logout revoked the session (docs/revocation.md): a copy of the cookie taken before it stops
    // working once the authorizer's next refresh (1 s here, 5 s by default) has read it.
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let copy = stack
        .invoke("authorizer", &http("GET", &[&renewed], &[]))
        .await;
    rows.push(("GET /orders, a copy of the cookie".into(), answer(&copy)));
    let tampered = format!("{}x", &renewed[..renewed.len().saturating_sub(1)]);
    let bad = stack
        .invoke("authorizer", &http("GET", &[&tampered], &[]))
        .await;
    rows.push(("GET /orders with a tampered cookie".into(), answer(&bad)));
    for (what, result) in rows {
        println!("{what:<40} {result}");
    }
    let records = stack.audit("authorizer");
    let reasons: Vec<&str> = records
        .iter()
        .rev()
        .take(8)
        .rev()
        .filter_map(|r| r["reason"].as_str())
        .collect();
    println!("their audit reasons: {}", reasons.join(", "));
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
