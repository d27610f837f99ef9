//! The search for the first byte of a kind: where a JSON string ends (the tape's fast parser reads
//! every string of every callback this way), whether a string needs JSON escapes (every string of
//! every JSON line), and whether text is all printable ASCII (every string shown on a terminal).
//! These are the hottest loops outside parsing, so they compare sixteen bytes at once where the
//! processor can (SSE2, which every x86-64 processor has, through `safe_arch`'s safe interface),
//! eight at once in a word elsewhere, and byte by byte only for the last few.

/// Where the first byte JSON escapes in a string (`"`, `\`, a control character) is in `bytes`.
pub fn first_json_special(bytes: &[u8]) -> Option<usize> {
    first(bytes, Stop::JsonSpecial)
}

/// [`first_json_special`], stopping also at the first byte past ASCII: a string that ends before
/// any such byte is UTF-8 without a check. Inlined into the parser, which calls it for every
/// key and string of every callback.
#[inline]
pub fn first_json_special_or_non_ascii(bytes: &[u8]) -> Option<usize> {
    first(bytes, Stop::JsonSpecialOrNonAscii)
}

/// Whether a byte of `bytes` is one JSON escapes in a string.
pub fn any_json_special(bytes: &[u8]) -> bool {
    any(bytes, Stop::JsonSpecial)
}

/// Whether `bytes` are all printable ASCII: no control character, DEL or byte past ASCII.
pub fn is_printable_ascii(bytes: &[u8]) -> bool {
    !any(bytes, Stop::NotPrintableAscii)
}

/// The bytes a search stops at. Each search is its own function, into which the steps below are
/// inlined with their stop fixed.
#[derive(Clone, Copy, Debug)]
enum Stop {
    /// What JSON escapes in a string: `"`, `\` or a control character (below a space).
    JsonSpecial,
    /// That, or a byte past ASCII: a string that ends before one is UTF-8 without a check.
    JsonSpecialOrNonAscii,
    /// A control character (below a space, or DEL) or a byte past ASCII: text without one is
    /// shown on a terminal as it is.
    NotPrintableAscii,
}

impl Stop {
    /// Whether the search stops at `b`: the definition the faster steps agree with.
    #[inline(always)]
    fn is(self, b: u8) -> bool {
        match self {
            Stop::JsonSpecial => b < 0x20 || b == b'"' || b == b'\\',
            Stop::JsonSpecialOrNonAscii => !(0x20..0x80).contains(&b) || b == b'"' || b == b'\\',
            Stop::NotPrintableAscii => !(0x20..0x7f).contains(&b),
        }
    }

    /// The high bit of each byte of the word to stop at, and maybe of bytes after the first one
    /// (a borrow runs upwards): the lowest bit set is exact.
    #[inline(always)]
    fn in_word(self, w: u64) -> u64 {
        const ONES: u64 = u64::from_le_bytes([0x01; 8]);
        const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
        let zero_bytes = |w: u64| w.wrapping_sub(ONES) & !w & HIGHS;
        let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
        let json_special = || {
            below_space | zero_bytes(w ^ (ONES * u64::from(b'"'))) | zero_bytes(w ^ (ONES * u64::from(b'\\')))
        };
        // A byte's high bit is exact for that byte, and the other masks' lowest bit is exact
        // (their stray bits only ever follow a true one), so the lowest of them is the first.
        match self {
            Stop::JsonSpecial => json_special(),
            Stop::JsonSpecialOrNonAscii => json_special() | (w & HIGHS),
            Stop::NotPrintableAscii => below_space | zero_bytes(w ^ (ONES * 0x7f)) | (w & HIGHS),
        }
    }
}

