//! The JSON Lines contract: every line `tiwhook` writes for a machine, as a type.
//!
//! Each line is one [`Line`], serialised by serde as one JSON object whose first member is its
//! `type`. Adding a member is adding a field here; the lists of members that tests (and the fuzz
//! target) check against are constants beside the types, and a unit test below keeps each list
//! equal to what its type writes. The format is versioned as a whole by [`FORMAT_VERSION`]: a
//! member may be added within a version, none renamed or removed.

use std::io::{self, Write};

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::value::RawValue;

use crate::codes::Code;
use crate::json_string::{push_json_str, push_plain_json_str};
use crate::judge::report::{
    Detail, Finding, InputProblem, QUOTED_KEY_BYTES, Report, Severity, Summary, Value,
};
use crate::judge::tasks::Totals;
use crate::read::tape::JsonDoc;
use crate::timefmt;

/// The version of the contract the lines follow.
pub const FORMAT_VERSION: u32 = 1;

/// One line of JSON output.
#[derive(serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Line<'r> {
    Callback(CallbackLine<'r>),
    Summary(SummaryLine),
    Task(TaskLine<'r>),
    Totals(TotalsLine<'r>),
    Forward(ForwardLine<'r>),
    ForwardSummary(ForwardSummaryLine),
    Listening(ListeningLine),
    Delivery(DeliveryLine<'r>),
    Retry(RetryLine<'r>),
    DeliverySummary(DeliverySummaryLine),
    Unreadable(InputLine<'r>),
    EmptyInput(InputLine<'r>),
    NoCallbacks(NoCallbacksLine),
}

impl<'r> Line<'r> {
    /// The line that records an input problem.
    pub fn of_problem(problem: &'r InputProblem) -> Line<'r> {
        let message = problem.message();
        match problem {
            InputProblem::Unreadable { source, .. } => Line::Unreadable(InputLine { source, message }),
            InputProblem::Empty { source } => Line::EmptyInput(InputLine { source, message }),
            InputProblem::NoCallbacks { .. } => Line::NoCallbacks(NoCallbacksLine { message }),
        }
    }
}

/// Members of an `unreadable` line (an input that could not be read) and of an `empty_input` line
/// (an input that held no callback while others did), in order.
pub const INPUT_FIELDS: &[&str] = &["type", "source", "message"];

/// An input that gave nothing to judge.
#[derive(serde::Serialize)]
pub struct InputLine<'r> {
    pub source: &'r str,
    pub message: String,
}

/// Members of a `no_callbacks` line (the run found no callback at all), in order.
pub const NO_CALLBACKS_FIELDS: &[&str] = &["type", "message"];

#[derive(serde::Serialize)]
pub struct NoCallbacksLine {
    pub message: String,
}

impl Line<'_> {
    /// Appends the line, with its line feed, to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) -> io::Result<()> {
        serde_json::to_writer(&mut *out, self).map_err(io::Error::other)?;
        out.write_all(b"\n")
    }
}

/// Members of a `callback` line, in order (`expected` and `met` only under `--expect`).
pub const CALLBACK_FIELDS: &[&str] = &[
    "type",
    "source",
    "index",
    "line",
    "column",
    "event_type",
    "verdict",
    "signature",
    "expired",
    "errors",
    "warnings",
    "details",
    "expected",
    "met",
];

/// The verdict on one callback: its [`Report`] as the contract writes it. `source` and `index`
/// are the report's; `line` and `column` are where the callback starts, 1-based (the column after
/// a log line's prefix, with `--extract`).
#[derive(serde::Serialize)]
pub struct CallbackLine<'r> {
    pub source: &'r str,
    pub index: u64,
    pub line: u64,
    pub column: u64,
    pub event_type: Option<&'r str>,
    pub verdict: &'static str,
    pub signature: &'static str,
    pub expired: Option<bool>,
    pub errors: Findings<'r>,
    pub warnings: Findings<'r>,
    /// The event's fields, normalised; `null` for input that is not JSON.
    pub details: Option<Details<'r>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub met: Option<bool>,
}

impl<'r> CallbackLine<'r> {
    pub fn new(report: &'r Report) -> Self {
        CallbackLine {
            source: report.source,
            index: report.index,
            line: report.start.line,
            column: report.start.column,
            event_type: report.event_type,
            verdict: report.verdict.as_str(),
            signature: report.signature.as_str(),
            expired: report.expired,
            errors: Findings { findings: &report.findings, severity: Severity::Error },
            warnings: Findings { findings: &report.findings, severity: Severity::Warning },
            details: report.parsed.then_some(Details(report)),
            expected: report.expected.map(|v| v.as_str()),
            met: report.expected.map(|_| report.passed()),
        }
    }
}

impl CallbackLine<'_> {
    /// Appends the line, with its line feed, to `out`: the same bytes as [`Line::write_to`] writes
    /// for `Line::Callback`, by hand.
    ///
    /// This line is written once per callback, and serde's generic path (every key escaped, every
    /// member through the serializer's state machine) held `check --format json` to 0.59 of the
    /// throughput benchmark's floor; with this writer it runs at 0.84. The type above stays the
    /// contract: `the_fast_callback_line_is_the_serde_one` keeps the two byte-identical on every
    /// bundled fixture, with and without a key, and on each with its values swapped for others.
    pub fn write_fast(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"type\":\"callback\",\"source\":");
        push_json_str(out, self.source);
        out.extend_from_slice(b",\"index\":");
        out.extend_from_slice(itoa::Buffer::new().format(self.index).as_bytes());
        out.extend_from_slice(b",\"line\":");
        out.extend_from_slice(itoa::Buffer::new().format(self.line).as_bytes());
        out.extend_from_slice(b",\"column\":");
        out.extend_from_slice(itoa::Buffer::new().format(self.column).as_bytes());
        out.extend_from_slice(b",\"event_type\":");
        match self.event_type {
            Some(name) => push_json_str(out, name),
            None => out.extend_from_slice(b"null"),
        }
        // Our own words (`valid`, `unsigned`...): nothing to escape.
        out.extend_from_slice(b",\"verdict\":");
        push_plain_json_str(out, self.verdict);
        out.extend_from_slice(b",\"signature\":");
        push_plain_json_str(out, self.signature);
        out.extend_from_slice(match self.expired {
            Some(true) => b",\"expired\":true",
            Some(false) => b",\"expired\":false",
            None => b",\"expired\":null",
        });
        out.extend_from_slice(b",\"errors\":");
        self.errors.write_fast(out);
        out.extend_from_slice(b",\"warnings\":");
        self.warnings.write_fast(out);
        out.extend_from_slice(b",\"details\":");
        match &self.details {
            Some(Details(report)) => {
                write_object_fast(
                    out,
                    report.fields.iter().chain(report.envelope.details()),
                    report.document,
                );
                if let Some(arrival) = report.arrival {
                    out.pop();
                    out.extend_from_slice(if out.ends_with(b"{") {
                        b"\"received_at\":"
                    } else {
                        b",\"received_at\":"
                    });
                    push_json_str(out, &arrival.received_at);
                    out.extend_from_slice(b",\"peer\":");
                    push_json_str(out, &arrival.peer);
                    out.push(b'}');
                }
            }
            None => out.extend_from_slice(b"null"),
        }
        if let Some(expected) = self.expected {
            out.extend_from_slice(b",\"expected\":");
            push_plain_json_str(out, expected);
        }
        if let Some(met) = self.met {
            out.extend_from_slice(if met { b",\"met\":true" } else { b",\"met\":false" });
        }
        out.extend_from_slice(b"}\n");
    }
}

/// Members of each finding in `errors` and `warnings`.
pub const FINDING_FIELDS: &[&str] = &["code", "path", "message", "line", "column"];

/// The findings of one severity, as an array.
pub struct Findings<'r> {
    findings: &'r [Finding],
    severity: Severity,
}

#[derive(serde::Serialize)]
struct FindingLine<'r> {
    code: Code,
    /// A JSON Pointer; `""` for the whole document.
    path: &'r str,
    message: &'r str,
    line: u64,
    column: u64,
}

