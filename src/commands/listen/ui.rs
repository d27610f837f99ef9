//! `listen --ui`: a local page that shows the callbacks `listen` judged, and their tasks, live.
//!
//! The page is served on an address of its own (by default `127.0.0.1:4040`), never on the
//! callback port, which is often exposed through a tunnel. It is plain HTML, CSS and JavaScript
//! built into the binary; the browser loads nothing from anywhere else. What it shows comes from
//! a ring of recent callbacks (10,000 at most, and 64 MiB), which `--save`'s tail fills at start,
//! and new ones arrive by Server-Sent Events.
//!
//! Everything a callback carries is untrusted: the page puts it in the document as text, never
//! as markup, and a Content-Security-Policy forbids any script but the page's own. Every request
//! must carry the run's random token (in the URL printed at start) and a `Host` that names this
//! address (a DNS name pointing elsewhere, as in DNS rebinding, is refused); a replay must also
//! come from the page's own origin.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::io::{self, Read as _, Seek as _, SeekFrom};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::body::{Frame, Incoming};
use hyper::header::HeaderValue;
use hyper::{HeaderMap, Method, Request, Response, StatusCode, Uri, header};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use subtle::ConstantTimeEq as _;
use tokio::sync::{broadcast, mpsc};

use crate::judge::Policy;
use crate::judge::body::{Body, judge_body};
use crate::judge::report::{Report, Severity};
use crate::read::capture;
use crate::read::framing::{Item, JsonFramer};
use crate::render::human::HumanPrinter;
use crate::render::json::JsonPrinter;
use crate::render::{Printer, View};
use crate::timefmt;

/// Callbacks the ring keeps at most, and bytes.
pub const RING_ENTRIES: usize = 10_000;
pub const RING_BYTES: usize = 64 * 1024 * 1024;
/// The most of an application's answer to a replay that is read and shown.
const ANSWER_SHOWN: usize = 2048;
/// How long an application has to answer a replay.
const REPLAY_TIMEOUT: Duration = Duration::from_secs(10);

const INDEX_HTML: &str = include_str!("../../../assets/inspector/index.html");
const APP_JS: &str = include_str!("../../../assets/inspector/app.js");
const APP_CSS: &str = include_str!("../../../assets/inspector/app.css");

/// A request as the page shows it.
pub struct Seen<'a> {
    /// `#12` for a request received in this run, `line 40` for one from the save file.
    pub label: String,
    pub received: jiff::Timestamp,
    pub peer: &'a str,
    pub target: &'a str,
    pub content_type: Option<&'a [u8]>,
    pub content_encoding: Option<&'a [u8]>,
    pub body: &'a [u8],
    pub saved: bool,
}

/// One request in the ring: what the list shows, and the request as it came, judged again when
/// it is opened (judging is deterministic for a given clock, so the page shows what `listen` saw).
struct Entry {
    id: u64,
    /// What the list shows, as a JSON object.
    summary: Arc<str>,
    label: String,
    received: jiff::Timestamp,
    peer: String,
    target: String,
    content_type: Option<Vec<u8>>,
    content_encoding: Option<Vec<u8>>,
    body: Bytes,
}

impl Entry {
    fn size(&self) -> usize {
        self.summary.len() + self.label.len() + self.peer.len() + self.target.len() + self.body.len() + 128
    }
}

#[derive(Default)]
struct Ring {
    entries: VecDeque<Entry>,
    bytes: usize,
    next_id: u64,
}

/// The page's state and server.
pub struct Inspector {
    ring: Mutex<Ring>,
    events: broadcast::Sender<Arc<str>>,
    token: String,
    address: SocketAddr,
    forward: Option<Uri>,
    client: Client<HttpConnector, Full<Bytes>>,
    view: View,
    /// Keys, strictness and expiry, for judging an opened callback again.
    policy: Policy,
}

