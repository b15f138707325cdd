//! `make bench-cold`: cold start of the release binaries through a minimal Lambda Runtime API.
//!
//! For each case the binary is started afresh `RUNS` times against a loopback Runtime API of
//! our own (which also answers the Lambda Invoke API, instantly, for the authorizer's key
//! fetch). Reported, as medians: init (process start → first `GET /next`, which the runtime
//! sends once `main` has built everything), first invoke (event handed out → response
//! posted), and peak RSS (`VmHWM`) after the first response. Then peak RSS after 200 events
//! (allowed, and refused with the `Unauthorized` error, which goes through the runtime's error
//! path), with and without `RUST_BACKTRACE=1`. Zip sizes come from
//! `target/lambda/*/bootstrap.zip` (`make build`).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use e2e::runtime_api::{runtime_api, AfterLast, Seen};
use e2e::{Paths, Stack};

const RUNS: usize = 15;

struct Sample {
    init: Duration,
    first: Duration,
    rss_kib: u64,
}

fn vm_hwm(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn run_once(binary: &PathBuf, env: &[(String, String)], event: &[u8], keys: &[u8]) -> Sample {
    let (port, rx) = runtime_api(event.to_vec(), keys.to_vec(), 1, AfterLast::Park);
    let started = Instant::now();
    let mut child = e2e::runtime_api::point_at(&mut Command::new(binary), env, port)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start function");
    let mut next = None;
    let mut sample = None;
    while let Ok(seen) = rx.recv_timeout(Duration::from_secs(20)) {
        match seen {
            Seen::Next(t) => next = Some(t),
            Seen::Response(t) => {
                let n = next.expect("next before response");
                sample = Some(Sample {
                    init: n - started,
                    first: t - n,
                    rss_kib: vm_hwm(child.id()),
                });
                break;
            }
            Seen::Error(e) => panic!("the function answered an error: {e}"),
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    sample.expect("no response")
}

/// Peak RSS (KiB) of one process after it answered `count` copies of `event` (responses or
/// errors alike).
fn rss_after(
    binary: &PathBuf,
    env: &[(String, String)],
    event: &[u8],
    keys: &[u8],
    count: usize,
) -> u64 {
    let (port, rx) = runtime_api(event.to_vec(), keys.to_vec(), count, AfterLast::Park);
    let mut child = e2e::runtime_api::point_at(&mut Command::new(binary), env, port)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start function");
    let mut answered = 0;
    while answered < count {
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(Seen::Response(_) | Seen::Error(_)) => answered += 1,
            Ok(Seen::Next(_)) => {}
            Err(_) => panic!("no answer after {answered} events"),
        }
    }
    let rss = vm_hwm(child.id());
    let _ = child.kill();
    let _ = child.wait();
    rss
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn zip_size(name: &str, target: &std::path::Path) -> String {
    let p = target.join("lambda").join(name).join("bootstrap.zip");
    std::fs::metadata(&p)
        .map(|m| format!("{:.2} MiB", m.len() as f64 / 1_048_576.0))
        .unwrap_or_else(|_| "(run make build)".into())
}

#[tokio::main]
async fn main() {
    let paths = Paths::discover();
    let release = paths.target.join("release");
    // Keys and a token, made now.
    let stack = Stack::start();
    let standalone = e2e::runtime_api::Standalone::new(&stack);
    stack.create_secret(&standalone.keys.text()).await;
    let (public, event, keys_answer, base) = (
        standalone.public,
        standalone.event,
        standalone.keys_answer,
        standalone.env,
    );
    let deny_event = serde_json::to_vec(&e2e::events::rest("GET", None, &[])).unwrap();
    let mut with_bootstrap = base.clone();
    with_bootstrap.push(("KEYS_BOOTSTRAP_JWKS".into(), public.clone()));
    let mut secrets_env = base.clone();
    secrets_env.push(("SECRET_ID".into(), e2e::SECRET_ID.into()));
    secrets_env.push((
        "AWS_ENDPOINT_URL_SECRETS_MANAGER".into(),
        format!("http://127.0.0.1:{}", stack.moto_port),
    ));
    let keys_event = br#"{"action":"get_keys"}"#.to_vec();
    type Case = (&'static str, PathBuf, Vec<(String, String)>, Vec<u8>);
    let (base_env, allow_event) = (base.clone(), event.clone());
    let cases: Vec<Case> = vec![
        (
            "authorizer, keys fetched at init",
            release.join("authorizer"),
            base,
            event.clone(),
        ),
        (
            "authorizer, KEYS_BOOTSTRAP_JWKS",
            release.join("authorizer"),
            with_bootstrap,
            event,
        ),
        (
            "secrets-fn (first invoke reads moto)",
            release.join("secrets-fn"),
            secrets_env,
            keys_event,
        ),
    ];
    println!(
        "machine: {} cores, {}; {RUNS} cold starts per case, medians",
        num_cpus(),
        cpu_model()
    );
    println!(
        "{:<40} {:>10} {:>14} {:>12}",
        "case", "init", "first invoke", "peak RSS"
    );
    for (name, bin, env, ev) in cases {
        assert!(
            bin.exists(),
            "{} missing: run `cargo build --release`",
            bin.display()
        );
        let samples: Vec<Sample> = (0..RUNS)
            .map(|_| run_once(&bin, &env, &ev, &keys_answer))
            .collect();
        let init = median(samples.iter().map(|s| s.init).collect());
        let first = median(samples.iter().map(|s| s.first).collect());
        let mut rss: Vec<u64> = samples.iter().map(|s| s.rss_kib).collect();
        rss.sort();
        println!(
            "{:<40} {:>8.2}ms {:>12.2}ms {:>8.1} MiB",
            name,
            init.as_secs_f64() * 1e3,
            first.as_secs_f64() * 1e3,
            rss[rss.len() / 2] as f64 / 1024.0
        );
    }
    println!("authorizer, peak RSS after 200 events (median of 5 processes):");
    let authorizer = release.join("authorizer");
    let mut with_backtrace = base_env.clone();
    with_backtrace.push(("RUST_BACKTRACE".into(), "1".into()));
    for (label, env) in [("", &base_env), ("RUST_BACKTRACE=1", &with_backtrace)] {
        for (kind, ev) in [("allowed", &allow_event), ("Unauthorized", &deny_event)] {
            let mut rss: Vec<u64> = (0..5)
                .map(|_| rss_after(&authorizer, env, ev, &keys_answer, 200))
                .collect();
            rss.sort();
            println!(
                "  {:<12} {:<18} {:>8.1} MiB",
                kind,
                label,
                rss[rss.len() / 2] as f64 / 1024.0
            );
        }
    }
    println!(
        "arm64 zips: authorizer {}, secrets-fn {}",
        zip_size("authorizer", &paths.target),
        zip_size("secrets-fn", &paths.target)
    );
}

fn num_cpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".into())
}
