//! The attack catalogue as data: each case an authorizer event and the decision and audit
//! reason it must get, built from a key set. Two runners read it: the in-process one
//! (`tests/tests/catalogue.rs`, run by `make unit`: every case through the authorizer's own
//! event reader, decision and answer, with the audit record checked) and the end-to-end one
//! (`tests/tests/suite/attacks.rs`: the cases that need the real binaries, through
//! `cargo lambda watch` with the key server and the logs of every process).

use crate::events::{http, rest};
use crate::{KeyFile, AUDIENCE, COOKIE, ISSUER};
use aws_lc_rs::hmac;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jwt_session::jwk::{JwkSet, KeyMaterial, Visibility};
use jwt_session::SigningKey;
use serde_json::{json, Value};

/// Claim value put into forged tokens; it must never show up anywhere.
pub const MARKER: &str = "attacker-marker-7f3a9c";

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The keys of the secret, for forging.
#[derive(Debug)]
pub struct Keys {
    /// The private key set, as stored in the secret.
    pub set: JwkSet,
}

impl Keys {
    /// The keys of a key file made by `jwt-session keygen` (the end-to-end runs).
    pub fn load(file: &KeyFile) -> Keys {
        Keys {
            set: JwkSet::parse(&file.text(), Visibility::Private).unwrap(),
        }
    }

    /// New keys made in this process, as `jwt-session keygen` makes them (the in-process run).
    pub fn generate(algs: &[&str]) -> Keys {
        let mut set = JwkSet { keys: Vec::new() };
        for alg in algs {
            let alg: jwt_session::jwk::Alg = alg.parse().unwrap();
            set.push(jwt_session::keygen::generate(alg).unwrap())
                .unwrap();
        }
        Keys { set }
    }

    /// The key set secrets-fn serves the authorizer (public keys; no symmetric key unless
    /// `ALLOW_SYMMETRIC_KEYS`, which no catalogue sets).
    pub fn served(&self) -> JwkSet {
        self.set.to_public(false)
    }
    fn kid(&self, alg: &str) -> String {
        self.set
            .keys
            .iter()
            .find(|k| k.alg.as_str() == alg)
            .unwrap()
            .kid
            .clone()
    }
    fn signer(&self, alg: &str) -> SigningKey {
        SigningKey::from_jwk(
            self.set
                .keys
                .iter()
                .find(|k| k.alg.as_str() == alg)
                .unwrap(),
        )
        .unwrap()
    }
    fn public_member(&self, alg: &str) -> Value {
        let jwk = self
            .set
            .keys
            .iter()
            .find(|k| k.alg.as_str() == alg)
            .unwrap();
        serde_json::to_value(jwk.to_public().unwrap()).unwrap()
    }
}

fn claims(extra: &[(&str, Value)]) -> Value {
    let t = now();
    let mut c = json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": t - 5, "nbf": t - 5,
        "exp": t + 600, "jti": "jti-1", "csrf": "csrf-value-0123456789",
    });
    for (k, v) in extra {
        if v.is_null() && *k != "exp" {
            c.as_object_mut().unwrap().remove(*k);
        } else {
            c[*k] = v.clone();
        }
    }
    c
}

/// `header.payload.signature` from raw JSON texts, signed by `signer`.
fn raw_token(signer: &SigningKey, header: &str, payload: &str) -> String {
    let input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let sig = signer.sign_raw(input.as_bytes()).unwrap();
    format!("{input}.{sig}")
}

fn token(signer: &SigningKey, header: Value, payload: Value) -> String {
    raw_token(signer, &header.to_string(), &payload.to_string())
}

fn std_header(signer: &SigningKey) -> Value {
    json!({"alg": signer.alg().as_str(), "kid": signer.kid(), "typ": "JWT"})
}

fn good(signer: &SigningKey, extra: &[(&str, Value)]) -> String {
    token(signer, std_header(signer), claims(extra))
}

fn hmac_token(secret: &[u8], header: Value, payload: Value) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    );
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), input.as_bytes());
    format!("{input}.{}", b64(tag.as_ref()))
}

fn der_len(len: usize) -> Vec<u8> {
    if len < 128 {
        vec![len as u8]
    } else if len < 256 {
        vec![0x81, len as u8]
    } else {
        vec![0x82, (len >> 8) as u8, len as u8]
    }
}

fn der(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(der_len(body.len()));
    out.extend_from_slice(body);
    out
}

fn der_uint(bytes: &[u8]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    if b.first().is_some_and(|x| x & 0x80 != 0) {
        b.insert(0, 0);
    }
    der(0x02, &b)
}

fn pem(label: &str, der_bytes: &[u8]) -> Vec<u8> {
    let body = STANDARD.encode(der_bytes);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
    .into_bytes()
}

