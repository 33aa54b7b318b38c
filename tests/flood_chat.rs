//! Floods and hoarders against `chat-server`.
//!
//! - `a_flooder_does_not_silence_the_others`: one member sends unpaced 1,200-byte messages
//!   for 2.5 s while 30 well-behaved members each send 100 messages at 50 per second. The
//!   well-behaved members must get at least 99 % of their 87,000 deliveries (30 senders x
//!   100 messages x 29 other well-behaved receivers).
//! - `a_quiet_member_keeps_its_turn_among_busy_ones`: 58 members, each within its rate
//!   limit, keep the relay busier than it can be; a quiet member's messages must still
//!   arrive (99 %), p99 delay under 200 ms: the relay takes its senders in turn.
//! - `a_flooding_address_does_not_starve_newcomers`: one address that is not a member
//!   floods empty datagrams and pings; 60 newcomers from other addresses must all get in.
//! - `many_addresses_joining_cannot_silence_members_or_keep_newcomers_out`: 400 addresses
//!   that are not members send valid joins, 90 a second each; a member must still get 99 %
//!   of its messages through, and a newcomer in (all newcomers together are capped).
//! - `one_address_cannot_take_every_place` and `a_refused_join_is_told_why`: the limit of
//!   members per address, and the refusal a newcomer is shown (chat-client exits 1).
//!
//! The four floods load both cores for seconds (one at a time), so they are not part of the
//! warm suite: they are `#[ignore]`d and `.ci/run` runs them as a step of its own:
//! `cargo test --features solutions --test flood_chat -- --ignored`.
//! `CHAT_FLOOD_RUNS=20` repeats the first (each run is a fresh server). `CHAT_FLOOD_ARGS` adds
//! flags to its server (e.g. `--recv-buffer 212992`, `--rate 1000000`), to compare settings.
//! `COURSE_ATTACK_PROGRAMS=DIR` runs the programs in DIR (an older build, say). Outside
//! `--features solutions` these tests run your stubs.

use std::collections::HashSet;
use std::net::{SocketAddr, UdpSocket};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use course_harness::child::Stream;
use course_harness::{ChildGuard, Deadline};

mod support;

/// A program to run: built from this side of the switch, or taken from
/// `COURSE_ATTACK_PROGRAMS`.
fn program(name: &str) -> std::path::PathBuf {
    match std::env::var_os("COURSE_ATTACK_PROGRAMS") {
        Some(dir) => std::path::PathBuf::from(dir).join(name),
        None => course_harness::program!(name),
    }
}

/// The floods run one at a time (the test harness runs tests in parallel): each is meant to
/// load both cores by itself, and two at once measure the machine, not the server.
fn one_flood_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static FLOODS: std::sync::Mutex<()> = std::sync::Mutex::new(());
    FLOODS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

const MEMBERS: usize = 30;
const MESSAGES: usize = 100;
const PERIOD: Duration = Duration::from_millis(20); // 50 messages per second
const FLOOD_FOR: Duration = Duration::from_millis(2500);

/// A member's socket. Its receive buffer is as big as the kernel grants: the members are
/// the test's measuring instruments, and on a loaded machine their reading threads may wait
/// for a core; what is measured is the server.
/// It is bound to `ip` (any of 127.0.0.0/8 is this machine): the server takes at most so many
/// members from one address.
fn member_socket(ip: [u8; 4]) -> UdpSocket {
    let socket = UdpSocket::bind(SocketAddr::from((ip, 0))).unwrap();
    let _ = socket_course::udp_buffer::request_recv_buffer(&socket, 4 << 20);
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    socket
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    socket
}

