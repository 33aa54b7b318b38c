//! `tcp-multi-server`: chapter 4's echo server, serving many clients at once with the design
//! you choose: a thread per connection, an event loop (mio), or async tasks (tokio).

use std::net::{SocketAddr, TcpListener};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use course_programs::cli::{self, EXIT_FAILURE};
use socket_course::ch04_many_clients::{Limits, Shutdown, events, pace, tasks, threads};
use socket2::Type;

/// File descriptors kept for the listener, the poller, stdio and the like, beyond one per
/// client.
const SPARE_FDS: u64 = 64;

/// The kernel's send and receive buffers of each connection (SO_SNDBUF, SO_RCVBUF; Linux
/// doubles the value for its bookkeeping). With the 16 KiB a connection may hold in the
/// server, a client that never reads costs at most about 80 KiB: 10,000 of them stay
/// under 1 GB. Set on the listener, inherited by every accepted connection.
const SOCKET_BUFFER: usize = 16 * 1024;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Design {
    /// One thread per connection.
    Threads,
    /// One thread, an event loop with mio (article B's `select`, done with epoll/kqueue).
    Events,
    /// Async tasks on a one-thread tokio runtime.
    Async,
}

/// An echo server for many clients at once (chapter 4): each chunk a client sends goes back
/// to it. Stop it with Ctrl-C.
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// Address to listen on, IP:PORT or [IPv6]:PORT (port 0: the OS chooses a free port).
    /// [::]:PORT listens on both families at once (IPv6 and IPv4 on one socket, IPV6_V6ONLY
    /// off), and on every interface, not only on loopback.
    #[arg(long, default_value = "127.0.0.1:4000", value_parser = cli::socket_addr)]
    bind: SocketAddr,
    /// How the server serves its clients.
    #[arg(long, value_enum, default_value = "events")]
    design: Design,
    /// Close a client that moves no bytes for this many seconds (fractions allowed). Also the
    /// window over which --min-rate is measured.
    #[arg(long, default_value = "30", value_parser = |s: &str| cli::seconds(s, true))]
    idle_timeout: Duration,
    /// Bytes a second a client must send on average (the echo it reads does not count),
    /// measured over each --idle-timeout window; applied only while others wait for a place
    /// (the server at --max-clients, or a newcomer's address at --max-per-address): a client
    /// that trickled less over its last window is then closed. 0 turns the minimum off.
    #[arg(long, default_value_t = pace::MIN_RATE)]
    min_rate: u64,
    /// Most clients served at once; one more is closed at once. Lowered to fit the file
    /// descriptor limit if needed.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    max_clients: u64,
    /// Most clients from one source address at once; one more is closed at once.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..))]
    max_per_address: u64,
    /// Connections the kernel may hold waiting for `accept` (std always asks for 128).
    #[arg(long, default_value_t = 4_096, value_parser = clap::value_parser!(i32).range(1..))]
    backlog: i32,
}

fn listen(addr: SocketAddr, backlog: i32) -> std::io::Result<TcpListener> {
    // `[::]`: both families on one socket (IPV6_V6ONLY off).
    let socket = cli::socket_for(addr, Type::STREAM)?;
    // Like std on Unix: a restarted server may bind while old connections linger.
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    socket.set_send_buffer_size(SOCKET_BUFFER)?;
    socket.set_recv_buffer_size(SOCKET_BUFFER)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    Ok(socket.into())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let listener = listen(args.bind, args.backlog)
        .unwrap_or_else(|e| cli::fail(EXIT_FAILURE, format!("cannot bind {}: {e}", args.bind)));
    cli::announce(listener.local_addr());

    // One file descriptor per client: raise the soft limit as far as the hard limit allows.
    let mut max_clients = args.max_clients;
    match socket_course::fd_limit::raise(max_clients.saturating_add(SPARE_FDS)) {
        Ok(Some((soft, hard))) => {
            eprintln!("file descriptor limit: {soft} (hard limit {hard})");
            let fits = soft.saturating_sub(SPARE_FDS).max(1);
            if fits < max_clients {
                eprintln!(
                    "serving at most {fits} clients at once (not {max_clients}): no more file descriptors"
                );
                max_clients = fits;
            }
        }
        Ok(None) => {}
        Err(e) => eprintln!("warning: cannot read the file descriptor limit: {e}"),
    }
    let limits = Limits {
        idle_timeout: args.idle_timeout,
        min_rate: args.min_rate,
        max_clients: usize::try_from(max_clients).unwrap_or(usize::MAX),
        max_per_address: usize::try_from(args.max_per_address).unwrap_or(usize::MAX),
        ..Limits::default()
    };

    let shutdown = Shutdown::new();
    let on_ctrl_c = shutdown.clone();
    if let Err(e) = ctrlc::set_handler(move || on_ctrl_c.stop()) {
        cli::fail(EXIT_FAILURE, format!("cannot handle Ctrl-C: {e}"));
    }
    let result = match args.design {
        Design::Threads => threads::serve(listener, limits, shutdown),
        Design::Events => events::serve(listener, limits, shutdown),
        Design::Async => tasks::serve(listener, limits, shutdown),
    };
    match result {
        Ok(()) => {
            eprintln!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => cli::fail(EXIT_FAILURE, format!("the server failed: {e}")),
    }
}
