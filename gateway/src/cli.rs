//! The command line: what to serve, where, and which Invoke API to call; and the run itself.
//!
//! Every option has an environment variable as its default (`GATEWAY_*`, the names `make watch`
//! and the end-to-end harness set). Values are checked together: one error lists every problem.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::template::{ApiKind, Template};
use crate::{Error, Gateway};

/// The project's own template, served when `--template` is not given.
pub const DEFAULT_TEMPLATE: &str = "infra/template.yaml";
/// The parameters of [`DEFAULT_TEMPLATE`] when none are given (its `Stage` has no default).
pub const DEFAULT_TEMPLATE_PARAMETERS: &str = "Stage=dev";
/// API Gateway's integration time-out, the default Invoke time-out.
pub const DEFAULT_INVOKE_TIMEOUT_SECONDS: u64 = 30;
/// The longest Invoke time-out accepted.
pub const MAX_INVOKE_TIMEOUT_SECONDS: u64 = 3600;

/// A local API Gateway for a SAM template: serves its HTTP API (payload 2.0) and REST API
/// (payload 1.0) on loopback, with Lambda authorizers (simple and IAM answers), authorizer
/// result caching and proxy integrations, invoking every function through the Lambda Invoke
/// API (for example `cargo lambda watch`). No Docker; no function code runs in here.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "gateway",
    version,
    after_help = "Prints `http-api: <url>` and `rest-api: <url>` (the REST URL ends with the stage) \
once listening, for each API the template declares, then serves until Ctrl-C or SIGTERM.\n\n\
Example, next to `cargo lambda watch` (Invoke API on 127.0.0.1:9000):\n  \
gateway --template template.yaml --parameter Stage=dev --invoke-endpoint http://127.0.0.1:9000"
)]
pub struct Args {
    /// The SAM template to serve (`AWS::Serverless::HttpApi`, `AWS::Serverless::Api`, and
    /// functions with `Metadata.BuildProperties.Binary`, the name `cargo lambda watch` serves).
    #[arg(long, env = "GATEWAY_TEMPLATE", value_name = "PATH", default_value = DEFAULT_TEMPLATE)]
    pub template: String,

    /// A template parameter, `Name=value` (repeatable). Parameters not given take their
    /// `Default`.
    #[arg(long = "parameter", value_name = "NAME=VALUE")]
    pub parameter: Vec<String>,

    /// Template parameters as one list, `Name=value,Name=value`. With neither this nor
    /// `--parameter`, the default template gets `Stage=dev`, any other template none.
    #[arg(long, env = "GATEWAY_PARAMETERS", value_name = "LIST")]
    pub parameters: Option<String>,

    /// Port of the HTTP API on 127.0.0.1 (0: a free port).
    #[arg(
        long,
        env = "GATEWAY_HTTP_PORT",
        value_name = "PORT",
        default_value = "0"
    )]
    pub http_port: String,

    /// Port of the REST API on 127.0.0.1 (0: a free port); it is served under `/<stage>`.
    #[arg(
        long,
        env = "GATEWAY_REST_PORT",
        value_name = "PORT",
        default_value = "0"
    )]
    pub rest_port: String,

    /// The Lambda Invoke API to call (`cargo lambda watch`: `http://127.0.0.1:9000`).
    /// Without it, `AWS_ENDPOINT_URL_LAMBDA`, else the AWS SDK's default (AWS itself). With it,
    /// requests are signed with placeholder credentials unless `AWS_ACCESS_KEY_ID` is set.
    #[arg(long, value_name = "URL")]
    pub invoke_endpoint: Option<String>,

    /// How long one Invoke may take, in seconds (API Gateway's limit is 30).
    #[arg(
        long,
        env = "GATEWAY_INVOKE_TIMEOUT_SECONDS",
        value_name = "SECONDS",
        default_value = "30"
    )]
    pub invoke_timeout_seconds: String,
}

/// The checked configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The template's path.
    pub template: String,
    /// Parameter values given.
    pub parameters: BTreeMap<String, String>,
    /// HTTP API port (0: free).
    pub http_port: u16,
    /// REST API port (0: free).
    pub rest_port: u16,
    /// The Invoke API, if given.
    pub invoke_endpoint: Option<String>,
    /// Invoke time-out.
    pub invoke_timeout: Duration,
}

