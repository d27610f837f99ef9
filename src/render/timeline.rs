//! `tiwhook timeline`: tasks across a stream, as a table with a bar chart, or as JSON Lines.
//!
//! As a [`Printer`], it takes every report: invalid callbacks are told on the diagnostics stream
//! (as `check` lines) and left out; valid ones feed the [`Timeline`]. Everything is written at the
//! end, when the tasks are known: one row per task in start order, with a bar on a time axis
//! shared by all rows and fitted to the width, then the totals.

use std::io::{self, Write};

use super::check::CheckPrinter;
use super::contract::{Line, TASK_FIELDS, TaskLine, TotalsLine};
use super::style::{Style, paint};
use super::{Printer, Render, Rendered, plural};
use crate::judge::report::{Report, Summary};
use crate::judge::tasks::{FinishReason, State, Task, TaskCallback, Timeline, Totals, totals};
use crate::sanitize::{display_width, escape};
use crate::timefmt;

/// How the tasks are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimelineView {
    /// A table with a bar chart, then the totals.
    Chart,
    /// JSON Lines: one `task` line per task, then `totals`.
    Json,
    /// CSV: a header, then one row per task.
    Csv,
}

/// What to show.
#[derive(Clone, Debug)]
pub struct TimelineOptions {
    pub view: TimelineView,
    /// Only tasks in this room.
    pub room: Option<u64>,
    /// Only tasks that overlap this window (Unix seconds).
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// Columns the human view fits in.
    pub width: usize,
    pub zone: jiff::tz::TimeZone,
    /// The clock: running tasks reach to it.
    pub now: i64,
    /// Whether to color, as decided for the run.
    pub color: bool,
}

pub struct TimelinePrinter<W, E: Write> {
    out: W,
    invalid: CheckPrinter<E>,
    options: TimelineOptions,
    timeline: Timeline,
    color: bool,
}

impl<W: Write, E: Write> TimelinePrinter<W, E> {
    pub fn new(out: W, diagnostics: E, options: TimelineOptions) -> Self {
        TimelinePrinter {
            out,
            invalid: CheckPrinter::new(diagnostics, options.color),
            color: options.color,
            options,
            timeline: Timeline::default(),
        }
    }
}

/// The tasks the options select, in start order.
fn selected<'t>(timeline: &'t Timeline, o: &TimelineOptions) -> Vec<&'t Task> {
    timeline
        .tasks()
        .into_iter()
        .filter(|t| o.room.is_none_or(|room| t.room == Some(room)))
        .filter(|t| {
            let begins = t.begins() as i64;
            let ends = if t.state() == State::Running {
                o.now.max(begins)
            } else {
                t.stop.unwrap_or(t.begins()) as i64
            };
            o.since.is_none_or(|since| ends >= since) && o.until.is_none_or(|until| begins <= until)
        })
        .collect()
}

/// One JSON line per task, then the totals.
fn json(out: &mut impl Write, tasks: &[&Task], totals: &Totals, invalid: u64) -> io::Result<()> {
    let mut line = Vec::with_capacity(512);
    for task in tasks {
        let running = task.state() == State::Running;
        line.clear();
        Line::Task(TaskLine {
            task_id: &task.id,
            kind: task.kind.as_str(),
            room_id: task.room,
            state: task.state().as_str(),
            start: task.start,
            stop: if running { None } else { task.stop },
            duration_seconds: if running { None } else { task.duration() },
            finish_reason: task.finish_reason.as_ref().map(FinishReason::as_str),
            callbacks: task.callbacks,
            duplicates: task.duplicates,
            warnings: task.warnings.iter().map(|w| w.text(timefmt::rfc3339)).collect(),
        })
        .write_to(&mut line)?;
        out.write_all(&line)?;
    }
    line.clear();
    Line::Totals(TotalsLine::new(totals, invalid)).write_to(&mut line)?;
    out.write_all(&line)
}

