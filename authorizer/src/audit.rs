//! The audit record: exactly one JSON line per authorization attempt.
//!
//! Fields: `decision`, `reason`, `request_id` (API Gateway's), `lambda_request_id`,
//! `source_ip`, `route_arn`, `route`, `method`, `payload`, `user_agent`, `latency_us`, and
//! — only when the token's signature verified — `sub`, `kid`, `jti`, `token_age_s`,
//! `expires_in_s`. Never the token, a cookie value, a claim of an unverified token, or key
//! material.

use std::time::Duration;

use crate::event::Request;
use crate::Decision;

/// The `tracing` target of audit records (filter on it to route them).
pub const TARGET: &str = "audit";

/// Longest user agent logged.
const MAX_UA: usize = 256;

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
        Decision::Allow(v) | Decision::Forbid(v, _) => (
            Some(v.sub.as_str()),
            Some(v.kid.as_str()),
            v.jti.as_deref(),
            v.iat,
            Some(v.exp),
        ),
        Decision::Deny(r) => (r.sub.as_deref(), None, r.jti.as_deref(), None, None),
    };
    let allowed = matches!(decision, Decision::Allow(_));
    let method = req.method.as_ref().map(|m| m.as_str());
    tracing::info!(
        target: TARGET,
        decision = if allowed { "allow" } else { "deny" },
        reason = decision.reason().as_str(),
        request_id = req.request_id.as_deref(),
        lambda_request_id,
        source_ip = req.source_ip.as_deref(),
        route_arn = req.resource_arn.as_deref(),
        route = req.route.as_deref(),
        method,
        payload = req.payload.as_str(),
        user_agent = clip(req.user_agent.as_deref(), MAX_UA),
        sub,
        kid,
        jti,
        token_age_s = iat.map(|i| now.saturating_sub(i)),
        expires_in_s = exp.map(|e| e.saturating_sub(now)),
        latency_us = latency.as_micros() as u64,
        "authorization"
    );
}

/// CloudWatch namespace of the decision metrics.
pub const METRICS_NAMESPACE: &str = "CookieJwtAuthorizer";

/// Writes audit events as single JSON lines that are also CloudWatch Embedded Metric Format
/// records: metric `Decisions` (Count) by `function`, by `function` and `decision`, and by
/// `function` and `reason`, and `latency_us` (Microseconds). One line per attempt serves both
/// the audit trail and the alarms.
#[derive(Debug, Clone)]
pub struct AuditLayer<W = fn() -> std::io::Stdout> {
    make_writer: W,
    function: String,
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
        AuditLayer {
            make_writer,
            function: std::env::var("AWS_LAMBDA_FUNCTION_NAME")
                .unwrap_or_else(|_| "authorizer".to_owned()),
        }
    }
}

struct JsonFields(serde_json::Map<String, serde_json::Value>);

impl tracing::field::Visit for JsonFields {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_i64(&mut self, field: &tracing::field::Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &tracing::field::Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().into(), format!("{value:?}").into());
    }
}

/// The audit record for an event's fields, with the EMF metadata added.
pub fn emf_record(
    fields: serde_json::Map<String, serde_json::Value>,
    function: &str,
    unix_ms: u128,
) -> serde_json::Value {
    let mut m = fields;
    m.insert("function".into(), function.into());
    m.insert("level".into(), "INFO".into());
    m.insert("target".into(), TARGET.into());
    m.insert("Decisions".into(), 1.into());
    m.insert(
        "_aws".into(),
        serde_json::json!({
            "Timestamp": unix_ms as u64,
            "CloudWatchMetrics": [{
                "Namespace": METRICS_NAMESPACE,
                "Dimensions": [["function"], ["function", "decision"], ["function", "reason"]],
                "Metrics": [
                    {"Name": "Decisions", "Unit": "Count"},
                    {"Name": "latency_us", "Unit": "Microseconds"}
                ]
            }]
        }),
    );
    serde_json::Value::Object(m)
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
        let mut fields = JsonFields(serde_json::Map::new());
        let mut timestamp = String::new();
        use tracing_subscriber::fmt::time::FormatTime as _;
        let _ = tracing_subscriber::fmt::time::SystemTime.format_time(
            &mut tracing_subscriber::fmt::format::Writer::new(&mut timestamp),
        );
        fields.0.insert("timestamp".into(), timestamp.into());
        event.record(&mut fields);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let mut line = serde_json::to_vec(&emf_record(fields.0, &self.function, now.as_millis()))
            .unwrap_or_default();
        line.push(b'\n');
        use std::io::Write as _;
        let _ = self.make_writer.make_writer().write_all(&line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_record_declares_the_decision_metrics_on_the_audit_fields() {
        let mut f = serde_json::Map::new();
        f.insert("decision".into(), "deny".into());
        f.insert("reason".into(), "bad_sig".into());
        f.insert("latency_us".into(), 12.into());
        let v = emf_record(f, "prod-authorizer", 1_700_000_000_000);
        assert_eq!(v["function"], "prod-authorizer");
        assert_eq!(v["Decisions"], 1);
        assert_eq!(v["reason"], "bad_sig");
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
        assert_eq!(v["_aws"]["Timestamp"], 1_700_000_000_000_u64);
    }

    #[test]
    fn long_user_agents_are_clipped_on_a_character_boundary() {
        let ua = "é".repeat(300);
        let clipped = clip(Some(&ua), MAX_UA).unwrap();
        assert_eq!(clipped.chars().count(), MAX_UA);
    }
}
