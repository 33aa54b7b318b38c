//! `quic-server`: a QUIC echo server (chapter 10). Every stream a client opens comes back,
//! each on a task of its own (exercise 10.4); many clients at once. A newcomer first proves
//! its address (a Retry packet carries a token it must send back), so a forged source
//! address makes the server do no handshake work. At most `--max-clients` in all and
//! `--max-per-address` from one address; a handshake not done within
//! `--handshake-deadline` and a client silent for `--idle-timeout` are forgotten; quinn
//! bounds the streams (100) and the bytes in flight (flow control) per client.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use course_given::slots::Slots;
use course_programs::cli::{self, EXIT_FAILURE, EXIT_USAGE};
use course_programs::tls_files::read_pem;
use socket_course::ch10_tls::quic::ALPN;
use socket_course::ch10_tls::quinn::crypto::rustls::QuicServerConfig;
use socket_course::ch10_tls::quinn::{self, Endpoint, IdleTimeout, TransportConfig};
use socket_course::ch10_tls::rustls::pki_types::pem::PemObject;
use socket_course::ch10_tls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use socket_course::ch10_tls::{echo_connection, rustls, tokio};

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
    /// Seconds a client has, once its address is proved, to finish the whole handshake
    /// (fractions allowed: 0.5); one that has not is forgotten.
    #[arg(long, default_value = "5", value_parser = |s: &str| cli::seconds(s, true))]
    handshake_deadline: Duration,
    /// Seconds a client may send nothing (not even a keepalive) before its connection is
    /// forgotten (fractions allowed: 0.5). QUIC's idle timeout: each side proposes one in the
    /// handshake and the shorter one holds.
    #[arg(long, default_value = "30", value_parser = |s: &str| cli::seconds(s, true))]
    idle_timeout: Duration,
    /// Most clients served at once; a newcomer beyond it is refused (a CONNECTION_REFUSED
    /// close, so the client knows at once).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    max_clients: u64,
    /// Most clients from one source address (IP) at once, so that one machine cannot take
    /// every place; a newcomer beyond it is refused.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..))]
    max_per_address: u64,
}

/// An `io::Error` of kind `InvalidData` that carries `error`.
fn invalid(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, error)
}

/// The server's configuration: the certificate and key (as the given `server_endpoint`
/// loads them, with the course's ALPN), and the idle timeout.
fn quic_config(cert_pem: &[u8], key_pem: &[u8], idle: Duration) -> io::Result<quinn::ServerConfig> {
    let certs = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(invalid)?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(invalid)?;
    let mut tls = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(invalid)?;
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let quic = QuicServerConfig::try_from(tls).map_err(invalid)?;
    let mut transport = TransportConfig::default();
    let idle = IdleTimeout::try_from(idle).map_err(|_| invalid("--idle-timeout is too long"))?;
    transport.max_idle_timeout(Some(idle));
    let mut config = quinn::ServerConfig::with_crypto(Arc::new(quic));
    config.transport_config(Arc::new(transport));
    Ok(config)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let cert = read_pem("--cert", &args.cert);
    let key = read_pem("--key", &args.key);
    let config = quic_config(&cert, &key, args.idle_timeout)
        .unwrap_or_else(|e| cli::fail(EXIT_USAGE, format!("--cert/--key: {e}")));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| cli::fail(EXIT_FAILURE, format!("cannot start tokio: {e}")));
    let max_clients = usize::try_from(args.max_clients).unwrap_or(usize::MAX);
    let slots = Slots::new(
        max_clients,
        usize::try_from(args.max_per_address).unwrap_or(usize::MAX),
    );
    let handshake_deadline = args.handshake_deadline;
    runtime.block_on(async move {
        // Our own socket on --bind: std (and quinn's `Endpoint::server`) bind [::] as the
        // system likes, IPv6 only on some; `cli::bind_udp` takes both families there.
        let runtime = quinn::default_runtime()
            .unwrap_or_else(|| cli::fail(EXIT_FAILURE, "no async runtime for quinn"));
        let socket = cli::bind_udp(args.bind);
        if let Err(e) = socket.set_nonblocking(true) {
            cli::fail(EXIT_FAILURE, format!("{}: {e}", args.bind));
        }
        let endpoint = Endpoint::new(
            quinn::EndpointConfig::default(),
            Some(config),
            socket,
            runtime,
        )
        .unwrap_or_else(|e| cli::fail(EXIT_FAILURE, format!("cannot bind {}: {e}", args.bind)));
        cli::announce(endpoint.local_addr());
        while let Some(incoming) = endpoint.accept().await {
            let peer = incoming.remote_address();
            // Not proved yet: answer with a Retry packet (smaller than what came, no state
            // kept). Only a client that receives at its address can send its token back.
            if !incoming.remote_address_validated() {
                if let Err(e) = incoming.retry() {
                    e.into_incoming().ignore();
                }
                continue;
            }
            // On a [::] socket an IPv4 peer shows as ::ffff:127.0.0.1: one address either way.
            let ip = peer.ip().to_canonical();
            let Some(slot) = slots.take(ip) else {
                if slots.in_use() >= max_clients {
                    eprintln!("{peer}: too many clients ({}), refused", args.max_clients);
                } else {
                    eprintln!(
                        "{peer}: too many clients from {ip} ({}), refused",
                        args.max_per_address
                    );
                }
                incoming.refuse();
                continue;
            };
            tokio::spawn(async move {
                let _slot = slot; // the place is given back when this task ends
                // The handshake, bounded: a client that stops half-way is forgotten.
                let conn = match tokio::time::timeout(handshake_deadline, incoming).await {
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