impl Inspector {
    /// An inspector for a page served at `address`; replays go to `forward` unless the page
    /// names another URL.
    pub fn new(
        address: SocketAddr,
        forward: Option<Uri>,
        view: View,
        policy: Policy,
    ) -> io::Result<Arc<Inspector>> {
        let mut secret = [0u8; 16];
        getrandom::fill(&mut secret).map_err(|e| io::Error::other(e.to_string()))?;
        let (events, _) = broadcast::channel(1024);
        Ok(Arc::new(Inspector {
            ring: Mutex::new(Ring::default()),
            events,
            token: hex::encode(secret),
            address,
            forward,
            client: Client::builder(TokioExecutor::new()).build_http(),
            view,
            policy,
        }))
    }

    /// The page's URL, with the token.
    pub fn url(&self) -> String {
        format!("http://{}/?token={}", self.address, self.token)
    }

    fn ring(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a judged request to the ring (evicting the oldest past the bounds) and tells the
    /// pages that are open. `reports` are the [`report_summary`] of each of its callbacks.
    pub fn record(&self, seen: &Seen<'_>, reports: &[Value]) {
        let mut ring = self.ring();
        let id = ring.next_id;
        ring.next_id += 1;
        let summary = summarize(id, seen, reports, &self.view);
        let entry = Entry {
            id,
            summary: Arc::from(summary.to_string()),
            label: seen.label.clone(),
            received: seen.received,
            peer: seen.peer.to_string(),
            target: seen.target.to_string(),
            content_type: seen.content_type.map(<[u8]>::to_vec),
            content_encoding: seen.content_encoding.map(<[u8]>::to_vec),
            body: Bytes::copy_from_slice(seen.body),
        };
        ring.bytes += entry.size();
        let announced = entry.summary.clone();
        ring.entries.push_back(entry);
        while ring.entries.len() > RING_ENTRIES || (ring.bytes > RING_BYTES && ring.entries.len() > 1) {
            if let Some(old) = ring.entries.pop_front() {
                ring.bytes -= old.size();
            }
        }
        drop(ring);
        // No page open is no error.
        let _ = self.events.send(announced);
    }

    /// Everything the opened callback shows: the request, the body, and each callback judged
    /// again as it was when it arrived, with every finding and the detailed view.
    fn opened(&self, id: u64) -> Option<String> {
        let ring = self.ring();
        let entry = ring.entries.iter().find(|e| e.id == id)?;
        let now = entry.received.as_second();
        let reports = judged_again(
            &entry.label,
            &entry.body,
            entry.content_encoding.as_deref(),
            &self.policy,
            now,
            |report| report_value(report, &self.view, now),
        );
        let mut full: Value = serde_json::from_str(&entry.summary).unwrap_or(Value::Null);
        full["request"] = json!({
            "peer": entry.peer,
            "target": entry.target,
            "content_type": entry.content_type.as_deref().map(|t| String::from_utf8_lossy(t).into_owned()),
            "content_encoding": entry.content_encoding.as_deref().map(|t| String::from_utf8_lossy(t).into_owned()),
            "bytes": entry.body.len(),
        });
        let text = std::str::from_utf8(&entry.body).ok();
        full["body_text"] = json!(text);
        if text.is_none() {
            use base64::Engine as _;
            full["body_base64"] = json!(base64::engine::general_purpose::STANDARD.encode(&entry.body));
        }
        full["reports"] = Value::Array(reports);
        Some(full.to_string())
    }

    /// Serves the page on `listener` until the task is dropped.
    pub async fn serve(self: Arc<Self>, listener: tokio::net::TcpListener) {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            };
            let inspector = self.clone();
            let service = hyper::service::service_fn(move |request| {
                let inspector = inspector.clone();
                async move { Ok::<_, Infallible>(inspector.handle(request).await) }
            });
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    }

