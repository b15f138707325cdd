//! `make watch` as a person runs it: the README's command itself (not the harness's copy of
//! its stack), then a real browser (headless Chromium) on the addresses it prints.
//!
//! With its defaults (revocation on, the template's result cache): log in through the page
//! and as JSON, list and create orders on both APIs, copy the cookie into a second browser,
//! log out, and the copy is refused within the revocation bound (`REVOCATION_REFRESH_SECONDS`
//! plus the template's `AuthorizerCacheTtl`, 5 + 60 s, plus one request). With
//! `REVOCATION_TABLE=` (revocation off), logout still answers 200, with `"revoked": false`.

use std::process::Command;
use std::time::{Duration, Instant};

use e2e::webdriver::{Browser, Driver};
use e2e::{free_port, Paths, Service, COOKIE};
use serde_json::{json, Value};

const SHORT: Duration = Duration::from_secs(30);

/// One `make watch` at a time: it owns the repository's `.run/` folder.
use super::RUN_DIR as ONE_AT_A_TIME;

/// `make watch`, running until dropped (its process group is stopped).
struct Watch {
    _make: Service,
    http: String,
    rest: String,
    user: String,
    password: String,
}

impl Watch {
    /// Runs `make -s watch` in the repository with `env` added, as a person would in a
    /// terminal, and waits for the addresses it prints.
    fn start(dir: &std::path::Path, name: &str, env: &[(&str, &str)]) -> Watch {
        let paths = Paths::discover();
        let password = format!("pw-{}", free_port());
        let mut cmd = Command::new("make");
        cmd.args(["-s", "watch"])
            .current_dir(&paths.root)
            .env("GATEWAY_HTTP_PORT", free_port().to_string())
            .env("GATEWAY_REST_PORT", free_port().to_string())
            .env("DEMO_USER", "alice")
            .env("DEMO_PASSWORD", &password)
            .envs(env.iter().copied());
        let log = dir.join(format!("make-watch-{name}.out"));
        let make = Service::spawn("make watch", cmd, log);
        // The first run builds the functions.
        let deadline = Instant::now() + Duration::from_secs(900);
        let printed = loop {
            let out = make.output();
            if out.lines().any(|l| l.starts_with("demo-user:")) {
                break out;
            }
            assert!(
                Instant::now() < deadline,
                "make watch did not start:\n{out}"
            );
            std::thread::sleep(Duration::from_millis(250));
        };
        let line = |prefix: &str| {
            printed
                .lines()
                .find_map(|l| l.strip_prefix(prefix))
                .map(|v| v.trim().to_owned())
                .unwrap_or_else(|| panic!("no `{prefix}` line:\n{printed}"))
        };
        let demo = line("demo-user:");
        let (user, shown) = demo.split_once(' ').unwrap();
        assert_eq!(
            shown, password,
            "the demo user's password is the one asked for"
        );
        Watch {
            http: line("http-api:"),
            rest: line("rest-api:"),
            user: user.to_owned(),
            password,
            _make: make,
        }
    }
}

