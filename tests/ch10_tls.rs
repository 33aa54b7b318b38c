//! Chapter 10: TLS over TCP and QUIC over UDP. Grade this chapter with
//! `cargo test --features ch10 --test ch10_tls`; every test calls your code in
//! `exercises/src/ch10_tls/`. The certificates are made at test time by a test CA
//! (`certs`, given); the other side of each exchange is the test's own rustls or quinn.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use course_catalog::fill;
use course_harness::flip::FlipRelay;
use course_harness::net::Family::{self, V4, V6};
use course_harness::net::{self, IO_TIMEOUT, accept_within};
use course_harness::show::{OrFail, expect_bytes};
use course_harness::{call_learner, call_learner_within, start_learner};
use socket_course::ch10_tls::certs::{Issued, TestCa, Validity};
use socket_course::ch10_tls::rustls::pki_types::pem::PemObject;
use socket_course::ch10_tls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use socket_course::ch10_tls::rustls::{
    self, ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection,
    StreamOwned,
};
use socket_course::ch10_tls::{Refusal, tokio};

/// rustls's and std's names for errors, shown as code in the failure messages.
const NOT_VALID_FOR_NAME: &str = "NotValidForName";
const UNKNOWN_ISSUER: &str = "UnknownIssuer";
const INVALID_DATA: &str = "InvalidData";

/// A CA and a server certificate it issued for `names`.
fn pki(names: &[&str], validity: Validity) -> (TestCa, Issued) {
    let ca = TestCa::new("socket-course test CA").expect("test setup: could not make a CA");
    let issued = ca
        .issue(names, validity)
        .expect("test setup: could not issue a certificate");
    (ca, issued)
}

/// The test's own server configuration (not the learner's `server_config`).
fn test_server_config(issued: &Issued) -> Arc<ServerConfig> {
    let certs = CertificateDer::pem_slice_iter(issued.cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .expect("test setup: certificate PEM");
    let key =
        PrivateKeyDer::from_pem_slice(issued.key_pem.as_bytes()).expect("test setup: key PEM");
    Arc::new(
        ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .expect("test setup: server config"),
    )
}

/// The test's own TLS echo server for one connection, on a thread. Returns its address
/// and, when it ends, the error that ended it (if any).
fn test_echo_server(config: Arc<ServerConfig>) -> (SocketAddr, thread::JoinHandle<io::Result<()>>) {
    test_echo_server_on(net::tcp_listener(), config)
}

/// [`test_echo_server`] on a listener of the test's choosing (IPv6, say).
fn test_echo_server_on(
    listener: std::net::TcpListener,
    config: Arc<ServerConfig>,
) -> (SocketAddr, thread::JoinHandle<io::Result<()>>) {
    let addr = listener.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let (tcp, _) = accept_within(&listener, IO_TIMEOUT)?;
        tcp.set_read_timeout(Some(IO_TIMEOUT))?;
        tcp.set_write_timeout(Some(IO_TIMEOUT))?;
        let mut tls = StreamOwned::new(ServerConnection::new(config).unwrap(), tcp);
        let mut buf = [0u8; 16 * 1024];
        loop {
            let len = tls.read(&mut buf)?;
            if len == 0 {
                tls.conn.send_close_notify();
                tls.flush()?;
                return Ok(());
            }
            tls.write_all(&buf[..len])?;
        }
    });
    (addr, handle)
}

/// The test's own TLS client: connects to `addr` and completes the handshake, trusting
/// `ca_pem` and asking for `name`.
fn test_client(
    addr: SocketAddr,
    name: &str,
    ca_pem: &str,
) -> io::Result<StreamOwned<ClientConnection, TcpStream>> {
    let tcp = net::connect(addr)?;
    test_client_on(tcp, name, ca_pem)
}

fn test_client_on(
    tcp: TcpStream,
    name: &str,
    ca_pem: &str,
) -> io::Result<StreamOwned<ClientConnection, TcpStream>> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from(name.to_string()).unwrap();
    let conn = ClientConnection::new(Arc::new(config), name).unwrap();
    tcp.set_read_timeout(Some(IO_TIMEOUT))?;
    tcp.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut tls = StreamOwned::new(conn, tcp);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    Ok(tls)
}

