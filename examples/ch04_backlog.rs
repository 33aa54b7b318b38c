//! Chapter 4: what a full listen queue costs a client. Run it with
//! `cargo run --release --example ch04_backlog` (Linux).
//!
//! A connection waits in the listen queue from the end of its handshake until the
//! server calls `accept`; the queue's length is the backlog `listen` asks for. When the
//! queue is full, Linux drops a new connection request (SYN), and the client's kernel
//! sends it again only after 1 s (then after 2 s more, doubling). Two experiments:
//! 1. the queue is full, the server starts accepting 0.2 s later: how long the next
//!    `connect` takes;
//! 2. 1,000 clients connect at once to a server that starts accepting 0.2 s late (a
//!    busy machine), with std's backlog (128) and with 1,024: how long until the server
//!    has accepted every one.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use socket2::{Domain, Socket, Type};

/// How late the server starts accepting.
const LATE: Duration = Duration::from_millis(200);
const CLIENTS: usize = 1_000;
const RUNS: usize = 3;

/// A listener on 127.0.0.1 (port 0) whose queue holds about `backlog` connections.
fn listener(backlog: i32) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
    socket.listen(backlog)?;
    Ok(socket.into())
}

/// How long the server waits for the last connection before it gives up.
const GIVE_UP: Duration = Duration::from_secs(30);

/// Accepts `count` connections, starting `LATE` after `start`; returns when the last
/// one is accepted, measured from `start` (or `None` after `GIVE_UP`).
fn accept_late(
    listener: TcpListener,
    count: usize,
    start: Instant,
) -> thread::JoinHandle<Option<Duration>> {
    thread::spawn(move || {
        thread::sleep(LATE.saturating_sub(start.elapsed()));
        listener.set_nonblocking(true).ok()?;
        let mut kept = Vec::with_capacity(count);
        while kept.len() < count {
            match listener.accept() {
                Ok((stream, _)) => kept.push(stream),
                Err(_) if start.elapsed() < GIVE_UP => {
                    thread::sleep(Duration::from_millis(1))
                }
                Err(_) => return None,
            }
        }
        Some(start.elapsed())
    })
}

/// Experiment 1: the queue is full; the next `connect`, while the server starts
/// accepting `LATE` later.
fn one_more_client() -> io::Result<Duration> {
    let listener = listener(1)?;
    let addr = listener.local_addr()?;
    // Fill the queue: connect until a request goes unanswered for 100 ms.
    let mut queued = Vec::new();
    while let Ok(stream) =
        TcpStream::connect_timeout(&addr, Duration::from_millis(100))
    {
        queued.push(stream);
    }
    let start = Instant::now();
    let server = accept_late(listener, queued.len() + 1, start);
    let _next = TcpStream::connect(addr)?;
    let took = start.elapsed();
    let _ = server.join();
    Ok(took)
}

/// Experiment 2: `CLIENTS` connect at once; when the server has accepted them all.
fn many_clients(backlog: i32) -> io::Result<Duration> {
    let listener = listener(backlog)?;
    let addr = listener.local_addr()?;
    let ready = Arc::new(Barrier::new(CLIENTS + 1));
    let done = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (ready, done) = (Arc::clone(&ready), Arc::clone(&done));
            thread::Builder::new().stack_size(64 * 1024).spawn(move || {
                ready.wait();
                // One byte, as a real client would send: a client may count
                // itself connected before the server has its connection (its last
                // handshake packet was dropped), and the byte is retransmitted
                // until the server takes it.
                let stream = TcpStream::connect(addr).and_then(|mut s| {
                    s.write_all(b"x")?;
                    Ok(s)
                });
                // Kept open until the server is done.
                while !done.load(Ordering::Relaxed) {
                    thread::sleep(Duration::from_millis(10));
                }
                stream
            })
        })
        .collect::<io::Result<_>>()?;
    ready.wait();
    let start = Instant::now();
    let took = accept_late(listener, CLIENTS, start).join();
    done.store(true, Ordering::Relaxed);
    for client in clients {
        let _ = client.join();
    }
    match took {
        Ok(Some(took)) => Ok(took),
        _ => Err(io::Error::other(
            "the server did not accept every client within 30 s",
        )),
    }
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn seconds(runs: &[Duration]) -> String {
    let each: Vec<String> = runs
        .iter()
        .map(|d| format!("{:.2}", d.as_secs_f64()))
        .collect();
    each.join(", ")
}

fn main() -> io::Result<()> {
    // 1,000 clients and 1,000 accepted connections: more than the usual 1,024 descriptors.
    let _ = socket_course::fd_limit::raise(4 * CLIENTS as u64);
    let somaxconn = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "?".into());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split_whitespace().next().unwrap_or("?");
    println!(
        "load average {load}, net.core.somaxconn {somaxconn}, {RUNS} runs each, median first"
    );

    let runs = (0..RUNS)
        .map(|_| one_more_client())
        .collect::<io::Result<Vec<_>>>()?;
    println!(
        "queue full, server accepts after {:.1} s: the next connect took {:.2} s ({} s)",
        LATE.as_secs_f64(),
        median(runs.clone()).as_secs_f64(),
        seconds(&runs)
    );
    for backlog in [128, 1_024] {
        let runs = (0..RUNS)
            .map(|_| many_clients(backlog))
            .collect::<io::Result<Vec<_>>>()?;
        println!(
            "{CLIENTS} clients at once, backlog {backlog:>5}: all accepted after {:.2} s ({} s)",
            median(runs.clone()).as_secs_f64(),
            seconds(&runs)
        );
    }
    Ok(())
}
