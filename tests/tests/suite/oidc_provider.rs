//! The local OpenID Provider the sign-in suites run against (`oidc-provider` from npm, started
//! like moto): configured as a backend-for-frontend needs it — discovery naming the issuer it
//! serves, PKCE with S256 required of every client (confidential ones too), the RFC 9207 `iss`
//! parameter on every authorization response, RP-initiated logout.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use e2e::{free_port, http_call_with_headers, OpClient, OpenIdProvider, Paths};

fn random() -> String {
    let mut b = [0u8; 32];
    aws_lc_rs::rand::fill(&mut b).unwrap();
    URL_SAFE_NO_PAD.encode(b)
}

/// A provider with one confidential client whose redirect URI is `redirect`.
fn provider(dir: &std::path::Path, redirect: &str) -> OpenIdProvider {
    OpenIdProvider::start(
        &Paths::discover(),
        dir,
        &[OpClient {
            id: "orders-bff".into(),
            secret: random(),
            redirect_uris: vec![redirect.into()],
            post_logout_redirect_uris: vec![redirect.replace("/login/oidc/callback", "/")],
            auth_method: "client_secret_basic",
            id_token_alg: "RS256",
        }],
    )
}

fn location(headers: &[(String, String)]) -> String {
    headers
        .iter()
        .find(|(k, _)| k == "location")
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

#[test]
fn the_local_provider_publishes_its_issuer_pkce_s256_the_iss_parameter_and_logout() {
    let dir = tempfile::tempdir().unwrap();
    let redirect = format!("http://127.0.0.1:{}/login/oidc/callback", free_port());
    let op = provider(dir.path(), &redirect);
    let d = op.discovery();
    assert!(op.issuer.starts_with("http://127.0.0.1:"), "{}", op.issuer);
    assert_eq!(
        d["issuer"],
        op.issuer.as_str(),
        "discovery names the issuer it serves"
    );
    assert_eq!(
        d["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(d["authorization_response_iss_parameter_supported"], true);
    assert!(d["end_session_endpoint"].is_string(), "{d}");
    assert!(d["jwks_uri"].is_string(), "{d}");
}

#[test]
fn the_local_provider_refuses_a_request_without_pkce_and_names_itself_in_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    let redirect = format!("http://127.0.0.1:{}/login/oidc/callback", free_port());
    let op = provider(dir.path(), &redirect);
    let auth = op.discovery()["authorization_endpoint"]
        .as_str()
        .unwrap()
        .to_owned();
    let query = |extra: &str| {
        format!(
            "{auth}?client_id=orders-bff&response_type=code&scope=openid&state=s1&nonce=n1\
             &redirect_uri={}{extra}",
            redirect.replace(':', "%3A").replace('/', "%2F")
        )
    };
    let short = Duration::from_secs(10);

    // Without a code challenge: back to the client with an error, and the issuer (RFC 9207).
    let (status, headers, _) = http_call_with_headers(&query(""), "GET", &[], b"", short);
    let to = location(&headers);
    assert!((300..400).contains(&status), "{status} {to}");
    assert!(to.starts_with(&redirect), "{to}");
    assert!(to.contains("error=invalid_request"), "{to}");
    assert!(to.contains("state=s1"), "{to}");
    let iss = format!("iss={}", op.issuer.replace(':', "%3A").replace('/', "%2F"));
    assert!(to.contains(&iss), "the answer names the issuer: {to}");

    // With one (S256): on to the provider's own sign-in page, not back to the client.
    let challenge = URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        random().as_bytes(),
    ));
    let (status, headers, _) = http_call_with_headers(
        &query(&format!(
            "&code_challenge={challenge}&code_challenge_method=S256"
        )),
        "GET",
        &[],
        b"",
        short,
    );
    let to = location(&headers);
    assert!((300..400).contains(&status), "{status} {to}");
    assert!(to.contains("/interaction/"), "to the sign-in page: {to}");
    assert!(!op.output().contains("Error"), "{}", op.output());
}
