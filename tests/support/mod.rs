//! Test support shared by chapter test files (`mod support;`): bytes written as hex, and
//! reproducible pseudo-random bytes.

#![allow(dead_code)]

/// Bytes from a hex string with spaces: `"01 0000 00"`.
pub fn hex(text: &str) -> Vec<u8> {
    let digits: String = text.split_whitespace().collect();
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap())
        .collect()
}

/// A fixed pseudo-random byte string (the same on every run).
pub fn noise(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}
