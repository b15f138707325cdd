//! The local API Gateway (`gateway`) through the real binaries: routes and stages, identity
//! sources, API Gateway's own refusals, the authorizer's context reaching the backend, and the
//! authorizer result cache as the template configures it — including the reuse that makes
//! caching unsafe when the cache key does not cover what the decision depends on.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use e2e::{authorizer_env, secrets_env, GatewayProc, Minted, Stack, COOKIE};
use serde_json::{json, Value};

/// The stack with the project template changed by `edits` (from, to), and `env` for the
/// gateway.
async fn start_with(edits: &[(&str, &str)], env: &[(&str, &str)]) -> (Stack, GatewayProc, Minted) {
    let mut stack = Stack::start();
    let keys = stack.keygen("keys.json", &["EdDSA"]);
    stack.create_secret(&keys.text()).await;
    stack.start_function("secrets-fn", "secrets-fn", &secrets_env());
    stack.start_function("authorizer", "authorizer", &authorizer_env());
    stack.start_function("orders-example", "orders-example", &[]);
    let mut text = std::fs::read_to_string(stack.paths.root.join("infra/template.yaml")).unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "the template has {from}");
        text = text.replace(from, to);
    }
    let path = stack.dir.path().join("template-edited.yaml");
    std::fs::write(&path, text).unwrap();
    let template = path.to_string_lossy().into_owned();
    let mut all = vec![("GATEWAY_TEMPLATE", template.as_str())];
    all.extend_from_slice(env);
    let gw = stack.start_gateway(&all);
    let token = keys.mint(&["--scope", "orders:read orders:write"]);
    (stack, gw, token)
}

async fn start(ttl: Option<&str>) -> (Stack, GatewayProc, Minted) {
    let cached = ttl.map(|t| format!("ReauthorizeEvery: {t}"));
    let edits: Vec<(&str, &str)> = cached
        .iter()
        .map(|c| ("ReauthorizeEvery: 0", c.as_str()))
        .collect();
    start_with(&edits, &[]).await
}

fn call(url: &str, method: &str, headers: &[(&str, &str)], body: &str) -> (u16, Value) {
    let (status, body) = e2e::http_call(
        url,
        method,
        headers,
        body.as_bytes(),
        Duration::from_secs(60),
    );
    let v = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    (status, v)
}

