//! `tiwhook [inspect]` and `tiwhook check`: judge every callback of the inputs and print each
//! report in the chosen format; the exit status says whether all passed.
//!
//! The two differ only in their human view: `inspect` shows each callback in detail, `check`
//! one line per finding. The machine formats are the same for both.

use std::io::{self, Write};

use crate::cli::{Expectation, Format, InspectArgs};
use crate::config::{self, Environment};
use crate::exit_codes::ExitCode;
use crate::judge::report::Verdict;
use crate::pipeline;
use crate::render::check::CheckPrinter;
use crate::render::compact::CompactPrinter;
use crate::render::github::GithubPrinter;
use crate::render::human::HumanPrinter;
use crate::render::json::JsonPrinter;
use crate::render::junit::JunitPrinter;
use crate::render::{BODY_CAVEAT, Printer, View};

/// Which human view to show.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Each callback in detail.
    Inspect,
    /// One line per finding, and the summary.
    Check,
}

pub fn run(
    mode: Mode,
    args: &InspectArgs,
    expect: Option<Expectation>,
    env: &Environment,
) -> anyhow::Result<ExitCode> {
    if let Some(first) = args.read.paths.first().and_then(|p| p.to_str())
        && !std::path::Path::new(first).exists()
        && let Some(name) = crate::cli::misspelt_subcommand(first)
    {
        anyhow::bail!(
            "{}: no such file; did you mean the subcommand {name}?",
            crate::sanitize::escape(first)
        );
    }
    let mut config = config::resolve(&args.read, env).map_err(anyhow::Error::msg)?;
    // The formats that show findings only, never a value: the walk need keep none.
    config.policy.details_unread = match (mode, args.format) {
        (_, Format::Github | Format::Junit) => true,
        (Mode::Check, Format::Human) => !args.compact,
        _ => false,
    };
    let out = io::BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    let view = View {
        zone: config.zone.clone(),
        now: config.policy.now,
        key_origins: config.policy.keys.iter().map(|k| k.origin().to_string()).collect(),
        color: config.color,
    };
    let mut printer: Box<dyn Printer> = match (mode, args.format) {
        (_, Format::Human) if args.compact => Box::new(CompactPrinter::new(out, view).quiet(args.read.quiet)),
        (_, Format::Json) => Box::new(JsonPrinter::new(out)),
        (_, Format::Github) => Box::new(GithubPrinter::new(out)),
        (_, Format::Junit) => Box::new(JunitPrinter::new(out)),
        (Mode::Check, Format::Human) => Box::new(CheckPrinter::new(out, config.color).quiet(args.read.quiet)),
        (Mode::Inspect, Format::Human) => Box::new(HumanPrinter::new(out, view).quiet(args.read.quiet)),
    };
    let expected = expect.map(|e| match e {
        Expectation::Valid => Verdict::Valid,
        Expectation::Invalid => Verdict::Invalid,
    });
    // Not held locked for the run: a worker thread's panic message must get through.
    let mut stderr = io::stderr();
    if args.read.paths.is_empty() && io::IsTerminal::is_terminal(&io::stdin()) {
        let _ =
            writeln!(stderr, "tiwhook: reading callbacks from stdin (end with Ctrl-D; see tiwhook --help)");
    }
    let run =
        pipeline::run(super::inputs(&args.read), &config.policy, expected, printer.as_mut(), &mut stderr);
    match run {
        Ok((summary, code)) => {
            // Only after a signature verified, and on stderr, whatever the view.
            if summary.signatures_valid && !args.read.quiet {
                let _ = writeln!(stderr, "tiwhook: note: {BODY_CAVEAT}");
            }
            Ok(code)
        }
        Err(error) => super::output_closed(error),
    }
}
