//! `secure-client`: article C's client with every message sealed. Each line typed goes to the
//! server as a Fernet token; the sealed reply is opened and printed.

use std::io::{self, BufRead};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use course_programs::cli::{self, EXIT_FAILURE, EXIT_USAGE};
use socket_course::ch02_udp::MAX_UDP_PAYLOAD;
use socket_course::ch07_security::{read_key_file, secure_request};

/// Sends each line you type as a Fernet token made with the shared key, and prints the
/// server's opened reply. `end` or end of input quits.
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// The server's address, IP:PORT or [IPv6]:PORT (this machine only; localhost:PORT: its
    /// first address, 127.0.0.1: UDP has no connection to try on each address).
    #[arg(long, default_value = "127.0.0.1:8890", value_parser = cli::socket_addr)]
    server: SocketAddr,
    /// The key file, the same as the server's.
    #[arg(long)]
    key_file: PathBuf,
    /// Seconds to wait for each reply before giving up with exit code 1.
    #[arg(long, default_value = "5", value_parser = |s: &str| cli::seconds(s, true))]
    timeout: Duration,
}

/// The length of a Fernet token sealing `n` bytes: version, timestamp and IV (25 bytes), the
/// ciphertext padded to whole 16-byte blocks (at least one more byte), the HMAC (32), all in
/// base64 with padding (4 characters per 3 bytes).
fn token_len(n: usize) -> usize {
    let bytes = 25 + (n / 16 + 1) * 16 + 32;
    bytes.div_ceil(3) * 4
}

/// The longest line whose token fits in one UDP datagram over IPv4.
fn longest_line() -> usize {
    // token_len grows in steps of 16 bytes of plaintext: find the last block that fits.
    let mut n = MAX_UDP_PAYLOAD;
    while token_len(n) > MAX_UDP_PAYLOAD {
        n -= 1;
    }
    n
}

fn main() -> ExitCode {
    let args = Args::parse();
    let key = read_key_file(&args.key_file)
        .unwrap_or_else(|e| cli::fail(EXIT_USAGE, format!("--key-file: {e}")));
    let socket = cli::bind_udp(cli::loopback_for(args.server));
    let longest = longest_line();
    // Lines as bytes: invalid UTF-8 is sealed as it is (a token carries any bytes).
    for line in io::stdin().lock().split(b'\n') {
        let mut line =
            line.unwrap_or_else(|e| cli::fail(EXIT_FAILURE, format!("cannot read stdin: {e}")));
        if line.last() == Some(&b'\r') {
            line.pop(); // typed on Windows
        }
        if line == b"end" {
            break;
        }
        if line.len() > longest {
            // Its token would not fit in one datagram: say so and go on with the next line.
            eprintln!(
                "warning: this line is {} bytes; sealed, at most {longest} bytes fit in one \
                 datagram ({MAX_UDP_PAYLOAD} bytes); not sent",
                line.len()
            );
            continue;
        }
        match secure_request(
            &socket,
            args.server,
            &key,
            &line,
            args.timeout,
            Duration::from_secs(60),
        ) {
            Ok(reply) => println!("{}", cli::printable(&reply)),
            Err(e) => cli::fail(EXIT_FAILURE, format!("{}: {e}", args.server)),
        }
    }
    ExitCode::SUCCESS
}
