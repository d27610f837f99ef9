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
use crate::codes::Code;
use crate::exit_codes::ExitCode;
use crate::read::capture;
use crate::read::framing::{Item, MAX_DOCUMENT_BYTES};
use crate::read::items::{Framer, corrupt_archive, read_streams};
use crate::read::window::Position;
use crate::sanitize::escape;

pub fn bodies(args: &CaptureBodiesArgs) -> anyhow::Result<ExitCode> {
    if let Some(dir) = &args.out_dir {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("--out-dir {}", escape(&dir.to_string_lossy())))?;
    }
    let mut out = io::BufWriter::new(io::stdout().lock());
    let mut diagnostics = io::stderr();
    let mut code = ExitCode::Success;
    let mut written = 0u64;
    let unreadable = read_streams(&args.paths, false, &mut diagnostics, |input, diagnostics| {
        let name = input.name;
        let mut framer = Framer::new(input.reader, false);
        let mut fail = |diagnostics: &mut dyn Write, at: Position, message: &str| {
            code = code.worse(ExitCode::Failure);
            writeln!(diagnostics, "tiwhook: {}:{}:{}: {}", escape(&name), at.line, at.column, escape(message))
        };
        loop {
            let item = match framer.next_item() {
                Ok(Some(item)) => item,
                Ok(None) => break,
                Err(error) => {
                    // Compressed data that breaks off, or a failed read: said where it stopped.
                    let message = corrupt_archive(&error).unwrap_or_else(|| format!("read error: {error}"));
                    let broken = framer.broken_off(Code::CorruptArchive, message.clone());
                    fail(diagnostics, broken.start, &message)?;
                    break;
                }
            };
            let captured = match &item {
                Item::Document(d) => capture::body_of(d.doc.bytes(), d.doc.root()).ok_or(d.start),
                Item::Broken(b) => Err(b.start),
            };
            let captured = match captured {
                Ok(captured) => captured,
                Err(at) => {
                    let message = match &item {
                        Item::Broken(b) if b.code == Code::DocumentTooLarge => b.message.as_str(),
                        _ => "not a capture line",
                    };
                    fail(diagnostics, at, message)?;
                    continue;
                }
            };
            let body = match (args.decode, captured.content_encoding.as_deref()) {
                (true, Some(encoding)) => {
                    match capture::decode_body(Some(encoding), &captured.body, MAX_DOCUMENT_BYTES) {
                        Ok(decoded) => decoded,
                        Err(message) => {
                            fail(diagnostics, item_start(&item), &message)?;
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
                    // A body is shown when it is read, not when the input ends.
                    out.flush()?;
                }
            }
        }
        Ok(())
    })?;
    out.flush()?;
    Ok(code.with_unreadable(unreadable))
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
