//! `reliable-send`: the sending end of chapter 6's protocol. Reads stdin, sends it as messages
//! of up to 1,024 bytes, each until acknowledged, then END.

use std::io::{self, Read};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use course_programs::cli::{self, EXIT_FAILURE, EXIT_USAGE};
use course_programs::sealing;
use socket_course::ch06_reliability::{
    GRANULARITY, MAX_PAYLOAD, MAX_WINDOW, Rto, RtoConfig, Session, send_window,
};
use socket_course::ch07_security::SealKey;

/// Sends stdin to `reliable-recv`: messages of up to 1,024 bytes, each resent until
/// acknowledged, with a timeout that adapts to the measured round trip. Exit code 1 when a
/// message is never acknowledged.
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// The receiver's address, IP:PORT or [IPv6]:PORT (this machine only; localhost:PORT: its
    /// first address, 127.0.0.1: UDP has no connection to try on each address). With
    /// --bind [::]:PORT (an IPv6 socket) an IPv4 address also matches its ::ffff: form, the
    /// way the receiver's ACKs show up there (127.0.0.1:PORT as [::ffff:127.0.0.1]:PORT).
    #[arg(long, default_value = "127.0.0.1:50001", value_parser = cli::socket_addr)]
    server: SocketAddr,
    /// Shortest retransmission timeout, in milliseconds. The timeout itself is measured
    /// (smoothed round trip + 4 x its variation); the default minimum is only the timer's
    /// resolution. A gap the receiver reports is resent without waiting for any timeout.
    #[arg(long, default_value_t = GRANULARITY.as_millis() as u64)]
    min_rto_ms: u64,
    /// Longest retransmission timeout, in milliseconds.
    #[arg(long, default_value_t = RtoConfig::LOOPBACK.max.as_millis() as u64)]
    max_rto_ms: u64,
    /// How many times one message is sent before giving up.
    #[arg(long, default_value_t = 30)]
    tries: u32,
    /// Send from this address, IP:PORT (default: loopback, a port the OS chooses), so that
    /// `reliable-recv --from` can name it.
    #[arg(long, value_parser = cli::socket_addr)]
    bind: Option<SocketAddr>,
    /// How many messages may be in flight at once (1-256; 1 = stop-and-wait). The default is
    /// reliable-recv's default window: as many as the receiver accepts.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=MAX_WINDOW as i64))]
    window: u16,
    /// Seal every datagram with this chapter 7 key file (keygen makes one), so that nobody
    /// without the key can forge an ACK; reliable-recv needs the same key.
    #[arg(long, alias = "key", value_name = "FILE")]
    key_file: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.min_rto_ms == 0 || args.min_rto_ms > args.max_rto_ms {
        cli::fail(
            EXIT_USAGE,
            "--min-rto-ms must be at least 1 and at most --max-rto-ms",
        );
    }
    if args.tries == 0 {
        cli::fail(EXIT_USAGE, "--tries must be at least 1");
    }
    let mut input = Vec::new();
    if let Err(e) = io::stdin().lock().read_to_end(&mut input) {
        cli::fail(EXIT_FAILURE, format!("cannot read stdin: {e}"));
    }
    let payloads: Vec<Vec<u8>> = input.chunks(MAX_PAYLOAD).map(<[u8]>::to_vec).collect();

    let (min, max) = (
        Duration::from_millis(args.min_rto_ms),
        Duration::from_millis(args.max_rto_ms),
    );
    let mut rto = Rto::new(RtoConfig {
        initial: RtoConfig::LOOPBACK.initial.clamp(min, max),
        min,
        max,
    });
    let key = args.key_file.as_ref().map(|path| {
        SealKey::read(path).unwrap_or_else(|e| cli::fail(EXIT_USAGE, format!("--key-file: {e}")))
    });
    let bind = args.bind.unwrap_or(cli::loopback_for(args.server));
    let socket = cli::bind_udp(bind);
    // On [::], an IPv4 receiver is heard as ::ffff:a.b.c.d: the sealing compares with that.
    let server = SocketAddr::new(cli::as_seen_on(bind, args.server.ip()), args.server.port());
    // With a key, the protocol talks to the sealing relay, which talks to the receiver.
    let (socket, peer, refused) = match key {
        Some(key) => match sealing::start(socket, Some(server), key) {
            Ok(sealed) => (sealed.socket, sealed.peer, Some(sealed.refused)),
            Err(e) => cli::fail(EXIT_FAILURE, format!("cannot start sealing: {e}")),
        },
        None => (socket, server, None),
    };
    // A random session id and first number: an ACK must name them to count.
    let session = match Session::random() {
        Ok(session) => session,
        Err(e) => cli::fail(EXIT_FAILURE, format!("no random session id: {e}")),
    };
    let result = send_window(
        &socket,
        peer,
        session,
        &payloads,
        args.window,
        &mut rto,
        args.tries,
    );
    if let Some(refused) = refused {
        refused.report();
    }
    match result {
        Ok(report) => {
            let sent: u32 = report.transmissions.iter().sum();
            let messages = report.transmissions.len();
            eprintln!(
                "sent {} bytes in {messages} messages (END included), {} retransmissions; smoothed round trip {:.3} ms",
                input.len(),
                sent as usize - messages,
                rto.srtt().unwrap_or_default().as_secs_f64() * 1000.0
            );
            if report.ignored_acks > 0 {
                eprintln!(
                    "ignored {} ACKs of another session or of messages never sent",
                    report.ignored_acks
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => cli::fail(EXIT_FAILURE, format!("{}: {e}", args.server)),
    }
}
