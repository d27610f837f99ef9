//! `tiwhook listen`: an HTTP receiver for Tencent's callbacks, shown live as they arrive.
//!
//! Point a TIW callback URL at it (through any tunnel). Each `POST` body goes through the same
//! reader, validator and signature check as files, with the expiry enforced against the real
//! clock, and is shown by the same printers. Nothing received is lost: with a save file, every
//! body is appended as one line of JSON Lines and flushed to disk before the answer goes out.
//! With a forward URL, each body is passed on, byte for byte, to the team's own application, and
//! its answer shown beside the callback.

use std::future::Future;
use std::io::{self, Write as _};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
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
use crate::judge::report::{Summary, Verdict};
use crate::judge::{self, Policy};
use crate::read::framing::{Documents, Item};
use crate::render::compact::CompactPrinter;
use crate::render::contract::{ForwardLine, Line};
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
/// How long the forwarded application has to answer.
pub const FORWARD_TIMEOUT: Duration = Duration::from_secs(10);

pub fn run(args: &ListenArgs, env: &Environment) -> anyhow::Result<ExitCode> {
    let keys = config::keys(&args.keys, env).map_err(anyhow::Error::msg)?;
    let zone = timefmt::parse_zone(&args.tz).map_err(anyhow::Error::msg).context("--tz")?;
    let color = config::color(args.color, env);
    colored::control::set_override(color);
    let forward_to =
        args.forward_to.as_deref().map(parse_forward_url).transpose().map_err(anyhow::Error::msg)?;
    let key_origins = keys.iter().map(|k| k.origin().to_string()).collect();
    let view = View { zone, now: env.now, key_origins, color };
    let printer: Box<dyn Printer + Send> = match (args.format, args.compact) {
        (ListenFormat::Json, _) => Box::new(JsonPrinter::new(io::stdout())),
        (ListenFormat::Human, true) => Box::new(CompactPrinter::new(io::stdout(), view)),
        (ListenFormat::Human, false) => Box::new(HumanPrinter::new(io::stdout(), view)),
    };
    let save = match &args.save {
        Some(path) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("--save {}", path.display()))?,
        ),
        None => None,
    };
    let options = Options {
        read_timeout: Duration::from_secs(args.read_timeout),
        policy: Policy { keys, now: env.now, enforce_expiry: !args.allow_expired, strict: args.strict },
        reject_invalid: args.reject_invalid,
        save,
        forward_to,
        json: args.format == ListenFormat::Json,
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
            let mut out = io::stdout().lock();
            let _ = writeln!(out, "listening on http://{bound}");
            let _ = out.flush();
        }
        if !bound.ip().is_loopback() {
            eprintln!("tiwhook: listening on {bound}: anyone who can reach it can post callbacks");
        }
        serve(listener, options, printer, shutdown_signal()).await.context("the receiver failed")?;
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

/// How the receiver behaves.
pub struct Options {
    /// How long a request may take to arrive.
    pub read_timeout: Duration,
    /// Keys, strictness and expiry; the clock is read afresh for each request.
    pub policy: Policy,
    /// Answer 400 to an invalid callback, so that Tencent retries it.
    pub reject_invalid: bool,
    /// The file every body is appended to, opened for appending.
    pub save: Option<std::fs::File>,
    /// An `http://` URL to pass each body on to.
    pub forward_to: Option<Uri>,
    /// Write forwarding results as JSON lines (with `--format json`).
    pub json: bool,
}

struct App {
    options: Options,
    printer: Mutex<Box<dyn Printer + Send>>,
    summary: Mutex<Summary>,
    save: Option<Mutex<std::fs::File>>,
    client: Client<HttpConnector, Full<Bytes>>,
    requests: Mutex<u64>,
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

/// Serves callbacks on `listener` until `shutdown` completes, then finishes the requests in flight,
/// flushes, and returns the tally.
pub async fn serve(
    listener: tokio::net::TcpListener,
    options: Options,
    printer: Box<dyn Printer + Send>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<Summary> {
    let mut options = options;
    let save = options.save.take().map(Mutex::new);
    let app = Arc::new(App {
        options,
        printer: Mutex::new(printer),
        summary: Mutex::new(Summary { sources: 1, ..Summary::default() }),
        save,
        client: Client::builder(TokioExecutor::new()).build_http(),
        requests: Mutex::new(0),
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
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let mut builder = hyper::server::conn::http1::Builder::new();
                builder.timer(TokioTimer::new()).header_read_timeout(read_timeout);
                let connection = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(router.clone()));
                let connection = graceful.watch(connection);
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
    let mut printer = app.printer.lock().unwrap_or_else(|e| e.into_inner());
    printer.finish(&summary)?;
    Ok(summary)
}

async fn receive(
    State(app): State<Arc<App>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if method != Method::POST {
        return (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "POST")], "only POST is a callback\n")
            .into_response();
    }
    let number = {
        let mut requests = app.requests.lock().unwrap_or_else(|e| e.into_inner());
        *requests += 1;
        *requests
    };
    if let Some(save) = &app.save {
        let line = save_line(&body);
        let mut file = save.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(error) = file.write_all(&line).and_then(|()| file.sync_data()) {
            eprintln!("tiwhook: cannot save the callback: {error}");
            return (StatusCode::INTERNAL_SERVER_ERROR, "could not save the callback\n").into_response();
        }
    }
    let forwarded = match &app.options.forward_to {
        Some(target) => Some(forward(&app.client, target, &headers, body.clone()).await),
        None => None,
    };
    let valid = show(&app, number, &uri, &body, forwarded.as_ref());
    if !valid && app.options.reject_invalid {
        return (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, "application/json")], "{\"error_code\":1}")
            .into_response();
    }
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], "{\"error_code\":0}").into_response()
}

