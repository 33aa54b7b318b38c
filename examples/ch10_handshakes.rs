//! Chapter 10: what TLS and QUIC cost on loopback, measured in one run. Run it with
//! `cargo run --release --features ch10 --example ch10_handshakes`.
//!
//! 1. A new connection and one 16-byte request and reply, 200 times: plain TCP, TLS
//!    1.3 over TCP, QUIC. The median and p99 of each; the ratios to plain TCP.
//! 2. 64 MiB sent over one connection, plain TCP and TLS: throughput and its ratio.
//!
//! The servers run on threads of this process; everything is on 127.0.0.1.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use socket_course::ch10_tls::certs::{Issued, TestCa, Validity};
use socket_course::ch10_tls::quic::{client_endpoint, server_endpoint};
use socket_course::ch10_tls::rustls::pki_types::pem::PemObject;
use socket_course::ch10_tls::rustls::pki_types::{
    CertificateDer, PrivateKeyDer, ServerName,
};
use socket_course::ch10_tls::rustls::{
    ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection,
    StreamOwned,
};
use socket_course::ch10_tls::tokio;

const CONNECTIONS: usize = 200;
const BULK: usize = 64 << 20;
const TIMEOUT: Duration = Duration::from_secs(10);

fn server_config(issued: &Issued) -> Arc<ServerConfig> {
    let certs = CertificateDer::pem_slice_iter(issued.cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .expect("certificate PEM");
    let key =
        PrivateKeyDer::from_pem_slice(issued.key_pem.as_bytes()).expect("key PEM");
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
    Arc::new(config)
}

fn client_config(ca: &TestCa) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    let ca_pem = ca.cert_pem();
    let cert = CertificateDer::from_pem_slice(ca_pem.as_bytes()).expect("CA PEM");
    roots.add(cert).expect("CA certificate");
    let config = ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

/// Serves every connection on `listener`, one at a time: reads until the peer closes,
/// answers each chunk of a small request with the same bytes, and after a bulk
/// transfer (more than 16 bytes in all) with the byte count, as 8 bytes.
fn serve(listener: TcpListener, tls: Option<Arc<ServerConfig>>) {
    for tcp in listener.incoming().flatten() {
        let _ = tcp.set_nodelay(true);
        let _ = tcp.set_read_timeout(Some(TIMEOUT));
        match &tls {
            None => answer(tcp),
            Some(config) => {
                let conn =
                    ServerConnection::new(config.clone()).expect("server conn");
                answer(StreamOwned::new(conn, tcp));
            }
        }
    }
}

fn answer(mut stream: impl Read + Write) {
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let len = match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(len) => len,
        };
        total += len as u64;
        let reply = if len <= 16 && total <= 16 {
            buf[..len].to_vec()
        } else if total == BULK as u64 {
            total.to_be_bytes().to_vec()
        } else {
            continue;
        };
        if stream
            .write_all(&reply)
            .and_then(|()| stream.flush())
            .is_err()
        {
            return;
        }
    }
}

/// CPU time this process has used so far (user + system, all threads: the servers run
/// here too), where the OS tells it.
#[cfg(unix)]
fn cpu_time() -> Option<Duration> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::uninit();
    // SAFETY: getrusage fills the struct it is given and reports failure by its result.
    let usage = unsafe {
        if libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) != 0 {
            return None;
        }
        usage.assume_init()
    };
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    Some(time(usage.ru_utime) + time(usage.ru_stime))
}

#[cfg(not(unix))]
fn cpu_time() -> Option<Duration> {
    None
}

/// CPU time per connection of `run`, in milliseconds, and what `run` returned.
fn with_cpu<T>(run: impl FnOnce() -> T) -> (T, Option<f64>) {
    let before = cpu_time();
    let result = run();
    let per = match (before, cpu_time()) {
        (Some(a), Some(b)) => {
            Some((b - a).as_secs_f64() * 1000.0 / CONNECTIONS as f64)
        }
        _ => None,
    };
    (result, per)
}

/// Median and 99th percentile of `samples`, in milliseconds.
fn summary(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p99 = samples[(samples.len() * 99 / 100).min(samples.len() - 1)];
    (ms(samples[samples.len() / 2]), ms(p99))
}

fn tcp_request(addr: SocketAddr) -> Duration {
    let started = Instant::now();
    let mut tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_nodelay(true).expect("nodelay");
    tcp.write_all(b"0123456789abcdef").expect("write");
    let mut reply = [0u8; 16];
    tcp.read_exact(&mut reply).expect("reply");
    started.elapsed()
}

fn tls_request(addr: SocketAddr, config: &Arc<ClientConfig>) -> Duration {
    let started = Instant::now();
    let tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_nodelay(true).expect("nodelay");
    let name = ServerName::try_from("localhost").expect("name");
    let conn = ClientConnection::new(config.clone(), name).expect("client conn");
    let mut tls = StreamOwned::new(conn, tcp);
    tls.write_all(b"0123456789abcdef").expect("write");
    let mut reply = [0u8; 16];
    tls.read_exact(&mut reply).expect("reply");
    started.elapsed()
}

