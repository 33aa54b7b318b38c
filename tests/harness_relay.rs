//! Tests of the lossy relay itself (not of learner code): scripted fates, reproducible rates,
//! the loss rate over many datagrams, several clients, hostile input, and the `lossy-relay`
//! program.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use course_harness::{ChildGuard, Deadline, Exchange, Peer, net};
use lossy_relay::{Action, Direction, Fate, Rates, Relay, RelayConfig, Script, Which, rates_fate};

const LOOPBACK_ANY: &str = "127.0.0.1:0";

fn start(server: SocketAddr, config: impl FnOnce(RelayConfig) -> RelayConfig) -> Relay {
    Relay::start(
        LOOPBACK_ANY.parse().unwrap(),
        config(RelayConfig::new(server)),
    )
    .expect("the relay did not start")
}

/// A server and a client peer on loopback, recording into one exchange.
fn server_and_client() -> (Peer, Peer) {
    let exchange = Exchange::new();
    (
        Peer::new(&exchange, "server"),
        Peer::new(&exchange, "client"),
    )
}

/// Waits (polling the counters) until the relay has decided the fate of `count` datagrams
/// from clients; the relay works on its own threads, so the test must wait for it.
fn wait_for_decisions(relay: &Relay, direction: Direction, count: u64) {
    let deadline = Deadline::after(Duration::from_secs(10));
    loop {
        let stats = relay.stats();
        let done = match direction {
            Direction::ToServer => stats.to_server.total(),
            Direction::ToClient => stats.to_client.total(),
        };
        if done >= count {
            return;
        }
        assert!(
            !deadline.expired(),
            "the relay decided {done} of {count} datagrams within 10 s"
        );
        thread::sleep(Duration::from_millis(2));
    }
}

/// Receives datagrams until none comes for `quiet`; returns their payloads.
fn drain(peer: &Peer, quiet: Duration) -> Vec<Vec<u8>> {
    peer.socket().set_read_timeout(Some(quiet)).unwrap();
    let mut got = Vec::new();
    while let Ok((data, _)) = peer.recv() {
        got.push(data);
    }
    peer.socket()
        .set_read_timeout(Some(net::IO_TIMEOUT))
        .unwrap();
    got
}

