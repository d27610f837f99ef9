//! Printers: each turns [`Report`]s into one output format.
//!
//! Every printer writes to any `io::Write` and reads nothing but reports and the run's
//! [`Summary`]: the values it shows were typed once by judging, and how a value reads as text is
//! decided here, in [`value_text`], so that all formats agree. No printer sees the parsed document,
//! the event table or the judge. JSON Lines are [`contract`] types.

pub mod check;
pub mod compact;
pub mod contract;
pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod style;
pub mod timeline;

use std::borrow::Cow;
use std::io;

use jiff::tz::TimeZone;

use crate::judge::report::{InputProblem, Report, Summary, Value};
use crate::timefmt;

/// One output format.
pub trait Printer {
    fn callback(&mut self, report: &Report) -> io::Result<()>;
    fn finish(&mut self, summary: &Summary) -> io::Result<()>;
    /// An input that gave nothing to judge. The pipeline also says it on stderr; the human
    /// views leave it there (the default), machine formats record it in their own output, so that
    /// a CI report accounts for every input.
    fn input_problem(&mut self, _problem: &InputProblem) -> io::Result<()> {
        Ok(())
    }
    /// Sends what has been printed so far on to the output: the pipeline calls it whenever the
    /// input has nothing more ready, so that a live stream is shown as it arrives. Printers that
    /// can only write at the end (JUnit, the timeline) keep the default, which does nothing.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// Moves the clock the view shows times against (a live receiver's clock runs on).
    fn set_clock(&mut self, _now: i64) {}
    /// A renderer for another thread, when this format renders each callback on its own: the
    /// pipeline's workers render with it, and hand what they rendered to [`Printer::emit`] in
    /// input order. `None` (JUnit, the timeline): the printer takes every report itself.
    fn renderer(&self) -> Option<Box<dyn Render>> {
        None
    }
    /// Writes what a [`Render`] of this printer rendered, deciding its marked parts by what the
    /// run has shown before. Only called on printers that give a renderer.
    fn emit(&mut self, _rendered: &Rendered) -> io::Result<()> {
        Ok(())
    }
}

/// Renders callbacks apart from the printer, byte for byte as the printer itself would write them
/// (each printer that has one renders through it too): parts that depend on what the run showed
/// before are marked in the [`Rendered`] output, and decided when it is emitted.
pub trait Render: Send {
    fn render(&mut self, report: &Report) -> io::Result<()>;
    /// What was rendered since it was last emptied.
    fn rendered(&mut self) -> &mut Rendered;
}

/// What a format that renders each callback on its own writes besides its callbacks: a fresh
/// renderer for a worker, the clock, input problems and the end of the run. With it,
/// [`Printing`] is the format's printer, so that every such format is printed alike.
pub trait Layout: Render + Sized + 'static {
    /// A renderer like this one, with nothing rendered yet, for another thread.
    fn fresh(&self) -> Self;
    /// Moves the clock the view shows times against (a live receiver's clock runs on).
    fn set_clock(&mut self, _now: i64) {}
    /// Whether each callback is sent on to the output at once, not only when the input waits.
    fn flushes_each(&self) -> bool {
        false
    }
    /// What an input that gave nothing to judge adds to the output (see
    /// [`Printer::input_problem`]).
    fn input_problem(&mut self, _out: &mut dyn io::Write, _problem: &InputProblem) -> io::Result<()> {
        Ok(())
    }
    /// What ends the run, after every callback was written as `emitted` tells.
    fn finish(&mut self, out: &mut dyn io::Write, emitted: &Emitted, summary: &Summary) -> io::Result<()>;
}

/// The printer of a [`Layout`]: its callbacks rendered by it (here, or on the workers and
/// emitted here in input order), the rest as it says.
pub struct Printing<R, W> {
    render: R,
    out: W,
    emitted: Emitted,
}

impl<R: Layout, W: io::Write> Printing<R, W> {
    pub fn with(render: R, out: W) -> Self {
        Printing { render, out, emitted: Emitted::default() }
    }

    /// The printer with its renderer changed by `change` (a builder step, such as `quiet`).
    pub fn adjust(mut self, change: impl FnOnce(&mut R)) -> Self {
        change(&mut self.render);
        self
    }
}

impl<R: Layout, W: io::Write> Printer for Printing<R, W> {
    fn callback(&mut self, report: &Report) -> io::Result<()> {
        write_rendered(&mut self.render, report, &mut self.out, &mut self.emitted)?;
        if self.render.flushes_each() { self.out.flush() } else { Ok(()) }
    }

    fn renderer(&self) -> Option<Box<dyn Render>> {
        Some(Box::new(self.render.fresh()))
    }

    fn emit(&mut self, rendered: &Rendered) -> io::Result<()> {
        rendered.write_to(&mut self.out, &mut self.emitted)
    }

