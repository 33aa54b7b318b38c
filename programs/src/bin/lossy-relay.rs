//! `lossy-relay`: a UDP relay that misbehaves on purpose. Put it between a client and a
//! server and watch datagrams get lost, duplicated, reordered and delayed, the same way every
//! time for the same `--seed`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use clap::Parser;
use course_programs::cli::{self, EXIT_FAILURE, EXIT_USAGE};
use lossy_relay::{MAX_SESSIONS, Rates, Relay, RelayConfig, Script};

/// Descriptors kept for what is not a session: stdin/out/err, the front socket, the poller,
/// the Ctrl-C handler's pipe, and some to spare.
const SPARE_FDS: u64 = 32;

/// A UDP relay between clients and one server that drops, duplicates, reorders and delays
/// datagrams, deterministically: the same seed gives the same datagrams the same fates.
/// Ctrl-C stops it and prints what it did.
///
/// Example: `udp-server` on 8890, this relay on 9000, then `udp-client --server 127.0.0.1:9000`.
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// Address clients send to, IP:PORT or [IPv6]:PORT (port 0: the OS chooses a free port).
    /// [::]:PORT takes both IPv6 and IPv4 (IPV6_V6ONLY off), on every interface, not only
    /// on loopback.
    #[arg(long, default_value = "127.0.0.1:9000", value_parser = cli::socket_addr)]
    bind: SocketAddr,
    /// The server to relay to (on this machine: 127.0.0.1 or [::1]).
    #[arg(long, default_value = "127.0.0.1:8890", value_parser = cli::socket_addr)]
    server: SocketAddr,
    /// Probability (0 to 1) that a datagram is dropped.
    #[arg(long, default_value_t = 0.0)]
    loss: f64,
    /// Probability that a datagram is duplicated.
    #[arg(long, default_value_t = 0.0)]
    dup: f64,
    /// Probability that a datagram is held back and delivered after the next one.
    #[arg(long, default_value_t = 0.0)]
    reorder: f64,
    /// Milliseconds every datagram that is not dropped waits before it goes on.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// Seed for the random fates: the same seed, the same fates for the same datagrams.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// A file of exact rules, one per line, e.g. `to-server 1 drop` or `to-client "hi" duplicate`.
    #[arg(long)]
    script: Option<std::path::PathBuf>,
    /// Print one line per datagram with its fate (on stderr; lines that stderr cannot take
    /// in time are dropped and counted, the relay never waits for them).
    #[arg(long)]
    trace: bool,
    /// Forget a client (close its session's socket) after this many seconds without a
    /// datagram in either direction; it gets a new session if it comes back (fractions
    /// allowed: 0.5).
    #[arg(long, default_value = "60", value_parser = |s: &str| cli::seconds(s, true))]
    idle_timeout: Duration,
    /// Sessions for one client address at once; a newcomer past it makes that address's
    /// longest-idle session close (at most 1,024 sessions in all, fewer if the file descriptor
    /// limit is lower; then the longest-idle of the address holding the most makes way).
    #[arg(long, default_value_t = lossy_relay::MAX_PER_ADDRESS, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    max_per_address: usize,
    /// Bytes of delayed datagrams held at once (--delay-ms), each counted as its payload plus
    /// 128 bytes of bookkeeping; a delayed datagram past it is dropped and counted.
    #[arg(long, default_value_t = lossy_relay::MAX_QUEUED)]
    max_queued: usize,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if !args.server.ip().is_loopback() {
        cli::fail(
            EXIT_USAGE,
            format!(
                "--server {}: the relay only forwards to this machine (127.0.0.1 or ::1)",
                args.server
            ),
        );
    }
    let script = match &args.script {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|text| text.parse::<Script>())
            .unwrap_or_else(|e| cli::fail(EXIT_USAGE, format!("--script {}: {e}", path.display()))),
        None => Script::new(),
    };
    let rates = Rates {
        loss: args.loss,
        dup: args.dup,
        reorder: args.reorder,
        delay: Duration::from_millis(args.delay_ms),
        seed: args.seed,
    };
    if let Err(e) = rates.validate() {
        cli::fail(EXIT_USAGE, e);
    }
    // One descriptor per session: raise the soft limit as far as the hard limit allows, and
    // hold no more sessions than there are descriptors for (else the table would never fill,
    // nobody would be evicted, and a newcomer would get no socket).
    let mut max_sessions = MAX_SESSIONS;
    let mut fewer = None;
    if let Ok(Some((soft, _hard))) = socket_course::fd_limit::raise(MAX_SESSIONS as u64 + SPARE_FDS)
    {
        let fits = usize::try_from(soft.saturating_sub(SPARE_FDS)).unwrap_or(MAX_SESSIONS);
        if fits < max_sessions {
            max_sessions = fits.max(1);
            fewer = Some(soft);
        }
    }
    let config = RelayConfig {
        trace: args.trace,
        record: false,
        idle_timeout: Some(args.idle_timeout),
        max_sessions,
        max_per_address: args.max_per_address,
        max_queued: args.max_queued,
        ..RelayConfig::new(args.server).script(script).rates(rates)
    };
    // The Ctrl-C handler (a thread of its own) is set up before `listening on`, so that
    // whoever reads that line sees the relay complete.
    let (stop, stopped) = mpsc::channel();
    if let Err(e) = ctrlc::set_handler(move || {
        let _ = stop.send(());
    }) {
        eprintln!("warning: Ctrl-C will not print the counters: {e}");
    }
    let front = cli::bind_udp(args.bind);
    let relay = Relay::start_on(front, config)
        .unwrap_or_else(|e| cli::fail(EXIT_FAILURE, format!("cannot start on {}: {e}", args.bind)));
    cli::announce(Ok(relay.addr()));
    eprintln!("relaying to {}", args.server);
    if let Some(soft) = fewer {
        eprintln!(
            "at most {max_sessions} sessions at once (not {MAX_SESSIONS}): the file descriptor limit is {soft}"
        );
    }

    // Wait for Ctrl-C, then say what happened.
    let _ = stopped.recv();
    eprint!("{}", relay.shutdown());
    ExitCode::SUCCESS
}
