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
        (
            403,
            json!({"Message": "User is not authorized to access this resource with an explicit deny"})
        ),
        "an explicit Deny (a wrong CSRF header) is a 403 with the REST API's body"
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

// ---------------------------------------------------------------------------------------------
// Another project: `tests/fixtures/other-api/template.yaml`, a pets API unrelated to this
// repository, served through the gateway's command line (`--template`, `--parameter`,
// `--invoke-endpoint`), its functions played by the test through cargo lambda watch.

/// The Runtime API paths of cargo lambda watch for one function.
fn runtime_path(name: &str, rest: &str) -> String {
    format!("/.rt/{name}/2018-06-01/runtime/{rest}")
}

/// One HTTP/1.1 exchange on 127.0.0.1:`port`, `Connection: close`: the head (lower-case) and
/// the body. No read time-out: `invocation/next` waits for the next event.
fn exchange(
    port: u16,
    method: &str,
    path: &str,
    body: &[u8],
) -> std::io::Result<(String, Vec<u8>)> {
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes())?;
    s.write_all(body)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .ok_or_else(|| std::io::Error::other("no HTTP head"))?;
    let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
    Ok((head, raw[end..].to_vec()))
}

/// A function of the other project, played by the test: a thread that takes `name`'s events
/// from the watch's Runtime API and answers each with `answer(event)`; the events it received.
fn scripted(
    watch_port: u16,
    name: &'static str,
    answer: fn(&Value) -> Value,
) -> std::sync::Arc<std::sync::Mutex<Vec<Value>>> {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || loop {
        // The watch gone (the test over): the exchange fails and the thread ends.
        let Ok((head, body)) = exchange(
            watch_port,
            "GET",
            &runtime_path(name, "invocation/next"),
            b"",
        ) else {
            return;
        };
        let Some(id) = head
            .lines()
            .find_map(|l| l.strip_prefix("lambda-runtime-aws-request-id:"))
            .map(|v| v.trim().to_owned())
        else {
            std::thread::sleep(Duration::from_millis(50));
            continue;
        };
        let event: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let reply = answer(&event);
        log.lock().unwrap().push(event);
        let path = runtime_path(name, &format!("invocation/{id}/response"));
        if exchange(watch_port, "POST", &path, reply.to_string().as_bytes()).is_err() {
            return;
        }
    });
    seen
}

/// The other project's authorizer: payload 2.0 (HTTP API) gets a simple answer from the
/// `x-api-key` header; payload 1.0 (REST API) an IAM policy from the `key` query parameter.
fn pets_authorizer(ev: &Value) -> Value {
    let context = json!({"owner": "alice", "level": 3, "admin": false, "team": null});
    if ev["version"] == "2.0" {
        let ok = ev["headers"]["x-api-key"] == "good";
        return json!({"isAuthorized": ok, "context": context});
    }
    let arn = ev["methodArn"].as_str().unwrap_or_default();
    // arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path>
    let base = arn.splitn(3, '/').take(2).collect::<Vec<_>>().join("/");
    let statement = |effect: &str, resource: String| json!({"Effect": effect, "Action": "execute-api:Invoke", "Resource": resource});
    let statements = match ev["queryStringParameters"]["key"].as_str() {
        // No identity source (GET /audit): allowed.
        None => vec![statement("Allow", format!("{base}/*"))],
        Some("good") => vec![statement("Allow", format!("{base}/GET/pets/*"))],
        Some("deny") => vec![
            statement("Allow", format!("{base}/*")),
            statement("Deny", format!("{base}/GET/pets/*")),
        ],
        // Allowed something else only.
        Some(_) => vec![statement("Allow", format!("{base}/GET/status"))],
    };
    json!({
        "principalId": "alice",
        "policyDocument": {"Version": "2012-10-17", "Statement": statements},
        "context": context,
    })
}

/// The other project's backend: echoes the event it received as its JSON body.
fn pets(ev: &Value) -> Value {
    json!({"statusCode": 200, "headers": {"content-type": "application/json"}, "body": ev.to_string()})
}

/// The other project's second function.
fn status(_: &Value) -> Value {
    json!({"statusCode": 200, "headers": {"content-type": "application/json"}, "body": "{\"up\":true}"})
}

/// The other project's folder: its own Cargo workspace (three binaries) and SAM template.
fn other_project_dir() -> std::path::PathBuf {
    e2e::Paths::discover().root.join("tests/fixtures/other-api")
}

