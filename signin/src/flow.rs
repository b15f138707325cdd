//! The flow's state between `GET /login/oidc` and its callback: the PKCE verifier, `state`,
//! `nonce`, the provider and where to return, sealed with AES-256-GCM into a short-lived
//! `__Host-` cookie. Only the browser that started the flow holds it; a callback without it,
//! with one that does not open, or after it expired is refused; `state` must then equal the
//! one inside (compared in constant time).
//!
//! Sealed rather than only signed: the verifier and the nonce are secrets. `SameSite=Lax`, not
//! `Strict`: the callback is a top-level navigation from the provider's site, which a `Strict`
//! cookie would not follow. The value is `base64url(version ‖ key id ‖ nonce ‖ ciphertext)`,
//! the cookie's name the additional data; the key id lets a new flow key take over while flows
//! sealed with the previous one finish.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::Error;

/// The flow cookie's name.
pub const FLOW_COOKIE: &str = "__Host-oidc-flow";
/// How long a flow may take, from the redirect to the provider to the callback.
pub const FLOW_SECONDS: u64 = 600;
/// The sealed format's version.
const VERSION: u8 = 1;
/// The tag AES-GCM appends.
const TAG_LEN: usize = 16;

/// A flow key: 32 bytes from the sign-in function's own secret, with its id.
pub struct FlowKey {
    id: u8,
    key: LessSafeKey,
}

impl std::fmt::Debug for FlowKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl FlowKey {
    /// The key `id` with these 32 bytes.
    pub fn new(id: u8, bytes: &[u8]) -> Result<FlowKey, Error> {
        let key = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| Error::FlowKey)?;
        Ok(FlowKey {
            id,
            key: LessSafeKey::new(key),
        })
    }
}

/// One flow's state. Its secrets are wiped on drop and never shown by `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
pub struct FlowState {
    /// The provider's name.
    pub provider: String,
    /// `state`, echoed by the provider.
    state: String,
    /// `nonce`, which the ID token must carry.
    nonce: String,
    /// The PKCE code verifier (RFC 7636; its S256 challenge goes to the provider).
    verifier: String,
    /// Where to send the browser once signed in: a path of this site.
    pub return_to: String,
    /// Seconds since the epoch after which the flow is refused.
    pub expires_at: u64,
}

impl std::fmt::Debug for FlowState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowState")
            .field("provider", &self.provider)
            .field("return_to", &self.return_to)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

fn random_token() -> Result<String, Error> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| Error::FlowKey)?;
    let token = URL_SAFE_NO_PAD.encode(bytes);
    bytes.zeroize();
    Ok(token)
}

impl FlowState {
    /// A new flow with `provider`, returning to `return_to` (made safe: see
    /// [`safe_return_path`]), started at `now`.
    pub fn start(provider: &str, return_to: &str, now: u64) -> Result<FlowState, Error> {
        Ok(FlowState {
            provider: provider.to_owned(),
            state: random_token()?,
            nonce: random_token()?,
            verifier: random_token()?,
            return_to: safe_return_path(return_to).to_owned(),
            expires_at: now.saturating_add(FLOW_SECONDS),
        })
    }

    /// `state`, for the authorization request.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// `nonce`, for the authorization request and the ID token check.
    pub fn nonce(&self) -> &str {
        &self.nonce
    }

    /// The PKCE verifier, for the code exchange.
    pub fn verifier(&self) -> &str {
        &self.verifier
    }

    /// The PKCE challenge (S256) for the authorization request.
    pub fn challenge(&self) -> String {
        let digest =
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, self.verifier.as_bytes());
        URL_SAFE_NO_PAD.encode(digest.as_ref())
    }

    /// Whether the callback's `state` is this flow's (constant time).
    pub fn state_matches(&self, given: &str) -> bool {
        aws_lc_rs::constant_time::verify_slices_are_equal(self.state.as_bytes(), given.as_bytes())
            .is_ok()
    }

    /// The `Set-Cookie` value carrying the sealed flow.
    pub fn set_cookie(&self, key: &FlowKey) -> Result<String, Error> {
        let mut json = serde_json::to_vec(self).map_err(|_| Error::FlowKey)?;
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| Error::FlowKey)?;
        let sealed = key.key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(FLOW_COOKIE.as_bytes()),
            &mut json,
        );
        if sealed.is_err() {
            json.zeroize();
            return Err(Error::FlowKey);
        }
        let mut out = Vec::with_capacity(2 + NONCE_LEN + json.len());
        out.extend_from_slice(&[VERSION, key.id]);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&json);
        Ok(format!(
            "{FLOW_COOKIE}={}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={FLOW_SECONDS}",
            URL_SAFE_NO_PAD.encode(out)
        ))
    }

    /// The `Set-Cookie` value that removes the flow cookie (every callback sends it, whatever
    /// its outcome: a flow is used once).
    pub fn clear_cookie() -> String {
        format!("{FLOW_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0")
    }

    /// Opens the flow cookie's value with one of `keys` (the current flow key, and the previous
    /// one while flows sealed with it may still come back), refusing it after `expires_at`.
    pub fn open(value: Option<&str>, keys: &[FlowKey], now: u64) -> Result<FlowState, Error> {
        let value = value.ok_or(Error::FlowCookieMissing)?;
        let mut raw = URL_SAFE_NO_PAD
            .decode(value)
            .map_err(|_| Error::FlowCookieInvalid)?;
        let (version, key_id) = match raw.as_slice() {
            [v, k, ..] if raw.len() >= 2 + NONCE_LEN + TAG_LEN => (*v, *k),
            _ => return Err(Error::FlowCookieInvalid),
        };
        let key = keys
            .iter()
            .find(|k| k.id == key_id)
            .filter(|_| version == VERSION)
            .ok_or(Error::FlowCookieInvalid)?;
        let nonce = raw
            .get(2..2 + NONCE_LEN)
            .and_then(|n| Nonce::try_assume_unique_for_key(n).ok())
            .ok_or(Error::FlowCookieInvalid)?;
        let mut sealed = raw.split_off(2 + NONCE_LEN);
        let opened = key
            .key
            .open_in_place(nonce, Aad::from(FLOW_COOKIE.as_bytes()), &mut sealed)
            .map_err(|_| Error::FlowCookieInvalid)
            .and_then(|plain| {
                serde_json::from_slice::<FlowState>(plain).map_err(|_| Error::FlowCookieInvalid)
            });
        sealed.zeroize();
        let flow = opened?;
        if now >= flow.expires_at {
            return Err(Error::FlowExpired);
        }
        Ok(flow)
    }
}

