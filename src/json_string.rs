//! JSON string literals, written exactly as serde_json writes them: the JSON contract's fast
//! writer and its serde types must agree byte for byte, and every string value of every JSON line
//! passes here, so the search for bytes that need escaping goes sixteen or eight at a time. The
//! tape's fast parser finds the end of a plain string with the same search.

/// Writes `s` as a JSON string literal, escaped exactly as serde_json escapes it (the JSON
/// contract's fast writer and serde's must agree byte for byte).
pub fn write_json_str(out: &mut (impl std::io::Write + ?Sized), s: &str) -> std::io::Result<()> {
    let mut literal = Vec::with_capacity(s.len() + 2);
    push_json_str(&mut literal, s);
    out.write_all(&literal)
}

/// [`write_json_str`] onto the end of a buffer, where writing cannot fail.
pub fn push_json_str(out: &mut Vec<u8>, s: &str) {
    if needs_json_escape(s.as_bytes()) {
        // serde_json writes a `str` into a `Vec` without fail.
        let _ = serde_json::to_writer(&mut *out, s);
    } else {
        push_plain_json_str(out, s);
    }
}

/// [`push_json_str`] for a string known to hold nothing JSON escapes (the caller made it of such
/// characters, or checked it): written between quotes as it is, without the search.
pub fn push_plain_json_str(out: &mut Vec<u8>, s: &str) {
    push_plain_json_bytes(out, s.as_bytes());
}

/// [`push_plain_json_str`] for bytes the caller wrote as text (a time's digits), known to be
/// UTF-8 with nothing JSON escapes, without a UTF-8 check.
pub fn push_plain_json_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    debug_assert!(std::str::from_utf8(bytes).is_ok() && !needs_json_escape(bytes), "{bytes:?}");
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    out.extend_from_slice(bytes);
    out.push(b'"');
}

/// Whether any byte of `bytes` is one JSON escapes: a control character, `"` or `\`.
///
/// Sixteen bytes at a time where the processor compares sixteen at once, else eight (each test
/// below is exact for "some byte of the word is..."), because
/// every string value of every JSON line passes here: byte by byte, this check took a fifth more
/// instructions on the judging thread of `--format json` (callgrind, 20,000 callbacks).
fn needs_json_escape(bytes: &[u8]) -> bool {
    #[cfg(all(any(target_arch = "x86", target_arch = "x86_64"), target_feature = "sse2"))]
    if let Some(last) = bytes.len().checked_sub(16) {
        let special = |sixteen: &[u8]| {
            sixteen_at_once::stops(sixteen.try_into().unwrap_or(&[b' '; 16]), Stop::Special) != 0
        };
        // Whole steps of sixteen, then the last sixteen bytes (which may overlap them).
        return bytes.chunks_exact(16).any(special) || special(&bytes[last..]);
    }
    let word = |eight: &[u8]| u64::from_le_bytes(eight.try_into().unwrap_or([b' '; 8]));
    if bytes.len() < 8 {
        // Padded with a byte that needs no escape.
        let mut padded = [b' '; 8];
        padded[..bytes.len()].copy_from_slice(bytes);
        return has_json_special(u64::from_le_bytes(padded));
    }
    // Whole words, then the last eight bytes (which may overlap the words already seen).
    bytes.chunks_exact(8).any(|eight| has_json_special(word(eight)))
        || has_json_special(word(&bytes[bytes.len() - 8..]))
}

/// Whether a byte of the word is one JSON escapes in a string: `"`, `\` or a control character.
fn has_json_special(w: u64) -> bool {
    json_special_mask(w) != 0
}

/// The high bit of each byte of the word that JSON escapes in a string, and maybe of bytes after
/// the first one (a borrow runs upwards): the lowest bit set is exact (each test is exact for
/// "the first byte of the word that is...").
fn json_special_mask(w: u64) -> u64 {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    let zero_bytes = |w: u64| w.wrapping_sub(ONES) & !w & HIGHS;
    let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
    below_space | zero_bytes(w ^ (ONES * u64::from(b'"'))) | zero_bytes(w ^ (ONES * u64::from(b'\\')))
}

/// Where the first byte JSON escapes in a string (`"`, `\`, a control character) is in `bytes`:
/// the end of a string without escapes.
pub fn first_json_special(bytes: &[u8]) -> Option<usize> {
    first_match(bytes, Stop::Special)
}

/// [`first_json_special`], stopping also at the first byte that is not ASCII: a string that ends
/// before any such byte is UTF-8 without a check.
pub fn first_json_special_or_non_ascii(bytes: &[u8]) -> Option<usize> {
    first_match(bytes, Stop::SpecialOrNonAscii)
}

/// The bytes a search stops at.
#[derive(Clone, Copy)]
enum Stop {
    /// What JSON escapes in a string.
    Special,
    /// That, or a byte past ASCII.
    SpecialOrNonAscii,
}

impl Stop {
    /// The high bit of each byte of the word to stop at, and maybe of bytes after the first one:
    /// the lowest bit set is exact.
    #[inline(always)]
    fn in_word(self, w: u64) -> u64 {
        const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
        match self {
            Stop::Special => json_special_mask(w),
            // A byte's high bit is exact for that byte, and the special mask's lowest bit is
            // exact (its stray bits only ever follow a true one), so the lowest of the two is the
            // first of either.
            Stop::SpecialOrNonAscii => json_special_mask(w) | (w & HIGHS),
        }
    }