impl Serialize for Findings<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.findings.iter().filter(|f| f.severity == self.severity).map(|f| {
            FindingLine {
                code: f.code,
                path: &f.path,
                message: &f.message,
                line: f.at.line,
                column: f.at.column,
            }
        }))
    }
}

impl Findings<'_> {
    /// What [`Serialize`] writes, by hand (see [`CallbackLine::write_fast`]).
    fn write_fast(&self, out: &mut Vec<u8>) {
        if self.findings.is_empty() {
            // Most callbacks: no finding of either severity.
            out.extend_from_slice(b"[]");
            return;
        }
        out.push(b'[');
        for (i, f) in self.findings.iter().filter(|f| f.severity == self.severity).enumerate() {
            out.extend_from_slice(if i == 0 { b"{\"code\":" } else { b",{\"code\":" });
            push_plain_json_str(out, f.code.as_str());
            out.extend_from_slice(b",\"path\":");
            push_json_str(out, &f.path);
            out.extend_from_slice(b",\"message\":");
            push_json_str(out, &f.message);
            out.extend_from_slice(b",\"line\":");
            out.extend_from_slice(itoa::Buffer::new().format(f.at.line).as_bytes());
            out.extend_from_slice(b",\"column\":");
            out.extend_from_slice(itoa::Buffer::new().format(f.at.column).as_bytes());
            out.push(b'}');
        }
        out.push(b']')
    }
}

