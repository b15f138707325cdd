//! Typed configuration, read once at start-up. Every problem is collected and reported
//! together; a function with a bad configuration serves nothing (fail closed).

use std::fmt;
use std::time::Duration;

use jwt_session::cookie::{is_valid_cookie_name, DEFAULT_COOKIE_NAME};
use jwt_session::Alg;

use crate::routes::RouteRules;

/// Environment variable names (contract §4).
pub mod vars {
    /// The one accepted `iss`.
    pub const JWT_ISSUER: &str = "JWT_ISSUER";
    /// Accepted `aud` values, comma-separated.
    pub const JWT_AUDIENCE: &str = "JWT_AUDIENCE";
    /// The cookie that carries the token.
    pub const JWT_COOKIE_NAME: &str = "JWT_COOKIE_NAME";
    /// Accepted `alg` values, comma-separated.
    pub const JWT_ALGORITHMS: &str = "JWT_ALGORITHMS";
    /// Clock skew allowed on `exp`, `nbf`, `iat`.
    pub const JWT_LEEWAY_SECONDS: &str = "JWT_LEEWAY_SECONDS";
    /// Longest accepted distance from now to `exp`.
    pub const JWT_MAX_LIFETIME_SECONDS: &str = "JWT_MAX_LIFETIME_SECONDS";
    /// Required header `typ`, when set.
    pub const JWT_TYPE: &str = "JWT_TYPE";
    /// The function that serves verification keys.
    pub const KEYS_FUNCTION_NAME: &str = "KEYS_FUNCTION_NAME";
    /// How long fetched keys are used before a refresh.
    pub const KEYS_CACHE_TTL_SECONDS: &str = "KEYS_CACHE_TTL_SECONDS";
    /// At most one refresh for an unknown `kid` per this interval.
    pub const KEYS_REFRESH_MIN_INTERVAL_SECONDS: &str = "KEYS_REFRESH_MIN_INTERVAL_SECONDS";
    /// How long cached keys keep serving while refreshes fail.
    pub const KEYS_MAX_STALE_SECONDS: &str = "KEYS_MAX_STALE_SECONDS";
    /// Connect timeout of the key fetch (Invoke), milliseconds.
    pub const KEYS_CONNECT_TIMEOUT_MS: &str = "KEYS_CONNECT_TIMEOUT_MS";
    /// Total timeout of the key fetch (Invoke), milliseconds.
    pub const KEYS_FETCH_TIMEOUT_MS: &str = "KEYS_FETCH_TIMEOUT_MS";
    /// `simple` or `iam` answers for HTTP API payload 2.0.
    pub const HTTP_API_RESPONSE: &str = "HTTP_API_RESPONSE";
    /// Header that must carry the `csrf` claim on unsafe methods.
    pub const CSRF_HEADER_NAME: &str = "CSRF_HEADER_NAME";
    /// Origins accepted on unsafe methods.
    pub const ALLOWED_ORIGINS: &str = "ALLOWED_ORIGINS";
    /// Route rules: scopes required per route.
    pub const ROUTE_SCOPES: &str = "ROUTE_SCOPES";
    /// `true`: also require `Authorization: Bearer` with a matching token.
    pub const DOUBLE_TOKEN: &str = "DOUBLE_TOKEN";
    /// Public JWK Set supplied at deploy time: no key fetch at cold start.
    pub const KEYS_BOOTSTRAP_JWKS: &str = "KEYS_BOOTSTRAP_JWKS";
}