/// Judges and prints the callbacks of one body; true if it held callbacks and all passed.
fn show(
    app: &App,
    number: u64,
    uri: &Uri,
    body: &[u8],
    forwarded: Option<&Result<(u16, Duration), String>>,
) -> bool {
    let now = jiff::Timestamp::now().as_second();
    let policy = Policy { now, ..app.options.policy.clone() };
    let source = format!("#{number} POST {}", uri.path());
    let mut printer = app.printer.lock().unwrap_or_else(|e| e.into_inner());
    printer.set_clock(now);
    let mut documents = Documents::new(body);
    let mut all_passed = true;
    let mut any = false;
    // Reading a slice cannot fail.
    while let Ok(Some(item)) = documents.next_item() {
        let report = judge::judge_item(&source, &item, &policy);
        any = true;
        all_passed &= report.verdict == Verdict::Valid;
        if let Ok(mut summary) = app.summary.lock() {
            summary.add(&report);
        }
        if let Err(error) = printer.callback(&report) {
            eprintln!("tiwhook: cannot write the output: {error}");
        }
    }
    if !any {
        all_passed = false;
        eprintln!("tiwhook: {source}: the body is empty");
    }
    if let (Some(result), Some(target)) = (forwarded, &app.options.forward_to) {
        let mut line = Vec::new();
        if app.options.json {
            let forward = match result {
                Ok((status, took)) => ForwardLine {
                    request: number,
                    status: Some(*status),
                    millis: Some(took.as_millis()),
                    error: None,
                },
                Err(error) => ForwardLine { request: number, status: None, millis: None, error: Some(error) },
            };
            let _ = Line::Forward(forward).write_to(&mut line);
        } else {
            let _ = match result {
                Ok((status, took)) => {
                    writeln!(line, "  → {target} answered {status} in {} ms", took.as_millis())
                }
                Err(error) => writeln!(line, "  → {target} unreachable: {error}"),
            };
        }
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(&line);
        let _ = out.flush();
    }
    all_passed
}

/// The line a body is saved as: a callback as compact JSON (duplicate keys kept), anything else as
/// a JSON string holding the body, which tiwhook reads back and reports as not a callback.
pub fn save_line(body: &[u8]) -> Vec<u8> {
    let mut line = Vec::with_capacity(body.len() + 1);
    let mut documents = Documents::new(body);
    let one = match documents.next_item() {
        Ok(Some(Item::Document(document))) => {
            let _ = document.doc.root().write_json(&mut line);
            true
        }
        _ => false,
    };
    if !one || !matches!(documents.next_item(), Ok(None)) {
        line.clear();
        let text = String::from_utf8_lossy(body);
        let _ = crate::sanitize::write_json_str(&mut line, &text);
    }
    line.push(b'\n');
    line
}

/// Passes a body on to the application, byte for byte with its content type.
async fn forward(
    client: &Client<HttpConnector, Full<Bytes>>,
    target: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<(u16, Duration), String> {
    let mut request = hyper::Request::post(target.clone());
    if let Some(content_type) = headers.get(header::CONTENT_TYPE) {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    let request = request.body(Full::new(body)).map_err(|e| e.to_string())?;
    let started = Instant::now();
    match tokio::time::timeout(FORWARD_TIMEOUT, client.request(request)).await {
        Ok(Ok(response)) => Ok((response.status().as_u16(), started.elapsed())),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err(format!("no answer within {} s", FORWARD_TIMEOUT.as_secs())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_lines_read_back() {
        assert_eq!(save_line(b"{\n  \"a\": 1,\n  \"a\": 2\n}"), b"{\"a\":1,\"a\":2}\n");
        assert_eq!(save_line(b"{\"a\": \n"), b"\"{\\\"a\\\": \\n\"\n");
        assert_eq!(save_line(b"{}{}"), b"\"{}{}\"\n");
    }

    #[test]
    fn forward_urls() {
        assert!(parse_forward_url("http://127.0.0.1:3000/hook").is_ok());
        assert!(parse_forward_url("https://example.com/").is_err());
        assert!(parse_forward_url("localhost:3000").is_err());
    }
}