/// A header row, then one row per task: times in RFC 3339 (UTC), empty cells for what is not
/// known (a running task has no stop and no duration).
fn csv(out: &mut impl Write, tasks: &[&Task]) -> io::Result<()> {
    // The columns are the members of a JSON `task` line, but its type and warnings.
    let columns: Vec<&str> =
        TASK_FIELDS.iter().copied().filter(|f| !matches!(*f, "type" | "warnings")).collect();
    writeln!(out, "{}", columns.join(","))?;
    let number = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
    let time = |t: Option<u64>| t.map(timefmt::rfc3339).unwrap_or_default();
    for task in tasks {
        let running = task.state() == State::Running;
        let cells = [
            csv_text(&task.id),
            task.kind.as_str().to_string(),
            number(task.room),
            task.state().as_str().to_string(),
            time(task.start),
            if running { String::new() } else { time(task.stop) },
            if running { String::new() } else { number(task.duration()) },
            task.finish_reason.as_ref().map(|r| csv_text(r.as_str())).unwrap_or_default(),
            task.callbacks.to_string(),
            task.duplicates.to_string(),
        ];
        writeln!(out, "{}", cells.join(","))?;
    }
    Ok(())
}

/// Text from a callback as a CSV cell: quoted when it holds a comma, a quote or a line break, and
/// kept from being read as a formula by a spreadsheet (a leading `=`, `+`, `-`, `@`, tab or
/// carriage return gets a `'` before it).
fn csv_text(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text }
}

/// `text` broken at spaces into lines no wider than `width` (a word longer than that stands on
/// its own line), each line after the first starting with `indent`.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line_width = 0;
    for (n, word) in text.split(' ').enumerate() {
        let word_width = display_width(word);
        if n > 0 && line_width + 1 + word_width > width && line_width > display_width(indent) {
            out.push('\n');
            out.push_str(indent);
            line_width = display_width(indent);
        } else if n > 0 {
            out.push(' ');
            line_width += 1;
        }
        out.push_str(word);
        line_width += word_width;
    }
    out
}

/// Columns a chart needs at least; with fewer, it steps aside and the table is shown alone.
const MIN_BAR: usize = 12;

/// How the tasks are laid out in the width there is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// The table, and a bar per task on an axis `bar_width` columns wide.
    Chart { bar_width: usize },
    /// The table alone.
    Table,
    /// Two lines per task, for a terminal narrower than the table.
    Narrow,
}

