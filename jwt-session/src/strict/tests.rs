//! Tests of the strict verifier.

use super::*;
use crate::keygen::generate;
use crate::{Alg, JwkSet, SigningKey};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::json;
use serde_json::{Map, Value};

const NOW: u64 = 1_800_000_000;

fn cfg_with(extra: &[(&str, &str)]) -> TokenRules {
    let mut p = TokenRules::new(
        "https://issuer.example",
        vec!["api".to_owned(), "other".to_owned()],
    );
    p.algorithms = vec![Alg::EdDSA, Alg::ES256, Alg::RS256, Alg::HS256];
    for (k, v) in extra {
        match *k {
            "JWT_TYPE" => p.typ = Some((*v).to_owned()),
            "JWT_LEEWAY_SECONDS" => p.leeway = v.parse().unwrap(),
            "JWT_MAX_LIFETIME_SECONDS" => p.max_lifetime = v.parse().unwrap(),
            "JWT_ALGORITHMS" => p.algorithms = v.split(',').map(|a| a.parse().unwrap()).collect(),
            other => panic!("no such rule in the test: {other}"),
        }
    }
    p
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

fn run(f: &Fixture, cfg: &TokenRules, token: &str) -> Result<Verified, Rejection> {
    let header = inspect(token, cfg)?;
    let key = f.ring.get(&header.kid).ok_or(Rejected::UnknownKid)?;
    verify(token, &header, key, cfg, NOW)
}

fn mint(f: &Fixture, c: &Map<String, Value>) -> String {
    f.signer.mint(c, Some("JWT")).unwrap().expose().to_owned()
}

#[test]
fn signature_checks_agree_with_jsonwebtoken_for_every_algorithm() {
    use crate::Alg::*;
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
                alg.to_jsonwebtoken().unwrap(),
            )
            .unwrap_or(false);
            assert_eq!(ours, theirs, "{alg}: ours and jsonwebtoken's disagree");
            assert_eq!(ours, expected, "{alg}");
        }
        assert_eq!(
            key.verify_signature(input.as_bytes(), "not*base64"),
            Err(Rejected::Malformed)
        );
        assert_eq!(
            key.verify_signature(input.as_bytes(), &"A".repeat(2000)),
            Err(Rejected::BadSig),
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

fn reason_for(mutate: impl Fn(&mut Map<String, Value>)) -> &'static str {
    let cfg = cfg_with(&[]);
    let f = fixture(Alg::EdDSA);
    let mut c = claims();
    mutate(&mut c);
    match run(&f, &cfg, &mint(&f, &c)) {
        Ok(_) => "ok",
        Err(r) => r.reason.as_str(),
    }
}

#[test]
fn expiry_is_checked_with_the_leeway() {
    assert_eq!(
        reason_for(|c| {
            c.insert("exp".into(), json!(NOW - 29));
        }),
        "ok"
    );
    assert_eq!(
        reason_for(|c| {
            c.insert("exp".into(), json!(NOW - 30));
        }),
        "expired"
    );
    assert_eq!(
        reason_for(|c| {
            c.remove("exp");
        }),
        "bad_claim"
    );
    assert_eq!(
        reason_for(|c| {
            c.insert("exp".into(), json!(null));
        }),
        "bad_claim"
    );
    assert_eq!(
        reason_for(|c| {
            c.insert("exp".into(), json!("1900000000"));
        }),
        "bad_claim"
    );
    assert_eq!(
        reason_for(|c| {
            c.insert("exp".into(), json!((NOW + 60) as f64 + 0.5));
        }),
        "bad_claim"
    );
    assert_eq!(
        reason_for(|c| {
            c.insert("exp".into(), json!(-1));
        }),
        "bad_claim"
    );
    assert_eq!(
        reason_for(|c| {
            c.insert("exp".into(), json!(u64::MAX));
        }),
        "bad_claim"
    );
    assert_eq!(
        reason_for(|c| {
            c.insert("exp".into(), json!((NOW + 600) * 1000));
        }),
        "bad_claim"
    );
}

