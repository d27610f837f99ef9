//! `listen --forward-to`: every body passed on to the team's application, in arrival order,
//! from a bounded backlog, by a bounded number of workers.
//!
//! The answer to Tencent never waits for the application: a request only puts its body at the
//! back of the backlog. `--forward-concurrency` workers take bodies from the front, each
//! delivering one with its own timeout and Tencent's retry schedule. Only a full backlog (by count
//! or by bytes) makes a body be skipped, and that is said live, at most once a second. At
//! shutdown the backlog is drained for up to `--drain-timeout`; what is left then is abandoned
//! and counted, and every callback that did not reach the application (failed, skipped or
//! abandoned) is listed by its line in the save file, so that one `tiwhook send` replays exactly
//! those.
//!
//! A retry after a timeout may deliver a body the application did get: delivery is at least
//! once, as Tencent's own. Each forward carries `X-Tiwhook-Request` (the request's number since
//! the receiver started) and `X-Tiwhook-Attempt`, so the application can recognise a repeat.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::HeaderValue;
use hyper::{Uri, header};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::sync::Notify;

use crate::delivery;

/// How bodies are passed on.
#[derive(Clone, Debug)]
pub struct Settings {
    /// An `http://` URL.
    pub target: Uri,
    /// How long the application has to answer one attempt.
    pub timeout: Duration,
    /// Attempts after the first, when one fails (no answer, or not 2xx).
    pub retries: u32,
    /// The pause between attempts.
    pub interval: Duration,
    /// Workers, each delivering one body at a time.
    pub concurrency: usize,
    /// Bodies waiting at most, and their bytes at most; past either, a body is skipped.
    pub backlog: usize,
    pub backlog_bytes: usize,
}

/// One body to pass on.
pub struct Job {
    /// The request's number since the receiver started.
    pub number: u64,
    /// Its capture's line in the save file, with `--save`.
    pub line: Option<u64>,
    pub body: Bytes,
    pub content_type: Option<HeaderValue>,
    pub content_encoding: Option<HeaderValue>,
}

/// What became of one body.
pub struct Outcome {
    pub number: u64,
    /// The application's status and how long the last attempt took; else why it failed.
    pub result: Result<(u16, Duration), String>,
    pub attempts: u32,
}

/// The tally of a run's forwards.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub forwarded: u64,
    pub failed: u64,
    pub skipped: u64,
    pub abandoned: u64,
    /// The save-file lines of every callback not forwarded (with `--save`).
    pub not_forwarded_lines: Lines,
}

impl Tally {
    pub fn not_forwarded(&self) -> u64 {
        self.failed + self.skipped + self.abandoned
    }
}

/// A set of line numbers, kept as ranges: a run of failures (an application down for an hour)
/// is one entry, not one per callback.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lines(BTreeMap<u64, u64>);

