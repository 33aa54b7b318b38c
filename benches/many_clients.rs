//! Many simultaneous clients against each chapter 4 design, plus article B's Python `select`
//! server as the reference row. Run it with `cargo bench --bench many_clients`
//! (`MANY_CLIENTS=1000,5000` picks the sizes; the default is 1,000, 5,000 and 10,000).
//!
//! Each server runs in its own process (`tcp-multi-server --design ...` with its defaults,
//! only the port changed; the Python server). The clients connect from 500 source addresses
//! each (127.0.1.1, 127.0.1.2, ...: one address may hold 1,000 places by default, with
//! `--max-per-address`). They run in this process, on one thread,
//! with mio: every client connects, sends one message, reads its echo and checks it byte for
//! byte, and stays connected until every client is done, so all of them are connected at
//! once. Printed per run: the time until every client was echoed, round trips per second,
//! and the server's peak resident memory (VmHWM, Linux only). Figures vary from run to run on
//! a shared machine: compare the rows of one run, not runs.
//!
//! It measures the switched-in side: `cargo bench --bench many_clients` your exercises,
//! `cargo bench --bench many_clients --features solutions` the reference.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use course_harness::ChildGuard;
use course_harness::child::Stream;
use course_harness::drip::spread_source;
use course_harness::python::python3;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

/// Connects started but not yet established, at most: more would overflow the server's
/// listen queue, and a dropped connection request is retried only after a second.
const CONNECTING_AT_ONCE: usize = 256;
/// A run that makes no progress for this long has failed.
const STALL: Duration = Duration::from_secs(15);

#[derive(Clone, Copy, PartialEq)]
enum State {
    Connecting,
    Waiting { sent: usize, got: usize },
    Done,
    Failed,
}

struct Client {
    stream: TcpStream,
    state: State,
}

struct Outcome {
    echoed: usize,
    failed: usize,
    took: Duration,
}

fn message(i: usize) -> Vec<u8> {
    format!("client {i:05} says hello\n").into_bytes()
}

/// Starts a non-blocking connect to `addr` from `source`.
fn connect_from(source: std::net::IpAddr, addr: SocketAddr) -> io::Result<TcpStream> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    socket.set_nonblocking(true)?;
    socket.bind(&SocketAddr::new(source, 0).into())?;
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        // Under way: the first WRITABLE event says how it ended.
        Err(e) if e.kind() == io::ErrorKind::WouldBlock || in_progress(&e) => {}
        Err(e) => return Err(e),
    }
    Ok(TcpStream::from_std(socket.into()))
}

#[cfg(unix)]
fn in_progress(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::EINPROGRESS)
}

#[cfg(not(unix))]
fn in_progress(_: &io::Error) -> bool {
    false // Windows says WouldBlock
}

/// `n` clients against `addr`, each one round trip; all stay connected until the end.
fn run_clients(addr: SocketAddr, n: usize) -> io::Result<Outcome> {
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(4096);
    let mut clients: Vec<Client> = Vec::with_capacity(n);
    let (mut echoed, mut failed, mut connecting) = (0, 0, 0);
    let started = Instant::now();
    let mut last_progress = Instant::now();
    let mut buf = [0u8; 256];
    while echoed + failed < n {
        // Start more connects, keeping at most CONNECTING_AT_ONCE in progress.
        while clients.len() < n && connecting < CONNECTING_AT_ONCE {
            let i = clients.len();
            let mut stream = match connect_from(spread_source(i / 500), addr) {
                Ok(stream) => stream,
                Err(e) => {
                    eprintln!("client {i}: connect failed: {e}");
                    return Ok(Outcome {
                        echoed,
                        failed: n - echoed,
                        took: started.elapsed(),
                    });
                }
            };
            poll.registry().register(
                &mut stream,
                Token(i),
                Interest::READABLE | Interest::WRITABLE,
            )?;
            clients.push(Client {
                stream,
                state: State::Connecting,
            });
            connecting += 1;
        }
        poll.poll(&mut events, Some(Duration::from_millis(100)))?;
        if events.is_empty() && last_progress.elapsed() > STALL {
            break;
        }
        for event in events.iter() {
            let i = event.token().0;
            let client = &mut clients[i];
            let before = client.state;
            if client.state == State::Connecting {
                if event.is_error() || client.stream.take_error()?.is_some() {
                    client.state = State::Failed;
                } else if client.stream.peer_addr().is_ok() {
                    client.state = State::Waiting { sent: 0, got: 0 };
                }
            }
            if let State::Waiting { mut sent, mut got } = client.state {
                let expected = message(i);
                let mut broken = false;
                while sent < expected.len() {
                    match client.stream.write(&expected[sent..]) {
                        Ok(n) => sent += n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(_) => {
                            broken = true;
                            break;
                        }
                    }
                }
                while !broken && got < expected.len() {
                    match client.stream.read(&mut buf[..expected.len() - got]) {
                        Ok(0) => broken = true,
                        Ok(n) if buf[..n] == expected[got..got + n] => got += n,
                        Ok(_) => broken = true, // not the bytes we sent
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(_) => broken = true,
                    }
                }
                client.state = if broken {
                    State::Failed
                } else if got == expected.len() {
                    State::Done
                } else {
                    State::Waiting { sent, got }
                };
            }
            if before == State::Connecting && client.state != State::Connecting {
                connecting -= 1;
            }
            if before != client.state {
                last_progress = Instant::now();
                match client.state {
                    State::Done => echoed += 1,
                    State::Failed => failed += 1,
                    _ => {}
                }
            }
        }
    }
    let took = started.elapsed();
    Ok(Outcome {
        echoed,
        failed: n - echoed,
        took,
    })
}

