//! `tiwhook send URL [PATH…]`: posts callbacks to a receiver the way Tencent does, and judges
//! each delivery as Tencent would.
//!
//! Callbacks are read like every reading command reads them (files, directories, stdin,
//! compressed, `--extract`, and capture files, whose bodies go as received, with their content
//! type and encoding), one request each. A delivery is **accepted** on HTTP 200 within the
//! timeout; anything else (another status, a connection error, no answer in time) is tried
//! again, every `--retry-interval`, `--retries` times, as Tencent does. An answer other than
//! `{"error_code":0}` (Tencent's recommendation) is a warning. `--duplicate`, `--shuffle`,
//! `--rate` and `--concurrency` reproduce Tencent's habits on demand.
//!
//! It runs as a stream, as the reading commands do: a reading thread cuts the inputs into
//! callbacks, document by document (so a gzip bomb or `/dev/zero` is read in bounded memory),
//! and hands them over in windows; `--shuffle` and `--duplicate` act within a window of up to
//! 1,000 callbacks. Each delivery is reported the moment it ends, and each retry when it is
//! scheduled; on a terminal a progress line on stderr says how the run goes. Ctrl-C at any
//! moment ends the run as interrupted, counting what was never attempted.

use std::io::{self, Read as _, Write as _};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::{Uri, header};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::sync::mpsc;

use crate::cli::{SendArgs, SendFormat};
use crate::codes::Code;
use crate::config::{self, Environment};
use crate::delivery;
use crate::exit_codes::ExitCode;
use crate::random::Random;
use crate::read::capture;
use crate::read::framing::{Item, MAX_DOCUMENT_BYTES};
use crate::read::items::{Framer, OpenInput, corrupt_archive, read_streams};
use crate::read::source::{Entry, expand};
use crate::read::tape::Node;
use crate::render::contract::{AttemptLine, DeliveryLine, DeliverySummaryLine, Line, RetryLine};
use crate::render::plural;
use crate::resign::sign_all;
use crate::sanitize::escape;

/// The most of an answer's body read; the rest is left unread.
const MAX_ANSWER: usize = 64 * 1024;
/// The answer Tencent recommends.
const ERROR_CODE_ZERO: &[u8] = b"{\"error_code\":0}";
/// Callbacks `--shuffle` and `--duplicate` act on together at most, and their bytes.
const WINDOW: usize = 1000;
const WINDOW_BYTES: usize = 8 * 1024 * 1024;
/// Windows the reading thread may be ahead by.
const WINDOWS_AHEAD: usize = 2;
/// After Ctrl-C, how long the rest of the input is read to count what was not sent.
const COUNT_AFTER_INTERRUPT: Duration = Duration::from_secs(2);
/// How long the end waits for an output that is not read, after Ctrl-C.
const OUTPUT_GRACE: Duration = Duration::from_secs(2);
/// How long a run goes before its progress line shows.
const PROGRESS_AFTER: Duration = Duration::from_secs(1);

/// One callback to deliver.
#[derive(Clone, Debug)]
struct Delivery {
    source: Arc<str>,
    line: u64,
    event_type: Option<String>,
    task_id: Option<String>,
    body: Bytes,
    /// A captured request's `Content-Type` and `Content-Encoding`, sent again as they came.
    content_type: Option<Vec<u8>>,
    content_encoding: Option<Vec<u8>>,
    /// 0 for the callback itself, 1.. for its duplicates.
    copy: u32,
    /// Its place in the input, for comparing the answers of its copies.
    original: u64,
}

/// What became of one attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Attempt {
    status: Option<u16>,
    millis: u128,
    error: Option<String>,
    answer: Vec<u8>,
}

impl Attempt {
    fn accepted(&self) -> bool {
        self.status == Some(200) && self.error.is_none()
    }

    fn failed(millis: u128, error: String) -> Attempt {
        Attempt { status: None, millis, error: Some(error), answer: Vec::new() }
    }

    /// `500 Internal Server Error`, or the error.
    fn said(&self) -> String {
        match (self.status, &self.error) {
            (Some(status), _) => {
                let reason = hyper::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason());
                reason.map_or(status.to_string(), |r| format!("{status} {r}"))
            }
            (None, Some(error)) => escape(error).into_owned(),
            (None, None) => "?".into(),
        }
    }
}

