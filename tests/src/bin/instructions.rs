//! `make bench-instructions` (part of `make bench`): the deterministic cost of one event.
//!
//! The release authorizer runs **as a process** under callgrind, against a minimal local
//! Runtime API ([`e2e::runtime_api`]) that hands out the same event `SHORT` and then `LONG`
//! times and then closes, so the process exits; the Invoke API it also answers serves the
//! key set (the authorizer's fetch at start-up). Instructions per event are the difference of
//! the two runs' totals divided by the extra events: start-up and shut-down cancel out, and
//! what remains is all an invocation costs (the runtime's polling, the event copy, reading the
//! event, the decision, the answer, the audit line). Beside it, the same way, the bare
//! aws-lc-rs verify of the same token with the key parsed once (`bench/src/bin/floor_loop.rs`).
//!
//! Instruction counts repeat exactly for the same binary, inputs and environment, whatever
//! else the machine does; wall-clock benchmarks here vary by 30–40 % between runs.
//!
//! **The guard** (`make test` runs it): every whole-event count is compared with the committed
//! baseline `bench/instructions-baseline.json`; a rise of more than [`MAX_RISE`] fails the run.
//! A change that costs more on purpose updates the baseline in the same commit, saying why in
//! the commit message: `INSTRUCTIONS_UPDATE_BASELINE=1 make bench-instructions`.

use std::path::Path;
use std::process::{Command, Stdio};

use e2e::runtime_api::{runtime_api, AfterLast};
use e2e::Paths;
use serde_json::{json, Value};

const SHORT: u64 = 20;
/// The largest rise over the baseline that passes: 2 %.
const MAX_RISE: f64 = 0.02;
/// The committed baseline, from the repository's root.
const BASELINE: &str = "bench/instructions-baseline.json";
const LONG: u64 = 220;

/// Total instructions (`Ir`) of one run under callgrind.
fn callgrind(out_dir: &Path, name: &str, cmd: &mut Command) -> u64 {
    let out = out_dir.join(format!("callgrind.{name}.out"));
    let status = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run valgrind");
    let _ = status; // the authorizer exits with an error once the Runtime API closes
    let text = std::fs::read_to_string(&out).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    text.lines()
        .find_map(|l| {
            l.strip_prefix("totals:")
                .or_else(|| l.strip_prefix("summary:"))
        })
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no totals in {}", out.display()))
}

fn valgrind(out_dir: &Path, name: &str) -> Command {
    let mut cmd = Command::new("valgrind");
    cmd.arg("--tool=callgrind")
        .arg(format!(
            "--callgrind-out-file={}",
            out_dir.join(format!("callgrind.{name}.out")).display()
        ))
        .arg("--quiet");
    cmd
}

fn authorizer_run(
    out_dir: &Path,
    bin: &Path,
    env: &[(String, String)],
    event: &[u8],
    keys: &[u8],
    count: u64,
    name: &str,
) -> u64 {
    let (port, rx) = runtime_api(
        event.to_vec(),
        keys.to_vec(),
        count as usize,
        AfterLast::Close,
    );
    let mut cmd = valgrind(out_dir, name);
    e2e::runtime_api::point_at(cmd.arg(bin), env, port);
    let total = callgrind(out_dir, name, &mut cmd);
    let responses = rx
        .try_iter()
        .filter(|s| matches!(s, e2e::runtime_api::Seen::Response(_)))
        .count();
    assert_eq!(responses as u64, count, "{name}: every event answered");
    total
}

