//! `udp-client`: the interactive client of article A. Each line typed on stdin goes to the
//! server as one datagram and the reply is printed; `end` or end of input quits.

use std::io::{self, BufRead};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use socket_course::ch02_udp::{RequestError, run_client};
use socket_course::cli::{self, EXIT_FAILURE};

/// Article A's UDP client: sends each line you type as a datagram and prints the reply.
/// Type `end` (or end the input with Ctrl-D, Ctrl-Z on Windows) to quit.
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// The server's address, IP:PORT (this machine only).
    #[arg(long, default_value = "127.0.0.1:8890")]
    server: SocketAddr,
    /// Seconds to wait for each reply before giving up with exit code 1.
    #[arg(long, default_value = "5", value_parser = |s: &str| cli::seconds(s, true))]
    timeout: Duration,
    /// Only send; do not wait for replies (the clients of articles D and E).
    #[arg(long)]
    no_reply: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if !args.no_reply {
        // The whole client is exercise 2.5b.
        return match run_client(args.server, io::stdin().lock(), io::stdout(), args.timeout) {
            Ok(()) => ExitCode::SUCCESS,
            Err(RequestError::NoReply) => cli::fail(
                EXIT_FAILURE,
                format!(
                    "no reply from {} within {} s (is the server running?)",
                    args.server,
                    args.timeout.as_secs_f64()
                ),
            ),
            Err(e) => cli::fail(EXIT_FAILURE, format!("{}: {e}", args.server)),
        };
    }

    // Only send (articles D and E): no reply to wait for.
    let socket = cli::bind_udp(cli::loopback_for(args.server));
    for line in io::stdin().lock().split(b'\n') {
        let mut line =
            line.unwrap_or_else(|e| cli::fail(EXIT_FAILURE, format!("cannot read stdin: {e}")));
        if line.last() == Some(&b'\r') {
            line.pop(); // typed on Windows
        }
        if line == b"end" {
            break;
        }
        if let Err(e) = socket.send_to(&line, args.server) {
            cli::fail(EXIT_FAILURE, format!("cannot send to {}: {e}", args.server));
        }
    }
    ExitCode::SUCCESS
}
