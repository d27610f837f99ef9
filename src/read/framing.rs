//! Cuts an input into JSON documents, one callback each, and parses them.
//!
//! An input may be one callback, a JSON array of callbacks, or a stream of them (JSON Lines, or
//! objects simply concatenated, as `jq` reads them). A top-level array is entered, and each of its
//! elements is a document of its own, so a large array never has to be held at once. A document
//! that is not JSON is reported where the parser stopped, and reading resumes at the next line that
//! can start a document, so one broken line never hides the callbacks after it.

use std::io::{self, Read};

use crate::codes::Code;
use crate::read::locate;
use crate::read::tape::{self, JsonDoc, Parsed, Tape};
use crate::read::window::{Position, Window};

/// The largest single document read; a larger one is reported, not allocated.
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;

/// One callback's document, parsed.
pub struct Document<'a> {
    /// 0-based position of the document in its input.
    pub index: u64,
    /// Where the document starts.
    pub start: Position,
    pub doc: JsonDoc<'a>,
    /// Decoded from a Python `dict` repr in a log (`--extract`), not the body as Tencent sent it.
    pub from_repr: bool,
}

/// Why a piece of input is no document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broken {
    pub index: u64,
    pub start: Position,
    /// A stable kebab-case code: `invalid-json` or `document-too-large`.
    pub code: Code,
    pub message: String,
    /// Where the problem was found.
    pub at: Position,
    /// A suggestion, such as `--extract` for what looks like a log.
    pub help: Option<String>,
}

pub enum Item<'a> {
    Document(Document<'a>),
    Broken(Broken),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Between top-level values.
    TopLevel,
    /// Inside a top-level array, expecting an element (`first`: none seen yet).
    ArrayElement { first: bool, opened: Position },
    /// Inside a top-level array, after an element.
    ArrayAfterElement { opened: Position },
}

/// Where reading stands between two items, enough to go on from there with the same bytes in
/// another [`JsonFramer`] (a worker that frames the next piece of an input).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resume {
    /// Where the bytes still to read start.
    pub at: Position,
    /// The next item's index.
    pub index: u64,
    mode: Mode,
    resynchronise: bool,
}

impl Resume {
    /// The state at a line start between two documents.
    pub fn between_documents(at: Position, index: u64) -> Resume {
        Resume { at, index, mode: Mode::TopLevel, resynchronise: false }
    }

    /// Whether this is between top-level values (perhaps skipping a broken one's lines).
    pub fn is_top_level(&self) -> bool {
        self.mode == Mode::TopLevel
    }

    /// Whether reading went on from here as from the start of a fresh input: between top-level
    /// documents, with nothing to skip.
    pub fn is_between_documents(&self) -> bool {
        self.mode == Mode::TopLevel && !self.resynchronise
    }
}

/// The documents of one input, read as a stream.
pub struct JsonFramer<R> {
    input: Window<R>,
    tape: Tape,
    mode: Mode,
    next_index: u64,
    started: bool,
    max_document: usize,
    /// A broken document was just reported: skip to the next line that can start one before
    /// reading on. Done on the next call, not before the report, which would otherwise wait on a
    /// live stream for the next line to be written.
    resynchronise_next: bool,
    /// The last item is a piece the input ended inside of (a document, an array)...
    ran_out: bool,
    /// ...and it is a document.
    ran_out_in_document: bool,
    /// Whether a hint may read ahead (an input that never waits: a file, a piece in memory).
    hints_read_ahead: bool,
}

impl<R: Read> JsonFramer<R> {
    /// Goes on reading from `state`, in `window` (which starts where `state` stands).
    pub fn resume(input: Window<R>, state: Resume) -> Self {
        JsonFramer {
            input,
            tape: Tape::default(),
            mode: state.mode,
            next_index: state.index,
            started: true,
            max_document: MAX_DOCUMENT_BYTES,
            resynchronise_next: state.resynchronise,
            ran_out: false,
            ran_out_in_document: false,
            hints_read_ahead: true,
        }
    }

    /// Reads from the very start of an input: a byte-order mark is skipped.
    pub fn at_input_start(mut self) -> Self {
        self.started = false;
        self
    }

    /// Where reading stands now, between two items.
    pub fn state(&self) -> Resume {
        Resume {
            at: self.input.position(),
            index: self.next_index,
            mode: self.mode,
            resynchronise: self.resynchronise_next,
        }
    }

