//! `tiwhook inspect`: a detailed view of each callback, for people debugging an integration.
//!
//! A header with the source, the event and the verdict; then the event's fields in the order the
//! event table declares them, times in the chosen zone and durations in words; then the envelope,
//! the signature and its expiry; then the findings. Every string from the callback is escaped.
//! Rows are written straight to the output, so a long stream costs no allocation per field.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::style::{Style, color_enabled, paint};
use super::{BODY_CAVEAT, Printer, View, compact_json, span, summary_line, unix_time};
use crate::events::{Field, Kind};
use crate::report::{Report, Severity, SignatureStatus, Summary, Verdict};
use crate::sanitize::escape;
use crate::tape::{Node, Value};
use crate::timefmt;

/// Width of the label column.
const LABEL_WIDTH: usize = 13;

pub struct HumanPrinter<W> {
    out: W,
    view: View,
    color: bool,
    shown: u64,
    /// Reused for values composed of several parts.
    scratch: String,
}

impl<W: Write> HumanPrinter<W> {
    pub fn new(out: W, view: View) -> Self {
        HumanPrinter { out, view, color: color_enabled(), shown: 0, scratch: String::new() }
    }

    fn paint(&mut self, style: Style, pieces: &[&str]) -> io::Result<()> {
        paint(&mut self.out, self.color, style, pieces)
    }

    /// A row: the label, dimmed and padded, then the value.
    fn row(&mut self, label: &str, style: Style, value: &[&str]) -> io::Result<()> {
        const SPACES: &str = "                ";
        let pad = LABEL_WIDTH.saturating_sub(label.chars().count()).min(SPACES.len());
        self.out.write_all(b"  ")?;
        self.paint(Style::Dim, &[label, &SPACES[..pad]])?;
        self.out.write_all(b"  ")?;
        self.paint(style, value)?;
        self.out.write_all(b"\n")
    }

    /// A row whose value is a time in the chosen zone.
    fn time_row(&mut self, label: &str, seconds: u64, suffix: &str) -> io::Result<()> {
        let mut buf = [0u8; 26];
        let number;
        let time = match timefmt::write_local(&mut buf, seconds, &self.view.zone) {
            Some(text) => text,
            None => {
                number = seconds.to_string();
                &number
            }
        };
        self.row(label, Style::Plain, &[time, suffix])
    }

    /// A declared field's row; a value of the wrong shape is shown raw, in red.
    fn field_row(&mut self, field: &Field, node: Node) -> io::Result<()> {
        let label = field.label;
        match (field.kind, node.value()) {
            (Kind::UnixTime, _) if unix_time(node).is_some() => {
                self.time_row(label, unix_time(node).unwrap_or_default(), "")
            }
            (Kind::Id | Kind::Count, Value::UInt(n)) => {
                self.row(label, Style::Plain, &[itoa::Buffer::new().format(n)])
            }
            (Kind::Text | Kind::Identifier | Kind::Sign, Value::Str(_)) => {
                match node.as_str().unwrap_or_default() {
                    "" => self.row(label, Style::Dim, &["(empty)"]),
                    text => self.row(label, Style::Plain, &[&escape(text)]),
                }
            }
            (Kind::Choice(choices), Value::Str(_)) => {
                let text = node.as_str().unwrap_or_default();
                match choices.iter().find(|c| c.value == text) {
                    Some(c) => self.row(label, Style::Plain, &[c.value, ": ", c.meaning]),
                    None => self.row(label, Style::Yellow, &[&escape(text), " (undocumented)"]),
                }
            }
            (Kind::ArrayOf(fields), Value::Array { len, .. }) => {
                let count = itoa::Buffer::new().format(len).to_string();
                self.row(label, Style::Plain, &[&count])?;
                self.table(fields, node)
            }
            (Kind::Object(fields), Value::Object { .. }) => {
                self.scratch.clear();
                for (i, f) in fields.iter().enumerate() {
                    if let Some(member) = node.get(f.name) {
                        if i > 0 {
                            self.scratch.push_str(": ");
                        }
                        match member.as_str() {
                            Some(text) => self.scratch.push_str(&escape(text)),
                            None => self.scratch.push_str(&escape(&compact_json(member))),
                        }
                    }
                }
                let value = std::mem::take(&mut self.scratch);
                let result = self.row(label, Style::Plain, &[&value]);
                self.scratch = value;
                result
            }
            _ => match cell(field, node) {
                Some(text) => self.row(label, Style::Plain, &[&text]),
                None => self.row(label, Style::Red, &[&escape(&compact_json(node)), " (invalid)"]),
            },
        }
    }

