//! Finds the callbacks inside the lines of a log (`--extract`).
//!
//! Real captures are application logs, not clean JSON Lines. Each line is searched for callbacks
//! in three forms:
//! - a JSON object starting anywhere in the line, after a prefix such as a timestamp and a logger
//!   name (`2025-11-25 12:00:01,123 INFO [tiw] callback: {"EventType":...}`);
//! - a callback held as a JSON string inside a JSON log line, at any depth, decoded once
//!   (`{"msg":"tiw callback","body":"{\"EventType\":...}"}`);
//! - nginx's `$request_body`, whose `"` and non-ASCII bytes are written as `\x22` and `\xHH`.
//!
//! Only objects with an `EventType` member count, so log noise is never reported. A line that
//! mentions `EventType` but yields no callback is reported as broken at the `{` that seems to start
//! it (see [`callback_start`]). Lines are read one at a time, so a live log is followed as it grows.

use std::collections::VecDeque;
use std::io::{self, Read};

use crate::read::framing::{Broken, Document, Item, MAX_DOCUMENT_BYTES};
use crate::read::tape::{self, Node, Parsed, Tape, Value as Json};
use crate::read::window::{Position, Window};

/// The callbacks of a log, found line by line.
pub struct Extracted<R> {
    frames: Window<R>,
    /// The callbacks and broken pieces found on the current line, in order, not yet taken.
    found: VecDeque<Found>,
    /// The bytes and tape of the document last handed out.
    bytes: Vec<u8>,
    tape: Tape,
    /// Tapes and buffers to reuse.
    spare_tapes: Vec<Tape>,
    spare_bytes: Vec<Vec<u8>>,
    /// The current line, as read and decoded from nginx's escapes, and where each decoded byte
    /// came from.
    line: Vec<u8>,
    decoded: Vec<u8>,
    origin: Vec<u32>,
    next_index: u64,
    lines: u64,
}

enum Found {
    Document { bytes: Vec<u8>, tape: Tape, start: Position },
    Broken(Broken),
}

impl<R: Read> Extracted<R> {
    pub fn new(reader: R) -> Self {
        Extracted {
            frames: Window::new(reader),
            found: VecDeque::new(),
            bytes: Vec::new(),
            tape: Tape::default(),
            spare_tapes: Vec::new(),
            spare_bytes: Vec::new(),
            line: Vec::new(),
            decoded: Vec::new(),
            origin: Vec::new(),
            next_index: 0,
            lines: 0,
        }
    }

    /// Lines read so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Exchanges the tape of the last document handed out for `other` (see
    /// [`crate::read::framing::Documents::swap_tape`]).
    pub fn swap_tape(&mut self, other: &mut Tape) {
        std::mem::swap(&mut self.tape, other);
    }

