//! A real OpenID Provider on loopback: `oidc-provider` from npm (`tests/op/`, pinned by its
//! lock file, installed by `make oidc-deps`), started by process group like moto and stopped
//! with it. The sign-in suites use it as a team's identity provider.

#[allow(unused_imports)]
use super::*;

/// A client registered at the provider.
#[derive(Debug, Clone)]
pub struct OpClient {
    /// `client_id`.
    pub id: String,
    /// `client_secret`, made by the caller at run time.
    pub secret: String,
    /// The redirect URIs it may use.
    pub redirect_uris: Vec<String>,
    /// Where the provider may send the browser after logout.
    pub post_logout_redirect_uris: Vec<String>,
    /// `client_secret_basic` or `client_secret_post`.
    pub auth_method: &'static str,
    /// The ID token's algorithm (`RS256`, `ES256`).
    pub id_token_alg: &'static str,
}

/// The provider, running until dropped.
#[derive(Debug)]
pub struct OpenIdProvider {
    service: Service,
    /// Its issuer, `http://127.0.0.1:<port>`.
    pub issuer: String,
}

impl OpenIdProvider {
    /// Starts the provider with `clients`, its output in `dir`, and waits until it serves.
    pub fn start(paths: &Paths, dir: &Path, clients: &[OpClient]) -> OpenIdProvider {
        let script = paths.root.join("tests/op/op.mjs");
        assert!(
            paths
                .root
                .join("tests/op/node_modules/oidc-provider")
                .exists(),
            "oidc-provider is not installed in tests/op: run `make oidc-deps` (make e2e does)"
        );
        let config = json!({
            "port": 0,
            "clients": clients.iter().map(|c| json!({
                "client_id": c.id,
                "client_secret": c.secret,
                "redirect_uris": c.redirect_uris,
                "post_logout_redirect_uris": c.post_logout_redirect_uris,
                "token_endpoint_auth_method": c.auth_method,
                "id_token_signed_response_alg": c.id_token_alg,
            })).collect::<Vec<_>>(),
        });
        let mut cmd = Command::new("node");
        cmd.arg(&script).env("OP_CONFIG", config.to_string());
        let service = Service::spawn("oidc-provider", cmd, dir.join("oidc-provider.log"));
        let deadline = Instant::now() + Duration::from_secs(30);
        let issuer = loop {
            if let Some(issuer) = service
                .output()
                .lines()
                .find_map(|l| l.strip_prefix("listening "))
            {
                break issuer.trim().to_owned();
            }
            assert!(
                Instant::now() < deadline,
                "the OpenID Provider did not start:\n{}",
                service.output()
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        OpenIdProvider { service, issuer }
    }

    /// Its discovery document.
    pub fn discovery(&self) -> Value {
        let (status, body) = http_call(
            &format!("{}/.well-known/openid-configuration", self.issuer),
            "GET",
            &[],
            b"",
            Duration::from_secs(10),
        );
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        serde_json::from_slice(&body).expect("a JSON discovery document")
    }

    /// What it printed.
    pub fn output(&self) -> String {
        self.service.output()
    }
}
