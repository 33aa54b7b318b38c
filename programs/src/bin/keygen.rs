//! `keygen`: writes a new Fernet key, as Python's `Fernet.generate_key()` does, to a file only
//! its owner can read.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use course_programs::cli::{self, EXIT_FAILURE};

/// Writes a new random key (32 bytes, URL-safe base64) for `secure-server` and
/// `secure-client`, and for Python's `Fernet(key)`. Never overwrites an existing file.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Where to write the key.
    #[arg(long, default_value = "secret.key")]
    out: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut options = OpenOptions::new();
    // `create_new`: refuse to overwrite a key somebody may still need.
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600); // readable by its owner only
    }
    let result = options.open(&args.out).and_then(|mut file| {
        file.write_all(format!("{}\n", fernet::Fernet::generate_key()).as_bytes())
    });
    match result {
        Ok(()) => {
            eprintln!(
                "wrote a new key to {} (keep it out of git)",
                args.out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => cli::fail(EXIT_FAILURE, format!("{}: {e}", args.out.display())),
    }
}
