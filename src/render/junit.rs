//! `--format junit`: a JUnit XML report for GitLab, Jenkins and the like.
//!
//! One `testsuite` per source and one `testcase` per callback, named by source and index; a
//! failed callback has a `failure` listing its findings, a passing one's warnings go to
//! `system-out`. An input that could not be read (or a run that found no callback) is a test case
//! with an `error`, an input that held none a `skipped` one, so the report accounts for every
//! input. The counts come first in the XML, so the report is written at the end.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::Printer;
use crate::judge::report::{InputProblem, Report, Severity, Summary};
use crate::sanitize::escape;

pub struct JunitPrinter<W> {
    out: W,
    suites: Vec<Suite>,
}

struct Suite {
    name: String,
    cases: String,
    tests: u64,
    failures: u64,
    errors: u64,
    skipped: u64,
}

impl<W: Write> JunitPrinter<W> {
    pub fn new(out: W) -> Self {
        JunitPrinter { out, suites: Vec::new() }
    }
}

/// Text made safe for XML 1.0: control characters shown escaped (line feeds kept), markup
/// characters as entities.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let lines: Vec<_> = text.split('\n').map(escape).collect();
    for c in lines.join("\n").chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\u{fffe}' | '\u{ffff}' => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

impl<W: Write> Printer for JunitPrinter<W> {
    fn callback(&mut self, report: &Report) -> io::Result<()> {
        if self.suites.last().is_none_or(|s| s.name != report.source) {
            let name = report.source.to_string();
            self.suites.push(Suite {
                name,
                cases: String::new(),
                tests: 0,
                failures: 0,
                errors: 0,
                skipped: 0,
            });
        }
        let Some(suite) = self.suites.last_mut() else { return Ok(()) };
        suite.tests += 1;
        let event = report.event_type.unwrap_or("not JSON");
        let name = format!("{}#{} (line {}) {event}", report.source, report.index, report.start.line);
        let _ =
            write!(suite.cases, "    <testcase classname=\"{}\" name=\"{}\"", xml(report.source), xml(&name));
        let mut lines = String::new();
        let unmet = report.unmet();
        if let Some(unmet) = &unmet {
            let _ = writeln!(lines, "{}", unmet.message);
        }
        for f in &report.findings {
            // The pointer only when there is one: the whole document's is empty.
            let path = if f.path.is_empty() { String::new() } else { format!(" {}", f.path) };
            let _ = writeln!(
                lines,
                "{}:{}: {}[{}]{path}: {}",
                f.at.line,
                f.at.column,
                f.severity.as_str(),
                f.code,
                f.message
            );
        }
        if report.passed() {
            if lines.is_empty() {
                suite.cases.push_str("/>\n");
            } else {
                let _ = write!(
                    suite.cases,
                    ">\n      <system-out>{}</system-out>\n    </testcase>\n",
                    xml(&lines)
                );
            }
            return Ok(());
        }
        suite.failures += 1;
        let first =
            report.findings.iter().find(|f| f.severity == Severity::Error).or(report.findings.first());
        let (kind, message) = match (unmet, first) {
            (Some(unmet), _) => (unmet.code.to_string(), unmet.message),
            (None, Some(f)) => (f.code.to_string(), f.message.clone()),
            (None, None) => ("invalid".to_string(), "invalid".to_string()),
        };
        let _ = write!(
            suite.cases,
            ">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>\n",
            xml(&kind),
            xml(&message),
            xml(&lines)
        );
        Ok(())
    }

    /// An input problem is a test case of its own, in a suite named after the input: an error
    /// case for what could not be checked, a skipped one for an input that held nothing.
    fn input_problem(&mut self, problem: &InputProblem) -> io::Result<()> {
        let name = problem.source().unwrap_or("tiwhook").to_string();
        let message = xml(&problem.message());
        let code = problem.code();
        let case = match problem {
            InputProblem::Empty { .. } => format!(
                "    <testcase classname=\"{0}\" name=\"{0} ({code})\">\n      <skipped message=\"{message}\"/>\n    </testcase>\n",
                xml(&name)
            ),
            _ => format!(
                "    <testcase classname=\"{0}\" name=\"{0} ({code})\">\n      <error type=\"{code}\" message=\"{message}\">{message}</error>\n    </testcase>\n",
                xml(&name)
            ),
        };
        let (errors, skipped) = match problem {
            InputProblem::Empty { .. } => (0, 1),
            _ => (1, 0),
        };
        self.suites.push(Suite { name, cases: case, tests: 1, failures: 0, errors, skipped });
        Ok(())
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        let failures: u64 = self.suites.iter().map(|s| s.failures).sum();
        let errors: u64 = self.suites.iter().map(|s| s.errors).sum();
        writeln!(self.out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
        writeln!(
            self.out,
            "<testsuites name=\"tiwhook\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\">",
            self.suites.iter().map(|s| s.tests).sum::<u64>()
        )?;
        for suite in &self.suites {
            writeln!(
                self.out,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
                xml(&suite.name),
                suite.tests,
                suite.failures,
                suite.errors,
                suite.skipped
            )?;
            self.out.write_all(suite.cases.as_bytes())?;
            writeln!(self.out, "  </testsuite>")?;
        }
        writeln!(self.out, "</testsuites>")?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_markup_and_controls() {
        assert_eq!(xml("a<b & \"c\"\u{1b}\nx"), "a&lt;b &amp; &quot;c&quot;\\x1b\nx");
    }
}