fn main() {
    let paths = Paths::discover();
    let release = paths.target.join("release");
    // `INSTRUCTIONS_AUTHORIZER`: another build of the authorizer to count (one with symbols,
    // to see where the instructions go with `callgrind_annotate`).
    let authorizer = std::env::var_os("INSTRUCTIONS_AUTHORIZER")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| release.join("authorizer"));
    let floor_bin = release.join("floor_loop");
    for b in [&authorizer, &floor_bin] {
        assert!(
            b.exists(),
            "{} missing: run `make bench-instructions`",
            b.display()
        );
    }
    // Kept for `callgrind_annotate --inclusive=yes target/instructions/callgrind.<case>.out`.
    let out_dir = &paths.target.join("instructions");
    std::fs::create_dir_all(out_dir).expect("target/instructions");
    // The key sets made for the run stay out of target/ (removed when the run ends).
    let key_dir = tempfile::tempdir().expect("scratch dir");
    let base: Vec<(String, String)> = [
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_CONFIG_FILE", "/nonexistent"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"),
        ("AWS_LAMBDA_FUNCTION_NAME", "bench"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "1"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ("JWT_ISSUER", e2e::ISSUER),
        ("JWT_AUDIENCE", e2e::AUDIENCE),
        ("JWT_ALGORITHMS", "EdDSA,ES256,RS256,HS256"),
        ("TOKEN_FORMATS", "jwt,paseto"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    println!(
        "instructions per event (callgrind, release build; ({LONG} − {SHORT} events) difference)"
    );
    println!(
        "{:<6} {:>12} {:>14} {:>14} {:>10} {:>10}",
        "alg", "bare verify", "REST event", "HTTP API event", "REST/bare", "HTTP/bare"
    );
    // The EdDSA JWT's events, beside which the PASETO (also Ed25519) is shown.
    let mut eddsa = (0.0, 0.0);
    let mut counts = std::collections::BTreeMap::<String, f64>::new();
    for alg in ["EdDSA", "ES256", "RS256", "HS256", "v4.public"] {
        let keys = e2e::keygen(&paths, key_dir.path(), &format!("{alg}.json"), &[alg]);
        let keys_path = keys.path.to_string_lossy().into_owned();
        let public = e2e::run_cli(
            &paths,
            &["public", "--keys", &keys_path, "--include-symmetric"],
        );
        let mut answer: Value = serde_json::from_str(&public).unwrap();
        answer["cache_ttl_seconds"] = json!(3600);
        let answer = serde_json::to_vec(&answer).unwrap();
        let minted = keys.mint(&["--ttl", "3600"]);
        let cookie = format!("{}={}", e2e::COOKIE, minted.token);
        let rest = serde_json::to_vec(&e2e::events::rest("GET", Some(&cookie), &[])).unwrap();
        let http = serde_json::to_vec(&e2e::events::http("GET", &[&cookie], &[])).unwrap();
        let per_event = |event: &[u8], kind: &str| {
            let a = authorizer_run(
                out_dir,
                &authorizer,
                &base,
                event,
                &answer,
                SHORT,
                &format!("{alg}-{kind}-short"),
            );
            let b = authorizer_run(
                out_dir,
                &authorizer,
                &base,
                event,
                &answer,
                LONG,
                &format!("{alg}-{kind}-long"),
            );
            (b.saturating_sub(a)) as f64 / (LONG - SHORT) as f64
        };
        let rest_i = per_event(&rest, "rest");
        let http_i = per_event(&http, "http");
        counts.insert(format!("{alg} REST event"), rest_i.round());
        counts.insert(format!("{alg} HTTP API event"), http_i.round());
        if alg == "EdDSA" {
            eddsa = (rest_i, http_i);
        }
        if alg == "v4.public" {
            // No bare JWS verify to compare with: beside the EdDSA JWT's whole event instead.
            println!(
                "{:<6} {:>12} {:>14.0} {:>14.0} {:>10} {:>10}   (PASETO; ratios to the EdDSA JWT event)",
                "v4.pub",
                "-",
                rest_i,
                http_i,
                format!("{:.3}x", rest_i / eddsa.0),
                format!("{:.3}x", http_i / eddsa.1)
            );
            continue;
        }
        let floor = |count: u64, name: &str| {
            let mut cmd = valgrind(out_dir, name);
            cmd.arg(&floor_bin)
                .arg(&keys.path)
                .arg(&minted.token)
                .arg(count.to_string());
            callgrind(out_dir, name, &mut cmd)
        };
        let bare = (floor(LONG, &format!("{alg}-floor-long"))
            .saturating_sub(floor(SHORT, &format!("{alg}-floor-short")))) as f64
            / (LONG - SHORT) as f64;
        let ratio = |x: f64| {
            if alg == "HS256" {
                format!("+{:.0}k", (x - bare) / 1000.0)
            } else {
                format!("{:.2}x", x / bare)
            }
        };
        println!(
            "{:<6} {:>12.0} {:>14.0} {:>14.0} {:>10} {:>10}",
            alg,
            bare,
            rest_i,
            http_i,
            ratio(rest_i),
            ratio(http_i)
        );
    }
    guard(&paths.root.join(BASELINE), &counts);
}

/// Compares `counts` with the baseline at `path` (or writes it, with
/// `INSTRUCTIONS_UPDATE_BASELINE=1`); exits 1 on a rise above [`MAX_RISE`] or a count the
/// baseline does not have.
fn guard(path: &Path, counts: &std::collections::BTreeMap<String, f64>) {
    if std::env::var_os("INSTRUCTIONS_UPDATE_BASELINE").is_some_and(|v| v == "1") {
        let text = serde_json::to_string_pretty(counts).unwrap();
        std::fs::write(path, format!("{text}\n")).unwrap();
        println!("baseline written: {}", path.display());
        return;
    }
    let baseline: std::collections::BTreeMap<String, f64> = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| {
            eprintln!(
                "no readable baseline at {}: create it with INSTRUCTIONS_UPDATE_BASELINE=1 make bench-instructions",
                path.display()
            );
            std::process::exit(1)
        });
    println!(
        "\nagainst the baseline ({BASELINE}; fails above +{:.0} %):",
        MAX_RISE * 100.0
    );
    let mut failed = Vec::new();
    for (name, now) in counts {
        let Some(before) = baseline.get(name) else {
            failed.push(format!("{name}: not in the baseline"));
            continue;
        };
        let change = now / before - 1.0;
        println!(
            "  {name:<22} {before:>10.0} -> {now:>10.0}  {:+.2} %",
            change * 100.0
        );
        if change > MAX_RISE {
            failed.push(format!(
                "{name}: {before:.0} -> {now:.0} ({:+.2} %)",
                change * 100.0
            ));
        }
    }
    if !failed.is_empty() {
        eprintln!(
            "instructions per event rose above the baseline:\n  {}\n(a rise on purpose: INSTRUCTIONS_UPDATE_BASELINE=1 make bench-instructions, committed with its reason)",
            failed.join("\n  ")
        );
        std::process::exit(1);
    }
    println!("every count within the baseline");
}
