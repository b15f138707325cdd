//! Strict JSON for token headers and claim sets: one object, no duplicate member name at any
//! depth (whichever value a parser would keep, a duplicate is refused), bounded nesting, no
//! trailing bytes.
//!
//! Parsers disagree on duplicates (first wins, last wins, error), which is how a token that
//! one component reads as `{"sub":"alice"}` is read as `{"sub":"admin"}` by another; refusing
//! them removes the ambiguity.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Deepest nesting accepted (the object itself is depth 1).
pub const MAX_DEPTH: usize = 10;

/// Why a document was refused. Carries no part of the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    /// Not JSON, trailing bytes, not an object, a duplicate member or too deep.
    #[error("not a strict JSON object")]
    Refused,
}

struct Strict {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(de::Error::custom("too deep"));
        }
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Strict {
            depth: self.depth + 1,
        })? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(de::Error::custom("too deep"));
        }
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom("duplicate member"));
            }
            let value = map.next_value_seed(Strict {
                depth: self.depth + 1,
            })?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

/// Parses `bytes` as one strict JSON object.
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, JsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Strict { depth: 0 }
        .deserialize(&mut de)
        .map_err(|_| JsonError::Refused)?;
    de.end().map_err(|_| JsonError::Refused)?;
    match value {
        Value::Object(m) => Ok(m),
        _ => Err(JsonError::Refused),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_objects_parse() {
        let m = parse_object(br#"{"a":1,"b":[1,{"c":"d"}],"e":null,"f":1.5}"#).unwrap();
        assert_eq!(m["b"][1]["c"], "d");
    }

    #[test]
    fn duplicate_members_are_refused_at_any_depth_and_after_unescaping() {
        for doc in [
            r#"{"sub":"alice","sub":"admin"}"#,
            r#"{"sub":"alice","\u0073ub":"admin"}"#,
            r#"{"x":{"a":1,"a":1}}"#,
            r#"{"x":[{"a":1,"a":2}]}"#,
        ] {
            assert_eq!(
                parse_object(doc.as_bytes()),
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
            assert_eq!(parse_object(doc), Err(JsonError::Refused), "{doc:?}");
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let ok = format!(
            "{}{}",
            "{\"a\":".repeat(MAX_DEPTH - 1) + "{}",
            "}".repeat(MAX_DEPTH - 1)
        );
        assert!(parse_object(ok.as_bytes()).is_ok());
        let deep = format!(
            "{}{}",
            "{\"a\":".repeat(MAX_DEPTH) + "{}",
            "}".repeat(MAX_DEPTH)
        );
        assert_eq!(parse_object(deep.as_bytes()), Err(JsonError::Refused));
        let arrays = format!("{{\"a\":{}{}}}", "[".repeat(5000), "]".repeat(5000));
        assert_eq!(parse_object(arrays.as_bytes()), Err(JsonError::Refused));
    }

    #[test]
    fn whitespace_and_escapes_of_valid_json_are_accepted() {
        let m = parse_object(b"{\r\n \"aud\" :\t\"\\u0061pi\"\r\n}").unwrap();
        assert_eq!(m["aud"], "api");
    }
}