/// One run; returns (deliveries to well-behaved members, the server's stderr after exit).
fn one_run() -> (usize, Vec<String>) {
    let mut command = Command::new(program("chat-server"));
    // The server asks for 4 MiB and works with whatever the kernel grants (it prints it).
    command.args(["--bind", "127.0.0.1:0", "--recv-buffer", "4194304"]);
    if let Ok(extra) = std::env::var("CHAT_FLOOD_ARGS") {
        command.args(extra.split_whitespace());
    }
    let mut server = ChildGuard::spawn(command);
    let addr: SocketAddr = server.listening_addr();

    // Join everybody, one at a time: the server prints each join it relays on stdout.
    let members: Vec<UdpSocket> = (0..MEMBERS)
        .map(|i| member_socket([127, 0, 2, 1 + i as u8]))
        .collect();
    // Each answers the server's cookie, as chat-client does.
    for (i, socket) in members.iter().enumerate() {
        join_and_see(&mut server, addr, socket, &format!("m{i}"));
    }
    let flooder = member_socket([127, 0, 2, 200]);
    join_and_see(&mut server, addr, &flooder, "flood");

    // Receivers: each member counts the distinct well-behaved messages it gets.
    let done = Arc::new(AtomicBool::new(false));
    let receivers: Vec<_> = members
        .iter()
        .map(|socket| {
            let socket = socket.try_clone().unwrap();
            let done = Arc::clone(&done);
            thread::spawn(move || {
                let mut seen = HashSet::new();
                let mut buf = [0u8; 4096];
                let expected = (MEMBERS - 1) * MESSAGES;
                while seen.len() < expected && !done.load(Ordering::Relaxed) {
                    if let Ok(len) = socket.recv(&mut buf) {
                        let text = &buf[..len];
                        if let Some(pos) = text.iter().position(|&b| b == b'\n') {
                            let body = &text[pos + 1..];
                            if body.starts_with(b"good ") {
                                seen.insert(body.to_vec());
                            }
                        }
                    }
                }
                seen.len()
            })
        })
        .collect();

    // The flood: unpaced, 1,200 bytes each, for 2.5 s.
    let flood = thread::spawn(move || {
        let message = format!("chat/1 msg 1 flood\n{}", "x".repeat(1181));
        assert_eq!(message.len(), 1200);
        let until = Instant::now() + FLOOD_FOR;
        let mut sent = 0u64;
        while Instant::now() < until {
            for _ in 0..64 {
                if flooder.send_to(message.as_bytes(), addr).is_ok() {
                    sent += 1;
                }
            }
        }
        sent
    });

    // The well-behaved: 100 rounds, 20 ms apart; in each, every member sends one message.
    // Paced on purpose: that is what "well-behaved" means here.
    thread::sleep(Duration::from_millis(100)); // let the flood get going first
    let start = Instant::now();
    for round in 0..MESSAGES {
        for (i, socket) in members.iter().enumerate() {
            let text = format!("chat/1 msg 1 m{i}\ngood {i} {round}");
            let _ = socket.send_to(text.as_bytes(), addr);
        }
        let next = start + PERIOD * (round as u32 + 1);
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            thread::sleep(wait);
        }
    }
    let flood_sent = flood.join().unwrap();
    // Let the last deliveries arrive, then stop the receivers. On a loaded machine the
    // server may lag seconds behind (its own sockets hold what it has not read yet), so the
    // deadline is generous; the receivers end as soon as they have everything.
    let settle = Deadline::after(Duration::from_secs(15));
    while !settle.expired() && !receivers.iter().all(|r| r.is_finished()) {
        thread::sleep(Duration::from_millis(20));
    }
    done.store(true, Ordering::Relaxed);
    let delivered: usize = receivers.into_iter().map(|r| r.join().unwrap()).sum();

    // Stop the server (Ctrl-C on Unix, so it prints its counters), and keep its stderr.
    #[cfg(unix)]
    {
        let _ = Command::new("kill")
            .args(["-INT", &server.id().to_string()])
            .status();
    }
    let mut stderr = Vec::new();
    while let Ok(line) = server.next_line(Stream::Stderr, Duration::from_secs(2)) {
        stderr.push(line);
    }
    eprintln!("flood: {flood_sent} datagrams sent by the flooder");
    (delivered, stderr)
}

