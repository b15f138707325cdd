//! From a function's answer to the HTTP response API Gateway sends, and API Gateway's own
//! refusals.

use base64::Engine as _;
use serde_json::Value;

use crate::template::ApiKind;

/// An HTTP response, before it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers, in order (`Set-Cookie` may repeat).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// API Gateway's own answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 401 `{"message":"Unauthorized"}`.
    Unauthorized,
    /// 403 `{"message":"Forbidden"}`.
    Forbidden,
    /// An IAM policy's applicable `Deny`: REST API 403
    /// `{"Message":"User is not authorized to access this resource with an explicit deny"}`,
    /// HTTP API 403 `{"message":"Forbidden"}`.
    ExplicitDeny,
    /// An IAM policy with no statement allowing the request: REST API 403
    /// `{"Message":"User is not authorized to access this resource"}`, HTTP API 403
    /// `{"message":"Forbidden"}`.
    NotAllowed,
    /// No route: HTTP API 404 `Not Found`; REST API 403 `Missing Authentication Token`.
    NoRoute,
    /// The authorizer failed or answered nonsense: 500.
    AuthorizerFailure,
    /// The integration failed or answered nonsense: HTTP API 500, REST API 502.
    IntegrationFailure,
    /// Over the 10 MB payload limit: 413.
    TooLarge,
}

