//! `make watch`: moto's Secrets Manager with a fresh key set, and `cargo lambda watch`
//! serving both functions (rebuilt on change), left running until Ctrl-C.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::Command;

use e2e::events::{http, rest};
use e2e::{authorizer_env, secrets_env, Service, Stack};

#[tokio::main]
async fn main() {
    // moto and the key set come from the harness; the functions run under a second,
    // ordinary `cargo lambda watch` that builds them and reloads them on change.
    let stack = Stack::start();
    let keys = stack.keygen("dev-keys.json", &["EdDSA"]);
    stack.create_secret(&keys.text()).await;
    let port = e2e::free_port();
    let out = stack.paths.root.join(".run/events");
    std::fs::create_dir_all(&out).expect("create .run/events");
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
        std::fs::write(out.join(name), serde_json::to_vec_pretty(&ev).unwrap())
            .expect("write event");
    }
    let mut env: Vec<String> = vec![
        format!(
            "AWS_ENDPOINT_URL_SECRETS_MANAGER=http://127.0.0.1:{}",
            stack.moto_port
        ),
        format!("AWS_ENDPOINT_URL_LAMBDA=http://127.0.0.1:{port}"),
        "AWS_REGION=us-east-1".into(),
        "AWS_ACCESS_KEY_ID=testing".into(),
        "AWS_SECRET_ACCESS_KEY=testing".into(),
        "AWS_EC2_METADATA_DISABLED=true".into(),
        // The first key fetch waits for secrets-fn to compile.
        "KEYS_FETCH_TIMEOUT_MS=30000".into(),
        "KEYS_CONNECT_TIMEOUT_MS=30000".into(),
    ];
    env.extend(
        authorizer_env()
            .iter()
            .chain(secrets_env().iter())
            .map(|(k, v)| format!("{k}={v}")),
    );
    let mut cmd = Command::new(stack.paths.venv_bin.join("cargo-lambda"));
    cmd.args([
        "lambda",
        "watch",
        "--invoke-address",
        "127.0.0.1",
        "--invoke-port",
        &port.to_string(),
    ])
    .current_dir(&stack.paths.root);
    for e in &env {
        cmd.args(["--env-var", e]);
    }
    let log = stack.dir.path().join("functions.log");
    let watch = Service::spawn("cargo-lambda-watch", cmd, log.clone());
    println!("Stack running (Ctrl-C stops everything):");
    println!(
        "  moto (Secrets Manager)  http://127.0.0.1:{}   secret {}",
        stack.moto_port,
        e2e::SECRET_ID
    );
    println!(
        "  cargo lambda watch      http://127.0.0.1:{port}   functions: authorizer, secrets-fn"
    );
    println!("  function logs           tail -f {}", log.display());
    println!("\nSample events with a fresh token are in .run/events/. Try:");
    for name in [
        "rest-get",
        "rest-post-no-csrf",
        "http-get",
        "rest-no-cookie",
    ] {
        println!("  .venv/bin/cargo-lambda lambda invoke -A 127.0.0.1 -P {port} --data-file .run/events/{name}.json authorizer");
    }
    println!("  .venv/bin/cargo-lambda lambda invoke -A 127.0.0.1 -P {port} --data-file events/get-keys.json secrets-fn");
    println!("(the first invoke of each function compiles it; later edits reload it)");
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    println!("\nstopping");
    drop(watch);
    let _ = std::fs::remove_dir_all(&out);
    drop(stack);
}
