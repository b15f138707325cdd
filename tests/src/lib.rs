//! End-to-end harness: starts moto's Secrets Manager and `cargo lambda watch` on free loopback
//! ports, runs the real `authorizer` and `secrets-fn` binaries against the watch's Runtime API,
//! and invokes them through the Lambda Invoke API with the real AWS SDK client.
//!
//! Every process it starts is put in its own process group and stopped by that group's id
//! (SIGTERM, then SIGKILL) when its handle is dropped, also when a test panics.
//!
//! Locations (overridable by environment):
//! - `E2E_VENV_BIN`: folder with `moto_server` and `cargo-lambda` (default `<repo>/.venv/bin`);
//! - `E2E_BIN_DIR`: folder with the built `authorizer`, `secrets-fn` and `jwt-session`
//!   binaries (default `<repo>/target/debug`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::fs::File;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_lambda::primitives::Blob;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use serde_json::{json, Value};

pub use aws_sdk_secretsmanager;

pub mod runtime_api;
pub mod webdriver;

/// Region used everywhere locally.
pub const REGION: &str = "us-east-1";
/// Issuer used by the demo and tests.
pub const ISSUER: &str = "https://auth.local.test";
/// Audience used by the demo and tests.
pub const AUDIENCE: &str = "orders-api";
/// The session cookie: the contract's default `COOKIE_NAME`, which the stacks here keep.
pub const COOKIE: &str = "__Host-session";
/// Secret name used by the demo and tests.
pub const SECRET_ID: &str = "local/jwt-signing-keys";

/// Where things are.
#[derive(Debug, Clone)]
pub struct Paths {
    /// Repository root.
    pub root: PathBuf,
    /// Folder of the venv's executables.
    pub venv_bin: PathBuf,
    /// Folder of the built binaries.
    pub bin_dir: PathBuf,
}

