//! PASETO v4.public tokens (docs/paseto.md), under the same claim rules as JWTs.
//!
//! One version and one purpose: a token is `v4.public.<payload+signature>.<footer>`; every
//! other version (`v1`–`v3`) or purpose (`local`) is refused (`malformed`), as is a token
//! without a footer. The footer is the JSON object `{"kid": "k4.pid.…"}` and nothing else; the
//! `kid` is the PASERK id of the public key, so a key is found by it and bound to it. The
//! signature (Ed25519 over PASETO's pre-authentication encoding of header, payload, footer and
//! implicit assertion) is checked by `pasetors` (the vetted implementation Cargo uses for
//! registry tokens); no implicit assertion is used. The claims are then read by the same
//! strict reader and checked by the same rules as a JWT's (`iss`, `aud`, `sub`, `exp`, `nbf`,
//! `iat`, maximum lifetime, leeway, `csrf`, scopes, `sid`), except that `exp`, `nbf` and `iat`
//! are RFC 3339 date-times, as the PASETO specification has them. `pasetors`' own claim
//! validation is not used: it has no clock leeway nor audience lists.

use pasetors::keys::{AsymmetricPublicKey, AsymmetricSecretKey};
use pasetors::token::UntrustedToken;
use pasetors::version4::{PublicToken, V4};
use pasetors::Public;
use serde_json::{Map, Value};

use super::claims::{check_payload, Times};
use super::json::{self, Member};
use super::{Rejected, Rejection, TokenRules, Verified, MAX_TOKEN_BYTES};

/// The header of every accepted PASETO.
pub const V4_PUBLIC: &str = "v4.public.";
/// The prefix of a v4 public key's PASERK id.
pub const KID_PREFIX: &str = "k4.pid.";
/// Longest footer accepted (decoded), bytes.
pub const MAX_FOOTER_BYTES: usize = 256;

/// Whether a cookie value is meant as a PASETO of any version or purpose (`v<digit>.` then
/// `public.` or `local.`): such a value is never read as a JWT.
pub fn looks_like_paseto(token: &str) -> bool {
    let b = token.as_bytes();
    matches!(b, [b'v', d, b'.', ..] if d.is_ascii_digit())
        && b.get(3..)
            .is_some_and(|rest| rest.starts_with(b"public.") || rest.starts_with(b"local."))
}

/// What is read of a PASETO before a key is chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasetoHeader {
    /// The footer's `kid`.
    pub kid: String,
}

/// Checks everything that needs no key: the size, `v4.public.`, a base64url body and footer,
/// and a footer that is exactly `{"kid": "k4.pid.…"}`.
pub fn inspect(token: &str) -> Result<PasetoHeader, Rejected> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(Rejected::TooLarge);
    }
    let rest = token.strip_prefix(V4_PUBLIC).ok_or(Rejected::Malformed)?;
    let (body, footer) = rest.split_once('.').ok_or(Rejected::Malformed)?;
    let b64 = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if !b64(body) || !b64(footer) {
        return Err(Rejected::Malformed);
    }
    let mut buf = [0u8; MAX_FOOTER_BYTES];
    let footer = super::header::decode_into(footer, &mut buf)?;
    let [kid] = json::only_members(footer, &["kid"]).map_err(|_| Rejected::Malformed)?;
    match kid {
        Some(Member::Str(kid)) if kid.starts_with(KID_PREFIX) && kid.len() <= 128 => {
            Ok(PasetoHeader {
                kid: kid.into_owned(),
            })
        }
        Some(Member::Str(_)) => Err(Rejected::UnknownKid),
        _ => Err(Rejected::Malformed),
    }
}

/// A v4.public verification key, bound to its PASERK id.
#[derive(Clone)]
pub struct PasetoKey {
    /// `k4.pid.…` of the key.
    pub kid: String,
    key: AsymmetricPublicKey<V4>,
}

impl std::fmt::Debug for PasetoKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasetoKey").field("kid", &self.kid).finish()
    }
}

impl PasetoKey {
    /// The key of a 32-byte Ed25519 public key; its `kid` is computed, never given.
    pub fn from_public(bytes: &[u8]) -> Option<PasetoKey> {
        let key = AsymmetricPublicKey::<V4>::from(bytes).ok()?;
        let kid = crate::jwk::paserk_id(bytes)?;
        Some(PasetoKey { kid, key })
    }
}

