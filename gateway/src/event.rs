//! The events API Gateway sends: authorizer events (payload 1.0 for REST APIs, 2.0 for HTTP
//! APIs) and proxy-integration events to the route's function, built from one HTTP request.
//!
//! Formats as AWS documents them (see the README, "Local development", for the pages):
//! - 2.0: `rawPath` percent-decoded (what an HTTP API delivers, despite the name), header
//!   names lower-cased, repeated headers joined with commas, the `Cookie` header
//!   left out and its cookies given as the `cookies` array, repeated query parameters joined with
//!   commas, `routeKey` (`GET /orders`), `routeArn`, `identitySource` (the values),
//!   `requestContext.http`; the integration sees the authorizer's context under
//!   `requestContext.authorizer.lambda`.
//! - 1.0: `headers` (the last value of each header) and `multiValueHeaders` (all of them),
//!   likewise for the query string, `methodArn` with the stage, `resource` (the route's path
//!   template), `path` as received (a REST API does not decode it), `requestContext` (`path`
//!   with the stage); the integration sees the authorizer's context (values as strings),
//!   `principalId` and `integrationLatency` under `requestContext.authorizer`.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::{json, Map, Value};

use crate::template::{context_path, Api, ApiKind, IdentitySource, Route};

/// The account and region the local ARNs name.
pub const ACCOUNT_ID: &str = "123456789012";
/// See [`ACCOUNT_ID`].
pub const REGION: &str = "us-east-1";

/// One HTTP request, as the gateway received it.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// Upper-case method.
    pub method: String,
    /// The path below the API's base (for REST APIs, below `/<stage>`), percent-decoded: what
    /// routes are matched against, an HTTP API's `rawPath` and `requestContext.http.path`.
    pub path: String,
    /// The same, as received: a REST API's `path`.
    pub raw_path: String,
    /// The query string as received, without `?`.
    pub raw_query: String,
    /// Headers in arrival order, names lower-case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// The peer's address.
    pub source_ip: String,
    /// The request id API Gateway would assign.
    pub request_id: String,
    /// When it arrived.
    pub time: SystemTime,
}

