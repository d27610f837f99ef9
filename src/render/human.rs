//! `tiwhook inspect`: a detailed view of each callback, for people debugging an integration.
//!
//! A header with the source, the event and the verdict; then the event's fields in the order the
//! event table declares them, times in the chosen zone and durations in words; then the envelope,
//! the signature and its expiry; then the findings. Every string from the callback is escaped.

use std::io::{self, Write};

use colored::{ColoredString, Colorize};

use super::{
    BODY_CAVEAT, Printer, View, compact_json, declared_fields, envelope_field, span, summary_line, unix_time,
};
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
    shown: u64,
}

impl<W: Write> HumanPrinter<W> {
    pub fn new(out: W, view: View) -> Self {
        HumanPrinter { out, view, shown: 0 }
    }

    fn row(&mut self, label: &str, value: impl std::fmt::Display) -> io::Result<()> {
        writeln!(self.out, "  {}  {value}", format!("{label:<LABEL_WIDTH$}").dimmed())
    }

    fn time(&self, seconds: u64) -> String {
        timefmt::local(seconds, &self.view.zone)
    }

    /// A declared field's value as shown; a value of the wrong shape is shown raw, in red.
    fn value(&self, field: &Field, node: Node) -> ColoredString {
        let shown = match (field.kind, node.value()) {
            (Kind::UnixTime, _) => unix_time(node).map(|t| self.time(t)),
            (Kind::Id | Kind::Count, Value::UInt(n)) => Some(n.to_string()),
            (Kind::Text | Kind::Identifier | Kind::Sign, Value::Str(_)) => {
                node.as_str().map(|s| escape(s).into_owned())
            }
            (Kind::Choice(choices), Value::Str(_)) => {
                node.as_str().map(|s| match choices.iter().find(|c| c.value == s) {
                    Some(c) => format!("{}: {}", c.value, c.meaning),
                    None => format!("{} (undocumented)", escape(s)),
                })
            }
            (Kind::Object(fields), Value::Object { .. }) => {
                let parts: Vec<String> = fields
                    .iter()
                    .filter_map(|f| node.get(f.name).map(|n| self.value(f, n).to_string()))
                    .collect();
                Some(parts.join(": "))
            }
            _ => None,
        };
        match shown {
            Some(text) => text.normal(),
            None => format!("{} (invalid)", escape(&compact_json(node))).red(),
        }
    }

    fn header(&mut self, report: &Report) -> io::Result<()> {
        if self.shown > 0 {
            writeln!(self.out)?;
        }
        self.shown += 1;
        let verdict = match report.verdict {
            Verdict::Valid => "✓ valid".green().bold(),
            Verdict::Invalid => "✗ invalid".red().bold(),
        };
        let event = match (report.doc, report.event_type) {
            (None, _) => "not JSON".red(),
            (Some(_), None) => "no event type".red(),
            (Some(_), Some(name)) if report.event.is_none() => {
                format!("{} (unknown event)", escape(name)).yellow()
            }
            (Some(_), Some(name)) => name.bold(),
        };
        let at = format!("{}:{}", escape(report.source), report.start.line);
        writeln!(self.out, "{}  {event}  {verdict}", at.cyan())
    }

    fn event_fields(&mut self, report: &Report) -> io::Result<()> {
        let duration = span(report);
        for (field, node) in declared_fields(report) {
            if let Some(node) = node {
                let value = self.value(field, node);
                self.row(field.label, value)?;
            }
            if let Some((label, _, seconds)) = duration.filter(|(_, after, _)| *after == field.name) {
                self.row(label, timefmt::duration(seconds).bold())?;
            }
        }
        if report.event.is_none()
            && let Some(data) = report.doc.and_then(|d| d.root().get("EventData"))
        {
            for (key, node) in data.members() {
                let shown = match node.as_str() {
                    Some(s) => escape(s).into_owned(),
                    None => escape(&compact_json(node)).into_owned(),
                };
                self.row(&escape(key.as_str()), shown)?;
            }
        }
        Ok(())
    }

    fn envelope(&mut self, report: &Report) -> io::Result<()> {
        if let Some(id) = envelope_field(report, "SdkAppId").map(|n| n.value()) {
            match id {
                Value::UInt(n) => self.row("SdkAppId", n)?,
                _ => self.row("SdkAppId", "(invalid)".red())?,
            }
        }
        if let Some(t) = envelope_field(report, "Timestamp").and_then(unix_time) {
            let time = self.time(t);
            self.row("Event time", time)?;
        }
        let has_sign = envelope_field(report, "Sign").is_some();
        let signature = match report.signature {
            SignatureStatus::Valid { key } => {
                let origin = self.view.key_origins.get(key).map(String::as_str).unwrap_or("?");
                format!("valid (key #{}, {})", key + 1, escape(origin)).green()
            }
            SignatureStatus::Mismatch => {
                let n = self.view.key_origins.len();
                format!("mismatch ({} tried)", super::plural(n as u64, "key", "keys")).red()
            }
            SignatureStatus::Missing => "missing: a key was given, the callback has no Sign".red(),
            SignatureStatus::Malformed => "malformed".red(),
            SignatureStatus::Unchecked if has_sign => {
                "not checked (no key: give --key, --key-file or TIW_CALLBACK_KEY)".yellow()
            }
            SignatureStatus::Unchecked => "none (unsigned callback)".normal(),
        };
        if report.doc.is_some() {
            self.row("Signature", signature)?;
        }
        if let Some(expire) = report.expire_time {
            let age = timefmt::age(expire as i64, self.view.now);
            let when = if report.expired == Some(true) {
                format!("expired {age} ago").yellow()
            } else {
                format!("valid for {age} more").normal()
            };
            let time = self.time(expire);
            self.row("Expires", format!("{time} ({when})"))?;
        }
        Ok(())
    }

    fn findings(&mut self, report: &Report) -> io::Result<()> {
        for f in &report.findings {
            let label = match f.severity {
                Severity::Error => format!("error[{}]", f.code).red().bold(),
                Severity::Warning => format!("warning[{}]", f.code).yellow().bold(),
            };
            let path = if f.path.is_empty() { String::new() } else { format!(" {}", escape(&f.path)) };
            writeln!(
                self.out,
                "  {label}{} {}",
                format!("{path} (line {}, column {}):", f.at.line, f.at.column).dimmed(),
                escape(&f.message)
            )?;
            for help in &f.help {
                writeln!(self.out, "      {}: {}", "help".cyan(), escape(help))?;
            }
        }
        Ok(())
    }
}

impl<W: Write> Printer for HumanPrinter<W> {
    fn callback(&mut self, report: &Report) -> io::Result<()> {
        self.header(report)?;
        self.event_fields(report)?;
        self.envelope(report)?;
        self.findings(report)
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        if summary.callbacks > 1 || summary.unreadable > 0 {
            writeln!(self.out)?;
            let line = summary_line(summary);
            let line = if summary.invalid > 0 || summary.unreadable > 0 { line.red() } else { line.green() };
            writeln!(self.out, "{}", line.bold())?;
        }
        if summary.signatures_checked {
            writeln!(self.out, "{} {BODY_CAVEAT}", "note:".cyan())?;
        }
        self.out.flush()
    }
}
