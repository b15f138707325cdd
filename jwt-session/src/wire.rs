//! What the authorizer and secrets-fn exchange through the Lambda Invoke API.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::jwk::{JwkSet, KeySetError, Visibility};

/// The `action` of a key request.
pub const GET_KEYS: &str = "get_keys";

/// The authorizer's request for verification keys: `{"action": "get_keys"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeysRequest {
    /// Always [`GET_KEYS`].
    pub action: String,
}

impl Default for KeysRequest {
    fn default() -> Self {
        KeysRequest {
            action: GET_KEYS.to_owned(),
        }
    }
}

/// secrets-fn's answer: an RFC 7517 JWK Set of public keys, plus a cache hint.
///
/// `{"keys": [JWK, ...], "cache_ttl_seconds": N}`; `keys` never holds a private member of an
/// asymmetric key, and holds `oct` keys only when secrets-fn has `ALLOW_SYMMETRIC_KEYS=true`.
#[derive(Debug, Clone, Default)]
pub struct KeysResponse {
    /// The verification keys: `AWSCURRENT` first, then `AWSPREVIOUS`.
    pub keys: JwkSet,
    /// How long secrets-fn itself caches the secret, in seconds.
    pub cache_ttl_seconds: u64,
}

impl Serialize for KeysResponse {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = serializer.serialize_map(Some(2))?;
        m.serialize_entry("keys", &self.keys.keys)?;
        m.serialize_entry("cache_ttl_seconds", &self.cache_ttl_seconds)?;
        m.end()
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
        Ok(KeysResponse {
            keys,
            cache_ttl_seconds,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwk::Alg;
    use crate::keygen::generate;

    #[test]
    fn keys_request_is_the_documented_json() {
        let json = serde_json::to_string(&KeysRequest::default()).unwrap();
        assert_eq!(json, r#"{"action":"get_keys"}"#);
        let back: KeysRequest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, KeysRequest::default());
    }

    #[test]
    fn keys_response_round_trips_as_a_public_jwk_set() {
        let private = JwkSet {
            keys: vec![generate(Alg::EdDSA).unwrap(), generate(Alg::ES256).unwrap()],
        };
        let resp = KeysResponse {
            keys: private.to_public(false),
            cache_ttl_seconds: 60,
        };
        let bytes = serde_json::to_vec(&resp).unwrap();
        let back = KeysResponse::parse(&bytes).unwrap();
        assert_eq!(back.cache_ttl_seconds, 60);
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

/// A request to the signer (secrets-fn with `SECRETS_FN_ACTIONS` listing `sign`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum SignerRequest {
    /// A new session for `sub`, with extra claims (never a registered one).
    Sign {
        /// The authenticated user.
        sub: String,
        /// Extra claims, such as `scope`.
        #[serde(default)]
        claims: serde_json::Map<String, Value>,
    },
    /// A fresh token for the session `token` belongs to.
    Renew {
        /// The current session token (the cookie's value).
        token: crate::SecretString,
    },
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
    /// `exp`.
    pub expires_at: u64,
    /// When the session ends at the latest (`auth_time` + the absolute lifetime).
    pub session_expires_at: u64,
}

#[cfg(test)]
mod signer_wire_tests {
    use super::*;

    #[test]
    fn signer_requests_have_the_documented_json() {
        let r: SignerRequest =
            serde_json::from_str(r#"{"action":"sign","sub":"alice","claims":{"scope":"read"}}"#)
                .unwrap();
        assert!(
            matches!(&r, SignerRequest::Sign { sub, claims } if sub == "alice" && claims["scope"] == "read")
        );
        let back: SignerRequest =
            serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
        let renew: SignerRequest =
            serde_json::from_str(r#"{"action":"renew","token":"a.b.c"}"#).unwrap();
        assert!(matches!(&renew, SignerRequest::Renew { token } if token.expose() == "a.b.c"));
        assert!(
            !format!("{renew:?}").contains("a.b.c"),
            "Debug must not show the token"
        );
        assert!(serde_json::from_str::<SignerRequest>(r#"{"action":"sign"}"#).is_err());
    }

    #[test]
    fn sign_response_round_trips_and_hides_the_token_from_debug() {
        let r = SignResponse {
            token: crate::SecretString::new("t.o.k".into()),
            set_cookie: crate::SecretString::new("__Host-session=t.o.k; Max-Age=1".into()),
            csrf: "c".into(),
            kid: "k".into(),
            jti: "j".into(),
            expires_at: 2,
            session_expires_at: 3,
        };
        let text = serde_json::to_string(&r).unwrap();
        assert!(text.contains("\"set_cookie\":\"__Host-session=t.o.k; Max-Age=1\""));
        assert_eq!(serde_json::from_str::<SignResponse>(&text).unwrap(), r);
        assert!(!format!("{r:?}").contains("t.o.k"));
    }
}
