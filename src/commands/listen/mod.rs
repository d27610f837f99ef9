//! `tiwhook listen`: an HTTP receiver for Tencent's callbacks, shown live as they arrive, that
//! can be left running beside an application.
//!
//! Point a TIW callback URL at it (through any tunnel). Each `POST` body goes through the same
//! reader, validator and signature check as files, with the expiry enforced against the real
//! clock, and is shown by the same printers. The order of work puts Tencent first:
//!
//! 1. **Save**: with `--save`, the request is appended as one capture line (see
//!    [`crate::read::capture`]) by the save thread, which syncs waiting lines together
//!    ([`save`]); the request is answered only once its own line is durable, and 500 when it
//!    could not be made so.
//! 2. **Forward**: with `--forward-to`, the body joins the back of a bounded backlog, which a few
//!    workers pass on in arrival order ([`forward`]).
//! 3. **Judge and show**: the body goes to the judging thread, which judges, counts and renders
//!    it. Only with `--reject-invalid` does the answer wait for the verdict.
//! 4. **Answer**: 200 (or 400 for an invalid callback with `--reject-invalid`).
//!
//! Nothing on the request path writes to a terminal: every line for a person goes through
//! [`output`], whose writer threads drop and count what a blocked stdout or stderr cannot take.
//! Ctrl-C (or SIGTERM) stops accepting, lets the requests in flight finish, drains the forward
//! backlog for up to `--drain-timeout`, prints the tally and what was not forwarded (with the
//! `tiwhook send` command that replays exactly those from the save file), and exits; a second
//! Ctrl-C exits at once.

pub mod forward;
pub mod output;
pub mod save;
pub mod ui;

use std::future::Future;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::HeaderValue;
use hyper::{HeaderMap, Method, Request, Response, StatusCode, Uri, header};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::sync::{mpsc, oneshot};

use crate::cli::{ListenArgs, ListenFormat};
use crate::config::{self, Environment};
use crate::exit_codes::ExitCode;
use crate::judge::Policy;
use crate::judge::body::{Body, judge_body};
use crate::judge::report::{Report, Summary};
use crate::read::capture;
use crate::render::compact::CompactPrinter;
use crate::render::contract::{ForwardLine, ForwardSummaryLine, Line, ListeningLine};
use crate::render::human::HumanPrinter;
use crate::render::json::JsonPrinter;
use crate::render::{BODY_CAVEAT, Printer, View, plural};
use crate::sanitize::escape;
use crate::timefmt;

use forward::{Forwarder, Job, Outcome, Settings};
use output::Output;
use save::{SaveFile, Saver};

/// The largest body accepted; a larger one is answered 413.
pub const MAX_BODY: usize = 1024 * 1024;
/// How long a shutdown waits for the requests in flight.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// How long a shutdown waits for a blocked output before leaving it.
pub const OUTPUT_GRACE: Duration = Duration::from_secs(2);
/// Bodies waiting for the judging thread at most; a request waits for a place (judging never
/// waits on anything but the processor).
pub const JUDGE_QUEUE: usize = 1024;
/// The bytes of bodies waiting to be forwarded at most.
pub const FORWARD_BACKLOG_BYTES: usize = 64 * 1024 * 1024;

pub fn run(args: &ListenArgs, env: &Environment) -> anyhow::Result<ExitCode> {
    let mut options = options(args, env)?;
    let format = options.format;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the receiver")?;
    let ended = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("--addr {}", args.addr))?;
        let bound = listener.local_addr()?;
        let inspector = match args.ui {
            Some(address) => {
                // The save file's lines were counted when it was opened: its history is numbered
                // from that count, without reading the file again.
                let history = options.save.as_ref().map(|(file, path)| (path.clone(), file.lines()));
                Some(start_inspector(address, bound, &options, history).await?)
            }
            None => None,
        };
        options.inspector = inspector.clone();
        // Signals are caught from before the address is announced.
        let shutdown = shutdown_signal();
        let output = Output::start();
        output.show(listening(format, bound, inspector.as_ref().map(|i| i.url())), 0);
        if !bound.ip().is_loopback() {
            output.say(format!("listening on {bound}: anyone who can reach it can post callbacks"));
        }
        let ended = serve(listener, options, output, shutdown).await;
        // The process ends here even when a writer is still blocked on a stopped terminal.
        Ok(if ended.all_delivered() { ExitCode::Success } else { ExitCode::Failure })
    });
    // Whatever still waits (a request that never ended, a blocked output) is left behind.
    runtime.shutdown_background();
    ended
}

