//! `tiwhook check`: terse, compiler-style lines for CI logs.
//!
//! A callback that passes prints nothing. Each finding is one line,
//! `path:line:column: error[code]: message`, with its help below it (each distinct help once per
//! run; how often it came again is said before the summary), and the run ends with a summary line. Under `--expect`, only the callbacks that did not meet the expectation are shown.

use std::io::{self, Write};

use super::style::{Style, paint};
use super::{Emitted, Layout, Printing, Render, Rendered, summary_line};
use crate::judge::report::{Report, Severity, Summary};
use crate::sanitize::escape;

/// The printer of `check`.
pub type CheckPrinter<W> = Printing<CheckRender, W>;

/// The lines of each callback, rendered apart from the printer (see [`Render`]).
pub struct CheckRender {
    out: Rendered,
    color: bool,
    quiet: bool,
}

impl<W: Write> CheckPrinter<W> {
    pub fn new(out: W, color: bool) -> Self {
        Printing::with(CheckRender { out: Rendered::default(), color, quiet: false }, out)
    }

    /// With `quiet`, a run where everything passed prints nothing at all (`--quiet`).
    pub fn quiet(self, quiet: bool) -> Self {
        self.adjust(|render| render.quiet = quiet)
    }
}

impl CheckRender {
    fn line(
        &mut self,
        report: &Report,
        line: u64,
        column: u64,
        style: Style,
        label: &[&str],
        message: &str,
    ) -> io::Result<()> {
        let place = format!("{}:{line}:{column}: ", escape(report.source));
        self.out.write_all(place.as_bytes())?;
        paint(&mut self.out, self.color, style, label)?;
        self.out.write_all(b": ")?;
        self.out.write_all(escape(message).as_bytes())?;
        self.out.write_all(b"\n")
    }
}

impl Render for CheckRender {
    fn render(&mut self, report: &Report) -> io::Result<()> {
        // Under --expect, a callback that met the expectation prints nothing.
        if report.expected.is_some() && report.passed() {
            return Ok(());
        }
        if let Some(unmet) = report.unmet() {
            let (line, column) = (unmet.at.line, unmet.at.column);
            self.line(
                report,
                line,
                column,
                Style::BoldRed,
                &["error[", unmet.code.as_str(), "]"],
                &unmet.message,
            )?;
        }
        for finding in &report.findings {
            let (style, severity) = match finding.severity {
                Severity::Error => (Style::BoldRed, "error"),
                Severity::Warning => (Style::BoldYellow, "warning"),
            };
            let (line, column) = (finding.at.line, finding.at.column);
            self.line(
                report,
                line,
                column,
                style,
                &[severity, "[", finding.code.as_str(), "]"],
                &finding.message,
            )?;
            for help in &finding.help {
                let from = self.out.here();
                self.out.write_all(b"  = ")?;
                paint(&mut self.out, self.color, Style::Cyan, &["help"])?;
                self.out.write_all(b": ")?;
                self.out.write_all(escape(help).as_bytes())?;
                self.out.write_all(b"\n")?;
                self.out.mark_help(from, help);
            }
        }
        Ok(())
    }

    fn rendered(&mut self) -> &mut Rendered {
        &mut self.out
    }
}

impl Layout for CheckRender {
    fn fresh(&self) -> Self {
        CheckRender { out: Rendered::default(), ..*self }
    }

    fn finish(&mut self, out: &mut dyn Write, emitted: &Emitted, summary: &Summary) -> io::Result<()> {
        if self.quiet && summary.all_passed() {
            return Ok(());
        }
        emitted.helps.write_repeated(out, "  = ", self.color)?;
        let style = if summary.all_passed() { Style::BoldGreen } else { Style::BoldRed };
        paint(out, self.color, style, &[&summary_line(summary)])?;
        out.write_all(b"\n")
    }
}
