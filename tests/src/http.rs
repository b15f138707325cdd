//! Plain HTTP/1.1 exchanges with loopback servers (the gateway, chromedriver).

#[allow(unused_imports)]
use super::*;

/// One HTTP/1.1 exchange with a loopback server (`url` is `http://127.0.0.1:<port>/<path>`):
/// the status and the body. The response is read by its `Content-Length` (servers may keep the
/// connection open), or to the end; a chunked body is decoded. Panics on a failed exchange.
pub fn http_call(
    url: &str,
    method: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> (u16, Vec<u8>) {
    try_http_call(url, method, headers, body, timeout)
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

/// [`http_call`], with failures as errors (for `Drop`, where a panic would abort).
pub fn try_http_call(
    url: &str,
    method: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> Result<(u16, Vec<u8>), String> {
    exchange(url, method, headers, body, timeout).map(|(status, _, payload)| (status, payload))
}

/// An answer: its status, its headers (names in lower case, values as sent) and its body.
pub type Answer = (u16, Vec<(String, String)>, Vec<u8>);

/// [`http_call`] with the answer's headers too (names in lower case, values as sent), for
/// redirects and cookies.
pub fn http_call_with_headers(
    url: &str,
    method: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> Answer {
    exchange(url, method, headers, body, timeout).unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

fn exchange(
    url: &str,
    method: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> Result<Answer, String> {
    use std::io::{Read as _, Write as _};
    let rest = url.strip_prefix("http://").ok_or("not an http:// URL")?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut s = TcpStream::connect(authority).map_err(|e| format!("connect {authority}: {e}"))?;
    s.set_read_timeout(Some(timeout)).ok();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    s.write_all(body).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    let head_end = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the connection closed before an answer".into());
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let sent_head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let answer_headers: Vec<(String, String)> = sent_head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let head = sent_head.to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    match length {
        Some(len) => {
            while raw.len() < head_end + len {
                let n = s.read(&mut buf).map_err(|e| e.to_string())?;
                if n == 0 {
                    return Err("the connection closed early".into());
                }
                raw.extend_from_slice(&buf[..n]);
            }
        }
        None => {
            let _ = s.read_to_end(&mut raw);
        }
    }
    let mut payload = raw.split_off(head_end);
    if length.is_none() && head.contains("transfer-encoding: chunked") {
        payload = dechunk(&payload);
    }
    Ok((status, answer_headers, payload))
}

fn dechunk(mut s: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = s.windows(2).position(|w| w == b"\r\n") {
        let size = String::from_utf8_lossy(&s[..i]);
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        let rest = &s[i + 2..];
        out.extend_from_slice(rest.get(..n).unwrap_or(rest));
        s = rest.get(n + 2..).unwrap_or(&[]);
    }
    out
}