#[test]
fn lifetime_beyond_the_maximum_is_a_bad_claim_with_no_leeway_added() {
    assert_eq!(
        reason_for(|c| {
            c.insert("exp".into(), json!(NOW + 86_400));
        }),
        "ok"
    );
    assert_eq!(
        reason_for(|c| {
            c.insert("exp".into(), json!(NOW + 86_400 + 1));
        }),
        "bad_claim",
        "docs/contract-choices.md: an `exp` further ahead than the maximum is refused, leeway or not"
    );
}

#[test]
fn scopes_are_split_on_ascii_spaces_only() {
    let cfg = cfg_with(&[]);
    let f = fixture(Alg::EdDSA);
    let mut c = claims();
    // U+00A0 and a tab are not separators (RFC 6749 §3.3): `admin\u{a0}read` is one scope.
    c.insert("scope".into(), json!("read  admin\u{a0}x\twrite"));
    c.insert("scp".into(), json!("a\u{2003}b c"));
    let v = run(&f, &cfg, &mint(&f, &c)).unwrap();
    assert_eq!(v.scopes, ["read", "admin\u{a0}x\twrite", "a\u{2003}b", "c"]);
}

#[test]
fn claims_map_returns_every_claim_of_a_verified_token() {
    let f = fixture(Alg::EdDSA);
    let mut c = claims();
    c.insert("tenant".into(), json!({"id": 7}));
    let token = mint(&f, &c);
    assert!(check(&token, &cfg_with(&[]), &f.ring, NOW).is_ok());
    assert_eq!(claims_map(&token).unwrap(), c);
    assert_eq!(claims_map("a.!.c"), Err(Rejected::Malformed));
}

#[test]
fn check_refuses_a_token_larger_than_the_limit_before_reading_it() {
    let f = fixture(Alg::EdDSA);
    let big = "a".repeat(MAX_TOKEN_BYTES + 1);
    assert_eq!(
        check(&big, &cfg_with(&[]), &f.ring, NOW)
            .unwrap_err()
            .reason,
        Rejected::TooLarge
    );
}

#[test]
fn nbf_and_iat_in_the_future_are_not_yet_valid() {
    assert_eq!(
        reason_for(|c| {
            c.insert("nbf".into(), json!(NOW + 30));
        }),
        "ok"
    );
    assert_eq!(
        reason_for(|c| {
            c.insert("nbf".into(), json!(NOW + 31));
        }),
        "not_yet_valid"
    );
    assert_eq!(
        reason_for(|c| {
            c.insert("iat".into(), json!(NOW + 31));
        }),
        "not_yet_valid"
    );
    assert_eq!(
        reason_for(|c| {
            c.insert("iat".into(), json!("now"));
        }),
        "bad_claim"
    );
    assert_eq!(
        reason_for(|c| {
            c.insert("nbf".into(), json!(true));
        }),
        "bad_claim"
    );
}

#[test]
fn issuer_must_be_the_exact_single_string() {
    assert_eq!(
        reason_for(|c| {
            c.insert("iss".into(), json!("https://issuer.example/"));
        }),
        "bad_iss"
    );
    assert_eq!(
        reason_for(|c| {
            c.insert("iss".into(), json!("HTTPS://issuer.example"));
        }),
        "bad_iss"
    );
    assert_eq!(
        reason_for(|c| {
            c.insert("iss".into(), json!(["https://issuer.example"]));
        }),
        "bad_iss"
    );
    assert_eq!(
        reason_for(|c| {
            c.remove("iss");
        }),
        "bad_iss"
    );
    assert_eq!(
        reason_for(|c| {
            c.insert("iss".into(), json!(1));
        }),
        "bad_iss"
    );
}

