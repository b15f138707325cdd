//! The revocation feed with the real DynamoDB client and stubbed answers
//! (`aws-smithy-mocks`): pages are followed to the end, an item that is not a revocation fails
//! the read (a set missing an entry would serve a revoked session), and a failed call is a
//! failed read (the set keeps serving until its staleness bound; see `revocation::tests`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use authorizer::revocation::{
    DynamoFeed, ReadError, RevocationPolicy, Revocations, INVOCATION_BUDGET,
};
use authorizer::Verified;
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

/// A client whose first `Query` answers session "a" and a continuation key, and whose
/// second (the one with `ExclusiveStartKey`) answers `last`.
fn two_pages(last: impl Fn() -> QueryOutput + Send + Sync + 'static) -> Client {
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
        .then_output(last);
    mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&first, &second])
}

#[tokio::test]
async fn every_page_is_read() {
    let client = two_pages(|| QueryOutput::builder().items(to_item(&session("c"))).build());
    let read = DynamoFeed::new(client, "t".into())
        .read(Some(1), DEADLINE)
        .await
        .unwrap();
    assert_eq!(read.calls, 2);
    assert_eq!(read.entries, vec![session("a"), session("c")]);
}

#[tokio::test]
async fn an_item_that_is_not_a_revocation_fails_the_read() {
    let client = two_pages(|| {
        let mut bad = to_item(&session("b"));
        bad.insert("kind".into(), AttributeValue::S("user".into()));
        QueryOutput::builder()
            .items(to_item(&session("c")))
            .items(bad)
            .build()
    });
    let err = DynamoFeed::new(client, "t".into())
        .read(Some(1), DEADLINE)
        .await
        .unwrap_err();
    assert!(matches!(err, ReadError::InvalidItem(_)), "{err}");
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

#[tokio::test]
async fn every_read_asks_dynamodb_to_leave_out_expired_items() {
    let page = mock!(Client::query)
        .match_requests(|q| {
            q.filter_expression() == Some("#expires > :now")
                && q.expression_attribute_names()
                    .and_then(|n| n.get("#expires"))
                    .is_some_and(|n| n == "expires_at")
                && q.expression_attribute_values()
                    .and_then(|v| v.get(":now"))
                    .and_then(|v| v.as_n().ok())
                    .and_then(|n| n.parse::<u64>().ok())
                    .is_some_and(|n| n.abs_diff(jwt_session::unix_now()) < 60)
        })
        .then_output(|| QueryOutput::builder().build());
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&page]);
    let feed = DynamoFeed::new(client, "t".into());
    assert!(feed.read(None, DEADLINE).await.is_ok());
    assert!(feed.read(Some(1), DEADLINE).await.is_ok());
    assert_eq!(page.num_calls(), 2);
}

#[tokio::test]
async fn a_request_whose_invocation_budget_is_spent_does_not_read_and_the_next_one_does() {
    let page = mock!(Client::query).then_output(|| QueryOutput::builder().build());
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&page]);
    let policy = RevocationPolicy {
        refresh: std::time::Duration::ZERO,
        ..RevocationPolicy::new("t".into())
    };
    let revocations = Revocations::new(DynamoFeed::new(client, "t".into()), policy);
    revocations.warm().await;
    assert_eq!(page.num_calls(), 1, "the load at start-up");
    let token = Verified {
        kid: "k".into(),
        sub: "alice".into(),
        exp: jwt_session::unix_now() + 600,
        iat: Some(jwt_session::unix_now()),
        jti: None,
        sid: Some("s".into()),
        scope: None,
        scopes: Vec::new(),
        csrf: None,
        renew: false,
    };
    let now = jwt_session::unix_now();
    // The key fetch took the whole budget: no read (a read now would outlive the function's
    // time-out), and the last set serves.
    let spent = std::time::Instant::now()
        .checked_sub(INVOCATION_BUDGET)
        .unwrap();
    assert_eq!(revocations.check(&token, now, spent).await, Ok(()));
    assert_eq!(page.num_calls(), 1);
    // A fresh invocation reads.
    let fresh = std::time::Instant::now();
    assert_eq!(revocations.check(&token, now, fresh).await, Ok(()));
    assert_eq!(page.num_calls(), 2);
}
