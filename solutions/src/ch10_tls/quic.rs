//! Exercise 10.4: a QUIC echo server, many streams on one connection.
//!
//! Scenario: chapter 6 built retransmission, ordering and a window over UDP by hand.
//! QUIC does all of that (and TLS 1.3 inside its handshake) over UDP, and adds what
//! TCP lacks: many independent streams on one connection, so a lost packet holds up
//! only the stream it belonged to. Goal: [`echo_stream`] echoes one stream until the
//! client finishes it, and [`echo_connection`] serves every stream the client opens,
//! all at once, until the client closes the connection. The tests open several
//! streams at once and check each echo, also through a relay that loses one datagram
//! in ten.
//!
//! Given: [`server_endpoint`] and [`client_endpoint`], the endpoints with their
//! certificates (chapter 10's TLS, inside QUIC).

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use quinn::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use quinn::{Connection, ConnectionError, Endpoint, RecvStream, SendStream};
use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::task::JoinSet;

/// An `io::Error` of kind `InvalidData` that carries `error`.
fn invalid(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, error)
}

/// The application protocol (ALPN) both ends name in the handshake: QUIC requires one
/// (RFC 9001), so a client of another protocol is refused at once.
pub const ALPN: &[u8] = b"course-echo";

/// Given: a QUIC server endpoint bound to `addr`, presenting the certificate chain
/// `cert_pem` with its key `key_pem`. Call it inside a tokio runtime.
pub fn server_endpoint(
    addr: SocketAddr,
    cert_pem: &[u8],
    key_pem: &[u8],
) -> io::Result<Endpoint> {
    let certs = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(invalid)?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(invalid)?;
    let mut tls = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(invalid)?;
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let quic = QuicServerConfig::try_from(tls).map_err(invalid)?;
    Endpoint::server(quinn::ServerConfig::with_crypto(Arc::new(quic)), addr)
}

/// Given: a QUIC client endpoint on an ephemeral loopback port of `server`'s address
/// family, trusting only the CA certificates in `ca_pem`. Call it inside a tokio runtime.
pub fn client_endpoint(server: SocketAddr, ca_pem: &[u8]) -> io::Result<Endpoint> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem) {
        roots.add(cert.map_err(invalid)?).map_err(invalid)?;
    }
    let mut tls = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let quic = QuicClientConfig::try_from(tls).map_err(invalid)?;
    let bind: SocketAddr = if server.is_ipv6() {
        (Ipv6Addr::LOCALHOST, 0).into()
    } else {
        (Ipv4Addr::LOCALHOST, 0).into()
    };
    let mut endpoint = Endpoint::client(bind)?;
    endpoint.set_default_client_config(quinn::ClientConfig::new(Arc::new(quic)));
    Ok(endpoint)
}

// ANCHOR: echo_stream
/// Echoes one bidirectional stream: everything read from `recv` is written to `send`,
/// until the client finishes its side; then finishes ours. Returns the bytes echoed.
pub async fn echo_stream(
    mut send: SendStream,
    mut recv: RecvStream,
) -> io::Result<u64> {
    // A bounded buffer, however much the client sends: QUIC's flow control makes the
    // client wait while we are behind.
    let echoed = tokio::io::copy(&mut recv, &mut send).await?;
    send.finish()?;
    Ok(echoed)
}
// ANCHOR_END: echo_stream

// ANCHOR: echo_connection
/// Serves every bidirectional stream the client opens on `conn`, each on a task of
/// its own (so that one slow stream holds up no other), until the client closes the
/// connection. Returns how many streams were echoed completely.
pub async fn echo_connection(conn: Connection) -> io::Result<u64> {
    let mut streams = JoinSet::new();
    loop {
        match conn.accept_bi().await {
            Ok((send, recv)) => {
                streams.spawn(echo_stream(send, recv));
            }
            // The client said goodbye: no more streams will come.
            Err(ConnectionError::ApplicationClosed(_)) => break,
            Err(e) => return Err(e.into()),
        }
    }
    let mut echoed = 0;
    while let Some(done) = streams.join_next().await {
        if matches!(done, Ok(Ok(_))) {
            echoed += 1;
        }
    }
    Ok(echoed)
}
// ANCHOR_END: echo_connection
