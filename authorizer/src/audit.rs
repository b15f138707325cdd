//! The audit record: exactly one JSON line per authorization attempt.
//!
//! Fields: `decision`, `reason`, `request_id` (API Gateway's), `lambda_request_id`,
//! `source_ip`, `route_arn`, `route`, `method`, `payload`, `user_agent`, `latency_us`, and
//! — only when the token's signature verified — `sub`, `kid`, `jti`, `token_age_s`,
//! `expires_in_s`. Never the token, a cookie value, a claim of an unverified token, or key
//! material.

use std::time::Duration;

use crate::decision::Decision;
use crate::event::Request;

/// The `tracing` target of audit records (filter on it to route them).
pub const TARGET: &str = "audit";

/// Longest user agent logged.
const MAX_UA: usize = 256;

/// Longest value of any other request-controlled field, in characters: a record stays one
/// bounded line whatever the request carries (`sub` and `jti` are bounded at 1 KiB by the
/// verifier already; the ARN, route and request id are not bounded by API Gateway here).
pub const MAX_FIELD: usize = 512;

fn clip(s: Option<&str>, max: usize) -> Option<&str> {
    s.map(|s| match s.char_indices().nth(max) {
        Some((i, _)) => s.get(..i).unwrap_or(s),
        None => s,
    })
}

/// Writes the audit record for one decision.
pub fn record(
    req: &Request,
    decision: &Decision,
    lambda_request_id: &str,
    now: u64,
    latency: Duration,
) {
    let (sub, kid, jti, iat, exp) = match decision {
        Decision::Allow(v) | Decision::Forbidden(v, _) => (
            Some(v.sub.as_str()),
            Some(v.kid.as_str()),
            v.jti.as_deref(),
            v.iat,
            Some(v.exp),
        ),
        Decision::Unauthorized(r) => (
            r.sub.as_deref(),
            r.kid.as_deref(),
            r.jti.as_deref(),
            None,
            None,
        ),
    };
    let sid = match decision {
        Decision::Allow(v) | Decision::Forbidden(v, _) => v.sid.as_deref(),
        Decision::Unauthorized(r) => r.sid.as_deref(),
    };
    let allowed = matches!(decision, Decision::Allow(_));
    let method = req.method.as_ref().map(|m| m.as_str());
    tracing::info!(
        target: TARGET,
        decision = if allowed { "allow" } else { "deny" },
        reason = decision.reason().as_str(),
        request_id = clip(req.request_id.as_deref(), MAX_FIELD),
        lambda_request_id,
        source_ip = clip(req.source_ip.as_deref(), MAX_FIELD),
        route_arn = clip(req.resource_arn.as_deref(), MAX_FIELD),
        route = clip(req.route.as_deref(), MAX_FIELD),
        method = clip(method, MAX_FIELD),
        payload = req.payload.as_str(),
        user_agent = clip(req.user_agent.as_deref(), MAX_UA),
        sub = clip(sub, MAX_FIELD),
        kid,
        jti = clip(jti, MAX_FIELD),
        sid = clip(sid, MAX_FIELD),
        token_age_s = iat.map(|i| now.saturating_sub(i)),
        expires_in_s = exp.map(|e| e.saturating_sub(now)),
        latency_us = latency.as_micros() as u64,
        "authorization"
    );
}

/// CloudWatch namespace of the decision metrics (written into [`EMF_METRICS`]; the test pins
/// the two together).
#[cfg(test)]
pub const METRICS_NAMESPACE: &str = "CookieJwtAuthorizer";

/// The EMF metadata after `Timestamp`: the metrics and their dimensions.
const EMF_METRICS: &str = concat!(
    r#","CloudWatchMetrics":[{"Namespace":"CookieJwtAuthorizer","#,
    r#""Dimensions":[["function"],["function","decision"],["function","reason"]],"#,
    r#""Metrics":[{"Name":"Decisions","Unit":"Count"},{"Name":"latency_us","Unit":"Microseconds"}]}]}}"#,
);

/// Writes audit events as single JSON lines that are also CloudWatch Embedded Metric Format
/// records: metric `Decisions` (Count) by `function`, by `function` and `decision`, and by
/// `function` and `reason`, and `latency_us` (Microseconds). One line per attempt serves both
/// the audit trail and the alarms.
///
/// The line is written field by field into one reused buffer (no intermediate JSON value):
/// `timestamp`, the event's fields in order, `function`, `level`, `target`, `Decisions`,
/// `_aws`.
#[derive(Debug)]
pub struct AuditLayer<W = fn() -> std::io::Stdout> {
    make_writer: W,
    /// `,"function":"…","level":"INFO","target":"audit","Decisions":1,"_aws":{"Timestamp":`
    fixed: String,
    buf: std::sync::Mutex<Vec<u8>>,
}

impl Default for AuditLayer {
    fn default() -> Self {
        Self::with_writer(std::io::stdout)
    }
}

impl<W> AuditLayer<W> {
    /// Writes records to `make_writer`'s writers (benchmarks use `std::io::sink`). The
    /// `function` dimension is `AWS_LAMBDA_FUNCTION_NAME`, read once here.
    pub fn with_writer(make_writer: W) -> Self {
        let function =
            std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "authorizer".to_owned());
        let function = serde_json::to_string(&function).unwrap_or_else(|_| "\"\"".into());
        AuditLayer {
            make_writer,
            fixed: format!(
                r#","function":{function},"level":"INFO","target":"{TARGET}","Decisions":1,"_aws":{{"Timestamp":"#
            ),
            buf: std::sync::Mutex::new(Vec::with_capacity(1024)),
        }
    }
}

