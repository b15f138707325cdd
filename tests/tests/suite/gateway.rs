//! The local API Gateway (`gateway`) through the real binaries: routes and stages, identity
//! sources, API Gateway's own refusals, the authorizer's context reaching the backend, and the
//! authorizer result cache as the template configures it — including the reuse that makes
//! caching unsafe when the cache key does not cover what the decision depends on.

use std::time::Duration;

use e2e::{authorizer_env, secrets_env, GatewayProc, Minted, Stack, COOKIE};
use serde_json::{json, Value};

/// The stack with the project template changed by `edits` (from, to), and `env` for the
/// gateway.
async fn start_with(edits: &[(&str, &str)], env: &[(&str, &str)]) -> (Stack, GatewayProc, Minted) {
    let (stack, gw, token, _) = start_full(edits, env, &[]).await;
    (stack, gw, token)
}

/// [`start_with`], with `authorizer` added to the authorizer's environment; also returns the
/// key file to mint more tokens.
async fn start_full(
    edits: &[(&str, &str)],
    env: &[(&str, &str)],
    authorizer: &[(&str, &str)],
) -> (Stack, GatewayProc, Minted, e2e::KeyFile) {
    let (stack, keys) = functions(authorizer).await;
    let gw = gateway(&stack, edits, env);
    let token = keys.mint(&["--scope", "orders:read orders:write"]);
    (stack, gw, token, keys)
}

/// moto, the watch, and the functions (the key server, the authorizer with `authorizer`
/// added to its environment, the orders backend), with a fresh signing key.
async fn functions(authorizer: &[(&str, &str)]) -> (Stack, e2e::KeyFile) {
    let mut stack = Stack::start();
    let keys = stack.keygen("keys.json", &["EdDSA"]);
    stack.create_secret(&keys.text()).await;
    stack.start_function("secrets-fn", "secrets-fn", &secrets_env());
    let mut a_env = authorizer_env();
    a_env.extend_from_slice(authorizer);
    stack.start_function("authorizer", "authorizer", &a_env);
    stack.start_function("orders-example", "orders-example", &[]);
    (stack, keys)
}

/// The gateway in front of `stack`'s functions, serving the project template changed by
/// `edits` (from, to), with `env`.
fn gateway(stack: &Stack, edits: &[(&str, &str)], env: &[(&str, &str)]) -> GatewayProc {
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
    stack.start_gateway(&all)
}

