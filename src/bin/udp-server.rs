//! `udp-server`: the UDP server of article A. Prints every datagram with its sender and answers
//! `Success to receive message` at once. With `--once`, the server of article D: receive one
//! datagram, print it, exit.

use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use socket_course::ch02_udp::{recv_limited, run_server};
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
    if args.once {
        let socket = cli::bind_udp(args.bind);
        cli::announce(socket.local_addr());
        return match recv_limited(&socket, args.max_size) {
            Ok(datagram) => {
                println!("from {}: {}", datagram.from, cli::printable(&datagram.data));
                ExitCode::SUCCESS
            }
            Err(e) => cli::fail(EXIT_FAILURE, e),
        };
    }

    // The whole server is exercise 2.5a: it returns only when its socket fails for good.
    let announce = |addr| cli::announce(Ok(addr));
    match run_server(
        args.bind,
        args.max_size,
        announce,
        io::stdout(),
        io::stderr(),
    ) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => cli::fail(EXIT_FAILURE, format!("cannot serve on {}: {e}", args.bind)),
    }
}