/// Verifies the signature with `key` (chosen by `header.kid`) and checks the claims at
/// `now` under `policy` (its `algorithms` and `typ` are JWT notions and not used).
pub fn verify(
    token: &str,
    header: &PasetoHeader,
    key: &PasetoKey,
    policy: &TokenRules,
    now: u64,
) -> Result<Verified, Rejection> {
    if header.kid != key.kid {
        return Err(Rejected::UnknownKid.into());
    }
    let payload = verify_signature(token, key, None)?;
    check_payload(payload.as_bytes(), &key.kid, policy, now, Times::Rfc3339)
}

/// [`verify`] with a key of the ring: a key of another algorithm (an `EdDSA` JWT key under
/// that `kid`) never verifies a PASETO (`bad_alg`).
pub fn verify_with_key(
    token: &str,
    header: &PasetoHeader,
    key: &super::VerifyingKey,
    policy: &TokenRules,
    now: u64,
) -> Result<Verified, Rejection> {
    let key = key.paseto().ok_or(Rejected::BadAlg)?;
    verify(token, header, key, policy, now)
}

/// The claims of a PASETO [`verify`] accepted, as JSON (times as the token writes them).
pub fn payload_of(token: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let body = token.strip_prefix(V4_PUBLIC)?.split('.').next()?;
    let mut bytes = URL_SAFE_NO_PAD.decode(body).ok()?;
    let len = bytes.len().checked_sub(64)?;
    bytes.truncate(len);
    Some(bytes)
}

/// The signature check alone (with an implicit assertion, for the official test vectors; the
/// authorizer uses none): the payload of a token whose signature `key` verifies.
pub fn verify_signature(
    token: &str,
    key: &PasetoKey,
    implicit: Option<&[u8]>,
) -> Result<String, Rejected> {
    let untrusted =
        UntrustedToken::<Public, V4>::try_from(token).map_err(|_| Rejected::Malformed)?;
    // The signature verified but the payload is not UTF-8: a token we would never issue.
    let trusted =
        PublicToken::verify(&key.key, &untrusted, None, implicit).map_err(|e| match e {
            pasetors::errors::Error::PayloadInvalidUtf8 => Rejected::Malformed,
            _ => Rejected::BadSig,
        })?;
    Ok(trusted.payload().to_owned())
}

/// Why a PASETO could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// The key is not a 64-byte Ed25519 secret key (seed and public key) that matches itself.
    #[error("not a v4.public secret key")]
    Key,
    /// A time claim is not a whole number of seconds after the epoch.
    #[error("a time claim cannot be written as RFC 3339")]
    Time,
    /// Signing failed.
    #[error("signing failed")]
    Signing,
}

/// Signs `claims` as a v4.public token with the 64-byte secret key (seed then public key):
/// `exp`, `nbf` and `iat` given as integers are written as RFC 3339; the footer is
/// `{"kid": <the key's PASERK id>}`.
pub fn sign(secret: &[u8], claims: &Map<String, Value>) -> Result<String, SignError> {
    let sk = AsymmetricSecretKey::<V4>::from(secret).map_err(|_| SignError::Key)?;
    let pk = AsymmetricPublicKey::<V4>::try_from(&sk).map_err(|_| SignError::Key)?;
    let kid = crate::jwk::paserk_id(pk.as_bytes()).ok_or(SignError::Key)?;
    let mut claims = claims.clone();
    for name in ["exp", "nbf", "iat"] {
        if let Some(Value::Number(n)) = claims.get(name) {
            let secs = n.as_u64().ok_or(SignError::Time)?;
            let text = super::claims::rfc3339(secs).ok_or(SignError::Time)?;
            claims.insert(name.to_owned(), Value::String(text));
        }
    }
    let message = serde_json::to_vec(&claims).map_err(|_| SignError::Signing)?;
    let footer =
        serde_json::to_vec(&serde_json::json!({ "kid": kid })).map_err(|_| SignError::Signing)?;
    sign_bytes(secret, &message, &footer, None)
}

/// Signs exactly these payload and footer bytes (Ed25519 is deterministic: the official test
/// vectors' tokens come out byte for byte).
pub fn sign_bytes(
    secret: &[u8],
    message: &[u8],
    footer: &[u8],
    implicit: Option<&[u8]>,
) -> Result<String, SignError> {
    let sk = AsymmetricSecretKey::<V4>::from(secret).map_err(|_| SignError::Key)?;
    let footer = (!footer.is_empty()).then_some(footer);
    PublicToken::sign(&sk, message, footer, implicit).map_err(|_| SignError::Signing)
}

