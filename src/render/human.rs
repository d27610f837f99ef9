//! `tiwhook inspect`: a detailed view of each callback, for people debugging an integration.
//!
//! A header with the source, the event and the verdict; then the event's fields in the order the
//! event table declares them, times in the chosen zone and durations in words; then the envelope,
//! the signature and its expiry; then the findings. Every string from the callback is escaped.
//! Rows are written straight to the output, so a long stream costs no allocation per field.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::style::{Style, paint};
use super::{Emitted, Layout, Printing, Render, Rendered, View, summary_line, value_text};
use crate::judge::report::{
    DURATION_KEY, Detail, ERROR_KEY, Report, Severity, SignatureStatus, Summary, Value, Verdict,
};
use crate::sanitize::{display_width, escape};
use crate::timefmt;

/// Width of the label column.
const LABEL_WIDTH: usize = 13;

/// The printer of `inspect`'s detailed view.
pub type HumanPrinter<W> = Printing<HumanRender, W>;

/// The view of each callback, rendered apart from the printer (see [`Render`]).
pub struct HumanRender {
    out: Rendered,
    view: View,
    /// Reused for values composed of several parts.
    scratch: String,
    /// The last expiry's age in words, by its ExpireTime and the clock: callbacks sent in the
    /// same second share one, and wording an age on the calendar costs more than its whole row.
    last_age: Option<(u64, i64, String)>,
    /// The signature row's words for each key, `valid (key #1, --key #1)`, made with the view:
    /// a row a callback.
    valid_signatures: Vec<String>,
    quiet: bool,
}

/// The signature row's words for a signature each of `key_origins` verifies.
fn valid_signature_words(key_origins: &[String]) -> Vec<String> {
    let words = |(i, origin): (usize, &String)| format!("valid (key #{}, {})", i + 1, escape(origin));
    key_origins.iter().enumerate().map(words).collect()
}

impl<W: Write> HumanPrinter<W> {
    pub fn new(out: W, view: View) -> Self {
        Printing::with(
            HumanRender {
                out: Rendered::default(),
                valid_signatures: valid_signature_words(&view.key_origins),
                view,
                scratch: String::new(),
                last_age: None,
                quiet: false,
            },
            out,
        )
    }

    /// With `quiet`, no note on what a signature proves, and no summary when all passed.
    pub fn quiet(self, quiet: bool) -> Self {
        self.adjust(|render| render.quiet = quiet)
    }
}

impl HumanRender {
    fn paint<P: AsRef<[u8]>>(&mut self, style: Style, pieces: &[P]) -> io::Result<()> {
        if !self.view.color {
            // Straight onto the text, without `paint`'s writer and its results: two dozen pieces
            // a callback, each of which cost more as a call than as a copy.
            let text = self.out.text();
            pieces.iter().for_each(|piece| text.extend_from_slice(piece.as_ref()));
            return Ok(());
        }
        paint(&mut self.out, true, style, pieces)
    }

    /// A row: the label, dimmed and padded, then the value.
    fn row<P: AsRef<[u8]>>(&mut self, label: &str, style: Style, value: &[P]) -> io::Result<()> {
        self.label(label)?;
        self.paint(style, value)?;
        self.out.text().push(b'\n');
        Ok(())
    }

    /// A row's start: two spaces, the label dimmed and padded, two spaces.
    #[inline(always)]
    fn label(&mut self, label: &str) -> io::Result<()> {
        const SPACES: &str = "                ";
        let ascii = label.is_ascii();
        if !self.view.color && ascii && label.len() <= LABEL_WIDTH {
            // Nothing to paint: the label is put in its padded place on the stack and goes onto
            // the text as one piece of a size known here, instead of four (a dozen rows a
            // callback).
            let mut lead = [b' '; LABEL_WIDTH + 4];
            lead[2..2 + label.len()].copy_from_slice(label.as_bytes());
            self.out.text().extend_from_slice(&lead);
            return Ok(());
        }
        // Padded by the columns the label takes: a key from the callback may be Chinese (教室
        // takes four). Our own labels are ASCII, whose width is their length.
        let width = if ascii { label.len() } else { display_width(label) };
        let pad = LABEL_WIDTH.saturating_sub(width).min(SPACES.len());
        self.out.text().extend_from_slice(b"  ");
        self.paint(Style::Dim, &[label, &SPACES[..pad]])?;
        self.out.text().extend_from_slice(b"  ");
        Ok(())
    }

