//! `tcp-echo-server`: chapter 3's whole program, built from exercise 3.4. An echo server
//! that serves one client at a time until Ctrl-C, then says what it served and exits
//! with 0.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use course_programs::cli::{self, EXIT_FAILURE};
use socket_course::ch03_tcp::{Shutdown, run_echo_server, stop_on_ctrl_c};

/// An echo server, one client at a time, written whole in exercise 3.4: stop it with Ctrl-C
/// and it prints what it served.
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// Address to listen on, IP:PORT or [IPv6]:PORT (port 0: the OS chooses a free port).
    /// [::]:PORT listens on IPv6, and on IPv4 too where that is the OS's default (Linux,
    /// macOS; not Windows): exercise 3.4a binds with std, which leaves IPV6_V6ONLY to the OS.
    /// [::] is every interface, not only loopback.
    #[arg(long, default_value = "127.0.0.1:4000", value_parser = cli::socket_addr)]
    bind: SocketAddr,
    /// Seconds a client may stay silent, or leave its echo unread, before it is disconnected
    /// so the next client is served (fractions allowed: 0.5).
    #[arg(long, default_value = "30", value_parser = |s: &str| cli::seconds(s, true))]
    idle_timeout: Duration,
}

// ANCHOR: main
fn main() -> ExitCode {
    let args = Args::parse();
    let shutdown = Shutdown::new();
    // Step 3.4b: Ctrl-C asks the server to stop, instead of killing the program.
    if let Err(e) = stop_on_ctrl_c(&shutdown) {
        cli::fail(EXIT_FAILURE, format!("cannot handle Ctrl-C: {e}"));
    }
    // Step 3.4a: the server, from bind to stop.
    let announce = |addr: SocketAddr| cli::announce(Ok(addr));
    match run_echo_server(args.bind, args.idle_timeout, &shutdown, announce) {
        Ok(served) => {
            eprintln!(
                "stopped: {} clients served, {} bytes echoed",
                served.clients, served.bytes
            );
            ExitCode::SUCCESS
        }
        Err(e) => cli::fail(
            EXIT_FAILURE,
            format!("serving on {} failed: {e}", args.bind),
        ),
    }
}
// ANCHOR_END: main
