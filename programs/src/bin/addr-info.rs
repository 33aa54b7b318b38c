//! `addr-info`: chapter 1's exercises as a command-line program.
//!
//! `addr-info port 80 8890 50000` names the range of each port, `addr-info parse
//! localhost:8890` prints the addresses that text names, and `addr-info ephemeral` binds to
//! port 0 and prints the port the OS chose. It runs your exercise code (or, built with
//! `--features solutions`, the reference).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use socket_course::ch01_addresses::{bind_ephemeral, classify_port, parse_addr};

#[derive(Parser)]
#[command(version, about = "Chapter 1: port ranges, host:port text, ephemeral ports", after_help = format!("Built from: {}", socket_course::SIDE))]
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
    }
}
