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
    // TODO: read every certificate of `cert_pem` (CertificateDer::pem_slice_iter, an
    // empty list is an error too) and the key of `key_pem`
    // (PrivateKeyDer::from_pem_slice); then
    // ServerConfig::builder().with_no_client_auth().with_single_cert(certs, key).
    // Turn every error into io::ErrorKind::InvalidData (the helper `invalid` does).
    todo!()
}
// ANCHOR_END: server_config

// ANCHOR: echo_tls
/// Runs the TLS handshake on `tcp` (an accepted connection, timeouts already set) and
/// echoes every byte the client sends, until the client closes its side with a TLS
/// close_notify; then says goodbye the same way. Returns how many bytes were echoed.
pub fn echo_tls(tcp: TcpStream, config: Arc<ServerConfig>) -> io::Result<u64> {
    // TODO: wrap a ServerConnection and `tcp` in a StreamOwned; read and write_all
    // back until read returns Ok(0) (the client's close_notify); then
    // tls.conn.send_close_notify() and flush.
    todo!()
}
// ANCHOR_END: echo_tls
