//! `gateway`: serves the template's HTTP API and REST API on loopback (see the crate docs).
//!
//! Configuration (environment): `GATEWAY_TEMPLATE` (default `infra/template.yaml`),
//! `GATEWAY_PARAMETERS` (template parameters, `Name=value` separated by commas; default
//! `Stage=dev`), `GATEWAY_HTTP_PORT` and `GATEWAY_REST_PORT` (default: free ports),
//! `GATEWAY_INVOKE_TIMEOUT_SECONDS` (default `30`, API Gateway's integration limit), and the
//! AWS SDK's own variables (`AWS_ENDPOINT_URL_LAMBDA`: the Invoke API to use).

use std::sync::Arc;

use gateway::template::{ApiKind, Template};
use gateway::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    jwt_session::logging::init();
    let cfg = gateway_config()?;
    let text = std::fs::read_to_string(&cfg.template)
        .map_err(|e| Error::Template(format!("{}: {e}", cfg.template)))?;
    let template = Template::parse(&text, &cfg.parameters)?;
    let sdk = aws_config::load_from_env().await;
    let lambda = aws_sdk_lambda::Client::from_conf(
        aws_sdk_lambda::config::Builder::from(&sdk)
            .retry_config(aws_sdk_lambda::config::retry::RetryConfig::disabled())
            .timeout_config(
                aws_sdk_lambda::config::timeout::TimeoutConfig::builder()
                    .operation_timeout(std::time::Duration::from_secs(cfg.invoke_timeout))
                    .build(),
            )
            .build(),
    );
    let gw = Arc::new(gateway::Gateway::new(template, lambda));
    let mut tasks = Vec::new();
    for (kind, port, label) in [
        (ApiKind::Http, cfg.http_port, "http-api"),
        (ApiKind::Rest, cfg.rest_port, "rest-api"),
    ] {
        let Some(api) = gw.api(kind) else { continue };
        let addr = format!("127.0.0.1:{port}");
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .map_err(|source| Error::Bind {
                addr: addr.clone(),
                source,
            })?;
        let bound = listener
            .local_addr()
            .map_err(|source| Error::Bind { addr, source })?;
        let base = match kind {
            ApiKind::Http => String::new(),
            ApiKind::Rest => format!("/{}", api.stage),
        };
        println!("{label}: http://{bound}{base}");
        tasks.push(tokio::spawn(gateway::serve(gw.clone(), kind, listener)));
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| Error::Config(format!("signal handler: {e}")))?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    for t in tasks {
        t.abort();
    }
    Ok(())
}

struct Config {
    template: String,
    parameters: std::collections::BTreeMap<String, String>,
    http_port: u16,
    rest_port: u16,
    invoke_timeout: u64,
}

/// Reads the configuration, reporting every problem together.
fn gateway_config() -> Result<Config, Error> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let mut problems = Vec::new();
    let mut number = |k: &str, default: u64, max: u64| match var(k) {
        None => default,
        Some(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| *n <= max)
            .unwrap_or_else(|| {
                problems.push(format!("{k} must be a whole number up to {max}"));
                default
            }),
    };
    let http_port = u16::try_from(number("GATEWAY_HTTP_PORT", 0, 65_535)).unwrap_or(0);
    let rest_port = u16::try_from(number("GATEWAY_REST_PORT", 0, 65_535)).unwrap_or(0);
    let invoke_timeout = number("GATEWAY_INVOKE_TIMEOUT_SECONDS", 30, 3600).max(1);
    let mut parameters = std::collections::BTreeMap::new();
    for pair in var("GATEWAY_PARAMETERS")
        .unwrap_or_else(|| "Stage=dev".into())
        .split(',')
        .filter(|p| !p.trim().is_empty())
    {
        match pair.split_once('=') {
            Some((k, v)) => {
                parameters.insert(k.trim().to_owned(), v.trim().to_owned());
            }
            None => problems.push(format!("GATEWAY_PARAMETERS: {pair:?} is not Name=value")),
        }
    }
    if !problems.is_empty() {
        return Err(Error::Config(problems.join("; ")));
    }
    Ok(Config {
        template: var("GATEWAY_TEMPLATE").unwrap_or_else(|| "infra/template.yaml".into()),
        parameters,
        http_port,
        rest_port,
        invoke_timeout,
    })
}
