//! A parsed JSON document as a flat, reusable tape of entries.
//!
//! Validation needs more than `serde_json::Value` keeps (every duplicate key, in order) and less
//! than it costs (a `String` per key and a map per object). The tape is one `Vec` of entries, reused
//! from one document to the next, whose strings are spans into the document's own bytes; only a
//! string that contained escapes is copied, into a side buffer. A container entry records where its
//! subtree ends, so walking an object's fields never visits its grandchildren.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// A string of the document: either a span of its bytes or a span of the tape's unescaped buffer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Text {
    Raw { start: u32, len: u32 },
    Unescaped { start: u32, len: u32 },
}

impl Text {
    fn len(self) -> usize {
        match self {
            Text::Raw { len, .. } | Text::Unescaped { len, .. } => len as usize,
        }
    }
}

/// One value on the tape. Containers hold their member count and the tape index just past them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum JsonValue {
    Null,
    Bool(bool),
    UInt(u64),
    Int(i64),
    Float(f64),
    Str(Text),
    Array { len: u32, end: u32 },
    Object { len: u32, end: u32 },
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Entry {
    key: Option<Text>,
    value: JsonValue,
}

/// The reusable storage of one parsed document.
#[derive(Default, Debug)]
pub struct Tape {
    entries: Vec<Entry>,
    unescaped: String,
    /// The fast parser's containers still open, kept for reuse.
    open: Vec<fast::Open>,
    /// The value parsed last was read by the fast path and holds no line feed and no byte past
    /// ASCII: the position after it is its start's, that many columns on.
    one_line_ascii: bool,
    /// Bit n is set when the root object may have a member whose key is n bytes long (bit 31: 31
    /// or more). The fast parser notes each; otherwise all are set: not known.
    root_key_lengths: u32,
}

/// The bit of [`Tape::root_key_lengths`] for a key of `len` bytes.
fn key_length_bit(len: usize) -> u32 {
    1 << len.min(31)
}

impl Tape {
    fn clear(&mut self) {
        self.entries.clear();
        self.unescaped.clear();
        self.one_line_ascii = false;
        self.root_key_lengths = u32::MAX;
    }

    /// Whether the value parsed last (with the white space before it) is known to hold no line
    /// feed and no byte past ASCII, so that a reader can move its position past it without
    /// looking at its bytes again. `false` says only that it is not known.
    pub fn one_line_ascii(&self) -> bool {
        self.one_line_ascii
    }

    /// A view of this tape over the bytes it was parsed from.
    pub fn view<'a>(&'a self, bytes: &'a [u8]) -> JsonDoc<'a> {
        JsonDoc { tape: self, bytes, text: None }
    }

    /// [`Tape::view`], when the bytes are known to be UTF-8 already. Parsed JSON is UTF-8
    /// throughout (each string was checked as it was parsed, and all else is ASCII), so a reader that
    /// checks the whole document once is spared a check per string it reads.
    pub fn view_text<'a>(&'a self, text: &'a str) -> JsonDoc<'a> {
        JsonDoc { tape: self, bytes: text.as_bytes(), text: Some(text) }
    }
}

/// A parsed document: its tape and the bytes its strings point into.
#[derive(Clone, Copy)]
pub struct JsonDoc<'a> {
    tape: &'a Tape,
    bytes: &'a [u8],
    /// The same bytes as text, when they are UTF-8 (always, for bytes the tape was parsed from).
    text: Option<&'a str>,
}

impl<'a> JsonDoc<'a> {
    /// The document's top-level value.
    pub fn root(self) -> Node<'a> {
        Node { doc: self, index: 0 }
    }

    /// The bytes the document was parsed from.
    pub fn bytes(self) -> &'a [u8] {
        self.bytes
    }

    /// Whether `text` lies within the document's own bytes. A string read from it that does is
    /// a string written there without escapes (one with escapes is unescaped into a buffer of its
    /// own), where JSON allows no quote, backslash or control character: it is a valid JSON string
    /// body as it stands, and a writer of JSON may skip the search for what to escape.
    pub fn lends(self, text: &str) -> bool {
        !text.is_empty() && offset_within(self.bytes, text.as_bytes()).is_some()
    }

    /// The node at a tape index obtained from [`Node::index`].
    pub fn node(self, index: u32) -> Node<'a> {
        Node { doc: self, index }
    }

    fn text_bytes(self, text: Text) -> &'a [u8] {
        match text {
            Text::Raw { start, len } => &self.bytes[start as usize..(start + len) as usize],
            Text::Unescaped { start, len } => {
                &self.tape.unescaped.as_bytes()[start as usize..(start + len) as usize]
            }
        }
    }

    fn text(self, text: Text) -> &'a str {
        match text {
            Text::Raw { start, len } => {
                let range = start as usize..(start + len) as usize;
                // The span is of a string checked for UTF-8 as it was parsed (by serde_json or the
                // fast path), so neither way can fail; an empty string stands in rather than a panic.
                match self.text {
                    Some(text) => text.get(range).unwrap_or_default(),
                    None => std::str::from_utf8(&self.bytes[range]).unwrap_or_default(),
                }
            }
            Text::Unescaped { start, len } => &self.tape.unescaped[start as usize..(start + len) as usize],
        }
    }
}

