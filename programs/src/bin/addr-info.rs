//! `addr-info`: chapter 1's exercises as a command-line program.
//!
//! `addr-info port 80 8890 50000` names the range of each port, `addr-info parse
//! localhost:8890` prints the addresses that text names, and `addr-info ephemeral` binds to
//! port 0 and prints the port the OS chose. It runs your exercise code (or, built with
//! `--features solutions`, the reference). `addr-info resolve localhost:8890` is the one
//! command that is not yours: it asks the system (std's `ToSocketAddrs`, which calls
//! `getaddrinfo`) and prints its answer in the system's order, next to `parse`'s fixed one.

use std::net::ToSocketAddrs;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use socket_course::ch01_addresses::{bind_ephemeral, classify_port, parse_addr};

#[derive(Parser)]
#[command(version, about = "Chapter 1: port ranges, host:port text, ephemeral ports, what a name resolves to", after_help = format!("Built from: {}", socket_course::SIDE))]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the IANA range (well-known, registered, dynamic/private) of each port.
    Port {
        /// Port numbers, 0 to 65535.
        #[arg(required = true)]
        ports: Vec<u16>,
    },
    /// Print the socket addresses that HOST:PORT text names, one per line.
    Parse {
        /// Text such as 127.0.0.1:8890, [::1]:8890 or localhost:8890.
        text: String,
    },
    /// Bind a UDP socket to 127.0.0.1 port 0 and print the port the OS chose (IPv4 only:
    /// exercise 1.3 binds 127.0.0.1).
    Ephemeral,
    /// Print the addresses the system gives for HOST:PORT, in the system's order.
    ///
    /// Asks getaddrinfo (the hosts file, then the resolver), as most programs do, and prints
    /// its answer in the order those programs try it. Unlike `parse`, this looks the name up:
    /// a name other than localhost may ask a DNS server.
    Resolve {
        /// Text such as localhost:8890.
        text: String,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Port { ports } => {
            for port in ports {
                println!("{port}: {}", classify_port(port));
            }
            ExitCode::SUCCESS
        }
        Command::Parse { text } => match parse_addr(&text) {
            Ok(addrs) => {
                for addr in addrs {
                    println!("{addr}");
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {text:?}: {e}");
                ExitCode::from(2)
            }
        },
        Command::Ephemeral => match bind_ephemeral() {
            Ok((socket, port)) => {
                // Print what the socket itself reports, so a wrong port would show.
                match socket.local_addr() {
                    Ok(addr) => println!("{addr} (the OS chose port {port})"),
                    Err(e) => println!("port {port} (local address unknown: {e})"),
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: could not bind a UDP socket to 127.0.0.1:0: {e}");
                ExitCode::from(1)
            }
        },
        Command::Resolve { text } => match text.to_socket_addrs() {
            Ok(addrs) => {
                for addr in addrs {
                    println!("{addr}");
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {text:?}: {e}");
                // No port, or a port out of range, is a usage error; a failed look-up is not.
                let usage = e.kind() == std::io::ErrorKind::InvalidInput;
                ExitCode::from(if usage { 2 } else { 1 })
            }
        },
    }
}
