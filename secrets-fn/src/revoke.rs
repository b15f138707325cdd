//! Revocation by the session authority (contract §7): this function's signing deployment is
//! the only writer of the revocation table (`REVOCATION_TABLE`).
//!
//! - `revoke_session` writes `sid#<sid>`: every token of that session is refused by the
//!   authorizers within their refresh interval, and [`crate::signer`] refuses to renew it.
//! - `revoke_subject` writes `sub#<sub>` with `before` = now: every token of a session of that
//!   subject that began (`auth_time`) at or before this second is refused, renewed or not, so
//!   every earlier session ends ("log out everywhere"); a new login after it starts a valid
//!   session.
//!
//! Items go to one of `REVOCATION_SHARDS` feed partitions and expire once nothing they cover
//! can be accepted (see [`jwt_session::revocation`]).
//!
//! Each writes one audit record (`session_revoked`, `subject_revoked`). Before renewing,
//! the signer reads the two items that could cover the token with strongly consistent reads:
//! a revoked session cannot renew itself even in the moment after the revocation.

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use jwt_session::revocation::dynamodb::{from_item, to_item};
use jwt_session::revocation::{table, Entry, FeedShards, Revocation, RevocationSet};
use jwt_session::wire::RevokeResponse;

/// One failed DynamoDB call.
#[derive(Debug, thiserror::Error)]
#[error("DynamoDB {operation} on the revocation table failed ({})", if *.transient { "transient: a retry may succeed" } else { "permanent" })]
pub struct StoreFailure {
    /// The API call.
    pub operation: &'static str,
    /// Whether retrying later may succeed.
    pub transient: bool,
    /// The SDK error.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl StoreFailure {
    fn new<E>(operation: &'static str, e: aws_sdk_dynamodb::error::SdkError<E>) -> StoreFailure
    where
        E: aws_sdk_dynamodb::error::ProvideErrorMetadata
            + std::error::Error
            + Send
            + Sync
            + 'static,
    {
        StoreFailure {
            operation,
            transient: crate::sm::is_transient(&e),
            source: Box::new(e),
        }
    }
}

/// The revocation table, for the session authority: writes, and consistent reads of the
/// items that could cover one token.
#[derive(Debug, Clone)]
pub struct RevocationStore {
    client: Client,
    table: String,
    shards: FeedShards,
}

impl RevocationStore {
    /// The store on `table`, writing to `shards` feed partitions.
    pub fn new(client: Client, table: String, shards: FeedShards) -> Self {
        RevocationStore {
            client,
            table,
            shards,
        }
    }

    /// Writes `entry`, logs it, and answers what was written.
    pub async fn revoke(
        &self,
        entry: Entry,
        sub: Option<&str>,
    ) -> Result<RevokeResponse, StoreFailure> {
        let now_ms = entry.at_ms;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&entry, self.shards)))
            .send()
            .await
            .map_err(|e| StoreFailure::new("PutItem", e))?;
        let revoked_at = now_ms / 1000;
        let answer = match entry.revocation {
            Revocation::Session { sid } => {
                tracing::info!(event = "session_revoked", sid = %sid, sub, expires_at = entry.expires_at, "session revoked");
                RevokeResponse {
                    revoked: "session".into(),
                    sid: Some(sid),
                    sub: sub.map(str::to_owned),
                    before: None,
                    revoked_at,
                    expires_at: entry.expires_at,
                }
            }
            Revocation::Subject { sub, before } => {
                tracing::info!(event = "subject_revoked", sub = %sub, before, expires_at = entry.expires_at, "every session of the subject revoked");
                RevokeResponse {
                    revoked: "subject".into(),
                    sid: None,
                    sub: Some(sub),
                    before: Some(before),
                    revoked_at,
                    expires_at: entry.expires_at,
                }
            }
        };
        Ok(answer)
    }

    /// Whether a token of `sub` in session `sid`, of a session that began at `began`
    /// (`auth_time`), is revoked, read with strongly consistent reads of the (at most two)
    /// items that could cover it.
    pub async fn is_revoked(
        &self,
        sub: &str,
        sid: Option<&str>,
        began: Option<u64>,
        now: u64,
    ) -> Result<bool, StoreFailure> {
        let mut set = RevocationSet::default();
        for id in Revocation::ids_covering(sub, sid) {
            let out = self
                .client
                .get_item()
                .table_name(&self.table)
                .key(table::ID, AttributeValue::S(id))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| StoreFailure::new("GetItem", e))?;
            let Some(item) = out.item else { continue };
            match from_item(&item) {
                Ok(entry) => set.insert(entry, now),
                Err(e) => {
                    // Written by no version of this function: refuse rather than guess.
                    tracing::error!(event = "revocation_item_invalid", error = %e, "revocation item refused");
                    return Ok(true);
                }
            }
        }
        Ok(set.is_revoked(sub, sid, began, now))
    }
}