/// The server's peak resident memory in MiB (Linux: VmHWM in /proc/PID/status).
fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn row(label: &str, n: usize, mut server: ChildGuard) {
    let addr = server.listening_addr();
    let outcome = match run_clients(addr, n) {
        Ok(outcome) => outcome,
        Err(e) => {
            println!("| {label} | {n} | error: {e} | | |");
            return;
        }
    };
    let rss = peak_rss_mib(server.id()).map_or("(exited)".to_string(), |m| format!("{m:.1}"));
    if outcome.failed > 0 {
        // What the server said about it (its first few lines on stderr).
        for _ in 0..5 {
            match server.next_line(Stream::Stderr, Duration::from_millis(500)) {
                Ok(line) => eprintln!("  {label}, {n} clients: server said: {line}"),
                Err(_) => break,
            }
        }
    }
    let secs = outcome.took.as_secs_f64();
    if outcome.failed == 0 {
        println!(
            "| {label} | {n} | {secs:.2} s | {:.0} | {rss} |",
            outcome.echoed as f64 / secs
        );
    } else {
        println!(
            "| {label} | {n} | failed at {} ({} of {n} echoed) | | {rss} |",
            outcome.echoed + 1,
            outcome.echoed
        );
    }
}

fn main() {
    let sizes: Vec<usize> = std::env::var("MANY_CLIENTS")
        .ok()
        .map(|text| {
            text.split(',')
                .filter_map(|s| s.trim().parse().ok())
                .collect()
        })
        .unwrap_or_else(|| vec![1_000, 5_000, 10_000]);
    let largest = sizes.iter().copied().max().unwrap_or(0) as u64;
    // This process holds one descriptor per client; each server raises its own limit.
    let limit = socket_course::fd_limit::raise(largest + 256);
    println!(
        "measuring tcp-multi-server built from: {} (--features solutions: the reference)",
        socket_course::SIDE
    );
    println!("file descriptor limit of the client process: {limit:?}");
    println!("load average before: {}", load_average());
    println!();
    println!("| server | clients | all echoed in | round trips/s | peak RSS (MiB) |");
    println!("|---|---:|---:|---:|---:|");
    for design in ["threads", "events", "async"] {
        for &n in &sizes {
            let mut command = Command::new(course_harness::program!("tcp-multi-server"));
            command.args(["--bind", "127.0.0.1:0", "--design", design]);
            row(&format!("Rust, {design}"), n, ChildGuard::spawn(command));
        }
    }
    match python3() {
        Some(_) => {
            for &n in &sizes {
                let mut command = python3().unwrap();
                let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/python/article_b_select_server.py");
                command.arg(script).args(["127.0.0.1", "0"]);
                row("Python, article B's select", n, ChildGuard::spawn(command));
            }
        }
        None => println!("(no python3: the reference row is missing)"),
    }
    println!();
    println!("load average after: {}", load_average());
}

/// The machine's load average (Linux), to show how busy it was during the run.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or("?".into(), |s| s.trim().to_string())
}