/// Every encoding of a public key an attacker might feed to HMAC as the "secret".
fn public_key_encodings(keys: &Keys, alg: &str) -> Vec<(String, Vec<u8>)> {
    let jwk = keys
        .set
        .keys
        .iter()
        .find(|k| k.alg.as_str() == alg)
        .unwrap();
    let jwk_json = keys.public_member(alg).to_string().into_bytes();
    let mut out = vec![(format!("{alg} public JWK JSON"), jwk_json)];
    match &jwk.material {
        KeyMaterial::Okp { x, .. } => {
            let raw = x.clone();
            let mut spki = hex("302a300506032b6570032100");
            spki.extend(&raw);
            out.push((format!("{alg} raw public key"), raw));
            out.push((format!("{alg} SPKI PEM"), pem("PUBLIC KEY", &spki)));
            out.push((format!("{alg} SPKI DER"), spki));
        }
        KeyMaterial::Ec { x, y, .. } => {
            let mut point = vec![4u8];
            point.extend_from_slice(x);
            point.extend_from_slice(y);
            let mut spki = hex("3059301306072a8648ce3d020106082a8648ce3d030107034200");
            spki.extend(&point);
            out.push((format!("{alg} raw point"), point));
            out.push((format!("{alg} SPKI PEM"), pem("PUBLIC KEY", &spki)));
            out.push((format!("{alg} SPKI DER"), spki));
        }
        KeyMaterial::Rsa { n, e, .. } => {
            let mut seq = der_uint(n);
            seq.extend(der_uint(e));
            let pkcs1 = der(0x30, &seq);
            let mut bits = vec![0u8];
            bits.extend(&pkcs1);
            let mut spki_body = hex("300d06092a864886f70d0101010500");
            spki_body.extend(der(0x03, &bits));
            let spki = der(0x30, &spki_body);
            out.push((format!("{alg} PKCS#1 PEM"), pem("RSA PUBLIC KEY", &pkcs1)));
            out.push((format!("{alg} PKCS#1 DER"), pkcs1));
            out.push((format!("{alg} SPKI PEM"), pem("PUBLIC KEY", &spki)));
            out.push((format!("{alg} SPKI DER"), spki));
        }
        KeyMaterial::Oct { .. } => {}
    }
    out
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// What a case must get.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Want {
    Allow,
    Deny(&'static str),
}

/// One attack: the event, and the decision and reason it must get.
#[derive(Debug, Clone)]
pub struct Case {
    /// What it tries.
    pub name: String,
    /// The authorizer event.
    pub event: Value,
    /// What it must get.
    pub want: Want,
}

impl Case {
    /// The audit reason it must be logged with (`ok` for an allow).
    pub fn reason(&self) -> &'static str {
        match self.want {
            Want::Allow => "ok",
            Want::Deny(r) => r,
        }
    }

    /// Whether its event is an HTTP API one (payload 2.0).
    pub fn is_http(&self) -> bool {
        self.event["version"] == "2.0"
    }

    /// Whether `answer` is the answer it must get: `Some` the JSON answer, `None` the REST
    /// `Unauthorized` error (401).
    pub fn answer_ok(&self, answer: Option<&Value>) -> bool {
        let effect = |v: &Value| v["policyDocument"]["Statement"][0]["Effect"].clone();
        match (answer, self.is_http(), self.want) {
            (Some(v), true, want) => v["isAuthorized"] == Value::Bool(want == Want::Allow),
            (Some(v), false, Want::Allow) => effect(v) == "Allow",
            (Some(v), false, Want::Deny(r)) => {
                matches!(r, "csrf" | "forbidden") && effect(v) == "Deny"
            }
            (None, false, Want::Deny(r)) => !matches!(r, "csrf" | "forbidden"),
            _ => false,
        }
    }
}

pub fn case(name: impl Into<String>, event: Value, want: Want) -> Case {
    Case {
        name: name.into(),
        event,
        want,
    }
}

fn rest_cookie(t: &str) -> Value {
    rest("GET", Some(&format!("theme=dark; {COOKIE}={t}")), &[])
}

fn http_cookie(t: &str) -> Value {
    http("GET", &["theme=dark", &format!("{COOKIE}={t}")], &[])
}

/// A catalogue: the keys in the secret, the authorizer's configuration beyond
/// [`crate::authorizer_env`], and its cases.
#[derive(Debug, Clone, Copy)]
pub struct Catalogue {
    /// Its name (the end-to-end test's).
    pub name: &'static str,
    /// The algorithms of the keys in the secret, the signing key first.
    pub algs: &'static [&'static str],
    /// The authorizer's configuration beyond the defaults of the suites.
    pub authorizer_env: &'static [(&'static str, &'static str)],
    /// Builds the cases from the keys.
    pub build: fn(&Keys) -> Vec<Case>,
    /// Values that must never leave the authorizer (claims of forged tokens).
    pub markers: &'static [&'static str],
}

/// The default configuration: every algorithm the secret may hold, JWT only.
pub const DEFAULT: Catalogue = Catalogue {
    name: "default configuration",
    algs: &["EdDSA", "ES256", "RS256", "HS256"],
    authorizer_env: &[],
    build: default_configuration,
    markers: &[MARKER],
};

/// A permissive algorithm allowlist with explicit typing (`JWT_TYPE`).
pub const PERMISSIVE: Catalogue = Catalogue {
    name: "permissive allowlist and explicit typing",
    algs: &["EdDSA", "RS256", "HS256"],
    authorizer_env: &[
        ("JWT_ALGORITHMS", "EdDSA,ES256,RS256,PS256,HS256"),
        ("JWT_TYPE", "JWT"),
    ],
    build: permissive_allowlist_and_explicit_typing,
    markers: &[MARKER],
};

/// Route scopes and the double-token mode.
pub const ROUTES_AND_DOUBLE_TOKEN: Catalogue = Catalogue {
    name: "route rules and double-token mode",
    algs: &["EdDSA"],
    authorizer_env: &[
        ("DOUBLE_TOKEN", "true"),
        (
            "ROUTE_SCOPES",
            "GET /orders = orders:read; ANY /admin/** = admin",
        ),
    ],
    build: route_rules_and_double_token_mode,
    markers: &[],
};

/// PASETO v4.public beside JWT.
pub const PASETO: Catalogue = Catalogue {
    name: "PASETO",
    algs: &["v4.public", "EdDSA"],
    authorizer_env: &[("TOKEN_FORMATS", "jwt,paseto")],
    build: paseto,
    markers: &[MARKER],
};

/// Every catalogue.
pub const ALL: [Catalogue; 4] = [DEFAULT, PERMISSIVE, ROUTES_AND_DOUBLE_TOKEN, PASETO];

/// The cases a run through the real binaries adds something to: what the process adds is the
/// key server (an unknown `kid` makes the authorizer ask secrets-fn again), the runtime's own
/// event reading and the logs of every process. So: every unknown-`kid` case, and for each
/// reason the first case per payload format (each refusal path's logging, checked for leaks
/// in every process's output). Every case's decision, answer and audit record is checked
/// in-process by `make unit`.
pub fn needing_the_binaries(cases: Vec<Case>) -> Vec<Case> {
    let mut seen = std::collections::BTreeSet::new();
    cases
        .into_iter()
        .filter(|c| c.reason() == "unknown_kid" || seen.insert((c.reason(), c.is_http())))
        .collect()
}

