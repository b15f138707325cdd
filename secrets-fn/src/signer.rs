//! Signing as a service: tokens for a trusted caller (the login function), signed with the
//! current signing key, which never leaves this function.
//!
//! Requests (`SECRETS_FN_ACTIONS` must list `sign`):
//!
//! - `{"action": "sign", "sub": "alice", "claims": {"scope": "orders:read"}}`: a new session.
//! - `{"action": "renew", "token": "<the current session token>"}`: a fresh token for the same
//!   session (sliding expiration). The token is verified here first ([`Renewal::verify`], the
//!   one verification of our own tokens, for renewal and for revocation), then checked against
//!   the revocation table ([`crate::revoke`]); its `sub`, its extra claims and its `auth_time`
//!   (when the session began) carry over ([`Renewal::issue`]).
//!
//! The answer: `{"token", "set_cookie", "csrf", "kid", "jti", "sid", "expires_at", "session_expires_at"}`.
//! `set_cookie` is the exact `Set-Cookie` value to send; `csrf` is what the page needs for the
//! CSRF header (the token's `csrf` claim, random per token).
//!
//! Policy is enforced here, not trusted from the caller: `iss`, `aud`, `iat`, `nbf`, `exp`,
//! `jti`, `csrf`, `auth_time` and `sid` are set by the signer and a request that tries to set any of
//! them is refused; the lifetime is `SIGN_LIFETIME_SECONDS`, never past `auth_time` +
//! `SESSION_MAX_SECONDS`; the caller's claims are capped at `SIGN_MAX_CLAIMS_BYTES`. Every
//! issuance is logged with `sub`, `jti`, `kid` and lifetime, never the token.

use jwt_session::cookie::{set_cookie, SameSite};
use jwt_session::mint::{random_token, SigningKey};
use jwt_session::strict::{self, KeyRing, Rejected, TokenRules};
use jwt_session::wire::SignResponse;
use jwt_session::{Alg, JwkSet, SecretString};
use serde_json::{Map, Value};

/// Claims only the signer sets.
pub(crate) const RESERVED_CLAIMS: [&str; 9] = [
    "iss",
    "aud",
    "iat",
    "nbf",
    "exp",
    "jti",
    "csrf",
    "auth_time",
    "sid",
];

/// Signing settings.
#[derive(Debug, Clone)]
pub struct SignConfig {
    /// `iss` of every token.
    pub issuer: String,
    /// `aud` of every token.
    pub audience: String,
    /// Lifetime of one token, seconds.
    pub lifetime: u64,
    /// Absolute session lifetime from `auth_time`, seconds.
    pub session_max: u64,
    /// Cookie name.
    pub cookie_name: String,
    /// Cookie `SameSite`.
    pub same_site: SameSite,
    /// Largest accepted JSON size of the caller's claims.
    pub max_claims_bytes: usize,
}

/// Why a signing request was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The request is not a valid sign or renew request.
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// The caller tried to set a claim only the signer sets.
    #[error("claim `{0}` is set by the signer and cannot be given")]
    ReservedClaim(String),
    /// The caller's claims are too large.
    #[error("the claims are {0} bytes; at most {1} are accepted")]
    ClaimsTooLarge(usize, usize),
    /// The token would be longer than the authorizer accepts (the caller's claims are too
    /// large for this key's signature).
    #[error("the token would be {0} bytes; the authorizer accepts at most {1}")]
    TokenTooLarge(usize, usize),
    /// The token to renew does not verify, or is not ours (the strict verifier's reason).
    #[error("the token to renew is not valid ({0})")]
    InvalidToken(Rejected),
    /// The session reached its absolute lifetime.
    #[error("the session has reached its maximum lifetime; log in again")]
    SessionOver,
    /// The session, or every session of its subject, was revoked.
    #[error("the session was revoked; log in again")]
    Revoked,
    /// No key can sign.
    #[error("no signing key")]
    NoKey,
    /// Signing failed.
    #[error("signing failed")]
    Signing(#[source] jwt_session::Error),
}

impl SignError {
    /// A stable code.
    pub fn code(&self) -> &'static str {
        match self {
            SignError::BadRequest(_) => "bad_request",
            SignError::ReservedClaim(_) => "reserved_claim",
            SignError::ClaimsTooLarge(..) | SignError::TokenTooLarge(..) => "claims_too_large",
            SignError::InvalidToken(_) => "invalid_token",
            SignError::SessionOver => "session_over",
            SignError::Revoked => "revoked",
            SignError::NoKey => "no_signing_key",
            SignError::Signing(_) => "signing",
        }
    }
}

