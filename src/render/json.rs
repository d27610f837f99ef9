//! `--format json`: JSON Lines, version 1 of the contract in DESIGN.md.
//!
//! One `{"type":"callback",...}` object per callback, then one `{"type":"summary",...}`. Strings are
//! escaped by JSON's own rules; stdout carries nothing else.

use std::io::{self, Write};

use super::{Printer, percent, span, unix_time};
use crate::events::{ENVELOPE, Field, Kind};
use crate::report::{Finding, Report, Summary};
use crate::tape::{Node, Value, write_json_str};
use crate::timefmt;

pub struct JsonPrinter<W> {
    out: W,
    /// The line being written, reused: one write to `out` per callback.
    line: Vec<u8>,
}

impl<W: Write> JsonPrinter<W> {
    pub fn new(out: W) -> Self {
        JsonPrinter { out, line: Vec::with_capacity(1024) }
    }
}

impl<W: Write> Printer for JsonPrinter<W> {
    fn callback(&mut self, report: &Report) -> io::Result<()> {
        self.line.clear();
        let out = &mut self.line;
        out.write_all(b"{\"type\":\"callback\",\"source\":")?;
        write_json_str(out, report.source)?;
        out.write_all(b",\"index\":")?;
        write_number(out, report.index)?;
        out.write_all(b",\"line\":")?;
        write_number(out, report.start.line)?;
        out.write_all(b",\"event_type\":")?;
        match report.event_type {
            Some(name) => write_json_str(out, name)?,
            None => out.write_all(b"null")?,
        }
        out.write_all(b",\"verdict\":\"")?;
        out.write_all(report.verdict.as_str().as_bytes())?;
        out.write_all(b"\",\"signature\":\"")?;
        out.write_all(report.signature.as_str().as_bytes())?;
        out.write_all(match report.expired {
            Some(true) => b"\",\"expired\":true",
            Some(false) => b"\",\"expired\":false",
            None => b"\",\"expired\":null",
        })?;
        out.write_all(b",\"errors\":")?;
        write_findings(out, report.errors())?;
        out.write_all(b",\"warnings\":")?;
        write_findings(out, report.warnings())?;
        out.write_all(b",\"details\":")?;
        write_details(out, report)?;
        if let Some(expected) = report.expected {
            out.write_all(b",\"expected\":\"")?;
            out.write_all(expected.as_str().as_bytes())?;
            out.write_all(if report.passed() { b"\",\"met\":true" } else { b"\",\"met\":false" })?;
        }
        out.write_all(b"}\n")?;
        self.out.write_all(&self.line)
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        write!(
            self.out,
            "{{\"type\":\"summary\",\"callbacks\":{},\"valid\":{},\"invalid\":{},\"warnings\":{},\"sources\":{},\"unreadable\":{}",
            summary.callbacks,
            summary.valid,
            summary.invalid,
            summary.warnings,
            summary.sources,
            summary.unreadable
        )?;
        if let Some(expected) = summary.expected {
            write!(self.out, ",\"expected\":\"{}\",\"unmet\":{}", expected.as_str(), summary.unmet)?;
        }
        writeln!(self.out, "}}")?;
        self.out.flush()
    }
}

fn write_number(out: &mut (impl Write + ?Sized), n: u64) -> io::Result<()> {
    out.write_all(itoa::Buffer::new().format(n).as_bytes())
}

fn write_findings<'r>(out: &mut impl Write, findings: impl Iterator<Item = &'r Finding>) -> io::Result<()> {
    out.write_all(b"[")?;
    for (i, f) in findings.enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write!(out, "{{\"code\":\"{}\",\"path\":", f.code)?;
        write_json_str(out, &f.path)?;
        out.write_all(b",\"message\":")?;
        write_json_str(out, &f.message)?;
        write!(out, ",\"line\":{},\"column\":{}}}", f.at.line, f.at.column)?;
    }
    out.write_all(b"]")
}

