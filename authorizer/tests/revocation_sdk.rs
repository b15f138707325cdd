//! The revocation feed with the real DynamoDB client and stubbed answers
//! (`aws-smithy-mocks`): pages are followed to the end, items that are not revocations are
//! skipped and counted, and a failed call is a failed read (the set keeps serving until its
//! staleness bound; see `revocation::tests`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use authorizer::revocation::{DynamoFeed, ReadError};
use aws_sdk_dynamodb::operation::query::{QueryError, QueryOutput};
use aws_sdk_dynamodb::types::error::{InternalServerError, ResourceNotFoundException};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use jwt_session::revocation::dynamodb::to_item;
use jwt_session::revocation::{Entry, Revocation};

fn session(sid: &str) -> Entry {
    Entry::new(
        Revocation::Session { sid: sid.into() },
        1_800_000_000_000,
        3600,
    )
}

const DEADLINE: std::time::Duration = std::time::Duration::from_secs(3);

#[tokio::test]
async fn every_page_is_read_and_an_item_that_is_not_a_revocation_fails_the_read() {
    let first = mock!(Client::query)
        .match_requests(|q| q.exclusive_start_key().is_none())
        .then_output(|| {
            QueryOutput::builder()
                .items(to_item(&session("a")))
                .last_evaluated_key("id", AttributeValue::S("sid#a".into()))
                .build()
        });
    let second = mock!(Client::query)
        .match_requests(|q| q.exclusive_start_key().is_some())
        .then_output(|| {
            let mut bad = to_item(&session("b"));
            bad.insert("kind".into(), AttributeValue::S("user".into()));
            QueryOutput::builder()
                .items(to_item(&session("c")))
                .items(bad)
                .build()
        });
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&first, &second]);
    let err = DynamoFeed::new(client, "t".into())
        .read(Some(1), DEADLINE)
        .await
        .unwrap_err();
    assert!(matches!(err, ReadError::InvalidItem(_)), "{err}");

    let first = mock!(Client::query)
        .match_requests(|q| q.exclusive_start_key().is_none())
        .then_output(|| {
            QueryOutput::builder()
                .items(to_item(&session("a")))
                .last_evaluated_key("id", AttributeValue::S("sid#a".into()))
                .build()
        });
    let second = mock!(Client::query)
        .match_requests(|q| q.exclusive_start_key().is_some())
        .then_output(|| QueryOutput::builder().items(to_item(&session("c"))).build());
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&first, &second]);
    let read = DynamoFeed::new(client, "t".into())
        .read(Some(1), DEADLINE)
        .await
        .unwrap();
    assert_eq!(read.calls, 2);
    assert_eq!(read.entries, vec![session("a"), session("c")]);
}

#[tokio::test]
async fn a_failed_or_denied_query_is_a_failed_read() {
    let down = mock!(Client::query).then_error(|| {
        QueryError::InternalServerError(InternalServerError::builder().message("down").build())
    });
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&down], |c| c
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled()));
    let err = DynamoFeed::new(client, "t".into())
        .read(None, DEADLINE)
        .await
        .unwrap_err();
    assert!(matches!(err, ReadError::Query(_)), "{err}");

    let missing = mock!(Client::query).then_error(|| {
        QueryError::ResourceNotFoundException(
            ResourceNotFoundException::builder()
                .message("no table")
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&missing]);
    assert!(DynamoFeed::new(client, "t".into())
        .read(None, DEADLINE)
        .await
        .is_err());
}
