//! The reading stage: every input opened in turn, cut into documents and parsed, in batches that
//! own their bytes and tapes, and told in input order to a [`Sink`] (the judging stage, or the
//! parallel pipeline's dispatcher).

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{self, Read};
use std::path::PathBuf;

use crate::codes::Code;
use crate::read::ahead::ReadAhead;
use crate::read::archive::ArchiveError;
use crate::read::framing::{Broken, Document, Item, JsonFramer, Resume};
use crate::read::items::Framer;
use crate::read::source::{self, Entry, Source};
use crate::read::tape::Tape;
use crate::read::window::{Position, Window};

/// Documents in one batch at most, and bytes (a larger document still goes alone).
const BATCH_ITEMS: usize = 512;
const BATCH_BYTES: usize = 256 * 1024;

/// What the reading stage tells the judging one, in input order.
pub(super) enum Message {
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
    /// An input read to its end (`failed`: or until a read error): how many items the reading
    /// stage gave of it (pieces framed elsewhere are counted there).
    Finished { source: String, items: u64, failed: bool },
    /// Documents of one input, parsed.
    Batch(Batch),
    /// An input that failed part way (after the batches it gave).
    ReadError(String, io::Error),
}

/// Parsed documents of one input, owning their bytes and tapes. Batches go back to the reader
/// once judged, so that their buffers are reused.
#[derive(Default)]
pub(super) struct Batch {
    pub source: String,
    /// The documents' bytes, copied in as they were framed.
    pub bytes: Vec<u8>,
    /// The piece of input documents were framed in where it lay, when a worker framed it: those
    /// documents' bytes are lent from here rather than copied into `bytes`.
    pub piece: Vec<u8>,
    pub items: Vec<BatchItem>,
    /// One per document item; spares beyond the documents are kept for reuse.
    pub tapes: Vec<Tape>,
    /// Document items so far: the next one's tape.
    documents: usize,
}

pub(super) enum BatchItem {
    /// A document: its bytes are `range` of the batch's `piece` if `in_piece`, else of its `bytes`.
    Document {
        index: u64,
        start: Position,
        range: std::ops::Range<usize>,
        in_piece: bool,
        tape: usize,
        from_repr: bool,
    },
    Broken(Broken),
}

impl Batch {
    pub fn is_full(&self) -> bool {
        self.items.len() >= BATCH_ITEMS || self.bytes.len() >= BATCH_BYTES
    }

    /// A batch for documents of `source`: one judged and sent back, if there is one (its buffers
    /// are reused, and freed where they were made), else a new one.
    pub fn reused(recycled: &std::sync::mpsc::Receiver<Batch>, source: &str) -> Batch {
        let mut batch = recycled.try_recv().unwrap_or_default();
        batch.reset(source);
        batch
    }

    /// Empties the batch for documents of `source`, keeping its buffers.
    pub fn reset(&mut self, source: &str) {
        self.source.clear();
        self.source.push_str(source);
        self.bytes.clear();
        self.items.clear();
        self.documents = 0;
    }

    /// Takes in a document (its bytes copied); returns the tape slot the framer's tape for it
    /// is to be swapped into.
    pub fn add_document(&mut self, document: &Document<'_>) -> &mut Tape {
        let from = self.bytes.len();
        self.bytes.extend_from_slice(document.doc.bytes());
        let range = from..self.bytes.len();
        self.add_item(document, range, false)
    }

    /// [`Batch::add_document`] for a document lying at `range` of the piece that will be the
    /// batch's `piece` once framed: its bytes are not copied.
    pub fn add_document_in_piece(
        &mut self,
        document: &Document<'_>,
        range: std::ops::Range<usize>,
    ) -> &mut Tape {
        self.add_item(document, range, true)
    }

