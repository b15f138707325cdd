//! `make bench-revocations`: revocation at production volume (docs/revocation.md), measured on the
//! release authorizer against moto's DynamoDB, through a loopback Runtime API.
//!
//! 1. **Burst.** A warm authorizer decides a valid, unrevoked token and a second ("victim")
//!    token in turn, one event every 50 ms (each token every 100 ms), while 100,000 session
//!    revocations are written to the table in the signer's item shape (`BURST` to change it),
//!    then the victim's session is revoked. Printed: refusals of the valid token (must be
//!    zero), the decisions' latencies, the time until the reader is current again (its log
//!    says it holds every revocation written), the reads and pages it made, and
//!    how long after its revocation the victim was refused.
//! 2. **Cold.** A fresh authorizer with those 100,000 live items: time to its first decision,
//!    and its resident peak (`VmHWM`) after 200 events beside that of a container with no
//!    revocation (the bound: 12 MiB + 64 B per live revocation).
//! 3. **Steady.** 10 revocations a second for `STEADY_SECONDS` (default 600) while a warm
//!    authorizer decides every 100 ms: reads, pages and read units per container-hour.
//!
//! moto answers one `Query` page far slower than DynamoDB (it sorts every item of the table
//! for each page): its page time is measured and printed first, and the time-out of a page is
//! raised to `REVOCATION_TIMEOUT_MS=15000` (`BENCH_PAGE_TIMEOUT_MS`) for every run here (a
//! page outlives the request that asked for it; each request still waits at most its budget).
//! The README carries the same arithmetic with DynamoDB's latencies.
//!
//! Options (environment): `BENCH_AUTHORIZER` (the binary; default `target/release/authorizer`,
//! for a run against another version), `BENCH_SHARDS` (the shards written and read; default 8;
//! 1 writes every item to the one partition a reader before shards reads), `BURST`,
//! `STEADY_SECONDS` (0 skips it), `BENCH_ONLY` (`burst`, `cold` or `steady`),
//! `BENCH_CAP_SECONDS` (how long the burst waits for the reader after the writes; default 600),
//! `BENCH_PAGE_TIMEOUT_MS` (the authorizer's `REVOCATION_TIMEOUT_MS`; default 15000).

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use e2e::runtime_api::{runtime_api_paced, AfterLast, Seen};
use e2e::{Paths, Stack, REVOCATION_TABLE};
use jwt_session::revocation::dynamodb::to_item;
use jwt_session::revocation::{table, Entry, FeedShards};
use serde_json::Value;

/// How long the bench's tokens and revocations live, seconds (the token lifetime an entry is
/// written for): longer than any run.
const LIFETIME: u64 = 7_200;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn status(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// One authorizer process on a paced Runtime API, its log in a file.
struct Container {
    child: Child,
    answers: mpsc::Receiver<Seen>,
    log: std::path::PathBuf,
    started: Instant,
    _dir: tempfile::TempDir,
}

impl Container {
    fn start(env: &[(String, String)], events: Vec<Vec<u8>>, keys: &[u8], gap: Duration) -> Self {
        let binary = std::env::var("BENCH_AUTHORIZER")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|_| Paths::discover().target.join("release/authorizer"));
        assert!(binary.exists(), "no {}", binary.display());
        let (port, answers) =
            runtime_api_paced(events, keys.to_vec(), usize::MAX, AfterLast::Park, gap);
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("authorizer.log");
        let file = std::fs::File::create(&log).unwrap();
        let child = e2e::runtime_api::point_at(&mut Command::new(binary), env, port)
            .stdout(file)
            .stderr(Stdio::null())
            .spawn()
            .expect("start the authorizer");
        Container {
            child,
            answers,
            log,
            started: Instant::now(),
            _dir: dir,
        }
    }

    /// Every JSON record of the log so far.
    fn records(&self) -> Vec<Value> {
        let f = std::fs::File::open(&self.log).unwrap();
        BufReader::new(f)
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| serde_json::from_str::<Value>(&l).ok())
            .collect()
    }

    fn rounds(&self) -> Vec<Value> {
        self.records()
            .into_iter()
            .filter(|v| v["event"] == "revocations_refreshed")
            .collect()
    }

    fn hwm_kib(&self) -> u64 {
        status(self.child.id(), "VmHWM:")
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A decision: which event (0-based), whether allowed, how long it took.
#[derive(Debug, Clone, Copy)]
struct Decision {
    n: usize,
    allowed: bool,
    at: Instant,
    took: Duration,
}

/// Reads what the Runtime API saw so far into decisions.
fn drain(c: &Container, next: &mut Vec<Instant>, out: &mut Vec<Decision>, wait: Duration) {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let answer = match c.answers.recv_timeout(left.max(Duration::from_millis(1))) {
            Ok(Seen::Next(t)) => {
                next.push(t);
                None
            }
            Ok(Seen::Response(t)) => Some((true, t)),
            Ok(Seen::Error(_)) => Some((false, Instant::now())),
            Err(_) => None,
        };
        if let Some((allowed, at)) = answer {
            let n = out.len();
            let took = next.get(n).map(|s| at.saturating_duration_since(*s));
            out.push(Decision {
                n,
                allowed,
                at,
                took: took.unwrap_or_default(),
            });
        }
        if Instant::now() >= deadline {
            return;
        }
    }
}

