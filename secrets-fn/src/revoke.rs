//! Revocation by the session authority (docs/revocation.md): this function's signing deployment is
//! the only writer of the revocation table (`REVOCATION_TABLE`).
//!
//! - `revoke_session` writes `sid#<sid>`: every token of that session is refused by the
//!   authorizers within their refresh interval, and renewing it is refused.
//! - `revoke_subject` writes `sub#<sub>` with `before` = now: every token of a session of that
//!   subject that began (`auth_time`) at or before this second is refused, renewed or not, so
//!   every earlier session ends ("log out everywhere"); a new login after it starts a valid
//!   session.
//!
//! Items go to one of `REVOCATION_SHARDS` feed partitions and expire once nothing they cover
//! can be accepted (see [`jwt_session::revocation`]).
//!
//! Each writes one audit record (`session_revoked`, `subject_revoked`). Before renewing,
//! the signer reads the two items that could cover the token with strongly consistent reads
//! ([`check_renewal`]): a revoked session cannot renew itself even in the moment after the
//! revocation.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use jwt_session::revocation::dynamodb::{from_item, to_item};
use jwt_session::revocation::{table, Entry, FeedShards, Revocation, RevocationSet};
use jwt_session::wire::{RevokeResponse, SessionRef};

use crate::aws::{SdkFailure, Service};
use crate::error::Error;
use crate::read::Loaded;
use crate::signer::{Renewal, SignConfig, SignError};

/// How long after its `exp` a token can still log its session out: the largest clock leeway
/// an authorizer accepts (`JWT_LEEWAY_SECONDS` ≤ 300).
pub const REVOKE_LEEWAY_SECONDS: u64 = 300;

/// `revoke_session`: by a token of the session (verified with our keys, which `keys` loads
/// only then, and accepted up to [`REVOKE_LEEWAY_SECONDS`] after its `exp`) or by its id.
pub(crate) async fn session(
    store: &RevocationStore,
    sign: &SignConfig,
    session: SessionRef,
    keys: impl AsyncFnOnce() -> Result<Arc<Loaded>, Error>,
) -> Result<RevokeResponse, Error> {
    let now_ms = jwt_session::unix_now_ms();
    let (entry, sub) = match session {
        SessionRef::Token(token) => {
            let loaded = keys().await?;
            let session = Renewal::verify(
                &token,
                &loaded.keys,
                sign,
                now_ms / 1000,
                REVOKE_LEEWAY_SECONDS,
            )
            .map_err(Error::refused)?;
            let sid = session.sid.ok_or_else(|| {
                Error::refused(SignError::BadRequest(
                    "the token has no session id (`sid`): revoke its subject",
                ))
            })?;
            // Until the last token the session can hold has expired: this one, or one issued
            // now for the current lifetime.
            let entry = Entry::session(sid, now_ms, sign.lifetime, session.exp);
            (entry, Some(session.sub))
        }
        SessionRef::Sid(sid) => {
            let sid = bounded(sid)?;
            (Entry::session(sid, now_ms, sign.lifetime, 0), None)
        }
    };
    write(store, entry, sub.as_deref()).await
}

/// `revoke_subject`: every session of `sub` begun up to this second.
pub(crate) async fn subject(
    store: &RevocationStore,
    sign: &SignConfig,
    sub: String,
) -> Result<RevokeResponse, Error> {
    let now_ms = jwt_session::unix_now_ms();
    let sub = bounded(sub)?;
    let before = now_ms / 1000;
    let entry = Entry::subject(sub, before, now_ms, sign.session_max);
    let answer = write(store, entry, None).await?;
    // A subject revocation covers sessions begun up to its second (`auth_time` ≤ `before`):
    // it answers only once that second is over, so a login that follows the answer (a
    // password change: revoke, then sign in again) is never covered by it.
    let next_second = (before + 1) * 1000;
    let wait = next_second.saturating_sub(jwt_session::unix_now_ms());
    tokio::time::sleep(Duration::from_millis(wait)).await;
    Ok(answer)
}

/// Writes `entry`; a failure is logged (`revocation_failed`) and answered as the function's
/// error.
async fn write(
    store: &RevocationStore,
    entry: Entry,
    sub: Option<&str>,
) -> Result<RevokeResponse, Error> {
    store
        .revoke(entry, sub)
        .await
        .inspect_err(|e| {
            tracing::error!(event = "revocation_failed", code = "revocation_store", transient = e.transient, error = %e, "revocation not written");
        })
        .map_err(Error::RevocationStore)
}

/// A session id or subject to revoke: not empty, and no longer than a token's claim can be.
fn bounded(value: String) -> Result<String, Error> {
    if value.is_empty() || value.len() > jwt_session::revocation::MAX_VALUE_BYTES {
        return Err(Error::refused(SignError::BadRequest(
            "`sid` and `sub` must be non-empty strings of at most 1 KiB",
        )));
    }
    Ok(value)
}

/// A renewal's revocation check, between [`Renewal::verify`] and [`Renewal::issue`]: refused
/// (`revoked`) when `store` says the session or its subject was revoked, and refused too
/// when the table cannot be read (`revocation_check_failed`). Without a store (revocation
/// off) every renewal passes.
pub(crate) async fn check_renewal(
    store: Option<&RevocationStore>,
    renewal: &Renewal,
    now: u64,
) -> Result<(), Error> {
    let Some(store) = store else {
        return Ok(());
    };
    let revoked = store
        .is_revoked(
            &renewal.sub,
            renewal.sid.as_deref(),
            Some(renewal.auth_time()),
            now,
        )
        .await
        .inspect_err(|e| {
            tracing::error!(event = "revocation_check_failed", transient = e.transient, error = %e, "renewal refused: the revocation table could not be read");
        })
        .map_err(Error::RevocationStore)?;
    if revoked {
        return Err(Error::refused(SignError::Revoked));
    }
    Ok(())
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
    ) -> Result<RevokeResponse, SdkFailure> {
        let now_ms = entry.at_ms;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&entry, self.shards)))
            .send()
            .await
            .map_err(|e| SdkFailure::new(Service::RevocationTable, "PutItem", e))?;
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
    ) -> Result<bool, SdkFailure> {
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
                .map_err(|e| SdkFailure::new(Service::RevocationTable, "GetItem", e))?;
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
