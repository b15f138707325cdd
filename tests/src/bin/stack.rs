//! `make watch`: the developer's local API. moto's Secrets Manager with a fresh key set,
//! `cargo lambda watch` serving every function (rebuilt and reloaded on change), and the local
//! API Gateway in front of them with the template's HTTP API and REST API; a demo user; left
//! running until SIGINT or SIGTERM, then everything it started is stopped.
//!
//! When every part is ready (each function answered once through the gateway), it prints, each
//! on a line of its own: `http-api: …`, `rest-api: …`, `demo-user: <username> <password>`.
//!
//! Environment: `GATEWAY_HTTP_PORT`, `GATEWAY_REST_PORT` (default: free ports), `DEMO_USER`
//! (default `alice`), `DEMO_PASSWORD` (default: fresh and random), and any variable the
//! functions read (see [`FUNCTION_VARIABLES`]), which is passed on to them.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use e2e::events::{http, rest};
use e2e::{Service, Stack, AUDIENCE, ISSUER, REVOCATION_TABLE, SECRET_ID};
use serde_json::json;

/// Variables of the functions that `make watch` passes on from its own environment (names, or
/// prefixes ending in `_`).
pub const FUNCTION_VARIABLES: &[&str] = &[
    "JWT_",
    "KEYS_",
    "SECRET_",
    "SIGN_",
    "SESSION_",
    "ROTATION_",
    "REVOCATION_",
    "SECRETS_FN_ACTIONS",
    "SIGNER_FUNCTION_NAME",
    "LOGIN_USERS",
    "ALLOWED_ORIGINS",
    "ROUTE_SCOPES",
    "CSRF_HEADER_NAME",
    "HTTP_API_RESPONSE",
    "DOUBLE_TOKEN",
    "ALLOW_SYMMETRIC_KEYS",
    "TOKEN_FORMATS",
    "AWS_LAMBDA_LOG_LEVEL",
    "RUST_LOG",
];

fn random_password() -> String {
    let mut b = [0u8; 12];
    aws_lc_rs::rand::fill(&mut b).expect("random bytes");
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn port_from_env(name: &str) -> u16 {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a port number, not {v:?}")),
        _ => e2e::free_port(),
    }
}

/// Everything `make watch` started, stopped in reverse order when dropped: on SIGINT or
/// SIGTERM, and also when a step fails.
#[derive(Default)]
struct Parts {
    stack: Option<Stack>,
    watch: Option<Service>,
    gateway: Option<e2e::GatewayProc>,
    files: Vec<std::path::PathBuf>,
}

impl Drop for Parts {
    fn drop(&mut self) {
        drop(self.gateway.take());
        drop(self.watch.take());
        for f in &self.files {
            let _ = std::fs::remove_dir_all(f).or_else(|_| std::fs::remove_file(f));
        }
        drop(self.stack.take());
    }
}

#[tokio::main]
async fn main() {
    // Both handlers are installed before anything starts (creating them installs them), so a
    // signal at any moment of start-up is caught; the blocking steps of start-up run off this
    // thread, so the signals are seen at once; `biased` polls them first.
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    let mut parts = Parts::default();
    tokio::select! {
        biased;
        _ = int.recv() => {}
        _ = term.recv() => {}
        _ = run(&mut parts) => {}
    }
    eprintln!("\nstopping");
    drop(parts);
}

