//! The `tiwhook` binary: parse the command line, resolve it once, run, and map the outcome to the
//! exit status. Everything else lives in the library.

use std::io::{self, Write};

use clap::Parser;
use tiwhook::cli::{Cli, Command, Format, InspectArgs};
use tiwhook::config::{self, Environment};
use tiwhook::exit_codes::ExitCode;
use tiwhook::render::check::CheckPrinter;
use tiwhook::render::human::HumanPrinter;
use tiwhook::render::json::JsonPrinter;
use tiwhook::render::{Printer, View};
use tiwhook::run;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Inspect,
    Check,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        None => read(Mode::Inspect, &cli.inspect),
        Some(Command::Inspect(args)) => read(Mode::Inspect, &args),
        Some(Command::Check(args)) => read(Mode::Check, &args),
    };
    code.into()
}

fn read(mode: Mode, args: &InspectArgs) -> ExitCode {
    let env = Environment::real();
    let config = match config::resolve(&args.read, &env) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("tiwhook: {message}");
            return ExitCode::Usage;
        }
    };
    colored::control::set_override(config.color);
    let stdout = io::stdout().lock();
    let out = io::BufWriter::with_capacity(64 * 1024, stdout);
    let view = View {
        zone: config.zone.clone(),
        now: config.policy.now,
        key_origins: config.policy.keys.iter().map(|k| k.origin().to_string()).collect(),
    };
    let mut printer: Box<dyn Printer> = match (mode, args.format) {
        (_, Format::Json) => Box::new(JsonPrinter::new(out)),
        (Mode::Check, Format::Human) => Box::new(CheckPrinter::new(out)),
        (Mode::Inspect, Format::Human) => Box::new(HumanPrinter::new(out, view)),
    };
    let mut stderr = io::stderr().lock();
    match run::inspect(&args.read.paths, &config.policy, printer.as_mut(), &mut stderr) {
        Ok((summary, code)) => {
            let caveat_on_stdout = mode == Mode::Inspect && args.format == Format::Human;
            if summary.signatures_checked && !caveat_on_stdout {
                let _ = writeln!(stderr, "tiwhook: note: {}", tiwhook::render::BODY_CAVEAT);
            }
            code
        }
        // A closed stdout (`tiwhook ... | head -1`) ends the run quietly.
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => ExitCode::Success,
        Err(error) => {
            let _ = writeln!(stderr, "tiwhook: cannot write the output: {error}");
            ExitCode::Usage
        }
    }
}
