//! At `AWS_LAMBDA_LOG_LEVEL=TRACE` (as an operator debugging would set it), no function binary
//! (authorizer, secrets-fn as key server, signer and rotator, the example login and backend)
//! writes a token, a cookie value or a private key member anywhere in its output. Before third-party
//! targets were capped, `lambda_runtime` logged every raw event (cookie and token) and the SDK
//! logged request bodies (the rotation's `PutSecretValue` carries the private JWK Set; the
//! login's renew call carries the token).

use e2e::events::{login, rest};
use e2e::{authorizer_env, secrets_env, Invocation, Stack, AUDIENCE, COOKIE, ISSUER, SECRET_ID};
use serde_json::{json, Value};

const PASSWORD: &str = "correct horse battery staple";
const TRACE: (&str, &str) = ("AWS_LAMBDA_LOG_LEVEL", "TRACE");

/// Every private member value of a JWK Set.
fn private_members(set: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for key in set["keys"].as_array().into_iter().flatten() {
        for m in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            if let Some(v) = key[m].as_str() {
                out.push(v.to_owned());
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn no_binary_logs_a_token_a_cookie_or_a_private_key_at_trace() {
    let mut stack = Stack::start();
    let keys = stack.keygen("keys.json", &["EdDSA", "ES256"]);
    stack.create_secret(&keys.text()).await;
    let before: Value = serde_json::from_str(&keys.text()).unwrap();
    let hash = stack.hash_password(PASSWORD);
    let users = json!({"alice": {"password": hash, "scope": "orders:read"}});
    let mut s_env = secrets_env();
    s_env.extend([
        ("SECRETS_FN_ACTIONS", "get_keys,sign,rotate"),
        ("SIGN_ISSUER", ISSUER),
        ("SIGN_AUDIENCE", AUDIENCE),
        TRACE,
    ]);
    stack.start_function("secrets-fn", "secrets-fn", &s_env);
    let mut a_env = authorizer_env();
    a_env.push(TRACE);
    stack.start_function("authorizer", "authorizer", &a_env);
    stack.start_login(&users, &[TRACE]);

    // A login: the signer mints, the login sets the cookie.
    let ans = stack
        .invoke(
            "login-example",
            &login(
                "/login",
                Some(json!({"username": "alice", "password": PASSWORD})),
                &[],
                None,
            ),
        )
        .await;
    assert_eq!(ans.json()["statusCode"], 200, "{ans:?}");
    let set_cookie = ans.json()["cookies"][0].as_str().unwrap().to_owned();
    let token = set_cookie
        .strip_prefix(&format!("{COOKIE}="))
        .and_then(|r| r.split(';').next())
        .unwrap()
        .to_owned();
    let cookie = format!("{COOKIE}={token}");

    // The authorizer reads it (allow), and a copy with a bad signature (deny).
    let ans = stack
        .invoke("authorizer", &rest("GET", Some(&cookie), &[]))
        .await;
    assert_eq!(ans.effect(), Some("Allow"));
    let forged = format!("{}x", token.trim_end_matches('A'));
    let ans = stack
        .invoke(
            "authorizer",
            &rest("GET", Some(&format!("{COOKIE}={forged}")), &[]),
        )
        .await;
    assert!(ans.is_unauthorized());

    // The login's renew call carries the token to the signer.
    let ans = stack
        .invoke(
            "login-example",
            &login("/renew", None, &[&cookie], Some(&json!({"renew": "true"}))),
        )
        .await;
    assert!(matches!(ans, Invocation::Ok(_)), "{ans:?}");
    let renewed = ans.json()["cookies"][0]
        .as_str()
        .and_then(|c| c.strip_prefix(&format!("{COOKIE}=")))
        .and_then(|r| r.split(';').next())
        .map(str::to_owned);

    // The backend behind the authorizer gets the whole request, cookie included.
    stack.start_function("orders-example", "orders-example", &[TRACE]);
    let ans = stack
        .invoke(
            "orders-example",
            &login(
                "/orders",
                Some(json!({"item": "tea"})),
                &[&cookie],
                Some(&json!({"sub": "alice", "scope": "orders:read"})),
            ),
        )
        .await;
    assert!(matches!(ans, Invocation::Ok(_)), "{ans:?}");

    // A rotation: PutSecretValue carries the new private key set.
    let version = "trace-rotation-0000000000000000000001";
    stack.start_rotation(version).await;
    for step in ["createSecret", "setSecret", "testSecret", "finishSecret"] {
        let ans = stack
            .invoke(
                "secrets-fn",
                &json!({"Step": step, "SecretId": SECRET_ID, "ClientRequestToken": version}),
            )
            .await;
        assert!(matches!(ans, Invocation::Ok(_)), "{step}: {ans:?}");
    }
    let after = stack.secret_keys("AWSCURRENT").await;

    let output = stack.all_output();
    // TRACE was honoured: our own debug line is there.
    for binary in [
        "secrets-fn",
        "authorizer",
        "login-example",
        "orders-example",
    ] {
        assert!(
            stack
                .lines(binary)
                .iter()
                .any(|l| l.contains("\"log_filter\"") && l.contains("DEBUG")),
            "{binary} did not run at TRACE"
        );
    }
    let mut secrets: Vec<(String, String)> = vec![
        ("token".into(), token.clone()),
        ("forged token".into(), forged),
        (
            "token signature".into(),
            token.rsplit('.').next().unwrap().to_owned(),
        ),
    ];
    secrets.push((
        "renewed token".into(),
        renewed.expect("the login renewed the session"),
    ));
    for (i, m) in private_members(&before)
        .into_iter()
        .chain(private_members(&after))
        .enumerate()
    {
        secrets.push((format!("private member {i}"), m));
    }
    assert!(
        private_members(&after).len() > private_members(&before).len() / 2,
        "the rotation wrote a key set"
    );
    for (what, value) in &secrets {
        assert!(
            !output.contains(value.as_str()),
            "the {what} appears in the output at TRACE"
        );
    }
}
