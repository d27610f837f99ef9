//! The callback signature: `Sign = lowercase_hex(md5(CallbackKey + decimal(ExpireTime)))`.
//!
//! The signature covers the key and the expiry time only, never the body: a valid `Sign` proves
//! that the sender knew the key for that `ExpireTime`, nothing about the `EventData`. Keys never
//! leave this module in any printable form; callers learn which key matched by its position.

use std::fmt;

use md5::{Digest, Md5};
use subtle::ConstantTimeEq;

use crate::codes::Code;
use crate::judge::report::SignatureStatus;

/// One callback key and where it came from (for messages; the key itself is never shown).
#[derive(Clone)]
pub struct Key {
    secret: Vec<u8>,
    origin: String,
}

impl Key {
    pub fn new(secret: impl Into<Vec<u8>>, origin: impl Into<String>) -> Key {
        Key { secret: secret.into(), origin: origin.into() }
    }

    /// Where the key came from, such as `--key #1` or `keys.txt line 2`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The key's bytes, for `tiwhook sign` and `example` to sign with. Never print them.
    pub fn secret_for_signing(&self) -> &[u8] {
        &self.secret
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({}, {} bytes)", self.origin, self.secret.len())
    }
}

/// The MD5 digest that signs `expire_time` with `key`.
pub fn digest(key: &[u8], expire_time: u64) -> [u8; 16] {
    let mut decimal = itoa::Buffer::new();
    let decimal = decimal.format(expire_time);
    Md5::new().chain_update(key).chain_update(decimal).finalize().into()
}

/// The `Sign` value for `key` and `expire_time`, as Tencent computes it.
///
/// ```
/// // The worked example of Tencent's docs.
/// assert_eq!(tiwhook::judge::signature::sign(b"Xz4ZgayTr7rMgWQrH", 1588040109), "a2dabb362a9b811c0e26953a6276a41c");
/// ```
pub fn sign(key: &[u8], expire_time: u64) -> String {
    hex::encode(digest(key, expire_time))
}

/// What a `Sign` string looks like.
pub enum SignForm {
    /// 32 lowercase hexadecimal digits.
    Lowercase([u8; 16]),
    /// 32 hexadecimal digits, some upper-case: Tencent sends lower case.
    Uppercase([u8; 16]),
    /// Anything else.
    Malformed,
}

pub fn parse_sign(sign: &[u8]) -> SignForm {
    let Ok(digits) = <&[u8; 32]>::try_from(sign) else {
        return SignForm::Malformed;
    };
    let mut bytes = [0u8; 16];
    let (mut invalid, mut upper) = (0u64, 0u64);
    for (four, eight) in bytes.chunks_exact_mut(4).zip(digits.chunks_exact(8)) {
        let digits = HexWord::read(u64::from_le_bytes(eight.try_into().unwrap_or_default()));
        four.copy_from_slice(&digits.value.to_le_bytes());
        invalid |= digits.invalid;
        upper |= digits.upper;
    }
    match (invalid, upper) {
        (0, 0) => SignForm::Lowercase(bytes),
        (0, _) => SignForm::Uppercase(bytes),
        _ => SignForm::Malformed,
    }
}

/// Eight hexadecimal digits read at once, as one word: a `Sign` is read for every callback, and
/// its 32 digits one by one took a tenth of the signature's work.
struct HexWord {
    /// The four bytes the digits spell, the first pair the lowest.
    value: u32,
    /// Not zero when a byte is not a hexadecimal digit.
    invalid: u64,
    /// Not zero when a digit is an upper-case letter.
    upper: u64,
}