    fn set_clock(&mut self, now: i64) {
        self.render.set_clock(now);
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn input_problem(&mut self, problem: &InputProblem) -> io::Result<()> {
        self.render.input_problem(&mut self.out, problem)
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.render.finish(&mut self.out, &self.emitted, summary)?;
        self.out.flush()
    }
}

/// Renders `report` with `render` and writes it at once, as `emitted` decides its marked parts:
/// what a printer that has a renderer does with a callback it is handed itself.
pub fn write_rendered(
    render: &mut dyn Render,
    report: &Report,
    out: &mut dyn io::Write,
    emitted: &mut Emitted,
) -> io::Result<()> {
    render.render(report)?;
    let rendered = render.rendered();
    rendered.write_to(out, emitted)?;
    rendered.clear();
    Ok(())
}

/// Text rendered for one or more callbacks, with the parts that are written or left out by what
/// came before them in the run.
#[derive(Default)]
pub struct Rendered {
    text: Vec<u8>,
    marks: Vec<Mark>,
    /// What valid callbacks tell the timeline, folded in order when emitted.
    pub tasks: Vec<crate::judge::tasks::TaskCallback>,
}

/// A part of [`Rendered`] text decided when it is written.
struct Mark {
    range: std::ops::Range<usize>,
    kind: Marked,
}

enum Marked {
    /// A help line: written the first time the run meets this help (see [`HelpsShown`]).
    Help(Box<str>),
    /// Written before every callback but the run's first.
    Separator,
}

impl io::Write for Rendered {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.text.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.text.extend_from_slice(buf);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Rendered {
    /// Where the next byte goes: the start of a part to mark.
    pub fn here(&self) -> usize {
        self.text.len()
    }

    /// The text from `from` to here is the line of `help`.
    pub fn mark_help(&mut self, from: usize, help: &str) {
        self.marks.push(Mark { range: from..self.text.len(), kind: Marked::Help(help.into()) });
    }

    /// The text from `from` to here separates a callback from the one before it.
    pub fn mark_separator(&mut self, from: usize) {
        self.marks.push(Mark { range: from..self.text.len(), kind: Marked::Separator });
    }

    /// The text, to append to (what is there stays as it is: marks point into it).
    pub fn text(&mut self) -> &mut Vec<u8> {
        &mut self.text
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Bytes of text.
    pub fn len(&self) -> usize {
        self.text.len()
    }

    pub fn clear(&mut self) {
        self.text.clear();
        self.marks.clear();
        self.tasks.clear();
    }

    /// Writes the text to `out`, each marked part as `emitted` decides.
    ///
    /// Only a part left out splits the text: what is kept goes out in as few writes as it can, so
    /// that a large part passes a buffered writer by instead of being copied into its buffer (the
    /// detailed view marks a separator before every callback, and all but the first are kept).
    pub fn write_to(&self, out: &mut dyn io::Write, emitted: &mut Emitted) -> io::Result<()> {
        let mut from = 0;
        for mark in &self.marks {
            let keep = match &mark.kind {
                Marked::Help(help) => emitted.helps.first_time(help),
                Marked::Separator => std::mem::replace(&mut emitted.separated, true),
            };
            if !keep {
                out.write_all(&self.text[from..mark.range.start])?;
                from = mark.range.end;
            }
        }
        out.write_all(&self.text[from..])
    }
}

/// What a printer has emitted so far that decides the marked parts of what comes next.
#[derive(Default)]
pub struct Emitted {
    pub helps: HelpsShown,
    /// Whether a callback was shown (the next one is separated from it).
    separated: bool,
}

/// What the human views need to know besides the reports.
#[derive(Clone, Debug)]
pub struct View {
    /// Zone for displayed times.
    pub zone: TimeZone,
    /// The clock, in Unix seconds.
    pub now: i64,
    /// Where each key came from, by position (never the key).
    pub key_origins: Vec<String>,
    /// Whether to color, as decided for the run.
    pub color: bool,
}

/// A value as one line of plain text, not yet escaped for a terminal: times in RFC 3339 (UTC),
/// durations in words, sizes in binary units, percentages with `%`. `None` for a missing value.
/// Views that show more (a time in a zone, a choice with its meaning) build on this.
pub fn value_text<'v>(value: &'v Value) -> Option<Cow<'v, str>> {
    let text = match value {
        Value::Missing => return None,
        Value::Invalid(raw) => Cow::Borrowed(&**raw),
        Value::Time(t) => Cow::Owned(timefmt::rfc3339(*t)),
        Value::Duration(seconds) => Cow::Owned(timefmt::duration(*seconds)),
        Value::Milliseconds(ms) if *ms < 1000 => Cow::Owned(format!("{ms} ms")),
        Value::Milliseconds(ms) => Cow::Owned(timefmt::duration((ms + 500) / 1000)),
        Value::Count(n) => Cow::Owned(n.to_string()),
        Value::Negative(n) => Cow::Owned(n.to_string()),
        Value::Bytes(n) => Cow::Owned(bytes(*n)),
        Value::Percent(n) => Cow::Owned(format!("{n}%")),
        Value::DateText("") => Cow::Borrowed("(none)"),
        Value::Text(text) | Value::DateText(text) | Value::Undocumented(text) => Cow::Borrowed(*text),
        Value::Choice(choice) => Cow::Borrowed(choice.value),
        Value::Group(members) => {
            let parts: Vec<Cow<str>> = members.iter().filter_map(|d| value_text(&d.value)).collect();
            Cow::Owned(parts.join(": "))
        }
        Value::Rows(rows) => Cow::Owned(rows.len().to_string()),
        Value::List(None) => Cow::Borrowed("none"),
        Value::List(Some(json)) => Cow::Borrowed(&**json),
        Value::Unchecked(unchecked) => Cow::Borrowed(unchecked.json.as_str()),
    };
    Some(text)
}

/// A size in bytes in human units: `512 B`, `3.4 MiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut size = n as f64 / 1024.0;
    let mut unit = 0;
    while size >= 1024.0 && unit + 1 < UNITS.len() {
        size /= 1024.0;
        unit += 1;
    }
    format!("{size:.1} {}", UNITS[unit])
}

