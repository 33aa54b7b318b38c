//! `udp-server`: the UDP server of article A. Prints every datagram with its sender and answers
//! `Success to receive message` at once. With `--once`, the server of article D: receive one
//! datagram, print it, exit.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use socket_course::ch02_udp::{RecvError, answer_one, recv_limited};
use socket_course::cli::{self, EXIT_FAILURE};

/// Article A's UDP server: prints each datagram and its sender, replies `Success to receive
/// message` at once. Stop it with Ctrl-C.
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// Address to listen on, IP:PORT (port 0: the OS chooses a free port).
    #[arg(long, default_value = "127.0.0.1:8890", value_parser = cli::socket_addr)]
    bind: SocketAddr,
    /// Receive one datagram, print it and exit without replying (article D's server).
    #[arg(long)]
    once: bool,
    /// Largest datagram accepted, in bytes; a longer one is reported and gets no reply.
    #[arg(long, default_value_t = 1024)]
    max_size: usize,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let socket = cli::bind_udp(args.bind);
    cli::announce(socket.local_addr());

    if args.once {
        return match recv_limited(&socket, args.max_size) {
            Ok(datagram) => {
                println!("from {}: {}", datagram.from, cli::printable(&datagram.data));
                ExitCode::SUCCESS
            }
            Err(e) => cli::fail(EXIT_FAILURE, e),
        };
    }

    loop {
        match answer_one(&socket, args.max_size) {
            Ok(datagram) => println!("from {}: {}", datagram.from, cli::printable(&datagram.data)),
            // Too long, or a problem with one peer: say so and keep serving the others.
            Err(e @ RecvError::TooLong { .. }) => eprintln!("warning: {e}"),
            Err(RecvError::Io(e)) if cli::affects_one_peer(&e) => eprintln!("warning: {e}"),
            Err(RecvError::Io(e)) => cli::fail(EXIT_FAILURE, format!("receiving failed: {e}")),
        }
    }
}