#[test]
fn audience_may_be_a_string_or_an_array_containing_an_accepted_value() {
    assert_eq!(
        reason_for(|c| {
            c.insert("aud".into(), json!(["x", "other"]));
        }),
        "ok"
    );
    assert_eq!(
        reason_for(|c| {
            c.insert("aud".into(), json!([]));
        }),
        "bad_aud"
    );
    assert_eq!(
        reason_for(|c| {
            c.insert("aud".into(), json!("API"));
        }),
        "bad_aud"
    );
    assert_eq!(
        reason_for(|c| {
            c.insert("aud".into(), json!(" api"));
        }),
        "bad_aud"
    );
    assert_eq!(
        reason_for(|c| {
            c.insert("aud".into(), json!(7));
        }),
        "bad_aud"
    );
    assert_eq!(
        reason_for(|c| {
            c.insert("aud".into(), json!({"api": true}));
        }),
        "bad_aud"
    );
    assert_eq!(
        reason_for(|c| {
            c.insert("aud".into(), json!(["api", 1]));
        }),
        "bad_aud"
    );
    assert_eq!(
        reason_for(|c| {
            c.remove("aud");
        }),
        "bad_aud"
    );
}

#[test]
fn subject_must_be_a_short_non_empty_string() {
    assert_eq!(
        reason_for(|c| {
            c.remove("sub");
        }),
        "bad_claim"
    );
    assert_eq!(
        reason_for(|c| {
            c.insert("sub".into(), json!(""));
        }),
        "bad_claim"
    );
    assert_eq!(
        reason_for(|c| {
            c.insert("sub".into(), json!(42));
        }),
        "bad_claim"
    );
    assert_eq!(
        reason_for(|c| {
            c.insert("sub".into(), json!("x".repeat(1025)));
        }),
        "bad_claim"
    );
}

#[test]
fn a_refusal_after_the_signature_verified_names_sub_and_jti() {
    let cfg = cfg_with(&[]);
    let f = fixture(Alg::EdDSA);
    let mut c = claims();
    c.insert("exp".into(), json!(NOW - 100));
    let r = run(&f, &cfg, &mint(&f, &c)).unwrap_err();
    assert_eq!(r.reason, Rejected::Expired);
    assert_eq!(r.kid.as_deref(), Some(f.signer.kid()));
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
    assert_eq!(r, Rejection::from(Rejected::BadSig));
}

