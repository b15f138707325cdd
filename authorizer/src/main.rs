use authorizer::Authorizer;
use authorizer::Config;
use authorizer::{KeyCache, LambdaKeySource};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::value::RawValue;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    jwt_session::logging::init_with(
        env!("CARGO_CRATE_NAME"),
        authorizer::AuditLayer::default(),
        authorizer::AUDIT_TARGET,
    );
    let cfg =
        Config::from_env().inspect_err(|e| tracing::error!(error = %e, "configuration refused"))?;
    for warning in cfg.warnings() {
        tracing::warn!(event = "config_warning", %warning, "weaker than the default");
    }
    let sdk = aws_config::load_from_env().await;
    let client =
        aws_sdk_lambda::Client::from_conf(LambdaKeySource::client_config(&sdk, &cfg.fetch));
    let source = LambdaKeySource::new(client, cfg.fetch.function_name.clone());
    let dynamodb = cfg
        .revocation
        .as_ref()
        .map(|p| aws_sdk_dynamodb::Client::from_conf(p.client_config(&sdk)));
    let mut authorizer = Authorizer::new(KeyCache::new(source, cfg.cache), cfg);
    if let Some(dynamodb) = dynamodb {
        authorizer = authorizer.with_revocations(dynamodb);
    }
    authorizer.warm().await;
    let authorizer = &authorizer;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Box<RawValue>>| async move {
            authorizer
                .handle(event.payload.get(), &event.context.request_id)
                .await
        },
    ))
    .await
}