    /// An array of objects as a table, one row per element, one column per declared field that
    /// any element has.
    fn table(&mut self, fields: &[Field], array: Node) -> io::Result<()> {
        let columns: Vec<&Field> =
            fields.iter().filter(|f| array.elements().any(|e| e.get(f.name).is_some())).collect();
        let rows: Vec<Vec<String>> = array
            .elements()
            .map(|element| {
                columns
                    .iter()
                    .map(|f| match element.get(f.name) {
                        Some(node) => {
                            cell(f, node).unwrap_or_else(|| escape(&compact_json(node)).into_owned())
                        }
                        None => "-".into(),
                    })
                    .collect()
            })
            .collect();
        let widths: Vec<usize> = columns
            .iter()
            .enumerate()
            .map(|(i, f)| rows.iter().map(|r| r[i].chars().count()).chain([f.label.len()]).max().unwrap_or(0))
            .collect();
        let line = |cells: &mut dyn Iterator<Item = &str>| -> String {
            let mut text = String::from("    ");
            for (i, cell) in cells.enumerate() {
                if i > 0 {
                    text.push_str("  ");
                }
                text.push_str(cell);
                if i + 1 < widths.len() {
                    text.extend(std::iter::repeat_n(' ', widths[i].saturating_sub(cell.chars().count())));
                }
            }
            text
        };
        let header = line(&mut columns.iter().map(|f| f.label));
        self.paint(Style::Dim, &[&header])?;
        self.out.write_all(b"\n")?;
        for row in &rows {
            let text = line(&mut row.iter().map(String::as_str));
            self.out.write_all(text.as_bytes())?;
            self.out.write_all(b"\n")?;
        }
        Ok(())
    }

    fn header(&mut self, report: &Report) -> io::Result<()> {
        if self.shown > 0 {
            self.out.write_all(b"\n")?;
        }
        self.shown += 1;
        self.paint(
            Style::Cyan,
            &[&escape(report.source), ":", itoa::Buffer::new().format(report.start.line)],
        )?;
        self.out.write_all(b"  ")?;
        match (report.doc, report.event_type) {
            (None, _) => self.paint(Style::Red, &["not JSON"])?,
            (Some(_), None) => self.paint(Style::Red, &["no event type"])?,
            (Some(_), Some(name)) if report.event.is_none() => {
                self.paint(Style::Yellow, &[&escape(name), " (unknown event)"])?
            }
            (Some(_), Some(name)) => self.paint(Style::Bold, &[name])?,
        }
        self.out.write_all(b"  ")?;
        match report.verdict {
            Verdict::Valid => self.paint(Style::BoldGreen, &["✓ valid"])?,
            Verdict::Invalid => self.paint(Style::BoldRed, &["✗ invalid"])?,
        }
        self.out.write_all(b"\n")
    }