/// The `details` object: the event's fields under their keys (times as RFC 3339 in UTC,
/// durations in seconds, `null` for a field that is missing or not of its declared type), then
/// `sdk_app_id`, `event_time` and `expire_time` from the envelope, and, for a callback read from a
/// capture line, `received_at` and `peer`.
pub struct Details<'r>(&'r Report<'r>);

impl Serialize for Details<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let report = self.0;
        let mut map = serializer.serialize_map(None)?;
        for detail in report.fields.iter().chain(report.envelope.details()) {
            map.serialize_entry(detail.key(), &AsJson(&detail.value))?;
        }
        if let Some(arrival) = report.arrival {
            map.serialize_entry("received_at", &arrival.received_at)?;
            map.serialize_entry("peer", &arrival.peer)?;
        }
        map.end()
    }
}

/// A field's value as the contract writes it.
struct AsJson<'v>(&'v Value<'v>);

impl Serialize for AsJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Missing | Value::Invalid(_) => serializer.serialize_none(),
            Value::Time(t) => {
                let mut buf = [0u8; 20];
                match timefmt::write_rfc3339(&mut buf, *t) {
                    Some(text) => serializer.serialize_str(text),
                    None => serializer.serialize_none(),
                }
            }
            Value::Duration(n)
            | Value::Milliseconds(n)
            | Value::Count(n)
            | Value::Bytes(n)
            | Value::Percent(n) => serializer.serialize_u64(*n),
            Value::Negative(n) => serializer.serialize_i64(*n),
            Value::Text(text) | Value::DateText(text) | Value::Undocumented(text) => {
                serializer.serialize_str(text)
            }
            Value::Choice(choice) => serializer.serialize_str(choice.value),
            Value::Group(members) => group(serializer, members),
            Value::Rows(rows) => serializer.collect_seq(rows.iter().map(|row| row.as_deref().map(Group))),
            Value::List(None) => serializer.collect_seq(std::iter::empty::<()>()),
            Value::List(Some(json)) => raw(serializer, json),
            Value::Unchecked(unchecked) => raw(serializer, &unchecked.json),
        }
    }
}

/// What [`AsJson`] writes for a value, by hand (see [`CallbackLine::write_fast`]).
/// `document` is the one the callback was parsed from: a string it lends is written as it
/// stands (see [`JsonDoc::lends`]). Inlined into its one caller, [`write_object_fast`], which
/// is what recurses: a call per value cost a sixth of the writing.
#[inline(always)]
fn write_value_fast(out: &mut Vec<u8>, value: &Value, document: Option<JsonDoc>) {
    match value {
        Value::Missing | Value::Invalid(_) => out.extend_from_slice(b"null"),
        Value::Time(t) => {
            let mut buf = [0u8; 20];
            match timefmt::write_rfc3339_ascii(&mut buf, *t) {
                // Digits, dashes, colons, `T` and `Z`: nothing to escape. Put between its quotes
                // first, so that it goes onto the line as one piece of a size known here.
                Some(text) => {
                    let mut quoted = [b'"'; 22];
                    quoted[1..21].copy_from_slice(text);
                    out.extend_from_slice(&quoted);
                }
                None => out.extend_from_slice(b"null"),
            }
        }
        Value::Duration(n)
        | Value::Milliseconds(n)
        | Value::Count(n)
        | Value::Bytes(n)
        | Value::Percent(n) => out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
        Value::Negative(n) => out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
        Value::Text(text) | Value::DateText(text) | Value::Undocumented(text) => {
            if document.is_some_and(|doc| doc.lends(text)) {
                push_plain_json_str(out, text);
            } else {
                push_json_str(out, text);
            }
        }
        // A documented value, of Tencent's words (`AUTO`, `USER_CALL`).
        Value::Choice(choice) => push_plain_json_str(out, choice.value),
        Value::Group(members) => write_object_fast(out, members.iter(), document),
        Value::Rows(rows) => {
            out.push(b'[');
            for (i, row) in rows.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                match row {
                    Some(members) => write_object_fast(out, members.iter(), document),
                    None => out.extend_from_slice(b"null"),
                }
            }
            out.push(b']')
        }
        Value::List(None) => out.extend_from_slice(b"[]"),
        Value::List(Some(json)) => write_raw_fast(out, json),
        Value::Unchecked(unchecked) => write_raw_fast(out, &unchecked.json),
    }
}

