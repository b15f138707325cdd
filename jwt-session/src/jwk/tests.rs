//! The key rules, one test each.

use super::*;
use crate::keygen::generate;
use serde_json::json;

fn private_value(alg: Alg) -> Value {
    serde_json::to_value(generate(alg).unwrap()).unwrap()
}

#[test]
fn every_algorithm_gets_a_verifier_whose_debug_shows_no_key() {
    for alg in [
        Alg::EdDSA,
        Alg::ES256,
        Alg::ES384,
        Alg::RS256,
        Alg::PS512,
        Alg::HS256,
        Alg::HS512,
    ] {
        let jwk = generate(alg).unwrap();
        let v = jwk.verifier().unwrap();
        let shown = format!("{v:?}");
        assert!(shown.starts_with("Verifier("), "{alg}: {shown}");
        if let KeyMaterial::Oct { k } = &jwk.material {
            assert!(!shown.contains(&b64url(k.expose())), "{alg}");
        }
        assert!(
            !v.verify(b"message", &[0u8; 64]),
            "{alg}: a zero signature never verifies"
        );
    }
}

#[test]
fn generated_keys_of_every_algorithm_parse_back_as_private_keys() {
    for alg in Alg::ALL {
        let v = private_value(alg);
        let jwk = Jwk::from_value(&v, Visibility::Private).unwrap();
        assert_eq!(jwk.alg, alg);
        assert!(jwk.has_private());
    }
}

#[test]
fn public_set_has_no_private_members_and_drops_symmetric_keys_unless_asked() {
    let set = JwkSet {
        keys: vec![
            generate(Alg::EdDSA).unwrap(),
            generate(Alg::ES256).unwrap(),
            generate(Alg::RS256).unwrap(),
            generate(Alg::HS256).unwrap(),
        ],
    };
    let public = serde_json::to_value(set.to_public(false)).unwrap();
    let keys = public["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 3);
    for k in keys {
        for m in PRIVATE_MEMBERS.iter().chain(["k"].iter()) {
            assert!(k.get(*m).is_none(), "member {m} leaked in {k}");
        }
    }
    let parsed = JwkSet::from_value(&public, Visibility::Public).unwrap();
    assert_eq!(parsed.keys.len(), 3);
    let with_oct = set.to_public(true);
    assert_eq!(with_oct.keys.len(), 4);
}

#[test]
fn public_set_with_a_private_member_is_refused() {
    let v = json!({"keys": [private_value(Alg::EdDSA)]});
    let err = JwkSet::from_value(&v, Visibility::Public).unwrap_err();
    assert!(matches!(
        err,
        KeySetError::Key(KeyError {
            problem: KeyProblem::UnexpectedPrivateMember("d"),
            ..
        })
    ));
}

#[test]
fn kty_that_does_not_match_alg_is_refused_naming_the_kid() {
    let mut v = private_value(Alg::ES256);
    v["kty"] = json!("RSA");
    let kid = v["kid"].as_str().unwrap().to_owned();
    let err = JwkSet::from_value(&json!({"keys": [v]}), Visibility::Private).unwrap_err();
    let text = err.to_string();
    assert!(text.contains(&kid), "{text}");
    assert!(text.contains("kty"), "{text}");
}

#[test]
fn short_hmac_key_is_refused_and_the_error_hides_the_key() {
    let k = URL_SAFE_NO_PAD.encode([7u8; 31]);
    let v = json!({"keys": [{"kty": "oct", "kid": "h1", "alg": "HS256", "k": k}]});
    let err = JwkSet::from_value(&v, Visibility::Private).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("h1") && text.contains("31 bytes"), "{text}");
    assert!(!text.contains(&k));
}

#[test]
fn hmac_384_and_512_need_longer_keys() {
    let k = URL_SAFE_NO_PAD.encode([7u8; 40]);
    let v = json!({"kty": "oct", "kid": "h", "alg": "HS384", "k": k});
    assert!(matches!(
        Jwk::from_value(&v, Visibility::Private),
        Err(KeyProblem::HmacTooShort { min: 48, .. })
    ));
}

#[test]
fn rsa_key_under_2048_bits_is_refused() {
    let n = URL_SAFE_NO_PAD.encode([0xffu8; 128]);
    let v = json!({"kty": "RSA", "kid": "r", "alg": "RS256", "n": n, "e": "AQAB"});
    assert_eq!(
        Jwk::from_value(&v, Visibility::Public).unwrap_err(),
        KeyProblem::RsaTooSmall { bits: 1024 }
    );
}

#[test]
fn duplicate_kid_in_one_set_is_refused() {
    let a = private_value(Alg::EdDSA);
    let mut b = private_value(Alg::EdDSA);
    b["kid"] = a["kid"].clone();
    let err = JwkSet::from_value(&json!({"keys": [a, b]}), Visibility::Private).unwrap_err();
    assert!(matches!(
        err,
        KeySetError::Key(KeyError {
            problem: KeyProblem::DuplicateKid,
            ..
        })
    ));
}

