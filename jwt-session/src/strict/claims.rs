//! The signature with the key's pinned algorithm, then the claims.

use super::header::decode_into;
use super::json::{self, Member};
use super::{Rejected, Rejection, TokenHeader, TokenRules, VerifyingKey};
use super::{MAX_CLAIM_BYTES, MAX_TOKEN_BYTES};

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
    /// `auth_time`, when present: when the session began (a whole number of seconds since the
    /// epoch in every format, as OpenID Connect writes it; the signer keeps it across
    /// renewals).
    pub auth_time: Option<u64>,
    /// `jti`, when present.
    pub jti: Option<String>,
    /// `sid`, the session id, when present (docs/revocation.md).
    pub sid: Option<String>,
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

impl Verified {
    /// A refusal of this token for `reason`, naming it as a verified token is named in the
    /// audit record (`kid`, `sub`, `jti`, `sid`).
    pub fn refusal<R>(self, reason: R) -> super::Refusal<R> {
        super::Refusal {
            reason,
            kid: Some(self.kid),
            sub: Some(self.sub),
            jti: self.jti,
            sid: self.sid,
        }
    }
}

/// Scope values are separated by ASCII spaces only (RFC 6749 §3.3), not by any Unicode
/// whitespace.
fn split_scopes(s: &str) -> impl Iterator<Item = &str> {
    s.split(' ').filter(|s| !s.is_empty())
}

/// Verifies the signature with `key` (already matched to `header.kid`) and checks the claims
/// at time `now` (seconds since the epoch).
pub fn verify(
    token: &str,
    header: &TokenHeader,
    key: &VerifyingKey,
    policy: &TokenRules,
    now: u64,
) -> Result<Verified, Rejection> {
    if header.alg != key.alg {
        return Err(Rejected::BadAlg.into());
    }
    // `inspect` checked there are exactly three non-empty segments.
    let (signing_input, signature) = token.rsplit_once('.').ok_or(Rejected::Malformed)?;
    let (_, payload) = signing_input.split_once('.').ok_or(Rejected::Malformed)?;
    key.verify_signature(signing_input.as_bytes(), signature)
        .map_err(Rejection::from)?;
    // Only now, with the signature verified, is the payload decoded and parsed.
    // A payload longer than the largest accepted token does not fit and is refused.
    let mut buf = [0u8; MAX_TOKEN_BYTES];
    check_payload(
        decode_into(payload, &mut buf)?,
        &key.kid,
        policy,
        now,
        Times::NumericDate,
    )
}

/// How a token format writes `exp`, `nbf` and `iat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Times {
    /// JWT: integers, seconds since the epoch (RFC 7519 NumericDate, whole seconds here).
    NumericDate,
    /// PASETO: RFC 3339 date-time strings.
    Rfc3339,
}

/// Reads a verified claim set (JSON bytes) and checks it: the same rules for every token
/// format, only the way times are written differs.
pub(crate) fn check_payload(
    payload: &[u8],
    kid: &str,
    policy: &TokenRules,
    now: u64,
    times: Times,
) -> Result<Verified, Rejection> {
    let [sub, jti, exp, nbf, iat, iss, aud, scope, scp, csrf, sid, auth_time] = json::members(
        payload,
        &[
            "sub",
            "jti",
            "exp",
            "nbf",
            "iat",
            "iss",
            "aud",
            "scope",
            "scp",
            "csrf",
            "sid",
            "auth_time",
        ],
    )
    .map_err(|_| Rejected::Malformed)?;
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
            sid,
            auth_time,
        },
        kid,
        policy,
        now,
        times,
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
    sid: Option<Member<'a>>,
    auth_time: Option<Member<'a>>,
}

fn as_time(v: &Option<Member<'_>>, times: Times) -> Result<Option<u64>, Rejected> {
    match (v, times) {
        (None, _) => Ok(None),
        (Some(Member::UInt(n)), Times::NumericDate) => Ok(Some(*n)),
        (Some(Member::Str(s)), Times::Rfc3339) => {
            rfc3339_seconds(s).map(Some).ok_or(Rejected::BadClaim)
        }
        (Some(_), _) => Err(Rejected::BadClaim),
    }
}

/// Seconds since the epoch of an RFC 3339 date-time (`2026-12-03T20:00:00Z`, an offset, a
/// fraction, which is dropped); `None` for anything else or a time before the epoch.
pub fn rfc3339_seconds(s: &str) -> Option<u64> {
    use time::format_description::well_known::Rfc3339;
    if s.len() > 64 {
        return None;
    }
    let t = time::OffsetDateTime::parse(s, &Rfc3339).ok()?;
    u64::try_from(t.unix_timestamp()).ok()
}

/// The RFC 3339 date-time (UTC, whole seconds) of `secs` since the epoch.
pub fn rfc3339(secs: u64) -> Option<String> {
    use time::format_description::well_known::Rfc3339;
    let secs = i64::try_from(secs).ok()?;
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()?
        .format(&Rfc3339)
        .ok()
}

