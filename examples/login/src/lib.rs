//! **Example only.** A login function for the cookie authorizer, to show the flow end to end;
//! replace the user store with your identity provider before using any of it.
//!
//! HTTP API (payload 2.0) routes:
//!
//! - `POST /login` with `{"username", "password"}`: checks the credentials against the
//!   stand-in store (`LOGIN_USERS`), asks the signer (`SIGNER_FUNCTION_NAME`) for a token and
//!   answers with its `Set-Cookie` and a body holding only what the page needs:
//!   `{"sub", "csrf", "expires_at", "session_expires_at"}`. Never the token.
//! - `POST /renew`, behind the authorizer: when the authorizer's context says `renew: "true"`
//!   (the token is in the last third of its lifetime), asks the signer to renew the session
//!   cookie and sets the new one; otherwise answers 204.
//! - `POST /logout`: revokes the session of the cookie's token (`revoke_session`, contract
//!   §7: a copy of the cookie stops working within the authorizers' refresh interval) and
//!   expires the cookie. If the revocation cannot be written the cookie is still expired and
//!   the answer is 502, saying the session lasts until its token expires.
//!
//! Login CSRF: a page of another site can make the browser send a form POST here (even one
//! whose `text/plain` body is shaped as JSON) and would log the browser in as the attacker.
//! So `POST /login` and `POST /logout` take only `Content-Type: application/json` (which
//! another page, even a same-site one, cannot send without a CORS preflight this API never
//! grants), refuse `Sec-Fetch-Site: cross-site`, and, when `ALLOWED_ORIGINS` is set (the
//! authorizer's variable, same meaning), an `Origin` outside it: each check on its own refuses
//! a form post from another site.
//!
//! `LOGIN_USERS` is JSON: `{"alice": {"password": "pbkdf2-sha256$<iterations>$<salt>$<hash>",
//! "scope": "orders:read"}}` (hashes from `jwt-session hash-password`).

use std::collections::HashMap;

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::{HeaderMap, HeaderValue};
use base64::Engine as _;
use jwt_session::cookie::{expire_cookie, SameSite};
use jwt_session::invoke::Invoked;
use jwt_session::password;
use jwt_session::wire::{KeyServerRequest, RevokeResponse, SessionRef, SignResponse};
use serde::Deserialize;
use serde_json::{json, Value};

/// One user of the stand-in store.
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    /// PBKDF2 hash.
    pub password: String,
    /// Scopes to put in the token.
    #[serde(default)]
    pub scope: Option<String>,
}

/// Configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The stand-in user store.
    pub users: HashMap<String, User>,
    /// The signing function.
    pub signer: String,
    /// Session cookie name.
    pub cookie_name: String,
    /// Origins accepted on `/login` and `/logout` (`ALLOWED_ORIGINS`, lower-cased); empty: no
    /// `Origin` check.
    pub allowed_origins: Vec<String>,
}

/// Every configuration problem, reported together (the shared reader's `Problem`s).
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct ConfigError(pub Vec<jwt_session::config::Problem>);

impl Config {
    /// Reads `LOGIN_USERS`, `SIGNER_FUNCTION_NAME`, `SESSION_COOKIE_NAME`, `ALLOWED_ORIGINS`
    /// with the shared reader (every problem reported together, the same codes as the
    /// functions'), `ALLOWED_ORIGINS` with the authorizer's rules.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        use jwt_session::config::Code;
        let mut c = jwt_session::config::Env::new(lookup);
        let users = match c.get("LOGIN_USERS") {
            Some(text) => serde_json::from_str(&text).unwrap_or_else(|_| {
                c.problem(
                    "LOGIN_USERS",
                    Code::Invalid,
                    "must be a JSON object of users",
                );
                HashMap::new()
            }),
            None => {
                c.problem("LOGIN_USERS", Code::Missing, "the stand-in user store");
                HashMap::new()
            }
        };
        let signer = c.required("SIGNER_FUNCTION_NAME", "the signing function");
        let cookie_name = c
            .get("SESSION_COOKIE_NAME")
            .unwrap_or_else(|| jwt_session::cookie::DEFAULT_COOKIE_NAME.to_owned());
        let allowed_origins = c
            .get("ALLOWED_ORIGINS")
            .map(|text| {
                jwt_session::origin::parse_allowed_origins(&text).unwrap_or_else(|hint| {
                    c.problem("ALLOWED_ORIGINS", Code::Invalid, hint);
                    Vec::new()
                })
            })
            .unwrap_or_default();
        if !c.problems().is_empty() {
            return Err(ConfigError(c.into_problems()));
        }
        Ok(Config {
            users,
            signer,
            cookie_name,
            allowed_origins,
        })
    }
}

