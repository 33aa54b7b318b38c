//! Chapter 3: restarting a server. The side that closes a connection first keeps it in
//! TIME_WAIT; a plain `bind` of that port then fails, and `SO_REUSEADDR` lets it
//! through. Also: does the option let two servers listen on one port? Run it with
//! `cargo run --example ch03_time_wait`.

use std::io::{self, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};

use socket2::{Domain, Socket, Type};

fn main() -> io::Result<()> {
    // ANCHOR: restart
    for reuse in [false, true] {
        // A server that closes a connection first, then stops, and starts again at once.
        let port = close_first_then_stop(reuse)?;
        match listener(port, reuse) {
            Ok(_) => println!("restart with SO_REUSEADDR {}: bound", on(reuse)),
            Err(e) => println!("restart with SO_REUSEADDR {}: {e}", on(reuse)),
        }
    }
    // ANCHOR_END: restart
    let port = close_first_then_stop(true)?;
    match TcpListener::bind(("127.0.0.1", port)) {
        Ok(_) => println!("restart with std's TcpListener::bind: bound"),
        Err(e) => println!("restart with std's TcpListener::bind: {e}"),
    }

    // Two listeners on one port, one on 127.0.0.1 and one on the wildcard address, both
    // with SO_REUSEADDR. The second is only bound, never listening: if the bind works
    // (macOS, the BSDs), it is dropped at once.
    let specific = listener(0, true)?;
    let port = specific.local_addr()?.port();
    let wildcard = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    wildcard.set_reuse_address(true)?;
    match wildcard.bind(&SocketAddr::from(([0, 0, 0, 0], port)).into()) {
        Ok(()) => {
            println!("0.0.0.0:{port} next to a listening 127.0.0.1:{port}: bound")
        }
        Err(e) => {
            println!("0.0.0.0:{port} next to a listening 127.0.0.1:{port}: {e}")
        }
    }
    Ok(())
}

/// Starts a server on a free port, with or without SO_REUSEADDR, lets it accept one
/// client and close that connection first (its side goes to TIME_WAIT), then stops it.
/// Returns the port.
fn close_first_then_stop(reuse: bool) -> io::Result<u16> {
    let server = listener(0, reuse)?;
    let port = server.local_addr()?.port();
    let mut client = TcpStream::connect(("127.0.0.1", port))?;
    let (server_side, _) = server.accept()?;
    drop(server_side); // the server closes first: FIN
    let _ = client.read(&mut [0u8; 1])?; // end of file: the server's FIN arrived
    drop(client); // the client's FIN: the server's side is now in TIME_WAIT
    drop(server); // the server stops
    Ok(port)
}

/// A listener on 127.0.0.1:`port`, with or without SO_REUSEADDR (std's
/// `TcpListener::bind` always sets it on Unix, so this builds the socket itself).
fn listener(port: u16, reuse: bool) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.set_reuse_address(reuse)?;
    socket.bind(&SocketAddr::from(([127, 0, 0, 1], port)).into())?;
    socket.listen(128)?;
    Ok(socket.into())
}

fn on(reuse: bool) -> &'static str {
    if reuse { "on " } else { "off" }
}