fn sum(rounds: &[Value], field: &str) -> f64 {
    rounds.iter().filter_map(|r| r[field].as_f64()).sum()
}

fn sid(i: usize) -> String {
    format!("bench{i:0>17}")
}

/// Writes `count` session revocations from `first`, in the signer's item shape, with
/// `writers` parallel BatchWriteItem loops; returns how long it took.
async fn revoke_many(
    stack: &Stack,
    shards: FeedShards,
    first: usize,
    count: usize,
    writers: usize,
) -> Duration {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let client = stack.dynamodb.clone();
        let (lo, hi) = (
            first + count * w / writers,
            first + count * (w + 1) / writers,
        );
        tasks.push(tokio::spawn(async move {
            let ids: Vec<usize> = (lo..hi).collect();
            for chunk in ids.chunks(25) {
                let now_ms = jwt_session::unix_now_ms();
                let batch: Vec<WriteRequest> = chunk
                    .iter()
                    .map(|i| {
                        let entry = Entry::session(sid(*i), now_ms, LIFETIME, 0);
                        WriteRequest::builder()
                            .put_request(
                                PutRequest::builder()
                                    .set_item(Some(to_item(&entry, shards)))
                                    .build()
                                    .unwrap(),
                            )
                            .build()
                    })
                    .collect();
                client
                    .batch_write_item()
                    .request_items(REVOCATION_TABLE, batch)
                    .send()
                    .await
                    .expect("write revocations to moto");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    started.elapsed()
}

async fn revoke_one(stack: &Stack, shards: FeedShards, sid: &str) {
    let entry = Entry::session(sid.to_owned(), jwt_session::unix_now_ms(), LIFETIME, 0);
    stack
        .dynamodb
        .put_item()
        .table_name(REVOCATION_TABLE)
        .set_item(Some(to_item(&entry, shards)))
        .send()
        .await
        .expect("revoke the victim");
}

/// moto's time for one page of `limit` items of one shard of the feed index.
async fn page_time(stack: &Stack, limit: i32) -> (Duration, i32) {
    let started = Instant::now();
    let out = stack
        .dynamodb
        .query()
        .table_name(REVOCATION_TABLE)
        .index_name(table::FEED_INDEX)
        .key_condition_expression("#feed = :feed AND #at >= :since")
        .expression_attribute_names("#feed", table::FEED)
        .expression_attribute_names("#at", table::AT)
        .expression_attribute_values(":feed", AttributeValue::S(FeedShards::value(0)))
        .expression_attribute_values(":since", AttributeValue::N("0".into()))
        .limit(limit)
        .send()
        .await
        .expect("query");
    (started.elapsed(), out.count())
}

fn quantile(mut v: Vec<Duration>, q: f64) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    v.sort();
    v[((v.len() - 1) as f64 * q).round() as usize]
}

#[tokio::main]
async fn main() {
    let burst: usize = env_or("BURST", 100_000);
    let steady_seconds: u64 = env_or("STEADY_SECONDS", 600);
    let shards = FeedShards::new(env_or("BENCH_SHARDS", 8)).expect("BENCH_SHARDS: 1 to 64");
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let page_timeout_ms: u64 = env_or("BENCH_PAGE_TIMEOUT_MS", 15_000);
    let stack = Stack::start();
    stack.create_revocation_table().await;
    let standalone = e2e::runtime_api::Standalone::new(&stack);
    let keys_answer = standalone.keys_answer.clone();
    let moto = format!("http://127.0.0.1:{}", stack.moto_port);
    let mut env = standalone.env.clone();
    env.extend(
        [
            ("REVOCATION_TABLE", REVOCATION_TABLE.to_owned()),
            ("AWS_ENDPOINT_URL_DYNAMODB", moto),
            ("REVOCATION_TIMEOUT_MS", page_timeout_ms.to_string()),
            ("REVOCATION_SHARDS", shards.count().to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v)),
    );
    // Tokens and revocations live `LIFETIME` seconds: longer than a run (moto writes 100,000
    // items in ~15 minutes), so nothing expires while it is measured.
    let lifetime = LIFETIME.to_string();
    let valid_token = standalone.keys.mint(&["--ttl", &lifetime]).token;
    let valid = serde_json::to_vec(&e2e::events::rest(
        "GET",
        Some(&format!("{}={valid_token}", e2e::COOKIE)),
        &[],
    ))
    .unwrap();
    let victim_token = standalone
        .keys
        .mint(&["--ttl", &lifetime, "--set", "sid=\"victim-session\""])
        .token;
    let victim = serde_json::to_vec(&e2e::events::rest(
        "GET",
        Some(&format!("{}={victim_token}", e2e::COOKIE)),
        &[],
    ))
    .unwrap();
    println!(
        "release authorizer {}, {} shard(s), REVOCATION_TIMEOUT_MS={page_timeout_ms}, moto {}",
        std::env::var("BENCH_AUTHORIZER").unwrap_or_else(|_| "target/release/authorizer".into()),
        shards.count(),
        stack.moto_port
    );

    // A container with nothing revoked: the memory baseline.
    let baseline_hwm = {
        let c = Container::start(&env, vec![valid.clone()], &keys_answer, Duration::ZERO);
        let (mut next, mut seen) = (Vec::new(), Vec::new());
        while seen.len() < 200 {
            drain(&c, &mut next, &mut seen, Duration::from_millis(200));
            assert!(c.started.elapsed() < Duration::from_secs(60), "no answers");
        }
        c.hwm_kib()
    };
    println!(
        "\nno revocation: VmHWM {:.2} MiB after 200 events",
        baseline_hwm as f64 / 1024.0
    );

    if only.is_empty() || only == "burst" || only == "cold" {
        burst_then_cold(
            &stack,
            &env,
            shards,
            burst,
            (&valid, &victim),
            &keys_answer,
            baseline_hwm,
            &only,
        )
        .await;
    }
    if (only.is_empty() || only == "steady") && steady_seconds > 0 {
        steady(
            &stack,
            &env,
            shards,
            burst + 1,
            &valid,
            &keys_answer,
            steady_seconds,
        )
        .await;
    }
}

#[allow(clippy::too_many_arguments)]
async fn burst_then_cold(
    stack: &Stack,
    env: &[(String, String)],
    shards: FeedShards,
    burst: usize,
    (valid, victim): (&[u8], &[u8]),
    keys_answer: &[u8],
    baseline_hwm: u64,
    only: &str,
) {
    if only == "cold" {
        // The items only, then the cold container (no warm one reading beside the writes).
        let took = revoke_many(stack, shards, 0, burst + 1, 4).await;
        println!(
            "\ncold only: {} session revocations written in {:.1} s",
            burst + 1,
            took.as_secs_f64()
        );
        cold(env, valid, keys_answer, baseline_hwm, burst).await;
        return;
    }
    let warm = Container::start(
        env,
        vec![valid.to_vec(), victim.to_vec()],
        keys_answer,
        Duration::from_millis(50),
    );
    let (mut next, mut seen) = (Vec::new(), Vec::new());
    drain(&warm, &mut next, &mut seen, Duration::from_secs(2));
    assert!(
        seen.iter().all(|d| d.allowed) && !seen.is_empty(),
        "the warm container decides"
    );
    let burst_started = Instant::now();
    let writing = revoke_many(stack, shards, 0, burst, 4);
    tokio::pin!(writing);
    let written = loop {
        tokio::select! {
            took = &mut writing => break took,
            _ = tokio::time::sleep(Duration::from_millis(200)) => {
                drain(&warm, &mut next, &mut seen, Duration::from_millis(1));
            }
        }
    };
    revoke_one(stack, shards, "victim-session").await;
    let revoked_at = Instant::now();
    println!(
        "\nburst: {burst} session revocations written in {:.1} s ({:.0}/s; the victim's revoked after them)",
        written.as_secs_f64(),
        burst as f64 / written.as_secs_f64()
    );
    for (limit, label) in [(2000, "a 2,000-item page"), (100, "a 100-item page")] {
        let (t, n) = page_time(stack, limit).await;
        println!(
            "  moto, {} items in the table: {label} of one shard takes {:.2} s ({n} items)",
            burst + 1,
            t.as_secs_f64()
        );
    }
    // Until the victim is refused and the reader holds everything, at most `BENCH_CAP_SECONDS`.
    let cap = Duration::from_secs(env_or("BENCH_CAP_SECONDS", 600));
    let mut refused_after = None;
    let mut current_after = None;
    while revoked_at.elapsed() < cap && (refused_after.is_none() || current_after.is_none()) {
        drain(&warm, &mut next, &mut seen, Duration::from_millis(500));
        if refused_after.is_none() {
            refused_after = seen
                .iter()
                .find(|d| d.n % 2 == 1 && !d.allowed && d.at > revoked_at)
                .map(|d| d.at.saturating_duration_since(revoked_at));
        }
        if current_after.is_none() {
            let rounds = warm.rounds();
            // Current: it holds every revocation written (the burst and the victim's).
            let caught_up = rounds
                .last()
                .is_some_and(|r| r["revoked"].as_u64().unwrap_or(0) > burst as u64);
            if caught_up {
                current_after = Some(burst_started.elapsed());
            }
        }
    }
    let after_burst: Vec<&Decision> = seen
        .iter()
        .filter(|d| d.at > burst_started && d.n % 2 == 0)
        .collect();
    let refusals = after_burst.iter().filter(|d| !d.allowed).count();
    let took: Vec<Duration> = after_burst.iter().map(|d| d.took).collect();
    let rounds = warm.rounds();
    println!(
        "  the valid token: {} decisions during and after the burst, {refusals} refused; latency p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        after_burst.len(),
        quantile(took.clone(), 0.5).as_secs_f64() * 1e3,
        quantile(took.clone(), 0.99).as_secs_f64() * 1e3,
        quantile(took, 1.0).as_secs_f64() * 1e3,
    );
    let reasons: std::collections::BTreeMap<String, usize> = warm
        .records()
        .iter()
        .filter(|v| v["target"] == "audit" && v["decision"] == "deny")
        .fold(Default::default(), |mut m, v| {
            *m.entry(v["reason"].as_str().unwrap_or("?").to_owned())
                .or_default() += 1;
            m
        });
    println!("  refusals by reason (both tokens): {reasons:?}");
    match current_after {
        Some(t) => println!(
            "  the reader was current again (it held every revocation written) {:.1} s after the burst began",
            t.as_secs_f64()
        ),
        None => println!("  the reader was NOT current within {} s", cap.as_secs()),
    }
    match refused_after {
        Some(t) => println!(
            "  the victim's token was refused {:.1} s after its revocation was written",
            t.as_secs_f64()
        ),
        None => println!(
            "  the victim's token was NOT refused within {} s",
            cap.as_secs()
        ),
    }
    println!(
        "  reads: {} rounds, {} pages ({} failed), {:.0} read units reported, {} items read",
        rounds.len(),
        sum(&rounds, "pages"),
        sum(&rounds, "failed"),
        sum(&rounds, "consumed_rcu"),
        sum(&rounds, "items"),
    );
    drop(warm);

    if only.is_empty() || only == "cold" {
        cold(env, valid, keys_answer, baseline_hwm, burst).await;
    }
}

/// A cold container with every item live: time to its first allowed decision, and its peak.
async fn cold(
    env: &[(String, String)],
    valid: &[u8],
    keys_answer: &[u8],
    baseline_hwm: u64,
    burst: usize,
) {
    // A cold container with every item live.
    let cold_started = Instant::now();
    // Events every 100 ms: refused (key_unavailable) until the load is done, then allowed;
    // 200 allowed ones before the peak is read.
    let cold = Container::start(
        env,
        vec![valid.to_vec()],
        keys_answer,
        Duration::from_millis(100),
    );
    let (mut next, mut seen): (Vec<Instant>, Vec<Decision>) = (Vec::new(), Vec::new());
    let cap = Duration::from_secs(env_or("BENCH_CAP_SECONDS", 600));
    while seen.iter().filter(|d| d.allowed).count() < 200 && cold_started.elapsed() < cap {
        drain(&cold, &mut next, &mut seen, Duration::from_millis(500));
    }
    let first = seen.iter().find(|d| d.allowed).map(|d| d.at);
    let refused = seen.iter().filter(|d| !d.allowed).count();
    let hwm = cold.hwm_kib();
    let rounds = cold.rounds();
    let live = burst + 1;
    println!(
        "\ncold: {live} live revocations; first allowed decision {:.1} s after the process started ({refused} refused, key_unavailable, before it); {} rounds, {} pages ({} failed), {:.0} read units",
        first.map_or(f64::NAN, |t| t.saturating_duration_since(cold_started).as_secs_f64()),
        rounds.len(),
        sum(&rounds, "pages"),
        sum(&rounds, "failed"),
        sum(&rounds, "consumed_rcu"),
    );
    let bound_kib = 12 * 1024 + (64 * live as u64).div_ceil(1024);
    println!(
        "  VmHWM after 200 events {:.2} MiB (no revocation: {:.2} MiB; +{:.0} B per revocation); bound 12 MiB + 64 B each = {:.2} MiB: {}",
        hwm as f64 / 1024.0,
        baseline_hwm as f64 / 1024.0,
        (hwm as f64 - baseline_hwm as f64) * 1024.0 / live as f64,
        bound_kib as f64 / 1024.0,
        if hwm <= bound_kib { "within" } else { "EXCEEDED" }
    );
}

async fn steady(
    stack: &Stack,
    env: &[(String, String)],
    shards: FeedShards,
    first: usize,
    valid: &[u8],
    keys_answer: &[u8],
    seconds: u64,
) {
    let warm = Container::start(
        env,
        vec![valid.to_vec()],
        keys_answer,
        Duration::from_millis(100),
    );
    let (mut next, mut seen) = (Vec::new(), Vec::new());
    // Loaded (the burst's items are still live, if it ran).
    while !warm.rounds().iter().any(|r| r["loaded"] == true) {
        drain(&warm, &mut next, &mut seen, Duration::from_millis(500));
        assert!(
            warm.started.elapsed() < Duration::from_secs(900),
            "not loaded"
        );
    }
    drain(&warm, &mut next, &mut seen, Duration::from_secs(1));
    let before = warm.rounds();
    let started = Instant::now();
    let mut written = 0usize;
    while started.elapsed() < Duration::from_secs(seconds) {
        let tick = Instant::now();
        revoke_many(stack, shards, first + written, 10, 1).await;
        written += 10;
        let rest = Duration::from_secs(1).saturating_sub(tick.elapsed());
        drain(&warm, &mut next, &mut seen, rest);
    }
    let elapsed = started.elapsed();
    let after = warm.rounds();
    let rounds = &after[before.len()..];
    let per_hour = 3600.0 / elapsed.as_secs_f64();
    let refusals = seen.iter().filter(|d| !d.allowed && d.at > started).count();
    println!(
        "\nsteady: {written} revocations in {:.0} s (10/s); the valid token refused {refusals} times",
        elapsed.as_secs_f64()
    );
    println!(
        "  per container-hour: {:.0} rounds, {:.0} pages ({:.0} failed), {:.0} read units reported by moto, {:.0} items read",
        rounds.len() as f64 * per_hour,
        sum(rounds, "pages") * per_hour,
        sum(rounds, "failed") * per_hour,
        sum(rounds, "consumed_rcu") * per_hour,
        sum(rounds, "items") * per_hour,
    );
}
