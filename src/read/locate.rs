//! Finds where a value stands in a document's bytes, for the line and column of a finding.
//!
//! The parser that builds the tape does not record positions: well-formed callbacks, nearly all of
//! them, never need one. When a finding is made, this small scanner walks the raw bytes along the
//! finding's path to the offending value (or key). It only ever sees documents that parsed, and it
//! never recurses, so no input can make it overflow the stack. [`callback_start`] does the same
//! for a line of a log: where what looks like a callback starts, in whatever escaping it is.

/// One step of a path into a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step<'a> {
    /// The `nth` (0-based) member named `name` of an object: duplicates make `nth` matter.
    Key { name: &'a str, nth: u32 },
    /// An element of an array.
    Index(u32),
}

/// Which part of the last step to point at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    Value,
    Key,
}

/// The byte offset of the value (or key) at `path`; where the walk stopped, if the path is not
/// there (a missing field points at its object).
pub fn locate(bytes: &[u8], path: &[Step], anchor: Anchor) -> usize {
    let mut c = Cursor { bytes, at: 0 };
    c.skip_ws();
    for (depth, step) in path.iter().enumerate() {
        let last = depth + 1 == path.len();
        let container = c.at;
        let found = match *step {
            Step::Key { name, nth } => c.find_member(name, nth, last && anchor == Anchor::Key),
            Step::Index(n) => c.find_element(n),
        };
        if !found {
            return container;
        }
    }
    c.at.min(bytes.len())
}

/// The byte range of the value at `path`, if it is there.
pub fn value_range(bytes: &[u8], path: &[Step]) -> Option<std::ops::Range<usize>> {
    let mut c = Cursor { bytes, at: 0 };
    c.skip_ws();
    for step in path {
        let found = match *step {
            Step::Key { name, nth } => c.find_member(name, nth, false),
            Step::Index(n) => c.find_element(n),
        };
        if !found {
            return None;
        }
    }
    let start = c.at;
    c.skip_value();
    (start < c.at && c.at <= bytes.len()).then_some(start..c.at)
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> u8 {
        self.bytes.get(self.at).copied().unwrap_or(0)
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), b' ' | b'\n' | b'\r' | b'\t') {
            self.at += 1;
        }
    }

    /// From an opening quote to just past the closing one.
    fn skip_string(&mut self) {
        self.at += 1;
        while self.at < self.bytes.len() {
            match self.bytes[self.at] {
                b'\\' => self.at += 2,
                b'"' => {
                    self.at += 1;
                    return;
                }
                _ => self.at += 1,
            }
        }
    }

    fn skip_value(&mut self) {
        match self.peek() {
            b'"' => self.skip_string(),
            b'{' | b'[' => {
                let mut depth = 0usize;
                while self.at < self.bytes.len() {
                    match self.bytes[self.at] {
                        b'"' => {
                            self.skip_string();
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.at += 1;
                                return;
                            }
                        }
                        _ => {}
                    }
                    self.at += 1;
                }
            }
            _ => {
                while !matches!(self.peek(), b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t' | 0) {
                    self.at += 1;
                }
            }
        }
    }

    /// Moves to the `nth` member called `name` of the object here (to its key if `at_key`).
    fn find_member(&mut self, name: &str, nth: u32, at_key: bool) -> bool {
        if self.peek() != b'{' {
            return false;
        }
        self.at += 1;
        let mut seen = 0;
        loop {
            self.skip_ws();
            if self.peek() != b'"' {
                return false;
            }
            let key_start = self.at;
            self.skip_string();
            let key = &self.bytes[key_start..self.at.min(self.bytes.len())];
            self.skip_ws();
            self.at += 1; // the colon
            self.skip_ws();
            if key_is(key, name) {
                if seen == nth {
                    if at_key {
                        self.at = key_start;
                    }
                    return true;
                }
                seen += 1;
            }
            self.skip_value();
            self.skip_ws();
            if self.peek() != b',' {
                return false;
            }
            self.at += 1;
        }
    }

    fn find_element(&mut self, n: u32) -> bool {
        if self.peek() != b'[' {
            return false;
        }
        self.at += 1;
        for _ in 0..n {
            self.skip_ws();
            self.skip_value();
            self.skip_ws();
            if self.peek() != b',' {
                return false;
            }
            self.at += 1;
        }
        self.skip_ws();
        true
    }
}

