//! What the authorizer and secrets-fn exchange through the Lambda Invoke API.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::jwk::{JwkSet, KeySetError, Visibility};

/// The `action` of a key request.
pub const GET_KEYS: &str = "get_keys";
/// The `action` of a signing request.
pub const SIGN: &str = "sign";
/// The `action` of a renewal request.
pub const RENEW: &str = "renew";
/// The `action` that revokes one session (docs/revocation.md).
pub const REVOKE_SESSION: &str = "revoke_session";
/// The `action` that revokes every session of a subject issued until now.
pub const REVOKE_SUBJECT: &str = "revoke_subject";

/// Every request secrets-fn answers, typed once, used by both ends.
///
/// - `{"action": "get_keys"}`, or with `"refresh": true` to have secrets-fn revalidate its
///   cache first (the authorizer asks so for an unknown `kid`): answered with [`KeysResponse`];
/// - `{"action": "sign", "sub", "claims"}` and `{"action": "renew", "token"}`: answered with
///   [`SignResponse`];
/// - `{"action": "revoke_session", "token"}` (the session's current token: log out) or
///   `{"action": "revoke_session", "sid"}` (an operator who knows the id), and
///   `{"action": "revoke_subject", "sub"}` ("log out everywhere"): answered with
///   [`RevokeResponse`];
/// - a Secrets Manager rotation event (`Step`, `SecretId`, `ClientRequestToken`): answered
///   with [`RotationResponse`].
#[derive(Debug, Clone, PartialEq)]
pub enum KeyServerRequest {
    /// The public key set.
    GetKeys {
        /// Revalidate the cached set before answering.
        refresh: bool,
    },
    /// A new session for `sub`, with extra claims (never a registered one).
    Sign {
        /// The authenticated user.
        sub: String,
        /// Extra claims, such as `scope`.
        claims: serde_json::Map<String, Value>,
    },
    /// A fresh token for the session `token` belongs to.
    Renew {
        /// The current session token (the cookie's value).
        token: crate::SecretString,
    },
    /// Revoke one session.
    RevokeSession(SessionRef),
    /// Revoke every token of `sub` issued until now.
    RevokeSubject {
        /// The subject.
        sub: String,
    },
    /// One step of Secrets Manager's rotation protocol.
    Rotate(RotationEvent),
}

/// How a revocation names its session.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionRef {
    /// By a token of the session, which the session authority verifies (logging out).
    Token(crate::SecretString),
    /// By its id.
    Sid(String),
}

/// The tagged form of the `action` requests.
#[derive(Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
enum Action {
    GetKeys {
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        refresh: bool,
    },
    Sign {
        sub: String,
        #[serde(default)]
        claims: serde_json::Map<String, Value>,
    },
    Renew {
        token: crate::SecretString,
    },
    RevokeSession {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<crate::SecretString>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sid: Option<String>,
    },
    RevokeSubject {
        sub: String,
    },
}

/// Why an event is not a [`KeyServerRequest`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// Neither an `action` this protocol knows nor a rotation event.
    #[error("not a request of this protocol")]
    Unknown,
    /// A known `action` (or a rotation event, `Step`) whose other members are wrong.
    #[error("a `{0}` request with missing or invalid members")]
    Malformed(&'static str),
}

