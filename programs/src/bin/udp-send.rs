//! `udp-send`: the UDP sender of article B. Sends `Hello world : N` to a receiver every
//! `--interval` seconds, `--count` times.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

use clap::Parser;
use course_programs::cli::{self, EXIT_FAILURE};

/// Article B's UDP sender: `Hello world : 1`, `Hello world : 2`, ... one datagram per interval.
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// The receiver's address, IP:PORT or [IPv6]:PORT (this machine only; localhost:PORT: its
    /// first address, 127.0.0.1: UDP has no connection to try on each address).
    #[arg(long, default_value = "127.0.0.1:4000", value_parser = cli::socket_addr)]
    server: SocketAddr,
    /// Seconds between two datagrams.
    #[arg(long, default_value = "1", value_parser = |s: &str| cli::seconds(s, false))]
    interval: Duration,
    /// How many datagrams to send.
    #[arg(long, default_value_t = 10)]
    count: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let socket = cli::bind_udp(cli::loopback_for(args.server));
    for n in 1..=args.count {
        let message = format!("Hello world : {n}");
        if let Err(e) = socket.send_to(message.as_bytes(), args.server) {
            cli::fail(EXIT_FAILURE, format!("cannot send to {}: {e}", args.server));
        }
        println!("sent: {message}");
        if n < args.count {
            thread::sleep(args.interval);
        }
    }
    ExitCode::SUCCESS
}
