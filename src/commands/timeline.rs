//! `tiwhook timeline`: follow push and recording tasks across the inputs, and show their
//! lifetimes on a shared time axis (or as JSON Lines), with totals.

use std::io;

use crate::cli::{TimelineArgs, TimelineFormat};
use crate::config::{self, Environment};
use crate::exit_codes::ExitCode;
use crate::pipeline;
use crate::render::timeline::TimelineView;
use crate::render::timeline::{TimelineOptions, TimelinePrinter};

pub fn run(args: &TimelineArgs, env: &Environment) -> anyhow::Result<ExitCode> {
    let config = config::resolve(&args.read, env).map_err(anyhow::Error::msg)?;
    // `--width`, else the terminal's own width, else `$COLUMNS` (which shells set but seldom
    // export), else 120.
    let terminal = || terminal_size::terminal_size().map(|(terminal_size::Width(w), _)| usize::from(w));
    let columns = || (env.var)("COLUMNS")?.parse::<usize>().ok();
    let width = args.width.map(usize::from).or_else(terminal).or_else(columns).unwrap_or(120).clamp(40, 1000);
    let options = TimelineOptions {
        view: match args.format {
            TimelineFormat::Human => TimelineView::Chart,
            TimelineFormat::Json => TimelineView::Json,
            TimelineFormat::Csv => TimelineView::Csv,
        },
        room: args.room,
        since: args.since,
        until: args.until,
        width,
        zone: config.zone.clone(),
        now: config.policy.now,
        color: config.color,
    };
    let out = io::BufWriter::new(io::stdout().lock());
    let mut printer = TimelinePrinter::new(out, io::stderr(), options);
    let mut diagnostics = io::stderr();
    let run = pipeline::run(super::inputs(&args.read), &config.policy, None, &mut printer, &mut diagnostics);
    super::finished(run.map(|(_, code)| code))
}
