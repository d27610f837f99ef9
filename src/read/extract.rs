//! Finds the callbacks inside the lines of a log (`--extract`).
//!
//! Real captures are application logs, not clean JSON Lines, and the places logs end up wrap them
//! once more. Each line is searched for callbacks, unwrapping as it goes:
//! - a JSON object starting anywhere in the line, after a prefix such as a timestamp and a logger
//!   name (`2025-11-25 12:00:01,123 INFO [tiw] callback: {"EventType":...}`);
//! - a JSON log line (a container runtime's `{"log":"…"}`, journald's `MESSAGE`, zap, logrus),
//!   whose strings are searched again as text, to any depth a real log shows (a string holding a
//!   prefix and a callback, or another JSON log line), and whose byte arrays (journald's
//!   `MESSAGE` when it is not UTF-8) are read as text;
//! - CRI lines (`<time> stdout P <message>`): partial pieces are joined with their final piece;
//! - a callback pretty-printed over several lines after a prefix;
//! - when the line as it is holds none, decoded: nginx's `\x22` escapes, JSON escapes outside any
//!   JSON string (nginx's `escape=json`), CSV's doubled quotes, percent-encoding, and a Python
//!   `dict` repr (`{'EventType': 'A', 'x': True}`), which is decoded only when it maps cleanly onto
//!   JSON and then carries a `python-repr` warning: the log holds a repr, not the body Tencent sent.
//!
//! Only objects with an `EventType` member count, so log noise is never reported. A line that
//! mentions `EventType` but yields no callback is reported as broken at the `{` that seems to start
//! it (see [`callback_start`]). Lines are read one at a time, so a live log is followed as it grows.

use std::collections::VecDeque;
use std::io::{self, Read};

use crate::codes::Code;
use crate::read::framing::{Broken, Document, Item, MAX_DOCUMENT_BYTES};
use crate::read::locate::callback_start;
use crate::read::tape::{self, JsonValue, Node, Parsed, Tape};
use crate::read::window::{Position, Window};

/// How deep strings are searched inside JSON log lines: a callback in a string in a string in a
/// container's log line is three levels down.
const MAX_DEPTH: u8 = 4;
/// Lines a pretty-printed callback may span after its prefix.
const MAX_PRETTY_LINES: usize = 10_000;

/// The callbacks of a log, found line by line.
pub struct LogFramer<R> {
    input: Window<R>,
    /// The callbacks and broken pieces found on the current line, in order, not yet taken.
    pending: VecDeque<Pending>,
    /// The bytes and tape of the document last handed out.
    bytes: Vec<u8>,
    tape: Tape,
    /// Tapes and buffers to reuse.
    spare_tapes: Vec<Tape>,
    spare_bytes: Vec<Vec<u8>>,
    /// The current line, as read and decoded, and where each decoded byte came from.
    line: Vec<u8>,
    decoded: Vec<u8>,
    origin: Vec<u32>,
    next_index: u64,
    lines: u64,
    /// The partial pieces of a CRI record, joined so far, and where the record starts.
    cri: Option<(Vec<u8>, Position)>,
}

/// An item of the current line, found and waiting to be taken.
enum Pending {
    Document { bytes: Vec<u8>, tape: Tape, start: Position, from_repr: bool },
    Broken(Broken),
}

/// Where a text being searched stands in the log: the line it came from, where that starts, and
/// how the text's bytes map onto the line's (`None`: they do not; everything found is placed at
/// `anchor`).
#[derive(Clone, Copy)]
struct Place<'a> {
    line: &'a [u8],
    start: Position,
    origin: Option<&'a [u32]>,
    anchor: Position,
}

impl Place<'_> {
    /// The position of byte `at` of the text.
    fn of(&self, at: usize) -> Position {
        match self.origin {
            Some(origin) => {
                let original = origin.get(at).map_or(self.line.len(), |&o| o as usize).min(self.line.len());
                self.start.advanced_by(&self.line[..original])
            }
            None => self.anchor,
        }
    }
}