    /// Whether `headers` name this address as the `Host`: an IP address with its port, or
    /// `localhost` when it listens on loopback. A DNS name is refused, so that a page elsewhere
    /// cannot reach this one by pointing its own name at 127.0.0.1.
    fn host_allowed(&self, headers: &HeaderMap) -> Option<String> {
        let host = headers.get(header::HOST)?.to_str().ok()?;
        let port = self.address.port();
        let allowed = match host.parse::<SocketAddr>() {
            Ok(addr) => {
                addr.port() == port && (addr.ip() == self.address.ip() || self.address.ip().is_unspecified())
            }
            Err(_) => host == format!("localhost:{port}") && self.address.ip().is_loopback(),
        };
        allowed.then(|| host.to_string())
    }

    /// Whether the request carries the run's token, in its query or an `X-Tiwhook-Token` header.
    fn token_given(&self, uri: &Uri, headers: &HeaderMap) -> bool {
        let from_query =
            uri.query().into_iter().flat_map(|q| q.split('&')).find_map(|pair| pair.strip_prefix("token="));
        let from_header = headers.get("x-tiwhook-token").and_then(|v| v.to_str().ok());
        from_query
            .or(from_header)
            .is_some_and(|given| bool::from(given.as_bytes().ct_eq(self.token.as_bytes())))
    }

