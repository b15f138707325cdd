//! The product on the real request path: headless Chromium drives the example page through
//! the local API Gateway (`gateway`), which invokes the authorizer, the example login and the
//! example backend through `cargo lambda watch`'s Invoke API; secrets-fn serves keys and signs
//! from moto's Secrets Manager.
//!
//! What a browser adds over hand-built events: the cookie's attributes as the browser stores
//! them, scripts that cannot see the token, and other sites that cannot use the cookie.
//! Screenshots are kept under `target/browser/`.

use std::collections::BTreeSet;
use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use e2e::webdriver::{Browser, Driver};
use e2e::{free_port, GatewayProc, Stack, AUDIENCE, COOKIE, ISSUER, REVOCATION_TABLE, SECRET_ID};
use serde_json::{json, Value};

const PASSWORD: &str = "correct horse battery staple";
const MALLORY_PASSWORD: &str = "mallory-own-password-42";
const SHORT: Duration = Duration::from_secs(20);
/// The authorizer's `REVOCATION_REFRESH_SECONDS` here.
const REVOCATION_REFRESH: &str = "1";

struct World {
    stack: Stack,
    gw: GatewayProc,
    driver: Driver,
    /// Every session token the browsers held, for the leak check.
    tokens: BTreeSet<String>,
    shots: PathBuf,
}

async fn world(name: &str, same_site: &str, lifetime: &str) -> World {
    world_of(name, same_site, lifetime, "EdDSA").await
}

/// A world whose signing key is of `alg`: `v4.public` makes it a PASETO world (the
/// authorizer then takes PASETO only).
async fn world_of(name: &str, same_site: &str, lifetime: &str, alg: &str) -> World {
    let mut stack = Stack::start();
    stack.create_revocation_table().await;
    let keys = stack.keygen("keys.json", &[alg]);
    let formats = if alg == "v4.public" { "paseto" } else { "jwt" };
    stack.create_secret(&keys.text()).await;
    let users = json!({
        "alice": {"password": stack.hash_password(PASSWORD), "scope": "orders:read orders:write"},
        "mallory": {"password": stack.hash_password(MALLORY_PASSWORD), "scope": "orders:read orders:write"},
    });
    let (http_port, rest_port) = (free_port(), free_port());
    let origins = format!("http://127.0.0.1:{http_port},http://127.0.0.1:{rest_port}");
    stack.start_function(
        "secrets-fn",
        "secrets-fn",
        &[
            ("SECRET_ID", SECRET_ID),
            ("SECRETS_FN_ACTIONS", "get_keys,sign"),
            ("SIGN_ISSUER", ISSUER),
            ("SIGN_AUDIENCE", AUDIENCE),
            ("SIGN_LIFETIME_SECONDS", lifetime),
            ("SESSION_MAX_SECONDS", "3600"),
            ("SESSION_SAME_SITE", same_site),
            ("REVOCATION_TABLE", REVOCATION_TABLE),
        ],
    );
    stack.start_function(
        "authorizer",
        "authorizer",
        &[
            ("JWT_ISSUER", ISSUER),
            ("JWT_AUDIENCE", AUDIENCE),
            ("KEYS_FUNCTION_NAME", "secrets-fn"),
            ("ALLOWED_ORIGINS", &origins),
            ("REVOCATION_TABLE", REVOCATION_TABLE),
            ("REVOCATION_REFRESH_SECONDS", REVOCATION_REFRESH),
            ("TOKEN_FORMATS", formats),
        ],
    );
    stack.start_login(&users, &[]);
    stack.start_function("orders-example", "orders-example", &[]);
    // The template's result cache (AuthorizerCacheTtl, 60 s) serves an answer's context for
    // its TTL, `renew` included: with tokens of a few seconds the page would never see
    // `renew: "true"`. Short-lived sessions run uncached (keep the TTL well under a third of
    // the token lifetime; see the README).
    let ttl = if lifetime.parse::<u64>().unwrap_or(0) < 180 {
        "0"
    } else {
        "60"
    };
    let parameters = format!("Stage=dev,AuthorizerCacheTtl={ttl}");
    let gw = stack.start_gateway(&[
        ("GATEWAY_HTTP_PORT", &http_port.to_string()),
        ("GATEWAY_REST_PORT", &rest_port.to_string()),
        ("GATEWAY_PARAMETERS", &parameters),
    ]);
    let driver = Driver::start(stack.dir.path());
    let shots = stack.paths.target.join("browser").join(name);
    World {
        stack,
        gw,
        driver,
        tokens: BTreeSet::new(),
        shots,
    }
}

