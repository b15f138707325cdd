//! Route rules: which scopes a token must carry for which routes (`ROUTE_SCOPES`).
//!
//! ```text
//! ROUTE_SCOPES="GET /orders = orders:read; POST /orders = orders:write; ANY /admin/** = admin"
//! ```
//!
//! - Rules are separated by `;`. Each is `METHOD PATH = SCOPE [SCOPE ...]`.
//! - `METHOD` is an HTTP method or `ANY` (also `*`).
//! - `PATH` starts with `/`. A segment is a literal, `*` or `{name}` (exactly one segment), or,
//!   as the last segment only, `**` or `{name+}` (any number of segments, including none). So a
//!   rule can be copied from an HTTP API `routeKey` (`GET /orders/{id}`).
//! - The path matched is the request's path as API Gateway puts it in the `methodArn` or
//!   `routeArn` (after the stage), so it is the same for REST and HTTP APIs.
//! - Every rule that matches applies: the token must carry all of their scopes, in `scope`
//!   (separated by ASCII spaces) or `scp` (array or space-separated string). A route no rule
//!   matches needs no scope, unless `ROUTE_DEFAULT=deny`: then it is refused.
//! - Backends route differently from a literal comparison, so when rules are configured:
//!   - a path that cannot be matched unambiguously is refused (`forbidden`): a segment `.` or
//!     `..`, or one holding `%` (percent-encoding), `;` (matrix parameters) or `\`;
//!   - literal segments compare case-insensitively (ASCII), so `/ADMIN/users` meets the rules
//!     of `/admin/**`; `ROUTE_CASE_SENSITIVE=true` compares exactly;
//!   - a `GET` rule covers `HEAD` (frameworks answer HEAD with the GET handler);
//!   - a request whose path cannot be read is refused (`forbidden`).
//! - A request with a method-override header ([`METHOD_OVERRIDE_HEADERS`]) is refused
//!   (`forbidden`) whether or not rules are configured: a backend that honours one would run
//!   another method than the one the scopes and the CSRF check were decided for.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    One,
    Rest,
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    method: Option<String>,
    segments: Vec<Segment>,
    scopes: Vec<String>,
}

/// Headers some frameworks read to run another method than the request's.
pub const METHOD_OVERRIDE_HEADERS: [&str; 3] = [
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
];

/// The configured rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteRules {
    rules: Vec<Rule>,
    /// Compare literal segments exactly (`ROUTE_CASE_SENSITIVE`). Default: `false`, ASCII
    /// case-insensitive.
    pub case_sensitive: bool,
    /// Refuse a route no rule matches (`ROUTE_DEFAULT=deny`). Default: `false`.
    pub default_deny: bool,
}

/// Whether a path segment reads the same to every backend: not `.` or `..`, and no `%`, `;`
/// or `\`, which servers decode, strip or treat as separators in different ways.
fn is_unambiguous(segment: &str) -> bool {
    segment != "." && segment != ".." && !segment.contains(['%', ';', '\\'])
}

/// A rule that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// 1-based position of the rule.
    pub index: usize,
    /// What is wrong.
    pub problem: &'static str,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rule {}: {}", self.index, self.problem)
    }
}

fn parse_rule(text: &str) -> Result<Rule, &'static str> {
    let (route, scopes) = text
        .split_once('=')
        .ok_or("expected `METHOD /path = scope ...`")?;
    let mut parts = route.split_whitespace();
    let (Some(method), Some(path), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err("expected `METHOD /path` before `=`");
    };
    let method = match method {
        "ANY" | "*" => None,
        m if !m.is_empty() && m.bytes().all(|b| b.is_ascii_uppercase()) => Some(m.to_owned()),
        _ => return Err("the method must be upper-case (GET, POST, ...) or ANY"),
    };
    let rest = path
        .strip_prefix('/')
        .ok_or("the path must start with `/`")?;
    let raw: Vec<&str> = if rest.is_empty() {
        Vec::new()
    } else {
        rest.split('/').collect()
    };
    let mut segments = Vec::with_capacity(raw.len());
    for (i, seg) in raw.iter().enumerate() {
        let last = i + 1 == raw.len();
        let s = if *seg == "**" || (seg.starts_with('{') && seg.ends_with("+}")) {
            if !last {
                return Err("`**` (or `{name+}`) may only be the last segment");
            }
            Segment::Rest
        } else if *seg == "*" || (seg.starts_with('{') && seg.ends_with('}') && seg.len() > 2) {
            Segment::One
        } else if seg.is_empty() || seg.contains(['{', '}', '*']) {
            return Err("empty segment or misplaced `*`, `{` or `}` in the path");
        } else {
            Segment::Literal((*seg).to_owned())
        };
        segments.push(s);
    }
    let scopes: Vec<String> = scopes.split_whitespace().map(str::to_owned).collect();
    if scopes.is_empty() {
        return Err("no scope after `=`");
    }
    Ok(Rule {
        method,
        segments,
        scopes,
    })
}

