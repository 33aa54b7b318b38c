//! Chapter 6's figures: how long 1,000 messages take through the lossy relay with a fixed
//! timeout and with the adaptive one, and how long a 1 MiB copy takes at 30 % loss with the
//! programs' defaults. Run it with `cargo bench --bench reliability` (it takes a minute or two).
//!
//! It measures the reference solution, not your exercises.

use std::io;
use std::net::UdpSocket;
use std::thread;
use std::time::{Duration, Instant};

use lossy_relay::{Rates, Relay, RelayConfig};
use solutions::ch06_reliability::{
    FixedTimer, MAX_PAYLOAD, RetransmitTimer, Rto, RtoConfig, run_receiver, send_all,
};

#[path = "reliability/window.rs"]
mod window;

const MESSAGES: usize = 1000;
const FIXED: Duration = Duration::from_millis(50);

/// Sends `payloads` through a relay with `loss` each way; returns the time, the number of
/// transmissions, and what the receiver got.
fn transfer(
    payloads: &[Vec<u8>],
    loss: f64,
    timer: &mut impl RetransmitTimer,
) -> io::Result<(Duration, u32, Vec<u8>)> {
    let receiver = UdpSocket::bind("127.0.0.1:0")?;
    let receiver_addr = receiver.local_addr()?;
    let receiving = thread::spawn(move || {
        let mut got = Vec::new();
        run_receiver(&receiver, Duration::from_millis(2000), |p| {
            got.extend_from_slice(p);
            Ok(())
        })
        .map(|_| got)
    });
    let rates = Rates {
        loss,
        seed: 2026,
        ..Rates::default()
    };
    let relay = Relay::start(
        "127.0.0.1:0".parse().unwrap(),
        RelayConfig {
            record: false,
            ..RelayConfig::new(receiver_addr).rates(rates)
        },
    )?;
    let sender = UdpSocket::bind("127.0.0.1:0")?;
    let started = Instant::now();
    let report = send_all(&sender, relay.addr(), payloads, timer, 30)
        .map_err(|e| io::Error::other(e.to_string()))?;
    let took = started.elapsed();
    let got = receiving
        .join()
        .map_err(|_| io::Error::other("receiver panicked"))??;
    Ok((took, report.transmissions.iter().sum(), got))
}

fn main() -> io::Result<()> {
    // `cargo bench --bench reliability -- window`: only the sliding window's figures
    // (`-- window goals`: only its goals).
    if std::env::args().skip(1).any(|a| a == "window") {
        let goals_only = std::env::args().skip(1).any(|a| a == "goals");
        return window::main(&window::one_mib(), goals_only);
    }
    let cpus = thread::available_parallelism().map_or(0, usize::from);
    println!(
        "machine: {} {}, {cpus} CPUs",
        std::env::consts::OS,
        std::env::consts::ARCH
    );
    let payloads: Vec<Vec<u8>> = (0..MESSAGES)
        .map(|i| format!("message {i:04}").into_bytes())
        .collect();
    let defaults = RtoConfig::LOOPBACK;

    println!("\n{MESSAGES} messages, stop-and-wait, through lossy-relay (loss each way)\n");
    println!(
        "| loss | fixed {} ms: time | sends | adaptive: time | sends | target for adaptive |",
        FIXED.as_millis()
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    let mut lossless = Duration::ZERO;
    for loss in [0.0, 0.1, 0.2] {
        let (fixed_time, fixed_sends, _) = transfer(&payloads, loss, &mut FixedTimer(FIXED))?;
        let (time, sends, _) = transfer(&payloads, loss, &mut Rto::new(defaults))?;
        if loss == 0.0 {
            lossless = time;
        }
        let target = lossless * 2 + defaults.min * 1500;
        println!(
            "| {:.0} % | {:.2} s | {fixed_sends} | {:.2} s | {sends} | {:.2} s |",
            loss * 100.0,
            fixed_time.as_secs_f64(),
            time.as_secs_f64(),
            target.as_secs_f64()
        );
    }

    let data: Vec<u8> = (0..1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let chunks: Vec<Vec<u8>> = data.chunks(MAX_PAYLOAD).map(<[u8]>::to_vec).collect();
    let (time, sends, got) = transfer(&chunks, 0.3, &mut Rto::new(defaults))?;
    println!(
        "\n1 MiB ({} DATA messages and END) at 30 % loss each way, RTO defaults (min {} ms, max {} ms), 30 tries: {:.1} s, {sends} sends, copy {}",
        chunks.len(),
        defaults.min.as_millis(),
        defaults.max.as_millis(),
        time.as_secs_f64(),
        if got == data {
            "byte-exact"
        } else {
            "DIFFERENT"
        }
    );
    window::main(&data, false)
}