impl Lines {
    pub fn insert(&mut self, line: u64) {
        let before = self.0.range(..=line).next_back().map(|(&s, &e)| (s, e));
        if let Some((_, end)) = before
            && end >= line
        {
            return;
        }
        let mut start = line;
        let mut end = line;
        if let Some((s, e)) = before
            && e + 1 == line
        {
            start = s;
        }
        if let Some(&after_end) = self.0.get(&(line + 1)) {
            self.0.remove(&(line + 1));
            end = after_end;
        }
        self.0.insert(start, end);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `3-7,9,12-13`: the form `tiwhook send --lines` takes.
    pub fn to_list(&self) -> String {
        let ranges: Vec<String> =
            self.0.iter().map(|(&s, &e)| if s == e { s.to_string() } else { format!("{s}-{e}") }).collect();
        ranges.join(",")
    }
}

struct State {
    backlog: VecDeque<Job>,
    bytes: usize,
    closed: bool,
    /// Jobs a worker has taken and not finished: number → save line.
    in_flight: HashMap<u64, Option<u64>>,
    tally: Tally,
}

/// The forward queue and its workers.
pub struct Forwarder {
    settings: Settings,
    client: Client<HttpConnector, Full<Bytes>>,
    state: Mutex<State>,
    ready: Notify,
    /// Skips since the receiver started, for the live notice.
    skipped: AtomicU64,
}

impl Forwarder {
    /// Starts the workers on the current runtime; `report` hears of each body's outcome.
    pub fn start(
        settings: Settings,
        report: impl Fn(&Outcome) + Send + Sync + 'static,
    ) -> (Arc<Forwarder>, Vec<tokio::task::JoinHandle<()>>) {
        let forwarder = Arc::new(Forwarder {
            client: Client::builder(TokioExecutor::new()).build_http(),
            state: Mutex::new(State {
                backlog: VecDeque::new(),
                bytes: 0,
                closed: false,
                in_flight: HashMap::new(),
                tally: Tally::default(),
            }),
            ready: Notify::new(),
            skipped: AtomicU64::new(0),
            settings,
        });
        let report = Arc::new(report);
        let workers = (0..forwarder.settings.concurrency.max(1))
            .map(|_| {
                let (forwarder, report) = (forwarder.clone(), report.clone());
                tokio::spawn(async move {
                    while let Some(job) = forwarder.next().await {
                        let outcome = forwarder.deliver(&job).await;
                        forwarder.finish(&job, &outcome);
                        report(&outcome);
                    }
                })
            })
            .collect();
        (forwarder, workers)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Puts a body at the back of the backlog; false (and counted) when the backlog is full.
    pub fn enqueue(&self, job: Job) -> bool {
        let mut state = self.state();
        let full = state.backlog.len() >= self.settings.backlog
            || state.bytes + job.body.len() > self.settings.backlog_bytes;
        if full || state.closed {
            state.tally.skipped += 1;
            if let Some(line) = job.line {
                state.tally.not_forwarded_lines.insert(line);
            }
            self.skipped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        state.bytes += job.body.len();
        state.backlog.push_back(job);
        drop(state);
        self.ready.notify_one();
        true
    }

    /// Bodies waiting or in flight.
    pub fn pending(&self) -> usize {
        let state = self.state();
        state.backlog.len() + state.in_flight.len()
    }

    /// Skips since the start.
    pub fn skipped(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }

    /// The next body, in arrival order; `None` once the backlog is closed and empty.
    async fn next(&self) -> Option<Job> {
        loop {
            let notified = self.ready.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            {
                let mut state = self.state();
                if let Some(job) = state.backlog.pop_front() {
                    state.bytes -= job.body.len();
                    state.in_flight.insert(job.number, job.line);
                    return Some(job);
                }
                if state.closed {
                    return None;
                }
            }
            notified.await;
        }
    }

    fn finish(&self, job: &Job, outcome: &Outcome) {
        let mut state = self.state();
        state.in_flight.remove(&job.number);
        match outcome.result {
            Ok((status, _)) if (200..300).contains(&status) => state.tally.forwarded += 1,
            _ => {
                state.tally.failed += 1;
                if let Some(line) = job.line {
                    state.tally.not_forwarded_lines.insert(line);
                }
            }
        }
    }

    /// One body, with retries.
    async fn deliver(&self, job: &Job) -> Outcome {
        let settings = &self.settings;
        let outcomes = delivery::with_retries(
            settings.retries,
            settings.interval,
            |attempt| self.attempt(job, attempt),
            |result| matches!(result, Ok((status, _)) if (200..300).contains(status)),
            |_, _| {},
        )
        .await;
        let attempts = outcomes.len() as u32;
        let result = outcomes.into_iter().last().unwrap_or_else(|| Err("not attempted".into()));
        Outcome { number: job.number, result, attempts }
    }

    /// One attempt at passing a body on, byte for byte with its content type and encoding.
    async fn attempt(&self, job: &Job, attempt: u32) -> Result<(u16, Duration), String> {
        let mut request = hyper::Request::post(self.settings.target.clone())
            .header("x-tiwhook-request", job.number)
            .header("x-tiwhook-attempt", attempt);
        if let Some(content_type) = &job.content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        if let Some(encoding) = &job.content_encoding {
            request = request.header(header::CONTENT_ENCODING, encoding);
        }
        let request = request.body(Full::new(job.body.clone())).map_err(|e| e.to_string())?;
        let started = Instant::now();
        match tokio::time::timeout(self.settings.timeout, self.client.request(request)).await {
            Ok(Ok(response)) => Ok((response.status().as_u16(), started.elapsed())),
            Ok(Err(error)) => Err(delivery::describe(&error)),
            Err(_) => Err(format!("timed out after {}", delivery::duration_text(self.settings.timeout))),
        }
    }

    /// Closes the backlog and waits up to `timeout` for the workers to deliver what it holds;
    /// what is left then is abandoned. Returns the tally of the whole run.
    pub async fn drain(&self, workers: Vec<tokio::task::JoinHandle<()>>, timeout: Duration) -> Tally {
        self.state().closed = true;
        self.ready.notify_waiters();
        let aborts: Vec<_> = workers.iter().map(|w| w.abort_handle()).collect();
        let all = async {
            for worker in workers {
                let _ = worker.await;
            }
        };
        if tokio::time::timeout(timeout, all).await.is_err() {
            for abort in aborts {
                abort.abort();
            }
        }
        let mut state = self.state();
        let state = &mut *state;
        let left: Vec<Option<u64>> = state
            .backlog
            .drain(..)
            .map(|job| job.line)
            .chain(state.in_flight.drain().map(|(_, line)| line))
            .collect();
        for line in left {
            state.tally.abandoned += 1;
            if let Some(line) = line {
                state.tally.not_forwarded_lines.insert(line);
            }
        }
        state.tally.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_kept_as_ranges() {
        let mut lines = Lines::default();
        for line in [5, 3, 4, 9, 12, 13, 4, 1] {
            lines.insert(line);
        }
        assert_eq!(lines.to_list(), "1,3-5,9,12-13");
        lines.insert(2);
        lines.insert(11);
        lines.insert(10);
        assert_eq!(lines.to_list(), "1-5,9-13");
    }
}
