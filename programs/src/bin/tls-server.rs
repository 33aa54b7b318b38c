//! `tls-server`: chapter 3's echo server behind TLS 1.3 (chapter 10). Each client gets a
//! thread of its own, up to `--max-clients` in all and `--max-per-address` from one source
//! address. A client must send its whole ClientHello within `--handshake-deadline` of its
//! accept (one deadline, not a timer each byte resets); after that, a client silent for
//! `--idle-timeout` is disconnected. The certificate and key come from files (`tls-cert`
//! writes test ones).

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use course_given::slots::Slots;
use course_programs::cli::{self, EXIT_USAGE};
use course_programs::tls_files::read_pem;
use socket_course::ch10_tls::{echo_tls, server_config};

/// The longest ClientHello waited for, in bytes: real ones take under 2 KiB (one TLS record
/// holds at most 16 KiB). A longer one is refused before the server does any work for it.
const MAX_CLIENT_HELLO: usize = 16 * 1024;
/// How much of a slow ClientHello is looked at: its bytes may come in many small records,
/// each with a 5-byte header.
const PEEK_LIMIT: usize = 2 * MAX_CLIENT_HELLO;
/// `peek` returns at once while any byte waits unread, so between two looks that found
/// nothing new the thread pauses this long: a client dribbling its ClientHello costs at most
/// 50 looks a second, until its deadline.
const PEEK_PAUSE: Duration = Duration::from_millis(20);

/// A TLS echo server: every byte a client sends comes back, encrypted. Stop it with Ctrl-C.
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// Address to listen on, IP:PORT or [IPv6]:PORT (port 0: the OS chooses a free port).
    /// [::]:PORT listens on both families at once (IPv6 and IPv4 on one socket, IPV6_V6ONLY
    /// off), and on every interface, not only on loopback.
    #[arg(long, default_value = "127.0.0.1:4433", value_parser = cli::socket_addr)]
    bind: SocketAddr,
    /// The server's certificate chain, a PEM file (tls-cert writes server.pem).
    #[arg(long)]
    cert: PathBuf,
    /// The certificate's private key, a PEM file (tls-cert writes server.key).
    #[arg(long)]
    key: PathBuf,
    /// Seconds a client has, from its connection's accept, to send its whole ClientHello
    /// (the handshake's first message, at most 16 KiB) (fractions allowed: 0.5). One
    /// deadline, not a timer each byte restarts: a client sending a byte now and then, or
    /// nothing, is closed when it passes.
    #[arg(long, default_value = "5", value_parser = |s: &str| cli::seconds(s, true))]
    handshake_deadline: Duration,
    /// Seconds a client may stay silent, after its ClientHello, before it is disconnected
    /// (fractions allowed: 0.5).
    #[arg(long, default_value = "30", value_parser = |s: &str| cli::seconds(s, true))]
    idle_timeout: Duration,
    /// Most clients served at once; one more is accepted and closed at once.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    max_clients: u64,
    /// Most clients from one source address (IP) at once, so that one machine cannot take
    /// every place; one more is accepted and closed at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..))]
    max_per_address: u64,
}

/// What the first bytes of a connection turned out to be.
enum FirstFlight {
    /// A whole ClientHello is waiting unread: the handshake may start.
    ClientHello,
    /// Something else (not a TLS handshake record): rustls says what is wrong with it.
    NotHandshake,
    /// The client closed the connection first.
    Closed,
}

/// Waits, without reading, until `tcp` holds the client's whole ClientHello, at most until
/// `deadline`. `peek` leaves the bytes in the socket for the handshake (`echo_tls`) to read.
fn await_client_hello(tcp: &TcpStream, deadline: Instant) -> io::Result<FirstFlight> {
    let mut buf = vec![0u8; PEEK_LIMIT];
    let mut seen = 0;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no whole ClientHello by the handshake deadline ({seen} bytes)"),
            ));
        }
        tcp.set_read_timeout(Some(left))?;
        let n = match tcp.peek(&mut buf) {
            Ok(0) => return Ok(FirstFlight::Closed),
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        match client_hello_length(&buf[..n]) {
            Hello::Whole => return Ok(FirstFlight::ClientHello),
            Hello::NotHandshake => return Ok(FirstFlight::NotHandshake),
            Hello::TooLong(len) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("a ClientHello of {len} bytes (at most {MAX_CLIENT_HELLO})"),
                ));
            }
            Hello::Partial if n == buf.len() => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{n} bytes and still no whole ClientHello"),
                ));
            }
            Hello::Partial => {
                if n == seen {
                    thread::sleep(PEEK_PAUSE.min(left));
                }
                seen = n;
            }
        }
    }
}

