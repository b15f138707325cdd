use lambda_runtime::{service_fn, Error, LambdaEvent};
use orders_example::Orders;
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    jwt_session::logging::init(env!("CARGO_CRATE_NAME"));
    let orders = Orders::default();
    let orders = &orders;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        Ok::<_, Error>(orders.handle(&event.payload))
    }))
    .await
}