impl RouteRules {
    /// Parses `ROUTE_SCOPES`. Empty text: no rules.
    pub fn parse(text: &str) -> Result<RouteRules, RuleError> {
        let mut rules = Vec::new();
        for (i, part) in text
            .split(';')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .enumerate()
        {
            rules.push(parse_rule(part).map_err(|problem| RuleError {
                index: i + 1,
                problem,
            })?);
        }
        Ok(RouteRules {
            rules,
            ..RouteRules::default()
        })
    }

    /// Whether any rule is configured.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The scopes the request needs. `None` (refuse) when rules exist and the route is unknown,
    /// ambiguous, or, with `default_deny`, matched by no rule.
    pub fn required<'a>(
        &'a self,
        method: Option<&str>,
        path: Option<&str>,
    ) -> Option<Vec<&'a str>> {
        if self.rules.is_empty() {
            return Some(Vec::new());
        }
        let (method, path) = (method?, path?);
        let segments: Vec<&str> = path
            .strip_prefix('/')?
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        if !segments.iter().all(|s| is_unambiguous(s)) {
            return None;
        }
        let mut out = Vec::new();
        let mut matched = false;
        for rule in &self.rules {
            let method_ok = rule
                .method
                .as_deref()
                // Methods compare without regard to case: a backend may route `get` as GET.
                .is_none_or(|m| {
                    m.eq_ignore_ascii_case(method)
                        || (m == "GET" && method.eq_ignore_ascii_case("HEAD"))
                });
            if method_ok && matches(&rule.segments, &segments, self.case_sensitive) {
                matched = true;
                out.extend(rule.scopes.iter().map(String::as_str));
            }
        }
        if self.default_deny && !matched {
            return None;
        }
        Some(out)
    }
}

fn matches(pattern: &[Segment], path: &[&str], case_sensitive: bool) -> bool {
    match (pattern.split_first(), path.split_first()) {
        (None, None) => true,
        (Some((Segment::Rest, _)), _) => true,
        (Some((Segment::One, p)), Some((_, rest))) => matches(p, rest, case_sensitive),
        (Some((Segment::Literal(l), p)), Some((seg, rest))) => {
            let same = if case_sensitive {
                l == seg
            } else {
                l.eq_ignore_ascii_case(seg)
            };
            same && matches(p, rest, case_sensitive)
        }
        _ => false,
    }
}