/// A value inside a parsed document.
#[derive(Clone, Copy)]
pub struct Node<'a> {
    doc: JsonDoc<'a>,
    index: u32,
}

/// An object member's key. Comparing it with a name costs no UTF-8 check.
#[derive(Clone, Copy)]
pub struct Key<'a> {
    doc: JsonDoc<'a>,
    text: Option<Text>,
}

impl<'a> Key<'a> {
    /// Whether the key is `name`.
    pub fn is(self, name: &str) -> bool {
        let Some(text) = self.text else { return false };
        self.doc.text_bytes(text) == name.as_bytes()
    }

    /// [`Key::is`] for a name known in advance: a key of the document's own bytes, of the same
    /// length and followed by enough of the document, is compared in one step.
    #[inline]
    pub fn is_known(self, known: &KnownKey) -> bool {
        let Some(Text::Raw { start, len }) = self.text else { return self.is(known.name) };
        if len as usize != known.name.len() {
            return false;
        }
        let start = start as usize;
        match self.doc.bytes.get(start..start + 16) {
            Some(sixteen) if known.fits_one_step() => {
                let word = u128::from_le_bytes(sixteen.try_into().unwrap_or([0; 16]));
                word & known.mask == known.word
            }
            _ => self.is(known.name),
        }
    }

    pub fn as_str(self) -> &'a str {
        self.text.map(|t| self.doc.text(t)).unwrap_or_default()
    }
}

/// A key name known in advance (a declared field's), with its first sixteen bytes as a number:
/// every member of every callback is looked up by name, and a call to compare bytes cost more
/// than the comparison.
#[derive(Clone, Copy, Debug)]
pub struct KnownKey {
    pub name: &'static str,
    /// The name's bytes, the first the lowest, and zeros past its end.
    word: u128,
    /// All ones over the name's bytes.
    mask: u128,
}

impl KnownKey {
    pub const fn new(name: &'static str) -> Self {
        let bytes = name.as_bytes();
        let (mut word, mut mask) = ([0u8; 16], [0u8; 16]);
        let mut i = 0;
        while i < bytes.len() && i < 16 {
            word[i] = bytes[i];
            mask[i] = 0xff;
            i += 1;
        }
        KnownKey { name, word: u128::from_le_bytes(word), mask: u128::from_le_bytes(mask) }
    }

    /// Whether the word holds the whole name.
    fn fits_one_step(&self) -> bool {
        self.name.len() <= 16
    }
}

impl<'a> Node<'a> {
    /// Where the node stands on its tape, for [`JsonDoc::node`].
    pub fn index(self) -> u32 {
        self.index
    }

    pub fn value(self) -> JsonValue {
        self.doc.tape.entries[self.index as usize].value
    }