    async fn handle(self: Arc<Self>, request: Request<Incoming>) -> Response<BoxBody<Bytes, Infallible>> {
        let Some(host) = self.host_allowed(request.headers()) else {
            return refuse(StatusCode::FORBIDDEN, "this page answers only to its own address\n");
        };
        if !self.token_given(request.uri(), request.headers()) {
            return refuse(StatusCode::FORBIDDEN, "open the URL tiwhook printed: it carries the token\n");
        }
        let path = request.uri().path().to_string();
        match (request.method().clone(), path.as_str()) {
            (Method::GET, "/") => {
                let html = INDEX_HTML.replace("{{TOKEN}}", &self.token);
                page(html, "text/html; charset=utf-8")
            }
            (Method::GET, "/app.js") => page(APP_JS.to_string(), "text/javascript; charset=utf-8"),
            (Method::GET, "/app.css") => page(APP_CSS.to_string(), "text/css; charset=utf-8"),
            (Method::GET, "/api/callbacks") => {
                let ring = self.ring();
                let mut list = String::from("[");
                for (n, entry) in ring.entries.iter().enumerate() {
                    if n > 0 {
                        list.push(',');
                    }
                    list.push_str(&entry.summary);
                }
                list.push(']');
                page(list, "application/json")
            }
            (Method::GET, "/api/events") => self.events_stream(),
            (Method::GET, path) if path.starts_with("/api/callback/") => {
                let id = path["/api/callback/".len()..].parse::<u64>().ok();
                match id.and_then(|id| self.opened(id)) {
                    Some(full) => page(full, "application/json"),
                    None => refuse(StatusCode::NOT_FOUND, "no such callback (it may have left the ring)\n"),
                }
            }
            (Method::POST, "/api/replay") => {
                let origin = request.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok());
                if origin != Some(format!("http://{host}").as_str()) {
                    return refuse(StatusCode::FORBIDDEN, "a replay must come from this page\n");
                }
                let body = match Limited::new(request.into_body(), 64 * 1024).collect().await {
                    Ok(body) => body.to_bytes(),
                    Err(_) => return refuse(StatusCode::BAD_REQUEST, "the request is too large\n"),
                };
                let answer = self.replay(&body).await;
                page(answer.to_string(), "application/json")
            }
            _ => refuse(StatusCode::NOT_FOUND, "not found\n"),
        }
    }

    /// New callbacks as Server-Sent Events, one `data:` line of a summary each.
    fn events_stream(&self) -> Response<BoxBody<Bytes, Infallible>> {
        let mut events = self.events.subscribe();
        let (sender, receiver) = mpsc::channel::<Bytes>(256);
        tokio::spawn(async move {
            // A comment first, so that the browser knows the stream is open.
            if sender.send(Bytes::from_static(b": open\n\n")).await.is_err() {
                return;
            }
            loop {
                let message = match events.recv().await {
                    Ok(summary) => format!("data: {summary}\n\n"),
                    // Too slow to keep up: the page loads the list again.
                    Err(broadcast::error::RecvError::Lagged(_)) => "event: lagged\ndata: {}\n\n".to_string(),
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                if sender.send(Bytes::from(message)).await.is_err() {
                    return;
                }
            }
        });
        let mut response = Response::new(BoxBody::new(Stream { receiver }));
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        secure(headers);
        response
    }

    /// Sends a callback's body again, as it came, to the application (or the URL given), and
    /// says what it answered.
    async fn replay(&self, request: &[u8]) -> Value {
        let asked: Value = serde_json::from_slice(request).unwrap_or(Value::Null);
        let Some(id) = asked["id"].as_u64() else {
            return json!({"error": "no callback named"});
        };
        let target = match asked["url"].as_str().filter(|u| !u.trim().is_empty()) {
            Some(url) => match crate::cli::forward_url(url.trim()) {
                Ok(uri) => uri,
                Err(error) => return json!({"error": error}),
            },
            None => match &self.forward {
                Some(uri) => uri.clone(),
                None => {
                    return json!({"error": "no application to replay to: give a URL, or start listen with --forward-to"});
                }
            },
        };
        let found = {
            let ring = self.ring();
            ring.entries
                .iter()
                .find(|e| e.id == id)
                .map(|e| (e.body.clone(), e.content_type.clone(), e.content_encoding.clone()))
        };
        let Some((body, content_type, encoding)) = found else {
            return json!({"error": "no such callback (it may have left the ring)"});
        };
        let mut outgoing = hyper::Request::post(target.clone()).header("x-tiwhook-replay", id);
        if let Some(content_type) = &content_type {
            outgoing = outgoing.header(header::CONTENT_TYPE, &content_type[..]);
        }
        if let Some(encoding) = &encoding {
            outgoing = outgoing.header(header::CONTENT_ENCODING, &encoding[..]);
        }
        let Ok(outgoing) = outgoing.body(Full::new(body)) else {
            return json!({"error": "the stored headers do not form a request"});
        };
        let started = Instant::now();
        let exchange = async {
            let response = self.client.request(outgoing).await.map_err(|e| crate::delivery::describe(&e))?;
            let status = response.status().as_u16();
            let answer = match Limited::new(response.into_body(), ANSWER_SHOWN).collect().await {
                Ok(collected) => collected.to_bytes().to_vec(),
                Err(_) => Vec::new(),
            };
            Ok::<_, String>((status, answer))
        };
        match tokio::time::timeout(REPLAY_TIMEOUT, exchange).await {
            Ok(Ok((status, answer))) => json!({
                "url": target.to_string(),
                "status": status,
                "millis": started.elapsed().as_millis() as u64,
                "answer": String::from_utf8_lossy(&answer),
            }),
            Ok(Err(error)) => json!({"url": target.to_string(), "error": error}),
            Err(_) => {
                json!({"url": target.to_string(), "error": format!("no answer within {}", crate::delivery::duration_text(REPLAY_TIMEOUT))})
            }
        }
    }
}

/// A report as the page shows it: the JSON callback line, every finding with its help, and the
/// detailed view as text.
pub fn report_value(report: &Report<'_>, view: &View, now: i64) -> Value {
    let mut line = Vec::new();
    let _ = JsonPrinter::new(&mut line).callback(report);
    let callback: Value = serde_json::from_slice(&line).unwrap_or(Value::Null);
    let findings: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            json!({
                "severity": match f.severity { Severity::Error => "error", Severity::Warning => "warning" },
                "code": f.code,
                "path": f.path,
                "message": f.message,
                "help": f.help,
                "line": f.at.line,
                "column": f.at.column,
            })
        })
        .collect();
    let mut text = Vec::new();
    {
        let mut printer = HumanPrinter::new(&mut text, View { color: false, ..view.clone() });
        printer.set_clock(now);
        let _ = printer.callback(report);
    }
    json!({"callback": callback, "findings": findings, "detail": String::from_utf8_lossy(&text)})
}

