//! Drives the flow: every input, every document in it, judged and printed, and the tally; and
//! the same walk over the inputs for `tiwhook sign`.

use std::io::{self, Read, Write};
use std::path::PathBuf;

use crate::document::{Documents, Item};
use crate::exit_codes::ExitCode;
use crate::render::Printer;
use crate::report::{Summary, Verdict};
use crate::sanitize::escape;
use crate::source;
use crate::validate::{self, Policy};

/// Reads every input named by `paths`, prints a report on each callback and the summary, and
/// says how the run ended; with `expected`, a callback passes when its verdict is that one. Problems with an input go to `diagnostics`; an `Err` is a failure to
/// write the output (a closed pipe, say).
pub fn inspect(
    paths: &[PathBuf],
    policy: &Policy,
    expected: Option<Verdict>,
    printer: &mut dyn Printer,
    diagnostics: &mut dyn io::Write,
) -> io::Result<(Summary, ExitCode)> {
    let mut summary = Summary { expected, ..Summary::default() };
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
            let mut report = match documents.next_item() {
                Ok(None) => break,
                Ok(Some(Item::Document(document))) => validate::judge(&name, &document, policy),
                Ok(Some(Item::Broken(broken))) => validate::judge_broken(&name, &broken),
                Err(error) => {
                    summary.unreadable += 1;
                    writeln!(diagnostics, "tiwhook: {}: read error: {error}", escape(&name))?;
                    break;
                }
            };
            report.expected = expected;
            summary.add(&report);
            printer.callback(&report)?;
        }
    }
    printer.finish(&summary)?;
    let code = if summary.unreadable > 0 {
        ExitCode::Usage
    } else if !summary.all_passed() {
        ExitCode::Failure
    } else {
        ExitCode::Success
    };
    Ok((summary, code))
}

/// Signs every callback named by `paths` with `key` and `expire_time`, writing the results to
/// `out`, or back into each file with `in_place` (a temporary file renamed over the original, so
/// that a reader never sees half a file). Problems go to `diagnostics`.
pub fn sign(
    paths: &[PathBuf],
    key: &[u8],
    expire_time: u64,
    in_place: bool,
    out: &mut dyn io::Write,
    diagnostics: &mut dyn io::Write,
) -> io::Result<ExitCode> {
    let mut code = ExitCode::Success;
    for entry in source::expand(paths) {
        let source = match entry {
            Ok(source) => source,
            Err(unlisted) => {
                writeln!(diagnostics, "tiwhook: {}: {}", escape(&unlisted.name), unlisted.error)?;
                code = ExitCode::Usage;
                continue;
            }
        };
        let name = source.name();
        let mut input = Vec::new();
        if let Err(error) = source.open().and_then(|mut reader| reader.read_to_end(&mut input)) {
            writeln!(diagnostics, "tiwhook: {}: {error}", escape(&name))?;
            code = ExitCode::Usage;
            continue;
        }
        let signed = crate::sign::sign_all(&input, key, expire_time);
        for (at, problem) in &signed.problems {
            writeln!(
                diagnostics,
                "{}:{}:{}: not signed: {}",
                escape(&name),
                at.line,
                at.column,
                escape(problem)
            )?;
            if code == ExitCode::Success {
                code = ExitCode::Failure;
            }
        }
        match (&source, in_place) {
            (source::Source::File(path), true) => {
                if let Err(error) = replace_file(path, &signed.bytes) {
                    writeln!(diagnostics, "tiwhook: {}: cannot write: {error}", escape(&name))?;
                    code = ExitCode::Usage;
                }
            }
            _ => out.write_all(&signed.bytes)?,
        }
    }
    out.flush()?;
    Ok(code)
}

/// Writes `bytes` to a temporary file beside `path` and renames it over `path`, keeping its
/// permissions.
fn replace_file(path: &std::path::Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = dir.join(format!(".{file_name}.tiwhook-{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        if let Ok(meta) = std::fs::metadata(path) {
            std::fs::set_permissions(&temporary, meta.permissions())?;
        }
        std::fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}
