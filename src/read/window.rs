//! A window of buffered input that knows where it is.
//!
//! The reader of documents needs to look at the bytes ahead of it, ask for more when a document
//! runs past the end of what is buffered, and know the line and column of any byte it reports on.
//! `Window` is that window: it reads in large chunks, keeps only the bytes not yet consumed (so
//! memory follows the largest document, never the input), and tracks the line and column of its
//! start as bytes are consumed. It knows nothing of JSON.

use std::io::{self, Read};

/// Bytes read at once; also the first size of the buffer.
const CHUNK: usize = 256 * 1024;

/// Below this, a document that needs more bytes is parsed again after every read: callbacks are
/// far smaller, and a parse of this much costs microseconds.
const EAGER_WINDOW: usize = 64 * 1024;

/// A place in an input: 1-based line and column (the column counts characters, not bytes), and
/// the 0-based byte offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub line: u64,
    pub column: u64,
    pub offset: u64,
}

impl Position {
    pub const START: Position = Position { line: 1, column: 1, offset: 0 };

    /// The position reached after reading `bytes` from here.
    pub fn advanced_by(self, bytes: &[u8]) -> Position {
        let offset = self.offset + bytes.len() as u64;
        if bytes.len() <= 4 && bytes.is_ascii() {
            // The line end after a document, mostly: a few bytes, looked at one by one, cost less
            // than setting up the searches below.
            return bytes.iter().fold(Position { offset, ..self }, |at, &b| match b {
                b'\n' => Position { line: at.line + 1, column: 1, offset },
                _ => Position { column: at.column + 1, ..at },
            });
        }
        match memchr::memrchr(b'\n', bytes) {
            Some(last) => Position {
                line: self.line + memchr::memchr_iter(b'\n', &bytes[..last]).count() as u64 + 1,
                column: 1 + count_chars(&bytes[last + 1..]),
                offset,
            },
            None => Position { line: self.line, column: self.column + count_chars(bytes), offset },
        }
    }
}

/// Characters in UTF-8 bytes: every byte that does not continue a sequence starts one.
fn count_chars(bytes: &[u8]) -> u64 {
    if bytes.is_ascii() {
        return bytes.len() as u64;
    }
    // Byte-wide counters over chunks that cannot overflow them: this form vectorises well.
    bytes
        .chunks(255)
        .map(|chunk| chunk.iter().fold(0u8, |n, &b| n + u8::from((b as i8) >= -0x40)) as u64)
        .sum()
}

pub struct Window<R> {
    reader: R,
    buf: Vec<u8>,
    /// Start of the unconsumed bytes in `buf`.
    pos: usize,
    /// End of the bytes read into `buf`.
    filled: usize,
    eof: bool,
    /// Position of `buf[pos]` in the input.
    at: Position,
    /// A read error met reading ahead, given to the next read that needs bytes.
    deferred: Option<io::Error>,
}

impl<R: Read> Window<R> {
    pub fn new(reader: R) -> Self {
        Self::starting_at(reader, Position::START)
    }

    /// A window on `reader`, whose first byte stands at `at` in its input.
    pub fn starting_at(reader: R, at: Position) -> Self {
        Window { reader, buf: Vec::new(), pos: 0, filled: 0, eof: false, at, deferred: None }
    }

    /// A window over `bytes` alone, which start at `at` in their input: the whole piece is
    /// there at once, and nothing more will come.
    pub fn of_bytes(bytes: Vec<u8>, at: Position) -> Window<io::Empty> {
        let filled = bytes.len();
        Window { reader: io::empty(), buf: bytes, pos: 0, filled, eof: true, at, deferred: None }
    }

    /// Takes the buffer back (a window made by [`Window::of_bytes`] holds its bytes unmoved).
    pub fn into_bytes(self) -> Vec<u8> {
        let mut buf = self.buf;
        buf.truncate(self.filled);
        buf
    }

    /// The bytes in the buffer, consumed or not: for a window made by [`Window::of_bytes`], the
    /// whole piece.
    pub fn buffered(&self) -> &[u8] {
        &self.buf[..self.filled]
    }

    /// The bytes read and not yet consumed.
    pub fn window(&self) -> &[u8] {
        &self.buf[self.pos..self.filled]
    }

    /// Whether the input has ended: the window is all there will be.
    pub fn at_eof(&self) -> bool {
        self.eof
    }

    /// Position of the window's first byte.
    pub fn position(&self) -> Position {
        self.at
    }

    /// Position of the byte `offset` bytes into the window.
    pub fn position_of(&self, offset: usize) -> Position {
        self.at.advanced_by(&self.window()[..offset])
    }

