//! Makes untrusted text safe to print on a terminal.
//!
//! Everything in a callback came from the network, and its signature does not even cover it. A
//! string shown raw could move the cursor, rewrite the title, plant a hyperlink or reverse the
//! order of what follows. Every string a human view prints passes through [`escape`], which shows
//! control characters, escape sequences, bidirectional overrides and invisible characters as
//! visible escapes instead. Text bound for JSON is escaped by JSON's rules, in
//! [`crate::json_string`].

use std::borrow::Cow;
use std::fmt::Write;

use crate::byte_search;

/// Whether `c` must not reach a terminal raw.
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'     // C0, DEL, C1 (CSI, OSC, ...)
        | '\u{200b}'..='\u{200f}'                     // zero-width and directional marks
        | '\u{202a}'..='\u{202e}'                     // bidi embeddings and overrides
        | '\u{2060}'..='\u{2069}'                     // word joiner, invisible operators, bidi isolates
        | '\u{061c}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}'
    )
}

/// `text` with every unsafe character written as a visible escape (`\n`, `\x1b`, `\u{202e}`).
///
/// ```
/// use tiwhook::sanitize::escape;
/// assert_eq!(escape("room\u{1b}]0;pwned\u{7}"), "room\\x1b]0;pwned\\x07");
/// assert_eq!(escape("tic_push_user_1253_01"), "tic_push_user_1253_01");
/// ```
pub fn escape(text: &str) -> Cow<'_, str> {
    let clean = byte_search::is_printable_ascii(text.as_bytes());
    if clean || !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && is_unsafe(c) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_unsafe(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The columns `text` takes on a terminal: a CJK character (李老师) takes two, a combining mark
/// none. Aligned columns pad by this, not by the count of characters.
pub fn display_width(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(escape("tic_push_user_1253_01"), Cow::Borrowed(_)));
        assert!(matches!(escape("教室 880528"), Cow::Borrowed(_)));
    }

    #[test]
    fn control_and_bidi_characters_are_shown() {
        assert_eq!(escape("a\x1b[31mb\x07"), "a\\x1b[31mb\\x07");
        assert_eq!(escape("\u{9b}2J"), "\\u{9b}2J");
        assert_eq!(escape("x\u{202e}y\u{2066}\u{200b}"), "x\\u{202e}y\\u{2066}\\u{200b}");
        assert_eq!(escape("1\n2\t3\r"), "1\\n2\\t3\\r");
    }

    #[test]
    fn nothing_unsafe_survives() {
        for c in (0u32..0x3000).filter_map(char::from_u32) {
            let s = c.to_string();
            assert!(!escape(&s).chars().any(is_unsafe), "U+{:04X}", c as u32);
        }
    }
}