/// Fields as a JSON object under their keys, by hand.
fn write_object_fast<'v>(
    out: &mut Vec<u8>,
    details: impl Iterator<Item = &'v Detail<'v>>,
    document: Option<JsonDoc>,
) {
    out.push(b'{');
    for (i, detail) in details.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // Keys are plain snake case (see `is_plain_key`): they need no escaping. Each goes on
        // quoted, padding and all, and the padding is cut off.
        debug_assert!(crate::judge::report::is_plain_key(detail.key()), "{}", detail.key());
        let quoted = &detail.name.quoted;
        out.extend_from_slice(quoted.padded());
        out.truncate(out.len() - QUOTED_KEY_BYTES + quoted.used());
        write_value_fast(out, &detail.value, document);
    }
    out.push(b'}')
}

/// What [`raw`] writes, by hand.
fn write_raw_fast(out: &mut Vec<u8>, json: &str) {
    match serde_json::from_str::<&RawValue>(json) {
        Ok(raw) => out.extend_from_slice(raw.get().as_bytes()),
        Err(_) => out.extend_from_slice(b"null"),
    }
}

/// JSON text written as it is.
fn raw<S: Serializer>(serializer: S, json: &str) -> Result<S::Ok, S::Error> {
    match serde_json::from_str::<&RawValue>(json) {
        Ok(raw) => raw.serialize(serializer),
        Err(_) => serializer.serialize_none(),
    }
}

/// An object's declared fields under their keys.
struct Group<'v>(&'v [Detail<'v>]);

impl Serialize for Group<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        group(serializer, self.0)
    }
}

fn group<S: Serializer>(serializer: S, members: &[Detail]) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(members.len()))?;
    for detail in members {
        map.serialize_entry(detail.key(), &AsJson(&detail.value))?;
    }
    map.end()
}

/// Members of a `summary` line, in order (`expected` and `unmet` only under `--expect`, `lines`
/// only with `--extract`).
pub const SUMMARY_FIELDS: &[&str] = &[
    "type",
    "callbacks",
    "valid",
    "invalid",
    "warnings",
    "sources",
    "unreadable",
    "expected",
    "unmet",
    "lines",
    "signatures_unchecked",
];

/// The tally of a run, last.
#[derive(serde::Serialize)]
pub struct SummaryLine {
    pub callbacks: u64,
    pub valid: u64,
    pub invalid: u64,
    pub warnings: u64,
    pub sources: u64,
    pub unreadable: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unmet: Option<u64>,
    /// Log lines read, with `--extract` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<u64>,
    /// Callbacks whose `Sign` was not checked for want of a key; only when there were some.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signatures_unchecked: Option<u64>,
}

impl SummaryLine {
    pub fn new(summary: &Summary) -> Self {
        SummaryLine {
            callbacks: summary.callbacks,
            valid: summary.valid,
            invalid: summary.invalid,
            warnings: summary.warnings,
            sources: summary.sources,
            unreadable: summary.unreadable,
            expected: summary.expected.map(|v| v.as_str()),
            unmet: summary.expected.map(|_| summary.unmet),
            lines: summary.lines,
            signatures_unchecked: (summary.signatures_unchecked > 0).then_some(summary.signatures_unchecked),
        }
    }
}

/// Members of a `task` line (timeline), in order.
pub const TASK_FIELDS: &[&str] = &[
    "type",
    "task_id",
    "kind",
    "room_id",
    "state",
    "start",
    "stop",
    "duration_seconds",
    "finish_reason",
    "callbacks",
    "duplicates",
    "warnings",
];

/// One task of a timeline.
#[derive(serde::Serialize)]
pub struct TaskLine<'r> {
    pub task_id: &'r str,
    /// `push` or `record`.
    pub kind: &'static str,
    pub room_id: Option<u64>,
    /// `finished`, `running` or `stop-only`.
    pub state: &'static str,
    #[serde(serialize_with = "rfc3339")]
    pub start: Option<u64>,
    /// `null` while running.
    #[serde(serialize_with = "rfc3339")]
    pub stop: Option<u64>,
    pub duration_seconds: Option<u64>,
    pub finish_reason: Option<&'r str>,
    pub callbacks: u64,
    pub duplicates: u64,
    /// Times in RFC 3339 (UTC), like the other members.
    pub warnings: Vec<String>,
}

/// Members of the `totals` line (timeline), in order.
pub const TOTALS_FIELDS: &[&str] = &[
    "type",
    "tasks",
    "finished",
    "running",
    "stop_only",
    "duplicates",
    "push_seconds",
    "record_seconds",
    "invalid",
    "by_room",
    "by_reason",
];

