//! The session authority's revocation table with the real DynamoDB client and stubbed answers
//! (`aws-smithy-mocks`): what a renewal check reads, and whether a failed write says a retry
//! may succeed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use jwt_session::revocation::dynamodb::to_item;
use jwt_session::revocation::{Entry, Revocation};
use secrets_fn::revoke::RevocationStore;

const NOW: u64 = 1_800_000_000;

fn answer(status: u16, body: &'static str) -> HttpResponse {
    HttpResponse::new(
        aws_smithy_runtime_api::http::StatusCode::try_from(status).unwrap(),
        aws_smithy_types::body::SdkBody::from(body),
    )
}

#[tokio::test]
async fn a_renewal_check_reads_the_subject_and_the_session_consistently() {
    let subject = mock!(Client::get_item)
        .match_requests(|r| {
            r.consistent_read() == Some(true)
                && r.key().and_then(|k| k.get("id")) == Some(&AttributeValue::S("sub#alice".into()))
        })
        .then_output(|| {
            let e = Entry::new(
                Revocation::Subject {
                    sub: "alice".into(),
                    before: NOW,
                },
                NOW * 1000,
                3600,
            );
            GetItemOutput::builder().set_item(Some(to_item(&e))).build()
        });
    let session = mock!(Client::get_item)
        .match_requests(|r| r.consistent_read() == Some(true))
        .then_output(|| GetItemOutput::builder().build());
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&subject, &session]);
    let store = RevocationStore::new(client, "t".into());
    assert!(store
        .is_revoked("alice", Some("s1"), Some(NOW - 10), NOW)
        .await
        .unwrap());
    assert!(store
        .is_revoked("alice", Some("s1"), Some(NOW), NOW)
        .await
        .unwrap());
    assert!(!store
        .is_revoked("alice", Some("s1"), Some(NOW + 1), NOW + 1)
        .await
        .unwrap());
}

#[tokio::test]
async fn a_throttled_write_is_transient_and_a_denied_one_is_not() {
    let throttled = mock!(Client::put_item).then_http_response(|| {
        answer(
            400,
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"}"#,
        )
    });
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&throttled], |c| c
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled()));
    let store = RevocationStore::new(client, "t".into());
    let sid = Revocation::Session { sid: "s".into() };
    let err = store
        .revoke(sid.clone(), None, 3600, NOW * 1000)
        .await
        .unwrap_err();
    assert!(err.transient, "{err}");
    assert_eq!(err.operation, "PutItem");

    let denied = mock!(Client::put_item).then_http_response(|| {
        answer(
            400,
            r#"{"__type":"com.amazon.coral.service#AccessDeniedException","message":"no"}"#,
        )
    });
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&denied]);
    let err = RevocationStore::new(client, "t".into())
        .revoke(sid, None, 3600, NOW * 1000)
        .await
        .unwrap_err();
    assert!(!err.transient, "{err}");
}
