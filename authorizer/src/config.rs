//! Typed configuration, read once at start-up. Every problem is collected and reported
//! together; a function with a bad configuration serves nothing (fail closed).

use std::fmt;
use std::time::Duration;

use jwt_session::cookie::{is_valid_cookie_name, DEFAULT_COOKIE_NAME};
use jwt_session::Alg;

use jwt_session::config::Code;
use jwt_session::strict::TokenRules;

use crate::cookie::CookieRules;
use crate::csrf::CsrfRules;
use crate::keys::{CacheRules, FetchRules};
use crate::response::AnswerRules;
use crate::revocation::RevocationRules;
use crate::routes::RouteRules;

/// Environment variable names (docs/configuration.md).
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
    /// `true`: route rules compare literal segments exactly (default: ASCII case-insensitive).
    pub const ROUTE_CASE_SENSITIVE: &str = "ROUTE_CASE_SENSITIVE";
    /// `deny`: a route no rule matches is refused (default `allow`: it needs no scope).
    pub const ROUTE_DEFAULT: &str = "ROUTE_DEFAULT";
    /// `true`: also require `Authorization: Bearer` with a matching token.
    pub const DOUBLE_TOKEN: &str = "DOUBLE_TOKEN";
    /// Public JWK Set supplied at deploy time: no key fetch at cold start.
    pub const KEYS_BOOTSTRAP_JWKS: &str = "KEYS_BOOTSTRAP_JWKS";
    /// Accepted token formats: `jwt`, `paseto` or `jwt,paseto` (docs/paseto.md).
    pub const TOKEN_FORMATS: &str = "TOKEN_FORMATS";
    /// The DynamoDB revocation table (empty or unset: revocation off).
    pub const REVOCATION_TABLE: &str = "REVOCATION_TABLE";
    /// At most one read of the revocation table per this many seconds.
    pub const REVOCATION_REFRESH_SECONDS: &str = "REVOCATION_REFRESH_SECONDS";
    /// Without a successful read for this long, fail closed.
    pub const REVOCATION_MAX_STALE_SECONDS: &str = "REVOCATION_MAX_STALE_SECONDS";
    /// Time-out of one read (`Query` page) of the revocation table, milliseconds.
    pub const REVOCATION_TIMEOUT_MS: &str = "REVOCATION_TIMEOUT_MS";
    /// Partitions of the revocation feed read (at least as many as the signer writes).
    pub const REVOCATION_SHARDS: &str = jwt_session::revocation::SHARDS_VAR;
}

