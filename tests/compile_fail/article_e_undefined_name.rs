// Article E's second mistake, copied into Rust: receive on `conn`, a name that was
// never defined (in a TCP server it would be the connection that `accept` returned).
// This file must NOT compile; tests/book_appendix.rs checks that rustc stops with
// E0425.
use std::net::UdpSocket;

fn main() -> std::io::Result<()> {
    let host = "127.0.0.1";
    let port = 50007;
    let s = UdpSocket::bind((host, port))?;
    let mut buf = [0u8; 1024];
    let (len, addr) = conn.recv_from(&mut buf)?;
    println!("{:?} from {addr}", String::from_utf8_lossy(&buf[..len]));
    Ok(())
}