/// One way a line is decoded before it is searched again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Decoding {
    /// nginx's `$request_body`: `"` and non-ASCII bytes as `\x22` and `\xHH`.
    Nginx,
    /// JSON string escapes outside any JSON string: nginx's `escape=json` (`\"`, `\u00XX`).
    JsonEscapes,
    /// A CSV field: `"` doubled.
    CsvQuotes,
    /// Percent-encoding: `%7B%22EventType%22…`.
    Percent,
}

impl Decoding {
    /// Whether `line` shows a sign of this encoding around an `EventType`.
    fn applies(self, line: &[u8]) -> bool {
        let has = |needle: &[u8]| memchr::memmem::find(line, needle).is_some();
        match self {
            Decoding::Nginx => has(b"\\x22"),
            Decoding::JsonEscapes => has(b"\\\"EventType\\\""),
            Decoding::CsvQuotes => has(b"\"\"EventType\"\""),
            Decoding::Percent => has(b"%22EventType%22") || has(b"%22eventtype%22"),
        }
    }
}

impl<R: Read> LogFramer<R> {
    pub fn new(reader: R) -> Self {
        LogFramer {
            input: Window::new(reader),
            pending: VecDeque::new(),
            bytes: Vec::new(),
            tape: Tape::default(),
            spare_tapes: Vec::new(),
            spare_bytes: Vec::new(),
            line: Vec::new(),
            decoded: Vec::new(),
            origin: Vec::new(),
            next_index: 0,
            lines: 0,
            cri: None,
        }
    }

    /// Lines read so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Exchanges the tape of the last document handed out for `other` (see
    /// [`crate::read::framing::JsonFramer::swap_tape`]).
    pub fn swap_tape(&mut self, other: &mut Tape) {
        std::mem::swap(&mut self.tape, other);
    }

