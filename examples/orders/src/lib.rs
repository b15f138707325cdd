//! **Example only.** A backend behind the cookie authorizer, to show the request path end to
//! end; orders live in the function's memory (one list per container, lost when it stops).
//!
//! Routes, on the HTTP API (payload 2.0) and the REST API (payload 1.0) alike:
//!
//! - `GET /`: one small HTML page: a login form, the caller's orders, a form that creates one
//!   (sending the CSRF value from the login answer in `X-CSRF-Token`), a logout button. Its
//!   scripts never see the token: it lives in an HttpOnly cookie. A strict
//!   `Content-Security-Policy` allows only the page's own script and style (by hash).
//! - `GET /health`: `{"ok": true}`, open.
//! - `GET /orders`: `{"orders": [...]}`, the orders of the caller (`sub` of the authorizer's
//!   context).
//! - `POST /orders` with `{"item": "<text>"}`: 201 with the created order.
//!
//! The caller comes only from the authorizer's context, which API Gateway puts under
//! `requestContext.authorizer.lambda` (2.0) or `requestContext.authorizer` (1.0); a request
//! without one is refused (401), never served as somebody.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde::Serialize;
use serde_json::{json, Value};

/// The page, with `__BASE__` standing for the API's base path.
pub const PAGE: &str = include_str!("page.html");
/// Longest item text, in characters.
pub const MAX_ITEM_CHARS: usize = 200;
/// Orders kept per caller (the oldest are dropped beyond it).
pub const MAX_ORDERS_PER_CALLER: usize = 1000;

/// One order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Order {
    /// Its number.
    pub id: u64,
    /// What was ordered.
    pub item: String,
    /// When (seconds since the epoch).
    pub created_at: u64,
}

#[derive(Debug, Default)]
struct Store {
    next: u64,
    by_caller: HashMap<String, Vec<Order>>,
}

/// The backend.
#[derive(Debug, Default)]
pub struct Orders {
    store: Mutex<Store>,
}

/// A request, read from either payload format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Upper-case method.
    pub method: String,
    /// The route's path (`/orders`).
    pub route: String,
    /// The API's base path as the browser sees it, ending with `/`.
    pub base: String,
    /// `sub` from the authorizer's context.
    pub caller: Option<String>,
    /// The body.
    pub body: Option<Vec<u8>>,
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

impl Request {
    /// Reads a payload 2.0 (`version: "2.0"`) or 1.0 proxy event.
    pub fn read(ev: &Value) -> Option<Request> {
        let (method, route, full, rel, caller) = if str_at(ev, "/version") == Some("2.0") {
            let (m, r) = str_at(ev, "/routeKey")?.split_once(' ')?;
            let raw = str_at(ev, "/rawPath").unwrap_or("/");
            (
                m,
                r,
                raw,
                r,
                str_at(ev, "/requestContext/authorizer/lambda/sub"),
            )
        } else {
            let full = str_at(ev, "/requestContext/path").unwrap_or("/");
            let rel = str_at(ev, "/path").unwrap_or("/");
            (
                str_at(ev, "/httpMethod")?,
                str_at(ev, "/resource")?,
                full,
                rel,
                str_at(ev, "/requestContext/authorizer/sub"),
            )
        };
        let prefix = full
            .strip_suffix(rel)
            .or_else(|| full.strip_suffix(rel.trim_end_matches('/')))
            .unwrap_or("");
        let base = format!("{}/", prefix.trim_end_matches('/'));
        // A base the page would read as another host (`//evil.example/`) is never served.
        if base.starts_with("//") || base.contains('\\') {
            return None;
        }
        let body = ev.get("body").and_then(Value::as_str).map(|b| {
            if ev.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
                base64::engine::general_purpose::STANDARD
                    .decode(b)
                    .unwrap_or_default()
            } else {
                b.as_bytes().to_vec()
            }
        });
        Some(Request {
            method: method.to_ascii_uppercase(),
            route: route.to_owned(),
            base,
            caller: caller.filter(|c| !c.is_empty()).map(str::to_owned),
            body,
        })
    }
}

