//! Turning the raw invocation JSON into the request the decision needs.
//!
//! Dispatch happens on the raw JSON: payload 2.0 (`"version": "2.0"`) is read with
//! `ApiGatewayV2CustomAuthorizerV2Request`; a `"type": "REQUEST"` event with a `methodArn`
//! (REST APIs, and HTTP APIs on payload 1.0) with `ApiGatewayCustomAuthorizerRequestTypeRequest`.
//! Anything else, or an event the types refuse, is still a request: one that is denied.

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayV2CustomAuthorizerV2Request,
};
use aws_lambda_events::http::{HeaderMap, Method};
use serde_json::Value;

use crate::event_filter;
pub use crate::event_filter::HeaderFilter;

/// Which answer format the event calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    /// REST API REQUEST authorizer (or HTTP API payload 1.0): IAM policy or `Unauthorized`.
    Rest,
    /// HTTP API payload 2.0.
    Http,
    /// Not an authorizer event we understand: answered `Unauthorized`.
    Unknown,
}

impl Payload {
    /// Name used in the audit record.
    pub fn as_str(self) -> &'static str {
        match self {
            Payload::Rest => "rest",
            Payload::Http => "http",
            Payload::Unknown => "unknown",
        }
    }
}

/// What the decision needs from an authorizer event.
#[derive(Debug)]
pub struct Request {
    /// The event's format.
    pub payload: Payload,
    /// Whether the typed parse failed (the event is denied as `malformed`).
    pub malformed: bool,
    /// `methodArn` (REST) or `routeArn` (HTTP API): the resource of the IAM policy.
    pub resource_arn: Option<String>,
    /// `routeKey` (HTTP API) or `METHOD resource` (REST).
    pub route: Option<String>,
    /// HTTP method, when the event names one.
    pub method: Option<Method>,
    /// Headers the reading kept ([`HeaderFilter`]): names lower-cased, every value kept.
    pub headers: HeaderMap,
    /// Payload 2.0 `cookies` entries (`name=value`).
    pub cookies: Vec<String>,
    /// API Gateway's request id.
    pub request_id: Option<String>,
    /// Caller's IP as API Gateway saw it.
    pub source_ip: Option<String>,
    /// `User-Agent`.
    pub user_agent: Option<String>,
}

/// The header the audit record takes the user agent from (REST events; HTTP API events carry
/// it in `requestContext.http`).
pub const USER_AGENT_HEADER: &str = "user-agent";

impl Request {
    fn unknown(raw: &Value, payload: Payload) -> Request {
        // Read what we can for the audit record; never fail.
        let ctx = raw.get("requestContext");
        let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        Request {
            payload,
            malformed: true,
            resource_arn: s(raw.get("methodArn")).or_else(|| s(raw.get("routeArn"))),
            route: s(raw.get("routeKey")),
            method: None,
            headers: HeaderMap::new(),
            cookies: Vec::new(),
            request_id: s(ctx.and_then(|c| c.get("requestId"))),
            source_ip: s(ctx
                .and_then(|c| c.get("identity"))
                .and_then(|i| i.get("sourceIp")))
            .or_else(|| {
                s(ctx
                    .and_then(|c| c.get("http"))
                    .and_then(|h| h.get("sourceIp")))
            }),
            user_agent: None,
        }
    }

    /// Reads an event from its JSON text, keeping every header (tests, tools).
    pub fn from_json(text: &str) -> Request {
        Self::read(text, &HeaderFilter::All)
    }

