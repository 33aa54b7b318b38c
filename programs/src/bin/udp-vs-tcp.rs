//! `udp-vs-tcp`: chapter 5's measurements in one table. Starts its own echo servers
//! on loopback (and a lossy relay in front of the UDP one), measures round trips with
//! the chapter's exercises, and prints the figures on stdout.
//!
//! The servers here are private to this run: bound to 127.0.0.1 port 0, used by this
//! process only, gone when it exits. So they are kept minimal (no idle timeouts, no
//! rate limits), but they still never trust what they read: lines are bounded and
//! replies are checked.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::ExitCode;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use course_programs::cli::{self, EXIT_FAILURE};
use lossy_relay::{Rates, Relay, RelayConfig};
use socket_course::ch05_udp_vs_tcp::{
    MAX_REPLY_LINE, Summary, TCP_TIMEOUT, summarize, tcp_connect_per_request, tcp_round_trips,
    udp_round_trips,
};

/// Round trips of the Nagle rows: with Nagle on, each takes about 40 ms.
const NAGLE_TRIPS: u32 = 50;
/// Requests of the relay row, and how long each waits for its reply.
const RELAY_TRIPS: u32 = 100;
const RELAY_TIMEOUT: Duration = Duration::from_millis(100);
/// Bytes of the bulk transfer, and the size of each write.
const BULK_BYTES: u64 = 256 << 20;
const BULK_CHUNK: usize = 64 << 10;
/// How long a UDP request on plain loopback waits before it counts as lost.
const UDP_TIMEOUT: Duration = Duration::from_secs(1);

/// Measures UDP and TCP on loopback and prints one table: round trips per second with
/// median and p99, a TCP connection per request, Nagle's algorithm meeting delayed
/// ACKs, bulk throughput, two threads without a socket (for comparison), and UDP
/// requests lost through the lossy relay. Its servers are its own, on 127.0.0.1 (IPv4
/// only; there is no address flag).
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// Round trips in each UDP and TCP latency row (the Nagle rows always use 50, the
    /// relay row 100).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    round_trips: u32,
    /// Probability (0 to 1) that the relay drops a datagram, in each direction.
    #[arg(long, default_value_t = 0.1, value_parser = probability)]
    loss: f64,
    /// The relay's seed: the same seed drops the same datagrams.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// For the tests: 3 Nagle round trips, 8 MiB of bulk data and 20 requests through
    /// the relay, so that a run that only checks the table's rows takes a fraction of a
    /// second instead of about 3 s.
    #[arg(long, hide = true)]
    quick: bool,
}

fn probability(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("`{text}`: a probability from 0 to 1")),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => cli::fail(EXIT_FAILURE, e),
    }
}

fn run(args: &Args) -> Result<(), String> {
    let n = args.round_trips;
    let udp = udp_echo().map_err(|e| format!("cannot start the UDP echo server: {e}"))?;
    let tcp = tcp_line_echo().map_err(|e| format!("cannot start the TCP echo server: {e}"))?;
    println!("udp-vs-tcp: loopback, requests of a few bytes, {n} round trips per latency row");
    println!();
    println!(
        "{:<31} {:>7} {:>11} {:>10} {:>10}",
        "what", "count", "per second", "median", "p99"
    );

    // UDP: one socket, requests one at a time.
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| e.to_string())?;
    let (trips, took) = timed(|| udp_round_trips(&socket, udp, n, UDP_TIMEOUT));
    let trips = trips.map_err(|e| format!("UDP round trips: {e}"))?;
    let note = match trips.lost.len() {
        0 => String::new(),
        lost => format!("  ({lost} lost)"),
    };
    latency_row("UDP round trip", &trips.rtts, took, &note);

    // TCP: one connection for all requests.
    let stream = connect(tcp).map_err(|e| format!("TCP: {e}"))?;
    let (rtts, took) = timed(|| tcp_round_trips(stream, n));
    let rtts = rtts.map_err(|e| format!("TCP round trips: {e}"))?;
    latency_row("TCP round trip, one connection", &rtts, took, "");

    // TCP: a handshake for every request.
    let (rtts, took) = timed(|| tcp_connect_per_request(tcp, n, TCP_TIMEOUT));
    let rtts = rtts.map_err(|e| format!("TCP connect per request: {e}"))?;
    latency_row("TCP connect + request + close", &rtts, took, "");

    // Header and body in two writes, then a read: Nagle on, Nagle off, one write.
    for (label, nodelay, one_write) in [
        ("TCP two writes, Nagle on", false, false),
        ("TCP two writes, TCP_NODELAY", true, false),
        ("TCP one write, Nagle on", false, true),
    ] {
        let trips = if args.quick { 3 } else { NAGLE_TRIPS };
        let (rtts, took) = timed(|| header_then_body(tcp, trips, nodelay, one_write));
        let rtts = rtts.map_err(|e| format!("{label}: {e}"))?;
        latency_row(label, &rtts, took, "");
    }

    // Bulk: as many bytes as TCP will carry, one way.
    let bulk_bytes = if args.quick { 8 << 20 } else { BULK_BYTES };
    let mib_per_s = bulk(bulk_bytes).map_err(|e| format!("TCP bulk transfer: {e}"))?;
    println!(
        "{:<31} {:>7} {:>11}",
        format!("TCP bulk transfer, {} MiB", bulk_bytes >> 20),
        "",
        format!("{mib_per_s:.0} MiB/s")
    );

    // No socket at all: two threads handing a number back and forth.
    let (rtts, took) = timed(|| thread_ping_pong(n));
    latency_row("two threads, no socket", &rtts, took, "");

    // UDP through the lossy relay.
    let relay_trips = if args.quick { 20 } else { RELAY_TRIPS };
    let relay_row = through_relay(udp, relay_trips, args.loss, args.seed)?;
    println!("{relay_row}");
    Ok(())
}