fn texts(payloads: &[Vec<u8>]) -> Vec<String> {
    payloads
        .iter()
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Scripts: exact fates

#[test]
fn scripted_drops_and_duplicates_happen_exactly_as_written() {
    let (server, client) = server_and_client();
    let script = Script::new()
        .drop_nth(Direction::ToServer, 1)
        .drop_nth(Direction::ToServer, 3)
        .duplicate_nth(Direction::ToClient, 2);
    let relay = start(server.addr(), |c| c.script(script));

    for text in ["a", "b", "c", "d"] {
        client.send_to(text.as_bytes(), relay.addr());
    }
    wait_for_decisions(&relay, Direction::ToServer, 4);
    let (first, upstream) = server.recv().unwrap();
    let (second, _) = server.recv().unwrap();
    assert_eq!(
        texts(&[first, second]),
        ["b", "d"],
        "the 1st and 3rd were to be dropped\n{}",
        relay.diagram()
    );

    server.send_to(b"r1", upstream);
    server.send_to(b"r2", upstream);
    wait_for_decisions(&relay, Direction::ToClient, 2);
    assert_eq!(
        texts(&drain(&client, Duration::from_millis(200))),
        ["r1", "r2", "r2"],
        "{}",
        relay.diagram()
    );

    let stats = relay.stats();
    assert_eq!((stats.to_server.forwarded, stats.to_server.dropped), (2, 2));
    assert_eq!(
        (stats.to_client.forwarded, stats.to_client.duplicated),
        (1, 1)
    );
    let diagram = relay.diagram();
    assert_eq!(
        diagram.matches("-x").count(),
        2,
        "two lost datagrams drawn with crosses:\n{diagram}"
    );
}

#[test]
fn a_rule_on_bytes_drops_only_the_named_occurrence() {
    let (server, client) = server_and_client();
    let relay = start(server.addr(), |c| {
        c.script(Script::new().drop_bytes(Direction::ToServer, b"X", 2))
    });
    for text in ["X", "Y", "X", "X"] {
        client.send_to(text.as_bytes(), relay.addr());
    }
    wait_for_decisions(&relay, Direction::ToServer, 4);
    assert_eq!(
        texts(&drain(&server, Duration::from_millis(200))),
        ["X", "Y", "X"]
    );
}

#[test]
fn a_reordered_datagram_arrives_after_the_next_one() {
    let (server, client) = server_and_client();
    let script = Script::new().rule(
        Direction::ToServer,
        Which::Nth(1),
        Fate::now(Action::Reorder),
    );
    let relay = start(server.addr(), |c| c.script(script));
    for text in ["1", "2", "3"] {
        client.send_to(text.as_bytes(), relay.addr());
    }
    assert_eq!(
        texts(&drain(&server, Duration::from_millis(300))),
        ["2", "1", "3"]
    );
    assert_eq!(relay.stats().to_server.reordered, 1);
}

#[test]
fn a_reordered_datagram_with_nothing_after_it_still_arrives() {
    let (server, client) = server_and_client();
    let script = Script::new().rule(
        Direction::ToServer,
        Which::Nth(1),
        Fate::now(Action::Reorder),
    );
    let relay = start(server.addr(), |c| c.script(script));
    client.send_to(b"alone", relay.addr());
    let (data, _) = server
        .recv()
        .expect("a held datagram must be released after the hold limit");
    assert_eq!(data, b"alone");
}

#[test]
fn a_delayed_datagram_is_overtaken() {
    let (server, client) = server_and_client();
    let slow = Fate {
        action: Action::Forward,
        delay: Duration::from_millis(100),
    };
    let relay = start(server.addr(), |c| {
        c.script(Script::new().rule(Direction::ToServer, Which::Nth(1), slow))
    });
    client.send_to(b"slow", relay.addr());
    client.send_to(b"fast", relay.addr());
    assert_eq!(
        texts(&drain(&server, Duration::from_millis(250))),
        ["fast", "slow"]
    );
    assert_eq!(relay.stats().to_server.delayed, 1);
}

#[test]
fn scripts_parse_from_text() {
    let text = r#"
        # comment line
        to-server 1 drop            # the first datagram
        to-client 2 duplicate
        to-server "hello\n" drop
        to-server "hello\n"@2 reorder
        to-client hex:00ff forward
        to-server 4 delay 50
    "#;
    let script: Script = text.parse().unwrap();
    let expected = Script::new()
        .drop_nth(Direction::ToServer, 1)
        .duplicate_nth(Direction::ToClient, 2)
        .drop_bytes(Direction::ToServer, b"hello\n", 1)
        .rule(
            Direction::ToServer,
            Which::Bytes(b"hello\n".to_vec(), 2),
            Fate::now(Action::Reorder),
        )
        .rule(
            Direction::ToClient,
            Which::Bytes(vec![0x00, 0xff], 1),
            Fate::FORWARD,
        )
        .rule(
            Direction::ToServer,
            Which::Nth(4),
            Fate {
                action: Action::Forward,
                delay: Duration::from_millis(50),
            },
        );
    assert_eq!(script, expected);
}

#[test]
fn bad_scripts_are_refused_with_the_line_number() {
    for (text, expected) in [
        ("to-nowhere 1 drop", "line 1: a rule starts with"),
        ("\nto-server 1", "line 2: missing the fate"),
        ("to-server 0 drop", "name a datagram by its number"),
        ("to-server hex:abc drop", "even number of hex digits"),
        ("to-server \"open drop", "not closed"),
        ("to-server 1 delay", "needs a number of milliseconds"),
        ("to-server 1 drop now", "unexpected text"),
        ("to-server 1 vanish", "the fate is forward, drop"),
    ] {
        let err = text.parse::<Script>().expect_err(text);
        assert!(err.contains(expected), "{text:?}: {err}");
    }
}

// ---------------------------------------------------------------------------------------------
// Rates: random but reproducible

/// Sends `payloads` in order from `client` through a fresh relay with `rates`; returns the
/// fate each payload got, from the relay's log.
fn fates_through_relay(
    rates: Rates,
    order: &[String],
    noise: bool,
) -> BTreeMap<String, Vec<String>> {
    let exchange = Exchange::new();
    let server = Peer::new(&exchange, "server");
    let client = Peer::new(&exchange, "client");
    let other = Peer::new(&exchange, "other client");
    let relay = start(server.addr(), |c| c.rates(rates));
    let mut sent = 0;
    for (i, payload) in order.iter().enumerate() {
        client.send_to(payload.as_bytes(), relay.addr());
        sent += 1;
        if noise && i % 3 == 0 {
            // Another client's datagrams in between must not change anyone's fate.
            other.send_to(format!("noise {i}").as_bytes(), relay.addr());
            sent += 1;
        }
    }
    wait_for_decisions(&relay, Direction::ToServer, sent);
    let mut fates: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for entry in relay.log() {
        if entry.client == client.addr() {
            fates
                .entry(entry.preview)
                .or_default()
                .push(entry.fate.to_string());
        }
    }
    fates
}

#[test]
fn the_same_seed_gives_the_same_fates_in_any_order_and_interleaving() {
    let rates = Rates {
        loss: 0.3,
        dup: 0.1,
        reorder: 0.1,
        delay: Duration::ZERO,
        seed: 7,
    };
    let payloads: Vec<String> = (0..150).map(|i| format!("msg-{i:03}")).collect();
    // Each payload twice, like a retransmission: its second passage gets a fate of its own.
    let in_order: Vec<String> = payloads.iter().chain(&payloads).cloned().collect();
    let mut shuffled: Vec<String> = payloads
        .iter()
        .rev()
        .chain(payloads.iter().rev())
        .cloned()
        .collect();
    shuffled.rotate_left(37);

    let first = fates_through_relay(rates, &in_order, false);
    let second = fates_through_relay(rates, &shuffled, true);
    assert_eq!(
        first, second,
        "same seed, same payloads: the fates must not depend on order or other traffic"
    );

    // And they are exactly the pure function's.
    for (payload, fates) in &first {
        let expected: Vec<String> = (0..2)
            .map(|n| rates_fate(&rates, Direction::ToServer, payload.as_bytes(), n).to_string())
            .collect();
        assert_eq!(fates, &expected, "{payload}");
    }
    let other_seed = fates_through_relay(Rates { seed: 8, ..rates }, &in_order, false);
    assert_ne!(first, other_seed, "another seed should give other fates");
}

#[test]
fn a_retransmission_gets_its_own_fate() {
    let rates = Rates {
        loss: 0.5,
        seed: 3,
        ..Rates::default()
    };
    // Among many payloads, some are dropped the first time and forwarded the second.
    let recovered = (0..200)
        .map(|i| format!("m{i}"))
        .filter(|p| {
            let first = rates_fate(&rates, Direction::ToServer, p.as_bytes(), 0).action;
            let second = rates_fate(&rates, Direction::ToServer, p.as_bytes(), 1).action;
            first == Action::Drop && second != Action::Drop
        })
        .count();
    assert!(
        (30..=70).contains(&recovered),
        "about a quarter of 200 should be lost then delivered, got {recovered}"
    );
}

#[test]
fn loss_over_ten_thousand_datagrams_is_close_to_the_rate() {
    let exchange = Exchange::new();
    let server = Peer::new(&exchange, "sink");
    let client = Peer::new(&exchange, "client");
    let rates = Rates {
        loss: 0.3,
        seed: 11,
        ..Rates::default()
    };
    let relay = Relay::start(
        LOOPBACK_ANY.parse().unwrap(),
        RelayConfig {
            record: false,
            ..RelayConfig::new(server.addr()).rates(rates)
        },
    )
    .unwrap();
    let received = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&received);
    let done = Arc::new(AtomicBool::new(false));
    let finished = Arc::clone(&done);
    let sink = server.socket().try_clone().unwrap();
    sink.set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    // Reads until told that everything was sent (a short timeout, so that it notices).
    let reader = thread::spawn(move || {
        let mut buf = [0u8; 64];
        while !finished.load(Ordering::Relaxed) {
            if sink.recv(&mut buf).is_ok() {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    // Paced in batches: each batch is fully decided and received before the next is sent, so
    // no socket buffer overflows and every loss is the relay's decision.
    let total = 10_000u64;
    let deadline = Deadline::after(Duration::from_secs(30));
    for batch in 0..total / 200 {
        for i in 0..200 {
            client.send_to(
                format!("datagram {}", batch * 200 + i).as_bytes(),
                relay.addr(),
            );
        }
        wait_for_decisions(&relay, Direction::ToServer, (batch + 1) * 200);
        while received.load(Ordering::Relaxed) < relay.stats().to_server.forwarded {
            assert!(!deadline.expired(), "the sink fell behind");
            thread::sleep(Duration::from_millis(1));
        }
    }
    let stats = relay.shutdown();
    done.store(true, Ordering::Relaxed);
    reader.join().unwrap();
    let loss = stats.to_server.dropped as f64 / total as f64;
    assert!(
        (0.27..=0.33).contains(&loss),
        "observed loss {loss:.4} at --loss 0.3"
    );
    assert_eq!(
        received.load(Ordering::Relaxed),
        stats.to_server.forwarded,
        "everything forwarded arrived"
    );
    assert_eq!(stats.to_server.total(), total);
}

// ---------------------------------------------------------------------------------------------
// Several clients, hostile input

#[test]
fn several_clients_each_get_their_own_replies() {
    let exchange = Exchange::new();
    let server = Peer::new(&exchange, "server");
    let relay = start(server.addr(), |c| c);
    let clients: Vec<Peer> = (0..5)
        .map(|i| Peer::new(&exchange, &format!("client {i}")))
        .collect();
    let echo = thread::spawn(move || {
        let mut upstreams = HashSet::new();
        for _ in 0..5 {
            let (data, from) = server.recv().expect("a request is missing");
            upstreams.insert(from);
            server.send_to(&[b"reply to ".as_slice(), &data].concat(), from);
        }
        upstreams.len()
    });
    for (i, client) in clients.iter().enumerate() {
        client.send_to(format!("client {i}").as_bytes(), relay.addr());
    }
    for (i, client) in clients.iter().enumerate() {
        let (data, from) = client.recv().expect("no reply came back");
        assert_eq!(data, format!("reply to client {i}").as_bytes());
        assert_eq!(from, relay.addr(), "replies come from the relay's address");
    }
    assert_eq!(
        echo.join().unwrap(),
        5,
        "the server sees one peer per client"
    );
}

#[test]
fn garbage_empty_and_largest_datagrams_pass_through() {
    let (server, client) = server_and_client();
    let relay = start(server.addr(), |c| c);
    // Bytes of every value in a fixed pseudo-random order, an empty datagram, the largest one.
    let garbage: Vec<u8> = (0..1000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let largest = vec![0xa5; 65_507];
    for payload in [
        garbage.as_slice(),
        b"",
        largest.as_slice(),
        b"still working",
    ] {
        client.send_to(payload, relay.addr());
        let (data, _) = server.recv().expect("a datagram did not pass through");
        assert!(
            data == payload,
            "a datagram of {} bytes arrived as {} bytes",
            payload.len(),
            data.len()
        );
    }
}

#[test]
fn hostile_datagrams_are_dropped_as_decided_and_never_stop_it() {
    let (server, client) = server_and_client();
    let rates = Rates {
        loss: 0.5,
        seed: 5,
        ..Rates::default()
    };
    let relay = start(server.addr(), |c| c.rates(rates));
    let payloads: Vec<Vec<u8>> = (0..50u32)
        .map(|i| (0..(i * 997 % 3000)).map(|j| (i ^ j) as u8).collect())
        .collect();
    for payload in &payloads {
        client.send_to(payload, relay.addr());
    }
    wait_for_decisions(&relay, Direction::ToServer, 50);
    let arrived = drain(&server, Duration::from_millis(300));
    let mut seen = std::collections::HashMap::new();
    let expected: Vec<&Vec<u8>> = payloads
        .iter()
        .filter(|p| {
            let n = seen.entry(p.to_vec()).or_insert(0);
            *n += 1;
            rates_fate(&rates, Direction::ToServer, p, *n - 1).action != Action::Drop
        })
        .collect();
    assert_eq!(arrived.len(), expected.len());
    assert!(
        arrived.iter().zip(&expected).all(|(a, e)| a == *e),
        "what arrived is exactly what the fates forwarded"
    );
    // And it still relays.
    client.send_to(b"after the storm", relay.addr());
    wait_for_decisions(&relay, Direction::ToServer, 51);
}

#[test]
fn rates_outside_zero_to_one_are_refused() {
    for rates in [
        Rates {
            loss: 1.5,
            ..Rates::default()
        },
        Rates {
            loss: 0.6,
            dup: 0.6,
            ..Rates::default()
        },
    ] {
        let err = Relay::start(
            LOOPBACK_ANY.parse().unwrap(),
            RelayConfig::new(LOOPBACK_ANY.parse().unwrap()).rates(rates),
        );
        assert!(err.is_err(), "{rates:?} should be refused");
    }
}

#[test]
fn an_idle_session_is_closed_and_a_returning_client_gets_a_new_one() {
    let (server, client) = server_and_client();
    let relay = start(server.addr(), |c| {
        c.idle_timeout(Duration::from_millis(300))
    });
    client.send_to(b"first", relay.addr());
    assert_eq!(server.recv().unwrap().0, b"first");
    assert_eq!(relay.sessions(), 1);
    let deadline = Deadline::after(Duration::from_secs(5));
    while relay.sessions() > 0 {
        assert!(
            !deadline.expired(),
            "the idle session was not closed within 5 s"
        );
        thread::sleep(Duration::from_millis(10));
    }
    client.send_to(b"back again", relay.addr());
    let (data, upstream) = server.recv().unwrap();
    assert_eq!(data, b"back again");
    assert_eq!(relay.sessions(), 1);
    // The server answers through the new session, and the reply still reaches the client.
    server.send_to(b"welcome back", upstream);
    assert_eq!(client.recv().unwrap().0, b"welcome back");
}

/// Session exhaustion: one process opens 1,024 sessions (4 addresses x 256 ports, the most
/// the relay holds) and keeps them; a newcomer from another address must still be relayed
/// (the relay limits sessions per address and evicts the longest-idle one when full).
#[test]
fn a_newcomer_is_relayed_while_one_process_holds_every_session() {
    use course_harness::drip::spread_source;
    let _ = socket_course::fd_limit::raise(4_096);
    let echo = std::net::UdpSocket::bind(LOOPBACK_ANY).unwrap();
    echo.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let server = echo.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = Arc::clone(&stop);
    let echoing = thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while !stopping.load(Ordering::SeqCst) {
            if let Ok((len, from)) = echo.recv_from(&mut buf) {
                let _ = echo.send_to(&buf[..len], from);
            }
        }
    });
    let relay = start(server, |c| c.idle_timeout(Duration::from_secs(60)));
    let mut hoard = Vec::new();
    for n in 0..1_024 {
        let socket = std::net::UdpSocket::bind((spread_source(n / 256), 0)).unwrap();
        socket.send_to(b"mine", relay.addr()).unwrap();
        hoard.push(socket);
        if n % 64 == 63 {
            // Pacing: let the relay open the sessions before the next burst.
            thread::sleep(Duration::from_millis(20));
        }
    }
    wait_for_decisions(&relay, Direction::ToServer, 1_024);
    let newcomer = std::net::UdpSocket::bind((spread_source(1_500), 0)).unwrap();
    newcomer
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut answered = 0;
    for _ in 0..6 {
        newcomer.send_to(b"hello?", relay.addr()).unwrap();
        let mut buf = [0u8; 64];
        if let Ok((len, _)) = newcomer.recv_from(&mut buf) {
            answered += usize::from(&buf[..len] == b"hello?");
        }
    }
    stop.store(true, Ordering::SeqCst);
    let _ = echoing.join();
    assert!(
        answered >= 5,
        "a newcomer was answered {answered} times of 6 while one process held 1,024 sessions"
    );
}

// ---------------------------------------------------------------------------------------------
// The lossy-relay program

fn lossy_relay(server: SocketAddr, args: &[&str]) -> (ChildGuard, SocketAddr) {
    let mut command = Command::new(course_harness::program!("lossy-relay"));
    command
        .args(["--bind", LOOPBACK_ANY, "--server", &server.to_string()])
        .args(args);
    let mut child = ChildGuard::spawn(command);
    let addr = child.listening_addr();
    (child, addr)
}

#[test]
fn the_program_relays_and_traces_each_datagram() {
    let (server, client) = server_and_client();
    let (mut relay, addr) = lossy_relay(server.addr(), &["--trace"]);
    assert_eq!(
        relay.stderr_line(),
        format!("relaying to {}", server.addr())
    );
    client.send_to(b"hello", addr);
    let (data, _) = server
        .recv_while_running(&mut relay)
        .expect("nothing arrived through lossy-relay");
    assert_eq!(data, b"hello");
    let trace = relay.stderr_line();
    assert!(
        trace.contains("client->server")
            && trace.contains("forward")
            && trace.contains("\"hello\""),
        "{trace}"
    );
}

#[test]
fn the_program_applies_a_script_file() {
    let (server, client) = server_and_client();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("fates.txt");
    std::fs::write(&script, "to-server 1 drop\n").unwrap();
    let (mut relay, addr) = lossy_relay(server.addr(), &["--script", script.to_str().unwrap()]);
    client.send_to(b"lost", addr);
    client.send_to(b"kept", addr);
    let (data, _) = server.recv_while_running(&mut relay).unwrap();
    assert_eq!(data, b"kept");
}

#[cfg(unix)]
#[test]
fn ctrl_c_prints_the_counters() {
    let (server, client) = server_and_client();
    let (mut relay, addr) = lossy_relay(server.addr(), &[]);
    client.send_to(b"one", addr);
    server.recv_while_running(&mut relay).unwrap();
    let status = Command::new("kill")
        .args(["-INT", &relay.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exited = relay.wait_exit(Duration::from_secs(5));
    assert!(exited.status.success(), "{exited:?}");
    let counters = exited.stderr.join("\n");
    assert!(
        counters.contains("client->server: 1 datagrams: 1 forwarded, 0 dropped"),
        "{counters}"
    );
}

/// Threads and open descriptors of process `pid`, from Linux's /proc.
#[cfg(target_os = "linux")]
fn threads_and_fds(pid: u32) -> (usize, usize) {
    let count = |dir: String| std::fs::read_dir(dir).map_or(0, |entries| entries.count());
    (
        count(format!("/proc/{pid}/task")),
        count(format!("/proc/{pid}/fd")),
    )
}

#[cfg(target_os = "linux")]
#[test]
fn the_program_frees_the_descriptors_of_idle_clients_and_starts_no_thread_per_client() {
    const CLIENTS: usize = 200;
    let exchange = Exchange::new();
    let server = Peer::new(&exchange, "server");
    let (mut relay, addr) = lossy_relay(server.addr(), &["--idle-timeout", "0.5"]);
    let (threads_before, fds_before) = threads_and_fds(relay.id());
    // 200 clients, one datagram each, each from its own port, 50 per address (one address
    // may hold 64 sessions): 200 sessions. (The sockets are kept open, so that the OS cannot
    // give a closed one's port to the next.)
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let socket =
                std::net::UdpSocket::bind((course_harness::drip::spread_source(i / 50), 0));
            let socket = socket.unwrap();
            net::prepare_udp(&socket).unwrap();
            socket
        })
        .collect();
    for (i, client) in clients.iter().enumerate() {
        client
            .send_to(format!("client {i}").as_bytes(), addr)
            .unwrap();
    }
    for _ in 0..CLIENTS {
        server
            .recv_while_running(&mut relay)
            .expect("a client's datagram was not relayed");
    }
    let (threads_busy, fds_busy) = threads_and_fds(relay.id());
    drop(clients);
    // Then silence: half a second later every session must be closed.
    let deadline = Deadline::after(Duration::from_secs(10));
    let (threads_after, fds_after) = loop {
        let now = threads_and_fds(relay.id());
        if (now.0 <= threads_before && now.1 <= fds_before) || deadline.expired() {
            break now;
        }
        relay.assert_running();
        thread::sleep(Duration::from_millis(50));
    };
    let figures = format!(
        "threads {threads_before} -> {threads_busy} -> {threads_after}, \
         descriptors {fds_before} -> {fds_busy} -> {fds_after}"
    );
    assert!(
        fds_busy >= fds_before + CLIENTS && threads_busy <= threads_before,
        "one socket per session and no thread per session expected ({figures})"
    );
    assert!(
        threads_after <= threads_before && fds_after <= fds_before,
        "idle sessions were not freed within 10 s: {figures}"
    );
}

#[test]
fn bad_flags_and_scripts_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("bad.txt");
    std::fs::write(&script, "to-server 1 drop\nto-server x drop\n").unwrap();
    for (args, message) in [
        (vec!["--loss", "1.5"], "a probability goes from 0 to 1"),
        (
            vec!["--server", "192.0.2.1:9"],
            "only forwards to this machine",
        ),
        (vec!["--script", script.to_str().unwrap()], "line 2"),
    ] {
        let mut command = Command::new(course_harness::program!("lossy-relay"));
        command.args(["--bind", LOOPBACK_ANY]).args(&args);
        let exited = ChildGuard::run_to_end(command, b"", Duration::from_secs(10));
        exited.expect_code(&format!("lossy-relay {args:?}"), 2);
        let stderr = exited.stderr_text();
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

/// The relay's resident memory in KiB (Linux).
#[cfg(target_os = "linux")]
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Memory: 1,500 datagrams of 60 KB (90 MB) sent through `--delay-ms 3000` within about a
/// second; the delay queue holds at most `--max-queued` bytes (32 MiB by default), so the
/// relay stays far below what it was sent.
#[cfg(target_os = "linux")]
#[test]
fn the_delay_queue_is_bounded_in_bytes() {
    let sink = std::net::UdpSocket::bind(LOOPBACK_ANY).unwrap();
    let (mut relay, addr) = lossy_relay(sink.local_addr().unwrap(), &["--delay-ms", "3000"]);
    let client = net::udp_socket();
    let payload = vec![b'x'; 60_000];
    let mut peak = 0;
    for i in 0..1_500 {
        client.send_to(&payload, addr).unwrap();
        if i % 8 == 7 {
            // Pacing: the relay's receive buffer holds about 16 of these; let it read them.
            thread::sleep(Duration::from_millis(1));
            peak = peak.max(rss_kib(relay.id()));
        }
    }
    relay.assert_running();
    for _ in 0..10 {
        peak = peak.max(rss_kib(relay.id()));
        thread::sleep(Duration::from_millis(50)); // sampling the memory, not waiting for it
    }
    assert!(
        peak < 80 * 1024,
        "90 MB went through a 3 s delay and the relay's memory reached {} MiB (the queue should \
         hold at most 32 MiB)",
        peak / 1024
    );
}

/// A trace nobody reads: stderr is a pipe the test never empties after the first line (a
/// paused pager). The relay must go on relaying, dropping trace lines instead of waiting.
#[test]
fn a_trace_nobody_reads_does_not_stop_the_relay() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let server = std::net::UdpSocket::bind(LOOPBACK_ANY).unwrap();
    server
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut child = Command::new(course_harness::program!("lossy-relay"));
    child
        .args(["--bind", LOOPBACK_ANY, "--trace", "--server"])
        .arg(server.local_addr().unwrap().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = child.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut reader = BufReader::new(stderr);
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    let addr: SocketAddr = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .parse()
        .unwrap();
    // From here on nobody reads stderr: its pipe (64 KiB) fills after about 700 lines.
    let client = net::udp_socket();
    let mut received = 0;
    let mut buf = [0u8; 64];
    for i in 0..3_000 {
        client
            .send_to(format!("datagram {i}").as_bytes(), addr)
            .unwrap();
        if server.recv_from(&mut buf).is_ok() {
            received += 1;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    drop(reader);
    assert!(
        received >= 2_900,
        "with a trace nobody reads, the server received {received} of 3,000 datagrams"
    );
}

/// Empty datagrams are not free to hold: each delayed datagram is charged its bookkeeping
/// (`QUEUED_OVERHEAD`) besides its payload, so `max_queued` bounds how many are held too.
#[test]
fn empty_delayed_datagrams_count_against_the_queue_bound() {
    let sink = std::net::UdpSocket::bind(LOOPBACK_ANY).unwrap();
    let relay = start(sink.local_addr().unwrap(), |mut c| {
        c.max_queued = 100 * lossy_relay::QUEUED_OVERHEAD;
        c.record = false;
        c.rates(Rates {
            loss: 0.0,
            dup: 0.0,
            reorder: 0.0,
            delay: Duration::from_secs(10),
            seed: 1,
        })
    });
    let client = net::udp_socket();
    for i in 0..1_000 {
        client.send_to(b"", relay.addr()).unwrap();
        if i % 100 == 99 {
            thread::sleep(Duration::from_millis(5)); // pacing: let the relay read them
        }
    }
    wait_for_decisions(&relay, Direction::ToServer, 1_000);
    let stats = relay.stats();
    assert!(
        stats.queue_full >= 850,
        "1,000 empty datagrams went into a queue bounded to 100 datagrams' worth and \
         {} were dropped (queue full)",
        stats.queue_full
    );
}

/// Session churn: 17 addresses open 3,000 new sessions (each address within its share),
/// far more than the table holds. A client that sent one datagram and is quiet since must
/// keep its session: eviction takes from the addresses holding the most sessions, and an
/// address opening sessions faster than its rate replaces its own.
#[test]
fn churning_addresses_do_not_evict_a_quiet_client() {
    use course_harness::drip::spread_source;
    let _ = socket_course::fd_limit::raise(4_096);
    let server = std::net::UdpSocket::bind(LOOPBACK_ANY).unwrap();
    server
        .set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let server_addr = server.local_addr().unwrap();
    // The server reads all the time (the churn would fill its buffer) and notes where the
    // quiet client's datagrams come from.
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = Arc::clone(&stop);
    let reading = thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 64];
        while !stopping.load(Ordering::SeqCst) {
            if let Ok((len, from)) = server.recv_from(&mut buf)
                && buf[..len].starts_with(b"legit")
            {
                seen.push(from);
            }
        }
        seen
    });
    let relay = start(server_addr, |mut c| {
        c.record = false;
        c
    });
    let quiet = std::net::UdpSocket::bind((spread_source(1_700), 0)).unwrap();
    quiet.send_to(b"legit 1", relay.addr()).unwrap();
    for n in 0..3_000 {
        let churn = std::net::UdpSocket::bind((spread_source(1_000 + n % 17), 0)).unwrap();
        churn.send_to(b"x", relay.addr()).unwrap();
        if n % 100 == 99 {
            thread::sleep(Duration::from_millis(5)); // pacing: let the relay read them
        }
    }
    wait_for_decisions(&relay, Direction::ToServer, 3_001);
    quiet.send_to(b"legit 2", relay.addr()).unwrap();
    wait_for_decisions(&relay, Direction::ToServer, 3_002);
    thread::sleep(Duration::from_millis(200)); // the last datagram's way to the server
    stop.store(true, Ordering::SeqCst);
    let seen = reading.join().unwrap();
    assert!(
        seen.len() == 2 && seen[0] == seen[1],
        "the quiet client's datagrams reached the server from {seen:?}: its session was \
         evicted by 3,000 new sessions from 17 other addresses ({} evictions)",
        relay.stats().evicted
    );
}

/// The program under a descriptor limit lower than its table (`prlimit --nofile=128`, soft
/// and hard, so it cannot be raised): 4 addresses x 40 ports hold sessions, and a newcomer
/// must still be relayed (the table is sized from the limit, and a socket that cannot be
/// opened for lack of descriptors makes the longest-idle session close).
#[cfg(target_os = "linux")]
#[test]
fn under_a_low_descriptor_limit_a_newcomer_is_still_relayed() {
    use course_harness::drip::spread_source;
    if Command::new("prlimit").arg("--version").output().is_err() {
        eprintln!("skipped: no prlimit on this system");
        return;
    }
    let echo = std::net::UdpSocket::bind(LOOPBACK_ANY).unwrap();
    echo.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let server = echo.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = Arc::clone(&stop);
    let echoing = thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while !stopping.load(Ordering::SeqCst) {
            if let Ok((len, from)) = echo.recv_from(&mut buf) {
                let _ = echo.send_to(&buf[..len], from);
            }
        }
    });
    let mut command = Command::new("prlimit");
    command
        .arg("--nofile=128")
        .arg(course_harness::program!("lossy-relay"))
        .args(["--bind", LOOPBACK_ANY, "--server", &server.to_string()]);
    let mut relay = ChildGuard::spawn(command);
    let addr = relay.listening_addr();
    let mut hoard = Vec::new();
    for n in 0..160 {
        let socket = std::net::UdpSocket::bind((spread_source(2_000 + n / 40), 0)).unwrap();
        socket.send_to(b"mine", addr).unwrap();
        hoard.push(socket);
        if n % 40 == 39 {
            thread::sleep(Duration::from_millis(20)); // pacing: let it open the sessions
        }
    }
    thread::sleep(Duration::from_millis(200));
    let newcomer = std::net::UdpSocket::bind((spread_source(2_100), 0)).unwrap();
    newcomer
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut answered = 0;
    for _ in 0..6 {
        newcomer.send_to(b"hello?", addr).unwrap();
        let mut buf = [0u8; 64];
        if let Ok((len, _)) = newcomer.recv_from(&mut buf) {
            answered += usize::from(&buf[..len] == b"hello?");
        }
    }
    stop.store(true, Ordering::SeqCst);
    let _ = echoing.join();
    relay.assert_running();
    assert!(
        answered >= 5,
        "under a limit of 128 descriptors, a newcomer was answered {answered} times of 6 while \
         160 sessions were held"
    );
}

/// Bytes waiting in the receive queue of the UDP socket bound to 127.0.0.1:`port` (Linux's
/// /proc/net/udp), `None` if there is no such socket.
#[cfg(target_os = "linux")]
fn udp_receive_queue(port: u16) -> Option<u64> {
    let table = std::fs::read_to_string("/proc/net/udp").ok()?;
    let local = format!("0100007F:{port:04X}");
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.get(1) != Some(&local.as_str()) {
            return None;
        }
        let (_, rx) = fields.get(4)?.split_once(':')?;
        u64::from_str_radix(rx, 16).ok()
    })
}

