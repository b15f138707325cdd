//! Cookie extraction: arbitrary `cookies` entries and `Cookie` header values.
#![no_main]

use aws_lambda_events::http::HeaderValue;
use authorizer::internal::find_token;
use authorizer::internal::Request;
use libfuzzer_sys::fuzz_target;
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    // First line: the Cookie header (as bytes); the rest: `cookies` entries.
    let mut parts = data.split(|b| *b == b'\n');
    let header = parts.next().unwrap_or_default();
    let cookies: Vec<String> = parts.map(|p| String::from_utf8_lossy(p).into_owned()).collect();
    let mut req = Request::from_value(&json!({
        "version": "2.0", "routeArn": "arn", "cookies": cookies,
        "requestContext": {"http": {"method": "GET"}}
    }));
    if let Ok(v) = HeaderValue::from_bytes(header) {
        req.headers.append("cookie", v);
    }
    let _ = find_token(&req, "__Host-session");
});
