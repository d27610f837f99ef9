//! `--format github`: GitHub Actions workflow commands, so that each finding annotates the
//! fixture file at the offending line of a pull request.
//!
//! One `::error file=…,line=…,col=…,title=…::message` (or `::warning`) line per finding, one per
//! input that could not be read or held no callback, then a plain summary line. Values are escaped as the runner expects (`%`, CR, LF, and in properties
//! `:` and `,`), after control characters were made visible.

use std::io::{self, Write};

use super::{Emitted, Layout, Printing, Render, Rendered, summary_line};
use crate::judge::report::{InputProblem, Report, Severity, Summary};
use crate::sanitize::escape;

/// The printer of `--format github`.
pub type GithubPrinter<W> = Printing<GithubRender, W>;

/// The annotations of each callback, rendered apart from the printer (see [`Render`]).
#[derive(Default)]
pub struct GithubRender {
    out: Rendered,
}

impl<W: Write> GithubPrinter<W> {
    pub fn new(out: W) -> Self {
        Printing::with(GithubRender::default(), out)
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

impl Layout for GithubRender {
    fn fresh(&self) -> Self {
        GithubRender::default()
    }

    fn input_problem(&mut self, out: &mut dyn Write, problem: &InputProblem) -> io::Result<()> {
        write!(out, "::{} ", problem.severity().as_str())?;
        if let Some(source) = problem.source().filter(|s| *s != "-") {
            write!(out, "file={},", property(source))?;
        }
        let title = property(&format!("tiwhook {}", problem.code()));
        writeln!(out, "title={title}::{}", data(&problem.message()))
    }

    fn finish(&mut self, out: &mut dyn Write, _: &Emitted, summary: &Summary) -> io::Result<()> {
        writeln!(out, "{}", summary_line(summary))
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