/// Runs `f` and also returns how long it took.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let value = f();
    (value, started.elapsed())
}

/// One row: count, round trips per second over the whole run, median, p99.
fn latency_row(label: &str, rtts: &[Duration], took: Duration, note: &str) {
    let Some(Summary {
        count, median, p99, ..
    }) = summarize(rtts)
    else {
        println!("{label:<31} {:>7}  (no round trip completed){note}", 0);
        return;
    };
    let per_second = count as f64 / took.as_secs_f64().max(1e-9);
    println!(
        "{label:<31} {count:>7} {per_second:>11.0} {:>10} {:>10}{note}",
        millis(median),
        millis(p99)
    );
}

/// `0.031 ms`.
fn millis(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// A UDP echo server on a thread of its own: every datagram goes back to its sender.
fn udp_echo() -> io::Result<SocketAddr> {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
    let addr = socket.local_addr()?;
    thread::spawn(move || {
        let mut buf = vec![0u8; 65_536];
        loop {
            match socket.recv_from(&mut buf) {
                Ok((len, from)) => {
                    let _ = socket.send_to(&buf[..len], from);
                }
                // An ICMP error about a client that went away (Windows): not our
                // problem.
                Err(_) => continue,
            }
        }
    });
    Ok(addr)
}

/// A TCP server that answers every line with the same line, a thread per connection.
fn tcp_line_echo() -> io::Result<SocketAddr> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let addr = listener.local_addr()?;
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || echo_lines(stream));
        }
    });
    Ok(addr)
}

/// Echoes lines of at most [`MAX_REPLY_LINE`] bytes until the client closes; anything
/// longer, or any error, ends the connection.
fn echo_lines(stream: TcpStream) -> io::Result<()> {
    stream.set_read_timeout(Some(TCP_TIMEOUT))?;
    stream.set_write_timeout(Some(TCP_TIMEOUT))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let mut line = Vec::new();
    loop {
        line.clear();
        (&mut reader)
            .take(MAX_REPLY_LINE)
            .read_until(b'\n', &mut line)?;
        if line.last() != Some(&b'\n') {
            return Ok(()); // end of stream, or a line too long
        }
        writer.write_all(&line)?;
    }
}

/// Connects with timeouts on every blocking call.
fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, TCP_TIMEOUT)?;
    stream.set_read_timeout(Some(TCP_TIMEOUT))?;
    stream.set_write_timeout(Some(TCP_TIMEOUT))?;
    Ok(stream)
}

