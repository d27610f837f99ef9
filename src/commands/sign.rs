//! `tiwhook sign`: gives fixtures a new `ExpireTime` and the `Sign` that goes with it.
//!
//! Fixtures are files people read and diff, so signing edits them as text: only the values of
//! `ExpireTime` and `Sign` change, or, where a callback has none, the two members are added at the
//! end of its object in the layout the document already uses (pretty stays pretty, one line stays
//! one line). Everything else, field order and white space included, is left byte for byte.

use std::cell::RefCell;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::{Context, bail};

use crate::cli::SignArgs;
use crate::config::{self, Environment};
use crate::exit_codes::ExitCode;
use crate::judge::events::MAX_UNIX_TIME;
use crate::read::archive;
use crate::read::framing::{JsonFramer, MAX_DOCUMENT_BYTES};
use crate::read::items::{OpenInput, read_streams};
use crate::read::source;
use crate::resign::{Edit, Signed, sign_all, write_edited};
use crate::sanitize::escape;

pub fn run(args: &SignArgs, env: &Environment) -> anyhow::Result<ExitCode> {
    let keys = config::keys(&args.keys, env).map_err(anyhow::Error::msg)?;
    let Some(key) = keys.first() else {
        bail!("sign needs a key: give --key, --key-file or --key-env (default TIW_CALLBACK_KEY)");
    };
    let expire = match (&args.expire_at, &args.expire_in) {
        (Some(at), _) => *at,
        (None, Some(duration)) => {
            let now = config::clock(args.now, env);
            now.checked_add(*duration).context("--expire-in: the new ExpireTime is past the year 9999")?
        }
        (None, None) => bail!("give --expire-at or --expire-in"),
    };
    let expire = u64::try_from(expire).ok().context("the new ExpireTime is before 1970")?;
    if expire > MAX_UNIX_TIME {
        bail!("the new ExpireTime is past the year 9999");
    }
    if args.in_place && (args.paths.is_empty() || args.paths.iter().any(|p| p.as_os_str() == "-")) {
        bail!("--in-place needs files: stdin cannot be written back");
    }
    let mut out = io::BufWriter::new(io::stdout().lock());
    let mut stderr = io::stderr().lock();
    let secret = key.secret_for_signing();
    super::finished(sign_inputs(&args.paths, secret, expire, args.in_place, &mut out, &mut stderr))
}

/// Signs every callback named by `paths` with `key` and `expire_time`, writing the results to
/// `out` as each callback is read, or back into each file with `in_place` (a temporary file
/// renamed over the original, so that a reader never sees half a file). Problems go to
/// `diagnostics`.
fn sign_inputs(
    paths: &[PathBuf],
    key: &[u8],
    expire_time: u64,
    in_place: bool,
    out: &mut dyn io::Write,
    diagnostics: &mut dyn io::Write,
) -> io::Result<ExitCode> {
    let mut code = ExitCode::Success;
    let unreadable = read_streams(paths, false, diagnostics, |input, diagnostics| {
        let name = input.name.clone();
        let outcome = match (input.source.clone(), in_place) {
            (source::Source::File(path), true) => sign_in_place(&path, input, key, expire_time),
            _ => sign_stream(input.reader, key, expire_time, out),
        };
        let signed = match outcome {
            Ok(signed) => signed,
            Err(error) => {
                writeln!(diagnostics, "tiwhook: {}: {error}", escape(&name))?;
                code = code.worse(ExitCode::Usage);
                return Ok(());
            }
        };
        for (at, problem) in &signed.problems {
            writeln!(
                diagnostics,
                "{}:{}:{}: not signed: {}",
                escape(&name),
                at.line,
                at.column,
                escape(problem)
            )?;
            code = code.worse(ExitCode::Failure);
        }
        for note in &signed.notes {
            writeln!(diagnostics, "tiwhook: {}: {note}", escape(&name))?;
        }
        Ok(())
    })?;
    out.flush()?;
    Ok(code.with_unreadable(unreadable))
}

/// Bytes that are no callback (between callbacks, or in a piece that is not one) passed through
/// at most: past that, an input is not a callback file, and signing it stops.
const MAX_PASSED_THROUGH: usize = MAX_DOCUMENT_BYTES + 1024 * 1024;

/// What was read of an input and not yet written: `bytes` start at input offset `base`.
#[derive(Default)]
struct Recorded {
    bytes: Vec<u8>,
    base: u64,
}