    /// Whether the last item is a piece the input ended inside of: with more input, it might
    /// have been whole.
    pub fn ran_out(&self) -> bool {
        self.ran_out
    }

    /// Whether the last item is a document the input ended inside of.
    pub fn ran_out_in_document(&self) -> bool {
        self.ran_out_in_document
    }

    /// Lets a hint on a broken document read up to 64 KiB ahead to find its answer, as it may on
    /// an input that never waits (not a live pipe, where it looks only at what has arrived).
    pub fn with_hints_read_ahead(mut self, read_ahead: bool) -> Self {
        self.hints_read_ahead = read_ahead;
        self
    }

    /// Every byte the window holds, consumed or not (all of a piece in memory).
    pub fn buffered(&self) -> &[u8] {
        self.input.buffered()
    }

    pub fn into_window(self) -> Window<R> {
        self.input
    }

    pub fn new(reader: R) -> Self {
        Self::with_limit(reader, MAX_DOCUMENT_BYTES)
    }

    pub fn with_limit(reader: R, max_document: usize) -> Self {
        JsonFramer {
            input: Window::new(reader),
            tape: Tape::default(),
            mode: Mode::TopLevel,
            next_index: 0,
            started: false,
            max_document,
            resynchronise_next: false,
            ran_out: false,
            ran_out_in_document: false,
            hints_read_ahead: false,
        }
    }

    /// Exchanges the tape of the last document read for `other`: a caller that keeps a document
    /// beyond the next read takes its tape this way, and hands in an empty one to fill next.
    pub fn swap_tape(&mut self, other: &mut Tape) {
        std::mem::swap(&mut self.tape, other);
    }