    fn event_fields(&mut self, report: &Report) -> io::Result<()> {
        let duration = span(report);
        // What went wrong comes first.
        let error = report.event_fields().find(|(f, n)| f.name == "Error" && n.is_some());
        if let Some((field, Some(node))) = error {
            self.field_row(field, node)?;
        }
        for (field, node) in report.event_fields() {
            if field.name == "Error" {
                continue;
            }
            if let Some(node) = node {
                self.field_row(field, node)?;
            }
            if let Some((label, _, seconds)) = duration.filter(|(_, after, _)| *after == field.name) {
                self.row(label, Style::Bold, &[&timefmt::duration(seconds)])?;
            }
        }
        if report.event.is_none()
            && let Some(data) = report.doc.and_then(|d| d.root().get("EventData"))
        {
            let mut rows = Vec::new();
            flatten(data, String::new(), &mut rows);
            let hidden = rows.len().saturating_sub(MAX_GENERIC_ROWS);
            for (key, value) in rows.into_iter().take(MAX_GENERIC_ROWS) {
                self.row(&key, Style::Plain, &[&value])?;
            }
            if hidden > 0 {
                self.row("…", Style::Dim, &[&format!("{hidden} more values not shown")])?;
            }
        }
        Ok(())
    }

    fn envelope(&mut self, report: &Report) -> io::Result<()> {
        if let Some(id) = report.envelope_field("SdkAppId").map(|n| n.value()) {
            match id {
                Value::UInt(n) => self.row("SdkAppId", Style::Plain, &[itoa::Buffer::new().format(n)])?,
                _ => self.row("SdkAppId", Style::Red, &["(invalid)"])?,
            }
        }
        if let Some(t) = report.envelope_field("Timestamp").and_then(unix_time) {
            self.time_row("Event time", t, "")?;
        }
        if report.doc.is_none() {
            return Ok(());
        }
        let has_sign = report.envelope_field("Sign").is_some();
        match report.signature {
            SignatureStatus::Valid { key } => {
                let origin = self.view.key_origins.get(key).map(String::as_str).unwrap_or("?");
                let origin = escape(origin).into_owned();
                self.row(
                    "Signature",
                    Style::Green,
                    &["valid (key #", itoa::Buffer::new().format(key + 1), ", ", &origin, ")"],
                )?
            }
            SignatureStatus::Mismatch => {
                let keys = super::plural(self.view.key_origins.len() as u64, "key", "keys");
                self.row("Signature", Style::Red, &["mismatch (", &keys, " tried)"])?
            }
            SignatureStatus::Missing => {
                self.row("Signature", Style::Red, &["missing: a key was given, the callback has no Sign"])?
            }
            SignatureStatus::Malformed => self.row("Signature", Style::Red, &["malformed"])?,
            SignatureStatus::Unchecked if has_sign => self.row(
                "Signature",
                Style::Yellow,
                &["not checked (no key: give --key, --key-file or TIW_CALLBACK_KEY)"],
            )?,
            SignatureStatus::Unchecked => {
                self.row("Signature", Style::Plain, &["none (unsigned callback)"])?
            }
        }
        if let Some(expire) = report.expire_time {
            let age = timefmt::age(expire as i64, self.view.now);
            self.scratch.clear();
            if report.expired == Some(true) {
                let _ = write!(self.scratch, " (expired {age} ago)");
            } else {
                let _ = write!(self.scratch, " (valid for {age} more)");
            }
            let suffix = std::mem::take(&mut self.scratch);
            self.time_row("Expires", expire, &suffix)?;
            self.scratch = suffix;
        }
        Ok(())
    }

    fn findings(&mut self, report: &Report) -> io::Result<()> {
        for f in &report.findings {
            let (style, severity) = match f.severity {
                Severity::Error => (Style::BoldRed, "error"),
                Severity::Warning => (Style::BoldYellow, "warning"),
            };
            self.out.write_all(b"  ")?;
            self.paint(style, &[severity, "[", f.code, "]"])?;
            let path = if f.path.is_empty() { String::new() } else { format!(" {}", escape(&f.path)) };
            let place = format!("{path} (line {}, column {}):", f.at.line, f.at.column);
            self.paint(Style::Dim, &[&place])?;
            self.out.write_all(b" ")?;
            self.out.write_all(escape(&f.message).as_bytes())?;
            self.out.write_all(b"\n")?;
            for help in &f.help {
                self.out.write_all(b"      ")?;
                self.paint(Style::Cyan, &["help"])?;
                self.out.write_all(b": ")?;
                self.out.write_all(escape(help).as_bytes())?;
                self.out.write_all(b"\n")?;
            }
        }
        Ok(())
    }
}

