//! Revoked sessions and subjects (docs/revocation.md), typed once for the session authority that
//! writes them and the authorizer that reads them: the table's items and the set the
//! authorizer keeps in memory.
//!
//! # The table
//!
//! One item per revoked session (`id` = `sid#<sid>`) and per revoked subject (`id` =
//! `sub#<sub>`, overwritten by a later "log out everywhere", whose `before` is later). Every
//! item also carries `feed`, one of [`FeedShards`]' partition values (chosen by a stable hash
//! of `id`, so the writes of a burst spread over several partitions and a reader loads them in
//! parallel), `at` (milliseconds since the epoch when it was written) and `expires_at`. Two
//! global secondary indexes serve the readers, never a `Scan`:
//!
//! - [`table::FEED_INDEX`] (`feed`, `at`): "everything written since" — a warm reader's
//!   incremental reads;
//! - [`table::EXPIRY_INDEX`] (`feed`, `expires_at`): "everything still in force" — a cold
//!   reader's load, whose key condition (`expires_at > now`) leaves out the expired items
//!   that wait for DynamoDB's TTL deletion (they are neither read nor billed).
//!
//! `expires_at` is the table's TTL attribute: an item goes once no token it covers can still
//! be accepted. A session revocation covers the session's tokens alive at the revocation (a
//! revoked session is never renewed): it lives one token lifetime (or the revoked token's own
//! `exp`, if later) plus [`EXPIRY_MARGIN_SECONDS`]. A subject revocation covers every session
//! that began at or before `before`: it lives the session maximum after `before` plus the
//! margin.

use std::collections::HashMap;

/// Attribute names and the index of the revocation table.
pub mod table {
    /// Partition key: `sid#<sid>` or `sub#<sub>`.
    pub const ID: &str = "id";
    /// The feed index's partition key; always [`FEED_VALUE`].
    pub const FEED: &str = "feed";
    /// The feed index's sort key: when the item was written, milliseconds since the epoch.
    pub const AT: &str = "at";
    /// `session` or `subject`.
    pub const KIND: &str = "kind";
    /// The revoked session id, or the revoked subject.
    pub const VALUE: &str = "value";
    /// Subjects: tokens issued at or before this second are revoked.
    pub const BEFORE: &str = "before";
    /// The TTL attribute: seconds since the epoch after which the item covers nothing.
    pub const EXPIRES_AT: &str = "expires_at";
    /// The global secondary index (`feed`, `at`), all attributes projected: incremental reads.
    pub const FEED_INDEX: &str = "feed-at";
    /// The global secondary index (`feed`, `expires_at`), all attributes projected: loads.
    pub const EXPIRY_INDEX: &str = "feed-expires";
    /// The value of `feed` of shard 0 (the one value before the feed had shards, so items
    /// written then are still read); shard `k > 0` is `revocations#k`.
    pub const FEED_VALUE: &str = "revocations";
}

/// The variable that sets [`FeedShards`] on the signer and the authorizer.
pub const SHARDS_VAR: &str = "REVOCATION_SHARDS";

/// How many partitions of the feed the writer spreads items over and the reader reads
/// (`REVOCATION_SHARDS`). A reader must read at least as many shards as the writer writes:
/// raise it on the authorizers before the signer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedShards(u16);

impl FeedShards {
    /// The default: 8 partitions (8,000 writes a second, and a load read 8 pages at a time).
    pub const DEFAULT: FeedShards = FeedShards(8);
    /// The most shards a feed may have.
    pub const MAX: u16 = 64;

    /// `n` shards, 1 to [`FeedShards::MAX`].
    pub fn new(n: u16) -> Option<FeedShards> {
        (1..=Self::MAX).contains(&n).then_some(FeedShards(n))
    }

    /// How many.
    pub fn count(self) -> u16 {
        self.0
    }

