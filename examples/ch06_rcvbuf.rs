//! Chapter 6: a window larger than the receive buffer loses datagrams on loopback. Copies
//! 1 MiB directly (no relay, nothing lost on purpose) with the reference's sliding window,
//! send window 128 (receiver 256), then 32 (receiver 64), and prints how far each copy
//! raised Linux's `RcvbufErrors` counter (`/proc/net/snmp`: datagrams dropped because a
//! receive buffer was full, on the whole machine) and how many messages were sent again.
//!
//! Run: `cargo run --release --example ch06_rcvbuf`.

use std::io;
use std::net::UdpSocket;
use std::thread;
use std::time::Duration;

use solutions::ch06_reliability::{
    Listen, MAX_PAYLOAD, Rto, RtoConfig, Session, run_window_receiver, send_window,
};

fn main() -> io::Result<()> {
    let data: Vec<u8> = (0..1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let chunks: Vec<Vec<u8>> = data.chunks(MAX_PAYLOAD).map(<[u8]>::to_vec).collect();
    let buffer = {
        let probe = UdpSocket::bind("127.0.0.1:0")?;
        socket2::SockRef::from(&probe).recv_buffer_size()?
    };
    println!(
        "1 MiB, {} messages, direct; receive buffer {buffer} bytes",
        chunks.len() + 1
    );
    for (window, recv_window) in [(128, 256), (32, 64)] {
        let before = rcvbuf_errors();
        let receiver = UdpSocket::bind("127.0.0.1:0")?;
        let to = receiver.local_addr()?;
        let receiving = thread::spawn(move || {
            let listen = Listen {
                from: None,
                idle_timeout: Some(Duration::from_secs(30)),
                linger: Duration::from_millis(600),
            };
            run_window_receiver(&receiver, recv_window, listen, |_| Ok(()))
        });
        let sender = UdpSocket::bind("127.0.0.1:0")?;
        let report = send_window(
            &sender,
            to,
            Session::random()?,
            &chunks,
            window,
            &mut Rto::new(RtoConfig::LOOPBACK),
            30,
        )
        .map_err(|e| io::Error::other(e.to_string()))?;
        receiving
            .join()
            .map_err(|_| io::Error::other("the receiver panicked"))?
            .map_err(|e| io::Error::other(e.to_string()))?;
        let sends: u32 = report.transmissions.iter().sum();
        let again = sends as usize - report.transmissions.len();
        let raised = match (before, rcvbuf_errors()) {
            (Some(before), Some(after)) => format!("{}", after - before),
            _ => "unknown (no /proc/net/snmp)".to_string(),
        };
        println!(
            "window {window:>3}: RcvbufErrors +{raised}, {again} messages sent again"
        );
    }
    Ok(())
}

/// The `RcvbufErrors` field of the `Udp:` lines of `/proc/net/snmp` (Linux).
fn rcvbuf_errors() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/net/snmp").ok()?;
    let mut udp = text.lines().filter(|l| l.starts_with("Udp:"));
    let names = udp.next()?.split_whitespace();
    let values = udp.next()?.split_whitespace();
    names
        .zip(values)
        .find(|(name, _)| *name == "RcvbufErrors")
        .and_then(|(_, value)| value.parse().ok())
}
