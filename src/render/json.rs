//! `--format json`: JSON Lines, version 1 of the contract in [`super::contract`].
//!
//! One `{"type":"callback",...}` line per callback, an `unreadable`, `empty_input` or
//! `no_callbacks` line for each input problem, then one `{"type":"summary",...}`. Each line
//! is written to the output in one piece; stdout carries nothing else.

use std::io::{self, Write};

use super::contract::{CallbackLine, Line, SummaryLine};
use super::{Emitted, Layout, Printing, Render, Rendered};
use crate::judge::report::{InputProblem, Report, Summary};

/// The printer of `--format json`.
pub type JsonPrinter<W> = Printing<JsonRender, W>;

impl<W: Write> JsonPrinter<W> {
    pub fn new(out: W) -> Self {
        Printing::with(JsonRender::default(), out)
    }
}

/// Callback lines, rendered apart from the printer (see [`Render`]).
#[derive(Default)]
pub struct JsonRender {
    out: Rendered,
}

impl Render for JsonRender {
    fn render(&mut self, report: &Report) -> io::Result<()> {
        CallbackLine::new(report).write_fast(self.out.text());
        Ok(())
    }

    fn rendered(&mut self) -> &mut Rendered {
        &mut self.out
    }
}

impl Layout for JsonRender {
    fn fresh(&self) -> Self {
        JsonRender::default()
    }

    fn input_problem(&mut self, out: &mut dyn Write, problem: &InputProblem) -> io::Result<()> {
        write_line(out, &Line::of_problem(problem))
    }

    fn finish(&mut self, out: &mut dyn Write, _: &Emitted, summary: &Summary) -> io::Result<()> {
        write_line(out, &Line::Summary(SummaryLine::new(summary)))
    }
}

/// Writes `line` to `out` in one piece.
fn write_line(out: &mut dyn Write, line: &Line) -> io::Result<()> {
    let mut text = Vec::with_capacity(256);
    line.write_to(&mut text)?;
    out.write_all(&text)
}
