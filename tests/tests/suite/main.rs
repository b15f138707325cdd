//! The end-to-end suites, one test binary (as cargo's own test suite): the real binaries under
//! `cargo lambda watch`, moto, the local gateway and Chromium. One module per suite; run one
//! with `cargo test -p e2e --test suite <module>::`.

mod attacks;
mod browser;
mod gateway;
mod lifecycle;
mod make_watch;
mod oidc_provider;
mod pair;
mod revocation;
mod sessions;
mod trace;
mod watch;

/// One user of the repository's `.run/` folder at a time (`make watch`, and the `stack`
/// binary behind it): the suites that start one hold this.
pub static RUN_DIR: std::sync::Mutex<()> = std::sync::Mutex::new(());
