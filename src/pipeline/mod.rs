//! Drives the flow for the reading commands (`inspect`, `check`, `timeline`): every input, every
//! document in it, judged and printed in input order, and the tally.

mod parallel;
mod reading;

use std::io;
use std::path::PathBuf;

use std::sync::mpsc;

use crate::exit_codes::ExitCode;
use crate::judge::body::{Body, Placement, judge_body};
use crate::judge::report::{Arrival, Detail, InputProblem, Report, Summary, Verdict};
use crate::judge::{self, Policy};
use crate::read::capture;
use crate::read::framing::Document;
use crate::read::source;
use crate::read::window::Position;
use crate::render::Printer;
use crate::sanitize::escape;
use reading::{Batch, BatchItem, JudgeGone, Message, Sink};

/// What a reading command reads, and how.
#[derive(Clone, Copy, Debug)]
pub struct Inputs<'a> {
    /// Files and directories; none is stdin.
    pub paths: &'a [PathBuf],
    /// Find the callbacks inside log lines (`--extract`).
    pub extract: bool,
    /// A run that finds no callback passes (`--allow-empty`).
    pub allow_empty: bool,
    /// Threads that parse, judge and render (`-j`); 1 keeps to one reading thread and one
    /// judging thread. The output is the same byte for byte.
    pub threads: usize,
}

/// Reads every input, prints a report on each callback and the summary, and says how the run
/// ended; with `expected`, a callback passes when its verdict is that one. Problems with an input
/// go to `diagnostics` and to the printer; an `Err` is a failure to write the output (a closed
/// pipe, say).
///
/// A run that checked nothing fails: one that found no callback at all (unless `allow_empty`),
/// and, under `--strict`, one where an input held no callback while others did.
///
/// Reading and parsing run on a thread of their own, a batch of documents ahead of judging and
/// printing, so that a long stream keeps two cores busy; reports still come out in input order.
pub fn run(
    inputs: Inputs,
    policy: &Policy,
    expected: Option<Verdict>,
    printer: &mut dyn Printer,
    diagnostics: &mut dyn io::Write,
) -> io::Result<(Summary, ExitCode)> {
    let Inputs { paths, extract, allow_empty, .. } = inputs;
    // Extracting, the summary counts log lines, even when there were none.
    let mut summary = Summary { expected, lines: extract.then_some(0), ..Summary::default() };
    let renderers = match inputs.threads {
        0 | 1 => None,
        threads => (0..threads).map(|_| printer.renderer()).collect::<Option<Vec<_>>>(),
    };
    let empty = match renderers {
        Some(renderers) => {
            let stages = parallel::Stages { paths, extract, policy, expected };
            parallel::run(stages, renderers, &mut summary, printer, diagnostics)?
        }
        None => {
            let (batches, received) = mpsc::sync_channel::<Message>(BATCHES_IN_FLIGHT);
            let (returns, recycled) = mpsc::channel::<Batch>();
            std::thread::scope(|scope| {
                scope.spawn(move || {
                    let mut sink = ToJudgingThread { batches, recycled };
                    reading::read_stage(paths, extract, 0, &mut sink)
                });
                // The judging stage owns the receiving end: when it stops early (a closed
                // pipe), the reader's next send fails and the reader stops too.
                judge_stage(received, returns, policy, expected, &mut summary, printer, diagnostics)
            })?
        }
    };
    let mut problems = Vec::new();
    if summary.callbacks == 0 && summary.unreadable == 0 && !allow_empty {
        let (left_out, logs) = source::left_out_by_name(paths, extract);
        problems.push(InputProblem::NoCallbacks { inputs: named(paths), left_out, logs });
        summary.input_failures += 1;
    } else if summary.callbacks > 0 {
        for source in empty {
            problems.push(InputProblem::Empty { source });
            summary.warnings += 1;
            summary.empty_inputs += 1;
            if policy.strict {
                summary.input_failures += 1;
            }
        }
    }
    for problem in &problems {
        say(problem, printer, diagnostics)?;
    }
    printer.finish(&summary)?;
    let judged = if summary.all_passed() { ExitCode::Success } else { ExitCode::Failure };
    let code = judged.with_unreadable(summary.unreadable);
    Ok((summary, code))
}

/// The inputs of a run, named for a message: `a.json, fixtures/` or `stdin`.
fn named(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "stdin".into();
    }
    let names: Vec<String> = paths
        .iter()
        .map(|p| if p.as_os_str() == "-" { "stdin".into() } else { p.display().to_string() })
        .collect();
    names.join(", ")
}

/// Tells an input problem on stderr and to the printer.
fn say(problem: &InputProblem, printer: &mut dyn Printer, diagnostics: &mut dyn io::Write) -> io::Result<()> {
    let message = problem.message();
    match (problem, problem.source()) {
        (InputProblem::Unreadable { .. }, Some(source)) => {
            writeln!(diagnostics, "tiwhook: {}: {}", escape(source), escape(&message))?
        }
        (_, Some(source)) => writeln!(
            diagnostics,
            "tiwhook: {}: {}[{}]: {}",
            escape(source),
            problem.severity().as_str(),
            problem.code(),
            escape(&message)
        )?,
        (_, None) => writeln!(diagnostics, "tiwhook: {}: {}", problem.severity().as_str(), escape(&message))?,
    }
    printer.input_problem(problem)
}

