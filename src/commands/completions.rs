//! `tiwhook completions SHELL`: a completion script for bash, zsh, fish, PowerShell or elvish.

use std::io;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::exit_codes::ExitCode;

pub fn run(shell: Shell) -> anyhow::Result<ExitCode> {
    clap_complete::generate(shell, &mut Cli::command(), "tiwhook", &mut io::stdout());
    Ok(ExitCode::Success)
}