/// "1 callback", "2 callbacks".
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The run's tally in words: `12 callbacks in 4 sources: 11 valid, 1 invalid, 3 warnings`, or,
/// extracting from logs, `3 callbacks found in 120 log lines of 1 source: ...`.
pub fn summary_line(summary: &Summary) -> String {
    let mut line = match summary.lines {
        Some(lines) => format!(
            "{} found in {} of {}: ",
            plural(summary.callbacks, "callback", "callbacks"),
            plural(lines, "log line", "log lines"),
            plural(summary.sources, "source", "sources"),
        ),
        None => format!(
            "{} in {}: ",
            plural(summary.callbacks, "callback", "callbacks"),
            plural(summary.sources, "source", "sources"),
        ),
    };
    match summary.expected {
        Some(verdict) => line.push_str(&format!(
            "{} met the expectation ({}), {} did not",
            summary.callbacks - summary.unmet,
            verdict.as_str(),
            summary.unmet
        )),
        None => line.push_str(&format!(
            "{} valid, {} invalid, {}",
            summary.valid,
            summary.invalid,
            plural(summary.warnings, "warning", "warnings")
        )),
    }
    if summary.unreadable > 0 {
        line.push_str(&format!(", {} unreadable", plural(summary.unreadable, "source", "sources")));
    }
    if summary.signatures_unchecked > 0 {
        line.push_str(&format!(
            "; {} not checked: no key (use --key, --key-file or TIW_CALLBACK_KEY)",
            plural(summary.signatures_unchecked, "signature", "signatures")
        ));
    }
    line
}

/// Said once in a run where a signature was checked.
pub const BODY_CAVEAT: &str = "a valid Sign proves only that the sender knew the key for that ExpireTime; \
                               it does not cover the body, which anyone who saw a signed callback can alter";

/// The helps a human view has shown: each distinct one is shown once per run, and how often it
/// came again is told at the end, so that 200 callbacks checked with the wrong key give one
/// explanation, not 200.
#[derive(Default)]
pub struct HelpsShown {
    /// Each help shown, with how many more times it came; in the order first shown.
    shown: Vec<(String, u64)>,
    index: std::collections::HashMap<String, usize>,
}

/// Characters of a help recalled in the tally of repeated helps.
const HELP_RECALLED: usize = 48;

/// Distinct helps remembered at most; past that, every help is shown (a run with that many kinds
/// of help is not repeating one).
const HELPS_REMEMBERED: usize = 1024;

impl HelpsShown {
    /// Whether `help` is to be shown now: the first time, yes; later, it is counted instead.
    pub fn first_time(&mut self, help: &str) -> bool {
        if let Some(&at) = self.index.get(help) {
            self.shown[at].1 += 1;
            return false;
        }
        if self.shown.len() < HELPS_REMEMBERED {
            self.index.insert(help.to_string(), self.shown.len());
            self.shown.push((help.to_string(), 0));
        }
        true
    }

    /// The helps that came again, with how many more times.
    pub fn repeated(&self) -> impl Iterator<Item = (&str, u64)> {
        self.shown.iter().filter(|(_, more)| *more > 0).map(|(help, more)| (help.as_str(), *more))
    }

    /// Writes, for each help that came again, one line saying so, in the view's own indent.
    pub fn write_repeated(&self, out: &mut dyn io::Write, indent: &str, color: bool) -> io::Result<()> {
        for (help, more) in self.repeated() {
            out.write_all(indent.as_bytes())?;
            style::paint(out, color, style::Style::Cyan, &["help"])?;
            let times = plural(more, "more finding", "more findings");
            // Enough of the help to recognise it by; it was shown whole above.
            let start: String = help.chars().take(HELP_RECALLED).collect();
            let cut = if start.len() < help.len() { "…" } else { "" };
            writeln!(out, ": the same applies to {times} above ({}{cut})", crate::sanitize::escape(&start))?;
        }
        Ok(())
    }
}
