//! `listen --save`: every request appended to the save file, durable before it is answered.
//!
//! One thread owns the file. Requests hand it their capture line and wait for its answer; the
//! thread takes every line that is waiting, writes them with one `write` and makes them durable
//! with one `sync_data` (a group commit), then tells each request the line number its capture
//! now has. The async workers never block on the disk, and under load many requests share one
//! sync. A write or sync that fails is undone (the file is cut back to its length before the
//! group), and each request of the group is told, so that it is answered 500 and Tencent retries:
//! the file never holds a fragment, and no request is answered 200 before its line is durable.

use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::mpsc;

use tokio::sync::oneshot;

/// Lines written together at most, and bytes: a larger backlog is written in several groups.
const GROUP_LINES: usize = 512;
const GROUP_BYTES: usize = 8 * 1024 * 1024;

/// The save file: appended to whole lines at a time, or not at all.
pub struct SaveFile {
    file: std::fs::File,
    /// Lines the file holds (a last line without its line feed counts).
    lines: u64,
    /// The file ends inside a line (a crash mid-write, in another program): the next append
    /// starts a line of its own first.
    ends_inside_a_line: bool,
}

const NOT_A_REGULAR_FILE: &str = "not a regular file: the save file must be one (or a new path)";

impl SaveFile {
    /// Opens `path` for appending, creating it. Anything that is not, or would not become, a
    /// regular file is refused: a FIFO, a device or a directory (appends could not be made
    /// durable or undone there), and a symbolic link whose target does not exist (it would create
    /// a file somewhere else than the user named).
    pub fn open(path: &Path) -> io::Result<SaveFile> {
        match std::fs::symlink_metadata(path) {
            Ok(link) if link.file_type().is_symlink() => match std::fs::metadata(path) {
                Err(_) => {
                    return Err(io::Error::other(
                        "a symbolic link to nothing: name the file it should point to, or a new path",
                    ));
                }
                Ok(target) if !target.is_file() => return Err(io::Error::other(NOT_A_REGULAR_FILE)),
                Ok(_) => {}
            },
            Ok(meta) if !meta.is_file() => return Err(io::Error::other(NOT_A_REGULAR_FILE)),
            _ => {}
        }
        let mut file = std::fs::OpenOptions::new().create(true).read(true).append(true).open(path)?;
        if !file.metadata()?.is_file() {
            return Err(io::Error::other(NOT_A_REGULAR_FILE));
        }
        let (lines, ends_inside_a_line) = count_lines(&mut file)?;
        Ok(SaveFile { file, lines, ends_inside_a_line })
    }

    /// Lines the file holds now.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Appends `lines` (each ending with a line feed) and syncs them to disk; returns the number
    /// of the first one. On failure the file is cut back to its length before, so that it never
    /// holds a fragment, and the error is returned.
    pub fn append(&mut self, lines: &[u8]) -> io::Result<u64> {
        let before = self.file.metadata()?.len();
        let mut written = Ok(());
        if self.ends_inside_a_line {
            written = self.file.write_all(b"\n");
        }
        let written = written.and_then(|()| self.file.write_all(lines)).and_then(|()| self.file.sync_data());
        if let Err(error) = written {
            let _ = self.file.set_len(before).and_then(|()| self.file.sync_data());
            return Err(error);
        }
        self.ends_inside_a_line = false;
        let first = self.lines + 1;
        self.lines += memchr::memchr_iter(b'\n', lines).count() as u64;
        Ok(first)
    }
}

/// The lines of a file read from its start, and whether it ends inside one.
fn count_lines(file: &mut std::fs::File) -> io::Result<(u64, bool)> {
    let mut buffer = vec![0; 64 * 1024];
    let (mut lines, mut last) = (0u64, b'\n');
    let mut reader = &*file;
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        lines += memchr::memchr_iter(b'\n', &buffer[..n]).count() as u64;
        last = buffer[n - 1];
    }
    let inside = last != b'\n';
    Ok((lines + u64::from(inside), inside))
}

/// One line waiting to be saved, and who waits for it.
struct Pending {
    line: Vec<u8>,
    saved: oneshot::Sender<io::Result<u64>>,
}

/// The thread that owns the save file.
pub struct Saver {
    pending: mpsc::Sender<Pending>,
}

impl Saver {
    pub fn start(mut file: SaveFile) -> io::Result<Saver> {
        let (pending, waiting) = mpsc::channel::<Pending>();
        std::thread::Builder::new().name("listen-save".into()).spawn(move || {
            while let Ok(first) = waiting.recv() {
                let mut group = vec![first];
                let mut bytes = group[0].line.len();
                while group.len() < GROUP_LINES && bytes < GROUP_BYTES {
                    match waiting.try_recv() {
                        Ok(next) => {
                            bytes += next.line.len();
                            group.push(next);
                        }
                        Err(_) => break,
                    }
                }
                commit(&mut file, group);
            }
        })?;
        Ok(Saver { pending })
    }

    /// Saves one capture line; returns its line number in the file once it is durable.
    pub async fn save(&self, line: Vec<u8>) -> io::Result<u64> {
        let (saved, outcome) = oneshot::channel();
        self.pending
            .send(Pending { line, saved })
            .map_err(|_| io::Error::other("the save thread is gone"))?;
        outcome.await.unwrap_or_else(|_| Err(io::Error::other("the save thread is gone")))
    }
}

/// Writes a group with one write and one sync, and tells each of its requests.
fn commit(file: &mut SaveFile, group: Vec<Pending>) {
    let lines: Vec<u8> = group.iter().flat_map(|p| p.line.iter().copied()).collect();
    match file.append(&lines) {
        Ok(first) => {
            for (n, pending) in group.into_iter().enumerate() {
                let _ = pending.saved.send(Ok(first + n as u64));
            }
        }
        Err(error) => {
            for pending in group {
                let _ = pending.saved.send(Err(io::Error::new(error.kind(), error.to_string())));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_are_numbered_and_a_torn_end_gets_its_own_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("save.ndjson");
        std::fs::write(&path, b"{\"a\":1}\n{\"torn\":").unwrap();
        let mut save = SaveFile::open(&path).unwrap();
        assert_eq!(save.append(b"{\"b\":2}\n{\"c\":3}\n").unwrap(), 3);
        assert_eq!(save.append(b"{\"d\":4}\n").unwrap(), 5);
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"{\"a\":1}\n{\"torn\":\n{\"b\":2}\n{\"c\":3}\n{\"d\":4}\n"
        );
        assert!(SaveFile::open(dir.path()).is_err(), "a directory is refused");
    }

    #[cfg(unix)]
    #[test]
    fn a_dangling_link_is_refused_and_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("save.ndjson");
        let target = dir.path().join("elsewhere.ndjson");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let error = SaveFile::open(&link).err().expect("refused");
        assert!(error.to_string().contains("symbolic link to nothing"), "{error}");
        assert!(!target.exists());
        std::fs::write(&target, b"").unwrap();
        assert!(SaveFile::open(&link).is_ok(), "a link to a regular file is followed");
    }
}
