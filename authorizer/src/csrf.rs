//! CSRF checks for unsafe methods: the `csrf` claim echoed in a header, no cross-site fetch,
//! and (when configured) an allowed `Origin`.
//!
//! Safe methods are GET, HEAD, OPTIONS and TRACE. Every other method, and a request whose
//! method is unknown, is treated as unsafe.

use aws_lambda_events::http::{HeaderMap, Method};
use aws_lc_rs::constant_time::verify_slices_are_equal;

use jwt_session::origin::{is_allowed_origin, is_cross_site};

use crate::decision::{Forbidden, Verified};
use crate::event::Request;

fn is_safe(method: Option<&Method>) -> bool {
    matches!(
        method,
        Some(m) if *m == Method::GET || *m == Method::HEAD || *m == Method::OPTIONS || *m == Method::TRACE
    )
}

/// The single value of a header; `None` when absent, `Err` when present more than once with
/// different values or not visible ASCII.
fn single<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, Forbidden> {
    let mut found: Option<&str> = None;
    for v in headers.get_all(name) {
        let v = v.to_str().map_err(|_| Forbidden::Csrf)?;
        match found {
            Some(prev) if prev != v => return Err(Forbidden::Csrf),
            _ => found = Some(v),
        }
    }
    Ok(found)
}

/// The `Sec-Fetch-Site` header.
pub const SEC_FETCH_SITE: &str = "sec-fetch-site";
/// The `Origin` header.
pub const ORIGIN: &str = "origin";

/// `CSRF_HEADER_NAME`'s default.
pub const DEFAULT_HEADER_NAME: &str = "X-CSRF-Token";

/// Every header this check reads: the event reader keeps exactly these and the other checks'
/// ([`crate::headers::header_filter`]), so a header left out here would be missing from every
/// request the check sees — and the unit tests below read their requests the same way.
pub fn headers_read(csrf_header_name: &str) -> [String; 3] {
    [
        csrf_header_name.to_ascii_lowercase(),
        SEC_FETCH_SITE.to_owned(),
        ORIGIN.to_owned(),
    ]
}

/// What the CSRF check of an unsafe method requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrfRules {
    /// The header that must carry the token's `csrf` claim, lower-cased. Default:
    /// `x-csrf-token`.
    pub header_name: String,
    /// Accepted `Origin` values, lower-cased `scheme://host[:port]`. Default: empty, no
    /// `Origin` check (`Sec-Fetch-Site: cross-site` is refused either way).
    pub allowed_origins: Vec<String>,
}

impl Default for CsrfRules {
    fn default() -> Self {
        CsrfRules {
            header_name: DEFAULT_HEADER_NAME.to_ascii_lowercase(),
            allowed_origins: Vec::new(),
        }
    }
}

/// Checks an unsafe request against the verified token. Safe methods always pass.
pub fn check(req: &Request, token: &Verified, cfg: &CsrfRules) -> Result<(), Forbidden> {
    if is_safe(req.method.as_ref()) {
        return Ok(());
    }
    let expected = token.csrf.as_deref().ok_or(Forbidden::Csrf)?;
    let presented = single(&req.headers, &cfg.header_name)?.ok_or(Forbidden::Csrf)?;
    if expected.is_empty()
        || verify_slices_are_equal(expected.as_bytes(), presented.as_bytes()).is_err()
    {
        return Err(Forbidden::Csrf);
    }
    if is_cross_site(
        req.headers
            .get_all(SEC_FETCH_SITE)
            .iter()
            .map(|v| v.as_bytes()),
    ) {
        return Err(Forbidden::Csrf);
    }
    if let Some(origin) = single(&req.headers, ORIGIN)? {
        if !is_allowed_origin(origin, &cfg.allowed_origins) {
            return Err(Forbidden::Csrf);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jwt_session::testing::VerifiedBuilder;
    use serde_json::json;

    fn cfg(origins: &str) -> CsrfRules {
        CsrfRules {
            allowed_origins: origins
                .split(',')
                .filter(|o| !o.is_empty())
                .map(str::to_owned)
                .collect(),
            ..CsrfRules::default()
        }
    }

    fn token(csrf: Option<&str>) -> Verified {
        VerifiedBuilder::new("s").csrf(csrf).build()
    }

    fn req(method: &str, headers: serde_json::Value) -> Request {
        crate::headers::production_request(&json!({
            "version": "2.0", "routeArn": "arn", "headers": headers,
            "requestContext": {"http": {"method": method}}
        }))
    }

    #[test]
    fn safe_methods_need_no_csrf_header() {
        for m in ["GET", "HEAD", "OPTIONS"] {
            assert_eq!(check(&req(m, json!({})), &token(None), &cfg("")), Ok(()));
        }
    }

    #[test]
    fn unsafe_methods_need_the_matching_header() {
        for m in ["POST", "PUT", "PATCH", "DELETE", "PURGE"] {
            let c = cfg("");
            assert_eq!(
                check(&req(m, json!({})), &token(Some("abc")), &c),
                Err(Forbidden::Csrf)
            );
            assert_eq!(
                check(
                    &req(m, json!({"X-CSRF-Token": "abd"})),
                    &token(Some("abc")),
                    &c
                ),
                Err(Forbidden::Csrf)
            );
            assert_eq!(
                check(
                    &req(m, json!({"x-csrf-token": "abc"})),
                    &token(Some("abc")),
                    &c
                ),
                Ok(())
            );
            assert_eq!(
                check(&req(m, json!({"x-csrf-token": "abc"})), &token(None), &c),
                Err(Forbidden::Csrf),
                "a token without a csrf claim cannot authorize {m}"
            );
        }
    }

    #[test]
    fn cross_site_fetch_is_refused_on_unsafe_methods() {
        let h = json!({"x-csrf-token": "abc", "Sec-Fetch-Site": "cross-site"});
        assert_eq!(
            check(&req("POST", h.clone()), &token(Some("abc")), &cfg("")),
            Err(Forbidden::Csrf)
        );
        assert_eq!(check(&req("GET", h), &token(Some("abc")), &cfg("")), Ok(()));
        let same = json!({"x-csrf-token": "abc", "Sec-Fetch-Site": "same-origin"});
        assert_eq!(
            check(&req("POST", same), &token(Some("abc")), &cfg("")),
            Ok(())
        );
        // An HTTP API joins a repeated header with commas.
        for joined in [
            "same-origin,cross-site",
            "same-origin, Cross-Site",
            "cross-site ,none",
        ] {
            let h = json!({"x-csrf-token": "abc", "Sec-Fetch-Site": joined});
            assert_eq!(
                check(&req("POST", h), &token(Some("abc")), &cfg("")),
                Err(Forbidden::Csrf),
                "{joined}"
            );
        }
    }

    #[test]
    fn origin_must_be_allowed_when_a_list_is_set() {
        let c = cfg("https://app.example");
        let t = token(Some("abc"));
        let ok = json!({"x-csrf-token": "abc", "origin": "https://app.example"});
        let bad = json!({"x-csrf-token": "abc", "origin": "https://evil.example"});
        let none = json!({"x-csrf-token": "abc"});
        assert_eq!(check(&req("POST", ok), &t, &c), Ok(()));
        assert_eq!(
            check(&req("POST", bad.clone()), &t, &c),
            Err(Forbidden::Csrf)
        );
        assert_eq!(check(&req("POST", none), &t, &c), Ok(()));
        assert_eq!(
            check(&req("POST", bad), &t, &cfg("")),
            Ok(()),
            "no list: no check"
        );
    }
}
