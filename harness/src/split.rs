//! [`SplitReads`]: a reader that returns data in pieces of sizes the test chooses.
//!
//! TCP may deliver the bytes of one write in several reads, and several writes in one read,
//! but on loopback it rarely does. Wrapping a real `TcpStream` in `SplitReads` makes the
//! awkward cases happen every time: one byte per read, a line cut in the middle, a multi-byte
//! UTF-8 character cut in two.

use std::io::{self, Read};

/// Reads at most `sizes[0]` bytes on the first call, `sizes[1]` on the second, and so on; the
/// last size repeats.
#[derive(Debug)]
pub struct SplitReads<R> {
    inner: R,
    sizes: Vec<usize>,
    next: usize,
}

impl<R: Read> SplitReads<R> {
    /// Wraps `inner`; `sizes` must not be empty or contain 0.
    pub fn new(inner: R, sizes: &[usize]) -> Self {
        assert!(
            !sizes.is_empty() && !sizes.contains(&0),
            "test setup: read sizes must be at least 1"
        );
        SplitReads {
            inner,
            sizes: sizes.to_vec(),
            next: 0,
        }
    }

    /// One byte per read.
    pub fn one_byte_at_a_time(inner: R) -> Self {
        Self::new(inner, &[1])
    }
}

impl<R: Read> Read for SplitReads<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let size = self.sizes[self.next.min(self.sizes.len() - 1)];
        self.next += 1;
        let len = size.min(buf.len());
        self.inner.read(&mut buf[..len])
    }
}