#[test]
#[ignore = "a 4-second flood that loads both cores: run with --ignored (.ci/run does)"]
fn a_flooder_does_not_silence_the_others() {
    let _alone = one_flood_at_a_time();
    let runs: usize = std::env::var("CHAT_FLOOD_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let expected = MEMBERS * MESSAGES * (MEMBERS - 1);
    for run in 1..=runs {
        let (delivered, stderr) = one_run();
        let percent = 100.0 * delivered as f64 / expected as f64;
        eprintln!("run {run}: {delivered} of {expected} deliveries ({percent:.2} %)");
        for line in &stderr {
            eprintln!("  server: {line}");
        }
        assert!(
            delivered * 100 >= expected * 99,
            "run {run}: only {delivered} of {expected} deliveries ({percent:.2} %)"
        );
    }
}

/// Starts chat-server with `args` (on 127.0.0.1, port 0); returns it and its address.
fn chat_server(args: &[&str]) -> (ChildGuard, SocketAddr) {
    let mut command = Command::new(program("chat-server"));
    command.args(["--bind", "127.0.0.1:0"]).args(args);
    let mut server = ChildGuard::spawn(command);
    let addr = server.listening_addr();
    (server, addr)
}

/// Joins as `name` without waiting for a verdict: the join, the cookie back, then the
/// server's own line `* NAME joined` (so this works with a server that sends no verdict).
fn join_and_see(server: &mut ChildGuard, addr: SocketAddr, socket: &UdpSocket, name: &str) {
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    socket
        .send_to(
            format!("chat/1 join 1763798400000 {name}\n").as_bytes(),
            addr,
        )
        .unwrap();
    let mut buf = [0u8; 4096];
    let (len, _) = socket.recv_from(&mut buf).expect("a cookie");
    assert!(buf.starts_with(b"chat/1 cookie "), "expected a cookie");
    socket.send_to(&buf[..len], addr).unwrap();
    server.stdout_line_ending_with(&format!("* {name} joined"));
}

#[test]
fn a_refused_join_is_told_why() {
    let (mut server, addr) = chat_server(&["--max-members", "1"]);
    let client = |name: &str, lang: &str| {
        let mut command = Command::new(program("chat-client"));
        command
            .args(["--server", &addr.to_string(), "--name", name])
            .env("COURSE_LANG", lang);
        ChildGuard::spawn(command)
    };
    let mut first = client("taro", "en");
    server.stdout_line_ending_with("* taro joined");
    for (name, lang, says) in [("hanako", "en", "chat full"), ("jiro", "ja", "満員")] {
        let mut refused = client(name, lang);
        let exited = refused.wait_exit_while_running(&mut server, Duration::from_secs(5));
        assert_eq!(
            exited.status.code(),
            Some(1),
            "a refused client exits 1: {exited:?}"
        );
        let stderr = exited.stderr.join("\n");
        assert!(
            stderr.contains(says),
            "the client should say {says:?}: {exited:?}"
        );
    }
    first.close_stdin();
    let exited = first.wait_exit(Duration::from_secs(5));
    assert!(exited.status.success(), "{exited:?}");
}

#[test]
fn one_address_cannot_take_every_place() {
    // 64 places in all; 64 sockets from 127.0.0.3 try to take them all, then one from
    // 127.0.0.4 tries to join.
    let (mut server, addr) = chat_server(&["--max-members", "64"]);
    let mut buf = [0u8; 4096];
    let mut join = |socket: &UdpSocket, name: &str| {
        socket
            .set_read_timeout(Some(Duration::from_secs(1)))
            .unwrap();
        let join = format!("chat/1 join 1763798400000 {name}\n");
        socket.send_to(join.as_bytes(), addr).unwrap();
        let (len, _) = socket.recv_from(&mut buf).expect("a cookie");
        socket.send_to(&buf[..len], addr).unwrap(); // the cookie back; the verdict later
    };
    let hoarders: Vec<UdpSocket> = (0..64)
        .map(|_| UdpSocket::bind("127.0.0.3:0").unwrap())
        .collect();
    let start = Instant::now();
    for (i, socket) in hoarders.iter().enumerate() {
        join(socket, &format!("h{i}"));
        // Paced on purpose: two datagrams every 10 ms stay within the allowance of an
        // address that is not a member (a burst of 100, then 100 a second), so what keeps
        // them out, if anything, is the limit per address.
        let next = start + Duration::from_millis(10) * (i as u32 + 1);
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            thread::sleep(wait);
        }
    }
    let newcomer = UdpSocket::bind("127.0.0.4:0").unwrap();
    join(&newcomer, "nana");
    // Who got in: the server prints each join it relays.
    let (mut hoarded, mut nana) = (0, false);
    let mut wait = Duration::from_secs(2);
    while let Ok(line) = server.next_line(Stream::Stdout, wait) {
        hoarded += usize::from(line.contains("* h") && line.ends_with(" joined"));
        if line.ends_with("* nana joined") {
            nana = true;
            wait = Duration::from_millis(300); // the last hoarders' lines, if any
        }
    }
    eprintln!("one address: {hoarded} of 64 got in; the newcomer from another: {nana}");
    assert!(
        nana,
        "a newcomer from another address was kept out ({hoarded} from one address)"
    );
    assert_eq!(hoarded, 16, "one address should get 16 places");
    // And each hoarder kept out was told why.
    let told = hoarders
        .iter()
        .filter(|socket| {
            socket
                .set_read_timeout(Some(Duration::from_millis(10)))
                .unwrap(); // the verdicts came while the lines were read
            let mut buf = [0u8; 4096];
            std::iter::from_fn(|| {
                let len = socket.recv(&mut buf).ok()?;
                Some(buf[..len] == *b"chat/1 refused address 16")
            })
            .any(|refused| refused)
        })
        .count();
    assert_eq!(
        told, 48,
        "each of the 48 kept out should be told `chat/1 refused address 16`"
    );
}

