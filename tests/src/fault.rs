//! A loopback TCP proxy that injects faults between a function and its upstream.

#[allow(unused_imports)]
use super::*;

/// What the fault proxy does with new connections.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Pass bytes both ways.
    Forward,
    /// Accept and close at once (connection reset / refused service).
    Reset,
    /// Wait this long before passing bytes.
    Delay(Duration),
    /// Read the request and answer this raw HTTP response.
    Respond {
        /// Status code.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// Body.
        body: String,
    },
}

/// Faults for the requests that contain a text, one request each, in order (see
/// [`FaultProxy::on_requests_containing`]).
#[derive(Debug, Clone)]
struct Rule {
    needle: String,
    faults: std::collections::VecDeque<Fault>,
}

#[derive(Debug, Default)]
struct ProxyState {
    fault: Option<Fault>,
    rules: Vec<Rule>,
    /// Whether whole requests are kept (see [`FaultProxy::record`]).
    record: bool,
    messages: Vec<String>,
    /// `X-Amz-Target` values (Secrets Manager operations) or request lines seen.
    requests: Vec<String>,
    conns: Vec<tokio::task::AbortHandle>,
}

/// A loopback TCP proxy that can delay, reset or answer in place of its upstream, and counts
/// the requests it saw. Changing the fault drops every open connection, so keep-alive
/// connections see the change too. It runs on a thread of its own.
#[derive(Debug)]
pub struct FaultProxy {
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    state: std::sync::Arc<std::sync::Mutex<ProxyState>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

fn scan_requests(buf: &[u8], out: &mut Vec<String>) {
    let text = String::from_utf8_lossy(buf);
    for line in text.split("\r\n") {
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("x-amz-target:") {
            out.push(v.trim().to_owned());
        } else if lower.starts_with("post /") || lower.starts_with("get /") {
            out.push(
                line.split_whitespace()
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
    }
}

/// Reads one HTTP/1.1 message (head, then a `content-length` or chunked body); `None` at the
/// end of the stream.
async fn read_message(stream: &mut tokio::net::TcpStream) -> Option<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    let chunked = head.contains("transfer-encoding: chunked");
    loop {
        let done = match length {
            Some(len) => buf.len() >= head_end + len,
            None if chunked => buf.ends_with(b"0\r\n\r\n"),
            None => true,
        };
        if done {
            return Some(buf);
        }
        let n = stream.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// A connection served request by request: each request that contains a rule's text takes
/// that rule's next fault; the others get the proxy's fault.
async fn serve_requests(
    mut client: tokio::net::TcpStream,
    upstream: u16,
    st: std::sync::Arc<std::sync::Mutex<ProxyState>>,
) {
    use tokio::io::AsyncWriteExt;
    while let Some(request) = read_message(&mut client).await {
        let fault = {
            let mut s = st.lock().unwrap();
            scan_requests(&request, &mut s.requests);
            if s.record {
                s.messages
                    .push(String::from_utf8_lossy(&request).into_owned());
            }
            let text = String::from_utf8_lossy(&request);
            let ruled = s
                .rules
                .iter_mut()
                .filter(|r| text.contains(r.needle.as_str()))
                .find_map(|r| r.faults.pop_front());
            ruled.unwrap_or_else(|| s.fault.clone().unwrap_or(Fault::Forward))
        };
        match fault {
            Fault::Reset => return,
            Fault::Respond {
                status,
                headers,
                body,
            } => {
                let _ = client
                    .write_all(&raw_response(status, &headers, &body))
                    .await;
                let _ = client.shutdown().await;
                return;
            }
            Fault::Forward | Fault::Delay(_) => {
                let Some(mut server) = connect_upstream(&fault, upstream).await else {
                    return;
                };
                if server.write_all(&request).await.is_err() {
                    return;
                }
                let Some(response) = read_message(&mut server).await else {
                    return;
                };
                if client.write_all(&response).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// The upstream connection for a request forwarded under `fault` (after its delay, if any).
async fn connect_upstream(fault: &Fault, upstream: u16) -> Option<tokio::net::TcpStream> {
    if let Fault::Delay(d) = fault {
        tokio::time::sleep(*d).await;
    }
    tokio::net::TcpStream::connect(("127.0.0.1", upstream))
        .await
        .ok()
}

fn raw_response(status: u16, headers: &[(String, String)], body: &str) -> Vec<u8> {
    let mut resp = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        resp.push_str(&format!("{k}: {v}\r\n"));
    }
    resp.push_str("\r\n");
    resp.push_str(body);
    resp.into_bytes()
}

async fn serve_connection(
    mut client: tokio::net::TcpStream,
    upstream: u16,
    st: std::sync::Arc<std::sync::Mutex<ProxyState>>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let per_request = {
        let s = st.lock().unwrap();
        !s.rules.is_empty() || s.record
    };
    if per_request {
        return serve_requests(client, upstream, st).await;
    }
    let fault = st.lock().unwrap().fault.clone().unwrap_or(Fault::Forward);
    match fault {
        Fault::Reset => drop(client),
        Fault::Respond {
            status,
            headers,
            body,
        } => {
            let mut buf = vec![0u8; 65536];
            let n = client.read(&mut buf).await.unwrap_or(0);
            scan_requests(&buf[..n], &mut st.lock().unwrap().requests);
            let _ = client
                .write_all(&raw_response(status, &headers, &body))
                .await;
            let _ = client.shutdown().await;
        }
        Fault::Forward | Fault::Delay(_) => {
            let Some(mut server) = connect_upstream(&fault, upstream).await else {
                return;
            };
            let (mut cr, mut cw) = client.split();
            let (mut sr, mut sw) = server.split();
            let up = async {
                let mut buf = vec![0u8; 65536];
                loop {
                    let n = match cr.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    scan_requests(&buf[..n], &mut st.lock().unwrap().requests);
                    if sw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
                let _ = sw.shutdown().await;
            };
            let down = async {
                let _ = tokio::io::copy(&mut sr, &mut cw).await;
                let _ = cw.shutdown().await;
            };
            tokio::join!(up, down);
        }
    }
}

impl FaultProxy {
    /// Starts a proxy to `127.0.0.1:upstream`.
    pub fn start(upstream: u16) -> FaultProxy {
        let state = std::sync::Arc::new(std::sync::Mutex::new(ProxyState {
            fault: Some(Fault::Forward),
            ..ProxyState::default()
        }));
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
        let st = state.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("proxy runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("proxy bind");
                let _ = port_tx.send(listener.local_addr().expect("addr").port());
                loop {
                    tokio::select! {
                        _ = &mut stop_rx => break,
                        accepted = listener.accept() => {
                            let Ok((client, _)) = accepted else { continue };
                            let task = tokio::spawn(serve_connection(client, upstream, st.clone()));
                            let mut s = st.lock().unwrap();
                            s.conns.retain(|h| !h.is_finished());
                            s.conns.push(task.abort_handle());
                        }
                    }
                }
            });
        });
        let port = port_rx.recv().expect("proxy port");
        FaultProxy {
            port,
            state,
            shutdown: Some(stop_tx),
        }
    }

    /// Sets the fault for new connections and drops the open ones.
    pub fn set(&self, fault: Fault) {
        let mut s = self.state.lock().unwrap();
        s.fault = Some(fault);
        for c in s.conns.drain(..) {
            c.abort();
        }
    }

    /// From now on, requests are served one by one, and each request whose text (head and
    /// body) contains `needle` takes the next of `faults` (the others, and those after the
    /// list is used up, get the proxy's fault). Drops the open connections.
    pub fn on_requests_containing(&self, needle: &str, faults: Vec<Fault>) {
        let mut s = self.state.lock().unwrap();
        s.rules.push(Rule {
            needle: needle.to_owned(),
            faults: faults.into(),
        });
        for c in s.conns.drain(..) {
            c.abort();
        }
    }

    /// From now on, requests are served one by one and each is kept whole (head and body), for
    /// [`FaultProxy::messages`]. Drops the open connections.
    pub fn record(&self) {
        let mut s = self.state.lock().unwrap();
        s.record = true;
        for c in s.conns.drain(..) {
            c.abort();
        }
    }

    /// The requests kept since [`FaultProxy::record`], whole.
    pub fn messages(&self) -> Vec<String> {
        self.state.lock().unwrap().messages.clone()
    }

    /// How many faults the rules still hold.
    pub fn faults_left(&self) -> usize {
        self.state
            .lock()
            .unwrap()
            .rules
            .iter()
            .map(|r| r.faults.len())
            .sum()
    }

    /// The requests seen so far (Secrets Manager operation names or HTTP request lines).
    pub fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().requests.clone()
    }

    /// `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.set(Fault::Reset);
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
