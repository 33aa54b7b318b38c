//! `tcp-client`: the TCP client of article B. Sends each line typed and prints whatever the
//! server sends, as it arrives; an empty line or the end of input half-closes the connection,
//! and the client prints the rest until the server closes.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use course_programs::cli::{self, EXIT_FAILURE};
use socket_course::ch03_tcp::talk;

/// Article B's TCP client: sends the lines you type, prints what the server sends. An empty
/// line (or Ctrl-D, Ctrl-Z on Windows) ends the input.
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// The server's address, IP:PORT.
    #[arg(long, default_value = "127.0.0.1:4000", value_parser = cli::socket_addr)]
    server: SocketAddr,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let stream =
        TcpStream::connect_timeout(&args.server, Duration::from_secs(5)).unwrap_or_else(|e| {
            cli::fail(
                EXIT_FAILURE,
                format!("cannot connect to {}: {e}", args.server),
            )
        });
    match talk(stream, io::stdin().lock(), io::stdout()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => cli::fail(EXIT_FAILURE, format!("{}: {e}", args.server)),
    }
}
