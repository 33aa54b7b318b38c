//! Chapter 3: `write` may write fewer bytes than it was given. Run it with
//! `cargo run --example ch03_short_write`.

use std::io::{self, Write};
use std::net::{TcpListener, TcpStream};

fn main() -> io::Result<()> {
    // ANCHOR: short_write
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let mut sender = TcpStream::connect(listener.local_addr()?)?;
    let (_receiver, _) = listener.accept()?; // connected, but never reads

    // Non-blocking, so that `write` returns what it could do instead of waiting for
    // room.
    sender.set_nonblocking(true)?;
    // 64 MiB: more than the socket buffers hold.
    let data = vec![b'x'; 64 * 1024 * 1024];
    match sender.write(&data) {
        Ok(written) => {
            println!("asked to write {} bytes, wrote {written}", data.len())
        }
        Err(e) => println!("write failed: {e}"),
    }
    // ANCHOR_END: short_write
    Ok(())
}