/// Defaults for the variables the contract lets us choose.
pub mod defaults {
    /// `JWT_COOKIE_NAME`.
    pub const COOKIE_NAME: &str = super::DEFAULT_COOKIE_NAME;
    /// `JWT_ALGORITHMS`.
    pub const ALGORITHMS: &str = "EdDSA,ES256";
    /// `JWT_LEEWAY_SECONDS`.
    pub const LEEWAY_SECONDS: u64 = 30;
    /// `JWT_MAX_LIFETIME_SECONDS`.
    pub const MAX_LIFETIME_SECONDS: u64 = 86_400;
    /// `KEYS_FUNCTION_NAME`.
    pub const KEYS_FUNCTION_NAME: &str = "secrets-fn";
    /// `KEYS_CACHE_TTL_SECONDS`.
    pub const KEYS_CACHE_TTL_SECONDS: u64 = 300;
    /// `KEYS_REFRESH_MIN_INTERVAL_SECONDS`.
    pub const KEYS_REFRESH_MIN_INTERVAL_SECONDS: u64 = 10;
    /// `KEYS_MAX_STALE_SECONDS`.
    pub const KEYS_MAX_STALE_SECONDS: u64 = 3_600;
    /// `KEYS_CONNECT_TIMEOUT_MS`.
    pub const KEYS_CONNECT_TIMEOUT_MS: u64 = 500;
    /// `KEYS_FETCH_TIMEOUT_MS`.
    pub const KEYS_FETCH_TIMEOUT_MS: u64 = 2_000;
    /// `CSRF_HEADER_NAME`.
    pub const CSRF_HEADER_NAME: &str = "X-CSRF-Token";
}

/// The headers the event reader keeps: the union of what each check declares it reads (the
/// cookie, CSRF, double-token and audit code); every other header is skipped unread. A check
/// that reads a header it does not declare sees it missing, in production and in its tests.
pub fn header_filter(csrf_header_name: &str) -> crate::event::HeaderFilter {
    let mut names: Vec<String> = crate::cookie::HEADERS_READ
        .iter()
        .map(|h| (*h).to_owned())
        .chain(crate::csrf::headers_read(csrf_header_name))
        .chain([
            crate::AUTHORIZATION_HEADER.to_owned(),
            crate::event::USER_AGENT_HEADER.to_owned(),
        ])
        .map(|h| h.to_ascii_lowercase())
        .collect();
    names.sort();
    names.dedup();
    crate::event::HeaderFilter::Only(names)
}

/// How HTTP API (payload 2.0) events are answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpApiResponse {
    /// `{"isAuthorized": bool, "context": {...}}`.
    Simple,
    /// An IAM policy, as for REST APIs.
    Iam,
}

/// The authorizer's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Accepted `iss`, compared exactly.
    pub issuer: String,
    /// Accepted `aud` values.
    pub audiences: Vec<String>,
    /// Cookie name, matched exactly.
    pub cookie_name: String,
    /// Accepted algorithms.
    pub algorithms: Vec<Alg>,
    /// Clock skew allowance, seconds.
    pub leeway: u64,
    /// Longest accepted `exp - now`, seconds.
    pub max_lifetime: u64,
    /// Required `typ`, if any.
    pub jwt_type: Option<String>,
    /// Function name or ARN of the key server.
    pub keys_function_name: String,
    /// Key cache TTL.
    pub keys_cache_ttl: Duration,
    /// Minimum interval between refreshes caused by unknown `kid`s.
    pub keys_refresh_min_interval: Duration,
    /// How long cached keys serve while refreshes fail.
    pub keys_max_stale: Duration,
    /// Connect timeout of the key fetch.
    pub keys_connect_timeout: Duration,
    /// Total timeout of the key fetch.
    pub keys_fetch_timeout: Duration,
    /// Answer format for payload 2.0.
    pub http_api_response: HttpApiResponse,
    /// CSRF header name, lower-cased.
    pub csrf_header_name: String,
    /// Accepted origins (lower-cased); empty: no Origin check.
    pub allowed_origins: Vec<String>,
    /// Scopes required per route.
    pub route_rules: RouteRules,
    /// Require a matching `Authorization: Bearer` token as well as the cookie.
    pub double_token: bool,
    /// Public keys supplied at deploy time, used until the first refresh.
    pub bootstrap_keys: Option<jwt_session::JwkSet>,
    /// The headers read from an event: [`header_filter`], the ones the checks declare.
    pub read_headers: crate::event::HeaderFilter,
}

/// One configuration problem (codes: `missing`, `invalid`, `contradictory`).
pub use jwt_session::config::Problem;

/// Every problem found in the configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The problems, in variable order.
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid configuration ({} problem(s)):",
            self.problems.len()
        )?;
        for p in &self.problems {
            write!(f, " {p};")?;
        }
        Ok(())
    }
}

fn is_header_name(name: &str) -> bool {
    aws_lambda_events::http::HeaderName::from_bytes(name.as_bytes()).is_ok()
}

