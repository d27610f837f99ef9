//! Fuzzes the reader: any bytes are cut into documents and broken pieces, with positions that
//! stay inside the input, and the reader always ends.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tiwhook::read::framing::{JsonFramer, Item};

fuzz_target!(|data: &[u8]| {
    let lines = data.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    // A small limit reaches the too-large path with small inputs.
    let mut documents = JsonFramer::with_limit(data, 256);
    let mut items = 0usize;
    while let Some(item) = documents.next_item().expect("reading a slice cannot fail") {
        items += 1;
        assert!(items <= data.len() + 1, "more items than bytes");
        let (start, at) = match item {
            Item::Document(d) => {
                assert!(!d.doc.bytes().is_empty());
                (d.start, d.start)
            }
            Item::Broken(b) => (b.start, b.at),
        };
        assert!(start.line <= lines && at.line <= lines, "a position past the input");
        assert!(start.line >= 1 && start.column >= 1);
    }
});