impl KeyServerRequest {
    /// Reads an event (as the Lambda runtime hands it over), once.
    pub fn from_value(event: &Value) -> Result<KeyServerRequest, RequestError> {
        if event.get("Step").is_some() {
            return RotationEvent::deserialize(event)
                .map(KeyServerRequest::Rotate)
                .map_err(|_| RequestError::Malformed("Step"));
        }
        let action = match event.get("action").and_then(Value::as_str) {
            Some(GET_KEYS) => GET_KEYS,
            Some(SIGN) => SIGN,
            Some(RENEW) => RENEW,
            Some(REVOKE_SESSION) => REVOKE_SESSION,
            Some(REVOKE_SUBJECT) => REVOKE_SUBJECT,
            _ => return Err(RequestError::Unknown),
        };
        let malformed = RequestError::Malformed(action);
        Ok(
            match Action::deserialize(event).map_err(|_| malformed.clone())? {
                Action::GetKeys { refresh } => KeyServerRequest::GetKeys { refresh },
                Action::Sign { sub, claims } => KeyServerRequest::Sign { sub, claims },
                Action::Renew { token } => KeyServerRequest::Renew { token },
                // Exactly one of the two, and not empty.
                Action::RevokeSession { token, sid } => match (token, sid) {
                    (Some(t), None) if !t.expose().is_empty() => {
                        KeyServerRequest::RevokeSession(SessionRef::Token(t))
                    }
                    (None, Some(s)) if !s.is_empty() => {
                        KeyServerRequest::RevokeSession(SessionRef::Sid(s))
                    }
                    _ => return Err(malformed),
                },
                Action::RevokeSubject { sub } if !sub.is_empty() => {
                    KeyServerRequest::RevokeSubject { sub }
                }
                Action::RevokeSubject { .. } => return Err(malformed),
            },
        )
    }

    /// The JSON of the request (what a caller sends through the Invoke API).
    pub fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        match self {
            KeyServerRequest::GetKeys { refresh } => {
                serde_json::to_vec(&Action::GetKeys { refresh: *refresh })
            }
            KeyServerRequest::Sign { sub, claims } => serde_json::to_vec(&Action::Sign {
                sub: sub.clone(),
                claims: claims.clone(),
            }),
            KeyServerRequest::Renew { token } => serde_json::to_vec(&Action::Renew {
                token: token.clone(),
            }),
            KeyServerRequest::RevokeSession(session) => {
                let (token, sid) = match session {
                    SessionRef::Token(t) => (Some(t.clone()), None),
                    SessionRef::Sid(s) => (None, Some(s.clone())),
                };
                serde_json::to_vec(&Action::RevokeSession { token, sid })
            }
            KeyServerRequest::RevokeSubject { sub } => {
                serde_json::to_vec(&Action::RevokeSubject { sub: sub.clone() })
            }
            KeyServerRequest::Rotate(e) => serde_json::to_vec(e),
        }
    }
}

/// A step of Secrets Manager's rotation protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RotationStep {
    /// `createSecret`: write the new version as `AWSPENDING`.
    #[serde(rename = "createSecret")]
    Create,
    /// `setSecret`: configure the service that uses the secret (nothing to do here).
    #[serde(rename = "setSecret")]
    Set,
    /// `testSecret`: check the pending version.
    #[serde(rename = "testSecret")]
    Test,
    /// `finishSecret`: move `AWSCURRENT` to the pending version.
    #[serde(rename = "finishSecret")]
    Finish,
    /// A step this protocol does not know (answered `unknown_step`).
    #[serde(other)]
    Unknown,
}

impl RotationStep {
    /// The step's name in the protocol.
    pub fn as_str(self) -> &'static str {
        match self {
            RotationStep::Create => "createSecret",
            RotationStep::Set => "setSecret",
            RotationStep::Test => "testSecret",
            RotationStep::Finish => "finishSecret",
            RotationStep::Unknown => "unknown",
        }
    }
}

/// The event Secrets Manager sends a rotation function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationEvent {
    /// The step.
    #[serde(rename = "Step")]
    pub step: RotationStep,
    /// The secret's ARN or name.
    #[serde(rename = "SecretId")]
    pub secret_id: String,
    /// The version being rotated to.
    #[serde(rename = "ClientRequestToken")]
    pub client_request_token: String,
}

/// What a rotation step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RotationResult {
    /// `createSecret` wrote the pending version.
    Created,
    /// The pending version already had a value.
    AlreadyCreated,
    /// `setSecret`: nothing to configure.
    NothingToSet,
    /// `testSecret` passed.
    Tested,
    /// `finishSecret` moved `AWSCURRENT`.
    Finished,
    /// The version is already `AWSCURRENT`: nothing to do.
    AlreadyCurrent,
}

impl RotationResult {
    /// The result's code.
    pub fn as_str(self) -> &'static str {
        match self {
            RotationResult::Created => "created",
            RotationResult::AlreadyCreated => "already_created",
            RotationResult::NothingToSet => "nothing_to_set",
            RotationResult::Tested => "tested",
            RotationResult::Finished => "finished",
            RotationResult::AlreadyCurrent => "already_current",
        }
    }
}

