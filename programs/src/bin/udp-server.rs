//! `udp-server`: the UDP server of article A. Prints every datagram with its sender and answers
//! `Success to receive message` at once. With `--once`, the server of article D: receive one
//! datagram, print it, exit.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use clap::Parser;
use course_programs::cli::{self, EXIT_FAILURE};
use socket_course::ch02_udp::{Datagram, REPLY, RecvError, answer_one, recv_limited};
use socket_course::log::{self, Every};
use socket_course::show::{Preview, Screen};
use socket_course::udp_buffer;

/// Article A's UDP server: prints each datagram and its sender, replies `Success to receive
/// message` at once. Stop it with Ctrl-C.
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// Address to listen on, IP:PORT or [IPv6]:PORT (port 0: the OS chooses a free port).
    /// [::]:PORT listens on both families at once (IPv6 and IPv4 on one socket, IPV6_V6ONLY
    /// off), and on every interface, not only on loopback.
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
    /// Answer only requests of at least this many bytes; shorter ones are counted and get no
    /// reply. The reply is 26 bytes: with 26 here, a forged source address (reflection) gets
    /// no more bytes than the forger sent. Default 0: article A's server answers everything.
    #[arg(long, value_name = "BYTES", default_value_t = 0)]
    min_request: usize,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let socket = cli::bind_udp(args.bind);
    cli::announce(socket.local_addr());
    udp_buffer::apply_and_report(&socket, args.recv_buffer);

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

    // Ctrl-C prints what was counted (by us, and by the kernel at our socket), then exits.
    let answered = Arc::new(AtomicU64::new(0));
    let too_long = Arc::new(AtomicU64::new(0));
    let too_short = Arc::new(AtomicU64::new(0));
    if let Ok(local) = socket.local_addr() {
        let (answered, too_long) = (Arc::clone(&answered), Arc::clone(&too_long));
        let too_short = Arc::clone(&too_short);
        let _ = ctrlc::set_handler(move || {
            log::flush(std::time::Duration::from_secs(1));
            eprintln!(
                "stopped: {} datagrams answered, {} too long, {} too short",
                answered.load(Ordering::Relaxed),
                too_long.load(Ordering::Relaxed),
                too_short.load(Ordering::Relaxed)
            );
            udp_buffer::report_kernel_drops(local);
            std::process::exit(0);
        });
    }

    // Non-blocking, so that the loop knows when nothing is waiting: then it prints the lines
    // it collected and blocks until the next datagram.
    let mut screen = Screen::new();
    let mut warnings = Every::new();
    set_nonblocking(&socket, true);
    let serve = |socket: &UdpSocket| serve_one(socket, args.max_size, args.min_request);
    loop {
        let result = match serve(&socket) {
            Err(RecvError::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                screen.flush();
                set_nonblocking(&socket, false);
                let result = serve(&socket);
                set_nonblocking(&socket, true);
                result
            }
            result => result,
        };
        match result {
            Ok((datagram, true)) => {
                answered.fetch_add(1, Ordering::Relaxed);
                screen.show(datagram.from, &datagram.data);
            }
            Ok((datagram, false)) => {
                // Said once: a flood of short requests must not flood stderr.
                if too_short.fetch_add(1, Ordering::Relaxed) == 0 {
                    log::line(format!(
                        "warning: {} bytes from {}: shorter than --min-request {}, not \
                         answered; further ones are counted, not reported",
                        datagram.data.len(),
                        datagram.from,
                        args.min_request
                    ));
                }
            }
            Err(e) => report(e, &too_long, &mut warnings),
        }
    }
}

/// One request: article A's answer (your `answer_one`) when every size is answered; with
/// `--min-request`, receive it first and reply only if it is long enough. Whether it was
/// answered comes with it.
fn serve_one(
    socket: &UdpSocket,
    max_size: usize,
    min_request: usize,
) -> Result<(Datagram, bool), RecvError> {
    if min_request == 0 {
        return answer_one(socket, max_size).map(|d| (d, true));
    }
    let datagram = recv_limited(socket, max_size)?;
    if datagram.data.len() < min_request {
        return Ok((datagram, false));
    }
    socket.send_to(REPLY, datagram.from)?;
    Ok((datagram, true))
}

/// Too long, or a problem with one peer: say so (at most a line a second, through the
/// logging thread: a stderr nobody reads never stops the server) and keep serving the
/// others.
fn report(e: RecvError, too_long: &AtomicU64, warnings: &mut Every) {
    let now = std::time::Instant::now();
    match e {
        e @ RecvError::TooLong { .. } => {
            too_long.fetch_add(1, Ordering::Relaxed);
            warnings.say(now, || format!("warning: {e}"));
        }
        RecvError::Io(e) if cli::affects_one_peer(&e) => {
            warnings.say(now, || format!("warning: {e}"));
        }
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
