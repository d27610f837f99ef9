//! The verdict on one callback, and the tally of a run: what every printer consumes.

use crate::events::Event;
use crate::frame::Position;
use crate::tape::Doc;

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
    pub signature: SignatureStatus,
    /// `ExpireTime`, when it is a valid time.
    pub expire_time: Option<u64>,
    /// Whether `ExpireTime` has passed; `None` without one.
    pub expired: Option<bool>,
    pub findings: Vec<Finding>,
    pub verdict: Verdict,
}

impl Report<'_> {
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
}

impl Summary {
    pub fn add(&mut self, report: &Report) {
        self.callbacks += 1;
        match report.verdict {
            Verdict::Valid => self.valid += 1,
            Verdict::Invalid => self.invalid += 1,
        }
        self.warnings += report.warnings().count() as u64;
        if matches!(report.signature, SignatureStatus::Valid { .. } | SignatureStatus::Mismatch) {
            self.signatures_checked = true;
        }
    }
}