/// Every session-token-like value in the events: tokens and their signatures.
pub fn secrets_of(cases: &[Case], keys: &Keys) -> Vec<String> {
    let mut out = Vec::new();
    let text: Vec<String> = cases.iter().map(|c| c.event.to_string()).collect();
    for t in &text {
        for part in
            t.split(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' || ch == '.'))
        {
            let segs: Vec<&str> = part.split('.').collect();
            // A PASETO: `v4.public.<payload and signature>.<footer>`.
            if segs.len() == 4 && part.starts_with('v') && part.len() > 40 {
                out.push(part.to_owned());
                out.push(segs[2].to_owned());
            }
            if segs.len() == 3 && part.len() > 40 {
                out.push(part.to_owned());
                if segs[2].len() > 20 {
                    out.push(segs[2].to_owned());
                }
            }
        }
    }
    for k in &keys.set.keys {
        let v = serde_json::to_value(k).unwrap();
        for m in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            if let Some(s) = v[m].as_str() {
                out.push(s.to_owned());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The default configuration's cases (see [`DEFAULT`]).
pub fn default_configuration(keys: &Keys) -> Vec<Case> {
    let ed = keys.signer("EdDSA");
    let es = keys.signer("ES256");
    let rs = keys.signer("RS256");
    let hs = keys.signer("HS256");
    let ed_kid = keys.kid("EdDSA");
    let es_kid = keys.kid("ES256");
    let forged = claims(&[("sub", json!(MARKER))]);
    let valid = good(&ed, &[]);
    let parts: Vec<String> = valid.split('.').map(str::to_owned).collect();
    let (h, p, s) = (&parts[0], &parts[1], &parts[2]);
    let mut cases = vec![
        case("valid EdDSA token, REST", rest_cookie(&valid), Want::Allow),
        case(
            "valid EdDSA token, HTTP API",
            http_cookie(&valid),
            Want::Allow,
        ),
        case(
            "valid ES256 token",
            rest_cookie(&good(&es, &[])),
            Want::Allow,
        ),
    ];

    // Algorithms and signatures.
    for alg in ["none", "None", "NONE", "nOnE"] {
        let hdr = b64(json!({"alg": alg, "kid": ed_kid, "typ": "JWT"})
            .to_string()
            .as_bytes());
        let body = b64(forged.to_string().as_bytes());
        cases.push(case(
            format!("alg {alg}, empty signature"),
            rest_cookie(&format!("{hdr}.{body}.")),
            Want::Deny("malformed"),
        ));
        cases.push(case(
            format!("alg {alg}, some signature"),
            rest_cookie(&format!("{hdr}.{body}.{s}")),
            Want::Deny("bad_alg"),
        ));
    }
    cases.push(case(
        "signature stripped (two segments)",
        rest_cookie(&format!("{h}.{p}")),
        Want::Deny("malformed"),
    ));
    // A length of 1 mod 4 is never valid base64url, whatever the bits.
    let cut = (1..=4).map(|n| s.len() - n).find(|l| l % 4 == 1).unwrap();
    cases.push(case(
        "signature cut to an impossible base64url length",
        rest_cookie(&format!("{h}.{p}.{}", &s[..cut])),
        Want::Deny("malformed"),
    ));
    let short_sig = b64(&URL_SAFE_NO_PAD.decode(s).unwrap()[..48]);
    cases.push(case(
        "truncated signature",
        rest_cookie(&format!("{h}.{p}.{short_sig}")),
        Want::Deny("bad_sig"),
    ));
    let mut flipped = s.clone().into_bytes();
    flipped[5] = if flipped[5] == b'A' { b'B' } else { b'A' };
    cases.push(case(
        "bit-flipped signature",
        rest_cookie(&format!("{h}.{p}.{}", String::from_utf8(flipped).unwrap())),
        Want::Deny("bad_sig"),
    ));
    let other = good(&ed, &[("sub", json!(MARKER))]);
    cases.push(case(
        "signature of another token",
        rest_cookie(&format!("{h}.{}.{s}", other.split('.').nth(1).unwrap())),
        Want::Deny("bad_sig"),
    ));
    cases.push(case(
        "HMAC with an empty key",
        rest_cookie(&hmac_token(
            b"",
            json!({"alg": "HS256", "kid": ed_kid}),
            forged.clone(),
        )),
        Want::Deny("bad_alg"),
    ));
    for alg in ["EdDSA", "ES256", "RS256"] {
        let kid = keys.kid(alg);
        for (label, secret) in public_key_encodings(keys, alg) {
            cases.push(case(
                format!("confusion: HS256 keyed with {label}"),
                rest_cookie(&hmac_token(
                    &secret,
                    json!({"alg": "HS256", "kid": kid, "typ": "JWT"}),
                    forged.clone(),
                )),
                Want::Deny("bad_alg"),
            ));
        }
    }
    cases.push(case(
        "header alg ES256 under the EdDSA kid",
        rest_cookie(&token(
            &es,
            json!({"alg": "ES256", "kid": ed_kid}),
            forged.clone(),
        )),
        Want::Deny("bad_alg"),
    ));
    cases.push(case(
        "RS256 not in the allowlist",
        rest_cookie(&good(&rs, &[])),
        Want::Deny("bad_alg"),
    ));
    cases.push(case(
        "ES384 not in the allowlist",
        rest_cookie(&format!(
            "{}.{p}.{s}",
            b64(json!({"alg": "ES384", "kid": es_kid})
                .to_string()
                .as_bytes())
        )),
        Want::Deny("bad_alg"),
    ));
    let es_input = token(&es, std_header(&es), forged.clone());
    let es_in = es_input.rsplit_once('.').unwrap().0.to_owned();
    cases.push(case(
        "ECDSA all-zero signature (r = s = 0)",
        rest_cookie(&format!("{es_in}.{}", b64(&[0u8; 64]))),
        Want::Deny("bad_sig"),
    ));
    let es_good = good(&es, &[]);
    let (es_good_in, es_sig) = es_good.rsplit_once('.').unwrap();
    let raw_sig = URL_SAFE_NO_PAD.decode(es_sig).unwrap();
    let mut der_body = der_uint(&raw_sig[..32]);
    der_body.extend(der_uint(&raw_sig[32..]));
    cases.push(case(
        "ECDSA signature DER-encoded",
        rest_cookie(&format!("{es_good_in}.{}", b64(&der(0x30, &der_body)))),
        Want::Deny("bad_sig"),
    ));
    cases.push(case(
        "ECDSA signature of the wrong length",
        rest_cookie(&format!("{es_good_in}.{}", b64(&raw_sig[..63]))),
        Want::Deny("bad_sig"),
    ));
    cases.push(case(
        "HS256 key in the secret, not in the allowlist",
        rest_cookie(&good(&hs, &[])),
        Want::Deny("bad_alg"),
    ));

    // Header injection.
    let attacker =
        SigningKey::from_jwk(&jwt_session::keygen::generate(jwt_session::Alg::EdDSA).unwrap())
            .unwrap();
    let attacker_pub = serde_json::to_value(
        jwt_session::keygen::generate(jwt_session::Alg::EdDSA)
            .unwrap()
            .to_public()
            .unwrap(),
    )
    .unwrap();
    cases.push(case(
        "embedded jwk header",
        rest_cookie(&token(
            &attacker,
            json!({"alg": "EdDSA", "kid": attacker.kid(), "jwk": attacker_pub}),
            forged.clone(),
        )),
        Want::Deny("malformed"),
    ));
    for (param, value) in [
        ("jku", json!("http://127.0.0.1:9/jwks.json")),
        ("x5u", json!("http://127.0.0.1:9/cert.pem")),
        ("x5c", json!(["MIIBIjANBg"])),
    ] {
        cases.push(case(
            format!("{param} header on a forged token"),
            rest_cookie(&token(
                &attacker,
                json!({"alg": "EdDSA", "kid": ed_kid, param: value}),
                forged.clone(),
            )),
            Want::Deny("malformed"),
        ));
        cases.push(case(
            format!("{param} header on a genuine token"),
            rest_cookie(&token(
                &ed,
                json!({"alg": "EdDSA", "kid": ed_kid, param: value}),
                claims(&[]),
            )),
            Want::Deny("malformed"),
        ));
    }
    for (label, kid) in [
        ("kid path traversal", json!("../../../../../../dev/null")),
        ("kid SQL injection", json!("x' OR '1'='1")),
        ("kid shell injection", json!("$(curl 127.0.0.1)")),
        ("kid of 200 characters", json!("k".repeat(200))),
        (
            "kid with control characters",
            json!("a\u{0000}b\u{001b}[31m"),
        ),
        ("kid null", json!(null)),
        ("kid number", json!(7)),
        (
            "unknown kid",
            json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        ),
    ] {
        cases.push(case(
            label,
            rest_cookie(&token(
                &ed,
                json!({"alg": "EdDSA", "kid": kid}),
                forged.clone(),
            )),
            Want::Deny("unknown_kid"),
        ));
    }
    cases.push(case(
        "missing kid",
        rest_cookie(&token(&ed, json!({"alg": "EdDSA"}), forged.clone())),
        Want::Deny("unknown_kid"),
    ));
    cases.push(case(
        "kid of 2000 characters (header too large)",
        rest_cookie(&token(
            &ed,
            json!({"alg": "EdDSA", "kid": "k".repeat(2000)}),
            forged.clone(),
        )),
        Want::Deny("too_large"),
    ));
    for (label, extra) in [
        (
            "crit with an unknown member",
            json!({"crit": ["exp"], "exp": 1}),
        ),
        ("crit empty", json!({"crit": []})),
        ("crit not an array", json!({"crit": "b64"})),
        ("b64 false", json!({"b64": false, "crit": ["b64"]})),
        ("nested token (cty JWT)", json!({"cty": "JWT"})),
    ] {
        let mut hdr = std_header(&ed);
        for (k, v) in extra.as_object().unwrap() {
            hdr[k] = v.clone();
        }
        cases.push(case(
            label,
            rest_cookie(&token(&ed, hdr, claims(&[]))),
            Want::Deny("malformed"),
        ));
    }

    // Structure.
    cases.push(case(
        "empty cookie value",
        rest("GET", Some(&format!("{COOKIE}=")), &[]),
        Want::Deny("no_token"),
    ));
    cases.push(case("one segment", rest_cookie(h), Want::Deny("malformed")));
    cases.push(case(
        "four segments",
        rest_cookie(&format!("{valid}.{s}")),
        Want::Deny("malformed"),
    ));
    cases.push(case(
        "padding",
        rest_cookie(&format!("{h}=.{p}.{s}")),
        Want::Deny("malformed"),
    ));
    let std_alpha = valid.replace('-', "+").replace('_', "/");
    let std_case = if std_alpha == valid {
        format!("{h}.{p}+.{s}")
    } else {
        std_alpha
    };
    cases.push(case(
        "standard base64 alphabet",
        rest_cookie(&std_case),
        Want::Deny("malformed"),
    ));
    cases.push(case(
        "whitespace inside a segment",
        rest_cookie(&format!("{}\t{}.{p}.{s}", &h[..4], &h[4..])),
        Want::Deny("malformed"),
    ));
    cases.push(case(
        "trailing garbage",
        rest_cookie(&format!("{valid}!!")),
        Want::Deny("malformed"),
    ));
    for (label, payload) in [
        ("array payload", "[]"),
        ("string payload", "\"alice\""),
        ("number payload", "42"),
    ] {
        cases.push(case(
            label,
            rest_cookie(&raw_token(&ed, &std_header(&ed).to_string(), payload)),
            Want::Deny("malformed"),
        ));
    }
    let hdr_text = std_header(&ed).to_string();
    cases.push(case(
        "duplicate alg in the header",
        rest_cookie(&raw_token(
            &ed,
            &hdr_text.replacen('{', "{\"alg\":\"none\",", 1),
            &claims(&[]).to_string(),
        )),
        Want::Deny("malformed"),
    ));
    let ctext = claims(&[]).to_string();
    cases.push(case(
        "duplicate sub in the claims",
        rest_cookie(&raw_token(
            &ed,
            &hdr_text,
            &ctext.replacen('{', "{\"sub\":\"admin\",", 1),
        )),
        Want::Deny("malformed"),
    ));
    cases.push(case(
        "duplicate sub, escaped",
        rest_cookie(&raw_token(
            &ed,
            &hdr_text,
            &ctext.replacen('{', "{\"\\u0073ub\":\"admin\",", 1),
        )),
        Want::Deny("malformed"),
    ));
    let bad_utf8 = {
        let mut bytes = hdr_text.clone().into_bytes();
        bytes.insert(bytes.len() - 2, 0xff);
        bytes
    };
    let input = format!("{}.{}", b64(&bad_utf8), b64(ctext.as_bytes()));
    cases.push(case(
        "invalid UTF-8 in the header",
        rest_cookie(&format!(
            "{input}.{}",
            ed.sign_raw(input.as_bytes()).unwrap()
        )),
        Want::Deny("malformed"),
    ));
    cases.push(case(
        "byte-order mark before the header",
        rest_cookie(&raw_token(&ed, &format!("\u{feff}{hdr_text}"), &ctext)),
        Want::Deny("malformed"),
    ));
    cases.push(case(
        "byte-order mark before the claims",
        rest_cookie(&raw_token(&ed, &hdr_text, &format!("\u{feff}{ctext}"))),
        Want::Deny("malformed"),
    ));
    let deep = format!("{}1{}", "{\"a\":".repeat(40), "}".repeat(40));
    cases.push(case(
        "claims nested 40 deep",
        rest_cookie(&token(
            &ed,
            std_header(&ed),
            claims(&[("x", serde_json::from_str(&deep).unwrap())]),
        )),
        Want::Deny("malformed"),
    ));
    cases.push(case(
        "oversized token",
        rest_cookie(&good(&ed, &[("pad", json!("x".repeat(5000)))])),
        Want::Deny("too_large"),
    ));

    // Claims.
    let t = now();
    for (label, extra, want) in [
        (
            "exp missing",
            vec![("exp", Value::Null)],
            Want::Deny("bad_claim"),
        ),
        (
            "exp a string",
            vec![("exp", json!((t + 600).to_string()))],
            Want::Deny("bad_claim"),
        ),
        (
            "exp a float",
            vec![("exp", json!(t as f64 + 600.5))],
            Want::Deny("bad_claim"),
        ),
        (
            "exp negative",
            vec![("exp", json!(-1))],
            Want::Deny("bad_claim"),
        ),
        (
            "exp in milliseconds",
            vec![("exp", json!((t + 600) * 1000))],
            Want::Deny("bad_claim"),
        ),
        (
            "exp u64::MAX",
            vec![("exp", json!(u64::MAX))],
            Want::Deny("bad_claim"),
        ),
        (
            "exp just inside the leeway",
            vec![("exp", json!(t - 20))],
            Want::Allow,
        ),
        (
            "exp just outside the leeway",
            vec![("exp", json!(t - 40))],
            Want::Deny("expired"),
        ),
        (
            "exp beyond the maximum lifetime",
            vec![("exp", json!(t + 86_400 + 120))],
            Want::Deny("bad_claim"),
        ),
        (
            "nbf in the future",
            vec![("nbf", json!(t + 120))],
            Want::Deny("not_yet_valid"),
        ),
        (
            "nbf a string",
            vec![("nbf", json!("soon"))],
            Want::Deny("bad_claim"),
        ),
        (
            "iat in the future",
            vec![("iat", json!(t + 120))],
            Want::Deny("not_yet_valid"),
        ),
        (
            "iat an object",
            vec![("iat", json!({}))],
            Want::Deny("bad_claim"),
        ),
        (
            "aud an array with ours",
            vec![("aud", json!(["other", AUDIENCE]))],
            Want::Allow,
        ),
        (
            "aud an empty array",
            vec![("aud", json!([]))],
            Want::Deny("bad_aud"),
        ),
        (
            "aud a number",
            vec![("aud", json!(1))],
            Want::Deny("bad_aud"),
        ),
        (
            "aud an object",
            vec![("aud", json!({"aud": AUDIENCE}))],
            Want::Deny("bad_aud"),
        ),
        (
            "aud missing",
            vec![("aud", Value::Null)],
            Want::Deny("bad_aud"),
        ),
        (
            "aud differing in case",
            vec![("aud", json!(AUDIENCE.to_uppercase()))],
            Want::Deny("bad_aud"),
        ),
        (
            "aud with whitespace",
            vec![("aud", json!(format!(" {AUDIENCE}")))],
            Want::Deny("bad_aud"),
        ),
        (
            "iss an array",
            vec![("iss", json!([ISSUER]))],
            Want::Deny("bad_iss"),
        ),
        (
            "iss a number",
            vec![("iss", json!(1))],
            Want::Deny("bad_iss"),
        ),
        (
            "iss missing",
            vec![("iss", Value::Null)],
            Want::Deny("bad_iss"),
        ),
        (
            "iss differing in case",
            vec![("iss", json!(ISSUER.to_uppercase()))],
            Want::Deny("bad_iss"),
        ),
        (
            "iss with a trailing slash",
            vec![("iss", json!(format!("{ISSUER}/")))],
            Want::Deny("bad_iss"),
        ),
        (
            "sub missing",
            vec![("sub", Value::Null)],
            Want::Deny("bad_claim"),
        ),
        (
            "sub empty",
            vec![("sub", json!(""))],
            Want::Deny("bad_claim"),
        ),
        (
            "sub a number",
            vec![("sub", json!(42))],
            Want::Deny("bad_claim"),
        ),
        (
            "sub over 1 KiB",
            vec![("sub", json!("u".repeat(1025)))],
            Want::Deny("bad_claim"),
        ),
    ] {
        cases.push(case(label, rest_cookie(&good(&ed, &extra)), want));
    }
    let escaped = ctext.replace(
        &format!("\"iss\":\"{ISSUER}\""),
        &format!("\"iss\":\"\\u0068{}\"", &ISSUER[1..]),
    );
    assert_ne!(escaped, ctext);
    cases.push(case(
        "escaped-but-equal iss",
        rest_cookie(&raw_token(&ed, &hdr_text, &escaped)),
        Want::Allow,
    ));
    let crlf = ctext.replace(',', ",\r\n  ");
    cases.push(case(
        "CRLF whitespace in the claims",
        rest_cookie(&raw_token(&ed, &hdr_text, &crlf)),
        Want::Allow,
    ));

    // Cookies and events.
    let other_valid = good(&ed, &[("jti", json!("jti-2"))]);
    cases.push(case(
        "cookie twice in one header",
        rest(
            "GET",
            Some(&format!("{COOKIE}={valid}; {COOKIE}={other_valid}")),
            &[],
        ),
        Want::Deny("ambiguous_cookie"),
    ));
    let mut two_headers = rest_cookie(&valid);
    two_headers["multiValueHeaders"]["Cookie"] = json!([
        format!("{COOKIE}={valid}"),
        format!("{COOKIE}={other_valid}")
    ]);
    cases.push(case(
        "cookie in two Cookie headers",
        two_headers,
        Want::Deny("ambiguous_cookie"),
    ));
    let mut split = rest_cookie(&valid);
    split["multiValueHeaders"]["Cookie"] = json!([format!("{COOKIE}={other_valid}")]);
    cases.push(case(
        "cookie across headers and multiValueHeaders",
        split,
        Want::Deny("ambiguous_cookie"),
    ));
    cases.push(case(
        "cookie across cookies and the cookie header",
        http(
            "GET",
            &[&format!("{COOKIE}={valid}")],
            &[("cookie", &format!("{COOKIE}={other_valid}"))],
        ),
        Want::Deny("ambiguous_cookie"),
    ));
    cases.push(case(
        "the same value twice",
        rest(
            "GET",
            Some(&format!("{COOKIE}={valid}; {COOKIE}={valid}")),
            &[],
        ),
        Want::Allow,
    ));
    for (label, header) in [
        ("name in lower case", format!("__host-session={valid}")),
        ("name with a suffix", format!("{COOKIE}2={valid}")),
        ("a prefix of the name", format!("__Host-sessio={valid}")),
        (
            "name with a Unicode space",
            format!("\u{a0}{COOKIE}={valid}"),
        ),
        ("name behind a comma", format!("a=1, {COOKIE}={valid}")),
        ("empty name", format!("={valid}")),
    ] {
        cases.push(case(
            label,
            rest("GET", Some(&header), &[]),
            Want::Deny("no_token"),
        ));
    }
    cases.push(case(
        "quoted value",
        rest("GET", Some(&format!("{COOKIE}=\"{valid}\"")), &[]),
        Want::Deny("malformed"),
    ));
    cases.push(case(
        "separators without spaces",
        rest("GET", Some(&format!("a=1;{COOKIE}={valid};b=2")), &[]),
        Want::Allow,
    ));
    cases.push(case(
        "value followed by a comma",
        rest("GET", Some(&format!("{COOKIE}={valid}, b=2")), &[]),
        Want::Deny("malformed"),
    ));
    cases.push(case(
        "control byte in the Cookie header",
        rest("GET", Some(&format!("{COOKIE}={valid}\u{1}")), &[]),
        Want::Deny("malformed"),
    ));
    cases.push(case(
        "control byte in a cookies entry",
        http("GET", &[&format!("{COOKIE}={valid}\u{1}")], &[]),
        Want::Deny("malformed"),
    ));
    cases.push(case(
        "non-ASCII in the value",
        http("GET", &[&format!("{COOKIE}={valid}é")], &[]),
        Want::Deny("malformed"),
    ));
    cases.push(case(
        "oversized cookie",
        rest("GET", Some(&format!("{COOKIE}={}", "a".repeat(5000))), &[]),
        Want::Deny("too_large"),
    ));
    cases.push(case(
        "oversized Cookie header",
        rest(
            "GET",
            Some(&format!("junk={}; {COOKIE}={valid}", "j".repeat(20_000))),
            &[],
        ),
        Want::Deny("too_large"),
    ));
    for (label, ev) in [
        ("event null", json!(null)),
        ("event an array", json!([1, 2])),
        ("event a string", json!("GET /orders")),
        ("event an empty object", json!({})),
        (
            "TOKEN authorizer event",
            json!({"type": "TOKEN", "authorizationToken": format!("Bearer {valid}"), "methodArn": "arn:aws:execute-api:us-east-1:1:a/s/GET/x"}),
        ),
    ] {
        cases.push(case(label, ev, Want::Deny("malformed")));
    }
    let mut no_ctx = rest_cookie(&valid);
    no_ctx.as_object_mut().unwrap().remove("requestContext");
    cases.push(case(
        "REST event without requestContext",
        no_ctx,
        Want::Deny("malformed"),
    ));
    let mut null_headers = rest_cookie(&valid);
    null_headers["headers"] = Value::Null;
    null_headers["multiValueHeaders"] = Value::Null;
    cases.push(case(
        "REST event with null header maps",
        null_headers,
        Want::Deny("no_token"),
    ));
    let mut null_cookies = http_cookie(&valid);
    null_cookies["cookies"] = Value::Null;
    null_cookies["headers"] = Value::Null;
    cases.push(case(
        "HTTP event with null cookies and headers",
        null_cookies,
        Want::Deny("malformed"),
    ));

    // CSRF.
    let csrf = "csrf-value-0123456789";
    let cookie = format!("{COOKIE}={valid}");
    for m in ["POST", "PUT", "PATCH", "DELETE"] {
        cases.push(case(
            format!("{m} without the CSRF header"),
            rest(m, Some(&cookie), &[]),
            Want::Deny("csrf"),
        ));
        cases.push(case(
            format!("{m} with a wrong CSRF header"),
            rest(
                m,
                Some(&cookie),
                &[("X-CSRF-Token", "csrf-value-0123456780")],
            ),
            Want::Deny("csrf"),
        ));
        cases.push(case(
            format!("{m} with the right CSRF header"),
            rest(m, Some(&cookie), &[("X-CSRF-Token", csrf)]),
            Want::Allow,
        ));
    }
    cases.push(case(
        "CSRF header name in another case",
        rest("POST", Some(&cookie), &[("x-CsRf-tOkEn", csrf)]),
        Want::Allow,
    ));
    cases.push(case(
        "CSRF header on HTTP API",
        http("POST", &[&cookie], &[("X-CSRF-Token", csrf)]),
        Want::Allow,
    ));
    let no_csrf = good(&ed, &[("csrf", Value::Null)]);
    cases.push(case(
        "token without a csrf claim on POST",
        rest(
            "POST",
            Some(&format!("{COOKIE}={no_csrf}")),
            &[("X-CSRF-Token", csrf)],
        ),
        Want::Deny("csrf"),
    ));
    cases.push(case(
        "foreign Origin on POST",
        rest(
            "POST",
            Some(&cookie),
            &[("X-CSRF-Token", csrf), ("Origin", "https://evil.example")],
        ),
        Want::Deny("csrf"),
    ));
    cases.push(case(
        "allowed Origin on POST",
        rest(
            "POST",
            Some(&cookie),
            &[("X-CSRF-Token", csrf), ("Origin", "https://app.local.test")],
        ),
        Want::Allow,
    ));
    cases.push(case(
        "Sec-Fetch-Site cross-site on POST",
        rest(
            "POST",
            Some(&cookie),
            &[("X-CSRF-Token", csrf), ("Sec-Fetch-Site", "cross-site")],
        ),
        Want::Deny("csrf"),
    ));
    cases.push(case(
        "Sec-Fetch-Site cross-site on GET",
        rest("GET", Some(&cookie), &[("Sec-Fetch-Site", "cross-site")]),
        Want::Allow,
    ));
    for m in ["GET", "HEAD", "OPTIONS"] {
        cases.push(case(
            format!("{m} needs no CSRF header"),
            rest(m, Some(&cookie), &[]),
            Want::Allow,
        ));
    }

    cases
}

/// See [`PERMISSIVE`].
pub fn permissive_allowlist_and_explicit_typing(keys: &Keys) -> Vec<Case> {
    let ed = keys.signer("EdDSA");
    let rs = keys.signer("RS256");
    let hs = keys.signer("HS256");
    let forged = claims(&[("sub", json!(MARKER))]);
    let mut cases = vec![
        case(
            "valid EdDSA token",
            rest_cookie(&good(&ed, &[])),
            Want::Allow,
        ),
        case(
            "valid RS256 token",
            rest_cookie(&good(&rs, &[])),
            Want::Allow,
        ),
    ];
    for alg in ["EdDSA", "RS256"] {
        let kid = keys.kid(alg);
        for (label, secret) in public_key_encodings(keys, alg) {
            cases.push(case(
                format!("confusion with HS256 allowed: {label}"),
                rest_cookie(&hmac_token(
                    &secret,
                    json!({"alg": "HS256", "kid": kid, "typ": "JWT"}),
                    forged.clone(),
                )),
                Want::Deny("bad_alg"),
            ));
        }
    }
    let rs_tok = good(&rs, &[]);
    let (_, rs_p_s) = rs_tok.split_once('.').unwrap();
    let ps_hdr = b64(
        json!({"alg": "PS256", "kid": keys.kid("RS256"), "typ": "JWT"})
            .to_string()
            .as_bytes(),
    );
    cases.push(case(
        "RS256 signature relabelled PS256",
        rest_cookie(&format!("{ps_hdr}.{rs_p_s}")),
        Want::Deny("bad_alg"),
    ));
    cases.push(case(
        "HS256 key in the secret but not served",
        rest_cookie(&good(&hs, &[])),
        Want::Deny("unknown_kid"),
    ));
    cases.push(case(
        "no typ",
        rest_cookie(&token(
            &ed,
            json!({"alg": "EdDSA", "kid": ed.kid()}),
            claims(&[]),
        )),
        Want::Deny("bad_typ"),
    ));
    cases.push(case(
        "typ in another case",
        rest_cookie(&token(
            &ed,
            json!({"alg": "EdDSA", "kid": ed.kid(), "typ": "jwt"}),
            claims(&[]),
        )),
        Want::Deny("bad_typ"),
    ));
    cases.push(case(
        "typ of another kind",
        rest_cookie(&token(
            &ed,
            json!({"alg": "EdDSA", "kid": ed.kid(), "typ": "at+jwt"}),
            claims(&[]),
        )),
        Want::Deny("bad_typ"),
    ));
    cases
}

/// See [`ROUTES_AND_DOUBLE_TOKEN`].
pub fn route_rules_and_double_token_mode(keys: &Keys) -> Vec<Case> {
    let ed = keys.signer("EdDSA");
    let reader = good(&ed, &[("scope", json!("orders:read profile"))]);
    let scp_reader = good(&ed, &[("scp", json!(["orders:read"]))]);
    let nobody = good(&ed, &[("scope", json!("profile"))]);
    let other_jti = good(
        &ed,
        &[("scope", json!("orders:read")), ("jti", json!("jti-other"))],
    );
    let with = |cookie_tok: &str, bearer: Option<&str>| {
        let auth = bearer.map(|b| format!("Bearer {b}"));
        let mut hdrs = vec![];
        if let Some(a) = &auth {
            hdrs.push(("Authorization", a.as_str()));
        }
        rest("GET", Some(&format!("{COOKIE}={cookie_tok}")), &hdrs)
    };
    let mut admin_ev = with(&reader, Some(&reader));
    admin_ev["methodArn"] =
        json!("arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/admin/users");
    let mut tampered = reader.clone().into_bytes();
    let mid = tampered.len() - 20;
    tampered[mid] = if tampered[mid] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let http_admin = {
        let mut e = http(
            "GET",
            &[&format!("{COOKIE}={reader}")],
            &[("authorization", &format!("Bearer {reader}"))],
        );
        e["routeArn"] =
            json!("arn:aws:execute-api:us-east-1:123456789012:xyz789/$default/GET/admin");
        e
    };
    let cases = vec![
        case(
            "matching bearer, scope present",
            with(&reader, Some(&reader)),
            Want::Allow,
        ),
        case(
            "scope from scp",
            with(&scp_reader, Some(&scp_reader)),
            Want::Allow,
        ),
        case("no bearer", with(&reader, None), Want::Deny("no_token")),
        case(
            "bearer with another jti",
            with(&reader, Some(&other_jti)),
            Want::Deny("bad_claim"),
        ),
        case(
            "bearer with a bad signature",
            with(&reader, Some(&tampered)),
            Want::Deny("bad_sig"),
        ),
        case(
            "token without the route's scope",
            with(&nobody, Some(&nobody)),
            Want::Deny("forbidden"),
        ),
        case(
            "admin route without admin scope",
            admin_ev,
            Want::Deny("forbidden"),
        ),
        case(
            "admin route on HTTP API",
            http_admin,
            Want::Deny("forbidden"),
        ),
    ];
    let mut cases = cases;
    // Route rules against how backends route: each of these reaches `/admin/users` or
    // `DELETE /orders/{id}` in some framework; none may pass without the scope.
    let at = |method: &str, path: &str, extra: &[(&str, &str)]| {
        let mut hdrs = vec![("Authorization", format!("Bearer {reader}"))];
        hdrs.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let hdrs: Vec<(&str, &str)> = hdrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut e = rest(method, Some(&format!("{COOKIE}={reader}")), &hdrs);
        e["methodArn"] = json!(format!(
            "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/{method}{path}"
        ));
        e
    };
    for path in [
        "/ADMIN/users",
        "/Admin/Users",
        "/admin;x=1/users",
        "/%61dmin/users",
        "/x/../admin/users",
        "/./admin/users",
        "/admin%2fusers",
        "/orders/..%2fadmin",
    ] {
        cases.push(case(
            format!("route rule bypass attempt {path}"),
            at("GET", path, &[]),
            Want::Deny("forbidden"),
        ));
    }
    let mut head = rest(
        "HEAD",
        Some(&format!("{COOKIE}={nobody}")),
        &[("Authorization", &format!("Bearer {nobody}"))],
    );
    head["methodArn"] = json!("arn:aws:execute-api:us-east-1:123456789012:abc123/prod/HEAD/orders");
    cases.push(case(
        "HEAD is covered by the GET rule of the route",
        head,
        Want::Deny("forbidden"),
    ));
    for header in [
        "X-HTTP-Method-Override",
        "X-HTTP-Method",
        "X-Method-Override",
    ] {
        cases.push(case(
            format!("method override header {header} on an allowed GET"),
            at("GET", "/orders", &[(header, "DELETE")]),
            Want::Deny("forbidden"),
        ));
    }
    // IAM reads `*` and `?` in a policy's resource as wildcards: a request path holding one
    // never reaches a policy.
    for path in ["/orders/*", "/orders/?", "/*", "/orders/a*b"] {
        cases.push(case(
            format!("wildcard in the method ARN {path}"),
            at("GET", path, &[]),
            Want::Deny("malformed"),
        ));
    }
    let mut http_wild = http(
        "GET",
        &[&format!("{COOKIE}={reader}")],
        &[("authorization", &format!("Bearer {reader}"))],
    );
    http_wild["routeArn"] =
        json!("arn:aws:execute-api:us-east-1:123456789012:xyz789/$default/GET/orders/*");
    cases.push(case(
        "wildcard in the route ARN (HTTP API)",
        http_wild,
        Want::Deny("malformed"),
    ));
    cases
}

/// A v4.public token over exactly these payload and footer bytes, signed by the key of `alg`
/// in the secret (its Ed25519 seed and public key).
fn paseto_raw(keys: &Keys, alg: &str, payload: &[u8], footer: &[u8]) -> String {
    let jwk = keys
        .set
        .keys
        .iter()
        .find(|k| k.alg.as_str() == alg)
        .unwrap();
    let KeyMaterial::Okp { x, d: Some(d) } = &jwk.material else {
        panic!("an OKP key")
    };
    let mut secret = d.expose().to_vec();
    secret.extend_from_slice(x);
    jwt_session::strict::paseto::sign_bytes(&secret, payload, footer, None).unwrap()
}

fn paseto_claims(extra: &[(&str, Value)]) -> Value {
    let rfc = |t: u64| jwt_session::strict::rfc3339(t).unwrap();
    let t = now();
    let mut c = json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "alice",
        "iat": rfc(t), "nbf": rfc(t), "exp": rfc(t + 600), "jti": "j-paseto",
    });
    for (k, v) in extra {
        c[*k] = v.clone();
    }
    c
}

/// See [`PASETO`].
pub fn paseto(keys: &Keys) -> Vec<Case> {
    let v4_kid = keys.kid("v4.public");
    let footer = json!({ "kid": v4_kid }).to_string();
    let signed = |claims: &Value, footer: &str| {
        paseto_raw(
            keys,
            "v4.public",
            claims.to_string().as_bytes(),
            footer.as_bytes(),
        )
    };
    let good = signed(&paseto_claims(&[]), &footer);
    let (v4_body, v4_footer) = good
        .strip_prefix("v4.public.")
        .unwrap()
        .split_once('.')
        .unwrap();
    let forged = paseto_claims(&[("sub", json!(MARKER))]);
    let ed = keys.signer("EdDSA");
    let mut cases = vec![
        case("valid PASETO", rest_cookie(&good), Want::Allow),
        case("valid PASETO, HTTP API", http_cookie(&good), Want::Allow),
        case(
            "valid EdDSA JWT beside it",
            rest_cookie(&good_jwt(&ed)),
            Want::Allow,
        ),
    ];
    for header in [
        "v1.public.",
        "v2.public.",
        "v3.public.",
        "v4.local.",
        "v3.local.",
    ] {
        cases.push(case(
            format!("version or purpose confusion: {header}"),
            rest_cookie(&format!("{header}{v4_body}.{v4_footer}")),
            Want::Deny("malformed"),
        ));
    }
    cases.push(case(
        "no footer",
        rest_cookie(&paseto_raw(
            keys,
            "v4.public",
            paseto_claims(&[]).to_string().as_bytes(),
            b"",
        )),
        Want::Deny("malformed"),
    ));
    cases.push(case(
        "footer with another member, validly signed",
        rest_cookie(&signed(
            &paseto_claims(&[]),
            &json!({"kid": v4_kid, "wpk": "x"}).to_string(),
        )),
        Want::Deny("malformed"),
    ));
    cases.push(case(
        "footer with a duplicate kid, validly signed",
        rest_cookie(&signed(
            &paseto_claims(&[]),
            &format!(r#"{{"kid":"{v4_kid}","kid":"{v4_kid}"}}"#),
        )),
        Want::Deny("malformed"),
    ));
    cases.push(case(
        "footer re-encoded (same kid, other bytes)",
        rest_cookie(&format!(
            "v4.public.{v4_body}.{}",
            b64(format!("{{ \"kid\": \"{v4_kid}\" }}").as_bytes())
        )),
        Want::Deny("bad_sig"),
    ));
    cases.push(case(
        "footer swapped to a kid that is not a PASERK id",
        rest_cookie(&format!(
            "v4.public.{v4_body}.{}",
            b64(json!({"kid": keys.kid("EdDSA")}).to_string().as_bytes())
        )),
        Want::Deny("unknown_kid"),
    ));
    cases.push(case(
        "truncated signature",
        rest_cookie(&format!(
            "v4.public.{}.{v4_footer}",
            &v4_body[..v4_body.len() - 8]
        )),
        Want::Deny("bad_sig"),
    ));
    cases.push(case(
        "forged claims under the real footer",
        rest_cookie(&{
            // The real signature after forged claims.
            let bytes = URL_SAFE_NO_PAD.decode(v4_body).unwrap();
            let mut forged_body = forged.to_string().into_bytes();
            forged_body.extend_from_slice(&bytes[bytes.len() - 64..]);
            format!("v4.public.{}.{v4_footer}", b64(&forged_body))
        }),
        Want::Deny("bad_sig"),
    ));
    // The wrong key family: a JWT under the PASETO key's kid, and a PASETO signed by the EdDSA
    // key naming the PASETO key.
    for alg in ["EdDSA", "v4.public"] {
        cases.push(case(
            format!("JWT (alg {alg}, signed by the EdDSA key) under the v4.public key's kid"),
            rest_cookie(&token(
                &ed,
                json!({"alg": alg, "kid": v4_kid, "typ": "JWT"}),
                claims(&[]),
            )),
            Want::Deny("bad_alg"),
        ));
    }
    cases.push(case(
        "PASETO signed by the EdDSA key, footer naming the v4.public key",
        rest_cookie(&paseto_raw(
            keys,
            "EdDSA",
            paseto_claims(&[("sub", json!(MARKER))])
                .to_string()
                .as_bytes(),
            footer.as_bytes(),
        )),
        Want::Deny("bad_sig"),
    ));
    // Claim types and times.
    for (name, claim, want) in [
        (
            "exp as a NumericDate",
            ("exp", json!(now() + 600)),
            "bad_claim",
        ),
        (
            "exp not a date-time",
            ("exp", json!("tomorrow")),
            "bad_claim",
        ),
        ("expired", ("exp", json!("2020-01-01T00:00:00Z")), "expired"),
        ("wrong audience", ("aud", json!("other-api")), "bad_aud"),
    ] {
        cases.push(case(
            name,
            rest_cookie(&signed(&paseto_claims(&[claim]), &footer)),
            Want::Deny(want),
        ));
    }
    cases.push(case(
        "payload not UTF-8, validly signed",
        rest_cookie(&paseto_raw(
            keys,
            "v4.public",
            b"\xff\xfe{}",
            footer.as_bytes(),
        )),
        Want::Deny("malformed"),
    ));
    cases.push(case(
        "oversize",
        rest_cookie(&format!("v4.public.{}.{v4_footer}", "A".repeat(4200))),
        Want::Deny("too_large"),
    ));
    cases
}

fn good_jwt(signer: &SigningKey) -> String {
    good(signer, &[])
}
