//! The official PASETO v4.public test vectors and PASERK k4.pid vectors, as shipped in the
//! `pasetors` package this project builds with (`test_vectors/`; read from the package's
//! directory at test time, not copied here): every token is made byte for byte, verifies, and
//! the expected failures fail; every PASERK id is computed exactly.
// Test code throughout: `cfg(test)` lets clippy.toml's test allowances (unwrap, expect,
// indexing, panic) cover its helpers as well as its tests.
#![cfg(test)]

use std::path::PathBuf;

use jwt_session::jwk::paserk_id;
use jwt_session::strict::paseto::{sign_bytes, verify_signature, PasetoKey};
use serde_json::Value;

fn vectors_dir() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata");
    let meta: Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    let manifest = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "pasetors")
        .expect("pasetors in the graph")["manifest_path"]
        .as_str()
        .unwrap()
        .to_owned();
    PathBuf::from(manifest)
        .parent()
        .unwrap()
        .join("test_vectors")
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn load(path: PathBuf) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    v["tests"].as_array().unwrap().clone()
}

#[test]
fn the_official_v4_public_vectors_pass() {
    let tests = load(vectors_dir().join("v4.json"));
    let mut checked = 0;
    for t in tests.iter().filter(|t| t.get("public-key").is_some()) {
        let name = t["name"].as_str().unwrap();
        let key = PasetoKey::from_public(&hex(t["public-key"].as_str().unwrap())).unwrap();
        let token = t["token"].as_str().unwrap();
        let footer = t["footer"].as_str().unwrap().as_bytes();
        let implicit = t["implicit-assertion"].as_str().unwrap().as_bytes();
        if t["expect-fail"] == true {
            assert!(
                verify_signature(token, &key, Some(implicit)).is_err(),
                "{name}"
            );
        } else {
            let payload = t["payload"].as_str().unwrap();
            let secret = hex(t["secret-key"].as_str().unwrap());
            let made = sign_bytes(&secret, payload.as_bytes(), footer, Some(implicit)).unwrap();
            assert_eq!(made, token, "{name}");
            assert_eq!(
                verify_signature(token, &key, Some(implicit)).unwrap(),
                payload,
                "{name}"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 4, "4-S-1, 4-S-2, 4-S-3, 4-F-1");
}

#[test]
fn the_official_k4_pid_vectors_pass() {
    let tests = load(vectors_dir().join("PASERK/k4.pid.json"));
    let mut checked = 0;
    for t in &tests {
        let name = t["name"].as_str().unwrap();
        let key = hex(t["key"].as_str().unwrap());
        if t["expect-fail"] == true {
            let expected = t["paserk"].as_str();
            assert!(
                paserk_id(&key).is_none() || paserk_id(&key).as_deref() != expected,
                "{name}"
            );
        } else {
            assert_eq!(paserk_id(&key).as_deref(), t["paserk"].as_str(), "{name}");
        }
        checked += 1;
    }
    assert!(checked >= 3);
}
