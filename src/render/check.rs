//! `tiwhook check`: terse, compiler-style lines for CI logs.
//!
//! A callback that passes prints nothing. Each finding is one line,
//! `path:line:column: error[code]: message`, with its help below it, and the run ends with a
//! summary line.

use std::io::{self, Write};

use colored::Colorize;

use super::{Printer, summary_line};
use crate::report::{Report, Severity, Summary};
use crate::sanitize::escape;

pub struct CheckPrinter<W> {
    out: W,
}

impl<W: Write> CheckPrinter<W> {
    pub fn new(out: W) -> Self {
        CheckPrinter { out }
    }
}

impl<W: Write> Printer for CheckPrinter<W> {
    fn callback(&mut self, report: &Report) -> io::Result<()> {
        for finding in &report.findings {
            let label = match finding.severity {
                Severity::Error => format!("error[{}]", finding.code).red().bold(),
                Severity::Warning => format!("warning[{}]", finding.code).yellow().bold(),
            };
            writeln!(
                self.out,
                "{}:{}:{}: {label}: {}",
                escape(report.source),
                finding.at.line,
                finding.at.column,
                escape(&finding.message)
            )?;
            for help in &finding.help {
                writeln!(self.out, "  = {}: {}", "help".cyan(), escape(help))?;
            }
        }
        Ok(())
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        let line = summary_line(summary);
        let line = if summary.invalid > 0 || summary.unreadable > 0 { line.red() } else { line.green() };
        writeln!(self.out, "{}", line.bold())?;
        self.out.flush()
    }
}