async fn run(parts: &mut Parts) {
    let stack = parts.stack.insert(
        tokio::task::spawn_blocking(Stack::start)
            .await
            .expect("start moto"),
    );
    let keys = stack.keygen("dev-keys.json", &["EdDSA"]);
    stack.create_secret(&keys.text()).await;
    stack.create_revocation_table().await;
    let root = stack.paths.root.clone();
    let logs = root.join(".run/logs");
    std::fs::create_dir_all(&logs).expect("create .run/logs");

    // Sample authorizer events with a fresh token, for invoking the functions directly.
    let events = root.join(".run/events");
    std::fs::create_dir_all(&events).expect("create .run/events");
    parts.files.push(events.clone());
    let good = keys.mint(&[]);
    let csrf = good.csrf.clone().unwrap_or_default();
    let cookie = format!("{}={}", e2e::COOKIE, good.token);
    for (name, ev) in [
        ("rest-get.json", rest("GET", Some(&cookie), &[])),
        (
            "rest-post.json",
            rest("POST", Some(&cookie), &[("X-CSRF-Token", &csrf)]),
        ),
        ("rest-post-no-csrf.json", rest("POST", Some(&cookie), &[])),
        ("rest-no-cookie.json", rest("GET", None, &[])),
        ("http-get.json", http("GET", &[&cookie], &[])),
        (
            "http-post.json",
            http("POST", &[&cookie], &[("X-CSRF-Token", &csrf)]),
        ),
    ] {
        std::fs::write(events.join(name), serde_json::to_vec_pretty(&ev).unwrap())
            .expect("write event");
    }

    let user = std::env::var("DEMO_USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "alice".into());
    let password = std::env::var("DEMO_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(random_password);
    let hash = {
        let paths = stack.paths.clone();
        let password = password.clone();
        tokio::task::spawn_blocking(move || e2e::hash_password(&paths, &password))
            .await
            .expect("hash the demo password")
    };
    let users = json!({ user.as_str(): {
        "password": hash,
        "scope": "orders:read orders:write",
    }})
    .to_string();

    let watch_port = e2e::free_port();
    let http_port = port_from_env("GATEWAY_HTTP_PORT");
    let rest_port = port_from_env("GATEWAY_REST_PORT");
    // Defaults for the local pair; the caller's own values win.
    let mut vars: BTreeMap<String, String> = [
        ("JWT_ISSUER", ISSUER.to_owned()),
        ("JWT_AUDIENCE", AUDIENCE.to_owned()),
        ("KEYS_FUNCTION_NAME", "secrets-fn".to_owned()),
        (
            "ALLOWED_ORIGINS",
            format!("http://127.0.0.1:{http_port},http://127.0.0.1:{rest_port}"),
        ),
        // The first key fetch waits for secrets-fn to compile.
        ("KEYS_FETCH_TIMEOUT_MS", "30000".to_owned()),
        ("KEYS_CONNECT_TIMEOUT_MS", "30000".to_owned()),
        ("SECRET_ID", SECRET_ID.to_owned()),
        // Locally one secrets-fn is both the key server and the signer.
        ("SECRETS_FN_ACTIONS", "get_keys,sign".to_owned()),
        ("SIGN_ISSUER", ISSUER.to_owned()),
        ("SIGN_AUDIENCE", AUDIENCE.to_owned()),
        ("SIGNER_FUNCTION_NAME", "secrets-fn".to_owned()),
        ("LOGIN_USERS", users),
        // Revocation on (docs/revocation.md): /logout revokes, the authorizer refuses revoked sessions.
        ("REVOCATION_TABLE", REVOCATION_TABLE.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (k, v) in std::env::vars() {
        let passed = FUNCTION_VARIABLES.iter().any(|p| {
            if p.ends_with('_') {
                k.starts_with(p)
            } else {
                k == *p
            }
        });
        if passed {
            vars.insert(k, v);
        }
    }
    let mut cmd = Command::new(stack.paths.venv_bin.join("cargo-lambda"));
    cmd.args([
        "lambda",
        "watch",
        "--invoke-address",
        "127.0.0.1",
        "--invoke-port",
        &watch_port.to_string(),
    ])
    .current_dir(&root)
    .env("CARGO_LAMBDA_NO_UPDATE_CHECK", "1");
    // An env file rather than `--env-var`, which splits values at commas.
    let mut env_file = String::new();
    // Every endpoint the functions need, as the harness gives them: one list for both.
    for (k, v) in e2e::local_aws_env(stack.moto_port, watch_port)
        .into_iter()
        .chain(vars)
    {
        assert!(
            !v.contains('\'') && !v.contains('\n'),
            "{k}: a value with a single quote or a new line cannot be passed on"
        );
        env_file.push_str(&format!("{k}='{v}'\n"));
    }
    let env_path = root.join(".run/watch.env");
    parts.files.push(env_path.clone());
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(0o600)
            .open(&env_path)
            .expect("write .run/watch.env");
        f.write_all(env_file.as_bytes())
            .expect("write .run/watch.env");
    }
    cmd.arg("--env-file").arg(&env_path);
    let functions_log = logs.join("functions.log");
    parts.watch = Some(Service::spawn(
        "cargo-lambda-watch",
        cmd,
        functions_log.clone(),
    ));
    // Polled here rather than on a blocking thread, so a signal ends the wait at once.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let mut started = false;
    while !started && tokio::time::Instant::now() < deadline {
        started = tokio::net::TcpStream::connect(("127.0.0.1", watch_port))
            .await
            .is_ok();
        if !started {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert!(
        started,
        "cargo lambda watch did not start; see {}",
        functions_log.display()
    );
    let gateway = {
        let paths = stack.paths.clone();
        let logs = logs.clone();
        parts.gateway.insert(
            tokio::task::spawn_blocking(move || {
                e2e::start_gateway(
                    &paths,
                    &logs,
                    watch_port,
                    &[
                        ("GATEWAY_HTTP_PORT", &http_port.to_string()),
                        ("GATEWAY_REST_PORT", &rest_port.to_string()),
                        // A function's first invoke (and the first after an edit) waits for
                        // its build.
                        ("GATEWAY_INVOKE_TIMEOUT_SECONDS", "600"),
                    ],
                )
            })
            .await
            .expect("start the gateway"),
        )
    };

    eprintln!("building and starting the functions (the first time takes a while)…");
    // Each function answers once through the gateway before the API is announced.
    let warm = [
        ("GET", "/health", "orders-example"),
        ("POST", "/login", "login-example"),
        ("GET", "/orders", "authorizer and secrets-fn"),
    ];
    for (method, path, what) in warm {
        let url = format!("{}{path}", gateway.http_url);
        // A failed exchange is reported here, not in the blocking thread, which may outlive
        // a Ctrl-C that has already stopped the gateway.
        let answer = tokio::task::spawn_blocking(move || {
            e2e::try_http_call(
                &url,
                method,
                &[
                    ("cookie", "warm-up=1"),
                    ("content-type", "application/json"),
                ],
                b"{}",
                Duration::from_secs(900),
            )
        })
        .await
        .expect("warm-up request");
        let status = answer.map(|(status, _)| status).unwrap_or_else(|e| {
            panic!(
                "{what}: {method} {path}: {e}; see {}",
                functions_log.display()
            )
        });
        assert!(
            status < 500,
            "{what} did not start ({method} {path} answered {status}); see {}",
            functions_log.display()
        );
    }
    println!("http-api: {}", gateway.http_url);
    println!("rest-api: {}", gateway.rest_url);
    println!("demo-user: {user} {password}");
    eprintln!(
        "\nOpen the http-api address in a browser and log in as the demo user (the rest-api page\n\
         uses the same cookie: log in on the http-api page first). Ctrl-C stops everything.\n\
         \n  logs       tail -f {} {}\n  moto       http://127.0.0.1:{} (Secrets Manager, secret {SECRET_ID}; DynamoDB, revocation table {REVOCATION_TABLE})\n  functions  cargo lambda watch on http://127.0.0.1:{watch_port}: edit a function and it is rebuilt\n  events     .run/events/*.json, e.g. .venv/bin/cargo-lambda lambda invoke -A 127.0.0.1 -P {watch_port} --data-file .run/events/rest-get.json authorizer",
        gateway.service.log.display(),
        functions_log.display(),
        stack.moto_port,
    );
    std::future::pending::<()>().await;
}
