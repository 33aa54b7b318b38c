//! Chapter 10: what TLS and QUIC cost on loopback, measured in one run. Run it with
//! `cargo run --release --features ch10 --example ch10_handshakes`.
//!
//! 1. A new connection and one 16-byte request and reply, 200 times: plain TCP, TLS
//!    1.3 over TCP, QUIC. The median and p99 of each; the ratios to plain TCP.
//! 2. The same, 5 times of each, through relays that hold every message 20 ms on its
//!    way in each direction: a round trip costs 40 ms, and the median time divided by
//!    40 ms counts the round trips a new connection needs before its first reply.
//! 3. 64 MiB sent over one connection, plain TCP and TLS: throughput and its ratio.
//!
//! The servers and relays run on threads of this process; everything is on 127.0.0.1.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use socket_course::ch10_tls::certs::{Issued, TestCa, Validity};
use socket_course::ch10_tls::quic::{client_endpoint, server_endpoint};
use socket_course::ch10_tls::quinn::Endpoint;
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
/// New connections of each kind through the relays.
const DELAYED: usize = 5;
/// How long the relays hold every message, in each direction.
const DELAY: Duration = Duration::from_millis(20);
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

/// A thread that hands each item to `deliver` at its due time (items come in due
/// order); it stops when the sender is dropped or `deliver` says so.
fn delay_line<T: Send + 'static>(
    mut deliver: impl FnMut(T) -> bool + Send + 'static,
) -> Sender<(Instant, T)> {
    let (tx, rx) = channel::<(Instant, T)>();
    thread::spawn(move || {
        for (due, item) in rx {
            thread::sleep(due.saturating_duration_since(Instant::now()));
            if !deliver(item) {
                return;
            }
        }
    });
    tx
}

/// What crossed the relays since the last `crossings()`: for each message (or TCP
/// handshake packet), when its sender sent it and whether it went to the server.
static LOG: Mutex<Vec<(Instant, bool)>> = Mutex::new(Vec::new());

fn log(sent: Instant, to_server: bool) {
    LOG.lock().expect("log").push((sent, to_server));
}

/// Round trips counted in the log: flights from the server to the client, where a
/// flight is a run of messages one way, in the order they were sent, from `since` on.
/// The log is emptied.
fn crossings(since: Instant) -> usize {
    let mut log = std::mem::take(&mut *LOG.lock().expect("log"));
    log.retain(|&(sent, _)| sent >= since);
    log.sort_by_key(|&(sent, _)| sent);
    let ways: Vec<bool> = log.iter().map(|&(_, to_server)| to_server).collect();
    let starts = ways
        .iter()
        .enumerate()
        .filter(|&(i, &to_server)| !to_server && (i == 0 || ways[i - 1]));
    starts.count()
}

// ANCHOR: delay
/// A TCP relay in front of `server` that holds every byte for DELAY each way.
/// The kernels make TCP's handshake (SYN, SYN-ACK) at once and out of a program's
/// reach, so the relay replays it: it connects to the server DELAY after the client
/// connected (the SYN on its way), and the client's bytes set off DELAY later (the
/// SYN-ACK on its way back).
fn tcp_delay(server: SocketAddr) -> SocketAddr {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let addr = listener.local_addr().expect("addr");
    thread::spawn(move || {
        for client in listener.incoming().flatten() {
            log(Instant::now(), true);
            thread::spawn(move || {
                thread::sleep(DELAY);
                let Ok(server) = TcpStream::connect_timeout(&server, TIMEOUT) else {
                    return;
                };
                log(Instant::now(), false);
                let start = Instant::now() + DELAY;
                let (Ok(c), Ok(s)) = (client.try_clone(), server.try_clone()) else {
                    return;
                };
                pump(c, s, start, true);
                pump(server, client, Instant::now(), false);
            });
        }
    });
    addr
}

/// Copies `from` to `to`, each chunk DELAY after it arrived (and after `start`).
fn pump(mut from: TcpStream, mut to: TcpStream, start: Instant, to_server: bool) {
    let _ = from.set_read_timeout(Some(TIMEOUT));
    let _ = to.set_nodelay(true);
    let _ = to.set_write_timeout(Some(TIMEOUT));
    let line = delay_line(move |data: Vec<u8>| {
        if data.is_empty() {
            let _ = to.shutdown(Shutdown::Write);
            return false;
        }
        to.write_all(&data).is_ok()
    });
    thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let len = from.read(&mut buf).unwrap_or(0);
            let sent = Instant::now().max(start);
            if len > 0 {
                log(sent, to_server);
            }
            let due = sent + DELAY;
            if line.send((due, buf[..len].to_vec())).is_err() || len == 0 {
                return;
            }
        }
    });
}
// ANCHOR_END: delay