/// The rustls error inside an `io::Error`, shown for a failure message.
fn tls_error(error: &io::Error) -> String {
    match error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    {
        Some(tls) => format!("{tls:?}"),
        None => format!("{error:?}"),
    }
}

/// Exercise 10.1: `connect`.
mod tls_client {
    use super::*;
    use socket_course::ch10_tls::connect;

    /// Your `connect` to a test echo server on `family` whose certificate names `names`,
    /// by the server name `name` (the server's address itself when `None`): the handshake
    /// is complete, and `message` comes back.
    fn echo_through(family: Family, names: &[&str], name: Option<&str>, message: &[u8]) {
        let (ca, issued) = pki(names, Validity::Current);
        let listener = net::tcp_listener_on(family);
        let (addr, server) = test_echo_server_on(listener, test_server_config(&issued));
        let name = name.map_or_else(|| addr.ip().to_string(), str::to_string);
        let call = format!("connect({name})");
        let ca_pem = ca.cert_pem();
        let mut tls = call_learner(move || connect(addr, &name, ca_pem.as_bytes(), IO_TIMEOUT))
            .or_fail("test.returned_error", &[("call", &call)]);
        assert!(
            !tls.conn.is_handshaking(),
            "{}",
            fill("ch10.handshake_not_done", &[])
        );
        tls.write_all(message).unwrap();
        let mut got = vec![0u8; message.len()];
        tls.read_exact(&mut got).or_fail("ch10.no_echo", &[]);
        expect_bytes(&fill("what.echo", &[]), message, &got, None);
        tls.conn.send_close_notify();
        let _ = tls.flush();
        server.join().unwrap().or_fail("ch10.server_failed", &[]);
    }

    #[test]
    fn echoes_through_a_test_server_after_a_complete_handshake() {
        echo_through(V4, &["localhost"], Some("localhost"), b"hello over TLS");
    }

    #[test]
    fn an_ip_address_is_a_server_name_too() {
        let (ca, issued) = pki(&["127.0.0.1"], Validity::Current);
        let (addr, _server) = test_echo_server(test_server_config(&issued));
        let ca_pem = ca.cert_pem();
        let result =
            call_learner(move || connect(addr, "127.0.0.1", ca_pem.as_bytes(), IO_TIMEOUT));
        result.or_fail("test.returned_error", &[("call", &"connect(127.0.0.1)")]);
    }

    /// The IPv6 case of exercise 10.1.
    #[test]
    fn works_over_ipv6_with_the_address_as_its_name() {
        if !V6.usable() {
            return;
        }
        echo_through(V6, &["::1", "127.0.0.1"], None, b"over IPv6");
    }

    #[test]
    fn a_certificate_for_another_name_is_refused() {
        let (ca, issued) = pki(&["localhost"], Validity::Current);
        let (addr, _server) = test_echo_server(test_server_config(&issued));
        let ca_pem = ca.cert_pem();
        let result =
            call_learner(move || connect(addr, "example.com", ca_pem.as_bytes(), IO_TIMEOUT));
        match result {
            Err(e) => assert!(
                tls_error(&e).contains(NOT_VALID_FOR_NAME),
                "{}",
                fill(
                    "ch10.wrong_error",
                    &[("expected", &NOT_VALID_FOR_NAME), ("got", &tls_error(&e))]
                )
            ),
            Ok(_) => panic!("{}", fill("ch10.accepted", &[("case", &"example.com")])),
        }
    }

    #[test]
    fn only_the_given_ca_is_trusted() {
        let (_ca, issued) = pki(&["localhost"], Validity::Current);
        let other = TestCa::new("another CA").expect("test setup: could not make a CA");
        let (addr, _server) = test_echo_server(test_server_config(&issued));
        let other_pem = other.cert_pem();
        let result =
            call_learner(move || connect(addr, "localhost", other_pem.as_bytes(), IO_TIMEOUT));
        match result {
            Err(e) => assert!(
                tls_error(&e).contains(UNKNOWN_ISSUER),
                "{}",
                fill(
                    "ch10.wrong_error",
                    &[("expected", &UNKNOWN_ISSUER), ("got", &tls_error(&e))]
                )
            ),
            Ok(_) => panic!("{}", fill("ch10.accepted", &[("case", &UNKNOWN_ISSUER)])),
        }
    }

