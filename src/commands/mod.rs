//! The subcommands, one file each: every one wires reading, judging and printing for its job and
//! says how the run ended. `main.rs` only parses the command line and dispatches here.
//!
//! A command returns `Ok` with the exit status its run earned, or an error for a usage problem
//! (worded for the user, with context), which the binary reports with exit status 2.

pub mod capture;
pub mod completions;
pub mod example;
pub mod inspect;
pub mod listen;
pub mod man;
pub mod send;
pub mod sign;
pub mod timeline;

use std::io;

use crate::cli::ReadArgs;
use crate::exit_codes::ExitCode;
use crate::pipeline::Inputs;

/// What a reading command reads, from its options.
pub fn inputs(read: &ReadArgs) -> Inputs<'_> {
    let threads = read.threads.or_else(|| std::thread::available_parallelism().ok());
    Inputs {
        paths: &read.paths,
        extract: read.extract,
        allow_empty: read.allow_empty,
        threads: threads.map_or(1, std::num::NonZeroUsize::get),
    }
}

/// The end of a run whose output failed: quiet success for a closed pipe (`tiwhook … | head -1`),
/// an error for anything else.
pub fn output_closed(error: io::Error) -> anyhow::Result<ExitCode> {
    if error.kind() == io::ErrorKind::BrokenPipe {
        Ok(ExitCode::Success)
    } else {
        Err(anyhow::Error::new(error).context("cannot write the output"))
    }
}

/// The exit status of a run that wrote `written`; see [`output_closed`].
pub fn finished(written: io::Result<ExitCode>) -> anyhow::Result<ExitCode> {
    written.or_else(output_closed)
}