pub fn run(args: &SendArgs, env: &Environment) -> anyhow::Result<ExitCode> {
    let url = args.url.clone();
    let now = config::clock(args.now, env);
    let resign = if args.resign { Some(resigning_key(args, env, now)?) } else { None };
    let pause = args.rate.map(|rate| rate.pause);
    // Nothing is sent when an input is missing: a partial replay would mislead.
    let missing = missing_inputs(args);
    if !missing.is_empty() {
        for line in missing {
            eprintln!("{line}");
        }
        return Ok(ExitCode::Usage);
    }
    let interrupted = Arc::new(AtomicBool::new(false));
    let reporter = Arc::new(Reporter::new(args.format, args.quiet, args.duplicate));
    let (windows, received) = mpsc::channel::<Vec<Delivery>>(WINDOWS_AHEAD);
    let reading = {
        let (args, interrupted, reporter) = (args.clone(), interrupted.clone(), reporter.clone());
        std::thread::spawn(move || read_deliveries(&args, resign.as_ref(), &windows, &interrupted, &reporter))
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the sender")?;
    let plan = Plan {
        url,
        timeout: args.timeout,
        retries: args.retries,
        interval: args.retry_interval,
        concurrency: usize::from(args.concurrency.max(1)),
        pause,
    };
    let stop = ctrl_c_watch(&runtime);
    let outcome = runtime.block_on(send_all(plan, received, reporter.clone(), interrupted, stop.clone()));
    let read = reading.join().unwrap_or_default();
    let mut tally = reporter.finish();
    tally.interrupted |= outcome.interrupted;
    tally.not_attempted = outcome.not_attempted + read.not_attempted;
    tally.not_json = read.not_json;
    tally.counted_all = read.counted_all;
    if tally.deliveries == 0 && tally.not_sent() == 0 && !tally.interrupted && read.unreadable == 0 {
        let inputs = if args.paths.is_empty() { "stdin".into() } else { format!("{:?}", args.paths) };
        reporter.writer.send(Text::Err(format!("tiwhook: no callbacks to send in {inputs}\n").into_bytes()));
        reporter.writer.close(None);
        return Ok(ExitCode::Usage);
    }
    let mut summary = Vec::new();
    write_summary(&mut summary, args.format, &tally)?;
    reporter.write(&summary);
    if !write_out(&runtime, &reporter, tally.interrupted, stop) {
        tally.interrupted = true;
    }
    // A wait still blocked on the output is left behind, not waited for.
    runtime.shutdown_background();
    let delivered = tally.accepted == tally.deliveries && tally.not_sent() == 0 && !tally.interrupted;
    let code = if delivered { ExitCode::Success } else { ExitCode::Failure };
    Ok(code.with_unreadable(read.unreadable))
}

/// The key and the new `ExpireTime` of `--resign`: the first key, `--expire-in` from the clock.
fn resigning_key(args: &SendArgs, env: &Environment, now: i64) -> anyhow::Result<(Vec<u8>, u64)> {
    let keys = config::keys(&args.keys, env).map_err(anyhow::Error::msg)?;
    let Some(key) = keys.first() else {
        bail!("no callback key: --resign needs --key, --key-file or TIW_CALLBACK_KEY");
    };
    let expire = u64::try_from(now.saturating_add(args.expire_in)).context("--expire-in: before 1970")?;
    Ok((key.secret_for_signing().to_vec(), expire))
}

/// The inputs that cannot be listed, said as a line each.
fn missing_inputs(args: &SendArgs) -> Vec<String> {
    let unlisted = expand(&args.paths, args.extract).into_iter().filter_map(|entry| match entry {
        Entry::Unlisted(unlisted) => Some(unlisted),
        _ => None,
    });
    unlisted.map(|u| format!("tiwhook: {}: {}", escape(&u.name), u.error)).collect()
}

/// Ctrl-C, caught once for the whole run, so that one that comes between two waits is not lost:
/// the receiver turns `true` at the first.
fn ctrl_c_watch(runtime: &tokio::runtime::Runtime) -> tokio::sync::watch::Receiver<bool> {
    runtime.block_on(async {
        let (stopped, stop) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                let _ = stopped.send(true);
            }
        });
        stop
    })
}

/// Writes out everything the reporter holds, however slowly it is read; an interrupted run, or a
/// Ctrl-C while the output is stuck, waits two seconds at most. Whether it was all written.
fn write_out(
    runtime: &tokio::runtime::Runtime,
    reporter: &Arc<Reporter>,
    interrupted: bool,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> bool {
    if interrupted {
        return reporter.writer.close(Some(OUTPUT_GRACE));
    }
    runtime.block_on(async {
        let writer = reporter.clone();
        let all = tokio::task::spawn_blocking(move || writer.writer.close(None));
        tokio::select! {
            done = all => done.unwrap_or(false),
            _ = stop.wait_for(|&stopped| stopped) => reporter.writer.close(Some(OUTPUT_GRACE)),
        }
    })
}

/// What the reading thread found.
#[derive(Debug, Default)]
struct Read {
    /// Pieces that were not JSON, said on stderr and not sent.
    not_json: u64,
    /// Inputs that could not be opened.
    unreadable: u64,
    /// Callbacks read but never handed over, after Ctrl-C.
    not_attempted: u64,
    /// Whether the count after Ctrl-C reached the end of the input (else it is a lower bound).
    counted_all: bool,
}

/// The windows of callbacks to deliver, as the reading thread fills them.
struct Windows<'a> {
    args: &'a SendArgs,
    resign: Option<&'a (Vec<u8>, u64)>,
    sink: &'a mpsc::Sender<Vec<Delivery>>,
    interrupted: &'a AtomicBool,
    window: Vec<Delivery>,
    bytes: usize,
    random: Option<Random>,
    read: Read,
    read_so_far: u64,
    /// The sender is gone or Ctrl-C came: callbacks are only counted from now on.
    counting_since: Option<Instant>,
}

