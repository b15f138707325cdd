//! Logging set-up shared by both functions: JSON lines on stdout, one record per event.
//!
//! Records are always JSON (the audit contract needs JSON whatever `AWS_LAMBDA_LOG_FORMAT`
//! says); set the function's log format to JSON so CloudWatch indexes their fields. The level
//! comes from `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else `info`.

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer, Registry};

fn level_filter() -> EnvFilter {
    std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .ok()
        .and_then(|level| EnvFilter::try_new(level.to_ascii_lowercase()).ok())
        .or_else(|| EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| EnvFilter::new("info"))
}

/// Installs the global subscriber. Call once, first thing in `main`.
pub fn init() {
    init_with(tracing_subscriber::layer::Identity::new(), "");
}

/// Installs the global subscriber with `extra` beside the JSON formatter. Events whose target
/// is `own_target` go to `extra` only, whatever the level filter says (the authorizer's audit
/// records, which must never be filtered out).
pub fn init_with<L: Layer<Registry> + Send + Sync + 'static>(extra: L, own_target: &'static str) {
    let fmt = tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(true)
        .with_ansi(false)
        .with_writer(std::io::stdout)
        .with_filter(level_filter())
        .with_filter(tracing_subscriber::filter::filter_fn(move |m| {
            own_target.is_empty() || m.target() != own_target
        }));
    tracing_subscriber::registry().with(extra).with(fmt).init();
}