/// The stack with result caching off (`AuthorizerCacheTtl=0`): every request reaches the
/// authorizer.
async fn start_uncached() -> (Stack, GatewayProc, Minted) {
    start_with(
        &[],
        &[("GATEWAY_PARAMETERS", "Stage=dev,AuthorizerCacheTtl=0")],
    )
    .await
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
    let (stack, gw, t) = start_uncached().await;
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
    // The CSRF header is an identity source of unsafe routes: without it API Gateway answers
    // 401 without invoking the authorizer.
    assert_eq!(no_csrf, (401, json!({"message": "Unauthorized"})));
    assert_eq!(last_use(&gw), "identity_missing");
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
            &[c[0], json_ct, ("X-CSRF-Token", "not-the-claim")],
            r#"{"item":"x"}"#
        ),
        (403, json!({"message": "Forbidden"})),
        "an explicit Deny (a wrong CSRF header) is a 403"
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
    assert_eq!(
        invoked, 7,
        "the POST without a CSRF header never reached the authorizer"
    );
    assert_eq!(stack.wait_audit("authorizer", invoked).await.len(), invoked);
    let out = stack.all_output();
    assert!(!out.contains(&t.token) && !out.contains(t.signature()));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_shipped_cache_never_reuses_an_allow_for_another_route_method_or_csrf_header() {
    // The template as shipped: on the HTTP API caching on (AuthorizerCacheTtl, 60 s), keyed
    // on the cookie and the route, with the CSRF header as an identity source on unsafe
    // routes; on the REST API no caching (ReauthorizeEvery: 0: its proxy integrations cannot
    // strip a header the authorizer refuses).
    let (stack, gw, writer, keys) = start_full(
        &[],
        &[],
        &[(
            "ROUTE_SCOPES",
            "GET /orders = orders:read; POST /orders = orders:write",
        )],
    )
    .await;
    let reader = keys.mint(&["--scope", "orders:read"]);
    let json_ct = ("content-type", "application/json");
    for (base, cached) in [
        (gw.http_url.clone(), "cached"),
        (gw.rest_url.clone(), "invoked"),
    ] {
        let url = format!("{base}/orders");
        for t in [&writer, &reader] {
            let cookie = format!("{COOKIE}={}", t.token);
            let c = ("cookie", cookie.as_str());
            let csrf = t.csrf.clone().unwrap();
            // A GET is answered, then (HTTP API) served from the cache.
            assert_eq!(call(&url, "GET", &[c], "").0, 200, "{url}");
            assert_eq!(last_use(&gw), "invoked");
            assert_eq!(call(&url, "GET", &[c], "").0, 200);
            assert_eq!(last_use(&gw), cached, "{url}");
            // A POST without the CSRF header never reaches a cached allow: 401 at the gateway.
            let (status, _) = call(&url, "POST", &[c, json_ct], r#"{"item":"x"}"#);
            assert_eq!(status, 401, "{url}: POST without the CSRF header");
            assert_eq!(last_use(&gw), "identity_missing");
            // With a wrong header: another cache entry, decided by the authorizer.
            let (status, _) = call(
                &url,
                "POST",
                &[c, json_ct, ("X-CSRF-Token", "not-the-claim")],
                r#"{"item":"x"}"#,
            );
            assert_eq!(status, 403, "{url}: POST with a wrong CSRF header");
            assert_eq!(last_use(&gw), "invoked");
            // With the right one: decided by the authorizer again (another route), and the
            // route's own scopes apply.
            let (status, _) = call(
                &url,
                "POST",
                &[c, json_ct, ("X-CSRF-Token", csrf.as_str())],
                r#"{"item":"x"}"#,
            );
            let want = if std::ptr::eq(t, &writer) { 201 } else { 403 };
            assert_eq!(status, want, "{url}: POST with the CSRF header");
            assert_eq!(last_use(&gw), "invoked");
        }
    }
    let invoked = gw.authorizer_invocations();
    assert_eq!(
        invoked, 14,
        "3 authorizer calls per token on the HTTP API, 4 on the REST API"
    );
    assert_eq!(stack.wait_audit("authorizer", invoked).await.len(), invoked);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_method_override_header_never_reaches_a_backend_not_even_behind_a_cached_allow() {
    // The gateway invokes the functions through a proxy that keeps every Invoke request
    // whole: the events the backend received.
    let (stack, keys) = functions(&[]).await;
    let proxy = e2e::FaultProxy::start(stack.watch_port);
    proxy.record();
    let gw = gateway(
        &stack,
        &[],
        &[("AWS_ENDPOINT_URL_LAMBDA", proxy.url().as_str())],
    );
    let t = keys.mint(&["--scope", "orders:read orders:write"]);
    let cookie = format!("{COOKIE}={}", t.token);
    let c = ("cookie", cookie.as_str());
    let overrides = [
        "X-HTTP-Method-Override",
        "X-HTTP-Method",
        "X-Method-Override",
    ];
    let backend_events = || {
        proxy
            .messages()
            .into_iter()
            .filter(|m| m.contains("/functions/orders-example/invocations"))
            .map(|m| m.to_ascii_lowercase())
            .collect::<Vec<_>>()
    };
    // HTTP API: a GET allowed and cached; then the same GET with each override header is
    // served from the cache (the authorizer, which refuses them, is not asked) and reaches
    // the backend without it: the integration's parameter mapping removed it.
    let url = format!("{}/orders", gw.http_url);
    assert_eq!(call(&url, "GET", &[c], "").0, 200);
    assert_eq!(last_use(&gw), "invoked");
    for name in overrides {
        let (status, _) = call(&url, "GET", &[c, (name, "DELETE")], "");
        assert_eq!(status, 200, "{name}");
        assert_eq!(last_use(&gw), "cached", "{name}");
    }
    let events = backend_events();
    assert_eq!(events.len(), 4, "the backend was invoked for each GET");
    for name in overrides {
        let lower = name.to_ascii_lowercase();
        assert!(
            events.iter().all(|e| !e.contains(&lower)),
            "{name} reached the backend"
        );
    }
    // REST API: no cache, so the authorizer sees every request and refuses the override
    // headers; the backend is never invoked for them.
    let url = format!("{}/orders", gw.rest_url);
    assert_eq!(call(&url, "GET", &[c], "").0, 200);
    for name in overrides {
        let (status, _) = call(&url, "GET", &[c, (name, "DELETE")], "");
        assert_eq!(status, 403, "{name}: refused (forbidden) by the authorizer");
        assert_eq!(last_use(&gw), "invoked");
    }
    assert_eq!(
        backend_events().len(),
        5,
        "one more: the REST GET without an override"
    );
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
