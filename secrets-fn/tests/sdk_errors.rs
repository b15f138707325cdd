//! Secrets Manager's error paths, with the real SDK client and stubbed answers
//! (`aws-smithy-mocks`): what secrets-fn serves, refuses and reports when reading, caching and
//! rotating meet throttling, missing secrets or versions, denied access and time-outs, and
//! whether each error says a retry may succeed.
// Test code throughout: `cfg(test)` lets clippy.toml's test allowances (unwrap, expect,
// indexing, panic) cover its helpers as well as its tests.
#![cfg(test)]

use std::collections::HashMap;

use aws_sdk_secretsmanager::config::http::HttpResponse;
use aws_sdk_secretsmanager::operation::describe_secret::{
    DescribeSecretError, DescribeSecretOutput,
};
use aws_sdk_secretsmanager::operation::get_secret_value::{
    GetSecretValueError, GetSecretValueOutput,
};
use aws_sdk_secretsmanager::types::error::ResourceNotFoundException;
use aws_sdk_secretsmanager::Client;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use jwt_session::keygen::generate;
use jwt_session::{Alg, JwkSet};
use secrets_fn::{Config, SecretsFn};
use serde_json::json;

const CURRENT: &str = "v-current";

/// A client answered by `rules` (any order), without the SDK's retries: each check is about
/// the answer to one failed call (in Lambda the SDK's standard retries come first).
macro_rules! mocked {
    ($($rule:expr),+) => {
        mock_client!(
            aws_sdk_secretsmanager,
            RuleMode::MatchAny,
            [$($rule),+],
            |c| c.retry_config(aws_sdk_secretsmanager::config::retry::RetryConfig::disabled())
        )
    };
}