    #[test]
    fn a_silent_server_costs_at_most_the_timeout() {
        let (ca, _issued) = pki(&["localhost"], Validity::Current);
        // Never accepted, never answered: the connection waits in the listen backlog and
        // the handshake must give up after the timeout.
        let listener = net::tcp_listener();
        let addr = listener.local_addr().unwrap();
        let ca_pem = ca.cert_pem();
        let started = Instant::now();
        let result = call_learner_within(Duration::from_secs(3), move || {
            connect(
                addr,
                "localhost",
                ca_pem.as_bytes(),
                Duration::from_millis(300),
            )
        });
        assert!(
            result.is_err(),
            "{}",
            fill("ch10.accepted", &[("case", &"silent")])
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{}",
            fill(
                "ch10.too_slow",
                &[("took", &format!("{:?}", started.elapsed()))]
            )
        );
    }
}

/// Exercise 10.2: `server_config` and `echo_tls`.
mod tls_server {
    use super::*;
    use socket_course::ch10_tls::{echo_tls, server_config};

    /// Starts the learner's server on one accepted connection; returns the test's TCP end.
    fn start(issued: &Issued) -> (TcpStream, course_harness::Running<io::Result<u64>>) {
        start_on(issued, V4)
    }

    /// [`start`] over a connection on the loopback address of `family`.
    fn start_on(
        issued: &Issued,
        family: Family,
    ) -> (TcpStream, course_harness::Running<io::Result<u64>>) {
        let listener = net::tcp_listener_on(family);
        let test_end = net::connect(listener.local_addr().unwrap()).unwrap();
        let (your_end, _) = accept_within(&listener, IO_TIMEOUT).unwrap();
        your_end.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        your_end.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        let (cert, key) = (issued.cert_pem.clone(), issued.key_pem.clone());
        let running = start_learner(move || {
            let config = server_config(cert.as_bytes(), key.as_bytes())?;
            echo_tls(your_end, config)
        });
        (test_end, running)
    }

    /// A client that trusts the test CA sends `message` over a connection of `family`,
    /// reads its echo, and says goodbye: the server answers the close_notify with its own
    /// (a clean end reads as Ok(0)), and `echo_tls` returns the bytes it echoed.
    fn echo_and_goodbye(family: Family, message: &[u8]) {
        let (ca, issued) = pki(&["localhost"], Validity::Current);
        let (tcp, mut running) = start_on(&issued, family);
        let mut tls = match test_client_on(tcp, "localhost", &ca.cert_pem()) {
            Ok(tls) => tls,
            Err(e) => {
                running.check();
                panic!(
                    "{}",
                    fill("ch10.handshake_failed", &[("error", &tls_error(&e))])
                );
            }
        };
        tls.write_all(message).unwrap();
        let mut got = vec![0u8; message.len()];
        if tls.read_exact(&mut got).is_err() {
            running.check();
        }
        expect_bytes(&fill("what.echo", &[]), message, &got, None);
        tls.conn.send_close_notify();
        tls.flush().unwrap();
        let mut rest = Vec::new();
        let end = tls.read_to_end(&mut rest);
        assert!(
            end.is_ok(),
            "{}",
            fill("ch10.no_close_notify", &[("error", &format!("{end:?}"))])
        );
        let echoed = running
            .finish()
            .or_fail("test.returned_error", &[("call", &"echo_tls")]);
        assert_eq!(
            echoed,
            message.len() as u64,
            "{}",
            fill("test.returned", &[("call", &"echo_tls"), ("got", &echoed)])
        );
    }

    #[test]
    fn echoes_to_a_client_that_trusts_the_test_ca_and_says_goodbye() {
        echo_and_goodbye(V4, b"ping over TLS");
    }

    #[test]
    fn echoes_over_a_v6_connection() {
        if !V6.usable() {
            return;
        }
        echo_and_goodbye(V6, b"ping over IPv6");
    }