/// `scheme://host[:port]` with nothing after.
fn is_origin(origin: &str) -> bool {
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    matches!(scheme, "https" | "http")
        && !rest.is_empty()
        && !rest.contains(['/', '?', '#', '@', ' '])
        && rest.is_ascii()
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the configuration through `lookup` (tests pass a map).
    pub fn from_lookup<F: Fn(&str) -> Option<String>>(lookup: F) -> Result<Config, ConfigError> {
        use vars::*;
        let mut c = jwt_session::config::Env::new(lookup);
        let issuer = c.required(JWT_ISSUER, "set it to the exact `iss` your tokens carry");
        let audiences = c.list(JWT_AUDIENCE);
        if audiences.is_empty() {
            c.problem(
                JWT_AUDIENCE,
                "missing",
                "set one or more accepted `aud` values, comma-separated",
            );
        }
        let cookie_name = c
            .get(JWT_COOKIE_NAME)
            .unwrap_or_else(|| defaults::COOKIE_NAME.to_owned());
        if !is_valid_cookie_name(&cookie_name) {
            c.problem(
                JWT_COOKIE_NAME,
                "invalid",
                "must be a cookie name (RFC 6265 token characters)",
            );
        }
        let alg_text = c
            .get(JWT_ALGORITHMS)
            .unwrap_or_else(|| defaults::ALGORITHMS.to_owned());
        let mut algorithms = Vec::new();
        for name in alg_text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match name.parse::<Alg>() {
                Ok(a) if !algorithms.contains(&a) => algorithms.push(a),
                Ok(_) => {}
                Err(_) => c.problem(
                    JWT_ALGORITHMS,
                    "invalid",
                    format!(
                        "`{}` is not supported; use EdDSA, ES256, ES384, RS256, RS384, RS512, PS256, PS384, PS512, HS256, HS384 or HS512",
                        name.escape_default()
                    ),
                ),
            }
        }
        if algorithms.is_empty() && !c.problems().iter().any(|p| p.variable == JWT_ALGORITHMS) {
            c.problem(JWT_ALGORITHMS, "invalid", "list at least one algorithm");
        }
        let leeway = c.number(JWT_LEEWAY_SECONDS, defaults::LEEWAY_SECONDS, 0, 300);
        let max_lifetime = c.number(
            JWT_MAX_LIFETIME_SECONDS,
            defaults::MAX_LIFETIME_SECONDS,
            1,
            31_536_000,
        );
        let jwt_type = c.get(JWT_TYPE);
        let keys_function_name = c
            .get(KEYS_FUNCTION_NAME)
            .unwrap_or_else(|| defaults::KEYS_FUNCTION_NAME.to_owned());
        let ttl = c.number(
            KEYS_CACHE_TTL_SECONDS,
            defaults::KEYS_CACHE_TTL_SECONDS,
            1,
            86_400,
        );
        let min_interval = c.number(
            KEYS_REFRESH_MIN_INTERVAL_SECONDS,
            defaults::KEYS_REFRESH_MIN_INTERVAL_SECONDS,
            1,
            3_600,
        );
        let max_stale = c.number(
            KEYS_MAX_STALE_SECONDS,
            defaults::KEYS_MAX_STALE_SECONDS.max(ttl),
            1,
            604_800,
        );
        if max_stale < ttl {
            c.problem(
                KEYS_MAX_STALE_SECONDS,
                "contradictory",
                format!("must be at least {KEYS_CACHE_TTL_SECONDS} ({ttl})"),
            );
        }
        let connect_ms = c.number(
            KEYS_CONNECT_TIMEOUT_MS,
            defaults::KEYS_CONNECT_TIMEOUT_MS,
            10,
            30_000,
        );
        let fetch_ms = c.number(
            KEYS_FETCH_TIMEOUT_MS,
            defaults::KEYS_FETCH_TIMEOUT_MS,
            10,
            30_000,
        );
        if connect_ms > fetch_ms {
            c.problem(
                KEYS_CONNECT_TIMEOUT_MS,
                "contradictory",
                format!("must not exceed {KEYS_FETCH_TIMEOUT_MS} ({fetch_ms})"),
            );
        }
        let http_api_response = match c.get(HTTP_API_RESPONSE).as_deref() {
            None | Some("simple") => HttpApiResponse::Simple,
            Some("iam") => HttpApiResponse::Iam,
            Some(_) => {
                c.problem(HTTP_API_RESPONSE, "invalid", "must be `simple` or `iam`");
                HttpApiResponse::Simple
            }
        };
        let csrf_header_name = c
            .get(CSRF_HEADER_NAME)
            .unwrap_or_else(|| defaults::CSRF_HEADER_NAME.to_owned())
            .to_ascii_lowercase();
        if !is_header_name(&csrf_header_name) {
            c.problem(CSRF_HEADER_NAME, "invalid", "must be an HTTP header name");
        }
        let allowed_origins: Vec<String> = c
            .list(ALLOWED_ORIGINS)
            .into_iter()
            .map(|o| o.to_ascii_lowercase())
            .collect();
        if let Some(bad) = allowed_origins.iter().find(|o| !is_origin(o)) {
            let hint = format!(
                "`{}` is not an origin; use scheme://host[:port], comma-separated",
                bad.escape_default()
            );
            c.problem(ALLOWED_ORIGINS, "invalid", hint);
        }
        let route_rules = match c.get(ROUTE_SCOPES) {
            None => RouteRules::default(),
            Some(text) => RouteRules::parse(&text).unwrap_or_else(|e| {
                c.problem(ROUTE_SCOPES, "invalid", e.to_string());
                RouteRules::default()
            }),
        };
        let double_token = c.flag(DOUBLE_TOKEN);
        let bootstrap_keys = match c.get(KEYS_BOOTSTRAP_JWKS) {
            None => None,
            Some(text) => {
                match jwt_session::JwkSet::parse(&text, jwt_session::Visibility::Public) {
                    Ok(set) if set.keys.iter().any(|k| k.alg.is_symmetric()) => {
                        c.problem(
                        KEYS_BOOTSTRAP_JWKS,
                        "invalid",
                        "must not hold `oct` keys: HMAC secrets do not belong in environment variables",
                    );
                        None
                    }
                    Ok(set) => Some(set),
                    Err(e) => {
                        c.problem(KEYS_BOOTSTRAP_JWKS, "invalid", e.to_string());
                        None
                    }
                }
            }
        };
        if !c.problems().is_empty() {
            return Err(ConfigError {
                problems: c.into_problems(),
            });
        }
        Ok(Config {
            issuer,
            audiences,
            cookie_name,
            algorithms,
            leeway,
            max_lifetime,
            jwt_type,
            keys_function_name,
            keys_cache_ttl: Duration::from_secs(ttl),
            keys_refresh_min_interval: Duration::from_secs(min_interval),
            keys_max_stale: Duration::from_secs(max_stale),
            keys_connect_timeout: Duration::from_millis(connect_ms),
            keys_fetch_timeout: Duration::from_millis(fetch_ms),
            http_api_response,
            allowed_origins,
            route_rules,
            double_token,
            bootstrap_keys,
            read_headers: header_filter(&csrf_header_name),
            csrf_header_name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn the_reader_keeps_exactly_the_headers_the_checks_declare() {
        let c = cfg(&[
            ("JWT_ISSUER", "i"),
            ("JWT_AUDIENCE", "a"),
            ("CSRF_HEADER_NAME", "X-Session-Guard"),
        ])
        .unwrap();
        let mut declared: Vec<String> = crate::cookie::HEADERS_READ
            .iter()
            .map(|h| (*h).to_owned())
            .chain(crate::csrf::headers_read("X-Session-Guard"))
            .chain([
                crate::AUTHORIZATION_HEADER.into(),
                crate::event::USER_AGENT_HEADER.into(),
            ])
            .collect();
        declared.sort();
        assert_eq!(c.read_headers, crate::event::HeaderFilter::Only(declared));
        for h in [
            "cookie",
            "Origin",
            "SEC-FETCH-SITE",
            "x-session-guard",
            "authorization",
        ] {
            assert!(c.read_headers.keeps(h), "{h}");
        }
        assert!(
            !c.read_headers.keeps("x-csrf-token"),
            "the default name is not read when another is set"
        );
        assert!(!c.read_headers.keeps("accept"));
    }

    #[test]
    fn minimal_configuration_gets_the_documented_defaults() {
        let c = cfg(&[("JWT_ISSUER", "https://i"), ("JWT_AUDIENCE", "a, b")]).unwrap();
        assert_eq!(c.audiences, vec!["a", "b"]);
        assert_eq!(c.cookie_name, "__Host-session");
        assert_eq!(c.algorithms, vec![Alg::EdDSA, Alg::ES256]);
        assert_eq!(c.leeway, 30);
        assert_eq!(c.max_lifetime, 86_400);
        assert_eq!(c.keys_function_name, "secrets-fn");
        assert_eq!(c.http_api_response, HttpApiResponse::Simple);
        assert_eq!(c.csrf_header_name, "x-csrf-token");
        assert!(c.allowed_origins.is_empty());
        assert!(c.jwt_type.is_none());
        assert_eq!(c.keys_refresh_min_interval, Duration::from_secs(10));
    }

    #[test]
    fn every_problem_is_reported_together() {
        let err = cfg(&[
            ("JWT_ALGORITHMS", "none,HS256"),
            ("JWT_LEEWAY_SECONDS", "-1"),
            ("HTTP_API_RESPONSE", "both"),
            ("ALLOWED_ORIGINS", "https://ok.example,not an origin"),
            ("KEYS_CACHE_TTL_SECONDS", "600"),
            ("KEYS_MAX_STALE_SECONDS", "60"),
        ])
        .unwrap_err();
        let vars: Vec<&str> = err.problems.iter().map(|p| p.variable).collect();
        for v in [
            "JWT_ISSUER",
            "JWT_AUDIENCE",
            "JWT_ALGORITHMS",
            "JWT_LEEWAY_SECONDS",
            "HTTP_API_RESPONSE",
            "ALLOWED_ORIGINS",
            "KEYS_MAX_STALE_SECONDS",
        ] {
            assert!(vars.contains(&v), "{v} not reported in {err}");
        }
        assert!(err.to_string().contains("JWT_ISSUER [missing]"));
    }

    #[test]
    fn algorithm_names_are_case_sensitive_and_none_is_refused() {
        for bad in ["none", "eddsa", "HS256,NONE", ""] {
            let r = cfg(&[
                ("JWT_ISSUER", "i"),
                ("JWT_AUDIENCE", "a"),
                ("JWT_ALGORITHMS", bad),
            ]);
            if bad.is_empty() {
                assert!(r.is_ok(), "empty means default");
            } else {
                assert!(r.is_err(), "{bad} accepted");
            }
        }
    }

    #[test]
    fn bootstrap_keys_must_be_a_public_asymmetric_set() {
        use jwt_session::keygen::generate;
        let set = jwt_session::JwkSet {
            keys: vec![generate(Alg::EdDSA).unwrap()],
        };
        let public = serde_json::to_string(&set.to_public(false)).unwrap();
        let c = cfg(&[
            ("JWT_ISSUER", "i"),
            ("JWT_AUDIENCE", "a"),
            ("KEYS_BOOTSTRAP_JWKS", &public),
        ])
        .unwrap();
        assert_eq!(c.bootstrap_keys.unwrap().keys.len(), 1);
        let private = serde_json::to_string(&set).unwrap();
        let err = cfg(&[
            ("JWT_ISSUER", "i"),
            ("JWT_AUDIENCE", "a"),
            ("KEYS_BOOTSTRAP_JWKS", &private),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("KEYS_BOOTSTRAP_JWKS"));
        let hmac = jwt_session::JwkSet {
            keys: vec![generate(Alg::HS256).unwrap()],
        };
        let text = serde_json::to_string(&hmac.to_public(true)).unwrap();
        assert!(cfg(&[
            ("JWT_ISSUER", "i"),
            ("JWT_AUDIENCE", "a"),
            ("KEYS_BOOTSTRAP_JWKS", &text)
        ])
        .is_err());
    }

    #[test]
    fn iam_mode_and_origins_are_parsed() {
        let c = cfg(&[
            ("JWT_ISSUER", "i"),
            ("JWT_AUDIENCE", "a"),
            ("HTTP_API_RESPONSE", "iam"),
            (
                "ALLOWED_ORIGINS",
                "https://App.Example.com, http://localhost:3000",
            ),
        ])
        .unwrap();
        assert_eq!(c.http_api_response, HttpApiResponse::Iam);
        assert_eq!(
            c.allowed_origins,
            vec!["https://app.example.com", "http://localhost:3000"]
        );
    }
}
