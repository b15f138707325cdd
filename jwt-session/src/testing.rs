//! Builders for tests (feature `test-util`): one place that knows every field of a verified
//! token, so a new claim touches this file, not every test that needs a token.

use crate::strict::Verified;

/// A [`Verified`] token for a test: `kid` `k`, the given `sub`, nothing else but what is set.
#[derive(Debug, Clone)]
pub struct VerifiedBuilder(Verified);

impl VerifiedBuilder {
    /// A token of `sub`, `exp` 0, no other claim.
    pub fn new(sub: &str) -> Self {
        VerifiedBuilder(Verified {
            kid: "k".into(),
            sub: sub.into(),
            exp: 0,
            iat: None,
            auth_time: None,
            jti: None,
            sid: None,
            scope: None,
            scopes: Vec::new(),
            csrf: None,
            renew: false,
        })
    }

    /// `kid`.
    pub fn kid(mut self, kid: &str) -> Self {
        self.0.kid = kid.into();
        self
    }

    /// `exp`.
    pub fn exp(mut self, exp: u64) -> Self {
        self.0.exp = exp;
        self
    }

    /// `iat` and `auth_time` both: a session begun and issued at `at`, expiring `lifetime`
    /// later.
    pub fn issued(mut self, at: u64, lifetime: u64) -> Self {
        self.0.iat = Some(at);
        self.0.auth_time = Some(at);
        self.0.exp = at.saturating_add(lifetime);
        self
    }

    /// `jti`.
    pub fn jti(mut self, jti: &str) -> Self {
        self.0.jti = Some(jti.into());
        self
    }

    /// `sid`.
    pub fn sid(mut self, sid: &str) -> Self {
        self.0.sid = Some(sid.into());
        self
    }

    /// `scope` (space-separated), and the scopes it holds.
    pub fn scope(mut self, scope: &str) -> Self {
        self.0.scopes = scope
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        self.0.scope = Some(scope.into());
        self
    }

    /// `csrf`, when some.
    pub fn csrf(mut self, csrf: Option<&str>) -> Self {
        self.0.csrf = csrf.map(str::to_owned);
        self
    }

    /// The token.
    pub fn build(self) -> Verified {
        self.0
    }
}
