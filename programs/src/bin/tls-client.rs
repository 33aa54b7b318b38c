//! `tls-client`: chapter 3's client over TLS 1.3 (chapter 10). Connects, checks the
//! server's certificate against `--ca` and `--server-name`, sends each line typed and prints
//! each echo; the end of input sends TLS's close_notify. A refused certificate is one line
//! that says why (exercise 10.3), and exit code 1.

use std::io::{self, BufRead, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use course_given::eyeballs::{self, NEXT_ATTEMPT_DELAY, first_to_connect};
use course_programs::cli::{self, EXIT_FAILURE};
use course_programs::tls_files::read_pem;
use socket_course::ch10_tls::{Refusal, connect, refusal};

/// A TLS client: sends the lines you type, prints what comes back. Ctrl-D (Ctrl-Z on
/// Windows) ends the input.
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// The server's address, IP:PORT or [IPv6]:PORT. A name with several addresses
    /// (localhost:PORT: 127.0.0.1, then ::1) tries each in turn, the next after 250 ms
    /// without an answer (Happy Eyeballs); the first to connect wins.
    #[arg(long, default_value = "127.0.0.1:4433", value_parser = cli::socket_addrs)]
    server: cli::Addrs,
    /// The CA certificate(s) to trust, a PEM file (tls-cert writes ca.pem).
    #[arg(long)]
    ca: PathBuf,
    /// The name the server's certificate must carry.
    #[arg(long, default_value = "localhost")]
    server_name: String,
    /// Seconds to wait for the connection, the handshake and each reply.
    #[arg(long, default_value = "5", value_parser = |s: &str| cli::seconds(s, true))]
    timeout: Duration,
}

/// One line that says why the connection failed.
fn why(e: &io::Error) -> String {
    match refusal(e) {
        Refusal::WrongName => format!("refused: the certificate is not for this name ({e})"),
        Refusal::UnknownIssuer => format!("refused: the certificate's CA is not trusted ({e})"),
        Refusal::Expired => format!("refused: the certificate has expired ({e})"),
        Refusal::Tampered => format!("broken off: a record was changed on the way ({e})"),
        Refusal::Other => e.to_string(),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let ca = read_pem("--ca", &args.ca);
    // Happy Eyeballs over the whole connect, the handshake included: an address whose
    // handshake fails gives the next one its turn at once.
    let (name, timeout) = (args.server_name.clone(), args.timeout);
    let attempt = move |addr| connect(addr, &name, &ca, timeout);
    let mut tls = match first_to_connect(args.server.all(), NEXT_ATTEMPT_DELAY, attempt) {
        Ok((_, tls)) => tls,
        Err(failed) => cli::fail(
            EXIT_FAILURE,
            format!("{}: {}", args.server, eyeballs::describe(&failed, why)),
        ),
    };
    let mut out = io::stdout();
    for line in io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let message = format!("{line}\n");
        let mut echo = vec![0u8; message.len()];
        let result = tls
            .write_all(message.as_bytes())
            .and_then(|()| tls.flush())
            .and_then(|()| tls.read_exact(&mut echo));
        if let Err(e) = result {
            cli::fail(EXIT_FAILURE, format!("{}: {}", args.server, why(&e)));
        }
        let _ = writeln!(out, "{}", cli::printable(echo.trim_ascii_end()));
        let _ = out.flush();
    }
    // Goodbye the TLS way, then wait for the server's.
    tls.conn.send_close_notify();
    let mut rest = Vec::new();
    match tls.flush().and_then(|()| tls.read_to_end(&mut rest)) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => cli::fail(EXIT_FAILURE, format!("{}: {}", args.server, why(&e))),
    }
}