fn parse_pairs(
    what: &str,
    list: &str,
    into: &mut BTreeMap<String, String>,
    problems: &mut Vec<String>,
) {
    for pair in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                into.insert(k.trim().to_owned(), v.trim().to_owned());
            }
            _ => problems.push(format!("{what}: {pair:?} is not Name=value")),
        }
    }
}

impl Args {
    /// Checks the values, reporting every problem together.
    pub fn config(&self) -> Result<Config, Error> {
        let mut problems = Vec::new();
        let mut port = |flag: &str, env: &str, v: &str| {
            let v = v.trim();
            if v.is_empty() {
                return 0;
            }
            v.parse::<u16>().unwrap_or_else(|_| {
                problems.push(format!(
                    "{flag} ({env}) must be a port number, 0 to 65535, not {v:?}"
                ));
                0
            })
        };
        let http_port = port("--http-port", "GATEWAY_HTTP_PORT", &self.http_port);
        let rest_port = port("--rest-port", "GATEWAY_REST_PORT", &self.rest_port);
        let timeout = self.invoke_timeout_seconds.trim();
        let invoke_timeout = if timeout.is_empty() {
            DEFAULT_INVOKE_TIMEOUT_SECONDS
        } else {
            timeout
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=MAX_INVOKE_TIMEOUT_SECONDS).contains(n))
                .unwrap_or_else(|| {
                    problems.push(format!(
                        "--invoke-timeout-seconds (GATEWAY_INVOKE_TIMEOUT_SECONDS) must be a whole number from 1 to {MAX_INVOKE_TIMEOUT_SECONDS}, not {timeout:?}"
                    ));
                    DEFAULT_INVOKE_TIMEOUT_SECONDS
                })
        };
        if http_port != 0 && http_port == rest_port {
            problems.push(format!(
                "--http-port and --rest-port are both {http_port}: each API needs its own port"
            ));
        }
        let template = match self.template.trim() {
            "" => DEFAULT_TEMPLATE.to_owned(),
            t => t.to_owned(),
        };
        let mut parameters = BTreeMap::new();
        let given = self
            .parameters
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty());
        match given {
            Some(list) => parse_pairs(
                "--parameters (GATEWAY_PARAMETERS)",
                list,
                &mut parameters,
                &mut problems,
            ),
            None if self.parameter.is_empty() && template == DEFAULT_TEMPLATE => parse_pairs(
                "default parameters",
                DEFAULT_TEMPLATE_PARAMETERS,
                &mut parameters,
                &mut problems,
            ),
            None => {}
        }
        for p in &self.parameter {
            match p.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() => {
                    parameters.insert(k.trim().to_owned(), v.to_owned());
                }
                _ => problems.push(format!("--parameter {p:?} is not Name=value")),
            }
        }
        let invoke_endpoint = match self.invoke_endpoint.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(u) if u.starts_with("http://") || u.starts_with("https://") => {
                Some(u.trim_end_matches('/').to_owned())
            }
            Some(u) => {
                problems.push(format!(
                    "--invoke-endpoint must be an http:// or https:// URL, not {u:?}"
                ));
                None
            }
        };
        if !problems.is_empty() {
            return Err(Error::Config(problems.join("; ")));
        }
        Ok(Config {
            template,
            parameters,
            http_port,
            rest_port,
            invoke_endpoint,
            invoke_timeout: Duration::from_secs(invoke_timeout),
        })
    }
}

/// The Lambda client: the SDK's configuration from the environment, no retries (API Gateway
/// does not retry an integration), the time-out, and the endpoint if one was given.
async fn lambda_client(cfg: &Config) -> aws_sdk_lambda::Client {
    let sdk = aws_config::load_from_env().await;
    let (retry, timeouts) = jwt_session::aws::one_attempt(cfg.invoke_timeout, cfg.invoke_timeout);
    let mut b = aws_sdk_lambda::config::Builder::from(&sdk)
        .retry_config(retry)
        .timeout_config(timeouts);
    if let Some(url) = &cfg.invoke_endpoint {
        b = b.endpoint_url(url);
        if sdk.region().is_none() {
            b = b.region(aws_sdk_lambda::config::Region::new(crate::event::REGION));
        }
        if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
            // A local Invoke API does not check signatures; the SDK still wants to sign.
            b = b.credentials_provider(aws_sdk_lambda::config::Credentials::new(
                "local", "local", None, None, "gateway",
            ));
        }
    }
    aws_sdk_lambda::Client::from_conf(b.build())
}