/// Appends `s` as a JSON string. Most values need no escaping: one branch-free pass finds
/// out, and they are copied as they are; the others go through `serde_json`.
fn push_json_str(out: &mut Vec<u8>, s: &str) {
    let needs_escape = s.bytes().fold(false, |acc, b| {
        acc | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if needs_escape {
        let _ = serde_json::to_writer(&mut *out, s);
    } else {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
}

/// Appends `"name":value` members to a JSON object being written.
struct JsonFields<'a>(&'a mut Vec<u8>);

impl JsonFields<'_> {
    fn key(&mut self, field: &tracing::field::Field) {
        self.0.push(b',');
        push_json_str(self.0, field.name());
        self.0.push(b':');
    }
    fn number(&mut self, field: &tracing::field::Field, n: impl std::fmt::Display) {
        use std::io::Write as _;
        self.key(field);
        let _ = write!(self.0, "{n}");
    }
}

impl tracing::field::Visit for JsonFields<'_> {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.key(field);
        push_json_str(self.0, value);
    }
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        self.number(field, value);
    }
    fn record_i64(&mut self, field: &tracing::field::Field, value: i64) {
        self.number(field, value);
    }
    fn record_bool(&mut self, field: &tracing::field::Field, value: bool) {
        self.number(field, value);
    }
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.key(field);
        let _ = serde_json::to_writer(&mut *self.0, &format_args!("{value:?}"));
    }
}

impl<W> AuditLayer<W> {
    /// Formats one record into `out` (cleared first): the whole line, newline included.
    fn format(&self, event: &tracing::Event<'_>, out: &mut Vec<u8>) {
        use tracing_subscriber::fmt::time::FormatTime as _;
        out.clear();
        out.extend_from_slice(br#"{"timestamp":""#);
        let mut timestamp = TimestampBuf::default();
        let _ = tracing_subscriber::fmt::time::SystemTime.format_time(
            &mut tracing_subscriber::fmt::format::Writer::new(&mut timestamp),
        );
        out.extend_from_slice(timestamp.as_bytes());
        out.push(b'"');
        event.record(&mut JsonFields(out));
        out.extend_from_slice(self.fixed.as_bytes());
        let unix_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64;
        use std::io::Write as _;
        let _ = write!(out, "{unix_ms}");
        out.extend_from_slice(EMF_METRICS.as_bytes());
        out.push(b'\n');
    }
}

/// A fixed-size buffer for the RFC 3339 timestamp (no allocation).
#[derive(Default)]
struct TimestampBuf {
    bytes: [u8; 32],
    len: usize,
}

impl TimestampBuf {
    fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

impl std::fmt::Write for TimestampBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        // Only digits, '-', ':', '.', 'T' and 'Z' come here: nothing to escape.
        let end = self.len + s.len();
        let dst = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl<S, W> tracing_subscriber::Layer<S> for AuditLayer<W>
where
    S: tracing::Subscriber,
    W: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + 'static,
{
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if event.metadata().target() != TARGET {
            return;
        }
        use std::io::Write as _;
        // One Lambda invocation at a time: the lock is never contended there. If it ever is
        // poisoned or busy, a fresh buffer is used rather than losing the record.
        match self.buf.try_lock() {
            Ok(mut buf) => {
                self.format(event, &mut buf);
                let _ = self.make_writer.make_writer().write_all(&buf);
            }
            Err(_) => {
                let mut buf = Vec::with_capacity(1024);
                self.format(event, &mut buf);
                let _ = self.make_writer.make_writer().write_all(&buf);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_json_line_carries_the_fields_and_declares_the_decision_metrics() {
        use tracing_subscriber::layer::SubscriberExt as _;
        let out = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
        let sink = out.clone();
        let layer = AuditLayer::with_writer(move || Capture(sink.clone()));
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: TARGET, decision = "deny", reason = "bad_sig",
                user_agent = "quote \" and \\ and \u{1}", latency_us = 12_u64, "authorization");
            tracing::info!(target: "other", "not an audit record");
        });
        let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "only audit events are written, one line each"
        );
        let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(v["decision"], "deny");
        assert_eq!(v["reason"], "bad_sig");
        assert_eq!(v["user_agent"], "quote \" and \\ and \u{1}");
        assert_eq!(v["latency_us"], 12);
        assert_eq!(v["message"], "authorization");
        assert_eq!(v["function"], "authorizer");
        assert_eq!(v["level"], "INFO");
        assert_eq!(v["Decisions"], 1);
        assert!(v["timestamp"].as_str().unwrap().ends_with('Z'));
        let cw = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(cw["Namespace"], METRICS_NAMESPACE);
        assert_eq!(
            cw["Dimensions"],
            serde_json::json!([
                ["function"],
                ["function", "decision"],
                ["function", "reason"]
            ])
        );
        assert_eq!(cw["Metrics"][0]["Name"], "Decisions");
        assert_eq!(cw["Metrics"][1]["Unit"], "Microseconds");
        assert!(v["_aws"]["Timestamp"].as_u64().unwrap() > 1_700_000_000_000);
    }

    struct Capture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn strings_are_escaped_exactly_as_serde_json_does() {
        for s in [
            "plain",
            "",
            "quote \" here",
            "back\\slash",
            "tab\there",
            "\u{1f}",
            "é ✓ \u{7f}",
            "</script>",
        ] {
            let mut out = Vec::new();
            push_json_str(&mut out, s);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(s).unwrap()
            );
        }
    }

    #[test]
    fn long_user_agents_are_clipped_on_a_character_boundary() {
        let ua = "é".repeat(300);
        let clipped = clip(Some(&ua), MAX_UA).unwrap();
        assert_eq!(clipped.chars().count(), MAX_UA);
    }
}
