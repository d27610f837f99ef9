//! The verdict on one callback, and the tally of a run: the one thing every printer consumes.
//!
//! Judging decides everything about a callback once and writes it here: the verdict, the
//! findings, the signature, and each declared field as a typed [`Value`] with the key and label
//! the event table gives it. A printer needs nothing else: it never sees the parsed document, the
//! event table or the judge, so that all output formats agree by construction.

pub use crate::codes::{Code, Severity};
use crate::read::tape::JsonDoc;
use crate::read::window::Position;

/// One thing found wrong with a callback.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    /// A short, stable, kebab-case id.
    pub code: Code,
    /// A JSON Pointer to the offending value; `""` for the whole document.
    pub path: String,
    pub message: String,
    /// Suggestions for the human views.
    pub help: Vec<String>,
    /// Where the offending value stands in the source.
    pub at: Position,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    Invalid,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Invalid => "invalid",
        }
    }
}

/// What became of the signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureStatus {
    /// The key at this 0-based position signs it.
    Valid {
        key: usize,
    },
    Mismatch,
    /// A key was given and the callback has no `Sign`.
    Missing,
    /// `Sign` is not 32 hexadecimal digits.
    Malformed,
    /// The callback carries a `Sign`, and no key was given to check it with.
    Unchecked,
    /// No key was given, and the callback carries no `Sign`.
    Unsigned,
}

impl SignatureStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureStatus::Valid { .. } => "valid",
            SignatureStatus::Mismatch => "mismatch",
            SignatureStatus::Missing => "missing",
            SignatureStatus::Malformed => "malformed",
            // The contract says `unchecked` whenever no key was given.
            SignatureStatus::Unchecked | SignatureStatus::Unsigned => "unchecked",
        }
    }
}