/// A UDP relay in front of `server` that holds every datagram for DELAY in each
/// direction, for the first client that sends to it.
fn udp_delay(server: SocketAddr) -> SocketAddr {
    let front = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let back = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    back.connect(server).expect("connect");
    for socket in [&front, &back] {
        socket.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    }
    let addr = front.local_addr().expect("addr");
    let client = Arc::new(OnceLock::<SocketAddr>::new());
    let (out, seen) = (front.try_clone().expect("clone"), client.clone());
    let to_client = delay_line(move |data: Vec<u8>| {
        if let Some(client) = seen.get() {
            let _ = out.send_to(&data, client);
        }
        true
    });
    let out = back.try_clone().expect("clone");
    let to_server = delay_line(move |data: Vec<u8>| {
        let _ = out.send(&data);
        true
    });
    // Datagrams of up to 65,536 bytes are read whole; a read that times out is tried
    // again (the relays live as long as the example).
    thread::spawn(move || {
        let mut buf = vec![0u8; 65536];
        loop {
            if let Ok((len, from)) = front.recv_from(&mut buf)
                && *client.get_or_init(|| from) == from
            {
                log(Instant::now(), true);
                let _ = to_server.send((Instant::now() + DELAY, buf[..len].to_vec()));
            }
        }
    });
    thread::spawn(move || {
        let mut buf = vec![0u8; 65536];
        loop {
            if let Ok(len) = back.recv(&mut buf) {
                log(Instant::now(), false);
                let _ = to_client.send((Instant::now() + DELAY, buf[..len].to_vec()));
            }
        }
    });
    addr
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

/// `request` through a relay: its time, and the round trips counted there.
fn counted(request: impl FnOnce() -> Duration) -> (Duration, usize) {
    let since = Instant::now();
    let time = request();
    (time, crossings(since))
}

/// A new QUIC connection on `endpoint` and one request and reply on a stream;
/// the time until the reply is in.
async fn quic_request(endpoint: &Endpoint, addr: SocketAddr) -> Duration {
    let started = Instant::now();
    let conn = endpoint.connect(addr, "localhost").expect("connect");
    let conn = conn.await.expect("handshake");
    let (mut send, mut recv) = conn.open_bi().await.expect("stream");
    send.write_all(b"0123456789abcdef").await.expect("write");
    send.finish().expect("finish");
    recv.read_to_end(16).await.expect("reply");
    let elapsed = started.elapsed();
    conn.close(0u32.into(), b"");
    elapsed
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
            quic_request(&endpoint, quic_addr).await;
            let mut times = Vec::new();
            for _ in 0..CONNECTIONS {
                times.push(quic_request(&endpoint, quic_addr).await);
            }
            endpoint.wait_idle().await;
            times
        })
    });

    // The same through the relays, where every round trip costs 2 x DELAY.
    let (plain_slow, tls_slow) = (tcp_delay(plain_addr), tcp_delay(tls_addr));
    let quic_slow = udp_delay(quic_addr);
    let tcp_slow = (0..DELAYED)
        .map(|_| counted(|| tcp_request(plain_slow)))
        .collect();
    let tls_slow = (0..DELAYED)
        .map(|_| counted(|| tls_request(tls_slow, &client)))
        .collect();
    let quic_slow = rt.block_on(async {
        let endpoint =
            client_endpoint(quic_slow, ca_pem.as_bytes()).expect("endpoint");
        let mut runs = Vec::new();
        for _ in 0..DELAYED {
            let since = Instant::now();
            let time = quic_request(&endpoint, quic_slow).await;
            runs.push((time, crossings(since)));
        }
        // Not waiting for the closed connections to drain (three probe timeouts at
        // 40 ms round trips): nothing else runs on this endpoint.
        runs
    });

    // ANCHOR: table
    let tcp_times: Vec<Duration> = tcp_times;
    let (tcp_median, _) = summary(tcp_times.clone());
    println!("new connection + one 16-byte request and reply, {CONNECTIONS} times");
    println!("| protocol | median | p99 | vs TCP | CPU time |");
    println!("|---|---|---|---|---|");
    let rows = [
        ("plain TCP", tcp_times, tcp_cpu),
        ("TLS 1.3 over TCP", tls_times, tls_cpu),
        ("QUIC", quic_times, quic_cpu),
    ];
    for (name, times, cpu) in rows {
        let (median, p99) = summary(times);
        let ratio = median / tcp_median;
        let cpu = cpu.map_or("-".to_string(), |ms| format!("{ms:.3} ms"));
        let (median, p99) = (format!("{median:.3} ms"), format!("{p99:.3} ms"));
        println!("| {name} | {median} | {p99} | {ratio:.1}x | {cpu} |");
    }

    let trip = 2.0 * DELAY.as_secs_f64() * 1000.0;
    println!();
    println!("the same through relays, {DELAYED} times, {trip:.0} ms per round trip");
    println!(
        "| protocol | median | median / {trip:.0} ms | flights back | protocol says |"
    );
    println!("|---|---|---|---|---|");
    let rows = [
        ("plain TCP", tcp_slow, 2),
        ("TLS 1.3 over TCP", tls_slow, 3),
        ("QUIC", quic_slow, 2),
    ];
    for (name, runs, expected) in rows {
        let (times, flights): (Vec<_>, Vec<_>) = runs.into_iter().unzip();
        let (median, _) = summary(times);
        let (low, high) = (flights.iter().min(), flights.iter().max());
        let flights = match (low, high) {
            (Some(low), Some(high)) if low == high => format!("{low}"),
            (Some(low), Some(high)) => format!("{low}-{high}"),
            _ => "-".to_string(),
        };
        let trips = median / trip;
        println!("| {name} | {median:.1} ms | {trips:.2} | {flights} | {expected} |");
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
