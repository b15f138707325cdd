//! `gateway`: serves a SAM template's HTTP API and REST API on loopback (see `gateway --help`
//! and the crate docs; the options and their `GATEWAY_*` variables are in [`gateway::cli`]).

use std::process::ExitCode;

use clap::Parser as _;

#[tokio::main]
async fn main() -> ExitCode {
    jwt_session::logging::init(env!("CARGO_CRATE_NAME"));
    let args = gateway::cli::Args::parse();
    let outcome = match args.config() {
        Ok(cfg) => gateway::cli::run(cfg).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let detail = std::error::Error::source(&e)
                .map(|s| format!(": {s}"))
                .unwrap_or_default();
            eprintln!("gateway: {e}{detail}");
            ExitCode::FAILURE
        }
    }
}
