//! Key lifecycle end to end: rotation through the four Secrets Manager steps, refresh on an
//! unknown kid, and the behaviour when Secrets Manager or secrets-fn fail (a loopback fault
//! proxy of our own sits in front of them).

use std::time::{Duration, Instant};

use e2e::events::rest;
use e2e::{authorizer_env, secrets_env, Fault, FaultProxy, Invocation, KeyFile, Stack, COOKIE};
use jwt_session::jwk::{JwkSet, Visibility};
use jwt_session::mint::{SessionClaims, SigningKey};
use serde_json::{json, Value};

fn cookie(token: &str) -> Value {
    rest("GET", Some(&format!("{COOKIE}={token}")), &[])
}

fn allowed(inv: &Invocation) -> bool {
    inv.effect() == Some("Allow")
}

/// Mints a token with the first key of a key set given as JSON.
fn mint_with(keys: &Value) -> (String, String) {
    let set = JwkSet::parse(&keys.to_string(), Visibility::Private).unwrap();
    let signer = SigningKey::from_jwk(&set.keys[0]).unwrap();
    let claims = SessionClaims {
        issuer: e2e::ISSUER,
        audience: e2e::AUDIENCE,
        subject: "alice",
        issued_at: authorizer_now(),
        lifetime: 600,
        jti: Some("j"),
        csrf: Some("c"),
        scope: None,
    };
    (
        signer
            .mint(&claims.to_map(), Some("JWT"))
            .unwrap()
            .expose()
            .to_owned(),
        signer.kid().to_owned(),
    )
}

fn authorizer_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn rotation_step(stack: &Stack, step: &str, token: &str) -> Invocation {
    stack
        .invoke(
            "secrets-fn",
            &json!({"Step": step, "SecretId": e2e::SECRET_ID, "ClientRequestToken": token}),
        )
        .await
}