impl Windows<'_> {
    fn size(&self) -> usize {
        if self.args.shuffle.is_some() || self.args.duplicate > 0 { WINDOW } else { 1 }
    }

    /// Takes one callback; false once counting has run out of time (stop reading).
    fn push(&mut self, mut delivery: Delivery) -> bool {
        if self.counting_since.is_none() && self.interrupted.load(Ordering::Relaxed) {
            self.stop_sending();
        }
        if let Some(since) = self.counting_since {
            self.read.not_attempted += 1;
            return since.elapsed() < COUNT_AFTER_INTERRUPT;
        }
        if let Some((key, expire)) = self.resign {
            // An encoded body is signed decoded, and sent so.
            if let Some(encoding) = delivery.content_encoding.take() {
                match capture::decode_body(Some(&encoding), &delivery.body, MAX_DOCUMENT_BYTES) {
                    Ok(decoded) => delivery.body = Bytes::from(decoded),
                    Err(_) => delivery.content_encoding = Some(encoding),
                }
            }
            delivery.body = Bytes::from(sign_all(&delivery.body, key, *expire).bytes);
        }
        delivery.original = self.read_so_far;
        self.read_so_far += 1;
        self.bytes += delivery.body.len();
        self.window.push(delivery);
        if self.window.len() >= self.size() || self.bytes >= WINDOW_BYTES {
            self.flush();
        }
        true
    }

    /// Hands the window over, with its duplicates, shuffled if asked.
    fn flush(&mut self) {
        if self.window.is_empty() {
            return;
        }
        let mut window = std::mem::take(&mut self.window);
        self.bytes = 0;
        let originals = window.len();
        for copy in 1..=self.args.duplicate {
            for n in 0..originals {
                let delivery = Delivery { copy, ..window[n].clone() };
                window.push(delivery);
            }
        }
        if let Some(random) = &mut self.random {
            for i in (1..window.len()).rev() {
                let j = random.below(i as u64 + 1) as usize;
                window.swap(i, j);
            }
        }
        let count = window.len() as u64;
        if self.sink.blocking_send(window).is_err() {
            // The sender stopped (Ctrl-C): what was in hand was never attempted.
            self.read.not_attempted += count;
            self.stop_sending();
        }
    }

    fn stop_sending(&mut self) {
        self.read.not_attempted += self.window.len() as u64 * (1 + u64::from(self.args.duplicate));
        self.window.clear();
        self.counting_since = Some(Instant::now());
    }
}

/// The reading thread: every callback of the inputs, in windows, until the end or Ctrl-C.
fn read_deliveries(
    args: &SendArgs,
    resign: Option<&(Vec<u8>, u64)>,
    sink: &mpsc::Sender<Vec<Delivery>>,
    interrupted: &AtomicBool,
    reporter: &Reporter,
) -> Read {
    let mut windows = Windows {
        args,
        resign,
        sink,
        interrupted,
        window: Vec::new(),
        bytes: 0,
        random: args.shuffle.map(|seed| Random::new(seed.unwrap_or(0))),
        read: Read::default(),
        read_so_far: 0,
        counting_since: None,
    };
    let mut stderr = Diagnostics(&reporter.writer);
    let unreadable = read_streams(&args.paths, args.extract, &mut stderr, |input, diagnostics| {
        if args.raw {
            read_raw(input, &mut windows, diagnostics)
        } else {
            read_input(input, &mut windows, diagnostics)
        }
    });
    windows.flush();
    windows.read.unreadable = unreadable.unwrap_or(0);
    windows.read.counted_all =
        windows.counting_since.is_none_or(|since| since.elapsed() < COUNT_AFTER_INTERRUPT);
    windows.read
}

