//! The pipeline on several threads (`-j N`): the reading thread only cuts each input into pieces
//! at line starts, a pool of workers frames, parses, judges and renders each piece into a buffer
//! of its own, and the calling thread writes the buffers in input order, so that the output is
//! the one a single judging thread writes, byte for byte.
//!
//! A worker frames its piece as if the piece started between two documents, which is what a cut
//! before a line starting with `{` or `[` almost always is. Whether it was is known only once the
//! piece before it has been framed: each piece hands the next one, in order, the index its first
//! item takes and, when it ended inside something (a document that runs on into the next piece, a
//! top-level array, a broken line whose skipping goes on), the bytes and framing state to go on
//! from. A piece handed such a carry frames again from it; every other piece keeps what it framed
//! at once. Inputs whose pieces would all carry (a top-level array, logs read with `--extract`,
//! a document larger than a piece) are framed on the reading thread instead, and judged and
//! rendered by the workers.

use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};

use super::reading::{self, Batch, BatchItem, JudgeGone, Message, Opened, Sink, Start};
use super::{judge_batch, told};
use crate::codes::Code;
use crate::judge::Policy;
use crate::judge::report::{Summary, Verdict};
use crate::read::framing::{Broken, Item, JsonFramer, Resume};
use crate::read::tape::offset_within_span;
use crate::read::window::{Position, Window};
use crate::render::{Printer, Render, Rendered};

/// What the stages share: the inputs and how callbacks are judged.
pub(crate) struct Stages<'a> {
    pub paths: &'a [PathBuf],
    pub extract: bool,
    pub policy: &'a Policy,
    pub expected: Option<Verdict>,
}

/// Bytes a piece of an input holds, about: the reading thread cuts at the last line start before
/// this much.
const PIECE_BYTES: usize = 256 * 1024;
/// Bytes read without a line that starts a document, past which the rest of the input is framed
/// on the reading thread.
const PIECE_MAX: usize = 2 * 1024 * 1024;

/// The size pieces are cut at and the most read without a cut. A debug build takes the first
/// from `TIWHOOK_PIECE_BYTES`, so that tests put many piece ends among few callbacks.
fn piece_sizes() -> (usize, usize) {
    #[cfg(debug_assertions)]
    if let Some(bytes) = std::env::var("TIWHOOK_PIECE_BYTES").ok().and_then(|v| v.parse::<usize>().ok()) {
        let bytes = bytes.max(1);
        return (bytes, 4 * bytes);
    }
    (PIECE_BYTES, PIECE_MAX)
}

/// Runs the stages with one worker per renderer; returns the inputs read whole that held
/// nothing, as the single-threaded pipeline does.
pub(super) fn run(
    stages: Stages,
    renderers: Vec<Box<dyn Render>>,
    summary: &mut Summary,
    printer: &mut dyn Printer,
    diagnostics: &mut dyn io::Write,
) -> io::Result<Vec<String>> {
    let Stages { paths, extract, policy, expected } = stages;
    let (jobs, waiting) = mpsc::channel::<Job>();
    let waiting = Mutex::new(waiting);
    // Pieces in flight at most (read and not yet written): memory stays bounded by this many
    // pieces, whatever the input.
    let (slots, in_order) = mpsc::sync_channel::<Slot>(2 * renderers.len() + 2);
    let stop = AtomicBool::new(false);
    let ahead = renderers.len();
    // Batches the reading thread framed, and the bytes of pieces, come back to it once judged:
    // read into again, their memory is not given back to the system and faulted in anew.
    let (returns, recycled) = mpsc::channel::<Batch>();
    let (pieces_back, spare_pieces) = mpsc::channel::<Vec<u8>>();
    std::thread::scope(|scope| {
        for render in renderers {
            let (waiting, stop) = (&waiting, &stop);
            let back = Returns { batches: returns.clone(), pieces: pieces_back.clone() };
            scope.spawn(move || work(waiting, render, policy, expected, stop, back));
        }
        drop((returns, pieces_back));
        scope.spawn(move || {
            let mut sink = ToWorkers { jobs, slots, recycled, spare_pieces };
            reading::read_stage(paths, extract, ahead, &mut sink)
        });
        let written = write_in_order(in_order, summary, printer, diagnostics);
        // A closed output: the workers drop what is left, and the reader stops at its next send.
        stop.store(true, Ordering::Relaxed);
        written
    })
}