/// A field's value, as judging found it. Strings borrow from the callback's text and are not
/// escaped: each printer escapes them for its own medium.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    /// The field is absent.
    Missing,
    /// The value is not of the field's declared kind; its JSON text, compact, for showing.
    Invalid(Box<str>),
    /// A time, in Unix seconds (years 0 to 9999).
    Time(u64),
    /// A duration in seconds, measured between two times of the callback.
    Duration(u64),
    /// A duration in milliseconds, as sent.
    Milliseconds(u64),
    /// A non-negative integer: a count, or an id given as a number.
    Count(u64),
    /// A negative integer, where the field allows one.
    Negative(i64),
    /// A size in bytes.
    Bytes(u64),
    /// A percentage (above 100 only in a callback judged invalid).
    Percent(u64),
    /// A string: an identifier, a URL, free text.
    Text(&'a str),
    /// A `YYYY-MM-DD hh:mm:ss` time as text (the alarms' format), or empty for none.
    DateText(&'a str),
    /// One of the documented values, with what it means.
    Choice(&'static Choice),
    /// A string where a documented value was expected, and that is none of them.
    Undocumented(&'a str),
    /// An object's declared fields, in declared order.
    Group(Box<[Detail<'a>]>),
    /// An array of objects: each element's declared fields, or `None` for an element that is not
    /// an object.
    Rows(Box<[Option<Box<[Detail<'a>]>>]>),
    /// An array of anything, as compact JSON; `None` for an empty one.
    List(Option<Box<str>>),
    /// The fields of an event tiwhook does not know.
    Unchecked(Box<Unchecked>),
}

/// The fields of an event tiwhook does not know, kept as they came.
#[derive(Clone, Debug, PartialEq)]
pub struct Unchecked {
    /// The `EventData` value as compact JSON.
    pub json: String,
    /// The scalar values below it as (dotted path, text) rows, `Meta.Teacher` or `Items[0].Name`,
    /// at most [`MAX_UNCHECKED_ROWS`] of them.
    pub rows: Vec<(String, String)>,
    /// How many more rows there were.
    pub hidden: usize,
}

/// Rows kept at most for the fields of an unknown event.
pub const MAX_UNCHECKED_ROWS: usize = 60;

impl<'a> Value<'a> {
    /// The value as text, if it is a string of some kind.
    pub fn as_text(&self) -> Option<&'a str> {
        match *self {
            Value::Text(text) | Value::DateText(text) | Value::Undocumented(text) => Some(text),
            Value::Choice(choice) => Some(choice.value),
            _ => None,
        }
    }

    /// The value as a non-negative integer, if it is one (a count, a time, a size, a duration).
    pub fn as_number(&self) -> Option<u64> {
        match *self {
            Value::Time(n)
            | Value::Duration(n)
            | Value::Milliseconds(n)
            | Value::Count(n)
            | Value::Bytes(n)
            | Value::Percent(n) => Some(n),
            _ => None,
        }
    }

    pub fn is_missing(&self) -> bool {
        matches!(self, Value::Missing)
    }

    /// Lets the value go. Most values own nothing (a number, a span of the callback's text) and
    /// are let go as they are; only those that own memory run the enum's drop code, a call per
    /// value that was 3.7% of `check`'s instructions when every value judged and not kept went
    /// through it. The match names every variant, so a new one must say which it is.
    pub fn discard(self) {
        match self {
            Value::Missing
            | Value::Time(_)
            | Value::Duration(_)
            | Value::Milliseconds(_)
            | Value::Count(_)
            | Value::Negative(_)
            | Value::Bytes(_)
            | Value::Percent(_)
            | Value::Text(_)
            | Value::DateText(_)
            | Value::Choice(_)
            | Value::Undocumented(_) => std::mem::forget(self),
            Value::Invalid(_) | Value::Group(_) | Value::Rows(_) | Value::List(_) | Value::Unchecked(_) => {
                drop(self)
            }
        }
    }
}

/// A documented value of a field, and what it means.
#[derive(Debug, PartialEq, Eq)]
pub struct Choice {
    pub value: &'static str,
    pub meaning: &'static str,
}

/// How a field is named in the output: its key in JSON `details` and its label in the human
/// views. The event table holds one for each field.
#[derive(Debug, PartialEq, Eq)]
pub struct Name {
    pub key: &'static str,
    pub label: &'static str,
    /// The key as a JSON object writes it, made with the table.
    pub quoted: QuotedKey,
}

impl Name {
    pub const fn new(key: &'static str, label: &'static str) -> Name {
        Name { key, label, quoted: QuotedKey::new(key) }
    }
}

/// Bytes a [`QuotedKey`] is padded to.
pub const QUOTED_KEY_BYTES: usize = 32;

/// A detail's key between its quotes and followed by its colon (`"task_id":`), padded with zeros
/// to a fixed size: a JSON line's writer copies it as one piece of a size known when it is
/// compiled, ten keys a callback, and cuts the padding off.
#[derive(Debug, PartialEq, Eq)]
pub struct QuotedKey {
    padded: [u8; QUOTED_KEY_BYTES],
    len: usize,
}

impl QuotedKey {
    /// Fails to compile for a key too long to fit (the event table is made at compile time).
    const fn new(key: &str) -> QuotedKey {
        let key = key.as_bytes();
        assert!(key.len() + 3 <= QUOTED_KEY_BYTES, "a detail key too long for QuotedKey");
        let mut padded = [0u8; QUOTED_KEY_BYTES];
        padded[0] = b'"';
        let mut i = 0;
        while i < key.len() {
            padded[i + 1] = key[i];
            i += 1;
        }
        padded[key.len() + 1] = b'"';
        padded[key.len() + 2] = b':';
        QuotedKey { padded, len: key.len() + 3 }
    }

    /// The quoted key and its padding.
    pub fn padded(&self) -> &[u8; QUOTED_KEY_BYTES] {
        &self.padded
    }

    /// How many of the padded bytes are the quoted key's.
    pub fn used(&self) -> usize {
        self.len
    }
}

/// One field of a callback: how it is named, and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Detail<'a> {
    pub name: &'static Name,
    pub value: Value<'a>,
}

impl Detail<'_> {
    /// The key in JSON `details`.
    pub fn key(&self) -> &'static str {
        self.name.key
    }

    /// The label in the human views.
    pub fn label(&self) -> &'static str {
        self.name.label
    }
}

/// The key of the duration that an event's two times span, placed right after the later time.
pub const DURATION_KEY: &str = "duration_seconds";
/// The key of a failed task's error object.
pub const ERROR_KEY: &str = "error";
/// Whether `key` is lower-case ASCII letters, digits and underscores, as every detail key is (a
/// test in `events` checks them all): such a key is written into JSON as it is.
pub fn is_plain_key(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// How the fields of an unknown event are named.
pub static UNCHECKED: Name = Name::new("event_data", "Data");

/// The envelope fields that `details` shows: the application, the event time and the expiry.
#[derive(Clone, Debug, PartialEq)]
pub struct Envelope<'a> {
    pub sdk_app_id: Detail<'a>,
    pub event_time: Detail<'a>,
    pub expire_time: Detail<'a>,
}

impl Envelope<'_> {
    /// An envelope with nothing in it, its fields named as the event table names them.
    pub fn empty(names: [&'static Name; 3]) -> Self {
        let detail = |name| Detail { name, value: Value::Missing };
        Envelope { sdk_app_id: detail(names[0]), event_time: detail(names[1]), expire_time: detail(names[2]) }
    }

    /// The three fields in the order `details` lists them.
    pub fn details(&self) -> [&Detail<'_>; 3] {
        [&self.sdk_app_id, &self.event_time, &self.expire_time]
    }
}

/// The verdict on one callback (or on one piece of input that is not JSON).
pub struct Report<'a> {
    /// The input's name as given, `-` for stdin.
    pub source: &'a str,
    /// 0-based position in the source.
    pub index: u64,
    /// Where the callback starts.
    pub start: Position,
    /// Whether the input was JSON at all.
    pub parsed: bool,
    /// `EventType`, as sent, when it is a string.
    pub event_type: Option<&'a str>,
    /// The event's name, when tiwhook knows it (an older name is given its current one).
    pub event: Option<&'static str>,
    /// The event's declared fields in declared order (absent ones as [`Value::Missing`]), with the
    /// duration they span right after its later time; for an unknown event, one
    /// [`Value::Unchecked`] detail.
    pub fields: Vec<Detail<'a>>,
    pub envelope: Envelope<'a>,
    pub signature: SignatureStatus,
    /// `ExpireTime`, when it is a valid time.
    pub expire_time: Option<u64>,
    /// Whether `ExpireTime` has passed; `None` without one.
    pub expired: Option<bool>,
    pub findings: Vec<Finding>,
    pub verdict: Verdict,
    /// The verdict `check --expect` asserts, if any.
    pub expected: Option<Verdict>,
    /// When and from where it arrived, for a callback read from a capture line (`listen --save`).
    pub arrival: Option<&'a Arrival>,
    /// The parsed document, for [`Report::write_compact`].
    pub(crate) document: Option<JsonDoc<'a>>,
}

/// When and from where a captured callback arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arrival {
    /// RFC 3339, UTC, with milliseconds, as the capture holds it.
    pub received_at: String,
    /// The same, as Unix seconds, when it is a time (read once, here).
    pub at: Option<u64>,
    /// `ip:port`.
    pub peer: String,
}

impl Arrival {
    pub fn new(received_at: String, peer: String) -> Arrival {
        let at = received_at.parse::<jiff::Timestamp>().ok().and_then(|t| u64::try_from(t.as_second()).ok());
        Arrival { received_at, at, peer }
    }
}

impl<'a> Report<'a> {
    /// Whether the callback passed: its verdict is the expected one, or valid without `--expect`.
    pub fn passed(&self) -> bool {
        self.verdict == self.expected.unwrap_or(Verdict::Valid)
    }

    /// The value of the event field with this `details` key; `Missing` when there is none.
    pub fn field(&self, key: &str) -> &Value<'a> {
        self.fields.iter().find(|d| d.key() == key).map_or(&Value::Missing, |d| &d.value)
    }

    /// The duration the event's two times span, with its label, if both were valid.
    pub fn span(&self) -> Option<(&'static str, u64)> {
        self.fields.iter().find_map(|d| match d.value {
            Value::Duration(seconds) if d.key() == DURATION_KEY => Some((d.label(), seconds)),
            _ => None,
        })
    }

    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.severity == Severity::Warning)
    }

    /// Writes the callback as compact JSON (duplicate keys kept): the same callback delivered
    /// twice writes the same bytes, however it was laid out. Nothing for input that is not JSON.
    pub fn write_compact(&self, out: &mut Vec<u8>) {
        if let Some(doc) = self.document {
            // Writing to a Vec cannot fail.
            let _ = doc.root().write_json(out);
        }
    }

    /// Hands back the storage of `fields`, emptied, for the next report to fill without
    /// allocating (see [`crate::judge::walk::judge_reusing`]).
    /// The finding of a callback that did not meet the verdict `check --expect` asserts, decided
    /// here for every view: an error at the callback's start.
    pub fn unmet(&self) -> Option<Finding> {
        let expected = self.expected?;
        (expected != self.verdict).then(|| Finding {
            severity: Severity::Error,
            code: Code::UnexpectedVerdict,
            path: String::new(),
            message: format!(
                "expected this callback to be {}, but it is {}",
                expected.as_str(),
                self.verdict.as_str()
            ),
            help: Vec::new(),
            at: self.start,
        })
    }

    pub fn into_spare_fields(self) -> Vec<Detail<'static>> {
        let Report { fields, envelope, .. } = self;
        let Envelope { sdk_app_id, event_time, expire_time } = envelope;
        [sdk_app_id, event_time, expire_time].into_iter().for_each(|detail| detail.value.discard());
        recycle(fields)
    }
}