impl World {
    fn shot(&self, b: &Browser, name: &str) {
        b.screenshot(&self.shots.join(format!("{name}.png")));
    }

    /// The session cookie in `b`'s store, remembered for the leak check.
    fn session_cookie(&mut self, b: &Browser) -> Option<Value> {
        let c = b.cookie(COOKIE)?;
        if let Some(v) = c["value"].as_str() {
            self.tokens.insert(v.to_owned());
        }
        Some(c)
    }

    /// Logs in through the page's form.
    fn login(&mut self, b: &Browser, user: &str, password: &str) {
        b.goto(&format!("{}/", self.gw.http_url));
        assert!(
            b.wait_for("!document.getElementById('login-view').hidden", SHORT),
            "the page shows the login form"
        );
        b.type_into("#username", user);
        b.type_into("#password", password);
        b.click("#login-button");
        assert!(
            b.wait_for("!document.getElementById('orders-view').hidden", SHORT),
            "logged in: {}",
            b.text("#status")
        );
        self.session_cookie(b)
            .expect("a session cookie after login");
    }

    /// Point 6 over the whole test: one audit record per authorizer invocation, and no token
    /// (nor its signature) nor cookie value in any output of the gateway, the functions, moto
    /// or the watch.
    async fn check_audit_and_leaks(&self) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let invoked = self.gw.authorizer_invocations();
        assert!(invoked > 0, "the authorizer ran");
        let audit = self.stack.wait_audit("authorizer", invoked).await;
        assert_eq!(
            audit.len(),
            invoked,
            "one audit record per authorizer invocation"
        );
        let out = self.stack.all_output();
        assert!(
            out.contains("\"target\":\"gateway\""),
            "the gateway's log is read"
        );
        assert!(!self.tokens.is_empty());
        for t in &self.tokens {
            let sig = t.rsplit('.').next().unwrap();
            assert!(
                !out.contains(t.as_str()),
                "a session token is in the output"
            );
            assert!(!out.contains(sig), "a token signature is in the output");
        }
    }
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_browser_session_lives_in_an_httponly_cookie_and_needs_the_csrf_header() {
    let mut w = world("session", "Strict", "900").await;
    let http = w.gw.http_url.clone();
    let rest = w.gw.rest_url.clone();
    let b = w.driver.browser("alice");

    b.goto(&format!("{http}/"));
    assert!(b.wait_for("!document.getElementById('login-view').hidden", SHORT));
    w.shot(&b, "1-login-form");
    w.login(&b, "alice", PASSWORD);
    w.shot(&b, "2-logged-in");

    // 1. The browser's own store: HttpOnly, Secure, SameSite=Strict, host-only, path /.
    let c = w.session_cookie(&b).unwrap();
    assert_eq!(c["httpOnly"], true, "{c}");
    assert_eq!(c["secure"], true, "{c}");
    assert_eq!(c["sameSite"], "Strict", "{c}");
    assert_eq!(
        c["domain"], "127.0.0.1",
        "host-only (no Domain attribute): {c}"
    );
    assert_eq!(c["path"], "/");
    let token = c["value"].as_str().unwrap().to_owned();
    assert_eq!(token.split('.').count(), 3, "a compact JWS");

    // The login answer's body: what the page needs, never the token; the cookie's expiry is
    // the token's.
    let r = b.fetch(
        &format!("{http}/login"),
        json!({"method": "POST", "credentials": "same-origin",
               "headers": {"Content-Type": "application/json"},
               "body": json!({"username": "alice", "password": PASSWORD}).to_string()}),
    );
    assert_eq!(r["status"], 200, "{r}");
    let body_text = r["body"].as_str().unwrap().to_owned();
    let body: Value = serde_json::from_str(&body_text).unwrap();
    let c2 = w.session_cookie(&b).unwrap();
    let token2 = c2["value"].as_str().unwrap().to_owned();
    assert_ne!(token, token2, "a new login is a new token");
    for t in [&token, &token2] {
        assert!(
            !body_text.contains(t.as_str()),
            "the login body holds no token"
        );
        assert!(!body_text.contains(t.rsplit('.').next().unwrap()));
    }
    assert!(
        body["csrf"].as_str().is_some_and(|c| c.len() >= 16),
        "{body}"
    );
    let expires_at = body["expires_at"].as_f64().unwrap();
    let expiry = c2["expiry"]
        .as_f64()
        .expect("a persistent cookie with an expiry");
    assert!(
        (expiry - expires_at).abs() <= 2.0,
        "cookie expiry {expiry} vs token exp {expires_at}"
    );
    assert!(
        (expires_at - now() - 900.0).abs() <= 5.0,
        "the configured lifetime: {expires_at} at {}",
        now()
    );
    b.exec(
        "sessionStorage.setItem('csrf', arguments[0]);",
        json!([body["csrf"]]),
    );

    // Scripts see neither the token nor the cookie.
    let dc = b.exec("return document.cookie;", json!([]));
    assert_eq!(dc, json!(""), "document.cookie is empty: {dc}");
    let storage = b
        .exec(
            "return JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)]);",
            json!([]),
        )
        .to_string();
    for t in &w.tokens {
        assert!(
            !storage.contains(t.as_str()),
            "the token is in the page's storage"
        );
    }
    assert!(!storage.contains(COOKIE));

    // 2. Orders with the cookie alone; creating one needs the CSRF header.
    b.goto(&format!("{http}/"));
    assert!(b.wait_for("!document.getElementById('orders-view').hidden", SHORT));
    assert!(b.text("#orders").contains("No orders yet."));
    b.type_into("#item", "green tea");
    b.click("#order-button");
    assert!(
        b.wait_for(
            "document.getElementById('orders').textContent.includes('green tea')",
            SHORT
        ),
        "{}",
        b.text("#status")
    );
    w.shot(&b, "3-order-created");
    let no_csrf = b.fetch(
        &format!("{http}/orders"),
        json!({"method": "POST", "credentials": "same-origin",
               "headers": {"Content-Type": "application/json"}, "body": "{\"item\":\"no csrf\"}"}),
    );
    // The CSRF header is an identity source of unsafe routes: API Gateway refuses the request
    // (401) without invoking the authorizer.
    assert_eq!(no_csrf["status"], 401, "{no_csrf}");
    assert_eq!(no_csrf["body"], "{\"message\":\"Unauthorized\"}");
    assert_eq!(b.order_items(&http), ["green tea"]);

    // The REST API flavour: the same cookie (host-only on 127.0.0.1, any port), the same rules.
    let csrf = b.exec("return sessionStorage.getItem('csrf');", json!([]));
    b.goto(&format!("{rest}/"));
    assert!(
        b.wait_for(
            "document.getElementById('orders').textContent.includes('green tea')",
            SHORT
        ),
        "the REST page lists the orders"
    );
    w.shot(&b, "4-rest-api-page");
    let post = |headers: Value, credentials: &str| {
        b.fetch(
            &format!("{rest}/orders"),
            json!({"method": "POST", "credentials": credentials, "headers": headers,
                   "body": "{\"item\":\"rest order\"}"}),
        )
    };
    let ok = post(
        json!({"Content-Type": "application/json", "X-CSRF-Token": csrf}),
        "same-origin",
    );
    assert_eq!(ok["status"], 201, "{ok}");
    let refused = post(json!({"Content-Type": "application/json"}), "same-origin");
    assert_eq!(
        refused["status"], 401,
        "{refused}: no CSRF header, no authorizer call"
    );
    let wrong = post(
        json!({"Content-Type": "application/json", "X-CSRF-Token": "not-the-claim"}),
        "same-origin",
    );
    assert_eq!(
        wrong["status"], 403,
        "{wrong}: the authorizer's explicit Deny"
    );
    let anonymous = post(
        json!({"Content-Type": "application/json", "X-CSRF-Token": csrf}),
        "omit",
    );
    assert_eq!(anonymous["status"], 401, "{anonymous}");
    assert_eq!(anonymous["body"], "{\"message\":\"Unauthorized\"}");
    assert_eq!(b.order_items(&rest), ["green tea", "rest order"]);
    let missing = b.fetch(&format!("{rest}/nowhere"), json!({}));
    assert_eq!(missing["status"], 403);
    assert_eq!(
        missing["body"],
        "{\"message\":\"Missing Authentication Token\"}"
    );

    // 5 (second half). Logout removes the cookie; the next request is refused.
    b.goto(&format!("{http}/"));
    assert!(b.wait_for("!document.getElementById('orders-view').hidden", SHORT));
    b.click("#logout-button");
    assert!(b.wait_for("!document.getElementById('login-view').hidden", SHORT));
    assert!(w.session_cookie(&b).is_none(), "logout removed the cookie");
    let after = b.fetch(
        &format!("{http}/orders"),
        json!({"credentials": "same-origin"}),
    );
    assert_eq!(after["status"], 401, "{after}");
    w.shot(&b, "5-logged-out");
    drop(b);
    w.check_audit_and_leaks().await;
}