impl Incoming {
    /// The values of a header, case-insensitively.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn query_pairs(&self) -> Vec<(String, String)> {
        self.raw_query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode_query(k), decode_query(v))
            })
            .collect()
    }

    fn user_agent(&self) -> String {
        self.header_values("user-agent")
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    fn epoch_millis(&self) -> u64 {
        self.time
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

fn decode_query(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// `12/Mar/2020:19:03:58 +0000`, the format of `requestContext.time` / `requestTime`.
pub fn clf_time(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mon = usize::try_from(month - 1)
        .ok()
        .and_then(|m| MONTHS.get(m))
        .copied()
        .unwrap_or("Jan");
    format!(
        "{day:02}/{mon}/{year}:{:02}:{:02}:{:02} +0000",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The id API Gateway would give the API (lower-case logical id, at most 10 characters).
pub fn api_id(api: &Api) -> String {
    api.logical_id
        .to_ascii_lowercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(10)
        .collect()
}

/// `arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path>`: the `methodArn` /
/// `routeArn` of a request.
pub fn execute_arn(api: &Api, req: &Incoming) -> String {
    format!(
        "arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{}/{}/{}/{}",
        api_id(api),
        api.stage,
        req.method,
        req.path.strip_prefix('/').unwrap_or(&req.path)
    )
}

/// `Title-Case` for a lower-case header name: REST APIs pass names as the client wrote them,
/// which the HTTP server here does not keep; browsers and most clients send this form.
fn title_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut c = part.chars();
            c.next().map_or_else(String::new, |f| {
                f.to_ascii_uppercase().to_string() + c.as_str()
            })
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// A request matched to one route of one API.
#[derive(Debug)]
pub struct Matched<'a> {
    /// The API.
    pub api: &'a Api,
    /// The route.
    pub route: &'a Route,
    /// `{name}` values from the path.
    pub path_parameters: BTreeMap<String, String>,
    /// The request.
    pub req: &'a Incoming,
}

impl Matched<'_> {
    /// `GET /orders`: the route key of an HTTP API route.
    pub fn route_key(&self) -> String {
        format!("{} {}", self.route.method, self.route.path)
    }

    /// `requestContext` without the authorizer.
    pub fn request_context(&self) -> Value {
        let req = self.req;
        let api_id = api_id(self.api);
        let domain = format!("{api_id}.execute-api.{REGION}.amazonaws.com");
        match self.api.kind {
            ApiKind::Http => json!({
                "accountId": ACCOUNT_ID,
                "apiId": api_id,
                "domainName": domain,
                "domainPrefix": api_id,
                "http": {
                    "method": req.method,
                    "path": req.path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": req.source_ip,
                    "userAgent": req.user_agent(),
                },
                "requestId": req.request_id,
                "routeKey": self.route_key(),
                "stage": self.api.stage,
                "time": clf_time(req.time),
                "timeEpoch": req.epoch_millis(),
            }),
            ApiKind::Rest => json!({
                "accountId": ACCOUNT_ID,
                "apiId": api_id,
                "domainName": domain,
                "domainPrefix": api_id,
                "extendedRequestId": req.request_id,
                "httpMethod": req.method,
                "identity": {
                    "sourceIp": req.source_ip,
                    "userAgent": req.user_agent(),
                },
                "path": format!("/{}{}", self.api.stage, req.raw_path),
                "protocol": "HTTP/1.1",
                "requestId": req.request_id,
                "requestTime": clf_time(req.time),
                "requestTimeEpoch": req.epoch_millis(),
                "resourceId": "local",
                "resourcePath": self.route.path,
                "stage": self.api.stage,
            }),
        }
    }

    /// The value of one identity source, or none when the request lacks it (or it is empty).
    pub fn identity_value(&self, source: &IdentitySource, context: &Value) -> Option<String> {
        let v = match source {
            IdentitySource::Header(name) => {
                let values: Vec<&str> = self.req.header_values(name).collect();
                (!values.is_empty()).then(|| values.join(","))
            }
            IdentitySource::Query(name) => {
                let values: Vec<String> = self
                    .req
                    .query_pairs()
                    .into_iter()
                    .filter(|(k, _)| k == name)
                    .map(|(_, v)| v)
                    .collect();
                (!values.is_empty()).then(|| values.join(","))
            }
            IdentitySource::Context(name) => {
                let mut v = context;
                for part in context_path(self.api.kind, name)?.split('.') {
                    v = v.get(part)?;
                }
                match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    Value::Bool(b) => Some(b.to_string()),
                    _ => None,
                }
            }
        };
        v.filter(|s| !s.is_empty())
    }

    fn v2_headers_and_cookies(&self) -> (Map<String, Value>, Vec<String>) {
        let mut headers: Map<String, Value> = Map::new();
        let mut cookies = Vec::new();
        for (k, v) in &self.req.headers {
            if k == "cookie" {
                cookies.extend(
                    v.split(';')
                        .map(str::trim)
                        .filter(|c| !c.is_empty())
                        .map(str::to_owned),
                );
                continue;
            }
            match headers.get_mut(k) {
                Some(Value::String(joined)) => {
                    joined.push(',');
                    joined.push_str(v);
                }
                _ => {
                    headers.insert(k.clone(), Value::String(v.clone()));
                }
            }
        }
        (headers, cookies)
    }

    fn v2_query(&self) -> Map<String, Value> {
        let mut q: Map<String, Value> = Map::new();
        for (k, v) in self.req.query_pairs() {
            match q.get_mut(&k) {
                Some(Value::String(joined)) => {
                    joined.push(',');
                    joined.push_str(&v);
                }
                _ => {
                    q.insert(k, Value::String(v));
                }
            }
        }
        q
    }

    fn v1_headers(&self) -> (Map<String, Value>, Map<String, Value>) {
        let mut single = Map::new();
        let mut multi: Map<String, Value> = Map::new();
        for (k, v) in &self.req.headers {
            let name = title_case(k);
            single.insert(name.clone(), Value::String(v.clone()));
            match multi.get_mut(&name) {
                Some(Value::Array(a)) => a.push(Value::String(v.clone())),
                _ => {
                    multi.insert(name, json!([v]));
                }
            }
        }
        (single, multi)
    }

    fn v1_query(&self) -> (Value, Value) {
        let pairs = self.req.query_pairs();
        if pairs.is_empty() {
            return (Value::Null, Value::Null);
        }
        let mut single = Map::new();
        let mut multi: Map<String, Value> = Map::new();
        for (k, v) in pairs {
            single.insert(k.clone(), Value::String(v.clone()));
            match multi.get_mut(&k) {
                Some(Value::Array(a)) => a.push(Value::String(v)),
                _ => {
                    multi.insert(k, json!([v]));
                }
            }
        }
        (Value::Object(single), Value::Object(multi))
    }

    /// The members a payload 1.0 authorizer event and proxy event share.
    fn v1_request(&self, context: Value) -> Map<String, Value> {
        let (headers, multi) = self.v1_headers();
        let (q, mq) = self.v1_query();
        let mut ev = Map::new();
        ev.insert("resource".into(), json!(self.route.path));
        // As received: a REST API does not decode the path it hands over.
        ev.insert("path".into(), json!(self.req.raw_path));
        ev.insert("httpMethod".into(), json!(self.req.method));
        ev.insert("headers".into(), Value::Object(headers));
        ev.insert("multiValueHeaders".into(), Value::Object(multi));
        ev.insert("queryStringParameters".into(), q);
        ev.insert("multiValueQueryStringParameters".into(), mq);
        ev.insert("pathParameters".into(), self.path_parameters());
        ev.insert("stageVariables".into(), Value::Null);
        ev.insert("requestContext".into(), context);
        ev
    }

    fn path_parameters(&self) -> Value {
        if self.path_parameters.is_empty() {
            return Value::Null;
        }
        Value::Object(
            self.path_parameters
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    }

    /// The authorizer event, with the identity source values already read.
    pub fn authorizer_event(&self, context: &Value, identity: &[String]) -> Value {
        match self.api.kind {
            ApiKind::Http => {
                let (mut headers, cookies) = self.v2_headers_and_cookies();
                // The integration's parameter mapping, as API Gateway applies it.
                headers.retain(|name, _| !self.route.remove_headers.iter().any(|r| r == name));
                let mut ev = json!({
                    "version": "2.0",
                    "type": "REQUEST",
                    "routeArn": execute_arn(self.api, self.req),
                    "identitySource": identity,
                    "routeKey": self.route_key(),
                    // Decoded, despite the name: what an HTTP API delivers.
                    "rawPath": self.req.path,
                    "rawQueryString": self.req.raw_query,
                    "headers": headers,
                    "requestContext": context,
                });
                self.v2_optional(&mut ev, cookies);
                ev
            }
            ApiKind::Rest => {
                let mut ev = self.v1_request(context.clone());
                ev.insert("type".into(), json!("REQUEST"));
                ev.insert("methodArn".into(), json!(execute_arn(self.api, self.req)));
                Value::Object(ev)
            }
        }
    }

    fn v2_optional(&self, ev: &mut Value, cookies: Vec<String>) {
        if let Value::Object(m) = ev {
            if !cookies.is_empty() {
                m.insert("cookies".into(), json!(cookies));
            }
            let q = self.v2_query();
            if !q.is_empty() {
                m.insert("queryStringParameters".into(), Value::Object(q));
            }
            if !self.path_parameters.is_empty() {
                m.insert("pathParameters".into(), self.path_parameters());
            }
        }
    }

    fn body(&self) -> (Value, bool) {
        if self.req.body.is_empty() {
            return (Value::Null, false);
        }
        let textual = self
            .req
            .header_values("content-type")
            .next()
            .is_none_or(|ct| {
                let ct = ct.to_ascii_lowercase();
                ct.starts_with("text/")
                    || ct.contains("json")
                    || ct.contains("xml")
                    || ct.contains("javascript")
                    || ct.starts_with("application/x-www-form-urlencoded")
            });
        match std::str::from_utf8(&self.req.body) {
            Ok(s) if textual => (Value::String(s.to_owned()), false),
            _ => (
                Value::String(base64::engine::general_purpose::STANDARD.encode(&self.req.body)),
                true,
            ),
        }
    }

    /// The proxy-integration event for the route's function. `authorizer` is what API
    /// Gateway puts in `requestContext.authorizer` (none for open routes).
    pub fn integration_event(&self, mut context: Value, authorizer: Option<Value>) -> Value {
        if let (Value::Object(m), Some(a)) = (&mut context, authorizer) {
            m.insert("authorizer".into(), a);
        }
        let (body, b64) = self.body();
        match self.api.kind {
            ApiKind::Http => {
                let (mut headers, cookies) = self.v2_headers_and_cookies();
                // The integration's parameter mapping, as API Gateway applies it.
                headers.retain(|name, _| !self.route.remove_headers.iter().any(|r| r == name));
                let mut ev = json!({
                    "version": "2.0",
                    "routeKey": self.route_key(),
                    // Decoded, despite the name: what an HTTP API delivers.
                    "rawPath": self.req.path,
                    "rawQueryString": self.req.raw_query,
                    "headers": headers,
                    "requestContext": context,
                    "isBase64Encoded": b64,
                });
                self.v2_optional(&mut ev, cookies);
                if let (Value::Object(m), false) = (&mut ev, body.is_null()) {
                    m.insert("body".into(), body);
                }
                ev
            }
            ApiKind::Rest => {
                let mut ev = self.v1_request(context);
                ev.insert("body".into(), body);
                ev.insert("isBase64Encoded".into(), json!(b64));
                Value::Object(ev)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{ApiKind, Route};
    use std::time::Duration;

    fn api(kind: ApiKind) -> Api {
        Api {
            kind,
            logical_id: if kind == ApiKind::Http {
                "HttpApi"
            } else {
                "RestApi"
            }
            .into(),
            stage: "dev".into(),
            routes: vec![Route {
                remove_headers: Vec::new(),
                method: "GET".into(),
                path: "/orders/{id}".into(),
                function: "orders-example".into(),
                authorizer: Some("A".into()),
            }],
            authorizers: Default::default(),
        }
    }

    fn incoming() -> Incoming {
        Incoming {
            method: "GET".into(),
            path: "/orders/7".into(),
            raw_path: "/orders/7".into(),
            raw_query: "a=1&a=2&b=x+y".into(),
            headers: vec![
                ("cookie".into(), "theme=dark; __Host-session=T".into()),
                ("x-forwarded-for".into(), "1.1.1.1".into()),
                ("x-forwarded-for".into(), "2.2.2.2".into()),
                ("user-agent".into(), "UA".into()),
            ],
            body: vec![],
            source_ip: "127.0.0.1".into(),
            request_id: "rid".into(),
            time: UNIX_EPOCH + Duration::from_secs(1_583_348_638),
        }
    }

    fn matched<'a>(
        api: &'a Api,
        req: &'a Incoming,
        params: BTreeMap<String, String>,
    ) -> Matched<'a> {
        Matched {
            api,
            route: &api.routes[0],
            path_parameters: params,
            req,
        }
    }

    #[test]
    fn the_time_is_in_api_gateways_format() {
        assert_eq!(
            clf_time(UNIX_EPOCH + Duration::from_secs(1_583_348_638)),
            "04/Mar/2020:19:03:58 +0000"
        );
        assert_eq!(clf_time(UNIX_EPOCH), "01/Jan/1970:00:00:00 +0000");
    }

    #[test]
    fn a_2_0_event_has_cookies_apart_lower_case_joined_headers_and_the_route() {
        let api = api(ApiKind::Http);
        let req = incoming();
        let m = matched(&api, &req, BTreeMap::from([("id".into(), "7".into())]));
        let ctx = m.request_context();
        let ev = m.authorizer_event(&ctx, &["theme=dark; __Host-session=T".into()]);
        assert_eq!(ev["version"], "2.0");
        assert_eq!(ev["cookies"], json!(["theme=dark", "__Host-session=T"]));
        assert!(ev["headers"].get("cookie").is_none());
        assert_eq!(ev["headers"]["x-forwarded-for"], "1.1.1.1,2.2.2.2");
        assert_eq!(ev["routeKey"], "GET /orders/{id}");
        assert_eq!(
            ev["routeArn"],
            "arn:aws:execute-api:us-east-1:123456789012:httpapi/dev/GET/orders/7"
        );
        assert_eq!(ev["queryStringParameters"], json!({"a": "1,2", "b": "x y"}));
        assert_eq!(ev["pathParameters"], json!({"id": "7"}));
        assert_eq!(ev["requestContext"]["http"]["sourceIp"], "127.0.0.1");
        let ie = m.integration_event(ctx, Some(json!({"lambda": {"sub": "alice"}})));
        assert_eq!(ie["requestContext"]["authorizer"]["lambda"]["sub"], "alice");
        assert!(ie.get("type").is_none());
    }

    #[test]
    fn a_1_0_event_has_single_and_multi_value_headers_and_the_stage_in_the_arn() {
        let api = api(ApiKind::Rest);
        let req = incoming();
        let m = matched(&api, &req, BTreeMap::new());
        let ctx = m.request_context();
        let ev = m.authorizer_event(&ctx, &[]);
        assert_eq!(ev["type"], "REQUEST");
        assert_eq!(
            ev["methodArn"],
            "arn:aws:execute-api:us-east-1:123456789012:restapi/dev/GET/orders/7"
        );
        assert_eq!(ev["headers"]["Cookie"], "theme=dark; __Host-session=T");
        assert_eq!(ev["headers"]["X-Forwarded-For"], "2.2.2.2");
        assert_eq!(
            ev["multiValueHeaders"]["X-Forwarded-For"],
            json!(["1.1.1.1", "2.2.2.2"])
        );
        assert_eq!(
            ev["multiValueQueryStringParameters"]["a"],
            json!(["1", "2"])
        );
        assert_eq!(ev["resource"], "/orders/{id}");
        assert_eq!(ev["requestContext"]["path"], "/dev/orders/7");
        assert_eq!(ev["requestContext"]["resourcePath"], "/orders/{id}");
    }

    #[test]
    fn an_http_raw_path_is_decoded_and_a_rest_path_is_as_received() {
        let mut req = incoming();
        req.path = "/orders/a b".into();
        req.raw_path = "/orders/a%20b".into();
        let http = api(ApiKind::Http);
        let m = matched(&http, &req, BTreeMap::new());
        let ctx = m.request_context();
        assert_eq!(
            m.integration_event(ctx.clone(), None)["rawPath"],
            "/orders/a b"
        );
        assert_eq!(m.authorizer_event(&ctx, &[])["rawPath"], "/orders/a b");
        assert_eq!(ctx["http"]["path"], "/orders/a b");
        let rest = api(ApiKind::Rest);
        let m = matched(&rest, &req, BTreeMap::new());
        let ctx = m.request_context();
        assert_eq!(
            m.integration_event(ctx.clone(), None)["path"],
            "/orders/a%20b"
        );
        assert_eq!(m.authorizer_event(&ctx, &[])["path"], "/orders/a%20b");
        assert_eq!(ctx["path"], "/dev/orders/a%20b");
    }

    #[test]
    fn identity_sources_read_headers_case_insensitively_and_context_variables() {
        let api = api(ApiKind::Http);
        let req = incoming();
        let m = matched(&api, &req, BTreeMap::new());
        let ctx = m.request_context();
        assert_eq!(
            m.identity_value(&IdentitySource::Header("Cookie".into()), &ctx)
                .as_deref(),
            Some("theme=dark; __Host-session=T")
        );
        assert_eq!(
            m.identity_value(&IdentitySource::Context("httpMethod".into()), &ctx)
                .as_deref(),
            Some("GET"),
            "$context.httpMethod is the request's method"
        );
        assert_eq!(
            m.identity_value(&IdentitySource::Context("routeKey".into()), &ctx)
                .as_deref(),
            Some("GET /orders/{id}")
        );
        assert_eq!(
            m.identity_value(&IdentitySource::Header("X-CSRF-Token".into()), &ctx),
            None
        );
        assert_eq!(
            m.identity_value(&IdentitySource::Query("a".into()), &ctx)
                .as_deref(),
            Some("1,2")
        );
    }
}
