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
enum TableShape {
    /// The table, and a bar per task on an axis `bar_width` columns wide.
    Chart { bar_width: usize },
    /// The table alone.
    Table,
    /// Two lines per task, for a terminal narrower than the table.
    Narrow,
}

/// The time axis all bars share: from the first task's beginning to the last callback, or on
/// to the clock while tasks run.
struct Axis<'o> {
    options: &'o TimelineOptions,
    /// Where running tasks end: the clock, or `--until` when that comes first.
    clock: i64,
    start: i64,
    /// The last time a callback told of.
    data_end: i64,
    end: i64,
    running: u64,
    /// Where a shown time starts in its RFC 3339 text: after the year when the axis stays in one.
    from: usize,
}

impl<'o> Axis<'o> {
    fn new(options: &'o TimelineOptions, tasks: &[&Task]) -> Self {
        let clock = options.until.map_or(options.now, |until| until.min(options.now));
        let start = tasks.iter().map(|t| t.begins() as i64).min().unwrap_or(clock);
        let data_end = tasks.iter().map(|t| t.stop.unwrap_or(t.begins()) as i64).max().unwrap_or(clock);
        let running = tasks.iter().filter(|t| t.state() == State::Running).count() as u64;
        let end = if running > 0 { data_end.max(clock) } else { data_end }.max(start + 1);
        // Times show their date; across years, their year too.
        let year = |t: i64| timefmt::local(t.max(0) as u64, &options.zone).get(0..4).map(str::to_string);
        let from = if year(start) == year(end) { 5 } else { 0 };
        Axis { options, clock, start, data_end, end, running, from }
    }

    /// A time as the table shows it.
    fn short(&self, t: u64) -> String {
        let full = timefmt::local(t, &self.options.zone);
        full.get(self.from..19).unwrap_or(&full).to_string()
    }

    /// The zone's offset at the axis's start, such as `+08:00`.
    fn zone_offset(&self) -> String {
        let start = timefmt::local(self.start.max(0) as u64, &self.options.zone);
        start.get(20..).unwrap_or("").to_string()
    }

    /// `11-25 07:00:00 .. 11-25 12:00:00 (+00:00)`.
    fn text(&self) -> String {
        let (start, end) = (self.short(self.start.max(0) as u64), self.short(self.end.max(0) as u64));
        format!("{start} .. {end} ({})", self.zone_offset())
    }

    /// The column of time `t` on a bar `bar_width` wide.
    fn column(&self, t: i64, bar_width: usize) -> usize {
        let share = (t - self.start) as f64 / (self.end - self.start) as f64;
        ((share * (bar_width - 1) as f64).round() as usize).min(bar_width - 1)
    }
}

const HEADERS: [&str; 7] = ["Task", "Room", "Start", "Stop", "Duration", "Finish", "State"];

/// The table's cells for `task`, in the order of [`HEADERS`].
fn row(task: &Task, axis: &Axis) -> [String; 7] {
    let running = task.state() == State::Running;
    let time = |t: Option<u64>| t.map_or("-".into(), |t| axis.short(t));
    [
        escape(&task.id).into_owned(),
        task.room.map_or("-".into(), |r| r.to_string()),
        time(task.start),
        if running { "-".into() } else { time(task.stop) },
        if running { "running".into() } else { task.duration().map_or("-".into(), timefmt::duration) },
        task.finish_reason.as_ref().map_or("-".into(), |r| escape(r.as_str()).into_owned()),
        task.state().as_str().into(),
    ]
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
    let axis = Axis::new(o, tasks);
    table(out, color, tasks, &axis)?;
    axis_note(out, color, &axis)?;
    out.write_all(b"\n")?;
    totals_text(out, color, o.width, totals, invalid)?;
    stops_and_warnings(out, color, o, tasks)
}

