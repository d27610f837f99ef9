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

/// A compression format `tiwhook` reads (or, for UTF-16, an encoding it decodes the same way).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Zstd,
    /// UTF-16 text with a byte-order mark (what PowerShell 5's `>` writes), read as UTF-8.
    Utf16 {
        big_endian: bool,
    },
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
            Compression::Utf16 { big_endian: false } => "UTF-16LE",
            Compression::Utf16 { big_endian: true } => "UTF-16BE",
        }
    }

    /// A note for the user when the input is not what it seems, such as UTF-16 text.
    pub fn note(self) -> Option<&'static str> {
        match self {
            Compression::Utf16 { .. } => Some(
                "this file is UTF-16 text (as PowerShell 5's `>` writes), not UTF-8: read decoded; \
                 `Out-File -Encoding utf8` or `iconv -f UTF-16 -t UTF-8` writes it as Tencent sends it",
            ),
            _ => None,
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
    let big_endian = match head {
        [0xff, 0xfe, ..] => Some(false),
        [0xfe, 0xff, ..] => Some(true),
        _ => None,
    };
    if let Some(big_endian) = big_endian {
        buffered.consume(2);
        let decoder = Utf16Decoder { inner: buffered, big_endian, pending: Vec::new(), carry: Vec::new() };
        return Ok((Box::new(decoder), Some(Compression::Utf16 { big_endian })));
    }
    let Some(compression) = Compression::sniff(head) else {
        return Ok((Box::new(buffered), None));
    };
    let consumed = Rc::new(Cell::new(0));
    let counted = Counted { inner: buffered, consumed: consumed.clone() };
    let decoder: Box<dyn Read + 'r> = match compression {
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(counted)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(counted)?),
        Compression::Utf16 { .. } => unreachable!("sniff finds no UTF-16"),
    };
    Ok((Box::new(Decompressed { decoder, compression, consumed }), Some(compression)))
}

/// UTF-16 text read as UTF-8, as it is read: code units in, their characters out. An unpaired
/// surrogate becomes U+FFFD, as the JSON reader would then report what it cannot parse.
struct Utf16Decoder<R> {
    inner: R,
    big_endian: bool,
    /// Decoded bytes not yet handed out.
    pending: Vec<u8>,
    /// Bytes of a code unit, or of a surrogate pair, whose rest is still to come.
    carry: Vec<u8>,
}

impl<R: Read> Utf16Decoder<R> {
    fn unit(&self, pair: &[u8]) -> u16 {
        let pair = [pair[0], pair[1]];
        if self.big_endian { u16::from_be_bytes(pair) } else { u16::from_le_bytes(pair) }
    }
}

impl<R: Read> Read for Utf16Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pending.is_empty() {
            let mut raw = std::mem::take(&mut self.carry);
            let start = raw.len();
            raw.resize(start + 16 * 1024, 0);
            let n = self.inner.read(&mut raw[start..])?;
            raw.truncate(start + n);
            if n == 0 {
                if raw.is_empty() {
                    return Ok(0);
                }
                // The input ends inside a character.
                self.pending.extend_from_slice("\u{fffd}".as_bytes());
                break;
            }
            let mut whole = raw.len() - raw.len() % 2;
            // A high surrogate at the end waits for its low half.
            if whole >= 2 && (0xd800..0xdc00).contains(&self.unit(&raw[whole - 2..whole])) {
                whole -= 2;
            }
            self.carry = raw[whole..].to_vec();
            let units: Vec<u16> = raw[..whole].chunks_exact(2).map(|pair| self.unit(pair)).collect();
            for decoded in char::decode_utf16(units) {
                let c = decoded.unwrap_or(char::REPLACEMENT_CHARACTER);
                let mut utf8 = [0u8; 4];
                self.pending.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            }
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
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

    #[test]
    fn utf16_with_a_byte_order_mark_is_read_as_utf8() {
        let text = "{\"TaskId\":\"李老师 😀\"}\n";
        for big_endian in [false, true] {
            let mut bytes: Vec<u8> = if big_endian { vec![0xfe, 0xff] } else { vec![0xff, 0xfe] };
            for unit in text.encode_utf16() {
                bytes.extend(if big_endian { unit.to_be_bytes() } else { unit.to_le_bytes() });
            }
            // Read three bytes at a time, so that pairs and surrogates are cut across reads.
            struct ThreeByThree(std::io::Cursor<Vec<u8>>);
            impl Read for ThreeByThree {
                fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                    let n = buf.len().min(3);
                    self.0.read(&mut buf[..n])
                }
            }
            let input = ThreeByThree(std::io::Cursor::new(bytes));
            let (mut reader, found) = decompressing(Box::new(input)).unwrap();
            assert_eq!(found, Some(Compression::Utf16 { big_endian }));
            let mut decoded = String::new();
            reader.read_to_string(&mut decoded).unwrap();
            assert_eq!(decoded, text);
        }
    }
}
