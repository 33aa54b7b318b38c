//! `quic-client`: a QUIC client (chapter 10). Connects once, checks the server's certificate
//! against `--ca` and `--server-name`, then sends each line typed on a stream of its own and
//! prints the echo. The end of input closes the connection.

use std::io::{self, BufRead, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use course_given::eyeballs::{self, NEXT_ATTEMPT_DELAY};
use course_programs::cli::{self, EXIT_FAILURE};
use course_programs::tls_files::read_pem;
use socket_course::ch10_tls::quic::client_endpoint;
use socket_course::ch10_tls::quinn::{Connection, Endpoint};
use socket_course::ch10_tls::tokio;
use tokio::task::JoinSet;

/// A QUIC client: each line you type goes on a new stream, and its echo is printed. Ctrl-D
/// (Ctrl-Z on Windows) ends the input.
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// The server's address (UDP), IP:PORT or [IPv6]:PORT. A name with several addresses
    /// (localhost:PORT: 127.0.0.1, then ::1) tries each in turn, the next after 250 ms
    /// without a handshake (Happy Eyeballs); the first handshake to complete wins. Each
    /// attempt binds to loopback of its address's family.
    #[arg(long, default_value = "127.0.0.1:4433", value_parser = cli::socket_addrs)]
    server: cli::Addrs,
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

/// A handshake with one of `server`'s addresses, Happy Eyeballs style as the TCP clients
/// connect (`course_given::eyeballs`), over QUIC's handshake: each address in turn has
/// [`NEXT_ATTEMPT_DELAY`] to itself, a failure starts the next at once, the first
/// handshake to complete wins, and the attempts still running are dropped. Each attempt
/// has an endpoint of its own and `timeout`. Without a success, every address's error.
async fn first_handshake(
    server: &cli::Addrs,
    ca: &[u8],
    server_name: &str,
    timeout: Duration,
) -> Result<(Endpoint, Connection), Vec<(SocketAddr, io::Error)>> {
    let (ca, server_name): (Arc<[u8]>, Arc<str>) = (ca.into(), server_name.into());
    let mut addrs = server.all().iter().copied();
    let mut attempts = JoinSet::new();
    let mut failed = Vec::new();
    loop {
        if let Some(addr) = addrs.next() {
            let (ca, server_name) = (Arc::clone(&ca), Arc::clone(&server_name));
            attempts.spawn(async move {
                let handshake = async {
                    let endpoint = client_endpoint(addr, &ca)?;
                    let connecting = endpoint
                        .connect(addr, &server_name)
                        .map_err(io::Error::other)?;
                    match tokio::time::timeout(timeout, connecting).await {
                        Ok(Ok(conn)) => Ok((endpoint, conn)),
                        Ok(Err(e)) => Err(io::Error::other(e)),
                        Err(_) => Err(io::Error::other("the handshake timed out")),
                    }
                };
                (addr, handshake.await)
            });
        }
        if attempts.is_empty() {
            return Err(failed); // every address tried, every one failed
        }
        let more = addrs.len() > 0;
        let joined = tokio::select! {
            joined = attempts.join_next() => joined,
            // Too slow: the next address starts too.
            _ = tokio::time::sleep(NEXT_ATTEMPT_DELAY), if more => continue,
        };
        match joined {
            Some(Ok((_, Ok(won)))) => return Ok(won),
            Some(Ok((addr, Err(e)))) => failed.push((addr, e)), // the next starts at once
            Some(Err(e)) => eprintln!("warning: an attempt failed: {e}"),
            None => {}
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let ca = read_pem("--ca", &args.ca);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| cli::fail(EXIT_FAILURE, format!("cannot start tokio: {e}")));
    let server = &args.server;
    let fail = |e: String| -> ! { cli::fail(EXIT_FAILURE, format!("{server}: {e}")) };
    runtime.block_on(async {
        let handshake = first_handshake(server, &ca, &args.server_name, args.timeout).await;
        let (endpoint, conn) =
            handshake.unwrap_or_else(|failed| fail(eyeballs::describe(&failed, |e| e.to_string())));
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
