//! Logging set-up shared by both functions: JSON lines on stdout, one record per event.
//!
//! Records are always JSON (the audit contract needs JSON whatever `AWS_LAMBDA_LOG_FORMAT`
//! says); set the function's log format to JSON so CloudWatch indexes their fields. The level
//! comes from `AWS_LAMBDA_LOG_LEVEL` (`FATAL` read as `error`), else `RUST_LOG` (a level, or
//! `target=level` directives separated by commas), else `info`.
//!
//! The filter is `tracing_subscriber`'s `Targets`, not `EnvFilter`: the same directive syntax
//! without span and field filters, and without the regex engine in the binary.

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{Layer, Registry};

/// The shared library's own target. With the calling function's crate (and the authorizer's
/// audit target), these follow the level asked for. Every other target (the Lambda runtime,
/// which logs each raw event at `TRACE`; the SDK, which logs request and answer bodies and
/// `aws_sigv4`, which logs the signed request with its session token; hyper, h2, rustls,
/// tower...) never logs below `INFO`, whatever the level asked for: no log record may hold a
/// token, a cookie value, a credential or key material at any level. The shared crate names no
/// consumer: each function names itself when it starts (`init(env!("CARGO_CRATE_NAME"))`).
pub const SHARED_TARGET: &str = "jwt_session";

fn is_own(own: &[&str], target: &str) -> bool {
    own.iter().any(|own| {
        target == *own
            || target
                .strip_prefix(own)
                .is_some_and(|rest| rest.starts_with("::"))
    })
}

/// The filter for `AWS_LAMBDA_LOG_LEVEL` (a level) and `RUST_LOG` (directives) values; one
/// that is unset, empty or not understood gives way to the next source. Only the `own`
/// targets log below `INFO`.
pub fn level_filter_from(
    own: &[&str],
    lambda_level: Option<&str>,
    rust_log: Option<&str>,
) -> Targets {
    let asked = asked_filter(lambda_level, rust_log);
    let default = asked.default_level().unwrap_or(LevelFilter::OFF);
    let mut f = Targets::new().with_default(default.min(LevelFilter::INFO));
    for target in own {
        f = f.with_target(*target, default);
    }
    for (target, level) in asked.iter() {
        let level = if is_own(own, target) {
            level
        } else {
            level.min(LevelFilter::INFO)
        };
        f = f.with_target(target, level);
    }
    f
}

fn asked_filter(lambda_level: Option<&str>, rust_log: Option<&str>) -> Targets {
    let parse = |s: &str| {
        let s = s.trim();
        (!s.is_empty()).then(|| s.parse::<Targets>().ok()).flatten()
    };
    lambda_level
        .and_then(|l| match l.trim().to_ascii_lowercase().as_str() {
            "fatal" => Some(LevelFilter::ERROR),
            "" => None,
            other => other.parse::<LevelFilter>().ok(),
        })
        .map(|level| Targets::new().with_default(level))
        .or_else(|| rust_log.and_then(parse))
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO))
}

fn level_filter(own: &[&str]) -> Targets {
    level_filter_from(
        own,
        std::env::var("AWS_LAMBDA_LOG_LEVEL").ok().as_deref(),
        std::env::var("RUST_LOG").ok().as_deref(),
    )
}

/// Installs the global subscriber for the function whose crate is `crate_name` (pass
/// `env!("CARGO_CRATE_NAME")`). Call once, first thing in `main`.
pub fn init(crate_name: &'static str) {
    init_with(crate_name, tracing_subscriber::layer::Identity::new(), "");
}

