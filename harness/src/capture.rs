//! [`SharedOutput`]: a `Write` target that learner code can own (and move into a thread) while
//! the test keeps a handle to read what was written, like a terminal the test can look at.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

/// Bytes written through any clone end up in one shared buffer.
#[derive(Debug, Clone, Default)]
pub struct SharedOutput {
    bytes: Arc<Mutex<Vec<u8>>>,
}

impl SharedOutput {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of everything written so far.
    pub fn contents(&self) -> Vec<u8> {
        self.bytes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The lines written so far that are complete (ended by `\n`), as text. A line still
    /// being written is left out: `writeln!` may write a line in several pieces, and a test
    /// that looked between two of them would see half of it.
    pub fn complete_lines(&self) -> Vec<String> {
        let bytes = self.contents();
        let end = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        String::from_utf8_lossy(&bytes[..end])
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Write for SharedOutput {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A stand-in for a keyboard: what the test writes to the [`InputWriter`] the learner's code
/// reads from the [`InputReader`], when the test decides. Dropping the writer is end of input.
pub fn input_pipe() -> (InputWriter, InputReader) {
    let (tx, rx) = std::sync::mpsc::channel();
    (
        InputWriter(tx),
        InputReader {
            rx,
            pending: Vec::new(),
        },
    )
}

/// The test's end of an [`input_pipe`].
#[derive(Debug, Clone)]
pub struct InputWriter(std::sync::mpsc::Sender<Vec<u8>>);

impl InputWriter {
    /// Types `text` (add the `\n` yourself).
    pub fn type_text(&self, text: &str) {
        // The reader may be gone (the code under test returned); then nobody is listening.
        let _ = self.0.send(text.as_bytes().to_vec());
    }

    /// Types raw bytes (invalid UTF-8, say, as a terminal in another encoding sends it).
    pub fn type_bytes(&self, bytes: &[u8]) {
        let _ = self.0.send(bytes.to_vec());
    }
}

/// The learner's end of an [`input_pipe`]: blocks until the test types something.
#[derive(Debug)]
pub struct InputReader {
    rx: std::sync::mpsc::Receiver<Vec<u8>>,
    pending: Vec<u8>,
}

impl io::Read for InputReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pending.is_empty() {
            match self.rx.recv() {
                Ok(bytes) => self.pending = bytes,
                Err(_) => return Ok(0), // the writer was dropped: end of input
            }
        }
        let len = buf.len().min(self.pending.len());
        buf[..len].copy_from_slice(&self.pending[..len]);
        self.pending.drain(..len);
        Ok(len)
    }
}
