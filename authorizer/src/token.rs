//! Token checks, in order: shape and size, header, key selection, signature, claims.
//!
//! The signature is verified by `jsonwebtoken::crypto::verify` with the algorithm pinned to the
//! one key the `kid` selects; the payload is decoded only after that. The claim rules are stricter than the library's (an exact single
//! `iss`, integer NumericDates only, `iat`, a maximum lifetime, a non-empty `sub`) and take
//! the clock as an argument, so they are checked here, after the signature, as plain code.

use std::collections::HashMap;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::DecodingKey;
use jwt_session::{Alg, Jwk, JwkSet};
use serde_json::{Map, Value};

use crate::config::Config;
use crate::json;
use crate::Reason;

/// Longest header segment (base64url) accepted.
const MAX_HEADER_SEGMENT: usize = 1024;
/// Longest `sub`, `jti`, `scope` or `csrf` value accepted.
pub const MAX_CLAIM_BYTES: usize = 1024;

/// What the header says, once it passed the checks that need no key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHeader {
    /// The header's algorithm (allowed by configuration).
    pub alg: Alg,
    /// The key id.
    pub kid: String,
}

/// Header parameters that carry or point to a key. We never use them; a token that has one
/// is refused outright so no later change can start trusting it.
const KEY_CARRYING_HEADERS: [&str; 4] = ["jwk", "jku", "x5u", "x5c"];
/// Header parameters that change how the token must be processed: we support none.
const PROCESSING_HEADERS: [&str; 3] = ["crit", "b64", "cty"];

fn is_b64url(segment: &str) -> bool {
    segment
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Checks everything that needs no key: three non-empty base64url segments, a JSON header
/// with a supported and allowed `alg`, the configured `typ`, no `crit`/`b64`/`cty`, a `kid`.
pub fn inspect(token: &str, cfg: &Config) -> Result<TokenHeader, Reason> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Reason::Malformed);
    };
    if h.is_empty()
        || p.is_empty()
        || s.is_empty()
        || !is_b64url(h)
        || !is_b64url(p)
        || !is_b64url(s)
    {
        return Err(Reason::Malformed);
    }
    if h.len() > MAX_HEADER_SEGMENT {
        return Err(Reason::TooLarge);
    }
    let header_json = URL_SAFE_NO_PAD.decode(h).map_err(|_| Reason::Malformed)?;
    let header = json::parse_object(&header_json).map_err(|_| Reason::Malformed)?;
    if PROCESSING_HEADERS
        .iter()
        .chain(KEY_CARRYING_HEADERS.iter())
        .any(|name| header.contains_key(*name))
    {
        return Err(Reason::Malformed);
    }
    let alg: Alg = match header.get("alg") {
        None => return Err(Reason::Malformed),
        Some(Value::String(a)) => a.parse().map_err(|_| Reason::BadAlg)?,
        Some(_) => return Err(Reason::BadAlg),
    };
    if !cfg.algorithms.contains(&alg) {
        return Err(Reason::BadAlg);
    }
    let typ = match header.get("typ") {
        None => None,
        Some(Value::String(t)) => Some(t.as_str()),
        Some(_) => return Err(Reason::Malformed),
    };
    if let Some(required) = &cfg.jwt_type {
        if typ != Some(required.as_str()) {
            return Err(Reason::BadTyp);
        }
    }
    match header.get("kid") {
        Some(Value::String(kid)) if jwt_session::jwk::is_valid_kid(kid) => Ok(TokenHeader {
            alg,
            kid: kid.clone(),
        }),
        _ => Err(Reason::UnknownKid),
    }
}

/// A verification key with its pinned validation.
pub struct VerifyingKey {
    /// The key's id.
    pub kid: String,
    /// The one algorithm it verifies.
    pub alg: Alg,
    key: DecodingKey,
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl VerifyingKey {
    fn new(jwk: &Jwk) -> Option<VerifyingKey> {
        let key = jwk.decoding_key().ok()?;
        Some(VerifyingKey {
            kid: jwk.kid.clone(),
            alg: jwk.alg,
            key,
        })
    }
}

/// The verification keys, by `kid`.
#[derive(Debug, Default)]
pub struct KeyRing {
    keys: HashMap<String, Arc<VerifyingKey>>,
}

impl KeyRing {
    /// Builds the ring from a validated public key set.
    pub fn from_set(set: &JwkSet) -> KeyRing {
        let keys = set
            .keys
            .iter()
            .filter_map(VerifyingKey::new)
            .map(|k| (k.kid.clone(), Arc::new(k)))
            .collect();
        KeyRing { keys }
    }

