//! Exercise 10.2: a TLS server that echoes.
//!
//! Scenario: chapter 3's echo server, behind TLS. The server proves who it is with a
//! certificate and the private key that goes with it; both arrive as PEM text (files,
//! in the `tls-server` program; made by rcgen at test time, in the tests). Goal:
//! [`server_config`] loads them into a rustls `ServerConfig` (bad PEM is an
//! `InvalidData` error, not a panic), and [`echo_tls`] runs the handshake on one
//! accepted connection and echoes every byte until the client closes. The tests check
//! an echo to a test client that trusts the test CA, a megabyte that comes back
//! whole, that the server says goodbye properly (close_notify), and that bad PEM is
//! refused.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// An `io::Error` of kind `InvalidData` that carries `error`.
fn invalid(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, error)
}

// ANCHOR: server_config
/// A server configuration from a certificate chain and its private key, both PEM
/// text. Missing or malformed PEM, or a key that does not match the certificate, is
/// an error of kind `InvalidData`.
pub fn server_config(
    cert_pem: &[u8],
    key_pem: &[u8],
) -> io::Result<Arc<ServerConfig>> {
    let certs = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(invalid)?;
    if certs.is_empty() {
        return Err(invalid("no certificate in the PEM text"));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(invalid)?;
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(invalid)?;
    Ok(Arc::new(config))
}
// ANCHOR_END: server_config

// ANCHOR: echo_tls
/// Runs the TLS handshake on `tcp` (an accepted connection, timeouts already set) and
/// echoes every byte the client sends, until the client closes its side with a TLS
/// close_notify; then says goodbye the same way. Returns how many bytes were echoed.
pub fn echo_tls(tcp: TcpStream, config: Arc<ServerConfig>) -> io::Result<u64> {
    let conn = ServerConnection::new(config).map_err(invalid)?;
    let mut tls = StreamOwned::new(conn, tcp);
    let mut buf = [0u8; 16 * 1024];
    let mut total = 0;
    loop {
        // The first read runs the handshake. Ok(0) means the client sent
        // close_notify; a TCP end without it is an error (UnexpectedEof): someone may
        // have cut the connection to truncate what we received.
        let len = match tls.read(&mut buf) {
            Ok(0) => break,
            Ok(len) => len,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        tls.write_all(&buf[..len])?;
        total += len as u64;
    }
    tls.conn.send_close_notify();
    tls.flush()?;
    Ok(total)
}
// ANCHOR_END: echo_tls
