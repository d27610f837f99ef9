//! `--compact` (`-c`): one line per callback, valid ones included, for watching a stream
//! (`tail -f … | tiwhook -c`) and for `listen`.
//!
//! `2025-11-25 12:00:01  ✓ WhiteboardPushStopped  task cq5v8kl2…  room 880528  1h 02m 05s USER_CALL  sign valid`,
//! and the codes of any findings. The time is when the callback arrived (a capture line's, or
//! `listen`'s clock, which shows only the time of day) or else its event time. Strings from the
//! callback are escaped.

use std::io::{self, Write};

use super::style::{Style, paint};
use super::{Emitted, Layout, Printing, Render, Rendered, View, summary_line};
use crate::judge::report::{Report, Summary, Value, Verdict};
use crate::sanitize::escape;
use crate::timefmt;

/// The printer of `--compact`.
pub type CompactPrinter<W> = Printing<CompactRender, W>;

/// The line of each callback, rendered apart from the printer (see [`Render`]).
pub struct CompactRender {
    out: Rendered,
    view: View,
    /// A receiver's clock: the time of day each callback arrived.
    clock: Option<i64>,
    quiet: bool,
}

impl<W: Write> CompactPrinter<W> {
    pub fn new(out: W, view: View) -> Self {
        Printing::with(CompactRender { out: Rendered::default(), view, clock: None, quiet: false }, out)
    }

    /// With `quiet`, no summary when all passed (`--quiet`).
    pub fn quiet(self, quiet: bool) -> Self {
        self.adjust(|render| render.quiet = quiet)
    }
}

impl CompactRender {
    /// When the callback arrived, or else when its event happened, as the line starts with.
    fn when(&self, report: &Report) -> String {
        if let Some(now) = self.clock {
            let clock = timefmt::local(now.max(0) as u64, &self.view.zone);
            return clock.get(11..19).unwrap_or(&clock).to_string();
        }
        let arrived = report.arrival.and_then(|a| a.at);
        let event = match report.envelope.event_time.value {
            Value::Time(t) => Some(t),
            _ => None,
        };
        match arrived.or(event) {
            Some(seconds) => {
                let text = timefmt::local(seconds, &self.view.zone);
                text.get(..19).unwrap_or(&text).to_string()
            }
            None => "-".repeat(19),
        }
    }
}

impl Render for CompactRender {
    fn render(&mut self, report: &Report) -> io::Result<()> {
        let mut line = format!("{}  ", self.when(report));
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
        self.out.write_all(b"\n")
    }

    fn rendered(&mut self) -> &mut Rendered {
        &mut self.out
    }
}

impl Layout for CompactRender {
    fn fresh(&self) -> Self {
        let CompactRender { view, clock, quiet, .. } = self;
        CompactRender { out: Rendered::default(), view: view.clone(), clock: *clock, quiet: *quiet }
    }

    fn set_clock(&mut self, now: i64) {
        self.view.now = now;
        self.clock = Some(now);
    }

    /// A line is shown as soon as it is rendered (`tail -f … | tiwhook -c`).
    fn flushes_each(&self) -> bool {
        true
    }

    fn finish(&mut self, out: &mut dyn Write, _: &Emitted, summary: &Summary) -> io::Result<()> {
        if self.quiet && summary.all_passed() {
            return Ok(());
        }
        writeln!(out, "{}", summary_line(summary))
    }
}