fn check_claims(claims: &Map<String, Value>, cfg: &SignConfig) -> Result<(), SignError> {
    if let Some(name) = claims
        .keys()
        .find(|k| RESERVED_CLAIMS.contains(&k.as_str()) || *k == "sub")
    {
        return Err(SignError::ReservedClaim(name.chars().take(32).collect()));
    }
    let size = serde_json::to_vec(claims)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if size > cfg.max_claims_bytes {
        return Err(SignError::ClaimsTooLarge(size, cfg.max_claims_bytes));
    }
    Ok(())
}

/// The session a token belongs to: its id and when it began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Session {
    /// `sid`, kept across renewals.
    pub(crate) sid: String,
    /// `auth_time`: when the user logged in.
    pub(crate) auth_time: u64,
}

/// Issues a token for `sub` with `claims`, in `session`.
pub(crate) fn issue(
    keys: &JwkSet,
    cfg: &SignConfig,
    sub: &str,
    claims: &Map<String, Value>,
    session: &Session,
    now: u64,
) -> Result<SignResponse, SignError> {
    let auth_time = session.auth_time;
    let session_end = auth_time.saturating_add(cfg.session_max);
    if session_end <= now {
        return Err(SignError::SessionOver);
    }
    let exp = now.saturating_add(cfg.lifetime).min(session_end);
    let signing = keys.keys.first().ok_or(SignError::NoKey)?;
    let signer = SigningKey::from_jwk(signing).map_err(SignError::Signing)?;
    let jti = random_token(16).map_err(SignError::Signing)?;
    let csrf = random_token(24).map_err(SignError::Signing)?;
    let mut all = claims.clone();
    all.insert("sub".into(), sub.into());
    all.insert("iss".into(), cfg.issuer.clone().into());
    all.insert("aud".into(), cfg.audience.clone().into());
    all.insert("iat".into(), now.into());
    all.insert("nbf".into(), now.into());
    all.insert("exp".into(), exp.into());
    all.insert("auth_time".into(), auth_time.into());
    all.insert("jti".into(), jti.clone().into());
    all.insert("sid".into(), session.sid.clone().into());
    all.insert("csrf".into(), csrf.clone().into());
    let token = signer.mint(&all, Some("JWT")).map_err(SignError::Signing)?;
    // Never issue what the authorizer would refuse (`too_large`) or a browser would drop (a
    // cookie's name and value over 4096 bytes): SIGN_MAX_CLAIMS_BYTES bounds the caller's
    // part, this bounds the whole token, whatever the key's signature adds.
    let limit = strict::MAX_TOKEN_BYTES.saturating_sub(cfg.cookie_name.len() + 1);
    if token.expose().len() > limit {
        return Err(SignError::TokenTooLarge(token.expose().len(), limit));
    }
    let lifetime = exp - now;
    let cookie = set_cookie(&cfg.cookie_name, token.expose(), lifetime, cfg.same_site)
        .map_err(SignError::Signing)?;
    tracing::info!(event = "token_issued", sub, jti = %jti, sid = %session.sid, kid = signer.kid(), lifetime, auth_time, "session token issued");
    Ok(SignResponse {
        token,
        set_cookie: SecretString::new(cookie),
        csrf,
        kid: signer.kid().to_owned(),
        jti,
        sid: session.sid.clone(),
        expires_at: exp,
        session_expires_at: session_end,
    })
}

/// The rules a token to renew must meet: the project's strict verifier
/// ([`jwt_session::strict`], the authorizer's), with this signer's issuer and audience, the
/// algorithms of its own keys, no leeway (the caller may give one: [`Renewal::verify`]), and
/// a lifetime no longer than a whole session.
fn renewal_policy(keys: &JwkSet, cfg: &SignConfig) -> TokenRules {
    let mut algorithms: Vec<Alg> = keys.keys.iter().map(|k| k.alg).collect();
    algorithms.dedup();
    // The formats its keys sign (a `v4.public` key: PASETO), the JWT algorithms of the others.
    let formats = strict::TokenFormats::of(&algorithms);
    algorithms.retain(|a| a.is_jwt());
    TokenRules {
        algorithms,
        formats,
        leeway: 0,
        max_lifetime: cfg.session_max.max(cfg.lifetime),
        ..TokenRules::new(cfg.issuer.clone(), vec![cfg.audience.clone()])
    }
}