    /// The next callback or broken piece; `None` at the end of the input.
    pub fn next_item(&mut self) -> io::Result<Option<Item<'_>>> {
        while self.found.is_empty() {
            if !self.read_line()? {
                return Ok(None);
            }
        }
        match self.found.pop_front() {
            Some(Found::Document { bytes, tape, start }) => {
                self.spare_bytes.push(std::mem::replace(&mut self.bytes, bytes));
                self.spare_tapes.push(std::mem::replace(&mut self.tape, tape));
                let index = self.next_index();
                Ok(Some(Item::Document(Document { index, start, doc: self.tape.view(&self.bytes) })))
            }
            Some(Found::Broken(broken)) => Ok(Some(Item::Broken(broken))),
            None => Ok(None),
        }
    }

    /// The piece left when the input failed part way; see
    /// [`crate::read::framing::Documents::broken_off`].
    pub fn broken_off(&mut self, code: &'static str, message: String) -> Broken {
        let (start, at) = self.frames.consume_rest();
        let index = self.next_index();
        Broken { index, start, code, message, at, help: None }
    }

    fn next_index(&mut self) -> u64 {
        let index = self.next_index;
        self.next_index += 1;
        index
    }

    /// Reads one line and searches it; false at the end of the input.
    fn read_line(&mut self) -> io::Result<bool> {
        let length = loop {
            let window = self.frames.window();
            if let Some(at) = memchr::memchr(b'\n', window) {
                break at;
            }
            if window.len() > MAX_DOCUMENT_BYTES {
                // A line this long is no log line worth reading whole: pass over it.
                self.lines += 1;
                self.frames.skip_line()?;
                return Ok(true);
            }
            if self.frames.at_eof() || !self.frames.fill_more(MAX_DOCUMENT_BYTES + 1)? {
                let rest = self.frames.window().len();
                if rest == 0 {
                    return Ok(false);
                }
                break rest;
            }
        };
        self.lines += 1;
        let start = self.frames.position();
        let line = &self.frames.window()[..length];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if memchr::memchr(b'{', line).is_some() {
            let (mut copy, mut decoded) = (std::mem::take(&mut self.line), std::mem::take(&mut self.decoded));
            copy.clear();
            copy.extend_from_slice(line);
            // The line as it is first; nginx's escapes are decoded only when that finds nothing,
            // for `\\x41` in a JSON string is a backslash and `x41`, not an escape.
            decode_nginx(&copy, &mut decoded, &mut self.origin, false);
            let mut found = self.search(&decoded, &copy, start);
            if !found && memchr::memmem::find(&copy, b"\\x22").is_some() {
                decode_nginx(&copy, &mut decoded, &mut self.origin, true);
                found = self.search(&decoded, &copy, start);
            }
            if !found {
                self.report_broken(&decoded, &copy, start);
            }
            (self.line, self.decoded) = (copy, decoded);
        }
        let through = (length + 1).min(self.frames.window().len());
        self.frames.consume(through);
        Ok(true)
    }

    /// Finds the callbacks in `text` (the line, maybe decoded), reporting them at their place in
    /// `line`; whether there were any.
    fn search(&mut self, text: &[u8], line: &[u8], start: Position) -> bool {
        let before = self.found.len();
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
                let place = self.place(line, start, at);
                let mut kept = self.spare_bytes.pop().unwrap_or_default();
                kept.clear();
                kept.extend_from_slice(bytes);
                let next = self.spare_tapes.pop().unwrap_or_default();
                self.found.push_back(Found::Document {
                    bytes: kept,
                    tape: std::mem::replace(&mut tape, next),
                    start: place,
                });
                from = at + consumed;
                continue;
            }
            // A log object: look for callbacks held in its strings.
            let mut held = Vec::new();
            strings_with_callbacks(root, &mut held);
            if held.is_empty() {
                // Not here; a callback may still be an object nested inside it.
                from = at + 1;
                continue;
            }
            let mut search_from = at;
            for held in held {
                // Where the string stands in the line: the `{` after its opening quote.
                let offset = memchr::memmem::find(&text[search_from..at + consumed], b"\"{")
                    .map_or(at, |i| search_from + i + 1);
                search_from = offset + 1;
                let place = self.place(line, start, offset);
                self.take_held(&held, place);
            }
            from = at + consumed;
        }
        self.spare_tapes.push(tape);
        self.found.len() > before
    }

    /// Reports a line that mentions `EventType` but gave no callback, at the `{` that seems to
    /// start it.
    fn report_broken(&mut self, text: &[u8], line: &[u8], start: Position) {
        if let Some(at) = callback_start(text) {
            let place = self.place(line, start, at);
            let (message, broke_at) = match (at.checked_sub(1).map(|q| text[q]), broken_string(&text[at..])) {
                // Held in a JSON string whose escapes do not decode.
                (Some(b'"'), Some((message, offset))) => (
                    format!("a callback in a JSON string whose escapes do not decode: {message}"),
                    at + offset,
                ),
                _ => match tape::parse_value(&text[at..], &mut Tape::default()) {
                    Parsed::Invalid { message, offset } => {
                        (format!("what looks like a callback, but is not JSON: {message}"), at + offset)
                    }
                    _ => ("a callback cut off before its end".to_string(), text.len()),
                },
            };
            let at_position = self.place(line, start, broke_at);
            self.push_broken(place, format!("this line holds {message}"), at_position);
        }
    }

    /// Adds a broken piece, `invalid-json`, to what the line gave.
    fn push_broken(&mut self, start: Position, message: String, at: Position) {
        let index = self.next_index();
        let broken = Broken { index, start, code: "invalid-json", message, at, help: None };
        self.found.push_back(Found::Broken(broken));
    }

    /// A callback decoded from a JSON string: parsed, and kept in compact form, so that its
    /// findings' positions stay on the log's line.
    fn take_held(&mut self, text: &str, place: Position) {
        let mut tape = self.spare_tapes.pop().unwrap_or_default();
        let trimmed = text.trim_start();
        match tape::parse_value(trimmed.as_bytes(), &mut tape) {
            Parsed::Value { consumed }
                if tape.view(&trimmed.as_bytes()[..consumed]).root().get("EventType").is_some() =>
            {
                let mut compact = self.spare_bytes.pop().unwrap_or_default();
                compact.clear();
                let _ = tape.view(&trimmed.as_bytes()[..consumed]).root().write_json(&mut compact);
                // The compact text is parsed again, for a tape that points into it.
                if let Parsed::Value { .. } = tape::parse_value(&compact, &mut tape) {
                    self.found.push_back(Found::Document { bytes: compact, tape, start: place });
                    return;
                }
                self.spare_bytes.push(compact);
            }
            Parsed::Invalid { message, .. } => {
                let message = format!(
                    "a string of this line holds what looks like a callback, but it is not JSON: {message}"
                );
                self.push_broken(place, message, place);
            }
            _ => {}
        }
        self.spare_tapes.push(tape);
    }

    /// The position of byte `at` of the decoded line: the line's, at the column of the byte it was
    /// decoded from.
    fn place(&self, line: &[u8], start: Position, at: usize) -> Position {
        let original = self.origin.get(at).map_or(line.len(), |&o| o as usize).min(line.len());
        start.advanced_by(&line[..original])
    }
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