    /// The shard an item of partition key `id` is written to: FNV-1a (64 bit) of `id`, modulo
    /// the count. Stable across versions: a subject revoked twice overwrites one item.
    pub fn of(self, id: &str) -> u16 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in id.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        u16::try_from(h % u64::from(self.0.max(1))).unwrap_or(0)
    }

    /// `REVOCATION_SHARDS` from `env` ([`FeedShards::DEFAULT`] when unset; a problem recorded
    /// when it is not 1 to [`FeedShards::MAX`]). Read by the writer and the readers alike.
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &mut crate::config::Env<F>) -> FeedShards {
        let n = env.number(
            SHARDS_VAR,
            u64::from(Self::DEFAULT.0),
            1,
            u64::from(Self::MAX),
        );
        u16::try_from(n)
            .ok()
            .and_then(FeedShards::new)
            .unwrap_or(Self::DEFAULT)
    }

    /// The `feed` value of shard `k`.
    pub fn value(k: u16) -> String {
        match k {
            0 => table::FEED_VALUE.to_owned(),
            k => format!("{}#{k}", table::FEED_VALUE),
        }
    }
}

impl Default for FeedShards {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Seconds an item outlives the last token it covers: more than any clock leeway the
/// authorizer accepts (`JWT_LEEWAY_SECONDS` is at most 300) plus the longest a signing call
/// can take (a renewal that checked the table just before the revocation was written issues
/// its token within the signer's time-out).
pub const EXPIRY_MARGIN_SECONDS: u64 = 600;

/// The longest session id or subject a revocation names (the strict verifier's longest
/// string claim).
pub const MAX_VALUE_BYTES: usize = crate::strict::MAX_CLAIM_BYTES;

/// What is revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// One session: every token carrying this `sid`.
    Session {
        /// The session id.
        sid: String,
    },
    /// Every session of a subject that began (`auth_time`) at or before `before` ("log out
    /// everywhere").
    Subject {
        /// The subject.
        sub: String,
        /// Seconds since the epoch.
        before: u64,
    },
}

impl Revocation {
    /// The item's partition key.
    pub fn id(&self) -> String {
        match self {
            Revocation::Session { sid } => format!("sid#{sid}"),
            Revocation::Subject { sub, .. } => format!("sub#{sub}"),
        }
    }

    /// The partition keys of what could revoke a token of `sub` in session `sid`.
    pub fn ids_covering(sub: &str, sid: Option<&str>) -> Vec<String> {
        let mut ids = vec![format!("sub#{sub}")];
        ids.extend(sid.map(|s| format!("sid#{s}")));
        ids
    }
}

/// A revocation as stored: what, when written, until when it matters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// What is revoked.
    pub revocation: Revocation,
    /// When it was written, milliseconds since the epoch.
    pub at_ms: u64,
    /// Seconds since the epoch after which it covers no token that could still be accepted.
    pub expires_at: u64,
}

/// An attribute value of the table, independent of the SDK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attr {
    /// A string (`S`).
    S(String),
    /// A number (`N`), always a whole number here.
    N(u64),
}

/// Why an item is not a revocation this version understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ItemError {
    /// A `kind` this version does not know (written by a newer signer).
    #[error("a revocation of an unknown kind")]
    UnknownKind,
    /// An attribute is missing or not what this version writes.
    #[error("attribute `{0}` missing or invalid")]
    Attribute(&'static str),
}

impl ItemError {
    /// A short stable name for logs: `unknown_kind` or the attribute's name.
    pub fn what(&self) -> &'static str {
        match self {
            ItemError::UnknownKind => "unknown_kind",
            ItemError::Attribute(name) => name,
        }
    }
}

impl Entry {
    /// A revocation written at `now_ms` that covers tokens accepted until `covers_until`
    /// (seconds since the epoch): it expires [`EXPIRY_MARGIN_SECONDS`] after that.
    pub fn new(revocation: Revocation, now_ms: u64, covers_until: u64) -> Entry {
        Entry {
            revocation,
            at_ms: now_ms,
            expires_at: covers_until.saturating_add(EXPIRY_MARGIN_SECONDS),
        }
    }

    /// A session revoked at `now_ms`, whose tokens live at most `lifetime` seconds and the
    /// latest of which known expires at `last_exp` (0 when unknown): it matters until the last
    /// token the session could hold has expired.
    pub fn session(sid: String, now_ms: u64, lifetime: u64, last_exp: u64) -> Entry {
        let covers = (now_ms / 1000).saturating_add(lifetime).max(last_exp);
        Entry::new(Revocation::Session { sid }, now_ms, covers)
    }

    /// Every session of `sub` that began at or before `before`, revoked at `now_ms`: it
    /// matters until the longest of those sessions (`session_max` seconds) has ended.
    pub fn subject(sub: String, before: u64, now_ms: u64, session_max: u64) -> Entry {
        let covers = before.saturating_add(session_max);
        Entry::new(Revocation::Subject { sub, before }, now_ms, covers)
    }

