//! `tiwhook check`: terse, compiler-style lines for CI logs.
//!
//! A callback that passes prints nothing. Each finding is one line,
//! `path:line:column: error[code]: message`, with its help below it (each distinct help once per
//! run; how often it came again is said before the summary), and the run ends with a summary line. Under `--expect`, only the callbacks that did not meet the expectation are shown.

use std::io::{self, Write};

use super::style::{Style, paint};
use super::{Emitted, Printer, Render, Rendered, summary_line};
use crate::judge::report::{Report, Severity, Summary};
use crate::sanitize::escape;

pub struct CheckPrinter<W> {
    out: W,
    render: CheckRender,
    quiet: bool,
    emitted: Emitted,
}

/// The lines of each callback, rendered apart from the printer (see [`Render`]).
pub struct CheckRender {
    out: Rendered,
    color: bool,
}

impl<W: Write> CheckPrinter<W> {
    pub fn new(out: W, color: bool) -> Self {
        let render = CheckRender { out: Rendered::default(), color };
        CheckPrinter { out, render, quiet: false, emitted: Emitted::default() }
    }

    /// With `quiet`, a run where everything passed prints nothing at all (`--quiet`).
    pub fn quiet(self, quiet: bool) -> Self {
        CheckPrinter { quiet, ..self }
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

impl<W: Write> Printer for CheckPrinter<W> {
    fn callback(&mut self, report: &Report) -> io::Result<()> {
        super::write_rendered(&mut self.render, report, &mut self.out, &mut self.emitted)
    }

    fn renderer(&self) -> Option<Box<dyn Render>> {
        Some(Box::new(CheckRender { out: Rendered::default(), color: self.render.color }))
    }

    fn emit(&mut self, rendered: &Rendered) -> io::Result<()> {
        rendered.write_to(&mut self.out, &mut self.emitted)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        if self.quiet && summary.all_passed() {
            return self.out.flush();
        }
        let color = self.render.color;
        self.emitted.helps.write_repeated(&mut self.out, "  = ", color)?;
        let style = if summary.all_passed() { Style::BoldGreen } else { Style::BoldRed };
        paint(&mut self.out, color, style, &[&summary_line(summary)])?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}
