//! Chapter 3: `listen(1)` is a short queue, not "one client". A listener with a
//! backlog of 1 never calls `accept`; three clients connect one after another, each
//! given 1 s. Run it with `cargo run --example ch03_backlog`.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use socket2::{Domain, Socket, Type};

fn main() -> io::Result<()> {
    // ANCHOR: backlog
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    listener.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
    listener.listen(1)?; // article D's listen(1); nobody ever calls accept
    let addr = listener.local_addr()?.as_socket().expect("an IP address");
    let mut clients = Vec::new();
    for n in 1..=3 {
        let started = Instant::now();
        match TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
            Ok(stream) => {
                println!("client {n}: connected in {:.3} ms", ms(started));
                clients.push(stream); // keep it open: it stays in the queue
            }
            Err(e) => {
                println!("client {n}: {} after {:.0} ms", e.kind(), ms(started))
            }
        }
    }
    // ANCHOR_END: backlog
    println!("load average: {}", load_average());
    Ok(())
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// The 1-minute load average (Linux), so that a figure says how busy the machine was.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown (no /proc/loadavg)".to_string())
}