    /// Reads an event from its JSON text, as the Lambda runtime hands it over, keeping the
    /// headers `headers` names. The common case goes straight from the text to the
    /// `aws_lambda_events` type in one pass, with no intermediate `serde_json::Value`,
    /// skipping members no check reads ([`crate::event_filter`]); anything unusual takes the
    /// [`Request::from_value_with`] path, which dispatches on `version`, `type` and
    /// `methodArn` the same way. Never fails.
    pub fn read(text: &str, headers: &HeaderFilter) -> Request {
        // Which type to try first: a hint from the first member name only; the checks after
        // each read decide, exactly as a full look at `version`, `type` and `methodArn` would.
        let v2_first = text
            .trim_start()
            .strip_prefix('{')
            .is_some_and(|rest| rest.trim_start().starts_with("\"version\""));
        let as_v2 = || {
            let mut de = serde_json::Deserializer::from_str(text);
            let e: ApiGatewayV2CustomAuthorizerV2Request =
                event_filter::deserialize(&mut de, headers).ok()?;
            de.end().ok()?;
            (e.version.as_deref() == Some("2.0")).then(|| Self::from_v2(e))
        };
        let as_rest = || {
            let mut de = serde_json::Deserializer::from_str(text);
            let (e, version): (ApiGatewayCustomAuthorizerRequestTypeRequest, _) =
                event_filter::deserialize_noting_version(&mut de, headers).ok()?;
            de.end().ok()?;
            (version != event_filter::Version::V2
                && e.type_.as_deref() == Some("REQUEST")
                && e.method_arn.is_some())
            .then(|| Self::from_rest(e))
        };
        let typed = if v2_first {
            as_v2().or_else(as_rest)
        } else {
            as_rest().or_else(as_v2)
        };
        // Neither type reads the text (a member of the wrong type, a duplicate member, not
        // JSON...): a malformed request, in the format the same rule names, with what the
        // audit record can still use.
        typed.unwrap_or_else(|| {
            let raw: Value = serde_json::from_str(text).unwrap_or(Value::Null);
            Self::unknown(&raw, Self::format_of(&raw))
        })
    }

    /// The one dispatch rule: `version` `2.0` is an HTTP API event; otherwise `type`
    /// `REQUEST` with a `methodArn` is a REST API event; anything else is unknown.
    fn format_of(raw: &Value) -> Payload {
        if raw.get("version").and_then(Value::as_str) == Some("2.0") {
            Payload::Http
        } else if raw.get("type").and_then(Value::as_str) == Some("REQUEST")
            && raw.get("methodArn").is_some()
        {
            Payload::Rest
        } else {
            Payload::Unknown
        }
    }

    /// Reads an event, keeping every header. Never fails: an event that cannot be read is a
    /// `malformed` request.
    pub fn from_value(raw: &Value) -> Request {
        Self::from_value_with(raw, &HeaderFilter::All)
    }

    /// Reads an event, keeping the headers `headers` names: the same reader as
    /// [`Request::read`], on the value's JSON text. Never fails.
    pub fn from_value_with(raw: &Value, headers: &HeaderFilter) -> Request {
        Self::read(&raw.to_string(), headers)
    }

    fn from_v2(e: ApiGatewayV2CustomAuthorizerV2Request) -> Request {
        let user_agent = e.request_context.http.user_agent.clone();
        Request {
            payload: Payload::Http,
            malformed: false,
            resource_arn: e.route_arn,
            route: e.route_key.or(e.request_context.route_key),
            method: Some(e.request_context.http.method),
            headers: e.headers,
            cookies: e.cookies,
            request_id: e.request_context.request_id,
            source_ip: e.request_context.http.source_ip,
            user_agent,
        }
    }

