//! Issuing cookies: the signer role of secrets-fn and the example login function, end to end
//! with the authorizer.

use std::time::Duration;

use base64::Engine as _;
use e2e::events::{http, rest};
use e2e::{authorizer_env, secrets_env, Invocation, Stack, AUDIENCE, COOKIE, ISSUER};
use serde_json::{json, Value};

const PASSWORD: &str = "correct horse battery staple";

fn token_of(set_cookie: &str) -> String {
    set_cookie
        .strip_prefix(&format!("{COOKIE}="))
        .and_then(|r| r.split(';').next())
        .unwrap()
        .to_owned()
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

async fn start() -> Stack {
    let mut stack = Stack::start();
    let keys = stack.keygen("keys.json", &["EdDSA"]);
    stack.create_secret(&keys.text()).await;
    let hash = stack.hash_password(PASSWORD);
    let users = json!({"alice": {"password": hash, "scope": "orders:read orders:write"}});
    let mut s_env = secrets_env();
    s_env.extend([
        ("SECRETS_FN_ACTIONS", "get_keys,sign"),
        ("SIGN_ISSUER", ISSUER),
        ("SIGN_AUDIENCE", AUDIENCE),
        ("SIGN_LIFETIME_SECONDS", "6"),
        ("SESSION_MAX_SECONDS", "60"),
        ("SIGN_MAX_CLAIMS_BYTES", "256"),
    ]);
    stack.start_function("secrets-fn", "secrets-fn", &s_env);
    stack.start_function("authorizer", "authorizer", &authorizer_env());
    stack.start_login(&users, &[]);
    stack
}

#[tokio::test(flavor = "multi_thread")]
async fn login_cookie_is_accepted_renewed_and_cleared() {
    let stack = start().await;

    // Wrong password and unknown user: 401, no cookie.
    for (user, pw) in [("alice", "wrong"), ("mallory", PASSWORD)] {
        let ans = stack
            .invoke(
                "login-example",
                &e2e::events::login(
                    "/login",
                    Some(json!({"username": user, "password": pw})),
                    &[],
                    None,
                ),
            )
            .await;
        assert_eq!(ans.json()["statusCode"], 401, "{user}");
        assert!(ans.json()["cookies"]
            .as_array()
            .is_none_or(|c| c.is_empty()));
    }

    // Login: the token only in Set-Cookie; the body has what the page needs.
    let ans = stack
        .invoke(
            "login-example",
            &e2e::events::login(
                "/login",
                Some(json!({"username": "alice", "password": PASSWORD})),
                &[],
                None,
            ),
        )
        .await;
    let v = ans.json();
    assert_eq!(v["statusCode"], 200);
    let set_cookie = v["cookies"][0].as_str().unwrap().to_owned();
    assert!(set_cookie.starts_with("__Host-session="));
    assert!(
        set_cookie.contains("Max-Age=6; Path=/; Secure; HttpOnly; SameSite=Strict"),
        "{set_cookie}"
    );
    let token = token_of(&set_cookie);
    let body: Value = serde_json::from_str(v["body"].as_str().unwrap()).unwrap();
    assert!(
        !v["body"].as_str().unwrap().contains(&token),
        "the token must never be in the body"
    );
    let csrf = body["csrf"].as_str().unwrap().to_owned();
    let claims = claims_of(&token);
    assert_eq!(claims["csrf"], csrf.as_str());
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["scope"], "orders:read orders:write");
    let auth_time = claims["auth_time"].clone();

    // The authorizer accepts the signer's token; POST with the CSRF value from the body.
    let cookie = format!("{COOKIE}={token}");
    let ans = stack
        .invoke("authorizer", &rest("GET", Some(&cookie), &[]))
        .await;
    assert_eq!(ans.effect(), Some("Allow"));
    assert_eq!(ans.json()["context"]["renew"], "false");
    let ans = stack
        .invoke(
            "authorizer",
            &rest("POST", Some(&cookie), &[("X-CSRF-Token", &csrf)]),
        )
        .await;
    assert_eq!(ans.effect(), Some("Allow"));

    // /renew before the last third of the lifetime does nothing.
    let ans = stack
        .invoke(
            "login-example",
            &e2e::events::login("/renew", None, &[&cookie], Some(&json!({"renew": "false"}))),
        )
        .await;
    assert_eq!(ans.json()["statusCode"], 204);

    // In the last third the authorizer says so, and /renew sets a fresh cookie.
    tokio::time::sleep(Duration::from_millis(4300)).await;
    let ans = stack
        .invoke("authorizer", &http("GET", &[&cookie], &[]))
        .await;
    assert_eq!(ans.json()["context"]["renew"], "true");
    let ctx = ans.json()["context"].clone();
    let ans = stack
        .invoke(
            "login-example",
            &e2e::events::login("/renew", None, &[&cookie], Some(&ctx)),
        )
        .await;
    assert_eq!(ans.json()["statusCode"], 200, "{ans:?}");
    let renewed = token_of(ans.json()["cookies"][0].as_str().unwrap());
    assert_ne!(renewed, token);
    let rc = claims_of(&renewed);
    assert_eq!(rc["auth_time"], auth_time, "the session start carries over");
    assert!(claims["sid"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(
        rc["sid"], claims["sid"],
        "the session id carries over (docs/revocation.md)"
    );
    assert_ne!(rc["jti"], claims["jti"]);
    let ans = stack
        .invoke(
            "authorizer",
            &rest("GET", Some(&format!("{COOKIE}={renewed}")), &[]),
        )
        .await;
    assert_eq!(ans.effect(), Some("Allow"));

    // Logout expires the cookie; without it (and with a tampered one) calls are refused.
    let ans = stack
        .invoke(
            "login-example",
            &e2e::events::login("/logout", None, &[&cookie], None),
        )
        .await;
    let cleared = ans.json()["cookies"][0].as_str().unwrap();
    assert!(cleared.starts_with("__Host-session=;") && cleared.contains("Max-Age=0"));
    assert!(stack
        .invoke("authorizer", &rest("GET", None, &[]))
        .await
        .is_unauthorized());
    let tampered = format!("{COOKIE}={}x", &renewed[..renewed.len() - 1]);
    assert!(stack
        .invoke("authorizer", &rest("GET", Some(&tampered), &[]))
        .await
        .is_unauthorized());

    // Issuance is logged with sub, jti, kid and lifetime; no token anywhere.
    let out = stack.all_output();
    assert!(out.contains("token_issued") && out.contains("token_renewed"));
    for t in [&token, &renewed] {
        assert!(!out.contains(t.as_str()));
        assert!(!out.contains(t.rsplit('.').next().unwrap()));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_signer_sets_the_registered_claims_itself() {
    let stack = start().await;
    for claim in [
        "iss",
        "aud",
        "exp",
        "nbf",
        "iat",
        "jti",
        "csrf",
        "auth_time",
        "sub",
    ] {
        let ans = stack
            .invoke(
                "secrets-fn",
                &json!({"action": "sign", "sub": "alice", "claims": {claim: "x"}}),
            )
            .await;
        match ans {
            Invocation::Error {
                error_type,
                message,
            } => {
                assert_eq!(error_type, "reserved_claim", "{claim}");
                assert!(message.contains(claim));
            }
            other => panic!("{claim} accepted: {other:?}"),
        }
    }
    let big = json!({"action": "sign", "sub": "alice", "claims": {"blob": "x".repeat(300)}});
    match stack.invoke("secrets-fn", &big).await {
        Invocation::Error { error_type, .. } => assert_eq!(error_type, "claims_too_large"),
        other => panic!("{other:?}"),
    }
    let forged = json!({"action": "renew", "token": "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.AAAA"});
    match stack.invoke("secrets-fn", &forged).await {
        Invocation::Error { error_type, .. } => assert_eq!(error_type, "invalid_token"),
        other => panic!("{other:?}"),
    }
    // A deployment without `sign` refuses to sign.
    let mut stack = stack;
    stack.start_function("secrets-fn", "secrets-fn", &secrets_env());
    match stack
        .invoke("secrets-fn", &json!({"action": "sign", "sub": "alice"}))
        .await
    {
        Invocation::Error { error_type, .. } => assert_eq!(error_type, "action_not_allowed"),
        other => panic!("{other:?}"),
    }
}