fn fetch_json(
    b: &Browser,
    url: &str,
    method: &str,
    headers: Value,
    body: Option<Value>,
) -> (u64, Value) {
    let mut init = json!({"method": method, "credentials": "same-origin", "headers": headers});
    if let Some(body) = body {
        init["body"] = json!(body.to_string());
    }
    let r = b.fetch(url, init);
    let status = r["status"].as_u64().unwrap_or(0);
    let body = serde_json::from_str(r["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null);
    (status, body)
}

/// `POST /login` as JSON from the page's origin: the answer's body.
fn json_login(b: &Browser, watch: &Watch) -> Value {
    let (status, login) = fetch_json(
        b,
        &format!("{}/login", watch.http),
        "POST",
        json!({"Content-Type": "application/json"}),
        Some(json!({"username": watch.user, "password": watch.password})),
    );
    assert_eq!(status, 200, "{login}");
    login
}

/// `POST /logout` from the page's origin: the answer's body.
fn logout(b: &Browser, watch: &Watch) -> Value {
    let (status, out) = fetch_json(
        b,
        &format!("{}/logout", watch.http),
        "POST",
        json!({"Content-Type": "application/json"}),
        None,
    );
    assert_eq!(status, 200, "{out}");
    out
}

#[test]
fn make_watch_serves_a_browser_session_on_both_apis_and_logout_ends_a_copied_cookie() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let watch = Watch::start(dir.path(), "revocation-on", &[]);
    let driver = Driver::start(dir.path());
    let b = driver.browser("alice");

    // Log in through the page.
    b.goto(&format!("{}/", watch.http));
    assert!(
        b.wait_for("!document.getElementById('login-view').hidden", SHORT),
        "the page shows the login form"
    );
    b.type_into("#username", &watch.user);
    b.type_into("#password", &watch.password);
    b.click("#login-button");
    assert!(
        b.wait_for("!document.getElementById('orders-view').hidden", SHORT),
        "logged in through the page: {}",
        b.text("#status")
    );
    let cookie = b.cookie(COOKIE).expect("a session cookie");
    assert_eq!(cookie["httpOnly"], true);
    assert_eq!(cookie["secure"], true);
    assert_eq!(cookie["sameSite"], "Strict");

    // And as JSON, as an API client of the page's origin does.
    let login = json_login(&b, &watch);
    let csrf = login["csrf"].as_str().unwrap().to_owned();
    assert!(login.get("token").is_none(), "the token only in the cookie");
    // The JSON login's session replaced the page's.
    let cookie = b.cookie(COOKIE).expect("a session cookie");

    // Orders on the HTTP API.
    assert_eq!(b.order_items(&watch.http), Vec::<String>::new());
    let post = |base: &str, item: &str| {
        fetch_json(
            &b,
            &format!("{base}/orders"),
            "POST",
            json!({"Content-Type": "application/json", "X-CSRF-Token": csrf}),
            Some(json!({"item": item})),
        )
    };
    let (status, created) = post(&watch.http, "green tea");
    assert_eq!(status, 201, "{created}");
    assert_eq!(b.order_items(&watch.http), ["green tea"]);

    // The same cookie on the REST API (host-only on 127.0.0.1, any port).
    b.goto(&format!("{}/", watch.rest));
    let (status, created) = post(&watch.rest, "rest tea");
    assert_eq!(status, 201, "{created}");
    assert_eq!(b.order_items(&watch.rest), ["green tea", "rest tea"]);

    // A copy of the cookie in a second browser works on both APIs.
    let thief = driver.browser("thief");
    thief.goto(&format!("{}/", watch.http));
    thief.add_cookie(json!({
        "name": COOKIE, "value": cookie["value"], "path": "/",
        "secure": true, "httpOnly": true, "sameSite": "Strict",
    }));
    assert_eq!(thief.order_items(&watch.http).len(), 2, "the copy works");
    thief.goto(&format!("{}/", watch.rest));
    assert_eq!(thief.order_items(&watch.rest).len(), 2);

    // Logout in alice's browser revokes the session.
    b.goto(&format!("{}/", watch.http));
    let out = logout(&b, &watch);
    assert_eq!(out["revoked"], true, "{out}");
    let logged_out = Instant::now();
    assert!(b.cookie(COOKIE).is_none(), "logout removed the cookie");

    // The copy is refused on both APIs within the bound: the revocation is read within
    // REVOCATION_REFRESH_SECONDS (5), and an allow the gateway cached before the logout
    // lives out AuthorizerCacheTtl (60).
    let bound = Duration::from_secs(5 + 60 + 5);
    let mut refused = [None, None];
    while logged_out.elapsed() < bound && refused.iter().any(Option::is_none) {
        for (i, base) in [&watch.http, &watch.rest].into_iter().enumerate() {
            if refused[i].is_none() {
                thief.goto(&format!("{base}/"));
                let (status, _) =
                    fetch_json(&thief, &format!("{base}/orders"), "GET", json!({}), None);
                if status != 200 {
                    // HTTP API simple answers: 403; REST API: 401 (a token refusal).
                    assert!(status == 403 || status == 401, "{status}");
                    refused[i] = Some(logged_out.elapsed());
                }
            }
        }
        std::thread::sleep(Duration::from_secs(2));
    }
    println!("the copied cookie refused after {refused:?} (http-api, rest-api)");
    assert!(
        refused.iter().all(Option::is_some),
        "the copy still works {bound:?} after logout: {refused:?}"
    );
}

#[test]
fn make_watch_without_revocation_logs_out_with_200_and_says_nothing_was_revoked() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let watch = Watch::start(dir.path(), "revocation-off", &[("REVOCATION_TABLE", "")]);
    let driver = Driver::start(dir.path());
    let b = driver.browser("alice");
    b.goto(&format!("{}/", watch.http));
    json_login(&b, &watch);
    assert_eq!(b.order_items(&watch.http), Vec::<String>::new());
    let out = logout(&b, &watch);
    assert_eq!(out, json!({"logged_out": true, "revoked": false}));
    assert!(b.cookie(COOKIE).is_none());
}