fn reply(status: u16, content_type: &str, body: String, extra: &[(&str, String)]) -> Value {
    let mut headers = serde_json::Map::new();
    headers.insert("content-type".into(), content_type.into());
    headers.insert("cache-control".into(), "no-store".into());
    headers.insert("x-content-type-options".into(), "nosniff".into());
    for (k, v) in extra {
        headers.insert((*k).into(), v.clone().into());
    }
    json!({"statusCode": status, "headers": headers, "body": body, "isBase64Encoded": false})
}

fn json_reply(status: u16, body: Value) -> Value {
    reply(status, "application/json", body.to_string(), &[])
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let end = start + text.get(start..)?.find(close)?;
    text.get(start..end)
}

fn sha256_source(text: Option<&str>) -> String {
    text.map_or_else(
        || "'none'".to_owned(),
        |t| {
            let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, t.as_bytes());
            format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(d.as_ref())
            )
        },
    )
}

/// The page's `Content-Security-Policy`: its own inline script and style by hash, requests to
/// its own origin only, no framing.
pub fn page_csp() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        format!(
            "default-src 'none'; script-src {}; style-src {}; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
            sha256_source(between(PAGE, "<script>", "</script>")),
            sha256_source(between(PAGE, "<style>", "</style>")),
        )
    })
}

fn html_attr(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Why an order cannot be created.
fn item_of(body: Option<&[u8]>) -> Result<String, &'static str> {
    let v: Value = body
        .and_then(|b| serde_json::from_slice(b).ok())
        .ok_or("expected a JSON body {\"item\": \"<text>\"}")?;
    let item = v
        .get("item")
        .and_then(Value::as_str)
        .map(str::trim)
        .ok_or("expected {\"item\": \"<text>\"}")?;
    if item.is_empty() || item.chars().count() > MAX_ITEM_CHARS {
        return Err("item must be 1 to 200 characters");
    }
    if item.chars().any(char::is_control) {
        return Err("item must not contain control characters");
    }
    Ok(item.to_owned())
}

impl Orders {
    /// The caller's orders.
    pub fn list(&self, caller: &str) -> Vec<Order> {
        self.store
            .lock()
            .map(|s| s.by_caller.get(caller).cloned().unwrap_or_default())
            .unwrap_or_default()
    }

    /// Creates an order for `caller`.
    pub fn create(&self, caller: &str, item: String) -> Option<Order> {
        let mut s = self.store.lock().ok()?;
        s.next += 1;
        let order = Order {
            id: s.next,
            item,
            created_at: now(),
        };
        let list = s.by_caller.entry(caller.to_owned()).or_default();
        list.push(order.clone());
        if list.len() > MAX_ORDERS_PER_CALLER {
            list.remove(0);
        }
        Some(order)
    }

