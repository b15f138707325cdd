//! Token checks, in order: shape and size, header, key selection, signature, claims.
//!
//! The signature is verified with the algorithm pinned to the one key the `kid` selects (the
//! aws-lc-rs primitive `jsonwebtoken` uses, prepared once per key by
//! [`jwt_session::jwk::Verifier`]); the payload is decoded only after that. The claim rules are stricter than the library's (an exact single
//! `iss`, integer NumericDates only, `iat`, a maximum lifetime, a non-empty `sub`) and take
//! the clock as an argument, so they are checked here, after the signature, as plain code.

use std::collections::HashMap;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::DecodeSliceError;
use base64::Engine as _;
use jwt_session::jwk::Verifier;
use jwt_session::{Alg, Jwk, JwkSet};

use crate::config::Config;
use crate::decision::{Refusal, Refused, Verified};
use crate::json::{self, Member};

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

/// Decodes a base64url segment into `buf` (no allocation); `Malformed` if it is not base64url
/// or does not fit.
fn decode_into<'b>(segment: &str, buf: &'b mut [u8]) -> Result<&'b [u8], Refused> {
    let len = URL_SAFE_NO_PAD
        .decode_slice(segment, &mut *buf)
        .map_err(|_| Refused::Malformed)?;
    buf.get(..len).ok_or(Refused::Malformed)
}

/// Whether every byte is in the base64url alphabet (one branch-free pass).
fn is_b64url(segment: &str) -> bool {
    segment.bytes().fold(true, |ok, b| {
        ok & (b.is_ascii_alphanumeric() | (b == b'-') | (b == b'_'))
    })
}

/// Checks everything that needs no key: three non-empty base64url segments, a JSON header
/// with a supported and allowed `alg`, the configured `typ`, no `crit`/`b64`/`cty`, a `kid`.
pub fn inspect(token: &str, cfg: &Config) -> Result<TokenHeader, Refused> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refused::Malformed);
    };
    if h.is_empty()
        || p.is_empty()
        || s.is_empty()
        || !is_b64url(h)
        || !is_b64url(p)
        || !is_b64url(s)
    {
        return Err(Refused::Malformed);
    }
    if h.len() > MAX_HEADER_SEGMENT {
        return Err(Refused::TooLarge);
    }
    let mut buf = [0u8; MAX_HEADER_SEGMENT];
    let [alg, typ, kid, crit, b64, cty, jwk, jku, x5u, x5c] = json::members(
        decode_into(h, &mut buf)?,
        &[
            "alg", "typ", "kid", "crit", "b64", "cty", "jwk", "jku", "x5u", "x5c",
        ],
    )
    .map_err(|_| Refused::Malformed)?;
    // Parameters that change how the token must be processed (we support none), or that carry
    // or point to a key (we never use them): a token with one is refused outright, so no later
    // change can start trusting it.
    if [crit, b64, cty, jwk, jku, x5u, x5c]
        .iter()
        .any(Option::is_some)
    {
        return Err(Refused::Malformed);
    }
    let alg: Alg = match alg {
        None => return Err(Refused::Malformed),
        Some(Member::Str(a)) => a.parse().map_err(|_| Refused::BadAlg)?,
        Some(_) => return Err(Refused::BadAlg),
    };
    if !cfg.algorithms.contains(&alg) {
        return Err(Refused::BadAlg);
    }
    let typ = match &typ {
        None => None,
        Some(Member::Str(t)) => Some(t.as_ref()),
        Some(_) => return Err(Refused::Malformed),
    };
    if let Some(required) = &cfg.jwt_type {
        if typ != Some(required.as_str()) {
            return Err(Refused::BadTyp);
        }
    }
    match kid {
        Some(Member::Str(kid)) if jwt_session::jwk::is_valid_kid(&kid) => Ok(TokenHeader {
            alg,
            kid: kid.into_owned(),
        }),
        _ => Err(Refused::UnknownKid),
    }
}

/// A verification key with its pinned algorithm, parsed once when the key set loads
/// ([`jwt_session::jwk::Verifier`]; a test checks it agrees with `jsonwebtoken::crypto::verify`
/// on valid, tampered and foreign-key tokens of every algorithm).
pub struct VerifyingKey {
    /// The key's id.
    pub kid: String,
    /// The one algorithm it verifies.
    pub alg: Alg,
    verifier: Verifier,
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// Longest signature accepted: RSA with an 8192-bit modulus.
const MAX_SIGNATURE_BYTES: usize = 1024;

impl VerifyingKey {
    /// Prepares the verification key of a validated JWK (`None` if aws-lc-rs refuses it).
    pub fn new(jwk: &Jwk) -> Option<VerifyingKey> {
        Some(VerifyingKey {
            kid: jwk.kid.clone(),
            alg: jwk.alg,
            verifier: jwk.verifier().ok()?,
        })
    }