#[cfg(test)]
mod tests {

    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use pasetors::keys::{AsymmetricKeyPair, Generate};
    use serde_json::json;

    const NOW: u64 = 1_800_000_000;

    fn pair() -> (Vec<u8>, PasetoKey) {
        let kp = AsymmetricKeyPair::<V4>::generate().unwrap();
        let key = PasetoKey::from_public(kp.public.as_bytes()).unwrap();
        (kp.secret.as_bytes().to_vec(), key)
    }

    fn policy() -> TokenRules {
        TokenRules::new("https://auth.example".to_owned(), vec!["api".to_owned()])
    }

    fn claims() -> Map<String, Value> {
        json!({
            "iss": "https://auth.example", "aud": "api", "sub": "alice",
            "iat": NOW, "nbf": NOW, "exp": NOW + 600,
            "jti": "j1", "sid": "s1", "csrf": "c1", "scope": "orders:read",
        })
        .as_object()
        .unwrap()
        .clone()
    }

    fn check(token: &str, key: &PasetoKey) -> Result<Verified, Rejected> {
        let header = inspect(token)?;
        verify(token, &header, key, &policy(), NOW).map_err(|r| r.reason)
    }

    /// A token signed by `secret` over exactly these payload and footer bytes.
    fn raw(secret: &[u8], payload: &[u8], footer: &[u8]) -> String {
        let sk = AsymmetricSecretKey::<V4>::from(secret).unwrap();
        PublicToken::sign(&sk, payload, Some(footer), None).unwrap()
    }

    #[test]
    fn a_signed_token_verifies_with_the_claims_of_a_jwt() {
        let (secret, key) = pair();
        let token = sign(&secret, &claims()).unwrap();
        assert!(token.starts_with(V4_PUBLIC));
        assert!(key.kid.starts_with(KID_PREFIX));
        let v = check(&token, &key).unwrap();
        assert_eq!(v.sub, "alice");
        assert_eq!(v.exp, NOW + 600);
        assert_eq!(v.iat, Some(NOW));
        assert_eq!(v.kid, key.kid);
        assert_eq!(v.sid.as_deref(), Some("s1"));
        assert_eq!(v.scopes, vec!["orders:read"]);
        // The times are RFC 3339 in the token itself.
        let body = token
            .strip_prefix(V4_PUBLIC)
            .unwrap()
            .split('.')
            .next()
            .unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(body).unwrap();
        let payload = &bytes[..bytes.len() - 64];
        let c: Value = serde_json::from_slice(payload).unwrap();
        assert_eq!(c["exp"], "2027-01-15T08:10:00Z");
    }

    #[test]
    fn other_versions_and_purposes_are_malformed() {
        let (secret, key) = pair();
        let token = sign(&secret, &claims()).unwrap();
        let rest = token.strip_prefix(V4_PUBLIC).unwrap();
        for header in [
            "v1.public.",
            "v2.public.",
            "v3.public.",
            "v4.local.",
            "v4.secret.",
            "V4.public.",
        ] {
            let other = format!("{header}{rest}");
            assert_eq!(
                check(&other, &key).unwrap_err(),
                Rejected::Malformed,
                "{header}"
            );
        }
        assert!(looks_like_paseto("v3.local.abc"));
        assert!(!looks_like_paseto("eyJhbGciOi.x.y"));
    }

