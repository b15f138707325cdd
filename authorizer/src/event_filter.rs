//! Reading an event with the `aws_lambda_events` types while skipping what no check reads.
//!
//! A REST event carries every header twice (`headers` and `multiValueHeaders`) plus query
//! string, path and stage maps; turning all of them into `HeaderMap`s and `HashMap`s was most
//! of the cost of a decision after the signature. The types stay the ones `aws_lambda_events`
//! defines and deserialize as they always do; this adapter only hides, while the JSON is read,
//! the top-level members no check uses and, inside the header maps, the headers no check
//! reads. Skipped values are still parsed as JSON (an event that is not JSON is refused).
//!
//! One member is also normalized: `"cookies": null` reads as an absent `cookies` member (API
//! Gateway leaves the member out when a request has no cookies; third-party emulators send
//! `null`, which the `aws_lambda_events` type refuses). A second `cookies` member, null or not,
//! is still a duplicate.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::CowStrDeserializer;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use jwt_session::strict::json::Key;

/// Which headers are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderFilter {
    /// Every header (tests, tools).
    All,
    /// Only these names (lower case), compared without regard to case.
    Only(Vec<String>),
}

impl HeaderFilter {
    /// Whether `name` is kept.
    pub fn keeps(&self, name: &str) -> bool {
        match self {
            HeaderFilter::All => true,
            HeaderFilter::Only(names) => names.iter().any(|n| n.eq_ignore_ascii_case(name)),
        }
    }
}

/// The top-level member whose `null` reads as its absence.
const COOKIES_MEMBER: &str = "cookies";

/// Top-level members read as header maps.
const HEADER_MEMBERS: [&str; 2] = ["headers", "multiValueHeaders"];
/// Top-level members no check reads.
const SKIPPED_MEMBERS: [&str; 7] = [
    "path",
    "queryStringParameters",
    "multiValueQueryStringParameters",
    "pathParameters",
    "stageVariables",
    "rawQueryString",
    "identitySource",
];

/// Deserializes `T` from `de` with the skipping described in the module documentation.
pub fn deserialize<'de, T, D>(de: D, headers: &HeaderFilter) -> Result<T, D::Error>
where
    T: serde::Deserialize<'de>,
    D: Deserializer<'de>,
{
    T::deserialize(Top {
        de,
        opts: Opts {
            headers,
            version: None,
        },
    })
}

/// What a top-level `version` member said, for a type that has no such field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Version {
    /// No `version` member.
    #[default]
    Absent,
    /// `"2.0"`.
    V2,
    /// Another string.
    Other,
}

/// Like [`deserialize`], for a type without a `version` field: the top-level `version` member
/// is read here (a string, at most once, or the whole read fails) and reported with the value.
pub fn deserialize_noting_version<'de, T, D>(
    de: D,
    headers: &HeaderFilter,
) -> Result<(T, Version), D::Error>
where
    T: serde::Deserialize<'de>,
    D: Deserializer<'de>,
{
    let version = std::cell::Cell::new(None);
    let value = T::deserialize(Top {
        de,
        opts: Opts {
            headers,
            version: Some(&version),
        },
    })?;
    Ok((value, version.get().unwrap_or_default()))
}

/// What the adapter was asked to do.
#[derive(Clone, Copy)]
struct Opts<'f> {
    headers: &'f HeaderFilter,
    /// Where to note a top-level `version` (which is then not passed on), if anywhere.
    version: Option<&'f std::cell::Cell<Option<Version>>>,
}

/// The event object.
struct Top<'f, D> {
    de: D,
    opts: Opts<'f>,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Top<'_, D> {
    type Error = D::Error;
    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        self.de.deserialize_map(TopVisitor {
            inner: v,
            opts: self.opts,
        })
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

struct TopVisitor<'f, V> {
    inner: V,
    opts: Opts<'f>,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for TopVisitor<'_, V> {
    type Value = V::Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(TopMap {
            map,
            opts: self.opts,
            header_value: false,
            cookies_seen: false,
            cookies: None,
        })
    }
}

struct TopMap<'f, A> {
    map: A,
    opts: Opts<'f>,
    header_value: bool,
    /// Whether a `cookies` member was met (null or not).
    cookies_seen: bool,
    /// A non-null `cookies` value, read ahead to tell it from `null`, for `next_value_seed`.
    cookies: Option<Cookies>,
}

/// A `cookies` member's value, read ahead.
enum Cookies {
    /// An array of strings.
    List(Vec<String>),
    /// Anything else but `null`: handed on as a unit value, which a field that wants an array
    /// refuses (the event is malformed) and an ignored member accepts.
    Other,
}

/// Reads a `cookies` value: `None` for `null`.
struct CookiesSeed;

impl<'de> DeserializeSeed<'de> for CookiesSeed {
    type Value = Option<Cookies>;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Option<Cookies>, D::Error> {
        de.deserialize_any(CookiesVisitor)
    }
}

struct CookiesVisitor;

impl<'de> Visitor<'de> for CookiesVisitor {
    type Value = Option<Cookies>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a cookies member")
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<S: serde::de::SeqAccess<'de>>(self, mut seq: S) -> Result<Self::Value, S::Error> {
        let mut list = Vec::new();
        let mut strings = true;
        while let Some(v) = seq.next_element::<StringOrOther>()? {
            match v {
                StringOrOther::String(s) if strings => list.push(s),
                _ => strings = false,
            }
        }
        Ok(Some(if strings {
            Cookies::List(list)
        } else {
            Cookies::Other
        }))
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Some(Cookies::Other))
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Some(Cookies::Other))
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Some(Cookies::Other))
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Some(Cookies::Other))
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Some(Cookies::Other))
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Some(Cookies::Other))
    }
}