/// The `authorizer` field of the gateway's last log line.
fn last_use(gw: &GatewayProc) -> String {
    gw.requests()
        .last()
        .and_then(|r| r["authorizer"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_gateway_routes_authorizes_and_refuses_as_api_gateway_does() {
    let (stack, gw, t) = start(None).await;
    let cookie = format!("{COOKIE}={}", t.token);
    let csrf = t.csrf.clone().unwrap();
    let (h, r) = (gw.http_url.clone(), gw.rest_url.clone());
    let json_ct = ("content-type", "application/json");

    // HTTP API (payload 2.0).
    assert_eq!(
        call(&format!("{h}/health"), "GET", &[], ""),
        (200, json!({"ok": true}))
    );
    assert_eq!(last_use(&gw), "none");
    assert_eq!(
        call(&format!("{h}/nowhere"), "GET", &[], ""),
        (404, json!({"message": "Not Found"}))
    );
    assert_eq!(
        call(&format!("{h}/orders"), "GET", &[], ""),
        (401, json!({"message": "Unauthorized"}))
    );
    assert_eq!(
        last_use(&gw),
        "identity_missing",
        "no cookie: the authorizer is not invoked"
    );
    assert_eq!(
        call(
            &format!("{h}/orders"),
            "GET",
            &[("cookie", "theme=dark")],
            ""
        ),
        (403, json!({"message": "Forbidden"})),
        "a simple answer isAuthorized: false is a 403"
    );
    assert_eq!(last_use(&gw), "invoked");
    let c = [("cookie", cookie.as_str())];
    assert_eq!(
        call(&format!("{h}/orders"), "GET", &c, ""),
        (200, json!({"orders": []}))
    );
    let no_csrf = call(
        &format!("{h}/orders"),
        "POST",
        &[c[0], json_ct],
        r#"{"item":"tea"}"#,
    );
    assert_eq!(no_csrf, (403, json!({"message": "Forbidden"})));
    let (status, made) = call(
        &format!("{h}/orders"),
        "POST",
        &[c[0], json_ct, ("x-csrf-token", csrf.as_str())],
        r#"{"item":"tea"}"#,
    );
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["item"], "tea");
    let page = e2e::http_call(&format!("{h}/"), "GET", &[], b"", Duration::from_secs(60));
    assert_eq!(page.0, 200);
    assert!(String::from_utf8_lossy(&page.1).contains("data-base=\"/\""));

    // REST API (payload 1.0), the same backend process (the orders are shared).
    assert_eq!(
        call(&format!("{r}/health"), "GET", &[], ""),
        (200, json!({"ok": true}))
    );
    let other_stage = r.replace("/dev", "/prod");
    assert_eq!(
        call(&format!("{other_stage}/health"), "GET", &[], ""),
        (403, json!({"message": "Forbidden"}))
    );
    assert_eq!(
        call(&format!("{r}/nowhere"), "GET", &[], ""),
        (403, json!({"message": "Missing Authentication Token"}))
    );
    assert_eq!(
        call(&format!("{r}/orders"), "GET", &[], ""),
        (401, json!({"message": "Unauthorized"}))
    );
    assert_eq!(
        call(
            &format!("{r}/orders"),
            "GET",
            &[("cookie", "theme=dark")],
            ""
        ),
        (401, json!({"message": "Unauthorized"})),
        "the Unauthorized error is a 401"
    );
    let (status, list) = call(&format!("{r}/orders"), "GET", &c, "");
    assert_eq!(status, 200);
    assert_eq!(
        list["orders"][0]["item"], "tea",
        "the caller comes from requestContext.authorizer"
    );
    assert_eq!(
        call(
            &format!("{r}/orders"),
            "POST",
            &[c[0], json_ct],
            r#"{"item":"x"}"#
        ),
        (403, json!({"message": "Forbidden"})),
        "an explicit Deny is a 403"
    );
    let (status, _) = call(
        &format!("{r}/orders"),
        "POST",
        &[c[0], json_ct, ("X-CSRF-Token", csrf.as_str())],
        r#"{"item":"coffee"}"#,
    );
    assert_eq!(status, 201);

    // One audit record per invocation, and the token in no output.
    let invoked = gw.authorizer_invocations();
    assert_eq!(invoked, 8);
    assert_eq!(stack.wait_audit("authorizer", invoked).await.len(), invoked);
    let out = stack.all_output();
    assert!(!out.contains(&t.token) && !out.contains(t.signature()));
}

#[tokio::test(flavor = "multi_thread")]
async fn cached_answers_are_reused_exactly_as_api_gateway_reuses_them() {
    let (stack, gw, t) = start(Some("300")).await;
    let cookie = format!("{COOKIE}={}", t.token);
    let csrf = t.csrf.clone().unwrap();
    let (h, r) = (gw.http_url.clone(), gw.rest_url.clone());
    let c = ("cookie", cookie.as_str());
    let json_ct = ("content-type", "application/json");

    // HTTP API simple answers name no route: the cached allow of a GET is reused for a POST
    // without the CSRF header. The hazard caching brings, visible here as it would be in AWS.
    assert_eq!(call(&format!("{h}/orders"), "GET", &[c], "").0, 200);
    assert_eq!(last_use(&gw), "invoked");
    let (status, _) = call(
        &format!("{h}/orders"),
        "POST",
        &[c, json_ct],
        r#"{"item":"unchecked"}"#,
    );
    assert_eq!(
        status, 201,
        "the cached simple answer served a POST without the CSRF header"
    );
    assert_eq!(last_use(&gw), "cached");

    // REST API: the cached policy is evaluated again against each request's method ARN; it
    // names GET /orders only, so the POST is refused from the cache, CSRF header or not.
    assert_eq!(call(&format!("{r}/orders"), "GET", &[c], "").0, 200);
    assert_eq!(last_use(&gw), "invoked");
    let (status, body) = call(
        &format!("{r}/orders"),
        "POST",
        &[c, json_ct, ("X-CSRF-Token", csrf.as_str())],
        r#"{"item":"x"}"#,
    );
    assert_eq!((status, body), (403, json!({"message": "Forbidden"})));
    assert_eq!(last_use(&gw), "cached");

    // The identity sources are the key: another cookie header is another entry.
    let other = format!("theme=dark; {cookie}");
    assert_eq!(
        call(
            &format!("{r}/orders"),
            "GET",
            &[("cookie", other.as_str())],
            ""
        )
        .0,
        200
    );
    assert_eq!(last_use(&gw), "invoked");

    let invoked = gw.authorizer_invocations();
    assert_eq!(invoked, 3);
    assert_eq!(stack.wait_audit("authorizer", invoked).await.len(), invoked);
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_and_oversized_requests_get_api_gateways_answers() {
    // Both authorizers point at the example backend (which answers an authorizer event with
    // no decision), and the login routes at a function that is not running.
    let (_stack, gw, t) = start_with(
        &[
            (
                r#"FunctionArn: {"Fn::GetAtt": [AuthorizerFunction, Arn]}"#,
                r#"FunctionArn: {"Fn::GetAtt": [ExampleBackendFunction, Arn]}"#,
            ),
            ("Binary: login-example", "Binary: not-running"),
        ],
        &[("GATEWAY_INVOKE_TIMEOUT_SECONDS", "2")],
    )
    .await;
    let cookie = format!("{COOKIE}={}", t.token);
    let c = [("cookie", cookie.as_str())];
    let (h, r) = (gw.http_url.clone(), gw.rest_url.clone());
    assert_eq!(
        call(&format!("{h}/orders"), "GET", &c, ""),
        (500, json!({"message": "Internal Server Error"})),
        "an answer with no decision is the authorizer's failure"
    );
    assert_eq!(
        call(&format!("{r}/orders"), "GET", &c, ""),
        (500, json!({"message": null}))
    );
    let (status, _) = call(
        &format!("{h}/login"),
        "POST",
        &[("content-type", "application/json")],
        "{}",
    );
    assert_eq!(status, 500, "an integration that does not answer");
    let big = vec![b'x'; 10 * 1024 * 1024 + 1];
    let (status, body) = e2e::http_call(
        &format!("{h}/orders"),
        "POST",
        &c,
        &big,
        Duration::from_secs(60),
    );
    assert_eq!(status, 413);
    assert_eq!(body, br#"{"message":"Request Entity Too Large"}"#);
}