    pub fn as_str(self) -> Option<&'a str> {
        match self.value() {
            JsonValue::Str(text) => Some(self.doc.text(text)),
            _ => None,
        }
    }

    /// A string's content as bytes, without the UTF-8 check `as_str` makes.
    pub fn str_bytes(self) -> Option<&'a [u8]> {
        match self.value() {
            JsonValue::Str(text) => Some(self.doc.text_bytes(text)),
            _ => None,
        }
    }

    pub fn is_object(self) -> bool {
        matches!(self.value(), JsonValue::Object { .. })
    }

    /// The member with this key (the first one, where a key is repeated). On the document's root,
    /// a key that no member could be by its length (the fast parser notes the root's key lengths)
    /// is found missing without a walk over the members: every document is asked whether it is a
    /// capture line, and every JSON line of a log whether it has an `EventType`.
    pub fn get(self, key: &str) -> Option<Node<'a>> {
        if self.index == 0 && self.doc.tape.root_key_lengths & key_length_bit(key.len()) == 0 {
            return None;
        }
        self.members().find(|(name, _)| name.is(key)).map(|(_, node)| node)
    }

    /// An object's members in document order, duplicates included; nothing for other values.
    pub fn members(self) -> Members<'a> {
        let (len, next) = match self.value() {
            JsonValue::Object { len, .. } => (len, self.index + 1),
            _ => (0, self.index + 1),
        };
        Members { doc: self.doc, next, left: len }
    }

    /// An array's elements in order; nothing for other values.
    pub fn elements(self) -> impl Iterator<Item = Node<'a>> {
        let len = match self.value() {
            JsonValue::Array { len, .. } => len,
            _ => 0,
        };
        Members { doc: self.doc, next: self.index + 1, left: len }.map(|(_, node)| node)
    }

    /// A short description of the value's JSON type, for messages.
    pub fn type_name(self) -> &'static str {
        match self.value() {
            JsonValue::Null => "null",
            JsonValue::Bool(_) => "a boolean",
            JsonValue::UInt(_) | JsonValue::Int(_) => "an integer",
            JsonValue::Float(_) => "a number with a fraction or exponent",
            JsonValue::Str(_) => "a string",
            JsonValue::Array { .. } => "an array",
            JsonValue::Object { .. } => "an object",
        }
    }

    /// Writes the value back as compact JSON.
    pub fn write_json(self, out: &mut (impl std::io::Write + ?Sized)) -> std::io::Result<()> {
        match self.value() {
            JsonValue::Null => out.write_all(b"null"),
            JsonValue::Bool(b) => out.write_all(if b { b"true" } else { b"false" }),
            JsonValue::UInt(n) => write!(out, "{n}"),
            JsonValue::Int(n) => write!(out, "{n}"),
            JsonValue::Float(f) => {
                let text = serde_json::to_string(&f).map_err(std::io::Error::other)?;
                out.write_all(text.as_bytes())
            }
            // A span of the document (serde_json lent it, or the fast path took it) holds no escape
            // and no control character: it is already a valid JSON string body, and needs
            // neither escaping nor a UTF-8 check.
            JsonValue::Str(text @ Text::Raw { .. }) => {
                out.write_all(b"\"")?;
                out.write_all(self.doc.text_bytes(text))?;
                out.write_all(b"\"")
            }
            JsonValue::Str(_) => crate::json_string::write_json_str(out, self.as_str().unwrap_or_default()),
            JsonValue::Array { .. } => {
                out.write_all(b"[")?;
                for (i, element) in self.elements().enumerate() {
                    if i > 0 {
                        out.write_all(b",")?;
                    }
                    element.write_json(out)?;
                }
                out.write_all(b"]")
            }
            JsonValue::Object { .. } => {
                out.write_all(b"{")?;
                for (i, (key, member)) in self.members().enumerate() {
                    if i > 0 {
                        out.write_all(b",")?;
                    }
                    crate::json_string::write_json_str(out, key.as_str())?;
                    out.write_all(b":")?;
                    member.write_json(out)?;
                }
                out.write_all(b"}")
            }
        }
    }
}

/// Iterator over the members of an object (or, without keys, the elements of an array).
pub struct Members<'a> {
    doc: JsonDoc<'a>,
    next: u32,
    left: u32,
}

impl<'a> Iterator for Members<'a> {
    type Item = (Key<'a>, Node<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let index = self.next;
        let entry = self.doc.tape.entries.get(index as usize)?;
        self.next = match entry.value {
            JsonValue::Array { end, .. } | JsonValue::Object { end, .. } => end,
            _ => index + 1,
        };
        Some((Key { doc: self.doc, text: entry.key }, Node { doc: self.doc, index }))
    }
}

// ---------------------------------------------------------------------------------------------
// Building a tape with serde_json.
//
// serde_json tells where a value ended only through `StreamDeserializer`, which accepts
// `Deserialize` types but no seed. `TapeDocument` is that type: it fills the thread's tape, whose
// storage therefore outlives each document and is reused without allocating.

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

#[derive(Default)]
struct Scratch {
    tape: Tape,
    base: usize,
    len: usize,
}

/// The outcome of parsing one JSON value from the start of a byte window.
pub enum Parsed {
    /// A value was parsed; it ended `consumed` bytes into the window.
    Value { consumed: usize },
    /// The window ended inside the value: more bytes are needed.
    Incomplete,
    /// The bytes are not JSON; `offset` is where the parser stopped.
    Invalid { message: String, offset: usize },
}

/// Parses the JSON value at the start of `window` (after any whitespace) into `tape`.
///
/// A callback's usual form (objects and arrays, strings without escapes, whole numbers that fit
/// a `u64`, literals) is parsed by [`fast`], which makes the very tape serde_json's path makes;
/// whatever else there is, and any fault, is left to serde_json, whose answer and messages stand.
pub fn parse_value(window: &[u8], tape: &mut Tape) -> Parsed {
    tape.clear();
    if let Some(consumed) = fast::parse(window, tape) {
        return Parsed::Value { consumed };
    }
    SCRATCH.with_borrow_mut(|scratch| {
        std::mem::swap(&mut scratch.tape, tape);
        scratch.tape.clear();
        scratch.base = window.as_ptr() as usize;
        scratch.len = window.len();
    });
    let mut stream = serde_json::Deserializer::from_slice(window).into_iter::<TapeDocument>();
    let outcome = match stream.next() {
        Some(Ok(TapeDocument)) => Parsed::Value { consumed: stream.byte_offset() },
        None => Parsed::Incomplete,
        Some(Err(error)) if error.is_eof() => Parsed::Incomplete,
        Some(Err(error)) => Parsed::Invalid {
            offset: offset_of(window, error.line(), error.column()),
            message: describe(&error),
        },
    };
    SCRATCH.with_borrow_mut(|scratch| std::mem::swap(&mut scratch.tape, tape));
    outcome
}