/// The receiver's options, resolved from the command line and the environment.
fn options(args: &ListenArgs, env: &Environment) -> anyhow::Result<Options> {
    let keys = config::keys(&args.keys, env).map_err(anyhow::Error::msg)?;
    let zone = args.display.tz.clone();
    let color = config::color(args.display.color, env);
    let forward_to = args.forward_to.clone();
    let key_origins = keys.iter().map(|k| k.origin().to_string()).collect();
    let view = View { zone, now: env.now, key_origins, color };
    let format = match (args.format, args.compact) {
        (ListenFormat::Json, _) => Format::Json,
        (ListenFormat::Human, true) => Format::Compact,
        (ListenFormat::Human, false) => Format::Human,
    };
    let save = match &args.save {
        Some(path) => {
            let file = SaveFile::open(path)
                .with_context(|| format!("--save {}", escape(&path.to_string_lossy())))?;
            Some((file, path.clone()))
        }
        None => None,
    };
    Ok(Options {
        read_timeout: args.read_timeout,
        policy: Policy {
            keys,
            now: env.now,
            enforce_expiry: !args.allow_expired,
            strict: args.strict,
            // The receiver's views and its page show every value.
            details_unread: false,
        },
        reject_invalid: args.reject_invalid,
        save,
        forward: forward_to.map(|target| Settings {
            target,
            timeout: args.forward_timeout,
            retries: args.forward_retries,
            interval: args.forward_interval,
            concurrency: usize::from(args.forward_concurrency),
            backlog: args.forward_backlog as usize,
            backlog_bytes: FORWARD_BACKLOG_BYTES,
        }),
        drain_timeout: args.drain_timeout,
        format,
        view,
        inspector: None,
    })
}

/// The first line: where the receiver listens (and its page, with `--ui`); with `--format json`,
/// a `listening` line of the contract, as JSON output is JSON Lines only.
fn listening(format: Format, bound: std::net::SocketAddr, page: Option<String>) -> Vec<u8> {
    match (format, page) {
        (Format::Json, inspector) => {
            let mut line = Vec::new();
            let _ = Line::Listening(ListeningLine { url: format!("http://{bound}"), inspector })
                .write_to(&mut line);
            line
        }
        (_, Some(page)) => format!("listening on http://{bound}\ninspector on {page}\n").into_bytes(),
        (_, None) => format!("listening on http://{bound}\n").into_bytes(),
    }
}

/// Binds the page of `--ui` (never on the callback port), fills it with the tail of the save
/// file, and serves it in the background.
async fn start_inspector(
    address: SocketAddr,
    callbacks: SocketAddr,
    options: &Options,
    history: Option<(PathBuf, u64)>,
) -> anyhow::Result<Arc<ui::Inspector>> {
    if address.port() == callbacks.port() && address.port() != 0 {
        anyhow::bail!("--ui {address}: the page needs an address of its own, not the callback port");
    }
    let listener = tokio::net::TcpListener::bind(address).await.with_context(|| format!("--ui {address}"))?;
    let bound = listener.local_addr()?;
    let target = options.forward.as_ref().map(|f| f.target.clone());
    let inspector =
        ui::Inspector::new(bound, target, options.view.clone(), options.policy.clone()).context("--ui")?;
    if let Some((save, lines)) = history {
        let (inspector, policy) = (inspector.clone(), options.policy.clone());
        let loaded =
            tokio::task::spawn_blocking(move || ui::load_history(&inspector, &save, lines, &policy)).await;
        if let Ok(Err(error)) = loaded {
            eprintln!("tiwhook: --ui: the save file's history could not be read: {error}");
        }
    }
    tokio::spawn(inspector.clone().serve(listener));
    if !bound.ip().is_loopback() {
        eprintln!(
            "tiwhook: the page listens on {bound}: anyone who can reach it and has the token can see the callbacks"
        );
    }
    Ok(inspector)
}