/// One place in the output, in input order: something said of an input, or a job's result.
enum Slot {
    Told(Message),
    Job(mpsc::Receiver<Output>),
}

enum Job {
    /// Bytes of an input to frame, judge and render.
    Piece(Piece, mpsc::SyncSender<Output>),
    /// Documents the reading thread framed, to judge and render.
    Framed(Batch, mpsc::SyncSender<Output>),
}

/// A job's result, as it comes: what was rendered, in parts (a worker whose slot is not yet
/// being written waits with one part done), the last with the tally of its callbacks and the items
/// framed (for a piece; a framed batch is counted by the reading thread).
enum Output {
    /// Rendered text, and where to send the buffer back once it is written.
    Part { part: Rendered, back: mpsc::Sender<Rendered> },
    /// The last part and the job's counts, in one message: each message can wake the writer, and
    /// on a machine of few cores every wake-up is the other thread's time.
    Done { part: Rendered, back: mpsc::Sender<Rendered>, tally: Summary, items: u64 },
}

/// Bytes of rendered text a worker sends at once: each part sent can wake the writer, and at
/// 64 KiB the JSON view's 235 MB of the benchmark's 500,000 callbacks woke it 3,600 times (9,200
/// context switches in all, against 3,300 now).
const PART_BYTES: usize = 256 * 1024;
/// Parts a worker renders ahead of the writer before it waits: 1 MiB a worker at most.
const PARTS_AHEAD: usize = 4;

/// Bytes of one input from a line start, and how its framing is joined to its neighbours'.
struct Piece {
    source: String,
    bytes: Vec<u8>,
    at: Position,
    /// The input's first piece (a byte-order mark is skipped).
    first: bool,
    end: PieceEnd,
    /// From the piece before: where to go on.
    before: mpsc::Receiver<Handover>,
    /// To the piece after.
    after: mpsc::Sender<Handover>,
}

enum PieceEnd {
    /// More of the input follows, from a line that starts with `{` or `[`.
    More,
    /// A live pipe's piece, ending with what has arrived: what ends there is told as it stands,
    /// as a single reading thread tells it before it waits for more.
    Arrived,
    /// The input ends here.
    Last,
    /// The input's compressed data breaks off here, with this message.
    BrokenOff(String),
    /// Reading the input failed here: what is not whole is dropped.
    Failed,
}

/// What a piece tells the next one: the index of the next item, and what to frame again.
struct Handover {
    index: u64,
    carry: Option<Carry>,
}

/// The end of a piece to frame again in front of the next: its bytes, and the state there.
struct Carry {
    bytes: Vec<u8>,
    state: Resume,
}

/// The reading thread's side of the workers: each batch or piece is a job, and its place in the
/// output is kept by a slot sent in order (the slots' bound holds the reader back).
struct ToWorkers {
    jobs: mpsc::Sender<Job>,
    slots: mpsc::SyncSender<Slot>,
    recycled: mpsc::Receiver<Batch>,
    spare_pieces: mpsc::Receiver<Vec<u8>>,
}

/// Where a worker sends back what the reading thread reuses.
struct Returns {
    batches: mpsc::Sender<Batch>,
    pieces: mpsc::Sender<Vec<u8>>,
}

impl ToWorkers {
    fn dispatch(&mut self, job: impl FnOnce(mpsc::SyncSender<Output>) -> Job) -> Result<(), JudgeGone> {
        let (done, result) = mpsc::sync_channel(PARTS_AHEAD);
        self.slots.send(Slot::Job(result)).map_err(|_| JudgeGone)?;
        self.jobs.send(job(done)).map_err(|_| JudgeGone)
    }
}

