//! `quic-client`: a QUIC client (chapter 10). Connects once, checks the server's certificate
//! against `--ca` and `--server-name`, then sends each line typed on a stream of its own and
//! prints the echo. The end of input closes the connection.

use std::io::{self, BufRead, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use course_programs::cli::{self, EXIT_FAILURE};
use course_programs::tls_files::read_pem;
use socket_course::ch10_tls::quic::client_endpoint;
use socket_course::ch10_tls::tokio;

/// A QUIC client: each line you type goes on a new stream, and its echo is printed. Ctrl-D
/// (Ctrl-Z on Windows) ends the input.
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// The server's address (UDP), IP:PORT or [IPv6]:PORT (localhost:PORT: its first
    /// address, 127.0.0.1; the client binds to loopback of the server's family).
    #[arg(long, default_value = "127.0.0.1:4433", value_parser = cli::socket_addr)]
    server: SocketAddr,
    /// The CA certificate(s) to trust, a PEM file (tls-cert writes ca.pem).
    #[arg(long)]
    ca: PathBuf,
    /// The name the server's certificate must carry.
    #[arg(long, default_value = "localhost")]
    server_name: String,
    /// Seconds to wait for the handshake and for each echo.
    #[arg(long, default_value = "5", value_parser = |s: &str| cli::seconds(s, true))]
    timeout: Duration,
}

/// The longest echo accepted for one line.
const MAX_ECHO: usize = 64 * 1024;

fn main() -> ExitCode {
    let args = Args::parse();
    let ca = read_pem("--ca", &args.ca);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| cli::fail(EXIT_FAILURE, format!("cannot start tokio: {e}")));
    let server = args.server;
    let fail = |e: String| -> ! { cli::fail(EXIT_FAILURE, format!("{server}: {e}")) };
    runtime.block_on(async {
        let endpoint = client_endpoint(server, &ca).unwrap_or_else(|e| fail(e.to_string()));
        let connecting = endpoint
            .connect(server, &args.server_name)
            .unwrap_or_else(|e| fail(e.to_string()));
        let conn = match tokio::time::timeout(args.timeout, connecting).await {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => fail(e.to_string()),
            Err(_) => fail("the handshake timed out".into()),
        };
        let mut out = io::stdout();
        // Lines are read on this thread between echoes: the connection needs no help from
        // the runtime while we wait for the keyboard (quinn keeps it alive on its own task
        // when we come back).
        for line in io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            let exchange = async {
                let (mut send, mut recv) = conn.open_bi().await?;
                send.write_all(line.as_bytes()).await?;
                send.finish()?;
                Ok::<_, Box<dyn std::error::Error>>(recv.read_to_end(MAX_ECHO).await?)
            };
            match tokio::time::timeout(args.timeout, exchange).await {
                Ok(Ok(echo)) => {
                    let _ = writeln!(out, "{}", cli::printable(&echo));
                    let _ = out.flush();
                }
                Ok(Err(e)) => fail(e.to_string()),
                Err(_) => fail("no echo in time".into()),
            }
        }
        conn.close(0u32.into(), b"bye");
        let _ = tokio::time::timeout(Duration::from_secs(1), endpoint.wait_idle()).await;
    });
    ExitCode::SUCCESS
}