fn config(pairs: &[(&str, &str)]) -> Config {
    let mut m: HashMap<String, String> = [("SECRET_ID", "dev/keys")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    m.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Config::from_lookup(|k| m.get(k).cloned()).unwrap()
}

fn key_set() -> String {
    serde_json::to_string(&JwkSet {
        keys: vec![generate(Alg::EdDSA).unwrap()],
    })
    .unwrap()
}

fn described(rotation: bool) -> DescribeSecretOutput {
    DescribeSecretOutput::builder()
        .name("dev/keys")
        .arn("arn:aws:secretsmanager:us-east-1:123456789012:secret:dev/keys")
        .rotation_enabled(rotation)
        .version_ids_to_stages(CURRENT, vec!["AWSCURRENT".to_owned()])
        .version_ids_to_stages("v-pending", vec!["AWSPENDING".to_owned()])
        .build()
}

/// What Secrets Manager sends for an internal error: a 500 with the error's type.
const INTERNAL_ERROR: &str = r#"{"__type":"InternalServiceError","message":"slow down"}"#;

fn answer(status: u16, body: &'static str) -> HttpResponse {
    HttpResponse::new(
        aws_smithy_runtime_api::http::StatusCode::try_from(status).unwrap(),
        aws_smithy_types::body::SdkBody::from(body),
    )
}

fn function(client: Client, pairs: &[(&str, &str)]) -> SecretsFn {
    SecretsFn::new(config(pairs), client)
}

#[tokio::test]
async fn a_cold_container_reports_secrets_manager_errors_and_says_whether_they_are_transient() {
    // 5xx / internal error: transient.
    let describe =
        mock!(Client::describe_secret).then_http_response(|| answer(500, INTERNAL_ERROR));
    let f = function(mocked!(&describe), &[]);
    let e = f.keys(false).await.unwrap_err();
    assert_eq!(e.code(), "secrets_manager");
    assert!(e.is_transient(), "{e}");
    assert!(e.to_string().contains("DescribeSecret") && e.to_string().contains("transient"));

    // A missing secret: permanent.
    let missing = mock!(Client::describe_secret).then_error(|| {
        DescribeSecretError::ResourceNotFoundException(ResourceNotFoundException::builder().build())
    });
    let f = function(mocked!(&missing), &[]);
    let e = f.keys(false).await.unwrap_err();
    assert!(!e.is_transient(), "{e}");

    // Access denied (a 400 with the service's code): permanent.
    let denied = mock!(Client::describe_secret)
        .then_http_response(|| answer(400, r#"{"__type":"AccessDeniedException","message":"no"}"#));
    let f = function(mocked!(&denied), &[]);
    let e = f.keys(false).await.unwrap_err();
    assert!(!e.is_transient(), "{e}");

    // Throttling (a 400 with ThrottlingException): transient.
    let throttling = mock!(Client::describe_secret).then_http_response(|| {
        answer(
            400,
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
        )
    });
    let f = function(mocked!(&throttling), &[]);
    assert!(f.keys(false).await.unwrap_err().is_transient());

    // The secret's version disappeared between DescribeSecret and GetSecretValue: permanent.
    let describe = mock!(Client::describe_secret).then_output(|| described(false));
    let gone = mock!(Client::get_secret_value).then_error(|| {
        GetSecretValueError::ResourceNotFoundException(ResourceNotFoundException::builder().build())
    });
    let f = function(mocked!(&describe, &gone), &[]);
    let e = f.keys(false).await.unwrap_err();
    assert!(e.to_string().contains("GetSecretValue"), "{e}");
    assert!(!e.is_transient());
}

#[tokio::test]
async fn a_warm_container_serves_its_last_keys_while_secrets_manager_fails_then_stops() {
    let secret = key_set();
    let describe = mock!(Client::describe_secret)
        .sequence()
        .output(|| described(false))
        .http_status(500, Some(INTERNAL_ERROR.to_owned()))
        .repeatedly()
        .build();
    let get = mock!(Client::get_secret_value).then_output(move || {
        GetSecretValueOutput::builder()
            .version_id(CURRENT)
            .secret_string(secret.clone())
            .build()
    });
    let client = mocked!(&describe, &get);
    // TTL 0: every request revalidates; the stale bound is 1 s.
    let f = function(
        client,
        &[
            ("SECRET_CACHE_TTL_SECONDS", "0"),
            ("SECRET_MAX_STALE_SECONDS", "1"),
        ],
    );
    let first = f.keys(false).await.unwrap();
    assert_eq!(first.keys.keys.len(), 1);
    let stale = f
        .keys(false)
        .await
        .expect("the last keys serve while within the bound");
    assert_eq!(stale.keys.keys[0].kid, first.keys.keys[0].kid);
    assert_eq!(get.num_calls(), 1, "no second read while failing");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let e = f
        .keys(false)
        .await
        .expect_err("past the bound it fails closed");
    assert!(e.is_transient());
    assert!(describe.num_calls() >= 3);
}

#[tokio::test]
async fn a_rotation_step_reports_which_call_failed_and_whether_to_retry() {
    let event =
        json!({"Step": "createSecret", "SecretId": "dev/keys", "ClientRequestToken": "v-pending"});
    let pairs = [("SECRETS_FN_ACTIONS", "rotate")];

    // Rotation disabled on the secret: refused, permanent.
    let describe = mock!(Client::describe_secret).then_output(|| described(false));
    let f = function(mocked!(&describe), &pairs);
    let e = f.handle(&event).await.unwrap_err();
    assert_eq!(e.code(), "rotation_disabled");
    assert!(!e.is_transient());

    // DescribeSecret throttled: transient, and named.
    let describe =
        mock!(Client::describe_secret).then_http_response(|| answer(500, INTERNAL_ERROR));
    let f = function(mocked!(&describe), &pairs);
    let e = f.handle(&event).await.unwrap_err();
    assert_eq!(e.code(), "secrets_manager");
    assert!(
        e.is_transient() && e.to_string().contains("DescribeSecret"),
        "{e}"
    );

    // createSecret: the current keys read, no pending value yet, PutSecretValue times out.
    let secret = key_set();
    let describe = mock!(Client::describe_secret).then_output(|| described(true));
    let get = mock!(Client::get_secret_value).then_compute_response(move |req| {
        use aws_smithy_mocks::MockResponse;
        if req.version_stage() == Some("AWSPENDING") {
            MockResponse::Error(GetSecretValueError::ResourceNotFoundException(
                ResourceNotFoundException::builder().build(),
            ))
        } else {
            MockResponse::Output(
                GetSecretValueOutput::builder()
                    .version_id(CURRENT)
                    .secret_string(secret.clone())
                    .build(),
            )
        }
    });
    let put = mock!(Client::put_secret_value)
        .then_http_response(|| answer(503, r#"{"__type":"ServiceUnavailable"}"#));
    let client = mocked!(&describe, &get, &put);
    let f = function(client, &pairs);
    let e = f.handle(&event).await.unwrap_err();
    assert!(e.to_string().contains("PutSecretValue"), "{e}");
    assert!(e.is_transient());
    assert_eq!(put.num_calls(), 1);
}

#[tokio::test]
async fn a_rotation_event_for_a_secret_of_the_same_name_elsewhere_is_refused() {
    // The event names a secret in another account whose name is ours: DescribeSecret of the
    // event's ARN answers that secret; DescribeSecret of our configured name answers ours.
    let event = json!({
        "Step": "createSecret",
        "SecretId": "arn:aws:secretsmanager:us-east-1:999999999999:secret:dev/keys",
        "ClientRequestToken": "v-pending"
    });
    let describe = mock!(Client::describe_secret).then_compute_output(|req| {
        let foreign = req
            .secret_id()
            .is_some_and(|id| id.contains("999999999999"));
        let arn = if foreign {
            "arn:aws:secretsmanager:us-east-1:999999999999:secret:dev/keys"
        } else {
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:dev/keys"
        };
        DescribeSecretOutput::builder()
            .name("dev/keys")
            .arn(arn)
            .rotation_enabled(true)
            .version_ids_to_stages(CURRENT, vec!["AWSCURRENT".to_owned()])
            .version_ids_to_stages("v-pending", vec!["AWSPENDING".to_owned()])
            .build()
    });
    let f = function(mocked!(&describe), &[("SECRETS_FN_ACTIONS", "rotate")]);
    let e = f.handle(&event).await.unwrap_err();
    assert_eq!(e.code(), "wrong_secret", "{e}");

    // The same event for our own secret's ARN gets past the check (and on to the next call).
    let ours = json!({
        "Step": "setSecret",
        "SecretId": "arn:aws:secretsmanager:us-east-1:123456789012:secret:dev/keys",
        "ClientRequestToken": "v-pending"
    });
    let f = function(mocked!(&describe), &[("SECRETS_FN_ACTIONS", "rotate")]);
    assert!(f.handle(&ours).await.is_ok());
}
