//! Chapter 3: TCP keeps no message boundaries. Two writes can arrive in one read.
//! Run it with `cargo run --example ch03_stream`.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};

fn main() -> io::Result<()> {
    // ANCHOR: stream
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let mut client = TcpStream::connect(listener.local_addr()?)?;
    let (mut server, _) = listener.accept()?;

    client.write_all(b"first message\n")?; // two writes...
    client.write_all(b"second message\n")?;
    client.shutdown(std::net::Shutdown::Write)?;

    let mut buf = [0u8; 1024];
    loop {
        let len = server.read(&mut buf)?; // ...and how many reads?
        if len == 0 {
            break;
        }
        println!(
            "one read returned {len} bytes: {:?}",
            String::from_utf8_lossy(&buf[..len])
        );
    }
    // ANCHOR_END: stream
    Ok(())
}
