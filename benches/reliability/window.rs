//! The sliding window's figures (chapter 6, "A sliding window"): 1 MiB through the lossy relay
//! with windows 1, 64 and 128 at 0, 10, 20 and 30 % loss each way, the same seed for every
//! row, and the timeout `reliable-send` uses by default (at least 1 ms); then the goals: 1 MiB at 30 % with the programs' defaults, and 1 MiB lossless and
//! direct (no relay), next to a plain TCP copy of the same bytes in the same run.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use lossy_relay::{Rates, Relay, RelayConfig};
use solutions::ch06_reliability::{
    GRANULARITY, Listen, MAX_PAYLOAD, Rto, RtoConfig, Session, run_window_receiver, send_window,
};

const SEED: u64 = 2026;
/// The programs' defaults: `reliable-send --window 64`, `reliable-recv --window 64`.
const SEND_WINDOW: u16 = 64;
const RECV_WINDOW: u16 = 64;

/// One transfer: how long the sender took, how many sends, whether the copy is exact.
struct Run {
    took: Duration,
    sends: u32,
    exact: bool,
}

/// Sends `data` with `window` (the receiver accepts `recv_window`), through a relay with `loss`
/// each way, or directly when `loss` is `None`.
fn transfer(data: &[u8], window: u16, recv_window: u16, loss: Option<f64>) -> io::Result<Run> {
    let receiver = UdpSocket::bind("127.0.0.1:0")?;
    let receiver_addr = receiver.local_addr()?;
    let receiving = thread::spawn(move || {
        let mut got = Vec::with_capacity(1 << 20);
        let listen = Listen {
            from: None,
            idle_timeout: Some(Duration::from_secs(30)),
            linger: Duration::from_millis(600),
        };
        run_window_receiver(&receiver, recv_window, listen, |p| {
            got.extend_from_slice(p);
            Ok(())
        })
        .map(|_| got)
    });
    let relay = match loss {
        Some(loss) => {
            let rates = Rates {
                loss,
                seed: SEED,
                ..Rates::default()
            };
            let config = RelayConfig {
                record: false,
                ..RelayConfig::new(receiver_addr).rates(rates)
            };
            Some(Relay::start("127.0.0.1:0".parse().unwrap(), config)?)
        }
        None => None,
    };
    let to = relay.as_ref().map_or(receiver_addr, Relay::addr);
    let chunks: Vec<Vec<u8>> = data.chunks(MAX_PAYLOAD).map(<[u8]>::to_vec).collect();
    let sender = UdpSocket::bind("127.0.0.1:0")?;
    let started = Instant::now();
    let report = send_window(
        &sender,
        to,
        Session::random()?,
        &chunks,
        window,
        // `reliable-send`'s default: the loss detectors do the everyday work, so the timeout
        // keeps only the timer's granularity as its minimum.
        &mut Rto::new(RtoConfig {
            min: GRANULARITY,
            ..RtoConfig::LOOPBACK
        }),
        30,
    )
    .map_err(|e| io::Error::other(e.to_string()))?;
    let took = started.elapsed();
    let got = receiving
        .join()
        .map_err(|_| io::Error::other("receiver panicked"))??;
    Ok(Run {
        took,
        sends: report.transmissions.iter().sum(),
        exact: got == data,
    })
}

/// The plainest reliable, ordered copy: TCP over loopback, write all, read to EOF.
fn tcp_copy(data: &[u8]) -> io::Result<Duration> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let reading = thread::spawn(move || -> io::Result<Vec<u8>> {
        let (mut stream, _) = listener.accept()?;
        let mut got = Vec::with_capacity(1 << 20);
        stream.read_to_end(&mut got)?;
        Ok(got)
    });
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr)?;
    stream.write_all(data)?;
    stream.shutdown(std::net::Shutdown::Write)?;
    let got = reading
        .join()
        .map_err(|_| io::Error::other("reader panicked"))??;
    let took = started.elapsed();
    assert!(got == data, "TCP copy differs");
    Ok(took)
}

/// The same 1 MiB as the stop-and-wait part of the benchmark.
pub fn one_mib() -> Vec<u8> {
    (0..1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn mib_per_s(bytes: usize, took: Duration) -> f64 {
    bytes as f64 / (1 << 20) as f64 / took.as_secs_f64()
}

pub fn main(data: &[u8], goals_only: bool) -> io::Result<()> {
    let cpus = thread::available_parallelism().map_or(0, usize::from);
    println!(
        "\nmachine: {} {}, {cpus} CPUs",
        std::env::consts::OS,
        std::env::consts::ARCH
    );
    if !goals_only {
        table(data)?;
    }
    goals(data)
}

fn table(data: &[u8]) -> io::Result<()> {
    println!(
        "\n1 MiB ({} DATA messages and END) with a sliding window, through lossy-relay (loss each \
         way, seed {SEED}); receiver window 64 (256 for sender window 128); RTO at least 1 ms\n",
        data.len().div_ceil(MAX_PAYLOAD)
    );
    println!(
        "| loss | window 1: time | sends | window 64: time | sends | window 128: time | sends |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for loss in [0.0, 0.1, 0.2, 0.3] {
        let mut row = format!("| {:.0} % |", loss * 100.0);
        for window in [1u16, SEND_WINDOW, 128] {
            let recv_window = if window > RECV_WINDOW {
                256
            } else {
                RECV_WINDOW
            };
            let run = transfer(data, window, recv_window, Some(loss))?;
            assert!(run.exact, "window {window}, loss {loss}: the copy differs");
            row += &format!(" {:.2} s | {} |", run.took.as_secs_f64(), run.sends);
        }
        println!("{row}");
    }
    Ok(())
}

fn goals(data: &[u8]) -> io::Result<()> {
    println!("\nGoals, with the defaults (window 64, receiver window 64), medians of 3:");
    let lossy: Vec<Duration> = (0..3)
        .map(|_| transfer(data, SEND_WINDOW, RECV_WINDOW, Some(0.3)).map(|r| r.took))
        .collect::<io::Result<_>>()?;
    let lossy = median(lossy);
    println!(
        "- 1 MiB through the relay at 30 % loss each way: {:.2} s (goal: under 2 s) {}",
        lossy.as_secs_f64(),
        if lossy < Duration::from_secs(2) {
            "MET"
        } else {
            "MISSED"
        }
    );
    let mut direct = Vec::new();
    let mut tcp = Vec::new();
    for _ in 0..5 {
        let run = transfer(data, SEND_WINDOW, RECV_WINDOW, None)?;
        assert!(run.exact, "direct copy differs");
        direct.push(run.took);
        tcp.push(tcp_copy(data)?);
    }
    let (direct, tcp) = (median(direct), median(tcp));
    let speed = mib_per_s(data.len(), direct);
    println!(
        "- 1 MiB lossless and direct: {:.1} ms, {speed:.0} MiB/s (goal: at least 100 MiB/s) {}",
        direct.as_secs_f64() * 1000.0,
        if speed >= 100.0 { "MET" } else { "MISSED" }
    );
    println!(
        "- for scale, a plain TCP copy of the same 1 MiB: {:.1} ms, {:.0} MiB/s (window / TCP: {:.2}x)",
        tcp.as_secs_f64() * 1000.0,
        mib_per_s(data.len(), tcp),
        speed / mib_per_s(data.len(), tcp)
    );
    Ok(())
}
