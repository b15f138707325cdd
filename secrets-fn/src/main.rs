use lambda_runtime::{service_fn, Error, LambdaEvent};
use secrets_fn::{Config, SecretsFn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    jwt_session::logging::init(env!("CARGO_CRATE_NAME"));
    let cfg =
        Config::from_env().inspect_err(|e| tracing::error!(error = %e, "configuration refused"))?;
    let sdk = aws_config::load_from_env().await;
    let function = SecretsFn::new(cfg, aws_sdk_secretsmanager::Client::new(&sdk))
        .with_revocations(aws_sdk_dynamodb::Client::new(&sdk));
    let function = &function;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        function.handle(&event.payload).await
    }))
    .await
}
