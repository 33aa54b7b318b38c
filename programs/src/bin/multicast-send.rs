//! `multicast-send`: the multicast sender of article B. Sends `Hello world : N` to a group
//! every `--interval` seconds, `--count` times, on the loopback interface with TTL 0.

use std::net::Ipv4Addr;
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

use clap::Parser;
use course_programs::cli::{self, EXIT_FAILURE};
use socket_course::ch09_multicast::{ARTICLE_GROUP, ARTICLE_PORT, SenderOptions, sender};

/// Article B's multicast sender: `Hello world : 1`, `Hello world : 2`, ... to a group, one
/// datagram per interval. It sends on loopback only, so nothing leaves this machine.
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// The group to send to (224.0.0.0/4; 239.255.x.x is the local scope for experiments).
    /// IPv4 only: on Linux the loopback interface carries no IPv6 multicast (chapter 9 shows
    /// it in a network namespace: sudo scripts/v6-multicast-netns.sh).
    #[arg(long, default_value_t = ARTICLE_GROUP, value_parser = cli::multicast_group)]
    group: Ipv4Addr,
    /// The port the receivers listen on.
    #[arg(long, default_value_t = ARTICLE_PORT)]
    port: u16,
    /// The interface's address the datagrams leave by (IP_MULTICAST_IF); loopback only.
    #[arg(long, default_value_t = Ipv4Addr::LOCALHOST, value_parser = cli::loopback_interface)]
    interface: Ipv4Addr,
    /// Time to live (IP_MULTICAST_TTL), 0 to 255: 0 keeps the datagrams on this machine.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=255))]
    ttl: u32,
    /// Turn IP_MULTICAST_LOOP off (on the loopback interface this changes nothing).
    #[arg(long)]
    no_loop: bool,
    /// How many datagrams to send.
    #[arg(long, default_value_t = 10)]
    count: u64,
    /// Seconds between two datagrams.
    #[arg(long, default_value = "1", value_parser = |s: &str| cli::seconds(s, false))]
    interval: Duration,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let options = SenderOptions {
        interface: args.interface,
        ttl: args.ttl,
        loopback: !args.no_loop,
    };
    let socket = sender(&options).unwrap_or_else(|e| {
        cli::fail(
            EXIT_FAILURE,
            format!(
                "cannot set up a multicast sender on {}: {e}",
                args.interface
            ),
        )
    });
    for n in 1..=args.count {
        let message = format!("Hello world : {n}");
        if let Err(e) = socket.send_to(message.as_bytes(), (args.group, args.port)) {
            let to = format!("{}:{}", args.group, args.port);
            cli::fail(EXIT_FAILURE, format!("cannot send to {to}: {e}"));
        }
        println!("sent: {message}");
        if n < args.count {
            thread::sleep(args.interval);
        }
    }
    ExitCode::SUCCESS
}