/// Defaults for the variables the contract lets us choose: each policy's own, named here by
/// variable (nothing outside start-up reads this module).
pub mod defaults {
    /// `JWT_COOKIE_NAME`.
    pub const COOKIE_NAME: &str = super::DEFAULT_COOKIE_NAME;
    /// `JWT_ALGORITHMS`: `EdDSA,ES256`, the token policy's own default.
    pub const ALGORITHMS: [jwt_session::Alg; 2] = jwt_session::strict::DEFAULT_ALGORITHMS;
    /// `JWT_LEEWAY_SECONDS`.
    pub const LEEWAY_SECONDS: u64 = jwt_session::strict::DEFAULT_LEEWAY;
    /// `JWT_MAX_LIFETIME_SECONDS`.
    pub const MAX_LIFETIME_SECONDS: u64 = jwt_session::strict::DEFAULT_MAX_LIFETIME;
    /// `KEYS_FUNCTION_NAME`.
    pub const KEYS_FUNCTION_NAME: &str = crate::keys::DEFAULT_FUNCTION_NAME;
    /// `KEYS_CACHE_TTL_SECONDS`.
    pub const KEYS_CACHE_TTL_SECONDS: u64 = crate::keys::DEFAULT_CACHE_TTL_SECONDS;
    /// `KEYS_REFRESH_MIN_INTERVAL_SECONDS`.
    pub const KEYS_REFRESH_MIN_INTERVAL_SECONDS: u64 =
        crate::keys::DEFAULT_REFRESH_MIN_INTERVAL_SECONDS;
    /// `KEYS_MAX_STALE_SECONDS`.
    pub const KEYS_MAX_STALE_SECONDS: u64 = crate::keys::DEFAULT_MAX_STALE_SECONDS;
    /// `KEYS_CONNECT_TIMEOUT_MS`.
    pub const KEYS_CONNECT_TIMEOUT_MS: u64 = crate::keys::DEFAULT_CONNECT_TIMEOUT_MS;
    /// `KEYS_FETCH_TIMEOUT_MS`.
    pub const KEYS_FETCH_TIMEOUT_MS: u64 = crate::keys::DEFAULT_FETCH_TIMEOUT_MS;
    /// `CSRF_HEADER_NAME`.
    pub const CSRF_HEADER_NAME: &str = crate::csrf::DEFAULT_HEADER_NAME;
    /// `REVOCATION_REFRESH_SECONDS` (docs/revocation.md): the revocation policy's own.
    pub const REVOCATION_REFRESH_SECONDS: u64 = crate::revocation::DEFAULT_REFRESH_SECONDS;
    /// `REVOCATION_MAX_STALE_SECONDS` (docs/revocation.md): the revocation policy's own.
    pub const REVOCATION_MAX_STALE_SECONDS: u64 = crate::revocation::DEFAULT_MAX_STALE_SECONDS;
    /// `REVOCATION_TIMEOUT_MS`: the revocation policy's own.
    pub const REVOCATION_TIMEOUT_MS: u64 = crate::revocation::DEFAULT_TIMEOUT_MS;
}

pub use crate::response::HttpApiResponse;

/// The authorizer's configuration: the environment, read once, turned into the policy of
/// each check. Nothing else lives here.
#[derive(Debug, Clone)]
pub struct Config {
    /// The token rules (issuer, audiences, algorithms, leeway, lifetime, `typ`).
    pub token: TokenRules,
    /// Where the token is read from.
    pub cookie: CookieRules,
    /// The CSRF check of unsafe methods.
    pub csrf: CsrfRules,
    /// Scopes required per route.
    pub routes: RouteRules,
    /// The shape of the answers.
    pub answer: AnswerRules,
    /// When keys are refreshed and how long they serve (given to the key cache).
    pub cache: CacheRules,
    /// Where keys are fetched from.
    pub fetch: FetchRules,
    /// Public keys supplied at deploy time, used until the first refresh.
    pub bootstrap_keys: Option<jwt_session::JwkSet>,
    /// The headers read from an event: [`crate::headers::header_filter`], the ones the checks declare.
    pub read_headers: crate::event::HeaderFilter,
    /// Where revocations are read and how fresh they must be; `None`: revocation off.
    pub revocation: Option<RevocationRules>,
}

/// One configuration problem ([`Code`]: `missing`, `invalid`, `contradictory`).
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

impl Config {
    /// Settings that are allowed but weaker than the defaults, to log once at start-up.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.cookie.name.starts_with("__Host-") {
            out.push(format!(
                "{} is `{}`: without the `__Host-` prefix a sibling subdomain can plant a cookie of that name",
                vars::JWT_COOKIE_NAME,
                self.cookie.name.escape_default()
            ));
        }
        if self.routes.case_sensitive {
            out.push(format!(
                "{}=true: a backend that routes case-insensitively sees `/ADMIN` as `/admin`, without its rules",
                vars::ROUTE_CASE_SENSITIVE
            ));
        }
        out
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the configuration through `lookup` (tests pass a map): one reader per section,
    /// each returning its rules with their defaults; every problem of every section is
    /// collected and reported together.
    pub fn from_lookup<F: Fn(&str) -> Option<String>>(lookup: F) -> Result<Config, ConfigError> {
        let mut c = jwt_session::config::Env::new(lookup);
        let token = token(&mut c);
        let cookie = cookie(&mut c);
        let (cache, fetch) = keys(&mut c);
        let answer = answer(&mut c);
        let csrf = csrf(&mut c);
        let routes = routes(&mut c);
        let bootstrap_keys = bootstrap_keys(&mut c);
        let revocation = revocation(&mut c);
        if !c.problems().is_empty() {
            return Err(ConfigError {
                problems: c.into_problems(),
            });
        }
        Ok(Config {
            token,
            cookie,
            read_headers: crate::headers::header_filter(&csrf.header_name),
            csrf,
            routes,
            answer,
            cache,
            fetch,
            bootstrap_keys,
            revocation,
        })
    }
}

