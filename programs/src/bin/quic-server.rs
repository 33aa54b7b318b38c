//! `quic-server`: a QUIC echo server (chapter 10). Every stream a client opens comes back,
//! each on a task of its own (exercise 10.4); many clients at once. A client silent for 30 s
//! (quinn's idle timeout) is forgotten, a handshake that stalls for 10 s too; quinn bounds the
//! streams (100) and the bytes in flight (flow control) per client.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use course_programs::cli::{self, EXIT_FAILURE, EXIT_USAGE};
use course_programs::tls_files::read_pem;
use socket_course::ch10_tls::quic::server_endpoint;
use socket_course::ch10_tls::{echo_connection, tokio};

/// A QUIC echo server: each stream a client sends comes back. Stop it with Ctrl-C.
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// Address to listen on (UDP), IP:PORT or [IPv6]:PORT (port 0: the OS chooses a free port).
    /// [::]:PORT takes both IPv6 and IPv4 (IPV6_V6ONLY off), on every interface, not only
    /// on loopback.
    #[arg(long, default_value = "127.0.0.1:4433", value_parser = cli::socket_addr)]
    bind: SocketAddr,
    /// The server's certificate chain, a PEM file (tls-cert writes server.pem).
    #[arg(long)]
    cert: PathBuf,
    /// The certificate's private key, a PEM file (tls-cert writes server.key).
    #[arg(long)]
    key: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let cert = read_pem("--cert", &args.cert);
    let key = read_pem("--key", &args.key);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| cli::fail(EXIT_FAILURE, format!("cannot start tokio: {e}")));
    runtime.block_on(async move {
        // The endpoint starts on a loopback port, then moves to a socket of ours on --bind:
        // `server_endpoint` binds as std does, and [::] would take IPv6 only on some systems.
        let first = cli::loopback_for(args.bind);
        let endpoint = server_endpoint(first, &cert, &key).unwrap_or_else(|e| {
            let code = if e.kind() == std::io::ErrorKind::InvalidData {
                EXIT_USAGE
            } else {
                EXIT_FAILURE
            };
            cli::fail(code, format!("{}: {e}", args.bind))
        });
        if let Err(e) = endpoint.rebind(cli::bind_udp(args.bind)) {
            cli::fail(EXIT_FAILURE, format!("{}: {e}", args.bind));
        }
        cli::announce(endpoint.local_addr());
        while let Some(incoming) = endpoint.accept().await {
            tokio::spawn(async move {
                let peer = incoming.remote_address();
                // The handshake, bounded: a client that stops half-way is forgotten.
                let conn = match tokio::time::timeout(Duration::from_secs(10), incoming).await {
                    Ok(Ok(conn)) => conn,
                    Ok(Err(e)) => return eprintln!("{peer}: handshake failed: {e}"),
                    Err(_) => return eprintln!("{peer}: handshake timed out"),
                };
                eprintln!("{peer} connected");
                match echo_connection(conn).await {
                    Ok(streams) => eprintln!("{peer} closed after {streams} streams"),
                    Err(e) => eprintln!("{peer}: {e}"),
                }
            });
        }
    });
    ExitCode::SUCCESS
}
