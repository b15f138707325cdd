//! The vetted library stays the referee: every token the strict verifier
//! (`jwt_session::strict`, the authorizer's and the signer's) accepts, `jsonwebtoken::decode`
//! accepts too, with the same key and rules, and reads the same claims.
//!
//! Tokens are signed for real (so the claim and header rules are reached, not just the
//! signature): the input's first byte picks a key and where the rest goes — spliced into a
//! valid header or a valid claim set at a position the second byte picks, or used whole as
//! the claim set. `@E` and `@I` in the input stand for a valid `exp` and `iat`.
//!
//! Where ours refuses what jsonwebtoken accepts, it is one of the stricter rules, by design:
//! - a header of `alg`, `kid` and `typ` only (jsonwebtoken ignores unknown members and reads
//!   `crit`, `jku`, `x5u`... without acting on them);
//! - no duplicate member at any depth (serde keeps the last);
//! - `iat` must not lie in the future; `exp` must be within the maximum lifetime;
//! - `iss` exactly one string; `sub` a non-empty string of at most 1 KiB; `jti`, `scope`,
//!   `csrf` strings of at most 1 KiB; `scp` a string or a list of at most 64 strings;
//! - NumericDates are non-negative integers only; nesting at most 10 deep;
//! - at the `exp` boundary: ours refuses at `now == exp + leeway`, jsonwebtoken one second later.
#![no_main]

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jwt_session::keygen::generate;
use jwt_session::strict::{self, KeyRing, TokenRules};
use jwt_session::{Alg, Jwk, JwkSet, SigningKey};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

const ISS: &str = "https://issuer.example";
const AUD: &str = "api";

struct Key {
    jwk: Jwk,
    signer: SigningKey,
    decoding: jsonwebtoken::DecodingKey,
}

struct Fixture {
    keys: Vec<Key>,
    ring: KeyRing,
    policy: TokenRules,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let keys: Vec<Key> = [Alg::EdDSA, Alg::ES256, Alg::HS256]
            .into_iter()
            .map(|alg| {
                let jwk = generate(alg).expect("keygen");
                Key {
                    signer: SigningKey::from_jwk(&jwk).expect("signer"),
                    decoding: jwk.decoding_key().expect("decoding key"),
                    jwk,
                }
            })
            .collect();
        let ring = KeyRing::from_set(&JwkSet {
            keys: keys.iter().map(|k| k.jwk.clone()).collect(),
        });
        let policy = TokenRules {
            algorithms: vec![Alg::EdDSA, Alg::ES256, Alg::HS256],
            ..TokenRules::new(ISS, vec![AUD.to_owned(), "other".to_owned()])
        };
        Fixture { keys, ring, policy }
    })
}

fn splice(base: &[u8], at: u8, insert: &[u8]) -> Vec<u8> {
    let at = usize::from(at) % (base.len() + 1);
    let mut out = base[..at].to_vec();
    out.extend_from_slice(insert);
    out.extend_from_slice(&base[at..]);
    out
}

fn with_times(bytes: &[u8], now: u64) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes);
    if !text.contains('@') {
        return bytes.to_vec();
    }
    text.replace("@E", &(now + 600).to_string())
        .replace("@I", &(now - 10).to_string())
        .into_bytes()
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let (Some(&mode), Some(&at)) = (data.first(), data.get(1)) else {
        return;
    };
    let rest = data.get(2..).unwrap_or_default();
    let key = &f.keys[usize::from(mode) % f.keys.len()];
    let now = jwt_session::unix_now();
    let header = format!(
        r#"{{"alg":"{}","kid":"{}","typ":"JWT"}}"#,
        key.jwk.alg.as_str(),
        key.jwk.kid
    );
    let claims = format!(
        r#"{{"iss":"{ISS}","aud":["{AUD}","x"],"sub":"alice","exp":{},"iat":{},"nbf":{},"jti":"j","csrf":"c","scope":"a b","scp":["d"]}}"#,
        now + 600,
        now - 10,
        now - 10
    );
    let (header, claims) = match (mode / 3) % 3 {
        0 => (header.into_bytes(), splice(claims.as_bytes(), at, rest)),
        1 => (splice(header.as_bytes(), at, rest), claims.into_bytes()),
        _ => (header.into_bytes(), rest.to_vec()),
    };
    let claims = with_times(&claims, now);
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(&header),
        URL_SAFE_NO_PAD.encode(&claims)
    );
    let Ok(signature) = key.signer.sign_raw(input.as_bytes()) else {
        return;
    };
    let token = format!("{input}.{signature}");

    let Ok(ours) = strict::check(&token, &f.policy, &f.ring, now) else {
        return;
    };
    let Some(alg) = key.jwk.alg.to_jsonwebtoken() else {
        return;
    };
    let mut validation = jsonwebtoken::Validation::new(alg);
    validation.set_issuer(&[ISS]);
    validation.set_audience(&[AUD, "other"]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = f.policy.leeway;
    validation.validate_nbf = true;
    let theirs = match jsonwebtoken::decode::<Map<String, Value>>(&token, &key.decoding, &validation)
    {
        Ok(data) => data.claims,
        Err(e) => panic!(
            "the strict verifier accepted a token jsonwebtoken refuses ({e:?}): header {:?}, claims {:?}",
            String::from_utf8_lossy(&header),
            String::from_utf8_lossy(&claims)
        ),
    };
    let string = |name: &str| theirs.get(name).and_then(Value::as_str);
    assert_eq!(Some(ours.sub.as_str()), string("sub"), "sub");
    assert_eq!(Some(ours.exp), theirs.get("exp").and_then(Value::as_u64), "exp");
    assert_eq!(ours.iat, theirs.get("iat").and_then(Value::as_u64), "iat");
    assert_eq!(ours.jti.as_deref(), string("jti"), "jti");
    assert_eq!(ours.csrf.as_deref(), string("csrf"), "csrf");
    if let Some(scope) = string("scope") {
        assert_eq!(ours.scope.as_deref(), Some(scope), "scope");
    }
    assert_eq!(ours.kid, key.jwk.kid, "kid");
});