    /// Checks `signature` (base64url, as in the token) over `message`. `Err(Malformed)` when
    /// the signature is not base64url, `Err(BadSig)` when it does not verify.
    pub fn verify_signature(&self, message: &[u8], signature: &str) -> Result<(), Refused> {
        let mut buf = [0u8; MAX_SIGNATURE_BYTES];
        let len = match URL_SAFE_NO_PAD.decode_slice(signature, &mut buf) {
            Ok(len) => len,
            Err(DecodeSliceError::OutputSliceTooSmall) => return Err(Refused::BadSig),
            Err(DecodeSliceError::DecodeError(_)) => return Err(Refused::Malformed),
        };
        let sig = buf.get(..len).ok_or(Refused::BadSig)?;
        if self.verifier.verify(message, sig) {
            Ok(())
        } else {
            Err(Refused::BadSig)
        }
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
        return Err(Refused::BadAlg.into());
    }
    // `inspect` checked there are exactly three non-empty segments.
    let (signing_input, signature) = token.rsplit_once('.').ok_or(Refused::Malformed)?;
    let (_, payload) = signing_input.split_once('.').ok_or(Refused::Malformed)?;
    key.verify_signature(signing_input.as_bytes(), signature)
        .map_err(Refusal::from)?;
    // Only now, with the signature verified, is the payload decoded and parsed.
    // The cookie reader bounds the token, so its payload fits on the stack.
    let mut buf = [0u8; crate::cookie::MAX_TOKEN_BYTES];
    let [sub, jti, exp, nbf, iat, iss, aud, scope, scp, csrf] = json::members(
        decode_into(payload, &mut buf)?,
        &[
            "sub", "jti", "exp", "nbf", "iat", "iss", "aud", "scope", "scp", "csrf",
        ],
    )
    .map_err(|_| Refused::Malformed)?;
    check_claims(
        Claims {
            sub,
            jti,
            exp,
            nbf,
            iat,
            iss,
            aud,
            scope,
            scp,
            csrf,
        },
        &key.kid,
        cfg,
        now,
    )
}

/// The registered and session claims the checks read, as found in the claim set.
struct Claims<'a> {
    sub: Option<Member<'a>>,
    jti: Option<Member<'a>>,
    exp: Option<Member<'a>>,
    nbf: Option<Member<'a>>,
    iat: Option<Member<'a>>,
    iss: Option<Member<'a>>,
    aud: Option<Member<'a>>,
    scope: Option<Member<'a>>,
    scp: Option<Member<'a>>,
    csrf: Option<Member<'a>>,
}

fn as_time(v: &Option<Member<'_>>) -> Result<Option<u64>, Refused> {
    match v {
        None => Ok(None),
        Some(Member::UInt(n)) => Ok(Some(*n)),
        Some(_) => Err(Refused::BadClaim),
    }
}

/// A string of at most [`MAX_CLAIM_BYTES`].
fn short<'v>(v: &'v Option<Member<'_>>) -> Option<&'v str> {
    v.as_ref()
        .and_then(Member::as_str)
        .filter(|s| s.len() <= MAX_CLAIM_BYTES)
}

fn as_short_string(v: &Option<Member<'_>>) -> Result<Option<String>, Refused> {
    match v {
        None => Ok(None),
        Some(_) => short(v)
            .map(|s| Some(s.to_owned()))
            .ok_or(Refused::BadClaim),
    }
}

