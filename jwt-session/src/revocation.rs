//! Revoked sessions and subjects (contract §7), typed once for the session authority that
//! writes them and the authorizer that reads them: the table's items and the set the
//! authorizer keeps in memory.
//!
//! # The table
//!
//! One item per revoked session (`id` = `sid#<sid>`) and per revoked subject (`id` =
//! `sub#<sub>`, overwritten by a later "log out everywhere", whose `before` is later). Every
//! item also carries `feed` (always [`table::FEED_VALUE`]) and `at` (milliseconds since the
//! epoch when it was written): the global secondary index [`table::FEED_INDEX`] (`feed`,
//! `at`) lets a reader ask for "everything written since" with one `Query`, never a `Scan`.
//! `expires_at` is the table's TTL attribute: an item may go once no token it covers can
//! still be accepted (the session maximum after the revocation, plus a margin for clock
//! leeway); readers ignore expired items whether DynamoDB has deleted them yet or not.

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
    /// The global secondary index (`feed`, `at`), all attributes projected.
    pub const FEED_INDEX: &str = "feed-at";
    /// The one value of `feed`.
    pub const FEED_VALUE: &str = "revocations";
}

/// Seconds an item outlives the session maximum: more than any clock leeway the authorizer
/// accepts (`JWT_LEEWAY_SECONDS` is at most 300).
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
    /// Every token of a subject issued at or before `before` ("log out everywhere").
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