/// Judges and prints what the reader sends, in order, until it is done; returns the inputs that
/// were read whole and held nothing.
fn judge_stage(
    received: mpsc::Receiver<Message>,
    returns: mpsc::Sender<Batch>,
    policy: &Policy,
    expected: Option<Verdict>,
    summary: &mut Summary,
    printer: &mut dyn Printer,
    diagnostics: &mut dyn io::Write,
) -> io::Result<Vec<String>> {
    // The storage of one report's fields, handed from each report to the next.
    let mut spare = Vec::new();
    // Inputs read whole that held nothing.
    let mut empty = Vec::new();
    for message in received {
        match message {
            Message::Batch(batch) => {
                judge_batch(&batch, policy, expected, &mut spare, &mut |report| {
                    summary.add(report);
                    printer.callback(report)
                })?;
                // The reader may be gone already; then the batch is simply dropped.
                let _ = returns.send(batch);
                // The reader sends a batch when it is full or before it reads again (and may
                // wait): either way, what was printed should be seen now.
                printer.flush()?;
            }
            Message::Finished { source, items: 0, failed: false } => empty.push(source),
            message => told(message, summary, printer, diagnostics)?,
        }
    }
    Ok(empty)
}

/// Takes in what the reading stage says of an input besides its documents and its end.
fn told(
    message: Message,
    summary: &mut Summary,
    printer: &mut dyn Printer,
    diagnostics: &mut dyn io::Write,
) -> io::Result<()> {
    match message {
        Message::Unreadable(source, error) => {
            summary.sources += 1;
            summary.unreadable += 1;
            say(&InputProblem::Unreadable { source, message: error.to_string() }, printer, diagnostics)?;
        }
        Message::Source => summary.sources += 1,
        Message::Finished { .. } | Message::Batch(_) => {}
        Message::LinesRead(lines) => *summary.lines.get_or_insert(0) += lines,
        Message::Note(name, note) => {
            writeln!(diagnostics, "tiwhook: {}: warning: {note}", escape(&name))?;
        }
        Message::Skipped(name, kind) => {
            writeln!(diagnostics, "tiwhook: {}: skipped: {kind}, not a regular file", escape(&name))?;
        }
        Message::ReadError(source, error) => {
            summary.unreadable += 1;
            let message = format!("read error: {error}");
            say(&InputProblem::Unreadable { source, message }, printer, diagnostics)?;
        }
    }
    Ok(())
}

/// Batches the reader may be ahead by, reading for one judging thread.
const BATCHES_IN_FLIGHT: usize = 4;

/// The reading stage's side of the judging thread: batches go there, and come back to be reused.
struct ToJudgingThread {
    batches: mpsc::SyncSender<Message>,
    recycled: mpsc::Receiver<Batch>,
}

impl Sink for ToJudgingThread {
    fn send(&mut self, message: Message) -> Result<(), JudgeGone> {
        self.batches.send(message).map_err(|_| JudgeGone)
    }

    fn fresh(&mut self, source: &str) -> Batch {
        Batch::reused(&self.recycled, source)
    }
}

/// Judges each item of `batch` in order and hands each report to `each`. `spare` carries the
/// storage of a report's fields to the next.
fn judge_batch(
    batch: &Batch,
    policy: &Policy,
    expected: Option<Verdict>,
    spare: &mut Vec<Detail<'static>>,
    each: &mut dyn FnMut(&Report) -> io::Result<()>,
) -> io::Result<()> {
    for item in &batch.items {
        let mut report = match item {
            BatchItem::Document { index, start, range, in_piece, tape, from_repr } => {
                let (tape, bytes) = (&batch.tapes[*tape], batch.document_bytes(range, *in_piece));
                // One UTF-8 check for the whole document, here on the judging side.
                let doc = match simdutf8::basic::from_utf8(bytes) {
                    Ok(text) => tape.view_text(text),
                    Err(_) => tape.view(bytes),
                };
                if let Some(captured) = capture::body_of(bytes, doc.root()) {
                    // A line of `listen --save`: the callbacks are in its body.
                    let expanded = judge_captured(&batch.source, *start, bytes, captured, policy);
                    expanded.each(|mut report| {
                        report.expected = expected;
                        each(&report)
                    })?;
                    continue;
                }
                let document = Document { index: *index, start: *start, doc, from_repr: *from_repr };
                judge::judge_reusing(&batch.source, &document, policy, std::mem::take(spare))
            }
            BatchItem::Broken(broken) => judge::judge_broken(&batch.source, broken),
        };
        report.expected = expected;
        each(&report)?;
        *spare = report.into_spare_fields();
    }
    Ok(())
}

/// The callbacks of one capture line, ready to be judged: its body, and where and when it arrived.
struct Expanded<'s> {
    source: &'s str,
    /// Where the capture line starts, and the column its verbatim body starts at (if it is one).
    start: Position,
    body_column: Option<u64>,
    captured: capture::Captured,
    arrival: Arrival,
    policy: &'s Policy,
}

fn judge_captured<'s>(
    source: &'s str,
    start: Position,
    line: &[u8],
    captured: capture::Captured,
    policy: &'s Policy,
) -> Expanded<'s> {
    // A body kept verbatim is placed in the line only when it is judged as it stands there.
    let body_column = captured
        .verbatim_at
        .filter(|_| captured.content_encoding.is_none())
        .map(|at| start.advanced_by(&line[..at]).column);
    let arrival = Arrival::new(captured.received_at.clone(), captured.peer.clone());
    Expanded { source, start, body_column, captured, arrival, policy }
}

impl Expanded<'_> {
    /// Hands `each` a report on each callback of the body, placed on the capture's line.
    fn each(&self, each: impl FnMut(crate::judge::report::Report<'_>) -> io::Result<()>) -> io::Result<()> {
        let body = Body {
            bytes: &self.captured.body,
            encoding: self.captured.content_encoding.as_deref(),
            arrival: Some(&self.arrival),
            placed: Some(Placement { start: self.start, body_column: self.body_column }),
        };
        judge_body(self.source, body, self.policy, each)?;
        Ok(())
    }
}