    fn from_rest(e: ApiGatewayCustomAuthorizerRequestTypeRequest) -> Request {
        let mut headers = e.headers;
        // multiValueHeaders holds every value; headers the last one. Keep all, deduplicated
        // later by the cookie reader (the same value twice is allowed).
        for (name, value) in e.multi_value_headers.iter() {
            if !headers.get_all(name).iter().any(|v| v == value) {
                headers.append(name.clone(), value.clone());
            }
        }
        let method = e.http_method.or(e.request_context.http_method);
        let route = match (&method, &e.resource) {
            (Some(m), Some(r)) => Some(format!("{m} {r}")),
            _ => None,
        };
        let user_agent = headers
            .get(USER_AGENT_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Request {
            payload: Payload::Rest,
            malformed: false,
            resource_arn: e.method_arn,
            route,
            method,
            headers,
            cookies: Vec::new(),
            request_id: e.request_context.request_id,
            source_ip: e.request_context.identity.and_then(|i| i.source_ip),
            user_agent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_null_cookies_member_is_read_as_an_absent_one() {
        let v2 = json!({"version": "2.0", "type": "REQUEST", "routeArn": "arn", "routeKey": "GET /x",
            "cookies": null, "headers": {"cookie": "s=1"},
            "requestContext": {"http": {"method": "GET"}, "requestId": "r-1"}});
        let r = Request::from_value(&v2);
        assert_eq!(r.payload, Payload::Http);
        assert!(!r.malformed, "null cookies is not a malformed event");
        assert!(r.cookies.is_empty());
        assert_eq!(
            r.headers.get("cookie").map(|v| v.as_bytes()),
            Some(&b"s=1"[..])
        );
        assert_eq!(r.request_id.as_deref(), Some("r-1"));
        let mut absent = v2.clone();
        absent.as_object_mut().unwrap().remove("cookies");
        let a = Request::from_value(&absent);
        assert_eq!(
            (a.malformed, a.cookies.len()),
            (r.malformed, r.cookies.len())
        );
        // Any other non-array is still malformed.
        let mut bad = v2;
        bad["cookies"] = json!("s=1");
        assert!(Request::from_value(&bad).malformed);
        // A null member still counts as a member: twice is a duplicate.
        for text in [
            r#"{"version":"2.0","routeArn":"arn","cookies":null,"cookies":["a=1"],"requestContext":{"http":{"method":"GET"}}}"#,
            r#"{"version":"2.0","routeArn":"arn","cookies":null,"routeArn":"other","requestContext":{"http":{"method":"GET"}}}"#,
        ] {
            assert!(Request::from_json(text).malformed, "{text}");
        }
        // A REST event is not about cookies: whatever its `cookies` member, it is ignored.
        let rest = json!({"type": "REQUEST", "methodArn": "arn", "resource": "/x", "httpMethod": "GET",
            "headers": {"Cookie": "s=1"}, "requestContext": {"requestId": "r-1"}});
        assert!(!Request::from_value(&rest).malformed);
        for cookies in [
            json!(null),
            json!("s=1"),
            json!(["s=1"]),
            json!([1]),
            json!({}),
        ] {
            let mut with = rest.clone();
            with["cookies"] = cookies.clone();
            let r = Request::from_value(&with);
            assert_eq!(
                (r.payload, r.malformed),
                (Payload::Rest, false),
                "{cookies}"
            );
        }
    }

    #[test]
    fn rest_request_event_is_read_with_headers_and_context() {
        let raw = json!({
            "type": "REQUEST",
            "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:abc/prod/GET/orders",
            "resource": "/orders",
            "httpMethod": "GET",
            "headers": {"Cookie": "a=1", "User-Agent": "curl/8"},
            "multiValueHeaders": {"Cookie": ["a=1", "b=2"]},
            "requestContext": {"requestId": "r-1", "identity": {"sourceIp": "203.0.113.9"}}
        });
        let r = Request::from_value(&raw);
        assert_eq!(r.payload, Payload::Rest);
        assert!(!r.malformed);
        assert_eq!(r.route.as_deref(), Some("GET /orders"));
        assert_eq!(r.request_id.as_deref(), Some("r-1"));
        assert_eq!(r.source_ip.as_deref(), Some("203.0.113.9"));
        assert_eq!(r.user_agent.as_deref(), Some("curl/8"));
        assert_eq!(
            r.headers.get_all("cookie").iter().count(),
            2,
            "values of headers and multiValueHeaders merged without repeats"
        );
    }

    #[test]
    fn http_api_v2_event_is_read_with_cookies() {
        let raw = json!({
            "version": "2.0", "type": "REQUEST",
            "routeArn": "arn:aws:execute-api:eu-west-1:123456789012:abc/$default/POST/orders",
            "routeKey": "POST /orders",
            "cookies": ["__Host-session=x.y.z"],
            "headers": {"x-csrf-token": "c"},
            "requestContext": {"requestId": "r-2", "http": {"method": "POST", "sourceIp": "198.51.100.7", "userAgent": "ua"}}
        });
        let r = Request::from_value(&raw);
        assert_eq!(r.payload, Payload::Http);
        assert_eq!(r.method, Some(Method::POST));
        assert_eq!(r.cookies, vec!["__Host-session=x.y.z"]);
        assert_eq!(r.route.as_deref(), Some("POST /orders"));
    }

    #[test]
    fn reading_from_text_agrees_with_reading_from_a_value() {
        for raw in [
            json!({"type": "REQUEST", "methodArn": "arn", "httpMethod": "POST", "resource": "/x",
                   "headers": {"Cookie": "a=1", "X-Csrf-Token": "t"}, "multiValueHeaders": {"Cookie": ["a=1", "b=2"]},
                   "requestContext": {"requestId": "r", "identity": {"sourceIp": "1.2.3.4"}}}),
            json!({"version": "2.0", "routeArn": "arn", "routeKey": "GET /x", "cookies": ["a=1"],
                   "headers": {"cookie": "b=2"}, "requestContext": {"requestId": "q", "http": {"method": "GET", "sourceIp": "5.6.7.8"}}}),
            json!({"version": "2.0", "requestContext": {}}),
            json!({"type": "REQUEST", "methodArn": "arn", "headers": null}),
            json!({"type": "TOKEN", "methodArn": "arn"}),
            json!(null),
            json!([1]),
        ] {
            let a = Request::from_value(&raw);
            let b = Request::from_json(&raw.to_string());
            assert_eq!(
                (
                    a.payload,
                    a.malformed,
                    &a.resource_arn,
                    &a.route,
                    &a.method,
                    &a.cookies,
                    &a.request_id,
                    &a.source_ip,
                    &a.user_agent
                ),
                (
                    b.payload,
                    b.malformed,
                    &b.resource_arn,
                    &b.route,
                    &b.method,
                    &b.cookies,
                    &b.request_id,
                    &b.source_ip,
                    &b.user_agent
                ),
                "{raw}"
            );
            assert_eq!(a.headers, b.headers, "{raw}");
        }
        let r = Request::from_json("not json");
        assert!(r.malformed);
    }

    #[test]
    fn only_the_headers_a_check_reads_are_kept_from_both_header_maps() {
        let only = HeaderFilter::Only(vec!["cookie".into(), "x-csrf-token".into()]);
        let raw = json!({
            "type": "REQUEST", "methodArn": "arn", "httpMethod": "POST", "resource": "/x",
            "headers": {"COOKIE": "a=1", "X-Csrf-Token": "t", "Accept": "text/html"},
            "multiValueHeaders": {"Cookie": ["a=1", "b=2"], "Accept": ["text/html"],
                                  "X-Forwarded-For": ["1.2.3.4"]},
            "queryStringParameters": {"q": "1"},
            "requestContext": {"requestId": "r", "identity": {"sourceIp": "1.2.3.4"}}
        });
        for r in [
            Request::read(&raw.to_string(), &only),
            Request::from_value_with(&raw, &only),
        ] {
            assert!(!r.malformed);
            let names: Vec<&str> = r.headers.keys().map(|k| k.as_str()).collect();
            assert_eq!(names, vec!["cookie", "x-csrf-token"]);
            assert_eq!(r.headers.get_all("cookie").iter().count(), 2);
            assert_eq!(r.request_id.as_deref(), Some("r"));
        }
        let v2 = json!({"version": "2.0", "routeArn": "arn", "cookies": ["s=1"],
                        "headers": {"cookie": "c=2", "accept": "x", "user-agent": "ua"},
                        "requestContext": {"http": {"method": "GET"}}});
        let r = Request::read(&v2.to_string(), &only);
        assert_eq!(r.headers.len(), 1);
        assert_eq!(r.cookies, vec!["s=1"]);
        let all = Request::read(&v2.to_string(), &HeaderFilter::All);
        assert_eq!(all.headers.len(), 3);
    }

    #[test]
    fn the_format_follows_version_type_and_method_arn_wherever_they_appear() {
        let only = HeaderFilter::Only(vec!["cookie".into()]);
        let cases = [
            (
                r#"{"type":"REQUEST","methodArn":"arn","requestContext":{}}"#,
                Payload::Rest,
                false,
            ),
            (
                r#"{"version":"1.0","type":"REQUEST","methodArn":"arn","requestContext":{}}"#,
                Payload::Rest,
                false,
            ),
            (
                r#"{"type":"REQUEST","methodArn":"arn","requestContext":{"http":{"method":"GET"}},"version":"2.0"}"#,
                Payload::Http,
                false,
            ),
            (
                r#"{"version":"2.0","routeArn":"arn","requestContext":{"http":{"method":"GET"}}}"#,
                Payload::Http,
                false,
            ),
            (
                r#"{"routeArn":"arn","requestContext":{"http":{"method":"GET"}},"version":"2.0"}"#,
                Payload::Http,
                false,
            ),
            (
                r#"{"version":"1.0","version":"2.0","type":"REQUEST","methodArn":"arn","requestContext":{}}"#,
                Payload::Http,
                true,
            ),
            (
                r#"{"version":"2.0","type":"TOKEN","methodArn":"arn"}"#,
                Payload::Http,
                true,
            ),
            (
                r#"{"type":"TOKEN","methodArn":"arn","requestContext":{}}"#,
                Payload::Unknown,
                true,
            ),
        ];
        for (text, payload, malformed) in cases {
            let r = Request::read(text, &only);
            assert_eq!((r.payload, r.malformed), (payload, malformed), "{text}");
            let v: Value = serde_json::from_str(text).unwrap();
            let from_value = Request::from_value_with(&v, &only);
            if text.contains(r#""version":"1.0","version""#) {
                // The value has already lost the duplicate: the last `version` wins, and the
                // event is read as that value's text is, by the same reader.
                let last: Value = serde_json::from_str(&v.to_string()).unwrap();
                assert_eq!(last["version"], "2.0");
            } else {
                assert_eq!(
                    (from_value.payload, from_value.malformed),
                    (payload, malformed),
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn a_duplicated_member_makes_the_event_malformed_with_no_second_reading() {
        let only = HeaderFilter::Only(vec!["cookie".into()]);
        for text in [
            r#"{"version":"2.0","routeArn":"arn","cookies":["a=1"],"cookies":["b=2"],"requestContext":{"http":{"method":"GET"}}}"#,
            r#"{"type":"REQUEST","methodArn":"arn","headers":{},"headers":{"Cookie":"a=1"},"requestContext":{}}"#,
        ] {
            let r = Request::read(text, &only);
            assert!(r.malformed, "{text}");
            assert!(r.cookies.is_empty() && r.headers.is_empty());
        }
    }

    #[test]
    fn members_no_check_reads_are_skipped_but_must_still_be_json() {
        let only = HeaderFilter::Only(vec!["cookie".into()]);
        let raw = r#"{"type": "REQUEST", "methodArn": "arn", "httpMethod": "GET",
            "queryStringParameters": 5, "pathParameters": [1], "stageVariables": "x",
            "headers": {"Accept": 7, "Cookie": "a=1"}, "requestContext": {}}"#;
        let r = Request::read(raw, &only);
        assert!(
            !r.malformed,
            "skipped members are not validated against their types"
        );
        assert_eq!(
            r.headers.get("cookie").map(|v| v.as_bytes()),
            Some(&b"a=1"[..])
        );
        let broken = r#"{"type": "REQUEST", "methodArn": "arn", "queryStringParameters": {,}}"#;
        assert!(Request::read(broken, &only).malformed);
        let kept_but_wrong = r#"{"type": "REQUEST", "methodArn": "arn", "headers": {"Cookie": 7}, "requestContext": {}}"#;
        assert!(Request::read(kept_but_wrong, &only).malformed);
    }

    #[test]
    fn events_of_any_shape_become_requests_without_failing() {
        for raw in [
            json!(null),
            json!([]),
            json!("text"),
            json!({}),
            json!({"type": "TOKEN", "authorizationToken": "x", "methodArn": "arn"}),
            json!({"type": "REQUEST", "methodArn": "arn", "headers": null}),
            json!({"type": "REQUEST", "methodArn": 5}),
            json!({"version": "2.0"}),
            json!({"version": "2.0", "requestContext": {"http": {"method": "NOT A METHOD"}}}),
        ] {
            let r = Request::from_value(&raw);
            assert!(r.malformed || r.payload != Payload::Unknown, "{raw}");
        }
        let r = Request::from_value(&json!({"version": "2.0"}));
        assert_eq!(r.payload, Payload::Http);
        assert!(r.malformed);
    }
}
