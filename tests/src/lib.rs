//! End-to-end harness: starts moto's Secrets Manager and DynamoDB and `cargo lambda watch` on free loopback
//! ports, runs the real `authorizer` and `secrets-fn` binaries against the watch's Runtime API,
//! and invokes them through the Lambda Invoke API with the real AWS SDK client.
//!
//! Every process it starts is put in its own process group and stopped by that group's id
//! (SIGTERM, then SIGKILL) when its handle is dropped, also when a test panics.
//!
//! What lives where:
//! - `process`: free ports, [`Service`] (a process in its own group, stopped by the group id);
//! - `stack`: [`Stack`] (moto, the watch, the function binaries, the Invoke API),
//!   [`Invocation`], the default function environments;
//! - `keys`: the `jwt-session` tool: key sets ([`KeyFile`]), tokens ([`Minted`]), password
//!   hashes;
//! - [`events`]: sample authorizer and login events; [`catalogue`]: the attack catalogue as
//!   data, for the in-process and the end-to-end runners;
//! - `fault`: [`FaultProxy`], a loopback proxy that delays, resets or answers in place of its
//!   upstream;
//! - `op`: [`OpenIdProvider`], a real OpenID Provider (`oidc-provider`, `tests/op/`);
//! - `http`: [`http_call`] for loopback servers; `gateway`: [`GatewayProc`], the local API
//!   Gateway; [`runtime_api`]: a minimal Runtime API for measuring a binary alone;
//!   [`webdriver`]: the browser suite's WebDriver client.
//!
//! Locations (overridable by environment):
//! - `E2E_VENV_BIN`: folder with `moto_server` and `cargo-lambda` (default `<repo>/.venv/bin`);
//! - `E2E_BIN_DIR`: folder with the built `authorizer`, `secrets-fn` and `jwt-session`
//!   binaries (default `debug/` of the target directory this program was built into, so a
//!   `CARGO_TARGET_DIR` is followed).

use std::collections::HashMap;
use std::fs::File;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use serde_json::{json, Value};

pub use aws_sdk_secretsmanager;

mod fault;
mod gateway;
mod http;
mod keys;
mod op;
mod process;
mod stack;

pub mod catalogue;
pub mod events;
pub mod runtime_api;
pub mod webdriver;

// The harness's interface:
pub use fault::{Fault, FaultProxy};
pub use gateway::{start_gateway, GatewayProc};
pub use http::{http_call, http_call_with_headers, try_http_call};
pub use keys::{hash_password, keygen, run_cli, KeyFile, Minted};
pub use op::{OpClient, OpenIdProvider};
pub use process::{free_port, wait_for_port, Service};
pub use stack::{authorizer_env, local_aws_env, revocation_env, secrets_env, Invocation, Stack};

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
/// The revocation table in moto (docs/revocation.md).
pub const REVOCATION_TABLE: &str = "local-jwt-revocations";

/// Where things are.
#[derive(Debug, Clone)]
pub struct Paths {
    /// Repository root.
    pub root: PathBuf,
    /// Folder of the venv's executables.
    pub venv_bin: PathBuf,
    /// Folder of the built binaries.
    pub bin_dir: PathBuf,
    /// Cargo's target directory: where this program was built (`CARGO_TARGET_DIR` and cargo's
    /// `build.target-dir` included), else `<repo>/target`.
    pub target: PathBuf,
}

/// The target directory the running program was built into: `<target>/<profile>/<name>`, or
/// `<target>/<profile>/deps/<name>` for a test binary.
fn built_into() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let mut dir = exe.parent()?;
    if dir.ends_with("deps") {
        dir = dir.parent()?;
    }
    dir.parent().map(Path::to_path_buf)
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
        let target = built_into().unwrap_or_else(|| root.join("target"));
        let bin_dir = std::env::var_os("E2E_BIN_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| target.join("debug"));
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
            target,
        }
    }
}