/// A loopback web server for another site (127.0.0.2): answers `GET <path>` with its page.
fn other_site(pages: Vec<(&'static str, String)>) -> u16 {
    let listener = TcpListener::bind("127.0.0.2:0").expect("bind 127.0.0.2");
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(200) {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 8192];
            let n = s.read(&mut buf).unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]);
            let path = head.split_whitespace().nth(1).unwrap_or("/");
            let (status, body) = pages
                .iter()
                .find(|(p, _)| *p == path)
                .map_or(("404 Not Found", String::new()), |(_, b)| {
                    ("200 OK", b.clone())
                });
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

fn auto_submit(action: &str, name: &str, value: &str) -> String {
    format!(
        "<!doctype html><form id=f method=POST action=\"{action}\" enctype=\"text/plain\"><input name='{name}' value='{value}'></form><script>document.getElementById('f').submit()</script>"
    )
}

async fn other_sites_cannot_use_the_cookie(same_site: &str) {
    let mut w = world(&format!("cross-site-{same_site}"), same_site, "900").await;
    let http = w.gw.http_url.clone();
    let rest = w.gw.rest_url.clone();
    let fetches = format!(
        "<!doctype html><script>
        const tries = [
          ['{http}/orders', {{method: 'POST', credentials: 'include', headers: {{'Content-Type': 'text/plain'}}, body: '{{\"item\":\"evil-fetch\"}}'}}],
          ['{http}/orders', {{method: 'POST', credentials: 'include', mode: 'no-cors', body: '{{\"item\":\"evil-no-cors\"}}'}}],
          ['{http}/orders', {{method: 'POST', credentials: 'include', headers: {{'Content-Type': 'application/json', 'X-CSRF-Token': 'guess'}}, body: '{{\"item\":\"evil-preflight\"}}'}}],
          ['{rest}/orders', {{method: 'POST', credentials: 'include', headers: {{'Content-Type': 'text/plain'}}, body: '{{\"item\":\"evil-rest\"}}'}}],
        ];
        Promise.allSettled(tries.map(([u, i]) => fetch(u, i))).then(() => {{ document.title = 'done'; }});
        </script>"
    );
    let evil_port = other_site(vec![
        (
            "/form",
            auto_submit(
                &format!("{http}/orders"),
                "{\"item\":\"evil-form\",\"x\":\"",
                "\"}",
            ),
        ),
        (
            "/form-rest",
            auto_submit(
                &format!("{rest}/orders"),
                "{\"item\":\"evil-form-rest\",\"x\":\"",
                "\"}",
            ),
        ),
        ("/fetch", fetches),
        (
            "/login",
            auto_submit(
                &format!("{http}/login"),
                &format!("{{\"username\":\"mallory\",\"password\":\"{MALLORY_PASSWORD}\",\"x\":\""),
                "\"}",
            ),
        ),
    ]);
    let evil = format!("http://127.0.0.2:{evil_port}");

    // 4. Login CSRF against a browser that is not logged in: no session appears.
    let fresh = w.driver.browser("fresh");
    let login_posts = |w: &World| {
        w.gw.requests()
            .into_iter()
            .filter(|r| r["method"] == "POST" && r["path"] == "/login")
            .map(|r| r["status"].as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    fresh.goto(&format!("{evil}/login"));
    let deadline = Instant::now() + SHORT;
    while login_posts(&w).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        !login_posts(&w).is_empty() && login_posts(&w).iter().all(|s| *s == 403 || *s == 415),
        "the cross-site login reached the API and was refused: {:?}",
        login_posts(&w)
    );
    fresh.goto(&format!("{http}/"));
    assert!(fresh.wait_for("!document.getElementById('login-view').hidden", SHORT));
    assert!(
        w.session_cookie(&fresh).is_none(),
        "no session from a cross-site login"
    );
    drop(fresh);

    // The victim is logged in as alice.
    let b = w.driver.browser("victim");
    w.login(&b, "alice", PASSWORD);
    let alice_token = w.session_cookie(&b).unwrap()["value"].clone();
    let before = b.order_items(&http);
    let orders_posts = |w: &World| {
        w.gw.requests()
            .into_iter()
            .filter(|r| {
                r["method"] == "POST" && r["path"].as_str().is_some_and(|p| p.ends_with("/orders"))
            })
            .map(|r| r["status"].as_u64().unwrap())
            .collect::<Vec<_>>()
    };

    // 3. Form POSTs (HTTP and REST API) and fetches with credentials from another site.
    for page in ["/form", "/form-rest"] {
        let seen = orders_posts(&w).len();
        b.goto(&format!("{evil}{page}"));
        let deadline = Instant::now() + SHORT;
        while orders_posts(&w).len() == seen && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(
            orders_posts(&w).len() > seen,
            "the cross-site form reached the API ({page})"
        );
    }
    let seen = orders_posts(&w).len();
    b.goto(&format!("{evil}/fetch"));
    assert!(
        b.wait_for("document.title === 'done'", SHORT),
        "the fetches settled"
    );
    // The three simple requests are sent (and refused); the one needing a preflight is not:
    // its OPTIONS finds no route, so the POST never leaves the browser.
    let deadline = Instant::now() + SHORT;
    while orders_posts(&w).len() < seen + 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        orders_posts(&w).len(),
        seen + 3,
        "the simple cross-site fetches reached the API"
    );
    assert!(
        w.gw.requests().iter().any(|r| r["method"] == "OPTIONS"),
        "the preflight was asked"
    );
    w.shot(&b, "other-site-fetch");
    // Login CSRF against the logged-in victim: still alice.
    let seen = login_posts(&w).len();
    b.goto(&format!("{evil}/login"));
    let deadline = Instant::now() + SHORT;
    while login_posts(&w).len() == seen && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        login_posts(&w).len() > seen,
        "the second cross-site login reached the API"
    );
    b.goto(&format!("{http}/"));
    assert!(b.wait_for("!document.getElementById('orders-view').hidden", SHORT));
    assert_eq!(
        w.session_cookie(&b).unwrap()["value"],
        alice_token,
        "a cross-site login does not replace the session"
    );
    let statuses = orders_posts(&w);
    assert!(
        statuses.iter().all(|s| *s != 201),
        "no cross-site POST created anything: {statuses:?}"
    );
    let after = b.order_items(&http);
    assert_eq!(after, before, "no order was created from another site");
    assert!(!after.iter().any(|i| i.contains("evil")));
    w.shot(&b, "victim-orders-unchanged");
    drop(b);
    w.check_audit_and_leaks().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn another_site_cannot_use_a_samesite_strict_cookie_nor_log_the_browser_in() {
    other_sites_cannot_use_the_cookie("Strict").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn another_site_cannot_use_a_samesite_lax_cookie_nor_log_the_browser_in() {
    other_sites_cannot_use_the_cookie("Lax").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn renewal_keeps_a_short_session_alive_and_logout_ends_it() {
    let mut w = world("renewal", "Strict", "10").await;
    let http = w.gw.http_url.clone();
    let b = w.driver.browser("alice");
    w.login(&b, "alice", PASSWORD);
    let first = w.session_cookie(&b).unwrap()["value"]
        .as_str()
        .unwrap()
        .to_owned();
    // The cookie's Max-Age is the token's 10 s: without renewal the browser drops it.
    let mut seen = BTreeSet::from([first.clone()]);
    let until = Instant::now() + Duration::from_secs(24);
    while Instant::now() < until {
        if let Some(c) = w.session_cookie(&b) {
            seen.insert(c["value"].as_str().unwrap().to_owned());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(
        seen.len() >= 3,
        "renewed at least twice in 24 s: {} tokens",
        seen.len()
    );
    let c = w
        .session_cookie(&b)
        .expect("the session outlived three token lifetimes");
    assert_ne!(c["value"].as_str().unwrap(), first);
    assert_eq!(
        b.order_items(&http),
        Vec::<String>::new(),
        "still logged in"
    );
    let logins = w
        .stack
        .lines("login-example")
        .iter()
        .filter(|l| l.contains("\"event\":\"login\""))
        .count();
    assert_eq!(logins, 1, "no new login was needed");
    w.shot(&b, "renewed");
    b.click("#logout-button");
    assert!(b.wait_for("!document.getElementById('login-view').hidden", SHORT));
    assert!(w.session_cookie(&b).is_none());
    let after = b.fetch(
        &format!("{http}/orders"),
        json!({"credentials": "same-origin"}),
    );
    assert_eq!(after["status"], 401);
    drop(b);
    w.check_audit_and_leaks().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn logging_out_in_one_browser_ends_the_same_cookie_copied_into_another() {
    // Sessions of 120 s run without the gateway's result cache (see `world`): a cached allow
    // would outlive the revocation by the cache's TTL, which the README states.
    let mut w = world("logout-copied", "Strict", "120").await;
    let http = w.gw.http_url.clone();
    let b = w.driver.browser("alice");
    w.login(&b, "alice", PASSWORD);
    let cookie = w.session_cookie(&b).unwrap();
    // A second browser context (another profile: its own cookie store) gets a copy.
    let thief = w.driver.browser("thief");
    thief.goto(&format!("{http}/"));
    assert!(thief.cookie(COOKIE).is_none());
    thief.add_cookie(json!({
        "name": COOKIE,
        "value": cookie["value"],
        "path": "/",
        "secure": true,
        "httpOnly": true,
        "sameSite": "Strict",
    }));
    assert_eq!(
        thief.order_items(&http),
        Vec::<String>::new(),
        "the copy works"
    );
    // Alice logs out in her browser.
    b.click("#logout-button");
    assert!(b.wait_for("!document.getElementById('login-view').hidden", SHORT));
    let logged_out = Instant::now();
    assert!(w.session_cookie(&b).is_none());
    let bound =
        Duration::from_secs(REVOCATION_REFRESH.parse().unwrap()) + Duration::from_millis(600);
    std::thread::sleep(bound.saturating_sub(logged_out.elapsed()));
    // The copy, still in the second context's store, no longer works.
    assert!(thief.cookie(COOKIE).is_some());
    let after = thief.fetch(
        &format!("{http}/orders"),
        json!({"credentials": "same-origin"}),
    );
    // HTTP API simple answers: `isAuthorized: false` is a 403 (a missing cookie is a 401).
    assert_eq!(after["status"], 403, "{after}");
    w.shot(&thief, "copy-refused");
    let revoked = w
        .stack
        .audit("authorizer")
        .iter()
        .filter(|r| r["reason"] == "revoked")
        .count();
    assert!(revoked >= 1, "the refusal is audited as revoked");
    drop(b);
    drop(thief);
    w.check_audit_and_leaks().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paseto_session_lives_in_the_same_cookie_and_passes_the_same_checks() {
    let mut w = world_of("paseto", "Strict", "900", "v4.public").await;
    let http = w.gw.http_url.clone();
    let b = w.driver.browser("alice");
    w.login(&b, "alice", PASSWORD);
    let cookie = w.session_cookie(&b).unwrap();
    let value = cookie["value"].as_str().unwrap();
    assert!(value.starts_with("v4.public."), "a PASETO session");
    assert_eq!(cookie["httpOnly"], true);
    assert_eq!(cookie["secure"], true);
    assert_eq!(cookie["sameSite"], "Strict");
    // Scripts cannot read it; the page's requests carry it.
    let seen = b.exec("return document.cookie", json!([]));
    assert!(!seen.as_str().unwrap_or_default().contains("v4.public."));
    assert_eq!(b.order_items(&http), Vec::<String>::new());
    // An unsafe request needs the CSRF header, as with a JWT.
    let no_csrf = b.fetch(
        &format!("{http}/orders"),
        json!({"method": "POST", "credentials": "same-origin",
               "headers": {"content-type": "application/json"},
               "body": "{\"item\":\"tea\"}"}),
    );
    assert_eq!(no_csrf["status"], 401, "{no_csrf}");
    let csrf = b.exec("return sessionStorage.getItem('csrf')", json!([]));
    let ordered = b.fetch(
        &format!("{http}/orders"),
        json!({"method": "POST", "credentials": "same-origin",
               "headers": {"content-type": "application/json", "X-CSRF-Token": csrf},
               "body": "{\"item\":\"tea\"}"}),
    );
    assert_eq!(ordered["status"], 201, "{ordered}");
    assert_eq!(b.order_items(&http), vec!["tea".to_owned()]);
    let audit = w.stack.audit("authorizer");
    assert!(audit.iter().any(
        |r| r["reason"] == "ok" && r["kid"].as_str().is_some_and(|k| k.starts_with("k4.pid."))
    ));
    w.shot(&b, "paseto");
    b.click("#logout-button");
    assert!(b.wait_for("!document.getElementById('login-view').hidden", SHORT));
    drop(b);
    w.check_audit_and_leaks().await;
}