type Env<F> = jwt_session::config::Env<F>;

/// `JWT_*` and `TOKEN_FORMATS`: the token rules.
fn token<F: Fn(&str) -> Option<String>>(c: &mut Env<F>) -> TokenRules {
    use vars::*;
    let issuer = c.required(JWT_ISSUER, "set it to the exact `iss` your tokens carry");
    let audiences = c.list(JWT_AUDIENCE);
    if audiences.is_empty() {
        c.problem(
            JWT_AUDIENCE,
            Code::Missing,
            "set one or more accepted `aud` values, comma-separated",
        );
    }
    let alg_text = c.get(JWT_ALGORITHMS);
    let mut algorithms = match alg_text {
        None => defaults::ALGORITHMS.to_vec(),
        Some(_) => Vec::new(),
    };
    let names = alg_text.as_deref().unwrap_or_default().split(',');
    for name in names.map(str::trim).filter(|s| !s.is_empty()) {
        match name.parse::<Alg>() {
            Ok(a) if a.is_jwt() && !algorithms.contains(&a) => algorithms.push(a),
            Ok(a) if a.is_jwt() => {}
            Ok(_) | Err(_) => c.problem(
                JWT_ALGORITHMS,
                Code::Invalid,
                format!(
                    "`{}` is not supported; use EdDSA, ES256, ES384, RS256, RS384, RS512, PS256, PS384, PS512, HS256, HS384 or HS512",
                    name.escape_default()
                ),
            ),
        }
    }
    if algorithms.is_empty() && !c.problems().iter().any(|p| p.variable == JWT_ALGORITHMS) {
        c.problem(JWT_ALGORITHMS, Code::Invalid, "list at least one algorithm");
    }
    let leeway = c.number(JWT_LEEWAY_SECONDS, defaults::LEEWAY_SECONDS, 0, 300);
    let max_lifetime = c.number(
        JWT_MAX_LIFETIME_SECONDS,
        defaults::MAX_LIFETIME_SECONDS,
        1,
        31_536_000,
    );
    let jwt_type = c.get(JWT_TYPE);
    let formats = match c.get(TOKEN_FORMATS) {
        None => jwt_session::strict::TokenFormats::default(),
        Some(text) => jwt_session::strict::TokenFormats::parse(&text).unwrap_or_else(|| {
            c.problem(
                TOKEN_FORMATS,
                Code::Invalid,
                "must be `jwt`, `paseto` or `jwt,paseto`",
            );
            jwt_session::strict::TokenFormats::default()
        }),
    };
    TokenRules {
        issuer,
        audiences,
        algorithms,
        leeway,
        max_lifetime,
        typ: jwt_type,
        formats,
    }
}

/// `JWT_COOKIE_NAME` and `DOUBLE_TOKEN`: where the token is read from.
fn cookie<F: Fn(&str) -> Option<String>>(c: &mut Env<F>) -> CookieRules {
    use vars::*;
    let cookie_name = c
        .get(JWT_COOKIE_NAME)
        .unwrap_or_else(|| defaults::COOKIE_NAME.to_owned());
    if !is_valid_cookie_name(&cookie_name) {
        c.problem(
            JWT_COOKIE_NAME,
            Code::Invalid,
            "must be a cookie name (RFC 6265 token characters)",
        );
    }
    CookieRules {
        name: cookie_name,
        double_token: c.flag(DOUBLE_TOKEN),
    }
}