/// The callbacks of one input, document by document.
fn read_input(
    input: OpenInput,
    windows: &mut Windows<'_>,
    diagnostics: &mut dyn io::Write,
) -> io::Result<()> {
    let name: Arc<str> = Arc::from(input.name.as_str());
    let selected = |line: u64| windows.args.lines.as_ref().is_none_or(|lines| lines.contains(line));
    let mut framer = Framer::new(input.reader, windows.args.extract);
    loop {
        let item = match framer.next_item() {
            Ok(Some(item)) => item,
            Ok(None) => return Ok(()),
            Err(error) => {
                let message = corrupt_archive(&error).unwrap_or_else(|| format!("read error: {error}"));
                let broken = framer.broken_off(Code::CorruptArchive, message.clone());
                windows.read.not_json += 1;
                let at = broken.start;
                return writeln!(
                    diagnostics,
                    "tiwhook: {}:{}:{}: {}",
                    escape(&name),
                    at.line,
                    at.column,
                    escape(&message)
                );
            }
        };
        let delivery = match item {
            Item::Document(document) if !selected(document.start.line) => continue,
            Item::Broken(broken) if !selected(broken.start.line) => continue,
            Item::Document(document) => {
                let (root, line) = (document.doc.root(), document.start.line);
                match capture::body_of(document.doc.bytes(), root) {
                    // A capture's body goes as it was received, with its headers.
                    Some(captured) => {
                        let encoding = captured.content_encoding.as_deref();
                        let decoded = capture::decode_body(encoding, &captured.body, MAX_DOCUMENT_BYTES)
                            .unwrap_or_default();
                        let mut framer = Framer::new(&decoded[..], false);
                        let first = match framer.next_item() {
                            Ok(Some(Item::Document(d))) => Some(d.doc.root()),
                            _ => None,
                        };
                        let mut delivery = delivery(&name, line, first, Bytes::from(captured.body));
                        delivery.content_type = Some(captured.content_type).filter(|t| !t.is_empty());
                        delivery.content_encoding = captured.content_encoding;
                        delivery
                    }
                    None => delivery(&name, line, Some(root), Bytes::copy_from_slice(document.doc.bytes())),
                }
            }
            Item::Broken(broken) => {
                windows.read.not_json += 1;
                let hint = broken.help.clone().unwrap_or_else(|| "--raw sends bodies as they are".into());
                writeln!(
                    diagnostics,
                    "tiwhook: {}:{}:{}: not sent: {} ({})",
                    escape(&name),
                    broken.at.line,
                    broken.at.column,
                    escape(&broken.message),
                    escape(&hint)
                )?;
                continue;
            }
        };
        if !windows.push(delivery) {
            return Ok(());
        }
    }
}

