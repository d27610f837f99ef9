//! `tiwhook capture bodies FILE…`: the bodies of the requests a `listen --save` file holds, back
//! exactly as they were received (the file keeps them byte for byte; see
//! [`crate::read::capture`]).
//!
//! To stdout, each body is followed by a line feed; with `--out-dir`, each goes to a file of its
//! own, `000001.body`, `000002.body`, … holding its bytes and nothing else. A body sent with a
//! `Content-Encoding` is written as it came (compressed), or decoded with `--decode`. A line that
//! is no capture is reported and makes the exit status 1.

use std::io::{self, Write};
use std::path::Path;

use anyhow::Context;

use crate::cli::CaptureBodiesArgs;
use crate::exit_codes::ExitCode;
use crate::read::capture;
use crate::read::framing::{Documents, Item, MAX_DOCUMENT_BYTES};
use crate::read::source;
use crate::read::window::Position;
use crate::sanitize::escape;

pub fn bodies(args: &CaptureBodiesArgs) -> anyhow::Result<ExitCode> {
    if let Some(dir) = &args.out_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("--out-dir {}", dir.display()))?;
    }
    let mut out = io::BufWriter::new(io::stdout().lock());
    let mut diagnostics = io::stderr();
    let mut code = ExitCode::Success;
    let mut written = 0u64;
    let unreadable = source::read_whole(&args.paths, false, &mut diagnostics, |input, diagnostics| {
        let (name, input) = (input.name, input.bytes);
        let mut documents = Documents::new(&input[..]);
        while let Ok(Some(item)) = documents.next_item() {
            let found = match &item {
                Item::Document(d) => capture::body_of(d.doc.bytes(), d.doc.root()).ok_or(d.start),
                Item::Broken(b) => Err(b.start),
            };
            match found {
                Ok(captured) => {
                    let body = match (args.decode, captured.content_encoding.as_deref()) {
                        (true, Some(encoding)) => {
                            match capture::decode_body(Some(encoding), &captured.body, MAX_DOCUMENT_BYTES) {
                                Ok(decoded) => decoded,
                                Err(message) => {
                                    let at = item_start(&item);
                                    writeln!(
                                        diagnostics,
                                        "tiwhook: {}:{}:{}: {}",
                                        escape(&name),
                                        at.line,
                                        at.column,
                                        escape(&message)
                                    )?;
                                    code = ExitCode::Failure;
                                    continue;
                                }
                            }
                        }
                        _ => captured.body,
                    };
                    written += 1;
                    match &args.out_dir {
                        Some(dir) => write_body(dir, written, &body)?,
                        None => {
                            out.write_all(&body)?;
                            out.write_all(b"\n")?;
                        }
                    }
                }
                Err(at) => {
                    writeln!(
                        diagnostics,
                        "tiwhook: {}:{}:{}: not a capture line",
                        escape(&name),
                        at.line,
                        at.column
                    )?;
                    if code == ExitCode::Success {
                        code = ExitCode::Failure;
                    }
                }
            }
        }
        Ok(())
    })?;
    if unreadable > 0 {
        code = ExitCode::Usage;
    }
    out.flush()?;
    Ok(code)
}

fn item_start(item: &Item<'_>) -> Position {
    match item {
        Item::Document(d) => d.start,
        Item::Broken(b) => b.start,
    }
}

fn write_body(dir: &Path, number: u64, body: &[u8]) -> io::Result<()> {
    let path = dir.join(format!("{number:06}.body"));
    std::fs::write(&path, body)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display())))
}
