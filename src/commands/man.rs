//! `tiwhook man [COMMAND]`: a manual page, in roff, generated from the command line's own help:
//! `tiwhook`'s, or one subcommand's (`tiwhook man check`, named `tiwhook-check`). The pages of the
//! reading commands end with every finding code, from [`crate::judge::findings`].

use std::io::{self, Write};

use clap::CommandFactory;

use crate::cli::Cli;
use crate::codes::Code;
use crate::exit_codes::ExitCode;

pub fn run(command: Option<&str>) -> anyhow::Result<ExitCode> {
    let mut cli = Cli::command().disable_help_subcommand(true);
    cli.build();
    let page = match command {
        None => cli,
        Some(name) => {
            // A nested subcommand's page is named with a hyphen: `capture-bodies`, as the page of
            // `capture` refers to it (tiwhook-capture-bodies(1)).
            let (outer, inner) = match name.split_once(['-', ' ']) {
                Some((outer, inner)) => (outer, Some(inner)),
                None => (name, None),
            };
            let names = || cli.get_subcommands().map(|c| c.get_name()).collect::<Vec<_>>().join(", ");
            let Some(mut sub) = cli.find_subcommand(outer) else {
                anyhow::bail!("no subcommand `{name}`; there are {}", names());
            };
            if let Some(inner) = inner {
                let Some(nested) = sub.find_subcommand(inner) else {
                    anyhow::bail!("no subcommand `{name}`");
                };
                sub = nested;
            }
            let page = format!("tiwhook-{}", name.replace(' ', "-"));
            sub.clone().name(page.clone()).display_name(page)
        }
    };
    let mut text = Vec::new();
    clap_mangen::Man::new(page).render(&mut text)?;
    if matches!(command, None | Some("inspect" | "check" | "timeline")) {
        findings_section(&mut text)?;
    }
    super::finished(io::stdout().lock().write_all(&text).map(|()| ExitCode::Success))
}

/// A FINDINGS section: each code, its severity and when it is raised.
fn findings_section(out: &mut Vec<u8>) -> io::Result<()> {
    writeln!(out, ".SH FINDINGS")?;
    writeln!(out, "Each problem a callback has is reported with one of these stable codes:")?;
    for code in Code::ALL {
        writeln!(out, ".TP")?;
        writeln!(out, "\\fB{}\\fR ({})", code.as_str(), code.severity().as_str())?;
        writeln!(out, "{}", roff_text(code.when()))?;
    }
    Ok(())
}

/// Text safe in a roff paragraph: backslashes escaped, and a line that would start a request
/// (`.` or `'`) protected.
fn roff_text(text: &str) -> String {
    let escaped = text.replace('\\', "\\e");
    if escaped.starts_with(['.', '\'']) { format!("\\&{escaped}") } else { escaped }
}
