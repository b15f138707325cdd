//! A small W3C WebDriver client for the browser suite, driving Debian's headless Chromium
//! through `chromedriver` on loopback.
//!
//! WebDriver rather than the DevTools protocol: it is a W3C standard whose cookie commands
//! return the browser's own cookie store, `HttpOnly` cookies included, with their `secure`,
//! `httpOnly`, `sameSite`, `domain` and `expiry`; its clicks and key presses go through the
//! browser's input pipeline as a person's do; and `chromedriver` ships in the same Debian
//! release as `chromium`, so the two always match. The client is a few plain HTTP/1.1 calls
//! (one connection per command), so the suite needs no crate beyond the harness's.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

use crate::{free_port, Service};

/// Debian's Chromium.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's ChromeDriver.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A running `chromedriver`.
#[derive(Debug)]
pub struct Driver {
    /// Its port.
    pub port: u16,
    _service: Service,
    dir: PathBuf,
}

impl Driver {
    /// Starts `chromedriver` on a free loopback port; its output goes to `dir/chromedriver.out`
    /// (not a `.log`: the harness's own commands, cookie values among them, pass through it,
    /// and the leak checks read the product's `.log` files only).
    pub fn start(dir: &Path) -> Driver {
        assert!(
            Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists(),
            "{CHROMIUM} and {CHROMEDRIVER} are needed: `make test` installs Debian's chromium and chromium-driver"
        );
        let port = free_port();
        let mut cmd = Command::new(CHROMEDRIVER);
        cmd.arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1");
        let service = Service::spawn("chromedriver", cmd, dir.join("chromedriver.out"));
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not start:\n{}",
                service.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver {
            port,
            _service: service,
            dir: dir.to_path_buf(),
        }
    }

    /// A new browser (its own profile: a separate cookie jar and storage).
    pub fn browser(&self, name: &str) -> Browser {
        let profile = self.dir.join(format!("profile-{name}"));
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                    "--window-size=900,700",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        }}});
        let v = http(self.port, "POST", "/session", Some(&caps));
        let session = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {v}"))
            .to_owned();
        Browser {
            port: self.port,
            session,
        }
    }
}

fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> Value {
    let body = body.map(Value::to_string).unwrap_or_default();
    let (_, payload) = crate::http_call(
        &format!("http://127.0.0.1:{port}{path}"),
        method,
        &[("content-type", "application/json; charset=utf-8")],
        body.as_bytes(),
        Duration::from_secs(90),
    );
    serde_json::from_slice(&payload)
        .unwrap_or_else(|_| json!({"raw": String::from_utf8_lossy(&payload)}))
}

/// One browser session.
#[derive(Debug)]
pub struct Browser {
    port: u16,
    session: String,
}

impl Browser {
    fn try_call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let v = http(
            self.port,
            method,
            &format!("/session/{}{path}", self.session),
            body.as_ref(),
        );
        match v["value"]["error"].as_str() {
            Some(err) => Err(format!(
                "WebDriver {method} {path}: {err}: {}",
                v["value"]["message"]
            )),
            None => Ok(v["value"].clone()),
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.try_call(method, path, body)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Opens `url` and waits for it to load.
    pub fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(json!({"url": url})));
    }

    /// Runs `script` (a function body; `arguments` are `args`) and returns its value.
    pub fn exec(&self, script: &str, args: Value) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// Runs an async `script` that calls `arguments[arguments.length - 1]` with its result.
    pub fn exec_async(&self, script: &str, args: Value) -> Value {
        self.call(
            "POST",
            "/execute/async",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// `fetch(url, init)` from the page; `{status, body}` or `{error}`.
    pub fn fetch(&self, url: &str, init: Value) -> Value {
        self.exec_async(
            "const done = arguments[arguments.length - 1];
             fetch(arguments[0], arguments[1])
               .then(async r => done({status: r.status, body: await r.text()}))
               .catch(e => done({error: String(e)}));",
            json!([url, init]),
        )
    }

    /// The items of the caller's orders (the example backend's `GET <base>/orders`), read by
    /// the page's origin with its cookie; panics unless it answers 200.
    pub fn order_items(&self, base: &str) -> Vec<String> {
        let r = self.fetch(
            &format!("{base}/orders"),
            json!({"credentials": "same-origin"}),
        );
        assert_eq!(r["status"], 200, "{r}");
        let body: Value =
            serde_json::from_str(r["body"].as_str().unwrap_or("null")).unwrap_or_default();
        body["orders"]
            .as_array()
            .map(|orders| {
                orders
                    .iter()
                    .filter_map(|o| o["item"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Polls `condition` (a JavaScript expression) until it is true; false after `timeout`.
    pub fn wait_for(&self, condition: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            // A page that is navigating answers with an error: not yet.
            let script = json!({"script": format!("return !!({condition});"), "args": []});
            if self.try_call("POST", "/execute/sync", Some(script)) == Ok(json!(true)) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The browser's cookie store for the current page (`HttpOnly` cookies included).
    pub fn cookies(&self) -> Vec<Value> {
        self.call("GET", "/cookie", None)
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The cookie `name` of the current page's store.
    pub fn cookie(&self, name: &str) -> Option<Value> {
        self.cookies().into_iter().find(|c| c["name"] == name)
    }

    /// Adds a cookie to the current page's store.
    pub fn add_cookie(&self, cookie: Value) {
        self.call("POST", "/cookie", Some(json!({"cookie": cookie})));
    }

    fn element(&self, css: &str) -> String {
        let v = self.call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_owned()
    }

    /// Clicks the element `css`.
    pub fn click(&self, css: &str) {
        let id = self.element(css);
        self.call("POST", &format!("/element/{id}/click"), Some(json!({})));
    }

    /// Types `text` into the element `css`.
    pub fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.call("POST", &format!("/element/{id}/clear"), Some(json!({})));
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({"text": text})),
        );
    }

    /// The visible text of the element `css`.
    pub fn text(&self, css: &str) -> String {
        let id = self.element(css);
        self.call("GET", &format!("/element/{id}/text"), None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Saves a PNG screenshot of the page to `path`.
    pub fn screenshot(&self, path: &Path) {
        let b64 = self.call("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap_or_default())
            .expect("screenshot is base64");
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("screenshot folder");
        }
        std::fs::write(path, png).expect("write screenshot");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Never panics: a panic here during a failing test's unwinding would abort the
        // process before the harness stops what it started.
        let _ = crate::try_http_call(
            &format!("http://127.0.0.1:{}/session/{}", self.port, self.session),
            "DELETE",
            &[],
            b"",
            Duration::from_secs(10),
        );
    }
}