fn check_claims(c: Claims<'_>, kid: &str, cfg: &Config, now: u64) -> Result<Verified, Refusal> {
    // Identify the token for the audit record first: its signature verified.
    let sub = short(&c.sub).filter(|s| !s.is_empty()).map(str::to_owned);
    let jti = short(&c.jti).map(str::to_owned);
    let refuse = |reason: Refused| Refusal {
        reason,
        sub: sub.clone(),
        jti: jti.clone(),
    };
    let leeway = cfg.leeway;
    let exp = as_time(&c.exp)
        .map_err(refuse)?
        .ok_or_else(|| refuse(Refused::BadClaim))?;
    if now >= exp.saturating_add(leeway) {
        return Err(refuse(Refused::Expired));
    }
    if exp.saturating_sub(now) > cfg.max_lifetime.saturating_add(leeway) {
        return Err(refuse(Refused::BadClaim));
    }
    if let Some(nbf) = as_time(&c.nbf).map_err(refuse)? {
        if nbf > now.saturating_add(leeway) {
            return Err(refuse(Refused::NotYetValid));
        }
    }
    let iat = as_time(&c.iat).map_err(refuse)?;
    if iat.is_some_and(|iat| iat > now.saturating_add(leeway)) {
        return Err(refuse(Refused::NotYetValid));
    }
    match &c.iss {
        Some(Member::Str(iss)) if *iss == cfg.issuer => {}
        _ => return Err(refuse(Refused::BadIss)),
    }
    let aud_ok = match &c.aud {
        Some(Member::Str(a)) => cfg.audiences.iter().any(|x| x == a),
        Some(Member::Strs(list)) => list.iter().any(|a| cfg.audiences.iter().any(|x| x == a)),
        _ => false,
    };
    if !aud_ok {
        return Err(refuse(Refused::BadAud));
    }
    let Some(sub_value) = sub.clone() else {
        return Err(refuse(Refused::BadClaim));
    };
    if c.jti.is_some() && jti.is_none() {
        return Err(refuse(Refused::BadClaim));
    }
    let scope = as_short_string(&c.scope).map_err(refuse)?;
    let scp: Vec<String> = match &c.scp {
        None => Vec::new(),
        Some(Member::Str(s)) if s.len() <= MAX_CLAIM_BYTES => {
            s.split_whitespace().map(str::to_owned).collect()
        }
        Some(Member::Strs(items))
            if items.len() <= 64 && items.iter().all(|s| s.len() <= MAX_CLAIM_BYTES) =>
        {
            items.iter().map(|s| s.to_string()).collect()
        }
        Some(_) => return Err(refuse(Refused::BadClaim)),
    };
    let mut scopes: Vec<String> = scope
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    scopes.extend(scp);
    let scope = scope.or_else(|| (!scopes.is_empty()).then(|| scopes.join(" ")));
    let csrf = as_short_string(&c.csrf).map_err(refuse)?;
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
    use crate::Reason;
    use jwt_session::keygen::generate;
    use jwt_session::SigningKey;
    use serde_json::json;
    use serde_json::{Map, Value};
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
        public: JwkSet,
    }

    fn fixture(alg: Alg) -> Fixture {
        let jwk = generate(alg).unwrap();
        let signer = SigningKey::from_jwk(&jwk).unwrap();
        let public = JwkSet { keys: vec![jwk] }.to_public(true);
        Fixture {
            signer,
            ring: KeyRing::from_set(&public),
            public,
        }
    }

    fn run(f: &Fixture, cfg: &Config, token: &str) -> Result<Verified, Refusal> {
        let header = inspect(token, cfg)?;
        let key = f.ring.get(&header.kid).ok_or(Refused::UnknownKid)?;
        verify(token, &header, key, cfg, NOW)
    }

    fn mint(f: &Fixture, c: &Map<String, Value>) -> String {
        f.signer.mint(c, Some("JWT")).unwrap().expose().to_owned()
    }

    #[test]
    fn signature_checks_agree_with_jsonwebtoken_for_every_algorithm() {
        use jwt_session::Alg::*;
        for alg in [
            EdDSA, ES256, ES384, RS256, RS384, RS512, PS256, PS384, PS512, HS256, HS384, HS512,
        ] {
            let f = fixture(alg);
            let other = fixture(alg);
            let good = mint(&f, &claims());
            let foreign = mint(&other, &claims());
            let (input, sig) = good.rsplit_once('.').unwrap();
            let (_, foreign_sig) = foreign.rsplit_once('.').unwrap();
            let mut flipped = sig.as_bytes().to_vec();
            flipped[3] = if flipped[3] == b'A' { b'B' } else { b'A' };
            let flipped = String::from_utf8(flipped).unwrap();
            let tampered_input = format!("{input}x");
            let key = f.ring.keys.values().next().unwrap();
            assert_eq!(f.ring.len(), 1);
            let decoding = f.public.keys[0].decoding_key().unwrap();
            for (message, signature, expected) in [
                (input, sig, true),
                (input, foreign_sig, false),
                (input, flipped.as_str(), false),
                (tampered_input.as_str(), sig, false),
                (input, "", false),
            ] {
                let ours = key.verify_signature(message.as_bytes(), signature).is_ok();
                let theirs = jsonwebtoken::crypto::verify(
                    signature,
                    message.as_bytes(),
                    &decoding,
                    alg.to_jsonwebtoken(),
                )
                .unwrap_or(false);
                assert_eq!(ours, theirs, "{alg}: ours and jsonwebtoken's disagree");
                assert_eq!(ours, expected, "{alg}");
            }
            assert_eq!(
                key.verify_signature(input.as_bytes(), "not*base64"),
                Err(Refused::Malformed)
            );
            assert_eq!(
                key.verify_signature(input.as_bytes(), &"A".repeat(2000)),
                Err(Refused::BadSig),
                "{alg}: an overlong signature is refused"
            );
        }
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
            Err(r) => r.reason.into(),
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
        assert_eq!(r.reason, Refused::Expired);
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
        assert_eq!(r, Refusal::from(Refused::BadSig));
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
                Err(r) => r.reason.into(),
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
            Refused::BadAlg
        );
    }

    #[test]
    fn required_typ_is_enforced() {
        let cfg = cfg_with(&[("JWT_TYPE", "at+jwt")]);
        let f = fixture(Alg::EdDSA);
        assert_eq!(
            run(&f, &cfg, &mint(&f, &claims())).unwrap_err().reason,
            Refused::BadTyp
        );
        let token = f.signer.mint(&claims(), Some("at+jwt")).unwrap();
        assert!(run(&f, &cfg, token.expose()).is_ok());
    }
}