#[test]
#[ignore = "a 2-second flood that loads both cores: run with --ignored (.ci/run does)"]
fn a_flooding_address_does_not_starve_newcomers() {
    let _alone = one_flood_at_a_time();
    const NEWCOMERS: u8 = 60;
    let (mut server, addr) = chat_server(&["--recv-buffer", "4194304"]);
    // The flood: empty datagrams and pings from one address that is not a member, from two
    // threads, until the newcomers are done. Paced on purpose, at 10,000 a second each: an
    // unpaced flood on loopback (300,000 a second here) outruns any reader and fills the
    // socket's buffer in the kernel, where nothing of the server's choosing can help; what
    // is tested is the allowance newcomers share.
    let done = Arc::new(AtomicBool::new(false));
    let flooders: Vec<_> = [b"".as_slice(), b"chat/1 ping 1 x".as_slice()]
        .into_iter()
        .map(|datagram| {
            let done = Arc::clone(&done);
            let socket = UdpSocket::bind("127.0.0.5:0").unwrap();
            thread::spawn(move || {
                let mut sent = 0u64;
                let begun = Instant::now();
                while !done.load(Ordering::Relaxed) {
                    for _ in 0..50 {
                        sent += u64::from(socket.send_to(datagram, addr).is_ok());
                    }
                    // 50 every 5 ms.
                    let next = begun + Duration::from_millis(5) * (sent / 50) as u32;
                    if let Some(wait) = next.checked_duration_since(Instant::now()) {
                        thread::sleep(wait);
                    }
                }
                sent
            })
        })
        .collect();
    let start = Instant::now();
    thread::sleep(Duration::from_millis(200)); // let the flood get going first
    // Each newcomer, from an address of its own, joins as chat-client does: one join, the
    // cookie back if one comes within 1 s (no retry).
    let mut sockets = Vec::new();
    for i in 0..NEWCOMERS {
        let socket = UdpSocket::bind(SocketAddr::from(([127, 0, 3, 10 + i], 0))).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(1)))
            .unwrap();
        let join = format!("chat/1 join 1763798400000 n{i}\n");
        socket.send_to(join.as_bytes(), addr).unwrap();
        let mut buf = [0u8; 4096];
        while let Ok(len) = socket.recv(&mut buf) {
            if buf.starts_with(b"chat/1 cookie ") {
                socket.send_to(&buf[..len], addr).unwrap();
                break;
            }
        }
        sockets.push(socket);
    }
    // Who got in: the server prints each join it relays. A join that did not make it shows
    // no line: 3 s of silence ends the count.
    let mut joined = 0;
    while let Ok(line) = server.next_line(Stream::Stdout, Duration::from_secs(3)) {
        if line.contains("* n") && line.ends_with(" joined") {
            joined += 1;
            if joined == NEWCOMERS {
                break;
            }
        }
    }
    done.store(true, Ordering::Relaxed);
    let sent: u64 = flooders.into_iter().map(|f| f.join().unwrap()).sum();
    let rate = sent as f64 / start.elapsed().as_secs_f64();
    eprintln!(
        "newcomers: {joined} of {NEWCOMERS} got in; the flood: {sent} datagrams ({rate:.0}/s)"
    );
    assert_eq!(
        joined, NEWCOMERS,
        "a flood from one address kept newcomers out"
    );
}