    /// A row whose value is a time in the chosen zone.
    fn time_row(&mut self, label: &str, seconds: u64, suffix: &str) -> io::Result<()> {
        let mut buf = [0u8; 26];
        match timefmt::write_local_ascii(&mut buf, seconds, &self.view.zone) {
            // Four rows a callback: without color, the time goes on as the fixed-size piece it is.
            Some(time) if !self.view.color => {
                self.label(label)?;
                let text = self.out.text();
                text.extend_from_slice(time);
                text.extend_from_slice(suffix.as_bytes());
                text.push(b'\n');
                Ok(())
            }
            Some(time) => self.row(label, Style::Plain, &[time.as_slice(), suffix.as_bytes()]),
            None => self.row(label, Style::Plain, &[seconds.to_string().as_bytes(), suffix.as_bytes()]),
        }
    }

    /// A field's row; a value of the wrong shape is shown raw, in red. Nothing for a missing one.
    fn field_row(&mut self, detail: &Detail) -> io::Result<()> {
        let label = detail.label();
        match &detail.value {
            Value::Missing => Ok(()),
            Value::Time(t) => self.time_row(label, *t, ""),
            Value::Count(n) => self.row(label, Style::Plain, &[itoa::Buffer::new().format(*n)]),
            Value::Duration(seconds) if detail.key() == DURATION_KEY => {
                let mut buf = [0u8; timefmt::DURATION_BYTES];
                self.row(label, Style::Bold, &[timefmt::write_duration(&mut buf, *seconds)])
            }
            Value::Text("") => self.row(label, Style::Dim, &["(empty)"]),
            Value::Text(text) => self.row(label, Style::Plain, &[&*escape(text)]),
            Value::Choice(choice) => self.row(label, Style::Plain, &[choice.value, ": ", choice.meaning]),
            Value::Undocumented(text) => self.row(label, Style::Yellow, &[&escape(text), " (undocumented)"]),
            Value::Invalid(raw) => self.row(label, Style::Red, &[&escape(raw), " (invalid)"]),
            Value::Rows(rows) => {
                self.row(label, Style::Plain, &[itoa::Buffer::new().format(rows.len())])?;
                self.table(rows)
            }
            Value::Unchecked(unchecked) => {
                for (path, text) in &unchecked.rows {
                    self.row(&escape(path), Style::Plain, &[&*escape(text)])?;
                }
                if unchecked.hidden > 0 {
                    let hidden = format!("{} more values not shown", unchecked.hidden);
                    self.row("…", Style::Dim, &[&hidden])?;
                }
                Ok(())
            }
            value => {
                let text = value_text(value).unwrap_or_default();
                self.row(label, Style::Plain, &[&*escape(&text)])
            }
        }
    }

