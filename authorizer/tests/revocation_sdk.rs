//! The revocation feed with the real DynamoDB client and stubbed answers
//! (`aws-smithy-mocks`): which index and key condition each pass asks for, pages followed a
//! page per request, every shard read, throttling and other failed calls kept apart from the
//! pages already read (the rules themselves are pinned in `revocation::tests`).
// Test code throughout: `cfg(test)` lets clippy.toml's test allowances (unwrap, expect,
// indexing, panic) cover its helpers as well as its tests.
#![cfg(test)]

use std::time::{Duration, Instant};

use authorizer::internal::{
    DynamoFeed, Pass, ReadError, RevocationRules, Revocations, INVOCATION_BUDGET,
};
use authorizer::{Refused, Verified};
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::operation::query::{QueryInput, QueryOutput};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use jwt_session::revocation::dynamodb::to_item;
use jwt_session::revocation::{Entry, FeedShards};
use jwt_session::testing::VerifiedBuilder;

const TIMEOUT: Duration = Duration::from_secs(1);

fn session(sid: &str) -> Entry {
    // Written at a fixed time, in force for long after now.
    Entry::session(sid.into(), 1_700_000_000_000, 400_000_000, 0)
}

fn token(sid: &str) -> Verified {
    VerifiedBuilder::new("alice")
        .issued(jwt_session::unix_now(), 600)
        .sid(sid)
        .build()
}

fn value<'a>(q: &'a QueryInput, name: &str) -> Option<&'a AttributeValue> {
    q.expression_attribute_values().and_then(|v| v.get(name))
}

fn shard(q: &QueryInput) -> Option<String> {
    value(q, ":feed").and_then(|v| v.as_s().ok()).cloned()
}

fn answer(status: u16, body: &'static str) -> HttpResponse {
    HttpResponse::new(
        aws_smithy_runtime_api::http::StatusCode::try_from(status).unwrap(),
        aws_smithy_types::body::SdkBody::from(body),
    )
}

fn one_shard() -> RevocationRules {
    RevocationRules {
        shards: FeedShards::new(1).unwrap(),
        refresh: Duration::ZERO,
        ..RevocationRules::new("t".into())
    }
}

#[tokio::test]
async fn a_load_asks_the_expiry_index_to_leave_out_expired_items_in_its_key_condition() {
    let page = mock!(Client::query)
        .match_requests(|q| {
            q.index_name() == Some("feed-expires")
                && q.key_condition_expression() == Some("#feed = :feed AND #expires > :bound")
                && q.filter_expression().is_none()
                && q.expression_attribute_names()
                    .and_then(|n| n.get("#expires"))
                    .is_some_and(|n| n == "expires_at")
                && value(q, ":bound")
                    .and_then(|v| v.as_n().ok())
                    .and_then(|n| n.parse::<u64>().ok())
                    .is_some_and(|n| n.abs_diff(jwt_session::unix_now()) < 60)
        })
        .then_output(|| QueryOutput::builder().build());
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&page]);
    let feed = DynamoFeed::new(client, "t".into());
    let read = feed
        .page(0, Pass::Load, None, 2000, jwt_session::unix_now(), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(read.next, None);
    assert_eq!(page.num_calls(), 1);
}

#[tokio::test]
async fn an_incremental_pass_asks_the_feed_index_for_what_was_written_since() {
    let page = mock!(Client::query)
        .match_requests(|q| {
            q.index_name() == Some("feed-at")
                && q.key_condition_expression() == Some("#feed = :feed AND #at >= :bound")
                && value(q, ":bound") == Some(&AttributeValue::N("12345".into()))
                && shard(q).as_deref() == Some("revocations#3")
                && q.limit() == Some(500)
        })
        .then_output(|| {
            QueryOutput::builder()
                .items(to_item(&session("a"), FeedShards::DEFAULT))
                .last_evaluated_key("id", AttributeValue::S("sid#a".into()))
                .build()
        });
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&page]);
    let read = DynamoFeed::new(client, "t".into())
        .page(3, Pass::Since(12345), None, 500, 0, TIMEOUT)
        .await
        .unwrap();
    assert_eq!(read.entries, vec![session("a")]);
    assert!(read.next.is_some());
}

#[tokio::test]
async fn every_shard_is_loaded_before_the_first_decision() {
    let page = mock!(Client::query).then_output(|| QueryOutput::builder().build());
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&page]);
    let policy = RevocationRules {
        shards: FeedShards::new(5).unwrap(),
        ..RevocationRules::new("t".into())
    };
    let revocations = Revocations::new(DynamoFeed::new(client, "t".into()), policy);
    revocations.warm().await;
    assert_eq!(page.num_calls(), 5, "one load per shard");
    let now = jwt_session::unix_now();
    assert_eq!(
        revocations.check(&token("s"), now, Instant::now()).await,
        Ok(())
    );
}