/// Collects the strings below `node` that hold a JSON object with an `EventType` member (at a
/// glance: they start with `{` and mention `EventType`; parsing decides).
fn strings_with_callbacks(node: Node<'_>, out: &mut Vec<String>) {
    match node.value() {
        Json::Object { .. } => node.members().for_each(|(_, child)| strings_with_callbacks(child, out)),
        Json::Array { .. } => node.elements().for_each(|child| strings_with_callbacks(child, out)),
        _ => {
            if let Some(text) = node.as_str()
                && text.trim_start().starts_with('{')
                && text.contains("\"EventType\"")
            {
                out.push(text.to_string());
            }
        }
    }
}

/// Copies `line` into `decoded`, decoding nginx's `\xHH` escapes when `escapes`, and records in
/// `origin`, for each decoded byte, the offset of the byte of `line` it came from (one past the end
/// last).
pub fn decode_nginx(line: &[u8], decoded: &mut Vec<u8>, origin: &mut Vec<u32>, escapes: bool) {
    decoded.clear();
    origin.clear();
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut i = 0;
    while i < line.len() {
        if escapes
            && line[i] == b'\\'
            && line.get(i + 1) == Some(&b'x')
            && let (Some(high), Some(low)) =
                (line.get(i + 2).and_then(|&b| hex(b)), line.get(i + 3).and_then(|&b| hex(b)))
        {
            decoded.push(high << 4 | low);
            origin.push(i as u32);
            i += 4;
            continue;
        }
        decoded.push(line[i]);
        origin.push(i as u32);
        i += 1;
    }
    origin.push(line.len() as u32);
}

/// Where a callback seems to start in `text`: the `{` that encloses the first mention of
/// `"EventType"` (raw, escaped inside a JSON string, or in nginx's `\x22` form), found by matching braces backwards from
/// it. `None` when the text mentions no `EventType` key.
pub fn callback_start(text: &[u8]) -> Option<usize> {
    let mention = [&b"\"EventType\""[..], b"\\\"EventType\\\"", b"\\x22EventType\\x22"]
        .iter()
        .filter_map(|needle| memchr::memmem::find(text, needle))
        .min()?;
    let mut depth = 0usize;
    for at in (0..mention).rev() {
        match text[at] {
            b'}' => depth += 1,
            b'{' if depth == 0 => return Some(at),
            b'{' => depth -= 1,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (line, column, outcome) of each item: a document's event type, or `!code`.
    fn found(log: &str) -> (Vec<(u64, u64, String)>, u64) {
        let mut extracted = Extracted::new(log.as_bytes());
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
