//! Finding the session cookie in a request, by exact name, with size limits checked first.

use crate::decision::Refused;
use crate::event::Request;
use jwt_session::strict::Rejected;

/// Where the token is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieRules {
    /// Cookie name, matched exactly (`JWT_COOKIE_NAME`). Default: `__Host-session`.
    pub name: String,
    /// Also require `Authorization: Bearer` with a token of the same `sub` and `jti`
    /// (`DOUBLE_TOKEN`). Default: `false`.
    pub double_token: bool,
}

impl Default for CookieRules {
    fn default() -> Self {
        CookieRules {
            name: jwt_session::cookie::DEFAULT_COOKIE_NAME.to_owned(),
            double_token: false,
        }
    }
}

/// Longest token accepted (browsers keep a cookie's name and value under 4096 bytes).
pub use jwt_session::strict::MAX_TOKEN_BYTES;
/// Longest `Cookie` header or `cookies` array accepted, in total.
pub const MAX_COOKIE_BYTES: usize = 16 * 1024;

/// The header this check reads (beside the HTTP API's `cookies` array); the event reader keeps
/// it because it is declared here ([`crate::headers::header_filter`]).
pub const COOKIE_HEADER: &str = "cookie";
/// Every header this module reads.
pub const HEADERS_READ: [&str; 1] = [COOKIE_HEADER];