/// The rotation function's answer: `{"step": "createSecret", "result": "created"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationResponse {
    /// The step.
    pub step: RotationStep,
    /// What it did.
    pub result: RotationResult,
}

/// secrets-fn's answer: an RFC 7517 JWK Set of public keys, plus a cache hint.
///
/// `{"keys": [JWK, ...], "cache_ttl_seconds": N, "confirmed_at": T}`; `keys` never holds a
/// private member of an asymmetric key, and holds `oct` keys only when secrets-fn has
/// `ALLOW_SYMMETRIC_KEYS=true`.
#[derive(Debug, Clone, Default)]
pub struct KeysResponse {
    /// The verification keys: `AWSCURRENT` first, then `AWSPREVIOUS`.
    pub keys: JwkSet,
    /// How long secrets-fn itself caches the secret, in seconds.
    pub cache_ttl_seconds: u64,
    /// When Secrets Manager last confirmed these keys (seconds since the epoch): the
    /// authorizer bounds staleness from here, not from its own fetch, so secrets-fn's stale
    /// window and its own do not add up. `None` when not known (treated as now).
    pub confirmed_at: Option<u64>,
    /// Whether the key server revalidated the keys with Secrets Manager for this very request
    /// (it does for `refresh`, at most ten times a second): only then does a `kid` missing
    /// from the answer mean Secrets Manager does not have it.
    pub revalidated: bool,
}

impl KeysResponse {
    /// Serialises the answer with `confirmed_at` given here (the same keys are confirmed again
    /// and again without being rebuilt).
    pub fn serialize_confirmed<S: serde::Serializer>(
        &self,
        confirmed_at: Option<u64>,
        revalidated: bool,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("keys", &self.keys.keys)?;
        m.serialize_entry("cache_ttl_seconds", &self.cache_ttl_seconds)?;
        if let Some(at) = confirmed_at {
            m.serialize_entry("confirmed_at", &at)?;
        }
        if revalidated {
            m.serialize_entry("revalidated", &true)?;
        }
        m.end()
    }
}

impl Serialize for KeysResponse {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.serialize_confirmed(self.confirmed_at, self.revalidated, serializer)
    }
}

