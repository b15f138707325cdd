//! The PASETO path (docs/paseto.md) with a fixed key ring (a v4.public key, and an EdDSA key
//! under a PASERK-looking kid): arbitrary token text; mutations of a valid token (the input
//! spliced into it); and arbitrary claim bytes and footers signed by the real key, so the
//! claim checks run on what a signer could have written. Nothing may panic, and a token the
//! verifier accepts must carry exactly the `sub` and `exp` its (signed) payload says.
#![no_main]

use std::sync::OnceLock;

use jwt_session::keygen::generate;
use jwt_session::mint::SigningKey;
use jwt_session::jwk::paserk_id;
use jwt_session::strict::paseto::sign_bytes;
use jwt_session::strict::{check, KeyRing, TokenFormats, TokenRules};
use jwt_session::{Alg, JwkSet};
use libfuzzer_sys::fuzz_target;

const NOW: u64 = 1_800_000_000;

struct Fixture {
    ring: KeyRing,
    policy: TokenRules,
    token: String,
    secret: Vec<u8>,
    kid: String,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let v4 = generate(Alg::V4Public).expect("keygen");
        let mut eddsa = generate(Alg::EdDSA).expect("keygen");
        if let jwt_session::jwk::KeyMaterial::Okp { x, .. } = &eddsa.material {
            eddsa.kid = paserk_id(x).expect("kid");
        }
        let (secret, kid) = match &v4.material {
            jwt_session::jwk::KeyMaterial::Okp { x, d: Some(d) } => {
                let mut s = d.expose().to_vec();
                s.extend_from_slice(x);
                (s, v4.kid.clone())
            }
            _ => panic!("an OKP key"),
        };
        let claims = serde_json::json!({
            "iss": "https://issuer.example", "aud": "api", "sub": "alice",
            "iat": NOW - 10, "exp": NOW + 600, "jti": "j", "sid": "s", "csrf": "c",
        });
        let token = SigningKey::from_jwk(&v4)
            .and_then(|s| s.mint(claims.as_object().expect("object"), None))
            .expect("mint")
            .expose()
            .to_owned();
        let ring = KeyRing::from_set(&JwkSet { keys: vec![v4, eddsa] }.to_public(false));
        let policy = TokenRules {
            formats: TokenFormats::BOTH,
            ..TokenRules::new("https://issuer.example", vec!["api".to_owned()])
        };
        Fixture { ring, policy, token, secret, kid }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let _ = check(&String::from_utf8_lossy(data), &f.policy, &f.ring, NOW);
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            // Spliced into the valid token.
            let base = f.token.as_bytes();
            let at = rest.first().map_or(0, |b| usize::from(*b)) % (base.len() + 1);
            let mut t = base[..at].to_vec();
            t.extend_from_slice(rest.get(1..).unwrap_or_default());
            t.extend_from_slice(&base[at..]);
            let _ = check(&String::from_utf8_lossy(&t), &f.policy, &f.ring, NOW);
        }
        1 => {
            // Arbitrary claims, validly signed with the real footer.
            let footer = serde_json::json!({ "kid": f.kid }).to_string();
            if let Ok(token) = sign_bytes(&f.secret, rest, footer.as_bytes(), None) {
                if let Ok(v) = check(&token, &f.policy, &f.ring, NOW) {
                    let claims: serde_json::Value =
                        serde_json::from_slice(rest).expect("accepted claims are JSON");
                    assert_eq!(claims["sub"].as_str(), Some(v.sub.as_str()));
                    let exp = claims["exp"].as_str().expect("exp is a string");
                    assert_eq!(jwt_session::strict::rfc3339_seconds(exp), Some(v.exp));
                }
            }
        }
        _ => {
            // An arbitrary footer, validly signed over valid claims.
            let claims = br#"{"iss":"https://issuer.example","aud":"api","sub":"a","exp":"2027-01-15T08:10:00Z"}"#;
            if let Ok(token) = sign_bytes(&f.secret, claims, rest, None) {
                if check(&token, &f.policy, &f.ring, NOW).is_ok() {
                    let footer: serde_json::Value =
                        serde_json::from_slice(rest).expect("accepted footers are JSON");
                    assert_eq!(footer, serde_json::json!({ "kid": f.kid }));
                }
            }
        }
    }
});
