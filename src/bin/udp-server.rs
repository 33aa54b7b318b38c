//! `udp-server`: the UDP server of article A. Prints every datagram with its sender and answers
//! `Success to receive message` at once. With `--once`, the server of article D: receive one
//! datagram, print it, exit.

use std::io::{self, Write};
use std::net::{SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use clap::Parser;
use socket_course::ch02_udp::{recv_limited, run_server};
use socket_course::cli::{self, EXIT_FAILURE};
use socket_course::udp_buffer;

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
    /// Ask the kernel for a receive buffer of this many bytes (SO_RCVBUF); the size granted
    /// is printed (Linux doubles the request and caps it at twice net.core.rmem_max).
    #[arg(long, value_name = "BYTES", value_parser = udp_buffer::parse_bytes)]
    recv_buffer: Option<usize>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.once {
        let socket = cli::bind_udp(args.bind);
        cli::announce(socket.local_addr());
        udp_buffer::apply_and_report(&socket, args.recv_buffer);
        return match recv_limited(&socket, args.max_size) {
            Ok(datagram) => {
                println!("from {}: {}", datagram.from, cli::printable(&datagram.data));
                ExitCode::SUCCESS
            }
            Err(e) => cli::fail(EXIT_FAILURE, e),
        };
    }

    // Ctrl-C prints what was counted (by us, and by the kernel at our socket), then exits.
    let answered = Arc::new(AtomicU64::new(0));
    let warnings = Arc::new(AtomicU64::new(0));
    let ready = |socket: &UdpSocket| {
        cli::announce(socket.local_addr());
        udp_buffer::apply_and_report(socket, args.recv_buffer);
        if let Ok(local) = socket.local_addr() {
            let (answered, warnings) = (Arc::clone(&answered), Arc::clone(&warnings));
            let _ = ctrlc::set_handler(move || {
                eprintln!(
                    "stopped: {} datagrams answered, {} warnings",
                    answered.load(Ordering::Relaxed),
                    warnings.load(Ordering::Relaxed)
                );
                udp_buffer::report_kernel_drops(local);
                std::process::exit(0);
            });
        }
    };
    // The whole server is exercise 2.5a: one line on stdout per datagram answered, one on
    // stderr per warning; it returns only when its socket fails for good.
    let out = CountLines(io::stdout(), Arc::clone(&answered));
    let log = CountLines(io::stderr(), Arc::clone(&warnings));
    match run_server(args.bind, args.max_size, ready, out, log) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => cli::fail(EXIT_FAILURE, format!("{}: {e}", args.bind)),
    }
}

/// A writer that counts the lines written through it.
struct CountLines<W>(W, Arc<AtomicU64>);

impl<W: Write> Write for CountLines<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let len = self.0.write(buf)?;
        let lines = buf[..len].iter().filter(|b| **b == b'\n').count();
        self.1.fetch_add(lines as u64, Ordering::Relaxed);
        Ok(len)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}