    /// The next callback or broken piece; `None` at the end of the input.
    pub fn next_item(&mut self) -> io::Result<Option<Item<'_>>> {
        while self.pending.is_empty() {
            if !self.read_line()? {
                return Ok(None);
            }
        }
        match self.pending.pop_front() {
            Some(Pending::Document { bytes, tape, start, from_repr }) => {
                self.spare_bytes.push(std::mem::replace(&mut self.bytes, bytes));
                self.spare_tapes.push(std::mem::replace(&mut self.tape, tape));
                let index = self.next_index();
                let doc = self.tape.view(&self.bytes);
                Ok(Some(Item::Document(Document { index, start, doc, from_repr })))
            }
            Some(Pending::Broken(broken)) => Ok(Some(Item::Broken(broken))),
            None => Ok(None),
        }
    }

    /// The piece left when the input failed part way; see
    /// [`crate::read::framing::JsonFramer::broken_off`].
    pub fn broken_off(&mut self, code: Code, message: String) -> Broken {
        let (start, at) = self.input.consume_rest();
        let index = self.next_index();
        Broken { index, start, code, message, at, help: None }
    }

    fn next_index(&mut self) -> u64 {
        let index = self.next_index;
        self.next_index += 1;
        index
    }

    /// Reads one line (or one CRI record, or one pretty-printed callback) and searches it; false
    /// at the end of the input.
    fn read_line(&mut self) -> io::Result<bool> {
        let length = loop {
            let window = self.input.window();
            if let Some(at) = memchr::memchr(b'\n', window) {
                break at;
            }
            if window.len() > MAX_DOCUMENT_BYTES {
                // A line this long is no log line worth reading whole: pass over it.
                self.lines += 1;
                self.input.skip_line()?;
                return Ok(true);
            }
            if self.input.at_eof() || !self.input.fill_more(MAX_DOCUMENT_BYTES + 1)? {
                let rest = self.input.window().len();
                if rest == 0 {
                    self.end_of_cri_record();
                    return Ok(false);
                }
                break rest;
            }
        };
        self.lines += 1;
        let start = self.input.position();
        let line = &self.input.window()[..length];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some((message_at, partial)) = cri_piece(line) {
            let message = &line[message_at..];
            if partial || self.cri.is_some() {
                let (joined, record_start) =
                    self.cri.get_or_insert_with(|| (Vec::new(), start.advanced_by(&line[..message_at])));
                joined.extend_from_slice(message);
                let record_start = *record_start;
                if joined.len() > MAX_DOCUMENT_BYTES {
                    self.cri = None;
                } else if !partial && let Some((joined, _)) = self.cri.take() {
                    self.search_record(&joined, record_start);
                }
                let through = (length + 1).min(self.input.window().len());
                self.input.consume(through);
                return Ok(true);
            }
        }
        let mut through = (length + 1).min(self.input.window().len());
        if memchr::memchr(b'{', line).is_some() || memchr::memmem::find(line, b"%22EventType%22").is_some() {
            let copy = {
                let mut copy = std::mem::take(&mut self.line);
                copy.clear();
                copy.extend_from_slice(line);
                copy
            };
            let found = self.search_line(&copy, start);
            // A line that opens an object it does not close may start a pretty-printed callback.
            let opens = copy.trim_ascii_end().ends_with(b"{");
            if !found && (opens || memchr::memmem::find(&copy, b"EventType").is_some()) {
                match self.pretty_callback(&copy, start)? {
                    Some(consumed) => through = consumed,
                    None => self.report_broken(&copy, start),
                }
            }
            self.line = copy;
        }
        self.input.consume(through);
        Ok(true)
    }

    /// Searches one line: as it is, then decoded in each way it shows signs of; whether it held a
    /// callback.
    fn search_line(&mut self, line: &[u8], start: Position) -> bool {
        let (mut decoded, mut origin) = (std::mem::take(&mut self.decoded), std::mem::take(&mut self.origin));
        decode(line, &mut decoded, &mut origin, None);
        let place = Place { line, start, origin: Some(&origin), anchor: start };
        let mut found = self.search(&decoded, place, 0);
        // Every encoding leaves the name `EventType` readable: a line without it has no more.
        let mentions = !found && memchr::memmem::find(line, b"EventType").is_some();
        for decoding in [Decoding::Nginx, Decoding::JsonEscapes, Decoding::CsvQuotes, Decoding::Percent] {
            if found || !mentions || !decoding.applies(line) {
                continue;
            }
            decode(line, &mut decoded, &mut origin, Some(decoding));
            let place = Place { line, start, origin: Some(&origin), anchor: start };
            found = self.search(&decoded, place, 0);
        }
        if !found && mentions && memchr::memmem::find(line, b"'EventType'").is_some() {
            found = self.python_repr(line, start);
        }
        (self.decoded, self.origin) = (decoded, origin);
        found
    }

    /// A CRI record joined from its pieces: searched as text of its own, placed at its start.
    fn search_record(&mut self, record: &[u8], start: Position) {
        if !self.search_line(record, start) {
            self.report_broken(record, start);
        }
    }

    /// The end of the input inside a CRI record whose final piece never came.
    fn end_of_cri_record(&mut self) {
        if let Some((record, start)) = self.cri.take()
            && callback_start(&record).is_some()
        {
            let message =
                "this CRI record's partial pieces end without their final piece: a callback cut off".into();
            self.push_broken(start, message, start);
        }
    }

    /// Finds the callbacks in `text`, placed by `place`; whether there were any. `depth` counts
    /// the JSON strings the text was found in.
    fn search(&mut self, text: &[u8], place: Place<'_>, depth: u8) -> bool {
        let before = self.pending.len();
        let mut from = 0;
        let mut tape = self.spare_tapes.pop().unwrap_or_default();
        while let Some(at) = memchr::memchr(b'{', &text[from..]).map(|i| from + i) {
            let consumed = match tape::parse_value(&text[at..], &mut tape) {
                Parsed::Value { consumed } => consumed,
                Parsed::Incomplete | Parsed::Invalid { .. } => {
                    from = at + 1;
                    continue;
                }
            };
            let bytes = &text[at..at + consumed];
            let root = tape.view(bytes).root();
            if root.get("EventType").is_some() {
                // Found in the text as it stands in the line: kept as it is. Found in a string:
                // kept in compact form, so that its findings stay on the line.
                let start = place.of(at);
                let next = self.spare_tapes.pop().unwrap_or_default();
                let found = std::mem::replace(&mut tape, next);
                self.keep(bytes, found, start, place.origin.is_none() || depth > 0, false);
                from = at + consumed;
                continue;
            }
            // A log object: search its strings (and byte arrays) that mention a callback.
            let mut held = Vec::new();
            if depth < MAX_DEPTH {
                texts_with_callbacks(root, &mut held);
            }
            if held.is_empty() {
                // Not here; a callback may still be an object nested inside it.
                from = at + 1;
                continue;
            }
            let mut search_from = at;
            for held in held {
                // Where the string stands in the line: where its callback seems to start.
                let offset =
                    callback_start(&text[search_from..at + consumed]).map_or(at, |i| search_from + i);
                search_from = (offset + 1).min(at + consumed);
                let anchor = place.of(offset);
                let inner = Place { line: &held, start: anchor, origin: None, anchor };
                if !self.search(&held, inner, depth + 1) {
                    self.report_broken_text(&held, anchor);
                }
            }
            from = at + consumed;
        }
        self.spare_tapes.push(tape);
        self.pending.len() > before
    }

    /// Keeps a callback found in the text: `bytes` as they are, or compacted.
    fn keep(&mut self, bytes: &[u8], mut tape: Tape, start: Position, compact: bool, from_repr: bool) {
        let mut kept = self.spare_bytes.pop().unwrap_or_default();
        kept.clear();
        if compact && bytes.contains(&b'\n') {
            let _ = tape.view(bytes).root().write_json(&mut kept);
            // The compact text is parsed again, for a tape that points into it.
            if !matches!(tape::parse_value(&kept, &mut tape), Parsed::Value { .. }) {
                return;
            }
        } else {
            // The tape's spans count from the start of `bytes`, and so fit the copy as they are.
            kept.extend_from_slice(bytes);
        }
        self.pending.push_back(Pending::Document { bytes: kept, tape, start, from_repr });
    }

    /// A callback pretty-printed over several lines after a prefix: the line opens an object
    /// that the following lines close. Returns how much of the window it took (through the end
    /// of its last line), or `None` when there is none here.
    fn pretty_callback(&mut self, line: &[u8], start: Position) -> io::Result<Option<usize>> {
        // The `{` that opens an object left open at the end of the line.
        let mut tape = Tape::default();
        let opening = memchr::memchr_iter(b'{', line).find(|&at| {
            let rest = line[at + 1..].trim_ascii();
            (rest.is_empty() || rest.starts_with(b"\""))
                && matches!(tape::parse_value(&line[at..], &mut tape), Parsed::Incomplete)
        });
        let Some(at) = opening else { return Ok(None) };
        loop {
            let window = self.input.window();
            match tape::parse_value(&window[at..], &mut tape) {
                Parsed::Value { consumed } => {
                    let bytes = &window[at..at + consumed];
                    if tape.view(bytes).root().get("EventType").is_none() {
                        return Ok(None);
                    }
                    let end = at + consumed;
                    let through = memchr::memchr(b'\n', &window[end..]).map_or(window.len(), |n| end + n + 1);
                    self.lines +=
                        memchr::memchr_iter(b'\n', &window[..through]).count().saturating_sub(1) as u64;
                    let bytes = bytes.to_vec();
                    self.keep(&bytes, tape, start.advanced_by(&line[..at]), false, false);
                    return Ok(Some(through));
                }
                Parsed::Invalid { .. } => return Ok(None),
                Parsed::Incomplete => {
                    let lines = memchr::memchr_iter(b'\n', &window[at..]).count();
                    if window.len() > MAX_DOCUMENT_BYTES || lines > MAX_PRETTY_LINES {
                        return Ok(None);
                    }
                    if self.input.at_eof() || !self.input.fill_more(MAX_DOCUMENT_BYTES + 1)? {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// A Python `dict` logged by its repr: decoded when it maps cleanly onto JSON (strings,
    /// numbers, `True`, `False`, `None`, nested dicts and lists), and kept with a `python-repr`
    /// warning; anything else in it is reported, not guessed. Whether a callback was found.
    fn python_repr(&mut self, line: &[u8], start: Position) -> bool {
        // Each `{` may open the dict (a `}` in a string defeats counting braces): the first that
        // converts to a callback is it.
        let mut tape = self.spare_tapes.pop().unwrap_or_default();
        for at in memchr::memchr_iter(b'{', line).take(64) {
            let Ok(json) = repr_to_json(&line[at..]) else { continue };
            if let Parsed::Value { consumed } = tape::parse_value(&json, &mut tape)
                && tape.view(&json[..consumed]).root().get("EventType").is_some()
            {
                self.keep(&json[..consumed], tape, start.advanced_by(&line[..at]), false, true);
                return true;
            }
        }
        self.spare_tapes.push(tape);
        // None did: say why, at the `{` that seems to open the dict.
        let Some(at) = callback_start(line) else { return false };
        let place = start.advanced_by(&line[..at]);
        let (message, offset) = match repr_to_json(&line[at..]) {
            Err((message, offset)) => (message, offset),
            Ok(_) => ("it holds no `EventType`".to_string(), 0),
        };
        let message =
            format!("this line holds a Python repr of a callback that is not plain data: {message}");
        self.push_broken(place, message, start.advanced_by(&line[..(at + offset).min(line.len())]));
        true
    }

    /// Reports a line that mentions `EventType` but gave no callback, at the `{` that seems to
    /// start it.
    fn report_broken(&mut self, line: &[u8], start: Position) {
        let Some(at) = callback_start(line) else { return };
        let place = start.advanced_by(&line[..at]);
        let (message, broke_at) = match (at.checked_sub(1).map(|q| line[q]), broken_string(&line[at..])) {
            // Held in a JSON string whose escapes do not decode.
            (Some(b'"'), Some((message, offset))) => {
                (format!("a callback in a JSON string whose escapes do not decode: {message}"), at + offset)
            }
            _ => match tape::parse_value(&line[at..], &mut Tape::default()) {
                Parsed::Invalid { message, offset } => {
                    (format!("what looks like a callback, but is not JSON: {message}"), at + offset)
                }
                _ => ("a callback cut off before its end".to_string(), line.len()),
            },
        };
        let at_position = start.advanced_by(&line[..broke_at.min(line.len())]);
        self.push_broken(place, format!("this line holds {message}"), at_position);
    }

    /// Reports a string of a JSON log line that mentions a callback but holds none, at `anchor`.
    fn report_broken_text(&mut self, text: &[u8], anchor: Position) {
        let Some(at) = callback_start(text) else { return };
        // A log line's own line feed (as a container runtime keeps it) is not part of the callback.
        let text = text.trim_ascii_end();
        let message = match tape::parse_value(&text[at.min(text.len())..], &mut Tape::default()) {
            Parsed::Invalid { message, .. } => {
                format!(
                    "a string of this line holds what looks like a callback, but it is not JSON: {message}"
                )
            }
            _ => "a string of this line holds a callback cut off before its end".to_string(),
        };
        self.push_broken(anchor, message, anchor);
    }

    /// Adds a broken piece, `invalid-json`, to what the line gave.
    fn push_broken(&mut self, start: Position, message: String, at: Position) {
        let index = self.next_index();
        let broken = Broken { index, start, code: Code::InvalidJson, message, at, help: None };
        self.pending.push_back(Pending::Broken(broken));
    }
}

/// A CRI log line (`2025-11-25T12:00:01.123456789Z stdout P message`): where its message starts
/// and whether it is a partial piece (`P`) to be joined with what follows; `None` for another
/// kind of line.
fn cri_piece(line: &[u8]) -> Option<(usize, bool)> {
    let mut fields = line.splitn(4, |&b| b == b' ');
    let time = fields.next()?;
    let stream = fields.next()?;
    let tag = fields.next()?;
    let looks_like_time = time.len() >= 20 && time[0].is_ascii_digit() && time.get(10) == Some(&b'T');
    if !looks_like_time || !matches!(stream, b"stdout" | b"stderr") {
        return None;
    }
    let partial = match tag {
        b"P" => true,
        b"F" => false,
        _ => return None,
    };
    Some((time.len() + stream.len() + tag.len() + 3, partial))
}

/// Why the JSON string whose text starts `text` (just after its opening quote) does not decode,
/// and where it broke; `None` when it decodes.
fn broken_string(text: &[u8]) -> Option<(String, usize)> {
    let mut quoted = Vec::with_capacity(text.len() + 1);
    quoted.push(b'"');
    quoted.extend_from_slice(text);
    let error = serde_json::Deserializer::from_slice(&quoted).into_iter::<String>().next()?.err()?;
    let message = error.to_string();
    let message = message.rfind(" at line ").map_or(message.as_str(), |at| &message[..at]);
    // Columns count from 1 in the quoted text, one character longer than `text`.
    Some((message.to_string(), error.column().saturating_sub(2)))
}

/// Collects the texts below `node` that mention a callback: strings, and arrays of byte values
/// (journald writes a `MESSAGE` that is not UTF-8 so). Parsing decides what they hold.
fn texts_with_callbacks(node: Node<'_>, out: &mut Vec<Vec<u8>>) {
    match node.value() {
        JsonValue::Object { .. } => node.members().for_each(|(_, child)| texts_with_callbacks(child, out)),
        JsonValue::Array { len, .. } => {
            let bytes: Option<Vec<u8>> = node
                .elements()
                .map(|e| match e.value() {
                    JsonValue::UInt(b) => u8::try_from(b).ok(),
                    _ => None,
                })
                .collect();
            match bytes {
                Some(bytes) if len > 0 && mentions_callback(&bytes) => out.push(bytes),
                Some(_) => {}
                None => node.elements().for_each(|child| texts_with_callbacks(child, out)),
            }
        }
        _ => {
            if let Some(text) = node.as_str()
                && mentions_callback(text.as_bytes())
            {
                out.push(text.as_bytes().to_vec());
            }
        }
    }
}

/// Whether `text` mentions an `EventType` key, as it is or escaped once more.
fn mentions_callback(text: &[u8]) -> bool {
    memchr::memchr(b'{', text).is_some() && memchr::memmem::find(text, b"EventType").is_some()
}

/// Copies `line` into `decoded`, decoded as `decoding` says (or as it is, for `None`), and
/// records in `origin`, for each decoded byte, the offset of the byte of `line` it came from (one
/// past the end last).
fn decode(line: &[u8], decoded: &mut Vec<u8>, origin: &mut Vec<u32>, decoding: Option<Decoding>) {
    decoded.clear();
    origin.clear();
    let Some(decoding) = decoding else {
        // As it is: every byte from its own place (the common case, kept cheap).
        decoded.extend_from_slice(line);
        origin.extend(0..=line.len() as u32);
        return;
    };
    let hex = |b: Option<&u8>| b.and_then(|&b| (b as char).to_digit(16)).map(|d| d as u8);
    let mut i = 0;
    while i < line.len() {
        // The bytes one escape stands for (at most four), and how many bytes of the line it takes.
        let mut bytes = [line[i], 0, 0, 0];
        let (len, taken) = match (decoding, line[i], line.get(i + 1)) {
            (Decoding::Nginx, b'\\', Some(b'x')) => match (hex(line.get(i + 2)), hex(line.get(i + 3))) {
                (Some(high), Some(low)) => {
                    bytes[0] = high << 4 | low;
                    (1, 4)
                }
                _ => (1, 1),
            },
            (Decoding::JsonEscapes, b'\\', Some(&next)) => match next {
                b'"' | b'\\' | b'/' => {
                    bytes[0] = next;
                    (1, 2)
                }
                b'n' | b't' | b'r' | b'b' | b'f' => {
                    bytes[0] = match next {
                        b'n' => b'\n',
                        b't' => b'\t',
                        b'r' => b'\r',
                        b'b' => 8,
                        _ => 12,
                    };
                    (1, 2)
                }
                b'u' => match line.get(i + 2..i + 6).and_then(|h| std::str::from_utf8(h).ok()) {
                    Some(h) => match u32::from_str_radix(h, 16).ok().and_then(char::from_u32) {
                        Some(c) => (c.encode_utf8(&mut bytes).len(), 6),
                        None => (1, 1),
                    },
                    None => (1, 1),
                },
                _ => (1, 1),
            },
            (Decoding::CsvQuotes, b'"', Some(b'"')) => (1, 2),
            (Decoding::Percent, b'%', _) => match (hex(line.get(i + 1)), hex(line.get(i + 2))) {
                (Some(high), Some(low)) => {
                    bytes[0] = high << 4 | low;
                    (1, 3)
                }
                _ => (1, 1),
            },
            _ => (1, 1),
        };
        decoded.extend_from_slice(&bytes[..len]);
        origin.extend(std::iter::repeat_n(i as u32, len));
        i += taken;
    }
    origin.push(line.len() as u32);
}

/// The Python repr of a dict at the start of `text`, as JSON: single-quoted strings become JSON
/// strings, `True`, `False` and `None` become `true`, `false` and `null`. Anything a plain
/// dict of plain values would not hold (a tuple, a call, a set) is an error, with where it is.
pub fn repr_to_json(text: &[u8]) -> Result<Vec<u8>, (String, usize)> {
    let mut out = Vec::with_capacity(text.len());
    let mut depth = 0usize;
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        match b {
            b'{' | b'[' => {
                depth += 1;
                out.push(b);
            }
            b'}' | b']' => {
                depth = depth.checked_sub(1).ok_or(("a closing bracket with nothing open".to_string(), i))?;
                out.push(b);
                if depth == 0 {
                    return Ok(out);
                }
            }
            b':' | b',' | b' ' | b'\t' | b'-' | b'+' | b'.' | b'0'..=b'9' | b'e' | b'E' => out.push(b),
            b'\'' | b'"' => {
                i = repr_string(text, i, &mut out)?;
                continue;
            }
            _ => {
                let word = |w: &[u8]| text[i..].starts_with(w);
                let (json, len): (&[u8], usize) = if word(b"True") {
                    (b"true", 4)
                } else if word(b"False") {
                    (b"false", 5)
                } else if word(b"None") {
                    (b"null", 4)
                } else {
                    let shown: String = String::from_utf8_lossy(&text[i..]).chars().take(12).collect();
                    return Err((format!("`{shown}` is no JSON value"), i));
                };
                out.extend_from_slice(json);
                i += len;
                continue;
            }
        }
        i += 1;
    }
    Err(("the repr is cut off before its end".into(), text.len()))
}

/// A Python string literal starting at `text[at]` (its quote), written as a JSON string; returns
/// where it ends.
fn repr_string(text: &[u8], at: usize, out: &mut Vec<u8>) -> Result<usize, (String, usize)> {
    let quote = text[at];
    let mut value = Vec::new();
    let mut i = at + 1;
    loop {
        let Some(&b) = text.get(i) else {
            return Err(("a string is cut off before its end".into(), i));
        };
        match b {
            _ if b == quote => break,
            b'\\' => {
                let escaped =
                    *text.get(i + 1).ok_or(("a string is cut off before its end".to_string(), i))?;
                match escaped {
                    b'\'' | b'"' | b'\\' => value.push(escaped),
                    b'n' => value.push(b'\n'),
                    b't' => value.push(b'\t'),
                    b'r' => value.push(b'\r'),
                    b'x' | b'u' => {
                        // `\xHH` or `\uHHHH`: a character by its code.
                        let digits = if escaped == b'x' { 2 } else { 4 };
                        let h = text.get(i + 2..i + 2 + digits).and_then(|h| std::str::from_utf8(h).ok());
                        let c = h.and_then(|h| u32::from_str_radix(h, 16).ok()).and_then(char::from_u32);
                        let missing = format!("a `\\{}` escape without {digits} hex digits", escaped as char);
                        let c = c.ok_or((missing, i))?;
                        value.extend_from_slice(c.to_string().as_bytes());
                        i += 2 + digits;
                        continue;
                    }
                    _ => return Err((format!("the escape `\\{}` has no JSON form", escaped as char), i)),
                }
                i += 2;
                continue;
            }
            _ => value.push(b),
        }
        i += 1;
    }
    let text = String::from_utf8(value).map_err(|_| ("a string that is not UTF-8".to_string(), at))?;
    out.extend_from_slice(serde_json::to_string(&text).unwrap_or_default().as_bytes());
    Ok(i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (line, column, outcome) of each item: a document's event type, or `!code`.
    fn found(log: &str) -> (Vec<(u64, u64, String)>, u64) {
        let mut extracted = LogFramer::new(log.as_bytes());
        let mut out = Vec::new();
        while let Some(item) = extracted.next_item().unwrap() {
            out.push(match item {
                Item::Document(d) => {
                    let name = d.doc.root().get("EventType").and_then(Node::as_str).unwrap_or("?");
                    (d.start.line, d.start.column, name.to_string())
                }
                Item::Broken(b) => (b.start.line, b.start.column, format!("!{}", b.code)),
            });
        }
        (out, extracted.lines())
    }

    #[test]
    fn a_prefix_before_the_callback_is_skipped() {
        let log = "2025-11-25 12:00:01,123 INFO [tiw] callback: {\"EventType\":\"A\",\"EventData\":{}}\n\
                   INFO:app.tiw:callback {\"EventData\":{\"x\":1},\"EventType\":\"B\"} (42 ms)\n\
                   noise {not json} {\"a\":1}\n";
        let (items, lines) = found(log);
        assert_eq!(items, [(1, 46, "A".into()), (2, 23, "B".into())]);
        assert_eq!(lines, 3);
    }

    #[test]
    fn a_callback_held_in_a_json_string_is_decoded_once() {
        let log = r#"{"ts":"2025-11-25T12:00:01Z","msg":"tiw callback","req":{"body":"{\"EventType\":\"A\",\"EventData\":{\"TaskId\":\"t\"}}"}}"#;
        let (items, _) = found(log);
        assert_eq!(items, [(1, 66, "A".into())]);
    }

    #[test]
    fn nginx_escapes_are_decoded() {
        let log = r#"10.0.0.1 - - [25/Nov/2025:12:00:01 +0800] "POST /tiw HTTP/1.1" 200 {\x22EventType\x22:\x22A\x22,\x22EventData\x22:{\x22Name\x22:\x22\xE6\x95\x99\x22}}"#;
        let (items, _) = found(log);
        assert_eq!(items, [(1, 68, "A".into())]);
    }

    #[test]
    fn a_line_with_half_a_callback_is_broken_and_the_next_is_read() {
        let log = "INFO callback: {\"EventData\":{\"TaskId\":\"t\"},\"EventType\":\"A\"\nINFO callback: {\"EventType\":\"B\"}\n";
        let (items, _) = found(log);
        assert_eq!(items, [(1, 16, "!invalid-json".into()), (2, 16, "B".into())]);
    }

    #[test]
    fn callbacks_are_found_where_their_braces_enclose_the_event_type() {
        assert_eq!(callback_start(br#"x {y} {"EventData":{"a":{}},"EventType":"A"}"#), Some(6));
        assert_eq!(callback_start(br#"{"body":"{\"EventType\":1}"}"#), Some(9));
        assert_eq!(callback_start(b"no callback {here}"), None);
    }
}