impl Sink for ToWorkers {
    fn send(&mut self, message: Message) -> Result<(), JudgeGone> {
        match message {
            Message::Batch(batch) => self.dispatch(|done| Job::Framed(batch, done)),
            message => self.slots.send(Slot::Told(message)).map_err(|_| JudgeGone),
        }
    }

    fn fresh(&mut self, source: &str) -> Batch {
        Batch::reused(&self.recycled, source)
    }

    fn read_input(&mut self, input: Opened) -> Result<(), JudgeGone> {
        let Opened { name, reader, extract, live } = input;
        if extract {
            return reading::frame_input(self, &name, reader, Start::Fresh { extract, live });
        }
        read_in_pieces(self, &name, reader, live)
    }
}

/// Reads one input into pieces for the workers, cut before a line that starts with `{` or `[`
/// (on a live pipe, also at the end of whatever has arrived, before a read that may wait).
fn read_in_pieces(
    sink: &mut ToWorkers,
    name: &str,
    mut reader: Box<dyn Read>,
    live: bool,
) -> Result<(), JudgeGone> {
    let (piece_bytes, piece_max) = piece_sizes();
    let mut pieces = Pieces::new(name);
    let mut buf: Vec<u8> = Vec::with_capacity(2 * PIECE_BYTES);
    let mut started = false;
    loop {
        if live
            && started
            && let Some(end) = memchr::memrchr(b'\n', &buf)
        {
            // Before a read that may wait, what is whole goes out.
            pieces.send(sink, &mut buf, end + 1, PieceEnd::Arrived)?;
        }
        let read = read_more(&mut reader, &mut buf, piece_bytes, live);
        let end = match read {
            Ok(true) => None,
            Ok(false) => Some(PieceEnd::Last),
            Err(error) if crate::read::items::corrupt_archive(&error).is_some() => {
                Some(PieceEnd::BrokenOff(error.to_string()))
            }
            Err(error) => {
                pieces.send(sink, &mut buf, usize::MAX, PieceEnd::Failed)?;
                sink.send(Message::Finished { source: name.to_string(), items: 0, failed: true })?;
                return sink.send(Message::ReadError(name.to_string(), error));
            }
        };
        if !started {
            match first_byte(&buf) {
                // An array is one document to the end of the input: framed here.
                Some(b'[') => {
                    let rest = io::Cursor::new(std::mem::take(&mut buf)).chain(reader);
                    return reading::frame_input(sink, name, rest, Start::Fresh { extract: false, live });
                }
                Some(_) => started = true,
                None if end.is_none() => continue,
                None => {}
            }
        }
        if let Some(end) = end {
            pieces.send(sink, &mut buf, usize::MAX, end)?;
            return sink.send(Message::Finished { source: name.to_string(), items: 0, failed: false });
        }
        if !live && buf.len() < piece_bytes {
            continue;
        }
        match last_document_line(&buf) {
            Some(cut) => pieces.send(sink, &mut buf, cut, PieceEnd::More)?,
            None if buf.len() > piece_max => {
                // No line starts a document in all this: framed here from where the pieces
                // stopped, as one stream.
                let (mut bytes, start) = match pieces.stop()? {
                    Some(carry) => (carry.bytes, Start::Resumed(carry.state)),
                    None => (Vec::new(), Start::Fresh { extract: false, live }),
                };
                bytes.append(&mut buf);
                let rest = io::Cursor::new(bytes).chain(reader);
                return reading::frame_input(sink, name, rest, start);
            }
            None => {}
        }
    }
}

/// The first byte of `bytes` that is not white space, after a byte-order mark.
fn first_byte(bytes: &[u8]) -> Option<u8> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    text.iter().copied().find(|b| !matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
}

