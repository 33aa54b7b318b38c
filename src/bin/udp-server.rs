//! `udp-server`: the UDP server of article A. Prints every datagram with its sender and answers
//! `Success to receive message` at once. With `--once`, the server of article D: receive one
//! datagram, print it, exit.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::process::ExitCode;

use clap::Parser;
use socket_course::ch02_udp::{RecvError, answer_one, recv_limited};
use socket_course::cli::{self, EXIT_FAILURE};
use socket_course::show::{Preview, Screen};

/// Article A's UDP server: prints each datagram and its sender, replies `Success to receive
/// message` at once. Stop it with Ctrl-C.
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// Address to listen on, IP:PORT (port 0: the OS chooses a free port).
    #[arg(long, default_value = "127.0.0.1:8890")]
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
                let (from, len) = (datagram.from, datagram.data.len());
                println!("from {from} ({len} bytes): {}", Preview(&datagram.data));
                ExitCode::SUCCESS
            }
            Err(e) => cli::fail(EXIT_FAILURE, e),
        };
    }

    // Non-blocking, so that the loop knows when nothing is waiting: then it prints the lines
    // it collected and blocks until the next datagram.
    let mut screen = Screen::new();
    set_nonblocking(&socket, true);
    loop {
        match answer_one(&socket, args.max_size) {
            Ok(datagram) => screen.show(datagram.from, &datagram.data),
            Err(RecvError::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                screen.flush();
                set_nonblocking(&socket, false);
                let answered = answer_one(&socket, args.max_size);
                set_nonblocking(&socket, true);
                match answered {
                    Ok(datagram) => screen.show(datagram.from, &datagram.data),
                    Err(e) => report(e),
                }
            }
            Err(e) => report(e),
        }
    }
}

/// Too long, or a problem with one peer: say so and keep serving the others.
fn report(e: RecvError) {
    match e {
        e @ RecvError::TooLong { .. } => eprintln!("warning: {e}"),
        RecvError::Io(e) if cli::affects_one_peer(&e) => eprintln!("warning: {e}"),
        RecvError::Io(e) => cli::fail(EXIT_FAILURE, format!("receiving failed: {e}")),
    }
}

fn set_nonblocking(socket: &UdpSocket, on: bool) {
    if let Err(e) = socket.set_nonblocking(on) {
        cli::fail(
            EXIT_FAILURE,
            format!("cannot change the socket's mode: {e}"),
        );
    }
}
