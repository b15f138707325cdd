//! A minimal Lambda Runtime API on loopback, for measuring a function binary on its own (cold
//! start, instructions per event): it hands out the same event a set number of times and
//! also answers the Lambda Invoke API, instantly, with a fixed payload (the authorizer's key
//! fetch).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
}

fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).ok()?;
    Some(Request { method, path, body })
}

fn respond(stream: &mut TcpStream, status: u16, headers: &[(&str, String)], body: &[u8]) {
    let mut out = format!("HTTP/1.1 {status} OK\r\ncontent-length: {}\r\n", body.len());
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let _ = stream.write_all(out.as_bytes());
    let _ = stream.write_all(body);
}

/// What the Runtime API saw.
#[derive(Debug)]
pub enum Seen {
    /// An event was handed out (`GET /next`).
    Next(Instant),
    /// A response was posted.
    Response(Instant),
    /// An error was posted, with its body.
    Error(String),
}

/// What happens to the `GET /next` after the last event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterLast {
    /// Held open for a minute: the process stays up (to be measured, then killed).
    Park,
    /// Refused (the connection is closed unanswered and the port closed): the runtime's loop
    /// fails and the process exits, as a measurement under valgrind needs.
    Close,
}

/// Starts the Runtime API; returns its port and what it sees. It hands out `event` `count`
/// times and answers every Invoke with `keys`. Connections are kept alive, as Lambda's own
/// Runtime API keeps them, so a client's connection set-up is not counted per event.
pub fn runtime_api(
    event: Vec<u8>,
    keys: Vec<u8>,
    count: usize,
    after: AfterLast,
) -> (u16, mpsc::Receiver<Seen>) {
    runtime_api_paced(vec![event], keys, count, after, Duration::ZERO)
}

/// [`runtime_api`] handing out `events` in turn (event `n` is `events[n % len]`), the next
/// no sooner than `gap` after the one before it was handed out.
pub fn runtime_api_paced(
    events: Vec<Vec<u8>>,
    keys: Vec<u8>,
    count: usize,
    after: AfterLast,
    gap: Duration,
) -> (u16, mpsc::Receiver<Seen>) {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    let last_handed: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the runtime API");
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let (tx, rx) = mpsc::channel();
    let handed = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            if done.load(Ordering::SeqCst) {
                continue; // refused: dropped unanswered
            }
            let (tx, events, keys) = (tx.clone(), events.clone(), keys.clone());
            let (handed, done) = (Arc::clone(&handed), Arc::clone(&done));
            let last_handed = Arc::clone(&last_handed);
            std::thread::spawn(move || {
                while let Some(req) = read_request(&mut stream) {
                    let mut now = Instant::now();
                    if req.path.ends_with("/invocation/next") {
                        if !gap.is_zero() {
                            let mut last = last_handed.lock().unwrap_or_else(|e| e.into_inner());
                            if let Some(wait) =
                                last.map(|t| (t + gap).saturating_duration_since(now))
                            {
                                std::thread::sleep(wait);
                            }
                            now = Instant::now();
                            *last = Some(now);
                        }
                        let n = handed.fetch_add(1, Ordering::SeqCst) + 1;
                        let event = events
                            .get((n - 1) % events.len().max(1))
                            .cloned()
                            .unwrap_or_default();
                        if n > count {
                            match after {
                                AfterLast::Park => {
                                    std::thread::sleep(Duration::from_secs(60));
                                }
                                AfterLast::Close => done.store(true, Ordering::SeqCst),
                            }
                            return;
                        }
                        let _ = tx.send(Seen::Next(now));
                        let deadline = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map(|d| d.as_millis())
                            .unwrap_or(0)
                            + 30_000;
                        respond(
                            &mut stream,
                            200,
                            &[
                                ("lambda-runtime-aws-request-id", format!("bench-{n}")),
                                ("lambda-runtime-deadline-ms", deadline.to_string()),
                                (
                                    "lambda-runtime-invoked-function-arn",
                                    "arn:aws:lambda:us-east-1:123456789012:function:bench".into(),
                                ),
                                ("content-type", "application/json".into()),
                            ],
                            &event,
                        );
                    } else if req.path.ends_with("/response") {
                        let _ = tx.send(Seen::Response(now));
                        respond(&mut stream, 202, &[], b"");
                    } else if req.path.contains("/error") {
                        let _ =
                            tx.send(Seen::Error(String::from_utf8_lossy(&req.body).into_owned()));
                        respond(&mut stream, 202, &[], b"");
                    } else if req.method == "POST" && req.path.contains("/functions/") {
                        respond(
                            &mut stream,
                            200,
                            &[("content-type", "application/json".into())],
                            &keys,
                        );
                    } else {
                        respond(&mut stream, 404, &[], b"");
                    }
                }
            });
        }
    });
    (port, rx)
}

/// Sets up `cmd` to run a function binary against the Runtime API on `port` (which also
/// answers its Invoke calls): only `env`, plus the two addresses.
pub fn point_at<'a>(cmd: &'a mut Command, env: &[(String, String)], port: u16) -> &'a mut Command {
    cmd.env_clear()
        .envs(env.iter().cloned())
        .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
        .env(
            "AWS_ENDPOINT_URL_LAMBDA",
            format!("http://127.0.0.1:{port}"),
        )
}

/// What a standalone run of the authorizer against [`runtime_api`] needs: an allowed REST
/// event with a fresh token, the key answer to serve, and the environment of a 128 MB
/// function (fake credentials, the test issuer and audience).
#[derive(Debug)]
pub struct Standalone {
    /// The allowed event.
    pub event: Vec<u8>,
    /// The key answer (`{"keys", "cache_ttl_seconds": 60}`).
    pub keys_answer: Vec<u8>,
    /// The public key set, as `jwt-session public` prints it.
    pub public: String,
    /// The private key set.
    pub keys: crate::KeyFile,
    /// The environment.
    pub env: Vec<(String, String)>,
}

impl Standalone {
    /// Generates a key set with `stack`'s tool and mints the token.
    pub fn new(stack: &crate::Stack) -> Standalone {
        let keys = stack.keygen("keys.json", &["EdDSA"]);
        let public = stack.cli(&["public", "--keys", &keys.path.to_string_lossy()]);
        let token = keys.mint(&[]).token;
        let event = serde_json::to_vec(&crate::events::rest(
            "GET",
            Some(&format!("{}={token}", crate::COOKIE)),
            &[],
        ))
        .expect("event");
        let mut answer: serde_json::Value = serde_json::from_str(&public).expect("public keys");
        answer["cache_ttl_seconds"] = serde_json::json!(60);
        let env = [
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_LAMBDA_FUNCTION_NAME", "bench"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "1"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
            ("JWT_ISSUER", crate::ISSUER),
            ("JWT_AUDIENCE", crate::AUDIENCE),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Standalone {
            event,
            keys_answer: serde_json::to_vec(&answer).expect("key answer"),
            public,
            keys,
            env,
        }
    }
}
