//! Datagrams per second through the lossy relay (0 % loss) against the same traffic sent
//! direct and through the plainest forwarding loop, in one run. Run it with
//! `cargo bench --bench relay_throughput`.
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

/// The plainest forwarder: one socket, one `recv_from`/`send_to` loop. What comes from the
/// server goes to the last client heard; anything else goes to the server. No sessions, no
/// limits, no fates: the anchor the relay's lossless path is measured against.
fn plain_forwarder(server: SocketAddr) -> io::Result<SocketAddr> {
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    let addr = socket.local_addr()?;
    thread::spawn(move || {
        let mut buf = [0u8; 65_536];
        let mut client = None;
        while let Ok((len, from)) = socket.recv_from(&mut buf) {
            let to = if from == server {
                match client {
                    Some(client) => client,
                    None => continue,
                }
            } else {
                client = Some(from);
                server
            };
            let _ = socket.send_to(&buf[..len], to);
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
    let plain = plain_forwarder(server)?;
    println!("{ROUND_TRIPS} round trips of 4-byte datagrams, loopback, 0 % loss; medians of 5");
    println!("| path | in flight | time | datagrams/s (both ways) | relay / plain loop |");
    println!("|---|---:|---:|---:|---:|");
    let paths = [
        ("direct", server),
        ("plain recv_from/send_to loop", plain),
        ("through lossy-relay", relay.addr()),
    ];
    for window in [1, 32] {
        let mut times = vec![Vec::new(); paths.len()];
        for round in 0..5 {
            // Interleaved, each round starting with another path.
            for i in (0..paths.len()).map(|k| (k + round) % paths.len()) {
                times[i].push(run(paths[i].1, window)?);
            }
        }
        let rates: Vec<f64> = times
            .into_iter()
            .map(|mut t| {
                t.sort();
                f64::from(2 * ROUND_TRIPS) / t[t.len() / 2].as_secs_f64()
            })
            .collect();
        for (i, (path, _)) in paths.iter().enumerate() {
            let ratio = if i == 2 {
                format!("{:.2}", rates[2] / rates[1])
            } else {
                String::new()
            };
            let took = f64::from(2 * ROUND_TRIPS) / rates[i];
            println!(
                "| {path} | {window} | {took:.3} s | {:.0} | {ratio} |",
                rates[i]
            );
        }
    }
    Ok(())
}
