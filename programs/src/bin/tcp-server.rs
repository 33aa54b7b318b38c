//! `tcp-server`: the TCP echo server of articles B and D. Serves one client at a time; each
//! chunk it reads goes back with `--prefix` in front (empty: an exact echo). A silent client
//! is disconnected after `--idle-timeout`; a slow one (below `--min-rate`) only while another
//! client waits.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use course_programs::cli::{self, EXIT_FAILURE};
use socket_course::ch03_tcp::{Pace, pace, serve};

/// The TCP echo server of articles B and D: one client at a time, each chunk echoed with an
/// optional prefix. Stop it with Ctrl-C.
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// Address to listen on, IP:PORT or [IPv6]:PORT (port 0: the OS chooses a free port).
    /// [::]:PORT listens on both families at once (IPv6 and IPv4 on one socket, IPV6_V6ONLY
    /// off), and on every interface, not only on loopback.
    #[arg(long, default_value = "127.0.0.1:4000", value_parser = cli::socket_addr)]
    bind: SocketAddr,
    /// Text to put before each echoed chunk (article D uses `Receive: `).
    #[arg(long, default_value = "")]
    prefix: String,
    /// Seconds a client may stay silent, or leave its echo unread, before it is disconnected
    /// so the next client is served (fractions allowed: 0.5). Also the window over which
    /// --min-rate is measured.
    #[arg(long, default_value = "30", value_parser = |s: &str| cli::seconds(s, true))]
    idle_timeout: Duration,
    /// Bytes a second a client must send on average (the echo it reads does not count),
    /// measured over each --idle-timeout window; applied only while others wait for a place
    /// (another client in the listen queue): a client that trickled less over its last
    /// window is then disconnected. 0 turns the minimum off.
    #[arg(long, default_value_t = pace::MIN_RATE)]
    min_rate: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let listener = cli::listen_tcp(args.bind);
    cli::announce(listener.local_addr());
    let pace = Pace {
        idle_timeout: args.idle_timeout,
        min_rate: args.min_rate,
    };
    match serve(&listener, args.prefix.as_bytes(), pace) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => cli::fail(EXIT_FAILURE, format!("accepting connections failed: {e}")),
    }
}
