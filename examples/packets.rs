//! Chapters 3 and 5: three short TCP exchanges on 127.0.0.1:4000, to watch with a
//! packet capture (`sudo tcpdump -i lo -n port 4000` in another terminal, or
//! Wireshark on the loopback interface). `scripts/capture.sh` runs each under tcpdump.
//!
//! - `close`: connect (the handshake), one line and its echo, then an orderly close:
//!   the client half-closes (FIN), the server reads end of file and closes (FIN).
//! - `reset`: the client sends a line that the server never reads; the server closes
//!   with it unread, so its OS sends a reset (RST) instead of a FIN.
//! - `nagle`: three requests, each written as a header and a body with Nagle on; from
//!   the second on, the body waits for the server's delayed ACK (chapter 5).
//!
//! Run: `cargo run --example packets` (all three), or `-- close`, `-- reset`,
//! `-- nagle`; `-- --port 4001 close` uses another port.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

fn main() -> io::Result<()> {
    let mut port = 4000;
    let mut scenes = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                port = args.next().and_then(|p| p.parse().ok()).unwrap_or(port)
            }
            "close" | "reset" | "nagle" => scenes.push(arg),
            other => {
                eprintln!(
                    "unknown argument {other:?}: use close, reset, nagle, --port N"
                );
                std::process::exit(2);
            }
        }
    }
    if scenes.is_empty() {
        scenes = ["close", "reset", "nagle"].map(String::from).to_vec();
    }
    for scene in scenes {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let server = match scene.as_str() {
            "close" => thread::spawn(move || echo_then_close(listener)),
            "reset" => thread::spawn(move || close_unread(listener)),
            _ => thread::spawn(move || echo_lines(listener)),
        };
        let client = TcpStream::connect(("127.0.0.1", port))?;
        client.set_read_timeout(Some(Duration::from_secs(5)))?;
        match scene.as_str() {
            "close" => orderly_close(client)?,
            "reset" => reset(client)?,
            _ => nagle(client)?,
        }
        server.join().expect("the server thread panicked")?;
    }
    Ok(())
}

// ANCHOR: close
/// The client: one line, read the echo, half-close, read the server's end of file.
fn orderly_close(mut client: TcpStream) -> io::Result<()> {
    client.write_all(b"Hello TCP\n")?;
    let mut echo = [0u8; 10];
    client.read_exact(&mut echo)?;
    client.shutdown(Shutdown::Write)?; // FIN: "I will send nothing more"
    let rest = client.read(&mut [0u8; 16])?; // 0: the server's FIN
    println!(
        "close: echo {:?}, then end of file ({rest} bytes)",
        ascii(&echo)
    );
    Ok(())
}

/// The server: echo until end of file, then drop the stream (its own FIN).
fn echo_then_close(listener: TcpListener) -> io::Result<()> {
    let (mut stream, _) = listener.accept()?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut buf = [0u8; 64];
    loop {
        let len = stream.read(&mut buf)?;
        if len == 0 {
            return Ok(()); // the stream is dropped here: FIN
        }
        stream.write_all(&buf[..len])?;
    }
}
// ANCHOR_END: close

// ANCHOR: reset
/// The client: a line the server never reads; its next read fails.
fn reset(mut client: TcpStream) -> io::Result<()> {
    client.write_all(b"Hello TCP\n")?;
    match client.read(&mut [0u8; 16]) {
        Ok(len) => println!("reset: read returned {len} bytes"),
        Err(e) => println!("reset: read failed: {:?}", e.kind()),
    }
    Ok(())
}

/// The server: waits until the line has arrived (`peek` leaves it unread), then closes.
fn close_unread(listener: TcpListener) -> io::Result<()> {
    let (stream, _) = listener.accept()?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.peek(&mut [0u8; 1])?;
    drop(stream); // unread data: the OS answers with RST, not FIN
    Ok(())
}
// ANCHOR_END: reset

/// The client: three requests of a header and a body, two writes each, Nagle on.
fn nagle(client: TcpStream) -> io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut client = client;
    let mut reply = Vec::new();
    for n in 1..=3 {
        let started = Instant::now();
        client.write_all(b"HEADER: ")?;
        client.write_all(b"body\n")?;
        reply.clear();
        (&mut reader).take(64).read_until(b'\n', &mut reply)?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        println!("nagle: round trip {n}: {ms:.3} ms");
    }
    Ok(())
}

/// The server for `nagle`: echoes whole lines; a partial line waits for the rest.
fn echo_lines(listener: TcpListener) -> io::Result<()> {
    let (mut stream, _) = listener.accept()?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut pending = Vec::new();
    let mut buf = [0u8; 256];
    loop {
        let len = stream.read(&mut buf)?;
        if len == 0 || pending.len() > 1024 {
            return Ok(());
        }
        pending.extend_from_slice(&buf[..len]);
        if let Some(end) = pending.iter().rposition(|&b| b == b'\n') {
            let lines: Vec<u8> = pending.drain(..=end).collect();
            stream.write_all(&lines)?;
        }
    }
}

fn ascii(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
