//! Random-looking numbers that repeat with a seed: the ids `tiwhook example` makes and the order
//! `tiwhook send --shuffle` delivers in. Not for secrets (the inspector's token comes from the
//! operating system).

/// A small deterministic generator (xorshift64*), for ids that look random and repeat with a seed.
pub struct Random(u64);

impl Random {
    /// A generator whose state is `seed` scrambled by splitmix64, a bijection: distinct seeds
    /// start from distinct states, and so give distinct sequences.
    pub fn new(seed: u64) -> Random {
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        // xorshift's one state that goes nowhere: the one seed that lands there gets another.
        Random(if z == 0 { 0x2545_f491_4f6c_dd1d } else { z })
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// An id of `len` lower-case letters and digits, as Tencent's task ids look.
    pub fn id(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        (0..len).map(|_| ALPHABET[self.below(ALPHABET.len() as u64) as usize] as char).collect()
    }
}