/// How far `bytes`, the start of a connection, hold a ClientHello.
#[derive(Debug, PartialEq)]
enum Hello {
    Whole,
    Partial,
    NotHandshake,
    TooLong(usize),
}

/// Reads `bytes` as TLS records (type 22 = handshake; a 5-byte header: type, version, length)
/// whose contents join into the first handshake message (a 4-byte header: type 1 =
/// ClientHello, 3-byte length). Whole: the message is in, and so is the last record begun
/// (rustls reads records whole). Only lengths are read: rustls checks everything else.
fn client_hello_length(bytes: &[u8]) -> Hello {
    let mut message = Vec::new();
    let mut rest = bytes;
    let mut record_done = true;
    while rest.len() >= 5 {
        if rest[0] != 22 {
            return Hello::NotHandshake;
        }
        let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        // A record still coming counts too: its first bytes may say the length already.
        let end = rest.len().min(5 + len);
        record_done = end == 5 + len;
        message.extend_from_slice(&rest[5..end]);
        rest = &rest[end..];
    }
    if rest.first().is_some_and(|&kind| kind != 22) {
        return Hello::NotHandshake;
    }
    if message.len() < 4 {
        return Hello::Partial;
    }
    if message[0] != 1 {
        return Hello::NotHandshake;
    }
    let len =
        usize::from(message[1]) << 16 | usize::from(message[2]) << 8 | usize::from(message[3]);
    if len > MAX_CLIENT_HELLO {
        Hello::TooLong(len)
    } else if message.len() >= 4 + len && record_done && rest.is_empty() {
        Hello::Whole
    } else {
        Hello::Partial
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let cert = read_pem("--cert", &args.cert);
    let key = read_pem("--key", &args.key);
    let config = server_config(&cert, &key)
        .unwrap_or_else(|e| cli::fail(EXIT_USAGE, format!("--cert/--key: {e}")));
    let listener = cli::listen_tcp(args.bind);
    cli::announce(listener.local_addr());
    let max_clients = usize::try_from(args.max_clients).unwrap_or(usize::MAX);
    let slots = Slots::new(
        max_clients,
        usize::try_from(args.max_per_address).unwrap_or(usize::MAX),
    );
    loop {
        let (tcp, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) => {
                eprintln!("accept: {e}");
                continue;
            }
        };
        let accepted_at = Instant::now();
        // On a [::] socket an IPv4 peer shows as ::ffff:127.0.0.1: one address either way.
        let Some(slot) = slots.take(peer.ip().to_canonical()) else {
            if slots.in_use() >= max_clients {
                eprintln!("{peer}: too many clients ({}), closing", args.max_clients);
            } else {
                eprintln!(
                    "{peer}: too many clients from {} ({}), closing",
                    peer.ip().to_canonical(),
                    args.max_per_address
                );
            }
            continue;
        };
        let config = config.clone();
        let (deadline, idle) = (accepted_at + args.handshake_deadline, args.idle_timeout);
        thread::spawn(move || {
            let _slot = slot; // the place is given back when this thread ends
            eprintln!("{peer} connected");
            match await_client_hello(&tcp, deadline) {
                Ok(FirstFlight::ClientHello | FirstFlight::NotHandshake) => {}
                Ok(FirstFlight::Closed) => {
                    return eprintln!("{peer} closed the connection before its handshake");
                }
                Err(e) => return eprintln!("{peer}: {e}, closing the connection"),
            }
            // The idle timeout bounds every later read and write, the rest of the
            // handshake's included.
            if tcp.set_read_timeout(Some(idle)).is_err()
                || tcp.set_write_timeout(Some(idle)).is_err()
            {
                return;
            }
            match echo_tls(tcp, config) {
                Ok(bytes) => eprintln!("{peer} closed the connection after {bytes} bytes"),
                Err(e) => eprintln!("{peer}: {e}, closing the connection"),
            }
        });
    }
}
