//! Chapter 5: why two small writes and a read stall for ~40 ms, shown by an
//! experiment. The client writes a header and a body (Nagle on), then reads the
//! reply. The stall needs two parties: the client's Nagle algorithm holds the body
//! until the header is acknowledged, and the server delays that acknowledgement. Make
//! the server acknowledge at once (Linux's TCP_QUICKACK, set after every read) and
//! the stall is gone, although Nagle is still on. The delayed run also prints how its
//! round trips are distributed, in bins of 4 ms (the kernel's timer tick at HZ=250).
//! Run it with `cargo run --example ch05_quickack`.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

const ROUND_TRIPS: usize = 100;

fn main() -> io::Result<()> {
    for quickack in [false, true] {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let server = thread::spawn(move || serve_one(listener, quickack));
        let mut client = TcpStream::connect(addr)?;
        client.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut reader = BufReader::new(client.try_clone()?);
        let mut times = Vec::new();
        let mut reply = Vec::new();
        for _ in 0..ROUND_TRIPS {
            let started = Instant::now();
            client.write_all(b"HEADER: ")?; // two writes, Nagle on...
            client.write_all(b"body\n")?;
            reply.clear();
            (&mut reader).take(64).read_until(b'\n', &mut reply)?; // ...then a read
            times.push(started.elapsed());
        }
        drop((client, reader));
        server.join().expect("the server thread panicked")?;
        times.sort();
        println!(
            "server acknowledges {:<22} median {:>7.3} ms, slowest {:>7.3} ms",
            if quickack {
                "at once (TCP_QUICKACK):"
            } else {
                "as usual (delayed):"
            },
            times[ROUND_TRIPS / 2].as_secs_f64() * 1000.0,
            times[ROUND_TRIPS - 1].as_secs_f64() * 1000.0
        );
        if !quickack {
            distribution(&times);
        }
    }
    println!("load average: {}", load_average());
    Ok(())
}

/// Prints how many round trips were fast (a new connection acknowledges quickly at
/// first) and how the others fall into bins of 4 ms: 40 up to 44 ms, 44 up to 48, ...
fn distribution(sorted: &[Duration]) {
    let mut bins = std::collections::BTreeMap::<u64, usize>::new();
    let mut fast = 0;
    for time in sorted {
        let ms = time.as_secs_f64() * 1000.0;
        if ms < 4.0 {
            fast += 1;
        } else {
            *bins.entry(ms as u64 / 4 * 4).or_default() += 1;
        }
    }
    println!("  under 4 ms: {fast} (a new connection starts in quick-ACK mode)");
    for (from, count) in bins {
        println!("  {from:>3} to {:>3} ms: {count}", from + 4);
    }
}

/// The 1-minute load average (Linux), so that a figure says how busy the machine was.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown (no /proc/loadavg)".to_string())
}

/// Echoes lines on one connection. With `quickack`, it asks Linux to acknowledge at
/// once after every read (the setting does not stick, so it is set again each time).
fn serve_one(listener: TcpListener, quickack: bool) -> io::Result<()> {
    let (mut stream, _) = listener.accept()?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut pending = Vec::new();
    let mut buf = [0u8; 256];
    loop {
        // ANCHOR: quickack
        let len = stream.read(&mut buf)?; // the header arrives: an ACK for it is due
        if quickack {
            acknowledge_at_once(&stream)?; // send that ACK now, not in 40 ms
        }
        // ANCHOR_END: quickack
        if len == 0 || pending.len() > 1024 {
            return Ok(());
        }
        pending.extend_from_slice(&buf[..len]);
        // Whole lines go back; a partial line waits for the rest.
        if let Some(end) = pending.iter().rposition(|&b| b == b'\n') {
            let lines: Vec<u8> = pending.drain(..=end).collect();
            stream.write_all(&lines)?;
        }
    }
}

#[cfg(target_os = "linux")]
fn acknowledge_at_once(stream: &TcpStream) -> io::Result<()> {
    socket2::SockRef::from(stream).set_tcp_quickack(true)
}

#[cfg(not(target_os = "linux"))]
fn acknowledge_at_once(_stream: &TcpStream) -> io::Result<()> {
    Err(io::Error::other(
        "TCP_QUICKACK is a Linux option; run this on Linux",
    ))
}
