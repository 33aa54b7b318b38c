//! `udp-client`: the interactive client of article A. Each line typed on stdin goes to the
//! server as one datagram and the reply is printed; `end` or end of input quits.

use std::io::{self, BufRead};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use course_programs::cli::{self, EXIT_FAILURE};
use socket_course::ch02_udp::{MAX_UDP_PAYLOAD, RequestError, request};

/// Article A's UDP client: sends each line you type as a datagram and prints the reply.
/// Type `end` (or end the input with Ctrl-D, Ctrl-Z on Windows) to quit.
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// The server's address, IP:PORT or [IPv6]:PORT (this machine only; localhost:PORT: its
    /// first address, 127.0.0.1: UDP has no connection to try on each address).
    #[arg(long, default_value = "127.0.0.1:8890", value_parser = cli::socket_addr)]
    server: SocketAddr,
    /// Seconds to wait for each reply before giving up with exit code 1.
    #[arg(long, default_value = "5", value_parser = |s: &str| cli::seconds(s, true))]
    timeout: Duration,
    /// Only send; do not wait for replies (the clients of articles D and E).
    #[arg(long)]
    no_reply: bool,
}

/// What the articles' servers read (`recvfrom(1024)`), and `udp-server --max-size` by default.
const SERVER_LIMIT: usize = 1024;

/// The largest UDP payload towards `server`: 65,535 bytes minus the UDP header (8) and, over
/// IPv4, the IP header (20); IPv6 counts its header outside that 65,535.
fn largest_payload(server: SocketAddr) -> usize {
    match server {
        SocketAddr::V4(_) => MAX_UDP_PAYLOAD,
        SocketAddr::V6(_) => 65_527,
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
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
        let limit = largest_payload(args.server);
        if line.len() > limit {
            // Too long for one datagram: say so and go on with the next line.
            eprintln!(
                "warning: this line is {} bytes, more than the largest UDP datagram ({limit} \
                 bytes); not sent",
                line.len()
            );
            continue;
        }
        if args.no_reply {
            if let Err(e) = socket.send_to(&line, args.server) {
                cli::fail(EXIT_FAILURE, format!("cannot send to {}: {e}", args.server));
            }
            continue;
        }
        match request(&socket, args.server, &line, args.timeout) {
            Ok(reply) => println!("{}", cli::printable(&reply)),
            Err(RequestError::NoReply) => cli::fail(
                EXIT_FAILURE,
                format!(
                    "no reply from {} within {} s ({})",
                    args.server,
                    args.timeout.as_secs_f64(),
                    if line.len() > SERVER_LIMIT {
                        format!(
                            "this line is {} bytes: a server that reads at most {SERVER_LIMIT} \
                             bytes, as the articles' servers and udp-server do by default, \
                             drops it without a reply",
                            line.len()
                        )
                    } else {
                        "is the server running?".to_string()
                    }
                ),
            ),
            Err(e) => cli::fail(EXIT_FAILURE, format!("{}: {e}", args.server)),
        }
    }
    ExitCode::SUCCESS
}
