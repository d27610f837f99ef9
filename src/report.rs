//! The verdict on one callback, and the tally of a run: what every printer consumes.

use crate::events::{ENVELOPE, Event, Field, MAX_FIELDS};
use crate::frame::Position;
use crate::tape::{Doc, Node};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One thing found wrong with a callback.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    /// A short, stable, kebab-case id.
    pub code: &'static str,
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
    /// No key was given.
    Unchecked,
}

impl SignatureStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureStatus::Valid { .. } => "valid",
            SignatureStatus::Mismatch => "mismatch",
            SignatureStatus::Missing => "missing",
            SignatureStatus::Malformed => "malformed",
            SignatureStatus::Unchecked => "unchecked",
        }
    }
}

/// Where each declared field of an object was found: tape indexes in the order of the
/// declaration, 0 (the root's, nobody's member) for a field that is absent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldSlots(pub [u32; MAX_FIELDS]);

impl FieldSlots {
    pub const EMPTY: FieldSlots = FieldSlots([0; MAX_FIELDS]);

    /// The node of the `i`th declared field, if it was found.
    pub fn node<'a>(&self, doc: Doc<'a>, i: usize) -> Option<Node<'a>> {
        self.0.get(i).copied().filter(|&n| n != 0).map(|n| doc.node(n))
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
    /// The parsed document; `None` when the input was not JSON.
    pub doc: Option<Doc<'a>>,
    /// `EventType`, when it is a string.
    pub event_type: Option<&'a str>,
    /// The declaration of that event type, when `tiwhook` knows it.
    pub event: Option<&'static Event>,
    /// The envelope's declared fields, as found.
    pub envelope: FieldSlots,
    /// The event's declared fields in `EventData`, as found.
    pub data: FieldSlots,
    pub signature: SignatureStatus,
    /// `ExpireTime`, when it is a valid time.
    pub expire_time: Option<u64>,
    /// Whether `ExpireTime` has passed; `None` without one.
    pub expired: Option<bool>,
    pub findings: Vec<Finding>,
    pub verdict: Verdict,
    /// The verdict `check --expect` asserts, if any.
    pub expected: Option<Verdict>,
}

impl<'a> Report<'a> {
    /// Whether the callback passed: its verdict is the expected one, or valid without `--expect`.
    pub fn passed(&self) -> bool {
        self.verdict == self.expected.unwrap_or(Verdict::Valid)
    }

    /// A declared envelope field's value, if present.
    pub fn envelope_field(&self, name: &str) -> Option<Node<'a>> {
        let i = ENVELOPE.iter().position(|f| f.name == name)?;
        self.envelope.node(self.doc?, i)
    }

    /// Each field the event declares, with its value if present; nothing for unknown events.
    pub fn event_fields(&self) -> impl Iterator<Item = (&'static Field, Option<Node<'a>>)> + '_ {
        let fields = self.event.map(|e| e.fields).unwrap_or_default();
        fields.iter().enumerate().map(|(i, f)| (f, self.doc.and_then(|doc| self.data.node(doc, i))))
    }

    /// A declared event field's value, if present.
    pub fn event_field(&self, name: &str) -> Option<Node<'a>> {
        let i = self.event?.fields.iter().position(|f| f.name == name)?;
        self.data.node(self.doc?, i)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.severity == Severity::Warning)
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
    /// Whether any signature was checked against a key.
    pub signatures_checked: bool,
    /// The verdict `check --expect` asserted, and how many callbacks did not meet it.
    pub expected: Option<Verdict>,
    pub unmet: u64,
}

impl Summary {
    /// Whether every callback passed (and every input could be read).
    pub fn all_passed(&self) -> bool {
        let failed = if self.expected.is_some() { self.unmet } else { self.invalid };
        failed == 0 && self.unreadable == 0
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
        if matches!(report.signature, SignatureStatus::Valid { .. } | SignatureStatus::Mismatch) {
            self.signatures_checked = true;
        }
    }
}
