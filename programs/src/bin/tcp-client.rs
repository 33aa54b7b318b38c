//! `tcp-client`: the TCP client of article B. Sends each line typed and prints whatever the
//! server sends, as it arrives; an empty line or the end of input half-closes the connection,
//! and the client prints the rest until the server closes.

use std::io;
use std::process::ExitCode;

use clap::Parser;
use course_programs::cli::{self, EXIT_FAILURE};
use socket_course::ch03_tcp::talk;

/// Article B's TCP client: sends the lines you type, prints what the server sends. An empty
/// line (or Ctrl-D, Ctrl-Z on Windows) ends the input.
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// The server's address, IP:PORT or [IPv6]:PORT. A name with several addresses
    /// (localhost:PORT: 127.0.0.1, then ::1) tries each in turn, the next after 250 ms
    /// without an answer (Happy Eyeballs); the first to connect wins.
    #[arg(long, default_value = "127.0.0.1:4000", value_parser = cli::socket_addrs)]
    server: cli::Addrs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let stream = cli::connect_tcp(&args.server);
    match talk(stream, io::stdin().lock(), io::stdout()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => cli::fail(EXIT_FAILURE, format!("{}: {e}", args.server)),
    }
}