async fn rotate(stack: &Stack, token: &str) {
    stack.start_rotation(token).await;
    for step in ["createSecret", "setSecret", "testSecret", "finishSecret"] {
        // Each step twice: they must be safe to repeat.
        for _ in 0..2 {
            let ans = rotation_step(stack, step, token).await;
            assert!(matches!(ans, Invocation::Ok(_)), "{step}: {ans:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn full_rotation_through_the_four_steps_keeps_previous_tokens_and_drops_retired_keys() {
    let mut stack = Stack::start();
    let keys = stack.keygen("keys.json", &["ES256"]);
    stack.create_secret(&keys.text()).await;
    let mut s_env = secrets_env();
    s_env.push(("ROTATION_OVERLAP_SECONDS", "0"));
    s_env.push(("SECRETS_FN_ACTIONS", "get_keys,rotate"));
    stack.start_function("secrets-fn", "secrets-fn", &s_env);
    let mut a_env = authorizer_env();
    a_env.push(("KEYS_REFRESH_MIN_INTERVAL_SECONDS", "1"));
    stack.start_function("authorizer", "authorizer", &a_env);
    let first: Value = serde_json::from_str(&keys.text()).unwrap();
    let (t1, k1) = mint_with(&first);
    assert!(allowed(&stack.invoke("authorizer", &cookie(&t1)).await));

    // A step for a version that is not pending, or with rotation unconfigured, is refused.
    match rotation_step(
        &stack,
        "createSecret",
        "00000000-0000-0000-0000-000000000000",
    )
    .await
    {
        Invocation::Error { error_type, .. } => assert_eq!(error_type, "rotation_disabled"),
        other => panic!("{other:?}"),
    }

    let v1 = "11111111-1111-4111-8111-111111111111";
    rotate(&stack, v1).await;
    assert_eq!(stack.versions_with("AWSCURRENT").await, vec![v1.to_owned()]);
    assert!(stack.versions_with("AWSPENDING").await.is_empty());
    let current = stack.secret_keys("AWSCURRENT").await;
    let kids: Vec<&str> = current["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(
        kids.len(),
        2,
        "new key first, then the retired signing key: {kids:?}"
    );
    assert_eq!(kids[1], k1);
    assert_eq!(
        current["keys"][0]["alg"], "ES256",
        "same algorithm as the current signing key"
    );
    let (t2, k2) = mint_with(&current);
    assert_ne!(k1, k2);

    // The new kid is accepted at once (unknown-kid refresh; secrets-fn revalidates), and the
    // previous key still verifies.
    assert!(
        allowed(&stack.invoke("authorizer", &cookie(&t2)).await),
        "new key right after rotation"
    );
    assert!(
        allowed(&stack.invoke("authorizer", &cookie(&t1)).await),
        "previous key still verifies"
    );

    // Two more rotations: k1 leaves both versions and its tokens are refused.
    rotate(&stack, "22222222-2222-4222-8222-222222222222").await;
    rotate(&stack, "33333333-3333-4333-8333-333333333333").await;
    let all = format!(
        "{}{}",
        stack.secret_keys("AWSCURRENT").await,
        stack.secret_keys("AWSPREVIOUS").await
    );
    assert!(!all.contains(&k1));
    // Let the authorizer's cache expire through an unknown kid, then k1 is unknown.
    let (t4, _) = mint_with(&stack.secret_keys("AWSCURRENT").await);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(allowed(&stack.invoke("authorizer", &cookie(&t4)).await));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let _ = stack.invoke("authorizer", &cookie(&t2)).await;
    let ans = stack.invoke("authorizer", &cookie(&t1)).await;
    assert!(
        ans.is_unauthorized(),
        "a key that left both versions: {ans:?}"
    );
    let records = stack.audit("authorizer");
    assert_eq!(records.last().unwrap()["reason"], "unknown_kid");

    // The rotation log names steps and kids, never key material.
    let out = stack.all_output();
    assert!(out.contains("rotation_key_created"));
    for k in current["keys"].as_array().unwrap() {
        assert!(!out.contains(k["d"].as_str().unwrap()));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flood_of_random_kids_costs_at_most_one_refresh_per_interval() {
    let mut stack = Stack::start();
    let proxy = FaultProxy::start(stack.moto_port);
    let keys = stack.keygen("keys.json", &["EdDSA"]);
    stack.create_secret(&keys.text()).await;
    let mut s_env = secrets_env();
    s_env.push((
        "AWS_ENDPOINT_URL_SECRETS_MANAGER",
        Box::leak(proxy.url().into_boxed_str()),
    ));
    stack.start_function("secrets-fn", "secrets-fn", &s_env);
    let mut a_env = authorizer_env();
    a_env.push(("KEYS_REFRESH_MIN_INTERVAL_SECONDS", "10"));
    stack.start_function("authorizer", "authorizer", &a_env);
    let good = keys.mint(&[]).token;
    assert!(allowed(&stack.invoke("authorizer", &cookie(&good)).await));
    let before = proxy.requests().len();
    let (head, rest_of) = good.split_once('.').unwrap();
    let _ = head;
    let started = Instant::now();
    for i in 0..1000 {
        let hdr = base64_url(
            &json!({"alg": "EdDSA", "kid": format!("random-kid-{i:04}"), "typ": "JWT"}).to_string(),
        );
        let forged = format!("{hdr}.{rest_of}");
        assert!(stack
            .invoke("authorizer", &cookie(&forged))
            .await
            .is_unauthorized());
    }
    let elapsed = started.elapsed();
    let sm_calls = proxy.requests().len() - before;
    let refreshes = stack
        .lines("authorizer")
        .iter()
        .filter(|l| l.contains("keys_refreshed") && l.contains("unknown_kid"))
        .count();
    let intervals = (elapsed.as_secs() / 10 + 1) as usize;
    println!("1000 random kids in {elapsed:?}: {refreshes} refresh(es), {sm_calls} Secrets Manager call(s)");
    assert!(
        refreshes <= intervals,
        "{refreshes} refreshes in {elapsed:?}"
    );
    assert!(
        sm_calls <= 3 * intervals,
        "{sm_calls} Secrets Manager calls: {:?}",
        proxy.requests()
    );
    let reasons: Vec<Value> = stack
        .audit("authorizer")
        .iter()
        .map(|r| r["reason"].clone())
        .collect();
    assert_eq!(
        reasons.iter().filter(|r| **r == "unknown_kid").count(),
        1000
    );
}

fn base64_url(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_manager_down_while_warm_serves_from_cache_then_fails_closed_then_recovers() {
    let mut stack = Stack::start();
    let proxy = FaultProxy::start(stack.moto_port);
    let keys = stack.keygen("keys.json", &["EdDSA"]);
    stack.create_secret(&keys.text()).await;
    let url = Box::leak(proxy.url().into_boxed_str());
    let mut s_env = secrets_env();
    s_env.extend([
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", &*url),
        ("SECRET_CACHE_TTL_SECONDS", "1"),
        ("SECRET_MAX_STALE_SECONDS", "1"),
    ]);
    stack.start_function("secrets-fn", "secrets-fn", &s_env);
    let mut a_env = authorizer_env();
    a_env.extend([
        ("KEYS_CACHE_TTL_SECONDS", "1"),
        ("KEYS_MAX_STALE_SECONDS", "4"),
    ]);
    stack.start_function("authorizer", "authorizer", &a_env);
    let token = keys.mint(&[]).token;
    assert!(allowed(&stack.invoke("authorizer", &cookie(&token)).await));

    proxy.set(Fault::Reset);
    let down_at = Instant::now();
    let mut served_stale = 0;
    let mut first_closed = None;
    while down_at.elapsed() < Duration::from_secs(11) {
        let ans = stack.invoke("authorizer", &cookie(&token)).await;
        if allowed(&ans) {
            assert!(
                first_closed.is_none(),
                "allowed again after failing closed while still down"
            );
            served_stale += 1;
        } else {
            assert!(ans.is_unauthorized());
            first_closed.get_or_insert(down_at.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let closed = first_closed.expect("never failed closed");
    assert!(
        served_stale > 0,
        "the cache did not serve while Secrets Manager was down"
    );
    // Bound: the authorizer's staleness (4 s) after its last good fetch, which secrets-fn may
    // still have answered from its own cache (TTL 1 s + staleness 1 s) after the outage began,
    // plus the time secrets-fn's SDK spends retrying a refused connection (about 2 s).
    assert!(
        closed >= Duration::from_secs(2) && closed <= Duration::from_secs(9),
        "failed closed after {closed:?}"
    );
    let last = stack.audit("authorizer").last().cloned().unwrap();
    assert_eq!(last["reason"], "key_unavailable");

    proxy.set(Fault::Forward);
    let back = Instant::now();
    let mut recovered = None;
    while back.elapsed() < Duration::from_secs(90) {
        if allowed(&stack.invoke("authorizer", &cookie(&token)).await) {
            recovered = Some(back.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let recovered = recovered.expect("no recovery without a restart");
    println!("served from cache {served_stale} times, failed closed after {closed:?}, recovered {recovered:?} after Secrets Manager came back");
    assert!(stack.function_running("authorizer"));
    let warn = stack
        .lines("authorizer")
        .iter()
        .any(|l| l.contains("keys_refresh_failed") && l.contains("\"cause\""));
    assert!(warn, "the log names the cause of the failed refreshes");
}

async fn key_server_fault(fault: Fault, cause_code: &str) {
    let mut stack = Stack::start();
    let proxy = FaultProxy::start(stack.watch_port);
    let keys = stack.keygen("keys.json", &["EdDSA"]);
    stack.create_secret(&keys.text()).await;
    stack.start_function("secrets-fn", "secrets-fn", &secrets_env());
    let url = Box::leak(proxy.url().into_boxed_str());
    let mut a_env = authorizer_env();
    a_env.extend([
        ("AWS_ENDPOINT_URL_LAMBDA", &*url),
        ("KEYS_CACHE_TTL_SECONDS", "1"),
        ("KEYS_MAX_STALE_SECONDS", "600"),
        ("KEYS_FETCH_TIMEOUT_MS", "500"),
        ("KEYS_CONNECT_TIMEOUT_MS", "200"),
    ]);
    stack.start_function("authorizer", "authorizer", &a_env);
    let token = keys.mint(&[]).token;
    assert!(allowed(&stack.invoke("authorizer", &cookie(&token)).await));

    // Warm: the fault only means stale keys keep serving, and the log names the cause.
    proxy.set(fault.clone());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let before = proxy.requests().len();
    assert!(
        allowed(&stack.invoke("authorizer", &cookie(&token)).await),
        "cached keys serve through {fault:?}"
    );
    let attempts = proxy.requests().len() - before;
    assert!(
        attempts <= 1,
        "one fetch attempt, no SDK retries: {attempts}"
    );
    let lines = stack.lines("authorizer").join("\n");
    assert!(
        lines.contains(cause_code),
        "cause {cause_code} not logged:\n{lines}"
    );

    // Cold: with no keys at all, the same fault is a deny, `key_unavailable`.
    stack.start_function("authorizer", "authorizer", &a_env);
    let ans = stack.invoke("authorizer", &cookie(&token)).await;
    assert!(ans.is_unauthorized(), "{ans:?}");
    let records = stack.wait_audit("authorizer", 1).await;
    assert_eq!(records[0]["reason"], "key_unavailable");
    assert!(stack.lines("authorizer").join("\n").contains(cause_code));
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_fn_slower_than_the_invoke_timeout() {
    key_server_fault(
        Fault::Delay(Duration::from_millis(1500)),
        "keys_invoke_failed",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_fn_returning_a_function_error_as_real_lambda_does() {
    let fault = Fault::Respond {
        status: 200,
        headers: vec![("x-amz-function-error".into(), "Unhandled".into())],
        body: r#"{"errorType":"secrets_manager","errorMessage":"boom"}"#.into(),
    };
    key_server_fault(fault, "keys_function_error").await;
}

/// `cargo lambda watch` answers a function's error with an error status and the error as the
/// body: the same function error as Lambda's 200 + `X-Amz-Function-Error`
/// (`jwt_session::invoke`), not a failure to reach the key server.
#[tokio::test(flavor = "multi_thread")]
async fn secrets_fn_returning_a_function_error_as_cargo_lambda_watch_does() {
    let fault = Fault::Respond {
        status: 500,
        headers: vec![],
        body: r#"{"errorType":"secrets_manager","errorMessage":"boom"}"#.into(),
    };
    key_server_fault(fault, "keys_function_error").await;
}

/// An error status whose body is not a function's error (a proxy's, a throttle's) is a failed
/// call: `keys_invoke_failed`.
#[tokio::test(flavor = "multi_thread")]
async fn the_invoke_api_answering_an_error_that_is_not_a_functions_is_a_failed_call() {
    let fault = Fault::Respond {
        status: 502,
        headers: vec![],
        body: "<html>bad gateway</html>".into(),
    };
    key_server_fault(fault, "keys_invoke_failed").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_fn_returning_malformed_json() {
    let fault = Fault::Respond {
        status: 200,
        headers: vec![],
        body: "{\"keys\": [".into(),
    };
    key_server_fault(fault, "keys_invalid_set").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_fn_returning_a_weak_or_mismatched_key() {
    use base64::Engine as _;
    let n = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xc1u8; 128]);
    let weak =
        json!({"keys": [{"kty": "RSA", "kid": "weak-rsa", "alg": "RS256", "n": n, "e": "AQAB"}]});
    key_server_fault(
        Fault::Respond {
            status: 200,
            headers: vec![],
            body: weak.to_string(),
        },
        "keys_invalid_set",
    )
    .await;
    // Ed25519 keys of small order (the identity; an order-8 point) and a non-canonical
    // encoding: a forged signature verifies under the first two.
    for x in [
        "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "JuiVj8KyJ7BFw_SJ8u-Y8NXfrAXTxjM5sTgCiG1T_AU",
        "7f_______________________________________38",
    ] {
        let small = json!({"keys": [{"kty": "OKP", "kid": "small", "alg": "EdDSA", "crv": "Ed25519", "x": x}]});
        key_server_fault(
            Fault::Respond {
                status: 200,
                headers: vec![],
                body: small.to_string(),
            },
            "keys_invalid_set",
        )
        .await;
    }
    let mismatched = json!({"keys": [{"kty": "EC", "kid": "mismatch", "alg": "EdDSA", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]});
    key_server_fault(
        Fault::Respond {
            status: 200,
            headers: vec![],
            body: mismatched.to_string(),
        },
        "keys_invalid_set",
    )
    .await;
}

/// `make soak`: 10,000 sequential authorizations through `cargo lambda watch`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "slow: run with `make soak`"]
async fn soak_ten_thousand_sequential_authorizations() {
    let mut stack = Stack::start();
    let proxy = FaultProxy::start(stack.moto_port);
    let keys: KeyFile = stack.keygen("keys.json", &["EdDSA"]);
    stack.create_secret(&keys.text()).await;
    let url = Box::leak(proxy.url().into_boxed_str());
    let mut s_env = secrets_env();
    s_env.extend([
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", &*url),
        ("SECRET_CACHE_TTL_SECONDS", "5"),
    ]);
    stack.start_function("secrets-fn", "secrets-fn", &s_env);
    let mut a_env = authorizer_env();
    a_env.push(("KEYS_CACHE_TTL_SECONDS", "5"));
    stack.start_function("authorizer", "authorizer", &a_env);
    let token = keys.mint(&["--ttl", "3600"]).token;
    let ev = cookie(&token);
    assert!(allowed(&stack.invoke("authorizer", &ev).await));
    let rss_start = stack.function_rss_kib("authorizer").unwrap();
    let started = Instant::now();
    let mut errors = 0;
    for i in 0..10_000 {
        if !allowed(&stack.invoke("authorizer", &ev).await) {
            errors += 1;
        }
        if i == 999 {
            // Measure after warm-up too.
        }
    }
    let elapsed = started.elapsed();
    let rss_end = stack.function_rss_kib("authorizer").unwrap();
    let sm = proxy.requests();
    let gets = sm.iter().filter(|r| r.contains("getsecretvalue")).count();
    let describes = sm.iter().filter(|r| r.contains("describesecret")).count();
    let bound = (elapsed.as_secs() / 5 + 2) as usize;
    println!(
        "soak: 10000 authorizations in {elapsed:?} ({:.0}/s), {errors} errors, authorizer RSS {rss_start} KiB -> {rss_end} KiB, Secrets Manager: {describes} DescribeSecret + {gets} GetSecretValue (TTL bound {bound} refreshes)",
        10_000.0 / elapsed.as_secs_f64()
    );
    assert_eq!(errors, 0);
    assert!(
        describes <= bound + 1,
        "{describes} DescribeSecret calls in {elapsed:?}"
    );
    assert!(
        gets <= 2,
        "the key set was read again although no version changed: {gets}"
    );
    assert!(
        rss_end < rss_start + 4096,
        "authorizer RSS grew from {rss_start} to {rss_end} KiB"
    );
}