/// Warnings to a stderr nobody reads: with no descriptor left for any session
/// (`prlimit --nofile=6`), every datagram from a client is a failure to report. The relay
/// must go on reading its socket: its warnings go through the writer that drops what stderr
/// cannot take, at most one a second, never from the I/O thread itself.
#[cfg(target_os = "linux")]
#[test]
fn warnings_to_a_stderr_nobody_reads_do_not_stop_the_relay() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    if Command::new("prlimit").arg("--version").output().is_err() {
        eprintln!("skipped: no prlimit on this system");
        return;
    }
    let server = std::net::UdpSocket::bind(LOOPBACK_ANY).unwrap();
    let mut child = Command::new("prlimit");
    child
        .arg("--nofile=6")
        .arg(course_harness::program!("lossy-relay"))
        .args(["--bind", LOOPBACK_ANY, "--server"])
        .arg(server.local_addr().unwrap().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = child.spawn().unwrap();
    let mut reader = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    let addr: SocketAddr = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("expected `listening on ADDR`, got {first:?}"))
        .parse()
        .unwrap();
    // From here on nobody reads stderr: its pipe (64 KiB) holds about 700 lines.
    let client = net::udp_socket();
    for i in 0..3_000 {
        client.send_to(b"no socket for me", addr).unwrap();
        if i % 100 == 99 {
            thread::sleep(Duration::from_millis(2)); // pacing: let the relay read them
        }
    }
    thread::sleep(Duration::from_millis(500));
    let waiting = udp_receive_queue(addr.port());
    let _ = child.kill();
    let _ = child.wait();
    drop(reader);
    assert_eq!(
        waiting,
        Some(0),
        "after 3,000 datagrams it could not open a session for, with a stderr nobody reads, \
         the relay stopped reading its socket (bytes left in its receive queue)"
    );
}
