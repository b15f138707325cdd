//! The pair end to end: real binaries under `cargo lambda watch`, Secrets Manager from moto.

use e2e::events::{http, rest};
use e2e::{authorizer_env, secrets_env, Invocation, Stack, COOKIE};
use serde_json::{json, Value};

async fn stack_with_keys(
    algs: &[&str],
    auth_env: &[(&str, &str)],
    secrets_extra: &[(&str, &str)],
) -> (Stack, e2e::KeyFile) {
    let mut stack = Stack::start();
    let keys = stack.keygen("keys.json", algs);
    stack.create_secret(&keys.text()).await;
    let mut s_env = secrets_env();
    s_env.extend_from_slice(secrets_extra);
    stack.start_function("secrets-fn", "secrets-fn", &s_env);
    let mut a_env = authorizer_env();
    a_env.extend_from_slice(auth_env);
    stack.start_function("authorizer", "authorizer", &a_env);
    (stack, keys)
}

fn cookie(token: &str) -> String {
    format!("theme=dark; {COOKIE}={token}; lang=en")
}

#[tokio::test(flavor = "multi_thread")]
async fn rest_and_http_api_decide_as_the_contract_says() {
    let (stack, keys) = stack_with_keys(&["EdDSA"], &[], &[]).await;
    let good = keys.mint(&["--scope", "orders:read"]);

    // REST, valid cookie: Allow policy for the method ARN, principal = sub, string context.
    let ev = rest("GET", Some(&cookie(&good.token)), &[]);
    let ans = stack.invoke("authorizer", &ev).await;
    let v = ans.json();
    assert_eq!(v["principalId"], "alice");
    assert_eq!(v["policyDocument"]["Statement"][0]["Effect"], "Allow");
    assert_eq!(
        v["policyDocument"]["Statement"][0]["Resource"][0],
        ev["methodArn"]
    );
    assert_eq!(v["context"]["sub"], "alice");
    assert_eq!(v["context"]["kid"], good.kid.as_str());
    assert_eq!(v["context"]["scope"], "orders:read");
    assert!(v["context"]["exp"].is_string());
    assert!(v["context"]["jti"].is_string());

    // HTTP API 2.0 simple, valid cookie in `cookies`.
    let ans = stack
        .invoke(
            "authorizer",
            &http("GET", &[&format!("{COOKIE}={}", good.token)], &[]),
        )
        .await;
    assert_eq!(ans.json()["isAuthorized"], true);
    assert_eq!(ans.json()["context"]["sub"], "alice");

    // No cookie: REST 401, HTTP false.
    assert!(stack
        .invoke("authorizer", &rest("GET", Some("theme=dark"), &[]))
        .await
        .is_unauthorized());
    let ans = stack.invoke("authorizer", &http("GET", &[], &[])).await;
    assert_eq!(ans.json()["isAuthorized"], false);

    // Expired, tampered, foreign key.
    let expired = keys.mint(&["--issued-offset", "-3600", "--ttl", "600"]);
    let foreign = stack.keygen("other-env.json", &["EdDSA"]).mint(&[]);
    for token in [
        expired.token.clone(),
        good.tampered(),
        foreign.token.clone(),
    ] {
        assert!(stack
            .invoke("authorizer", &rest("GET", Some(&cookie(&token)), &[]))
            .await
            .is_unauthorized());
    }

    // POST: without the CSRF header a Deny policy (403); with it, Allow.
    let csrf = good.csrf.clone().unwrap();
    let ans = stack
        .invoke("authorizer", &rest("POST", Some(&cookie(&good.token)), &[]))
        .await;
    assert_eq!(ans.effect(), Some("Deny"));
    let ans = stack
        .invoke(
            "authorizer",
            &rest(
                "POST",
                Some(&cookie(&good.token)),
                &[("X-CSRF-Token", &csrf)],
            ),
        )
        .await;
    assert_eq!(ans.effect(), Some("Allow"));
    let ans = stack
        .invoke(
            "authorizer",
            &http(
                "DELETE",
                &[&format!("{COOKIE}={}", good.token)],
                &[("x-csrf-token", &csrf), ("origin", "https://evil.test")],
            ),
        )
        .await;
    assert_eq!(ans.json()["isAuthorized"], false);

    // Two different values for the cookie.
    let twice = format!("{COOKIE}={}; {COOKIE}={}", good.token, foreign.token);
    assert!(stack
        .invoke("authorizer", &rest("GET", Some(&twice), &[]))
        .await
        .is_unauthorized());

    // One audit record per attempt, with the expected reasons, and no token anywhere.
    let records = stack.wait_audit("authorizer", 12).await;
    let reasons: Vec<&str> = records
        .iter()
        .map(|r| r["reason"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(
        reasons,
        [
            "ok",
            "ok",
            "no_token",
            "no_token",
            "expired",
            "bad_sig",
            "unknown_kid",
            "csrf",
            "ok",
            "csrf",
            "ambiguous_cookie"
        ]
    );
    assert_eq!(records.len(), 11, "{records:#?}");
    let first = &records[0];
    assert_eq!(first["decision"], "allow");
    assert_eq!(first["sub"], "alice");
    assert_eq!(first["kid"], good.kid.as_str());
    assert_eq!(first["source_ip"], "203.0.113.10");
    assert_eq!(first["route_arn"], ev["methodArn"]);
    assert!(first["request_id"].as_str().unwrap().starts_with("rest-"));
    assert_eq!(
        records[4]["sub"], "alice",
        "expired token verified: its sub is logged"
    );
    assert!(
        records[5].get("sub").is_none(),
        "tampered token: nothing from its claims is logged"
    );
    let all = stack.all_output();
    for secret in [
        &good.token,
        &expired.token,
        &foreign.token,
        &good.tampered(),
        &csrf,
    ] {
        assert!(
            !all.contains(secret.as_str()),
            "a token or csrf value reached the logs"
        );
    }
    assert!(!all.contains(good.signature()));
}

#[tokio::test(flavor = "multi_thread")]
async fn http_api_iam_mode_answers_with_policies() {
    let (stack, keys) = stack_with_keys(
        &["ES256"],
        &[("HTTP_API_RESPONSE", "iam"), ("JWT_ALGORITHMS", "ES256")],
        &[],
    )
    .await;
    let good = keys.mint(&[]);
    let ev = http("GET", &[&format!("{COOKIE}={}", good.token)], &[]);
    let ans = stack.invoke("authorizer", &ev).await;
    assert_eq!(ans.json()["principalId"], "alice");
    assert_eq!(
        ans.json()["policyDocument"]["Statement"][0]["Resource"][0],
        ev["routeArn"]
    );
    assert!(stack
        .invoke("authorizer", &http("GET", &[], &[]))
        .await
        .is_unauthorized());
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_fn_serves_only_public_keys_and_explains_unknown_events() {
    let (stack, keys) = stack_with_keys(&["EdDSA", "RS256", "HS256"], &[], &[]).await;
    let ans = stack
        .invoke("secrets-fn", &json!({"action": "get_keys"}))
        .await;
    let served = ans.json()["keys"].as_array().unwrap().clone();
    assert_eq!(
        served.len(),
        2,
        "the HS256 key stays inside without ALLOW_SYMMETRIC_KEYS"
    );
    for k in &served {
        for m in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(k.get(m).is_none(), "private member {m} served");
        }
    }
    assert_eq!(served[0]["kid"], keys.kids()[0].as_str());
    match stack.invoke("secrets-fn", &json!({"hello": "world"})).await {
        Invocation::Error { message, .. } => assert!(message.contains("get_keys"), "{message}"),
        other => panic!("expected an error, got {other:?}"),
    }
    let private: Value = serde_json::from_str(&keys.text()).unwrap();
    let all = stack.all_output();
    for k in private["keys"].as_array().unwrap() {
        for m in ["d", "p", "q", "k"] {
            if let Some(s) = k[m].as_str() {
                assert!(!all.contains(s), "key material in the logs");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn symmetric_keys_are_served_and_accepted_only_when_opted_in() {
    let (stack, keys) = stack_with_keys(
        &["HS256"],
        &[("JWT_ALGORITHMS", "HS256")],
        &[("ALLOW_SYMMETRIC_KEYS", "true")],
    )
    .await;
    let token = keys.mint(&[]).token;
    let ans = stack
        .invoke("authorizer", &rest("GET", Some(&cookie(&token)), &[]))
        .await;
    assert_eq!(ans.effect(), Some("Allow"));

    let (stack, keys) = stack_with_keys(&["HS256"], &[("JWT_ALGORITHMS", "HS256")], &[]).await;
    let token = keys.mint(&[]).token;
    assert!(stack
        .invoke("authorizer", &rest("GET", Some(&cookie(&token)), &[]))
        .await
        .is_unauthorized());
    let records = stack.wait_audit("authorizer", 1).await;
    assert_eq!(
        records[0]["reason"], "key_unavailable",
        "no key can be served at all: {records:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_secret_version_is_picked_up_after_the_ttl() {
    let (stack, old) = stack_with_keys(
        &["EdDSA"],
        &[
            ("KEYS_CACHE_TTL_SECONDS", "1"),
            ("KEYS_REFRESH_MIN_INTERVAL_SECONDS", "3600"),
            ("KEYS_MAX_STALE_SECONDS", "60"),
        ],
        &[("SECRET_CACHE_TTL_SECONDS", "0")],
    )
    .await;
    let old_token = old.mint(&[]).token;
    assert!(
        stack
            .invoke("authorizer", &rest("GET", Some(&cookie(&old_token)), &[]))
            .await
            .json()["principalId"]
            == "alice"
    );
    // Spend the one unknown-kid refresh of the interval before the rotation.
    let stranger = stack.keygen("stranger.json", &["EdDSA"]).mint(&[]).token;
    assert!(stack
        .invoke("authorizer", &rest("GET", Some(&cookie(&stranger)), &[]))
        .await
        .is_unauthorized());

    let new = stack.keygen("new.json", &["EdDSA"]);
    stack.put_secret(&new.text()).await;
    let new_token = new.mint(&[]).token;
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let ans = stack
        .invoke("authorizer", &rest("GET", Some(&cookie(&new_token)), &[]))
        .await;
    assert_eq!(ans.effect(), Some("Allow"), "new key after the TTL");
    let ans = stack
        .invoke("authorizer", &rest("GET", Some(&cookie(&old_token)), &[]))
        .await;
    assert_eq!(ans.effect(), Some("Allow"), "AWSPREVIOUS still verifies");

    // A second rotation: the first key has left both versions.
    let newer = stack.keygen("newer.json", &["EdDSA"]);
    stack.put_secret(&newer.text()).await;
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert!(stack
        .invoke("authorizer", &rest("GET", Some(&cookie(&old_token)), &[]))
        .await
        .is_unauthorized());
    let records = stack.wait_audit("authorizer", 5).await;
    assert_eq!(records.last().unwrap()["reason"], "unknown_kid");
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_manager_down_at_cold_start_fails_closed_without_crashing() {
    let mut stack = Stack::start();
    let keys = stack.keygen("keys.json", &["EdDSA"]);
    stack.stop_moto();
    stack.start_function("secrets-fn", "secrets-fn", &secrets_env());
    stack.start_function("authorizer", "authorizer", &authorizer_env());
    let token = keys.mint(&[]).token;
    for _ in 0..3 {
        assert!(stack
            .invoke("authorizer", &rest("GET", Some(&cookie(&token)), &[]))
            .await
            .is_unauthorized());
        let ans = stack
            .invoke(
                "authorizer",
                &http("GET", &[&format!("{COOKIE}={token}")], &[]),
            )
            .await;
        assert_eq!(ans.json()["isAuthorized"], false);
    }
    let records = stack.wait_audit("authorizer", 6).await;
    assert_eq!(records.len(), 6);
    assert!(
        records.iter().all(|r| r["reason"] == "key_unavailable"),
        "{records:#?}"
    );
    assert!(stack.function_running("authorizer"));
    assert!(stack.function_running("secrets-fn"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_configuration_stops_the_authorizer_listing_every_problem() {
    let mut stack = Stack::start();
    stack.start_function(
        "authorizer",
        "authorizer",
        &[("JWT_ALGORITHMS", "none"), ("HTTP_API_RESPONSE", "both")],
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while stack.function_running("authorizer") && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        !stack.function_running("authorizer"),
        "a misconfigured authorizer kept running"
    );
    let out = stack.lines("authorizer").join("\n");
    for var in [
        "JWT_ISSUER",
        "JWT_AUDIENCE",
        "JWT_ALGORITHMS",
        "HTTP_API_RESPONSE",
    ] {
        assert!(out.contains(var), "{var} not reported:\n{out}");
    }
}