impl HexWord {
    /// `word` holds the digits in the order they are written, the first the lowest byte.
    fn read(word: u64) -> HexWord {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        // For bytes below 0x80 (a byte from 0x80 up is invalid whatever follows), adding
        // `0x80 - low` sets a byte's high bit when the byte is at least `low`, and adding
        // `0x7f - high` when it is above `high`; no sum carries into the next byte.
        let at_least = |low: u8| word.wrapping_add(u64::from(0x80 - low) * ONES);
        let above = |high: u8| word.wrapping_add(u64::from(0x7f - high) * ONES);
        let within = |low: u8, high: u8| at_least(low) & !above(high) & HIGH;
        let digit = within(b'0', b'9');
        let lower = within(b'a', b'f');
        let upper = within(b'A', b'F');
        let invalid = (word | !(digit | lower | upper)) & HIGH;
        // A digit's value is its low half; a letter's is its low half plus nine (`a` is 0x61).
        let nibbles = (word & 0x0F0F_0F0F_0F0F_0F0F) + ((lower | upper) >> 7) * 9;
        // Each pair into the low byte of its sixteen bits, then the four bytes side by side.
        const PAIR_LOWS: u64 = 0x00FF_00FF_00FF_00FF;
        let pairs = ((nibbles & PAIR_LOWS) << 4) | ((nibbles >> 8) & PAIR_LOWS);
        let pairs = (pairs | (pairs >> 8)) & 0x0000_FFFF_0000_FFFF;
        let value = ((pairs | (pairs >> 16)) & 0xFFFF_FFFF) as u32;
        HexWord { value, invalid, upper }
    }
}

/// The outcome of checking a signature against the keys given.
#[derive(Debug, PartialEq, Eq)]
pub enum Verification {
    /// The key at this 0-based position signs it.
    Valid(usize),
    /// No key signs it; each hint says what might be wrong.
    Mismatch(Vec<String>),
}

/// Checks `sign` against each key in turn (key rotation), comparing in constant time.
pub fn verify(keys: &[Key], sign: &[u8; 16], expire_time: u64) -> Verification {
    for (i, key) in keys.iter().enumerate() {
        if same_digest(&digest(&key.secret, expire_time), sign) {
            return Verification::Valid(i);
        }
    }
    Verification::Mismatch(mismatch_hints(keys, sign, expire_time))
}

/// Whether two digests are the same, compared in constant time: as one 128-bit word, which
/// takes a handful of instructions where comparing byte by byte takes a hundred.
fn same_digest(a: &[u8; 16], b: &[u8; 16]) -> bool {
    bool::from(u128::from_le_bytes(*a).ct_eq(&u128::from_le_bytes(*b)))
}

fn mismatch_hints(keys: &[Key], sign: &[u8; 16], expire_time: u64) -> Vec<String> {
    let mut hints = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let trimmed = key.secret.trim_ascii();
        if trimmed.len() != key.secret.len() && same_digest(&digest(trimmed, expire_time), sign) {
            hints.push(format!(
                "key #{} ({}) matches once the white space around it is removed",
                i + 1,
                key.origin
            ));
        }
        if key.secret.len() > 64 {
            hints.push(format!(
                "key #{} ({}) is {} bytes long; TIW keys are at most 64 characters",
                i + 1,
                key.origin,
                key.secret.len()
            ));
        }
    }
    if hints.is_empty() {
        hints.push(
            "each TIW feature (push, recording, transcoding, ...) has its own callback key: \
             is this the key set for this callback's feature?"
                .into(),
        );
        hints.push(
            "the Sign covers only the key and ExpireTime: an ExpireTime edited by hand breaks it, \
             an edited body does not"
                .into(),
        );
    }
    hints
}

/// What a callback carries of its signature, as the walk found it.
#[derive(Clone, Copy, Debug)]
pub struct Carried<'a> {
    /// `Sign`: `None` when absent, `Some(None)` when it is not a string.
    pub sign: Option<Option<&'a [u8]>>,
    /// Whether `ExpireTime` is present at all.
    pub expire_time_present: bool,
    /// `ExpireTime`, when it is a valid time.
    pub expire_time: Option<u64>,
}

/// What the signature rules make of a callback's `Sign` and `ExpireTime` under some keys and a
/// clock: its status, whether it expired, and the problems to report.
#[derive(Debug)]
pub struct Judged {
    pub status: SignatureStatus,
    /// Whether `ExpireTime` has passed; `None` without a valid one.
    pub expired: Option<bool>,
    pub problems: Vec<Problem>,
}

