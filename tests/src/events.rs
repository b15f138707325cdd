//! Sample events, built from the templates in `events/` (see `events/README.md`).

#[allow(unused_imports)]
use super::*;

fn template(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("template is JSON")
}

fn request_id(prefix: &str) -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{prefix}-{}-{n}", std::process::id())
}

/// A REST API REQUEST authorizer event (payload 1.0). `cookie` is the whole `Cookie`
/// header, or none.
pub fn rest(method: &str, cookie: Option<&str>, extra_headers: &[(&str, &str)]) -> Value {
    let mut ev = template("rest-request.json");
    let arn = ev["methodArn"]
        .as_str()
        .unwrap_or_default()
        .replace("/GET/", &format!("/{method}/"));
    ev["methodArn"] = json!(arn);
    ev["httpMethod"] = json!(method);
    ev["requestContext"]["httpMethod"] = json!(method);
    ev["requestContext"]["requestId"] = json!(request_id("rest"));
    let headers = ev["headers"].as_object_mut().expect("headers");
    headers.remove("Cookie");
    if let Some(c) = cookie {
        headers.insert("Cookie".into(), json!(c));
    }
    for (k, v) in extra_headers {
        headers.insert((*k).into(), json!(v));
    }
    let multi: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| (k.clone(), json!([v])))
        .collect();
    ev["multiValueHeaders"] = Value::Object(multi);
    ev
}

/// An HTTP API request (payload 2.0) to the example login function: `POST path` with a
/// JSON body, `cookies`, and the authorizer context API Gateway would add.
pub fn login(path: &str, body: Option<Value>, cookies: &[&str], context: Option<&Value>) -> Value {
    let mut ev = http("POST", cookies, &[("content-type", "application/json")]);
    if let Some(m) = ev.as_object_mut() {
        for k in ["routeArn", "type", "identitySource"] {
            m.remove(k);
        }
    }
    ev["rawPath"] = json!(path);
    ev["routeKey"] = json!(format!("POST {path}"));
    ev["requestContext"]["http"]["path"] = json!(path);
    ev["isBase64Encoded"] = json!(false);
    if let Some(b) = body {
        ev["body"] = json!(b.to_string());
    }
    if let Some(c) = context {
        ev["requestContext"]["authorizer"] = json!({ "lambda": c });
    }
    ev
}

/// An HTTP API authorizer event, payload 2.0, with these `cookies` entries.
pub fn http(method: &str, cookies: &[&str], extra_headers: &[(&str, &str)]) -> Value {
    let mut ev = template("http-request.json");
    let arn = ev["routeArn"]
        .as_str()
        .unwrap_or_default()
        .replace("/GET/", &format!("/{method}/"));
    ev["routeArn"] = json!(arn);
    ev["routeKey"] = json!(format!("{method} /orders"));
    ev["requestContext"]["routeKey"] = json!(format!("{method} /orders"));
    ev["requestContext"]["http"]["method"] = json!(method);
    ev["requestContext"]["requestId"] = json!(request_id("http"));
    ev["cookies"] = json!(cookies);
    let headers = ev["headers"].as_object_mut().expect("headers");
    for (k, v) in extra_headers {
        headers.insert(k.to_ascii_lowercase(), json!(v));
    }
    ev
}
