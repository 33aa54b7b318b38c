// Article E's first mistake, copied into Rust: bind with a host and a port as two
// arguments. This file must NOT compile; tests/book_appendix.rs checks that rustc
// stops with E0061.
use std::net::UdpSocket;

fn main() -> std::io::Result<()> {
    let host = "127.0.0.1";
    let port = 50007;
    let socket = UdpSocket::bind(host, port)?;
    let mut buf = [0u8; 1024];
    let (len, addr) = socket.recv_from(&mut buf)?;
    println!("{:?} from {addr}", String::from_utf8_lossy(&buf[..len]));
    Ok(())
}