/// `KEYS_*` but the bootstrap set: the key cache and the key fetch.
fn keys<F: Fn(&str) -> Option<String>>(c: &mut Env<F>) -> (CacheRules, FetchRules) {
    use vars::*;
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
            Code::Contradictory,
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
            Code::Contradictory,
            format!("must not exceed {KEYS_FETCH_TIMEOUT_MS} ({fetch_ms})"),
        );
    }
    (
        CacheRules {
            ttl: Duration::from_secs(ttl),
            refresh_min_interval: Duration::from_secs(min_interval),
            max_stale: Duration::from_secs(max_stale),
        },
        FetchRules {
            function_name: keys_function_name,
            connect_timeout: Duration::from_millis(connect_ms),
            timeout: Duration::from_millis(fetch_ms),
        },
    )
}

/// `HTTP_API_RESPONSE`: the shape of the answers.
fn answer<F: Fn(&str) -> Option<String>>(c: &mut Env<F>) -> AnswerRules {
    use vars::*;
    let http_api_response = match c.get(HTTP_API_RESPONSE).as_deref() {
        None | Some("simple") => HttpApiResponse::Simple,
        Some("iam") => HttpApiResponse::Iam,
        Some(_) => {
            c.problem(
                HTTP_API_RESPONSE,
                Code::Invalid,
                "must be `simple` or `iam`",
            );
            HttpApiResponse::Simple
        }
    };
    AnswerRules {
        http_api: http_api_response,
    }
}

/// `CSRF_HEADER_NAME` and `ALLOWED_ORIGINS`: the CSRF check.
fn csrf<F: Fn(&str) -> Option<String>>(c: &mut Env<F>) -> CsrfRules {
    use vars::*;
    let csrf_header_name = c
        .get(CSRF_HEADER_NAME)
        .unwrap_or_else(|| defaults::CSRF_HEADER_NAME.to_owned())
        .to_ascii_lowercase();
    if !is_header_name(&csrf_header_name) {
        c.problem(
            CSRF_HEADER_NAME,
            Code::Invalid,
            "must be an HTTP header name",
        );
    }
    let allowed_origins = c
        .get(ALLOWED_ORIGINS)
        .map(|text| {
            jwt_session::origin::parse_allowed_origins(&text).unwrap_or_else(|hint| {
                c.problem(ALLOWED_ORIGINS, Code::Invalid, hint);
                Vec::new()
            })
        })
        .unwrap_or_default();
    CsrfRules {
        header_name: csrf_header_name,
        allowed_origins,
    }
}

/// `ROUTE_*`: the route rules.
fn routes<F: Fn(&str) -> Option<String>>(c: &mut Env<F>) -> RouteRules {
    use vars::*;
    let mut route_rules = match c.get(ROUTE_SCOPES) {
        None => RouteRules::default(),
        Some(text) => RouteRules::parse(&text).unwrap_or_else(|e| {
            c.problem(ROUTE_SCOPES, Code::Invalid, e.to_string());
            RouteRules::default()
        }),
    };
    route_rules.case_sensitive = c.flag(ROUTE_CASE_SENSITIVE);
    route_rules.default_deny = match c.get(ROUTE_DEFAULT).as_deref() {
        None | Some("allow") => false,
        Some("deny") => true,
        Some(_) => {
            c.problem(ROUTE_DEFAULT, Code::Invalid, "must be `allow` or `deny`");
            true
        }
    };
    if route_rules.default_deny
        && route_rules.is_empty()
        && !c.problems().iter().any(|p| p.variable == ROUTE_SCOPES)
    {
        c.problem(
            ROUTE_DEFAULT,
            Code::Contradictory,
            format!("`deny` needs rules in {ROUTE_SCOPES}: without any, every route is refused"),
        );
    }
    route_rules
}