    fn add_item(
        &mut self,
        document: &Document<'_>,
        range: std::ops::Range<usize>,
        in_piece: bool,
    ) -> &mut Tape {
        let (index, start, from_repr) = (document.index, document.start, document.from_repr);
        let tape = self.documents;
        self.documents += 1;
        if self.tapes.len() <= tape {
            self.tapes.push(Tape::default());
        }
        self.items.push(BatchItem::Document { index, start, range, in_piece, tape, from_repr });
        &mut self.tapes[tape]
    }

    /// The bytes of a document item.
    pub fn document_bytes(&self, range: &std::ops::Range<usize>, in_piece: bool) -> &[u8] {
        let bytes = if in_piece { &self.piece } else { &self.bytes };
        &bytes[range.clone()]
    }

    /// Moves every item's index on by `by` (items numbered from 0 in a piece of their input).
    pub fn renumber(&mut self, by: u64) {
        for item in &mut self.items {
            match item {
                BatchItem::Document { index, .. } => *index += by,
                BatchItem::Broken(broken) => broken.index += by,
            }
        }
    }
}

/// The judging side is gone (a closed output): reading stops.
#[derive(Debug)]
pub(super) struct JudgeGone;

impl std::fmt::Display for JudgeGone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the judging stage has stopped")
    }
}

impl std::error::Error for JudgeGone {}

/// Where the reading stage sends what it reads, in input order.
pub(super) trait Sink {
    fn send(&mut self, message: Message) -> Result<(), JudgeGone>;
    /// An empty batch for documents of `source`.
    fn fresh(&mut self, source: &str) -> Batch;
    /// Reads one opened input to its end and tells what it held. By default it is framed here.
    fn read_input(&mut self, input: Opened) -> Result<(), JudgeGone> {
        let Opened { name, reader, extract, live } = input;
        frame_input(self, &name, reader, Start::Fresh { extract, live })
    }
}

/// An input opened for reading, and how to read it.
pub(super) struct Opened {
    pub name: String,
    pub reader: Box<dyn Read>,
    /// Callbacks are found inside log lines (`--extract`).
    pub extract: bool,
    /// A read may wait for bytes not yet written (see [`is_live`]).
    pub live: bool,
}

/// Whether reading `source` may wait for bytes not yet written: anything but a regular file, on
/// stdin or named by a path (`/dev/stdin`, a FIFO, the `/dev/fd/63` of `<(tail -f log)`).
pub(super) fn is_live(source: &Source) -> bool {
    use std::os::fd::AsFd;
    match source {
        Source::File(path) => std::fs::metadata(path).is_ok_and(|meta| !meta.is_file()),
        Source::Stdin => io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .and_then(|fd| std::fs::File::from(fd).metadata())
            .map_or(true, |meta| !meta.is_file()),
    }
}

/// Opens every input in turn and reads it into `sink`; stops when the sink is gone. With `ahead`,
/// that many files after the one being read are opened, and decoded if compressed, on threads of
/// their own (see [`ReadAhead`]).
pub(super) fn read_stage(paths: &[PathBuf], extract: bool, ahead: usize, sink: &mut dyn Sink) {
    let mut entries: Vec<Option<Entry>> = source::expand(paths, extract).into_iter().map(Some).collect();
    let mut started: HashMap<usize, ReadAhead> = HashMap::new();
    let mut next_start = 0;
    for at in 0..entries.len() {
        while next_start < entries.len() && next_start <= at + ahead {
            if ahead > 0
                && let Some(Entry::Read(Source::File(path))) = &entries[next_start]
            {
                started.insert(next_start, ReadAhead::start(path.clone()));
            }
            next_start += 1;
        }
        let Some(entry) = entries[at].take() else { continue };
        if read_entry(entry, extract, started.remove(&at), sink).is_err() {
            return;
        }
    }
}