/// One row per task, fitted to the width: with a bar each when the chart fits beside the table,
/// the table alone when it does not, two lines per task when the table itself does not fit.
fn table(out: &mut impl Write, color: bool, tasks: &[&Task], axis: &Axis) -> io::Result<()> {
    let width = axis.options.width;
    let rows: Vec<[String; 7]> = tasks.iter().map(|task| row(task, axis)).collect();
    let widths: Vec<usize> = (0..7)
        .map(|i| rows.iter().map(|r| display_width(&r[i])).chain([HEADERS[i].len()]).max().unwrap_or(0))
        .collect();
    let fixed: usize = widths.iter().map(|w| w + 2).sum();
    let shape = if fixed + MIN_BAR <= width {
        TableShape::Chart { bar_width: width - fixed }
    } else if fixed <= width + 2 {
        TableShape::Table
    } else {
        TableShape::Narrow
    };
    if shape == TableShape::Narrow {
        let header =
            format!("Task  Room  State  Finish\n    Start .. Stop  Duration  ({})", axis.zone_offset());
        paint(out, color, Style::Dim, &[&header])?;
        out.write_all(b"\n")?;
        for row in &rows {
            writeln!(out, "{}  {}  {}  {}", row[0], row[1], row[6], row[5])?;
            writeln!(out, "    {} .. {}  {}", row[2], row[3], row[4])?;
        }
        return Ok(());
    }
    let padded = |cells: &[String]| {
        let mut line = String::new();
        for (i, cell) in cells.iter().enumerate() {
            line.push_str(cell);
            line.extend(std::iter::repeat_n(' ', widths[i].saturating_sub(display_width(cell)) + 2));
        }
        line
    };
    let mut header = padded(&HEADERS.map(String::from));
    if let TableShape::Chart { bar_width } = shape {
        let text = axis.text();
        if display_width(&text) <= bar_width {
            header.push_str(&text);
        } else {
            // The axis's ends on a line of their own, where the chart starts.
            let above = format!("{}{text}", " ".repeat(fixed.min(width.saturating_sub(text.len()))));
            paint(out, color, Style::Dim, &[&above])?;
            out.write_all(b"\n")?;
        }
    }
    paint(out, color, Style::Dim, &[header.trim_end()])?;
    out.write_all(b"\n")?;
    for (task, row) in tasks.iter().zip(&rows) {
        let line = padded(row);
        match shape {
            TableShape::Chart { bar_width } => {
                out.write_all(line.as_bytes())?;
                bar(out, color, task, axis, bar_width)?;
            }
            _ => writeln!(out, "{}", line.trim_end())?,
        }
    }
    Ok(())
}

/// A task's bar: from its beginning to its stop (or the clock, while it runs), in the style of
/// how it finished.
fn bar(out: &mut impl Write, color: bool, task: &Task, axis: &Axis, bar_width: usize) -> io::Result<()> {
    let begins = task.begins() as i64;
    let ends = if task.state() == State::Running {
        axis.clock.max(begins)
    } else {
        task.stop.map_or(begins, |s| s as i64)
    };
    let (from, to) = (axis.column(begins, bar_width), axis.column(ends, bar_width));
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
    out.write_all(b"\n")
}

/// Data from long ago with tasks still running: most of the axis is the wait for the clock, and
/// a note says how to end it at the last callback instead.
fn axis_note(out: &mut impl Write, color: bool, axis: &Axis) -> io::Result<()> {
    let (o, clock, data_end, running) = (axis.options, axis.clock, axis.data_end, axis.running);
    let stretched = clock - data_end;
    if running == 0 || o.until.is_some() || stretched <= (2 * (data_end - axis.start)).max(86_400) {
        return Ok(());
    }
    let last = timefmt::rfc3339(data_end.max(0) as u64);
    let note = format!(
        "note: the axis runs on to --now ({}), {} after the last callback, because {} still running; \
         --until {last} ends it at the last callback",
        timefmt::local(clock.max(0) as u64, &o.zone),
        timefmt::age(data_end, clock),
        if running == 1 { "1 task is".to_string() } else { format!("{running} tasks are") },
    );
    paint(out, color, Style::Dim, &[&wrap(&note, o.width, "  ")])?;
    out.write_all(b"\n")
}

/// The figures over all tasks: counts, time pushed and recorded, by room and by finish reason.
fn totals_text(
    out: &mut impl Write,
    color: bool,
    width: usize,
    totals: &Totals,
    invalid: u64,
) -> io::Result<()> {
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
    paint(out, color, Style::Bold, &[&wrap(&line, width, "  ")])?;
    out.write_all(b"\n")?;
    writeln!(out, "Pushed {} in all", timefmt::duration(totals.push_seconds))?;
    if totals.record_seconds > 0 {
        writeln!(out, "Recorded {} in all", timefmt::duration(totals.record_seconds))?;
    }
    if !totals.by_room.is_empty() {
        writeln!(out, "By room:")?;
        for (room, count, seconds) in &totals.by_room {
            let tasks = plural(*count, "task", "tasks");
            writeln!(out, "  {room:<12} {tasks:<13} {}", timefmt::duration(*seconds))?;
        }
    }
    if !totals.by_reason.is_empty() {
        let reasons: Vec<String> =
            totals.by_reason.iter().map(|(r, n)| format!("{} {n}", escape(r))).collect();
        writeln!(out, "{}", wrap(&format!("By finish reason: {}", reasons.join(", ")), width, "  "))?;
    }
    Ok(())
}

/// The tasks that stopped abnormally, with their error, and every task's warnings.
fn stops_and_warnings(
    out: &mut impl Write,
    color: bool,
    o: &TimelineOptions,
    tasks: &[&Task],
) -> io::Result<()> {
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