    /// The next document or broken piece; `None` at the end of the input. An `Err` is a failure
    /// to read the input itself.
    pub fn next_item(&mut self) -> io::Result<Option<Item<'_>>> {
        if !self.started {
            self.started = true;
            self.input.fill_to(3)?;
            if self.input.window().starts_with(b"\xEF\xBB\xBF") {
                self.input.consume_invisible(3);
            }
        }
        self.ran_out = false;
        self.ran_out_in_document = false;
        if std::mem::take(&mut self.resynchronise_next) {
            self.resynchronise()?;
        }
        loop {
            if !self.skip_whitespace()? {
                return Ok(match self.mode {
                    Mode::TopLevel => None,
                    Mode::ArrayElement { opened, .. } | Mode::ArrayAfterElement { opened } => {
                        self.mode = Mode::TopLevel;
                        self.ran_out = true;
                        let at = self.input.position();
                        Some(Item::Broken(self.broken(
                            opened,
                            Code::InvalidJson,
                            format!(
                                "the input ends inside the array opened at line {}, column {}",
                                opened.line, opened.column
                            ),
                            at,
                        )))
                    }
                });
            }
            let first = self.input.window()[0];
            let at = self.input.position();
            match (self.mode, first) {
                (Mode::TopLevel, b'[') => {
                    self.input.consume(1);
                    self.mode = Mode::ArrayElement { first: true, opened: at };
                }
                (Mode::ArrayElement { first: true, .. } | Mode::ArrayAfterElement { .. }, b']') => {
                    self.input.consume(1);
                    self.mode = Mode::TopLevel;
                }
                (Mode::ArrayAfterElement { opened }, b',') => {
                    self.input.consume(1);
                    self.mode = Mode::ArrayElement { first: false, opened };
                }
                (Mode::ArrayAfterElement { .. }, _) => {
                    let broken = self.broken(
                        at,
                        Code::InvalidJson,
                        "expected `,` or `]` after an element of the array".into(),
                        at,
                    );
                    self.resynchronise_next = true;
                    return Ok(Some(Item::Broken(broken)));
                }
                (Mode::ArrayElement { first: false, .. }, b']') => {
                    let broken = self.broken(at, Code::InvalidJson, "trailing comma before `]`".into(), at);
                    self.input.consume(1);
                    self.mode = Mode::TopLevel;
                    return Ok(Some(Item::Broken(broken)));
                }
                _ => return self.parse_document(),
            }
        }
    }

    /// Skips white space; false if the input ended first.
    fn skip_whitespace(&mut self) -> io::Result<bool> {
        loop {
            let window = self.input.window();
            match window.iter().position(|b| !matches!(b, b' ' | b'\n' | b'\r' | b'\t')) {
                Some(n) => {
                    self.input.consume(n);
                    return Ok(true);
                }
                None => {
                    let n = window.len();
                    self.input.consume(n);
                    if self.input.at_eof() || !self.input.fill_to(1)? {
                        return Ok(false);
                    }
                }
            }
        }
    }

    fn parse_document(&mut self) -> io::Result<Option<Item<'_>>> {
        let start = self.input.position();
        loop {
            let window = self.input.window();
            let self_delimited = matches!(window[0], b'{' | b'[' | b'"');
            match tape::parse_value(window, &mut self.tape) {
                Parsed::Value { consumed } if consumed > self.max_document => {
                    let broken = self.too_large(start);
                    self.input.consume(consumed);
                    return Ok(Some(Item::Broken(broken)));
                }
                Parsed::Value { consumed }
                    if consumed < window.len() || self_delimited || self.input.at_eof() =>
                {
                    let index = self.next_item_index();
                    if let Mode::ArrayElement { opened, .. } = self.mode {
                        self.mode = Mode::ArrayAfterElement { opened };
                    }
                    if self.tape.one_line_ascii() {
                        self.input.consume_within_line(consumed);
                    } else {
                        self.input.consume(consumed);
                    }
                    // `consume` only moved the window's start: the bytes are still in place.
                    let bytes = self.input.consumed_tail(consumed);
                    return Ok(Some(Item::Document(Document {
                        index,
                        start,
                        doc: self.tape.view(bytes),
                        from_repr: false,
                    })));
                }
                parsed @ (Parsed::Value { .. } | Parsed::Incomplete) => {
                    if window.len() > self.max_document {
                        let broken = self.too_large(start);
                        self.resynchronise_next = true;
                        return Ok(Some(Item::Broken(broken)));
                    }
                    let was_value = matches!(parsed, Parsed::Value { .. });
                    let filled = !self.input.at_eof() && self.input.fill_more(self.max_document + 1)?;
                    if !filled && was_value && self.input.at_eof() {
                        // A scalar (`true`, `-0.1`) that ends the input: the end is now known,
                        // and the next pass takes it whole.
                        continue;
                    }
                    if !filled {
                        let (_, at) = self.input.consume_rest();
                        self.ran_out = true;
                        self.ran_out_in_document = true;
                        let message = "the input ends inside this document".into();
                        return Ok(Some(Item::Broken(self.broken(start, Code::InvalidJson, message, at))));
                    }
                }
                Parsed::Invalid { message, offset } => {
                    if self.mode == Mode::TopLevel
                        && let Some(end) = cut_off_before(window, offset)
                    {
                        // A line cut short in a stream, the next document on the next line: the
                        // fault is the cut, at the end of this line, not the next line's start.
                        let at = self.input.position_of(end);
                        let next = at.line + 1;
                        let message = format!("cut off before its end: line {next} starts another document");
                        let broken = self.broken(start, Code::InvalidJson, message, at);
                        self.resynchronise_next = true;
                        return Ok(Some(Item::Broken(broken)));
                    }
                    let at = self.input.position_of(offset);
                    let hint = zero_bytes_hint(window);
                    let mut broken = self.broken(start, Code::InvalidJson, message, at);
                    broken.help = hint.map(String::from).or_else(|| self.log_hint());
                    self.resynchronise_next = true;
                    return Ok(Some(Item::Broken(broken)));
                }
            }
        }
    }

    /// The piece left when the input failed part way (a compressed input that breaks off, say):
    /// from the start of what was read and not yet taken to where the text stopped, numbered as
    /// the next item. What it held is dropped.
    pub fn broken_off(&mut self, code: Code, message: String) -> Broken {
        let (start, at) = self.input.consume_rest();
        self.broken(start, code, message, at)
    }

    /// When the document at the window's start is not JSON, whether it looks like a log: a
    /// callback further on in its line, or in a line after it that reading would pass over (one
    /// not starting with `{` or `[`), among the bytes already read (64 KiB at most).
    fn log_hint(&mut self) -> Option<String> {
        if self.hints_read_ahead {
            self.input.read_ahead(HINT_LOOKS_AHEAD);
        }
        self.log_hint_in_window()
    }

    fn log_hint_in_window(&self) -> Option<String> {
        let window = self.input.window();
        let window = &window[..window.len().min(HINT_LOOKS_AHEAD)];
        let mut from = 0;
        for (n, line) in window.split(|&b| b == b'\n').enumerate() {
            if n > 0 && matches!(line.first(), Some(b'{' | b'[')) {
                return None;
            }
            if let Some(at) = locate::callback_start(line).filter(|&at| n > 0 || at > 0) {
                let place = self.input.position_of(from + at);
                let lead = if n == 0 {
                    format!("a callback starts at column {}", place.column)
                } else {
                    format!("line {} holds a callback at column {}", place.line, place.column)
                };
                return Some(format!("{lead}: is this a log? try --extract"));
            }
            from += line.len() + 1;
        }
        None
    }

    fn next_item_index(&mut self) -> u64 {
        let index = self.next_index;
        self.next_index += 1;
        index
    }

    fn too_large(&mut self, start: Position) -> Broken {
        let limit = self.max_document;
        let message = if limit >= 1024 * 1024 {
            format!("this document is larger than the {} MiB allowed for one callback", limit >> 20)
        } else {
            format!("this document is larger than the {limit} bytes allowed for one callback")
        };
        self.broken(start, Code::DocumentTooLarge, message, start)
    }

    fn broken(&mut self, start: Position, code: Code, message: String, at: Position) -> Broken {
        if let Mode::ArrayElement { opened, .. } = self.mode {
            self.mode = Mode::ArrayAfterElement { opened };
        }
        Broken { index: self.next_item_index(), start, code, message, at, help: None }
    }

    /// After a broken document, moves to the next line that can start one: at top level a line
    /// starting with `{` or `[`; inside an array, a line whose first non-blank byte is `{`.
    fn resynchronise(&mut self) -> io::Result<()> {
        let in_array = !matches!(self.mode, Mode::TopLevel);
        loop {
            if !self.input.skip_line()? {
                return Ok(());
            }
            self.input.fill_past_blanks()?;
            let window = self.input.window();
            let found = if in_array {
                let first = window.iter().position(|b| !matches!(b, b' ' | b'\t' | b'\r'));
                first.filter(|&i| window[i] == b'{').inspect(|&i| self.input.consume(i))
            } else {
                matches!(window.first(), Some(b'{' | b'[')).then_some(0)
            };
            if found.is_some() {
                if in_array {
                    self.mode = match self.mode {
                        Mode::ArrayElement { opened, .. } | Mode::ArrayAfterElement { opened } => {
                            Mode::ArrayElement { first: false, opened }
                        }
                        Mode::TopLevel => Mode::TopLevel,
                    };
                }
                return Ok(());
            }
        }
    }
}

