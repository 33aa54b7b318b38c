//! `tls-server`: chapter 3's echo server behind TLS 1.3 (chapter 10). Each client gets a
//! thread of its own, up to `--max-clients`; a client silent for `--idle-timeout` is
//! disconnected. The certificate and key come from files (`tls-cert` writes test ones).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use clap::Parser;
use course_programs::cli::{self, EXIT_USAGE};
use course_programs::tls_files::read_pem;
use socket_course::ch10_tls::{echo_tls, server_config};

/// A TLS echo server: every byte a client sends comes back, encrypted. Stop it with Ctrl-C.
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// Address to listen on, IP:PORT or [IPv6]:PORT (port 0: the OS chooses a free port).
    /// [::]:PORT listens on both families at once (IPv6 and IPv4 on one socket, IPV6_V6ONLY
    /// off), and on every interface, not only on loopback.
    #[arg(long, default_value = "127.0.0.1:4433", value_parser = cli::socket_addr)]
    bind: SocketAddr,
    /// The server's certificate chain, a PEM file (tls-cert writes server.pem).
    #[arg(long)]
    cert: PathBuf,
    /// The certificate's private key, a PEM file (tls-cert writes server.key).
    #[arg(long)]
    key: PathBuf,
    /// Seconds a client may stay silent before it is disconnected (fractions allowed).
    #[arg(long, default_value = "30", value_parser = |s: &str| cli::seconds(s, true))]
    idle_timeout: Duration,
    /// Clients served at once; one more is accepted and closed at once.
    #[arg(long, default_value_t = 64)]
    max_clients: usize,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let cert = read_pem("--cert", &args.cert);
    let key = read_pem("--key", &args.key);
    let config = server_config(&cert, &key)
        .unwrap_or_else(|e| cli::fail(EXIT_USAGE, format!("--cert/--key: {e}")));
    let listener = cli::listen_tcp(args.bind);
    cli::announce(listener.local_addr());
    let busy = Arc::new(AtomicUsize::new(0));
    loop {
        let (tcp, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) => {
                eprintln!("accept: {e}");
                continue;
            }
        };
        if busy.load(Ordering::SeqCst) >= args.max_clients {
            eprintln!("{peer}: too many clients ({}), closing", args.max_clients);
            continue;
        }
        // The idle timeout bounds every read and write, the handshake's included.
        if tcp.set_read_timeout(Some(args.idle_timeout)).is_err()
            || tcp.set_write_timeout(Some(args.idle_timeout)).is_err()
        {
            continue;
        }
        busy.fetch_add(1, Ordering::SeqCst);
        let (config, busy) = (config.clone(), busy.clone());
        thread::spawn(move || {
            eprintln!("{peer} connected");
            match echo_tls(tcp, config) {
                Ok(bytes) => eprintln!("{peer} closed the connection after {bytes} bytes"),
                Err(e) => eprintln!("{peer}: {e}, closing the connection"),
            }
            busy.fetch_sub(1, Ordering::SeqCst);
        });
    }
}