/// The token found in a request, or why there is none to check.
pub fn find_token<'a>(req: &'a Request, name: &str) -> Result<&'a str, Refused> {
    let header_values = req.headers.get_all(COOKIE_HEADER);
    let total: usize = req.cookies.iter().map(String::len).sum::<usize>()
        + header_values.iter().map(|v| v.len()).sum::<usize>();
    if total > MAX_COOKIE_BYTES {
        return Err(Refused::Token(Rejected::TooLarge));
    }
    let from_array = req.cookies.iter().map(String::as_str);
    // A header value that is not UTF-8 cannot hold our cookie in a form we accept; its pairs
    // are still scanned as bytes, so that our name there is not missed: it makes the request
    // ambiguous (beside another value) or malformed (alone).
    let mut in_unreadable = false;
    for v in header_values.iter() {
        if std::str::from_utf8(v.as_bytes()).is_err() {
            in_unreadable |= v.as_bytes().split(|b| *b == b';').any(|pair| {
                pair.split(|b| *b == b'=')
                    .next()
                    .is_some_and(|n| n.trim_ascii() == name.as_bytes())
            });
        }
    }
    let from_header = header_values
        .iter()
        .flat_map(|v| std::str::from_utf8(v.as_bytes()).ok());
    let mut found: Option<&str> = None;
    for header in from_array.chain(from_header) {
        for pair in header.split(';') {
            let Some((n, v)) = pair.split_once('=') else {
                continue;
            };
            if n.trim_matches([' ', '\t']) != name {
                continue;
            }
            let value = v.trim_matches([' ', '\t']);
            match found {
                Some(prev) if prev != value => return Err(Refused::AmbiguousCookie),
                _ => found = Some(value),
            }
        }
    }
    match found {
        _ if in_unreadable && found.is_some() => Err(Refused::AmbiguousCookie),
        None if in_unreadable => Err(Refused::Token(Rejected::Malformed)),
        None | Some("") => Err(Refused::NoToken),
        Some(v) if v.len() > MAX_TOKEN_BYTES => Err(Refused::Token(Rejected::TooLarge)),
        Some(v) => Ok(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Request;
    use serde_json::json;

    fn rest(headers: serde_json::Value, multi: serde_json::Value) -> Request {
        crate::headers::production_request(&json!({
            "type": "REQUEST", "methodArn": "arn", "httpMethod": "GET",
            "headers": headers, "multiValueHeaders": multi,
            "requestContext": {}
        }))
    }

    fn http(cookies: serde_json::Value, headers: serde_json::Value) -> Request {
        crate::headers::production_request(&json!({
            "version": "2.0", "routeArn": "arn", "cookies": cookies, "headers": headers,
            "requestContext": {"http": {"method": "GET"}}
        }))
    }

    const N: &str = "__Host-session";

    #[test]
    fn our_name_in_a_cookie_header_that_is_not_utf8_is_not_missed() {
        use aws_lambda_events::http::HeaderValue;
        let mut alone = rest(json!({}), json!({}));
        let bad = HeaderValue::from_bytes(b"__Host-session=\xff\xfe; a=1").unwrap();
        alone.headers.append(COOKIE_HEADER, bad.clone());
        assert_eq!(
            find_token(&alone, N),
            Err(Refused::Token(Rejected::Malformed))
        );
        let mut beside = http(json!(["__Host-session=t.o.k"]), json!({}));
        beside.headers.append(COOKIE_HEADER, bad);
        assert_eq!(find_token(&beside, N), Err(Refused::AmbiguousCookie));
        let mut other = rest(json!({}), json!({}));
        other.headers.append(
            COOKIE_HEADER,
            HeaderValue::from_bytes(b"x=\xff; __Host-sessionx=1").unwrap(),
        );
        assert_eq!(find_token(&other, N), Err(Refused::NoToken));
    }

    #[test]
    fn cookie_is_found_by_exact_name_among_others() {
        let r = rest(
            json!({"Cookie": "a=1; __Host-session=t.o.k; b=2"}),
            json!({}),
        );
        assert_eq!(find_token(&r, N), Ok("t.o.k"));
        let r = rest(json!({"cOoKiE": "a=1;__Host-session=t.o.k"}), json!({}));
        assert_eq!(
            find_token(&r, N),
            Ok("t.o.k"),
            "header name in any case, no space"
        );
    }

    #[test]
    fn name_variants_do_not_match() {
        for h in [
            "__host-session=t",
            "__Host-session2=t",
            "__Host-sessio=t",
            "x__Host-session=t",
            "__Host-session\u{a0}=t",
        ] {
            let r = rest(json!({ "Cookie": h }), json!({}));
            assert_eq!(find_token(&r, N), Err(Refused::NoToken), "{h}");
        }
    }

    #[test]
    fn two_different_values_are_ambiguous_wherever_they_are() {
        let r = rest(
            json!({"Cookie": "__Host-session=a; __Host-session=b"}),
            json!({}),
        );
        assert_eq!(find_token(&r, N), Err(Refused::AmbiguousCookie));
        let r = rest(
            json!({"Cookie": "__Host-session=a"}),
            json!({"Cookie": ["__Host-session=a", "__Host-session=b"]}),
        );
        assert_eq!(find_token(&r, N), Err(Refused::AmbiguousCookie));
        let r = http(
            json!(["__Host-session=a"]),
            json!({"cookie": "__Host-session=b"}),
        );
        assert_eq!(find_token(&r, N), Err(Refused::AmbiguousCookie));
    }

    #[test]
    fn the_same_value_twice_is_allowed() {
        let r = rest(
            json!({"Cookie": "__Host-session=a"}),
            json!({"Cookie": ["__Host-session=a"]}),
        );
        assert_eq!(find_token(&r, N), Ok("a"));
        let r = http(json!(["__Host-session=a", "__Host-session=a"]), json!({}));
        assert_eq!(find_token(&r, N), Ok("a"));
    }

    #[test]
    fn missing_or_empty_cookie_is_no_token() {
        assert_eq!(
            find_token(&rest(json!({}), json!({})), N),
            Err(Refused::NoToken)
        );
        let r = http(json!(["__Host-session="]), json!({}));
        assert_eq!(find_token(&r, N), Err(Refused::NoToken));
    }

    #[test]
    fn oversized_cookie_or_header_is_too_large() {
        let big = "a".repeat(MAX_TOKEN_BYTES + 1);
        let r = http(json!([format!("__Host-session={big}")]), json!({}));
        assert_eq!(find_token(&r, N), Err(Refused::Token(Rejected::TooLarge)));
        let huge = format!("x={}", "b".repeat(MAX_COOKIE_BYTES));
        let r = http(json!(["__Host-session=ok", huge]), json!({}));
        assert_eq!(find_token(&r, N), Err(Refused::Token(Rejected::TooLarge)));
    }
}