    /// Drops the first `n` bytes of the window.
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.filled - self.pos);
        self.at = self.at.advanced_by(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
    }

    /// [`Window::consume`] for bytes known to hold no line feed and nothing past ASCII (a document
    /// the parser read so, see [`Tape::one_line_ascii`]): the column moves on by their count,
    /// without a look at them.
    ///
    /// [`Tape::one_line_ascii`]: crate::read::tape::Tape::one_line_ascii
    pub fn consume_within_line(&mut self, n: usize) {
        let n = n.min(self.filled - self.pos);
        let bytes = &self.buf[self.pos..self.pos + n];
        debug_assert!(bytes.is_ascii() && !bytes.contains(&b'\n'), "{bytes:?}");
        let step = n as u64;
        self.at = Position { column: self.at.column + step, offset: self.at.offset + step, ..self.at };
        self.pos += n;
    }

    /// Consumes all the window holds; returns where it started and where it ended.
    pub fn consume_rest(&mut self) -> (Position, Position) {
        let start = self.position();
        let rest = self.window().len();
        let end = self.position_of(rest);
        self.consume(rest);
        (start, end)
    }

    /// The last `n` bytes consumed, still in the buffer until the next read.
    pub fn consumed_tail(&self, n: usize) -> &[u8] {
        &self.buf[self.pos - n..self.pos]
    }

    /// Drops the first `n` bytes of the window without moving the position (a byte-order mark).
    pub fn consume_invisible(&mut self, n: usize) {
        let n = n.min(self.filled - self.pos);
        self.pos += n;
        self.at.offset += n as u64;
    }

    /// Reads until the window holds at least `wanted` bytes or the input ends. Returns whether the
    /// window grew.
    pub fn fill_to(&mut self, wanted: usize) -> io::Result<bool> {
        if let Some(error) = self.deferred.take() {
            return Err(error);
        }
        if self.eof {
            // Nothing more will come: the buffer stays as it is.
            return Ok(false);
        }
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.filled, 0);
            self.filled -= self.pos;
            self.pos = 0;
        }
        let before = self.filled;
        let capacity = wanted.max(CHUNK);
        if self.buf.len() > 4 * capacity && self.filled <= capacity {
            // A large document has gone: give its memory back.
            self.buf.truncate(capacity);
            self.buf.shrink_to_fit();
        }
        if self.buf.len() < capacity {
            self.buf.resize(capacity, 0);
        }
        while !self.eof && self.filled < wanted {
            match self.reader.read(&mut self.buf[self.filled..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.filled > before)
    }

    /// Reads until the window holds `wanted` bytes, as [`Window::fill_to`], to look ahead: a read
    /// error is kept for the next read that needs bytes, so that what came before it is read
    /// first.
    pub fn read_ahead(&mut self, wanted: usize) {
        if let Err(error) = self.fill_to(wanted) {
            self.deferred = Some(error);
        }
    }

    /// Reads more, up to `limit` bytes in the window. A small window (a callback cut by a pipe's
    /// read) takes whatever one read gives, so that a live stream is never held waiting for bytes
    /// that have not been written yet. A large one reads at least one chunk more, or as much again
    /// as it holds, so that a large document parsed again after each read costs linear time.
    pub fn fill_more(&mut self, limit: usize) -> io::Result<bool> {
        let have = self.filled - self.pos;
        if have < EAGER_WINDOW {
            return self.fill_to(have + 1);
        }
        self.fill_to((have + have.max(CHUNK)).min(limit.max(have + 1)))
    }

    /// Reads until the window holds a byte that is not a space, tab or carriage return, or the
    /// input ends.
    pub fn fill_past_blanks(&mut self) -> io::Result<()> {
        while !self.eof && self.window().iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')) {
            let have = self.window().len();
            self.fill_to(have + 1)?;
        }
        Ok(())
    }

    /// Consumes through the next line feed, reading and discarding as needed (memory stays at
    /// one chunk however long the line). Returns false if the input ended first.
    pub fn skip_line(&mut self) -> io::Result<bool> {
        loop {
            if let Some(at) = memchr::memchr(b'\n', self.window()) {
                self.consume(at + 1);
                return Ok(true);
            }
            let rest = self.window().len();
            self.consume(rest);
            if self.eof || !self.fill_to(1)? {
                return Ok(false);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let start = Position::START;
        assert_eq!(start.advanced_by(b"ab"), Position { line: 1, column: 3, offset: 2 });
        assert_eq!(start.advanced_by(b"a\nb\n\xc3\xa9x"), Position { line: 3, column: 3, offset: 7 });
    }

    #[test]
    fn fills_consumes_and_skips_lines() {
        let mut frames = Window::new(&b"one\ntwo\nthree"[..]);
        frames.fill_to(1).unwrap();
        assert_eq!(frames.window(), b"one\ntwo\nthree");
        frames.consume(4);
        assert_eq!(frames.position(), Position { line: 2, column: 1, offset: 4 });
        assert!(frames.skip_line().unwrap());
        assert_eq!(frames.window(), b"three");
        assert!(!frames.skip_line().unwrap());
        assert!(frames.window().is_empty() && frames.at_eof());
    }
}