/// A string of at most [`MAX_CLAIM_BYTES`].
fn short<'v>(v: &'v Option<Member<'_>>) -> Option<&'v str> {
    v.as_ref()
        .and_then(Member::as_str)
        .filter(|s| s.len() <= MAX_CLAIM_BYTES)
}

fn as_short_string(v: &Option<Member<'_>>) -> Result<Option<String>, Rejected> {
    match v {
        None => Ok(None),
        Some(_) => short(v)
            .map(|s| Some(s.to_owned()))
            .ok_or(Rejected::BadClaim),
    }
}

fn check_claims(
    c: Claims<'_>,
    kid: &str,
    policy: &TokenRules,
    now: u64,
    times: Times,
) -> Result<Verified, Rejection> {
    // Identify the token for the audit record first: its signature verified.
    let sub = short(&c.sub).filter(|s| !s.is_empty()).map(str::to_owned);
    let jti = short(&c.jti).map(str::to_owned);
    let sid_seen = short(&c.sid).map(str::to_owned);
    let refuse = |reason: Rejected| Rejection {
        reason,
        kid: Some(kid.to_owned()),
        sub: sub.clone(),
        jti: jti.clone(),
        sid: sid_seen.clone(),
    };
    let leeway = policy.leeway;
    let exp = as_time(&c.exp, times)
        .map_err(refuse)?
        .ok_or_else(|| refuse(Rejected::BadClaim))?;
    if now >= exp.saturating_add(leeway) {
        return Err(refuse(Rejected::Expired));
    }
    // The maximum lifetime is a bound, not a clock comparison: no leeway (docs/contract-choices.md).
    if exp.saturating_sub(now) > policy.max_lifetime {
        return Err(refuse(Rejected::BadClaim));
    }
    if let Some(nbf) = as_time(&c.nbf, times).map_err(refuse)? {
        if nbf > now.saturating_add(leeway) {
            return Err(refuse(Rejected::NotYetValid));
        }
    }
    let iat = as_time(&c.iat, times).map_err(refuse)?;
    if iat.is_some_and(|iat| iat > now.saturating_add(leeway)) {
        return Err(refuse(Rejected::NotYetValid));
    }
    match &c.iss {
        Some(Member::Str(iss)) if *iss == policy.issuer => {}
        _ => return Err(refuse(Rejected::BadIss)),
    }
    let aud_ok = match &c.aud {
        Some(Member::Str(a)) => policy.audiences.iter().any(|x| x == a),
        Some(Member::Strs(list)) => list.iter().any(|a| policy.audiences.iter().any(|x| x == a)),
        _ => false,
    };
    if !aud_ok {
        return Err(refuse(Rejected::BadAud));
    }
    let Some(sub_value) = sub.clone() else {
        return Err(refuse(Rejected::BadClaim));
    };
    if c.jti.is_some() && jti.is_none() {
        return Err(refuse(Rejected::BadClaim));
    }
    let scope = as_short_string(&c.scope).map_err(refuse)?;
    let scp: Vec<String> = match &c.scp {
        None => Vec::new(),
        Some(Member::Str(s)) if s.len() <= MAX_CLAIM_BYTES => {
            split_scopes(s).map(str::to_owned).collect()
        }
        // Each element one scope: not empty, no space (joined into the context's `scope`, an
        // element `"read admin"` would read as two scopes to a backend that splits it).
        Some(Member::Strs(items))
            if items.len() <= 64
                && items
                    .iter()
                    .all(|s| !s.is_empty() && !s.contains(' ') && s.len() <= MAX_CLAIM_BYTES) =>
        {
            items.iter().map(|s| s.to_string()).collect()
        }
        Some(_) => return Err(refuse(Rejected::BadClaim)),
    };
    let mut scopes: Vec<String> = scope
        .as_deref()
        .map(split_scopes)
        .into_iter()
        .flatten()
        .map(str::to_owned)
        .collect();
    scopes.extend(scp);
    let scope = scope.or_else(|| (!scopes.is_empty()).then(|| scopes.join(" ")));
    let csrf = as_short_string(&c.csrf).map_err(refuse)?;
    let sid = as_short_string(&c.sid).map_err(refuse)?;
    // A whole number of seconds in every format (OpenID Connect's NumericDate).
    let auth_time = as_time(&c.auth_time, Times::NumericDate).map_err(refuse)?;
    Ok(Verified {
        kid: kid.to_owned(),
        sub: sub_value,
        exp,
        iat,
        auth_time,
        jti,
        sid,
        scope,
        scopes,
        csrf,
        renew: iat.is_some_and(|iat| {
            exp.saturating_sub(now).saturating_mul(3) <= exp.saturating_sub(iat)
        }),
    })
}
