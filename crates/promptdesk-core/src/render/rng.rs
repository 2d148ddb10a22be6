//! The draws' random numbers: a tiny generator of our own (SplitMix64), so that the same seed
//! draws the same values in every version of promptdesk (a library generator such as `rand`'s
//! `StdRng` may change its output between versions).
//!
//! Every draw gets its own stream, derived from the seed and from *where* the draw is: the key
//! of the prompt, the request's variant number and the draw's number within the request (or a
//! name, for a `random` matrix slot). Selecting one more key therefore never changes what the
//! other keys draw.

/// SplitMix64 (Steele, Lea and Flood 2014): a 64-bit state advanced by a constant, each output
/// a bijective mix of the state.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64 {
    state: u64,
}

const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 output function: a bijective scramble of 64 bits.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a over bytes: a fixed, dependency-free hash of a key's text.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The stream of one draw: `seed`, the prompt's `key`, then each of `parts` mixed in turn.
    pub(crate) fn for_draw(seed: u64, key: &str, parts: &[u64]) -> SplitMix64 {
        let mut state = mix64(seed ^ GOLDEN_GAMMA);
        state = mix64(state ^ fnv1a(key.as_bytes()));
        for &p in parts {
            state = mix64(state.wrapping_add(GOLDEN_GAMMA) ^ p);
        }
        SplitMix64::new(state)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        mix64(self.state)
    }

    /// A number in `0..n` (`n > 0`), by the multiply-and-shift method (Lemire): the bias is
    /// below n / 2^64, far below anything a prompt list could show.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        debug_assert!(n > 0);
        let wide = u128::from(self.next_u64()) * n as u128;
        (wide >> 64) as usize
    }

    /// A float in `[0, 1)` with 53 random bits.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_splitmix64() {
        // Reference outputs of SplitMix64 seeded with 1234567 (from the C reference code).
        let mut r = SplitMix64::new(1_234_567);
        assert_eq!(r.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(r.next_u64(), 3_203_168_211_198_807_973);
        assert_eq!(r.next_u64(), 9_817_491_932_198_370_423);
    }

    #[test]
    fn streams_depend_on_every_part_and_below_stays_in_range() {
        let a = SplitMix64::for_draw(7, "1", &[1, 0]).next_u64();
        assert_eq!(a, SplitMix64::for_draw(7, "1", &[1, 0]).next_u64());
        assert_ne!(a, SplitMix64::for_draw(8, "1", &[1, 0]).next_u64());
        assert_ne!(a, SplitMix64::for_draw(7, "2", &[1, 0]).next_u64());
        assert_ne!(a, SplitMix64::for_draw(7, "1", &[1, 1]).next_u64());
        assert_ne!(a, SplitMix64::for_draw(7, "1", &[2, 0]).next_u64());
        let mut r = SplitMix64::new(3);
        let mut seen = [false; 5];
        for _ in 0..200 {
            seen[r.below(5)] = true;
            let u = r.unit();
            assert!((0.0..1.0).contains(&u));
        }
        assert!(seen.iter().all(|s| *s));
    }
}
