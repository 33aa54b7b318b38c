//! `chat-client`: article C's chat client, with a name and timestamps. Type a line to send it;
//! lines from the others appear as `[HH:MM:SS] name: text`. `q` or end of input quits.

use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use course_programs::cli::{self, EXIT_FAILURE, EXIT_USAGE};
use socket_course::ch08_chat::{names, run_client, validate_name};

/// Article C's UDP chat client: type to send, read what the others send. Commands: `q` quits,
/// `/leave` leaves the chat, `/join NAME` joins again (under a new name, if you like).
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// The chat server's address, IP:PORT or [IPv6]:PORT (this machine only; localhost:PORT: its
    /// first address, 127.0.0.1: UDP has no connection to try on each address).
    #[arg(long, default_value = "127.0.0.1:12345", value_parser = cli::socket_addr)]
    server: SocketAddr,
    /// Your name: 1 to 32 characters, visible ones only, from one script (or Latin with
    /// Japanese): 田中さん, タナカ and Taro are fine; it is put in Unicode NFKC form first.
    #[arg(long)]
    name: String,
    /// Seconds between keepalives, which tell the server you are still there.
    #[arg(long, default_value = "5", value_parser = |s: &str| cli::seconds(s, true))]
    keepalive: Duration,
}

fn main() -> ExitCode {
    let mut args = Args::parse();
    // The name profile asks for NFKC: ｔａｒｏ becomes taro, ﾀﾅｶ becomes タナカ.
    args.name = names::normalize(&args.name);
    if let Err(e) = validate_name(&args.name) {
        cli::fail(EXIT_USAGE, format!("--name: {e}"));
    }
    if let Err(e) = names::check(&args.name) {
        cli::fail(
            EXIT_USAGE,
            format!("--name {:?}: {e}", args.name.escape_debug().to_string()),
        );
    }
    let socket = cli::bind_udp(cli::loopback_for(args.server));
    match run_client(
        socket,
        args.server,
        &args.name,
        io::stdin().lock(),
        io::stdout(),
        args.keepalive,
    ) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => cli::fail(EXIT_FAILURE, format!("{}: {e}", args.server)),
    }
}
