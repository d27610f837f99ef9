//! The command line, declared with clap: commands, options and the help that teaches them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str = "Inspect Tencent Cloud Interactive Whiteboard (TIW) callbacks";

const LONG_ABOUT: &str = "\
Inspect Tencent Cloud Interactive Whiteboard (TIW) callbacks: read them from files or stdin,
validate their structure and signature, and show task, room, user and timing details.

Inputs may hold one callback, a JSON array of callbacks, or a stream of them (JSON Lines or
concatenated objects). A directory stands for every *.json, *.ndjson and *.jsonl below it.";

const EXAMPLES: &str = "\
Examples:
  tiwhook captured.json                   show each callback in detail
  grep -h WhiteboardPush app.log | tiwhook
  tiwhook check fixtures/                 CI gate: one line per problem, exit status 1 on failure
  TIW_CALLBACK_KEY=... tiwhook check --format json capture.ndjson

Exit status: 0 every callback passed; 1 at least one failed; 2 usage error or unreadable input.";

#[derive(Parser, Debug)]
#[command(
    name = "tiwhook",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = EXAMPLES,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// `tiwhook PATH...` is `tiwhook inspect PATH...`.
    #[command(flatten)]
    pub inspect: InspectArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Show each callback in detail, with its verdict (the default command)
    Inspect(InspectArgs),
    /// Check callbacks: one line per error or warning, then a summary; for CI
    Check(InspectArgs),
}

#[derive(Args, Debug, Clone)]
pub struct InspectArgs {
    #[command(flatten)]
    pub read: ReadArgs,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// Options shared by the commands that read callbacks.
#[derive(Args, Debug, Clone)]
pub struct ReadArgs {
    /// Files or directories to read; none, or `-`, reads stdin
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Read the callback key from this environment variable
    #[arg(long, value_name = "NAME", default_value = "TIW_CALLBACK_KEY")]
    pub key_env: String,

    /// Read keys from a file, one per line; several keys (rotation) are each tried
    #[arg(long, value_name = "PATH")]
    pub key_file: Vec<PathBuf>,

    /// A callback key (repeatable); other users can see it in the process list, prefer --key-env
    #[arg(long, value_name = "KEY")]
    pub key: Vec<String>,

    /// The clock for expiry: Unix seconds or RFC 3339 [default: now]
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,

    /// Fail callbacks whose signature has expired (by default an expiry is only reported)
    #[arg(long)]
    pub enforce_expiry: bool,

    /// Fail callbacks with warnings too
    #[arg(long)]
    pub strict: bool,

    /// Color output: auto (when stdout is a terminal and NO_COLOR is unset), always or never
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Time zone for displayed times: an IANA name such as Asia/Shanghai, UTC, or local
    #[arg(long, value_name = "ZONE", default_value = "local")]
    pub tz: String,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// For people
    Human,
    /// JSON Lines, one object per callback, then a summary
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