/// The figures over a timeline's tasks, last.
#[derive(serde::Serialize)]
pub struct TotalsLine<'r> {
    pub tasks: u64,
    pub finished: u64,
    pub running: u64,
    pub stop_only: u64,
    pub duplicates: u64,
    pub push_seconds: u64,
    pub record_seconds: u64,
    /// Callbacks left out because they were invalid.
    pub invalid: u64,
    /// Per room id: `{"tasks":N,"push_seconds":S}`.
    #[serde(serialize_with = "by_room")]
    pub by_room: &'r [(u64, u64, u64)],
    /// Per finish reason: how many tasks.
    #[serde(serialize_with = "by_reason")]
    pub by_reason: &'r [(String, u64)],
}

impl<'r> TotalsLine<'r> {
    /// The line of `totals`, with the count of callbacks left out as invalid.
    pub fn new(totals: &'r Totals, invalid: u64) -> Self {
        TotalsLine {
            tasks: totals.tasks,
            finished: totals.finished,
            running: totals.running,
            stop_only: totals.stop_only,
            duplicates: totals.duplicates,
            push_seconds: totals.push_seconds,
            record_seconds: totals.record_seconds,
            invalid,
            by_room: &totals.by_room,
            by_reason: &totals.by_reason,
        }
    }
}

#[derive(serde::Serialize)]
struct RoomFigures {
    tasks: u64,
    push_seconds: u64,
}

fn by_room<S: Serializer>(rooms: &&[(u64, u64, u64)], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_map(
        rooms.iter().map(|&(room, tasks, push_seconds)| (room, RoomFigures { tasks, push_seconds })),
    )
}

fn by_reason<S: Serializer>(reasons: &&[(String, u64)], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_map(reasons.iter().map(|(reason, count)| (reason, count)))
}

fn rfc3339<S: Serializer>(time: &Option<u64>, serializer: S) -> Result<S::Ok, S::Error> {
    match time {
        Some(t) => serializer.serialize_str(&timefmt::rfc3339(*t)),
        None => serializer.serialize_none(),
    }
}

/// Members of a `delivery` line (`send`), in order.
pub const DELIVERY_FIELDS: &[&str] = &[
    "type",
    "source",
    "line",
    "copy",
    "event_type",
    "task_id",
    "outcome",
    "attempts",
    "error_code_zero",
    "answer_changed",
];

/// What became of sending one callback.
#[derive(serde::Serialize)]
pub struct DeliveryLine<'r> {
    pub source: &'r str,
    /// 1-based line where the callback starts in its source.
    pub line: u64,
    /// 0 for the callback, 1.. for its `--duplicate` copies.
    pub copy: u32,
    pub event_type: Option<&'r str>,
    pub task_id: Option<&'r str>,
    /// `accepted` (200 within the timeout) or `failed`.
    pub outcome: &'static str,
    /// Every attempt, in order.
    pub attempts: Vec<AttemptLine<'r>>,
    /// Whether the accepted answer was `{"error_code":0}`.
    pub error_code_zero: bool,
    /// Whether this copy's answer differs from the first delivery's.
    pub answer_changed: bool,
}

/// Members of each attempt of a `delivery` line.
pub const ATTEMPT_FIELDS: &[&str] = &["status", "millis", "error"];

/// One attempt: the status when there was an answer, else the error.
#[derive(serde::Serialize)]
pub struct AttemptLine<'r> {
    pub status: Option<u16>,
    pub millis: u128,
    pub error: Option<&'r str>,
}

/// Members of a `delivery_summary` line (`send`), in order.
pub const DELIVERY_SUMMARY_FIELDS: &[&str] = &[
    "type",
    "deliveries",
    "accepted",
    "failed",
    "retried",
    "not_sent",
    "not_json",
    "slowest_millis",
    "interrupted",
];

/// The tally of a `send`.
#[derive(serde::Serialize)]
pub struct DeliverySummaryLine {
    /// Deliveries attempted (one cut short by Ctrl-C included).
    pub deliveries: u64,
    pub accepted: u64,
    pub failed: u64,
    /// Deliveries that took more than one attempt.
    pub retried: u64,
    /// Callbacks never attempted: pieces that are not JSON, and, after Ctrl-C, every callback
    /// not reached.
    pub not_sent: u64,
    /// Of `not_sent`, the pieces of the input that were not JSON.
    pub not_json: u64,
    pub slowest_millis: u128,
    /// Whether Ctrl-C cut the run short.
    pub interrupted: bool,
}

/// Members of a `retry` line (`send`), in order.
pub const RETRY_FIELDS: &[&str] =
    &["type", "source", "line", "copy", "attempt", "of", "in_millis", "status", "error"];

