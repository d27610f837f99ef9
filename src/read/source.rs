//! Turns the paths on the command line into the inputs to read, in order.
//!
//! No path, or `-`, is standard input. A directory stands for every `*.json`, `*.ndjson`,
//! `*.jsonl` and `*.body` (what `capture bodies --out-dir` writes) file below it (and `*.log` when
//! extracting from logs), each also compressed as `.gz` or `.zst`, in sorted order; symbolic links to directories are not followed (so a link loop
//! cannot trap the walk), links to files are. Inside a directory, only regular files are read: a
//! FIFO, socket or device there is skipped and said so (a FIFO named `x.json` would otherwise hold
//! the run forever), while one named on the command line is read as a stream. A path that cannot
//! be listed or opened is reported in its place, and the other inputs are still read. Every input
//! is opened through [`archive::decompressing`], so compressed ones are known by their content.

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::read::archive;

/// Extensions read from a directory. A file named on the command line is read whatever its name.
/// `body` is what `tiwhook capture bodies --out-dir` writes.
pub const EXTENSIONS: &[&str] = &["json", "ndjson", "jsonl", "body"];
/// Read from a directory too when extracting callbacks from logs.
pub const LOG_EXTENSIONS: &[&str] = &["log"];
/// Compressed forms of the above: `x.ndjson.gz`.
pub const COMPRESSED_EXTENSIONS: &[&str] = &["gz", "zst"];

/// One input to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Stdin,
    File(PathBuf),
}

impl Source {
    /// The name reports use: the path as given (joined below a directory), or `-`.
    pub fn name(&self) -> String {
        match self {
            Source::Stdin => "-".into(),
            Source::File(path) => path.to_string_lossy().into_owned(),
        }
    }

    /// Opens the input for reading, decompressed if it is gzip or zstd.
    pub fn open(&self) -> io::Result<Box<dyn Read>> {
        Ok(self.open_decompressing()?.0)
    }

    /// [`Source::open`], also saying which compression was found.
    pub fn open_decompressing(&self) -> io::Result<(Box<dyn Read>, Option<archive::Compression>)> {
        let raw: Box<dyn Read> = match self {
            Source::Stdin => Box::new(io::stdin().lock()),
            Source::File(path) => Box::new(File::open(path)?),
        };
        archive::decompressing(raw)
    }
}

/// One entry of the list of inputs.
#[derive(Debug)]
pub enum Entry {
    /// An input to read.
    Read(Source),
    /// A path that could not be listed or opened.
    Unlisted(Unlisted),
    /// A directory entry left out because it is no regular file; the text says what it is.
    Skipped { name: String, kind: &'static str },
}

/// An input that could not be listed.
#[derive(Debug)]
pub struct Unlisted {
    pub name: String,
    pub error: io::Error,
}

/// The inputs named by `paths`, in order, with the ones that could not be listed in their place.
/// `logs` adds the log extensions to what a directory walk takes.
pub fn expand(paths: &[PathBuf], logs: bool) -> Vec<Entry> {
    if paths.is_empty() {
        return vec![Entry::Read(Source::Stdin)];
    }
    let mut out = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            out.push(Entry::Read(Source::Stdin));
            continue;
        }
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => walk(path, logs, &mut out),
            Ok(_) => out.push(Entry::Read(Source::File(path.clone()))),
            Err(error) => {
                out.push(Entry::Unlisted(Unlisted { name: path.to_string_lossy().into_owned(), error }))
            }
        }
    }
    out
}