impl Paths {
    /// Finds the repository, the venv and the binaries.
    pub fn discover() -> Paths {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("tests/ has a parent")
            .to_path_buf();
        let venv_bin = std::env::var_os("E2E_VENV_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join(".venv/bin"));
        let bin_dir = std::env::var_os("E2E_BIN_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target/debug"));
        for (dir, what, hint) in [
            (&venv_bin, "moto_server", "run `make venv`"),
            (&venv_bin, "cargo-lambda", "run `make venv`"),
            (&bin_dir, "authorizer", "run `make build-debug`"),
            (&bin_dir, "secrets-fn", "run `make build-debug`"),
            (&bin_dir, "jwt-session", "run `make build-debug`"),
        ] {
            assert!(
                dir.join(what).exists(),
                "{} not found in {}: {hint} (make test does both)",
                what,
                dir.display()
            );
        }
        Paths {
            root,
            venv_bin,
            bin_dir,
        }
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Waits until something listens on 127.0.0.1:`port`; false after `timeout`.
pub fn wait_for_port(port: u16, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// A process we started, in its own process group.
#[derive(Debug)]
pub struct Service {
    /// Display name.
    pub name: String,
    child: Child,
    /// Its stdout and stderr.
    pub log: PathBuf,
}

impl Service {
    /// Starts `cmd` with output to `log`.
    pub fn spawn(name: &str, mut cmd: Command, log: PathBuf) -> Service {
        let out = File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        use std::os::unix::process::CommandExt as _;
        cmd.stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Service {
            name: name.to_owned(),
            child,
            log,
        }
    }

    /// The process id (also its process group id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether it is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Stops the process group: SIGTERM, then SIGKILL after 3 s. The whole group is signalled
    /// even when its leader has exited already (its children may not have).
    pub fn stop(&mut self) {
        let pgid = Pid::from_raw(self.child.id() as i32);
        if !self.is_running() {
            let _ = killpg(pgid, Signal::SIGKILL);
            return;
        }
        let _ = killpg(pgid, Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if !self.is_running() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = killpg(pgid, Signal::SIGKILL);
        let _ = self.child.wait();
    }

    /// Everything it printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The answer to one Invoke.
#[derive(Debug, Clone, PartialEq)]
pub enum Invocation {
    /// The function returned this JSON.
    Ok(Value),
    /// The function returned an error.
    Error {
        /// `errorType`.
        error_type: String,
        /// `errorMessage`.
        message: String,
    },
}

impl Invocation {
    /// Whether this is the `Unauthorized` error API Gateway turns into a 401.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Invocation::Error { message, .. } if message == "Unauthorized")
    }

    /// The `Effect` of an IAM policy answer (`Allow`/`Deny`), if this is one.
    pub fn effect(&self) -> Option<&str> {
        match self {
            Invocation::Ok(v) => v["policyDocument"]["Statement"][0]["Effect"].as_str(),
            Invocation::Error { .. } => None,
        }
    }

    /// The JSON answer; panics on an error.
    pub fn json(&self) -> &Value {
        match self {
            Invocation::Ok(v) => v,
            other => panic!("expected a JSON answer, got {other:?}"),
        }
    }
}

fn parse_error(body: &[u8]) -> Invocation {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    Invocation::Error {
        error_type: v["errorType"].as_str().unwrap_or_default().to_owned(),
        message: v["errorMessage"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned()),
    }
}

/// The environment every function process gets: nothing inherited but `PATH`, fake
/// credentials, loopback endpoints, no instance metadata.
fn base_env(moto_port: u16, watch_port: u16) -> Vec<(String, String)> {
    [
        ("AWS_REGION", REGION.to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ("AWS_CONFIG_FILE", "/nonexistent".to_owned()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent".to_owned()),
        (
            "AWS_ENDPOINT_URL_SECRETS_MANAGER",
            format!("http://127.0.0.1:{moto_port}"),
        ),
        (
            "AWS_ENDPOINT_URL_LAMBDA",
            format!("http://127.0.0.1:{watch_port}"),
        ),
        ("AWS_LAMBDA_FUNCTION_VERSION", "1".to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".to_owned()),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON".to_owned()),
        ("AWS_LAMBDA_LOG_LEVEL", "INFO".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// moto + `cargo lambda watch` + the functions.
#[derive(Debug)]
pub struct Stack {
    /// Paths used.
    pub paths: Paths,
    /// Scratch folder (logs, key files); removed on drop.
    pub dir: tempfile::TempDir,
    /// moto's port.
    pub moto_port: u16,
    /// The watch's port.
    pub watch_port: u16,
    moto: Option<Service>,
    watch: Service,
    functions: HashMap<String, Service>,
    starts: u32,
    /// Secrets Manager client (against moto).
    pub sm: aws_sdk_secretsmanager::Client,
    /// Lambda client (against the watch), no retries.
    pub lambda: aws_sdk_lambda::Client,
}

impl Stack {
    /// Starts moto and the watch on free ports.
    pub fn start() -> Stack {
        let paths = Paths::discover();
        let dir = tempfile::Builder::new()
            .prefix("jwt-e2e-")
            .tempdir()
            .expect("scratch dir");
        let moto_port = free_port();
        let watch_port = free_port();
        let moto = Self::spawn_moto(&paths, dir.path(), moto_port, 0);
        let mut cmd = Command::new(paths.venv_bin.join("cargo-lambda"));
        cmd.args([
            "lambda",
            "watch",
            "--only-lambda-apis",
            "--invoke-address",
            "127.0.0.1",
            "--invoke-port",
            &watch_port.to_string(),
        ])
        .current_dir(&paths.root)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::var_os("HOME").unwrap_or_default())
        .env("CARGO_LAMBDA_NO_UPDATE_CHECK", "1");
        let watch = Service::spawn("cargo-lambda-watch", cmd, dir.path().join("watch.log"));
        assert!(
            wait_for_port(watch_port, Duration::from_secs(60)),
            "cargo lambda watch did not start:\n{}",
            watch.output()
        );
        let sm_conf = aws_sdk_secretsmanager::config::Builder::new()
            .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
            .region(aws_sdk_secretsmanager::config::Region::new(REGION))
            .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
                "testing", "testing", None, None, "e2e",
            ))
            .endpoint_url(format!("http://127.0.0.1:{moto_port}"))
            .build();
        let lambda_conf = aws_sdk_lambda::config::Builder::new()
            .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
            .region(aws_sdk_lambda::config::Region::new(REGION))
            .credentials_provider(aws_sdk_lambda::config::Credentials::new(
                "testing", "testing", None, None, "e2e",
            ))
            .endpoint_url(format!("http://127.0.0.1:{watch_port}"))
            .retry_config(aws_sdk_lambda::config::retry::RetryConfig::disabled())
            .timeout_config(
                aws_sdk_lambda::config::timeout::TimeoutConfig::builder()
                    .operation_timeout(Duration::from_secs(60))
                    .build(),
            )
            .build();
        Stack {
            sm: aws_sdk_secretsmanager::Client::from_conf(sm_conf),
            lambda: aws_sdk_lambda::Client::from_conf(lambda_conf),
            paths,
            dir,
            moto_port,
            watch_port,
            moto: Some(moto),
            watch,
            functions: HashMap::new(),
            starts: 0,
        }
    }

    fn spawn_moto(paths: &Paths, dir: &Path, port: u16, n: u32) -> Service {
        let mut cmd = Command::new(paths.venv_bin.join("moto_server"));
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("PATH", std::env::var_os("PATH").unwrap_or_default());
        let moto = Service::spawn("moto", cmd, dir.join(format!("moto-{n}.log")));
        assert!(
            wait_for_port(port, Duration::from_secs(60)),
            "moto did not start:\n{}",
            moto.output()
        );
        moto
    }

    /// What `cargo lambda watch` printed.
    pub fn watch_output(&self) -> String {
        self.watch.output()
    }

    /// Stops moto (Secrets Manager goes down; its data is lost).
    pub fn stop_moto(&mut self) {
        if let Some(mut m) = self.moto.take() {
            m.stop();
        }
    }

    /// Starts moto again on the same port (empty).
    pub fn restart_moto(&mut self) {
        self.stop_moto();
        self.starts += 1;
        self.moto = Some(Self::spawn_moto(
            &self.paths,
            self.dir.path(),
            self.moto_port,
            self.starts,
        ));
    }

    /// Starts (or restarts) a function binary registered with the watch under `name`.
    pub fn start_function(&mut self, name: &str, binary: &str, env: &[(&str, &str)]) {
        if let Some(mut old) = self.functions.remove(name) {
            old.stop();
        }
        self.starts += 1;
        let mut cmd = Command::new(self.paths.bin_dir.join(binary));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(base_env(self.moto_port, self.watch_port))
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{}/.rt/{name}", self.watch_port),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .envs(env.iter().map(|(k, v)| (*k, *v)));
        let log = self.dir.path().join(format!("{name}-{}.log", self.starts));
        self.functions
            .insert(name.to_owned(), Service::spawn(name, cmd, log));
    }

    /// Stops a function.
    pub fn stop_function(&mut self, name: &str) {
        if let Some(mut f) = self.functions.remove(name) {
            f.stop();
        }
    }

    /// Whether a function process is still running.
    pub fn function_running(&mut self, name: &str) -> bool {
        self.functions
            .get_mut(name)
            .is_some_and(Service::is_running)
    }

    /// Invokes `name` through the Invoke API.
    pub async fn invoke(&self, name: &str, payload: &Value) -> Invocation {
        let body = serde_json::to_vec(payload).expect("json");
        match self
            .lambda
            .invoke()
            .function_name(name)
            .payload(Blob::new(body))
            .send()
            .await
        {
            Ok(out) => {
                let bytes = out
                    .payload()
                    .map(|b| b.as_ref().to_vec())
                    .unwrap_or_default();
                if out.function_error().is_some() {
                    parse_error(&bytes)
                } else {
                    Invocation::Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
                }
            }
            Err(e) => match e.raw_response() {
                Some(raw) => parse_error(raw.body().bytes().unwrap_or_default()),
                None => panic!("invoke {name} failed without an answer: {e:?}"),
            },
        }
    }

    /// Every line a function printed since it was (re)started, in order, parsed as JSON
    /// where it is JSON.
    pub fn lines(&self, name: &str) -> Vec<String> {
        self.functions
            .get(name)
            .map(|f| f.output().lines().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// The audit records a function wrote since it was (re)started.
    pub fn audit(&self, name: &str) -> Vec<Value> {
        self.lines(name)
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["target"] == "audit")
            .collect()
    }

    /// Waits until `name` has written `count` audit records (output is flushed per line but
    /// read from a file).
    pub async fn wait_audit(&self, name: &str, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let records = self.audit(name);
            if records.len() >= count || Instant::now() > deadline {
                return records;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Everything every process printed (for leak checks).
    pub fn all_output(&self) -> String {
        let mut out = String::new();
        for entry in std::fs::read_dir(self.dir.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if entry.path().extension().is_some_and(|e| e == "log") {
                out.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
            }
        }
        out
    }

    /// Creates the secret with `keys` (a private JWK Set) as its first version.
    pub async fn create_secret(&self, keys: &str) {
        self.sm
            .create_secret()
            .name(SECRET_ID)
            .secret_string(keys)
            .send()
            .await
            .expect("create secret in moto");
    }

    /// Puts a new `AWSCURRENT` version (the old one becomes `AWSPREVIOUS`).
    pub async fn put_secret(&self, keys: &str) {
        self.sm
            .put_secret_value()
            .secret_id(SECRET_ID)
            .secret_string(keys)
            .send()
            .await
            .expect("put secret value in moto");
    }

    /// Runs the `jwt-session` tool.
    pub fn cli(&self, args: &[&str]) -> String {
        run_cli(&self.paths, args)
    }

    /// Generates a private key set into the scratch folder (mode 0600) and returns its path.
    pub fn keygen(&self, file: &str, algs: &[&str]) -> KeyFile {
        keygen(&self.paths, self.dir.path(), file, algs)
    }

    /// A PBKDF2 hash of `password` for the example login's user store.
    pub fn hash_password(&self, password: &str) -> String {
        hash_password(&self.paths, password)
    }

    /// Starts the local API Gateway in front of the functions registered with the watch;
    /// `env` is added to its environment. Its log is part of [`Stack::all_output`].
    pub fn start_gateway(&self, env: &[(&str, &str)]) -> GatewayProc {
        start_gateway(&self.paths, self.dir.path(), self.watch_port, env)
    }
}

/// One HTTP/1.1 exchange with a loopback server (`url` is `http://127.0.0.1:<port>/<path>`):
/// the status and the body. The response is read by its `Content-Length` (servers may keep the
/// connection open), or to the end; a chunked body is decoded. Panics on a failed exchange.
pub fn http_call(
    url: &str,
    method: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> (u16, Vec<u8>) {
    try_http_call(url, method, headers, body, timeout)
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

/// [`http_call`], with failures as errors (for `Drop`, where a panic would abort).
pub fn try_http_call(
    url: &str,
    method: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> Result<(u16, Vec<u8>), String> {
    use std::io::{Read as _, Write as _};
    let rest = url.strip_prefix("http://").ok_or("not an http:// URL")?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut s = TcpStream::connect(authority).map_err(|e| format!("connect {authority}: {e}"))?;
    s.set_read_timeout(Some(timeout)).ok();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    s.write_all(body).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    let head_end = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the connection closed before an answer".into());
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    match length {
        Some(len) => {
            while raw.len() < head_end + len {
                let n = s.read(&mut buf).map_err(|e| e.to_string())?;
                if n == 0 {
                    return Err("the connection closed early".into());
                }
                raw.extend_from_slice(&buf[..n]);
            }
        }
        None => {
            let _ = s.read_to_end(&mut raw);
        }
    }
    let mut payload = raw.split_off(head_end);
    if length.is_none() && head.contains("transfer-encoding: chunked") {
        payload = dechunk(&payload);
    }
    Ok((status, payload))
}

fn dechunk(mut s: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = s.windows(2).position(|w| w == b"\r\n") {
        let size = String::from_utf8_lossy(&s[..i]);
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        let rest = &s[i + 2..];
        out.extend_from_slice(rest.get(..n).unwrap_or(rest));
        s = rest.get(n + 2..).unwrap_or(&[]);
    }
    out
}

/// A PBKDF2 hash of `password` from `jwt-session hash-password` (the password on stdin).
pub fn hash_password(paths: &Paths, password: &str) -> String {
    use std::io::Write as _;
    let mut child = Command::new(paths.bin_dir.join("jwt-session"))
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run jwt-session hash-password");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("write the password");
    let out = child.wait_with_output().expect("hash-password output");
    assert!(out.status.success(), "jwt-session hash-password failed");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The local API Gateway, running.
#[derive(Debug)]
pub struct GatewayProc {
    /// The process.
    pub service: Service,
    /// `http://127.0.0.1:<port>`: the HTTP API.
    pub http_url: String,
    /// `http://127.0.0.1:<port>/<stage>`: the REST API.
    pub rest_url: String,
}

impl GatewayProc {
    /// Its request log lines (JSON, target `gateway`, message `request`).
    pub fn requests(&self) -> Vec<Value> {
        self.service
            .output()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["target"] == "gateway" && v["message"] == "request")
            .collect()
    }

    /// How many requests invoked the authorizer.
    pub fn authorizer_invocations(&self) -> usize {
        self.requests()
            .iter()
            .filter(|r| r["authorizer"] == "invoked")
            .count()
    }
}

/// Starts the `gateway` binary against the watch on `watch_port` with the repository's
/// template, and waits until it prints both API addresses.
pub fn start_gateway(
    paths: &Paths,
    dir: &Path,
    watch_port: u16,
    env: &[(&str, &str)],
) -> GatewayProc {
    let bin = paths.bin_dir.join("gateway");
    assert!(
        bin.exists(),
        "gateway not found in {}: run `make build-debug`",
        paths.bin_dir.display()
    );
    let mut cmd = Command::new(bin);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(base_env(0, watch_port).into_iter().filter(|(k, _)| {
            !k.starts_with("AWS_LAMBDA_") && k != "AWS_ENDPOINT_URL_SECRETS_MANAGER"
        }))
        .env("GATEWAY_TEMPLATE", paths.root.join("infra/template.yaml"))
        .env("GATEWAY_PARAMETERS", "Stage=dev")
        .env("GATEWAY_INVOKE_TIMEOUT_SECONDS", "60")
        .envs(env.iter().map(|(k, v)| (*k, *v)));
    let service = Service::spawn("gateway", cmd, dir.join("gateway.log"));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = service.output();
        let url = |label: &str| {
            out.lines()
                .find_map(|l| l.strip_prefix(label))
                .map(|u| u.trim().to_owned())
        };
        if let (Some(http_url), Some(rest_url)) = (url("http-api: "), url("rest-api: ")) {
            return GatewayProc {
                service,
                http_url,
                rest_url,
            };
        }
        assert!(
            Instant::now() < deadline,
            "the gateway did not start:\n{out}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs the `jwt-session` tool; panics with its stderr on failure.
pub fn run_cli(paths: &Paths, args: &[&str]) -> String {
    let out = Command::new(paths.bin_dir.join("jwt-session"))
        .args(args)
        .output()
        .expect("run jwt-session");
    assert!(
        out.status.success(),
        "jwt-session {:?} failed: {}",
        args.first(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A private key set on disk.
#[derive(Debug, Clone)]
pub struct KeyFile {
    /// Its path.
    pub path: PathBuf,
    paths: Paths,
}

/// Generates a key set file with the CLI.
pub fn keygen(paths: &Paths, dir: &Path, file: &str, algs: &[&str]) -> KeyFile {
    let path = dir.join(file);
    let path_s = path.to_string_lossy().into_owned();
    let mut args = vec!["keygen", "--out", path_s.as_str()];
    for a in algs {
        args.extend(["--alg", a]);
    }
    run_cli(paths, &args);
    KeyFile {
        path,
        paths: paths.clone(),
    }
}

impl KeyFile {
    /// The private JWK Set text (for the secret).
    pub fn text(&self) -> String {
        std::fs::read_to_string(&self.path).expect("key file")
    }

    /// The `kid`s, in order.
    pub fn kids(&self) -> Vec<String> {
        let v: Value = serde_json::from_str(&self.text()).expect("json");
        v["keys"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|k| k["kid"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Mints a token with the CLI: `{"token", "csrf", "kid", "set_cookie"}`.
    pub fn mint(&self, extra: &[&str]) -> Minted {
        let path = self.path.to_string_lossy().into_owned();
        let mut args = vec![
            "mint", "--keys", &path, "--iss", ISSUER, "--aud", AUDIENCE, "--sub", "alice", "--json",
        ];
        args.extend_from_slice(extra);
        let v: Value = serde_json::from_str(&run_cli(&self.paths, &args)).expect("mint json");
        Minted {
            token: v["token"].as_str().unwrap_or_default().to_owned(),
            csrf: v["csrf"].as_str().map(str::to_owned),
            kid: v["kid"].as_str().unwrap_or_default().to_owned(),
            set_cookie: v["set_cookie"].as_str().unwrap_or_default().to_owned(),
        }
    }
}

/// A minted token.
#[derive(Debug, Clone)]
pub struct Minted {
    /// The compact JWS.
    pub token: String,
    /// Its `csrf` claim.
    pub csrf: Option<String>,
    /// Its `kid`.
    pub kid: String,
    /// The `Set-Cookie` value.
    pub set_cookie: String,
}

impl Minted {
    /// The same token with one character of the payload changed.
    pub fn tampered(&self) -> String {
        let mut parts: Vec<String> = self.token.split('.').map(str::to_owned).collect();
        let payload = &mut parts[1];
        let last = payload.pop().expect("payload");
        payload.push(if last == 'A' { 'B' } else { 'A' });
        parts.join(".")
    }

    /// The signature segment.
    pub fn signature(&self) -> &str {
        self.token.rsplit('.').next().unwrap_or_default()
    }
}

/// The authorizer configuration used by the demo and most tests.
pub fn authorizer_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("JWT_ISSUER", ISSUER),
        ("JWT_AUDIENCE", AUDIENCE),
        ("KEYS_FUNCTION_NAME", "secrets-fn"),
        ("ALLOWED_ORIGINS", "https://app.local.test"),
    ]
}

/// The secrets-fn configuration used by the demo and most tests.
pub fn secrets_env() -> Vec<(&'static str, &'static str)> {
    vec![("SECRET_ID", SECRET_ID)]
}

/// Sample events, built from the templates in `events/` (see `events/README.md`).
pub mod events {
    use super::*;

    fn template(name: &str) -> Value {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../events")
            .join(name);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text).expect("template is JSON")
    }

    fn request_id(prefix: &str) -> String {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{prefix}-{}-{n}", std::process::id())
    }

    /// A REST API REQUEST authorizer event (payload 1.0). `cookie` is the whole `Cookie`
    /// header, or none.
    pub fn rest(method: &str, cookie: Option<&str>, extra_headers: &[(&str, &str)]) -> Value {
        let mut ev = template("rest-request.json");
        let arn = ev["methodArn"]
            .as_str()
            .unwrap_or_default()
            .replace("/GET/", &format!("/{method}/"));
        ev["methodArn"] = json!(arn);
        ev["httpMethod"] = json!(method);
        ev["requestContext"]["httpMethod"] = json!(method);
        ev["requestContext"]["requestId"] = json!(request_id("rest"));
        let headers = ev["headers"].as_object_mut().expect("headers");
        headers.remove("Cookie");
        if let Some(c) = cookie {
            headers.insert("Cookie".into(), json!(c));
        }
        for (k, v) in extra_headers {
            headers.insert((*k).into(), json!(v));
        }
        let multi: serde_json::Map<String, Value> = headers
            .iter()
            .map(|(k, v)| (k.clone(), json!([v])))
            .collect();
        ev["multiValueHeaders"] = Value::Object(multi);
        ev
    }

    /// An HTTP API request (payload 2.0) to the example login function: `POST path` with a
    /// JSON body, `cookies`, and the authorizer context API Gateway would add.
    pub fn login(
        path: &str,
        body: Option<Value>,
        cookies: &[&str],
        context: Option<&Value>,
    ) -> Value {
        let mut ev = http("POST", cookies, &[("content-type", "application/json")]);
        if let Some(m) = ev.as_object_mut() {
            for k in ["routeArn", "type", "identitySource"] {
                m.remove(k);
            }
        }
        ev["rawPath"] = json!(path);
        ev["routeKey"] = json!(format!("POST {path}"));
        ev["requestContext"]["http"]["path"] = json!(path);
        ev["isBase64Encoded"] = json!(false);
        if let Some(b) = body {
            ev["body"] = json!(b.to_string());
        }
        if let Some(c) = context {
            ev["requestContext"]["authorizer"] = json!({ "lambda": c });
        }
        ev
    }

    /// An HTTP API authorizer event, payload 2.0, with these `cookies` entries.
    pub fn http(method: &str, cookies: &[&str], extra_headers: &[(&str, &str)]) -> Value {
        let mut ev = template("http-request.json");
        let arn = ev["routeArn"]
            .as_str()
            .unwrap_or_default()
            .replace("/GET/", &format!("/{method}/"));
        ev["routeArn"] = json!(arn);
        ev["routeKey"] = json!(format!("{method} /orders"));
        ev["requestContext"]["routeKey"] = json!(format!("{method} /orders"));
        ev["requestContext"]["http"]["method"] = json!(method);
        ev["requestContext"]["requestId"] = json!(request_id("http"));
        ev["cookies"] = json!(cookies);
        let headers = ev["headers"].as_object_mut().expect("headers");
        for (k, v) in extra_headers {
            headers.insert(k.to_ascii_lowercase(), json!(v));
        }
        ev
    }
}

/// What the fault proxy does with new connections.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Pass bytes both ways.
    Forward,
    /// Accept and close at once (connection reset / refused service).
    Reset,
    /// Wait this long before passing bytes.
    Delay(Duration),
    /// Read the request and answer this raw HTTP response.
    Respond {
        /// Status code.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// Body.
        body: String,
    },
}

#[derive(Debug, Default)]
struct ProxyState {
    fault: Option<Fault>,
    /// `X-Amz-Target` values (Secrets Manager operations) or request lines seen.
    requests: Vec<String>,
    conns: Vec<tokio::task::AbortHandle>,
}

/// A loopback TCP proxy that can delay, reset or answer in place of its upstream, and counts
/// the requests it saw. Changing the fault drops every open connection, so keep-alive
/// connections see the change too. It runs on a thread of its own.
#[derive(Debug)]
pub struct FaultProxy {
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    state: std::sync::Arc<std::sync::Mutex<ProxyState>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

fn scan_requests(buf: &[u8], out: &mut Vec<String>) {
    let text = String::from_utf8_lossy(buf);
    for line in text.split("\r\n") {
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("x-amz-target:") {
            out.push(v.trim().to_owned());
        } else if lower.starts_with("post /") || lower.starts_with("get /") {
            out.push(
                line.split_whitespace()
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
    }
}

async fn serve_connection(
    mut client: tokio::net::TcpStream,
    upstream: u16,
    st: std::sync::Arc<std::sync::Mutex<ProxyState>>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let fault = st.lock().unwrap().fault.clone().unwrap_or(Fault::Forward);
    match fault {
        Fault::Reset => drop(client),
        Fault::Respond {
            status,
            headers,
            body,
        } => {
            let mut buf = vec![0u8; 65536];
            let n = client.read(&mut buf).await.unwrap_or(0);
            scan_requests(&buf[..n], &mut st.lock().unwrap().requests);
            let mut resp = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
                body.len()
            );
            for (k, v) in headers {
                resp.push_str(&format!("{k}: {v}\r\n"));
            }
            resp.push_str("\r\n");
            resp.push_str(&body);
            let _ = client.write_all(resp.as_bytes()).await;
            let _ = client.shutdown().await;
        }
        Fault::Forward | Fault::Delay(_) => {
            if let Fault::Delay(d) = fault {
                tokio::time::sleep(d).await;
            }
            let Ok(mut server) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await
            else {
                return;
            };
            let (mut cr, mut cw) = client.split();
            let (mut sr, mut sw) = server.split();
            let up = async {
                let mut buf = vec![0u8; 65536];
                loop {
                    let n = match cr.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    scan_requests(&buf[..n], &mut st.lock().unwrap().requests);
                    if sw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
                let _ = sw.shutdown().await;
            };
            let down = async {
                let _ = tokio::io::copy(&mut sr, &mut cw).await;
                let _ = cw.shutdown().await;
            };
            tokio::join!(up, down);
        }
    }
}

impl FaultProxy {
    /// Starts a proxy to `127.0.0.1:upstream`.
    pub fn start(upstream: u16) -> FaultProxy {
        let state = std::sync::Arc::new(std::sync::Mutex::new(ProxyState {
            fault: Some(Fault::Forward),
            ..ProxyState::default()
        }));
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
        let st = state.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("proxy runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("proxy bind");
                let _ = port_tx.send(listener.local_addr().expect("addr").port());
                loop {
                    tokio::select! {
                        _ = &mut stop_rx => break,
                        accepted = listener.accept() => {
                            let Ok((client, _)) = accepted else { continue };
                            let task = tokio::spawn(serve_connection(client, upstream, st.clone()));
                            let mut s = st.lock().unwrap();
                            s.conns.retain(|h| !h.is_finished());
                            s.conns.push(task.abort_handle());
                        }
                    }
                }
            });
        });
        let port = port_rx.recv().expect("proxy port");
        FaultProxy {
            port,
            state,
            shutdown: Some(stop_tx),
        }
    }

    /// Sets the fault for new connections and drops the open ones.
    pub fn set(&self, fault: Fault) {
        let mut s = self.state.lock().unwrap();
        s.fault = Some(fault);
        for c in s.conns.drain(..) {
            c.abort();
        }
    }

    /// The requests seen so far (Secrets Manager operation names or HTTP request lines).
    pub fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().requests.clone()
    }

    /// `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.set(Fault::Reset);
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl Stack {
    /// The process id of a running function.
    pub fn function_pid(&self, name: &str) -> Option<u32> {
        self.functions.get(name).map(Service::pid)
    }

    /// Resident memory of a function process, in KiB (from /proc).
    pub fn function_rss_kib(&self, name: &str) -> Option<u64> {
        let pid = self.function_pid(name)?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
    }

    /// Enables rotation on the secret the way Secrets Manager starts one: the version
    /// `token` labelled `AWSPENDING` without a value. (moto then tries to call the rotation
    /// function in its own Lambda backend, which does not exist; that error is expected.)
    pub async fn start_rotation(&self, token: &str) {
        let _ = self
            .sm
            .rotate_secret()
            .secret_id(SECRET_ID)
            .client_request_token(token)
            .rotation_lambda_arn(
                "arn:aws:lambda:us-east-1:123456789012:function:secrets-fn-rotation",
            )
            .rotation_rules(
                aws_sdk_secretsmanager::types::RotationRulesType::builder()
                    .automatically_after_days(30)
                    .build(),
            )
            .send()
            .await;
    }

    /// The version ids labelled with `stage`.
    pub async fn versions_with(&self, stage: &str) -> Vec<String> {
        let d = self
            .sm
            .describe_secret()
            .secret_id(SECRET_ID)
            .send()
            .await
            .expect("describe");
        d.version_ids_to_stages()
            .map(|m| {
                m.iter()
                    .filter(|(_, s)| s.iter().any(|x| x == stage))
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The key set of the version labelled `stage`.
    pub async fn secret_keys(&self, stage: &str) -> Value {
        let out = self
            .sm
            .get_secret_value()
            .secret_id(SECRET_ID)
            .version_stage(stage)
            .send()
            .await
            .expect("get secret value");
        serde_json::from_str(out.secret_string().unwrap_or("null")).expect("json")
    }
}