/// Installs the global subscriber with `extra` beside the JSON formatter. Events whose target
/// is `own_target` go to `extra` only, whatever the level filter says (the authorizer's audit
/// records, which must never be filtered out).
pub fn init_with<L: Layer<Registry> + Send + Sync + 'static>(
    crate_name: &'static str,
    extra: L,
    own_target: &'static str,
) {
    let own: Vec<&'static str> = [SHARED_TARGET, crate_name, own_target]
        .into_iter()
        .filter(|t| !t.is_empty())
        .collect();
    let fmt = tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(true)
        .with_ansi(false)
        .with_writer(std::io::stdout)
        .with_filter(level_filter(&own))
        .with_filter(tracing_subscriber::filter::filter_fn(move |m| {
            own_target.is_empty() || m.target() != own_target
        }));
    tracing_subscriber::registry().with(extra).with(fmt).init();
    tracing::debug!(
        event = "log_filter",
        own_targets = ?own,
        "own targets follow the level asked for; every other target is capped at INFO"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::filter::LevelFilter;

    #[test]
    fn third_party_targets_never_log_below_info_at_any_level() {
        let level = |l: LevelFilter| l.into_level().unwrap();
        for (lambda, rust) in [
            (Some("TRACE"), None),
            (None, Some("trace")),
            (
                None,
                Some("trace,lambda_runtime=trace,aws_smithy_runtime=debug,hyper=trace"),
            ),
        ] {
            let f = level_filter_from(&["jwt_session", "authorizer"], lambda, rust);
            for t in [
                "lambda_runtime",
                "aws_sigv4",
                "aws_smithy_runtime",
                "aws_runtime",
                "hyper",
                "h2",
                "rustls",
                "tower",
            ] {
                let nested = format!("{t}::some::module");
                assert!(
                    !f.would_enable(t, &level(LevelFilter::DEBUG)),
                    "{t} at {lambda:?} {rust:?}"
                );
                assert!(
                    !f.would_enable(&nested, &level(LevelFilter::TRACE)),
                    "{nested}"
                );
                assert!(
                    f.would_enable(t, &level(LevelFilter::INFO)),
                    "{t} still logs at INFO"
                );
            }
            assert!(
                f.would_enable("authorizer", &level(LevelFilter::DEBUG)),
                "our own targets follow the level"
            );
        }
        let quiet = level_filter_from(&["authorizer"], Some("ERROR"), None);
        assert!(
            !quiet.would_enable("lambda_runtime", &level(LevelFilter::INFO)),
            "a lower level is kept"
        );
    }

    #[test]
    fn a_crate_not_named_as_own_is_capped_like_any_third_party() {
        let level = |l: LevelFilter| l.into_level().unwrap();
        let f = level_filter_from(&["jwt_session", "gateway"], Some("TRACE"), None);
        assert!(f.would_enable("gateway::router", &level(LevelFilter::TRACE)));
        assert!(f.would_enable("jwt_session::strict", &level(LevelFilter::TRACE)));
        assert!(!f.would_enable("authorizer", &level(LevelFilter::DEBUG)));
    }

    #[test]
    fn the_level_comes_from_lambda_then_rust_log_then_info() {
        let level = |l: LevelFilter| l.into_level().unwrap();
        let own = |f: &Targets, l: LevelFilter| f.would_enable("secrets_fn::x", &level(l));
        let ours = ["jwt_session", "secrets_fn"];
        let f = level_filter_from(&ours, Some("DEBUG"), Some("error"));
        assert!(own(&f, LevelFilter::DEBUG) && !own(&f, LevelFilter::TRACE));
        let f = level_filter_from(&ours, Some("FATAL"), None);
        assert!(own(&f, LevelFilter::ERROR) && !own(&f, LevelFilter::WARN));
        let f = level_filter_from(&ours, None, Some("warn,secrets_fn=debug"));
        assert!(own(&f, LevelFilter::DEBUG));
        assert!(!f.would_enable("authorizer", &level(LevelFilter::INFO)));
        assert!(f.would_enable("authorizer", &level(LevelFilter::WARN)));
        for (lambda, rust) in [
            (None, None),
            (Some(""), Some("")),
            (Some("loud"), Some("[span]=x")),
        ] {
            let f = level_filter_from(&ours, lambda, rust);
            assert!(
                own(&f, LevelFilter::INFO) && !own(&f, LevelFilter::DEBUG),
                "{lambda:?} {rust:?}"
            );
        }
    }
}
