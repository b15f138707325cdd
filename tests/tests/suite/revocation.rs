//! Sessions you can end (docs/revocation.md), end to end through `cargo lambda watch` and moto's
//! DynamoDB: logging out, "log out everywhere", renewal after revocation, DynamoDB going down
//! while the authorizer is warm, and how many DynamoDB calls a container makes.
//!
//! The authorizer reads the table through a fault proxy (counting its `Query` calls) with
//! `REVOCATION_REFRESH_SECONDS=1`, so "within the bound" is a second and a little.

use std::time::{Duration, Instant};

use e2e::events::{login, rest};
use e2e::{
    authorizer_env, revocation_env, secrets_env, Fault, FaultProxy, Invocation, Stack, AUDIENCE,
    COOKIE, ISSUER,
};
use serde_json::{json, Value};

const PASSWORD: &str = "correct horse battery staple";
const REFRESH: Duration = Duration::from_secs(1);
/// The feed's shards here (signer and authorizer): more than one, so that every read is of
/// several partitions, few enough to count calls.
const SHARDS: &str = "2";
/// The bound plus the time one read takes, with room for a slow machine.
const WITHIN_BOUND: Duration = Duration::from_millis(1600);

struct Pair {
    stack: Stack,
    proxy: FaultProxy,
    started: Instant,
}

async fn start(max_stale: &'static str) -> Pair {
    start_with("EdDSA", &[("REVOCATION_MAX_STALE_SECONDS", max_stale)]).await
}

/// The pair with revocation on, one signing key of `alg` in the secret, the authorizer
/// reading the table through the fault proxy with `authorizer_extra` in its environment, and
/// the example login with users alice and bob.
async fn start_with(alg: &str, authorizer_extra: &[(&'static str, &'static str)]) -> Pair {
    let mut stack = Stack::start();
    stack.create_revocation_table().await;
    let proxy = FaultProxy::start(stack.moto_port);
    let keys = stack.keygen("keys.json", &[alg]);
    stack.create_secret(&keys.text()).await;
    let hash = stack.hash_password(PASSWORD);
    let users = json!({
        "alice": {"password": hash, "scope": "orders:read"},
        "bob": {"password": hash, "scope": "orders:read"},
    });
    let mut s_env = secrets_env();
    s_env.extend(revocation_env());
    s_env.push(("REVOCATION_SHARDS", SHARDS));
    s_env.extend([
        ("SECRETS_FN_ACTIONS", "get_keys,sign"),
        ("SIGN_ISSUER", ISSUER),
        ("SIGN_AUDIENCE", AUDIENCE),
        ("SIGN_LIFETIME_SECONDS", "600"),
        ("SESSION_MAX_SECONDS", "3600"),
    ]);
    stack.start_function("secrets-fn", "secrets-fn", &s_env);
    let mut a_env = authorizer_env();
    a_env.extend(revocation_env());
    a_env.extend([
        ("REVOCATION_REFRESH_SECONDS", "1"),
        ("REVOCATION_SHARDS", SHARDS),
        (
            "AWS_ENDPOINT_URL_DYNAMODB",
            Box::leak(proxy.url().into_boxed_str()),
        ),
    ]);
    a_env.extend_from_slice(authorizer_extra);
    stack.start_function("authorizer", "authorizer", &a_env);
    stack.start_login(&users, &[]);
    Pair {
        stack,
        proxy,
        started: Instant::now(),
    }
}

/// Logs `user` in through the example login: the session token.
async fn log_in(stack: &Stack, user: &str) -> String {
    let body = json!({"username": user, "password": PASSWORD});
    let ans = stack
        .invoke("login-example", &login("/login", Some(body), &[], None))
        .await;
    assert_eq!(ans.json()["statusCode"], 200, "{ans:?}");
    let set_cookie = ans.json()["cookies"][0].as_str().unwrap();
    set_cookie
        .strip_prefix(&format!("{COOKIE}="))
        .and_then(|r| r.split(';').next())
        .unwrap()
        .to_owned()
}

