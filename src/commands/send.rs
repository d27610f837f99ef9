//! `tiwhook send URL [PATH…]`: posts callbacks to a receiver the way Tencent does, and judges
//! each delivery as Tencent would.
//!
//! Callbacks are read like every reading command reads them (files, directories, stdin,
//! compressed, `--extract`, and capture files, whose bodies go as received), one request each,
//! `Content-Type: application/json`. A delivery is **accepted** on HTTP 200 within the timeout;
//! anything else (another status, a connection error, no answer in time) is tried again, every
//! `--retry-interval`, `--retries` times, as Tencent does. Each attempt is recorded. An answer
//! other than `{"error_code":0}` (Tencent's recommendation) is a warning. `--duplicate`,
//! `--shuffle`, `--rate` and `--concurrency` reproduce Tencent's habits on demand.

use std::io::{self, Write as _};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::body::Bytes;
use axum::http::{Uri, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::cli::{SendArgs, SendFormat};
use crate::commands::example::Random;
use crate::commands::sign::sign_all;
use crate::config::{self, Environment};
use crate::exit_codes::ExitCode;
use crate::read::capture;
use crate::read::extract::Extracted;
use crate::read::framing::{Documents, Item, MAX_DOCUMENT_BYTES};
use crate::read::source;
use crate::read::tape::Node;
use crate::render::contract::{AttemptLine, DeliveryLine, DeliverySummaryLine, Line};
use crate::sanitize::escape;
use crate::timefmt;

/// The most of an answer's body read; the rest is left unread.
const MAX_ANSWER: usize = 64 * 1024;
/// The answer Tencent recommends.
const ERROR_CODE_ZERO: &[u8] = b"{\"error_code\":0}";

/// One callback to deliver.
#[derive(Clone, Debug)]
struct Delivery {
    source: String,
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
    original: usize,
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
}

pub fn run(args: &SendArgs, env: &Environment) -> anyhow::Result<ExitCode> {
    let url = parse_url(&args.url).map_err(anyhow::Error::msg)?;
    let timeout = millis("--timeout", &args.timeout)?;
    let interval = millis("--retry-interval", &args.retry_interval)?;
    let now = config::clock(args.now.as_deref(), env).map_err(anyhow::Error::msg)?;
    let resign = if args.resign {
        let keys = config::keys(&args.keys, env).map_err(anyhow::Error::msg)?;
        let Some(key) = keys.first() else {
            bail!("no callback key: --resign needs --key, --key-file or TIW_CALLBACK_KEY");
        };
        let expire_in =
            timefmt::parse_duration(&args.expire_in).map_err(anyhow::Error::msg).context("--expire-in")?;
        let expire = u64::try_from(now.saturating_add(expire_in)).context("--expire-in: before 1970")?;
        Some((key.secret_for_signing().to_vec(), expire))
    } else {
        None
    };
    let pause = match &args.rate {
        Some(rate) => Some(parse_rate(rate).map_err(anyhow::Error::msg)?),
        None => None,
    };
    let mut stderr = io::stderr();
    let (mut deliveries, not_sent, unreadable) = read_deliveries(args, &mut stderr)?;
    if unreadable > 0 {
        // Nothing is sent when an input is missing: a partial replay would mislead.
        return Ok(ExitCode::Usage);
    }
    if let Some((key, expire)) = &resign {
        for delivery in &mut deliveries {
            // An encoded body is signed decoded, and sent so.
            if let Some(encoding) = delivery.content_encoding.take() {
                let decoded = capture::decode_body(Some(&encoding), &delivery.body, MAX_DOCUMENT_BYTES);
                match decoded {
                    Ok(decoded) => delivery.body = Bytes::from(decoded),
                    Err(_) => delivery.content_encoding = Some(encoding),
                }
            }
            delivery.body = Bytes::from(sign_all(&delivery.body, key, *expire).bytes);
        }
    }
    let mut all: Vec<Delivery> = Vec::with_capacity(deliveries.len() * (args.duplicate as usize + 1));
    for copy in 0..=args.duplicate {
        all.extend(deliveries.iter().cloned().map(|d| Delivery { copy, ..d }));
    }
    if let Some(seed) = args.shuffle {
        let mut random = Random::new(seed.unwrap_or(0));
        for i in (1..all.len()).rev() {
            let j = random.below(i as u64 + 1) as usize;
            all.swap(i, j);
        }
    }
    if all.is_empty() && not_sent == 0 {
        bail!(
            "no callbacks to send in {}",
            if args.paths.is_empty() { "stdin".into() } else { format!("{:?}", args.paths) }
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the sender")?;
    let plan = Plan {
        url,
        timeout: Duration::from_millis(timeout),
        retries: args.retries,
        interval: Duration::from_millis(interval),
        concurrency: usize::from(args.concurrency.max(1)),
        pause,
    };
    let outcomes = runtime.block_on(send_all(plan, all))?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    let summary = report(&mut out, args.format, &outcomes, not_sent)?;
    out.flush()?;
    Ok(if summary.accepted == summary.deliveries && not_sent == 0 && !summary.interrupted {
        ExitCode::Success
    } else {
        ExitCode::Failure
    })
}

fn millis(option: &str, text: &str) -> anyhow::Result<u64> {
    let value =
        timefmt::parse_millis(text).map_err(anyhow::Error::msg).with_context(|| option.to_string())?;
    u64::try_from(value).ok().filter(|&v| v > 0).with_context(|| format!("{option}: must be more than 0"))
}

/// Checks the receiver's URL: http or https, with a host.
pub fn parse_url(text: &str) -> Result<Uri, String> {
    let uri: Uri = text.parse().map_err(|e| format!("`{text}` is not a URL ({e})"))?;
    match uri.scheme_str() {
        Some("http" | "https") if uri.host().is_some() => Ok(uri),
        _ => Err(format!("`{text}` is not an http:// or https:// URL")),
    }
}

/// `--rate R/s` (or `R/m`): the pause between the starts of two deliveries.
fn parse_rate(text: &str) -> Result<Duration, String> {
    let error = || format!("--rate: `{text}` is not a rate such as 10/s or 30/m");
    let (count, per) = text.split_once('/').ok_or_else(error)?;
    let count: f64 =
        count.trim().parse().ok().filter(|c: &f64| *c > 0.0 && c.is_finite()).ok_or_else(error)?;
    let period = match per.trim() {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return Err(error()),
    };
    Ok(Duration::from_secs_f64(period / count))
}

/// Reads every callback of the inputs: the deliveries, and how many pieces were not sent (not
/// JSON, said on stderr).
/// Inputs that could not be read are told on `diagnostics` and counted, last.
fn read_deliveries(
    args: &SendArgs,
    diagnostics: &mut dyn io::Write,
) -> io::Result<(Vec<Delivery>, u64, u64)> {
    let mut deliveries = Vec::new();
    let mut not_sent = 0;
    let selected = |line: u64| args.lines.as_ref().is_none_or(|lines| lines.contains(line));
    let unreadable = source::read_whole(&args.paths, args.extract, diagnostics, |input, diagnostics| {
        let (name, input) = (input.name, input.bytes);
        if args.raw {
            // Bodies as they are, one per non-empty line, for testing a receiver's errors.
            for (n, line) in input.split(|&b| b == b'\n').enumerate() {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if !line.iter().all(u8::is_ascii_whitespace) && selected(n as u64 + 1) {
                    let body = Bytes::copy_from_slice(line);
                    deliveries.push(delivery(&name, n as u64 + 1, None, body, deliveries.len()));
                }
            }
            return Ok(());
        }
        let mut push = |item: Item<'_>, deliveries: &mut Vec<Delivery>| match item {
            Item::Document(document) if !selected(document.start.line) => Ok(()),
            Item::Broken(broken) if !selected(broken.start.line) => Ok(()),
            Item::Document(document) => {
                let root = document.doc.root();
                let line = document.start.line;
                match capture::body_of(document.doc.bytes(), root) {
                    // A capture's body goes as it was received.
                    Some(captured) => {
                        let encoding = captured.content_encoding.as_deref();
                        let decoded = capture::decode_body(encoding, &captured.body, MAX_DOCUMENT_BYTES)
                            .unwrap_or_default();
                        let mut inner = Documents::new(&decoded[..]);
                        let first = match inner.next_item() {
                            Ok(Some(Item::Document(d))) => Some(d.doc.root()),
                            _ => None,
                        };
                        let body = Bytes::from(captured.body.clone());
                        let mut delivery = delivery(&name, line, first, body, deliveries.len());
                        delivery.content_type = Some(captured.content_type.clone()).filter(|t| !t.is_empty());
                        delivery.content_encoding = captured.content_encoding.clone();
                        deliveries.push(delivery);
                    }
                    None => {
                        let body = Bytes::copy_from_slice(document.doc.bytes());
                        let index = deliveries.len();
                        deliveries.push(delivery(&name, line, Some(root), body, index));
                    }
                }
                Ok(())
            }
            Item::Broken(broken) => {
                not_sent += 1;
                writeln!(
                    diagnostics,
                    "tiwhook: {}:{}:{}: not sent: {} (--raw sends bodies as they are)",
                    escape(&name),
                    broken.at.line,
                    broken.at.column,
                    escape(&broken.message)
                )
            }
        };
        if args.extract {
            let mut extracted = Extracted::new(&input[..]);
            while let Some(item) = extracted.next_item()? {
                push(item, &mut deliveries)?;
            }
        } else {
            let mut documents = Documents::new(&input[..]);
            while let Some(item) = documents.next_item()? {
                push(item, &mut deliveries)?;
            }
        }
        Ok(())
    })?;
    Ok((deliveries, not_sent, unreadable))
}

fn delivery(source: &str, line: u64, root: Option<Node<'_>>, body: Bytes, original: usize) -> Delivery {
    let text = |node: Option<Node<'_>>| node.and_then(|n| n.as_str()).map(str::to_string);
    Delivery {
        source: source.to_string(),
        line,
        event_type: text(root.and_then(|r| r.get("EventType"))),
        task_id: text(root.and_then(|r| r.get("EventData")).and_then(|d| d.get("TaskId"))),
        body,
        content_type: None,
        content_encoding: None,
        copy: 0,
        original,
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

/// One delivery and every attempt at it.
struct Outcome {
    delivery: Delivery,
    attempts: Vec<Attempt>,
}

/// Sends every delivery, `concurrency` at a time, paced by `pause`; Ctrl-C stops starting new
/// ones and cuts those in flight short. Outcomes come back in the order of the deliveries.
async fn send_all(plan: Plan, deliveries: Vec<Delivery>) -> anyhow::Result<Vec<Option<Outcome>>> {
    let https =
        hyper_rustls::HttpsConnectorBuilder::new().with_webpki_roots().https_or_http().enable_http1().build();
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
    let plan = Arc::new(plan);
    let gate = Arc::new(tokio::sync::Semaphore::new(plan.concurrency));
    let mut tasks = Vec::with_capacity(deliveries.len());
    let mut interrupt = std::pin::pin!(tokio::signal::ctrl_c());
    let mut interrupted = false;
    for delivery in deliveries {
        let permit = tokio::select! {
            permit = gate.clone().acquire_owned() => permit?,
            _ = &mut interrupt => { interrupted = true; break; }
        };
        let (client, shared) = (client.clone(), plan.clone());
        tasks.push(tokio::spawn(async move {
            let attempts = deliver(&client, &shared, &delivery).await;
            drop(permit);
            Outcome { delivery, attempts }
        }));
        if let Some(pause) = plan.pause {
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                _ = &mut interrupt => { interrupted = true; break; }
            }
        }
    }
    let mut outcomes = Vec::with_capacity(tasks.len());
    for mut task in tasks {
        if interrupted {
            task.abort();
        }
        let result = if interrupted {
            (&mut task).await
        } else {
            tokio::select! {
                result = &mut task => result,
                _ = &mut interrupt => {
                    interrupted = true;
                    task.abort();
                    (&mut task).await
                }
            }
        };
        outcomes.push(result.ok());
    }
    Ok(outcomes)
}

/// Delivers one callback: the first attempt, then retries until one is accepted.
async fn deliver<C>(client: &Client<C, Full<Bytes>>, plan: &Plan, delivery: &Delivery) -> Vec<Attempt>
where
    C: hyper_util::client::legacy::connect::Connect + Clone + Send + Sync + 'static,
{
    let mut attempts = Vec::new();
    for attempt in 0..=plan.retries {
        if attempt > 0 {
            tokio::time::sleep(plan.interval).await;
        }
        let outcome = attempt_once(client, plan, delivery).await;
        let accepted = outcome.accepted();
        attempts.push(outcome);
        if accepted {
            break;
        }
    }
    attempts
}

/// One POST, bounded by the timeout from the first byte sent to the answer's last byte read.
async fn attempt_once<C>(client: &Client<C, Full<Bytes>>, plan: &Plan, delivery: &Delivery) -> Attempt
where
    C: hyper_util::client::legacy::connect::Connect + Clone + Send + Sync + 'static,
{
    let started = Instant::now();
    let content_type = delivery.content_type.as_deref().unwrap_or(b"application/json");
    let mut request = hyper::Request::post(plan.url.clone()).header(header::CONTENT_TYPE, content_type);
    if let Some(encoding) = &delivery.content_encoding {
        request = request.header(header::CONTENT_ENCODING, &encoding[..]);
    }
    let request = request.body(Full::new(delivery.body.clone()));
    let request = match request {
        Ok(request) => request,
        Err(error) => {
            return Attempt { status: None, millis: 0, error: Some(error.to_string()), answer: Vec::new() };
        }
    };
    let exchange = async {
        let response = client.request(request).await.map_err(|e| error_text(&e))?;
        let status = response.status().as_u16();
        // At most MAX_ANSWER bytes of the answer are kept; an endless one is cut off there.
        let answer = match Limited::new(response.into_body(), MAX_ANSWER).collect().await {
            Ok(collected) => collected.to_bytes().to_vec(),
            Err(_) => Vec::new(),
        };
        Ok::<_, String>((status, answer))
    };
    match tokio::time::timeout(plan.timeout, exchange).await {
        Ok(Ok((status, answer))) => {
            Attempt { status: Some(status), millis: started.elapsed().as_millis(), error: None, answer }
        }
        Ok(Err(error)) => Attempt {
            status: None,
            millis: started.elapsed().as_millis(),
            error: Some(error),
            answer: Vec::new(),
        },
        Err(_) => Attempt {
            status: None,
            millis: started.elapsed().as_millis(),
            error: Some(format!("no answer within {}", duration_text(plan.timeout))),
            answer: Vec::new(),
        },
    }
}

/// A client error and its deepest cause: `client error (Connect): Connection refused (os error 111)`.
fn error_text(error: &dyn std::error::Error) -> String {
    let mut deepest = error.source();
    while let Some(cause) = deepest.and_then(|c| c.source()) {
        deepest = Some(cause);
    }
    match deepest {
        Some(cause) => format!("{error}: {cause}"),
        None => error.to_string(),
    }
}

fn duration_text(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis.is_multiple_of(1000) { format!("{} s", millis / 1000) } else { format!("{millis} ms") }
}

/// The tally of a run.
#[derive(Default)]
struct Tally {
    deliveries: u64,
    accepted: u64,
    retried: u64,
    slowest: u128,
    interrupted: bool,
}

/// Writes one line per delivery and the summary; returns the tally.
fn report(
    out: &mut dyn io::Write,
    format: SendFormat,
    outcomes: &[Option<Outcome>],
    not_sent: u64,
) -> io::Result<Tally> {
    let mut tally = Tally::default();
    // The answer to each callback's first accepted delivery, to compare its copies' with.
    let mut first_answers: std::collections::HashMap<usize, (Option<u16>, Vec<u8>)> = Default::default();
    let mut line = Vec::new();
    for outcome in outcomes {
        tally.deliveries += 1;
        let Some(Outcome { delivery, attempts }) = outcome else {
            tally.interrupted = true;
            continue;
        };
        let last = attempts.last();
        let accepted = last.is_some_and(Attempt::accepted);
        tally.accepted += u64::from(accepted);
        tally.retried += u64::from(attempts.len() > 1);
        tally.slowest = tally.slowest.max(attempts.iter().map(|a| a.millis).max().unwrap_or(0));
        let answer = last.map(|a| (a.status, a.answer.clone())).unwrap_or_default();
        let changed = match first_answers.get(&delivery.original) {
            Some(first) => *first != answer,
            None => {
                first_answers.insert(delivery.original, answer.clone());
                false
            }
        };
        let error_code_zero = accepted && answer.1.trim_ascii() == ERROR_CODE_ZERO;
        line.clear();
        match format {
            SendFormat::Json => {
                let attempt_lines: Vec<AttemptLine> = attempts
                    .iter()
                    .map(|a| AttemptLine { status: a.status, millis: a.millis, error: a.error.as_deref() })
                    .collect();
                Line::Delivery(DeliveryLine {
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
                .write_to(&mut line)?;
            }
            SendFormat::Human => {
                let mark = if accepted { "✓" } else { "✗" };
                let event = delivery.event_type.as_deref().map_or("(no event type)".into(), escape);
                let task =
                    delivery.task_id.as_deref().map(|t| format!("  task {}", escape(t))).unwrap_or_default();
                let copy =
                    if delivery.copy > 0 { format!("  (copy {})", delivery.copy) } else { String::new() };
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
                    (false, n) => format!(
                        "failed after {}: {}",
                        crate::render::plural(n as u64, "attempt", "attempts"),
                        trail.join(", ")
                    ),
                };
                writeln!(
                    line,
                    "{mark} {}:{}  {event}{task}{copy}  {outcome}",
                    escape(&delivery.source),
                    delivery.line
                )?;
                if accepted && !error_code_zero {
                    let body = String::from_utf8_lossy(&answer.1);
                    let shown: String = body.chars().take(80).collect();
                    writeln!(
                        line,
                        "  warning: the answer was `{}`, not {{\"error_code\":0}}",
                        escape(&shown)
                    )?;
                }
                if changed {
                    writeln!(
                        line,
                        "  warning: this copy got another answer than the first delivery: the receiver may not be idempotent"
                    )?;
                }
            }
        }
        out.write_all(&line)?;
    }
    let failed = tally.deliveries - tally.accepted;
    match format {
        SendFormat::Json => {
            line.clear();
            Line::DeliverySummary(DeliverySummaryLine {
                deliveries: tally.deliveries,
                accepted: tally.accepted,
                failed,
                retried: tally.retried,
                not_sent,
                slowest_millis: tally.slowest,
                interrupted: tally.interrupted,
            })
            .write_to(&mut line)?;
            out.write_all(&line)?;
        }
        SendFormat::Human => {
            let mut summary = format!(
                "{} sent: {} accepted, {failed} failed, {} retried; slowest attempt {} ms",
                crate::render::plural(tally.deliveries, "delivery", "deliveries"),
                tally.accepted,
                tally.retried,
                tally.slowest
            );
            if not_sent > 0 {
                summary.push_str(&format!("; {not_sent} not sent (not JSON)"));
            }
            if tally.interrupted {
                summary.push_str("; interrupted");
            }
            writeln!(out, "{summary}")?;
        }
    }
    Ok(tally)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_rates() {
        assert!(parse_url("http://127.0.0.1:3000/tiw").is_ok());
        assert!(parse_url("https://example.com/tiw").is_ok());
        assert!(parse_url("ftp://example.com/").is_err());
        assert!(parse_url("localhost:3000").is_err());
        assert_eq!(parse_rate("10/s").unwrap(), Duration::from_millis(100));
        assert_eq!(parse_rate("30/m").unwrap(), Duration::from_secs(2));
        assert!(parse_rate("fast").is_err());
        assert!(parse_rate("0/s").is_err());
    }
}