/// `--raw`: each non-empty line as it is, JSON or not, for testing a receiver's error handling.
fn read_raw(input: OpenInput, windows: &mut Windows<'_>, diagnostics: &mut dyn io::Write) -> io::Result<()> {
    let name: Arc<str> = Arc::from(input.name.as_str());
    let mut reader = io::BufReader::new(input.reader);
    let mut line = Vec::new();
    let mut number = 0u64;
    loop {
        line.clear();
        number += 1;
        let read = (&mut reader).take(MAX_DOCUMENT_BYTES as u64 + 1).read_until(b'\n', &mut line);
        match read {
            Ok(0) => return Ok(()),
            Ok(_) if line.len() > MAX_DOCUMENT_BYTES && !line.ends_with(b"\n") => {
                windows.read.not_json += 1;
                writeln!(diagnostics, "tiwhook: {}:{number}: not sent: a line over 16 MiB", escape(&name))?;
                // Skip the rest of that line.
                let mut rest = Vec::new();
                loop {
                    rest.clear();
                    let n = (&mut reader).take(64 * 1024).read_until(b'\n', &mut rest)?;
                    if n == 0 || rest.ends_with(b"\n") {
                        break;
                    }
                }
                continue;
            }
            Ok(_) => {}
            Err(error) => return writeln!(diagnostics, "tiwhook: {}: read error: {error}", escape(&name)),
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        let selected = windows.args.lines.as_ref().is_none_or(|lines| lines.contains(number));
        if text.iter().all(u8::is_ascii_whitespace) || !selected {
            continue;
        }
        if !windows.push(delivery(&name, number, None, Bytes::copy_from_slice(text))) {
            return Ok(());
        }
    }
}

use std::io::BufRead as _;

fn delivery(source: &Arc<str>, line: u64, root: Option<Node<'_>>, body: Bytes) -> Delivery {
    let text = |node: Option<Node<'_>>| node.and_then(|n| n.as_str()).map(str::to_string);
    Delivery {
        source: source.clone(),
        line,
        event_type: text(root.and_then(|r| r.get("EventType"))),
        task_id: text(root.and_then(|r| r.get("EventData")).and_then(|d| d.get("TaskId"))),
        body,
        content_type: None,
        content_encoding: None,
        copy: 0,
        original: 0,
    }
}

/// How to send.
struct Plan {
    url: Uri,
    timeout: Duration,
    retries: u32,
    interval: Duration,
    concurrency: usize,
    /// The pause between the starts of two deliveries (`--rate`).
    pause: Option<Duration>,
}

type Https = HttpsConnector<HttpConnector>;

/// The clients a run uses: one that keeps connections alive, and one that never reuses a
/// connection, for trying again at once a request that a kept connection lost.
struct Clients {
    pooled: Client<Https, Full<Bytes>>,
    fresh: Client<Https, Full<Bytes>>,
}

impl Clients {
    fn new() -> Clients {
        let https = || {
            hyper_rustls::HttpsConnectorBuilder::new()
                .with_webpki_roots()
                .https_or_http()
                .enable_http1()
                .build()
        };
        Clients {
            pooled: Client::builder(TokioExecutor::new()).build(https()),
            fresh: Client::builder(TokioExecutor::new()).pool_max_idle_per_host(0).build(https()),
        }
    }
}

/// How the sending ended.
struct Sent {
    interrupted: bool,
    /// Callbacks handed over but never attempted.
    not_attempted: u64,
}

/// Sends every window, `concurrency` deliveries at a time, paced by `pause`; Ctrl-C stops
/// starting new ones and cuts those in flight short.
async fn send_all(
    plan: Plan,
    mut windows: mpsc::Receiver<Vec<Delivery>>,
    reporter: Arc<Reporter>,
    interrupted: Arc<AtomicBool>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Sent {
    let clients = Arc::new(Clients::new());
    let plan = Arc::new(plan);
    let gate = Arc::new(tokio::sync::Semaphore::new(plan.concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    let mut interrupt = std::pin::pin!(async move {
        let _ = stop.wait_for(|&stopped| stopped).await;
    });
    let progress = tokio::spawn(reporter.clone().show_progress_after(PROGRESS_AFTER));
    let mut sent = Sent { interrupted: false, not_attempted: 0 };
    'windows: loop {
        let window = tokio::select! {
            window = windows.recv() => match window {
                Some(window) => window,
                None => break,
            },
            _ = &mut interrupt => { sent.interrupted = true; break; }
        };
        let mut rest = window.into_iter();
        while let Some(delivery) = rest.next() {
            let permit = tokio::select! {
                permit = gate.clone().acquire_owned() => permit.ok(),
                _ = &mut interrupt => None,
            };
            let Some(permit) = permit else {
                sent.interrupted = true;
                sent.not_attempted += 1 + rest.len() as u64;
                break 'windows;
            };
            reporter.started();
            let (clients, shared, reporter) = (clients.clone(), plan.clone(), reporter.clone());
            tasks.spawn(async move {
                let attempts = deliver(&clients, &shared, &delivery, &reporter).await;
                // Reported before the next delivery may start: one at a time, in order.
                reporter.finished(&delivery, &attempts);
                drop(permit);
            });
            while tasks.try_join_next().is_some() {}
            if let Some(pause) = plan.pause {
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    _ = &mut interrupt => {
                        sent.interrupted = true;
                        sent.not_attempted += rest.len() as u64;
                        break 'windows;
                    }
                }
            }
        }
    }
    if !sent.interrupted {
        loop {
            tokio::select! {
                next = tasks.join_next() => if next.is_none() { break },
                _ = &mut interrupt => { sent.interrupted = true; break; }
            }
        }
    }
    if sent.interrupted {
        interrupted.store(true, Ordering::Relaxed);
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
        // What the reading thread handed over and nothing took: never attempted.
        windows.close();
        while let Some(window) = windows.recv().await {
            sent.not_attempted += window.len() as u64;
        }
    }
    progress.abort();
    sent
}

/// Delivers one callback: the first attempt, then retries until one is accepted, each retry
/// said when it is scheduled.
async fn deliver(clients: &Clients, plan: &Plan, delivery: &Delivery, reporter: &Reporter) -> Vec<Attempt> {
    let of = plan.retries.saturating_add(1);
    delivery::with_retries(
        plan.retries,
        plan.interval,
        |_| attempt_once(clients, plan, delivery),
        Attempt::accepted,
        |next, failed| reporter.retrying(delivery, next, of, plan.interval, failed),
    )
    .await
}

/// One POST, bounded by the timeout from the first byte sent to the answer's last byte read. A
/// kept-alive connection that the receiver had closed (it answered and hung up without saying
/// so) loses the request before any byte of an answer: that is tried again at once on a new
/// connection, and is not an attempt of its own.
async fn attempt_once(clients: &Clients, plan: &Plan, delivery: &Delivery) -> Attempt {
    let started = Instant::now();
    let exchange = async {
        match exchange(&clients.pooled, plan, delivery).await {
            Err(error) if is_stale_connection(&error) => exchange(&clients.fresh, plan, delivery).await,
            result => result,
        }
        .map_err(|e| delivery::describe(&e))
    };
    match tokio::time::timeout(plan.timeout, exchange).await {
        Ok(Ok((status, answer))) => {
            Attempt { status: Some(status), millis: started.elapsed().as_millis(), error: None, answer }
        }
        Ok(Err(error)) => Attempt::failed(started.elapsed().as_millis(), error),
        Err(_) => Attempt::failed(
            started.elapsed().as_millis(),
            format!("timed out after {}", delivery::duration_text(plan.timeout)),
        ),
    }
}

async fn exchange(
    client: &Client<Https, Full<Bytes>>,
    plan: &Plan,
    delivery: &Delivery,
) -> Result<(u16, Vec<u8>), hyper_util::client::legacy::Error> {
    let content_type = delivery.content_type.as_deref().unwrap_or(b"application/json");
    let mut request = hyper::Request::post(plan.url.clone()).header(header::CONTENT_TYPE, content_type);
    if let Some(encoding) = &delivery.content_encoding {
        request = request.header(header::CONTENT_ENCODING, &encoding[..]);
    }
    // The URL was checked and the header values came from a request: building cannot fail, but
    // a body of nothing stands in rather than a panic.
    let request = request.body(Full::new(delivery.body.clone())).unwrap_or_default();
    let response = client.request(request).await?;
    let status = response.status().as_u16();
    // At most MAX_ANSWER bytes of the answer are kept; an endless one is cut off there.
    let answer = match Limited::new(response.into_body(), MAX_ANSWER).collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(_) => Vec::new(),
    };
    Ok((status, answer))
}

/// Whether a request was lost on a kept-alive connection the receiver had already closed: not a
/// failed connect, but the connection closed or reset before any byte of the answer.
fn is_stale_connection(error: &hyper_util::client::legacy::Error) -> bool {
    if error.is_connect() {
        return false;
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(current) = cause {
        if let Some(hyper) = current.downcast_ref::<hyper::Error>()
            && (hyper.is_incomplete_message() || hyper.is_canceled())
        {
            return true;
        }
        if let Some(io) = current.downcast_ref::<io::Error>()
            && matches!(io.kind(), io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe)
        {
            return true;
        }
        cause = current.source();
    }
    false
}

/// The tally of a run.
#[derive(Default)]
struct Tally {
    deliveries: u64,
    accepted: u64,
    retried: u64,
    slowest: u128,
    interrupted: bool,
    in_flight: u64,
    not_json: u64,
    not_attempted: u64,
    counted_all: bool,
}

impl Tally {
    fn not_sent(&self) -> u64 {
        self.not_json + self.not_attempted
    }
}

/// Says what becomes of each delivery, the moment it is known, and keeps the tally.
struct Reporter {
    format: SendFormat,
    state: Mutex<ReporterState>,
    progress: indicatif::ProgressBar,
    quiet: bool,
    started: Instant,
    writer: Writer,
}

/// Where a text goes.
enum Text {
    Out(Vec<u8>),
    Err(Vec<u8>),
}

/// One thread that writes the run's text to stdout and stderr, so that deliveries (and Ctrl-C)
/// never wait on a terminal or a pipe that stopped reading; nothing is dropped: a slow reader
/// only delays the end.
struct Writer {
    texts: Mutex<Option<std::sync::mpsc::Sender<Text>>>,
    /// The progress line is on (on a terminal): texts are written out of its way.
    progress_shown: Arc<AtomicBool>,
    /// Set once everything handed over was written; any number may wait for it.
    done: Arc<(Mutex<bool>, std::sync::Condvar)>,
}

impl Writer {
    fn start(progress: indicatif::ProgressBar) -> Writer {
        let (texts, waiting) = std::sync::mpsc::channel::<Text>();
        let done = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
        let finished = done.clone();
        let progress_shown = Arc::new(AtomicBool::new(false));
        let shown = progress_shown.clone();
        std::thread::spawn(move || {
            for text in waiting {
                // A closed stream loses the text only; the run goes on.
                let write = || {
                    let _ = match &text {
                        Text::Out(bytes) => {
                            io::stdout().lock().write_all(bytes).and_then(|()| io::stdout().flush())
                        }
                        Text::Err(bytes) => io::stderr().lock().write_all(bytes),
                    };
                };
                if shown.load(Ordering::Relaxed) { progress.suspend(write) } else { write() }
            }
            let (flag, signal) = &*finished;
            *flag.lock().unwrap_or_else(|e| e.into_inner()) = true;
            signal.notify_all();
        });
        Writer { texts: Mutex::new(Some(texts)), progress_shown, done }
    }

    fn send(&self, text: Text) {
        if let Some(texts) = self.texts.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            let _ = texts.send(text);
        }
    }

    /// No more text: waits until all was written, or (`Some`) that long at most.
    fn close(&self, grace: Option<Duration>) -> bool {
        self.texts.lock().unwrap_or_else(|e| e.into_inner()).take();
        let (flag, signal) = &*self.done;
        let written = flag.lock().unwrap_or_else(|e| e.into_inner());
        match grace {
            Some(grace) => signal.wait_timeout_while(written, grace, |done| !*done).is_ok_and(|(w, _)| *w),
            None => signal.wait_while(written, |done| !*done).is_ok_and(|w| *w),
        }
    }
}

/// What the reading thread says on stderr, through the writer.
struct Diagnostics<'a>(&'a Writer);