#[test]
fn structure_and_header_problems_are_refused_before_any_key_is_used() {
    let cfg = cfg_with(&[]);
    let f = fixture(Alg::EdDSA);
    let token = mint(&f, &claims());
    let parts: Vec<&str> = token.split('.').collect();
    let hdr = |v: Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(&v).unwrap());
    let kid = f.signer.kid().to_owned();
    let cases: Vec<(String, &str)> = vec![
        (String::new(), "malformed"),
        (format!("{}.{}", parts[0], parts[1]), "malformed"),
        (format!("{token}.x"), "malformed"),
        (format!("{}.{}.", parts[0], parts[1]), "malformed"),
        (
            format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
            "malformed",
        ),
        (
            format!("{} .{}.{}", parts[0], parts[1], parts[2]),
            "malformed",
        ),
        (
            format!(
                "{}.{}.{}",
                hdr(json!({"alg": "none", "kid": kid})),
                parts[1],
                parts[2]
            ),
            "bad_alg",
        ),
        (
            format!(
                "{}.{}.{}",
                hdr(json!({"alg": "HS512", "kid": kid})),
                parts[1],
                parts[2]
            ),
            "bad_alg",
        ),
        (
            format!("{}.{}.{}", hdr(json!({"alg": "EdDSA"})), parts[1], parts[2]),
            "unknown_kid",
        ),
        (
            format!(
                "{}.{}.{}",
                hdr(json!({"alg": "EdDSA", "kid": "../../etc/passwd"})),
                parts[1],
                parts[2]
            ),
            "unknown_kid",
        ),
        (
            format!(
                "{}.{}.{}",
                hdr(json!({"alg": "EdDSA", "kid": kid, "crit": ["exp"]})),
                parts[1],
                parts[2]
            ),
            "malformed",
        ),
        (
            format!(
                "{}.{}.{}",
                hdr(json!({"alg": "EdDSA", "kid": kid, "x5t": 5})),
                parts[1],
                parts[2]
            ),
            "malformed",
        ),
        (
            format!(
                "{}.{}.{}",
                hdr(json!({"alg": "EdDSA", "kid": kid, "b64": false})),
                parts[1],
                parts[2]
            ),
            "malformed",
        ),
        (
            format!(
                "{}.{}.{}",
                hdr(json!({"alg": "EdDSA", "kid": kid, "cty": "JWT"})),
                parts[1],
                parts[2]
            ),
            "malformed",
        ),
        (
            format!(
                "{}.{}.{}",
                URL_SAFE_NO_PAD.encode(br#"{"alg":"EdDSA","alg":"EdDSA","kid":"k"}"#),
                parts[1],
                parts[2]
            ),
            "malformed",
        ),
        (
            format!(
                "{}.{}.{}",
                URL_SAFE_NO_PAD.encode(b"[]"),
                parts[1],
                parts[2]
            ),
            "malformed",
        ),
    ];
    for (t, want) in cases {
        let got = match run(&f, &cfg, &t) {
            Ok(_) => "ok",
            Err(r) => r.reason.as_str(),
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
        Rejected::BadAlg
    );
}

#[test]
fn required_typ_is_enforced() {
    let cfg = cfg_with(&[("JWT_TYPE", "at+jwt")]);
    let f = fixture(Alg::EdDSA);
    assert_eq!(
        run(&f, &cfg, &mint(&f, &claims())).unwrap_err().reason,
        Rejected::BadTyp
    );
    let token = f.signer.mint(&claims(), Some("at+jwt")).unwrap();
    assert!(run(&f, &cfg, token.expose()).is_ok());
}

#[test]
fn scp_list_elements_are_single_scopes() {
    for bad in [json!(["read admin"]), json!([""]), json!(["a", 1])] {
        assert_eq!(
            reason_for(|c| {
                c.insert("scp".into(), bad.clone());
            }),
            "bad_claim",
            "{bad}"
        );
    }
}

#[test]
fn the_session_id_is_read_when_it_is_a_short_string() {
    let cfg = cfg_with(&[]);
    let f = fixture(Alg::EdDSA);
    let mut c = claims();
    assert_eq!(run(&f, &cfg, &mint(&f, &c)).unwrap().sid, None);
    c.insert("sid".into(), json!("s-1"));
    assert_eq!(
        run(&f, &cfg, &mint(&f, &c)).unwrap().sid.as_deref(),
        Some("s-1")
    );
    for bad in [json!(7), json!(["s"]), json!("x".repeat(1025))] {
        c.insert("sid".into(), bad.clone());
        assert_eq!(
            run(&f, &cfg, &mint(&f, &c)).unwrap_err().reason,
            Rejected::BadClaim,
            "{bad}"
        );
    }
}

#[test]
fn the_session_start_is_read_when_it_is_a_whole_number_of_seconds() {
    let cfg = cfg_with(&[]);
    let f = fixture(Alg::EdDSA);
    let mut c = claims();
    assert_eq!(run(&f, &cfg, &mint(&f, &c)).unwrap().auth_time, None);
    c.insert("auth_time".into(), json!(1_700_000_000u64));
    assert_eq!(
        run(&f, &cfg, &mint(&f, &c)).unwrap().auth_time,
        Some(1_700_000_000)
    );
    for bad in [json!("2026-01-01T00:00:00Z"), json!(-1), json!(1.5)] {
        c.insert("auth_time".into(), bad.clone());
        assert_eq!(
            run(&f, &cfg, &mint(&f, &c)).unwrap_err().reason,
            Rejected::BadClaim,
            "{bad}"
        );
    }
}
