//! Everything checked before a key is chosen.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use super::json::{self, Member};
use super::{Rejected, TokenRules};
use crate::Alg;

/// The header members a token may have; any other is refused.
pub const HEADER_MEMBERS: [&str; 3] = ["alg", "typ", "kid"];

/// Longest header segment (base64url) accepted.
pub(super) const MAX_HEADER_SEGMENT: usize = 1024;

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
pub(super) fn decode_into<'b>(segment: &str, buf: &'b mut [u8]) -> Result<&'b [u8], Rejected> {
    let len = URL_SAFE_NO_PAD
        .decode_slice(segment, &mut *buf)
        .map_err(|_| Rejected::Malformed)?;
    buf.get(..len).ok_or(Rejected::Malformed)
}

/// Whether every byte is in the base64url alphabet (one branch-free pass).
fn is_b64url(segment: &str) -> bool {
    segment.bytes().fold(true, |ok, b| {
        ok & (b.is_ascii_alphanumeric() | (b == b'-') | (b == b'_'))
    })
}

/// Checks everything that needs no key: three non-empty base64url segments, a JSON header
/// of `alg`, `kid` and `typ` only, with a supported and allowed `alg`, the required `typ`, a
/// valid `kid`.
pub fn inspect(token: &str, policy: &TokenRules) -> Result<TokenHeader, Rejected> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Rejected::Malformed);
    };
    if h.is_empty()
        || p.is_empty()
        || s.is_empty()
        || !is_b64url(h)
        || !is_b64url(p)
        || !is_b64url(s)
    {
        return Err(Rejected::Malformed);
    }
    if h.len() > MAX_HEADER_SEGMENT {
        return Err(Rejected::TooLarge);
    }
    let mut buf = [0u8; MAX_HEADER_SEGMENT];
    // A header of `alg`, `kid` and `typ` only. Every other parameter either changes how the
    // token must be processed (`crit`, `b64`, `cty`, `zip`: we support none), carries or
    // points to a key (`jwk`, `jku`, `x5u`, `x5c`, `x5t`: we never use them), or means nothing
    // to us; a token with one is refused outright, so no later change can start trusting it
    // and no library that reads the header differently can accept what we read as harmless.
    let [alg, typ, kid] = json::only_members(decode_into(h, &mut buf)?, &HEADER_MEMBERS)
        .map_err(|_| Rejected::Malformed)?;
    let alg: Alg = match alg {
        None => return Err(Rejected::Malformed),
        Some(Member::Str(a)) => a.parse().map_err(|_| Rejected::BadAlg)?,
        Some(_) => return Err(Rejected::BadAlg),
    };
    if !policy.algorithms.contains(&alg) {
        return Err(Rejected::BadAlg);
    }
    let typ = match &typ {
        None => None,
        Some(Member::Str(t)) => Some(t.as_ref()),
        Some(_) => return Err(Rejected::Malformed),
    };
    if let Some(required) = &policy.typ {
        if typ != Some(required.as_str()) {
            return Err(Rejected::BadTyp);
        }
    }
    match kid {
        Some(Member::Str(kid)) if crate::jwk::is_valid_kid(&kid) => Ok(TokenHeader {
            alg,
            kid: kid.into_owned(),
        }),
        _ => Err(Rejected::UnknownKid),
    }
}