    #[test]
    fn a_megabyte_comes_back_whole() {
        let (ca, issued) = pki(&["localhost"], Validity::Current);
        let (tcp, mut running) = start(&issued);
        let mut tls = match test_client_on(tcp, "localhost", &ca.cert_pem()) {
            Ok(tls) => tls,
            Err(e) => {
                running.check();
                panic!(
                    "{}",
                    fill("ch10.handshake_failed", &[("error", &tls_error(&e))])
                );
            }
        };
        let data: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
        let mut got = Vec::with_capacity(data.len());
        // 64 KiB at a time, read back before the next: neither side's buffers fill up.
        for chunk in data.chunks(64 * 1024) {
            tls.write_all(chunk).unwrap();
            let mut back = vec![0u8; chunk.len()];
            if tls.read_exact(&mut back).is_err() {
                running.check();
                panic!("{}", fill("ch10.no_echo", &[]));
            }
            got.extend_from_slice(&back);
        }
        assert!(got == data, "{}", fill("ch10.megabyte_differs", &[]));
        tls.conn.send_close_notify();
        tls.flush().unwrap();
        let echoed = running
            .finish()
            .or_fail("test.returned_error", &[("call", &"echo_tls")]);
        assert_eq!(
            echoed,
            1 << 20,
            "{}",
            fill("test.returned", &[("call", &"echo_tls"), ("got", &echoed)])
        );
    }

    #[test]
    fn bad_pem_is_invalid_data_not_a_panic() {
        let (_ca, issued) = pki(&["localhost"], Validity::Current);
        let cases: [(&str, Vec<u8>, Vec<u8>); 3] = [
            (
                "no certificate",
                b"not PEM at all".to_vec(),
                issued.key_pem.clone().into_bytes(),
            ),
            ("no key", issued.cert_pem.clone().into_bytes(), b"".to_vec()),
            (
                "key and certificate swapped",
                issued.key_pem.clone().into_bytes(),
                issued.cert_pem.clone().into_bytes(),
            ),
        ];
        for (case, cert, key) in cases {
            let result = call_learner(move || server_config(&cert, &key).map(|_| ()));
            match result {
                Err(e) => assert_eq!(
                    e.kind(),
                    io::ErrorKind::InvalidData,
                    "{}",
                    fill(
                        "ch10.wrong_error",
                        &[("expected", &INVALID_DATA), ("got", &e)]
                    )
                ),
                Ok(()) => panic!("{}", fill("ch10.accepted", &[("case", &case)])),
            }
        }
    }
}

/// Exercise 10.3: `refusal`.
mod refused {
    use super::*;
    use socket_course::ch10_tls::refusal;

    /// Connects the test's client to a server presenting `issued`, trusting `trusted`, asking
    /// for `name`: the handshake's error.
    fn handshake_error(issued: &Issued, trusted: &TestCa, name: &str) -> io::Error {
        handshake_error_on(issued, trusted, name, V4)
    }

    /// [`handshake_error`] over a connection on the loopback address of `family`.
    fn handshake_error_on(
        issued: &Issued,
        trusted: &TestCa,
        name: &str,
        family: Family,
    ) -> io::Error {
        let listener = net::tcp_listener_on(family);
        let (addr, _server) = test_echo_server_on(listener, test_server_config(issued));
        match test_client(addr, name, &trusted.cert_pem()) {
            Err(e) => e,
            Ok(_) => panic!("test setup: the test's client accepted a bad certificate"),
        }
    }

    fn expect(error: io::Error, expected: Refusal) {
        let shown = tls_error(&error);
        let got = call_learner(move || refusal(&error));
        assert_eq!(
            got,
            expected,
            "{}",
            fill(
                "ch10.refusal",
                &[
                    ("error", &shown),
                    ("got", &format!("{got:?}")),
                    ("expected", &format!("{expected:?}"))
                ]
            )
        );
    }

    #[test]
    fn a_certificate_for_another_name() {
        let (ca, issued) = pki(&["localhost"], Validity::Current);
        expect(
            handshake_error(&issued, &ca, "example.com"),
            Refusal::WrongName,
        );
    }

    #[test]
    fn over_v6_a_certificate_for_the_v4_address_only() {
        if !V6.usable() {
            return;
        }
        let (ca, issued) = pki(&["127.0.0.1"], Validity::Current);
        expect(
            handshake_error_on(&issued, &ca, "::1", V6),
            Refusal::WrongName,
        );
    }

