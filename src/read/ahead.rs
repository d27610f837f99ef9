//! Compressed inputs decoded ahead, each on a thread of its own, while the inputs before them are
//! still being read: with many `.gz` or `.zst` files, decoding (often the costliest part of
//! reading them) runs on as many cores as there are inputs in flight, and the inputs are still
//! handed over one at a time, in the order they were named.
//!
//! An input is looked at first: one that is not compressed is handed back as it is, to be read
//! where it is used. Decoded bytes wait in a bounded queue of chunks, so memory stays at a few
//! chunks per input whatever the input holds.

use std::fs::File;
use std::io::{self, Read, Seek};
use std::path::PathBuf;
use std::sync::mpsc;

use crate::read::archive::{self, Compression};

/// Bytes decoded at once.
const CHUNK: usize = 256 * 1024;
/// Chunks decoded ahead of the reader, per input.
const CHUNKS_AHEAD: usize = 4;

/// An input being opened, and decoded if it is compressed, on a thread of its own.
pub struct ReadAhead {
    opened: mpsc::Receiver<Decoded>,
}

/// What the decoding thread says, in order: how it opened, then bytes until the end or a failure.
enum Decoded {
    /// Not compressed: the file, at its start, to read as any input.
    Plain(File),
    /// Compressed in this format; its decoded bytes follow.
    Compressed(Compression),
    Bytes(Vec<u8>),
    Failed(io::Error),
}

/// An opened input: a plain file, or a compressed one's decoded bytes, and the format.
pub type Opened = (Box<dyn Read>, Option<Compression>);

impl ReadAhead {
    /// Starts opening `path`, and decoding it if it is compressed.
    pub fn start(path: PathBuf) -> ReadAhead {
        let (decoded, opened) = mpsc::sync_channel(CHUNKS_AHEAD);
        std::thread::spawn(move || {
            if let Err(error) = decode(path, &decoded) {
                let _ = decoded.send(Decoded::Failed(error));
            }
        });
        ReadAhead { opened }
    }

    /// Waits until the input is open: a plain file is read as any input is (and may still turn
    /// out to be UTF-16); a compressed one gives the bytes decoded ahead.
    pub fn open(self) -> io::Result<Opened> {
        match self.opened.recv() {
            Ok(Decoded::Plain(file)) => archive::decompressing(Box::new(file)),
            Ok(Decoded::Compressed(compression)) => {
                let reader = Chunks { decoded: self.opened, chunk: Vec::new(), at: 0 };
                Ok((Box::new(reader), Some(compression)))
            }
            Ok(Decoded::Failed(error)) => Err(error),
            Ok(Decoded::Bytes(_)) | Err(_) => Err(io::Error::other("the decoding thread stopped")),
        }
    }
}

/// The decoding thread: opens `path`, hands back a plain file, or decodes a compressed one.
fn decode(path: PathBuf, decoded: &mpsc::SyncSender<Decoded>) -> io::Result<()> {
    let mut file = File::open(path)?;
    if !file.metadata()?.is_file() {
        // A FIFO named on the command line, say: read where it is used, as it comes.
        let _ = decoded.send(Decoded::Plain(file));
        return Ok(());
    }
    let mut head = [0u8; 4];
    let mut seen = 0;
    while seen < head.len() {
        match file.read(&mut head[seen..]) {
            Ok(0) => break,
            Ok(n) => seen += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    file.rewind()?;
    let Some(compression) = Compression::sniff(&head[..seen]) else {
        let _ = decoded.send(Decoded::Plain(file));
        return Ok(());
    };
    let (mut reader, _) = archive::decompressing(Box::new(file))?;
    if decoded.send(Decoded::Compressed(compression)).is_err() {
        return Ok(());
    }
    loop {
        let mut chunk = vec![0; CHUNK];
        let n = match reader.read(&mut chunk) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        chunk.truncate(n);
        if decoded.send(Decoded::Bytes(chunk)).is_err() {
            // The reader is gone: nothing more is wanted.
            return Ok(());
        }
    }
}

/// The decoded bytes, read as they come.
struct Chunks {
    decoded: mpsc::Receiver<Decoded>,
    chunk: Vec<u8>,
    at: usize,
}

impl Read for Chunks {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.chunk.len() {
            match self.decoded.recv() {
                Ok(Decoded::Bytes(chunk)) => (self.chunk, self.at) = (chunk, 0),
                Ok(Decoded::Failed(error)) => return Err(error),
                // The end of the input (the thread is done).
                Ok(Decoded::Plain(_) | Decoded::Compressed(_)) | Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}