/// The authorizer's verdict on a GET with `token`: the audit record's reason.
async fn reason(stack: &Stack, token: &str) -> String {
    let before = stack.audit("authorizer").len();
    let cookie = format!("{COOKIE}={token}");
    let ans = stack
        .invoke("authorizer", &rest("GET", Some(&cookie), &[]))
        .await;
    let records = stack.wait_audit("authorizer", before + 1).await;
    let reason = records.last().unwrap()["reason"]
        .as_str()
        .unwrap()
        .to_owned();
    // The answer follows the reason: 401 for every refusal here.
    assert_eq!(ans.is_unauthorized(), reason != "ok", "{reason}: {ans:?}");
    reason
}

/// `Query` calls the authorizer made to DynamoDB.
fn queries(proxy: &FaultProxy) -> usize {
    proxy
        .requests()
        .iter()
        .filter(|r| r.ends_with(".query"))
        .count()
}

fn renew(token: &str) -> Value {
    json!({"action": "renew", "token": token})
}

fn error_type(ans: &Invocation) -> &str {
    match ans {
        Invocation::Error { error_type, .. } => error_type,
        Invocation::Ok(v) => panic!("expected an error, got {v}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn logging_out_and_logging_out_everywhere_end_sessions_on_a_warm_authorizer() {
    let Pair {
        stack,
        proxy,
        started,
    } = start("300").await;
    let alice_1 = log_in(&stack, "alice").await;
    let alice_2 = log_in(&stack, "alice").await;
    let bob = log_in(&stack, "bob").await;
    for t in [&alice_1, &alice_2, &bob] {
        assert_eq!(reason(&stack, t).await, "ok");
    }

    // Log out alice's first session; a copy of its cookie is refused within the bound.
    let copied = alice_1.clone();
    let ans = stack
        .invoke(
            "login-example",
            &login("/logout", None, &[&format!("{COOKIE}={alice_1}")], None),
        )
        .await;
    assert_eq!(ans.json()["statusCode"], 200, "{ans:?}");
    assert!(ans.json()["body"]
        .as_str()
        .unwrap()
        .contains("\"revoked\":true"));
    assert!(ans.json()["cookies"][0]
        .as_str()
        .unwrap()
        .contains("Max-Age=0"));
    let logged_out = Instant::now();
    // The signer reads the table consistently: renewal is refused at once.
    let ans = stack.invoke("secrets-fn", &renew(&copied)).await;
    assert_eq!(error_type(&ans), "revoked");
    tokio::time::sleep(WITHIN_BOUND.saturating_sub(logged_out.elapsed())).await;
    assert_eq!(reason(&stack, &copied).await, "revoked");
    let record = stack.audit("authorizer").last().cloned().unwrap();
    assert_eq!(record["sub"], "alice");
    assert!(record["sid"].as_str().is_some_and(|s| !s.is_empty()));
    // Alice's other session and bob's are untouched.
    assert_eq!(reason(&stack, &alice_2).await, "ok");
    assert_eq!(reason(&stack, &bob).await, "ok");
    assert!(stack
        .invoke("secrets-fn", &renew(&alice_2))
        .await
        .json()
        .get("token")
        .is_some());

    // Log out everywhere: every earlier session of alice (and its renewal) ends; bob's not.
    let ans = stack
        .invoke(
            "secrets-fn",
            &json!({"action": "revoke_subject", "sub": "alice"}),
        )
        .await;
    assert_eq!(ans.json()["revoked"], "subject", "{ans:?}");
    let everywhere = Instant::now();
    assert_eq!(
        error_type(&stack.invoke("secrets-fn", &renew(&alice_2)).await),
        "revoked"
    );
    tokio::time::sleep(WITHIN_BOUND.saturating_sub(everywhere.elapsed())).await;
    assert_eq!(reason(&stack, &alice_2).await, "revoked");
    assert_eq!(reason(&stack, &copied).await, "revoked");
    assert_eq!(reason(&stack, &bob).await, "ok");
    // A new login right after the answer is a new session that works (the signer answers a
    // subject revocation only once its second is over).
    let alice_3 = log_in(&stack, "alice").await;
    assert_eq!(reason(&stack, &alice_3).await, "ok");

    // Each revocation is an audit record of the session authority.
    let signer = stack.lines("secrets-fn").join("\n");
    assert!(signer.contains("session_revoked"), "{signer}");
    assert!(signer.contains("subject_revoked"));

    // DynamoDB calls of this container: one per shard to load, then at most one per shard
    // per interval, however many requests were decided.
    let elapsed = started.elapsed();
    let decisions = stack.audit("authorizer").len();
    let calls = queries(&proxy);
    let shards: f64 = SHARDS.parse().unwrap();
    let bound = shards * (2.0 + elapsed.as_secs_f64() / REFRESH.as_secs_f64());
    println!(
        "{decisions} decisions in {elapsed:?}: {calls} DynamoDB Query calls (bound {bound:.1})"
    );
    assert!(calls >= 2, "the set was loaded and refreshed: {calls}");
    assert!((calls as f64) <= bound, "{calls} calls in {elapsed:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn dynamodb_down_while_warm_serves_the_last_set_then_fails_closed_then_recovers() {
    let Pair { stack, proxy, .. } = start("4").await;
    let revoked = log_in(&stack, "alice").await;
    let valid = log_in(&stack, "bob").await;
    let ans = stack
        .invoke(
            "login-example",
            &login("/logout", None, &[&format!("{COOKIE}={revoked}")], None),
        )
        .await;
    assert_eq!(ans.json()["statusCode"], 200);
    tokio::time::sleep(WITHIN_BOUND).await;
    assert_eq!(reason(&stack, &revoked).await, "revoked");
    assert_eq!(reason(&stack, &valid).await, "ok");
    let pid = stack.function_pid("authorizer");

    // DynamoDB fails (every call answered 500): the last set serves (the revoked session
    // stays refused) ...
    proxy.set(Fault::Respond {
        status: 500,
        headers: vec![],
        body: json!({"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError", "message": "down"}).to_string(),
    });
    let down = Instant::now();
    let calls_before = queries(&proxy);
    let mut served = 0;
    while down.elapsed() < Duration::from_millis(2500) {
        assert_eq!(reason(&stack, &valid).await, "ok");
        assert_eq!(reason(&stack, &revoked).await, "revoked");
        served += 2;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // ... until REVOCATION_MAX_STALE_SECONDS after the last successful read: fail closed.
    tokio::time::sleep(Duration::from_millis(3000)).await;
    assert_eq!(reason(&stack, &valid).await, "key_unavailable");
    assert_eq!(reason(&stack, &revoked).await, "key_unavailable");
    let outage = down.elapsed();
    // Failed reads are not retried faster than the interval (per shard).
    let failed_calls = queries(&proxy) - calls_before;
    let shards: f64 = SHARDS.parse().unwrap();
    let bound = shards * (1.0 + outage.as_secs_f64() / REFRESH.as_secs_f64());
    println!("{served} decisions served from the last set; {failed_calls} Query attempts in {outage:?} of outage (bound {bound:.1})");
    assert!(failed_calls >= 2, "reads were retried: {failed_calls}");
    assert!(
        (failed_calls as f64) <= bound,
        "{failed_calls} attempts in {outage:?}"
    );
    let warnings = stack.lines("authorizer").join("\n");
    assert!(warnings.contains("revocations_refresh_failed"));

    // DynamoDB is back: the same process serves again within the bound.
    proxy.set(Fault::Forward);
    tokio::time::sleep(WITHIN_BOUND).await;
    assert_eq!(reason(&stack, &valid).await, "ok");
    assert_eq!(reason(&stack, &revoked).await, "revoked");
    assert_eq!(stack.function_pid("authorizer"), pid, "no restart");
}

/// The session id of a session token (its payload's `sid`).
fn sid_of(token: &str) -> String {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    claims["sid"].as_str().unwrap().to_owned()
}

/// Writes session revocations for `sids` as the signer does, in one shard's order.
async fn revoke_directly(stack: &Stack, sids: &[String]) {
    use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
    use jwt_session::revocation::{dynamodb::to_item, Entry, FeedShards};
    let shards = FeedShards::new(SHARDS.parse().unwrap()).unwrap();
    for chunk in sids.chunks(25) {
        let now_ms = jwt_session::unix_now_ms();
        let batch: Vec<WriteRequest> = chunk
            .iter()
            .map(|sid| {
                let item = to_item(&Entry::session(sid.clone(), now_ms, 600, 0), shards);
                WriteRequest::builder()
                    .put_request(PutRequest::builder().set_item(Some(item)).build().unwrap())
                    .build()
            })
            .collect();
        stack
            .dynamodb
            .batch_write_item()
            .request_items(e2e::REVOCATION_TABLE, batch)
            .send()
            .await
            .unwrap();
    }
}

/// DynamoDB's throttling answer for a `Query`.
fn throttled(kind: &str) -> Fault {
    Fault::Respond {
        status: 400,
        headers: vec![],
        body: json!({"__type": format!("com.amazonaws.dynamodb.v20120810#{kind}"), "message": "slow down"}).to_string(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_and_a_page_timing_out_mid_read_keep_progress_and_never_fail_closed_within_the_bound(
) {
    // The staleness bound is 10 s: nothing here may make the authorizer fail closed. A page
    // may take 2.5 s (moto reads a 2,000-item page in about one).
    let Pair { stack, proxy, .. } = start_with(
        "EdDSA",
        &[
            ("REVOCATION_MAX_STALE_SECONDS", "10"),
            ("REVOCATION_TIMEOUT_MS", "2500"),
        ],
    )
    .await;
    let valid = log_in(&stack, "bob").await;
    let first = log_in(&stack, "alice").await;
    let second = log_in(&stack, "alice").await;
    assert_eq!(reason(&stack, &valid).await, "ok");

    // 1. Throttling: the next four `Query` calls are refused by DynamoDB, both kinds.
    proxy.on_requests_containing(
        "DynamoDB_20120810.Query",
        vec![
            throttled("ThrottlingException"),
            throttled("ProvisionedThroughputExceededException"),
            throttled("ThrottlingException"),
            throttled("ProvisionedThroughputExceededException"),
        ],
    );
    revoke_directly(&stack, &[sid_of(&first)]).await;
    let written = Instant::now();
    let mut refused_after = None;
    while written.elapsed() < Duration::from_secs(8) && refused_after.is_none() {
        assert_eq!(reason(&stack, &valid).await, "ok", "served while throttled");
        if reason(&stack, &first).await == "revoked" {
            refused_after = Some(written.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(proxy.faults_left(), 0, "every throttled answer was given");
    let refused_after = refused_after.expect("the revocation is read once throttling ends");
    println!("throttled four times: the revocation was enforced after {refused_after:?}");

    // 2. A backlog of two pages on each shard; the first continuation page does not arrive
    //    within REVOCATION_TIMEOUT_MS. What the first pages held is enforced at once; the
    //    pass goes on from where it stopped.
    proxy.on_requests_containing(
        "ExclusiveStartKey",
        vec![Fault::Delay(Duration::from_secs(5))],
    );
    let filler: Vec<String> = (0..4_200).map(|i| format!("filler-{i:0>16}")).collect();
    let mut sids = filler;
    sids.push(sid_of(&second));
    let rounds_before = stack
        .lines("authorizer")
        .iter()
        .filter(|l| l.contains("revocations_refreshed"))
        .count();
    revoke_directly(&stack, &sids).await;
    let written = Instant::now();
    let mut refused_after = None;
    let resumed = || {
        stack
            .lines("authorizer")
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .any(|v| v["event"] == "revocations_refreshed" && v["resumed"].as_u64() > Some(0))
    };
    while written.elapsed() < Duration::from_secs(20) && (refused_after.is_none() || !resumed()) {
        assert_eq!(
            reason(&stack, &valid).await,
            "ok",
            "served during the backlog"
        );
        assert_eq!(reason(&stack, &first).await, "revoked");
        if refused_after.is_none() && reason(&stack, &second).await == "revoked" {
            refused_after = Some(written.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(proxy.faults_left(), 0, "the continuation page was delayed");
    let refused_after = refused_after.expect("the last page is read after the time-out");
    let rounds: Vec<Value> = stack
        .lines("authorizer")
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["event"] == "revocations_refreshed")
        .skip(rounds_before)
        .collect();
    let total = |field: &str| -> u64 { rounds.iter().filter_map(|r| r[field].as_u64()).sum() };
    println!(
        "a page timed out mid-read: the last revocation enforced after {refused_after:?}; {} rounds, {} items read, {} page(s) failed, {} resumed",
        rounds.len(),
        total("items"),
        total("failed"),
        total("resumed"),
    );
    assert!(total("failed") >= 1, "a page failed: {rounds:?}");
    // Resumed from where it stopped, not restarted.
    assert!(total("resumed") >= 1, "{rounds:?}");
    assert!(total("items") >= 4_201);
    // Never failed closed: no refusal for a reason other than revocation.
    let unavailable = stack
        .audit("authorizer")
        .iter()
        .filter(|r| r["reason"] == "key_unavailable")
        .count();
    assert_eq!(unavailable, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paseto_session_is_issued_accepted_renewed_and_revoked_through_the_real_binaries() {
    // The secret holds one v4.public key: the signer mints PASETO, the key server serves it.
    let Pair {
        stack,
        proxy: _proxy,
        ..
    } = start_with(
        "v4.public",
        &[
            ("REVOCATION_MAX_STALE_SECONDS", "300"),
            ("TOKEN_FORMATS", "paseto"),
        ],
    )
    .await;
    let token = log_in(&stack, "alice").await;
    assert!(token.starts_with("v4.public."), "{token}");
    assert_eq!(reason(&stack, &token).await, "ok");
    let record = stack.audit("authorizer").last().cloned().unwrap();
    assert!(record["kid"].as_str().unwrap().starts_with("k4.pid."));
    assert_eq!(record["sub"], "alice");
    // Renewal keeps the session.
    let renewed = stack.invoke("secrets-fn", &renew(&token)).await;
    let renewed_token = renewed.json()["token"].as_str().unwrap().to_owned();
    assert!(renewed_token.starts_with("v4.public."));
    assert_eq!(reason(&stack, &renewed_token).await, "ok");
    // This authorizer takes PASETO only: a JWT (of a key it does not even have) is malformed,
    // and so is a PASETO of another version or purpose.
    let jwt = stack.keygen("other.json", &["EdDSA"]).mint(&[]).token;
    assert_eq!(reason(&stack, &jwt).await, "malformed");
    let v3 = token.replacen("v4.public.", "v3.public.", 1);
    assert_eq!(reason(&stack, &v3).await, "malformed");
    let local = token.replacen("v4.public.", "v4.local.", 1);
    assert_eq!(reason(&stack, &local).await, "malformed");
    // Logging out revokes the session: both of its tokens are refused within the bound.
    let ans = stack
        .invoke(
            "login-example",
            &login(
                "/logout",
                None,
                &[&format!("{COOKIE}={renewed_token}")],
                None,
            ),
        )
        .await;
    assert_eq!(ans.json()["statusCode"], 200, "{ans:?}");
    tokio::time::sleep(WITHIN_BOUND).await;
    assert_eq!(reason(&stack, &token).await, "revoked");
    assert_eq!(reason(&stack, &renewed_token).await, "revoked");
    let out = stack.all_output();
    assert!(
        !out.contains(&token) && !out.contains(&renewed_token),
        "a token in a log"
    );
}
