//! The whole attack catalogue in-process (`make unit`): every case's event, as bytes, through
//! the authorizer's own event reader, decision and answer (`handle_offline`) with the key ring
//! secrets-fn would serve for the same secret, and its audit record written by the
//! authorizer's audit layer. No process, no AWS: the cases that need the binaries (the key
//! server, the runtime, every process's logs) run again end to end in `suite/attacks.rs`.
//!
//! Besides each decision, answer and audit record, every line the decision path logs, at any
//! level, is checked for tokens, signatures, key material and forged claims.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use authorizer::internal::{audit_record, handle_offline, strict::KeyRing, Request};
use authorizer::{AuditLayer, Config, Decision, Reason};
use e2e::catalogue::{self, secrets_of, Catalogue, Keys};
use serde_json::Value;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::Layer as _;

/// A writer into a shared buffer.
#[derive(Clone, Debug, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
    }
}

/// The authorizer's configuration for `catalogue`: the suites' defaults and its own.
fn config(catalogue: &Catalogue) -> Config {
    let mut vars: std::collections::HashMap<String, String> = e2e::authorizer_env()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    for (k, v) in catalogue.authorizer_env {
        vars.insert((*k).to_owned(), (*v).to_owned());
    }
    Config::from_lookup(|k| vars.get(k).cloned()).unwrap()
}

/// Runs every case of `catalogue` in-process; returns how many ran.
fn run(catalogue: &Catalogue) -> usize {
    let keys = Keys::generate(catalogue.algs);
    let cases = (catalogue.build)(&keys);
    let cfg = config(catalogue);
    let ring = KeyRing::from_set(&keys.served());
    let audit = Capture::default();
    let logs = Capture::default();
    let (a, l) = (audit.clone(), logs.clone());
    let subscriber = tracing_subscriber::registry()
        .with(AuditLayer::with_writer(move || a.clone()))
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_writer(move || l.clone())
                .with_filter(tracing_subscriber::filter::LevelFilter::TRACE),
        );
    let reasons: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
    let mut failures = Vec::new();
    let mut answers = String::new();
    tracing::subscriber::with_default(subscriber, || {
        for (i, c) in cases.iter().enumerate() {
            let event = c.event.to_string();
            let now = jwt_session::unix_now();
            let (answer, decision) = handle_offline(event.as_bytes(), &cfg, now, &ring);
            let value = answer.to_value();
            answers.push_str(&format!("{value:?}\n"));
            let req = Request::read(&event, &cfg.read_headers);
            audit_record(&req, &decision, "in-process", now, Duration::ZERO);
            let lines = audit.take();
            let record: Value = serde_json::from_str(lines.trim()).unwrap_or(Value::Null);
            let reason = record["reason"].as_str().unwrap_or("<no record>");
            let want_allow = matches!(decision, Decision::Allow(_));
            let logged_decision = record["decision"].as_str().unwrap_or("");
            let mut wrong = Vec::new();
            if lines.lines().count() != 1 {
                wrong.push(format!("{} audit lines", lines.lines().count()));
            }
            if reason != c.reason() || !reasons.contains(&reason) {
                wrong.push(format!("reason {reason}"));
            }
            if want_allow != (c.reason() == "ok")
                || logged_decision != if want_allow { "allow" } else { "deny" }
            {
                wrong.push(format!("decision {logged_decision}"));
            }
            if !c.answer_ok(value.as_ref()) {
                wrong.push(format!("answer {value:?}"));
            }
            if let Some(id) = c.event["requestContext"]["requestId"].as_str() {
                if record["request_id"].as_str() != Some(id) {
                    wrong.push(format!("request id {}", record["request_id"]));
                }
            }
            if !wrong.is_empty() {
                failures.push(format!(
                    "#{i} {}: want {}, got {}",
                    c.name,
                    c.reason(),
                    wrong.join(", ")
                ));
            }
            // The audit lines are checked with the other logs below.
            logs.0.lock().unwrap().extend_from_slice(lines.as_bytes());
        }
    });
    assert!(
        failures.is_empty(),
        "{}: {} of {} case(s) failed:\n{}",
        catalogue.name,
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    let output = logs.take();
    for s in secrets_of(&cases, &keys) {
        assert!(
            !output.contains(s.as_str()),
            "{}: a token, signature, cookie value or key reached the logs",
            catalogue.name
        );
        assert!(
            !answers.contains(s.as_str()),
            "{}: a token, signature, cookie value or key reached an answer",
            catalogue.name
        );
    }
    for m in catalogue.markers {
        assert!(
            !output.contains(m) && !answers.contains(m),
            "{}: a claim of a token whose signature failed leaked",
            catalogue.name
        );
    }
    cases.len()
}

#[test]
fn attack_catalogue_with_the_default_configuration_in_process() {
    let n = run(&catalogue::DEFAULT);
    assert!(n >= 80, "only {n} cases");
}

#[test]
fn attack_catalogue_with_a_permissive_allowlist_and_explicit_typing_in_process() {
    let n = run(&catalogue::PERMISSIVE);
    assert!(n >= 10, "only {n} cases");
}

#[test]
fn route_rules_and_double_token_mode_in_process() {
    let n = run(&catalogue::ROUTES_AND_DOUBLE_TOKEN);
    assert!(n >= 10, "only {n} cases");
}

#[test]
fn attack_catalogue_for_paseto_in_process() {
    let n = run(&catalogue::PASETO);
    assert!(n >= 20, "only {n} cases");
}

#[test]
fn the_end_to_end_run_keeps_every_reason_and_every_unknown_kid_case() {
    let keys = Keys::generate(catalogue::DEFAULT.algs);
    let all = (catalogue::DEFAULT.build)(&keys);
    let kept = catalogue::needing_the_binaries(all.clone());
    assert!(kept.len() < all.len(), "nothing left to in-process only");
    for c in &all {
        assert!(
            kept.iter()
                .any(|k| k.reason() == c.reason() && k.is_http() == c.is_http()),
            "no end-to-end case for {} ({})",
            c.reason(),
            if c.is_http() { "HTTP API" } else { "REST" }
        );
    }
    let unknown =
        |cases: &[catalogue::Case]| cases.iter().filter(|c| c.reason() == "unknown_kid").count();
    assert_eq!(unknown(&kept), unknown(&all));
}