fn walk(dir: &Path, logs: bool, out: &mut Vec<Entry>) {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            out.push(Entry::Unlisted(Unlisted { name: dir.to_string_lossy().into_owned(), error }));
            return;
        }
    };
    let mut paths: Vec<(PathBuf, bool)> = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => {
                let path = entry.path();
                // `file_type` does not follow links: a linked directory is not walked.
                let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
                paths.push((path, is_dir));
            }
            Err(error) => {
                out.push(Entry::Unlisted(Unlisted { name: dir.to_string_lossy().into_owned(), error }))
            }
        }
    }
    paths.sort();
    for (path, is_dir) in paths {
        if is_dir {
            walk(&path, logs, out);
            continue;
        }
        if !has_callback_extension(&path, logs) {
            continue;
        }
        // `metadata` follows a link to what it names.
        match fs::metadata(&path) {
            Ok(meta) if meta.is_file() => out.push(Entry::Read(Source::File(path))),
            Ok(meta) if meta.is_dir() => {}
            Ok(meta) => {
                out.push(Entry::Skipped { name: path.to_string_lossy().into_owned(), kind: kind_of(&meta) })
            }
            Err(error) => {
                out.push(Entry::Unlisted(Unlisted { name: path.to_string_lossy().into_owned(), error }))
            }
        }
    }
}

/// What a file that is not a regular one is, in words.
fn kind_of(meta: &fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let kind = meta.file_type();
    if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_block_device() || kind.is_char_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

/// Whether a directory walk reads `path`: `x.json`, `x.ndjson.gz`, `x.log.zst` (with `logs`).
/// The files below the directories named in `paths` that a walk leaves out by their names: how
/// many, and how many of those are logs (`*.log`, read with `--extract`). Said when a run finds
/// no callback, so that the cause is named.
pub fn left_out_by_name(paths: &[PathBuf], logs: bool) -> (u64, u64) {
    fn visit(dir: &Path, logs: bool, counts: &mut (u64, u64), depth: u32) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() && depth < 64 => visit(&path, logs, counts, depth + 1),
                Ok(t) if t.is_file() && !has_callback_extension(&path, logs) => {
                    counts.0 += 1;
                    counts.1 += u64::from(has_callback_extension(&path, true));
                }
                _ => {}
            }
        }
    }
    let mut counts = (0, 0);
    for path in paths {
        if fs::metadata(path).is_ok_and(|m| m.is_dir()) {
            visit(path, logs, &mut counts, 0);
        }
    }
    counts
}

fn has_callback_extension(path: &Path, logs: bool) -> bool {
    let wanted = |ext: &str| EXTENSIONS.contains(&ext) || (logs && LOG_EXTENSIONS.contains(&ext));
    let ext = |p: &Path| p.extension().and_then(OsStr::to_str).map(str::to_ascii_lowercase);
    match ext(path) {
        Some(outer) if COMPRESSED_EXTENSIONS.contains(&outer.as_str()) => {
            path.file_stem().and_then(|stem| ext(Path::new(stem))).is_some_and(|inner| wanted(&inner))
        }
        Some(outer) => wanted(&outer),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_path_or_dash_is_stdin() {
        assert!(matches!(expand(&[], false)[..], [Entry::Read(Source::Stdin)]));
        assert!(matches!(expand(&[PathBuf::from("-")], false)[..], [Entry::Read(Source::Stdin)]));
    }

    #[test]
    fn a_missing_path_is_reported_in_place() {
        let got = expand(&[PathBuf::from("/no/such/file.json"), PathBuf::from("-")], false);
        assert!(
            matches!(&got[..], [Entry::Unlisted(u), Entry::Read(Source::Stdin)] if u.name == "/no/such/file.json")
        );
    }

    #[test]
    fn extensions() {
        assert!(has_callback_extension(Path::new("a/b.ndjson"), false));
        assert!(has_callback_extension(Path::new("a/b.ndjson.gz"), false));
        assert!(has_callback_extension(Path::new("a/b.JSON.ZST"), false));
        assert!(!has_callback_extension(Path::new("a/b.txt"), false));
        assert!(!has_callback_extension(Path::new("a/b.txt.gz"), false));
        assert!(!has_callback_extension(Path::new("a/b.gz"), false));
        assert!(!has_callback_extension(Path::new("a/json"), false));
        assert!(!has_callback_extension(Path::new("a/app.log"), false));
        assert!(has_callback_extension(Path::new("a/app.log"), true));
        assert!(has_callback_extension(Path::new("a/app.log.gz"), true));
    }
}
