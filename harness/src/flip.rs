//! A TCP relay for one connection that flips one bit on the way, when told to: chapter 10
//! shows that TLS notices (lossy-relay is UDP only).
//!
//! The client connects to [`FlipRelay::addr`]; the relay connects to the server and copies
//! both directions. After [`FlipRelay::arm`], the next chunk from the server to the client
//! reaches the client with the lowest bit of its last byte flipped (inside the record's
//! encrypted payload or its authentication tag, never in the 5-byte record header, which
//! comes first). Each direction is copied on a thread of its own; the threads end when
//! either side closes.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;

use crate::net::{self, IO_TIMEOUT};

/// The relay (see the module's documentation).
pub struct FlipRelay {
    addr: SocketAddr,
    armed: Arc<AtomicBool>,
    flipped: Arc<AtomicU64>,
}

impl FlipRelay {
    /// Listens on `127.0.0.1:0` for one client and relays it to `server`.
    pub fn start(server: SocketAddr) -> FlipRelay {
        let listener = net::tcp_listener();
        let addr = listener.local_addr().expect("test setup: relay address");
        let armed = Arc::new(AtomicBool::new(false));
        let flipped = Arc::new(AtomicU64::new(0));
        let (armed_copy, flipped_copy) = (armed.clone(), flipped.clone());
        thread::spawn(move || {
            let Ok((client, _)) = net::accept_within(&listener, IO_TIMEOUT) else {
                return;
            };
            let Ok(upstream) = TcpStream::connect_timeout(&server, IO_TIMEOUT) else {
                return;
            };
            for s in [&client, &upstream] {
                let _ = s.set_read_timeout(Some(IO_TIMEOUT));
                let _ = s.set_write_timeout(Some(IO_TIMEOUT));
            }
            let (Ok(client2), Ok(upstream2)) = (client.try_clone(), upstream.try_clone()) else {
                return;
            };
            let no_flip = Arc::new(AtomicBool::new(false));
            let unused = Arc::new(AtomicU64::new(0));
            thread::spawn(move || copy(client2, upstream2, no_flip, unused));
            copy(upstream, client, armed_copy, flipped_copy);
        });
        FlipRelay {
            addr,
            armed,
            flipped,
        }
    }

    /// Where the client connects.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Flip a bit in the next chunk from the server.
    pub fn arm(&self) {
        self.armed.store(true, Ordering::SeqCst);
    }

    /// How many bits were flipped so far (0 or 1).
    pub fn flipped(&self) -> u64 {
        self.flipped.load(Ordering::SeqCst)
    }
}

/// Copies `from` to `to` until either closes; flips a bit in one chunk when `armed`.
fn copy(mut from: TcpStream, mut to: TcpStream, armed: Arc<AtomicBool>, flipped: Arc<AtomicU64>) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let len = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(len) => len,
        };
        if armed.swap(false, Ordering::SeqCst) {
            buf[len - 1] ^= 1;
            flipped.fetch_add(1, Ordering::SeqCst);
        }
        if to.write_all(&buf[..len]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