    #[test]
    fn a_certificate_from_an_unknown_ca() {
        let (_ca, issued) = pki(&["localhost"], Validity::Current);
        let other = TestCa::new("another CA").expect("test setup: could not make a CA");
        expect(
            handshake_error(&issued, &other, "localhost"),
            Refusal::UnknownIssuer,
        );
    }

    #[test]
    fn an_expired_certificate() {
        let (ca, issued) = pki(&["localhost"], Validity::Expired);
        expect(handshake_error(&issued, &ca, "localhost"), Refusal::Expired);
    }

    #[test]
    fn a_flipped_bit_ends_the_connection_not_in_data() {
        let (ca, issued) = pki(&["localhost"], Validity::Current);
        let (addr, _server) = test_echo_server(test_server_config(&issued));
        let relay = FlipRelay::start(addr);
        let mut tls = test_client(relay.addr(), "localhost", &ca.cert_pem())
            .expect("test setup: handshake through the relay");
        // The handshake is done; the next chunk the server sends has one bit flipped.
        relay.arm();
        tls.write_all(b"secret message").unwrap();
        let mut got = [0u8; 14];
        let error = match tls.read_exact(&mut got) {
            Err(e) => e,
            Ok(()) => panic!("test setup: the tampered record was accepted"),
        };
        assert_eq!(relay.flipped(), 1, "test setup: the relay flipped nothing");
        expect(error, Refusal::Tampered);
    }

    #[test]
    fn the_peer_telling_us_of_tampering_is_tampering_too() {
        let alert = rustls::Error::AlertReceived(rustls::AlertDescription::BadRecordMac);
        expect(
            io::Error::new(io::ErrorKind::InvalidData, alert),
            Refusal::Tampered,
        );
    }

    #[test]
    fn anything_else_is_other() {
        expect(io::Error::from(io::ErrorKind::TimedOut), Refusal::Other);
        expect(
            io::Error::from(io::ErrorKind::ConnectionRefused),
            Refusal::Other,
        );
        let alert = rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure);
        expect(
            io::Error::new(io::ErrorKind::InvalidData, alert),
            Refusal::Other,
        );
    }
}