/// Rows shown at most for the fields of an unknown event.
const MAX_GENERIC_ROWS: usize = 60;

/// The scalar values below `node` as (dotted path, text) rows, escaped: `Meta.Teacher`,
/// `Items[0].Name`. Empty objects and arrays are shown as `{}` and `[]`.
fn flatten(node: Node, prefix: String, rows: &mut Vec<(String, String)>) {
    if rows.len() > MAX_GENERIC_ROWS {
        rows.push((prefix, String::new()));
        return;
    }
    match node.value() {
        Value::Object { len, .. } if len > 0 => {
            for (key, child) in node.members() {
                let key = escape(key.as_str());
                let path = if prefix.is_empty() { key.into_owned() } else { format!("{prefix}.{key}") };
                flatten(child, path, rows);
            }
        }
        Value::Array { len, .. } if len > 0 => {
            for (i, child) in node.elements().enumerate() {
                flatten(child, format!("{prefix}[{i}]"), rows);
            }
        }
        _ => {
            let text = match node.as_str() {
                Some(s) => escape(s).into_owned(),
                None => escape(&compact_json(node)).into_owned(),
            };
            rows.push((prefix, text));
        }
    }
}

/// A value as one line of plain, escaped text, by its declared kind; `None` when the value is
/// not of that kind.
fn cell(field: &Field, node: Node) -> Option<String> {
    let text = match (field.kind, node.value()) {
        (Kind::UnixTime, _) => timefmt::rfc3339(unix_time(node)?),
        (Kind::Id | Kind::Count | Kind::Integer, Value::UInt(n)) => n.to_string(),
        (Kind::Integer, Value::Int(n)) => n.to_string(),
        (Kind::Milliseconds, Value::UInt(ms)) if ms < 1000 => format!("{ms} ms"),
        (Kind::Milliseconds, Value::UInt(ms)) => timefmt::duration((ms + 500) / 1000),
        (Kind::Bytes, Value::UInt(n)) => super::bytes(n),
        (Kind::Progress, _) => format!("{}%", super::percent(node)?),
        (Kind::DateTimeText, Value::Str(_)) => match node.as_str()? {
            "" => "(none)".into(),
            text => escape(text).into_owned(),
        },
        (Kind::Text | Kind::Identifier | Kind::Sign | Kind::Choice(_), Value::Str(_)) => {
            escape(node.as_str()?).into_owned()
        }
        (Kind::Array, Value::Array { len: 0, .. }) => "none".into(),
        (Kind::Array, Value::Array { .. }) => escape(&compact_json(node)).into_owned(),
        _ => return None,
    };
    Some(text)
}

impl<W: Write> Printer for HumanPrinter<W> {
    fn callback(&mut self, report: &Report) -> io::Result<()> {
        self.header(report)?;
        self.event_fields(report)?;
        self.envelope(report)?;
        if let Some(message) = super::unmet_message(report) {
            self.out.write_all(b"  ")?;
            self.paint(Style::BoldRed, &["error[unexpected-verdict]"])?;
            writeln!(self.out, " {message}")?;
        }
        self.findings(report)
    }

    fn set_clock(&mut self, now: i64) {
        self.view.now = now;
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        if summary.callbacks > 1 || summary.unreadable > 0 {
            self.out.write_all(b"\n")?;
            let style = if summary.all_passed() { Style::BoldGreen } else { Style::BoldRed };
            self.paint(style, &[&summary_line(summary)])?;
            self.out.write_all(b"\n")?;
        }
        if summary.signatures_checked {
            self.paint(Style::Cyan, &["note:"])?;
            writeln!(self.out, " {BODY_CAVEAT}")?;
        }
        self.out.flush()
    }
}