/// Bytes a hint on a broken document looks through, from its start.
const HINT_LOOKS_AHEAD: usize = 64 * 1024;

/// Said of text that looks like UTF-16 without a byte-order mark.
const UTF16_HINT: &str = "this looks like UTF-16 text without a byte-order mark (every other byte is 0): \
    convert it to UTF-8 (`iconv -f UTF-16LE -t UTF-8`, or PowerShell's `Out-File -Encoding utf8`)";

const ZEROS_HINT: &str = "the line is zero bytes, not text: a file allocated and never written (a log cut \
    short by a crash or a full disk, a sparse file), or a binary file";

/// What zero bytes at the start of `window` say: UTF-16 text (ASCII characters with a zero byte
/// beside each), or no text at all (nothing but zeros).
fn zero_bytes_hint(window: &[u8]) -> Option<&'static str> {
    // Within the line (UTF-16's line feed is a 10 beside a 0), so that what follows it is no part
    // of the answer.
    let line = memchr::memchr(b'\n', window).map_or(window, |end| &window[..end]);
    let sample = &line[..line.len().min(64)];
    let zeros = sample.iter().filter(|&&b| b == 0).count();
    if sample.len() < 8 || zeros * 3 < sample.len() {
        None
    } else if zeros == sample.len() {
        Some(ZEROS_HINT)
    } else if (sample.len() - zeros) * 3 >= sample.len() {
        Some(UTF16_HINT)
    } else {
        None
    }
}

