//! Is the teaching code as fast as the plainest code? Echo and request/reply, in one run:
//! the reference next to a plain std::net loop that does the same work (same buffer size,
//! same reply, one stdout line per message into the same kind of pipe).
//! Run it with `cargo bench --features solutions --bench echo` (about a minute); without the
//! feature, the program columns measure your exercises.
//!
//! Every server runs as its own process, its stdout read by a thread of this one:
//! - `plain`: this file's `plain_udp` / `plain_tcp`, the loops a beginner writes first (the
//!   TCP one with a 64 KiB buffer: `-- buffers` compares buffer sizes);
//! - `library`: the reference `answer_one` (chapter 2) and `serve` (chapter 3), each in a
//!   plain loop (this program started again in server mode);
//! - `program`: the `udp-server` and `tcp-server` programs. They follow the switch:
//!   with `--features solutions` they run the reference, otherwise your exercises.
//!
//! Figures are medians of 15 runs, interleaved, so that a busy moment hurts all columns alike.

use std::cell::RefCell;
use std::env;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const ROUNDS: usize = 15;
const PING_PONGS: u32 = 1_500;
const IN_FLIGHT: u32 = 32;
const FLIGHT_MESSAGES: u32 = 5_000;
const BULK_BYTES: usize = 8 * 1024 * 1024;
const MESSAGE: &[u8] = b"ping 0123456789 abcdefghijklmnopqrstuvwxyz";

// ---- the servers (child processes) ----

/// The plainest UDP request/reply server: article A's loop, without the sleep.
fn plain_udp(socket: UdpSocket) -> io::Result<()> {
    let mut buf = [0u8; 65_536];
    loop {
        let (len, from) = socket.recv_from(&mut buf)?;
        println!("from {from}: {}", String::from_utf8_lossy(&buf[..len]));
        socket.send_to(b"Success to receive message", from)?;
    }
}

/// The plainest TCP echo server: one client at a time, each chunk counted and sent back,
/// read into a buffer of `size` bytes.
fn plain_tcp(listener: TcpListener, size: usize) -> io::Result<()> {
    loop {
        let (mut stream, peer) = listener.accept()?;
        let mut buf = vec![0u8; size];
        loop {
            let len = stream.read(&mut buf)?;
            if len == 0 {
                break;
            }
            println!("from {peer}: {len} bytes");
            stream.write_all(&buf[..len])?;
        }
    }
}

/// The reference library functions in the loop a program would run them in.
fn library_udp(socket: UdpSocket) -> io::Result<()> {
    use solutions::ch02_udp::answer_one;
    use solutions::show::Preview;
    loop {
        let datagram = answer_one(&socket, 65_507).map_err(io::Error::other)?;
        let (from, len) = (datagram.from, datagram.data.len());
        println!("from {from} ({len} bytes): {}", Preview(&datagram.data));
    }
}

fn library_tcp(listener: TcpListener) -> io::Result<()> {
    // The idle timeout tcp-server uses by default.
    solutions::ch03_tcp::serve(&listener, b"", solutions::ch03_tcp::Pace::default())
}

fn serve(kind: &str) -> io::Result<()> {
    if kind.ends_with("udp") {
        let socket = UdpSocket::bind("127.0.0.1:0")?;
        eprintln!("listening on {}", socket.local_addr()?);
        match kind {
            "plain-udp" => plain_udp(socket),
            _ => library_udp(socket),
        }
    } else {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        eprintln!("listening on {}", listener.local_addr()?);
        // "plain-tcp-4096": the plain loop with a 4,096-byte buffer.
        match kind.strip_prefix("plain-tcp-").and_then(|n| n.parse().ok()) {
            Some(size) => plain_tcp(listener, size),
            None => library_tcp(listener),
        }
    }
}

/// A server process; killed on drop. Its stdout is read (and counted) by a thread.
struct Server {
    child: Child,
    addr: SocketAddr,
    /// Why it stopped being measured, if it failed (an unfinished exercise, say).
    failure: RefCell<Option<String>>,
}

impl Server {
    fn start(mut command: Command) -> io::Result<Server> {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().expect("piped");
        thread::spawn(move || io::copy(&mut BufReader::new(stdout), &mut io::sink()));
        let mut stderr = BufReader::new(child.stderr.take().expect("piped"));
        let mut first = String::new();
        stderr.read_line(&mut first)?;
        thread::spawn(move || io::copy(&mut stderr, &mut io::sink()));
        let addr = first
            .trim()
            .strip_prefix("listening on ")
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| io::Error::other(format!("server said {first:?}")))?;
        Ok(Server {
            child,
            addr,
            failure: RefCell::new(None),
        })
    }
}