/// serde_json's message without its trailing " at line L column C": we report positions ourselves.
fn describe(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

/// The byte offset serde_json means by a 1-based line and a column counted in bytes from the line's
/// start (its column points just past the byte it stopped on).
fn offset_of(window: &[u8], line: usize, column: usize) -> usize {
    let mut line_start = 0;
    if column == 0 && line > 1 {
        // Column 0 is just past a line feed: the line feed itself is what it stopped on.
        return offset_of(window, line, 1).saturating_sub(1);
    }
    for _ in 1..line {
        match memchr::memchr(b'\n', &window[line_start..]) {
            Some(at) => line_start += at + 1,
            None => break,
        }
    }
    (line_start + column.saturating_sub(1)).min(window.len())
}

struct TapeDocument;

impl<'de> de::Deserialize<'de> for TapeDocument {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        SCRATCH.with_borrow_mut(|scratch| {
            let Scratch { tape, base, len } = scratch;
            ValueSeed { tape, base: *base, len: *len, key: None }.deserialize(deserializer)
        })?;
        Ok(TapeDocument)
    }
}

struct ValueSeed<'t> {
    tape: &'t mut Tape,
    base: usize,
    len: usize,
    key: Option<Text>,
}

impl ValueSeed<'_> {
    /// Records a scalar: every `visit_` of a value without members ends here.
    fn push<E>(self, value: JsonValue) -> Result<(), E> {
        self.tape.entries.push(Entry { key: self.key, value });
        Ok(())
    }

    fn child(&mut self, key: Option<Text>) -> ValueSeed<'_> {
        ValueSeed { tape: self.tape, base: self.base, len: self.len, key }
    }
}

/// Where `inner` starts in `outer`, if it is a part of it (the very bytes, not equal ones):
/// how a borrowed string or document is told to lie in the bytes it was read from.
fn offset_within(outer: &[u8], inner: &[u8]) -> Option<usize> {
    offset_within_span(outer.as_ptr() as usize, outer.len(), inner)
}

/// [`offset_within`] for the `len` bytes at address `base`, for a reader that cannot hold on to
/// them as a slice while it looks.
pub fn offset_within_span(base: usize, len: usize, inner: &[u8]) -> Option<usize> {
    let offset = (inner.as_ptr() as usize).wrapping_sub(base);
    (offset <= len && inner.len() <= len - offset).then_some(offset)
}

/// Records a string: as a span of the window when serde_json lent it from there, else as a copy.
fn text_of(tape: &mut Tape, base: usize, len: usize, s: &str) -> Text {
    match offset_within_span(base, len, s.as_bytes()) {
        Some(offset) => Text::Raw { start: offset as u32, len: s.len() as u32 },
        None => copy_text(tape, s),
    }
}