/// One problem with a signature, for the walk to place at the member it is about.
#[derive(Debug)]
pub struct Problem {
    pub code: Code,
    pub about: Member,
    pub message: String,
    pub help: Vec<String>,
}

/// The member a [`Problem`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Member {
    Sign,
    ExpireTime,
    /// The callback as a whole (a member that is missing).
    Callback,
}

impl Judged {
    fn problem(&mut self, code: Code, about: Member, message: String) -> &mut Problem {
        self.problems.push(Problem { code, about, message, help: Vec::new() });
        self.problems.last_mut().expect("just pushed")
    }
}

/// The digest a `Sign` stands for, when it has the form of one; a malformed one is a problem
/// and makes the status [`SignatureStatus::Malformed`], upper case is a warning.
fn sign_digest(judged: &mut Judged, sign: Option<Option<&[u8]>>) -> Option<[u8; 16]> {
    let text = match sign? {
        Some(text) => text,
        None => {
            judged.status = SignatureStatus::Malformed;
            return None;
        }
    };
    match parse_sign(text) {
        SignForm::Malformed => {
            judged.status = SignatureStatus::Malformed;
            let length = String::from_utf8_lossy(text).chars().count();
            let message = format!("`Sign` should be 32 hexadecimal digits, but has {length} characters");
            judged.problem(Code::SignMalformed, Member::Sign, message);
            None
        }
        SignForm::Uppercase(digest) => {
            let message = "`Sign` has upper-case hexadecimal digits; Tencent sends lower case";
            judged.problem(Code::SignUppercase, Member::Sign, message.into());
            Some(digest)
        }
        SignForm::Lowercase(digest) => Some(digest),
    }
}