/// Where the last line that starts with `{` or `[` starts, if a line does.
fn last_document_line(bytes: &[u8]) -> Option<usize> {
    memchr::memrchr_iter(b'\n', bytes)
        .map(|end| end + 1)
        .find(|&start| matches!(bytes.get(start), Some(b'{' | b'[')))
}

/// Reads up to `wanted` more bytes onto `buf`; false at the end of the input. A live input is
/// read once (what has arrived), any other until `wanted` bytes are in: through `read_to_end`,
/// which reads a file into the buffer's spare room without zeroing it first.
fn read_more(reader: &mut dyn Read, buf: &mut Vec<u8>, wanted: usize, live: bool) -> io::Result<bool> {
    let len = buf.len();
    if !live {
        buf.reserve(wanted);
        return reader.take(wanted as u64).read_to_end(buf).map(|n| n > 0);
    }
    buf.resize(len + wanted, 0);
    loop {
        match reader.read(&mut buf[len..]) {
            Ok(n) => {
                buf.truncate(len + n);
                return Ok(n > 0);
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => {
                buf.truncate(len);
                return Err(error);
            }
        }
    }
}

/// The pieces of one input, as they are sent: where the next starts, and the handover it waits on.
struct Pieces<'n> {
    name: &'n str,
    at: Position,
    first: bool,
    before: mpsc::Receiver<Handover>,
}

impl<'n> Pieces<'n> {
    fn new(name: &'n str) -> Self {
        let (first, before) = mpsc::channel();
        let _ = first.send(Handover { index: 0, carry: None });
        Pieces { name, at: Position::START, first: true, before }
    }

    /// Sends `buf` up to `cut` (all of it, past its end) as the next piece.
    fn send(
        &mut self,
        sink: &mut ToWorkers,
        buf: &mut Vec<u8>,
        cut: usize,
        end: PieceEnd,
    ) -> Result<(), JudgeGone> {
        let cut = cut.min(buf.len());
        let mut rest = sink.spare_pieces.try_recv().unwrap_or_else(|_| Vec::with_capacity(2 * PIECE_BYTES));
        rest.clear();
        rest.extend_from_slice(&buf[cut..]);
        buf.truncate(cut);
        let bytes = std::mem::replace(buf, rest);
        let at = self.at;
        self.at = at.advanced_by(&bytes);
        let (after, next) = mpsc::channel();
        let before = std::mem::replace(&mut self.before, next);
        let first = std::mem::replace(&mut self.first, false);
        let source = self.name.to_string();
        sink.dispatch(|done| Job::Piece(Piece { source, bytes, at, first, end, before, after }, done))
    }

    /// Waits for the pieces sent so far to be framed; what the next would be handed (`None`
    /// before any was sent: the input is read from its start).
    fn stop(self) -> Result<Option<Carry>, JudgeGone> {
        if self.first {
            return Ok(None);
        }
        let handover = self.before.recv().map_err(|_| JudgeGone)?;
        let state = Resume::between_documents(self.at, handover.index);
        Ok(Some(handover.carry.unwrap_or(Carry { bytes: Vec::new(), state })))
    }
}

