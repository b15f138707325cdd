//! `make bench-peers`: the same tokens, with the same checks (issuer, audience, expiry,
//! algorithm pinned, key preloaded), through this project's validation path and through
//! aws-jwt-verify and jose (Node.js) and PyJWT (Python). Prints median time per verification
//! and each library's ratio to ours.
//!
//! Usage: `cargo run --release -p authorizer-bench --bin peers -- <bench/peers dir> <python>`

use std::hint::black_box;
use std::time::Instant;

use authorizer::internal::strict::{inspect, verify, KeyRing, TokenRules};
use jwt_session::keygen::generate;
use jwt_session::mint::{SessionClaims, SigningKey};
use jwt_session::{Alg, JwkSet};
use serde_json::{json, Value};

const ISS: &str = "https://issuer.example";
const AUD: &str = "orders-api";
const BATCHES: usize = 31;
const BATCH: usize = 400;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().unwrap_or_else(|| "bench/peers".into()));
    let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
    let python = args.next().unwrap_or_else(|| "python3".into());
    let now = authorizer::unix_now();
    let mut cases = Vec::new();
    let mut ours = Vec::new();
    for alg in [Alg::EdDSA, Alg::ES256, Alg::RS256] {
        let jwk = generate(alg).unwrap();
        let claims = SessionClaims {
            issuer: ISS,
            audience: AUD,
            subject: "alice",
            issued_at: now,
            lifetime: 3600,
            jti: Some("jti-1"),
            csrf: Some("csrf-1"),
            scope: None,
        };
        let token = SigningKey::from_jwk(&jwk)
            .unwrap()
            .mint(&claims.to_map(), Some("JWT"))
            .unwrap()
            .expose()
            .to_owned();
        let public = JwkSet {
            keys: vec![jwk.clone()],
        }
        .to_public(false);
        let ring = KeyRing::from_set(&public);
        let cfg = TokenRules {
            algorithms: vec![alg],
            ..TokenRules::new(ISS, vec![AUD.to_owned()])
        };
        let check = || {
            let header = inspect(&token, &cfg).unwrap();
            let key = ring.get(&header.kid).unwrap();
            verify(
                black_box(&token),
                &header,
                key,
                &cfg,
                authorizer::unix_now(),
            )
            .unwrap()
        };
        assert_eq!(check().sub, "alice");
        for _ in 0..BATCH {
            black_box(check());
        }
        let mut per: Vec<f64> = (0..BATCHES)
            .map(|_| {
                let t = Instant::now();
                for _ in 0..BATCH {
                    black_box(check());
                }
                t.elapsed().as_nanos() as f64 / BATCH as f64
            })
            .collect();
        per.sort_by(|a, b| a.total_cmp(b));
        ours.push((alg.as_str(), per[per.len() / 2]));
        cases.push(json!({"alg": alg.as_str(), "token": token, "jwk": serde_json::to_value(&public.keys[0]).unwrap()}));
    }
    let fixtures = dir.join("fixtures.json");
    std::fs::write(
        &fixtures,
        json!({"issuer": ISS, "audience": AUD, "batches": BATCHES, "batch": BATCH, "cases": cases})
            .to_string(),
    )
    .unwrap();
    let mut peers: Vec<Value> = Vec::new();
    for (cmd, script) in [("node", "peers.mjs"), (python.as_str(), "peers.py")] {
        let out = std::process::Command::new(cmd)
            .arg(dir.join(script))
            .arg(&fixtures)
            .current_dir(&dir)
            .output();
        match out {
            Ok(o) if o.status.success() => peers.extend(
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .filter_map(|l| serde_json::from_str(l).ok()),
            ),
            Ok(o) => eprintln!("{script} failed: {}", String::from_utf8_lossy(&o.stderr)),
            Err(e) => eprintln!("{script}: cannot run {cmd}: {e}"),
        }
    }
    let _ = std::fs::remove_file(&fixtures);
    println!("median time per verification (issuer, audience, expiry, algorithm pinned, key preloaded); {BATCHES} batches of {BATCH}");
    println!(
        "{:<28} {:<6} {:>12} {:>10}",
        "library", "alg", "median", "vs ours"
    );
    for (alg, ns) in &ours {
        println!(
            "{:<28} {:<6} {:>10.1}µs {:>10}",
            "this project (Rust)",
            alg,
            ns / 1e3,
            "1.00x"
        );
        for p in peers.iter().filter(|p| p["alg"] == *alg) {
            let pns = p["ns"].as_f64().unwrap_or(f64::NAN);
            let ok = if p["ok"] == true {
                ""
            } else {
                " (did not verify!)"
            };
            println!(
                "{:<28} {:<6} {:>10.1}µs {:>9.2}x{ok}",
                p["lib"].as_str().unwrap_or("?"),
                alg,
                pns / 1e3,
                pns / ns
            );
        }
    }
}