/// Why an item is not a revocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a revocation item: attribute `{0}` missing or invalid")]
pub struct ItemError(pub &'static str);

impl Entry {
    /// A revocation written at `now_ms` that matters for `session_max` seconds.
    pub fn new(revocation: Revocation, now_ms: u64, session_max: u64) -> Entry {
        Entry {
            revocation,
            at_ms: now_ms,
            expires_at: (now_ms / 1000)
                .saturating_add(session_max)
                .saturating_add(EXPIRY_MARGIN_SECONDS),
        }
    }

    /// The item's attributes.
    pub fn to_item(&self) -> Vec<(&'static str, Attr)> {
        let (kind, value) = match &self.revocation {
            Revocation::Session { sid } => ("session", sid),
            Revocation::Subject { sub, .. } => ("subject", sub),
        };
        let mut item = vec![
            (table::ID, Attr::S(self.revocation.id())),
            (table::FEED, Attr::S(table::FEED_VALUE.to_owned())),
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
            _ => Err(ItemError(name)),
        };
        let number = |name: &'static str| match get(name) {
            Some(Attr::N(n)) => Ok(n),
            _ => Err(ItemError(name)),
        };
        let value = string(table::VALUE)?;
        let revocation = match string(table::KIND)?.as_str() {
            "session" => Revocation::Session { sid: value },
            "subject" => Revocation::Subject {
                sub: value,
                before: number(table::BEFORE)?,
            },
            _ => return Err(ItemError(table::KIND)),
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

    use super::{Attr, Entry, ItemError};

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

    /// The item of an entry.
    pub fn to_item(e: &Entry) -> HashMap<String, AttributeValue> {
        e.to_item()
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
        use crate::revocation::Revocation;

        #[test]
        fn entries_round_trip_through_sdk_items() {
            let e = Entry::new(
                Revocation::Subject {
                    sub: "alice".into(),
                    before: 7,
                },
                7_000,
                60,
            );
            let item = to_item(&e);
            assert_eq!(item.get("before"), Some(&AttributeValue::N("7".into())));
            assert_eq!(from_item(&item).unwrap(), e);
            let mut bad = item;
            bad.insert("at".into(), AttributeValue::Bool(true));
            assert!(from_item(&bad).is_err());
        }
    }
}

/// The revocations in force, in memory: sessions by id, subjects by name, each with when it
/// stops mattering.
#[derive(Debug, Default, Clone)]
pub struct RevocationSet {
    sessions: HashMap<Box<str>, u64>,
    /// `sub` → (`before`, `expires_at`).
    subjects: HashMap<Box<str>, (u64, u64)>,
}

impl RevocationSet {
    /// Adds an entry (again: adding is idempotent, and a subject keeps its latest `before`).
    pub fn insert(&mut self, entry: Entry, now: u64) {
        if entry.expires_at <= now {
            return;
        }
        match entry.revocation {
            Revocation::Session { sid } => {
                let e = self.sessions.entry(sid.into_boxed_str()).or_insert(0);
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

    /// Whether a token of `sub`, in session `sid`, issued at `iat`, is revoked. A token of a
    /// revoked subject without `iat` cannot show it was issued after: it is revoked.
    pub fn is_revoked(&self, sub: &str, sid: Option<&str>, iat: Option<u64>, now: u64) -> bool {
        let session = sid
            .and_then(|s| self.sessions.get(s))
            .is_some_and(|expires| *expires > now);
        let subject = self
            .subjects
            .get(sub)
            .is_some_and(|(before, expires)| *expires > now && iat.is_none_or(|i| i <= *before));
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
        e.to_item().into_iter().collect()
    }

    #[test]
    fn entries_round_trip_through_their_items() {
        for revocation in [
            Revocation::Session { sid: "s1".into() },
            Revocation::Subject {
                sub: "alice".into(),
                before: 1_800_000_000,
            },
        ] {
            let e = Entry::new(revocation, 1_800_000_000_123, 43_200);
            assert_eq!(e.expires_at, 1_800_000_000 + 43_200 + EXPIRY_MARGIN_SECONDS);
            let map = item_map(&e);
            assert_eq!(map.get(table::FEED), Some(&Attr::S("revocations".into())));
            let back = Entry::from_item(|k| map.get(k).cloned()).unwrap();
            assert_eq!(back, e);
        }
    }

    #[test]
    fn items_with_a_missing_or_wrong_attribute_are_refused() {
        let e = Entry::new(
            Revocation::Subject {
                sub: "a".into(),
                before: 5,
            },
            5_000,
            10,
        );
        for (name, bad) in [
            (table::KIND, Some(Attr::S("user".into()))),
            (table::VALUE, Some(Attr::S(String::new()))),
            (table::VALUE, Some(Attr::S("x".repeat(MAX_VALUE_BYTES + 1)))),
            (table::BEFORE, None),
            (table::AT, Some(Attr::S("now".into()))),
            (table::EXPIRES_AT, None),
        ] {
            let mut map = item_map(&e);
            match bad {
                Some(v) => map.insert(name, v),
                None => map.remove(name),
            };
            assert!(Entry::from_item(|k| map.get(k).cloned()).is_err(), "{name}");
        }
    }

    #[test]
    fn a_revoked_session_is_refused_and_other_sessions_are_not() {
        let mut set = RevocationSet::default();
        set.insert(
            Entry::new(Revocation::Session { sid: "s1".into() }, 100_000, 50),
            100,
        );
        assert!(set.is_revoked("alice", Some("s1"), Some(90), 101));
        assert!(!set.is_revoked("alice", Some("s2"), Some(90), 101));
        assert!(!set.is_revoked("alice", None, Some(90), 101));
    }

    #[test]
    fn a_revoked_subject_covers_tokens_issued_up_to_its_second_and_none_after() {
        let mut set = RevocationSet::default();
        let sub = |before| Revocation::Subject {
            sub: "alice".into(),
            before,
        };
        set.insert(Entry::new(sub(100), 100_000, 50), 100);
        assert!(set.is_revoked("alice", Some("s"), Some(99), 101));
        assert!(set.is_revoked("alice", Some("s"), Some(100), 101));
        assert!(set.is_revoked("alice", Some("s"), None, 101), "no iat");
        assert!(!set.is_revoked("alice", Some("s"), Some(101), 101));
        assert!(!set.is_revoked("bob", Some("s"), Some(99), 101));
        // An older entry read again (the feed overlaps) never moves `before` back.
        set.insert(Entry::new(sub(200), 200_000, 50), 200);
        set.insert(Entry::new(sub(100), 100_000, 50), 200);
        assert!(set.is_revoked("alice", None, Some(150), 201));
    }

    #[test]
    fn entries_stop_mattering_after_their_expiry_and_are_pruned() {
        let mut set = RevocationSet::default();
        let e = Entry::new(Revocation::Session { sid: "s".into() }, 0, 10);
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