/// One element of a `cookies` array: a string, or anything else (skipped).
enum StringOrOther {
    String(String),
    Other,
}

impl<'de> serde::Deserialize<'de> for StringOrOther {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StringOrOther;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<StringOrOther, E> {
                Ok(StringOrOther::String(s.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, s: String) -> Result<StringOrOther, E> {
                Ok(StringOrOther::String(s))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<StringOrOther, E> {
                Ok(StringOrOther::Other)
            }
            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<StringOrOther, E> {
                Ok(StringOrOther::Other)
            }
            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<StringOrOther, E> {
                Ok(StringOrOther::Other)
            }
            fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<StringOrOther, E> {
                Ok(StringOrOther::Other)
            }
            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<StringOrOther, E> {
                Ok(StringOrOther::Other)
            }
            fn visit_seq<S: serde::de::SeqAccess<'de>>(
                self,
                mut seq: S,
            ) -> Result<StringOrOther, S::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(StringOrOther::Other)
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<StringOrOther, M::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(StringOrOther::Other)
            }
        }
        de.deserialize_any(V)
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for TopMap<'_, A> {
    type Error = A::Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        loop {
            let Some(Key(key)) = self.map.next_key::<Key<'de>>()? else {
                return Ok(None);
            };
            if SKIPPED_MEMBERS.contains(&key.as_ref()) {
                self.map.next_value::<IgnoredAny>()?;
                continue;
            }
            if let (Some(seen), "version") = (self.opts.version, key.as_ref()) {
                let Key(value) = self.map.next_value::<Key<'de>>()?;
                if seen.get().is_some() {
                    return Err(serde::de::Error::custom("duplicate field `version`"));
                }
                seen.set(Some(if value == "2.0" {
                    Version::V2
                } else {
                    Version::Other
                }));
                continue;
            }
            if key == COOKIES_MEMBER {
                if self.cookies_seen {
                    return Err(serde::de::Error::custom("duplicate field `cookies`"));
                }
                self.cookies_seen = true;
                match self.map.next_value_seed(CookiesSeed)? {
                    // `null`: as if the member were absent.
                    None => continue,
                    Some(value) => self.cookies = Some(value),
                }
            }
            self.header_value = HEADER_MEMBERS.contains(&key.as_ref());
            return seed.deserialize(CowStrDeserializer::new(key)).map(Some);
        }
    }
    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        if let Some(cookies) = self.cookies.take() {
            return match cookies {
                Cookies::List(list) => seed
                    .deserialize(serde::de::value::SeqDeserializer::<_, A::Error>::new(
                        list.into_iter(),
                    )),
                Cookies::Other => {
                    seed.deserialize(serde::de::value::UnitDeserializer::<A::Error>::new())
                }
            };
        }
        if self.header_value {
            self.map.next_value_seed(HeaderSeed {
                inner: seed,
                headers: self.opts.headers,
            })
        } else {
            self.map.next_value_seed(seed)
        }
    }
}

struct HeaderSeed<'f, S> {
    inner: S,
    headers: &'f HeaderFilter,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for HeaderSeed<'_, S> {
    type Value = S::Value;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<S::Value, D::Error> {
        self.inner.deserialize(HeaderDe {
            de,
            headers: self.headers,
        })
    }
}

/// A header map value (`null`, or an object of names to a string or strings).
struct HeaderDe<'f, D> {
    de: D,
    headers: &'f HeaderFilter,
}

impl<'f, D> HeaderDe<'f, D> {
    fn wrap<V>(&self, inner: V) -> HeaderVisitor<'f, V> {
        HeaderVisitor {
            inner,
            headers: self.headers,
        }
    }
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for HeaderDe<'_, D> {
    type Error = D::Error;
    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        let v = self.wrap(v);
        self.de.deserialize_any(v)
    }
    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        let v = self.wrap(v);
        self.de.deserialize_option(v)
    }
    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        let v = self.wrap(v);
        self.de.deserialize_map(v)
    }
    fn is_human_readable(&self) -> bool {
        self.de.is_human_readable()
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct struct enum identifier
        ignored_any
    }
}

struct HeaderVisitor<'f, V> {
    inner: V,
    headers: &'f HeaderFilter,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for HeaderVisitor<'_, V> {
    type Value = V::Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_unit()
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_none()
    }
    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<V::Value, D::Error> {
        self.inner.visit_some(HeaderDe {
            de,
            headers: self.headers,
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(HeaderMapAccess {
            map,
            headers: self.headers,
            _p: PhantomData,
        })
    }
}

/// The members of a header map, without the headers the filter drops.
struct HeaderMapAccess<'f, 'de, A> {
    map: A,
    headers: &'f HeaderFilter,
    _p: PhantomData<&'de ()>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for HeaderMapAccess<'_, 'de, A> {
    type Error = A::Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        loop {
            let Some(Key(key)) = self.map.next_key::<Key<'de>>()? else {
                return Ok(None);
            };
            if !self.headers.keeps(&key) {
                self.map.next_value::<IgnoredAny>()?;
                continue;
            }
            return seed.deserialize(CowStrDeserializer::new(key)).map(Some);
        }
    }
    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}
