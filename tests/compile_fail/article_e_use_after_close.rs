// What Python's `with` cannot stop: using the socket after the block closed it. In Rust,
// closing is dropping, and a dropped value cannot be used. This file must NOT compile;
// tests/book_appendix.rs checks that rustc stops with E0382.
use std::net::UdpSocket;

fn main() -> std::io::Result<()> {
    let s = UdpSocket::bind(("127.0.0.1", 50007))?;
    drop(s); // what the end of a `with` block does
    let mut buf = [0u8; 1024];
    let (len, addr) = s.recv_from(&mut buf)?;
    println!("{:?} from {addr}", String::from_utf8_lossy(&buf[..len]));
    Ok(())
}