    /// An array of objects as a table, one row per element, one column per declared field that
    /// any element has.
    fn table(&mut self, rows: &[Option<Box<[Detail]>>]) -> io::Result<()> {
        let objects = || rows.iter().flatten();
        let first: &[Detail] = objects().next().map_or(&[], |row| row);
        let columns: Vec<usize> =
            (0..first.len()).filter(|&i| objects().any(|row| !row[i].value.is_missing())).collect();
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|row| {
                columns
                    .iter()
                    .map(|&i| match row.as_ref().and_then(|r| value_text(&r[i].value)) {
                        Some(text) => escape(&text).into_owned(),
                        None => "-".into(),
                    })
                    .collect()
            })
            .collect();
        let labels: Vec<&str> = columns.iter().map(|&i| first[i].label()).collect();
        let widths: Vec<usize> = labels
            .iter()
            .enumerate()
            .map(|(i, label)| {
                cells.iter().map(|r| display_width(&r[i])).chain([label.len()]).max().unwrap_or(0)
            })
            .collect();
        let line = |cells: &mut dyn Iterator<Item = &str>| -> String {
            let mut text = String::from("    ");
            for (i, cell) in cells.enumerate() {
                if i > 0 {
                    text.push_str("  ");
                }
                text.push_str(cell);
                if i + 1 < widths.len() {
                    text.extend(std::iter::repeat_n(' ', widths[i].saturating_sub(display_width(cell))));
                }
            }
            text
        };
        let header = line(&mut labels.iter().copied());
        self.paint(Style::Dim, &[&header])?;
        self.out.write_all(b"\n")?;
        for row in &cells {
            let text = line(&mut row.iter().map(String::as_str));
            self.out.write_all(text.as_bytes())?;
            self.out.write_all(b"\n")?;
        }
        Ok(())
    }

    fn header(&mut self, report: &Report) -> io::Result<()> {
        let separator = self.out.here();
        self.out.write_all(b"\n")?;
        self.out.mark_separator(separator);
        // The column only where a callback does not start a line (one found in a log).
        let column = report.start.column;
        let (colon, column) = if column > 1 {
            (":", itoa::Buffer::new().format(column).to_string())
        } else {
            ("", String::new())
        };
        self.paint(
            Style::Cyan,
            &[&escape(report.source), ":", itoa::Buffer::new().format(report.start.line), colon, &column],
        )?;
        self.out.write_all(b"  ")?;
        match (report.parsed, report.event_type) {
            (false, _) => self.paint(Style::Red, &["not JSON"])?,
            (true, None) => self.paint(Style::Red, &["no event type"])?,
            (true, Some(name)) if report.event.is_none() => {
                self.paint(Style::Yellow, &[&escape(name), " (unknown event)"])?
            }
            (true, Some(name)) => self.paint(Style::Bold, &[name])?,
        }
        self.out.write_all(b"  ")?;
        match report.verdict {
            Verdict::Valid => self.paint(Style::BoldGreen, &["✓ valid"])?,
            Verdict::Invalid => self.paint(Style::BoldRed, &["✗ invalid"])?,
        }
        // A valid verdict says nothing of a signature nobody checked: say so beside it.
        if report.signature == SignatureStatus::Unchecked {
            self.out.write_all(b"  ")?;
            self.paint(Style::Yellow, &["signature unchecked (no key given)"])?;
        }
        self.out.write_all(b"\n")
    }

    fn event_fields(&mut self, report: &Report) -> io::Result<()> {
        // What went wrong comes first.
        let is_error = |d: &&Detail| d.key() == ERROR_KEY;
        for detail in report.fields.iter().filter(is_error) {
            self.field_row(detail)?;
        }
        for detail in report.fields.iter().filter(|d| !is_error(d)) {
            self.field_row(detail)?;
        }
        Ok(())
    }

    fn envelope(&mut self, report: &Report) -> io::Result<()> {
        if let Some(arrival) = report.arrival {
            let when = arrival.at.map_or_else(
                || escape(&arrival.received_at).into_owned(),
                |t| timefmt::local(t, &self.view.zone),
            );
            self.row("Received", Style::Plain, &[&when, " from ", &escape(&arrival.peer)])?;
        }
        match &report.envelope.sdk_app_id.value {
            Value::Missing => {}
            Value::Count(n) => self.row("SdkAppId", Style::Plain, &[itoa::Buffer::new().format(*n)])?,
            _ => self.row("SdkAppId", Style::Red, &["(invalid)"])?,
        }
        if let Value::Time(t) = report.envelope.event_time.value {
            self.time_row("Event time", t, "")?;
        }
        if !report.parsed {
            return Ok(());
        }
        match report.signature {
            SignatureStatus::Valid { key } => {
                // Worded once for each key, and lent out for the row, not copied.
                let words = std::mem::take(&mut self.valid_signatures);
                let written = match words.get(key) {
                    Some(words) => self.row("Signature", Style::Green, &[words]),
                    None => {
                        let mut number = itoa::Buffer::new();
                        self.row("Signature", Style::Green, &["valid (key #", number.format(key + 1), ", ?)"])
                    }
                };
                self.valid_signatures = words;
                written?
            }
            SignatureStatus::Mismatch => {
                let keys = super::plural(self.view.key_origins.len() as u64, "key", "keys");
                self.row("Signature", Style::Red, &["mismatch (", &keys, " tried)"])?
            }
            SignatureStatus::Missing => {
                self.row("Signature", Style::Red, &["missing: a key was given, the callback has no Sign"])?
            }
            SignatureStatus::Malformed => self.row("Signature", Style::Red, &["malformed"])?,
            SignatureStatus::Unchecked => self.row(
                "Signature",
                Style::Yellow,
                &["not checked (no key: give --key, --key-file or TIW_CALLBACK_KEY)"],
            )?,
            SignatureStatus::Unsigned => {
                self.row("Signature", Style::Plain, &["none (unsigned callback)"])?
            }
        }
        if let Some(expire) = report.expire_time {
            let now = self.view.now;
            let (_, _, age) = match &mut self.last_age {
                Some(last) if last.0 == expire && last.1 == now => last,
                last => last.insert((expire, now, timefmt::age(expire as i64, now))),
            };
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
            self.paint(style, &[severity, "[", f.code.as_str(), "]"])?;
            let path = if f.path.is_empty() { String::new() } else { format!(" {}", escape(&f.path)) };
            let place = format!("{path} (line {}, column {}):", f.at.line, f.at.column);
            self.paint(Style::Dim, &[&place])?;
            self.out.write_all(b" ")?;
            self.out.write_all(escape(&f.message).as_bytes())?;
            self.out.write_all(b"\n")?;
            for help in &f.help {
                let from = self.out.here();
                self.out.write_all(b"      ")?;
                self.paint(Style::Cyan, &["help"])?;
                self.out.write_all(b": ")?;
                self.out.write_all(escape(help).as_bytes())?;
                self.out.write_all(b"\n")?;
                self.out.mark_help(from, help);
            }
        }
        Ok(())
    }
}