/// Where a document that failed to parse at `offset` of `window` was cut off, if that is what
/// happened: a line ends before `offset`, and the line after it starts (at its first column) with
/// `{`, as the next callback of a JSON Lines stream does. Returns the offset of that line's end.
fn cut_off_before(window: &[u8], offset: usize) -> Option<usize> {
    let upto = &window[..offset.min(window.len().saturating_sub(1)) + 1];
    memchr::memchr_iter(b'\n', upto).find(|&n| window.get(n + 1) == Some(&b'{') && n <= offset).map(|n| {
        // The line's end, before a `\r` of a CRLF line.
        if n > 0 && window[n - 1] == b'\r' { n - 1 } else { n }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (line, outcome) of each item: the first key of a document, or the broken code.
    fn items(input: &str) -> Vec<(u64, String)> {
        let mut docs = JsonFramer::new(input.as_bytes());
        let mut out = Vec::new();
        while let Some(item) = docs.next_item().unwrap() {
            out.push(match item {
                Item::Document(d) => {
                    let key = d.doc.root().members().next().map(|(k, _)| k.as_str().to_string());
                    (d.start.line, key.unwrap_or_else(|| "-".into()))
                }
                Item::Broken(b) => (b.start.line, format!("!{}", b.code)),
            });
        }
        out
    }

    #[test]
    fn reads_lines_concatenated_objects_and_arrays() {
        assert_eq!(
            items("{\"a\":1}\n{\"b\":2}{\"c\":3}\n"),
            [(1, "a".into()), (2, "b".into()), (2, "c".into())]
        );
        assert_eq!(items("[\n {\"a\":1},\n {\"b\":2}\n]\n"), [(2, "a".into()), (3, "b".into())]);
        assert_eq!(items("\u{feff}{\"a\":1}\r\n{\"b\":2}\r\n"), [(1, "a".into()), (2, "b".into())]);
        assert!(items("  \n ").is_empty());
    }

    #[test]
    fn positions_after_documents_count_the_lines_and_characters_they_hold() {
        // A document the fast parser read on one line in ASCII moves the column by its length;
        // one with a line feed between tokens, a character past ASCII, or an escape (left to
        // serde_json) is counted byte by byte, as every document was before.
        let input = concat!(
            r#"{"a":1} {"b":"教室"} {"#,
            "\n",
            r#""c":[1,"#,
            "\n",
            r#"2]} {"d":"x\"y"}{"e":0}"#,
            "\n",
            r#" {"f":1}"#
        );
        let mut docs = JsonFramer::new(input.as_bytes());
        let mut starts = Vec::new();
        while let Some(item) = docs.next_item().unwrap() {
            let Item::Document(d) = item else { panic!("every document here is whole") };
            starts.push((d.start.line, d.start.column, d.start.offset));
        }
        assert_eq!(starts, [(1, 1, 0), (1, 9, 8), (1, 20, 23), (3, 5, 37), (3, 17, 49), (4, 2, 58)]);
    }

    #[test]
    fn resumes_after_a_broken_line() {
        let got = items("{\"a\":1}\n{\"b\": \n{\"c\":3}\nnot json\n{\"d\":4}\n");
        assert_eq!(
            got,
            [
                (1, "a".into()),
                (2, "!invalid-json".into()),
                (3, "c".into()),
                (4, "!invalid-json".into()),
                (5, "d".into())
            ]
        );
    }

    #[test]
    fn resumes_inside_an_array() {
        let got = items("[\n {\"a\":1},\n {\"b\" 2},\n {\"c\":3}\n]\n{\"d\":4}");
        assert_eq!(got, [(2, "a".into()), (3, "!invalid-json".into()), (4, "c".into()), (6, "d".into())]);
    }

    #[test]
    fn an_unclosed_array_or_document_is_reported() {
        assert_eq!(items("[{\"a\":1},"), [(1, "a".into()), (1, "!invalid-json".into())]);
        assert_eq!(items("{\"a\":"), [(1, "!invalid-json".into())]);
    }

    #[test]
    fn a_document_over_the_limit_is_refused_and_reading_goes_on() {
        let big = format!("{{\"a\":\"{}\"}}\n{{\"b\":1}}\n", "x".repeat(5000));
        let mut docs = JsonFramer::with_limit(big.as_bytes(), 1000);
        let mut codes = Vec::new();
        while let Some(item) = docs.next_item().unwrap() {
            codes.push(match item {
                Item::Document(_) => None,
                Item::Broken(b) => Some(b.code),
            });
        }
        assert_eq!(codes, [Some(Code::DocumentTooLarge), None]);
    }
}