/// Exercise 10.4: `echo_connection` and `echo_stream`.
mod quic_echo {
    use super::*;
    use lossy_relay::{Rates, Relay, RelayConfig};
    use socket_course::ch10_tls::echo_connection;
    use socket_course::ch10_tls::quic::{client_endpoint, server_endpoint};

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("test setup: tokio runtime")
    }

    /// Starts the learner's `echo_connection` on the first connection to a server endpoint;
    /// returns the endpoint's address and the running code.
    fn start(issued: &Issued) -> (SocketAddr, Ended, course_harness::Running<io::Result<u64>>) {
        start_on(issued, V4)
    }

    /// [`start`] with the server endpoint on the loopback address of `family`.
    fn start_on(
        issued: &Issued,
        family: Family,
    ) -> (SocketAddr, Ended, course_harness::Running<io::Result<u64>>) {
        let (cert, key) = (issued.cert_pem.clone(), issued.key_pem.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        let ended = Ended::default();
        let flag = EndFlag(ended.clone());
        let running = start_learner(move || {
            // Set when this thread ends, panic or not: the client stops waiting at once.
            let _flag = flag;
            runtime().block_on(async move {
                let endpoint = server_endpoint(family.any_port(), cert.as_bytes(), key.as_bytes())
                    .expect("test setup: QUIC server endpoint");
                tx.send(endpoint.local_addr().unwrap()).unwrap();
                let incoming = endpoint
                    .accept()
                    .await
                    .expect("test setup: endpoint closed");
                let conn = incoming.await?;
                echo_connection(conn).await
            })
        });
        let addr = rx
            .recv_timeout(IO_TIMEOUT)
            .expect("test setup: QUIC server did not start");
        (addr, ended, running)
    }

    /// Whether the learner's thread has ended.
    type Ended = Arc<std::sync::atomic::AtomicBool>;

    /// Sets its flag when dropped.
    struct EndFlag(Ended);

    impl Drop for EndFlag {
        fn drop(&mut self) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// The bytes of stream `i`: different on every stream.
    fn payload(i: usize, len: usize) -> Vec<u8> {
        (0..len).map(|k| (k * 7 + i * 13) as u8).collect()
    }

    /// Opens `streams` streams at once on one connection to `addr`, sends `len` bytes on
    /// each and reads the echoes. Then closes the connection (code 0).
    fn run_client(
        addr: SocketAddr,
        ca_pem: String,
        streams: usize,
        len: usize,
        ended: Ended,
    ) -> Result<Vec<Vec<u8>>, String> {
        runtime().block_on(async move {
            let work = async {
                let endpoint =
                    client_endpoint(addr, ca_pem.as_bytes()).map_err(|e| e.to_string())?;
                let conn = endpoint
                    .connect(addr, "localhost")
                    .map_err(|e| e.to_string())?
                    .await
                    .map_err(|e| e.to_string())?;
                let mut tasks = tokio::task::JoinSet::new();
                for i in 0..streams {
                    let conn = conn.clone();
                    tasks.spawn(async move {
                        let (mut send, mut recv) =
                            conn.open_bi().await.map_err(|e| e.to_string())?;
                        let data = payload(i, len);
                        let write = async {
                            send.write_all(&data).await.map_err(|e| e.to_string())?;
                            send.finish().map_err(|e| e.to_string())
                        };
                        let read = recv.read_to_end(len + 1);
                        let (wrote, read) = tokio::join!(write, read);
                        wrote?;
                        read.map(|back| (i, back)).map_err(|e| e.to_string())
                    });
                }
                let mut echoes = vec![Vec::new(); streams];
                while let Some(done) = tasks.join_next().await {
                    let (i, back) = done.map_err(|e| e.to_string())??;
                    echoes[i] = back;
                }
                Ok((endpoint, conn, echoes))
            };
            // Until the echoes are back, the learner's code must keep running.
            let watch = async {
                while !ended.load(std::sync::atomic::Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            };
            let (endpoint, conn, echoes) = tokio::select! {
                result = tokio::time::timeout(Duration::from_secs(8), work) => {
                    result.unwrap_or_else(|_| Err("timed out".to_string()))?
                }
                () = watch => return Err("the server's code ended".to_string()),
            };
            // Goodbye: the server's `accept_bi` sees the connection closed by the application.
            conn.close(0u32.into(), b"done");
            let _ = tokio::time::timeout(Duration::from_secs(2), endpoint.wait_idle()).await;
            Ok(echoes)
        })
    }

    fn check_echoes(echoes: &[Vec<u8>], len: usize) {
        for (i, back) in echoes.iter().enumerate() {
            expect_bytes(
                &fill("ch10.stream_echo", &[("stream", &i)]),
                &payload(i, len),
                back,
                None,
            );
        }
    }

    /// A client over `family` opens `streams` streams at once, `bytes` each: each comes
    /// back whole, and `echo_connection` returns how many streams it echoed.
    fn streams_echoed(family: Family, streams: usize, bytes: usize) {
        let (ca, issued) = pki(&["localhost"], Validity::Current);
        let (addr, ended, mut running) = start_on(&issued, family);
        let echoes = match run_client(addr, ca.cert_pem(), streams, bytes, ended) {
            Ok(echoes) => echoes,
            Err(e) => {
                running.check();
                panic!("{}", fill("ch10.quic_failed", &[("error", &e)]));
            }
        };
        check_echoes(&echoes, bytes);
        let echoed = running
            .finish()
            .or_fail("test.returned_error", &[("call", &"echo_connection")]);
        assert_eq!(
            echoed,
            streams as u64,
            "{}",
            fill(
                "test.returned",
                &[("call", &"echo_connection"), ("got", &echoed)]
            )
        );
    }

    #[test]
    fn several_streams_at_once_each_echoed() {
        streams_echoed(V4, 8, 50_000);
    }

    #[test]
    fn streams_over_v6_are_echoed() {
        if !V6.usable() {
            return;
        }
        streams_echoed(V6, 2, 10_000);
    }

    #[test]
    fn a_stream_left_open_holds_up_no_other() {
        let (ca, issued) = pki(&["localhost"], Validity::Current);
        let (addr, ended, mut running) = start(&issued);
        let ca_pem = ca.cert_pem();
        let result: Result<(Vec<u8>, Vec<u8>), String> = runtime().block_on(async move {
            let work = async {
                let endpoint =
                    client_endpoint(addr, ca_pem.as_bytes()).map_err(|e| e.to_string())?;
                let conn = endpoint
                    .connect(addr, "localhost")
                    .map_err(|e| e.to_string())?
                    .await
                    .map_err(|e| e.to_string())?;
                // Stream A: some bytes, and no end yet.
                let (mut send_a, mut recv_a) = conn.open_bi().await.map_err(|e| e.to_string())?;
                send_a
                    .write_all(b"first, still open")
                    .await
                    .map_err(|e| e.to_string())?;
                // Stream B, whole: its echo must come while A is still open.
                let (mut send_b, mut recv_b) = conn.open_bi().await.map_err(|e| e.to_string())?;
                send_b
                    .write_all(b"second")
                    .await
                    .map_err(|e| e.to_string())?;
                send_b.finish().map_err(|e| e.to_string())?;
                let b = recv_b.read_to_end(100).await.map_err(|e| e.to_string())?;
                send_a.finish().map_err(|e| e.to_string())?;
                let a = recv_a.read_to_end(100).await.map_err(|e| e.to_string())?;
                Ok((endpoint, conn, a, b))
            };
            let watch = async {
                while !ended.load(std::sync::atomic::Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            };
            let (endpoint, conn, a, b) = tokio::select! {
                result = tokio::time::timeout(Duration::from_secs(3), work) => {
                    result.unwrap_or_else(|_| Err("timed out".to_string()))?
                }
                () = watch => return Err("the server's code ended".to_string()),
            };
            conn.close(0u32.into(), b"done");
            let _ = tokio::time::timeout(Duration::from_secs(2), endpoint.wait_idle()).await;
            Ok((a, b))
        });
        let (a, b) = match result {
            Ok(echoes) => echoes,
            Err(e) => {
                running.check();
                panic!("{}", fill("ch10.stream_held_up", &[("error", &e)]));
            }
        };
        expect_bytes(
            &fill("ch10.stream_echo", &[("stream", &1)]),
            b"second",
            &b,
            None,
        );
        expect_bytes(
            &fill("ch10.stream_echo", &[("stream", &0)]),
            b"first, still open",
            &a,
            None,
        );
    }

    #[test]
    fn one_datagram_in_ten_lost_is_recovered_by_quic_itself() {
        let (ca, issued) = pki(&["localhost"], Validity::Current);
        let (server, ended, mut running) = start(&issued);
        let rates = Rates {
            loss: 0.1,
            seed: 10,
            ..Rates::default()
        };
        let relay = Relay::start(
            "127.0.0.1:0".parse().unwrap(),
            RelayConfig::new(server).rates(rates),
        )
        .expect("test setup: lossy relay");
        // The client talks to the relay, which forwards to the server (losing 10 %).
        let echoes = match run_client(relay.addr(), ca.cert_pem(), 4, 20_000, ended) {
            Ok(echoes) => echoes,
            Err(e) => {
                running.check();
                panic!("{}", fill("ch10.quic_failed", &[("error", &e)]));
            }
        };
        check_echoes(&echoes, 20_000);
        let stats = relay.stats();
        assert!(
            stats.to_server.dropped + stats.to_client.dropped > 0,
            "test setup: the relay lost nothing"
        );
        // The connection's close may itself be lost: `echo_connection` is not awaited here.
    }
}

/// Exercise 10.5 (go further): `migrate`.
mod migration {
    use super::*;
    use socket_course::ch10_tls::migrate;
    use socket_course::ch10_tls::quic::{client_endpoint, server_endpoint};

    /// The test's own QUIC server: echoes each stream of one connection and, for each,
    /// tells the test the client's address as the server saw it after reading.
    async fn test_server(
        endpoint: socket_course::ch10_tls::quinn::Endpoint,
        seen: tokio::sync::mpsc::UnboundedSender<SocketAddr>,
    ) -> Result<(), String> {
        let incoming = endpoint.accept().await.ok_or("endpoint closed")?;
        let conn = incoming.await.map_err(|e| e.to_string())?;
        while let Ok((mut send, mut recv)) = conn.accept_bi().await {
            let data = recv.read_to_end(1000).await.map_err(|e| e.to_string())?;
            let _ = seen.send(conn.remote_address());
            send.write_all(&data).await.map_err(|e| e.to_string())?;
            send.finish().map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// `what`, with a deadline of 5 seconds.
    fn within<F: std::future::Future>(what: F) -> tokio::time::Timeout<F> {
        tokio::time::timeout(Duration::from_secs(5), what)
    }

    /// Sends `data` on a new stream and reads the echo.
    async fn echo(
        conn: &socket_course::ch10_tls::quinn::Connection,
        data: &[u8],
    ) -> Result<Vec<u8>, String> {
        let (mut send, mut recv) = conn.open_bi().await.map_err(|e| e.to_string())?;
        send.write_all(data).await.map_err(|e| e.to_string())?;
        send.finish().map_err(|e| e.to_string())?;
        recv.read_to_end(1000).await.map_err(|e| e.to_string())
    }

    #[test]
    fn the_echo_goes_on_from_a_new_address() {
        goes_on_from_a_new_address(V4);
    }

    #[test]
    fn the_echo_goes_on_from_a_new_v6_address() {
        if V6.usable() {
            goes_on_from_a_new_address(V6);
        }
    }

    fn goes_on_from_a_new_address(family: Family) {
        let (ca, issued) = pki(&["localhost"], Validity::Current);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("test setup: tokio runtime");
        runtime.block_on(async move {
            let server = server_endpoint(
                family.any_port(),
                issued.cert_pem.as_bytes(),
                issued.key_pem.as_bytes(),
            )
            .expect("test setup: QUIC server endpoint");
            let addr = server.local_addr().unwrap();
            let (tx, mut seen) = tokio::sync::mpsc::unbounded_channel();
            let serving = tokio::spawn(test_server(server, tx));
            let client = client_endpoint(addr, ca.cert_pem().as_bytes())
                .expect("test setup: QUIC client endpoint");
            let before = client.local_addr().unwrap();
            let conn = within(
                client
                    .connect(addr, "localhost")
                    .expect("test setup: connect"),
            )
            .await
            .expect("test setup: QUIC handshake timed out")
            .expect("test setup: QUIC handshake");

            let back = within(echo(&conn, b"before the move"))
                .await
                .unwrap_or_else(|_| Err("timed out".into()))
                .expect("test setup: the first echo");
            assert_eq!(back, b"before the move", "test setup: the first echo");
            let first = seen.recv().await.expect("test setup: server ended");
            assert_eq!(first, before, "test setup: the server saw another address");

            // The learner's code, on a thread of its own inside this runtime.
            let handle = tokio::runtime::Handle::current();
            let endpoint = client.clone();
            let moved = call_learner(move || {
                let _inside = handle.enter();
                migrate(&endpoint)
            })
            .or_fail("test.returned_error", &[("call", &"migrate")]);
            let now = client.local_addr().unwrap();
            assert_eq!(
                moved,
                now,
                "{}",
                fill("ch10.migrate_returned", &[("got", &moved), ("now", &now)])
            );
            assert_ne!(
                now,
                before,
                "{}",
                fill("ch10.not_moved", &[("address", &before)])
            );
            assert!(
                Family::of(now) == family,
                "{}",
                fill("test.same_family", &[("asked", &before), ("got", &now)])
            );

            let back = within(echo(&conn, b"after the move"))
                .await
                .unwrap_or_else(|_| Err("timed out".to_string()))
                .unwrap_or_else(|e| panic!("{}", fill("ch10.quic_failed", &[("error", &e)])));
            expect_bytes(
                &fill("ch10.stream_echo", &[("stream", &1)]),
                b"after the move",
                &back,
                None,
            );
            let second = seen.recv().await.expect("test setup: server ended");
            assert_eq!(
                second,
                now,
                "{}",
                fill("ch10.server_sees", &[("seen", &second), ("now", &now)])
            );
            conn.close(0u32.into(), b"done");
            let _ = within(client.wait_idle()).await;
            let _ = within(serving).await;
        });
    }
}
