//! `chat-server`: article C's chat server. Relays every message to every other client, prints
//! what it relays, and forgets clients that stay silent too long.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use socket_course::ch08_chat::run_server;
use socket_course::cli::{self, EXIT_FAILURE};

/// Article C's UDP chat server: every message goes to every other client. Plain text from
/// the article's own client is relayed too, under its address. Stop it with Ctrl-C.
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// Address to listen on, IP:PORT (port 0: the OS chooses a free port).
    #[arg(long, default_value = "127.0.0.1:12345")]
    bind: SocketAddr,
    /// Forget a client that sent nothing (not even a keepalive) for this many seconds.
    #[arg(long, default_value = "30", value_parser = |s: &str| cli::seconds(s, true))]
    silence: Duration,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let socket = cli::bind_udp(args.bind);
    cli::announce(socket.local_addr());
    match run_server(&socket, args.silence, |line| println!("{line}")) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => cli::fail(EXIT_FAILURE, format!("receiving failed: {e}")),
    }
}
