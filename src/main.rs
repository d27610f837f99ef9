//! The `tiwhook` binary: parse the command line, hand it to the subcommand, and map the outcome to
//! the exit status. Everything else lives in the library (`src/lib.rs`).

use clap::Parser;
use tiwhook::cli::{CaptureCommand, CheckArgs, Cli, Command};
use tiwhook::commands::inspect::Mode;
use tiwhook::commands::{capture, completions, example, inspect, listen, man, send, sign, timeline};
use tiwhook::config::Environment;
use tiwhook::exit_codes::ExitCode;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let env = Environment::real();
    let outcome = match cli.command {
        None => inspect::run(Mode::Inspect, &cli.inspect, None, &env),
        Some(Command::Inspect(args)) => inspect::run(Mode::Inspect, &args, None, &env),
        Some(Command::Check(CheckArgs { inspect, expect })) => {
            inspect::run(Mode::Check, &inspect, expect, &env)
        }
        Some(Command::Sign(args)) => sign::run(&args, &env),
        Some(Command::Example(args)) => example::run(&args, &env),
        Some(Command::Timeline(args)) => timeline::run(&args, &env),
        Some(Command::Listen(args)) => listen::run(&args, &env),
        Some(Command::Send(args)) => send::run(&args, &env),
        Some(Command::Capture(CaptureCommand::Bodies(args))) => capture::bodies(&args),
        Some(Command::Completions { shell }) => completions::run(shell),
        Some(Command::Man { command }) => man::run(command.as_deref()),
    };
    match outcome {
        Ok(code) => code.into(),
        Err(error) => {
            // `{:#}` joins the context and its cause: `--addr 1.2.3.4:80: Address in use`.
            eprintln!("tiwhook: {error:#}");
            ExitCode::Usage.into()
        }
    }
}