/// A worker: takes jobs until there are none, and sends each result to its slot.
fn work(
    waiting: &Mutex<mpsc::Receiver<Job>>,
    mut render: Box<dyn Render>,
    policy: &Policy,
    expected: Option<Verdict>,
    stop: &AtomicBool,
    returns: Returns,
) {
    let _drain = DrainOnPanic { waiting, stop };
    let mut spare = Vec::new();
    // Buffers stay with the worker that made them: the piece's documents, and the rendered parts,
    // which the writer sends back once written.
    let mut own_batch = Batch::default();
    let (back, written) = mpsc::channel::<Rendered>();
    let next_part = || {
        written
            .try_recv()
            .map(|mut part| {
                part.clear();
                part
            })
            .unwrap_or_default()
    };
    loop {
        let next = waiting.lock().map_err(|_| ()).and_then(|jobs| jobs.recv().map_err(|_| ()));
        let Ok(job) = next else { return };
        if stop.load(Ordering::Relaxed) {
            // Dropped: a piece waiting on this one's handover gives up too.
            continue;
        }
        let (framed_elsewhere, items, done) = match job {
            Job::Framed(batch, done) => (Some(batch), 0, done),
            Job::Piece(piece, done) => match frame_piece(piece, &mut own_batch, &returns.pieces) {
                Some(items) => (None, items, done),
                None => continue,
            },
        };
        let batch = framed_elsewhere.as_ref().unwrap_or(&own_batch);
        let mut tally = Summary::default();
        let send = |part: Rendered| {
            let back = back.clone();
            done.send(Output::Part { part, back }).map_err(|_| io::Error::other("the writer has stopped"))
        };
        let judged = judge_batch(batch, policy, expected, &mut spare, &mut |report| {
            tally.add(report);
            render.render(report)?;
            if render.rendered().len() >= PART_BYTES {
                send(std::mem::replace(render.rendered(), next_part()))?;
            }
            Ok(())
        });
        let part = std::mem::replace(render.rendered(), next_part());
        if judged.is_ok() {
            let _ = done.send(Output::Done { part, back: back.clone(), tally, items });
        }
        if let Some(batch) = framed_elsewhere {
            // The reader may be gone already; then the batch is simply dropped.
            let _ = returns.batches.send(batch);
        }
    }
}

/// A worker that panics drops every job left, so that nothing waits on it: the writer stops at
/// the first result that will not come, and the panic is raised when the threads are joined.
struct DrainOnPanic<'a> {
    waiting: &'a Mutex<mpsc::Receiver<Job>>,
    stop: &'a AtomicBool,
}

impl Drop for DrainOnPanic<'_> {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        self.stop.store(true, Ordering::Relaxed);
        while self.waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner).recv().is_ok() {}
    }
}

/// Frames a piece, hands the next piece its start, and returns the items framed (`None` when
/// the piece before was dropped). The piece's bytes go back to the reading thread by `spent`.
fn frame_piece(piece: Piece, batch: &mut Batch, spent: &mpsc::Sender<Vec<u8>>) -> Option<u64> {
    let Piece { source, bytes, at, first, end, before, after } = piece;
    batch.reset(&source);
    // Framed before the piece before is known, as if this one started between documents.
    let mut guess = frame(batch, bytes, Resume::between_documents(at, 0), first, &end);
    let handover = before.recv().ok()?;
    let mut framed = match handover.carry {
        None => {
            batch.renumber(handover.index);
            guess.renumbered(handover.index)
        }
        Some(carry) => {
            batch.reset(&source);
            let mut bytes = carry.bytes;
            bytes.extend_from_slice(&guess.bytes);
            let _ = spent.send(std::mem::take(&mut guess.bytes));
            frame(batch, bytes, carry.state, false, &end)
        }
    };
    // The documents kept lie in the bytes framed last: the batch holds them until judged, and
    // the piece it held before goes back (the reading thread may be gone already; then the bytes
    // are simply dropped).
    std::mem::swap(&mut batch.piece, &mut framed.bytes);
    let _ = spent.send(std::mem::take(&mut framed.bytes));
    let next_index = framed.carry.as_ref().map_or(framed.next_index, |carry| carry.state.index);
    if let PieceEnd::BrokenOff(message) = &end {
        // The compressed data broke off: what was not whole is one piece, up to where it stops.
        // From the document it ran out inside of, or else (nothing left whole) where it stops.
        framed.carry = None;
        let start = framed.ran_out_document.unwrap_or(framed.end);
        let broken = Broken {
            index: next_index,
            start,
            code: Code::CorruptArchive,
            message: message.clone(),
            at: framed.end,
            help: None,
        };
        batch.items.push(BatchItem::Broken(broken));
        framed.items += 1;
    }
    let carry = if matches!(end, PieceEnd::More | PieceEnd::Arrived) { framed.carry } else { None };
    let _ = after.send(Handover { index: next_index, carry });
    Some(framed.items)
}

