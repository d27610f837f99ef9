//! `tiwhook listen`: an HTTP receiver for Tencent's callbacks, shown live as they arrive.
//!
//! Point a TIW callback URL at it (through any tunnel). Each `POST` body goes through the same
//! reader, validator and signature check as files, with the expiry enforced against the real
//! clock, and is shown by the same printers. The order of work puts Tencent first:
//!
//! 1. **Save**: with `--save`, the request is appended as one capture line (see
//!    [`crate::read::capture`]) and synced to disk; a write that fails is undone (the file is cut
//!    back to its length before it) and answered 500, so the file never holds a fragment.
//! 2. **Answer**: 200 (or 400 for an invalid callback with `--reject-invalid`) goes out at once.
//! 3. **Forward**: with `--forward-to`, the body is passed on afterwards, from a bounded set of
//!    tasks, with its own timeout and Tencent's retry schedule; when too many are in flight, the
//!    forward is skipped and counted, never the answer delayed.
//! 4. **Show**: what is shown is rendered by the request's own task and handed to one writer
//!    thread through a bounded queue; when stdout cannot keep up (a paused pager, a stopped
//!    terminal), display lines are dropped and counted, while saving, answering and the tally go
//!    on.

use std::future::Future;
use std::io::{self, Write as _};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::Context;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tower_http::timeout::TimeoutLayer;

use crate::cli::{ListenArgs, ListenFormat};
use crate::config::{self, Environment};
use crate::exit_codes::ExitCode;
use crate::judge::report::{Finding, Severity, Summary, Verdict};
use crate::judge::{self, Policy};
use crate::read::capture::{self, Arrival};
use crate::read::framing::Documents;
use crate::render::compact::CompactPrinter;
use crate::render::contract::{ForwardLine, Line, ListeningLine};
use crate::render::human::HumanPrinter;
use crate::render::json::JsonPrinter;
use crate::render::{Printer, View};
use crate::timefmt;

/// The largest body accepted; a larger one is answered 413.
pub const MAX_BODY: usize = 1024 * 1024;
/// How long a request may take to arrive, by default: its head (else the connection is closed)
/// and then its body (else it is answered 408).
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a shutdown waits for the requests in flight.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// How long a shutdown waits for a blocked output before leaving it.
pub const OUTPUT_GRACE: Duration = Duration::from_secs(2);
/// Rendered reports waiting for stdout at most; more are dropped and counted.
pub const DISPLAY_QUEUE: usize = 1024;
/// Forwards in flight at most (retries included); more are skipped and counted.
pub const FORWARDS_IN_FLIGHT: usize = 256;

pub fn run(args: &ListenArgs, env: &Environment) -> anyhow::Result<ExitCode> {
    let keys = config::keys(&args.keys, env).map_err(anyhow::Error::msg)?;
    let zone = timefmt::parse_zone(&args.tz).map_err(anyhow::Error::msg).context("--tz")?;
    let color = config::color(args.color, env);
    colored::control::set_override(color);
    let forward_to =
        args.forward_to.as_deref().map(parse_forward_url).transpose().map_err(anyhow::Error::msg)?;
    let key_origins = keys.iter().map(|k| k.origin().to_string()).collect();
    let view = View { zone, now: env.now, key_origins, color };
    let format = match (args.format, args.compact) {
        (ListenFormat::Json, _) => Format::Json,
        (ListenFormat::Human, true) => Format::Compact,
        (ListenFormat::Human, false) => Format::Human,
    };
    let save = match &args.save {
        Some(path) => Some(SaveFile::open(path).with_context(|| format!("--save {}", path.display()))?),
        None => None,
    };
    let options = Options {
        read_timeout: Duration::from_secs(args.read_timeout),
        policy: Policy { keys, now: env.now, enforce_expiry: !args.allow_expired, strict: args.strict },
        reject_invalid: args.reject_invalid,
        save,
        forward: forward_to.map(|target| Forward {
            target,
            timeout: Duration::from_secs(args.forward_timeout),
            retries: args.forward_retries,
            interval: Duration::from_secs(args.forward_interval),
        }),
        format,
        view,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the receiver")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("--addr {}", args.addr))?;
        let bound = listener.local_addr()?;
        {
            // JSON output is JSON Lines only, the address included.
            let mut out = io::stdout().lock();
            let _ = match format {
                Format::Json => {
                    let mut line = Vec::new();
                    let _ =
                        Line::Listening(ListeningLine { url: format!("http://{bound}") }).write_to(&mut line);
                    out.write_all(&line)
                }
                _ => writeln!(out, "listening on http://{bound}"),
            };
            let _ = out.flush();
        }
        if !bound.ip().is_loopback() {
            eprintln!("tiwhook: listening on {bound}: anyone who can reach it can post callbacks");
        }
        serve(listener, options, shutdown_signal()).await.context("the receiver failed")?;
        Ok(ExitCode::Success)
    })
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// How callbacks are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Human,
    Compact,
    Json,
}

