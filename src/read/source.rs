//! Turns the paths on the command line into the inputs to read, in order.
//!
//! No path, or `-`, is standard input. A directory stands for every `*.json`, `*.ndjson` and
//! `*.jsonl` file below it, in sorted order; symbolic links to directories are not followed (so a
//! link loop cannot trap the walk), links to files are. A path that cannot be listed or opened is
//! reported in its place, and the other inputs are still read.

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Extensions read from a directory. A file named on the command line is read whatever its name.
pub const EXTENSIONS: &[&str] = &["json", "ndjson", "jsonl"];

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

    /// Opens the input for reading.
    pub fn open(&self) -> io::Result<Box<dyn Read>> {
        match self {
            Source::Stdin => Ok(Box::new(io::stdin().lock())),
            Source::File(path) => Ok(Box::new(File::open(path)?)),
        }
    }
}

/// An input that could not be listed.
#[derive(Debug)]
pub struct Unlisted {
    pub name: String,
    pub error: io::Error,
}

/// The inputs named by `paths`, in order, with the ones that could not be listed in their place.
pub fn expand(paths: &[PathBuf]) -> Vec<Result<Source, Unlisted>> {
    if paths.is_empty() {
        return vec![Ok(Source::Stdin)];
    }
    let mut out = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            out.push(Ok(Source::Stdin));
            continue;
        }
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => walk(path, &mut out),
            Ok(_) => out.push(Ok(Source::File(path.clone()))),
            Err(error) => out.push(Err(Unlisted { name: path.to_string_lossy().into_owned(), error })),
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<Result<Source, Unlisted>>) {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            out.push(Err(Unlisted { name: dir.to_string_lossy().into_owned(), error }));
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
            Err(error) => out.push(Err(Unlisted { name: dir.to_string_lossy().into_owned(), error })),
        }
    }
    paths.sort();
    for (path, is_dir) in paths {
        if is_dir {
            walk(&path, out);
        } else if has_callback_extension(&path) && !fs::metadata(&path).is_ok_and(|m| m.is_dir()) {
            out.push(Ok(Source::File(path)));
        }
    }
}

fn has_callback_extension(path: &Path) -> bool {
    path.extension().and_then(OsStr::to_str).is_some_and(|ext| EXTENSIONS.contains(&ext))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_path_or_dash_is_stdin() {
        assert!(matches!(expand(&[])[..], [Ok(Source::Stdin)]));
        assert!(matches!(expand(&[PathBuf::from("-")])[..], [Ok(Source::Stdin)]));
    }

    #[test]
    fn a_missing_path_is_reported_in_place() {
        let got = expand(&[PathBuf::from("/no/such/file.json"), PathBuf::from("-")]);
        assert!(matches!(&got[..], [Err(u), Ok(Source::Stdin)] if u.name == "/no/such/file.json"));
    }

    #[test]
    fn extensions() {
        assert!(has_callback_extension(Path::new("a/b.ndjson")));
        assert!(!has_callback_extension(Path::new("a/b.txt")));
        assert!(!has_callback_extension(Path::new("a/json")));
    }
}
