//! The session authority's revocation table with the real DynamoDB client and stubbed answers
//! (`aws-smithy-mocks`): what a renewal check reads, and whether a failed write says a retry
//! may succeed.
// Test code throughout: `cfg(test)` lets clippy.toml's test allowances (unwrap, expect,
// indexing, panic) cover its helpers as well as its tests.
#![cfg(test)]

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use jwt_session::revocation::dynamodb::to_item;
use jwt_session::revocation::{Entry, FeedShards};
use secrets_fn::RevocationStore;

const NOW: u64 = 1_800_000_000;

fn answer(status: u16, body: &'static str) -> HttpResponse {
    HttpResponse::new(
        aws_smithy_runtime_api::http::StatusCode::try_from(status).unwrap(),
        aws_smithy_types::body::SdkBody::from(body),
    )
}

#[tokio::test]
async fn a_renewal_check_reads_the_subject_and_the_session_consistently_and_compares_the_session_start(
) {
    let subject = mock!(Client::get_item)
        .match_requests(|r| {
            r.consistent_read() == Some(true)
                && r.key().and_then(|k| k.get("id")) == Some(&AttributeValue::S("sub#alice".into()))
        })
        .then_output(|| {
            let e = Entry::subject("alice".into(), NOW, NOW * 1000, 3600);
            GetItemOutput::builder()
                .set_item(Some(to_item(&e, FeedShards::DEFAULT)))
                .build()
        });
    let session = mock!(Client::get_item)
        .match_requests(|r| r.consistent_read() == Some(true))
        .then_output(|| GetItemOutput::builder().build());
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&subject, &session]);
    let store = RevocationStore::new(client, "t".into(), FeedShards::DEFAULT);
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
    let store = RevocationStore::new(client, "t".into(), FeedShards::DEFAULT);
    let sid = Entry::session("s".into(), NOW * 1000, 900, 0);
    let err = store.revoke(sid.clone(), None).await.unwrap_err();
    assert!(err.transient, "{err}");
    assert_eq!(err.operation, "PutItem");

    let denied = mock!(Client::put_item).then_http_response(|| {
        answer(
            400,
            r#"{"__type":"com.amazon.coral.service#AccessDeniedException","message":"no"}"#,
        )
    });
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&denied]);
    let err = RevocationStore::new(client, "t".into(), FeedShards::DEFAULT)
        .revoke(sid, None)
        .await
        .unwrap_err();
    assert!(!err.transient, "{err}");
}

#[tokio::test]
async fn a_revocation_is_written_to_its_feed_shard_with_its_lifetime() {
    let shards = FeedShards::new(4).unwrap();
    let entry = Entry::session("s-42".into(), NOW * 1000, 900, 0);
    let want = FeedShards::value(shards.of("sid#s-42"));
    let put = mock!(Client::put_item)
        .match_requests(move |r| {
            let item = r.item().cloned().unwrap_or_default();
            item.get("feed") == Some(&AttributeValue::S(want.clone()))
                && item.get("expires_at")
                    == Some(&AttributeValue::N(
                        (NOW + 900 + jwt_session::revocation::EXPIRY_MARGIN_SECONDS).to_string(),
                    ))
        })
        .then_output(|| aws_sdk_dynamodb::operation::put_item::PutItemOutput::builder().build());
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&put]);
    let answer = RevocationStore::new(client, "t".into(), shards)
        .revoke(entry, Some("alice"))
        .await
        .unwrap();
    assert_eq!(put.num_calls(), 1);
    assert_eq!(answer.sid.as_deref(), Some("s-42"));
    assert_eq!(
        answer.expires_at,
        NOW + 900 + jwt_session::revocation::EXPIRY_MARGIN_SECONDS
    );
}