/// The malformed-request error of a `sign` or `renew` request.
pub(crate) const BAD_REQUEST: SignError = SignError::BadRequest(
    "expected {\"action\": \"sign\", \"sub\", \"claims\"} or {\"action\": \"renew\", \"token\"}",
);

/// `sign`: a new session for `sub` with `claims`.
pub(crate) fn sign(
    sub: &str,
    claims: &Map<String, Value>,
    keys: &JwkSet,
    cfg: &SignConfig,
    now: u64,
) -> Result<SignResponse, SignError> {
    if sub.is_empty() || sub.len() > 1024 {
        return Err(SignError::BadRequest(
            "`sub` must be a non-empty string of at most 1 KiB",
        ));
    }
    check_claims(claims, cfg)?;
    let session = Session {
        sid: random_token(16).map_err(SignError::Signing)?,
        auth_time: now,
    };
    issue(keys, cfg, sub, claims, &session, now)
}

/// A verified token of a session, before it is renewed or revoked: who, which session, until
/// when. Between [`Renewal::verify`] and [`Renewal::issue`] the caller checks the
/// revocation table ([`crate::revoke::check_renewal`], when `REVOCATION_TABLE` is set).
#[derive(Debug)]
pub(crate) struct Renewal {
    /// `sub`.
    pub sub: String,
    /// `sid` as the token carries it (`None` for a token from before sessions had ids).
    pub sid: Option<String>,
    /// `exp`.
    pub exp: u64,
    auth_time: u64,
    claims: Map<String, Value>,
}

impl Renewal {
    /// `auth_time`: when the session began (kept by every renewal).
    pub(crate) fn auth_time(&self) -> u64 {
        self.auth_time
    }

    /// Verifies `token` with our own keys (current and previous) under the same strict rules
    /// as the authorizer (header members, duplicate members, claim types), with a clock
    /// `leeway` in seconds: 0 to renew; to revoke, as much as an authorizer may accept.
    pub(crate) fn verify(
        token: &SecretString,
        keys: &JwkSet,
        cfg: &SignConfig,
        now: u64,
        leeway: u64,
    ) -> Result<Renewal, SignError> {
        if token.expose().len() > strict::MAX_TOKEN_BYTES {
            return Err(SignError::InvalidToken(Rejected::TooLarge));
        }
        let token = token.expose();
        let ring = KeyRing::from_set(keys);
        let policy = TokenRules {
            leeway,
            ..renewal_policy(keys, cfg)
        };
        let verified = strict::check(token, &policy, &ring, now)
            .map_err(|r| SignError::InvalidToken(r.reason))?;
        let claims = strict::claims_map(token).map_err(SignError::InvalidToken)?;
        // `claims_map` reads the token `check` accepted; the two must name the same session.
        if claims.get("sub").and_then(Value::as_str) != Some(verified.sub.as_str()) {
            return Err(SignError::InvalidToken(Rejected::BadClaim));
        }
        let auth_time = claims
            .get("auth_time")
            .and_then(Value::as_u64)
            .ok_or(SignError::InvalidToken(Rejected::BadClaim))?;
        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or(SignError::InvalidToken(Rejected::BadClaim))?;
        let sid = match claims.get("sid").and_then(Value::as_str) {
            Some(sid) if !sid.is_empty() && sid.len() <= strict::MAX_CLAIM_BYTES => {
                Some(sid.to_owned())
            }
            Some(_) => return Err(SignError::InvalidToken(Rejected::BadClaim)),
            None => None,
        };
        Ok(Renewal {
            sub,
            sid,
            // As the verifier read it (a PASETO writes it as RFC 3339).
            exp: verified.exp,
            auth_time,
            claims,
        })
    }

