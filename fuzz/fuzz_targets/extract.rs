//! Fuzzes the log extractor and the decompressing reader: any bytes, read as they are or behind a
//! gzip or zstd magic number, are cut into callbacks and broken pieces with positions inside the
//! input; nothing panics, and reading always ends.
#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;
use tiwhook::read::archive;
use tiwhook::read::extract::LogFramer;
use tiwhook::read::framing::Item;

fuzz_target!(|data: &[u8]| {
    let lines = data.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let mut extracted = LogFramer::new(data);
    let mut items = 0usize;
    while let Some(item) = extracted.next_item().expect("reading a slice cannot fail") {
        items += 1;
        assert!(items <= data.len() + 1, "more items than bytes");
        let (start, at) = match item {
            Item::Document(d) => (d.start, d.start),
            Item::Broken(b) => (b.start, b.at),
        };
        assert!(start.line <= lines && at.line <= lines, "a position past the input");
        assert!(start.line >= 1 && start.column >= 1);
    }
    assert!(extracted.lines() <= lines);
    // The same bytes as compressed data: decoding fails cleanly or yields bytes, never panics.
    for magic in [&[0x1f, 0x8b][..], &[0x28, 0xb5, 0x2f, 0xfd]] {
        let input: Vec<u8> = magic.iter().chain(data).copied().collect();
        let (mut reader, compression) =
            archive::decompressing(Box::new(std::io::Cursor::new(input))).expect("a slice opens");
        assert!(compression.is_some());
        let mut sink = [0u8; 4096];
        let mut total = 0usize;
        while let Ok(n) = reader.read(&mut sink) {
            if n == 0 || total > 64 * 1024 * 1024 {
                break;
            }
            total += n;
        }
    }
});