// ANCHOR: header_then_body
/// `count` requests on one connection, each a 9-byte header and a 55-byte body ending
/// in `\n`, written in two writes (or in one), each followed by reading the echoed
/// line.
fn header_then_body(
    server: SocketAddr,
    count: u32,
    nodelay: bool,
    one_write: bool,
) -> io::Result<Vec<Duration>> {
    let mut stream = connect(server)?;
    // Fix 1: TCP_NODELAY turns Nagle's algorithm off; every write is sent at once.
    stream.set_nodelay(nodelay)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let body = [b"x".repeat(54), b"\n".to_vec()].concat();
    let mut rtts = Vec::new();
    let mut reply = Vec::new();
    for seq in 1..=count {
        let header = format!("{seq:>8}|").into_bytes();
        let started = Instant::now();
        if one_write {
            // Fix 2: build the whole request first and hand it to the OS in one
            // write.
            stream.write_all(&[&header[..], &body[..]].concat())?;
        } else {
            stream.write_all(&header)?; // sent at once: nothing is waiting for an ACK
            stream.write_all(&body)?; // held back by Nagle until the header is ACKed
        }
        reply.clear();
        (&mut reader).take(128).read_until(b'\n', &mut reply)?;
        rtts.push(started.elapsed());
        if reply.len() != header.len() + body.len() || !reply.starts_with(&header) {
            return Err(io::Error::other(format!("request {seq}: a wrong reply")));
        }
    }
    Ok(rtts)
}
// ANCHOR_END: header_then_body

// ANCHOR: thread_ping_pong
/// `count` round trips between two threads through channels, no socket: what it costs
/// to wake a blocked thread and be woken in turn.
fn thread_ping_pong(count: u32) -> Vec<Duration> {
    let (to_echo, requests) = mpsc::channel::<u32>();
    let (to_main, replies) = mpsc::channel::<u32>();
    let echo = thread::spawn(move || {
        for n in requests {
            if to_main.send(n).is_err() {
                break;
            }
        }
    });
    let mut rtts = Vec::new();
    for seq in 1..=count {
        let started = Instant::now();
        if to_echo.send(seq).is_err() || replies.recv() != Ok(seq) {
            break;
        }
        rtts.push(started.elapsed());
    }
    drop(to_echo); // the echo thread's loop ends when its channel closes
    let _ = echo.join();
    rtts
}
// ANCHOR_END: thread_ping_pong

/// Sends `total` bytes over one connection to a server that counts them, and returns
/// the rate in MiB/s, from the first write until the server confirms the count.
fn bulk(total: u64) -> io::Result<f64> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let addr = listener.local_addr()?;
    let sink = thread::spawn(move || -> io::Result<()> {
        let (mut stream, _) = listener.accept()?;
        stream.set_read_timeout(Some(TCP_TIMEOUT))?;
        let mut buf = vec![0u8; BULK_CHUNK];
        let mut received = 0u64;
        loop {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(len) => received += len as u64,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        stream.write_all(&received.to_be_bytes())
    });
    let mut stream = connect(addr)?;
    let chunk = vec![0x5a; BULK_CHUNK];
    let started = Instant::now();
    let mut sent = 0u64;
    while sent < total {
        let len = (total - sent).min(BULK_CHUNK as u64) as usize;
        stream.write_all(&chunk[..len])?;
        sent += len as u64;
    }
    // End of stream: the server reads end-of-file, answers with its count and closes.
    stream.shutdown(Shutdown::Write)?;
    let mut count = [0u8; 8];
    stream.read_exact(&mut count)?;
    let took = started.elapsed();
    sink.join()
        .map_err(|_| io::Error::other("the sink thread panicked"))??;
    if u64::from_be_bytes(count) != total {
        return Err(io::Error::other(
            "the server counted a different number of bytes",
        ));
    }
    Ok(total as f64 / (1 << 20) as f64 / took.as_secs_f64().max(1e-9))
}

/// UDP round trips through the lossy relay: how many are lost, and what the relay
/// dropped.
fn through_relay(udp: SocketAddr, trips: u32, loss: f64, seed: u64) -> Result<String, String> {
    let rates = Rates {
        loss,
        seed,
        ..Rates::default()
    };
    let mut config = RelayConfig::new(udp).rates(rates);
    config.record = false;
    let relay = Relay::start((Ipv4Addr::LOCALHOST, 0).into(), config)
        .map_err(|e| format!("cannot start the relay: {e}"))?;
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| e.to_string())?;
    let requests = trips;
    let trips = udp_round_trips(&socket, relay.addr(), requests, RELAY_TIMEOUT)
        .map_err(|e| format!("UDP through the relay: {e}"))?;
    let stats = relay.shutdown();
    Ok(format!(
        "{:<31} {requests:>7}  lost {} (dropped: {} requests, {} replies)",
        format!("UDP via relay, loss {loss}"),
        trips.lost.len(),
        stats.to_server.dropped,
        stats.to_client.dropped
    ))
}
