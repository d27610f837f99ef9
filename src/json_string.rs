//! JSON string literals, written exactly as serde_json writes them: the JSON contract's fast
//! writer and its serde types must agree byte for byte, and every string value of every JSON line
//! passes here, so the search for bytes that need escaping is `byte_search`'s, many bytes at a
//! time.

use crate::byte_search;

/// Writes `s` as a JSON string literal, escaped exactly as serde_json escapes it (the JSON
/// contract's fast writer and serde's must agree byte for byte).
pub fn write_json_str(out: &mut (impl std::io::Write + ?Sized), s: &str) -> std::io::Result<()> {
    let mut literal = Vec::with_capacity(s.len() + 2);
    push_json_str(&mut literal, s);
    out.write_all(&literal)
}

/// [`write_json_str`] onto the end of a buffer, where writing cannot fail.
pub fn push_json_str(out: &mut Vec<u8>, s: &str) {
    if byte_search::any_json_special(s.as_bytes()) {
        // serde_json writes a `str` into a `Vec` without fail.
        let _ = serde_json::to_writer(&mut *out, s);
    } else {
        push_plain_json_str(out, s);
    }
}

/// [`push_json_str`] for a string known to hold nothing JSON escapes (the caller made it of such
/// characters, or checked it): written between quotes as it is, without the search.
#[inline]
pub fn push_plain_json_str(out: &mut Vec<u8>, s: &str) {
    debug_assert!(!byte_search::any_json_special(s.as_bytes()), "{s:?}");
    out.reserve(s.len() + 2);
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped_as_serde_json_escapes_them() {
        let mut samples: Vec<String> =
            (0u32..0x800).filter_map(char::from_u32).map(|c| c.to_string()).collect();
        for c in ['"', '\\', '\u{0}', '\u{1f}', ' ', '\u{7f}', 'é', '\u{2028}'] {
            for at in 0..17 {
                let mut text: String = "abcdefghijklmnop".chars().take(at).collect();
                text.push(c);
                text.push_str("qrstuvwx");
                samples.push(text);
            }
        }
        samples.push(String::new());
        samples.push("tic_push_user_1253_01 教室".into());
        for text in samples {
            let special = text.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\');
            assert_eq!(byte_search::any_json_special(text.as_bytes()), special, "{text:?}");
            let mut out = Vec::new();
            write_json_str(&mut out, &text).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&text).unwrap(), "{text:?}");
        }
    }
}