/// The method and path API Gateway encoded in a `methodArn`/`routeArn`:
/// `arn:aws:execute-api:region:account:api-id/stage/METHOD/path...`.
/// The path is a slice of the ARN, its leading `/` included (`/` when the ARN has none).
pub fn method_and_path(arn: &str) -> Option<(&str, &str)> {
    let resource = arn.splitn(6, ':').nth(5)?;
    let mut parts = resource.splitn(3, '/');
    let (_api, _stage, rest) = (parts.next()?, parts.next()?, parts.next()?);
    match rest.find('/') {
        Some(i) => Some((rest.get(..i)?, rest.get(i..)?)),
        None => Some((rest, "/")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(t: &str) -> RouteRules {
        RouteRules::parse(t).unwrap()
    }

    #[test]
    fn rules_match_methods_literals_and_wildcards() {
        let r = rules("GET /orders = orders:read; POST /orders = orders:write; ANY /admin/** = admin; DELETE /orders/{id} = orders:delete");
        assert_eq!(
            r.required(Some("GET"), Some("/orders")),
            Some(vec!["orders:read"])
        );
        assert_eq!(
            r.required(Some("POST"), Some("/orders")),
            Some(vec!["orders:write"])
        );
        assert_eq!(r.required(Some("PUT"), Some("/orders")), Some(vec![]));
        assert_eq!(r.required(Some("GET"), Some("/admin")), Some(vec!["admin"]));
        assert_eq!(
            r.required(Some("PATCH"), Some("/admin/users/7")),
            Some(vec!["admin"])
        );
        assert_eq!(
            r.required(Some("DELETE"), Some("/orders/42")),
            Some(vec!["orders:delete"])
        );
        assert_eq!(
            r.required(Some("DELETE"), Some("/orders/42/items")),
            Some(vec![])
        );
        assert_eq!(
            r.required(Some("GET"), None),
            None,
            "unknown route with rules: deny"
        );
        assert_eq!(RouteRules::default().required(None, None), Some(vec![]));
    }

    #[test]
    fn paths_backends_would_route_elsewhere_are_refused_or_matched() {
        let r = rules("ANY /admin/** = admin; DELETE /orders/{id} = orders:delete");
        // Case: `/ADMIN` meets the `/admin/**` rule.
        assert_eq!(
            r.required(Some("GET"), Some("/ADMIN/users")),
            Some(vec!["admin"])
        );
        assert_eq!(
            r.required(Some("GET"), Some("/Admin/users")),
            Some(vec!["admin"])
        );
        // Segments that decode, strip or traverse differently: refused.
        for path in [
            "/admin;x=1/users",
            "/%61dmin/users",
            "/x/../admin/users",
            "/./admin/users",
            "/admin%2Fusers",
            "/x\\..\\admin/users",
            "/orders/7;x",
        ] {
            assert_eq!(r.required(Some("GET"), Some(path)), None, "{path}");
        }
        // Exact comparison when asked for.
        let exact = RouteRules {
            case_sensitive: true,
            ..r.clone()
        };
        assert_eq!(
            exact.required(Some("GET"), Some("/ADMIN/users")),
            Some(vec![])
        );
    }

    #[test]
    fn a_get_rule_covers_head_and_default_deny_refuses_unmatched_routes() {
        let r = rules("GET /reports/** = reports:read");
        assert_eq!(
            r.required(Some("HEAD"), Some("/reports/q1")),
            Some(vec!["reports:read"])
        );
        assert_eq!(r.required(Some("HEAD"), Some("/other")), Some(vec![]));
        let deny = RouteRules {
            default_deny: true,
            ..r
        };
        assert_eq!(deny.required(Some("HEAD"), Some("/other")), None);
        assert_eq!(deny.required(Some("POST"), Some("/reports/q1")), None);
        assert_eq!(
            deny.required(Some("GET"), Some("/reports/q1")),
            Some(vec!["reports:read"])
        );
    }

    #[test]
    fn methods_compare_without_regard_to_case() {
        let r = rules("DELETE /orders/{id} = orders:delete; GET /reports = reports:read");
        assert_eq!(
            r.required(Some("delete"), Some("/orders/1")),
            Some(vec!["orders:delete"])
        );
        assert_eq!(
            r.required(Some("head"), Some("/reports")),
            Some(vec!["reports:read"])
        );
    }

    #[test]
    fn every_matching_rule_applies() {
        let r = rules("ANY /** = user; GET /reports/* = reports:read");
        assert_eq!(
            r.required(Some("GET"), Some("/reports/q1")),
            Some(vec!["user", "reports:read"])
        );
    }

    #[test]
    fn bad_rules_are_reported_with_their_position() {
        for (text, index) in [
            ("GET /a = x; get /b = y", 2),
            ("GET a = x", 1),
            ("GET /a =", 1),
            ("GET /**/a = x", 1),
            ("GET /a", 1),
            ("GET /a* = x", 1),
        ] {
            assert_eq!(RouteRules::parse(text).unwrap_err().index, index, "{text}");
        }
    }

    #[test]
    fn method_and_path_come_from_the_arn() {
        assert_eq!(
            method_and_path("arn:aws:execute-api:us-east-1:123:abc/prod/GET/orders/7"),
            Some(("GET", "/orders/7"))
        );
        assert_eq!(
            method_and_path("arn:aws:execute-api:us-east-1:123:abc/$default/POST/"),
            Some(("POST", "/"))
        );
        assert_eq!(
            method_and_path("arn:aws:execute-api:us-east-1:123:abc/prod/GET"),
            Some(("GET", "/"))
        );
        assert_eq!(method_and_path("nonsense"), None);
    }
}