/// Empties `fields` and gives its allocation a new lifetime. Mapping an emptied vector into one
/// of a type of the same size and alignment reuses its buffer (the standard library collects
/// such iterators in place).
pub fn recycle<'b>(mut fields: Vec<Detail<'_>>) -> Vec<Detail<'b>> {
    fields.drain(..).for_each(|detail| detail.value.discard());
    fields.into_iter().map(|_| unreachable!("the vector was emptied")).collect()
}

/// An input that gave nothing to judge, said once per input (and once for a run that found no
/// callback at all), in every format: for a CI step, an input that was not checked must be seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputProblem {
    /// The input could not be listed, opened or read; the error in words.
    Unreadable { source: String, message: String },
    /// The input was read and holds no callback, while others did (`empty-input`, a warning).
    Empty { source: String },
    /// No input held a callback: nothing was checked. `inputs` names them; `left_out` is how
    /// many files a directory walk passed over by their names, `logs` how many of those are logs.
    NoCallbacks { inputs: String, left_out: u64, logs: u64 },
}

impl InputProblem {
    /// The stable code of the problem.
    pub fn code(&self) -> &'static str {
        match self {
            InputProblem::Unreadable { .. } => "unreadable",
            InputProblem::Empty { .. } => Code::EmptyInput.as_str(),
            InputProblem::NoCallbacks { .. } => "no-callbacks",
        }
    }

    /// The input it is about, if one.
    pub fn source(&self) -> Option<&str> {
        match self {
            InputProblem::Unreadable { source, .. } | InputProblem::Empty { source } => Some(source),
            InputProblem::NoCallbacks { .. } => None,
        }
    }

    pub fn severity(&self) -> Severity {
        match self {
            InputProblem::Empty { .. } => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// What went wrong, in words, without the input's name.
    pub fn message(&self) -> String {
        match self {
            InputProblem::Unreadable { message, .. } => message.clone(),
            InputProblem::Empty { .. } => "holds no callback, while other inputs do".into(),
            InputProblem::NoCallbacks { inputs, left_out: 0, .. } => {
                format!("no callbacks found in {inputs} (pass --allow-empty if that is expected)")
            }
            InputProblem::NoCallbacks { inputs, left_out, logs } => {
                let files = match left_out {
                    1 => "1 file was left out by its name".to_string(),
                    n => format!("{n} files were left out by their names"),
                };
                let why = match logs {
                    0 => "a directory is read for *.json, *.ndjson, *.jsonl and *.body; name other files"
                        .into(),
                    1 => "1 is a log: read it with --extract".to_string(),
                    n => format!("{n} are logs: read them with --extract"),
                };
                format!("no callbacks found in {inputs}: {files} ({why})")
            }
        }
    }
}

/// The tally of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub callbacks: u64,
    pub valid: u64,
    pub invalid: u64,
    pub warnings: u64,
    /// Inputs read (readable or not).
    pub sources: u64,
    /// Inputs that could not be read at all.
    pub unreadable: u64,
    /// Whether any signature verified (then a note says what a valid Sign does not prove).
    pub signatures_valid: bool,
    /// The verdict `check --expect` asserted, and how many callbacks did not meet it.
    pub expected: Option<Verdict>,
    pub unmet: u64,
    /// Log lines read, when callbacks were extracted from logs (`--extract`).
    pub lines: Option<u64>,
    /// Callbacks that carry a `Sign` nobody checked, for want of a key.
    pub signatures_unchecked: u64,
    /// Inputs that held no callback while others did (`empty-input` warnings, counted in
    /// `warnings` too).
    pub empty_inputs: u64,
    /// Problems with the inputs that fail the run: no callback at all, or (`--strict`) an empty
    /// input.
    pub input_failures: u64,
}

