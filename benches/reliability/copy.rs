//! The programs' figures (chapter 6, "Losses the receiver reports"): 16 MiB from
//! `reliable-send` through `lossy-relay` to `reliable-recv`, with the programs' defaults.
//! - the floor, measured in the same run: the lossless copy through the relay, divided by
//!   0.7 (at 30 % loss a DATA gets through with probability 0.7; a lost ACK is covered by
//!   the next one);
//! - the copy at 30 % loss each way with three seeds: its time, its ratio to the floor, and
//!   the retransmissions per message (the loss requires 0.3 / 0.7 = 0.43 on average);
//! - when the copy is complete on disk, next to a plain copy of the same file over TCP
//!   (`socat` when it is installed, else a plain `std::net` copy: the table says which).
//!
//! `cargo bench --features solutions --bench reliability -- copy` (the programs follow the
//! switch: without the feature they run your exercises).

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const BYTES: usize = 16 * 1024 * 1024;
const MESSAGES: usize = BYTES / 1024 + 1; // DATA and END
const SEEDS: [u64; 3] = [1, 2, 3];

/// A child process, killed on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `command` and reads the address from its first stderr line (`listening on ...`).
fn start(mut command: Command, stdout: Stdio) -> io::Result<(Running, SocketAddr)> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stderr = BufReader::new(child.stderr.take().expect("piped"));
    let mut first = String::new();
    stderr.read_line(&mut first)?;
    thread::spawn(move || io::copy(&mut stderr, &mut io::sink()));
    let addr = first
        .trim()
        .strip_prefix("listening on ")
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| io::Error::other(format!("said {first:?}")))?;
    Ok((Running(child), addr))
}

/// Waits until `path` holds `len` bytes; the time since `started`.
fn complete(path: &Path, len: usize, started: Instant) -> io::Result<Duration> {
    let deadline = started + Duration::from_secs(120);
    loop {
        if fs::metadata(path).map(|m| m.len() as usize).unwrap_or(0) >= len {
            return Ok(started.elapsed());
        }
        if Instant::now() > deadline {
            return Err(io::Error::other(format!(
                "{} never complete",
                path.display()
            )));
        }
        thread::sleep(Duration::from_micros(200));
    }
}

/// One copy through the relay: (sender done, file complete, retransmissions).
fn copy(input: &Path, dir: &Path, loss: f64, seed: u64) -> io::Result<(Duration, Duration, u64)> {
    let out = dir.join("copy.bin");
    let _ = fs::remove_file(&out);
    let mut recv = Command::new(course_harness::program!("reliable-recv"));
    recv.args(["--bind", "127.0.0.1:0"]);
    let (_receiver, recv_addr) = start(recv, Stdio::from(File::create(&out)?))?;
    let mut relay = Command::new(course_harness::program!("lossy-relay"));
    let (loss, seed) = (loss.to_string(), seed.to_string());
    let recv_addr = recv_addr.to_string();
    relay.args(["--bind", "127.0.0.1:0", "--server", &recv_addr]);
    relay.args(["--loss", &loss, "--seed", &seed]);
    let (_relay, relay_addr) = start(relay, Stdio::null())?;
    let started = Instant::now();
    let sender = Command::new(course_harness::program!("reliable-send"))
        .args(["--server", &relay_addr.to_string()])
        .stdin(File::open(input)?)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let sender = Running(sender);
    let done = complete(&out, BYTES, started)?;
    let mut sender = sender;
    let status = sender.0.wait()?;
    let sent = started.elapsed();
    let mut report = String::new();
    sender
        .0
        .stderr
        .take()
        .expect("piped")
        .read_to_string(&mut report)?;
    if !status.success() || fs::read(&out)? != fs::read(input)? {
        return Err(io::Error::other(format!("the copy failed: {report}")));
    }
    // "sent N bytes in M messages (END included), R retransmissions; ..."
    let retransmissions = report
        .split(" retransmissions")
        .next()
        .and_then(|head| head.rsplit(' ').next()?.parse().ok())
        .ok_or_else(|| io::Error::other(format!("no count in {report:?}")))?;
    Ok((sent, done, retransmissions))
}

