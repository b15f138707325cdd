//! Shared fixture: a configuration, a key ring with one key of each family, and valid tokens
//! to seed mutations from. Keys are generated per process, never stored.

use std::sync::OnceLock;

use authorizer::Config;
use authorizer::internal::strict::KeyRing;
use jwt_session::keygen::generate;
use jwt_session::mint::{SessionClaims, SigningKey};
use jwt_session::{Alg, JwkSet};

pub const NOW: u64 = 1_800_000_000;

#[allow(dead_code)]
pub struct Fixture {
    pub cfg: Config,
    pub ring: KeyRing,
    pub tokens: Vec<String>,
}

pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let pairs = [
            ("JWT_ISSUER", "https://issuer.example"),
            ("JWT_AUDIENCE", "api"),
            ("JWT_ALGORITHMS", "EdDSA,ES256,RS256,HS256"),
            ("ALLOWED_ORIGINS", "https://app.example"),
            ("ROUTE_SCOPES", "POST /orders = write"),
        ];
        let cfg = Config::from_lookup(|k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string()))
            .expect("fixture config");
        let keys: Vec<_> = [Alg::EdDSA, Alg::ES256, Alg::RS256, Alg::HS256]
            .into_iter()
            .map(|a| generate(a).expect("keygen"))
            .collect();
        let tokens = keys
            .iter()
            .map(|k| {
                let claims = SessionClaims {
                    issuer: "https://issuer.example",
                    audience: "api",
                    subject: "alice",
                    issued_at: NOW - 10,
                    lifetime: 600,
                    jti: Some("j"),
                    csrf: Some("c"),
                    scope: Some("write"),
                };
                SigningKey::from_jwk(k)
                    .and_then(|s| s.mint(&claims.to_map(), Some("JWT")))
                    .expect("mint")
                    .expose()
                    .to_owned()
            })
            .collect();
        let ring = KeyRing::from_set(&JwkSet { keys }.to_public(true));
        Fixture { cfg, ring, tokens }
    })
}