/// Where the first byte of `bytes` to stop at is.
#[inline(always)]
fn first(bytes: &[u8], stop: Stop) -> Option<usize> {
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

/// Whether `bytes` hold a byte to stop at, where it is not needed: whole steps, then one last
/// step over the final bytes (overlapping the steps before), so that no byte is looked at alone;
/// a string shorter than a word is padded with spaces, at which no search stops.
#[inline(always)]
fn any(bytes: &[u8], stop: Stop) -> bool {
    #[cfg(all(any(target_arch = "x86", target_arch = "x86_64"), target_feature = "sse2"))]
    if let Some(last) = bytes.len().checked_sub(16) {
        let stops =
            |sixteen: &[u8]| sixteen_at_once::stops(sixteen.try_into().unwrap_or(&[b' '; 16]), stop) != 0;
        return bytes.chunks_exact(16).any(stops) || stops(&bytes[last..]);
    }
    let word = |eight: &[u8]| u64::from_le_bytes(eight.try_into().unwrap_or([b' '; 8]));
    match bytes.len().checked_sub(8) {
        Some(last) => {
            bytes.chunks_exact(8).any(|eight| stop.in_word(word(eight)) != 0)
                || stop.in_word(word(&bytes[last..])) != 0
        }
        None => {
            let mut padded = [b' '; 8];
            padded[..bytes.len()].copy_from_slice(bytes);
            stop.in_word(u64::from_le_bytes(padded)) != 0
        }
    }
}

/// Sixteen bytes compared at once with SSE2.
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
        let splat = |b: u8| set_splat_i8_m128i(b as i8);
        // Signed, the bytes past ASCII are negative: below a space too.
        let below_space_or_non_ascii = || cmp_lt_mask_i8_m128i(v, splat(0x20));
        let quote_or_backslash =
            || cmp_eq_mask_i8_m128i(v, splat(b'"')) | cmp_eq_mask_i8_m128i(v, splat(b'\\'));
        let found = match stop {
            // Unsigned, a byte is below a space when the least of it and 0x1F is itself.
            Stop::JsonSpecial => cmp_eq_mask_i8_m128i(min_u8_m128i(v, splat(0x1f)), v) | quote_or_backslash(),
            Stop::JsonSpecialOrNonAscii => below_space_or_non_ascii() | quote_or_backslash(),
            Stop::NotPrintableAscii => below_space_or_non_ascii() | cmp_eq_mask_i8_m128i(v, splat(0x7f)),
        };
        move_mask_i8_m128i(found) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every stop byte (and a few that are not) at every place of strings long enough for every
    /// step, cut at every length past it.
    #[test]
    fn every_search_finds_the_first_stop_at_every_place_in_every_step() {
        let plain = b"abcdefghijklmnopqrstuvwxyz0123456789ABCD";
        let samples = [b'"', b'\\', 0x00, 0x09, 0x1f, b' ', b'~', 0x7f, 0x80, 0xe6, 0xff];
        for stop in [Stop::JsonSpecial, Stop::JsonSpecialOrNonAscii, Stop::NotPrintableAscii] {
            for byte in samples {
                for at in 0..plain.len() {
                    let mut text = plain.to_vec();
                    text[at] = byte;
                    for end in 0..=text.len() {
                        let text = &text[..end];
                        let slow = text.iter().position(|&b| stop.is(b));
                        assert_eq!(first(text, stop), slow, "{stop:?} {text:?}");
                        assert_eq!(any(text, stop), slow.is_some(), "{stop:?} {text:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn text_past_ascii_is_searched_from_every_byte() {
        let samples = [
            "教室\"",
            "0123456789ab\u{1}é",
            "abcdefghijk\"é",
            "\u{7f}\u{80}",
            "tic_push_user_1253_01 教室 ok",
        ];
        for text in samples.iter().map(|s| s.as_bytes()) {
            for start in 0..text.len() {
                let text = &text[start..];
                for stop in [Stop::JsonSpecial, Stop::JsonSpecialOrNonAscii, Stop::NotPrintableAscii] {
                    let slow = text.iter().position(|&b| stop.is(b));
                    assert_eq!(first(text, stop), slow, "{stop:?} {text:?}");
                    assert_eq!(any(text, stop), slow.is_some(), "{stop:?} {text:?}");
                }
            }
        }
    }

    #[test]
    fn the_definitions_are_the_kinds_named() {
        let all = 0..=255u8;
        let json_special: Vec<u8> = all.clone().filter(|&b| Stop::JsonSpecial.is(b)).collect();
        assert_eq!(json_special.len(), 0x20 + 2);
        assert!(
            all.clone()
                .filter(|&b| Stop::JsonSpecialOrNonAscii.is(b))
                .eq((0..0x20).chain([b'"', b'\\']).chain(0x80..=0xff))
        );
        assert!(all.filter(|&b| Stop::NotPrintableAscii.is(b)).eq((0..0x20).chain(0x7f..=0xff)));
    }
}
