//! `tcp-thread-server`: chapter 4's first program, built from exercise 4.1. An echo server
//! with a thread per client, until Ctrl-C; then it waits for every thread and exits with 0.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use course_programs::cli::{self, EXIT_FAILURE};
use socket_course::ch03_tcp::stop_on_ctrl_c;
use socket_course::ch04_many_clients::{Shutdown, thread_server::run_server};

/// An echo server with a thread per client, written whole in exercise 4.1: stop it with
/// Ctrl-C and it waits for every client's thread, then prints how many it served.
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// Address to listen on, IP:PORT or [IPv6]:PORT (port 0: the OS chooses a free port).
    /// [::]:PORT listens on IPv6, and on IPv4 too where that is the OS's default (Linux,
    /// macOS; not Windows): exercise 4.1 binds with std, which leaves IPV6_V6ONLY to the OS.
    /// [::] is every interface, not only loopback.
    #[arg(long, default_value = "127.0.0.1:4000", value_parser = cli::socket_addr)]
    bind: SocketAddr,
    /// Seconds a client may stay silent, or leave its echo unread, before it is disconnected
    /// (fractions allowed: 0.5).
    #[arg(long, default_value = "30", value_parser = |s: &str| cli::seconds(s, true))]
    idle_timeout: Duration,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let shutdown = Shutdown::new();
    // Chapter 3's step 3.4b: Ctrl-C asks the server to stop.
    if let Err(e) = stop_on_ctrl_c(&shutdown) {
        cli::fail(EXIT_FAILURE, format!("cannot handle Ctrl-C: {e}"));
    }
    let announce = |addr: SocketAddr| cli::announce(Ok(addr));
    match run_server(args.bind, args.idle_timeout, &shutdown, announce) {
        Ok(clients) => {
            eprintln!("stopped: {clients} clients served, every thread finished");
            ExitCode::SUCCESS
        }
        Err(e) => cli::fail(
            EXIT_FAILURE,
            format!("serving on {} failed: {e}", args.bind),
        ),
    }
}
