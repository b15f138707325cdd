//! Strict JSON for token headers and claim sets: one object, no duplicate member name at any
//! depth (whichever value a parser would keep, a duplicate is refused), bounded nesting, no
//! trailing bytes.
//!
//! Parsers disagree on duplicates (first wins, last wins, error), which is how a token that
//! one component reads as `{"sub":"alice"}` is read as `{"sub":"admin"}` by another; refusing
//! them removes the ambiguity.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Deepest nesting accepted (the object itself is depth 1).
pub const MAX_DEPTH: usize = 10;

/// Why a document was refused. Carries no part of the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    /// Not JSON, trailing bytes, not an object, a duplicate member or too deep.
    #[error("not a strict JSON object")]
    Refused,
}

/// A member name or string, borrowed from the document when it has no escapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key<'de>(pub Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// The value of a member the caller asked for, in the only shapes the checks accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Member<'a> {
    /// A string.
    Str(Cow<'a, str>),
    /// A non-negative integer that fits in 64 bits.
    UInt(u64),
    /// An array whose elements are all strings.
    Strs(Vec<Cow<'a, str>>),
    /// Anything else (another number, `true`, `null`, an object, a mixed array).
    Other,
}

impl<'a> Member<'a> {
    /// The string, if it is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Member::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Checks a value strictly and keeps nothing of it.
struct Skip {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(de::Error::custom("too deep"));
        }
        while seq
            .next_element_seed(Skip {
                depth: self.depth + 1,
            })?
            .is_some()
        {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(de::Error::custom("too deep"));
        }
        let mut seen: Vec<Key<'de>> = Vec::new();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            if seen.contains(&key) {
                return Err(de::Error::custom("duplicate member"));
            }
            map.next_value_seed(Skip {
                depth: self.depth + 1,
            })?;
            seen.push(key);
        }
        Ok(())
    }
}

/// Reads a wanted member's value (depth 1, the object being 0) into a [`Member`], checking it strictly.
struct Want;

impl<'de> DeserializeSeed<'de> for Want {
    type Value = Member<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Member<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

/// An array element: its string, or `None` after checking any other value.
struct Element;

impl<'de> DeserializeSeed<'de> for Element {
    type Value = Option<Cow<'de, str>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Element {
    type Value = Option<Cow<'de, str>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_owned())))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Skip { depth: 2 }.visit_seq(seq).map(|()| None)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Skip { depth: 2 }.visit_map(map).map(|()| None)
    }
}

impl<'de> Visitor<'de> for Want {
    type Value = Member<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Member<'de>, E> {
        Ok(Member::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Member<'de>, E> {
        Ok(Member::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Member<'de>, E> {
        Ok(Member::UInt(v))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Member<'de>, E> {
        Ok(Member::Other)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Member<'de>, E> {
        Ok(Member::Other)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Member<'de>, E> {
        Ok(Member::Other)
    }
    fn visit_unit<E>(self) -> Result<Member<'de>, E> {
        Ok(Member::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Member<'de>, A::Error> {
        let mut strings = Vec::new();
        let mut all_strings = true;
        while let Some(element) = seq.next_element_seed(Element)? {
            match element {
                Some(s) if all_strings => strings.push(s),
                Some(_) => {}
                None => {
                    all_strings = false;
                    strings.clear();
                }
            }
        }
        Ok(if all_strings {
            Member::Strs(strings)
        } else {
            Member::Other
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Member<'de>, A::Error> {
        Skip { depth: 1 }.visit_map(map).map(|()| Member::Other)
    }
}

/// The members a caller asked for, by position in its list of names.
struct Object<'n, 'de, const N: usize> {
    names: &'n [&'n str; N],
    found: [Option<Member<'de>>; N],
    /// Refuse a member that is not in `names`.
    only: bool,
}

impl<'de, const N: usize> Visitor<'de> for Object<'_, 'de, N> {
    type Value = [Option<Member<'de>>; N];
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seen: Vec<Key<'de>> = Vec::new();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            if seen.contains(&key) {
                return Err(de::Error::custom("duplicate member"));
            }
            let slot = self
                .names
                .iter()
                .position(|n| *n == key.0)
                .and_then(|i| self.found.get_mut(i));
            match slot {
                Some(slot) => *slot = Some(map.next_value_seed(Want)?),
                None if self.only => return Err(de::Error::custom("unexpected member")),
                None => map.next_value_seed(Skip { depth: 1 })?,
            }
            seen.push(key);
        }
        Ok(self.found)
    }
}

/// Parses `bytes` as one strict JSON object and returns the members named in `names` (by
/// position), with strings borrowed from `bytes` where possible. Every other member is
/// checked as strictly and dropped.
pub fn members<'de, const N: usize>(
    bytes: &'de [u8],
    names: &[&str; N],
) -> Result<[Option<Member<'de>>; N], JsonError> {
    read(bytes, names, false)
}