impl Summary {
    /// Whether every callback passed (and every input could be read).
    pub fn all_passed(&self) -> bool {
        let failed = if self.expected.is_some() { self.unmet } else { self.invalid };
        failed == 0 && self.unreadable == 0 && self.input_failures == 0
    }

    /// Adds the callbacks of `part`, a tally of some of the run's callbacks.
    pub fn absorb(&mut self, part: &Summary) {
        self.callbacks += part.callbacks;
        self.valid += part.valid;
        self.invalid += part.invalid;
        self.warnings += part.warnings;
        self.unmet += part.unmet;
        self.signatures_valid |= part.signatures_valid;
        self.signatures_unchecked += part.signatures_unchecked;
    }

    pub fn add(&mut self, report: &Report) {
        self.callbacks += 1;
        match report.verdict {
            Verdict::Valid => self.valid += 1,
            Verdict::Invalid => self.invalid += 1,
        }
        self.warnings += report.warnings().count() as u64;
        if report.expected.is_some() && !report.passed() {
            self.unmet += 1;
        }
        if matches!(report.signature, SignatureStatus::Valid { .. }) {
            self.signatures_valid = true;
        }
        if report.signature == SignatureStatus::Unchecked {
            self.signatures_unchecked += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recycled_fields_keep_their_allocation() {
        let text = String::from("t");
        let mut fields = Vec::with_capacity(24);
        fields.push(Detail { name: &UNCHECKED, value: Value::Text(&text) });
        let pointer = fields.as_ptr() as usize;
        let spare: Vec<Detail<'static>> = recycle(fields);
        assert!(spare.is_empty());
        assert_eq!(spare.capacity(), 24);
        assert_eq!(spare.as_ptr() as usize, pointer);
    }
}
