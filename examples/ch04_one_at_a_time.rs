//! Chapter 4: a server that serves one client at a time makes everyone wait for a
//! client that says nothing. Run it with `cargo run --example ch04_one_at_a_time`.
//!
//! The server is chapter 3's loop (accept, echo until the client leaves, accept the
//! next), with a 1-second idle timeout: a client that sends nothing for 1 s is
//! closed.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

const IDLE: Duration = Duration::from_secs(1);

// ANCHOR: server
/// Chapter 3's design: one client at a time, closed after IDLE without a byte.
fn one_at_a_time(listener: TcpListener) -> io::Result<()> {
    loop {
        let (mut stream, _) = listener.accept()?;
        stream.set_read_timeout(Some(IDLE))?;
        let mut buf = [0u8; 4096];
        // Echo until the client closes, fails, or stays quiet for IDLE.
        while let Ok(len @ 1..) = stream.read(&mut buf) {
            stream.write_all(&buf[..len])?;
        }
    }
}
// ANCHOR_END: server

fn main() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    thread::spawn(move || one_at_a_time(listener));

    // ANCHOR: clients
    let started = Instant::now();
    let _quiet = TcpStream::connect(addr)?; // connects, then says nothing
    let mut talker = TcpStream::connect(addr)?; // connects too: the OS queues it
    talker.write_all(b"hello")?;
    println!(
        "{:>5.2} s  second client sent \"hello\"",
        started.elapsed().as_secs_f64()
    );
    let mut reply = [0u8; 5];
    talker.read_exact(&mut reply)?;
    println!(
        "{:>5.2} s  second client got \"{}\" back",
        started.elapsed().as_secs_f64(),
        String::from_utf8_lossy(&reply)
    );
    // ANCHOR_END: clients
    Ok(())
}
