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
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem) {
        roots.add(cert.map_err(invalid)?).map_err(invalid)?;
    }
    let config = ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    // The name the certificate must carry; it also travels in the ClientHello (SNI).
    let name = ServerName::try_from(server_name.to_string()).map_err(invalid)?;
    let conn = ClientConnection::new(Arc::new(config), name).map_err(invalid)?;
    let tcp = TcpStream::connect_timeout(&addr, timeout)?;
    tcp.set_read_timeout(Some(timeout))?;
    tcp.set_write_timeout(Some(timeout))?;
    let mut tls = StreamOwned::new(conn, tcp);
    // Drive the handshake to its end now: a wrong certificate fails here, before the
    // caller has written a byte.
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    Ok(tls)
}
// ANCHOR_END: connect