/// A delivery that failed an attempt and will be tried again.
#[derive(serde::Serialize)]
pub struct RetryLine<'r> {
    pub source: &'r str,
    pub line: u64,
    pub copy: u32,
    /// The attempt that comes next (2 for the first retry).
    pub attempt: u32,
    /// Attempts at most.
    pub of: u32,
    /// The pause before it.
    pub in_millis: u128,
    /// The failed attempt's status, `null` when there was no answer.
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'r str>,
}

/// Members of a `listening` line (listen's first line with `--format json`), in order.
pub const LISTENING_FIELDS: &[&str] = &["type", "url", "inspector"];

/// Where the receiver listens.
#[derive(serde::Serialize)]
pub struct ListeningLine {
    /// `http://ADDR:PORT`.
    pub url: String,
    /// The page of `--ui`, with its token; `null` without it.
    pub inspector: Option<String>,
}

/// Members of a `forward_summary` line (listen's last forward line, at shutdown), in order.
pub const FORWARD_SUMMARY_FIELDS: &[&str] =
    &["type", "forwarded", "failed", "skipped", "abandoned", "not_forwarded", "replay"];

/// What became of the forwards of a whole run of `listen --forward-to`.
#[derive(serde::Serialize)]
pub struct ForwardSummaryLine {
    /// Callbacks the application answered 2xx.
    pub forwarded: u64,
    /// Callbacks every attempt failed for.
    pub failed: u64,
    /// Callbacks skipped because the backlog was full.
    pub skipped: u64,
    /// Callbacks still waiting, or in flight, when the drain at shutdown ran out of time.
    pub abandoned: u64,
    /// `failed + skipped + abandoned`.
    pub not_forwarded: u64,
    /// The `tiwhook send` command that replays exactly those from the save file (`null`
    /// without `--save`, or when everything was forwarded).
    pub replay: Option<String>,
}

/// Members of a `forward` line (listen), in order: `millis` when the application answered,
/// `error` when it did not.
pub const FORWARD_FIELDS: &[&str] = &["type", "request", "status", "millis", "attempts", "error"];