/// Whether a quoted JSON key means `name`, escapes and all.
fn key_is(quoted: &[u8], name: &str) -> bool {
    let inner = quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or_default();
    if inner.contains(&b'\\') {
        serde_json::from_slice::<String>(quoted).is_ok_and(|k| k == name)
    } else {
        inner == name.as_bytes()
    }
}

/// Where a callback seems to start in `text`: the `{` that encloses the first mention of
/// `"EventType"` (raw, escaped once or twice inside JSON strings, in nginx's `\x22` form, with
/// CSV's doubled quotes, percent-encoded, or in a Python repr), found by matching braces
/// backwards from it. `None` when the text mentions no `EventType` key.
pub fn callback_start(text: &[u8]) -> Option<usize> {
    let mention = [
        &b"\"EventType\""[..],
        b"\\\"EventType\\\"",
        b"\\\\\\\"EventType\\\\\\\"",
        b"\\x22EventType\\x22",
        b"\"\"EventType\"\"",
        b"'EventType'",
    ]
    .iter()
    .filter_map(|needle| memchr::memmem::find(text, needle))
    .min();
    let mention = match mention {
        Some(mention) => mention,
        None => {
            // Percent-encoded, the brace is `%7B`.
            let at = memchr::memmem::find(text, b"%22EventType%22")?;
            return memchr::memmem::rfind(&text[..at], b"%7B")
                .or_else(|| memchr::memmem::rfind(&text[..at], b"%7b"));
        }
    };
    let mut depth = 0usize;
    for at in (0..mention).rev() {
        match text[at] {
            b'}' => depth += 1,
            b'{' if depth == 0 => return Some(at),
            b'{' => depth -= 1,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "{\n  \"a\": {\"b\": [10, {\"c\": 3}]},\n  \"d\": 1,\n  \"\\u0064\": 2\n}";

    fn at(path: &[Step], anchor: Anchor) -> &'static str {
        &DOC[locate(DOC.as_bytes(), path, anchor)..]
    }

    #[test]
    fn walks_keys_and_indexes() {
        let path = [
            Step::Key { name: "a", nth: 0 },
            Step::Key { name: "b", nth: 0 },
            Step::Index(1),
            Step::Key { name: "c", nth: 0 },
        ];
        assert!(at(&path, Anchor::Value).starts_with("3}"));
        assert!(at(&path[..3], Anchor::Value).starts_with("{\"c\""));
    }

    #[test]
    fn finds_the_nth_duplicate_even_when_escaped() {
        assert!(at(&[Step::Key { name: "d", nth: 1 }], Anchor::Value).starts_with("2\n"));
        assert!(at(&[Step::Key { name: "d", nth: 1 }], Anchor::Key).starts_with("\"\\u0064\""));
    }

    #[test]
    fn a_missing_member_points_at_its_object() {
        let path = [Step::Key { name: "a", nth: 0 }, Step::Key { name: "zz", nth: 0 }];
        assert!(at(&path, Anchor::Value).starts_with("{\"b\""));
    }

    #[test]
    fn value_ranges() {
        let range = value_range(DOC.as_bytes(), &[Step::Key { name: "a", nth: 0 }]).unwrap();
        assert_eq!(&DOC[range], "{\"b\": [10, {\"c\": 3}]}");
        assert_eq!(value_range(DOC.as_bytes(), &[Step::Key { name: "zz", nth: 0 }]), None);
    }

    #[test]
    fn never_panics_on_odd_bytes() {
        for bytes in [&b""[..], b"{", b"{\"a", b"[1,", b"\"\\"] {
            let path = [Step::Key { name: "a", nth: 0 }, Step::Index(3)];
            assert!(locate(bytes, &path, Anchor::Key) <= bytes.len());
        }
    }
}