    /// The item's attributes, its `feed` one of `shards`.
    pub fn to_item(&self, shards: FeedShards) -> Vec<(&'static str, Attr)> {
        let (kind, value) = match &self.revocation {
            Revocation::Session { sid } => ("session", sid),
            Revocation::Subject { sub, .. } => ("subject", sub),
        };
        let mut item = vec![
            (table::ID, Attr::S(self.revocation.id())),
            (
                table::FEED,
                Attr::S(FeedShards::value(shards.of(&self.revocation.id()))),
            ),
            (table::AT, Attr::N(self.at_ms)),
            (table::KIND, Attr::S(kind.to_owned())),
            (table::VALUE, Attr::S(value.clone())),
            (table::EXPIRES_AT, Attr::N(self.expires_at)),
        ];
        if let Revocation::Subject { before, .. } = &self.revocation {
            item.push((table::BEFORE, Attr::N(*before)));
        }
        item
    }

    /// Reads an item; `get` returns an attribute by name.
    pub fn from_item(get: impl Fn(&str) -> Option<Attr>) -> Result<Entry, ItemError> {
        let string = |name: &'static str| match get(name) {
            Some(Attr::S(s)) if !s.is_empty() && s.len() <= MAX_VALUE_BYTES => Ok(s),
            _ => Err(ItemError::Attribute(name)),
        };
        let number = |name: &'static str| match get(name) {
            Some(Attr::N(n)) => Ok(n),
            _ => Err(ItemError::Attribute(name)),
        };
        let kind = string(table::KIND)?;
        if !matches!(kind.as_str(), "session" | "subject") {
            return Err(ItemError::UnknownKind);
        }
        let value = string(table::VALUE)?;
        let revocation = match kind.as_str() {
            "session" => Revocation::Session { sid: value },
            _ => Revocation::Subject {
                sub: value,
                before: number(table::BEFORE)?,
            },
        };
        Ok(Entry {
            revocation,
            at_ms: number(table::AT)?,
            expires_at: number(table::EXPIRES_AT)?,
        })
    }
}

/// The items as the DynamoDB SDK sends and reads them (feature `dynamodb`).
#[cfg(feature = "dynamodb")]
pub mod dynamodb {
    use std::collections::HashMap;

    use aws_sdk_dynamodb::types::AttributeValue;

    use super::{Attr, Entry, FeedShards, ItemError};

    /// An attribute as the SDK sends it.
    pub fn to_attribute(a: Attr) -> AttributeValue {
        match a {
            Attr::S(s) => AttributeValue::S(s),
            Attr::N(n) => AttributeValue::N(n.to_string()),
        }
    }

    /// An attribute as the SDK reads it (strings and whole numbers only).
    pub fn from_attribute(v: &AttributeValue) -> Option<Attr> {
        match v {
            AttributeValue::S(s) => Some(Attr::S(s.clone())),
            AttributeValue::N(n) => n.parse().ok().map(Attr::N),
            _ => None,
        }
    }

    /// The item of an entry, written to one of `shards`.
    pub fn to_item(e: &Entry, shards: FeedShards) -> HashMap<String, AttributeValue> {
        e.to_item(shards)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), to_attribute(v)))
            .collect()
    }

    /// The entry of an item.
    pub fn from_item(item: &HashMap<String, AttributeValue>) -> Result<Entry, ItemError> {
        Entry::from_item(|k| item.get(k).and_then(from_attribute))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn entries_round_trip_through_sdk_items() {
            let e = Entry::subject("alice".into(), 7, 7_000, 60);
            let item = to_item(&e, FeedShards::DEFAULT);
            assert_eq!(item.get("before"), Some(&AttributeValue::N("7".into())));
            assert_eq!(from_item(&item).unwrap(), e);
            let mut bad = item;
            bad.insert("at".into(), AttributeValue::Bool(true));
            assert!(from_item(&bad).is_err());
        }
    }
}

