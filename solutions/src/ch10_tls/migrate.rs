//! Exercise 10.5 (go further): connection migration.
//!
//! Scenario: a phone leaves the Wi-Fi for the mobile network, and its address changes.
//! A TCP connection is named by its four numbers (two addresses, two ports), so it dies;
//! a QUIC connection is named by connection IDs inside its packets, so it can move to a
//! new address and go on. The server checks the new path first (PATH_CHALLENGE and
//! PATH_RESPONSE) so that nobody can redirect a connection to a victim's address.
//! Goal: [`migrate`] moves a client endpoint, and every connection on it, to a new UDP
//! socket. The test echoes before and after the move and asks the server which
//! address it sees: a new one, and the echo goes on.

use std::io;
use std::net::{SocketAddr, UdpSocket};

use quinn::Endpoint;

// ANCHOR: migrate
/// Moves `endpoint` and its connections to a new UDP socket on the same IP address
/// and a new ephemeral port. Returns the new local address. Call it inside a tokio
/// runtime.
pub fn migrate(endpoint: &Endpoint) -> io::Result<SocketAddr> {
    let old = endpoint.local_addr()?;
    // Port 0: the system picks a free port, so the address is surely new.
    let socket = UdpSocket::bind(SocketAddr::new(old.ip(), 0))?;
    // From now on every packet leaves from the new socket; the connections keep
    // their keys, streams and connection IDs.
    endpoint.rebind(socket)?;
    endpoint.local_addr()
}
// ANCHOR_END: migrate