impl Server {
    /// CPU time the server's main thread has used so far (Linux: /proc/PID/schedstat, in
    /// nanoseconds); `None` elsewhere.
    fn cpu(&self) -> Option<Duration> {
        let text = std::fs::read_to_string(format!("/proc/{}/schedstat", self.child.id())).ok()?;
        let ns = text.split_whitespace().next()?.parse().ok()?;
        Some(Duration::from_nanos(ns))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---- the workloads (this process) ----

fn udp_client(server: SocketAddr) -> io::Result<UdpSocket> {
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    socket.connect(server)?;
    socket.set_read_timeout(Some(Duration::from_millis(500)))?;
    Ok(socket)
}

/// Request/reply, one at a time: round trips per second.
fn udp_ping_pong(server: SocketAddr) -> io::Result<(f64, f64)> {
    let socket = udp_client(server)?;
    let mut buf = [0u8; 256];
    let start = Instant::now();
    for _ in 0..PING_PONGS {
        socket.send(MESSAGE)?;
        socket.recv(&mut buf)?;
    }
    let n = f64::from(PING_PONGS);
    Ok((n / start.elapsed().as_secs_f64(), n))
}

/// `IN_FLIGHT` requests outstanding: replies per second. A lost datagram (the server's
/// receive buffer overflowed) shows as a timeout; the window is then refilled.
fn udp_in_flight(server: SocketAddr) -> io::Result<(f64, f64)> {
    let socket = udp_client(server)?;
    socket.set_read_timeout(Some(Duration::from_millis(50)))?;
    let mut buf = [0u8; 256];
    let (mut sent, mut answered, mut outstanding) = (0u32, 0u32, 0u32);
    let start = Instant::now();
    while answered < FLIGHT_MESSAGES {
        while outstanding < IN_FLIGHT && sent < FLIGHT_MESSAGES + IN_FLIGHT {
            socket.send(MESSAGE)?;
            sent += 1;
            outstanding += 1;
        }
        match socket.recv(&mut buf) {
            Ok(_) => {
                answered += 1;
                outstanding -= 1;
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                outstanding = 0; // lost: send a fresh window
                sent = sent.min(answered);
            }
            Err(e) => return Err(e),
        }
    }
    let n = f64::from(answered);
    Ok((n / start.elapsed().as_secs_f64(), n))
}

fn tcp_ping_pong(server: SocketAddr) -> io::Result<(f64, f64)> {
    let mut stream = TcpStream::connect(server)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut buf = vec![0u8; MESSAGE.len()];
    let start = Instant::now();
    for _ in 0..PING_PONGS {
        stream.write_all(MESSAGE)?;
        stream.read_exact(&mut buf)?;
    }
    let n = f64::from(PING_PONGS);
    Ok((n / start.elapsed().as_secs_f64(), n))
}

/// Sends `data` on one thread, reads the echo on this one: MiB per second.
fn tcp_bulk(server: SocketAddr, data: &'static [u8]) -> io::Result<(f64, f64)> {
    let stream = TcpStream::connect(server)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut writer = stream.try_clone()?;
    let start = Instant::now();
    let sending = thread::spawn(move || -> io::Result<()> {
        writer.write_all(data)?;
        writer.shutdown(Shutdown::Write)
    });
    let mut reader = stream;
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = 0;
    while got < data.len() {
        let len = reader.read(&mut buf)?;
        if len == 0 {
            break;
        }
        got += len;
    }
    let took = start.elapsed();
    sending
        .join()
        .map_err(|_| io::Error::other("sender panicked"))??;
    if got != data.len() {
        return Err(io::Error::other(format!(
            "echoed {got} of {} bytes",
            data.len()
        )));
    }
    let mib = data.len() as f64 / (1024.0 * 1024.0);
    Ok((mib / took.as_secs_f64(), mib))
}

// ---- the table ----

fn least(v: Vec<f64>) -> f64 {
    v.into_iter().fold(f64::NAN, f64::min)
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

struct Row {
    name: &'static str,
    unit: &'static str,
    cpu_unit: &'static str,
    /// Returns (units per second, units of work done).
    run: Box<dyn Fn(SocketAddr) -> io::Result<(f64, f64)>>,
}

fn main() -> io::Result<()> {
    let args: Vec<String> = env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--serve") {
        return serve(&args[i + 1]);
    }
    let me = env::current_exe()?;
    let text: &'static [u8] = (0..)
        .flat_map(|i: u32| {
            format!("line {i}: the quick brown fox jumps over the lazy dog\n").into_bytes()
        })
        .take(BULK_BYTES)
        .collect::<Vec<u8>>()
        .leak();
    let binary: &'static [u8] = (0..BULK_BYTES as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect::<Vec<u8>>()
        .leak();

    let cpus = thread::available_parallelism().map_or(0, usize::from);
    println!(
        "machine: {} {}, {cpus} CPUs; programs built from: {}",
        env::consts::OS,
        env::consts::ARCH,
        socket_course::SIDE
    );
    println!("medians of {ROUNDS} interleaved runs; ratio = reference / plain\n");

    let myself = |kind: &str| {
        let mut c = Command::new(&me);
        c.args(["--serve", kind]);
        c
    };
    let program = |path: std::path::PathBuf| {
        let mut c = Command::new(path);
        c.args(["--bind", "127.0.0.1:0"]);
        c
    };
    if args.iter().any(|a| a == "buffers") {
        return buffers(&myself, &program, binary);
    }
    let mut udp_server = program(course_harness::program!("udp-server"));
    udp_server.args(["--max-size", "65507"]);
    let udp = [
        Server::start(myself("plain-udp"))?,
        Server::start(myself("library-udp"))?,
        Server::start(udp_server)?,
    ];
    let tcp = [
        Server::start(myself("plain-tcp-65536"))?,
        Server::start(myself("library-tcp"))?,
        Server::start(program(course_harness::program!("tcp-server")))?,
    ];
    let rows = [
        (
            &udp,
            Row {
                name: "UDP ping-pong",
                unit: "round trips/s",
                cpu_unit: "µs / round trip",
                run: Box::new(udp_ping_pong),
            },
        ),
        (
            &udp,
            Row {
                name: "UDP 32 in flight",
                unit: "replies/s",
                cpu_unit: "µs / reply",
                run: Box::new(udp_in_flight),
            },
        ),
        (
            &tcp,
            Row {
                name: "TCP ping-pong",
                unit: "round trips/s",
                cpu_unit: "µs / round trip",
                run: Box::new(tcp_ping_pong),
            },
        ),
        (
            &tcp,
            Row {
                name: "TCP bulk text (8 MiB)",
                unit: "MiB/s",
                cpu_unit: "µs / MiB",
                run: Box::new(move |a| tcp_bulk(a, text)),
            },
        ),
        (
            &tcp,
            Row {
                name: "TCP bulk binary (8 MiB)",
                unit: "MiB/s",
                cpu_unit: "µs / MiB",
                run: Box::new(move |a| tcp_bulk(a, binary)),
            },
        ),
    ];
    let mut cpu_table = Vec::new();
    println!("Speed (higher is better):\n");
    println!("| workload | unit | plain loop | library | ratio | program | ratio |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    let only = env::var("ECHO_BENCH_ONLY").unwrap_or_default();
    for (servers, row) in rows.into_iter().filter(|(_, r)| r.name.contains(&*only)) {
        let mut speed = [Vec::new(), Vec::new(), Vec::new()];
        let mut cpu = [Vec::new(), Vec::new(), Vec::new()];
        for round in 0..ROUNDS {
            // Each round starts with another column: none always runs first.
            for i in (0..3).map(|k| (k + round) % 3) {
                let server = &servers[i];
                if server.failure.borrow().is_some() {
                    continue;
                }
                let before = server.cpu();
                let (per_second, work) = match (row.run)(server.addr) {
                    Ok(figures) => figures,
                    // The programs follow the switch: unfinished exercises do not answer.
                    Err(e) => {
                        *server.failure.borrow_mut() = Some(format!("{}: {e}", row.name));
                        continue;
                    }
                };
                speed[i].push(per_second);
                if let (Some(before), Some(after)) = (before, server.cpu()) {
                    cpu[i].push((after - before).as_secs_f64() * 1e6 / work);
                }
            }
        }
        if env::var_os("ECHO_BENCH_ALL").is_some() {
            eprintln!("{}: {speed:.0?} {cpu:.2?}", row.name);
        }
        let [plain, library, program] = speed.map(median);
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            row.name,
            row.unit,
            shown(plain, 0),
            shown(library, 0),
            shown(library / plain, 2),
            shown(program, 0),
            shown(program / plain, 2)
        );
        if cpu.iter().any(|c| !c.is_empty()) {
            // Interference only ever adds CPU time (cold caches, another task's interrupts),
            // so the least disturbed run is the best estimate of what the code costs.
            let [plain, library, program] = cpu.map(least);
            cpu_table.push(format!(
                "| {} | {} | {} | {} | {} | {} | {} |",
                row.name,
                row.cpu_unit,
                shown(plain, 2),
                shown(library, 2),
                shown(plain / library, 2),
                shown(program, 2),
                shown(plain / program, 2)
            ));
        }
    }
    if !cpu_table.is_empty() {
        // Throughput swings with whatever else the machine runs; the server's own CPU time
        // per unit of work does not, so it shows the cost of the code itself.
        println!(
            "\nServer CPU time per unit of work, least of {ROUNDS} runs (lower is better; ratio = plain / reference):\n"
        );
        println!("| workload | per | plain loop | library | ratio | program | ratio |");
        println!("|---|---|---:|---:|---:|---:|---:|");
        for line in cpu_table {
            println!("{line}");
        }
    }
    let columns = ["plain loop", "library", "program"];
    let mut program_failed = false;
    for (i, server) in udp.iter().chain(&tcp).enumerate() {
        if let Some(failure) = server.failure.borrow().as_ref() {
            println!("\n{}: n/a after an error ({failure})", columns[i % 3]);
            program_failed |= i % 3 == 2;
        }
    }
    if program_failed && socket_course::SIDE == "exercises" {
        println!(
            "The programs run your exercises: finish chapters 2 and 3 to measure them, or see \
             the reference with `cargo bench --features solutions --bench echo`."
        );
    }
    Ok(())
}

/// A figure, or `n/a` where a column could not be measured.
fn shown(value: f64, decimals: usize) -> String {
    if value.is_finite() {
        format!("{value:.decimals$}")
    } else {
        "n/a".into()
    }
}

/// `-- buffers`: TCP bulk binary through the plain loop with buffers of 4, 16 and 64 KiB,
/// next to the reference (`serve`, 64 KiB) and the `tcp-server` program, interleaved.
fn buffers(
    myself: &dyn Fn(&str) -> Command,
    program: &dyn Fn(std::path::PathBuf) -> Command,
    binary: &'static [u8],
) -> io::Result<()> {
    let servers = [
        (
            "plain loop, 4 KiB buffer",
            Server::start(myself("plain-tcp-4096"))?,
        ),
        (
            "plain loop, 16 KiB buffer",
            Server::start(myself("plain-tcp-16384"))?,
        ),
        (
            "plain loop, 64 KiB buffer",
            Server::start(myself("plain-tcp-65536"))?,
        ),
        ("library (`serve`)", Server::start(myself("library-tcp"))?),
        (
            "program (`tcp-server`)",
            Server::start(program(course_harness::program!("tcp-server")))?,
        ),
    ];
    let mut speed: Vec<Vec<f64>> = vec![Vec::new(); servers.len()];
    let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); servers.len()];
    for round in 0..ROUNDS {
        for i in (0..servers.len()).map(|k| (k + round) % servers.len()) {
            let server = &servers[i].1;
            let before = server.cpu();
            let (per_second, work) = tcp_bulk(server.addr, binary)?;
            speed[i].push(per_second);
            if let (Some(before), Some(after)) = (before, server.cpu()) {
                cpu[i].push((after - before).as_secs_f64() * 1e6 / work);
            }
        }
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "TCP bulk binary (8 MiB), medians of {ROUNDS} interleaved runs; load average {}\n",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!("| server | MiB/s | / plain 64 KiB | server CPU µs / MiB (least) |");
    println!("|---|---:|---:|---:|");
    let anchor = median(speed[2].clone());
    for (i, (name, _)) in servers.iter().enumerate() {
        let mib = median(speed[i].clone());
        println!(
            "| {name} | {} | {} | {} |",
            shown(mib, 0),
            shown(mib / anchor, 2),
            shown(least(cpu[i].clone()), 0)
        );
    }
    Ok(())
}