/// The table with its bar chart, then the totals.
fn human(
    out: &mut impl Write,
    color: bool,
    o: &TimelineOptions,
    tasks: &[&Task],
    totals: &Totals,
    invalid: u64,
) -> io::Result<()> {
    // Running tasks reach the clock, or `--until` when that comes first.
    let clock = o.until.map_or(o.now, |until| until.min(o.now));
    let axis_start = tasks.iter().map(|t| t.begins() as i64).min().unwrap_or(clock);
    let data_end = tasks.iter().map(|t| t.stop.unwrap_or(t.begins()) as i64).max().unwrap_or(clock);
    let running = tasks.iter().filter(|t| t.state() == State::Running).count() as u64;
    let axis_end = if running > 0 { data_end.max(clock) } else { data_end }.max(axis_start + 1);
    // Times show their date; across years, their year too.
    let year = |t: i64| timefmt::local(t.max(0) as u64, &o.zone).get(0..4).map(str::to_string);
    let from = if year(axis_start) == year(axis_end) { 5 } else { 0 };
    let short = |t: u64| {
        let full = timefmt::local(t, &o.zone);
        full.get(from..19).unwrap_or(&full).to_string()
    };
    let rows: Vec<[String; 7]> = tasks
        .iter()
        .map(|t| {
            let running = t.state() == State::Running;
            [
                escape(&t.id).into_owned(),
                t.room.map_or("-".into(), |r| r.to_string()),
                t.start.map_or("-".into(), short),
                if running { "-".into() } else { t.stop.map_or("-".into(), short) },
                if running { "running".into() } else { t.duration().map_or("-".into(), timefmt::duration) },
                t.finish_reason.as_ref().map_or("-".into(), |r| escape(r.as_str()).into_owned()),
                t.state().as_str().into(),
            ]
        })
        .collect();
    let headers = ["Task", "Room", "Start", "Stop", "Duration", "Finish", "State"];
    let widths: Vec<usize> = (0..7)
        .map(|i| rows.iter().map(|r| display_width(&r[i])).chain([headers[i].len()]).max().unwrap_or(0))
        .collect();
    let fixed: usize = widths.iter().map(|w| w + 2).sum();
    let zone_offset = timefmt::local(axis_start.max(0) as u64, &o.zone);
    let zone_offset = zone_offset.get(20..).unwrap_or("");
    let axis =
        format!("{} .. {} ({zone_offset})", short(axis_start.max(0) as u64), short(axis_end.max(0) as u64));
    // The chart takes what the table leaves of the width; when that is too little, it steps
    // aside, and when the table itself does not fit, each task takes two lines.
    let layout = if fixed + MIN_BAR <= o.width {
        Layout::Chart { bar_width: o.width - fixed }
    } else if fixed <= o.width + 2 {
        Layout::Table
    } else {
        Layout::Narrow
    };
    let pad = |line: &mut String, cell: &str, i: usize| {
        line.push_str(cell);
        line.extend(std::iter::repeat_n(' ', widths[i].saturating_sub(display_width(cell)) + 2));
    };
    match layout {
        Layout::Narrow => {
            let header = format!("Task  Room  State  Finish\n    Start .. Stop  Duration  ({zone_offset})");
            paint(out, color, Style::Dim, &[&header])?;
            out.write_all(b"\n")?;
            for row in &rows {
                writeln!(out, "{}  {}  {}  {}", row[0], row[1], row[6], row[5])?;
                writeln!(out, "    {} .. {}  {}", row[2], row[3], row[4])?;
            }
        }
        Layout::Table | Layout::Chart { .. } => {
            let mut header = String::new();
            for (i, h) in headers.iter().enumerate() {
                pad(&mut header, h, i);
            }
            if let Layout::Chart { bar_width } = layout {
                if display_width(&axis) <= bar_width {
                    header.push_str(&axis);
                } else {
                    // The axis's ends on a line of their own, where the chart starts.
                    let above =
                        format!("{}{axis}", " ".repeat(fixed.min(o.width.saturating_sub(axis.len()))));
                    paint(out, color, Style::Dim, &[&above])?;
                    out.write_all(b"\n")?;
                }
            }
            paint(out, color, Style::Dim, &[header.trim_end()])?;
            out.write_all(b"\n")?;
            for (task, row) in tasks.iter().zip(&rows) {
                let mut line = String::new();
                for (i, cell) in row.iter().enumerate() {
                    pad(&mut line, cell, i);
                }
                let Layout::Chart { bar_width } = layout else {
                    writeln!(out, "{}", line.trim_end())?;
                    continue;
                };
                out.write_all(line.as_bytes())?;
                let column = |t: i64| {
                    ((t - axis_start) as f64 / (axis_end - axis_start) as f64 * (bar_width - 1) as f64)
                        .round() as usize
                };
                let begins = task.begins() as i64;
                let ends = if task.state() == State::Running {
                    clock.max(begins)
                } else {
                    task.stop.map_or(begins, |s| s as i64)
                };
                let (from, to) = (column(begins).min(bar_width - 1), column(ends).min(bar_width - 1));
                let (style, glyph) = match (task.state(), &task.finish_reason) {
                    (State::Running, _) => (Style::Yellow, '>'),
                    (_, Some(FinishReason::Exception)) => (Style::Red, '!'),
                    (_, Some(FinishReason::UserCall)) => (Style::Green, '='),
                    (_, Some(FinishReason::Auto)) => (Style::Cyan, '-'),
                    _ => (Style::Plain, '#'),
                };
                let glyph = if color { '█' } else { glyph };
                let bar: String = std::iter::repeat_n(glyph, to.saturating_sub(from) + 1).collect();
                out.write_all(" ".repeat(from).as_bytes())?;
                paint(out, color, style, &[&bar])?;
                out.write_all(b"\n")?;
            }
        }
    }
    // Data from long ago with tasks still running: most of the axis is the wait for the clock.
    let stretched = clock - data_end;
    if running > 0 && o.until.is_none() && stretched > (2 * (data_end - axis_start)).max(86_400) {
        let last = timefmt::rfc3339(data_end.max(0) as u64);
        let note = format!(
            "note: the axis runs on to --now ({}), {} after the last callback, because {} still running; \
             --until {last} ends it at the last callback",
            timefmt::local(clock.max(0) as u64, &o.zone),
            timefmt::age(data_end, clock),
            if running == 1 { "1 task is".to_string() } else { format!("{running} tasks are") },
        );
        paint(out, color, Style::Dim, &[&wrap(&note, o.width, "  ")])?;
        out.write_all(b"\n")?;
    }
    out.write_all(b"\n")?;
    let mut line = format!(
        "{}: {} finished, {} running, {} stop-only; {}",
        plural(totals.tasks, "task", "tasks"),
        totals.finished,
        totals.running,
        totals.stop_only,
        plural(totals.duplicates, "duplicate delivery", "duplicate deliveries")
    );
    if invalid > 0 {
        line.push_str(&format!("; {} left out", plural(invalid, "invalid callback", "invalid callbacks")));
    }
    paint(out, color, Style::Bold, &[&wrap(&line, o.width, "  ")])?;
    out.write_all(b"\n")?;
    writeln!(out, "Pushed {} in all", timefmt::duration(totals.push_seconds))?;
    if totals.record_seconds > 0 {
        writeln!(out, "Recorded {} in all", timefmt::duration(totals.record_seconds))?;
    }
    if !totals.by_room.is_empty() {
        writeln!(out, "By room:")?;
        for (room, count, seconds) in &totals.by_room {
            writeln!(
                out,
                "  {room:<12} {:<13} {}",
                plural(*count, "task", "tasks"),
                timefmt::duration(*seconds)
            )?;
        }
    }
    if !totals.by_reason.is_empty() {
        let reasons: Vec<String> =
            totals.by_reason.iter().map(|(r, n)| format!("{} {n}", escape(r))).collect();
        writeln!(out, "{}", wrap(&format!("By finish reason: {}", reasons.join(", ")), o.width, "  "))?;
    }
    let abnormal: Vec<&&Task> =
        tasks.iter().filter(|t| t.finish_reason == Some(FinishReason::Exception)).collect();
    if !abnormal.is_empty() {
        paint(out, color, Style::BoldRed, &["Abnormal stops:"])?;
        out.write_all(b"\n")?;
        for task in abnormal {
            let stopped = task.stop.map_or("-".into(), |t| timefmt::local(t, &o.zone));
            let error = task.error.as_deref().map(|e| format!(": {}", escape(e))).unwrap_or_default();
            let line = format!(
                "  {}  room {}  stopped {stopped}{error}",
                escape(&task.id),
                task.room.map_or("-".into(), |r| r.to_string())
            );
            writeln!(out, "{}", wrap(&line, o.width, "    "))?;
        }
    }
    let warned: Vec<&&Task> = tasks.iter().filter(|t| !t.warnings.is_empty()).collect();
    if !warned.is_empty() {
        paint(out, color, Style::BoldYellow, &["Warnings:"])?;
        out.write_all(b"\n")?;
        for task in warned {
            for warning in &task.warnings {
                let text = warning.text(|t| timefmt::local(t, &o.zone));
                let line = format!("  {}: {}", escape(&task.id), escape(&text));
                writeln!(out, "{}", wrap(&line, o.width, "    "))?;
            }
        }
    }
    Ok(())
}