/// The revocations in force, in memory: sessions by a 64-bit hash of their id, subjects by
/// name, each with when it stops mattering.
///
/// A session is kept as a hash, not its id: no allocation per revocation (a set of 100,000
/// holds ~30 bytes each instead of ~54). Two ids with the same hash would make a session that
/// was not revoked refused (`revoked`): the safe direction, and with ids of 128 random bits the
/// chance among 100,000 revocations is about one in 10^14 per lookup.
#[derive(Debug, Default, Clone)]
pub struct RevocationSet {
    sessions: HashMap<u64, u64>,
    /// `sub` → (`before`, `expires_at`).
    subjects: HashMap<Box<str>, (u64, u64)>,
}

/// The key of a session id in the set: SipHash of the id with fixed keys (the standard
/// library's hasher; in memory only, never stored or sent, so it may change between versions).
fn session_key(sid: &str) -> u64 {
    use std::hash::{Hash as _, Hasher as _};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    sid.hash(&mut h);
    h.finish()
}

impl RevocationSet {
    /// Adds an entry (again: adding is idempotent, and a subject keeps its latest `before`).
    pub fn insert(&mut self, entry: Entry, now: u64) {
        if entry.expires_at <= now {
            return;
        }
        match entry.revocation {
            Revocation::Session { sid } => {
                let e = self.sessions.entry(session_key(&sid)).or_insert(0);
                *e = (*e).max(entry.expires_at);
            }
            Revocation::Subject { sub, before } => {
                let e = self
                    .subjects
                    .entry(sub.into_boxed_str())
                    .or_insert((before, entry.expires_at));
                *e = (e.0.max(before), e.1.max(entry.expires_at));
            }
        }
    }

    /// Drops what covers nothing any more.
    pub fn prune(&mut self, now: u64) {
        self.sessions.retain(|_, expires| *expires > now);
        self.subjects.retain(|_, (_, expires)| *expires > now);
    }

    /// Whether a token of `sub`, in session `sid`, of a session that began at `began`, is
    /// revoked. `began` is the token's `auth_time` (kept across renewals, so a renewal that
    /// races "log out everywhere" is still covered), or its `iat` when it has none (a token no
    /// signer renewed); a token of a revoked subject with neither cannot show its session
    /// began after: it is revoked.
    pub fn is_revoked(&self, sub: &str, sid: Option<&str>, began: Option<u64>, now: u64) -> bool {
        let session = sid
            .and_then(|s| self.sessions.get(&session_key(s)))
            .is_some_and(|expires| *expires > now);
        let subject = self
            .subjects
            .get(sub)
            .is_some_and(|(before, expires)| *expires > now && began.is_none_or(|b| b <= *before));
        session || subject
    }

    /// How many sessions and subjects are revoked.
    pub fn len(&self) -> usize {
        self.sessions.len() + self.subjects.len()
    }