/// What framing a piece gave besides its items.
struct Framed {
    /// The piece's bytes, back.
    bytes: Vec<u8>,
    items: u64,
    /// The index after the last item kept.
    next_index: u64,
    /// Where the piece ends.
    end: Position,
    /// What the next piece frames again, when this one ended inside something.
    carry: Option<Carry>,
    /// Where the document the piece ran out inside of starts, if it did.
    ran_out_document: Option<Position>,
}

impl Framed {
    fn renumbered(mut self, by: u64) -> Framed {
        self.next_index += by;
        if let Some(carry) = &mut self.carry {
            carry.state.index += by;
        }
        self
    }
}

/// Frames `bytes` from `state` into `batch`. Unless the piece is its input's last, a last item
/// that ran out of input is left to the next piece, with any state that would go on into it.
fn frame(batch: &mut Batch, bytes: Vec<u8>, state: Resume, first: bool, end: &PieceEnd) -> Framed {
    let from = state.at.offset;
    let mut documents = JsonFramer::resume(Window::<io::Empty>::of_bytes(bytes, state.at), state);
    if first {
        documents = documents.at_input_start();
    }
    // The first item that ran out of the piece (a document or array that might go on in the
    // next piece): the state before it, and the items before it.
    let mut ran_out_at: Option<(Resume, usize)> = None;
    let mut ran_out_document = None;
    // What ends a piece that no byte will follow (a live pipe's, for now, or where compressed
    // data breaks off) is told as it stands.
    let told_as_it_stands = matches!(end, PieceEnd::Arrived | PieceEnd::BrokenOff(_));
    let after_last = loop {
        let here = documents.state();
        // A window over bytes alone holds them unmoved: a document framed from them lies in them,
        // and is kept where it lies (the batch takes the bytes once framed).
        let (piece_at, piece_len) = (documents.buffered().as_ptr() as usize, documents.buffered().len());
        let at_the_end = match documents.next_item() {
            Ok(Some(Item::Document(document))) => {
                let bytes = document.doc.bytes();
                let tape = match offset_within_span(piece_at, piece_len, bytes) {
                    Some(start) => batch.add_document_in_piece(&document, start..start + bytes.len()),
                    None => batch.add_document(&document),
                };
                documents.swap_tape(tape);
                false
            }
            Ok(Some(Item::Broken(broken))) => {
                if ran_out_at.is_none() && documents.ran_out_in_document() {
                    ran_out_document = Some(broken.start);
                }
                // A document found broken at the piece's last line end might have been told
                // apart by the next line's first byte (a line cut off before the next callback).
                let rest = broken.at.offset.saturating_sub(from) as usize;
                let tail = documents.buffered().get(rest..);
                batch.items.push(BatchItem::Broken(broken));
                tail.is_some_and(|tail| tail.iter().all(|b| matches!(b, b'\r' | b'\n')))
            }
            // A piece in memory has no read to fail.
            Ok(None) | Err(_) => break here,
        };
        if ran_out_at.is_none() && (documents.ran_out() || (at_the_end && !told_as_it_stands)) {
            ran_out_at = Some((here, batch.items.len() - 1));
        }
    };
    let end_at = documents.state().at;
    let bytes = documents.into_window().into_bytes();
    let carry_from = match (end, ran_out_at) {
        (PieceEnd::Last, _) => None,
        (_, Some((state, kept))) => {
            // Only pieces the input ended inside of follow it: framed again with the next piece.
            batch.items.truncate(kept);
            Some(state)
        }
        (PieceEnd::More, None) if after_last.is_top_level() => None,
        (_, None) if after_last.is_between_documents() => None,
        (_, None) => Some(after_last),
    };
    let items = batch.items.len() as u64;
    let carry =
        carry_from.map(|state| Carry { bytes: bytes[(state.at.offset - from) as usize..].to_vec(), state });
    let next_index = after_last.index;
    Framed { bytes, items, next_index, end: end_at, carry, ran_out_document }
}

