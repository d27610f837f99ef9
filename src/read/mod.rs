//! Reading: from the bytes of the inputs to parsed documents with positions.
//!
//! [`source`] lists and opens the inputs (files, directory walks, stdin), through [`archive`],
//! which decompresses gzip and zstd; [`window`] keeps a sliding buffer over one input that knows
//! the line and column of every byte; [`framing`] cuts that buffer into documents (a single value,
//! array elements, JSON Lines, concatenated objects) and broken pieces, or, for logs, [`extract`]
//! finds the callbacks inside each line; [`tape`] is the parsed form of one document; [`locate`]
//! finds where a value stands in a document's text; [`capture`] is the format `listen --save`
//! writes, which every reader recognises; [`items`] opens each input in turn and cuts it into
//! items with the right framer, for every command that reads. Nothing here judges a callback; only
//! `extract` knows that one has an `EventType`.

pub mod ahead;
pub mod archive;
pub mod capture;
pub mod extract;
pub mod framing;
pub mod items;
pub mod locate;
pub mod source;
pub mod tape;
pub mod window;
