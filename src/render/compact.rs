//! `listen --compact`: one line per callback, for busy streams.
//!
//! `12:00:01  ✓ WhiteboardPushStopped  task cq5v8kl2…  room 880528  1h 02m 05s USER_CALL  sign valid`,
//! and the codes of any findings. Strings from the callback are escaped.

use std::io::{self, Write};

use super::style::{Style, paint};
use super::{Printer, View, summary_line};
use crate::judge::report::{Report, Summary, Verdict};
use crate::sanitize::escape;
use crate::timefmt;

pub struct CompactPrinter<W> {
    out: W,
    view: View,
}

impl<W: Write> CompactPrinter<W> {
    pub fn new(out: W, view: View) -> Self {
        CompactPrinter { out, view }
    }
}

impl<W: Write> Printer for CompactPrinter<W> {
    fn callback(&mut self, report: &Report) -> io::Result<()> {
        let clock = timefmt::local(self.view.now.max(0) as u64, &self.view.zone);
        let mut line = format!("{}  ", clock.get(11..19).unwrap_or(&clock));
        self.out.write_all(line.as_bytes())?;
        line.clear();
        match report.verdict {
            Verdict::Valid => paint(&mut self.out, self.view.color, Style::BoldGreen, &["✓"])?,
            Verdict::Invalid => paint(&mut self.out, self.view.color, Style::BoldRed, &["✗"])?,
        }
        let event = report.event_type.map_or("(not JSON)".into(), escape);
        line.push_str(&format!(" {event}"));
        let text = |key: &str| report.field(key).as_text().map(|s| escape(s).into_owned());
        if let Some(task) = text("task_id") {
            line.push_str(&format!("  task {task}"));
        }
        if let Some(room) = report.field("room_id").as_number() {
            line.push_str(&format!("  room {room}"));
        }
        if let Some((_, seconds)) = report.span() {
            line.push_str(&format!("  {}", timefmt::duration(seconds)));
        }
        if let Some(reason) = text("finish_reason") {
            line.push_str(&format!(" {reason}"));
        }
        if report.parsed {
            line.push_str(&format!("  sign {}", report.signature.as_str()));
        }
        if report.expired == Some(true) {
            line.push_str(" (expired)");
        }
        self.out.write_all(line.as_bytes())?;
        let codes: Vec<String> =
            report.findings.iter().map(|f| format!("{}[{}]", f.severity.as_str(), f.code)).collect();
        if !codes.is_empty() {
            self.out.write_all(b"  ")?;
            let style = if report.verdict == Verdict::Valid { Style::Yellow } else { Style::Red };
            paint(&mut self.out, self.view.color, style, &[&codes.join(" ")])?;
        }
        self.out.write_all(b"\n")?;
        self.out.flush()
    }

    fn set_clock(&mut self, now: i64) {
        self.view.now = now;
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        writeln!(self.out, "{}", summary_line(summary))?;
        self.out.flush()
    }
}