/// As [`members`], but an object with any member not in `names` is refused.
pub fn only_members<'de, const N: usize>(
    bytes: &'de [u8],
    names: &[&str; N],
) -> Result<[Option<Member<'de>>; N], JsonError> {
    read(bytes, names, true)
}

fn read<'de, const N: usize>(
    bytes: &'de [u8],
    names: &[&str; N],
    only: bool,
) -> Result<[Option<Member<'de>>; N], JsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let found = de
        .deserialize_map(Object {
            names,
            found: std::array::from_fn(|_| None),
            only,
        })
        .map_err(|_| JsonError::Refused)?;
    de.end().map_err(|_| JsonError::Refused)?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(doc: &[u8]) -> Result<(), JsonError> {
        members(doc, &[]).map(|_| ())
    }

    #[test]
    fn only_members_refuses_any_other_member() {
        assert!(only_members(br#"{"a":1,"b":"x"}"#, &["a", "b", "c"]).is_ok());
        assert_eq!(
            only_members(br#"{"a":1,"x5t":"x"}"#, &["a", "b"]),
            Err(JsonError::Refused)
        );
        assert!(members(br#"{"a":1,"x5t":"x"}"#, &["a", "b"]).is_ok());
    }

    #[test]
    fn wanted_members_come_back_in_their_shapes() {
        let [a, b, c, d, e, f, g, h] = members(
            br#"{"a":1,"b":[1,{"c":"d"}],"c":"s","d":["x","y"],"e":-1,"f":1.5,"z":null,"g":{"k":1}}"#,
            &["a", "b", "c", "d", "e", "f", "g", "h"],
        )
        .unwrap();
        assert_eq!(a, Some(Member::UInt(1)));
        assert_eq!(b, Some(Member::Other), "a mixed array");
        assert_eq!(c, Some(Member::Str("s".into())));
        assert_eq!(d, Some(Member::Strs(vec!["x".into(), "y".into()])));
        assert_eq!(e, Some(Member::Other), "negative");
        assert_eq!(f, Some(Member::Other), "not an integer");
        assert_eq!(g, Some(Member::Other));
        assert_eq!(h, None);
    }

    #[test]
    fn duplicate_members_are_refused_at_any_depth_and_after_unescaping() {
        for doc in [
            r#"{"sub":"alice","sub":"admin"}"#,
            r#"{"sub":"alice","\u0073ub":"admin"}"#,
            r#"{"x":{"a":1,"a":1}}"#,
            r#"{"x":[{"a":1,"a":2}]}"#,
            r#"{"aud":[{"a":1,"a":2}]}"#,
            r#"{"sub":{"a":1,"a":2}}"#,
        ] {
            assert_eq!(check(doc.as_bytes()), Err(JsonError::Refused), "{doc}");
            assert_eq!(
                members(doc.as_bytes(), &["sub", "aud", "x"]).map(|_| ()),
                Err(JsonError::Refused),
                "{doc}"
            );
        }
    }

    #[test]
    fn non_objects_trailing_bytes_bom_and_bad_utf8_are_refused() {
        for doc in [
            &b"[]"[..],
            b"\"s\"",
            b"1",
            b"null",
            b"{} x",
            b"{}{}",
            b"\xEF\xBB\xBF{}",
            b"{\"a\":\"\xff\"}",
            b"",
            b"{",
        ] {
            assert_eq!(check(doc), Err(JsonError::Refused), "{doc:?}");
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let ok = format!(
            "{}{}",
            "{\"a\":".repeat(MAX_DEPTH - 1) + "{}",
            "}".repeat(MAX_DEPTH - 1)
        );
        assert!(check(ok.as_bytes()).is_ok());
        assert!(members(ok.as_bytes(), &["a"]).is_ok());
        let deep = format!(
            "{}{}",
            "{\"a\":".repeat(MAX_DEPTH) + "{}",
            "}".repeat(MAX_DEPTH)
        );
        assert_eq!(check(deep.as_bytes()), Err(JsonError::Refused));
        assert_eq!(
            members(deep.as_bytes(), &["a"]).map(|_| ()),
            Err(JsonError::Refused)
        );
        for name in ["a", "b"] {
            let arrays = format!("{{\"a\":{}{}}}", "[".repeat(5000), "]".repeat(5000));
            assert_eq!(
                members(arrays.as_bytes(), &[name]).map(|_| ()),
                Err(JsonError::Refused)
            );
        }
    }

    #[test]
    fn whitespace_and_escapes_of_valid_json_are_accepted() {
        let [aud] = members(b"{\r\n \"aud\" :\t\"\\u0061pi\"\r\n}", &["aud"]).unwrap();
        assert_eq!(aud, Some(Member::Str("api".into())));
    }
}