    #[test]
    fn the_footer_is_required_and_is_the_kid_alone() {
        let (secret, key) = pair();
        let payload = serde_json::to_vec(&json!({"iss": "https://auth.example", "aud": "api", "sub": "a", "exp": "2027-01-15T08:10:00Z"})).unwrap();
        let kid = key.kid.clone();
        for footer in [
            json!({"kid": kid, "wpk": "x"}).to_string(),
            json!({"kid": 5}).to_string(),
            json!({}).to_string(),
            "not json".to_owned(),
            format!(r#"{{"kid":"{kid}","kid":"{kid}"}}"#),
        ] {
            let token = raw(&secret, &payload, footer.as_bytes());
            assert_eq!(
                check(&token, &key).unwrap_err(),
                Rejected::Malformed,
                "{footer}"
            );
        }
        let no_footer = {
            let sk = AsymmetricSecretKey::<V4>::from(&secret[..]).unwrap();
            PublicToken::sign(&sk, &payload, None, None).unwrap()
        };
        assert_eq!(check(&no_footer, &key).unwrap_err(), Rejected::Malformed);
        let other_kind = raw(
            &secret,
            &payload,
            json!({"kid": "k4.lid.abc"}).to_string().as_bytes(),
        );
        assert_eq!(check(&other_kind, &key).unwrap_err(), Rejected::UnknownKid);
    }

    #[test]
    fn a_tampered_or_swapped_footer_or_a_truncated_signature_does_not_verify() {
        let (secret, key) = pair();
        let (_, other) = pair();
        let token = sign(&secret, &claims()).unwrap();
        let (body, _) = token.rsplit_once('.').unwrap();
        // The footer names another key: that key's signature check fails.
        let swapped_footer = URL_SAFE_NO_PAD.encode(json!({"kid": other.kid}).to_string());
        let swapped = format!("{body}.{swapped_footer}");
        assert_eq!(check(&swapped, &other).unwrap_err(), Rejected::BadSig);
        // The same footer with the right kid but re-encoded differently is another footer.
        let spaced = URL_SAFE_NO_PAD.encode(format!("{{ \"kid\": \"{}\" }}", key.kid));
        assert_eq!(
            check(&format!("{body}.{spaced}"), &key).unwrap_err(),
            Rejected::BadSig
        );
        // Truncated signature, flipped payload bit.
        let (prefix_body, footer) = token.rsplit_once('.').unwrap();
        let short = format!("{}.{footer}", &prefix_body[..prefix_body.len() - 8]);
        assert!(matches!(
            check(&short, &key).unwrap_err(),
            Rejected::BadSig | Rejected::Malformed
        ));
        let mut flipped = token.clone().into_bytes();
        let i = V4_PUBLIC.len() + 5;
        flipped[i] = if flipped[i] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert_eq!(check(&flipped, &key).unwrap_err(), Rejected::BadSig);
        // Another key of the same kid string is impossible: the kid is computed.
        assert_eq!(
            verify(&token, &inspect(&token).unwrap(), &other, &policy(), NOW)
                .unwrap_err()
                .reason,
            Rejected::UnknownKid
        );
    }

    #[test]
    fn times_must_be_rfc3339_and_the_jwt_rules_apply() {
        let (secret, key) = pair();
        let kid = key.kid.clone();
        let signed = |c: Value| {
            raw(
                &secret,
                &serde_json::to_vec(&c).unwrap(),
                json!({"kid": kid}).to_string().as_bytes(),
            )
        };
        let base = json!({"iss": "https://auth.example", "aud": "api", "sub": "alice"});
        let with = |k: &str, v: Value| {
            let mut c = base.clone();
            c[k] = v;
            if k != "exp" {
                c["exp"] = json!("2027-01-15T08:10:00Z");
            }
            c
        };
        assert_eq!(
            check(&signed(with("exp", json!(NOW + 600))), &key).unwrap_err(),
            Rejected::BadClaim
        );
        assert_eq!(
            check(&signed(with("exp", json!("tomorrow"))), &key).unwrap_err(),
            Rejected::BadClaim
        );
        assert_eq!(
            check(&signed(with("exp", json!("2027-01-15"))), &key).unwrap_err(),
            Rejected::BadClaim
        );
        assert_eq!(
            check(&signed(with("exp", json!("2020-01-01T00:00:00Z"))), &key).unwrap_err(),
            Rejected::Expired
        );
        assert!(check(
            &signed(with("exp", json!("2027-01-15T09:10:00+01:00"))),
            &key
        )
        .is_ok());
        assert_eq!(
            check(&signed(with("nbf", json!("2030-01-01T00:00:00Z"))), &key).unwrap_err(),
            Rejected::NotYetValid
        );
        assert_eq!(
            check(&signed(with("iss", json!("https://evil"))), &key).unwrap_err(),
            Rejected::BadIss
        );
        assert_eq!(
            check(&signed(with("aud", json!(["x"]))), &key).unwrap_err(),
            Rejected::BadAud
        );
        assert_eq!(
            check(&signed(with("exp", json!("2099-01-01T00:00:00Z"))), &key).unwrap_err(),
            Rejected::BadClaim,
            "lifetime"
        );
        // Not JSON, not UTF-8.
        let not_json = raw(
            &secret,
            b"\xff\xfe",
            json!({"kid": kid}).to_string().as_bytes(),
        );
        assert!(matches!(
            check(&not_json, &key).unwrap_err(),
            Rejected::Malformed | Rejected::BadSig
        ));
    }

    #[test]
    fn oversize_tokens_are_refused_before_anything_else() {
        let (_, key) = pair();
        let big = format!("{V4_PUBLIC}{}", "A".repeat(MAX_TOKEN_BYTES));
        assert_eq!(check(&big, &key).unwrap_err(), Rejected::TooLarge);
    }

    fn ring_of(keys: &[crate::Jwk]) -> super::super::KeyRing {
        let set = crate::JwkSet {
            keys: keys.to_vec(),
        };
        super::super::KeyRing::from_set(&set.to_public(false))
    }

    #[test]
    fn a_jwt_never_verifies_under_a_paseto_key_nor_a_paseto_under_an_eddsa_key() {
        use crate::keygen::generate;
        use crate::mint::SigningKey;
        use crate::{Alg, Jwk};
        let v4 = generate(Alg::V4Public).unwrap();
        let mut eddsa = generate(Alg::EdDSA).unwrap();
        // An EdDSA key under a PASERK-looking kid (its own id): still a JWT key.
        let crate::jwk::KeyMaterial::Okp { x, .. } = &eddsa.material else {
            panic!("an OKP key")
        };
        eddsa.kid = crate::jwk::paserk_id(x).unwrap();
        let ring = ring_of(&[v4.clone(), eddsa.clone()]);
        let both = TokenRules {
            formats: super::super::TokenFormats::BOTH,
            ..policy()
        };
        let paseto = SigningKey::from_jwk(&v4)
            .unwrap()
            .mint(&claims(), None)
            .unwrap();
        assert!(super::super::check(paseto.expose(), &both, &ring, NOW).is_ok());
        // A JWT (alg EdDSA) whose kid names the PASETO key: the key's algorithm is not EdDSA.
        let mut eddsa_as_v4 = eddsa.clone();
        eddsa_as_v4.kid = v4.kid.clone();
        let jwt = SigningKey::from_jwk(&eddsa_as_v4)
            .unwrap()
            .mint(&claims(), Some("JWT"))
            .unwrap();
        let err = super::super::check(jwt.expose(), &both, &ring, NOW).unwrap_err();
        assert_eq!(err.reason, Rejected::BadAlg);
        // A PASETO signed by the EdDSA key, its footer naming that key: never verified by it.
        let mut eddsa_as_paseto: Jwk = eddsa.clone();
        eddsa_as_paseto.alg = Alg::V4Public;
        let forged = SigningKey::from_jwk(&eddsa_as_paseto)
            .unwrap()
            .mint(&claims(), None)
            .unwrap();
        let err = super::super::check(forged.expose(), &both, &ring, NOW).unwrap_err();
        assert_eq!(err.reason, Rejected::BadAlg);
        // Formats not accepted are malformed, whatever the key.
        let jwt_only = policy();
        let err = super::super::check(paseto.expose(), &jwt_only, &ring, NOW).unwrap_err();
        assert_eq!(err.reason, Rejected::Malformed);
        let good_jwt = SigningKey::from_jwk(&eddsa)
            .unwrap()
            .mint(&claims(), Some("JWT"))
            .unwrap();
        let paseto_only = TokenRules {
            formats: super::super::TokenFormats::PASETO,
            ..policy()
        };
        let err = super::super::check(good_jwt.expose(), &paseto_only, &ring, NOW).unwrap_err();
        assert_eq!(err.reason, Rejected::Malformed);
        assert!(super::super::check(good_jwt.expose(), &jwt_only, &ring, NOW).is_ok());
    }

    #[test]
    fn a_paseto_jwk_is_refused_unless_its_kid_is_its_paserk_id() {
        use crate::{Alg, JwkSet, Visibility};
        let mut v4 = crate::keygen::generate(Alg::V4Public).unwrap();
        let text = serde_json::to_string(
            &JwkSet {
                keys: vec![v4.clone()],
            }
            .to_public(false),
        )
        .unwrap();
        assert!(JwkSet::parse(&text, Visibility::Public).is_ok());
        v4.kid = "k4.pid.somebody-else".into();
        let text = serde_json::to_string(&JwkSet { keys: vec![v4] }.to_public(false)).unwrap();
        assert!(JwkSet::parse(&text, Visibility::Public).is_err());
    }

    #[test]
    fn a_key_is_bound_to_its_paserk_id() {
        let (secret, key) = pair();
        assert_eq!(crate::jwk::paserk_id(&secret[32..]).unwrap(), key.kid);
        assert!(PasetoKey::from_public(&[0u8; 31]).is_none());
        assert_eq!(sign(&[0u8; 10], &claims()).unwrap_err(), SignError::Key);
    }
}