/// A reader that keeps a copy of what it reads, so that the text between documents can be
/// written out as it was.
struct Recorder<R> {
    inner: R,
    record: Rc<RefCell<Recorded>>,
}

impl<R: io::Read> io::Read for Recorder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut record = self.record.borrow_mut();
        if record.bytes.len() + n > MAX_PASSED_THROUGH {
            return Err(io::Error::other(format!(
                "more than {} MiB in a row that is not a callback: not a file of callbacks; stopped",
                MAX_PASSED_THROUGH / (1024 * 1024)
            )));
        }
        record.bytes.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

/// Signs one input as a stream, writing each callback (and the text around it) to `out` as soon
/// as it is read: memory holds one document and what was read ahead, never the whole input.
fn sign_stream(
    reader: Box<dyn io::Read>,
    key: &[u8],
    expire_time: u64,
    out: &mut dyn io::Write,
) -> io::Result<Signed> {
    let record = Rc::new(RefCell::new(Recorded::default()));
    let mut documents = JsonFramer::new(Recorder { inner: reader, record: record.clone() });
    let edit = Edit::new(key, expire_time);
    let mut result = Signed::default();
    let mut failure = None;
    loop {
        let item = match documents.next_item() {
            Ok(Some(item)) => item,
            Ok(None) => break,
            Err(error) => {
                failure = Some(error);
                break;
            }
        };
        let Some((start, bytes, edits)) = edit.of_item(&item, &mut result) else { continue };
        let mut record = record.borrow_mut();
        let at = (start - record.base) as usize;
        out.write_all(&record.bytes[..at])?;
        write_edited(out, bytes, &edits)?;
        let done = at + bytes.len();
        record.bytes.drain(..done);
        record.base = start + bytes.len() as u64;
        out.flush()?;
    }
    // Whatever follows the last callback, as it was.
    out.write_all(&record.borrow().bytes)?;
    out.flush()?;
    match failure {
        Some(error) => Err(error),
        None => Ok(result),
    }
}

/// Signs a file in place. It needs the whole file, so one over the document limit is refused;
/// so is a file with another hard link (the other name would keep the old text), and a file
/// that changed while it was signed (another program appending: its lines would be lost).
fn sign_in_place(path: &Path, input: OpenInput, key: &[u8], expire_time: u64) -> io::Result<Signed> {
    if let Some(compression) = input.compression {
        let first = match compression {
            archive::Compression::Utf16 { .. } => "convert it to UTF-8 first",
            _ => "decompress it first",
        };
        return Err(io::Error::other(format!(
            "{} data cannot be signed in place; {first}",
            compression.name()
        )));
    }
    let before = std::fs::metadata(path)?;
    if before.len() > MAX_DOCUMENT_BYTES as u64 {
        return Err(io::Error::other(format!(
            "over {} MiB: too large to sign in place (sign it to stdout instead, which streams)",
            MAX_DOCUMENT_BYTES / (1024 * 1024)
        )));
    }
    #[cfg(unix)]
    if std::os::unix::fs::MetadataExt::nlink(&before) > 1 {
        return Err(io::Error::other(
            "has other hard links, which would keep the old text; not rewritten (sign a copy)",
        ));
    }
    let mut bytes = Vec::new();
    io::Read::read_to_end(&mut io::Read::take(input.reader, MAX_DOCUMENT_BYTES as u64 + 1), &mut bytes)?;
    let mut signed = sign_all(&bytes, key, expire_time);
    let notes = replace_file(path, &signed.bytes, &before)?;
    signed.notes.extend(notes);
    Ok(signed)
}