fn response(status: i64, body: Value, cookies: Vec<String>) -> ApiGatewayV2httpResponse {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert("cache-control", HeaderValue::from_static("no-store"));
    let mut r = ApiGatewayV2httpResponse::default();
    r.status_code = status;
    r.headers = headers;
    r.cookies = cookies;
    r.body = Some(Body::Text(body.to_string()));
    r
}

fn body_json(req: &ApiGatewayV2httpRequest) -> Option<Value> {
    let raw = req.body.as_deref()?;
    let bytes = if req.is_base64_encoded {
        base64::engine::general_purpose::STANDARD.decode(raw).ok()?
    } else {
        raw.as_bytes().to_vec()
    };
    serde_json::from_slice(&bytes).ok()
}

/// How a call to the session authority failed.
#[derive(Debug)]
enum Called {
    /// It answered with an error: its code.
    Refused(String),
    /// It could not be reached, or answered nonsense.
    Failed(&'static str),
}

/// The session cookie's value (HTTP API payload 2.0 lists cookies one by one).
fn session_token<'r>(req: &'r ApiGatewayV2httpRequest, name: &str) -> Option<&'r str> {
    req.cookies.iter().flatten().find_map(|c| {
        c.strip_prefix(name)
            .and_then(|rest| rest.strip_prefix('='))
            .filter(|v| !v.is_empty())
    })
}

/// The login function.
#[derive(Debug)]
pub struct Login {
    cfg: Config,
    lambda: aws_sdk_lambda::Client,
}

impl Login {
    /// Builds it.
    pub fn new(cfg: Config, lambda: aws_sdk_lambda::Client) -> Self {
        Login { cfg, lambda }
    }

