use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use login_example::{Config, Login};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    jwt_session::logging::init(env!("CARGO_CRATE_NAME"));
    let cfg = Config::from_lookup(|k| std::env::var(k).ok())?;
    let sdk = aws_config::load_from_env().await;
    let login = Login::new(cfg, aws_sdk_lambda::Client::new(&sdk));
    let login = &login;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayV2httpRequest>| async move {
            Ok::<_, Error>(login.handle(&event.payload).await)
        },
    ))
    .await
}