/// Writes each slot's output in order, as it comes; returns the inputs read whole that held
/// nothing.
fn write_in_order(
    in_order: mpsc::Receiver<Slot>,
    summary: &mut Summary,
    printer: &mut dyn Printer,
    diagnostics: &mut dyn io::Write,
) -> io::Result<Vec<String>> {
    let mut empty = Vec::new();
    // Items the workers framed of the input being read.
    let mut framed = 0;
    for slot in in_order {
        match slot {
            Slot::Job(result) => loop {
                // A worker panicked: its panic is raised when the threads are joined.
                let Ok(output) = result.recv() else {
                    return Err(io::Error::other("a worker thread stopped"));
                };
                match output {
                    Output::Part { part, back } => {
                        printer.emit(&part)?;
                        let _ = back.send(part);
                    }
                    Output::Done { part, back, tally, items } => {
                        printer.emit(&part)?;
                        let _ = back.send(part);
                        framed += items;
                        summary.absorb(&tally);
                        printer.flush()?;
                        break;
                    }
                }
            },
            Slot::Told(Message::Finished { source, items, failed }) => {
                if items + framed == 0 && !failed {
                    empty.push(source);
                }
                framed = 0;
            }
            Slot::Told(message) => told(message, summary, printer, diagnostics)?,
        }
    }
    Ok(empty)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames `pieces` of one input in order, as workers do; each piece's documents as the bytes
    /// the batch lends them from.
    fn frame_pieces(pieces: Vec<(&str, PieceEnd)>) -> Vec<Vec<String>> {
        let (first, mut before) = mpsc::channel();
        first.send(Handover { index: 0, carry: None }).unwrap();
        let (spent, _spare) = mpsc::channel();
        let mut at = Position::START;
        let mut framed = Vec::new();
        for (i, (text, end)) in pieces.into_iter().enumerate() {
            let (after, next) = mpsc::channel();
            let bytes = text.as_bytes().to_vec();
            let piece = Piece { source: "t".into(), bytes, at, first: i == 0, end, before, after };
            at = at.advanced_by(text.as_bytes());
            let mut batch = Batch::default();
            frame_piece(piece, &mut batch, &spent).expect("the piece before handed over");
            let documents = batch.items.iter().map(|item| match item {
                BatchItem::Document { range, in_piece, .. } => {
                    String::from_utf8_lossy(batch.document_bytes(range, *in_piece)).into_owned()
                }
                BatchItem::Broken(broken) => format!("broken: {}", broken.message),
            });
            framed.push(documents.collect());
            before = next;
        }
        framed
    }

    #[test]
    fn a_document_framed_in_a_piece_is_its_bytes_from_the_first_to_the_last() {
        let framed =
            frame_pieces(vec![("{\"a\":1}\n  {\"b\":[2]}  \n{\"c\":\"x\"}\r\n{\"d\":{}}", PieceEnd::Last)]);
        assert_eq!(framed, [vec!["{\"a\":1}", "{\"b\":[2]}", "{\"c\":\"x\"}", "{\"d\":{}}"]]);
    }

    #[test]
    fn a_document_carried_into_the_next_piece_is_its_bytes_from_the_first_to_the_last() {
        // The second piece starts inside a document, at a line that looks like the start of one.
        let framed = frame_pieces(vec![
            ("{\"a\":1}\n{\"b\":\n", PieceEnd::More),
            ("{\"x\":1}}\n{\"c\":3}\n", PieceEnd::Last),
        ]);
        assert_eq!(framed, [vec!["{\"a\":1}"], vec!["{\"b\":\n{\"x\":1}}", "{\"c\":3}"]]);
    }
}