/// The same file over TCP with `socat`, if it runs here, else with a plain std::net copy
/// (read 64 KiB, write to the file); (which, time until the file is complete).
fn plain_tcp_copy(input: &Path, dir: &Path) -> io::Result<(&'static str, Duration)> {
    let out = dir.join("plain.bin");
    let _ = fs::remove_file(&out);
    let socat = Command::new("socat")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if socat {
        // A free port for socat's listener (it cannot report one it chose itself).
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let _listener = Running(
            Command::new("socat")
                .args(["-u", &format!("TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr")])
                .arg(format!("CREATE:{}", out.display()))
                .spawn()?,
        );
        // socat prints no readiness line, and accepts one connection only (a probe would
        // use it up): give it time to listen, outside the measurement.
        thread::sleep(Duration::from_millis(300));
        let started = Instant::now();
        let _sender = Running(
            Command::new("socat")
                .args(["-u", &format!("FILE:{}", input.display())])
                .arg(format!("TCP:127.0.0.1:{port}"))
                .spawn()?,
        );
        let took = complete(&out, BYTES, started)?;
        return Ok(("socat", took));
    }
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let target = out.clone();
    let writer = thread::spawn(move || -> io::Result<()> {
        let (mut stream, _) = listener.accept()?;
        let mut file = File::create(target)?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let len = stream.read(&mut buf)?;
            if len == 0 {
                return Ok(());
            }
            file.write_all(&buf[..len])?;
        }
    });
    let data = fs::read(input)?;
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr)?;
    stream.write_all(&data)?;
    drop(stream);
    let took = complete(&out, BYTES, started)?;
    writer
        .join()
        .map_err(|_| io::Error::other("writer panicked"))??;
    Ok(("a plain std::net TCP copy", took))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

pub fn main() -> io::Result<()> {
    let dir = tempdir()?;
    let input = dir.join("input.bin");
    let data: Vec<u8> = (0..BYTES as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    fs::write(&input, &data)?;
    let load = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "\n16 MiB with reliable-send and reliable-recv (defaults: window 64, receiver window 64), \
         through lossy-relay; load average {}\n",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let lossless: Vec<Duration> = (0..3)
        .map(|_| copy(&input, &dir, 0.0, 1).map(|(sent, _, _)| sent))
        .collect::<io::Result<_>>()?;
    let lossless = median(lossless);
    let floor = lossless.div_f64(0.7);
    println!(
        "lossless through the relay: {:.3} s (median of 3); floor at 30 % loss = that / 0.7 = \
         {:.3} s\n",
        lossless.as_secs_f64(),
        floor.as_secs_f64()
    );
    println!(
        "| 30 % loss each way | copy time | ratio to the floor | retransmissions per message |"
    );
    println!("|---|---:|---:|---:|");
    let (mut total_time, mut total_retx) = (Duration::ZERO, 0u64);
    for seed in SEEDS {
        let (sent, _, retx) = copy(&input, &dir, 0.3, seed)?;
        total_time += sent;
        total_retx += retx;
        println!(
            "| seed {seed} | {:.2} s | {:.1}x | {:.3} |",
            sent.as_secs_f64(),
            sent.as_secs_f64() / floor.as_secs_f64(),
            retx as f64 / MESSAGES as f64
        );
    }
    let n = SEEDS.len() as f64;
    let mean = total_time.as_secs_f64() / n;
    println!(
        "| mean | {mean:.2} s | {:.1}x (goal: at most 3x) | {:.3} (minimum 0.429, goal: at most \
         0.471) |",
        mean / floor.as_secs_f64(),
        total_retx as f64 / n / MESSAGES as f64
    );

    println!("\nWhen is the copy complete on disk? (lossless, medians of 3)\n");
    let mut sent = Vec::new();
    let mut done = Vec::new();
    let mut plain = Vec::new();
    let mut which = "";
    for _ in 0..3 {
        let (s, d, _) = copy(&input, &dir, 0.0, 1)?;
        sent.push(s);
        done.push(d);
        let (w, p) = plain_tcp_copy(&input, &dir)?;
        which = w;
        plain.push(p);
    }
    println!("| copy | sender done | file complete on disk |");
    println!("|---|---:|---:|");
    println!(
        "| reliable-send -> lossy-relay -> reliable-recv | {:.3} s | {:.3} s |",
        median(sent).as_secs_f64(),
        median(done).as_secs_f64()
    );
    println!("| {which} | | {:.3} s |", median(plain).as_secs_f64());
    let _ = fs::remove_dir_all(&dir);
    Ok(())
}

/// A fresh folder under the system's temporary folder.
fn tempdir() -> io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("reliability-copy-{}", std::process::id()));
    fs::create_dir_all(&dir)?;
    Ok(dir)
}
