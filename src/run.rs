//! Drives the flow: every input, every document in it, judged and printed, and the tally.

use std::io;
use std::path::PathBuf;

use crate::document::{Documents, Item};
use crate::exit_codes::ExitCode;
use crate::render::Printer;
use crate::report::Summary;
use crate::sanitize::escape;
use crate::source;
use crate::validate::{self, Policy};

/// Reads every input named by `paths`, prints a report on each callback and the summary, and
/// says how the run ended. Problems with an input go to `diagnostics`; an `Err` is a failure to
/// write the output (a closed pipe, say).
pub fn inspect(
    paths: &[PathBuf],
    policy: &Policy,
    printer: &mut dyn Printer,
    diagnostics: &mut dyn io::Write,
) -> io::Result<(Summary, ExitCode)> {
    let mut summary = Summary::default();
    for entry in source::expand(paths) {
        summary.sources += 1;
        let source = match entry {
            Ok(source) => source,
            Err(unlisted) => {
                summary.unreadable += 1;
                writeln!(diagnostics, "tiwhook: {}: {}", escape(&unlisted.name), unlisted.error)?;
                continue;
            }
        };
        let name = source.name();
        let reader = match source.open() {
            Ok(reader) => reader,
            Err(error) => {
                summary.unreadable += 1;
                writeln!(diagnostics, "tiwhook: {}: {error}", escape(&name))?;
                continue;
            }
        };
        let mut documents = Documents::new(reader);
        loop {
            let report = match documents.next_item() {
                Ok(None) => break,
                Ok(Some(Item::Document(document))) => validate::judge(&name, &document, policy),
                Ok(Some(Item::Broken(broken))) => validate::judge_broken(&name, &broken),
                Err(error) => {
                    summary.unreadable += 1;
                    writeln!(diagnostics, "tiwhook: {}: read error: {error}", escape(&name))?;
                    break;
                }
            };
            summary.add(&report);
            printer.callback(&report)?;
        }
    }
    printer.finish(&summary)?;
    let code = if summary.unreadable > 0 {
        ExitCode::Usage
    } else if summary.invalid > 0 {
        ExitCode::Failure
    } else {
        ExitCode::Success
    };
    Ok((summary, code))
}