    /// The key for `kid`.
    pub fn get(&self, kid: &str) -> Option<&Arc<VerifyingKey>> {
        self.keys.get(kid)
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there is no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Claims of a token whose signature verified and whose claims passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// `kid` of the key that verified it.
    pub kid: String,
    /// `sub`.
    pub sub: String,
    /// `exp`.
    pub exp: u64,
    /// `iat`, when present.
    pub iat: Option<u64>,
    /// `jti`, when present.
    pub jti: Option<String>,
    /// `scope`, when present (or `scp` joined with spaces).
    pub scope: Option<String>,
    /// Every scope from `scope` and `scp`.
    pub scopes: Vec<String>,
    /// `csrf`, when present.
    pub csrf: Option<String>,
    /// Whether the token is in the last third of its lifetime (`exp - iat`): a route may ask
    /// the signer for a fresh one (sliding sessions).
    pub renew: bool,
}

/// A refusal, with what may be logged: `sub` and `jti` only once the signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Why.
    pub reason: Reason,
    /// `sub` of a token whose signature verified.
    pub sub: Option<String>,
    /// `jti` of a token whose signature verified.
    pub jti: Option<String>,
}

impl From<Reason> for Refusal {
    fn from(reason: Reason) -> Self {
        Refusal {
            reason,
            sub: None,
            jti: None,
        }
    }
}

/// Verifies the signature with `key` (already matched to `header.kid`) and checks the claims
/// at time `now` (seconds since the epoch).
pub fn verify(
    token: &str,
    header: &TokenHeader,
    key: &VerifyingKey,
    cfg: &Config,
    now: u64,
) -> Result<Verified, Refusal> {
    if header.alg != key.alg {
        return Err(Reason::BadAlg.into());
    }
    // `inspect` checked there are exactly three non-empty segments.
    let (signing_input, signature) = token.rsplit_once('.').ok_or(Reason::Malformed)?;
    let (_, payload) = signing_input.split_once('.').ok_or(Reason::Malformed)?;
    match jsonwebtoken::crypto::verify(
        signature,
        signing_input.as_bytes(),
        &key.key,
        key.alg.to_jsonwebtoken(),
    ) {
        Ok(true) => {}
        Ok(false) => return Err(Reason::BadSig.into()),
        Err(e) if matches!(e.kind(), ErrorKind::Base64(_)) => return Err(Reason::Malformed.into()),
        Err(_) => return Err(Reason::BadSig.into()),
    }
    // Only now, with the signature verified, is the payload decoded and parsed.
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| Reason::Malformed)?;
    let claims = json::parse_object(&bytes).map_err(|_| Reason::Malformed)?;
    check_claims(claims, &key.kid, cfg, now)
}

fn as_time(v: Option<&Value>) -> Result<Option<u64>, Reason> {
    match v {
        None => Ok(None),
        Some(Value::Number(n)) => n.as_u64().map(Some).ok_or(Reason::BadClaim),
        Some(_) => Err(Reason::BadClaim),
    }
}

fn as_short_string(v: Option<Value>) -> Result<Option<String>, Reason> {
    match v {
        None => Ok(None),
        Some(Value::String(s)) if s.len() <= MAX_CLAIM_BYTES => Ok(Some(s)),
        Some(_) => Err(Reason::BadClaim),
    }
}