fn copy_text(tape: &mut Tape, s: &str) -> Text {
    let start = tape.unescaped.len() as u32;
    tape.unescaped.push_str(s);
    Text::Unescaped { start, len: s.len() as u32 }
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.push(JsonValue::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.push(JsonValue::Int(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.push(JsonValue::UInt(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.push(JsonValue::Float(v))
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.push(JsonValue::Null)
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<(), E> {
        let text = text_of(self.tape, self.base, self.len, v);
        self.push(JsonValue::Str(text))
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        let text = copy_text(self.tape, v);
        self.push(JsonValue::Str(text))
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let at = self.tape.entries.len();
        self.tape.entries.push(Entry { key: self.key, value: JsonValue::Null });
        let mut len = 0u32;
        while seq.next_element_seed(self.child(None))?.is_some() {
            len += 1;
        }
        let end = self.tape.entries.len() as u32;
        self.tape.entries[at].value = JsonValue::Array { len, end };
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let at = self.tape.entries.len();
        self.tape.entries.push(Entry { key: self.key, value: JsonValue::Null });
        let mut len = 0u32;
        while let Some(key) =
            map.next_key_seed(KeySeed { tape: self.tape, base: self.base, len: self.len })?
        {
            map.next_value_seed(self.child(Some(key)))?;
            len += 1;
        }
        let end = self.tape.entries.len() as u32;
        self.tape.entries[at].value = JsonValue::Object { len, end };
        Ok(())
    }
}

struct KeySeed<'t> {
    tape: &'t mut Tape,
    base: usize,
    len: usize,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Text;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Text, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Text;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text, E> {
        Ok(text_of(self.tape, self.base, self.len, v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Text, E> {
        Ok(copy_text(self.tape, v))
    }
}

/// The fast path of [`parse_value`].
///
/// One loop over the bytes with a stack of the containers open, rather than a call per value:
/// a callback is some thirty values in two or three objects, and a call and an `Option` for each
/// cost more than reading the value.
mod fast {
    use super::{Entry, JsonValue, Tape, Text, key_length_bit};

    /// Containers nested deeper than this are left to serde_json (which stops at 128).
    const DEPTH: usize = 100;

    /// A container still open: its entry on the tape, its members so far, and whether it is an
    /// object.
    #[derive(Clone, Copy, Debug)]
    pub(super) struct Open {
        at: u32,
        len: u32,
        object: bool,
    }

    /// Parses the object or array at the start of `window` (after white space) into `tape` and
    /// returns where it ends; `None` (the tape then holds anything) for whatever the fast path
    /// does not take: another top-level value, an escape, a number that is not a whole `u64`,
    /// bytes that are not UTF-8, a fault, or the window ending first.
    pub fn parse(window: &[u8], tape: &mut Tape) -> Option<usize> {
        // Spans and tape indices are kept as `u32`s: a larger window is left to serde_json.
        u32::try_from(window.len()).ok()?;
        let bytes = window;
        let Tape { entries, open, one_line_ascii, root_key_lengths, .. } = tape;
        open.clear();
        let mut root_keys = 0;
        // Cleared by a line feed between tokens or a string with a byte past ASCII.
        let mut one_line = true;
        let mut at = blanks(bytes, 0, &mut one_line);
        if !matches!(bytes.get(at)?, b'{' | b'[') {
            return None;
        }
        // Outside strings only ASCII is taken, and each string is checked where it is read.
        let mut key: Option<Text> = None;
        loop {
            // A value starts at `at`, under `key`. A scalar goes onto the tape in the arm that
            // reads it: an `Option<JsonValue>` handed on to one push was stored in parts and
            // loaded whole (`perf annotate` put 15% of the parser's samples on that load), and
            // took more instructions (487 M to 483 M for `check -j1` on 50,000 callbacks).
            at = blanks(bytes, at, &mut one_line);
            let mut completed = match *bytes.get(at)? {
                byte @ (b'{' | b'[') => {
                    if open.len() >= DEPTH {
                        return None;
                    }
                    let object = byte == b'{';
                    open.push(Open { at: entries.len() as u32, len: 0, object });
                    entries.push(Entry { key, value: JsonValue::Null });
                    at = blanks(bytes, at + 1, &mut one_line);
                    let close = if object { b'}' } else { b']' };
                    if *bytes.get(at)? != close {
                        key = if object { Some(member_name(bytes, &mut at, &mut one_line)?) } else { None };
                        if open.len() == 1 {
                            root_keys |= key.map_or(0, |name| key_length_bit(name.len()));
                        }
                        continue;
                    }
                    // An empty container: closed below.
                    false
                }
                b'"' => {
                    let (text, end) = string(bytes, at, &mut one_line)?;
                    at = end;
                    entries.push(Entry { key, value: JsonValue::Str(text) });
                    true
                }
                b't' => {
                    literal(bytes, &mut at, b"true")?;
                    entries.push(Entry { key, value: JsonValue::Bool(true) });
                    true
                }
                b'f' => {
                    literal(bytes, &mut at, b"false")?;
                    entries.push(Entry { key, value: JsonValue::Bool(false) });
                    true
                }
                b'n' => {
                    literal(bytes, &mut at, b"null")?;
                    entries.push(Entry { key, value: JsonValue::Null });
                    true
                }
                b'0'..=b'9' => {
                    let n = number(bytes, &mut at)?;
                    entries.push(Entry { key, value: JsonValue::UInt(n) });
                    true
                }
                _ => return None,
            };
            // A value is complete (but for an empty container just opened, whose closing byte is
            // next): go on in the container it is in, closing those that end there.
            loop {
                let Some(top) = open.last_mut() else {
                    *one_line_ascii = one_line;
                    *root_key_lengths = root_keys;
                    return Some(at);
                };
                if completed {
                    top.len += 1;
                }
                completed = true;
                let top = *top;
                at = blanks(bytes, at, &mut one_line);
                let close = if top.object { b'}' } else { b']' };
                match *bytes.get(at)? {
                    b',' => {
                        at += 1;
                        key = if top.object {
                            at = blanks(bytes, at, &mut one_line);
                            let name = member_name(bytes, &mut at, &mut one_line)?;
                            if top.at == 0 {
                                root_keys |= key_length_bit(name.len());
                            }
                            Some(name)
                        } else {
                            None
                        };
                        break;
                    }
                    byte if byte == close => {
                        at += 1;
                        let (len, end) = (top.len, entries.len() as u32);
                        entries[top.at as usize].value = if top.object {
                            JsonValue::Object { len, end }
                        } else {
                            JsonValue::Array { len, end }
                        };
                        open.pop();
                    }
                    _ => return None,
                }
            }
        }
    }

    #[inline(always)]
    fn blanks(bytes: &[u8], mut at: usize, one_line: &mut bool) -> usize {
        while let Some(&blank @ (b' ' | b'\n' | b'\t' | b'\r')) = bytes.get(at) {
            *one_line &= blank != b'\n';
            at += 1;
        }
        at
    }

    /// A member's name at `at` and the colon after it; `at` is left past the colon.
    #[inline(always)]
    fn member_name(bytes: &[u8], at: &mut usize, one_line: &mut bool) -> Option<Text> {
        if *bytes.get(*at)? != b'"' {
            return None;
        }
        let (name, end) = string(bytes, *at, one_line)?;
        let colon = blanks(bytes, end, one_line);
        if *bytes.get(colon)? != b':' {
            return None;
        }
        *at = colon + 1;
        Some(name)
    }

    #[inline(always)]
    fn literal(bytes: &[u8], at: &mut usize, word: &[u8]) -> Option<()> {
        if !bytes[*at..].starts_with(word) {
            return None;
        }
        *at += word.len();
        Some(())
    }

    /// A whole number that fits a `u64`, as serde_json reads it (no leading zero).
    #[inline(always)]
    fn number(bytes: &[u8], at: &mut usize) -> Option<u64> {
        let start = *at;
        let mut n: u64 = 0;
        let mut end = start;
        // Eight digits at a time while eight follow (a callback's times and ids have ten), two
        // steps at most: sixteen digits always fit a `u64`. The rest one by one.
        for _ in 0..2 {
            match bytes.get(end..end + 8).and_then(|eight| eight_digits(eight.try_into().ok()?)) {
                Some(eight) => {
                    n = n * 100_000_000 + eight;
                    end += 8;
                }
                None => break,
            }
        }
        let next = loop {
            match bytes.get(end) {
                Some(&digit @ b'0'..=b'9') => {
                    // Nineteen digits always fit a `u64`; only a twentieth can overflow it.
                    n = if end - start < 19 {
                        n * 10 + u64::from(digit - b'0')
                    } else {
                        n.checked_mul(10)?.checked_add(u64::from(digit - b'0'))?
                    };
                    end += 1;
                }
                next => break next,
            }
        };
        if (end - start > 1 && bytes[start] == b'0') || matches!(next, Some(b'.' | b'e' | b'E') | None) {
            return None;
        }
        *at = end;
        Some(n)
    }

    /// The value of eight ASCII digits, the first the most significant; `None` if a byte is not a
    /// digit. In a word: each byte's digit test is exact, and the sum of pairs, then of fours,
    /// then of eights, is three multiplications.
    #[inline(always)]
    pub(super) fn eight_digits(bytes: [u8; 8]) -> Option<u64> {
        const ZEROS: u64 = u64::from_le_bytes([b'0'; 8]);
        let w = u64::from_le_bytes(bytes);
        // A digit's high half is 3, and adding 6 to it leaves its high half 3 too (9 + 6 = 0x3F).
        let highs = (w & 0xF0F0_F0F0_F0F0_F0F0)
            | ((w.wrapping_add(0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0) >> 4);
        if highs != 0x3333_3333_3333_3333 {
            return None;
        }
        let digits = w - ZEROS;
        // Each byte's digit times ten plus the next's: pairs in every other byte.
        let pairs = digits.wrapping_mul(10).wrapping_add(digits >> 8);
        const LOW_PAIRS: u64 = 0x0000_00FF_0000_00FF;
        let fours_and_eight = (pairs & LOW_PAIRS)
            .wrapping_mul(100 + (1_000_000 << 32))
            .wrapping_add(((pairs >> 16) & LOW_PAIRS).wrapping_mul(1 + (10_000 << 32)));
        Some(fours_and_eight >> 32)
    }

    /// The string whose opening quote is at `quote`, without escapes or control characters, in
    /// UTF-8: its span, and where it ends (past the closing quote).
    #[inline(always)]
    fn string(bytes: &[u8], quote: usize, ascii: &mut bool) -> Option<(Text, usize)> {
        let start = quote + 1;
        let rest = bytes.get(start..)?;
        let mut len = crate::byte_search::first_json_special_or_non_ascii(rest)?;
        if rest[len] >= 0x80 {
            *ascii = false;
            // Rare in callbacks: the string's end, and one UTF-8 check of all of it.
            len += crate::byte_search::first_json_special(&rest[len..])?;
            std::str::from_utf8(&rest[..len]).ok()?;
        }
        if rest[len] != b'"' {
            return None;
        }
        // The window's length fits a `u32` (checked once, in `parse`).
        Some((Text::Raw { start: start as u32, len: len as u32 }, start + len + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_looked_up_by_its_length_first_is_the_one_a_walk_finds() {
        let documents: [&[u8]; 6] = [
            br#"{"tiwhook_capture":1,"body":{}}"#,
            br#"{"body":{"tiwhook_capture":1},"peer":"x","tiwhook_capture":1}"#,
            br#"{"EventType":"A","EventData":{"tiwhook_capture":1}}"#,
            // An escaped key: serde_json's path, which notes nothing.
            br#"{"tiwhook\u005fcapture":1}"#,
            br#"[{"tiwhook_capture":1}]"#,
            br#"{"a_key_of_thirty_three_bytes_xyz":1,"tiwhook_capture":2}"#,
        ];
        // The member a walk over all of them finds.
        let walk =
            |node: Node<'_>, key: &str| node.members().find(|(name, _)| name.is(key)).map(|(_, n)| n.index());
        let mut tape = Tape::default();
        for document in documents {
            let Parsed::Value { .. } = parse_value(document, &mut tape) else { panic!("parses") };
            let root = tape.view(document).root();
            for key in
                ["tiwhook_capture", "body", "EventData", "peer", "a_key_of_thirty_three_bytes_xyz", "x"]
            {
                assert_eq!(
                    root.get(key).map(Node::index),
                    walk(root, key),
                    "{key} in {}",
                    String::from_utf8_lossy(document)
                );
            }
            // Members below the root are found as ever.
            if let Some(data) = root.get("EventData").or_else(|| root.get("body")) {
                assert_eq!(data.get("tiwhook_capture").map(Node::index), walk(data, "tiwhook_capture"));
            }
        }
    }

    /// What serde_json's path alone makes of `window`.
    fn parse_slow(window: &[u8]) -> (Tape, Option<usize>) {
        let mut tape = Tape::default();
        SCRATCH.with_borrow_mut(|scratch| {
            std::mem::swap(&mut scratch.tape, &mut tape);
            scratch.tape.clear();
            scratch.base = window.as_ptr() as usize;
            scratch.len = window.len();
        });
        let mut stream = serde_json::Deserializer::from_slice(window).into_iter::<TapeDocument>();
        let consumed = match stream.next() {
            Some(Ok(TapeDocument)) => Some(stream.byte_offset()),
            _ => None,
        };
        SCRATCH.with_borrow_mut(|scratch| std::mem::swap(&mut scratch.tape, &mut tape));
        (tape, consumed)
    }

    /// Whenever the fast path takes a value, serde_json takes it too, ending at the same byte,
    /// with the same tape.
    fn assert_fast_is_slow(window: &[u8]) {
        let mut fast_tape = Tape::default();
        if let Some(consumed) = fast::parse(window, &mut fast_tape) {
            let (slow_tape, slow_consumed) = parse_slow(window);
            assert_eq!(Some(consumed), slow_consumed, "{:?}", String::from_utf8_lossy(window));
            assert_eq!(fast_tape.entries, slow_tape.entries, "{:?}", String::from_utf8_lossy(window));
            assert_eq!(fast_tape.unescaped, slow_tape.unescaped);
            // The key lengths noted for the root cover every key the root has.
            for (key, _) in fast_tape.view(window).root().members() {
                let bit = key_length_bit(key.as_str().len());
                assert_ne!(fast_tape.root_key_lengths & bit, 0, "{:?}", String::from_utf8_lossy(window));
            }
        }
    }

    #[test]
    fn the_fast_path_takes_a_callback_and_makes_serde_jsons_tape() {
        let callback = br#"  {"EventType":"WhiteboardPushStopped","EventData":{"TaskId":"t","RoomId":880528,"Error":null,"Ok":true,"List":[1,{"a":[]},"x"],"E":{}},"Sign":"ab"}
{"next":1}"#;
        let mut tape = Tape::default();
        assert!(fast::parse(callback, &mut tape).is_some());
        assert_fast_is_slow(callback);
        let left: [&[u8]; 12] = [
            br#"{"a":"\u0041"}"#,
            br#"{"a":1.5}"#,
            br#"{"a":-1}"#,
            br#"{"a":01}"#,
            br#"{"a":1"#,
            b"7",
            b"{\"a\":\"\xff\"}",
            b"{\"a\":\"caf\xc3\"}",
            b"{\"\xe6\x95\":1}",
            br#"{"a":18446744073709551616}"#,
            br#"{"a":99999999999999999999}"#,
            br#"{"a":100000000000000000000}"#,
        ];
        for left in left {
            assert_eq!(fast::parse(left, &mut tape), None, "{:?}", String::from_utf8_lossy(left));
        }
        // The largest numbers that fit, at nineteen and twenty digits, are taken.
        for fits in [&br#"{"a":9999999999999999999}"#[..], br#"[18446744073709551615,0,10]"#] {
            assert!(fast::parse(fits, &mut tape).is_some(), "{:?}", String::from_utf8_lossy(fits));
            assert_fast_is_slow(fits);
        }
        // Text beyond ASCII, in keys and values and at every place within a word, is taken.
        for name in ["教室", "é", "abcdefg教", "abcdefgh\u{7f}é"] {
            let callback = format!(r#"{{"{name}":"{name}","PushUserId":"用户_{name}"}}"#);
            assert!(fast::parse(callback.as_bytes(), &mut tape).is_some(), "{callback}");
            assert_fast_is_slow(callback.as_bytes());
        }
    }

    #[test]
    fn eight_digits_are_read_at_once_and_anything_else_is_not() {
        for digits in [*b"00000000", *b"12345678", *b"99999999", *b"17640000", *b"01020304"] {
            let value = std::str::from_utf8(&digits).unwrap().parse::<u64>().unwrap();
            assert_eq!(fast::eight_digits(digits), Some(value));
            for place in 0..8 {
                for byte in (0..=255u8).filter(|b| !b.is_ascii_digit()) {
                    let mut bytes = digits;
                    bytes[place] = byte;
                    assert_eq!(fast::eight_digits(bytes), None, "{bytes:?}");
                }
            }
        }
        // Every length, with the digits of a time and with nines, ends where serde_json ends.
        for len in 1..=20 {
            for digit in [b'1', b'9'] {
                let number: Vec<u8> =
                    (0..len).map(|i| if i == 0 { digit } else { b"1764000060"[i % 10] }).collect();
                for after in [&b"}"[..], b",\"b\":2}", b" }", b".5}", b"e3}"] {
                    let json = [&b"{\"a\":"[..], &number, after].concat();
                    let fits = std::str::from_utf8(&number).unwrap().parse::<u64>().is_ok();
                    let whole = fits && !matches!(after[0], b'.' | b'e');
                    assert_eq!(fast::parse(&json, &mut Tape::default()).is_some(), whole, "{json:?}");
                    assert_fast_is_slow(&json);
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn the_fast_path_agrees_with_serde_json_on_any_value(value in crate::testing::any_json(), pretty: bool, cut in 0usize..400, noise in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..3)) {
            let text = if pretty { serde_json::to_vec_pretty(&value).unwrap() } else { serde_json::to_vec(&value).unwrap() };
            assert_fast_is_slow(&text);
            // Cut short, and with a few bytes of noise spliced in.
            let cut = cut.min(text.len());
            assert_fast_is_slow(&text[..cut]);
            let mut spliced = text[..cut].to_vec();
            spliced.extend_from_slice(&noise);
            spliced.extend_from_slice(&text[cut..]);
            assert_fast_is_slow(&spliced);
        }
    }

    fn parse(json: &str) -> (Tape, usize) {
        let mut tape = Tape::default();
        match parse_value(json.as_bytes(), &mut tape) {
            Parsed::Value { consumed } => (tape, consumed),
            _ => panic!("expected a value in {json}"),
        }
    }

    #[test]
    fn keeps_duplicate_keys_in_order() {
        let json = r#"{"Sign":"a","x":{"y":[1,2]},"Sign":"b"}"#;
        let (tape, consumed) = parse(json);
        assert_eq!(consumed, json.len());
        let doc = tape.view(json.as_bytes());
        let keys: Vec<_> = doc.root().members().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["Sign", "x", "Sign"]);
        assert_eq!(doc.root().get("Sign").and_then(Node::as_str), Some("a"));
    }

    #[test]
    fn a_known_key_is_the_key_of_its_name_wherever_it_stands() {
        let names =
            ["a", "TaskId", "RoomIc", "PushStartTime", "ExactlySixteen!!", "SeventeenLetters!", "é教"];
        let known: Vec<KnownKey> = names.iter().map(|name| KnownKey::new(name)).collect();
        // Keys far from the end, close to it (fewer than sixteen bytes follow), and escaped.
        for name in names.iter().chain(&["TaskIdX", "Task", "taskid", "SeventeenLetters?", "é敎", ""]) {
            let escaped = name.replace('a', "\\u0061");
            for json in [
                format!(r#"{{"{name}":1,"padding":"0123456789abcdef"}}"#),
                format!(r#"{{"{name}":1}}"#),
                format!(r#"{{"{escaped}":1}}"#),
            ] {
                let (tape, _) = parse(&json);
                let doc = tape.view(json.as_bytes());
                let (key, _) = doc.root().members().next().unwrap();
                for (known, expected) in known.iter().zip(names) {
                    assert_eq!(key.is_known(known), *name == expected, "{json} against {expected}");
                }
            }
        }
    }

    #[test]
    fn escaped_strings_are_unescaped() {
        let json = r#"{"a\u0041":"line\nbreak"}"#;
        let (tape, _) = parse(json);
        let doc = tape.view(json.as_bytes());
        let (key, value) = doc.root().members().next().unwrap();
        assert_eq!(key.as_str(), "aA");
        assert!(key.is("aA") && !key.is("a"));
        assert_eq!(value.as_str(), Some("line\nbreak"));
    }

    #[test]
    fn reports_where_a_value_ends_in_a_stream() {
        let (_, consumed) = parse("{\"a\":1}\n{\"b\":2}");
        assert_eq!(consumed, 7);
    }

    #[test]
    fn invalid_json_has_an_offset() {
        let mut tape = Tape::default();
        match parse_value(b"{\"a\":1,}", &mut tape) {
            Parsed::Invalid { offset, .. } => assert_eq!(offset, 7),
            _ => panic!("expected an error"),
        }
        assert!(matches!(parse_value(b"{\"a\":", &mut tape), Parsed::Incomplete));
    }

    #[test]
    fn writes_compact_json() {
        let json = r#"{ "a" : [1, -2, 1.5, "x\"y", null, true] }"#;
        let (tape, _) = parse(json);
        let mut out = Vec::new();
        tape.view(json.as_bytes()).root().write_json(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), r#"{"a":[1,-2,1.5,"x\"y",null,true]}"#);
    }
}
