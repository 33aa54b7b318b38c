//! Chapter 2: a full receive buffer drops datagrams, and nobody is told. Sends 20,000
//! five-byte datagrams to a socket that does not read, then counts what its receive
//! buffer kept. Run it with `cargo run --example ch02_overflow` (`-- 50000` to send
//! another count).

use std::io;
use std::net::UdpSocket;

fn main() -> io::Result<()> {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let receiver = UdpSocket::bind("127.0.0.1:0")?;
    let buffer = socket2::SockRef::from(&receiver).recv_buffer_size()?;
    // ANCHOR: overflow
    let sender = UdpSocket::bind("127.0.0.1:0")?;
    sender.connect(receiver.local_addr()?)?;
    let mut refused = 0;
    for _ in 0..count {
        // Every send succeeds, whether or not the datagram finds room.
        if sender.send(b"hello").is_err() {
            refused += 1;
        }
    }
    // Only now does the receiver read: what is left is what its buffer kept.
    receiver.set_nonblocking(true)?;
    let mut kept = 0;
    let mut buf = [0u8; 16];
    while receiver.recv(&mut buf).is_ok() {
        kept += 1;
    }
    // ANCHOR_END: overflow
    println!("receive buffer (SO_RCVBUF): {buffer} bytes");
    println!("sent {count} datagrams of 5 bytes, {refused} send errors");
    println!(
        "the receiver found {kept}; {} dropped silently",
        count - kept
    );
    if let Some(each) = buffer.checked_div(kept) {
        println!("buffer per datagram kept: about {each} bytes");
    }
    println!("load average: {}", load_average());
    Ok(())
}

/// The 1-minute load average (Linux), so that a figure says how busy the machine was.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown (no /proc/loadavg)".to_string())
}