    /// Whether nothing is revoked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item_map(e: &Entry) -> HashMap<&'static str, Attr> {
        e.to_item(FeedShards::DEFAULT).into_iter().collect()
    }

    #[test]
    fn entries_round_trip_through_their_items() {
        for e in [
            Entry::session("s1".into(), 1_800_000_000_123, 900, 0),
            Entry::subject("alice".into(), 1_800_000_000, 1_800_000_000_123, 43_200),
        ] {
            let map = item_map(&e);
            let back = Entry::from_item(|k| map.get(k).cloned()).unwrap();
            assert_eq!(back, e);
        }
    }

    #[test]
    fn a_session_revocation_lives_one_token_lifetime_and_a_subject_one_session_maximum() {
        let now_ms = 1_800_000_000_123;
        let s = Entry::session("s1".into(), now_ms, 900, 0);
        assert_eq!(s.expires_at, 1_800_000_000 + 900 + EXPIRY_MARGIN_SECONDS);
        // A token that outlives the current lifetime (issued before it was lowered) is covered
        // until its own exp.
        let late = Entry::session("s1".into(), now_ms, 900, 1_800_005_000);
        assert_eq!(late.expires_at, 1_800_005_000 + EXPIRY_MARGIN_SECONDS);
        let u = Entry::subject("alice".into(), 1_800_000_000, now_ms, 43_200);
        assert_eq!(u.expires_at, 1_800_000_000 + 43_200 + EXPIRY_MARGIN_SECONDS);
    }

    #[test]
    fn items_spread_over_the_shards_by_a_stable_hash_and_shard_zero_keeps_the_old_feed_value() {
        assert_eq!(FeedShards::value(0), "revocations");
        assert_eq!(FeedShards::value(5), "revocations#5");
        assert_eq!(FeedShards::new(0), None);
        assert_eq!(FeedShards::new(FeedShards::MAX + 1), None);
        let one = FeedShards::new(1).unwrap();
        assert_eq!(one.of("sid#anything"), 0, "one shard: the old single feed");
        // Pinned: a reader and a writer of different versions must agree.
        let eight = FeedShards::DEFAULT;
        assert_eq!(eight.of(""), (0xcbf2_9ce4_8422_2325u64 % 8) as u16);
        assert_eq!(eight.of("sid#a"), eight.of("sid#a"));
        let mut counts = [0usize; 8];
        for i in 0..8_000 {
            counts[usize::from(eight.of(&format!("sid#{i:0>22}")))] += 1;
        }
        assert!(
            counts.iter().all(|c| (800..1_200).contains(c)),
            "{counts:?}"
        );
        let e = Entry::session("s1".into(), 0, 60, 0);
        let map = item_map(&e);
        assert_eq!(
            map.get(table::FEED),
            Some(&Attr::S(FeedShards::value(eight.of("sid#s1"))))
        );
    }

    #[test]
    fn items_with_a_missing_or_wrong_attribute_or_an_unknown_kind_are_refused() {
        let e = Entry::subject("a".into(), 5, 5_000, 10);
        for (name, bad, why) in [
            (
                table::KIND,
                Some(Attr::S("device".into())),
                ItemError::UnknownKind,
            ),
            (
                table::VALUE,
                Some(Attr::S(String::new())),
                ItemError::Attribute(table::VALUE),
            ),
            (
                table::VALUE,
                Some(Attr::S("x".repeat(MAX_VALUE_BYTES + 1))),
                ItemError::Attribute(table::VALUE),
            ),
            (table::BEFORE, None, ItemError::Attribute(table::BEFORE)),
            (
                table::AT,
                Some(Attr::S("now".into())),
                ItemError::Attribute(table::AT),
            ),
            (
                table::EXPIRES_AT,
                None,
                ItemError::Attribute(table::EXPIRES_AT),
            ),
        ] {
            let mut map = item_map(&e);
            match bad {
                Some(v) => map.insert(name, v),
                None => map.remove(name),
            };
            assert_eq!(
                Entry::from_item(|k| map.get(k).cloned()),
                Err(why),
                "{name}"
            );
        }
    }

    #[test]
    fn a_revoked_session_is_refused_and_other_sessions_are_not() {
        let mut set = RevocationSet::default();
        set.insert(Entry::session("s1".into(), 100_000, 50, 0), 100);
        assert!(set.is_revoked("alice", Some("s1"), Some(90), 101));
        assert!(!set.is_revoked("alice", Some("s2"), Some(90), 101));
        assert!(!set.is_revoked("alice", None, Some(90), 101));
    }

    #[test]
    fn a_revoked_subject_covers_sessions_begun_up_to_its_second_and_none_after() {
        let mut set = RevocationSet::default();
        let sub = |before| Entry::subject("alice".into(), before, before * 1000, 50);
        set.insert(sub(100), 100);
        assert!(set.is_revoked("alice", Some("s"), Some(99), 101));
        assert!(set.is_revoked("alice", Some("s"), Some(100), 101));
        assert!(
            set.is_revoked("alice", Some("s"), None, 101),
            "no auth_time"
        );
        assert!(!set.is_revoked("alice", Some("s"), Some(101), 101));
        assert!(!set.is_revoked("bob", Some("s"), Some(99), 101));
        // An older entry read again (the feed overlaps) never moves `before` back.
        set.insert(sub(200), 200);
        set.insert(sub(100), 200);
        assert!(set.is_revoked("alice", None, Some(150), 201));
    }

    #[test]
    fn entries_stop_mattering_after_their_expiry_and_are_pruned() {
        let mut set = RevocationSet::default();
        let e = Entry::session("s".into(), 0, 10, 0);
        let end = e.expires_at;
        set.insert(e.clone(), 0);
        assert!(set.is_revoked("a", Some("s"), None, end - 1));
        assert!(!set.is_revoked("a", Some("s"), None, end));
        set.prune(end);
        assert!(set.is_empty());
        set.insert(e, end);
        assert!(set.is_empty(), "an expired entry is not added");
    }
}