/// Runs the gateway binary with `args` only (no `GATEWAY_*` variable, no AWS configuration):
/// as another project would.
fn gateway_command(args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(e2e::Paths::discover().bin_dir.join("gateway"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .args(args);
    cmd
}

/// The other project served: `cargo lambda watch` started in its folder, its three functions
/// played by the test, and the gateway started with command-line flags only. The events the
/// authorizer and the backend received. (Fields drop in order: the gateway stops first.)
struct OtherProject {
    gw: GatewayProc,
    authorizer: std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
    backend: std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
    _watch: e2e::Service,
    _dir: tempfile::TempDir,
}

impl OtherProject {
    fn start() -> OtherProject {
        let paths = e2e::Paths::discover();
        let dir = tempfile::Builder::new()
            .prefix("gateway-other-")
            .tempdir()
            .unwrap();
        let project = other_project_dir();
        let watch_port = e2e::free_port();
        let mut watch = std::process::Command::new(paths.venv_bin.join("cargo-lambda"));
        watch
            .args([
                "lambda",
                "watch",
                "--only-lambda-apis",
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
                &watch_port.to_string(),
            ])
            .current_dir(&project)
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", std::env::var_os("HOME").unwrap_or_default())
            .env("CARGO_LAMBDA_NO_UPDATE_CHECK", "1");
        let watch = e2e::Service::spawn("cargo-lambda-watch", watch, dir.path().join("watch.log"));
        assert!(
            e2e::wait_for_port(watch_port, Duration::from_secs(60)),
            "cargo lambda watch did not start:\n{}",
            watch.output()
        );
        let authorizer = scripted(watch_port, "pets-authorizer", pets_authorizer);
        let backend = scripted(watch_port, "pets", pets);
        let _ = scripted(watch_port, "status", status);
        let template = project.join("template.yaml").to_string_lossy().into_owned();
        let endpoint = format!("http://127.0.0.1:{watch_port}");
        let cmd = gateway_command(&[
            "--template",
            &template,
            "--parameter",
            "StageName=v1",
            "--invoke-endpoint",
            &endpoint,
            "--invoke-timeout-seconds",
            "30",
        ]);
        let service = e2e::Service::spawn("gateway", cmd, dir.path().join("gateway.log"));
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let (http_url, rest_url) = loop {
            let out = service.output();
            let url = |label: &str| {
                out.lines()
                    .find_map(|l| l.strip_prefix(label))
                    .map(|u| u.trim().to_owned())
            };
            if let (Some(h), Some(r)) = (url("http-api: "), url("rest-api: ")) {
                break (h, r);
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the gateway did not start:\n{out}"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        OtherProject {
            gw: GatewayProc {
                service,
                http_url,
                rest_url,
            },
            authorizer,
            backend,
            _watch: watch,
            _dir: dir,
        }
    }

    /// The last event the backend (`pets`) received.
    fn last_backend_event(&self) -> Value {
        self.backend
            .lock()
            .unwrap()
            .last()
            .cloned()
            .unwrap_or(Value::Null)
    }

    fn authorizer_calls(&self) -> usize {
        self.authorizer.lock().unwrap().len()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn another_projects_template_is_served_with_simple_and_iam_answers_and_caching() {
    let p = OtherProject::start();
    let (h, r) = (p.gw.http_url.clone(), p.gw.rest_url.clone());
    assert!(r.ends_with("/v1"), "the REST stage is the parameter's: {r}");

    // The second function, on open routes of both APIs.
    assert_eq!(
        call(&format!("{h}/status"), "GET", &[], ""),
        (200, json!({"up": true}))
    );
    assert_eq!(
        call(&format!("{r}/status"), "GET", &[], ""),
        (200, json!({"up": true}))
    );
    assert_eq!(p.authorizer_calls(), 0);

    // HTTP API, simple answers, cached on X-Api-Key (KeyCacheSeconds, 300 s).
    assert_eq!(
        call(&format!("{h}/pets/1"), "GET", &[], ""),
        (401, json!({"message": "Unauthorized"})),
        "no X-Api-Key: 401 without invoking the authorizer"
    );
    assert_eq!(last_use(&p.gw), "identity_missing");
    let good = [("x-api-key", "good")];
    let (status, ev) = call(&format!("{h}/pets/1"), "GET", &good, "");
    assert_eq!(status, 200);
    assert_eq!(ev["pathParameters"]["id"], "1");
    assert_eq!(
        ev["requestContext"]["authorizer"]["lambda"]["owner"],
        "alice"
    );
    assert_eq!(last_use(&p.gw), "invoked");
    assert_eq!(call(&format!("{h}/pets/2"), "GET", &good, "").0, 200);
    assert_eq!(
        last_use(&p.gw),
        "cached",
        "the same key: the cached simple answer"
    );
    assert_eq!(
        call(&format!("{h}/pets/1"), "GET", &[("x-api-key", "bad")], ""),
        (403, json!({"message": "Forbidden"}))
    );
    assert_eq!(p.authorizer_calls(), 2);

    // REST API, IAM policies, cached on the `key` query parameter; a cached policy is
    // evaluated again for each request.
    assert_eq!(
        call(&format!("{r}/pets/1"), "GET", &[], ""),
        (401, json!({"message": "Unauthorized"}))
    );
    let (status, ev) = call(&format!("{r}/pets/1?key=good"), "GET", &[], "");
    assert_eq!(status, 200);
    assert_eq!(ev["resource"], "/pets/{id}");
    assert_eq!(ev["requestContext"]["authorizer"]["principalId"], "alice");
    assert_eq!(last_use(&p.gw), "invoked");
    assert_eq!(call(&format!("{r}/pets/7?key=good"), "GET", &[], "").0, 200);
    assert_eq!(last_use(&p.gw), "cached");
    assert_eq!(p.authorizer_calls(), 3);

    // GET /audit: an authorizer with no identity source and ReauthorizeEvery: 0 (accepted, as
    // SAM accepts it: aws/serverless-application-model#1508; API Gateway's `identitySource`
    // "is optional" without caching, https://docs.aws.amazon.com/apigateway/latest/api/API_Authorizer.html):
    // invoked on every request.
    for n in 1..=2 {
        assert_eq!(call(&format!("{r}/audit"), "GET", &[], "").0, 200);
        assert_eq!(last_use(&p.gw), "invoked");
        assert_eq!(p.authorizer_calls(), 3 + n);
    }
}

/// REST 403 bodies as API Gateway sends them for a Lambda authorizer's IAM policy: an
/// explicit `Deny` and a policy with no statement allowing the request differ. Source: AWS
/// knowledge center, "How do I troubleshoot HTTP 403 Forbidden errors from a Lambda
/// authorizer with an API Gateway REST API?"
/// (https://aws.amazon.com/premiumsupport/knowledge-center/api-gateway-403-error-lambda-authorizer/),
/// which quotes both texts (under a lower-case `message`); the member is `Message` as captured
/// from deployed stages (the outside comparison behind issue 25, and contract §6). The
/// HTTP API answers `{"message":"Forbidden"}` either way.
#[tokio::test(flavor = "multi_thread")]
async fn rest_403_bodies_tell_an_explicit_deny_from_a_policy_that_allows_nothing() {
    let p = OtherProject::start();
    let r = p.gw.rest_url.clone();
    let (status, body) = e2e::http_call(
        &format!("{r}/pets/1?key=deny"),
        "GET",
        &[],
        b"",
        Duration::from_secs(60),
    );
    assert_eq!(status, 403);
    assert_eq!(
        body,
        br#"{"Message":"User is not authorized to access this resource with an explicit deny"}"#
    );
    let (status, body) = e2e::http_call(
        &format!("{r}/pets/1?key=elsewhere"),
        "GET",
        &[],
        b"",
        Duration::from_secs(60),
    );
    assert_eq!(status, 403);
    assert_eq!(
        body,
        br#"{"Message":"User is not authorized to access this resource"}"#
    );
    // A cached explicit Deny answers the same.
    assert_eq!(
        call(&format!("{r}/pets/2?key=deny"), "GET", &[], ""),
        (
            403,
            json!({"Message": "User is not authorized to access this resource with an explicit deny"})
        )
    );
    assert_eq!(last_use(&p.gw), "cached");
}

/// A REST API hands the authorizer's context to a Lambda proxy integration with every value a
/// string: numbers and booleans stringified, `null` left as is. Source: "Output from an API
/// Gateway Lambda authorizer"
/// (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html:
/// "The returned values are all stringified"), and the event captured from a deployed REST API
/// in DefinitelyTyped/DefinitelyTyped#69823 (`"num": "123"`, `"bool": "true"`, `"null": null`).
/// The HTTP API keeps the context's JSON types under `authorizer.lambda`.
#[tokio::test(flavor = "multi_thread")]
async fn rest_authorizer_context_values_reach_the_backend_as_strings() {
    let p = OtherProject::start();
    let (status, ev) = call(
        &format!("{}/pets/1?key=good", p.gw.rest_url),
        "GET",
        &[],
        "",
    );
    assert_eq!(status, 200);
    let a = &ev["requestContext"]["authorizer"];
    assert_eq!(a["owner"], "alice");
    assert_eq!(a["level"], "3");
    assert_eq!(a["admin"], "false");
    assert_eq!(a["team"], Value::Null);
    assert_eq!(a["principalId"], "alice");
    assert!(a["integrationLatency"].is_u64(), "{a}");
    let (status, ev) = call(
        &format!("{}/pets/1", p.gw.http_url),
        "GET",
        &[("x-api-key", "good")],
        "",
    );
    assert_eq!(status, 200);
    assert_eq!(ev["requestContext"]["authorizer"]["lambda"]["level"], 3);
    assert_eq!(
        p.last_backend_event()["requestContext"]["authorizer"]["lambda"]["admin"],
        false
    );
}

/// The path as each API delivers it: an HTTP API's `rawPath` percent-decoded (despite its
/// name), a REST API's `path` as the client sent it. Sources: captured events in
/// honojs/hono#2156 (HTTP API: `POST /RSC/%40id%2Fassets…` arrives as `rawPath`
/// `/RSC/@id/assets…`), localstack/localstack#7728 (REST: `path` keeps `%2B`), and the live
/// captures summarized in middleapi/standard-server#93 (HTTP API decodes `rawPath`; REST
/// preserves the encoding).
#[tokio::test(flavor = "multi_thread")]
async fn an_http_api_raw_path_arrives_decoded_and_a_rest_path_as_sent() {
    let p = OtherProject::start();
    let (status, ev) = call(
        &format!("{}/pets/a%20b%2Bc", p.gw.http_url),
        "GET",
        &[("x-api-key", "good")],
        "",
    );
    assert_eq!(status, 200);
    assert_eq!(ev["rawPath"], "/pets/a b+c");
    assert_eq!(ev["requestContext"]["http"]["path"], "/pets/a b+c");
    assert_eq!(ev["pathParameters"]["id"], "a b+c");
    let (status, ev) = call(
        &format!("{}/pets/a%20b%2Bc?key=good", p.gw.rest_url),
        "GET",
        &[],
        "",
    );
    assert_eq!(status, 200);
    assert_eq!(ev["path"], "/pets/a%20b%2Bc");
    assert_eq!(ev["requestContext"]["path"], "/v1/pets/a%20b%2Bc");
    assert_eq!(ev["pathParameters"]["id"], "a b+c");
    // The authorizer saw the same path.
    let auth = p.authorizer.lock().unwrap().last().cloned().unwrap();
    assert_eq!(auth["path"], "/pets/a%20b%2Bc");
}

/// What the gateway cannot reproduce is refused at start-up, by name, with every configuration
/// problem reported together: a `StageVariables` identity source (no stage variables exist
/// locally, so it would be missing on every request: a 401 API Gateway would not give; SAM's
/// `LambdaRequestAuthorizationIdentity.StageVariables`,
/// https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-property-api-lambdarequestauthorizationidentity.html).
#[tokio::test(flavor = "multi_thread")]
async fn a_stage_variable_identity_source_and_bad_flags_are_refused_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(other_project_dir().join("template.yaml")).unwrap();
    let edited = text.replace(
        "              QueryStrings: [key]\n",
        "              QueryStrings: [key]\n              StageVariables: [tenant]\n",
    );
    assert_ne!(edited, text);
    let path = dir.path().join("stage-variables.yaml");
    std::fs::write(&path, edited).unwrap();
    let out = gateway_command(&["--template", path.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("KeyPolicy") && err.contains("StageVariables"),
        "{err}"
    );
    let out = gateway_command(&["--http-port", "http", "--invoke-timeout-seconds", "0"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("--http-port") && err.contains("--invoke-timeout-seconds"),
        "both problems at once: {err}"
    );
    let out = gateway_command(&["--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    for flag in [
        "--template",
        "--parameter",
        "--http-port",
        "--rest-port",
        "--invoke-endpoint",
    ] {
        assert!(help.contains(flag), "{flag}: {help}");
    }
}

/// The authorizer reads `"cookies": null` as an absent `cookies` member (API Gateway leaves it
/// out when a request has no cookies — see the payload 2.0 example in "Working with AWS Lambda
/// authorizers for HTTP APIs",
/// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html —
/// and third-party emulators send `null` instead): the event is not malformed, and a session
/// cookie in the `cookie` header is still found.
#[tokio::test(flavor = "multi_thread")]
async fn the_authorizer_reads_a_null_cookies_member_as_an_absent_one() {
    let (stack, keys) = functions(&[]).await;
    let t = keys.mint(&["--scope", "orders:read"]);
    let cookie = format!("{COOKIE}={}", t.token);
    let mut with_null = e2e::events::http("GET", &[], &[("cookie", cookie.as_str())]);
    with_null["cookies"] = Value::Null;
    let mut absent = with_null.clone();
    absent.as_object_mut().unwrap().remove("cookies");
    for ev in [&with_null, &absent] {
        let answer = stack.invoke("authorizer", ev).await;
        assert_eq!(answer.json()["isAuthorized"], true, "{answer:?}");
    }
    let records = stack.wait_audit("authorizer", 2).await;
    assert_eq!(records.len(), 2);
    assert!(
        records.iter().all(|r| r["reason"] != "malformed"),
        "{records:?}"
    );
}
