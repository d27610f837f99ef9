//! The callbacks of each input, one at a time, for every command that reads inputs: the reading
//! commands (through the pipeline), and `send`, `sign` and `capture bodies`.
//!
//! [`Framer`] cuts one input into items, as JSON ([`JsonFramer`]) or, with `--extract`, as a log
//! whose lines hold callbacks ([`LogFramer`]). [`read_streams`] opens each input named on the
//! command line in turn and hands it over as a reader, never read whole: memory stays bounded by
//! the largest single document (16 MiB), whatever the input is (a gzip bomb, a sparse file,
//! `/dev/zero`), as it is for `check`.

use std::io::{self, Read};
use std::path::PathBuf;

use crate::codes::Code;
use crate::read::archive::{self, ArchiveError};
use crate::read::extract::LogFramer;
use crate::read::framing::{Broken, Item, JsonFramer};
use crate::read::source::{Entry, Source, expand};
use crate::read::tape::Tape;
use crate::sanitize::escape;

/// How one input is cut into callbacks: as JSON, or as a log whose lines hold them.
pub enum Framer<R> {
    Json(JsonFramer<R>),
    Log(LogFramer<R>),
}

impl<R: Read> Framer<R> {
    pub fn new(reader: R, extract: bool) -> Framer<R> {
        if extract { Framer::Log(LogFramer::new(reader)) } else { Framer::Json(JsonFramer::new(reader)) }
    }

    /// The next document or broken piece; `None` at the end. An `Err` is a failure to read.
    pub fn next_item(&mut self) -> io::Result<Option<Item<'_>>> {
        match self {
            Framer::Json(documents) => documents.next_item(),
            Framer::Log(log) => log.next_item(),
        }
    }

    pub fn swap_tape(&mut self, other: &mut Tape) {
        match self {
            Framer::Json(documents) => documents.swap_tape(other),
            Framer::Log(log) => log.swap_tape(other),
        }
    }

    pub fn broken_off(&mut self, code: Code, message: String) -> Broken {
        match self {
            Framer::Json(documents) => documents.broken_off(code, message),
            Framer::Log(log) => log.broken_off(code, message),
        }
    }

    /// Lines read, for a log.
    pub fn lines(&self) -> Option<u64> {
        match self {
            Framer::Json(_) => None,
            Framer::Log(log) => Some(log.lines()),
        }
    }
}

/// The message for compressed data that breaks off, when that is what `error` is: the caller
/// reports it as a `corrupt-archive` piece (see [`Framer::broken_off`]) after every item before.
pub fn corrupt_archive(error: &io::Error) -> Option<String> {
    ArchiveError::of(error).map(ToString::to_string)
}

/// One input, opened and decompressing, not yet read.
pub struct OpenInput {
    pub source: Source,
    /// The name reports use (see [`Source::name`]).
    pub name: String,
    pub reader: Box<dyn Read>,
    /// The compression it is read through, if any.
    pub compression: Option<archive::Compression>,
}

/// Opens each input named by `paths` in turn and hands it to `each`, with `diagnostics`. An
/// input that cannot be listed or opened is told on `diagnostics` (`tiwhook: NAME: error`), as
/// is a directory entry left out (a FIFO, say); returns how many could not be opened.
pub fn read_streams(
    paths: &[PathBuf],
    logs: bool,
    diagnostics: &mut dyn io::Write,
    mut each: impl FnMut(OpenInput, &mut dyn io::Write) -> io::Result<()>,
) -> io::Result<u64> {
    let mut unreadable = 0;
    for entry in expand(paths, logs) {
        let source = match entry {
            Entry::Read(source) => source,
            Entry::Unlisted(unlisted) => {
                writeln!(diagnostics, "tiwhook: {}: {}", escape(&unlisted.name), unlisted.error)?;
                unreadable += 1;
                continue;
            }
            Entry::Skipped { name, kind } => {
                writeln!(diagnostics, "tiwhook: {}: skipped: {kind}, not a regular file", escape(&name))?;
                continue;
            }
        };
        let name = source.name();
        match source.open_decompressing() {
            Ok((reader, compression)) => {
                if let Some(note) = compression.and_then(|c| c.note()) {
                    writeln!(diagnostics, "tiwhook: {}: warning: {note}", escape(&name))?;
                }
                each(OpenInput { source, name, reader, compression }, diagnostics)?
            }
            Err(error) => {
                writeln!(diagnostics, "tiwhook: {}: {error}", escape(&name))?;
                unreadable += 1;
            }
        }
    }
    Ok(unreadable)
}
