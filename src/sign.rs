//! `tiwhook sign`: gives callbacks a new `ExpireTime` and the `Sign` that goes with it.
//!
//! Fixtures are files people read and diff, so signing edits them as text: only the values of
//! `ExpireTime` and `Sign` change, or, where a callback has none, the two members are added at the
//! end of its object in the layout the document already uses (pretty stays pretty, one line stays
//! one line). Everything else, field order and white space included, is left byte for byte.

use std::ops::Range;

use crate::document::{Documents, Item};
use crate::frame::Position;
use crate::locate::{self, Step};
use crate::signature;

/// The outcome of signing one input.
#[derive(Debug, Default)]
pub struct Signed {
    pub bytes: Vec<u8>,
    /// Callbacks signed.
    pub signed: u64,
    /// Pieces left as they were, with why.
    pub problems: Vec<(Position, String)>,
}

/// Signs every callback in `input` with `key` and `expire_time`.
pub fn sign_all(input: &[u8], key: &[u8], expire_time: u64) -> Signed {
    let sign = signature::sign(key, expire_time);
    let expire = expire_time.to_string();
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    let mut result = Signed::default();
    let mut documents = Documents::new(input);
    // Reading a slice cannot fail.
    while let Ok(Some(item)) = documents.next_item() {
        match item {
            Item::Broken(broken) => {
                result.problems.push((broken.start, format!("{}; left as it is", broken.message)));
            }
            Item::Document(document) if !document.doc.root().is_object() => {
                let message = "not a JSON object; left as it is".to_string();
                result.problems.push((document.start, message));
            }
            Item::Document(document) => {
                let base = document.start.offset as usize;
                let bytes = document.doc.bytes();
                let root = document.doc.root();
                let mut missing = Vec::new();
                for (name, value) in [("ExpireTime", expire.clone()), ("Sign", format!("\"{sign}\""))] {
                    let count = root.members().filter(|(k, _)| k.is(name)).count() as u32;
                    if count == 0 {
                        missing.push((name, value.clone()));
                    }
                    for nth in 0..count {
                        if let Some(range) = locate::value_range(bytes, &[Step::Key { name, nth }]) {
                            edits.push((base + range.start..base + range.end, value.clone()));
                        }
                    }
                }
                if !missing.is_empty() {
                    let (at, text) = insertion(bytes, &missing);
                    edits.push((base + at..base + at, text));
                }
                result.signed += 1;
            }
        }
    }
    edits.sort_by_key(|(range, _)| range.start);
    let mut at = 0;
    for (range, text) in edits {
        result.bytes.extend_from_slice(&input[at..range.start]);
        result.bytes.extend_from_slice(text.as_bytes());
        at = range.end;
    }
    result.bytes.extend_from_slice(&input[at..]);
    result
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

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(input: &str) -> String {
        String::from_utf8(sign_all(input.as_bytes(), b"Xz4ZgayTr7rMgWQrH", 1588040109).bytes).unwrap()
    }

    const SIGN: &str = "a2dabb362a9b811c0e26953a6276a41c";

    #[test]
    fn replaces_values_in_place() {
        let input = "{\"EventType\": \"X\", \"ExpireTime\": 1, \"Sign\": \"old\", \"Timestamp\": 2}\n";
        assert_eq!(
            signed(input),
            format!(
                "{{\"EventType\": \"X\", \"ExpireTime\": 1588040109, \"Sign\": \"{SIGN}\", \"Timestamp\": 2}}\n"
            )
        );
    }

    #[test]
    fn adds_missing_members_in_the_documents_style() {
        assert_eq!(signed("{\"a\":1}"), format!("{{\"a\":1,\"ExpireTime\":1588040109,\"Sign\":\"{SIGN}\"}}"));
        assert_eq!(
            signed("{\n  \"a\": 1\n}\n"),
            format!("{{\n  \"a\": 1,\n  \"ExpireTime\": 1588040109,\n  \"Sign\": \"{SIGN}\"\n}}\n")
        );
        assert_eq!(signed("{}"), format!("{{\"ExpireTime\":1588040109,\"Sign\":\"{SIGN}\"}}"));
    }

    #[test]
    fn streams_and_arrays_keep_everything_between_callbacks() {
        let input = "[ {\"a\":1} ,\n  {\"Sign\":\"x\",\"ExpireTime\":5}\n]\n{\"b\":2}\n";
        let out = signed(input);
        assert!(out.starts_with("[ {\"a\":1,\"ExpireTime\":1588040109"), "{out}");
        assert!(
            out.contains(&format!(",\n  {{\"Sign\":\"{SIGN}\",\"ExpireTime\":1588040109}}\n]\n{{\"b\":2,")),
            "{out}"
        );
    }

    #[test]
    fn broken_pieces_are_left_as_they_are_and_reported() {
        let result = sign_all(b"{\"a\":,}\n[1]\n", b"k", 1);
        assert_eq!(result.problems.len(), 2);
        assert_eq!(result.signed, 0);
    }
}
