//! `secure-server`: article C's server with every message sealed (Fernet, a shared key). It
//! answers each token it accepts with a sealed `Success to receive message` and refuses
//! tampered, old, replayed and unknown-sender datagrams.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Parser;
use course_programs::cli::{self, EXIT_FAILURE, EXIT_USAGE};
use socket_course::ch07_security::{Allow, Guard, read_key_file, run_secure_server};

/// A UDP server that accepts only Fernet tokens made with its key: it prints each message it
/// opens and answers with a sealed reply. Refusals are reported on stderr. Stop it with Ctrl-C.
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// Address to listen on, IP:PORT or [IPv6]:PORT (port 0: the OS chooses a free port).
    /// [::]:PORT listens on both families at once (IPv6 and IPv4 on one socket, IPV6_V6ONLY
    /// off), and on every interface, not only on loopback.
    #[arg(long, default_value = "127.0.0.1:8890", value_parser = cli::socket_addr)]
    bind: SocketAddr,
    /// The key file (make one with `keygen`).
    #[arg(long)]
    key_file: PathBuf,
    /// Refuse tokens older than this many seconds.
    #[arg(long, default_value_t = 60)]
    ttl: u64,
    /// Accept only these senders: IP or IP:PORT; repeat for more (default: everybody). On an
    /// IPv6 socket (--bind [::]:PORT) an IPv4 address also matches its ::ffff: form, the way
    /// IPv4 senders show up there (127.0.0.1 as ::ffff:127.0.0.1).
    #[arg(long = "allow")]
    allow: Vec<Allow>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let key = read_key_file(&args.key_file)
        .unwrap_or_else(|e| cli::fail(EXIT_USAGE, format!("--key-file: {e}")));
    let socket = cli::bind_udp(args.bind);
    cli::announce(socket.local_addr());
    // What this process accepted before a restart is forgotten, so tokens dated before its
    // start are refused: a recording made then cannot be replayed now (chapter 7).
    let started = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // On [::], an IPv4 sender is seen as ::ffff:a.b.c.d: compare it with that form.
    let allow = args
        .allow
        .into_iter()
        .map(|a| Allow {
            ip: cli::as_seen_on(args.bind, a.ip),
            port: a.port,
        })
        .collect();
    let guard = Guard::new(key, Duration::from_secs(args.ttl), allow).not_before(started);
    match run_secure_server(&socket, guard, |from, plaintext| {
        println!("from {from}: {}", cli::printable(plaintext))
    }) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => cli::fail(EXIT_FAILURE, format!("receiving failed: {e}")),
    }
}
