//! Compressed inputs: gzip and zstd, known by their first bytes rather than by their names.
//!
//! Rotated captures are `*.ndjson.gz` or `*.zst`, and `zcat`-less pipes send them raw. Every input
//! passes through [`decompressing`], which looks at its first four bytes: a gzip or zstd magic
//! number puts a streaming decoder in front of the input (so memory stays bounded however large
//! the decompressed data, and the per-callback cap applies to decompressed bytes), anything else is
//! read as it is. A `.gz` file that is really plain text is read as text.
//!
//! When the compressed data is corrupt or cut short, the decoder's error becomes an
//! [`ArchiveError`] that says which format broke and after how many compressed bytes, so the reader
//! can report it as a finding at the place the text stopped, after every callback before it.

use std::cell::Cell;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

/// A compression format `tiwhook` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Zstd,
}

impl Compression {
    /// The format whose magic number `head` starts with.
    pub fn sniff(head: &[u8]) -> Option<Compression> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Compression::Gzip)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Compression::Zstd)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// The compressed data of an input is corrupt or cut short.
#[derive(Debug)]
pub struct ArchiveError {
    pub compression: Compression,
    /// Compressed bytes the decoder had taken in when it failed.
    pub consumed: u64,
    /// What the decoder said.
    pub reason: String,
}

impl fmt::Display for ArchiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the {} data breaks off after {} compressed bytes: {}",
            self.compression.name(),
            self.consumed,
            self.reason
        )
    }
}

impl std::error::Error for ArchiveError {}

impl ArchiveError {
    /// The archive error an I/O error carries, if it is one.
    pub fn of(error: &io::Error) -> Option<&ArchiveError> {
        error.get_ref()?.downcast_ref::<ArchiveError>()
    }
}

/// `reader`, decompressed if its first bytes are a gzip or zstd magic number, and the format found.
/// The first bytes are seen through a buffer's first fill (for a file, its first 64 KiB), which the
/// reader then gets whole, so nothing is read twice.
pub fn decompressing<'r>(
    reader: Box<dyn Read + 'r>,
) -> io::Result<(Box<dyn Read + 'r>, Option<Compression>)> {
    let mut buffered = BufReader::with_capacity(64 * 1024, reader);
    let head = loop {
        match buffered.fill_buf() {
            Ok(head) => break head,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    };
    let Some(compression) = Compression::sniff(head) else {
        return Ok((Box::new(buffered), None));
    };
    let consumed = Rc::new(Cell::new(0));
    let counted = Counted { inner: buffered, consumed: consumed.clone() };
    let decoder: Box<dyn Read + 'r> = match compression {
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(counted)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(counted)?),
    };
    Ok((Box::new(Decompressed { decoder, compression, consumed }), Some(compression)))
}

/// A buffered input that counts the bytes its reader has taken from it.
struct Counted<R> {
    inner: BufReader<R>,
    consumed: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed.set(self.consumed.get() + n as u64);
        Ok(n)
    }
}

impl<R: Read> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.consumed.set(self.consumed.get() + amount as u64);
        self.inner.consume(amount);
    }
}

/// A decoder whose failures are [`ArchiveError`]s.
struct Decompressed<'r> {
    decoder: Box<dyn Read + 'r>,
    compression: Compression,
    consumed: Rc<Cell<u64>>,
}

impl Read for Decompressed<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.decoder.read(buf).map_err(|error| {
            if error.kind() == io::ErrorKind::Interrupted {
                return error;
            }
            let reason = match error.kind() {
                io::ErrorKind::UnexpectedEof => "the data ends before the archive does".to_string(),
                _ => error.to_string(),
            };
            io::Error::new(
                io::ErrorKind::InvalidData,
                ArchiveError { compression: self.compression, consumed: self.consumed.get(), reason },
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(text: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(text).unwrap();
        encoder.finish().unwrap()
    }

    fn read_all(bytes: Vec<u8>) -> (io::Result<Vec<u8>>, Option<Compression>) {
        let (mut reader, compression) = decompressing(Box::new(io::Cursor::new(bytes))).unwrap();
        let mut out = Vec::new();
        (reader.read_to_end(&mut out).map(|_| out), compression)
    }

    #[test]
    fn plain_text_passes_through_whole() {
        for text in [&b""[..], b"{", b"{}\n", b"{\"EventType\":1}\n"] {
            let (out, compression) = read_all(text.to_vec());
            assert_eq!(out.unwrap(), text);
            assert_eq!(compression, None);
        }
    }

    #[test]
    fn gzip_members_and_zstd_frames_are_read_one_after_another() {
        let mut two = gzip(b"{\"a\":1}\n");
        two.extend(gzip(b"{\"b\":2}\n"));
        let (out, compression) = read_all(two);
        assert_eq!(
            (out.unwrap(), compression),
            (b"{\"a\":1}\n{\"b\":2}\n".to_vec(), Some(Compression::Gzip))
        );
        let mut frames = zstd::encode_all(&b"{\"a\":1}\n"[..], 3).unwrap();
        frames.extend(zstd::encode_all(&b"{\"b\":2}\n"[..], 3).unwrap());
        let (out, compression) = read_all(frames);
        assert_eq!(
            (out.unwrap(), compression),
            (b"{\"a\":1}\n{\"b\":2}\n".to_vec(), Some(Compression::Zstd))
        );
    }

    #[test]
    fn a_cut_archive_is_an_archive_error() {
        let text: Vec<u8> = (0..2000).flat_map(|i| format!("{{\"n\":{i}}}\n").into_bytes()).collect();
        for (whole, compression) in
            [(gzip(&text), Compression::Gzip), (zstd::encode_all(&text[..], 3).unwrap(), Compression::Zstd)]
        {
            let cut = whole[..whole.len() / 2].to_vec();
            let (out, found) = read_all(cut);
            assert_eq!(found, Some(compression));
            let error = out.unwrap_err();
            let archive = ArchiveError::of(&error).expect("an archive error");
            assert_eq!(archive.compression, compression);
            assert!(archive.consumed > 0 && archive.consumed <= (whole.len() / 2) as u64, "{archive}");
        }
    }
}
