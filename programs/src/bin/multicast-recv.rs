//! `multicast-recv`: the multicast receiver of article B. Joins a group on the loopback
//! interface and prints every datagram sent to it; several can run on one port at once.

use std::net::Ipv4Addr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use course_programs::cli::{self, EXIT_FAILURE};
use socket_course::ch09_multicast::{ARTICLE_GROUP, ARTICLE_PORT, receive, receiver};

/// How long one call of `receive` waits; the program simply waits again.
const WAIT: Duration = Duration::from_secs(3600);

/// Article B's multicast receiver: joins a group and prints each datagram and its sender.
/// Stop it with Ctrl-C.
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// The group to join (224.0.0.0/4; 239.255.x.x is the local scope for experiments).
    /// IPv4 only: on Linux the loopback interface carries no IPv6 multicast (chapter 9 shows
    /// it in a network namespace: sudo scripts/v6-multicast-netns.sh).
    #[arg(long, default_value_t = ARTICLE_GROUP, value_parser = cli::multicast_group)]
    group: Ipv4Addr,
    /// The port to listen on; other receivers may listen on it too.
    #[arg(long, default_value_t = ARTICLE_PORT)]
    port: u16,
    /// The interface's address to join on (IP_ADD_MEMBERSHIP); loopback only.
    #[arg(long, default_value_t = Ipv4Addr::LOCALHOST, value_parser = cli::loopback_interface)]
    interface: Ipv4Addr,
    /// Exit after this many datagrams (default: run until Ctrl-C).
    #[arg(long)]
    count: Option<u64>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let socket = receiver(args.group, args.port, args.interface).unwrap_or_else(|e| {
        let what = format!(
            "{} on port {} (interface {})",
            args.group, args.port, args.interface
        );
        cli::fail(EXIT_FAILURE, format!("cannot join {what}: {e}"))
    });
    cli::announce(socket.local_addr());
    let mut received = 0;
    while args.count.is_none_or(|count| received < count) {
        match receive(&socket, 1, WAIT) {
            Ok(datagrams) => {
                for datagram in datagrams {
                    received += 1;
                    println!("from {}: {}", datagram.from, cli::printable(&datagram.data));
                }
            }
            Err(e) if cli::affects_one_peer(&e) => eprintln!("warning: {e}"),
            Err(e) => cli::fail(EXIT_FAILURE, format!("receiving failed: {e}")),
        }
    }
    ExitCode::SUCCESS
}
