//! `--key-file` for reliable-send and reliable-recv: every datagram of chapter 6's protocol
//! sealed with exercise 7.5's tag.
//!
//! The protocol code (chapter 6) knows nothing of keys, so the sealing sits beside it, as a
//! relay inside the program: the protocol talks to a private loopback socket pair, and two
//! threads carry each datagram between that pair and the program's real socket, sealing what
//! goes out and opening what comes in. A datagram that does not open (forged, altered, from
//! someone without the key) never reaches the protocol: it is dropped and counted. The inner
//! sockets are connected to each other, so the kernel drops anything else sent to them.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use socket_course::ch07_security::{SealKey, open_datagram, seal_datagram};

/// The protocol's side of the sealing relay.
pub struct Sealed {
    /// The socket the protocol uses.
    pub socket: UdpSocket,
    /// The address the protocol sends to and hears from (the relay's inner end).
    pub peer: SocketAddr,
    /// What the relay dropped.
    pub refused: Arc<Refused>,
}

/// The datagrams the relay dropped, counted apart: a wrong key and a wrong address are two
/// different stories.
#[derive(Debug, Default)]
pub struct Refused {
    /// Datagrams that did not open with the key.
    pub unopened: AtomicU64,
    /// Datagrams that opened but came from another address than the peer's.
    pub strangers: AtomicU64,
}

impl Refused {
    /// Says on stderr what was dropped, if anything (a program calls it when it ends).
    pub fn report(&self) {
        let unopened = self.unopened.load(Ordering::Relaxed);
        if unopened > 0 {
            eprintln!("refused {unopened} datagrams that did not open with the key");
        }
        let strangers = self.strangers.load(Ordering::Relaxed);
        if strangers > 0 {
            eprintln!("ignored {strangers} sealed datagrams from another address than the peer's");
        }
    }
}

/// Starts the relay on `outer`, the program's socket. `remote`: the only address to hear
/// from and send to; `None` (a receiver without `--from`): the first address whose
/// datagram opens.
pub fn start(outer: UdpSocket, remote: Option<SocketAddr>, key: SealKey) -> io::Result<Sealed> {
    let local = outer.local_addr()?;
    let any = SocketAddr::new(local.ip(), 0);
    let (protocol, inner) = (UdpSocket::bind(any)?, UdpSocket::bind(any)?);
    protocol.connect(inner.local_addr()?)?;
    inner.connect(protocol.local_addr()?)?;
    let peer = inner.local_addr()?;
    let remote = Arc::new(Mutex::new(remote));
    let fixed = remote.lock().map(|r| r.is_some()).unwrap_or(false);
    let refused = Arc::new(Refused::default());

    // Out: what the protocol sends, sealed, to the remote end (once it is known).
    let (from_protocol, to_network, to) =
        (inner.try_clone()?, outer.try_clone()?, Arc::clone(&remote));
    let out_key = key.clone();
    thread::spawn(move || {
        let mut buf = vec![0u8; 65_536];
        while let Ok(len) = from_protocol.recv(&mut buf) {
            let target = to.lock().ok().and_then(|r| *r);
            if let Some(target) = target {
                let _ = to_network.send_to(&seal_datagram(&out_key, &buf[..len]), target);
            }
        }
    });

    // In: what the network sends, opened, to the protocol; anything else is counted.
    let (to_protocol, count) = (inner, Arc::clone(&refused));
    thread::spawn(move || {
        let mut buf = vec![0u8; 65_536];
        loop {
            let (len, from) = match outer.recv_from(&mut buf) {
                Ok(got) => got,
                Err(e) if cli_transient(&e) => continue,
                Err(_) => return,
            };
            let Some(datagram) = open_datagram(&key, &buf[..len]) else {
                count.unopened.fetch_add(1, Ordering::Relaxed);
                continue;
            };
            let Ok(mut known) = remote.lock() else { return };
            match *known {
                Some(addr) if addr != from => {
                    count.strangers.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                Some(_) => {}
                None if !fixed => *known = Some(from),
                None => continue,
            }
            drop(known);
            let _ = to_protocol.send(datagram);
        }
    });
    Ok(Sealed {
        socket: protocol,
        peer,
        refused,
    })
}

/// Errors that concern one datagram or one peer, not the socket.
fn cli_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
            | io::ErrorKind::TimedOut
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
    )
}