fn read_entry(
    entry: Entry,
    extract: bool,
    ahead: Option<ReadAhead>,
    sink: &mut dyn Sink,
) -> Result<(), JudgeGone> {
    let source = match entry {
        Entry::Read(source) => source,
        Entry::Unlisted(unlisted) => return sink.send(Message::Unreadable(unlisted.name, unlisted.error)),
        Entry::Skipped { name, kind } => return sink.send(Message::Skipped(name, kind)),
    };
    let name = source.name();
    let opened = match ahead {
        Some(ahead) => ahead.open(),
        None => source.open_decompressing(),
    };
    let reader = match opened {
        Ok((reader, found)) => {
            if let Some(note) = found.and_then(|c| c.note()) {
                sink.send(Message::Note(name.clone(), note))?;
            }
            reader
        }
        Err(error) => return sink.send(Message::Unreadable(name, error)),
    };
    sink.send(Message::Source)?;
    sink.read_input(Opened { name, reader, extract, live: is_live(&source) })
}

/// Reads one input's items with `framer` into batches sent to `sink`, then says how it ended.
///
/// A batch is sent when it is full, and also before every read of the input: a read from a pipe
/// or a terminal may wait for bytes not yet written, and what has arrived must be shown first.
/// Reading a file, a read comes every 256 KiB, so batches stay large.
pub(super) fn frame_input(
    sink: &mut (impl Sink + ?Sized),
    name: &str,
    reader: impl Read,
    start: Start,
) -> Result<(), JudgeGone> {
    let sink = RefCell::new(sink);
    let fresh = || sink.borrow_mut().fresh(name);
    let pending = RefCell::new(fresh());
    let hand_off = || -> io::Result<()> {
        let mut batch = pending.borrow_mut();
        if batch.items.is_empty() {
            return Ok(());
        }
        let full = std::mem::replace(&mut *batch, fresh());
        sink.borrow_mut().send(Message::Batch(full)).map_err(io::Error::other)
    };
    let reader = HandOffBeforeRead { inner: reader, hand_off: &hand_off };
    let mut documents = match start {
        Start::Fresh { extract: true, .. } => Framer::new(reader, true),
        Start::Fresh { extract: false, live } => {
            Framer::Json(JsonFramer::new(reader).with_hints_read_ahead(!live))
        }
        Start::Resumed(state) => {
            Framer::Json(JsonFramer::resume(Window::starting_at(reader, state.at), state))
        }
    };
    let mut failure = None;
    let mut items = 0u64;
    loop {
        let item = match documents.next_item() {
            Ok(None) => break,
            Ok(Some(item)) => item,
            Err(error) if error.get_ref().is_some_and(|e| e.is::<JudgeGone>()) => return Err(JudgeGone),
            // A compressed input that breaks off is a finding where its text stops, after
            // every callback before it; reading goes on with the next input.
            Err(error) if ArchiveError::of(&error).is_some() => {
                items += 1;
                let broken = documents.broken_off(Code::CorruptArchive, error.to_string());
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
                let tape = batch.add_document(&document);
                documents.swap_tape(tape);
            }
            Item::Broken(broken) => batch.items.push(BatchItem::Broken(broken)),
        }
        let full = batch.is_full();
        drop(batch);
        if full && hand_off().is_err() {
            return Err(JudgeGone);
        }
    }
    hand_off().map_err(|_| JudgeGone)?;
    let lines = documents.lines();
    drop(documents);
    let sink = sink.into_inner();
    if let Some(lines) = lines {
        sink.send(Message::LinesRead(lines))?;
    }
    let failed = failure.is_some();
    sink.send(Message::Finished { source: name.to_string(), items, failed })?;
    if let Some(error) = failure {
        sink.send(Message::ReadError(name.to_string(), error))?;
    }
    Ok(())
}

/// How an input's framing starts.
pub(super) enum Start {
    /// At its beginning, as JSON or (`extract`) as a log; a hint on a broken document reads ahead
    /// unless the input is `live`.
    Fresh { extract: bool, live: bool },
    /// Part way, where other framing stopped (the rest of an input whose first pieces were
    /// framed elsewhere).
    Resumed(Resume),
}

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
