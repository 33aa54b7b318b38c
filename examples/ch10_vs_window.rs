//! Chapter 10: QUIC's own loss recovery against chapter 6's window, through the same
//! `lossy-relay --loss 0.1` with the same seeds. Run it with
//! `cargo run --release --features ch10 --example ch10_vs_window` (slow: the first run
//! builds the reference programs).
//!
//! 4 MiB each time:
//! - with chapter 6's reference programs, `reliable-send` through `lossy-relay` to
//!   `reliable-recv` (their defaults: window 64), until the file is complete;
//! - with QUIC (quinn): one stream through the same relay to a server in this process,
//!   until the server has read all of it and said so.
//!
//! The relay loses one datagram in ten each way. Retransmissions: what `reliable-send`
//! reports; for QUIC the packets its loss detection declared lost, by the client plus
//! by the server (their frames were sent again in new packets).

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use socket_course::ch10_tls::certs::{TestCa, Validity};
use socket_course::ch10_tls::quic::{client_endpoint, server_endpoint};
use socket_course::ch10_tls::tokio;

const BYTES: usize = 4 << 20;
const LOSS: &str = "0.1";
const SEEDS: [u64; 3] = [1, 2, 3];
const TIMEOUT: Duration = Duration::from_secs(120);

/// A child process, killed on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A reference program (built with `--features solutions`, whatever this example was
/// built with).
fn program(name: &str) -> PathBuf {
    course_harness::program::path(name, env!("CARGO_MANIFEST_DIR"), true)
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

/// `lossy-relay` in front of `server`, losing the fraction `loss` each way.
fn relay(
    server: SocketAddr,
    loss: &str,
    seed: u64,
) -> io::Result<(Running, SocketAddr)> {
    let mut relay = Command::new(program("lossy-relay"));
    let (server, seed) = (server.to_string(), seed.to_string());
    relay.args(["--bind", "127.0.0.1:0", "--server", &server]);
    relay.args(["--loss", loss, "--seed", &seed]);
    start(relay, Stdio::null())
}

/// Chapter 6: `reliable-send` -> `lossy-relay` -> `reliable-recv`; (time until the file
/// is complete, retransmissions).
fn window_copy(
    input: &Path,
    dir: &Path,
    loss: &str,
    seed: u64,
) -> io::Result<(Duration, u64)> {
    let out = dir.join("copy.bin");
    let _ = fs::remove_file(&out);
    let mut recv = Command::new(program("reliable-recv"));
    recv.args(["--bind", "127.0.0.1:0"]);
    let (_receiver, recv_addr) = start(recv, Stdio::from(File::create(&out)?))?;
    let (_relay, relay_addr) = relay(recv_addr, loss, seed)?;
    let started = Instant::now();
    let mut sender = Running(
        Command::new(program("reliable-send"))
            .args(["--server", &relay_addr.to_string()])
            .stdin(File::open(input)?)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?,
    );
    loop {
        if fs::metadata(&out).map(|m| m.len() as usize).unwrap_or(0) >= BYTES {
            break;
        }
        if started.elapsed() > TIMEOUT {
            return Err(io::Error::other("the copy was never complete"));
        }
        thread::sleep(Duration::from_micros(200));
    }
    let took = started.elapsed();
    let status = sender.0.wait()?;
    let mut report = String::new();
    let mut stderr = sender.0.stderr.take().expect("piped");
    stderr.read_to_string(&mut report)?;
    if !status.success() || fs::read(&out)? != fs::read(input)? {
        return Err(io::Error::other(format!("the copy failed: {report}")));
    }
    // "sent N bytes in M messages (END included), R retransmissions; ..."
    let retransmissions = report
        .split(" retransmissions")
        .next()
        .and_then(|head| head.rsplit(' ').next()?.parse().ok())
        .ok_or_else(|| io::Error::other(format!("no count in {report:?}")))?;
    Ok((took, retransmissions))
}

/// QUIC: one stream of `data` through `lossy-relay` to a server in this process, which
/// answers with the byte count when the stream ends; (time, packets declared lost by
/// the client, by the server).
fn quic_copy(
    data: &[u8],
    loss: &str,
    seed: u64,
) -> io::Result<(Duration, u64, Option<u64>)> {
    let ca = TestCa::new("socket-course test CA").map_err(io::Error::other)?;
    let issued = ca
        .issue(&["localhost"], Validity::Current)
        .map_err(io::Error::other)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let server = server_endpoint(
            "127.0.0.1:0".parse().unwrap(),
            issued.cert_pem.as_bytes(),
            issued.key_pem.as_bytes(),
        )?;
        let (_relay, relay_addr) = relay(server.local_addr()?, loss, seed)?;
        let serving = tokio::spawn(async move {
            let conn = server
                .accept()
                .await
                .ok_or(io::Error::other("closed"))?
                .await?;
            let (mut send, mut recv) = conn.accept_bi().await?;
            let got = recv.read_to_end(BYTES).await.map_err(io::Error::other)?;
            send.write_all(&(got.len() as u64).to_be_bytes()).await?;
            send.finish()?;
            // Until the client has acknowledged the answer.
            let _ = tokio::time::timeout(TIMEOUT, send.stopped()).await;
            Ok::<_, io::Error>(conn.stats().path.lost_packets)
        });
        let client = client_endpoint(relay_addr, ca.cert_pem().as_bytes())?;
        let work = async {
            let started = Instant::now();
            let conn = client
                .connect(relay_addr, "localhost")
                .map_err(io::Error::other)?
                .await?;
            let (mut send, mut recv) = conn.open_bi().await?;
            send.write_all(data).await?;
            send.finish()?;
            let answer = recv.read_to_end(8).await.map_err(io::Error::other)?;
            let took = started.elapsed();
            if answer != (data.len() as u64).to_be_bytes() {
                return Err(io::Error::other("the server did not get everything"));
            }
            let lost = conn.stats().path.lost_packets;
            conn.close(0u32.into(), b"done");
            Ok((took, lost))
        };
        let (took, client_lost) = tokio::time::timeout(TIMEOUT, work)
            .await
            .map_err(|_| io::Error::other("QUIC timed out"))??;
        let server_lost = tokio::time::timeout(Duration::from_secs(5), serving)
            .await
            .ok()
            .and_then(|joined| joined.ok()?.ok());
        let _ =
            tokio::time::timeout(Duration::from_secs(2), client.wait_idle()).await;
        Ok((took, client_lost, server_lost))
    })
}