impl KeysResponse {
    /// Parses and validates an answer as a public key set (each key checked as in the secret).
    pub fn parse(bytes: &[u8]) -> Result<KeysResponse, KeySetError> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| KeySetError::NotJson {
            line: e.line(),
            column: e.column(),
        })?;
        let keys = JwkSet::from_value(&value, Visibility::Public)?;
        let cache_ttl_seconds = value
            .get("cache_ttl_seconds")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let confirmed_at = value.get("confirmed_at").and_then(Value::as_u64);
        let revalidated = value.get("revalidated").and_then(Value::as_bool) == Some(true);
        Ok(KeysResponse {
            keys,
            cache_ttl_seconds,
            confirmed_at,
            revalidated,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwk::Alg;
    use crate::keygen::generate;

    fn round_trip(r: &KeyServerRequest) -> KeyServerRequest {
        let v: Value = serde_json::from_slice(&r.to_json().unwrap()).unwrap();
        KeyServerRequest::from_value(&v).unwrap()
    }

    #[test]
    fn key_requests_are_the_documented_json_and_round_trip() {
        let plain = KeyServerRequest::GetKeys { refresh: false };
        assert_eq!(plain.to_json().unwrap(), br#"{"action":"get_keys"}"#);
        let refresh = KeyServerRequest::GetKeys { refresh: true };
        assert_eq!(
            refresh.to_json().unwrap(),
            br#"{"action":"get_keys","refresh":true}"#
        );
        assert_eq!(round_trip(&plain), plain);
        assert_eq!(round_trip(&refresh), refresh);
    }

    #[test]
    fn rotation_events_round_trip_and_unknown_steps_are_kept_apart() {
        let v =
            serde_json::json!({"Step": "finishSecret", "SecretId": "s", "ClientRequestToken": "t"});
        let r = KeyServerRequest::from_value(&v).unwrap();
        assert!(matches!(&r, KeyServerRequest::Rotate(e) if e.step == RotationStep::Finish));
        assert_eq!(round_trip(&r), r);
        let odd = serde_json::json!({"Step": "explodeSecret", "SecretId": "s", "ClientRequestToken": "t"});
        assert!(
            matches!(KeyServerRequest::from_value(&odd), Ok(KeyServerRequest::Rotate(e)) if e.step == RotationStep::Unknown)
        );
        let answer = RotationResponse {
            step: RotationStep::Create,
            result: RotationResult::AlreadyCreated,
        };
        let text = serde_json::to_string(&answer).unwrap();
        assert_eq!(
            text,
            r#"{"step":"createSecret","result":"already_created"}"#
        );
        assert_eq!(
            serde_json::from_str::<RotationResponse>(&text).unwrap(),
            answer
        );
    }

    #[test]
    fn events_of_no_request_or_with_bad_members_are_told_apart() {
        for v in [
            serde_json::json!({}),
            serde_json::json!(null),
            serde_json::json!({"action": "delete"}),
        ] {
            assert_eq!(
                KeyServerRequest::from_value(&v),
                Err(RequestError::Unknown),
                "{v}"
            );
        }
        assert_eq!(
            KeyServerRequest::from_value(&serde_json::json!({"action": "sign"})),
            Err(RequestError::Malformed(SIGN))
        );
        assert_eq!(
            KeyServerRequest::from_value(&serde_json::json!({"Step": 1})),
            Err(RequestError::Malformed("Step"))
        );
    }

    #[test]
    fn keys_response_round_trips_as_a_public_jwk_set() {
        let private = JwkSet {
            keys: vec![generate(Alg::EdDSA).unwrap(), generate(Alg::ES256).unwrap()],
        };
        let resp = KeysResponse {
            keys: private.to_public(false),
            cache_ttl_seconds: 60,
            confirmed_at: Some(1_800_000_000),
            revalidated: true,
        };
        let bytes = serde_json::to_vec(&resp).unwrap();
        let back = KeysResponse::parse(&bytes).unwrap();
        assert_eq!(back.cache_ttl_seconds, 60);
        assert_eq!(back.confirmed_at, Some(1_800_000_000));
        assert!(back.revalidated);
        let unconfirmed = KeysResponse {
            confirmed_at: None,
            revalidated: false,
            ..resp.clone()
        };
        let bytes_none = serde_json::to_vec(&unconfirmed).unwrap();
        assert!(!String::from_utf8_lossy(&bytes_none).contains("confirmed_at"));
        assert_eq!(KeysResponse::parse(&bytes_none).unwrap().confirmed_at, None);
        assert!(!KeysResponse::parse(&bytes_none).unwrap().revalidated);
        assert_eq!(back.keys.keys.len(), 2);
        assert_eq!(back.keys.keys[0].kid, private.keys[0].kid);
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        assert!(value["keys"][0].get("d").is_none());
    }

    #[test]
    fn a_response_that_is_not_a_key_set_is_refused() {
        assert!(KeysResponse::parse(b"{}").is_err());
        assert!(KeysResponse::parse(b"not json").is_err());
        assert!(KeysResponse::parse(br#"{"keys": []}"#).is_err());
    }
}

/// The signer's answer. `token` and `set_cookie` hold the token: send `set_cookie` as the
/// `Set-Cookie` header and never put either in a response body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignResponse {
    /// The token.
    pub token: crate::SecretString,
    /// The exact `Set-Cookie` value.
    pub set_cookie: crate::SecretString,
    /// The token's `csrf` claim, for the page's CSRF header.
    pub csrf: String,
    /// The signing key's id.
    pub kid: String,
    /// The token's id.
    pub jti: String,
    /// The session's id (`sid`), the same for every token of one login (docs/revocation.md).
    #[serde(default)]
    pub sid: String,
    /// `exp`.
    pub expires_at: u64,
    /// When the session ends at the latest (`auth_time` + the absolute lifetime).
    pub session_expires_at: u64,
}

/// The session authority's answer to a revocation (what it wrote).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeResponse {
    /// `session` or `subject`.
    pub revoked: String,
    /// The revoked session's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The revoked subject (or the revoked session's, when known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Subjects: tokens issued at or before this second are revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<u64>,
    /// When it was written, seconds since the epoch.
    pub revoked_at: u64,
    /// When the entry may expire from the table (no token it covers can be accepted then).
    pub expires_at: u64,
}

#[cfg(test)]
mod signer_wire_tests {
    use super::*;

    fn parse(text: &str) -> Result<KeyServerRequest, RequestError> {
        KeyServerRequest::from_value(&serde_json::from_str(text).unwrap())
    }

    #[test]
    fn signer_requests_have_the_documented_json() {
        let r = parse(r#"{"action":"sign","sub":"alice","claims":{"scope":"read"}}"#).unwrap();
        assert!(
            matches!(&r, KeyServerRequest::Sign { sub, claims } if sub == "alice" && claims["scope"] == "read")
        );
        let back = parse(std::str::from_utf8(&r.to_json().unwrap()).unwrap()).unwrap();
        assert_eq!(back, r);
        let renew = parse(r#"{"action":"renew","token":"a.b.c"}"#).unwrap();
        assert!(matches!(&renew, KeyServerRequest::Renew { token } if token.expose() == "a.b.c"));
        assert!(
            !format!("{renew:?}").contains("a.b.c"),
            "Debug must not show the token"
        );
        assert_eq!(
            parse(std::str::from_utf8(&renew.to_json().unwrap()).unwrap()).unwrap(),
            renew
        );
        assert!(parse(r#"{"action":"sign"}"#).is_err());
    }

    #[test]
    fn revocation_requests_have_the_documented_json() {
        let by_token = parse(r#"{"action":"revoke_session","token":"a.b.c"}"#).unwrap();
        assert!(
            matches!(&by_token, KeyServerRequest::RevokeSession(SessionRef::Token(t)) if t.expose() == "a.b.c")
        );
        assert!(!format!("{by_token:?}").contains("a.b.c"));
        let by_sid = parse(r#"{"action":"revoke_session","sid":"s1"}"#).unwrap();
        let subject = parse(r#"{"action":"revoke_subject","sub":"alice"}"#).unwrap();
        assert_eq!(
            subject,
            KeyServerRequest::RevokeSubject {
                sub: "alice".into()
            }
        );
        for r in [by_token, by_sid, subject] {
            let back = parse(std::str::from_utf8(&r.to_json().unwrap()).unwrap()).unwrap();
            assert_eq!(back, r);
        }
        for bad in [
            r#"{"action":"revoke_session"}"#,
            r#"{"action":"revoke_session","sid":""}"#,
            r#"{"action":"revoke_session","token":"a.b.c","sid":"s"}"#,
            r#"{"action":"revoke_subject"}"#,
            r#"{"action":"revoke_subject","sub":""}"#,
        ] {
            assert!(
                matches!(parse(bad), Err(RequestError::Malformed(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn revoke_response_round_trips() {
        let r = RevokeResponse {
            revoked: "subject".into(),
            sid: None,
            sub: Some("alice".into()),
            before: Some(10),
            revoked_at: 10,
            expires_at: 20,
        };
        let text = serde_json::to_string(&r).unwrap();
        assert!(!text.contains("sid"));
        assert_eq!(serde_json::from_str::<RevokeResponse>(&text).unwrap(), r);
    }

    #[test]
    fn sign_response_round_trips_and_hides_the_token_from_debug() {
        let r = SignResponse {
            token: crate::SecretString::new("t.o.k".into()),
            set_cookie: crate::SecretString::new("__Host-session=t.o.k; Max-Age=1".into()),
            csrf: "c".into(),
            kid: "k".into(),
            jti: "j".into(),
            sid: "s".into(),
            expires_at: 2,
            session_expires_at: 3,
        };
        let text = serde_json::to_string(&r).unwrap();
        assert!(text.contains("\"set_cookie\":\"__Host-session=t.o.k; Max-Age=1\""));
        assert_eq!(serde_json::from_str::<SignResponse>(&text).unwrap(), r);
        assert!(!format!("{r:?}").contains("t.o.k"));
    }
}
