//! Chapter 6's figures: how long 1,000 messages take through the lossy relay with a fixed
//! timeout and with the adaptive one, and how long a 1 MiB copy takes at 30 % loss with the
//! programs' defaults. Run it with `cargo bench --bench reliability` (it takes a minute or two);
//! `-- copy` measures the programs instead (see reliability/copy.rs).
//!
//! It measures the reference solution, not your exercises.

use std::io;
use std::net::UdpSocket;
use std::thread;
use std::time::{Duration, Instant};

use lossy_relay::{Rates, Relay, RelayConfig};
use solutions::ch06_reliability::{
    FixedTimer, MAX_PAYLOAD, RetransmitTimer, Rto, RtoConfig, Session, run_receiver, send_all,
};

#[path = "reliability/copy.rs"]
mod copy;
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
) -> io::Result<(Duration, Vec<u32>, Vec<u8>)> {
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
    let report = send_all(
        &sender,
        relay.addr(),
        Session::random()?,
        payloads,
        timer,
        30,
    )
    .map_err(|e| io::Error::other(e.to_string()))?;
    let took = started.elapsed();
    let got = receiving
        .join()
        .map_err(|_| io::Error::other("receiver panicked"))??;
    Ok((took, report.transmissions, got))
}

fn main() -> io::Result<()> {
    // `cargo bench --bench reliability -- window`: only the sliding window's figures
    // (`-- window goals`: only its goals).
    // `-- copy`: the programs, 16 MiB through the relay (chapter 6, "Losses the receiver
    // reports").
    if std::env::args().skip(1).any(|a| a == "copy") {
        return copy::main();
    }
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
        let fixed_sends: u32 = fixed_sends.iter().sum();
        let (time, sends, _) = transfer(&payloads, loss, &mut Rto::new(defaults))?;
        let sends: u32 = sends.iter().sum();
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
    let (time, transmissions, got) = transfer(&chunks, 0.3, &mut Rto::new(defaults))?;
    let sends: u32 = transmissions.iter().sum();
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
    // What that time is made of. After an ACK the timeout starts again from the estimate
    // (the minimum, on loopback); each timeout doubles it, up to the maximum. A message sent
    // t times waited t - 1 timeouts: min, 2 min, 4 min, ...
    let backoff = |k: u32| (defaults.min * 2u32.saturating_pow(k)).min(defaults.max);
    let waited: Duration = transmissions
        .iter()
        .flat_map(|&t| (0..t.saturating_sub(1)).map(backoff))
        .sum();
    // The expectation for any seed: a try fails with q = 1 - 0.7 * 0.7 = 0.51 (DATA or ACK
    // lost), so the k-th timeout happens with probability q^k.
    let q: f64 = 1.0 - 0.7 * 0.7;
    let per_message: f64 = (1..200)
        .map(|k| q.powi(k) * backoff(k as u32 - 1).as_secs_f64())
        .sum();
    println!(
        "  timeouts this run waited, with exact timers: {:.1} s ({} timeouts); RFC 6298 back-off model (expected, any seed): {:.1} s; the rest ({:.1} s) is round trips, scheduling and timer overshoot",
        waited.as_secs_f64(),
        sends as usize - transmissions.len(),
        per_message * transmissions.len() as f64,
        time.as_secs_f64() - waited.as_secs_f64()
    );
    window::main(&data, false)
}
