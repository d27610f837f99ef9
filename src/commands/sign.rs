//! `tiwhook sign`: gives fixtures a new `ExpireTime` and the `Sign` that goes with it.
//!
//! Fixtures are files people read and diff, so signing edits them as text: only the values of
//! `ExpireTime` and `Sign` change, or, where a callback has none, the two members are added at the
//! end of its object in the layout the document already uses (pretty stays pretty, one line stays
//! one line). Everything else, field order and white space included, is left byte for byte.

use std::io::{self, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::cli::SignArgs;
use crate::config::{self, Environment};
use crate::exit_codes::ExitCode;
use crate::judge::events::MAX_UNIX_TIME;
use crate::judge::signature;
use crate::read::framing::{Documents, Item};
use crate::read::locate::{self, Step};
use crate::read::source;
use crate::read::window::Position;
use crate::sanitize::escape;
use crate::timefmt;

pub fn run(args: &SignArgs, env: &Environment) -> anyhow::Result<ExitCode> {
    let keys = config::keys(&args.keys, env).map_err(anyhow::Error::msg)?;
    let Some(key) = keys.first() else {
        bail!("sign needs a key: give --key, --key-file or --key-env (default TIW_CALLBACK_KEY)");
    };
    let expire = match (&args.expire_at, &args.expire_in) {
        (Some(at), _) => timefmt::parse_time(at).map_err(anyhow::Error::msg).context("--expire-at")?,
        (None, Some(duration)) => {
            let now = config::clock(args.now.as_deref(), env).map_err(anyhow::Error::msg)?;
            let duration =
                timefmt::parse_duration(duration).map_err(anyhow::Error::msg).context("--expire-in")?;
            now.checked_add(duration).context("--expire-in: the new ExpireTime is past the year 9999")?
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
/// `out`, or back into each file with `in_place` (a temporary file renamed over the original, so
/// that a reader never sees half a file). Problems go to `diagnostics`.
fn sign_inputs(
    paths: &[PathBuf],
    key: &[u8],
    expire_time: u64,
    in_place: bool,
    out: &mut dyn io::Write,
    diagnostics: &mut dyn io::Write,
) -> io::Result<ExitCode> {
    let mut code = ExitCode::Success;
    let unreadable = source::read_whole(paths, false, diagnostics, |input, diagnostics| {
        let source::WholeInput { source, name, bytes: input, compression } = input;
        if let (Some(compression), true) = (compression, in_place) {
            writeln!(
                diagnostics,
                "tiwhook: {}: {} data cannot be signed in place; decompress it first",
                escape(&name),
                compression.name()
            )?;
            code = ExitCode::Usage;
            return Ok(());
        }
        let signed = sign_all(&input, key, expire_time);
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
        Ok(())
    })?;
    if unreadable > 0 {
        code = ExitCode::Usage;
    }
    out.flush()?;
    Ok(code)
}

/// Writes `bytes` over the file at `path`, safely: a link is followed to the real file, which is
/// what gets replaced (the link stays a link); a read-only file is refused; the new content goes
/// to a temporary file with an unpredictable name, created exclusively beside the real file (so
/// nothing planted there is followed or truncated), given the original's permissions, synced, and
/// renamed over it. The temporary file is removed on any error, and by its guard if the run is
/// cut short between its creation and the rename.
fn replace_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let real = std::fs::canonicalize(path)?;
    let meta = std::fs::metadata(&real)?;
    if !meta.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    if meta.permissions().readonly() {
        return Err(io::Error::new(io::ErrorKind::PermissionDenied, "the file is read-only; not rewritten"));
    }
    let dir = real.parent().unwrap_or(Path::new("."));
    let mut temporary = tempfile::Builder::new().prefix(".tiwhook-sign-").suffix(".tmp").tempfile_in(dir)?;
    temporary.write_all(bytes)?;
    temporary.as_file().set_permissions(meta.permissions())?;
    temporary.as_file().sync_all()?;
    temporary.persist(&real).map_err(|e| e.error)?;
    Ok(())
}

/// The outcome of signing one input.
#[derive(Debug, Default)]
pub struct Signed {
    pub bytes: Vec<u8>,
    /// Callbacks signed.
    pub signed: u64,
    /// Pieces left as they were, with why.
    pub problems: Vec<(Position, String)>,
}

/// Signs every callback in `input` with `key` and `expire_time`.
pub fn sign_all(input: &[u8], key: &[u8], expire_time: u64) -> Signed {
    let sign = signature::sign(key, expire_time);
    let expire = expire_time.to_string();
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    let mut result = Signed::default();
    let mut documents = Documents::new(input);
    // Reading a slice cannot fail.
    while let Ok(Some(item)) = documents.next_item() {
        match item {
            Item::Broken(broken) => {
                result.problems.push((broken.start, format!("{}; left as it is", broken.message)));
            }
            Item::Document(document) if !document.doc.root().is_object() => {
                let message = "not a JSON object; left as it is".to_string();
                result.problems.push((document.start, message));
            }
            Item::Document(document) => {
                let base = document.start.offset as usize;
                let bytes = document.doc.bytes();
                let root = document.doc.root();
                let mut missing = Vec::new();
                for (name, value) in [("ExpireTime", expire.clone()), ("Sign", format!("\"{sign}\""))] {
                    let count = root.members().filter(|(k, _)| k.is(name)).count() as u32;
                    if count == 0 {
                        missing.push((name, value.clone()));
                    }
                    for nth in 0..count {
                        if let Some(range) = locate::value_range(bytes, &[Step::Key { name, nth }]) {
                            edits.push((base + range.start..base + range.end, value.clone()));
                        }
                    }
                }
                if !missing.is_empty() {
                    let (at, text) = insertion(bytes, &missing);
                    edits.push((base + at..base + at, text));
                }
                result.signed += 1;
            }
        }
    }
    edits.sort_by_key(|(range, _)| range.start);
    let mut at = 0;
    for (range, text) in edits {
        result.bytes.extend_from_slice(&input[at..range.start]);
        result.bytes.extend_from_slice(text.as_bytes());
        at = range.end;
    }
    result.bytes.extend_from_slice(&input[at..]);
    result
}

/// Where and what to insert to add `members` at the end of the object `bytes`, in its style.
fn insertion(bytes: &[u8], members: &[(&str, String)]) -> (usize, String) {
    let close = bytes.iter().rposition(|&b| b == b'}').unwrap_or(bytes.len());
    let end_of_last = bytes[..close].iter().rposition(|b| !b.is_ascii_whitespace()).map_or(0, |i| i + 1);
    let open = bytes.iter().position(|&b| b == b'{').unwrap_or(0);
    let empty = end_of_last <= open + 1;
    // The white space before the first member (a new line and its indent, or nothing) and
    // the separator between a key and its value (":" or ": "), as the document has them.
    let first =
        bytes[open + 1..].iter().position(|b| !b.is_ascii_whitespace()).map_or(open + 1, |i| open + 1 + i);
    let lead = if empty { "" } else { std::str::from_utf8(&bytes[open + 1..first]).unwrap_or("") };
    let colon = if bytes.windows(2).any(|w| w == b": ") { ": " } else { ":" };
    let mut text = String::new();
    for (i, (name, value)) in members.iter().enumerate() {
        if !empty || i > 0 {
            text.push(',');
        }
        text.push_str(lead);
        text.push_str(&format!("\"{name}\"{colon}{value}"));
    }
    (if empty { open + 1 } else { end_of_last }, text)
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
}
