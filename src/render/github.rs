//! `--format github`: GitHub Actions workflow commands, so that each finding annotates the
//! fixture file at the offending line of a pull request.
//!
//! One `::error file=…,line=…,col=…,title=…::message` (or `::warning`) line per finding, one per
//! input that could not be read or held no callback, then a plain summary line. Values are escaped as the runner expects (`%`, CR, LF, and in properties
//! `:` and `,`), after control characters were made visible.

use std::io::{self, Write};

use super::{Emitted, Printer, Render, Rendered, summary_line};
use crate::judge::report::{InputProblem, Report, Severity, Summary};
use crate::sanitize::escape;

pub struct GithubPrinter<W> {
    out: W,
    render: GithubRender,
}

/// The annotations of each callback, rendered apart from the printer (see [`Render`]).
#[derive(Default)]
pub struct GithubRender {
    out: Rendered,
}

impl<W: Write> GithubPrinter<W> {
    pub fn new(out: W) -> Self {
        GithubPrinter { out, render: GithubRender::default() }
    }
}

impl GithubRender {
    fn annotate(
        &mut self,
        level: &str,
        report: &Report,
        line: u64,
        column: u64,
        title: &str,
        message: &str,
    ) -> io::Result<()> {
        write!(self.out, "::{level} ")?;
        if report.source != "-" {
            write!(self.out, "file={},", property(report.source))?;
        }
        writeln!(self.out, "line={line},col={column},title={}::{}", property(title), data(message))
    }
}

/// Escapes a message for a workflow command: each line made terminal-safe, then `%`, CR and LF
/// encoded as the runner expects.
fn data(text: &str) -> String {
    let lines: Vec<String> = text.split('\n').map(|line| escape(line).replace('%', "%25")).collect();
    lines.join("%0A")
}

/// Escapes a property value (file, title) for a workflow command.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

impl Render for GithubRender {
    fn render(&mut self, report: &Report) -> io::Result<()> {
        // Under --expect, a callback that met the expectation prints nothing.
        if report.expected.is_some() && report.passed() {
            return Ok(());
        }
        if let Some(unmet) = report.unmet() {
            let title = format!("tiwhook {}", unmet.code);
            self.annotate("error", report, unmet.at.line, unmet.at.column, &title, &unmet.message)?;
        }
        for f in &report.findings {
            let level = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let title = format!("tiwhook {}", f.code);
            let mut message = f.message.clone();
            for help in &f.help {
                message.push_str("\nhelp: ");
                message.push_str(help);
            }
            self.annotate(level, report, f.at.line, f.at.column, &title, &message)?;
        }
        Ok(())
    }

    fn rendered(&mut self) -> &mut Rendered {
        &mut self.out
    }
}

impl<W: Write> Printer for GithubPrinter<W> {
    fn callback(&mut self, report: &Report) -> io::Result<()> {
        super::write_rendered(&mut self.render, report, &mut self.out, &mut Emitted::default())
    }

    fn renderer(&self) -> Option<Box<dyn Render>> {
        Some(Box::new(GithubRender::default()))
    }

    fn emit(&mut self, rendered: &Rendered) -> io::Result<()> {
        rendered.write_to(&mut self.out, &mut Emitted::default())
    }

    fn input_problem(&mut self, problem: &InputProblem) -> io::Result<()> {
        write!(self.out, "::{} ", problem.severity().as_str())?;
        if let Some(source) = problem.source().filter(|s| *s != "-") {
            write!(self.out, "file={},", property(source))?;
        }
        writeln!(
            self.out,
            "title={}::{}",
            property(&format!("tiwhook {}", problem.code())),
            data(&problem.message())
        )
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        writeln!(self.out, "{}", summary_line(summary))?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_escapes() {
        assert_eq!(data("50% done\nnext"), "50%25 done%0Anext");
        assert_eq!(data("a\rb"), "a\\rb");
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
        assert_eq!(data("\u{1b}[2J"), "\\x1b[2J");
    }
}
