//! One page of one shard of the revocation feed, read with the real DynamoDB client.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use jwt_session::revocation::dynamodb::from_item;
use jwt_session::revocation::{table, Entry, FeedShards};

/// Where a `Query` goes on after a page (DynamoDB's `LastEvaluatedKey`).
pub type StartKey = HashMap<String, AttributeValue>;

/// What a pass of a shard reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Every item still in force, from the expiry index (`expires_at > now` in the key
    /// condition): a shard's first read in a container.
    Load,
    /// Every item written at or after this time (milliseconds since the epoch), from the feed
    /// index, in the order written.
    Since(u64),
}

/// What one page returned.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Page {
    /// The revocations on it.
    pub entries: Vec<Entry>,
    /// Items skipped: not a revocation this version understands.
    pub skipped: usize,
    /// Why the first skipped item was skipped (`unknown_kind` or an attribute's name).
    pub skipped_why: Option<&'static str>,
    /// The latest `at` on the page.
    pub high_at: Option<u64>,
    /// Where the pass goes on; `None`: the pass is over.
    pub next: Option<StartKey>,
    /// Read capacity DynamoDB says the page consumed.
    pub capacity: f64,
}

impl Page {
    /// The page of `items`: revocations kept, anything else counted and skipped (an item of a
    /// kind a newer signer writes must not stop the reader; see the revocation docs for why
    /// skipping is safe).
    pub fn of(items: &[HashMap<String, AttributeValue>], next: Option<StartKey>) -> Page {
        let mut page = Page {
            next: next.filter(|k| !k.is_empty()),
            ..Page::default()
        };
        for item in items {
            match from_item(item) {
                Ok(entry) => {
                    page.high_at = page.high_at.max(Some(entry.at_ms));
                    page.entries.push(entry);
                }
                Err(e) => {
                    page.skipped += 1;
                    page.skipped_why.get_or_insert(e.what());
                }
            }
        }
        page
    }
}

/// Why a page could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The `Query` call failed (network, throttling, missing table, denied).
    #[error("DynamoDB Query failed")]
    Query {
        /// Whether a later read may succeed (`jwt_session::aws::is_transient`).
        transient: bool,
        /// The SDK's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The page did not arrive within its time-out.
    #[error("the page did not arrive in time")]
    TimedOut,
}

impl ReadError {
    /// Whether a later read may succeed: a page that came too late, or a `Query` that failed
    /// for a reason that passes (time-out, throttling, a server error); not a missing table or
    /// denied access.
    pub fn is_transient(&self) -> bool {
        match self {
            ReadError::Query { transient, .. } => *transient,
            ReadError::TimedOut => true,
        }
    }
}

/// Reads the table's feed with the real DynamoDB client.
#[derive(Debug, Clone)]
pub struct DynamoFeed {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoFeed {
    /// The feed of `table`.
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        DynamoFeed { client, table }
    }

    /// One page of `shard`'s `pass`, from `start`, of at most `limit` items, within `timeout`;
    /// `now` (seconds since the epoch) is what a load counts as expired.
    pub async fn page(
        &self,
        shard: u16,
        pass: Pass,
        start: Option<StartKey>,
        limit: i32,
        now: u64,
        timeout: Duration,
    ) -> Result<Page, ReadError> {
        let (index, condition, bound) = match pass {
            Pass::Load => (
                table::EXPIRY_INDEX,
                "#feed = :feed AND #expires > :bound",
                now,
            ),
            Pass::Since(since_ms) => (
                table::FEED_INDEX,
                "#feed = :feed AND #at >= :bound",
                since_ms,
            ),
        };
        // Only what an entry needs: not `id` and `feed`, which repeat what is read.
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression(condition)
            .expression_attribute_names("#feed", table::FEED)
            .expression_attribute_names("#kind", table::KIND)
            .expression_attribute_names("#value", table::VALUE)
            .expression_attribute_names("#before", table::BEFORE)
            .expression_attribute_names("#expires", table::EXPIRES_AT)
            .expression_attribute_names("#at", table::AT)
            .expression_attribute_values(":feed", AttributeValue::S(FeedShards::value(shard)))
            .expression_attribute_values(":bound", AttributeValue::N(bound.to_string()))
            .projection_expression("#kind, #value, #before, #expires, #at")
            .limit(limit)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .set_exclusive_start_key(start);
        let out = tokio::time::timeout(timeout, query.send())
            .await
            .map_err(|_| ReadError::TimedOut)?
            .map_err(|e| ReadError::Query {
                transient: jwt_session::aws::is_transient(&e),
                source: Box::new(e),
            })?;
        let capacity = out
            .consumed_capacity()
            .and_then(|c| c.capacity_units())
            .unwrap_or(0.0);
        let next = out.last_evaluated_key.clone();
        let mut page = Page::of(out.items(), next);
        page.capacity = capacity;
        Ok(page)
    }
}