/// Passing bodies on to the team's application.
#[derive(Clone, Debug)]
pub struct Forward {
    /// An `http://` URL.
    pub target: Uri,
    /// How long the application has to answer one attempt.
    pub timeout: Duration,
    /// Attempts after the first, when one fails (no answer, or not 2xx).
    pub retries: u32,
    /// The pause between attempts.
    pub interval: Duration,
}

/// How the receiver behaves.
pub struct Options {
    /// How long a request may take to arrive.
    pub read_timeout: Duration,
    /// Keys, strictness and expiry; the clock is read afresh for each request.
    pub policy: Policy,
    /// Answer 400 to an invalid callback, so that Tencent retries it.
    pub reject_invalid: bool,
    /// The file every request is appended to.
    pub save: Option<SaveFile>,
    pub forward: Option<Forward>,
    pub format: Format,
    pub view: View,
}

/// The save file: appended to one whole line at a time, or not at all.
pub struct SaveFile {
    file: std::fs::File,
}

impl SaveFile {
    /// Opens `path` for appending, creating it; anything but a regular file (a FIFO, a device, a
    /// directory) is refused, since appends could not be made durable or undone there.
    pub fn open(path: &std::path::Path) -> io::Result<SaveFile> {
        if let Ok(meta) = std::fs::metadata(path)
            && !meta.is_file()
        {
            return Err(io::Error::other("not a regular file: the save file must be one (or a new path)"));
        }
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        if !file.metadata()?.is_file() {
            return Err(io::Error::other("not a regular file: the save file must be one (or a new path)"));
        }
        Ok(SaveFile { file })
    }

    /// Appends `line` and syncs it to disk. On failure the file is cut back to its length before,
    /// so that it never holds a fragment, and the error is returned.
    pub fn append(&mut self, line: &[u8]) -> io::Result<()> {
        let before = self.file.metadata()?.len();
        let written = self.file.write_all(line).and_then(|()| self.file.sync_data());
        if let Err(error) = written {
            let _ = self.file.set_len(before).and_then(|()| self.file.sync_data());
            return Err(error);
        }
        Ok(())
    }
}

/// What the writer thread is handed.
enum Display {
    /// Output already rendered.
    Text(Vec<u8>),
    /// The end: print the tally with this printer, then stop.
    Finish(Box<dyn Printer + Send>, Summary),
}

struct App {
    options: Options,
    summary: Mutex<Summary>,
    save: Option<Mutex<SaveFile>>,
    client: Client<HttpConnector, Full<Bytes>>,
    requests: AtomicU64,
    display: mpsc::SyncSender<Display>,
    /// Reports and lines not shown because the output could not keep up.
    not_shown: AtomicU64,
    forwards: Arc<tokio::sync::Semaphore>,
    forwards_skipped: AtomicU64,
}

