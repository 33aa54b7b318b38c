//! Exercise 10.1: a TLS client.
//!
//! Scenario: chapter 3's client sent its bytes in the clear to whatever answered at
//! an address. A TLS client first makes sure it is talking to the server it meant:
//! the server shows a certificate, signed by a certificate authority (CA) the client
//! trusts, for the name the client asked for. Goal: [`connect`] opens a TCP
//! connection, runs the TLS 1.3 handshake over it with a root store that holds only
//! the course's test CA, and returns a stream that encrypts what you write and
//! decrypts what you read. The tests check an echo through a test server, that the
//! handshake is done when `connect` returns, that the server's name is checked, and
//! that a server that never answers costs at most the timeout.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

/// A TLS connection over TCP, as the client sees it: `Read` and `Write` like the
/// `TcpStream` inside, in plaintext on this side, encrypted on the wire.
pub type TlsStream = StreamOwned<ClientConnection, TcpStream>;

/// An `io::Error` of kind `InvalidData` that carries `error` (`refusals` reads it
/// back).
fn invalid(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, error)
}

// ANCHOR: connect
/// Connects to `addr` and completes a TLS handshake, trusting only the CA
/// certificates in `ca_pem` (PEM text) and requiring a certificate for `server_name`.
/// `timeout` bounds the connect and every read and write, the handshake's included.
pub fn connect(
    addr: SocketAddr,
    server_name: &str,
    ca_pem: &[u8],
    timeout: Duration,
) -> io::Result<TlsStream> {
    // TODO: put every certificate of `ca_pem` in a RootCertStore
    // (CertificateDer::pem_slice_iter, then roots.add), build a ClientConfig with it,
    // and a ClientConnection for ServerName::try_from(server_name). Connect with a
    // timeout, set read and write timeouts, wrap both in a StreamOwned, and call
    // tls.conn.complete_io(&mut tls.sock) while tls.conn.is_handshaking().
    todo!()
}
// ANCHOR_END: connect
