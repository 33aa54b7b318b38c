//! `secure-client`: article C's client with every message sealed. Each line typed goes to the
//! server as a Fernet token; the sealed reply is opened and printed.

use std::io::{self, BufRead};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use socket_course::ch07_security::{read_key_file, secure_request};
use socket_course::cli::{self, EXIT_FAILURE, EXIT_USAGE};

/// Sends each line you type as a Fernet token made with the shared key, and prints the
/// server's opened reply. `end` or end of input quits.
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// The server's address, IP:PORT (this machine only).
    #[arg(long, default_value = "127.0.0.1:8890")]
    server: SocketAddr,
    /// The key file, the same as the server's.
    #[arg(long)]
    key_file: PathBuf,
    /// Seconds to wait for each reply before giving up with exit code 1.
    #[arg(long, default_value = "5", value_parser = |s: &str| cli::seconds(s, true))]
    timeout: Duration,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let key = read_key_file(&args.key_file)
        .unwrap_or_else(|e| cli::fail(EXIT_USAGE, format!("--key-file: {e}")));
    let socket = cli::bind_udp(cli::loopback_for(args.server));
    for line in io::stdin().lock().lines() {
        let line =
            line.unwrap_or_else(|e| cli::fail(EXIT_FAILURE, format!("cannot read stdin: {e}")));
        let line = line.trim_end_matches('\r');
        if line == "end" {
            break;
        }
        match secure_request(
            &socket,
            args.server,
            &key,
            line.as_bytes(),
            args.timeout,
            Duration::from_secs(60),
        ) {
            Ok(reply) => println!("{}", cli::printable(&reply)),
            Err(e) => cli::fail(EXIT_FAILURE, format!("{}: {e}", args.server)),
        }
    }
    ExitCode::SUCCESS
}