/// Checks a forward URL: only plain HTTP, to the team's own application.
pub fn parse_forward_url(text: &str) -> Result<Uri, String> {
    let uri: Uri = text.parse().map_err(|e| format!("--forward-to: `{text}` is not a URL ({e})"))?;
    match uri.scheme_str() {
        Some("http") if uri.host().is_some() => Ok(uri),
        Some("https") => {
            Err("--forward-to: only http:// is supported; forward to your application's local address".into())
        }
        _ => Err(format!("--forward-to: `{text}` is not an http:// URL")),
    }
}

/// The address of the client of one connection.
#[derive(Clone, Copy, Debug)]
struct Peer(SocketAddr);

/// Serves callbacks on `listener` until `shutdown` completes, then finishes the requests in flight,
/// prints the tally, and returns it.
pub async fn serve(
    listener: tokio::net::TcpListener,
    options: Options,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<Summary> {
    let mut options = options;
    let save = options.save.take().map(Mutex::new);
    let (display, shown) = mpsc::sync_channel::<Display>(DISPLAY_QUEUE);
    let (done, finished) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        let mut out = io::stdout();
        for message in shown {
            match message {
                Display::Text(text) => {
                    // A closed stdout loses the display only; everything else goes on.
                    let _ = out.write_all(&text).and_then(|()| out.flush());
                }
                Display::Finish(mut printer, summary) => {
                    let _ = printer.finish(&summary);
                    let _ = done.send(());
                    return;
                }
            }
        }
    });
    let app = Arc::new(App {
        summary: Mutex::new(Summary { sources: 1, ..Summary::default() }),
        save,
        client: Client::builder(TokioExecutor::new()).build_http(),
        requests: AtomicU64::new(0),
        display,
        not_shown: AtomicU64::new(0),
        forwards: Arc::new(tokio::sync::Semaphore::new(FORWARDS_IN_FLIGHT)),
        forwards_skipped: AtomicU64::new(0),
        options,
    });
    let read_timeout = app.options.read_timeout;
    let router = Router::new()
        .fallback(receive)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, read_timeout))
        .with_state(app.clone());
    // Connections are served by hyper directly (not `axum::serve`) to bound the time a request's
    // head may take as well: a client that dribbles its headers is cut off.
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut last_complaint: Option<Instant> = None;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors, say: pause instead of spinning, and say so
                        // once a second at most.
                        if last_complaint.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
                            eprintln!("tiwhook: cannot accept a connection: {error}");
                            last_complaint = Some(Instant::now());
                        }
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let mut builder = hyper::server::conn::http1::Builder::new();
                builder.timer(TokioTimer::new()).header_read_timeout(read_timeout);
                let service = TowerToHyperService::new(router.clone().layer(Extension(Peer(peer))));
                let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
    let summary = app.summary.lock().map(|s| s.clone()).unwrap_or_default();
    let mut notes = Vec::new();
    let not_shown = app.not_shown.load(Ordering::Relaxed);
    if not_shown > 0 {
        notes.push(format!(
            "{} not shown: output blocked",
            crate::render::plural(not_shown, "callback", "callbacks")
        ));
    }
    let skipped = app.forwards_skipped.load(Ordering::Relaxed);
    if skipped > 0 {
        notes.push(format!(
            "{} not forwarded: too many forwards in flight",
            crate::render::plural(skipped, "callback", "callbacks")
        ));
    }
    let printer = final_printer(&app.options);
    // The tally goes through the writer, after what it holds; a blocked output is left behind.
    let printed = app.display.try_send(Display::Finish(printer, summary.clone())).is_ok()
        && finished.recv_timeout(OUTPUT_GRACE).is_ok();
    if !printed {
        notes.push("the output is blocked: the tally was not printed".into());
    }
    for note in notes {
        eprintln!("tiwhook: {note}");
    }
    Ok(summary)
}

