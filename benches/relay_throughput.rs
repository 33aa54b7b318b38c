//! Datagrams per second through the lossy relay (0 % loss) against the same traffic sent
//! direct, in one run. Run it with `cargo bench --bench relay_throughput`.
//!
//! An echo server answers every datagram. The client keeps `window` datagrams in flight: with
//! a window of 1 it is a ping-pong (each round trip waits for the last), with a larger window
//! it measures how many datagrams per second the path carries.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use lossy_relay::{Relay, RelayConfig};

const ROUND_TRIPS: u32 = 20_000;

fn echo_server() -> io::Result<SocketAddr> {
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    let addr = socket.local_addr()?;
    thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((len, from)) = socket.recv_from(&mut buf) {
            let _ = socket.send_to(&buf[..len], from);
        }
    });
    Ok(addr)
}

/// Sends `ROUND_TRIPS` datagrams to `target` with at most `window` unanswered; returns the time.
fn run(target: SocketAddr, window: u32) -> io::Result<Duration> {
    let client = UdpSocket::bind("127.0.0.1:0")?;
    client.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut buf = [0u8; 64];
    let started = Instant::now();
    let (mut sent, mut received) = (0u32, 0u32);
    while received < ROUND_TRIPS {
        while sent < ROUND_TRIPS && sent - received < window {
            client.send_to(&sent.to_be_bytes(), target)?;
            sent += 1;
        }
        client.recv_from(&mut buf)?;
        received += 1;
    }
    Ok(started.elapsed())
}

fn main() -> io::Result<()> {
    let server = echo_server()?;
    let relay = Relay::start(
        "127.0.0.1:0".parse().unwrap(),
        RelayConfig {
            record: false,
            ..RelayConfig::new(server)
        },
    )?;
    println!("{ROUND_TRIPS} round trips of 4-byte datagrams, loopback, 0 % loss");
    println!("| path | in flight | time | datagrams/s (both ways) |");
    println!("|---|---:|---:|---:|");
    for window in [1, 32] {
        for (path, target) in [("direct", server), ("through lossy-relay", relay.addr())] {
            let took = run(target, window)?;
            let rate = f64::from(2 * ROUND_TRIPS) / took.as_secs_f64();
            println!(
                "| {path} | {window} | {:.3} s | {rate:.0} |",
                took.as_secs_f64()
            );
        }
    }
    Ok(())
}
