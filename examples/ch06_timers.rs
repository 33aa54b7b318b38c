//! Chapter 6: how long does a short timeout really wait?
//!
//! Waits on a UDP socket that nobody sends to, asking for 0.5, 1, 2, 5 and 10 ms, in
//! two ways: `set_read_timeout` (SO_RCVTIMEO, counted in kernel timer ticks) and the
//! course's `Waiter` (readiness polling through mio: epoll, kqueue or IOCP).
//! `thread::sleep` is shown as the yardstick. Prints medians (the machine may be
//! busy) and the spread.
//!
//! Run: `cargo run --release --example ch06_timers` (`-- 51` for 51 rounds instead of
//! 21).

use std::io;
use std::net::UdpSocket;
use std::thread;
use std::time::{Duration, Instant};

use socket_course::ch06_reliability::Waiter;

const ASKED_US: [u64; 5] = [500, 1_000, 2_000, 5_000, 10_000];

fn main() -> io::Result<()> {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(21);
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    println!("{rounds} rounds each; wait in ms: median (min-max)");
    println!();
    println!("| asked | SO_RCVTIMEO | readiness poll (mio) | thread::sleep |");
    println!("|---:|---:|---:|---:|");
    let mut buf = [0u8; 16];
    for asked in ASKED_US.map(Duration::from_micros) {
        let mut rcvtimeo = Vec::new();
        let mut polled = Vec::new();
        let mut slept = Vec::new();
        // Interleave the three so that a busy moment hurts them alike.
        // ANCHOR: measure
        for _ in 0..rounds {
            socket.set_read_timeout(Some(asked))?;
            let start = Instant::now();
            let got = socket.recv(&mut buf);
            rcvtimeo.push(start.elapsed());
            expect_timeout(got.map(Some))?;

            let mut waiter = Waiter::new(&socket)?;
            let start = Instant::now();
            let got = waiter.recv_until(&mut buf, start + asked);
            polled.push(start.elapsed());
            expect_timeout(got)?;
            drop(waiter);

            let start = Instant::now();
            thread::sleep(asked);
            slept.push(start.elapsed());
        }
        // ANCHOR_END: measure
        println!(
            "| {} | {} | {} | {} |",
            ms(asked),
            summary(&mut rcvtimeo),
            summary(&mut polled),
            summary(&mut slept)
        );
    }
    println!();
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

/// Nobody sends to this socket: every wait must end by timing out.
fn expect_timeout(got: io::Result<Option<usize>>) -> io::Result<()> {
    match got {
        Ok(None) => Ok(()),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            Ok(())
        }
        Ok(Some(len)) => {
            Err(io::Error::other(format!("unexpected {len}-byte datagram")))
        }
        Err(e) => Err(e),
    }
}

fn summary(waits: &mut [Duration]) -> String {
    waits.sort();
    let median = waits[waits.len() / 2];
    let (min, max) = (waits[0], waits[waits.len() - 1]);
    format!("{} ({}-{})", ms(median), ms(min), ms(max))
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}