#[tokio::test]
async fn a_backlog_is_read_a_page_per_request_and_a_throttled_page_keeps_what_came_before() {
    // The load: one page. Then an incremental pass with two pages, the second throttled once.
    let load = mock!(Client::query)
        .match_requests(|q| q.index_name() == Some("feed-expires"))
        .then_output(|| QueryOutput::builder().build());
    let first = mock!(Client::query)
        .match_requests(|q| q.index_name() == Some("feed-at") && q.exclusive_start_key().is_none())
        .then_output(|| {
            QueryOutput::builder()
                .items(to_item(&session("a"), FeedShards::DEFAULT))
                .last_evaluated_key("id", AttributeValue::S("sid#a".into()))
                .build()
        });
    let throttled = mock!(Client::query)
        .match_requests(|q| q.exclusive_start_key().is_some())
        .sequence()
        .http_response(|| {
            answer(
                400,
                r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"slow down"}"#,
            )
        })
        .output(|| {
            QueryOutput::builder()
                .items(to_item(&session("b"), FeedShards::DEFAULT))
                .build()
        })
        .build();
    let client = mock_client!(
        aws_sdk_dynamodb,
        RuleMode::MatchAny,
        [&load, &first, &throttled],
        |c| c.retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
    );
    let revocations = Revocations::new(DynamoFeed::new(client, "t".into()), one_shard());
    revocations.warm().await;
    let now = jwt_session::unix_now();
    let check = async |sid: &str| revocations.check(&token(sid), now, Instant::now()).await;
    // Request 1: the first page of the pass.
    assert_eq!(check("a").await, Err(Refused::Revoked));
    assert_eq!(first.num_calls(), 1);
    assert_eq!(throttled.num_calls(), 0, "one page per request");
    // Request 2: the second page is throttled: what the first held still counts, and the set
    // serves (the staleness bound counts from the last page read).
    assert_eq!(check("b").await, Ok(()));
    assert_eq!(throttled.num_calls(), 1);
    // Request 3 (the wait after a failure is the refresh interval, zero here): the same page
    // again, from where the pass stopped.
    assert_eq!(check("a").await, Err(Refused::Revoked));
    assert_eq!(throttled.num_calls(), 2);
    assert_eq!(check("b").await, Err(Refused::Revoked));
}

#[tokio::test]
async fn a_failed_query_is_a_failed_page() {
    // As DynamoDB answers it: 500, the error's type in `__type`.
    let down = mock!(Client::query).then_http_response(|| {
        answer(
            500,
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"down"}"#,
        )
    });
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&down], |c| c
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled()));
    let err = DynamoFeed::new(client, "t".into())
        .page(0, Pass::Load, None, 2000, 0, TIMEOUT)
        .await
        .unwrap_err();
    assert!(matches!(err, ReadError::Query { .. }), "{err}");
    assert!(err.is_transient(), "a server error may pass: {err}");
}

#[tokio::test]
async fn a_missing_table_is_a_failed_page_that_will_not_pass_by_itself() {
    let missing = mock!(Client::query).then_http_response(|| {
        answer(
            400,
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"no table"}"#,
        )
    });
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&missing], |c| c
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled()));
    let err = DynamoFeed::new(client, "t".into())
        .page(0, Pass::Load, None, 2000, 0, TIMEOUT)
        .await
        .unwrap_err();
    assert!(!err.is_transient(), "{err}");
}

#[tokio::test]
async fn a_request_whose_invocation_budget_is_spent_does_not_read_and_the_next_one_does() {
    let page = mock!(Client::query).then_output(|| QueryOutput::builder().build());
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&page]);
    let revocations = Revocations::new(DynamoFeed::new(client, "t".into()), one_shard());
    revocations.warm().await;
    assert_eq!(page.num_calls(), 1, "the load at start-up");
    let now = jwt_session::unix_now();
    // The key fetch took the whole budget: no read (a read now would outlive the function's
    // time-out), and the last set serves.
    let spent = Instant::now().checked_sub(INVOCATION_BUDGET).unwrap();
    assert_eq!(revocations.check(&token("s"), now, spent).await, Ok(()));
    assert_eq!(page.num_calls(), 1);
    // A fresh invocation reads.
    assert_eq!(
        revocations.check(&token("s"), now, Instant::now()).await,
        Ok(())
    );
    assert_eq!(page.num_calls(), 2);
}
