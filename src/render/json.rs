//! `--format json`: JSON Lines, version 1 of the contract in [`super::contract`].
//!
//! One `{"type":"callback",...}` line per callback, an `unreadable`, `empty_input` or
//! `no_callbacks` line for each input problem, then one `{"type":"summary",...}`. Each line
//! is written to the output in one piece; stdout carries nothing else.

use std::io::{self, Write};

use super::contract::{CallbackLine, Line, SummaryLine};
use super::{Emitted, Printer, Render, Rendered};
use crate::judge::report::{InputProblem, Report, Summary};

pub struct JsonPrinter<W> {
    out: W,
    /// The line being written, reused: one write to `out` per callback.
    line: Vec<u8>,
}

impl<W: Write> JsonPrinter<W> {
    pub fn new(out: W) -> Self {
        JsonPrinter { out, line: Vec::with_capacity(1024) }
    }

    fn write(&mut self, line: &Line) -> io::Result<()> {
        self.line.clear();
        line.write_to(&mut self.line)?;
        self.out.write_all(&self.line)
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

impl<W: Write> Printer for JsonPrinter<W> {
    fn callback(&mut self, report: &Report) -> io::Result<()> {
        self.line.clear();
        CallbackLine::new(report).write_fast(&mut self.line);
        self.out.write_all(&self.line)
    }

    fn renderer(&self) -> Option<Box<dyn Render>> {
        Some(Box::new(JsonRender::default()))
    }

    fn emit(&mut self, rendered: &Rendered) -> io::Result<()> {
        rendered.write_to(&mut self.out, &mut Emitted::default())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn input_problem(&mut self, problem: &InputProblem) -> io::Result<()> {
        self.write(&Line::of_problem(problem))
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.write(&Line::Summary(SummaryLine::new(summary)))?;
        self.out.flush()
    }
}