/// Judges a callback's signature: its form, its expiry (an error only with `enforce_expiry`),
/// the two members going together, and, with keys, whether one of them signs it.
pub fn judge(carried: Carried, keys: &[Key], now: i64, enforce_expiry: bool) -> Judged {
    let mut judged = Judged { status: SignatureStatus::Unsigned, expired: None, problems: Vec::new() };
    let digest = sign_digest(&mut judged, carried.sign);
    if let Some(expire) = carried.expire_time {
        let expired = now > expire as i64;
        judged.expired = Some(expired);
        if expired && enforce_expiry {
            let message = format!(
                "the signature expired at {} ({} before the clock) and --enforce-expiry is on",
                crate::timefmt::rfc3339(expire),
                crate::timefmt::age(expire as i64, now)
            );
            judged.problem(Code::SignatureExpired, Member::ExpireTime, message).help.push(
                "a fixture gets a fresh signature with `tiwhook sign --expire-in 10y --in-place FILE`; \
                 `tiwhook send --resign` signs what it sends"
                    .into(),
            );
        }
    }
    match (carried.sign.is_some(), carried.expire_time_present) {
        (true, false) => {
            let message = "`ExpireTime` is missing, but `Sign` is present: the signature covers ExpireTime";
            judged.problem(Code::MissingField, Member::Callback, message.into());
        }
        (false, true) => {
            let message = "`ExpireTime` is present without `Sign`; Tencent sends both or neither";
            judged.problem(Code::ExpireTimeWithoutSign, Member::ExpireTime, message.into());
        }
        _ => {}
    }
    if judged.status == SignatureStatus::Malformed {
        return judged;
    }
    if keys.is_empty() {
        if carried.sign.is_some() {
            judged.status = SignatureStatus::Unchecked;
        }
        return judged;
    }
    let Some(digest) = digest else {
        if carried.sign.is_none() {
            judged.status = SignatureStatus::Missing;
            let message = "a key was given, but this callback has no `Sign`";
            judged
                .problem(Code::SignatureMissing, Member::Callback, message.into())
                .help
                .push("Tencent signs callbacks only once a callback key is set for the feature".into());
        }
        return judged;
    };
    let Some(expire) = carried.expire_time else {
        judged.status = SignatureStatus::Mismatch;
        return judged;
    };
    match verify(keys, &digest, expire) {
        Verification::Valid(key) => judged.status = SignatureStatus::Valid { key },
        Verification::Mismatch(hints) => {
            judged.status = SignatureStatus::Mismatch;
            let tried = match keys.len() {
                1 => "the key given".to_string(),
                n => format!("any of the {n} keys given"),
            };
            let message = format!("`Sign` is not md5(key + ExpireTime) for {tried}");
            judged.problem(Code::SignatureMismatch, Member::Sign, message).help = hints;
        }
    }
    judged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_worked_example() {
        assert_eq!(sign(b"Xz4ZgayTr7rMgWQrH", 1588040109), "a2dabb362a9b811c0e26953a6276a41c");
    }

    #[test]
    fn the_lcic_worked_example() {
        assert_eq!(sign(b"NjFGoDEy", 1614151508), "b9454ab5a85f9b7ad36071f5688ed34d");
    }

    #[test]
    fn the_push_samples_do_not_verify_under_the_documented_key() {
        assert_eq!(sign(b"Xz4ZgayTr7rMgWQrH", 1590046391), "2c4e38a55a8864696ec6b7021ab8487c");
        let SignForm::Lowercase(documented) = parse_sign(b"a2dabb362a9b811c0e26953a6276a41c") else {
            panic!("the documented Sign is well formed");
        };
        let keys = [Key::new("Xz4ZgayTr7rMgWQrH", "test")];
        assert!(matches!(verify(&keys, &documented, 1590046391), Verification::Mismatch(_)));
        assert_eq!(verify(&keys, &documented, 1588040109), Verification::Valid(0));
    }

    #[test]
    fn rotation_names_the_matching_key_by_position() {
        let SignForm::Lowercase(s) = parse_sign(sign(b"new", 7).as_bytes()) else { panic!() };
        let keys = [Key::new("old", "a"), Key::new("new", "b")];
        assert_eq!(verify(&keys, &s, 7), Verification::Valid(1));
    }

    #[test]
    fn white_space_around_a_key_is_diagnosed() {
        let SignForm::Lowercase(s) = parse_sign(sign(b"k3y", 9).as_bytes()) else { panic!() };
        let Verification::Mismatch(hints) = verify(&[Key::new("k3y\n", "env")], &s, 9) else { panic!() };
        assert!(hints[0].contains("white space"), "{hints:?}");
    }

    /// What `parse_sign` decides, digit by digit.
    fn parse_sign_by_digits(sign: &[u8]) -> SignForm {
        let Ok(digits) = <&[u8; 32]>::try_from(sign) else { return SignForm::Malformed };
        let value = |d: u8| match d {
            b'0'..=b'9' => Some((d - b'0', false)),
            b'a'..=b'f' => Some((d - b'a' + 10, false)),
            b'A'..=b'F' => Some((d - b'A' + 10, true)),
            _ => None,
        };
        let mut bytes = [0u8; 16];
        let mut upper = false;
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            let (Some((high, a)), Some((low, b))) = (value(pair[0]), value(pair[1])) else {
                return SignForm::Malformed;
            };
            *byte = high << 4 | low;
            upper |= a || b;
        }
        if upper { SignForm::Uppercase(bytes) } else { SignForm::Lowercase(bytes) }
    }

    fn form(sign: SignForm) -> (u8, [u8; 16]) {
        match sign {
            SignForm::Lowercase(bytes) => (0, bytes),
            SignForm::Uppercase(bytes) => (1, bytes),
            SignForm::Malformed => (2, [0; 16]),
        }
    }

    #[test]
    fn every_byte_at_every_place_of_a_sign_reads_as_digit_by_digit() {
        let base = *b"0123456789abcdefABCDEF0f1e2d3c4b";
        for at in 0..32 {
            for byte in 0..=255u8 {
                let mut sign = base;
                sign[at] = byte;
                assert_eq!(form(parse_sign(&sign)), form(parse_sign_by_digits(&sign)), "{byte:#04x} at {at}");
            }
        }
        for expire in 0..2_000u64 {
            let lower = sign(b"k", expire);
            let mixed: String = lower
                .chars()
                .enumerate()
                .map(|(i, c)| if (expire >> (i % 11)) & 1 == 1 { c.to_ascii_uppercase() } else { c })
                .collect();
            for text in [lower, mixed] {
                assert_eq!(
                    form(parse_sign(text.as_bytes())),
                    form(parse_sign_by_digits(text.as_bytes())),
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn digests_are_the_same_only_when_every_byte_is() {
        let digest = digest(b"k", 7);
        assert!(same_digest(&digest, &digest));
        for at in 0..16 {
            for bit in 0..8 {
                let mut other = digest;
                other[at] ^= 1 << bit;
                assert!(!same_digest(&digest, &other), "bit {bit} of byte {at}");
            }
        }
    }

    #[test]
    fn sign_forms() {
        assert!(matches!(parse_sign(b"A2DABB362A9B811C0E26953A6276A41C"), SignForm::Uppercase(_)));
        assert!(matches!(parse_sign(b"a2dabb"), SignForm::Malformed));
        assert!(matches!(parse_sign(b"z2dabb362a9b811c0e26953a6276a41c"), SignForm::Malformed));
    }

    #[test]
    fn debug_never_shows_the_key() {
        assert!(!format!("{:?}", Key::new("s3cret", "env")).contains("s3cret"));
    }

    #[test]
    fn judging_decides_status_expiry_and_problems_without_a_document() {
        let keys = [Key::new(b"k".to_vec(), "--key #1")];
        let valid = sign(b"k", 2_000);
        fn carried(sign: Option<Option<&[u8]>>, expire: Option<u64>) -> Carried<'_> {
            Carried { sign, expire_time_present: expire.is_some(), expire_time: expire }
        }
        let codes = |judged: &Judged| judged.problems.iter().map(|p| p.code).collect::<Vec<_>>();
        let signed = carried(Some(Some(valid.as_bytes())), Some(2_000));
        let judged = judge(signed, &keys, 1_000, false);
        assert_eq!((judged.status, judged.expired), (SignatureStatus::Valid { key: 0 }, Some(false)));
        assert!(judged.problems.is_empty());
        let late = judge(signed, &keys, 3_000, true);
        assert_eq!(codes(&late), [Code::SignatureExpired]);
        assert_eq!(late.problems[0].about, Member::ExpireTime);
        assert_eq!(judge(signed, &[], 1_000, false).status, SignatureStatus::Unchecked);
        let upper = valid.to_uppercase();
        let shouting = judge(carried(Some(Some(upper.as_bytes())), Some(2_000)), &keys, 1_000, false);
        assert_eq!(
            (shouting.status, codes(&shouting)),
            (SignatureStatus::Valid { key: 0 }, vec![Code::SignUppercase])
        );
        let short = judge(carried(Some(Some(b"abc")), Some(2_000)), &keys, 1_000, false);
        assert_eq!((short.status, codes(&short)), (SignatureStatus::Malformed, vec![Code::SignMalformed]));
        let unsigned = judge(carried(None, None), &keys, 1_000, false);
        assert_eq!(
            (unsigned.status, codes(&unsigned)),
            (SignatureStatus::Missing, vec![Code::SignatureMissing])
        );
        let alone = judge(carried(None, Some(2_000)), &[], 1_000, false);
        assert_eq!(
            (alone.status, codes(&alone)),
            (SignatureStatus::Unsigned, vec![Code::ExpireTimeWithoutSign])
        );
        let other =
            judge(carried(Some(Some(sign(b"x", 2_000).as_bytes())), Some(2_000)), &keys, 1_000, false);
        assert_eq!((other.status, codes(&other)), (SignatureStatus::Mismatch, vec![Code::SignatureMismatch]));
        assert!(!other.problems[0].help.is_empty(), "hints on what could be wrong");
    }
}