/// Where a browser may be sent back to after signing in: a path of this site (`/`, `/orders`),
/// never another site (`//evil.example`, `/\evil.example`, `https://…`) nor anything with a
/// control character; anything else becomes `/`.
pub fn safe_return_path(path: &str) -> &str {
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.bytes().any(|b| b.is_ascii_control())
        && path.len() <= 512;
    if ok {
        path
    } else {
        "/"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn key(id: u8) -> FlowKey {
        let mut bytes = [0u8; 32];
        aws_lc_rs::rand::fill(&mut bytes).unwrap();
        FlowKey::new(id, &bytes).unwrap()
    }

    fn value(set_cookie: &str) -> &str {
        set_cookie
            .strip_prefix("__Host-oidc-flow=")
            .and_then(|v| v.split(';').next())
            .unwrap()
    }

    #[test]
    fn a_sealed_flow_opens_with_its_key_and_keeps_its_state() {
        let k = key(1);
        let flow = FlowState::start("corp", "/orders", NOW).unwrap();
        let cookie = flow.set_cookie(&k).unwrap();
        assert!(cookie.contains("; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=600"));
        let opened = FlowState::open(Some(value(&cookie)), &[k], NOW + 10).unwrap();
        assert_eq!(opened, flow);
        assert!(opened.state_matches(flow.state()));
        assert!(!opened.state_matches("another"));
        assert_eq!(opened.return_to, "/orders");
        assert_eq!(opened.challenge().len(), 43);
    }

    #[test]
    fn a_flow_is_refused_missing_tampered_under_another_key_or_expired() {
        let (k1, k2) = (key(1), key(2));
        let flow = FlowState::start("corp", "/", NOW).unwrap();
        let cookie = flow.set_cookie(&k1).unwrap();
        let v = value(&cookie);
        assert_eq!(
            FlowState::open(None, &[key(1)], NOW),
            Err(Error::FlowCookieMissing)
        );
        assert_eq!(
            FlowState::open(Some(v), &[k2], NOW),
            Err(Error::FlowCookieInvalid)
        );
        let same_id_other_bytes = key(1);
        assert_eq!(
            FlowState::open(Some(v), &[same_id_other_bytes], NOW),
            Err(Error::FlowCookieInvalid)
        );
        let mut raw = URL_SAFE_NO_PAD.decode(v).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        let tampered = URL_SAFE_NO_PAD.encode(raw);
        assert_eq!(
            FlowState::open(Some(&tampered), &[key(1)], NOW),
            Err(Error::FlowCookieInvalid)
        );
        for junk in ["", "x", "AAAA", "%%%", &"A".repeat(4000)] {
            assert_eq!(
                FlowState::open(Some(junk), &[key(1)], NOW),
                Err(Error::FlowCookieInvalid),
                "{junk}"
            );
        }
        assert_eq!(
            FlowState::open(Some(v), &[k1], NOW + FLOW_SECONDS),
            Err(Error::FlowExpired)
        );
    }

    #[test]
    fn the_previous_key_still_opens_flows_it_sealed() {
        let (old, new) = (key(1), key(2));
        let flow = FlowState::start("corp", "/", NOW).unwrap();
        let cookie = flow.set_cookie(&old).unwrap();
        assert!(FlowState::open(Some(value(&cookie)), &[new, old], NOW).is_ok());
    }

    #[test]
    fn two_flows_never_share_state_nonce_or_verifier() {
        let a = FlowState::start("corp", "/", NOW).unwrap();
        let b = FlowState::start("corp", "/", NOW).unwrap();
        assert_ne!(a.state(), b.state());
        assert_ne!(a.nonce(), b.nonce());
        assert_ne!(a.verifier(), b.verifier());
        let shown = format!("{a:?}");
        assert!(
            !shown.contains(a.state())
                && !shown.contains(a.verifier())
                && !shown.contains(a.nonce())
        );
    }

    #[test]
    fn only_a_path_of_this_site_is_a_return_path() {
        for ok in ["/", "/orders", "/a/b?c=d"] {
            assert_eq!(safe_return_path(ok), ok);
        }
        for bad in [
            "",
            "orders",
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "/a\r\nSet-Cookie: x",
            "/\u{7f}",
        ] {
            assert_eq!(safe_return_path(bad), "/", "{bad:?}");
        }
    }
}