#[test]
#[ignore = "a 5-second flood that loads both cores: run with --ignored (.ci/run does)"]
fn many_addresses_joining_cannot_silence_members_or_keep_newcomers_out() {
    let _alone = one_flood_at_a_time();
    const ADDRESSES: u16 = 400;
    const EACH_PER_SECOND: u32 = 90;
    const MESSAGES: usize = 100;
    // A receive buffer as large as the other floods' tests: what is tested is what the
    // server lets through, not what the kernel drops while its reader waits for a core.
    let (mut server, addr) = chat_server(&["--recv-buffer", "4194304"]);
    let (alice, bob) = (member_socket([127, 0, 5, 1]), member_socket([127, 0, 5, 2]));
    assert!(support::chat_join(
        &alice,
        addr,
        b"chat/1 join 1763798400000 alice\n"
    ));
    assert!(support::chat_join(
        &bob,
        addr,
        b"chat/1 join 1763798400000 bob\n"
    ));
    bob.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    // The flood: valid joins (each answered with a cookie) from 400 addresses that are not
    // members, 90 a second each (within each address's own allowance), from two threads.
    let done = Arc::new(AtomicBool::new(false));
    let flooders: Vec<_> = (0..2u16)
        .map(|half| {
            let done = Arc::clone(&done);
            thread::spawn(move || {
                let sockets: Vec<UdpSocket> = (0..ADDRESSES / 2)
                    .map(|i| {
                        let i = 2 * i + half;
                        let ip = [127, 12, (i / 250) as u8, (i % 250 + 1) as u8];
                        UdpSocket::bind(SocketAddr::from((ip, 0))).unwrap()
                    })
                    .collect();
                let join = format!("chat/1 join 1763798400000 {}\n", "x".repeat(24));
                let per_second = EACH_PER_SECOND * u32::from(ADDRESSES / 2);
                let (mut sent, begun) = (0u32, Instant::now());
                while !done.load(Ordering::Relaxed) {
                    for socket in &sockets {
                        let _ = socket.send_to(join.as_bytes(), addr);
                        sent += 1;
                        if sent % 20 == 0 {
                            let next = begun + Duration::from_secs(1) * sent / per_second;
                            if let Some(wait) = next.checked_duration_since(Instant::now()) {
                                thread::sleep(wait);
                            }
                        }
                    }
                }
                sent
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(500));
    // Alice sends 100 messages, 25 a second; bob notes each and how late it is.
    let receiver = thread::spawn(move || {
        let mut delays = Vec::new();
        let mut buf = [0u8; 4096];
        let until = Instant::now() + Duration::from_secs(12);
        while Instant::now() < until && delays.len() < MESSAGES {
            if let Ok((len, _)) = bob.recv_from(&mut buf) {
                let text = String::from_utf8_lossy(&buf[..len]);
                if let Some(sent) = text.strip_prefix("chat/1 msg 1 alice\n") {
                    let sent: u128 = sent.trim().parse().unwrap_or(0);
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .as_micros();
                    delays.push(Duration::from_micros(now.saturating_sub(sent) as u64));
                }
            }
        }
        delays
    });
    let mut newcomer_in = false;
    for i in 0..MESSAGES {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_micros();
        let message = format!("chat/1 msg 1 alice\n{now}");
        alice.send_to(message.as_bytes(), addr).unwrap();
        if i == MESSAGES / 2 {
            // A newcomer, joining as chat-client does (one join, no retry).
            let carol = member_socket([127, 0, 5, 3]);
            newcomer_in = support::chat_join(&carol, addr, b"chat/1 join 1763798400000 carol\n");
        }
        thread::sleep(Duration::from_millis(40));
    }
    done.store(true, Ordering::Relaxed);
    let mut delays = receiver.join().unwrap();
    let sent: u32 = flooders.into_iter().map(|f| f.join().unwrap()).sum();
    #[cfg(unix)]
    {
        let _ = Command::new("kill")
            .args(["-INT", &server.id().to_string()])
            .status();
    }
    let mut stopped = String::new();
    while let Ok(line) = server.next_line(Stream::Stderr, Duration::from_secs(2)) {
        if line.starts_with("stopped") {
            stopped = line;
        }
    }
    delays.sort();
    let p99 = delays
        .get(delays.len().saturating_sub(1) * 99 / 100)
        .copied();
    eprintln!(
        "{ADDRESSES} addresses x {EACH_PER_SECOND} joins/s ({sent} sent): bob got {} of \
         {MESSAGES} of alice's messages (p99 delay {p99:?}); newcomer got in: {newcomer_in}; \
         server: {stopped}",
        delays.len()
    );
    assert!(
        delays.len() * 100 >= MESSAGES * 99,
        "a member lost {} of {MESSAGES} messages to newcomers' joins",
        MESSAGES - delays.len()
    );
    assert!(newcomer_in, "a newcomer could not join during the flood");
}

#[test]
#[ignore = "a 6-second flood that loads both cores: run with --ignored (.ci/run does)"]
fn a_quiet_member_keeps_its_turn_among_busy_ones() {
    let _alone = one_flood_at_a_time();
    const BUSY: usize = 58;
    const QUIET: usize = 50;
    let (mut server, addr) = chat_server(&["--recv-buffer", "4194304"]);
    // 60 members, each from an address of its own: 58 busy ones, a quiet one, an observer.
    // (The busy ones never read: their receive buffers stay at the default size.)
    let busy: Vec<UdpSocket> = (0..BUSY)
        .map(|i| UdpSocket::bind(SocketAddr::from(([127, 0, 4, 10 + i as u8], 0))).unwrap())
        .collect();
    // Joined 20 ms apart: two datagrams each stay within the allowance of newcomers.
    for (i, socket) in busy.iter().enumerate() {
        join_and_see(&mut server, addr, socket, &format!("b{i}"));
        thread::sleep(Duration::from_millis(20));
    }
    let quiet = member_socket([127, 0, 4, 100]);
    join_and_see(&mut server, addr, &quiet, "quiet");
    let observer = member_socket([127, 0, 4, 101]);
    join_and_see(&mut server, addr, &observer, "observer");

    // The observer notes when each of the quiet member's messages arrives.
    let start = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let watching = {
        let done = Arc::clone(&done);
        thread::spawn(move || {
            let mut delays = Vec::new();
            let mut buf = [0u8; 4096];
            while delays.len() < QUIET && !done.load(Ordering::Relaxed) {
                let Ok(len) = observer.recv(&mut buf) else {
                    continue;
                };
                let text = String::from_utf8_lossy(&buf[..len]);
                // "chat/1 msg T quiet\nquiet SEQ MICROS": MICROS since `start`, when sent.
                let Some(body) = text.strip_prefix("chat/1 msg 1 quiet\nquiet ") else {
                    continue;
                };
                if let Some(sent) = body.split(' ').nth(1).and_then(|m| m.parse::<u64>().ok()) {
                    let now = start.elapsed().as_micros() as u64;
                    delays.push(Duration::from_micros(now.saturating_sub(sent)));
                }
            }
            delays
        })
    };
    // The busy members: each sends 95 messages a second, within its limit of 100. Paced on
    // purpose (one thread, a round every 1/95 s): what is tested is the relay's fairness,
    // not its rate limit.
    let busy_sending = {
        let done = Arc::clone(&done);
        thread::spawn(move || {
            let texts: Vec<String> = (0..BUSY)
                .map(|i| format!("chat/1 msg 1 b{i}\n{}", "x".repeat(100)))
                .collect();
            let period = Duration::from_secs(1) / 95;
            let mut round = 0u32;
            let begun = Instant::now();
            while !done.load(Ordering::Relaxed) {
                for (socket, text) in busy.iter().zip(&texts) {
                    let _ = socket.send_to(text.as_bytes(), addr);
                }
                round += 1;
                if let Some(wait) = (begun + period * round).checked_duration_since(Instant::now())
                {
                    thread::sleep(wait);
                }
            }
        })
    };
    thread::sleep(Duration::from_millis(1000)); // let the relay fall behind first
    // The quiet member: 50 messages, 10 a second (paced: that is what quiet means here).
    for seq in 0..QUIET {
        let sent = start.elapsed().as_micros();
        let text = format!("chat/1 msg 1 quiet\nquiet {seq} {sent}");
        quiet.send_to(text.as_bytes(), addr).unwrap();
        thread::sleep(Duration::from_millis(100));
    }
    // Give the last ones time to arrive (the observer ends as soon as it has all of them).
    let settle = Deadline::after(Duration::from_secs(5));
    while !settle.expired() && !watching.is_finished() {
        thread::sleep(Duration::from_millis(20));
    }
    done.store(true, Ordering::Relaxed);
    busy_sending.join().unwrap();
    let mut delays = watching.join().unwrap();
    delays.sort();
    let p99 = delays
        .get((delays.len() * 99).div_ceil(100).saturating_sub(1))
        .copied();
    let median = delays.get(delays.len() / 2).copied();
    #[cfg(unix)]
    {
        let _ = Command::new("kill")
            .args(["-INT", &server.id().to_string()])
            .status();
    }
    while let Ok(line) = server.next_line(Stream::Stderr, Duration::from_secs(2)) {
        if line.starts_with("stopped") || line.starts_with("kernel") {
            eprintln!("  server: {line}");
        }
    }
    eprintln!(
        "quiet member: {} of {QUIET} arrived, median delay {median:?}, p99 {p99:?}",
        delays.len()
    );
    assert!(
        delays.len() * 100 >= QUIET * 99,
        "only {} of {QUIET} arrived",
        delays.len()
    );
    assert!(
        p99.is_some_and(|p99| p99 < Duration::from_millis(200)),
        "p99 delay {p99:?}, not under 200 ms"
    );
}