fn check_claims(
    mut raw: Map<String, Value>,
    kid: &str,
    cfg: &Config,
    now: u64,
) -> Result<Verified, Refusal> {
    // Identify the token for the audit record first: its signature verified.
    let sub = match raw.get("sub") {
        Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_CLAIM_BYTES => Some(s.clone()),
        _ => None,
    };
    let jti = match raw.get("jti") {
        Some(Value::String(s)) if s.len() <= MAX_CLAIM_BYTES => Some(s.clone()),
        _ => None,
    };
    let refuse = |reason: Reason| Refusal {
        reason,
        sub: sub.clone(),
        jti: jti.clone(),
    };
    let leeway = cfg.leeway;
    let exp = as_time(raw.get("exp"))
        .map_err(refuse)?
        .ok_or_else(|| refuse(Reason::BadClaim))?;
    if now >= exp.saturating_add(leeway) {
        return Err(refuse(Reason::Expired));
    }
    if exp.saturating_sub(now) > cfg.max_lifetime.saturating_add(leeway) {
        return Err(refuse(Reason::BadClaim));
    }
    if let Some(nbf) = as_time(raw.get("nbf")).map_err(refuse)? {
        if nbf > now.saturating_add(leeway) {
            return Err(refuse(Reason::NotYetValid));
        }
    }
    let iat = as_time(raw.get("iat")).map_err(refuse)?;
    if iat.is_some_and(|iat| iat > now.saturating_add(leeway)) {
        return Err(refuse(Reason::NotYetValid));
    }
    match raw.get("iss") {
        Some(Value::String(iss)) if *iss == cfg.issuer => {}
        _ => return Err(refuse(Reason::BadIss)),
    }
    let aud_ok = match raw.get("aud") {
        Some(Value::String(a)) => cfg.audiences.iter().any(|x| x == a),
        Some(Value::Array(list)) => {
            list.iter().all(Value::is_string)
                && list
                    .iter()
                    .filter_map(Value::as_str)
                    .any(|a| cfg.audiences.iter().any(|x| x == a))
        }
        _ => false,
    };
    if !aud_ok {
        return Err(refuse(Reason::BadAud));
    }
    let Some(sub_value) = sub.clone() else {
        return Err(refuse(Reason::BadClaim));
    };
    if raw.contains_key("jti") && jti.is_none() {
        return Err(refuse(Reason::BadClaim));
    }
    let scope = as_short_string(raw.remove("scope")).map_err(refuse)?;
    let scp: Vec<String> = match raw.remove("scp") {
        None => Vec::new(),
        Some(Value::String(s)) if s.len() <= MAX_CLAIM_BYTES => {
            s.split_whitespace().map(str::to_owned).collect()
        }
        Some(Value::Array(items))
            if items.len() <= 64
                && items
                    .iter()
                    .all(|i| i.as_str().is_some_and(|s| s.len() <= MAX_CLAIM_BYTES)) =>
        {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        }
        Some(_) => return Err(refuse(Reason::BadClaim)),
    };
    let mut scopes: Vec<String> = scope
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    scopes.extend(scp);
    let scope = scope.or_else(|| (!scopes.is_empty()).then(|| scopes.join(" ")));
    let csrf = as_short_string(raw.remove("csrf")).map_err(refuse)?;
    Ok(Verified {
        kid: kid.to_owned(),
        sub: sub_value,
        exp,
        iat,
        jti,
        scope,
        scopes,
        csrf,
        renew: iat.is_some_and(|iat| {
            exp.saturating_sub(now).saturating_mul(3) <= exp.saturating_sub(iat)
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jwt_session::keygen::generate;
    use jwt_session::SigningKey;
    use serde_json::json;
    use std::collections::HashMap as Map2;

    const NOW: u64 = 1_800_000_000;

    fn cfg_with(extra: &[(&str, &str)]) -> Config {
        let mut m: Map2<String, String> = [
            ("JWT_ISSUER", "https://issuer.example"),
            ("JWT_AUDIENCE", "api,other"),
            ("JWT_ALGORITHMS", "EdDSA,ES256,RS256,HS256"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in extra {
            m.insert(k.to_string(), v.to_string());
        }
        Config::from_lookup(|k| m.get(k).cloned()).unwrap()
    }

    fn claims() -> Map<String, Value> {
        let v = json!({
            "iss": "https://issuer.example", "aud": "api", "sub": "user-1",
            "iat": NOW - 10, "nbf": NOW - 10, "exp": NOW + 600, "jti": "j-1",
            "csrf": "c-1", "scope": "read write"
        });
        v.as_object().unwrap().clone()
    }

    struct Fixture {
        signer: SigningKey,
        ring: KeyRing,
    }

    fn fixture(alg: Alg) -> Fixture {
        let jwk = generate(alg).unwrap();
        let signer = SigningKey::from_jwk(&jwk).unwrap();
        let public = JwkSet { keys: vec![jwk] }.to_public(true);
        Fixture {
            signer,
            ring: KeyRing::from_set(&public),
        }
    }

    fn run(f: &Fixture, cfg: &Config, token: &str) -> Result<Verified, Refusal> {
        let header = inspect(token, cfg)?;
        let key = f.ring.get(&header.kid).ok_or(Reason::UnknownKid)?;
        verify(token, &header, key, cfg, NOW)
    }

    fn mint(f: &Fixture, c: &Map<String, Value>) -> String {
        f.signer.mint(c, Some("JWT")).unwrap().expose().to_owned()
    }

    #[test]
    fn valid_tokens_of_each_algorithm_verify() {
        let cfg = cfg_with(&[]);
        for alg in [Alg::EdDSA, Alg::ES256, Alg::RS256, Alg::HS256] {
            let f = fixture(alg);
            let v = run(&f, &cfg, &mint(&f, &claims())).unwrap();
            assert_eq!(v.sub, "user-1");
            assert_eq!(v.jti.as_deref(), Some("j-1"));
            assert_eq!(v.csrf.as_deref(), Some("c-1"));
            assert_eq!(v.exp, NOW + 600);
        }
    }

    fn reason_for(mutate: impl Fn(&mut Map<String, Value>)) -> Reason {
        let cfg = cfg_with(&[]);
        let f = fixture(Alg::EdDSA);
        let mut c = claims();
        mutate(&mut c);
        match run(&f, &cfg, &mint(&f, &c)) {
            Ok(_) => Reason::Ok,
            Err(r) => r.reason,
        }
    }

    #[test]
    fn expiry_is_checked_with_the_leeway() {
        assert_eq!(
            reason_for(|c| {
                c.insert("exp".into(), json!(NOW - 29));
            }),
            Reason::Ok
        );
        assert_eq!(
            reason_for(|c| {
                c.insert("exp".into(), json!(NOW - 30));
            }),
            Reason::Expired
        );
        assert_eq!(
            reason_for(|c| {
                c.remove("exp");
            }),
            Reason::BadClaim
        );
        assert_eq!(
            reason_for(|c| {
                c.insert("exp".into(), json!(null));
            }),
            Reason::BadClaim
        );
        assert_eq!(
            reason_for(|c| {
                c.insert("exp".into(), json!("1900000000"));
            }),
            Reason::BadClaim
        );
        assert_eq!(
            reason_for(|c| {
                c.insert("exp".into(), json!((NOW + 60) as f64 + 0.5));
            }),
            Reason::BadClaim
        );
        assert_eq!(
            reason_for(|c| {
                c.insert("exp".into(), json!(-1));
            }),
            Reason::BadClaim
        );
        assert_eq!(
            reason_for(|c| {
                c.insert("exp".into(), json!(u64::MAX));
            }),
            Reason::BadClaim
        );
        assert_eq!(
            reason_for(|c| {
                c.insert("exp".into(), json!((NOW + 600) * 1000));
            }),
            Reason::BadClaim
        );
    }

    #[test]
    fn lifetime_beyond_the_maximum_is_a_bad_claim() {
        assert_eq!(
            reason_for(|c| {
                c.insert("exp".into(), json!(NOW + 86_400 + 30));
            }),
            Reason::Ok
        );
        assert_eq!(
            reason_for(|c| {
                c.insert("exp".into(), json!(NOW + 86_400 + 31));
            }),
            Reason::BadClaim
        );
    }

    #[test]
    fn nbf_and_iat_in_the_future_are_not_yet_valid() {
        assert_eq!(
            reason_for(|c| {
                c.insert("nbf".into(), json!(NOW + 30));
            }),
            Reason::Ok
        );
        assert_eq!(
            reason_for(|c| {
                c.insert("nbf".into(), json!(NOW + 31));
            }),
            Reason::NotYetValid
        );
        assert_eq!(
            reason_for(|c| {
                c.insert("iat".into(), json!(NOW + 31));
            }),
            Reason::NotYetValid
        );
        assert_eq!(
            reason_for(|c| {
                c.insert("iat".into(), json!("now"));
            }),
            Reason::BadClaim
        );
        assert_eq!(
            reason_for(|c| {
                c.insert("nbf".into(), json!(true));
            }),
            Reason::BadClaim
        );
    }

    #[test]
    fn issuer_must_be_the_exact_single_string() {
        assert_eq!(
            reason_for(|c| {
                c.insert("iss".into(), json!("https://issuer.example/"));
            }),
            Reason::BadIss
        );
        assert_eq!(
            reason_for(|c| {
                c.insert("iss".into(), json!("HTTPS://issuer.example"));
            }),
            Reason::BadIss
        );
        assert_eq!(
            reason_for(|c| {
                c.insert("iss".into(), json!(["https://issuer.example"]));
            }),
            Reason::BadIss
        );
        assert_eq!(
            reason_for(|c| {
                c.remove("iss");
            }),
            Reason::BadIss
        );
        assert_eq!(
            reason_for(|c| {
                c.insert("iss".into(), json!(1));
            }),
            Reason::BadIss
        );
    }

    #[test]
    fn audience_may_be_a_string_or_an_array_containing_an_accepted_value() {
        assert_eq!(
            reason_for(|c| {
                c.insert("aud".into(), json!(["x", "other"]));
            }),
            Reason::Ok
        );
        assert_eq!(
            reason_for(|c| {
                c.insert("aud".into(), json!([]));
            }),
            Reason::BadAud
        );
        assert_eq!(
            reason_for(|c| {
                c.insert("aud".into(), json!("API"));
            }),
            Reason::BadAud
        );
        assert_eq!(
            reason_for(|c| {
                c.insert("aud".into(), json!(" api"));
            }),
            Reason::BadAud
        );
        assert_eq!(
            reason_for(|c| {
                c.insert("aud".into(), json!(7));
            }),
            Reason::BadAud
        );
        assert_eq!(
            reason_for(|c| {
                c.insert("aud".into(), json!({"api": true}));
            }),
            Reason::BadAud
        );
        assert_eq!(
            reason_for(|c| {
                c.insert("aud".into(), json!(["api", 1]));
            }),
            Reason::BadAud
        );
        assert_eq!(
            reason_for(|c| {
                c.remove("aud");
            }),
            Reason::BadAud
        );
    }

    #[test]
    fn subject_must_be_a_short_non_empty_string() {
        assert_eq!(
            reason_for(|c| {
                c.remove("sub");
            }),
            Reason::BadClaim
        );
        assert_eq!(
            reason_for(|c| {
                c.insert("sub".into(), json!(""));
            }),
            Reason::BadClaim
        );
        assert_eq!(
            reason_for(|c| {
                c.insert("sub".into(), json!(42));
            }),
            Reason::BadClaim
        );
        assert_eq!(
            reason_for(|c| {
                c.insert("sub".into(), json!("x".repeat(1025)));
            }),
            Reason::BadClaim
        );
    }

    #[test]
    fn a_refusal_after_the_signature_verified_names_sub_and_jti() {
        let cfg = cfg_with(&[]);
        let f = fixture(Alg::EdDSA);
        let mut c = claims();
        c.insert("exp".into(), json!(NOW - 100));
        let r = run(&f, &cfg, &mint(&f, &c)).unwrap_err();
        assert_eq!(r.reason, Reason::Expired);
        assert_eq!(r.sub.as_deref(), Some("user-1"));
        assert_eq!(r.jti.as_deref(), Some("j-1"));
    }

    #[test]
    fn tampered_payload_is_a_bad_signature_and_names_nobody() {
        let cfg = cfg_with(&[]);
        let f = fixture(Alg::ES256);
        let token = mint(&f, &claims());
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut c = claims();
        c.insert("sub".into(), json!("admin"));
        parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&c).unwrap());
        let r = run(&f, &cfg, &parts.join(".")).unwrap_err();
        assert_eq!(r, Refusal::from(Reason::BadSig));
    }

    #[test]
    fn structure_and_header_problems_are_refused_before_any_key_is_used() {
        let cfg = cfg_with(&[]);
        let f = fixture(Alg::EdDSA);
        let token = mint(&f, &claims());
        let parts: Vec<&str> = token.split('.').collect();
        let hdr = |v: Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(&v).unwrap());
        let kid = f.signer.kid().to_owned();
        let cases: Vec<(String, Reason)> = vec![
            (String::new(), Reason::Malformed),
            (format!("{}.{}", parts[0], parts[1]), Reason::Malformed),
            (format!("{token}.x"), Reason::Malformed),
            (format!("{}.{}.", parts[0], parts[1]), Reason::Malformed),
            (
                format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
                Reason::Malformed,
            ),
            (
                format!("{} .{}.{}", parts[0], parts[1], parts[2]),
                Reason::Malformed,
            ),
            (
                format!(
                    "{}.{}.{}",
                    hdr(json!({"alg": "none", "kid": kid})),
                    parts[1],
                    parts[2]
                ),
                Reason::BadAlg,
            ),
            (
                format!(
                    "{}.{}.{}",
                    hdr(json!({"alg": "HS512", "kid": kid})),
                    parts[1],
                    parts[2]
                ),
                Reason::BadAlg,
            ),
            (
                format!("{}.{}.{}", hdr(json!({"alg": "EdDSA"})), parts[1], parts[2]),
                Reason::UnknownKid,
            ),
            (
                format!(
                    "{}.{}.{}",
                    hdr(json!({"alg": "EdDSA", "kid": "../../etc/passwd"})),
                    parts[1],
                    parts[2]
                ),
                Reason::UnknownKid,
            ),
            (
                format!(
                    "{}.{}.{}",
                    hdr(json!({"alg": "EdDSA", "kid": kid, "crit": ["exp"]})),
                    parts[1],
                    parts[2]
                ),
                Reason::Malformed,
            ),
            (
                format!(
                    "{}.{}.{}",
                    hdr(json!({"alg": "EdDSA", "kid": kid, "b64": false})),
                    parts[1],
                    parts[2]
                ),
                Reason::Malformed,
            ),
            (
                format!(
                    "{}.{}.{}",
                    hdr(json!({"alg": "EdDSA", "kid": kid, "cty": "JWT"})),
                    parts[1],
                    parts[2]
                ),
                Reason::Malformed,
            ),
            (
                format!(
                    "{}.{}.{}",
                    URL_SAFE_NO_PAD.encode(br#"{"alg":"EdDSA","alg":"EdDSA","kid":"k"}"#),
                    parts[1],
                    parts[2]
                ),
                Reason::Malformed,
            ),
            (
                format!(
                    "{}.{}.{}",
                    URL_SAFE_NO_PAD.encode(b"[]"),
                    parts[1],
                    parts[2]
                ),
                Reason::Malformed,
            ),
        ];
        for (t, want) in cases {
            let got = match run(&f, &cfg, &t) {
                Ok(_) => Reason::Ok,
                Err(r) => r.reason,
            };
            assert_eq!(got, want, "token {t}");
        }
    }

    #[test]
    fn header_alg_must_equal_the_keys_alg() {
        // A token signed with an HS256 key whose bytes are the Ed25519 public key, labelled
        // with the Ed25519 key's kid, must never verify (algorithm confusion).
        let cfg = cfg_with(&[]);
        let f = fixture(Alg::EdDSA);
        let token = mint(&f, &claims());
        let header = inspect(&token, &cfg).unwrap();
        let forged = TokenHeader {
            alg: Alg::HS256,
            kid: header.kid.clone(),
        };
        let key = f.ring.get(&header.kid).unwrap();
        assert_eq!(
            verify(&token, &forged, key, &cfg, NOW).unwrap_err().reason,
            Reason::BadAlg
        );
    }

    #[test]
    fn required_typ_is_enforced() {
        let cfg = cfg_with(&[("JWT_TYPE", "at+jwt")]);
        let f = fixture(Alg::EdDSA);
        assert_eq!(
            run(&f, &cfg, &mint(&f, &claims())).unwrap_err().reason,
            Reason::BadTyp
        );
        let token = f.signer.mint(&claims(), Some("at+jwt")).unwrap();
        assert!(run(&f, &cfg, token.expose()).is_ok());
    }
}
