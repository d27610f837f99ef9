//! Giving a callback's text a new `ExpireTime` and the `Sign` that goes with it, as an edit of
//! its text: only those two values change, or the two members are added at the end of the object
//! in the layout the document already uses. `tiwhook sign` writes fixtures with it, and
//! `tiwhook send --resign` signs what it sends.

use std::io;
use std::ops::Range;

use crate::judge::signature;
use crate::read::framing::{Item, JsonFramer};
use crate::read::locate::{self, Step};
use crate::read::window::Position;

/// The outcome of signing one input.
#[derive(Debug, Default)]
pub struct Signed {
    pub bytes: Vec<u8>,
    /// Callbacks signed.
    pub signed: u64,
    /// Pieces left as they were, with why.
    pub problems: Vec<(Position, String)>,
    /// What else the user should know (an owner that could not be kept).
    pub notes: Vec<String>,
}

/// The new `ExpireTime` and `Sign`, and how to put them in a callback.
pub struct Edit {
    expire: String,
    sign: String,
}

/// A change to a document's text: the range it replaces (empty to insert), and the new text.
pub type Change = (Range<usize>, String);

impl Edit {
    pub fn new(key: &[u8], expire_time: u64) -> Edit {
        Edit { expire: expire_time.to_string(), sign: format!("\"{}\"", signature::sign(key, expire_time)) }
    }

    /// For a callback: where it starts in the input, its bytes, and the changes to make in them
    /// (sorted); a piece that is no callback is recorded in `result` and gives `None`.
    pub fn of_item<'i>(
        &self,
        item: &'i Item<'_>,
        result: &mut Signed,
    ) -> Option<(u64, &'i [u8], Vec<Change>)> {
        let document = match item {
            Item::Broken(broken) => {
                result.problems.push((broken.start, format!("{}; left as it is", broken.message)));
                return None;
            }
            Item::Document(document) if !document.doc.root().is_object() => {
                result.problems.push((document.start, "not a JSON object; left as it is".into()));
                return None;
            }
            Item::Document(document) => document,
        };
        let bytes = document.doc.bytes();
        let root = document.doc.root();
        let mut changes = Vec::new();
        let mut missing = Vec::new();
        for (name, value) in [("ExpireTime", &self.expire), ("Sign", &self.sign)] {
            let count = root.members().filter(|(k, _)| k.is(name)).count() as u32;
            if count == 0 {
                missing.push((name, value.clone()));
            }
            for nth in 0..count {
                if let Some(range) = locate::value_range(bytes, &[Step::Key { name, nth }]) {
                    changes.push((range, value.clone()));
                }
            }
        }
        if !missing.is_empty() {
            let (at, text) = insertion(bytes, &missing);
            changes.push((at..at, text));
        }
        changes.sort_by_key(|(range, _)| range.start);
        result.signed += 1;
        Some((document.start.offset, bytes, changes))
    }
}

/// Writes `bytes` with `changes` (sorted, not overlapping) made.
pub fn write_edited(out: &mut dyn io::Write, bytes: &[u8], changes: &[Change]) -> io::Result<()> {
    let mut at = 0;
    for (range, text) in changes {
        out.write_all(&bytes[at..range.start])?;
        out.write_all(text.as_bytes())?;
        at = range.end;
    }
    out.write_all(&bytes[at..])
}

/// Signs every callback in `input` with `key` and `expire_time`.
pub fn sign_all(input: &[u8], key: &[u8], expire_time: u64) -> Signed {
    let mut result = Signed::default();
    let mut out = Vec::with_capacity(input.len() + 64);
    // Writing to a vector cannot fail.
    let _ = sign_stream_slice(input, key, expire_time, &mut out, &mut result);
    result.bytes = out;
    result
}

/// [`sign_all`]'s loop over a slice held whole.
fn sign_stream_slice(
    input: &[u8],
    key: &[u8],
    expire_time: u64,
    out: &mut Vec<u8>,
    result: &mut Signed,
) -> io::Result<()> {
    let edit = Edit::new(key, expire_time);
    let mut documents = JsonFramer::new(input);
    let mut written = 0usize;
    while let Ok(Some(item)) = documents.next_item() {
        let Some((start, bytes, changes)) = edit.of_item(&item, result) else { continue };
        let start = start as usize;
        out.extend_from_slice(&input[written..start]);
        write_edited(out, bytes, &changes)?;
        written = start + bytes.len();
    }
    out.extend_from_slice(&input[written..]);
    Ok(())
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