    /// Answers one proxy event (either payload format; both accept this answer shape).
    pub fn handle(&self, ev: &Value) -> Value {
        let Some(req) = Request::read(ev) else {
            return json_reply(400, json!({"error": "expected an API Gateway proxy event"}));
        };
        match (req.method.as_str(), req.route.as_str()) {
            ("GET", "/") => reply(
                200,
                "text/html; charset=utf-8",
                PAGE.replace("__BASE__", &html_attr(&req.base)),
                &[
                    ("content-security-policy", page_csp().to_owned()),
                    ("referrer-policy", "no-referrer".to_owned()),
                ],
            ),
            ("GET", "/health") => json_reply(200, json!({"ok": true})),
            (method @ ("GET" | "POST"), "/orders") => {
                let Some(caller) = req.caller.as_deref() else {
                    return json_reply(
                        401,
                        json!({"error": "no caller in the authorizer context"}),
                    );
                };
                if method == "GET" {
                    return json_reply(200, json!({"orders": self.list(caller)}));
                }
                match item_of(req.body.as_deref()) {
                    Ok(item) => match self.create(caller, item) {
                        Some(order) => {
                            tracing::info!(
                                event = "order_created",
                                sub = caller,
                                id = order.id,
                                "order created"
                            );
                            json_reply(201, json!(order))
                        }
                        None => json_reply(500, json!({"error": "the store is unavailable"})),
                    },
                    Err(e) => json_reply(400, json!({"error": e})),
                }
            }
            _ => json_reply(404, json!({"error": "not found"})),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v2(route: &str, raw: &str, sub: Option<&str>, body: Option<&str>) -> Value {
        let mut ev =
            json!({"version": "2.0", "routeKey": route, "rawPath": raw, "requestContext": {}});
        if let Some(s) = sub {
            ev["requestContext"]["authorizer"] = json!({"lambda": {"sub": s}});
        }
        if let Some(b) = body {
            ev["body"] = json!(b);
        }
        ev
    }

    fn v1(method: &str, resource: &str, path: &str, full: &str, sub: Option<&str>) -> Value {
        let mut ev = json!({"httpMethod": method, "resource": resource, "path": path, "requestContext": {"path": full}});
        if let Some(s) = sub {
            ev["requestContext"]["authorizer"] = json!({"sub": s, "principalId": s});
        }
        ev
    }

    #[test]
    fn orders_belong_to_the_caller_of_the_authorizer_context() {
        let o = Orders::default();
        let made = o.handle(&v2(
            "POST /orders",
            "/orders",
            Some("alice"),
            Some(r#"{"item":"tea"}"#),
        ));
        assert_eq!(made["statusCode"], 201);
        let alice = o.handle(&v2("GET /orders", "/orders", Some("alice"), None));
        let body: Value = serde_json::from_str(alice["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["orders"][0]["item"], "tea");
        let bob = o.handle(&v1("GET", "/orders", "/orders", "/dev/orders", Some("bob")));
        let body: Value = serde_json::from_str(bob["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["orders"], json!([]));
    }

    #[test]
    fn without_an_authorizer_context_orders_are_refused() {
        let o = Orders::default();
        assert_eq!(
            o.handle(&v2("GET /orders", "/orders", None, None))["statusCode"],
            401
        );
        assert_eq!(
            o.handle(&v1("POST", "/orders", "/orders", "/dev/orders", None))["statusCode"],
            401
        );
    }

    #[test]
    fn bad_items_are_refused() {
        let o = Orders::default();
        let long = format!(r#"{{"item":"{}"}}"#, "x".repeat(201));
        for body in [
            "",
            "{}",
            r#"{"item":""}"#,
            r#"{"item":5}"#,
            r#"{"item":"a\u0000b"}"#,
            long.as_str(),
        ] {
            let r = o.handle(&v2("POST /orders", "/orders", Some("alice"), Some(body)));
            assert_eq!(r["statusCode"], 400, "{body}");
        }
        assert!(o.list("alice").is_empty());
    }

    #[test]
    fn the_page_knows_its_base_path_and_has_a_hash_based_csp() {
        let o = Orders::default();
        let http = o.handle(&v2("GET /", "/", None, None));
        assert!(http["body"].as_str().unwrap().contains(r#"data-base="/""#));
        let rest = o.handle(&v1("GET", "/", "/", "/dev/", None));
        assert!(rest["body"]
            .as_str()
            .unwrap()
            .contains(r#"data-base="/dev/""#));
        let csp = rest["headers"]["content-security-policy"].as_str().unwrap();
        assert!(csp.contains("script-src 'sha256-"), "{csp}");
        assert!(!csp.contains("unsafe-inline"));
        assert!(csp.contains("connect-src 'self'"));
    }

    #[test]
    fn the_page_script_never_touches_cookies_or_local_storage() {
        assert!(!PAGE.contains("document.cookie"));
        assert!(!PAGE.contains("localStorage"));
        assert!(!PAGE.contains("innerHTML"));
    }

    #[test]
    fn a_base_path_that_names_another_host_is_refused() {
        let o = Orders::default();
        let r = o.handle(&v1("GET", "/", "/", "//evil.example/", None));
        assert_eq!(r["statusCode"], 400);
    }

    #[test]
    fn health_is_open_and_unknown_routes_are_404() {
        let o = Orders::default();
        assert_eq!(
            o.handle(&v2("GET /health", "/health", None, None))["statusCode"],
            200
        );
        assert_eq!(
            o.handle(&v2("DELETE /orders", "/orders", Some("a"), None))["statusCode"],
            404
        );
        assert_eq!(o.handle(&json!("nonsense"))["statusCode"], 400);
    }
}