/// What the list shows of one callback, taken from its report without rendering it.
pub fn report_summary(report: &Report<'_>) -> Value {
    use crate::judge::report::Value as Field;
    let time = |key: &str| match report.field(key) {
        Field::Time(t) => Value::from(timefmt::rfc3339(*t)),
        _ => Value::Null,
    };
    let text = |key: &str| report.field(key).as_text().map_or(Value::Null, Value::from);
    let codes: Vec<Value> =
        report.findings.iter().map(|f| json!({"severity": f.severity.as_str(), "code": f.code})).collect();
    json!({
        "verdict": report.verdict.as_str(),
        "event_type": report.event_type,
        "signature": report.signature.as_str(),
        "task_id": text("task_id"),
        "room_id": report.field("room_id").as_number(),
        "start": time("start"),
        "stop": time("stop"),
        "duration_seconds": report.span().map(|(_, seconds)| seconds),
        "finish_reason": text("finish_reason"),
        "codes": codes,
    })
}

/// The list's entry for a request: its first callback's summary, the verdict of them all, and
/// when and how it came.
fn summarize(id: u64, seen: &Seen<'_>, reports: &[Value], view: &View) -> Value {
    let mut summary =
        reports.first().cloned().unwrap_or_else(|| json!({"signature": "unchecked", "codes": []}));
    let valid = !reports.is_empty() && reports.iter().all(|r| r["verdict"] == "valid");
    let seconds = seen.received.as_second().max(0) as u64;
    summary["verdict"] = json!(if valid { "valid" } else { "invalid" });
    summary["id"] = json!(id);
    summary["label"] = json!(seen.label);
    summary["received_ms"] = json!(seen.received.as_millisecond());
    summary["received"] = json!(timefmt::local(seconds, &view.zone));
    summary["documents"] = json!(reports.len());
    summary["saved"] = json!(seen.saved);
    summary
}

/// The tail of the save file (its last [`RING_ENTRIES`] captures), judged as they were received,
/// into the inspector, so that a restart keeps what was seen. `lines` is how many lines the file
/// holds (its saver counted them on opening), which numbers the tail without reading the rest.
pub fn load_history(
    inspector: &Inspector,
    save: &std::path::Path,
    lines: u64,
    policy: &Policy,
) -> io::Result<usize> {
    let mut file = std::fs::File::open(save)?;
    let length = file.metadata()?.len();
    // Back from the end, a block at a time, until enough lines are in hand.
    let mut start = length;
    let mut tail: Vec<u8> = Vec::new();
    let mut feeds = 0;
    while start > 0 && feeds <= RING_ENTRIES && tail.len() < RING_BYTES {
        let block = (start.min(256 * 1024)) as usize;
        start -= block as u64;
        file.seek(SeekFrom::Start(start))?;
        let mut chunk = vec![0; block];
        file.read_exact(&mut chunk)?;
        feeds += memchr::memchr_iter(b'\n', &chunk).count();
        chunk.extend_from_slice(&tail);
        tail = chunk;
    }
    let mut pieces: Vec<&[u8]> = tail.split(|&b| b == b'\n').collect();
    if tail.ends_with(b"\n") {
        pieces.pop();
    }
    if start > 0 && !pieces.is_empty() {
        // The first is (or may be) a piece of a line.
        pieces.remove(0);
    }
    // The last piece is the file's last line: number them back from it.
    let first_line = (lines + 1).saturating_sub(pieces.len() as u64);
    let skip = pieces.len().saturating_sub(RING_ENTRIES);
    let mut loaded = 0;
    for (n, line) in pieces.iter().enumerate().skip(skip) {
        let mut documents = JsonFramer::new(*line);
        let Ok(Some(Item::Document(document))) = documents.next_item() else { continue };
        let Some(captured) = capture::body_of(document.doc.bytes(), document.doc.root()) else { continue };
        let received =
            captured.received_at.parse::<jiff::Timestamp>().unwrap_or_else(|_| jiff::Timestamp::now());
        let number = first_line + n as u64;
        let seen = Seen {
            label: format!("line {number}"),
            received,
            peer: &captured.peer,
            target: &captured.target,
            content_type: Some(&captured.content_type[..]).filter(|t| !t.is_empty()),
            content_encoding: captured.content_encoding.as_deref(),
            body: &captured.body,
            saved: true,
        };
        let encoding = captured.content_encoding.as_deref();
        let now = received.as_second();
        let reports = judged_again(&seen.label, &captured.body, encoding, policy, now, report_summary);
        inspector.record(&seen, &reports);
        loaded += 1;
    }
    Ok(loaded)
}