/// `KEYS_BOOTSTRAP_JWKS`: public keys supplied at deploy time.
fn bootstrap_keys<F: Fn(&str) -> Option<String>>(c: &mut Env<F>) -> Option<jwt_session::JwkSet> {
    use vars::*;
    match c.get(KEYS_BOOTSTRAP_JWKS) {
        None => None,
        Some(text) => match jwt_session::JwkSet::parse(&text, jwt_session::Visibility::Public) {
            Ok(set) if set.keys.iter().any(|k| k.alg.is_symmetric()) => {
                c.problem(
                    KEYS_BOOTSTRAP_JWKS,
                    Code::Invalid,
                    "must not hold `oct` keys: HMAC secrets do not belong in environment variables",
                );
                None
            }
            Ok(set) => Some(set),
            Err(e) => {
                c.problem(KEYS_BOOTSTRAP_JWKS, Code::Invalid, e.to_string());
                None
            }
        },
    }
}

/// `REVOCATION_*`: where revocations are read and how fresh they must be (`None`: off).
fn revocation<F: Fn(&str) -> Option<String>>(c: &mut Env<F>) -> Option<RevocationRules> {
    use vars::*;
    let revocation_table = c.get(REVOCATION_TABLE).filter(|t| !t.is_empty());
    let refresh = c.number(
        REVOCATION_REFRESH_SECONDS,
        defaults::REVOCATION_REFRESH_SECONDS,
        1,
        300,
    );
    let stale = c.number(
        REVOCATION_MAX_STALE_SECONDS,
        defaults::REVOCATION_MAX_STALE_SECONDS,
        1,
        86_400,
    );
    if stale < refresh {
        c.problem(
            REVOCATION_MAX_STALE_SECONDS,
            Code::Contradictory,
            format!("must be at least {REVOCATION_REFRESH_SECONDS}: the set would go stale between two reads"),
        );
    }
    let revocation_timeout = c.number(
        REVOCATION_TIMEOUT_MS,
        defaults::REVOCATION_TIMEOUT_MS,
        100,
        30_000,
    );
    let shards = jwt_session::revocation::FeedShards::from_env(c);
    revocation_table.map(|table| RevocationRules {
        refresh: Duration::from_secs(refresh),
        max_stale: Duration::from_secs(stale),
        timeout: Duration::from_millis(revocation_timeout),
        shards,
        ..RevocationRules::new(table)
    })
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
                crate::bearer::AUTHORIZATION_HEADER.into(),
                crate::event::USER_AGENT_HEADER.into(),
            ])
            .chain(
                crate::routes::METHOD_OVERRIDE_HEADERS
                    .iter()
                    .map(|h| (*h).to_owned()),
            )
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
        assert_eq!(c.token.audiences, vec!["a", "b"]);
        assert_eq!(c.cookie.name, "__Host-session");
        assert_eq!(c.token.algorithms, vec![Alg::EdDSA, Alg::ES256]);
        assert_eq!(c.token.leeway, 30);
        assert_eq!(c.token.max_lifetime, 86_400);
        assert_eq!(c.fetch.function_name, "secrets-fn");
        assert_eq!(c.answer.http_api, HttpApiResponse::Simple);
        assert_eq!(c.csrf.header_name, "x-csrf-token");
        assert!(c.csrf.allowed_origins.is_empty());
        assert!(c.token.typ.is_none());
        assert_eq!(c.cache.refresh_min_interval, Duration::from_secs(10));
        assert!(c.warnings().is_empty());
    }

    #[test]
    fn the_environments_defaults_are_each_policys_own_defaults() {
        let c = cfg(&[("JWT_ISSUER", "https://i"), ("JWT_AUDIENCE", "a")]).unwrap();
        assert_eq!(
            c.token,
            TokenRules::new("https://i", vec!["a".to_owned()]),
            "token"
        );
        assert_eq!(c.cookie, CookieRules::default(), "cookie");
        assert_eq!(c.csrf, CsrfRules::default(), "csrf");
        assert_eq!(c.answer, AnswerRules::default(), "answer");
        assert_eq!(c.cache, CacheRules::default(), "cache");
        assert_eq!(c.fetch, FetchRules::default(), "fetch");
        assert_eq!(c.routes, RouteRules::default(), "routes");
    }

    #[test]
    fn route_options_are_read_and_a_default_deny_without_rules_is_contradictory() {
        let c = cfg(&[
            ("JWT_ISSUER", "i"),
            ("JWT_AUDIENCE", "a"),
            ("ROUTE_SCOPES", "GET /a = x"),
            ("ROUTE_DEFAULT", "deny"),
            ("ROUTE_CASE_SENSITIVE", "true"),
            ("JWT_COOKIE_NAME", "session"),
        ])
        .unwrap();
        assert!(c.routes.default_deny && c.routes.case_sensitive);
        assert_eq!(c.warnings().len(), 2, "{:?}", c.warnings());
        let err = cfg(&[
            ("JWT_ISSUER", "i"),
            ("JWT_AUDIENCE", "a"),
            ("ROUTE_DEFAULT", "deny"),
        ])
        .unwrap_err();
        assert_eq!(err.problems.len(), 1);
        assert_eq!(err.problems[0].variable, "ROUTE_DEFAULT");
        assert_eq!(err.problems[0].code, Code::Contradictory);
        let err = cfg(&[
            ("JWT_ISSUER", "i"),
            ("JWT_AUDIENCE", "a"),
            ("ROUTE_DEFAULT", "maybe"),
        ])
        .unwrap_err();
        assert_eq!(err.problems[0].code, Code::Invalid);
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
        assert_eq!(c.answer.http_api, HttpApiResponse::Iam);
        assert_eq!(
            c.csrf.allowed_origins,
            vec!["https://app.example.com", "http://localhost:3000"]
        );
    }
    #[test]
    fn revocation_is_off_without_a_table_and_reads_its_contract_defaults_with_one() {
        let base = [("JWT_ISSUER", "i"), ("JWT_AUDIENCE", "a")];
        assert_eq!(cfg(&base).unwrap().revocation, None);
        let mut with_empty = base.to_vec();
        with_empty.push(("REVOCATION_TABLE", ""));
        assert_eq!(cfg(&with_empty).unwrap().revocation, None);
        let mut with_table = base.to_vec();
        with_table.push(("REVOCATION_TABLE", "dev-revocations"));
        let p = cfg(&with_table).unwrap().revocation.unwrap();
        assert_eq!(p, RevocationRules::new("dev-revocations".into()));
        assert_eq!(p.refresh, Duration::from_secs(5));
        assert_eq!(p.max_stale, Duration::from_secs(300));
        assert_eq!(p.shards.count(), 8);
    }

    #[test]
    fn revocation_shards_are_read_from_one_to_sixty_four() {
        let base = [
            ("JWT_ISSUER", "i"),
            ("JWT_AUDIENCE", "a"),
            ("REVOCATION_TABLE", "t"),
        ];
        let mut ok = base.to_vec();
        ok.push(("REVOCATION_SHARDS", "16"));
        assert_eq!(cfg(&ok).unwrap().revocation.unwrap().shards.count(), 16);
        for bad in ["0", "65", "many"] {
            let mut v = base.to_vec();
            v.push(("REVOCATION_SHARDS", bad));
            let err = cfg(&v).unwrap_err();
            assert!(
                err.problems
                    .iter()
                    .any(|p| p.variable == "REVOCATION_SHARDS"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn revocation_intervals_are_bounded_and_must_not_contradict() {
        for (refresh, stale, bad) in [
            ("0", "300", "REVOCATION_REFRESH_SECONDS"),
            ("5", "4", "REVOCATION_MAX_STALE_SECONDS"),
            ("soon", "300", "REVOCATION_REFRESH_SECONDS"),
        ] {
            let err = cfg(&[
                ("JWT_ISSUER", "i"),
                ("JWT_AUDIENCE", "a"),
                ("REVOCATION_TABLE", "t"),
                ("REVOCATION_REFRESH_SECONDS", refresh),
                ("REVOCATION_MAX_STALE_SECONDS", stale),
            ])
            .unwrap_err();
            assert!(
                err.problems.iter().any(|p| p.variable == bad),
                "{refresh}/{stale}: {err}"
            );
        }
    }
}