/// The printer that writes the tally at the end, to stdout.
fn final_printer(options: &Options) -> Box<dyn Printer + Send> {
    let view = options.view.clone();
    match options.format {
        Format::Json => Box::new(JsonPrinter::new(io::stdout())),
        Format::Compact => Box::new(CompactPrinter::new(io::stdout(), view)),
        Format::Human => Box::new(HumanPrinter::new(io::stdout(), view)),
    }
}

async fn receive(
    State(app): State<Arc<App>>,
    Extension(Peer(peer)): Extension<Peer>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if method != Method::POST {
        return (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "POST")], "only POST is a callback\n")
            .into_response();
    }
    let number = app.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let received = jiff::Timestamp::now();
    if let Some(save) = &app.save {
        let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let arrival = Arrival {
            received_at: capture::received_at(received),
            peer: peer.to_string(),
            method: "POST".into(),
            path: uri.path().to_string(),
            content_type: content_type.to_string(),
        };
        let line = capture::line(&arrival, &body);
        let mut file = save.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(error) = file.append(&line) {
            eprintln!("tiwhook: cannot save the callback: {error}");
            return (StatusCode::INTERNAL_SERVER_ERROR, "could not save the callback\n").into_response();
        }
    }
    let valid = show(&app, number, received, peer, &uri, &body);
    if let Some(forward) = &app.options.forward {
        start_forward(&app, forward.clone(), number, &headers, body);
    }
    if !valid && app.options.reject_invalid {
        return (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, "application/json")], "{\"error_code\":1}")
            .into_response();
    }
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], "{\"error_code\":0}").into_response()
}

/// Hands rendered output to the writer, or drops and counts it when the output is behind.
fn display(app: &App, text: Vec<u8>, reports: u64) {
    if text.is_empty() {
        return;
    }
    if app.display.try_send(Display::Text(text)).is_err() {
        app.not_shown.fetch_add(reports, Ordering::Relaxed);
    }
}

/// Judges the callbacks of one body, counts them, and shows the first (a body should hold one);
/// true if it held callbacks and all passed.
fn show(app: &App, number: u64, received: jiff::Timestamp, peer: SocketAddr, uri: &Uri, body: &[u8]) -> bool {
    let now = received.as_second();
    let policy = Policy { now, ..app.options.policy.clone() };
    let source = format!("#{number} POST {}", uri.path());
    let mut documents = Documents::new(body);
    let mut all_passed = true;
    let mut shown = None;
    let mut more = 0u64;
    // Reading a slice cannot fail.
    while let Ok(Some(item)) = documents.next_item() {
        let mut report = judge::judge_item(&source, &item, &policy);
        all_passed &= report.verdict == Verdict::Valid;
        if shown.is_some() {
            more += 1;
            if let Ok(mut summary) = app.summary.lock() {
                summary.add(&report);
            }
            continue;
        }
        if documents_follow(body) {
            report.findings.push(Finding {
                severity: Severity::Warning,
                code: "several-documents",
                path: String::new(),
                message:
                    "this request's body holds more than one document; Tencent sends one callback per request"
                        .into(),
                help: Vec::new(),
                at: report.start,
            });
        }
        if let Ok(mut summary) = app.summary.lock() {
            summary.add(&report);
        }
        shown = Some(render(&app.options, &report, now, received, peer));
    }
    let mut text = shown.unwrap_or_default();
    if text.is_empty() {
        all_passed = false;
        eprintln!("tiwhook: {source}: the body is empty");
    }
    if more > 0 && app.options.format != Format::Json {
        let _ = writeln!(
            text,
            "  … and {} in the same body, not shown",
            crate::render::plural(more, "more document", "more documents")
        );
    }
    display(app, text, 1 + more);
    all_passed
}

/// Whether a body holds more than one document.
fn documents_follow(body: &[u8]) -> bool {
    let mut documents = Documents::new(body);
    matches!(documents.next_item(), Ok(Some(_))) && matches!(documents.next_item(), Ok(Some(_)))
}

