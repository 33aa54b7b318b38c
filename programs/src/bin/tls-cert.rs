//! `tls-cert`: writes a test certificate authority and a server certificate it signed, as
//! PEM files, for `tls-server`, `tls-client`, `quic-server` and `quic-client` (chapter 10).
//! The CA's key is not kept: nobody can sign another certificate with it.

use std::fs;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use course_programs::cli::{self, EXIT_FAILURE, EXIT_USAGE};
use socket_course::ch10_tls::certs::{TestCa, Validity};

/// Writes ca.pem (the test CA's certificate: give it to clients with --ca), server.pem and
/// server.key (the server's certificate and private key: give them to servers with --cert
/// and --key) into --out-dir. For tests on your own machine only.
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// Folder to write the three files into (created if missing).
    #[arg(long, default_value = "tls")]
    out_dir: PathBuf,
    /// A name the server certificate is valid for (a DNS name or an IP address); repeat it
    /// for several.
    #[arg(long = "name", default_values_t = ["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()])]
    names: Vec<String>,
    /// Make the server certificate expired (valid in the year 2000 only), to see a client
    /// refuse it.
    #[arg(long)]
    expired: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let names: Vec<&str> = args.names.iter().map(String::as_str).collect();
    let validity = if args.expired {
        Validity::Expired
    } else {
        Validity::Current
    };
    // A name of its own for every CA made: a client holding an older ca.pem then finds no
    // CA of that name (unknown issuer), instead of one with the right name and another key.
    let made = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let ca = TestCa::new(&format!("socket-course test CA {}", made.as_nanos()))
        .unwrap_or_else(|e| cli::fail(EXIT_FAILURE, format!("cannot make a CA: {e}")));
    let server = ca
        .issue(&names, validity)
        .unwrap_or_else(|e| cli::fail(EXIT_USAGE, format!("cannot issue for {names:?}: {e}")));
    if let Err(e) = fs::create_dir_all(&args.out_dir) {
        cli::fail(
            EXIT_FAILURE,
            format!("cannot create {}: {e}", args.out_dir.display()),
        );
    }
    let files = [
        ("ca.pem", ca.cert_pem()),
        ("server.pem", server.cert_pem),
        ("server.key", server.key_pem),
    ];
    for (name, text) in files {
        let path = args.out_dir.join(name);
        if let Err(e) = fs::write(&path, text) {
            cli::fail(
                EXIT_FAILURE,
                format!("cannot write {}: {e}", path.display()),
            );
        }
        println!("wrote {}", path.display());
    }
    ExitCode::SUCCESS
}