#[test]
fn a_key_carried_across_versions_is_kept_once_but_a_reused_kid_is_refused() {
    let a = JwkSet {
        keys: vec![generate(Alg::EdDSA).unwrap()],
    };
    assert_eq!(JwkSet::merge([&a, &a]).unwrap().keys.len(), 1);
    let mut other = generate(Alg::EdDSA).unwrap();
    other.kid = a.keys[0].kid.clone();
    let b = JwkSet { keys: vec![other] };
    let err = JwkSet::merge([&a, &b]).unwrap_err();
    assert_eq!(err.problem, KeyProblem::DuplicateKid);
}

#[test]
fn private_key_that_does_not_match_its_public_key_is_refused() {
    for alg in [Alg::EdDSA, Alg::ES256, Alg::RS256] {
        let mut a = private_value(alg);
        let b = private_value(alg);
        a["d"] = b["d"].clone();
        assert_eq!(
            Jwk::from_value(&a, Visibility::Private).unwrap_err(),
            KeyProblem::InconsistentPrivateKey,
            "{alg}"
        );
    }
}

#[test]
fn secret_without_private_members_is_refused() {
    let mut v = private_value(Alg::EdDSA);
    v.as_object_mut().unwrap().remove("d");
    assert_eq!(
        Jwk::from_value(&v, Visibility::Private).unwrap_err(),
        KeyProblem::MissingPrivateKey
    );
}

#[test]
fn malformed_members_are_refused() {
    let mut v = private_value(Alg::EdDSA);
    v["x"] = json!("not base64!");
    assert_eq!(
        Jwk::from_value(&v, Visibility::Private).unwrap_err(),
        KeyProblem::BadMember("x")
    );
    let mut v = private_value(Alg::ES256);
    v["crv"] = json!("P-384");
    assert!(matches!(
        Jwk::from_value(&v, Visibility::Private),
        Err(KeyProblem::CurveMismatch { .. })
    ));
    let mut v = private_value(Alg::EdDSA);
    v["kid"] = json!("bad kid with spaces");
    assert_eq!(
        Jwk::from_value(&v, Visibility::Private).unwrap_err(),
        KeyProblem::BadKid
    );
    let mut v = private_value(Alg::EdDSA);
    v["alg"] = json!("none");
    assert_eq!(
        Jwk::from_value(&v, Visibility::Private).unwrap_err(),
        KeyProblem::UnsupportedAlg
    );
}

#[test]
fn errors_for_non_json_text_do_not_echo_it() {
    let err = JwkSet::parse("{\"keys\": [SECRETSTUFF", Visibility::Private).unwrap_err();
    assert!(!err.to_string().contains("SECRETSTUFF"));
    assert_eq!(err.code(), "keyset_not_json");
}

#[test]
fn thumbprint_matches_rfc7638_example() {
    // RFC 7638 §3.1 example key.
    let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
    let v = json!({"kty": "RSA", "kid": "x", "alg": "RS256", "n": n, "e": "AQAB"});
    let jwk = Jwk::from_value(&v, Visibility::Public).unwrap();
    assert_eq!(
        jwk.thumbprint(),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
}

#[test]
fn serialised_set_round_trips() {
    let set = JwkSet {
        keys: vec![generate(Alg::ES384).unwrap(), generate(Alg::PS256).unwrap()],
    };
    let text = serde_json::to_string(&set).unwrap();
    let back = JwkSet::parse(&text, Visibility::Private).unwrap();
    assert_eq!(serde_json::to_string(&back).unwrap(), text);
}

#[test]
fn ed25519_keys_of_small_order_or_non_canonical_encoding_are_refused() {
    use aws_lc_rs::signature::{UnparsedPublicKey, ED25519};
    // The forged signature: R = the identity, S = 0. It verifies for a message whenever
    // [k]A is the identity, i.e. for every message under the identity key and for one in
    // (order of A) under the other small-order keys: the attack the rule stops.
    let mut forged = [0u8; 64];
    forged[0] = 1;
    let mut weak: Vec<[u8; 32]> = Vec::new();
    for y in ED25519_SMALL_ORDER {
        for sign in [0u8, 0x80] {
            let mut key = y;
            key[31] |= sign;
            weak.push(key);
        }
    }
    let mut forgeries = 0;
    for key in &weak {
        let verifies = (0u8..=255).any(|m| {
            UnparsedPublicKey::new(&ED25519, key)
                .verify(&[m], &forged)
                .is_ok()
        });
        forgeries += usize::from(verifies);
        let x = URL_SAFE_NO_PAD.encode(key);
        let v = json!({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": "k", "x": x});
        assert_eq!(
            Jwk::from_value(&v, Visibility::Public).unwrap_err(),
            KeyProblem::WeakPublicKey,
            "{x}"
        );
        let set = json!({"keys": [v]}).to_string();
        assert!(JwkSet::parse(&set, Visibility::Public).is_err(), "{x}");
    }
    assert!(
        forgeries >= 5,
        "the forged signature verifies under {forgeries} of the refused keys with aws-lc-rs alone"
    );
    // y ≥ p: non-canonical encodings of y − p.
    for low in 0xedu8..=0xff {
        let mut key = [0xffu8; 32];
        key[0] = low;
        key[31] = 0x7f;
        assert!(is_weak_ed25519(&key), "{low:#x}");
    }
    // An ordinary key is not weak.
    let good = generate(Alg::EdDSA).unwrap();
    let KeyMaterial::Okp { x, .. } = &good.material else {
        panic!("not OKP")
    };
    assert!(!is_weak_ed25519(x));
}