fn main() -> io::Result<()> {
    let dir =
        std::env::temp_dir().join(format!("ch10-vs-window-{}", std::process::id()));
    fs::create_dir_all(&dir)?;
    let input = dir.join("input.bin");
    let data: Vec<u8> = (0..BYTES as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    fs::write(&input, &data)?;
    // Build the reference programs before anything is timed.
    for name in ["reliable-send", "reliable-recv", "lossy-relay"] {
        program(name);
    }
    let load = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    println!(
        "4 MiB through lossy-relay --loss {LOSS} (each way); load average {load}\n"
    );
    // ANCHOR: table
    println!(
        "| loss, seed | protocol | time | MiB/s | vs window | retransmissions |"
    );
    println!("|---|---|---:|---:|---:|---|");
    let mib = BYTES as f64 / (1 << 20) as f64;
    // First without loss, then one datagram in ten lost, with three seeds.
    let runs = [("0", 1)].into_iter().chain(SEEDS.map(|seed| (LOSS, seed)));
    for (loss, seed) in runs {
        let (window, retx) = window_copy(&input, &dir, loss, seed)?;
        let (quic, client_lost, server_lost) = quic_copy(&data, loss, seed)?;
        let (w, q) = (window.as_secs_f64(), quic.as_secs_f64());
        let run = format!("{loss}, {seed}");
        println!(
            "| {run} | chapter 6's window | {w:.2} s | {:.1} | 1.00x | \
             {retx} messages |",
            mib / w
        );
        println!(
            "| {run} | QUIC (quinn) | {q:.2} s | {:.1} | {:.2}x | {} packets lost |",
            mib / q,
            q / w,
            match server_lost {
                Some(server) =>
                    format!("{}: {client_lost} + {server}", client_lost + server),
                None => format!("{client_lost} by the client"),
            }
        );
    }
    // ANCHOR_END: table
    let _ = fs::remove_dir_all(&dir);
    Ok(())
}