/// Judges a stored body again as it was when it arrived (`now`, its arrival), with `shown` made
/// of each report.
fn judged_again<T>(
    label: &str,
    body: &[u8],
    encoding: Option<&[u8]>,
    policy: &Policy,
    now: i64,
    shown: impl Fn(&Report) -> T,
) -> Vec<T> {
    let policy = Policy { now, ..policy.clone() };
    let body = Body { bytes: body, encoding, arrival: None, placed: None };
    let mut reports = Vec::new();
    let _ = judge_body(label, body, &policy, |report| {
        reports.push(shown(&report));
        Ok(())
    });
    reports
}

/// The headers every answer carries: nothing but the page's own resources may load or run.
fn secure(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; \
             base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ),
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

fn page(text: String, content_type: &'static str) -> Response<BoxBody<Bytes, Infallible>> {
    let mut response = Response::new(BoxBody::new(Full::new(Bytes::from(text))));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    secure(response.headers_mut());
    response
}

fn refuse(status: StatusCode, text: &'static str) -> Response<BoxBody<Bytes, Infallible>> {
    let mut response = page(text.to_string(), "text/plain; charset=utf-8");
    *response.status_mut() = status;
    response
}

/// A response body fed by a channel: the event stream.
struct Stream {
    receiver: mpsc::Receiver<Bytes>,
}

impl hyper::body::Body for Stream {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.receiver.poll_recv(cx).map(|next| next.map(|bytes| Ok(Frame::data(bytes))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inspector() -> Arc<Inspector> {
        let view = View { zone: jiff::tz::TimeZone::UTC, now: 0, key_origins: Vec::new(), color: false };
        Inspector::new("127.0.0.1:4040".parse().unwrap(), None, view, Policy::default()).unwrap()
    }

    #[test]
    fn hosts_are_ip_addresses_of_this_port_or_localhost() {
        let inspector = inspector();
        let host = |h: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::HOST, HeaderValue::from_str(h).unwrap());
            inspector.host_allowed(&headers).is_some()
        };
        assert!(host("127.0.0.1:4040"));
        assert!(host("localhost:4040"));
        assert!(!host("attacker.example:4040"), "DNS rebinding");
        assert!(!host("127.0.0.1:8080"));
        assert!(!inspector.token_given(&"/?token=nope".parse().unwrap(), &HeaderMap::new()));
        let good: Uri = format!("/?x=1&token={}", inspector.token).parse().unwrap();
        assert!(inspector.token_given(&good, &HeaderMap::new()));
    }

    #[test]
    fn the_ring_stays_within_its_bounds() {
        let inspector = inspector();
        let body = vec![b'x'; 1024];
        for n in 0..(RING_ENTRIES + 50) {
            let seen = Seen {
                label: format!("#{n}"),
                received: jiff::Timestamp::UNIX_EPOCH,
                peer: "p",
                target: "/",
                content_type: None,
                content_encoding: None,
                body: &body,
                saved: false,
            };
            inspector.record(&seen, &[]);
        }
        let ring = inspector.ring();
        assert_eq!(ring.entries.len(), RING_ENTRIES);
        assert_eq!(ring.entries.front().unwrap().id, 50, "the oldest went first");
        assert!(ring.bytes <= RING_BYTES);
    }
}