    #[inline(always)]
    fn is(self, b: u8) -> bool {
        match self {
            Stop::Special => b < 0x20 || b == b'"' || b == b'\\',
            Stop::SpecialOrNonAscii => !(0x20..0x80).contains(&b) || b == b'"' || b == b'\\',
        }
    }
}

/// The first byte of `bytes` to stop at: sixteen at a time where the processor compares sixteen
/// at once (every string the fast parser reads is searched, and most keys and values fit one
/// such step), then eight at a time, then byte by byte for the last few.
#[inline(always)]
fn first_match(bytes: &[u8], stop: Stop) -> Option<usize> {
    let mut at = 0;
    #[cfg(all(any(target_arch = "x86", target_arch = "x86_64"), target_feature = "sse2"))]
    while let Some(sixteen) = bytes.get(at..at + 16) {
        let found = sixteen_at_once::stops(sixteen.try_into().unwrap_or(&[b' '; 16]), stop);
        if found != 0 {
            return Some(at + found.trailing_zeros() as usize);
        }
        at += 16;
    }
    while let Some(eight) = bytes.get(at..at + 8) {
        // Little-endian, so that the first byte is the lowest.
        let found = stop.in_word(u64::from_le_bytes(eight.try_into().unwrap_or([b' '; 8])));
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    bytes[at..].iter().position(|&b| stop.is(b)).map(|n| at + n)
}

/// Sixteen bytes compared at once with SSE2, which every x86-64 processor has.
#[cfg(all(any(target_arch = "x86", target_arch = "x86_64"), target_feature = "sse2"))]
mod sixteen_at_once {
    use safe_arch::{
        cmp_eq_mask_i8_m128i, cmp_lt_mask_i8_m128i, load_unaligned_m128i, min_u8_m128i, move_mask_i8_m128i,
        set_splat_i8_m128i,
    };

    use super::Stop;

    /// One bit per byte to stop at, the first byte's lowest.
    #[inline(always)]
    pub(super) fn stops(bytes: &[u8; 16], stop: Stop) -> u32 {
        let v = load_unaligned_m128i(bytes);
        let below_space = match stop {
            // Unsigned, a byte is below a space when the least of it and 0x1F is itself.
            Stop::Special => cmp_eq_mask_i8_m128i(min_u8_m128i(v, set_splat_i8_m128i(0x1f)), v),
            // Signed, the bytes past ASCII are negative: below a space too.
            Stop::SpecialOrNonAscii => cmp_lt_mask_i8_m128i(v, set_splat_i8_m128i(0x20)),
        };
        let quote = cmp_eq_mask_i8_m128i(v, set_splat_i8_m128i(b'"' as i8));
        let backslash = cmp_eq_mask_i8_m128i(v, set_splat_i8_m128i(b'\\' as i8));
        move_mask_i8_m128i(below_space | quote | backslash) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_special_byte_is_found_word_by_word() {
        for text in
            [&b""[..], b"abc", b"abcdefgh", b"abcdefghij\"k", b"0123456789abcdef\x01", b"\"", b"ab\\cd"]
        {
            let slow = text.iter().position(|&b| b < 0x20 || b == b'"' || b == b'\\');
            assert_eq!(first_json_special(text), slow, "{text:?}");
        }
    }

    #[test]
    fn the_first_special_or_non_ascii_byte_is_found_word_by_word() {
        let samples =
            ["", "abc", "abcdefgh\u{e9}", "教室\"", "0123456789ab\u{1}é", "abcdefghijk\"é", "\u{7f}\u{80}"];
        for text in samples.iter().map(|s| s.as_bytes()) {
            for start in 0..text.len() {
                let text = &text[start..];
                let slow = text.iter().position(|&b| !(0x20..0x80).contains(&b) || b == b'"' || b == b'\\');
                assert_eq!(first_json_special_or_non_ascii(text), slow, "{text:?}");
            }
        }
    }

    #[test]
    fn every_stop_is_found_at_every_place_in_steps_of_sixteen_and_eight() {
        let plain = b"abcdefghijklmnopqrstuvwxyz0123456789ABCD";
        for stop in [b'"', b'\\', 0x00, 0x1f, 0x7f, 0x80, 0xe6, 0xff] {
            for at in 0..plain.len() {
                let mut text = plain.to_vec();
                text[at] = stop;
                for end in at..=text.len() {
                    let text = &text[..end];
                    let special = text.iter().position(|&b| b < 0x20 || b == b'"' || b == b'\\');
                    let or_non_ascii =
                        text.iter().position(|&b| !(0x20..0x80).contains(&b) || b == b'"' || b == b'\\');
                    assert_eq!(first_json_special(text), special, "{text:?}");
                    assert_eq!(first_json_special_or_non_ascii(text), or_non_ascii, "{text:?}");
                    assert_eq!(needs_json_escape(text), special.is_some(), "{text:?}");
                }
            }
        }
    }

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
            assert_eq!(needs_json_escape(text.as_bytes()), special, "{text:?}");
            let mut out = Vec::new();
            write_json_str(&mut out, &text).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&text).unwrap(), "{text:?}");
        }
    }
}