fn bulk(mut stream: impl Read + Write) -> Duration {
    let chunk = vec![7u8; 256 * 1024];
    let started = Instant::now();
    for _ in 0..BULK / chunk.len() {
        stream.write_all(&chunk).expect("bulk write");
    }
    stream.flush().expect("flush");
    let mut count = [0u8; 8];
    stream.read_exact(&mut count).expect("count");
    assert_eq!(u64::from_be_bytes(count), BULK as u64);
    started.elapsed()
}

fn main() {
    let ca = TestCa::new("ch10 example CA").expect("CA");
    let issued = ca
        .issue(&["localhost"], Validity::Current)
        .expect("certificate");
    let client = client_config(&ca);

    let plain = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let plain_addr = plain.local_addr().expect("addr");
    thread::spawn(move || serve(plain, None));
    let tls = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let tls_addr = tls.local_addr().expect("addr");
    let config = server_config(&issued);
    thread::spawn(move || serve(tls, Some(config)));

    // QUIC: a server on a runtime of its own thread, echoing one stream per
    // connection.
    let (cert, key) = (issued.cert_pem.clone(), issued.key_pem.clone());
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let any: SocketAddr = (Ipv4Addr::LOCALHOST, 0).into();
            let endpoint = server_endpoint(any, cert.as_bytes(), key.as_bytes())
                .expect("endpoint");
            tx.send(endpoint.local_addr().expect("addr")).expect("send");
            while let Some(incoming) = endpoint.accept().await {
                tokio::spawn(async move {
                    let Ok(conn) = incoming.await else { return };
                    while let Ok((mut send, mut recv)) = conn.accept_bi().await {
                        if let Ok(data) = recv.read_to_end(16).await {
                            let _ = send.write_all(&data).await;
                            let _ = send.finish();
                        }
                    }
                });
            }
        });
    });
    let quic_addr = rx.recv().expect("QUIC server");

    // Warm up every path once (page faults, first allocations), then measure.
    tcp_request(plain_addr);
    tls_request(tls_addr, &client);
    let (tcp_times, tcp_cpu) =
        with_cpu(|| (0..CONNECTIONS).map(|_| tcp_request(plain_addr)).collect());
    let (tls_times, tls_cpu) = with_cpu(|| {
        (0..CONNECTIONS)
            .map(|_| tls_request(tls_addr, &client))
            .collect()
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let ca_pem = ca.cert_pem();
    let (quic_times, quic_cpu) = with_cpu(|| {
        rt.block_on(async {
            let endpoint =
                client_endpoint(quic_addr, ca_pem.as_bytes()).expect("endpoint");
            let mut times = Vec::new();
            for i in 0..=CONNECTIONS {
                let started = Instant::now();
                let conn = endpoint.connect(quic_addr, "localhost").expect("connect");
                let conn = conn.await.expect("handshake");
                let (mut send, mut recv) = conn.open_bi().await.expect("stream");
                send.write_all(b"0123456789abcdef").await.expect("write");
                send.finish().expect("finish");
                recv.read_to_end(16).await.expect("reply");
                if i > 0 {
                    times.push(started.elapsed());
                }
                conn.close(0u32.into(), b"");
            }
            endpoint.wait_idle().await;
            times
        })
    });

    // ANCHOR: table
    let tcp_times: Vec<Duration> = tcp_times;
    let (tcp_median, _) = summary(tcp_times.clone());
    println!("new connection + one 16-byte request and reply, {CONNECTIONS} times");
    println!("| protocol | round trips | median | p99 | vs TCP | CPU time |");
    println!("|---|---|---|---|---|---|");
    let rows = [
        ("plain TCP", 2, tcp_times, tcp_cpu),
        ("TLS 1.3 over TCP", 3, tls_times, tls_cpu),
        ("QUIC", 2, quic_times, quic_cpu),
    ];
    for (name, trips, times, cpu) in rows {
        let (median, p99) = summary(times);
        let ratio = median / tcp_median;
        let cpu = cpu.map_or("-".to_string(), |ms| format!("{ms:.3} ms"));
        let (median, p99) = (format!("{median:.3} ms"), format!("{p99:.3} ms"));
        println!("| {name} | {trips} | {median} | {p99} | {ratio:.1}x | {cpu} |");
    }
    // ANCHOR_END: table

    let tcp = TcpStream::connect(plain_addr).expect("connect");
    let tcp_bulk = bulk(tcp);
    let tcp = TcpStream::connect(tls_addr).expect("connect");
    let name = ServerName::try_from("localhost").expect("name");
    let conn = ClientConnection::new(client, name).expect("client conn");
    let tls_bulk = bulk(StreamOwned::new(conn, tcp));
    let rate = |d: Duration| (BULK >> 20) as f64 / d.as_secs_f64();
    println!();
    println!("{} MiB over one connection", BULK >> 20);
    println!("| protocol | MiB/s | vs plain TCP |");
    println!("|---|---|---|");
    println!("| plain TCP | {:.0} | 1.00x |", rate(tcp_bulk));
    let ratio = rate(tls_bulk) / rate(tcp_bulk);
    println!("| TLS 1.3 over TCP | {:.0} | {ratio:.2}x |", rate(tls_bulk));
}
