//! `tiwhook man`: the manual page, in roff, generated from the command line's own help.

use std::io;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::exit_codes::ExitCode;

pub fn run() -> anyhow::Result<ExitCode> {
    let written = clap_mangen::Man::new(Cli::command()).render(&mut io::stdout()).map(|()| ExitCode::Success);
    super::finished(written)
}