    async fn call_signer(&self, request: KeyServerRequest) -> Result<SignResponse, &'static str> {
        self.call(request).await.map_err(|e| match e {
            Called::Refused(_) => "the signer refused",
            Called::Failed(e) => e,
        })
    }

    /// One request to the session authority, its answer typed; a refusal keeps the
    /// function's error code.
    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        request: KeyServerRequest,
    ) -> Result<T, Called> {
        let body = request
            .to_json()
            .map_err(|_| Called::Failed("could not build the request"))?;
        // A function's error is the signer's refusal, not a failure to reach it (the shared
        // reading of Lambda's and `cargo lambda watch`'s two ways of answering it).
        match jwt_session::invoke::invoke(&self.lambda, &self.cfg.signer, body).await {
            Ok(Invoked::Answer(payload)) => serde_json::from_slice(&payload)
                .map_err(|_| Called::Failed("the signer answered nonsense")),
            Ok(Invoked::FunctionError { error_type, .. }) if error_type.is_empty() => {
                Err(Called::Refused("unknown".to_owned()))
            }
            Ok(Invoked::FunctionError { error_type, .. }) => Err(Called::Refused(error_type)),
            Err(_) => Err(Called::Failed("the signer could not be reached")),
        }
    }

    /// `POST /logout`: the cookie is expired in any case; a session token it carried is
    /// revoked first (docs/revocation.md), so a copy of the cookie stops working too. When the
    /// revocation cannot be written the answer says so (502): the session then lasts until
    /// its token expires.
    async fn logout(&self, req: &ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
        let cookie = expire_cookie(&self.cfg.cookie_name, SameSite::Strict).unwrap_or_default();
        let Some(token) = session_token(req, &self.cfg.cookie_name) else {
            return response(
                200,
                json!({"logged_out": true, "revoked": false}),
                vec![cookie],
            );
        };
        let request = KeyServerRequest::RevokeSession(SessionRef::Token(
            jwt_session::SecretString::new(token.to_owned()),
        ));
        match self.call::<RevokeResponse>(request).await {
            Ok(r) => {
                tracing::info!(
                    event = "logout",
                    sub = r.sub.as_deref(),
                    sid = r.sid.as_deref(),
                    "logged out; session revoked"
                );
                response(
                    200,
                    json!({"logged_out": true, "revoked": true}),
                    vec![cookie],
                )
            }
            // Nothing a valid session could still use: an invalid or expired token, or a
            // deployment without revocation.
            Err(Called::Refused(code))
                if code == "invalid_token" || code == "action_not_allowed" =>
            {
                tracing::info!(
                    event = "logout",
                    revoked = false,
                    code,
                    "logged out; nothing to revoke"
                );
                response(
                    200,
                    json!({"logged_out": true, "revoked": false}),
                    vec![cookie],
                )
            }
            Err(e) => {
                let why = match &e {
                    Called::Refused(_) => "the signer refused to revoke the session",
                    Called::Failed(why) => why,
                };
                tracing::error!(
                    event = "logout_revocation_failed",
                    error = why,
                    "the session could not be revoked"
                );
                response(
                    502,
                    json!({"logged_out": true, "revoked": false, "error": "the session could not be revoked; it ends when its token expires"}),
                    vec![cookie],
                )
            }
        }
    }

    /// The answer to a signer result: the token only in `Set-Cookie`, the rest in the body.
    fn session_response(signed: &SignResponse, sub: Option<&str>) -> ApiGatewayV2httpResponse {
        let mut body = serde_json::Map::new();
        body.insert("csrf".into(), signed.csrf.clone().into());
        body.insert("expires_at".into(), signed.expires_at.into());
        body.insert(
            "session_expires_at".into(),
            signed.session_expires_at.into(),
        );
        if let Some(sub) = sub {
            body.insert("sub".into(), sub.into());
        }
        let body = Value::Object(body);
        response(200, body, vec![signed.set_cookie.expose().to_owned()])
    }

    /// Handles one request.
    pub async fn handle(&self, req: &ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
        let path = req.raw_path.as_deref().unwrap_or("/");
        let method = req.request_context.http.method.as_str();
        let header = |name: &str| req.headers.get(name).and_then(|v| v.to_str().ok());
        let route = path.rsplit('/').next().unwrap_or("");
        // The authorizer's reading of where a request comes from (`jwt_session::origin`).
        let foreign_origin = header("origin")
            .is_some_and(|o| !jwt_session::origin::is_allowed_origin(o, &self.cfg.allowed_origins));
        let cross_site = jwt_session::origin::is_cross_site(
            req.headers
                .get_all("sec-fetch-site")
                .iter()
                .map(|v| v.as_bytes()),
        );
        if matches!(route, "login" | "logout") && (cross_site || foreign_origin) {
            return response(
                403,
                json!({"error": "cross-site requests are refused"}),
                vec![],
            );
        }
        if matches!(route, "login" | "logout")
            && !header("content-type").is_some_and(|ct| {
                ct.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            })
        {
            return response(
                415,
                json!({"error": "expected Content-Type: application/json"}),
                vec![],
            );
        }
        match (method, route) {
            ("POST", "login") => self.login(req).await,
            ("POST", "renew") => self.renew(req).await,
            ("POST", "logout") => self.logout(req).await,
            _ => response(404, json!({"error": "not found"}), vec![]),
        }
    }

    async fn login(&self, req: &ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
        let body = body_json(req).unwrap_or(Value::Null);
        let (Some(username), Some(password)) = (
            body.get("username").and_then(Value::as_str),
            body.get("password").and_then(Value::as_str),
        ) else {
            return response(
                400,
                json!({"error": "expected {\"username\", \"password\"}"}),
                vec![],
            );
        };
        let user = self.cfg.users.get(username);
        // Unknown users cost the same as a wrong password.
        let ok = password::verify(
            password,
            user.map_or(password::DUMMY_HASH, |u| u.password.as_str()),
        );
        let Some(user) = user.filter(|_| ok) else {
            tracing::info!(event = "login_failed", "invalid credentials");
            return response(401, json!({"error": "invalid credentials"}), vec![]);
        };
        let mut claims = serde_json::Map::new();
        if let Some(scope) = &user.scope {
            claims.insert("scope".into(), scope.clone().into());
        }
        let request = KeyServerRequest::Sign {
            sub: username.to_owned(),
            claims,
        };
        match self.call_signer(request).await {
            Ok(signed) => {
                tracing::info!(event = "login", sub = username, jti = %signed.jti, "logged in");
                Self::session_response(&signed, Some(username))
            }
            Err(e) => response(502, json!({"error": e}), vec![]),
        }
    }

    async fn renew(&self, req: &ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
        let due = req
            .request_context
            .authorizer
            .as_ref()
            .and_then(|a| a.fields.get("renew"))
            .and_then(Value::as_str)
            == Some("true");
        if !due {
            return response(204, json!({"renewed": false}), vec![]);
        }
        let Some(token) = session_token(req, &self.cfg.cookie_name) else {
            return response(401, json!({"error": "no session"}), vec![]);
        };
        let request = KeyServerRequest::Renew {
            token: jwt_session::SecretString::new(token.to_owned()),
        };
        match self.call_signer(request).await {
            Ok(signed) => Self::session_response(&signed, None),
            Err(e) => response(401, json!({"error": e}), vec![]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login() -> Login {
        let conf = aws_sdk_lambda::Config::builder()
            .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
            .region(aws_sdk_lambda::config::Region::new("us-east-1"))
            .build();
        let cfg = Config::from_lookup(|k| match k {
            "LOGIN_USERS" => Some("{}".into()),
            "SIGNER_FUNCTION_NAME" => Some("signer".into()),
            "ALLOWED_ORIGINS" => Some("https://App.example".into()),
            _ => None,
        })
        .unwrap();
        Login::new(cfg, aws_sdk_lambda::Client::from_conf(conf))
    }

    fn post(path: &str, headers: &[(&'static str, &'static str)]) -> ApiGatewayV2httpRequest {
        let mut req = ApiGatewayV2httpRequest::default();
        req.raw_path = Some(path.into());
        req.request_context.http.method = aws_lambda_events::http::Method::POST;
        for (k, v) in headers {
            req.headers.insert(*k, HeaderValue::from_static(v));
        }
        req.body = Some(r#"{"username":"mallory","password":"x"}"#.into());
        req
    }

    #[tokio::test]
    async fn a_form_post_is_refused_by_its_content_type_alone() {
        for path in ["/login", "/logout"] {
            let r = login()
                .handle(&post(path, &[("content-type", "text/plain")]))
                .await;
            assert_eq!(r.status_code, 415, "{path}");
            let r = login().handle(&post(path, &[])).await;
            assert_eq!(r.status_code, 415, "{path} without a content type");
            assert!(r.cookies.is_empty());
        }
    }

    #[tokio::test]
    async fn a_cross_site_request_is_refused_by_fetch_metadata_alone() {
        for path in ["/login", "/logout"] {
            let h = [
                ("content-type", "application/json"),
                ("sec-fetch-site", "cross-site"),
            ];
            let r = login().handle(&post(path, &h)).await;
            assert_eq!(r.status_code, 403, "{path}");
            assert!(r.cookies.is_empty());
        }
    }

    #[tokio::test]
    async fn an_origin_outside_the_allowed_list_is_refused() {
        for path in ["/login", "/logout"] {
            let h = [
                ("content-type", "application/json"),
                ("origin", "https://evil.example"),
            ];
            let r = login().handle(&post(path, &h)).await;
            assert_eq!(r.status_code, 403, "{path}");
            assert!(r.cookies.is_empty());
        }
        let h = [
            ("content-type", "application/json"),
            ("origin", "https://app.example"),
            ("sec-fetch-site", "same-origin, same-origin"),
        ];
        assert_eq!(login().handle(&post("/logout", &h)).await.status_code, 200);
        let joined = [
            ("content-type", "application/json"),
            ("sec-fetch-site", "same-origin,cross-site"),
        ];
        assert_eq!(
            login().handle(&post("/logout", &joined)).await.status_code,
            403
        );
    }

    #[tokio::test]
    async fn a_same_origin_json_logout_expires_the_cookie() {
        let h = [
            ("content-type", "application/json; charset=utf-8"),
            ("sec-fetch-site", "same-origin"),
        ];
        let r = login().handle(&post("/logout", &h)).await;
        assert_eq!(r.status_code, 200);
        assert!(r.cookies.first().is_some_and(|c| c.contains("Max-Age=0")));
    }
}
