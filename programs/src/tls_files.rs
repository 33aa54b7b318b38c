//! Reading chapter 10's PEM files (`--cert`, `--key`, `--ca`): a missing or unreadable
//! file is a configuration error (exit code 2), named in one line.

use std::fs;
use std::path::Path;

use crate::cli::{self, EXIT_USAGE};

/// The bytes of `path`, or exit 2 with a message naming `flag` and the file.
pub fn read_pem(flag: &str, path: &Path) -> Vec<u8> {
    fs::read(path)
        .unwrap_or_else(|e| cli::fail(EXIT_USAGE, format!("{flag} {}: {e}", path.display())))
}
