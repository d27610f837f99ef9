//! Drives the flow for the reading commands (`inspect`, `check`, `timeline`): every input, every
//! document in it, judged and printed in input order, and the tally.

use std::cell::RefCell;
use std::io;
use std::path::PathBuf;

use std::sync::mpsc;

use crate::exit_codes::ExitCode;
use crate::judge::body::{Body, judge_body};
use crate::judge::report::{Arrival, Detail, InputProblem, Report, Summary, Verdict};
use crate::judge::{self, Policy};
use crate::read::archive::ArchiveError;
use crate::read::capture;
use crate::read::framing::{Broken, Document, Item};
use crate::read::items::Framer;
use crate::read::source::{self, Entry};
use crate::read::tape::Tape;
use crate::read::window::Position;
use crate::render::Printer;
use crate::sanitize::escape;

/// What a reading command reads, and how.
#[derive(Clone, Copy, Debug)]
pub struct Inputs<'a> {
    /// Files and directories; none is stdin.
    pub paths: &'a [PathBuf],
    /// Find the callbacks inside log lines (`--extract`).
    pub extract: bool,
    /// A run that finds no callback passes (`--allow-empty`).
    pub allow_empty: bool,
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
    let Inputs { paths, extract, allow_empty } = inputs;
    // Extracting, the summary counts log lines, even when there were none.
    let mut summary = Summary { expected, lines: extract.then_some(0), ..Summary::default() };
    let (batches, received) = mpsc::sync_channel::<Message>(BATCHES_IN_FLIGHT);
    let (returns, recycled) = mpsc::channel::<Batch>();
    let empty = std::thread::scope(|scope| {
        scope.spawn(move || read_stage(paths, extract, &batches, &recycled));
        // The judging stage owns the receiving end: when it stops early (a closed pipe), the
        // reader's next send fails and the reader stops too.
        judge_stage(received, returns, policy, expected, &mut summary, printer, diagnostics)
    })?;
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
    let code = if summary.unreadable > 0 {
        ExitCode::Usage
    } else if !summary.all_passed() {
        ExitCode::Failure
    } else {
        ExitCode::Success
    };
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
            Message::Unreadable(source, error) => {
                summary.sources += 1;
                summary.unreadable += 1;
                say(&InputProblem::Unreadable { source, message: error.to_string() }, printer, diagnostics)?;
            }
            Message::Source => summary.sources += 1,
            Message::Finished { source, items: 0, failed: false } => empty.push(source),
            Message::Finished { .. } => {}
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
        }
    }
    Ok(empty)
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
            BatchItem::Document { index, start, range, tape, from_repr } => {
                let (tape, bytes) = (&batch.tapes[*tape], &batch.bytes[range.clone()]);
                // One UTF-8 check for the whole document, here on the judging side.
                let doc = match std::str::from_utf8(bytes) {
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
    let arrival = Arrival { received_at: captured.received_at.clone(), peer: captured.peer.clone() };
    Expanded { source, start, body_column, captured, arrival, policy }
}

impl Expanded<'_> {
    /// Hands `each` a report on each callback of the body, placed on the capture's line: a
    /// finding's column counts in the line for a body kept verbatim, else it is the line's start.
    fn each(
        &self,
        mut each: impl FnMut(crate::judge::report::Report<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        let body = Body {
            bytes: &self.captured.body,
            encoding: self.captured.content_encoding.as_deref(),
            arrival: Some(&self.arrival),
        };
        judge_body(self.source, body, self.policy, |mut report| {
            report.start = self.start;
            for finding in &mut report.findings {
                finding.at = match (self.body_column, finding.at.line) {
                    (Some(column), 1) => Position { column: column + finding.at.column - 1, ..self.start },
                    _ => self.start,
                };
            }
            each(report)
        })?;
        Ok(())
    }
}

/// Batches the reader may be ahead by.
const BATCHES_IN_FLIGHT: usize = 4;
/// Documents in one batch at most, and bytes (a larger document still goes alone).
const BATCH_ITEMS: usize = 512;
const BATCH_BYTES: usize = 256 * 1024;

/// What the reading thread tells the judging one, in input order.
enum Message {
    /// An input that could not be opened or listed.
    Unreadable(String, io::Error),
    /// An input opened for reading.
    Source,
    /// A directory entry left out (a FIFO, say), and what it is.
    Skipped(String, &'static str),
    /// Something to know about an input as it is read (UTF-16 text, say).
    Note(String, &'static str),
    /// Lines read from a log whose callbacks were extracted, after its batches.
    LinesRead(u64),
    /// An input read to its end (`failed`: or until a read error): how many items it gave.
    Finished { source: String, items: u64, failed: bool },
    /// Documents of one input, parsed.
    Batch(Batch),
    /// An input that failed part way (after the batches it gave).
    ReadError(String, io::Error),
}

/// Parsed documents of one input, owning their bytes and tapes. Batches go back to the reader
/// once judged, so that their buffers are reused.
#[derive(Default)]
struct Batch {
    source: String,
    bytes: Vec<u8>,
    items: Vec<BatchItem>,
    /// One per document item; spares beyond the documents are kept for reuse.
    tapes: Vec<Tape>,
    /// Document items so far: the next one's tape.
    documents: usize,
}

enum BatchItem {
    Document { index: u64, start: Position, range: std::ops::Range<usize>, tape: usize, from_repr: bool },
    Broken(Broken),
}

impl Batch {
    fn is_full(&self) -> bool {
        self.items.len() >= BATCH_ITEMS || self.bytes.len() >= BATCH_BYTES
    }
}

/// Reads and parses every input, sending batches in order; stops when the receiver is gone.
///
/// A batch is sent when it is full, and also before every read of the input: a read from a pipe
/// or a terminal may wait for bytes not yet written, and what has arrived must be shown first.
/// Reading a file, a read comes every 256 KiB, so batches stay large.
fn read_stage(
    paths: &[PathBuf],
    extract: bool,
    batches: &mpsc::SyncSender<Message>,
    recycled: &mpsc::Receiver<Batch>,
) {
    let fresh = |name: &str| {
        let mut batch = recycled.try_recv().unwrap_or_default();
        batch.source.clear();
        batch.source.push_str(name);
        batch.bytes.clear();
        batch.items.clear();
        batch.documents = 0;
        batch
    };
    for entry in source::expand(paths, extract) {
        let source = match entry {
            Entry::Read(source) => source,
            Entry::Unlisted(unlisted) => {
                if batches.send(Message::Unreadable(unlisted.name, unlisted.error)).is_err() {
                    return;
                }
                continue;
            }
            Entry::Skipped { name, kind } => {
                if batches.send(Message::Skipped(name, kind)).is_err() {
                    return;
                }
                continue;
            }
        };
        let name = source.name();
        let reader = match source.open_decompressing() {
            Ok((reader, found)) => {
                if let Some(note) = found.and_then(|c| c.note())
                    && batches.send(Message::Note(name.clone(), note)).is_err()
                {
                    return;
                }
                reader
            }
            Err(error) => {
                if batches.send(Message::Unreadable(name, error)).is_err() {
                    return;
                }
                continue;
            }
        };
        if batches.send(Message::Source).is_err() {
            return;
        }
        let pending = RefCell::new(fresh(&name));
        let hand_off = || -> io::Result<()> {
            let mut batch = pending.borrow_mut();
            if batch.items.is_empty() {
                return Ok(());
            }
            let full = std::mem::replace(&mut *batch, fresh(&name));
            batches.send(Message::Batch(full)).map_err(|_| io::Error::other(JudgeGone))
        };
        let reader = HandOffBeforeRead { inner: reader, hand_off: &hand_off };
        let mut documents = Framer::new(reader, extract);
        let mut failure = None;
        let mut items = 0u64;
        loop {
            let item = match documents.next_item() {
                Ok(None) => break,
                Ok(Some(item)) => item,
                Err(error) if error.get_ref().is_some_and(|e| e.is::<JudgeGone>()) => return,
                // A compressed input that breaks off is a finding where its text stops, after
                // every callback before it; reading goes on with the next input.
                Err(error) if ArchiveError::of(&error).is_some() => {
                    items += 1;
                    let broken = documents.broken_off("corrupt-archive", error.to_string());
                    pending.borrow_mut().items.push(BatchItem::Broken(broken));
                    break;
                }
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            };
            items += 1;
            let mut batch = pending.borrow_mut();
            match item {
                Item::Document(document) => {
                    let from = batch.bytes.len();
                    batch.bytes.extend_from_slice(document.doc.bytes());
                    let (index, start, from_repr) = (document.index, document.start, document.from_repr);
                    let tape = batch.documents;
                    batch.documents += 1;
                    if batch.tapes.len() <= tape {
                        batch.tapes.push(Tape::default());
                    }
                    documents.swap_tape(&mut batch.tapes[tape]);
                    let range = from..batch.bytes.len();
                    batch.items.push(BatchItem::Document { index, start, range, tape, from_repr });
                }
                Item::Broken(broken) => batch.items.push(BatchItem::Broken(broken)),
            }
            let full = batch.is_full();
            drop(batch);
            if full && hand_off().is_err() {
                return;
            }
        }
        if hand_off().is_err() {
            return;
        }
        if let Some(lines) = documents.lines()
            && batches.send(Message::LinesRead(lines)).is_err()
        {
            return;
        }
        let failed = failure.is_some();
        if batches.send(Message::Finished { source: name.clone(), items, failed }).is_err() {
            return;
        }
        if let Some(error) = failure
            && batches.send(Message::ReadError(name, error)).is_err()
        {
            return;
        }
    }
}

/// The error a read gives when the judging stage has gone (a closed output): reading stops.
#[derive(Debug)]
struct JudgeGone;

impl std::fmt::Display for JudgeGone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the judging stage has stopped")
    }
}

impl std::error::Error for JudgeGone {}

/// An input that hands the documents parsed so far to the judging stage before each read.
struct HandOffBeforeRead<'h, R> {
    inner: R,
    hand_off: &'h dyn Fn() -> io::Result<()>,
}

impl<R: io::Read> io::Read for HandOffBeforeRead<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (self.hand_off)()?;
        self.inner.read(buf)
    }
}
