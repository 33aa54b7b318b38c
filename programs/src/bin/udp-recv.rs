//! `udp-recv`: the UDP receiver of article B. Binds and prints every datagram that arrives.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use course_programs::cli::{self, EXIT_FAILURE};
use socket_course::ch02_udp::{RecvError, recv_limited};

/// Article B's UDP receiver: prints each datagram and its sender. Stop it with Ctrl-C.
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// Address to listen on, IP:PORT or [IPv6]:PORT (port 0: the OS chooses a free port).
    /// [::]:PORT listens on both families at once (IPv6 and IPv4 on one socket, IPV6_V6ONLY
    /// off), and on every interface, not only on loopback.
    #[arg(long, default_value = "127.0.0.1:4000", value_parser = cli::socket_addr)]
    bind: SocketAddr,
    /// Largest datagram accepted, in bytes; a longer one is reported and skipped.
    #[arg(long, default_value_t = 1024)]
    max_size: usize,
    /// Exit after this many datagrams (default: run until Ctrl-C).
    #[arg(long)]
    count: Option<u64>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let socket = cli::bind_udp(args.bind);
    cli::announce(socket.local_addr());
    let mut received = 0;
    while args.count.is_none_or(|count| received < count) {
        match recv_limited(&socket, args.max_size) {
            Ok(datagram) => {
                received += 1;
                println!("from {}: {}", datagram.from, cli::printable(&datagram.data));
            }
            Err(e @ RecvError::TooLong { .. }) => eprintln!("warning: {e}"),
            Err(RecvError::Io(e)) if cli::affects_one_peer(&e) => eprintln!("warning: {e}"),
            Err(RecvError::Io(e)) => cli::fail(EXIT_FAILURE, format!("receiving failed: {e}")),
        }
    }
    ExitCode::SUCCESS
}
