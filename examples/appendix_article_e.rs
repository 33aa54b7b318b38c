//! Appendix: article E's UDP server with its two mistakes fixed, the way the compiler
//! makes you fix them. The article's client runs in the same program, so the example
//! stops by itself: `cargo run --example appendix_article_e`.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

/// The article's client: one greeting to the server.
fn send_greeting(server: SocketAddr) -> io::Result<()> {
    let client = UdpSocket::bind("127.0.0.1:0")?;
    client.send_to(b"Hello This is UDP connection.", server)?;
    Ok(())
}

fn main() -> io::Result<()> {
    // ANCHOR: fixed
    let host = "127.0.0.1";
    let port = 0; // the article uses 50007; 0 lets the OS choose a free port
    {
        // One argument: the (host, port) tuple. bind returns a Result; `?` passes an
        // error on to the caller.
        let s = UdpSocket::bind((host, port))?;
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        send_greeting(s.local_addr()?)?;
        let mut buf = [0u8; 1024];
        // The socket has one name, `s`, and the compiler checks every use of it.
        let (len, addr) = s.recv_from(&mut buf)?;
        let text = String::from_utf8_lossy(&buf[..len]);
        println!("received {text:?} from {}", addr.ip());
    } // `s` goes out of scope here: Drop closes the socket, like the end of `with`.
    // ANCHOR_END: fixed
    Ok(())
}