impl io::Write for Diagnostics<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.send(Text::Err(buf.to_vec()));
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// An answer's status and body.
type Answer = (Option<u16>, Vec<u8>);

struct ReporterState {
    tally: Tally,
    /// The answer to each callback's first delivery, to compare its copies' with (only with
    /// `--duplicate`), and how many of its deliveries are still to come: an entry goes once its
    /// last copy is in, so memory stays bounded by what is in flight.
    first_answers: Option<std::collections::HashMap<u64, (Answer, u32)>>,
    copies: u32,
}

impl Reporter {
    fn new(format: SendFormat, quiet: bool, duplicates: u32) -> Reporter {
        let progress = indicatif::ProgressBar::hidden();
        Reporter {
            writer: Writer::start(progress.clone()),
            format,
            state: Mutex::new(ReporterState {
                tally: Tally::default(),
                first_answers: (duplicates > 0).then(Default::default),
                copies: duplicates,
            }),
            progress,
            quiet,
            started: Instant::now(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ReporterState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// After `after`, a progress line on stderr, when stderr is a terminal and not `--quiet`.
    async fn show_progress_after(self: Arc<Self>, after: Duration) {
        tokio::time::sleep(after).await;
        // Only on a terminal: the bar is never touched otherwise, so that a pipe nobody reads
        // cannot hold it (and with it every delivery) while the writer waits on the pipe.
        if self.quiet || !io::IsTerminal::is_terminal(&io::stderr()) {
            return;
        }
        if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg}") {
            self.progress.set_style(style);
        }
        self.progress.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        self.progress.enable_steady_tick(Duration::from_millis(200));
        self.writer.progress_shown.store(true, Ordering::Relaxed);
        let state = self.state();
        self.update_progress(&state.tally);
    }

    fn update_progress(&self, tally: &Tally) {
        if !self.writer.progress_shown.load(Ordering::Relaxed) {
            return;
        }
        let done = tally.deliveries;
        let rate = done as f64 / self.started.elapsed().as_secs_f64().max(0.001);
        self.progress.set_message(format!(
            "{done} done: {} accepted, {} failed, {} in flight, {rate:.1}/s",
            tally.accepted,
            done - tally.accepted,
            tally.in_flight
        ));
    }

    /// Writes `text` to stdout now, out of the progress line's way.
    fn write(&self, text: &[u8]) {
        self.writer.send(Text::Out(text.to_vec()));
    }

    fn started(&self) {
        let mut state = self.state();
        state.tally.in_flight += 1;
        self.update_progress(&state.tally);
    }

    fn retrying(&self, delivery: &Delivery, next: u32, of: u32, pause: Duration, failed: &Attempt) {
        let mut line = Vec::new();
        let _ = match self.format {
            SendFormat::Json => Line::Retry(RetryLine {
                source: &delivery.source,
                line: delivery.line,
                copy: delivery.copy,
                attempt: next,
                of,
                in_millis: pause.as_millis(),
                status: failed.status,
                error: failed.error.as_deref(),
            })
            .write_to(&mut line),
            SendFormat::Human => writeln!(
                line,
                "  ↻ {}:{}  attempt {next} of {of} in {}: {}",
                escape(&delivery.source),
                delivery.line,
                delivery::duration_text(pause),
                failed.said()
            ),
        };
        self.write(&line);
    }

    fn finished(&self, delivery: &Delivery, attempts: &[Attempt]) {
        let last = attempts.last();
        let accepted = last.is_some_and(Attempt::accepted);
        let answer = last.map(|a| (a.status, a.answer.clone())).unwrap_or_default();
        let changed = {
            let mut state = self.state();
            let tally = &mut state.tally;
            tally.in_flight = tally.in_flight.saturating_sub(1);
            tally.deliveries += 1;
            tally.accepted += u64::from(accepted);
            tally.retried += u64::from(attempts.len() > 1);
            tally.slowest = tally.slowest.max(attempts.iter().map(|a| a.millis).max().unwrap_or(0));
            self.update_progress(&state.tally);
            let copies = state.copies;
            match &mut state.first_answers {
                Some(first) => match first.get_mut(&delivery.original) {
                    Some((first_answer, left)) => {
                        let changed = *first_answer != answer;
                        *left -= 1;
                        if *left == 0 {
                            first.remove(&delivery.original);
                        }
                        changed
                    }
                    None => {
                        first.insert(delivery.original, (answer.clone(), copies));
                        false
                    }
                },
                None => false,
            }
        };
        let error_code_zero = accepted && answer.1.trim_ascii() == ERROR_CODE_ZERO;
        let line = match self.format {
            SendFormat::Json => delivery_json(delivery, attempts, accepted, error_code_zero, changed),
            SendFormat::Human => {
                delivery_text(delivery, attempts, accepted, error_code_zero, changed, &answer.1)
            }
        };
        self.write(&line);
    }

    /// The tally; deliveries still in flight (cut short by Ctrl-C) count as failed.
    fn finish(&self) -> Tally {
        if self.writer.progress_shown.load(Ordering::Relaxed) {
            self.progress.finish_and_clear();
        }
        let mut state = self.state();
        let mut tally = std::mem::take(&mut state.tally);
        tally.interrupted |= tally.in_flight > 0;
        tally.deliveries += tally.in_flight;
        tally.in_flight = 0;
        tally
    }
}

fn delivery_json(
    delivery: &Delivery,
    attempts: &[Attempt],
    accepted: bool,
    error_code_zero: bool,
    changed: bool,
) -> Vec<u8> {
    let mut line = Vec::new();
    let attempt_lines: Vec<AttemptLine> = attempts
        .iter()
        .map(|a| AttemptLine { status: a.status, millis: a.millis, error: a.error.as_deref() })
        .collect();
    let _ = Line::Delivery(DeliveryLine {
        source: &delivery.source,
        line: delivery.line,
        copy: delivery.copy,
        event_type: delivery.event_type.as_deref(),
        task_id: delivery.task_id.as_deref(),
        outcome: if accepted { "accepted" } else { "failed" },
        attempts: attempt_lines,
        error_code_zero,
        answer_changed: changed,
    })
    .write_to(&mut line);
    line
}

fn delivery_text(
    delivery: &Delivery,
    attempts: &[Attempt],
    accepted: bool,
    error_code_zero: bool,
    changed: bool,
    answer: &[u8],
) -> Vec<u8> {
    let mut line = Vec::new();
    let mark = if accepted { "✓" } else { "✗" };
    let event = delivery.event_type.as_deref().map_or("(no event type)".into(), escape);
    let task = delivery.task_id.as_deref().map(|t| format!("  task {}", escape(t))).unwrap_or_default();
    let copy = if delivery.copy > 0 { format!("  (copy {})", delivery.copy) } else { String::new() };
    let trail: Vec<String> = attempts
        .iter()
        .map(|a| match (a.status, &a.error) {
            (Some(status), _) => status.to_string(),
            (None, Some(error)) => escape(error).into_owned(),
            (None, None) => "?".into(),
        })
        .collect();
    let took = attempts.iter().map(|a| a.millis).sum::<u128>();
    let outcome = match (accepted, attempts.len()) {
        (true, 1) => format!("accepted: 200 in {took} ms"),
        (true, n) => format!("accepted after {n} attempts ({}) in {took} ms", trail.join(", ")),
        (false, n) => {
            format!("failed after {}: {}", plural(n as u64, "attempt", "attempts"), trail.join(", "))
        }
    };
    let _ = writeln!(
        line,
        "{mark} {}:{}  {event}{task}{copy}  {outcome}",
        escape(&delivery.source),
        delivery.line
    );
    if accepted && !error_code_zero {
        let body = String::from_utf8_lossy(answer);
        let shown: String = body.chars().take(80).collect();
        let _ = writeln!(line, "  warning: the answer was `{}`, not {{\"error_code\":0}}", escape(&shown));
    }
    if changed {
        let _ = writeln!(
            line,
            "  warning: this copy got another answer than the first delivery: the receiver may not be idempotent"
        );
    }
    line
}

/// Writes the summary of a run.
fn write_summary(out: &mut dyn io::Write, format: SendFormat, tally: &Tally) -> io::Result<()> {
    let failed = tally.deliveries - tally.accepted;
    match format {
        SendFormat::Json => {
            let mut line = Vec::new();
            Line::DeliverySummary(DeliverySummaryLine {
                deliveries: tally.deliveries,
                accepted: tally.accepted,
                failed,
                retried: tally.retried,
                not_sent: tally.not_sent(),
                not_json: tally.not_json,
                slowest_millis: tally.slowest,
                interrupted: tally.interrupted,
            })
            .write_to(&mut line)?;
            out.write_all(&line)
        }
        SendFormat::Human => {
            let mut summary = format!(
                "{} sent: {} accepted, {failed} failed, {} retried; slowest attempt {} ms",
                plural(tally.deliveries, "delivery", "deliveries"),
                tally.accepted,
                tally.retried,
                tally.slowest
            );
            if tally.not_json > 0 {
                summary.push_str(&format!("; {} not sent (not JSON)", tally.not_json));
            }
            if tally.not_attempted > 0 {
                let at_least = if tally.counted_all { "" } else { "at least " };
                summary.push_str(&format!("; {at_least}{} not sent (interrupted)", tally.not_attempted));
            }
            if tally.interrupted {
                summary.push_str("; interrupted");
            }
            writeln!(out, "{summary}")
        }
    }
}
