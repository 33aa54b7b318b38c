//! A UDP server's receive buffer and its drops: `--recv-buffer BYTES` asks the kernel for a
//! bigger buffer (through socket2) and reports what it granted; at exit the server reports how
//! many datagrams the kernel dropped at its socket because that buffer was full.

use std::io;
use std::net::{SocketAddr, UdpSocket};

use socket2::SockRef;

/// A clap value parser for `--recv-buffer`: a number of bytes, 1 to 2^31 - 1.
pub fn parse_bytes(text: &str) -> Result<usize, String> {
    match text.parse::<u32>() {
        Ok(n) if (1..=i32::MAX as u32).contains(&n) => Ok(n as usize),
        _ => Err(format!("`{text}`: a number of bytes, 1 to {}", i32::MAX)),
    }
}

/// Asks for a receive buffer of `bytes` and returns the size the kernel reports afterwards.
/// Linux doubles the request (for its own bookkeeping) and caps it at twice
/// `net.core.rmem_max`; other systems have limits of their own.
pub fn request_recv_buffer(socket: &UdpSocket, bytes: usize) -> io::Result<usize> {
    let sock = SockRef::from(socket);
    sock.set_recv_buffer_size(bytes)?;
    sock.recv_buffer_size()
}

/// The receive buffer's current size, as the kernel reports it.
pub fn recv_buffer(socket: &UdpSocket) -> io::Result<usize> {
    SockRef::from(socket).recv_buffer_size()
}

/// Applies `--recv-buffer`, if given, and prints one line with the size the kernel granted.
pub fn apply_and_report(socket: &UdpSocket, requested: Option<usize>) {
    if let Some(bytes) = requested {
        match request_recv_buffer(socket, bytes) {
            Ok(granted) => {
                eprintln!("receive buffer: asked for {bytes} bytes, the kernel granted {granted}")
            }
            Err(e) => eprintln!("warning: could not set the receive buffer to {bytes}: {e}"),
        }
    }
}

/// How many datagrams the kernel dropped at the sockets bound to `local` because their
/// receive buffers were full: the `drops` column of `/proc/net/udp` (or `udp6`). Linux only; `None`
/// elsewhere or when the socket is not found.
pub fn kernel_drops(local: SocketAddr) -> Option<u64> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let (file, address) = match local {
        SocketAddr::V4(v4) => (
            "/proc/net/udp",
            format!(
                "{:08X}:{:04X}",
                u32::from_ne_bytes(v4.ip().octets()),
                v4.port()
            ),
        ),
        SocketAddr::V6(v6) => {
            let octets = v6.ip().octets();
            let words: String = octets
                .chunks(4)
                .map(|w| format!("{:08X}", u32::from_ne_bytes([w[0], w[1], w[2], w[3]])))
                .collect();
            ("/proc/net/udp6", format!("{words}:{:04X}", v6.port()))
        }
    };
    let table = std::fs::read_to_string(file).ok()?;
    // Every socket bound to the address counts (chat-server gives each member its own).
    let drops: Vec<u64> = table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            match (fields.get(1), fields.last()) {
                (Some(addr), Some(drops)) if *addr == address => drops.parse().ok(),
                _ => None,
            }
        })
        .collect();
    (!drops.is_empty()).then(|| drops.iter().sum())
}

/// The line a server prints at exit about kernel drops, if the system can tell.
pub fn report_kernel_drops(local: SocketAddr) {
    report_drops(kernel_drops(local));
}

/// The line about kernel drops, from a count read earlier ([`kernel_drops`]).
pub fn report_drops(drops: Option<u64>) {
    match drops {
        Some(drops) => {
            eprintln!(
                "kernel: {drops} datagrams dropped at this address (a receive buffer was full)"
            )
        }
        None => eprintln!("kernel: this system does not report drops at the socket"),
    }
}