/// The event's fields, normalised: times as RFC 3339 in UTC, durations in seconds; `null` for a
/// field that is missing or not of its declared type.
fn write_details(out: &mut Vec<u8>, report: &Report) -> io::Result<()> {
    let Some(doc) = report.doc else {
        return out.write_all(b"null");
    };
    let mut separator = b"{".as_slice();
    let mut key = |out: &mut Vec<u8>, name: &str| -> io::Result<()> {
        out.write_all(std::mem::replace(&mut separator, b","))?;
        out.write_all(b"\"")?;
        out.write_all(name.as_bytes())?;
        out.write_all(b"\":")
    };
    let duration = span(report);
    for (field, node) in report.event_fields() {
        key(out, field.detail)?;
        write_value(out, field, node)?;
        if let Some((_, _, seconds)) = duration.filter(|(_, after, _)| *after == field.name) {
            key(out, "duration_seconds")?;
            write_number(out, seconds)?;
        }
    }
    if report.event.is_none()
        && let Some(data) = doc.root().get("EventData")
    {
        key(out, "event_data")?;
        data.write_json(out)?;
    }
    for field in ENVELOPE.iter().filter(|f| matches!(f.name, "SdkAppId" | "Timestamp" | "ExpireTime")) {
        key(out, field.detail)?;
        write_value(out, field, report.envelope_field(field.name))?;
    }
    out.write_all(if std::mem::take(&mut separator) == b"{" { b"{}" } else { b"}" })
}

fn write_value(out: &mut (impl Write + ?Sized), field: &Field, node: Option<Node>) -> io::Result<()> {
    let Some(node) = node else {
        return out.write_all(b"null");
    };
    match field.kind {
        Kind::UnixTime => {
            let mut buf = [0u8; 20];
            match unix_time(node).and_then(|t| timefmt::write_rfc3339(&mut buf, t)) {
                Some(text) => {
                    out.write_all(b"\"")?;
                    out.write_all(text.as_bytes())?;
                    out.write_all(b"\"")
                }
                None => out.write_all(b"null"),
            }
        }
        Kind::Id | Kind::Count | Kind::Milliseconds | Kind::Bytes => match node.value() {
            Value::UInt(n) => write_number(out, n),
            _ => out.write_all(b"null"),
        },
        Kind::Integer => match node.value() {
            Value::UInt(n) => write_number(out, n),
            Value::Int(n) => out.write_all(itoa::Buffer::new().format(n).as_bytes()),
            _ => out.write_all(b"null"),
        },
        Kind::Progress => match percent(node) {
            Some(n) => write_number(out, n),
            None => out.write_all(b"null"),
        },
        Kind::Text | Kind::Identifier | Kind::Choice(_) | Kind::Sign | Kind::DateTimeText => {
            match node.value() {
                Value::Str(_) => node.write_json(out),
                _ => out.write_all(b"null"),
            }
        }
        Kind::Object(fields) if node.is_object() => write_object(out, fields, node),
        Kind::ArrayOf(fields) if matches!(node.value(), Value::Array { .. }) => {
            out.write_all(b"[")?;
            for (i, element) in node.elements().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                if element.is_object() {
                    write_object(out, fields, element)?;
                } else {
                    out.write_all(b"null")?;
                }
            }
            out.write_all(b"]")
        }
        Kind::Object(_) | Kind::ArrayOf(_) => out.write_all(b"null"),
        Kind::EventData | Kind::Array => node.write_json(out),
    }
}

/// An object's declared fields, normalised, under their detail keys.
fn write_object(out: &mut (impl Write + ?Sized), fields: &[Field], node: Node) -> io::Result<()> {
    out.write_all(b"{")?;
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        out.write_all(b"\"")?;
        out.write_all(f.detail.as_bytes())?;
        out.write_all(b"\":")?;
        write_value(out, f, node.get(f.name))?;
    }
    out.write_all(b"}")
}
