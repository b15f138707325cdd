//! `make bench-revocations`: what revocation costs a warm authorizer (contract §7), measured
//! on the release binary against moto's DynamoDB.
//!
//! For 0 and 10,000 active revocations (session ids of the signer's length, 22 characters)
//! the authorizer is started `RUNS` times through a loopback Runtime API, answers 200
//! events, and its resident set (`VmRSS`) and peak (`VmHWM`) are read; the difference is the
//! memory of the set. Its `revocations_refreshed` record says how many items the load read,
//! how many `Query` calls it took and the read capacity DynamoDB (here moto) reported. Then
//! the read an idle container repeats every `REVOCATION_REFRESH_SECONDS` (what was written
//! since the last read, less the overlap) is made once with the same client settings, and its
//! consumed capacity printed: with the call count per hour, that is the cost per
//! container-hour (the README has the arithmetic and the price).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{Read as _, Seek as _};
use std::process::{Command, Stdio};

use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, ReturnConsumedCapacity, WriteRequest};
use e2e::runtime_api::{runtime_api, AfterLast, Seen};
use e2e::{Paths, Stack, REVOCATION_TABLE};
use jwt_session::revocation::dynamodb::to_item;
use jwt_session::revocation::{table, Entry, Revocation};
use serde_json::Value;

const RUNS: usize = 3;
const EVENTS: usize = 200;

fn status(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

struct Sample {
    rss_kib: u64,
    hwm_kib: u64,
    load: Value,
}

fn run_once(env: &[(String, String)], event: &[u8], keys: &[u8]) -> Sample {
    let binary = Paths::discover().root.join("target/release/authorizer");
    assert!(binary.exists(), "run `cargo build --release -p authorizer`");
    let (port, rx) = runtime_api(event.to_vec(), keys.to_vec(), EVENTS, AfterLast::Park);
    // A file, not a pipe: nobody reads the log until the process is done.
    let mut log = tempfile::tempfile().expect("log file");
    let mut child = e2e::runtime_api::point_at(&mut Command::new(binary), env, port)
        .stdout(log.try_clone().expect("log file"))
        .stderr(Stdio::null())
        .spawn()
        .expect("start the authorizer");
    let mut answered = 0;
    while answered < EVENTS {
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Seen::Response(_)) => answered += 1,
            Ok(Seen::Error(e)) => panic!("the authorizer answered an error: {e}"),
            Ok(Seen::Next(_)) => {}
            Err(_) => panic!("no answer after {answered} events"),
        }
    }
    let pid = child.id();
    let (rss_kib, hwm_kib) = (status(pid, "VmRSS:"), status(pid, "VmHWM:"));
    let _ = child.kill();
    let _ = child.wait();
    let mut out = String::new();
    log.seek(std::io::SeekFrom::Start(0)).unwrap();
    log.read_to_string(&mut out).unwrap();
    let load = out
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["event"] == "revocations_refreshed")
        .expect("the set was loaded");
    Sample {
        rss_kib,
        hwm_kib,
        load,
    }
}

async fn revoke_sessions(stack: &Stack, count: usize) {
    let now_ms = jwt_session::unix_now_ms();
    let requests: Vec<WriteRequest> = (0..count)
        .map(|i| {
            let sid = format!("{i:0>22}");
            let entry = Entry::new(Revocation::Session { sid }, now_ms, 43_200);
            WriteRequest::builder()
                .put_request(
                    PutRequest::builder()
                        .set_item(Some(to_item(&entry)))
                        .build()
                        .unwrap(),
                )
                .build()
        })
        .collect();
    for batch in requests.chunks(25) {
        stack
            .dynamodb
            .batch_write_item()
            .request_items(REVOCATION_TABLE, batch.to_vec())
            .send()
            .await
            .expect("write revocations to moto");
    }
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let stack = Stack::start();
    stack.create_revocation_table().await;
    let standalone = e2e::runtime_api::Standalone::new(&stack);
    let (event, keys_answer) = (standalone.event, standalone.keys_answer);
    let moto = format!("http://127.0.0.1:{}", stack.moto_port);
    let mut env = standalone.env;
    env.extend(
        [
            ("REVOCATION_TABLE", REVOCATION_TABLE),
            ("AWS_ENDPOINT_URL_DYNAMODB", &moto),
            // moto reads a page far slower than DynamoDB does.
            ("REVOCATION_TIMEOUT_MS", "30000"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );

    println!("authorizer (release), {EVENTS} events per process, median of {RUNS} processes");
    println!(
        "{:>12} {:>10} {:>10} {:>7} {:>6} {:>9} {:>10}",
        "revocations", "VmRSS", "VmHWM", "items", "calls", "RCU", "load"
    );
    let mut baseline = None;
    for count in [0usize, 10_000] {
        if count > 0 {
            revoke_sessions(&stack, count).await;
        }
        let samples: Vec<Sample> = (0..RUNS)
            .map(|_| run_once(&env, &event, &keys_answer))
            .collect();
        let rss = median(samples.iter().map(|s| s.rss_kib).collect());
        let hwm = median(samples.iter().map(|s| s.hwm_kib).collect());
        let load = &samples[0].load;
        println!(
            "{:>12} {:>6.2} MiB {:>6.2} MiB {:>7} {:>6} {:>9} {:>8.1}ms",
            count,
            rss as f64 / 1024.0,
            hwm as f64 / 1024.0,
            load["items"],
            load["calls"],
            load["consumed_rcu"],
            load["latency_us"].as_f64().unwrap_or(0.0) / 1e3,
        );
        match baseline {
            None => baseline = Some((rss, hwm)),
            Some((r0, h0)) => println!(
                "  {count} revocations: +{:.2} MiB resident, +{:.2} MiB peak ({:.0} bytes resident per revocation)",
                (rss as f64 - r0 as f64) / 1024.0,
                (hwm as f64 - h0 as f64) / 1024.0,
                (rss as f64 - r0 as f64) * 1024.0 / count as f64
            ),
        }
    }

    // The read an idle warm container makes every interval: what was written since the last
    // read (less the overlap); nothing was, since the revocations above.
    let since = jwt_session::unix_now_ms();
    let out = stack
        .dynamodb
        .query()
        .table_name(REVOCATION_TABLE)
        .index_name(table::FEED_INDEX)
        .key_condition_expression("#feed = :feed AND #at >= :since")
        .expression_attribute_names("#feed", table::FEED)
        .expression_attribute_names("#at", table::AT)
        .expression_attribute_values(":feed", AttributeValue::S(table::FEED_VALUE.into()))
        .expression_attribute_values(":since", AttributeValue::N(since.to_string()))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .expect("incremental query");
    println!(
        "an incremental read with nothing new in it: {} item(s), {:?} RCU reported",
        out.count(),
        out.consumed_capacity().and_then(|c| c.capacity_units())
    );
}