/// Writes `bytes` over the file at `path`, safely: a link is followed to the real file, which is
/// what gets replaced (the link stays a link); a read-only file is refused; the new content goes
/// to a temporary file with an unpredictable name, created exclusively beside the real file (so
/// nothing planted there is followed or truncated), given the original's permissions, owner and
/// group (where the process may), synced, and renamed over it, unless the file changed since
/// `before` (its size or modification time), which is refused. The temporary file is removed on
/// any error, and by its guard if the run is cut short between its creation and the rename.
/// Returns what could not be kept, in words.
fn replace_file(path: &Path, bytes: &[u8], before: &std::fs::Metadata) -> io::Result<Vec<String>> {
    let real = std::fs::canonicalize(path)?;
    let meta = std::fs::metadata(&real)?;
    if !meta.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    if meta.permissions().readonly() {
        return Err(io::Error::new(io::ErrorKind::PermissionDenied, "the file is read-only; not rewritten"));
    }
    let mut notes = Vec::new();
    let dir = real.parent().unwrap_or(Path::new("."));
    let mut temporary = tempfile::Builder::new().prefix(".tiwhook-sign-").suffix(".tmp").tempfile_in(dir)?;
    temporary.write_all(bytes)?;
    temporary.as_file().set_permissions(meta.permissions())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let (uid, gid) = (meta.uid(), meta.gid());
        let new = temporary.as_file().metadata()?;
        if (new.uid(), new.gid()) != (uid, gid)
            && std::os::unix::fs::fchown(temporary.as_file(), Some(uid), Some(gid)).is_err()
        {
            notes.push(format!(
                "its owner and group ({uid}:{gid}) could not be kept: the signed file is yours"
            ));
        }
    }
    temporary.as_file().sync_all()?;
    let now = std::fs::metadata(&real)?;
    if now.len() != before.len() || now.modified().ok() != before.modified().ok() {
        return Err(io::Error::other(
            "changed while it was being signed (another program writing to it?); not rewritten",
        ));
    }
    temporary.persist(&real).map_err(|e| e.error)?;
    Ok(notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(input: &str) -> String {
        String::from_utf8(sign_all(input.as_bytes(), b"Xz4ZgayTr7rMgWQrH", 1588040109).bytes).unwrap()
    }

    const SIGN: &str = "a2dabb362a9b811c0e26953a6276a41c";

    #[test]
    fn replaces_values_in_place() {
        let input = "{\"EventType\": \"X\", \"ExpireTime\": 1, \"Sign\": \"old\", \"Timestamp\": 2}\n";
        assert_eq!(
            signed(input),
            format!(
                "{{\"EventType\": \"X\", \"ExpireTime\": 1588040109, \"Sign\": \"{SIGN}\", \"Timestamp\": 2}}\n"
            )
        );
    }

    #[test]
    fn adds_missing_members_in_the_documents_style() {
        assert_eq!(signed("{\"a\":1}"), format!("{{\"a\":1,\"ExpireTime\":1588040109,\"Sign\":\"{SIGN}\"}}"));
        assert_eq!(
            signed("{\n  \"a\": 1\n}\n"),
            format!("{{\n  \"a\": 1,\n  \"ExpireTime\": 1588040109,\n  \"Sign\": \"{SIGN}\"\n}}\n")
        );
        assert_eq!(signed("{}"), format!("{{\"ExpireTime\":1588040109,\"Sign\":\"{SIGN}\"}}"));
    }

    #[test]
    fn streams_and_arrays_keep_everything_between_callbacks() {
        let input = "[ {\"a\":1} ,\n  {\"Sign\":\"x\",\"ExpireTime\":5}\n]\n{\"b\":2}\n";
        let out = signed(input);
        assert!(out.starts_with("[ {\"a\":1,\"ExpireTime\":1588040109"), "{out}");
        assert!(
            out.contains(&format!(",\n  {{\"Sign\":\"{SIGN}\",\"ExpireTime\":1588040109}}\n]\n{{\"b\":2,")),
            "{out}"
        );
    }

    #[test]
    fn broken_pieces_are_left_as_they_are_and_reported() {
        let result = sign_all(b"{\"a\":,}\n[1]\n", b"k", 1);
        assert_eq!(result.problems.len(), 2);
        assert_eq!(result.signed, 0);
    }

    #[test]
    fn a_file_that_changed_since_it_was_read_is_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.ndjson");
        std::fs::write(&path, b"{\"a\":1}\n").unwrap();
        let before = std::fs::metadata(&path).unwrap();
        // Another program appends while the file is being signed.
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{\"b\":2}\n").unwrap();
        let error = replace_file(&path, b"signed\n", &before).unwrap_err();
        assert!(error.to_string().contains("changed while it was being signed"), "{error}");
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"a\":1}\n{\"b\":2}\n", "nothing lost");
        let now = std::fs::metadata(&path).unwrap();
        assert!(replace_file(&path, b"signed\n", &now).unwrap().is_empty());
        assert_eq!(std::fs::read(&path).unwrap(), b"signed\n");
    }
}
