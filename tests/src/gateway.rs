//! The local API Gateway (`gateway`) started in front of the functions.

use super::*;
#[allow(unused_imports)]
use crate::stack::base_env;

/// The local API Gateway, running.
#[derive(Debug)]
pub struct GatewayProc {
    /// The process.
    pub service: Service,
    /// `http://127.0.0.1:<port>`: the HTTP API.
    pub http_url: String,
    /// `http://127.0.0.1:<port>/<stage>`: the REST API.
    pub rest_url: String,
}

impl GatewayProc {
    /// Its request log lines (JSON, target `gateway`, message `request`).
    pub fn requests(&self) -> Vec<Value> {
        self.service
            .output()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["target"] == "gateway" && v["message"] == "request")
            .collect()
    }

    /// How many requests invoked the authorizer.
    pub fn authorizer_invocations(&self) -> usize {
        self.requests()
            .iter()
            .filter(|r| r["authorizer"] == "invoked")
            .count()
    }
}

/// Starts the `gateway` binary against the watch on `watch_port` with the repository's
/// template, and waits until it prints both API addresses.
pub fn start_gateway(
    paths: &Paths,
    dir: &Path,
    watch_port: u16,
    env: &[(&str, &str)],
) -> GatewayProc {
    let bin = paths.bin_dir.join("gateway");
    assert!(
        bin.exists(),
        "gateway not found in {}: run `make build-debug`",
        paths.bin_dir.display()
    );
    let mut cmd = Command::new(bin);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(base_env(0, watch_port).into_iter().filter(|(k, _)| {
            !k.starts_with("AWS_LAMBDA_") && k != "AWS_ENDPOINT_URL_SECRETS_MANAGER"
        }))
        .env("GATEWAY_TEMPLATE", paths.root.join("infra/template.yaml"))
        .env("GATEWAY_PARAMETERS", "Stage=dev")
        .env("GATEWAY_INVOKE_TIMEOUT_SECONDS", "60")
        .envs(env.iter().map(|(k, v)| (*k, *v)));
    let service = Service::spawn("gateway", cmd, dir.join("gateway.log"));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = service.output();
        let url = |label: &str| {
            out.lines()
                .find_map(|l| l.strip_prefix(label))
                .map(|u| u.trim().to_owned())
        };
        if let (Some(http_url), Some(rest_url)) = (url("http-api: "), url("rest-api: ")) {
            return GatewayProc {
                service,
                http_url,
                rest_url,
            };
        }
        assert!(
            Instant::now() < deadline,
            "the gateway did not start:\n{out}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