    /// A fresh token for the same session: its id and `auth_time` kept (a token issued
    /// before sessions had ids starts one now), its extra claims carried over.
    pub(crate) fn issue(
        mut self,
        keys: &JwkSet,
        cfg: &SignConfig,
        now: u64,
    ) -> Result<SignResponse, SignError> {
        let sid = match self.sid {
            Some(sid) => sid,
            None => random_token(16).map_err(SignError::Signing)?,
        };
        self.claims
            .retain(|k, _| !RESERVED_CLAIMS.contains(&k.as_str()) && k != "sub");
        let session = Session {
            sid,
            auth_time: self.auth_time,
        };
        let out = issue(keys, cfg, &self.sub, &self.claims, &session, now)?;
        tracing::info!(event = "token_renewed", sub = %self.sub, sid = %session.sid, auth_time = self.auth_time, "session renewed");
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jwt_session::keygen::generate;
    use jwt_session::Alg;
    use serde_json::json;

    // The building blocks with a given clock. Requests through the function (sign, renew,
    // revoke, with the revocation check) are in `crate::tests`.

    const NOW: u64 = 1_800_000_000;

    fn cfg() -> SignConfig {
        SignConfig {
            issuer: "https://auth.example".into(),
            audience: "api".into(),
            lifetime: 900,
            session_max: 3600,
            cookie_name: "__Host-session".into(),
            same_site: SameSite::Strict,
            max_claims_bytes: 256,
        }
    }

    fn keys() -> JwkSet {
        JwkSet {
            keys: vec![generate(Alg::EdDSA).unwrap()],
        }
    }

    fn sign_alice(k: &JwkSet, now: u64) -> SignResponse {
        let claims = json!({"scope": "read"});
        sign("alice", claims.as_object().unwrap(), k, &cfg(), now).unwrap()
    }

    fn verify(token: &SecretString, k: &JwkSet, now: u64) -> Result<Renewal, SignError> {
        Renewal::verify(token, k, &cfg(), now, 0)
    }

    /// A renewal at `now`, as the function makes it (its revocation check aside).
    fn renew(token: &SecretString, k: &JwkSet, now: u64) -> Result<SignResponse, SignError> {
        verify(token, k, now)?.issue(k, &cfg(), now)
    }

    #[test]
    fn a_new_session_gets_every_registered_claim_from_the_signer() {
        let k = keys();
        let out = sign_alice(&k, NOW);
        assert_eq!(out.expires_at, NOW + 900);
        assert_eq!(out.session_expires_at, NOW + 3600);
        let cookie = out.set_cookie.expose();
        assert!(
            cookie.starts_with("__Host-session=")
                && cookie.contains("Max-Age=900; Path=/; Secure; HttpOnly; SameSite=Strict")
        );
        let claims = verify(&out.token, &k, NOW).unwrap().claims;
        assert_eq!(claims["csrf"], out.csrf.as_str());
        assert_eq!(claims["auth_time"], NOW);
        assert_eq!(claims["scope"], "read");
        assert_eq!(claims["iss"], "https://auth.example");
    }

    #[test]
    fn renewal_reads_a_token_under_the_authorizers_strict_rules() {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine as _;
        let k = keys();
        let signer = jwt_session::SigningKey::from_jwk(&k.keys[0]).unwrap();
        let kid = signer.kid().to_owned();
        let claims = format!(
            r#"{{"sub":"alice","iss":"https://auth.example","aud":"api","exp":{},"iat":{NOW},"auth_time":{NOW},"jti":"j","csrf":"c"}}"#,
            NOW + 600
        );
        let signed = |header: &str, claims: &str| {
            let input = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(header),
                URL_SAFE_NO_PAD.encode(claims)
            );
            let sig = signer.sign_raw(input.as_bytes()).unwrap();
            SecretString::new(format!("{input}.{sig}"))
        };
        let header = format!(r#"{{"alg":"EdDSA","kid":"{kid}","typ":"JWT"}}"#);
        let good = signed(&header, &claims);
        assert!(verify(&good, &k, NOW).is_ok());
        // What jsonwebtoken's `Validation` let through before: a duplicate claim (which `sub`
        // is the session's?), a header member we never read, a string `exp`.
        let dup = claims.replacen(r#""sub":"alice","#, r#""sub":"alice","sub":"admin","#, 1);
        let extra = format!(r#"{{"alg":"EdDSA","kid":"{kid}","x5u":"https://x.example"}}"#);
        let string_exp =
            claims.replacen(&format!("{}", NOW + 600), &format!("\"{}\"", NOW + 600), 1);
        for (token, why) in [
            (signed(&header, &dup), Rejected::Malformed),
            (signed(&extra, &claims), Rejected::Malformed),
            (signed(&header, &string_exp), Rejected::BadClaim),
        ] {
            match verify(&token, &k, NOW) {
                Err(SignError::InvalidToken(r)) => assert_eq!(r, why),
                other => panic!("renewal accepted or failed otherwise: {other:?}"),
            }
        }
    }

    #[test]
    fn a_revocation_accepts_a_token_within_the_authorizers_leeway_after_its_exp() {
        let k = keys();
        let out = sign_alice(&k, NOW);
        let after = out.expires_at + 10;
        assert!(verify(&out.token, &k, after).is_err(), "no leeway to renew");
        let session = Renewal::verify(&out.token, &k, &cfg(), after, 300).unwrap();
        assert_eq!(session.sid.as_deref(), Some(out.sid.as_str()));
        assert_eq!(session.exp, out.expires_at);
        assert!(Renewal::verify(&out.token, &k, &cfg(), out.expires_at + 301, 300).is_err());
    }

    #[test]
    fn a_token_the_authorizer_would_refuse_as_too_large_is_never_issued() {
        let mut c = cfg();
        c.max_claims_bytes = 8192;
        let claims = json!({"blob": "x".repeat(3500)});
        let err = sign("alice", claims.as_object().unwrap(), &keys(), &c, NOW).unwrap_err();
        // The cookie's name and value must fit in a browser's 4096 bytes.
        let limit = 4096 - "__Host-session=".len();
        assert!(
            matches!(err, SignError::TokenTooLarge(n, l) if l == limit && n > l),
            "{err}"
        );
        assert_eq!(err.code(), "claims_too_large");
    }

    #[test]
    fn claims_that_would_override_the_signers_are_refused() {
        for name in [
            "iss",
            "aud",
            "iat",
            "nbf",
            "exp",
            "jti",
            "csrf",
            "auth_time",
            "sid",
            "sub",
        ] {
            let claims = json!({name: 1});
            let err = sign("alice", claims.as_object().unwrap(), &keys(), &cfg(), NOW).unwrap_err();
            assert_eq!(err.code(), "reserved_claim", "{name}");
        }
        let big = json!({"x": "y".repeat(300)});
        let err = sign("alice", big.as_object().unwrap(), &keys(), &cfg(), NOW).unwrap_err();
        assert_eq!(err.code(), "claims_too_large");
        let err = sign("", &Map::new(), &keys(), &cfg(), NOW).unwrap_err();
        assert_eq!(err.code(), "bad_request");
    }

    #[test]
    fn renewal_keeps_the_session_start_and_stops_at_the_absolute_limit() {
        let k = keys();
        let first = sign_alice(&k, NOW);
        // Expired by now: renewal needs a live token.
        let err = renew(&first.token, &k, NOW + 3000).unwrap_err();
        assert_eq!(err.code(), "invalid_token");
        let mid = renew(&first.token, &k, NOW + 800).unwrap();
        assert_eq!(mid.expires_at, NOW + 800 + 900);
        let second = renew(&mid.token, &k, NOW + 1600).unwrap();
        let third = renew(&second.token, &k, NOW + 2400).unwrap();
        assert_eq!(third.expires_at, NOW + 3300);
        let fourth = renew(&third.token, &k, NOW + 3200).unwrap();
        assert_eq!(
            fourth.expires_at,
            NOW + 3600,
            "capped at auth_time + SESSION_MAX_SECONDS"
        );
        let renewal = verify(&fourth.token, &k, NOW + 3300).unwrap();
        assert_eq!(renewal.auth_time(), NOW);
        assert_eq!(renewal.claims["scope"], "read");
        assert_ne!(renewal.claims["csrf"], first.csrf.as_str());
        // One session id from the login through every renewal (docs/revocation.md).
        assert_eq!(renewal.sid.as_deref(), Some(first.sid.as_str()));
        assert_eq!(fourth.sid, first.sid);
        assert_eq!(first.sid.len(), 22);
        let another = sign_alice(&k, NOW);
        assert_ne!(another.sid, first.sid, "each login is a session of its own");
    }

    #[test]
    fn a_paseto_token_is_read_with_its_times_in_rfc_3339() {
        let k = JwkSet {
            keys: vec![generate(Alg::V4Public).unwrap()],
        };
        let first = sign_alice(&k, NOW);
        assert!(first.token.expose().starts_with("v4.public."));
        let renewal = verify(&first.token, &k, NOW + 700).unwrap();
        assert!(renewal.claims["exp"].is_string(), "{:?}", renewal.claims);
        assert_eq!(renewal.exp, NOW + 900, "exp read from its RFC 3339 form");
        // A JWT key set cannot renew it, nor can a PASETO key set renew a JWT.
        assert!(verify(&first.token, &keys(), NOW + 700).is_err());
        let jwt = sign_alice(&keys(), NOW);
        assert!(verify(&jwt.token, &k, NOW).is_err());
    }
}
