//! `tcp-server`: the TCP echo server of articles B and D. Serves one client at a time; each
//! chunk it reads goes back with `--prefix` in front (empty: an exact echo).

use std::net::{SocketAddr, TcpListener};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use course_programs::cli::{self, EXIT_FAILURE};
use socket_course::ch03_tcp::serve;

/// The TCP echo server of articles B and D: one client at a time, each chunk echoed with an
/// optional prefix. Stop it with Ctrl-C.
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// Address to listen on, IP:PORT (port 0: the OS chooses a free port).
    #[arg(long, default_value = "127.0.0.1:4000", value_parser = cli::socket_addr)]
    bind: SocketAddr,
    /// Text to put before each echoed chunk (article D uses `Receive: `).
    #[arg(long, default_value = "")]
    prefix: String,
    /// Seconds a client may stay silent, or leave its echo unread, before it is disconnected
    /// so the next client is served (fractions allowed: 0.5).
    #[arg(long, default_value = "30", value_parser = |s: &str| cli::seconds(s, true))]
    idle_timeout: Duration,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let listener = TcpListener::bind(args.bind)
        .unwrap_or_else(|e| cli::fail(EXIT_FAILURE, format!("cannot bind {}: {e}", args.bind)));
    cli::announce(listener.local_addr());
    match serve(&listener, args.prefix.as_bytes(), args.idle_timeout) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => cli::fail(EXIT_FAILURE, format!("accepting connections failed: {e}")),
    }
}
