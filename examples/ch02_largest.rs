//! Chapter 2: the largest UDP payload, over IPv4 and over IPv6. Sends the largest
//! datagram each family allows, then one byte more, on loopback, and prints what
//! happened. Run it with `cargo run --example ch02_largest`.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, UdpSocket};
use std::time::Duration;

use socket2::SockRef;

fn main() -> io::Result<()> {
    // ANCHOR: largest
    // IPv4: the 16-bit total length counts the 20-byte IP header too.
    // IPv6: the 16-bit payload length does not count the 40-byte IPv6 header.
    let families = [
        (IpAddr::V4(Ipv4Addr::LOCALHOST), 65_535 - 20 - 8),
        (IpAddr::V6(Ipv6Addr::LOCALHOST), 65_535 - 8),
    ];
    // ANCHOR_END: largest
    for (ip, largest) in families {
        let Ok(receiver) = UdpSocket::bind((ip, 0)) else {
            println!("{ip}: not on this machine");
            continue;
        };
        let sender = UdpSocket::bind((ip, 0))?;
        // Room for the largest datagram (macOS sends at most its send buffer's size).
        SockRef::from(&sender).set_send_buffer_size(4 * 65_536)?;
        SockRef::from(&receiver).set_recv_buffer_size(4 * 65_536)?;
        receiver.set_read_timeout(Some(Duration::from_secs(2)))?;
        for size in [largest, largest + 1] {
            let outcome =
                match sender.send_to(&vec![b'x'; size], receiver.local_addr()?) {
                    Ok(_) => match receiver.recv(&mut vec![0u8; 65_536])? {
                        got if got == size => "sent and received whole".to_string(),
                        got => format!("sent, but {got} bytes arrived"),
                    },
                    Err(e) => e.to_string(),
                };
            println!("{ip}, {size} bytes: {outcome}");
        }
    }
    Ok(())
}