/// What became of passing one request on to the application.
#[derive(serde::Serialize)]
pub struct ForwardLine<'r> {
    /// The request's number, counted from 1 since the receiver started.
    pub request: u64,
    /// The application's HTTP status; `null` when it did not answer.
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub millis: Option<u128>,
    /// Attempts made: 1, or more after retries.
    pub attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'r str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The member names of one written line, in order.
    fn keys(line: &Line) -> Vec<String> {
        let mut out = Vec::new();
        line.write_to(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.ends_with('\n') && !text.trim_end().contains('\n'));
        let value: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).unwrap();
        // serde_json's map keeps the order only with a feature; read the order from the text.
        let mut keys: Vec<(usize, String)> =
            value.keys().map(|k| (text.find(&format!("\"{k}\":")).unwrap(), k.clone())).collect();
        keys.sort();
        keys.into_iter().map(|(_, k)| k).collect()
    }

    #[test]
    fn each_list_of_members_is_what_its_type_writes() {
        let summary = Summary {
            expected: Some(crate::judge::report::Verdict::Valid),
            lines: Some(3),
            signatures_unchecked: 2,
            ..Summary::default()
        };
        assert_eq!(keys(&Line::Summary(SummaryLine::new(&summary))), SUMMARY_FIELDS);
        let task = TaskLine {
            task_id: "t",
            kind: "push",
            room_id: Some(1),
            state: "finished",
            start: Some(0),
            stop: Some(1),
            duration_seconds: Some(1),
            finish_reason: None,
            callbacks: 2,
            duplicates: 0,
            warnings: Vec::new(),
        };
        assert_eq!(keys(&Line::Task(task)), TASK_FIELDS);
        let totals = Totals::default();
        assert_eq!(keys(&Line::Totals(TotalsLine::new(&totals, 0))), TOTALS_FIELDS);
        let forwards = ForwardSummaryLine {
            forwarded: 1,
            failed: 1,
            skipped: 0,
            abandoned: 0,
            not_forwarded: 1,
            replay: None,
        };
        assert_eq!(keys(&Line::ForwardSummary(forwards)), FORWARD_SUMMARY_FIELDS);
        let answered =
            ForwardLine { request: 1, status: Some(200), millis: Some(3), attempts: 1, error: None };
        assert_eq!(keys(&Line::Forward(answered)), ["type", "request", "status", "millis", "attempts"]);
        let failed =
            ForwardLine { request: 1, status: None, millis: None, attempts: 6, error: Some("refused") };
        assert_eq!(keys(&Line::Forward(failed)), ["type", "request", "status", "attempts", "error"]);
        assert_eq!(
            keys(&Line::Listening(ListeningLine { url: "http://127.0.0.1:8080".into(), inspector: None })),
            LISTENING_FIELDS
        );
        let attempt = AttemptLine { status: Some(200), millis: 3, error: None };
        let delivery = DeliveryLine {
            source: "-",
            line: 1,
            copy: 0,
            event_type: None,
            task_id: None,
            outcome: "accepted",
            attempts: vec![attempt],
            error_code_zero: true,
            answer_changed: false,
        };
        assert_eq!(keys(&Line::Delivery(delivery)), DELIVERY_FIELDS);
        let summary = DeliverySummaryLine {
            deliveries: 1,
            accepted: 1,
            failed: 0,
            retried: 0,
            not_sent: 0,
            not_json: 0,
            slowest_millis: 3,
            interrupted: false,
        };
        assert_eq!(keys(&Line::DeliverySummary(summary)), DELIVERY_SUMMARY_FIELDS);
        let retry = RetryLine {
            source: "-",
            line: 1,
            copy: 0,
            attempt: 2,
            of: 6,
            in_millis: 5000,
            status: None,
            error: Some("connection refused"),
        };
        assert_eq!(keys(&Line::Retry(retry)), RETRY_FIELDS);
        for problem in [
            InputProblem::Unreadable { source: "a".into(), message: "gone".into() },
            InputProblem::Empty { source: "b".into() },
        ] {
            assert_eq!(keys(&Line::of_problem(&problem)), INPUT_FIELDS);
        }
        let nothing = InputProblem::NoCallbacks { inputs: "c".into(), left_out: 0, logs: 0 };
        assert_eq!(keys(&Line::of_problem(&nothing)), NO_CALLBACKS_FIELDS);
    }

    /// Every fixture (each document, with and without a key, expected or not), and each with
    /// every value of its `EventData` replaced by values of other types, written both ways.
    #[test]
    fn the_fast_callback_line_is_the_serde_one() {
        use crate::read::framing::{Item, JsonFramer};
        fn files(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    files(&path, found);
                } else if path.extension().is_some_and(|e| e == "json" || e == "ndjson") {
                    found.push(path);
                }
            }
        }
        let mut paths = Vec::new();
        files(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"), &mut paths);
        assert!(paths.len() > 20, "the fixtures are there");
        let mut inputs: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).unwrap()).collect();
        let replacements =
            ["null", "-1", "1.5", "\"x\\u0007\\\"y\"", "[1,{\"a\":2}]", "{\"b\":[]}", "true", "\"\""];
        let mutated: Vec<Vec<u8>> = inputs
            .iter()
            .flat_map(|bytes| {
                let text = String::from_utf8_lossy(bytes).into_owned();
                let Ok(serde_json::Value::Object(root)) = serde_json::from_str(&text) else { return vec![] };
                let Some(serde_json::Value::Object(data)) = root.get("EventData") else { return vec![] };
                let mut out = Vec::new();
                for key in data.keys() {
                    for replacement in replacements {
                        let mut copy = root.clone();
                        copy["EventData"][key] = serde_json::from_str(replacement).unwrap();
                        out.push(serde_json::to_vec(&copy).unwrap());
                    }
                }
                out
            })
            .collect();
        inputs.extend(mutated);
        let keyless = crate::judge::Policy::default();
        let keyed = crate::judge::Policy {
            keys: vec![crate::judge::signature::Key::new("tiwhook-test-key", "test")],
            now: 1_764_072_000,
            ..crate::judge::Policy::default()
        };
        let arrival =
            crate::judge::report::Arrival::new("2025-11-25T04:00:01.123Z".into(), "203.0.113.9:51234".into());
        let mut lines = 0;
        for bytes in &inputs {
            let mut documents = JsonFramer::new(&bytes[..]);
            while let Ok(Some(item)) = documents.next_item() {
                for policy in [&keyless, &keyed] {
                    for expected in [None, Some(crate::judge::report::Verdict::Valid)] {
                        let mut report = match &item {
                            Item::Document(document) => {
                                crate::judge::judge("dir/a \"b\".json", document, policy)
                            }
                            Item::Broken(broken) => crate::judge::judge_broken("x", broken),
                        };
                        report.expected = expected;
                        // Callbacks read from capture lines carry their arrival.
                        if expected.is_some() {
                            report.arrival = Some(&arrival);
                        }
                        let line = CallbackLine::new(&report);
                        let (mut slow, mut fast) = (Vec::new(), Vec::new());
                        Line::Callback(CallbackLine::new(&report)).write_to(&mut slow).unwrap();
                        line.write_fast(&mut fast);
                        assert_eq!(String::from_utf8_lossy(&fast), String::from_utf8_lossy(&slow));
                        lines += 1;
                    }
                }
            }
        }
        assert!(lines > 1000, "{lines} lines compared");
    }

    /// Writes `bytes`' documents both ways, judged as `source` with and without a key, expected
    /// or not, with `arrival` on the expected ones; each pair must be byte for byte the same.
    fn assert_fast_is_serde(bytes: &[u8], source: &str, arrival: &crate::judge::report::Arrival) {
        let keyless = crate::judge::Policy::default();
        let keyed = crate::judge::Policy {
            keys: vec![crate::judge::signature::Key::new("tiwhook-test-key", "test")],
            now: 1_764_072_000,
            ..crate::judge::Policy::default()
        };
        let mut documents = crate::read::framing::JsonFramer::new(bytes);
        while let Ok(Some(item)) = documents.next_item() {
            for policy in [&keyless, &keyed] {
                for expected in [None, Some(crate::judge::report::Verdict::Valid)] {
                    let mut report = crate::judge::judge_item(source, &item, policy);
                    report.expected = expected;
                    if expected.is_some() {
                        report.arrival = Some(arrival);
                    }
                    let (mut slow, mut fast) = (Vec::new(), Vec::new());
                    Line::Callback(CallbackLine::new(&report)).write_to(&mut slow).unwrap();
                    CallbackLine::new(&report).write_fast(&mut fast);
                    assert_eq!(String::from_utf8_lossy(&fast), String::from_utf8_lossy(&slow));
                }
            }
        }
    }

    /// A callback of a known event (or of any name), its declared fields and others holding any
    /// values, with an envelope of any values.
    fn any_callback() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let events = crate::judge::events::EVENTS;
        (
            0..events.len() + 1,
            any::<String>(),
            proptest::collection::vec(
                (any::<bool>(), any::<prop::sample::Index>(), any::<String>(), crate::testing::any_json()),
                0..8,
            ),
            proptest::collection::vec(crate::testing::any_json(), 5),
        )
            .prop_map(move |(event, other_name, members, envelope)| {
                let (name, fields) = match events.get(event) {
                    Some(event) => (event.name.to_string(), event.fields),
                    None => (other_name, &[][..]),
                };
                let mut data = serde_json::Map::new();
                for (declared, index, key, value) in members {
                    let key = match fields.get(index.index(fields.len().max(1))) {
                        Some(field) if declared => field.name.to_string(),
                        _ => key,
                    };
                    data.insert(key, value);
                }
                let mut root = serde_json::Map::new();
                root.insert("EventType".into(), name.into());
                root.insert("EventData".into(), data.into());
                for (key, value) in
                    ["SdkAppId", "Timestamp", "ExpireTime", "Sign", "Extra"].into_iter().zip(envelope)
                {
                    root.insert(key.into(), value);
                }
                serde_json::Value::Object(root)
            })
    }

    proptest::proptest! {
        /// The fast writer is the serde one for arbitrary callbacks, source names and arrivals:
        /// every value kind, keys that need escapes, nested members.
        #[test]
        fn the_fast_callback_line_is_the_serde_one_for_any_callback(
            callback in any_callback(),
            source in proptest::prelude::any::<String>(),
            received_at in proptest::prelude::any::<String>(),
            peer in proptest::prelude::any::<String>(),
        ) {
            let arrival = crate::judge::report::Arrival::new(received_at, peer);
            assert_fast_is_serde(&serde_json::to_vec(&callback).unwrap(), &source, &arrival);
        }
    }

    #[test]
    fn a_callback_line_has_every_member() {
        let bytes = br#"{"EventType":"WhiteboardPushStarted","EventData":{}}"#;
        let mut documents = crate::read::framing::JsonFramer::new(&bytes[..]);
        let Ok(Some(crate::read::framing::Item::Document(document))) = documents.next_item() else {
            panic!("one document")
        };
        let mut report = crate::judge::judge("t.json", &document, &crate::judge::Policy::default());
        report.expected = Some(crate::judge::report::Verdict::Invalid);
        assert_eq!(keys(&Line::Callback(CallbackLine::new(&report))), CALLBACK_FIELDS);
        let mut out = Vec::new();
        Line::Callback(CallbackLine::new(&report)).write_to(&mut out).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let finding = &value["errors"][0];
        let members: Vec<&str> = finding.as_object().unwrap().keys().map(String::as_str).collect();
        let mut want = FINDING_FIELDS.to_vec();
        want.sort();
        assert_eq!(members, want);
    }
}