/// Reads the template, binds the ports, prints the URLs, and serves until Ctrl-C or SIGTERM.
pub async fn run(cfg: Config) -> Result<(), Error> {
    let text = std::fs::read_to_string(&cfg.template)
        .map_err(|e| Error::Template(format!("{}: {e}", cfg.template)))?;
    let template = Template::parse(&text, &cfg.parameters).map_err(|e| match e {
        Error::Template(why) => Error::Template(format!("{}: {why}", cfg.template)),
        other => other,
    })?;
    if template.http.is_none() && template.rest.is_none() {
        return Err(Error::Template(format!(
            "{}: no AWS::Serverless::HttpApi or AWS::Serverless::Api to serve",
            cfg.template
        )));
    }
    let lambda = lambda_client(&cfg).await;
    let gw = Arc::new(Gateway::new(template, lambda));
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
        tasks.push(tokio::spawn(crate::serve(gw.clone(), kind, listener)));
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    fn args(argv: &[&str]) -> Args {
        let mut all = vec!["gateway"];
        all.extend_from_slice(argv);
        Args::try_parse_from(all).unwrap()
    }

    #[test]
    fn flags_set_the_template_parameters_ports_endpoint_and_time_out() {
        let c = args(&[
            "--template",
            "other/template.yaml",
            "--parameter",
            "Stage=v1",
            "--parameter",
            "Ttl=5",
            "--http-port",
            "8080",
            "--rest-port",
            "8081",
            "--invoke-endpoint",
            "http://127.0.0.1:9000/",
            "--invoke-timeout-seconds",
            "5",
        ])
        .config()
        .unwrap();
        assert_eq!(c.template, "other/template.yaml");
        assert_eq!(c.parameters["Stage"], "v1");
        assert_eq!(c.parameters["Ttl"], "5");
        assert_eq!((c.http_port, c.rest_port), (8080, 8081));
        assert_eq!(c.invoke_endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(c.invoke_timeout, Duration::from_secs(5));
    }

    #[test]
    fn only_the_default_template_gets_default_parameters() {
        let c = args(&[]).config().unwrap();
        assert_eq!(c.template, DEFAULT_TEMPLATE);
        assert_eq!(c.parameters["Stage"], "dev");
        let c = args(&["--template", "t.yaml"]).config().unwrap();
        assert!(c.parameters.is_empty());
        let c = args(&["--parameters", "A=1, B=2", "--parameter", "B=3"])
            .config()
            .unwrap();
        assert_eq!(c.parameters.len(), 2);
        assert_eq!(c.parameters["B"], "3", "--parameter wins over the list");
    }

    #[test]
    fn every_bad_value_is_reported_together() {
        let e = args(&[
            "--http-port",
            "70000",
            "--rest-port",
            "x",
            "--invoke-timeout-seconds",
            "0",
            "--parameter",
            "novalue",
            "--invoke-endpoint",
            "127.0.0.1:9000",
        ])
        .config()
        .unwrap_err()
        .to_string();
        for needle in [
            "--http-port",
            "--rest-port",
            "--invoke-timeout-seconds",
            "\"novalue\"",
            "--invoke-endpoint",
        ] {
            assert!(e.contains(needle), "{needle}: {e}");
        }
        let e = args(&["--http-port", "9", "--rest-port", "9"])
            .config()
            .unwrap_err()
            .to_string();
        assert!(e.contains("its own port"), "{e}");
    }

    #[test]
    fn help_names_every_flag_and_its_environment_variable() {
        use clap::CommandFactory as _;
        let help = Args::command().render_long_help().to_string();
        for needle in [
            "--template",
            "--parameter ",
            "--parameters",
            "--http-port",
            "--rest-port",
            "--invoke-endpoint",
            "--invoke-timeout-seconds",
            "GATEWAY_TEMPLATE",
            "GATEWAY_PARAMETERS",
            "GATEWAY_HTTP_PORT",
            "GATEWAY_REST_PORT",
            "GATEWAY_INVOKE_TIMEOUT_SECONDS",
            "cargo lambda watch",
        ] {
            assert!(help.contains(needle), "{needle}");
        }
    }
}