/// The timeline's part of each callback, taken apart from the printer (see [`Render`]): the
/// `check` lines of an invalid one, what a valid one tells of its task.
struct TimelineRender {
    invalid: Box<dyn Render>,
    scratch: Vec<u8>,
}

impl Render for TimelineRender {
    fn render(&mut self, report: &Report) -> io::Result<()> {
        if report.passed() {
            let callback = TaskCallback::of(report, &mut self.scratch);
            self.invalid.rendered().tasks.push(callback);
            Ok(())
        } else {
            self.invalid.render(report)
        }
    }

    fn rendered(&mut self) -> &mut Rendered {
        self.invalid.rendered()
    }
}

impl<W: Write, E: Write> Printer for TimelinePrinter<W, E> {
    fn callback(&mut self, report: &Report) -> io::Result<()> {
        if report.passed() {
            self.timeline.add(report);
            Ok(())
        } else {
            self.invalid.callback(report)
        }
    }

    fn renderer(&self) -> Option<Box<dyn Render>> {
        Some(Box::new(TimelineRender { invalid: self.invalid.renderer()?, scratch: Vec::new() }))
    }

    fn emit(&mut self, rendered: &Rendered) -> io::Result<()> {
        for callback in &rendered.tasks {
            self.timeline.fold(callback);
        }
        self.invalid.emit(rendered)
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        let tasks = selected(&self.timeline, &self.options);
        let totals = totals(&tasks);
        match self.options.view {
            TimelineView::Json => json(&mut self.out, &tasks, &totals, summary.invalid)?,
            TimelineView::Csv => csv(&mut self.out, &tasks)?,
            TimelineView::Chart => {
                human(&mut self.out, self.color, &self.options, &tasks, &totals, summary.invalid)?
            }
        }
        self.out.flush()
    }
}