impl Render for HumanRender {
    fn render(&mut self, report: &Report) -> io::Result<()> {
        self.header(report)?;
        self.event_fields(report)?;
        self.envelope(report)?;
        if let Some(unmet) = report.unmet() {
            self.out.write_all(b"  ")?;
            self.paint(Style::BoldRed, &["error[", unmet.code.as_str(), "]"])?;
            writeln!(self.out, " {}", unmet.message)?;
        }
        self.findings(report)
    }

    fn rendered(&mut self) -> &mut Rendered {
        &mut self.out
    }
}

impl Layout for HumanRender {
    fn fresh(&self) -> Self {
        let view = self.view.clone();
        HumanRender {
            out: Rendered::default(),
            view,
            scratch: String::new(),
            last_age: None,
            valid_signatures: self.valid_signatures.clone(),
            quiet: self.quiet,
        }
    }

    fn set_clock(&mut self, now: i64) {
        self.view.now = now;
    }

    fn finish(&mut self, out: &mut dyn Write, emitted: &Emitted, summary: &Summary) -> io::Result<()> {
        if self.quiet && summary.all_passed() {
            return Ok(());
        }
        if emitted.helps.repeated().next().is_some() {
            out.write_all(b"\n")?;
            emitted.helps.write_repeated(out, "", self.view.color)?;
        }
        if summary.callbacks > 1 || summary.unreadable > 0 || summary.signatures_unchecked > 0 {
            out.write_all(b"\n")?;
            let style = if summary.all_passed() { Style::BoldGreen } else { Style::BoldRed };
            paint(out, self.view.color, style, &[&summary_line(summary)])?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }
}
