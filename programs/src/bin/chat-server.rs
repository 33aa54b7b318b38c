//! `chat-server`: article C's chat server. Relays every message to every other client, prints
//! what it relays, and forgets clients that stay silent too long. It bounds what one sender
//! can cost (a rate limit, a member limit, a limit per source address, a fair turn at the relay)
//! and reports what it dropped when it stops. A newcomer proves its address with a cookie before
//! it is sent anything more than that cookie, and is then told whether it is in.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use course_programs::cli::{self, EXIT_FAILURE};
use socket_course::ch08_chat::serve::DEFAULT_MAX_PER_ADDRESS;
use socket_course::ch08_chat::{
    DEFAULT_MAX_MEMBERS, DEFAULT_RATE, Relay, ServeOptions, run_server_with,
};
use socket_course::udp_buffer;

/// Article C's UDP chat server: every message goes to every other client. A newcomer is
/// answered with a small cookie and admitted when the cookie comes back (chat-client does
/// this by itself), so a forged join cannot turn the chat's traffic on somebody else. Stop
/// it with Ctrl-C: it then prints what it counted (relayed, dropped, refused).
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// Address to listen on, IP:PORT or [IPv6]:PORT (port 0: the OS chooses a free port).
    /// [::]:PORT listens on both families at once (IPv6 and IPv4 on one socket, IPV6_V6ONLY
    /// off), and on every interface, not only on loopback.
    #[arg(long, default_value = "127.0.0.1:12345", value_parser = cli::socket_addr)]
    bind: SocketAddr,
    /// Forget a client that sent nothing (not even a keepalive) for this many seconds.
    #[arg(long, default_value = "30", value_parser = |s: &str| cli::seconds(s, true))]
    silence: Duration,
    /// The most members at once; a newcomer beyond it is refused (and told so).
    #[arg(long, default_value_t = DEFAULT_MAX_MEMBERS, value_parser = at_least_one)]
    max_members: usize,
    /// The most members from one source address (IP), so that one machine cannot take
    /// every place; a newcomer beyond it is refused (and told so).
    #[arg(long, default_value_t = DEFAULT_MAX_PER_ADDRESS, value_parser = at_least_one)]
    max_per_address: usize,
    /// Datagrams per second one sender may send (also the burst); the rest are dropped
    /// unread and counted. Each address that is not a member yet has such an allowance
    /// of its own, so a flood from one address leaves the others' joins alone.
    #[arg(long, default_value_t = DEFAULT_RATE, value_parser = positive_rate)]
    rate: f64,
    /// Ask the kernel for a receive buffer of this many bytes (SO_RCVBUF); the size granted
    /// is printed (Linux doubles the request and caps it at twice net.core.rmem_max).
    #[arg(long, value_name = "BYTES", value_parser = udp_buffer::parse_bytes)]
    recv_buffer: Option<usize>,
    /// Admit plain text from any address, as the article's server does: article C's own
    /// client cannot answer a cookie. A forged source address then receives the chat (an
    /// amplifier for anyone on the machine): use it only with the article's client.
    #[arg(long)]
    plain_ok: bool,
}

fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("`{text}`: a number of members, 1 or more")),
    }
}

fn positive_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate >= 1.0 => Ok(rate),
        _ => Err(format!(
            "`{text}`: the rate must be a number of datagrams per second, 1 or more"
        )),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let socket = cli::bind_udp(args.bind);
    cli::announce(socket.local_addr());
    udp_buffer::apply_and_report(&socket, args.recv_buffer);
    let local = socket.local_addr().ok();

    // Ctrl-C asks the loop to stop (it looks at least every 200 ms), so the counters print.
    // The kernel's count is read at once, while the socket is still open.
    let stop = Arc::new(AtomicBool::new(false));
    let kernel_drops = Arc::new(Mutex::new(None));
    let (flag, drops) = (Arc::clone(&stop), Arc::clone(&kernel_drops));
    let handler = move || {
        if let (Some(local), Ok(mut drops)) = (local, drops.lock()) {
            *drops = udp_buffer::kernel_drops(local);
        }
        flag.store(true, Ordering::Relaxed);
    };
    if let Err(e) = ctrlc::set_handler(handler) {
        eprintln!("warning: Ctrl-C will stop the server without its report: {e}");
    }
    let relay = Relay::new(args.silence).with_limits(args.max_members, args.rate);
    let options = ServeOptions {
        plain_ok: args.plain_ok,
        max_per_address: args.max_per_address,
        newcomer_rate: args.rate,
    };
    match run_server_with(&socket, relay, options, &stop, |line| println!("{line}")) {
        Ok(counts) => {
            socket_course::log::flush(Duration::from_secs(1));
            eprintln!(
                "stopped: {} datagrams received, {} messages relayed, {} dropped by the rate \
                 limit, {} refused, {} dropped while busy, {} cookies sent",
                counts.received,
                counts.relayed,
                counts.rate_limited,
                counts.refused,
                counts.busy,
                counts.cookies
            );
            let drops = kernel_drops.lock().ok().and_then(|d| *d);
            udp_buffer::report_drops(drops);
            ExitCode::SUCCESS
        }
        Err(e) => cli::fail(EXIT_FAILURE, format!("receiving failed: {e}")),
    }
}
