//! Printers: each turns [`Report`]s into one output format.
//!
//! Every printer writes to any `io::Write` and consumes nothing but reports and the run's
//! [`Summary`]; what an event's fields are called and how they are shown comes from the event
//! table through the helpers here, so that all formats agree.

pub mod check;
pub mod compact;
pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod style;
pub mod timeline;

use std::io;

use jiff::tz::TimeZone;

use crate::events::{Event, Rule};
use crate::report::{Report, Summary};
use crate::tape::{Node, Value};
pub use crate::validate::unix_time;

/// One output format.
pub trait Printer {
    fn callback(&mut self, report: &Report) -> io::Result<()>;
    fn finish(&mut self, summary: &Summary) -> io::Result<()>;
    /// Moves the clock the view shows times against (a live receiver's clock runs on).
    fn set_clock(&mut self, _now: i64) {}
}

/// What the human views need to know besides the reports.
#[derive(Clone, Debug)]
pub struct View {
    /// Zone for displayed times.
    pub zone: TimeZone,
    /// The clock, in Unix seconds.
    pub now: i64,
    /// Where each key came from, by position (never the key).
    pub key_origins: Vec<String>,
}

/// The duration an event's span rule measures, with its label and the field it follows.
pub fn span(report: &Report) -> Option<(&'static str, &'static str, u64)> {
    let event: &Event = report.event?;
    event.rules.iter().find_map(|rule| match *rule {
        Rule::Span { earlier, later, label } => {
            let from = unix_time(report.event_field(earlier)?)?;
            let to = unix_time(report.event_field(later)?)?;
            Some((label, later, to.checked_sub(from)?))
        }
        Rule::ErrorGoesWith { .. } => None,
    })
}

/// A progress percentage: an integer, or a numeric string (a quirk of Tencent's docs).
pub fn percent(node: Node) -> Option<u64> {
    match node.value() {
        Value::UInt(n) => Some(n),
        _ => node.as_str()?.parse().ok(),
    }
}

/// A size in bytes in human units: `512 B`, `3.4 MiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut size = n as f64 / 1024.0;
    let mut unit = 0;
    while size >= 1024.0 && unit + 1 < UNITS.len() {
        size /= 1024.0;
        unit += 1;
    }
    format!("{size:.1} {}", UNITS[unit])
}

/// The value as compact JSON, for showing a value of the wrong shape or an undeclared one.
pub fn compact_json(node: Node) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = node.write_json(&mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// "1 callback", "2 callbacks".
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The run's tally in words: `12 callbacks in 4 sources: 11 valid, 1 invalid, 3 warnings`.
pub fn summary_line(summary: &Summary) -> String {
    let mut line = format!(
        "{} in {}: ",
        plural(summary.callbacks, "callback", "callbacks"),
        plural(summary.sources, "source", "sources"),
    );
    match summary.expected {
        Some(verdict) => line.push_str(&format!(
            "{} met the expectation ({}), {} did not",
            summary.callbacks - summary.unmet,
            verdict.as_str(),
            summary.unmet
        )),
        None => line.push_str(&format!(
            "{} valid, {} invalid, {}",
            summary.valid,
            summary.invalid,
            plural(summary.warnings, "warning", "warnings")
        )),
    }
    if summary.unreadable > 0 {
        line.push_str(&format!(", {} unreadable", plural(summary.unreadable, "source", "sources")));
    }
    line
}

/// What a callback that did not meet `--expect` is told.
pub fn unmet_message(report: &Report) -> Option<String> {
    let expected = report.expected?;
    (expected != report.verdict).then(|| {
        format!("expected this callback to be {}, but it is {}", expected.as_str(), report.verdict.as_str())
    })
}

/// Said once in a run where a signature was checked.
pub const BODY_CAVEAT: &str = "a valid Sign proves only that the sender knew the key for that ExpireTime; \
                               it does not cover the body, which anyone who saw a signed callback can alter";