impl Refusal {
    /// The response for this refusal on an API of `kind`.
    pub fn reply(self, kind: ApiKind) -> Reply {
        let (status, body, error_type) = match (self, kind) {
            (Refusal::Unauthorized, _) => (
                401,
                r#"{"message":"Unauthorized"}"#,
                "UnauthorizedException",
            ),
            (Refusal::Forbidden, _)
            | (Refusal::ExplicitDeny | Refusal::NotAllowed, ApiKind::Http) => {
                (403, r#"{"message":"Forbidden"}"#, "AccessDeniedException")
            }
            // The bodies a REST API sends for a Lambda authorizer's policy: the texts the
            // knowledge-center article api-gateway-403-error-lambda-authorizer quotes (there
            // under a lower-case `message`), the member `Message` as captured from deployed
            // stages.
            (Refusal::ExplicitDeny, ApiKind::Rest) => (
                403,
                r#"{"Message":"User is not authorized to access this resource with an explicit deny"}"#,
                "AccessDeniedException",
            ),
            (Refusal::NotAllowed, ApiKind::Rest) => (
                403,
                r#"{"Message":"User is not authorized to access this resource"}"#,
                "AccessDeniedException",
            ),
            (Refusal::NoRoute, ApiKind::Http) => (404, r#"{"message":"Not Found"}"#, ""),
            (Refusal::NoRoute, ApiKind::Rest) => (
                403,
                r#"{"message":"Missing Authentication Token"}"#,
                "MissingAuthenticationTokenException",
            ),
            (Refusal::AuthorizerFailure, ApiKind::Http) => {
                (500, r#"{"message":"Internal Server Error"}"#, "")
            }
            (Refusal::AuthorizerFailure, ApiKind::Rest) => (
                500,
                r#"{"message": null}"#,
                "AuthorizerConfigurationException",
            ),
            (Refusal::IntegrationFailure, ApiKind::Http) => {
                (500, r#"{"message":"Internal Server Error"}"#, "")
            }
            (Refusal::IntegrationFailure, ApiKind::Rest) => (
                502,
                r#"{"message": "Internal server error"}"#,
                "InternalServerErrorException",
            ),
            (Refusal::TooLarge, _) => (413, r#"{"message":"Request Entity Too Large"}"#, ""),
        };
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        if kind == ApiKind::Rest && !error_type.is_empty() {
            headers.push(("x-amzn-errortype".to_owned(), error_type.to_owned()));
        }
        Reply {
            status,
            headers,
            body: body.as_bytes().to_vec(),
        }
    }
}

/// Response headers the HTTP server sets itself.
fn hop_by_hop(name: &str) -> bool {
    [
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A header API Gateway can send: a valid name and value (else the answer is malformed).
fn header(name: &str, value: String) -> Option<(String, String)> {
    hyper::header::HeaderName::from_bytes(name.as_bytes()).ok()?;
    hyper::header::HeaderValue::from_str(&value).ok()?;
    Some((name.to_ascii_lowercase(), value))
}

fn body_of(m: &serde_json::Map<String, Value>) -> Option<Vec<u8>> {
    let text = match m.get("body") {
        None | Some(Value::Null) => return Some(Vec::new()),
        Some(Value::String(s)) => s,
        Some(_) => return None,
    };
    if m.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
        base64::engine::general_purpose::STANDARD.decode(text).ok()
    } else {
        Some(text.as_bytes().to_vec())
    }
}

fn status_of(m: &serde_json::Map<String, Value>) -> Option<u16> {
    m.get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .filter(|s| (100..=599).contains(s))
}

/// Maps an integration's JSON answer to HTTP as API Gateway does for `kind`: payload 2.0 for
/// HTTP APIs (`statusCode`, `headers`, `cookies` → `Set-Cookie`, `body`, `isBase64Encoded`;
/// an answer without `statusCode` is a 200 `application/json` body), payload 1.0 for REST APIs
/// (`statusCode` required; `headers` and `multiValueHeaders` merged, `multiValueHeaders` winning
/// for a name in both). `None` when the answer is malformed.
pub fn map_integration(kind: ApiKind, payload: &[u8]) -> Option<Reply> {
    let v: Value = serde_json::from_slice(payload).ok()?;
    let m = match (&v, kind) {
        (Value::Object(m), _) if m.contains_key("statusCode") => m,
        (_, ApiKind::Http) => {
            return Some(Reply {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: payload.to_vec(),
            })
        }
        (_, ApiKind::Rest) => return None,
    };
    let status = status_of(m)?;
    let body = body_of(m)?;
    let mut headers: Vec<(String, String)> = Vec::new();
    let multi = match (kind, m.get("multiValueHeaders")) {
        (ApiKind::Rest, Some(Value::Object(mv))) => Some(mv),
        _ => None,
    };
    if let Some(Value::Object(h)) = m.get("headers") {
        for (k, v) in h {
            let overridden = multi.is_some_and(|mv| mv.keys().any(|x| x.eq_ignore_ascii_case(k)));
            if !overridden && !hop_by_hop(k) {
                headers.push(header(k, scalar(v)?)?);
            }
        }
    }
    if let Some(mv) = multi {
        for (k, vs) in mv {
            if hop_by_hop(k) {
                continue;
            }
            for v in vs.as_array()? {
                headers.push(header(k, scalar(v)?)?);
            }
        }
    }
    if kind == ApiKind::Http {
        if let Some(Value::Array(cs)) = m.get("cookies") {
            for c in cs {
                headers.push(header("set-cookie", c.as_str()?.to_owned())?);
            }
        }
        if !headers.iter().any(|(k, _)| k == "content-type") && !body.is_empty() {
            headers.push(("content-type".into(), "application/json".into()));
        }
    }
    Some(Reply {
        status,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set_cookies(r: &Reply) -> Vec<&str> {
        r.headers
            .iter()
            .filter(|(k, _)| k == "set-cookie")
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn map(kind: ApiKind, v: Value) -> Option<Reply> {
        map_integration(kind, v.to_string().as_bytes())
    }

    #[test]
    fn cookies_become_set_cookie_headers_and_base64_bodies_are_decoded() {
        let r = map(
            ApiKind::Http,
            json!({"statusCode": 201, "headers": {"x-a": "1", "content-length": "999"}, "cookies": ["a=1; Secure", "b=2"], "body": "aGk=", "isBase64Encoded": true}),
        )
        .unwrap();
        assert_eq!(r.status, 201);
        assert_eq!(r.body, b"hi");
        let set = set_cookies(&r);
        assert_eq!(set, ["a=1; Secure", "b=2"]);
        assert!(!r.headers.iter().any(|(k, _)| k == "content-length"));
    }

    #[test]
    fn an_http_api_answer_without_status_code_is_a_200_json_body() {
        let r = map(ApiKind::Http, json!({"orders": []})).unwrap();
        assert_eq!((r.status, r.body), (200, br#"{"orders":[]}"#.to_vec()));
        assert!(map(ApiKind::Rest, json!({"orders": []})).is_none());
    }

    #[test]
    fn rest_multi_value_headers_win_over_single_ones_of_the_same_name() {
        let r = map(
            ApiKind::Rest,
            json!({"statusCode": 200, "headers": {"Set-Cookie": "x=0", "X-One": "1"}, "multiValueHeaders": {"set-cookie": ["a=1", "b=2"]}, "body": "ok"}),
        )
        .unwrap();
        let set = set_cookies(&r);
        assert_eq!(set, ["a=1", "b=2"]);
        assert!(r.headers.contains(&("x-one".into(), "1".into())));
    }

    #[test]
    fn malformed_integration_answers_are_refused() {
        for bad in [
            json!({"statusCode": "200"}),
            json!({"statusCode": 99}),
            json!({"statusCode": 200, "body": {"not": "a string"}}),
            json!({"statusCode": 200, "body": "%%", "isBase64Encoded": true}),
            json!({"statusCode": 200, "headers": {"x": {"nested": 1}}}),
            json!({"statusCode": 200, "headers": {"bad name": "x"}}),
            json!({"statusCode": 200, "headers": {"x": "line\nbreak"}}),
        ] {
            assert!(map(ApiKind::Rest, bad.clone()).is_none(), "{bad}");
            assert!(map(ApiKind::Http, bad.clone()).is_none(), "{bad}");
        }
        assert!(map_integration(ApiKind::Http, b"not json").is_none());
    }

    #[test]
    fn refusals_carry_api_gateways_bodies() {
        assert_eq!(
            Refusal::Unauthorized.reply(ApiKind::Http).body,
            br#"{"message":"Unauthorized"}"#
        );
        assert_eq!(
            Refusal::Forbidden.reply(ApiKind::Rest).body,
            br#"{"message":"Forbidden"}"#
        );
        assert_eq!(
            Refusal::ExplicitDeny.reply(ApiKind::Rest).body,
            br#"{"Message":"User is not authorized to access this resource with an explicit deny"}"#
        );
        assert_eq!(
            Refusal::NotAllowed.reply(ApiKind::Rest).body,
            br#"{"Message":"User is not authorized to access this resource"}"#
        );
        for r in [Refusal::ExplicitDeny, Refusal::NotAllowed] {
            assert_eq!(r.reply(ApiKind::Http).body, br#"{"message":"Forbidden"}"#);
            assert_eq!(r.reply(ApiKind::Rest).status, 403);
        }
        assert_eq!(Refusal::NoRoute.reply(ApiKind::Http).status, 404);
        assert_eq!(Refusal::NoRoute.reply(ApiKind::Rest).status, 403);
        assert_eq!(Refusal::IntegrationFailure.reply(ApiKind::Rest).status, 502);
    }
}