/// One report as the chosen format shows it, with its arrival in the human views.
fn render(
    options: &Options,
    report: &judge::report::Report,
    now: i64,
    received: jiff::Timestamp,
    peer: SocketAddr,
) -> Vec<u8> {
    let mut out = Vec::new();
    let view = options.view.clone();
    let _ = match options.format {
        Format::Json => JsonPrinter::new(&mut out).callback(report),
        Format::Compact => {
            let mut printer = CompactPrinter::new(&mut out, view);
            printer.set_clock(now);
            printer.callback(report)
        }
        Format::Human => {
            let arrived = timefmt::local(received.as_second().max(0) as u64, &options.view.zone);
            let _ = writeln!(out, "\nreceived {arrived} from {peer}");
            let mut printer = HumanPrinter::new(&mut out, view);
            printer.set_clock(now);
            printer.callback(report)
        }
    };
    out
}

/// Starts passing a body on to the application, unless too many forwards are in flight.
fn start_forward(app: &Arc<App>, forward: Forward, number: u64, headers: &HeaderMap, body: Bytes) {
    let Ok(permit) = app.forwards.clone().try_acquire_owned() else {
        app.forwards_skipped.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let content_type = headers.get(header::CONTENT_TYPE).cloned();
    let app = app.clone();
    tokio::spawn(async move {
        let mut outcome = Err(String::new());
        let mut attempts = 0;
        for attempt in 0..=forward.retries {
            if attempt > 0 {
                tokio::time::sleep(forward.interval).await;
            }
            attempts = attempt + 1;
            outcome = forward_once(&app.client, &forward, content_type.as_ref(), body.clone()).await;
            if matches!(outcome, Ok((status, _)) if (200..300).contains(&status)) {
                break;
            }
        }
        drop(permit);
        let mut line = Vec::new();
        match app.options.format {
            Format::Json => {
                let forward_line = match &outcome {
                    Ok((status, took)) => ForwardLine {
                        request: number,
                        status: Some(*status),
                        millis: Some(took.as_millis()),
                        attempts,
                        error: None,
                    },
                    Err(error) => ForwardLine {
                        request: number,
                        status: None,
                        millis: None,
                        attempts,
                        error: Some(error),
                    },
                };
                let _ = Line::Forward(forward_line).write_to(&mut line);
            }
            _ => {
                let tries = if attempts > 1 { format!(" after {attempts} attempts") } else { String::new() };
                let _ = match &outcome {
                    Ok((status, took)) => writeln!(
                        line,
                        "  → #{number} {} answered {status} in {} ms{tries}",
                        forward.target,
                        took.as_millis()
                    ),
                    Err(error) => {
                        writeln!(line, "  → #{number} {} unreachable{tries}: {error}", forward.target)
                    }
                };
            }
        }
        display(&app, line, 0);
    });
}

/// One attempt at passing a body on, byte for byte with its content type.
async fn forward_once(
    client: &Client<HttpConnector, Full<Bytes>>,
    forward: &Forward,
    content_type: Option<&header::HeaderValue>,
    body: Bytes,
) -> Result<(u16, Duration), String> {
    let mut request = hyper::Request::post(forward.target.clone());
    if let Some(content_type) = content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    let request = request.body(Full::new(body)).map_err(|e| e.to_string())?;
    let started = Instant::now();
    match tokio::time::timeout(forward.timeout, client.request(request)).await {
        Ok(Ok(response)) => Ok((response.status().as_u16(), started.elapsed())),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err(format!("no answer within {} s", forward.timeout.as_secs_f64())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_urls() {
        assert!(parse_forward_url("http://127.0.0.1:3000/hook").is_ok());
        assert!(parse_forward_url("https://example.com/").is_err());
        assert!(parse_forward_url("localhost:3000").is_err());
    }

    #[test]
    fn a_failed_append_leaves_no_fragment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("save.ndjson");
        let mut save = SaveFile::open(&path).unwrap();
        save.append(b"{\"a\":1}\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"a\":1}\n");
        assert!(SaveFile::open(dir.path()).is_err(), "a directory is refused");
    }
}
