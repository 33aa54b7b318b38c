//! Chapter 2: `recv_from` into a buffer that is too small cuts the datagram, and the
//! rest is gone. Run it with `cargo run --example ch02_truncation`.

use std::io;
use std::net::UdpSocket;
use std::time::Duration;

fn main() -> io::Result<()> {
    // ANCHOR: truncation
    let receiver = UdpSocket::bind("127.0.0.1:0")?;
    let sender = UdpSocket::bind("127.0.0.1:0")?;
    let message = b"this datagram is 35 bytes long, see";
    sender.send_to(message, receiver.local_addr()?)?;

    let mut small = [0u8; 16]; // like Python's recvfrom(16)
    match receiver.recv_from(&mut small) {
        Ok((len, from)) => {
            println!(
                "sent {} bytes, received {len} from {from}: {:?}",
                message.len(),
                String::from_utf8_lossy(&small[..len])
            );
        }
        // Windows reports the cut as an error (WSAEMSGSIZE); the first 16 bytes are
        // still in `small`.
        Err(e) => println!("recv_from failed: {e}"),
    }

    // The other 19 bytes did not stay behind for a second recv_from: they were thrown
    // away.
    receiver.set_read_timeout(Some(Duration::from_millis(200)))?;
    match receiver.recv_from(&mut small) {
        Ok((len, _)) => println!("a second datagram of {len} bytes?"),
        Err(_) => println!("nothing more arrived: the rest of the datagram is lost"),
    }
    // ANCHOR_END: truncation
    Ok(())
}