/// Completes on Ctrl-C or SIGTERM. The handlers are in place when this returns (not when the
/// future is first polled), so a signal that comes right after the first line is not lost.
fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt()).ok();
        let mut terminate = signal(SignalKind::terminate()).ok();
        async move {
            let interrupted = async {
                match &mut interrupt {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let terminated = async {
                match &mut terminate {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = interrupted => {}
                () = terminated => {}
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// How callbacks are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Human,
    Compact,
    Json,
}

/// How the receiver behaves.
pub struct Options {
    /// How long a request may take to arrive.
    pub read_timeout: Duration,
    /// Keys, strictness and expiry; the clock is read afresh for each request.
    pub policy: Policy,
    /// Answer 400 to an invalid callback, so that Tencent retries it.
    pub reject_invalid: bool,
    /// The file every request is appended to, and its path as given.
    pub save: Option<(SaveFile, PathBuf)>,
    pub forward: Option<Settings>,
    /// How long a shutdown goes on forwarding.
    pub drain_timeout: Duration,
    pub format: Format,
    pub view: View,
    /// The page of `--ui`, which hears of every judged request.
    pub inspector: Option<Arc<ui::Inspector>>,
}

/// How a run ended.
#[derive(Debug, Default)]
pub struct Ended {
    pub summary: Summary,
    pub requests: u64,
    pub forwards: Option<forward::Tally>,
    /// Requests answered 500 because their capture could not be saved.
    pub not_saved: u64,
}

impl Ended {
    /// Every request was saved (with `--save`) and forwarded (with `--forward-to`).
    pub fn all_delivered(&self) -> bool {
        self.not_saved == 0 && self.forwards.as_ref().is_none_or(|t| t.not_forwarded() == 0)
    }
}

/// A body for the judging thread.
struct Judging {
    number: u64,
    received: jiff::Timestamp,
    peer: SocketAddr,
    path: String,
    /// The request target (path and query) and content type, for the page of `--ui`.
    target: String,
    content_type: Option<Vec<u8>>,
    body: Bytes,
    encoding: Option<Vec<u8>>,
    /// Told whether every callback of the body passed, when the answer depends on it.
    verdict: Option<oneshot::Sender<bool>>,
}

struct App {
    options: Options,
    output: Arc<Output>,
    saver: Option<Saver>,
    forwarder: Option<Arc<Forwarder>>,
    /// Closed at shutdown, once no request is left to send on it.
    judging: Mutex<Option<mpsc::Sender<Judging>>>,
    requests: AtomicU64,
    not_saved: AtomicU64,
}

/// Serves callbacks on `listener` until `shutdown` completes; then stops accepting, finishes the
/// requests in flight, drains the forwards, says how the run ended, and returns that. A second
/// Ctrl-C or SIGTERM during all that exits the process at once.
pub async fn serve(
    listener: tokio::net::TcpListener,
    mut options: Options,
    output: Output,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Ended {
    let output = Arc::new(output);
    let save = options.save.take();
    let (saver, save_path) = match save {
        Some((file, path)) => match Saver::start(file) {
            Ok(saver) => (Some(saver), Some(path)),
            Err(error) => {
                output.say(format!("cannot start saving: {error}"));
                (None, None)
            }
        },
        None => (None, None),
    };
    let (forwarder, workers) = match options.forward.clone() {
        Some(settings) => {
            let (format, shown, target) = (options.format, output.clone(), settings.target.clone());
            let (forwarder, workers) = Forwarder::start(settings, move |outcome| {
                shown.show(forward_line(format, &target, outcome), 0)
            });
            (Some(forwarder), workers)
        }
        None => (None, Vec::new()),
    };
    let (judging, bodies) = mpsc::channel::<Judging>(JUDGE_QUEUE);
    let judge_thread = {
        let (policy, view, format, shown) =
            (options.policy.clone(), options.view.clone(), options.format, output.clone());
        let inspector = options.inspector.clone();
        std::thread::spawn(move || judge_bodies(bodies, policy, view, format, &shown, inspector.as_deref()))
    };
    let app = Arc::new(App {
        options,
        output: output.clone(),
        saver,
        forwarder: forwarder.clone(),
        judging: Mutex::new(Some(judging)),
        requests: AtomicU64::new(0),
        not_saved: AtomicU64::new(0),
    });
    let skip_notices = forwarder.clone().map(|f| tokio::spawn(say_skips(f, output.clone())));
    accept_until(&listener, &app, shutdown).await;
    drop(listener);
    // From here on, a second signal ends the process at once.
    let second = shutdown_signal();
    tokio::spawn(async move {
        second.await;
        std::process::exit(130);
    });
    finish(app, judge_thread, workers, skip_notices, save_path).await
}

/// Accepts connections and serves them until `shutdown` completes.
async fn accept_until(
    listener: &tokio::net::TcpListener,
    app: &Arc<App>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let read_timeout = app.options.read_timeout;
    // hyper bounds the time a request's head may take (a client that dribbles its headers is cut
    // off), and `receive_request` the time its body may take.
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
                            app.output.say(format!("cannot accept a connection: {error}"));
                            last_complaint = Some(Instant::now());
                        }
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let mut builder = hyper::server::conn::http1::Builder::new();
                builder.timer(TokioTimer::new()).header_read_timeout(read_timeout);
                let app = app.clone();
                let service = hyper::service::service_fn(move |request| {
                    let app = app.clone();
                    async move { Ok::<_, std::convert::Infallible>(receive_request(app, peer, request).await) }
                });
                let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
            () = &mut shutdown => break,
        }
    }
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
}

/// After the last request: the judging thread's tally, the forwards drained, and the final
/// lines, each through the output and bounded in time.
async fn finish(
    app: Arc<App>,
    judge_thread: std::thread::JoinHandle<Summary>,
    workers: Vec<tokio::task::JoinHandle<()>>,
    skip_notices: Option<tokio::task::JoinHandle<()>>,
    save_path: Option<PathBuf>,
) -> Ended {
    app.judging.lock().unwrap_or_else(|e| e.into_inner()).take();
    // Judging waits on nothing but the processor; the bound is for a request that never ended.
    let judged = tokio::task::spawn_blocking(move || judge_thread.join().unwrap_or_default());
    let summary = match tokio::time::timeout(SHUTDOWN_GRACE, judged).await {
        Ok(Ok(summary)) => summary,
        _ => {
            app.output.say("the tally is incomplete: a request did not end");
            Summary::default()
        }
    };
    let forwards = match &app.forwarder {
        Some(forwarder) => {
            let pending = forwarder.pending();
            if pending > 0 {
                app.output.say(format!(
                    "forwarding the {} still waiting, for up to {} (Ctrl-C again to exit now)",
                    plural(pending as u64, "callback", "callbacks"),
                    crate::delivery::duration_text(app.options.drain_timeout)
                ));
            }
            Some(forwarder.drain(workers, app.options.drain_timeout).await)
        }
        None => None,
    };
    if let Some(notices) = skip_notices {
        notices.abort();
    }
    let ended = Ended {
        summary,
        requests: app.requests.load(Ordering::Relaxed),
        forwards,
        not_saved: app.not_saved.load(Ordering::Relaxed),
    };
    say_how_it_ended(&app, &ended, save_path.as_deref());
    app.output.flush(OUTPUT_GRACE);
    ended
}

/// The closing lines: the tally, what was not shown or not saved, and what became of the
/// forwards, with the command that replays the ones not forwarded.
fn say_how_it_ended(app: &App, ended: &Ended, save_path: Option<&std::path::Path>) {
    let output = &app.output;
    output.show(tally(&app.options, ended), 0);
    if ended.summary.signatures_valid {
        output.say(format!("note: {BODY_CAVEAT}"));
    }
    let not_shown = output.not_shown();
    if not_shown > 0 {
        output.say(format!("{} not shown: output blocked", plural(not_shown, "callback", "callbacks")));
    }
    if ended.not_saved > 0 {
        output.say(format!(
            "{} answered 500: the capture could not be saved (Tencent retries them)",
            plural(ended.not_saved, "request", "requests")
        ));
    }
    if let (Some(tally), Some(settings)) = (&ended.forwards, &app.options.forward) {
        let replay = replay_command(tally, &settings.target, save_path);
        match app.options.format {
            Format::Json => {
                let line = ForwardSummaryLine {
                    forwarded: tally.forwarded,
                    failed: tally.failed,
                    skipped: tally.skipped,
                    abandoned: tally.abandoned,
                    not_forwarded: tally.not_forwarded(),
                    replay: replay.clone(),
                };
                let mut text = Vec::new();
                let _ = Line::ForwardSummary(line).write_to(&mut text);
                output.show(text, 0);
            }
            _ => output.say(forward_tally_text(tally)),
        }
        if let Some(replay) = replay {
            output.say(format!("to forward them now: {}", escape(&replay)));
        } else if tally.not_forwarded() > 0 {
            output.say("without --save, what was not forwarded cannot be replayed");
        }
    }
}

/// The receiver's closing tally, always, as the chosen format writes it: in JSON the summary
/// line; for a person, worded for a receiver (`3 requests: 3 callbacks, 2 valid, 1 invalid, 0
/// warnings`), whatever the count.
fn tally(options: &Options, ended: &Ended) -> Vec<u8> {
    let mut out = Vec::new();
    let summary = &ended.summary;
    if options.format == Format::Json {
        let _ = JsonPrinter::new(&mut out).finish(summary);
        return out;
    }
    let _ = writeln!(
        out,
        "{}: {}, {} valid, {} invalid, {}",
        plural(ended.requests, "request", "requests"),
        plural(summary.callbacks, "callback", "callbacks"),
        summary.valid,
        summary.invalid,
        plural(summary.warnings, "warning", "warnings")
    );
    out
}

/// `forwarded 1,998 of 2,000 callbacks: 2 failed` and the like.
fn forward_tally_text(tally: &forward::Tally) -> String {
    let all = tally.forwarded + tally.not_forwarded();
    let mut text = format!("forwarded {} of {}", tally.forwarded, plural(all, "callback", "callbacks"));
    let parts: Vec<String> = [
        (tally.failed, "failed after every attempt"),
        (tally.skipped, "skipped: the backlog was full"),
        (tally.abandoned, "abandoned: still waiting when the drain timed out"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    if !parts.is_empty() {
        text.push_str(": ");
        text.push_str(&parts.join(", "));
    }
    text
}

/// The command that replays exactly the callbacks not forwarded, from the save file.
fn replay_command(tally: &forward::Tally, target: &Uri, save: Option<&Path>) -> Option<String> {
    let save = save?;
    if tally.not_forwarded_lines.is_empty() {
        return None;
    }
    Some(format!(
        "tiwhook send --lines {} {} {}",
        tally.not_forwarded_lines.to_list(),
        shell_word(&target.to_string()),
        shell_word(&save.to_string_lossy())
    ))
}

/// `word` as a shell reads it back: as it is when it is plain, else in single quotes.
fn shell_word(word: &str) -> String {
    let plain =
        !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./:@%+=,".contains(&b));
    if plain { word.to_string() } else { format!("'{}'", word.replace('\'', "'\\''")) }
}

/// Says, at most once a second, how many bodies a full backlog made be skipped.
async fn say_skips(forwarder: Arc<Forwarder>, output: Arc<Output>) {
    let mut said = 0;
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    loop {
        ticks.tick().await;
        let skipped = forwarder.skipped();
        if skipped > said {
            output.say(format!(
                "the forward backlog is full: {} skipped in the last second ({skipped} in all); \
                 they are in the tally at exit",
                plural(skipped - said, "callback", "callbacks")
            ));
            said = skipped;
        }
    }
}

/// An answer with a status, a content type and a body.
fn answer(status: StatusCode, content_type: &'static str, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// One request: only a `POST` is a callback; its body must come within the read timeout (else
/// 408) and hold at most [`MAX_BODY`] bytes (else 413).
async fn receive_request(
    app: Arc<App>,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    if parts.method != Method::POST {
        let mut refused = answer(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "only POST is a callback\n");
        refused.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        return refused;
    }
    let read = tokio::time::timeout(app.options.read_timeout, Limited::new(body, MAX_BODY).collect()).await;
    let body = match read {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(error)) if error.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
            return answer(StatusCode::PAYLOAD_TOO_LARGE, "text/plain", "the body is over 1 MiB\n");
        }
        // The client went away mid-body: nobody reads this answer.
        Ok(Err(_)) => return answer(StatusCode::BAD_REQUEST, "text/plain", "the body broke off\n"),
        Err(_) => return answer(StatusCode::REQUEST_TIMEOUT, "text/plain", "the body took too long\n"),
    };
    receive(&app, peer, &parts.uri, &parts.headers, body).await
}

async fn receive(
    app: &App,
    peer: SocketAddr,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Response<Full<Bytes>> {
    let number = app.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let received = jiff::Timestamp::now();
    let content_type = headers.get(header::CONTENT_TYPE);
    let content_encoding = headers.get(header::CONTENT_ENCODING);
    let target = uri.path_and_query().map_or_else(|| uri.path().to_string(), |pq| pq.as_str().to_string());
    let mut line = None;
    if let Some(saver) = &app.saver {
        let request = capture::Request {
            received_at: capture::received_at(received),
            peer: peer.to_string(),
            method: "POST".into(),
            target: target.clone(),
            content_type: content_type.map(|v| v.as_bytes().to_vec()).unwrap_or_default(),
            content_encoding: content_encoding.map(|v| v.as_bytes().to_vec()),
        };
        match saver.save(capture::line(&request, &body)).await {
            Ok(saved) => line = Some(saved),
            Err(error) => {
                app.not_saved.fetch_add(1, Ordering::Relaxed);
                app.output.say(format!("#{number}: cannot save the callback: {error}"));
                return answer(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "text/plain",
                    "could not save the callback\n",
                );
            }
        }
    }
    if let Some(forwarder) = &app.forwarder {
        forwarder.enqueue(Job {
            number,
            line,
            body: body.clone(),
            content_type: content_type.cloned(),
            content_encoding: content_encoding.cloned(),
        });
    }
    let (verdict, told) = match app.options.reject_invalid {
        true => {
            let (verdict, told) = oneshot::channel();
            (Some(verdict), Some(told))
        }
        false => (None, None),
    };
    let judging = Judging {
        number,
        received,
        peer,
        path: uri.path().to_string(),
        target,
        content_type: content_type.map(|v| v.as_bytes().to_vec()),
        body,
        encoding: content_encoding.map(|v| v.as_bytes().to_vec()),
        verdict,
    };
    let sender = app.judging.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if let Some(sender) = sender {
        let _ = sender.send(judging).await;
    }
    let valid = match told {
        Some(told) => told.await.unwrap_or(false),
        None => true,
    };
    if !valid {
        return answer(StatusCode::BAD_REQUEST, "application/json", "{\"error_code\":1}");
    }
    answer(StatusCode::OK, "application/json", "{\"error_code\":0}")
}

/// The judging thread: judges each body, counts its callbacks, shows the first (a body should
/// hold one) and tells the request its verdict when it waits for one; returns the tally.
fn judge_bodies(
    mut bodies: mpsc::Receiver<Judging>,
    policy: Policy,
    view: View,
    format: Format,
    output: &Output,
    inspector: Option<&ui::Inspector>,
) -> Summary {
    let mut summary = Summary { sources: 1, ..Summary::default() };
    while let Some(judging) = bodies.blocking_recv() {
        let now = judging.received.as_second();
        let policy = Policy { now, ..policy.clone() };
        let source = format!("#{} POST {}", judging.number, judging.path);
        let body =
            Body { bytes: &judging.body, encoding: judging.encoding.as_deref(), arrival: None, placed: None };
        let mut text = Vec::new();
        let mut shown_on_page = Vec::new();
        let judged = judge_body(&source, body, &policy, |report| {
            summary.add(&report);
            if text.is_empty() {
                text = render(format, &view, &report, &judging);
            }
            if inspector.is_some() {
                shown_on_page.push(ui::report_summary(&report));
            }
            Ok(())
        })
        .unwrap_or_default();
        if let Some(inspector) = inspector {
            let peer = judging.peer.to_string();
            let seen = ui::Seen {
                label: format!("#{}", judging.number),
                received: judging.received,
                peer: &peer,
                target: &judging.target,
                content_type: judging.content_type.as_deref(),
                content_encoding: judging.encoding.as_deref(),
                body: &judging.body,
                saved: false,
            };
            inspector.record(&seen, &shown_on_page);
        }
        if judged.reports == 0 {
            output.say(format!("{}: the body is empty", escape(&source)));
        }
        if judged.reports > 1 && format != Format::Json {
            let more = plural(judged.reports - 1, "more document", "more documents");
            let _ = writeln!(text, "  … and {more} in the same body, not shown");
        }
        output.show(text, judged.reports);
        if let Some(verdict) = judging.verdict {
            let _ = verdict.send(judged.all_valid);
        }
    }
    summary
}

/// One report as the chosen format shows it, with its arrival in the human views.
fn render(format: Format, view: &View, report: &Report<'_>, judging: &Judging) -> Vec<u8> {
    let mut out = Vec::new();
    let now = judging.received.as_second();
    let _ = match format {
        Format::Json => JsonPrinter::new(&mut out).callback(report),
        Format::Compact => {
            let mut printer = CompactPrinter::new(&mut out, view.clone());
            printer.set_clock(now);
            printer.callback(report)
        }
        Format::Human => {
            let arrived = timefmt::local(now.max(0) as u64, &view.zone);
            let _ = writeln!(out, "\nreceived {arrived} from {}", judging.peer);
            let mut printer = HumanPrinter::new(&mut out, view.clone());
            printer.set_clock(now);
            printer.callback(report)
        }
    };
    out
}

/// The line that says what became of one forward.
fn forward_line(format: Format, target: &Uri, outcome: &Outcome) -> Vec<u8> {
    let mut line = Vec::new();
    let number = outcome.number;
    match format {
        Format::Json => {
            let (status, millis, error) = match &outcome.result {
                Ok((status, took)) => (Some(*status), Some(took.as_millis()), None),
                Err(error) => (None, None, Some(error.as_str())),
            };
            let forward = ForwardLine { request: number, status, millis, attempts: outcome.attempts, error };
            let _ = Line::Forward(forward).write_to(&mut line);
        }
        _ => {
            let tries = match outcome.attempts {
                1 => String::new(),
                n => format!(" after {n} attempts"),
            };
            let _ = match &outcome.result {
                Ok((status, took)) => {
                    writeln!(
                        line,
                        "  → #{number} {target} answered {status} in {} ms{tries}",
                        took.as_millis()
                    )
                }
                Err(error) => writeln!(line, "  → #{number} {target} unreachable{tries}: {}", escape(error)),
            };
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_commands_quote_what_a_shell_would_split() {
        assert_eq!(shell_word("save.ndjson"), "save.ndjson");
        assert_eq!(shell_word("my captures/it's.ndjson"), "'my captures/it'\\''s.ndjson'");
        let mut tally = forward::Tally::default();
        let target: Uri = "http://127.0.0.1:3000/tiw".parse().unwrap();
        assert_eq!(replay_command(&tally, &target, Some(Path::new("s.ndjson"))), None);
        tally.not_forwarded_lines.insert(3);
        tally.not_forwarded_lines.insert(4);
        assert_eq!(
            replay_command(&tally, &target, Some(Path::new("s.ndjson"))).unwrap(),
            "tiwhook send --lines 3-4 http://127.0.0.1:3000/tiw s.ndjson"
        );
        assert_eq!(replay_command(&tally, &target, None), None);
    }
}
