//! Chapter 2: UDP basics. Grade this chapter with `cargo test --test 'ch02*'`; every test calls
//! your code in `exercises/src/ch02_udp/`, directly or through the chapter's programs.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use course_catalog::{fill, text};
use course_harness::child::{NoLine, Stream};
use course_harness::net::Family::{self, V4, V6};
use course_harness::show::{OrFail, Report, expect_bytes};
use course_harness::start_learner;
use course_harness::{ChildGuard, Exchange, Peer, Running, SharedOutput, call_learner, net};
use rstest::rstest;
// `recv_one` is also the name of a module there: import only the function.
use socket_course::ch02_udp::recv_one::recv_one;
use socket_course::ch02_udp::{
    Datagram, MAX_UDP_PAYLOAD, REPLY, RecvError, RequestError, answer_one, recv_limited, request,
    run_client, run_server,
};

/// The socket your code receives on, named "your socket" in the exchange, and a clone of it to
/// hand to your code.
fn your_socket(exchange: &Exchange) -> (Peer, UdpSocket) {
    your_socket_on(exchange, V4)
}

/// [`your_socket`] on the loopback address of `family`.
fn your_socket_on(exchange: &Exchange, family: Family) -> (Peer, UdpSocket) {
    let server = Peer::on(exchange, "your socket", family);
    let clone = server.socket().try_clone().unwrap();
    (server, clone)
}

/// Fails with the exchange unless `got` is a datagram with `data` from `from`.
#[track_caller]
fn expect_datagram(got: Datagram, data: &[u8], from: SocketAddr, exchange: &Exchange) {
    expect_bytes(
        &fill("what.datagram_returned", &[]),
        data,
        &got.data,
        Some(exchange),
    );
    if got.from != from {
        Report::new(fill("ch02.wrong_sender", &[]))
            .addr("expected", from)
            .addr("got", got.from)
            .exchange(exchange)
            .fail();
    }
}

/// Fails with the exchange unless `peer` receives `expected` from `from`.
#[track_caller]
fn expect_reply(peer: &Peer, expected: &[u8], from: SocketAddr, exchange: &Exchange) {
    check_reply(peer.recv(), expected, from, exchange);
}

/// [`expect_reply`] from a program under test: fails at once if the program has crashed.
#[track_caller]
fn expect_program_reply(
    peer: &Peer,
    program: &mut ChildGuard,
    expected: &[u8],
    from: SocketAddr,
    exchange: &Exchange,
) {
    check_reply(peer.recv_while_running(program), expected, from, exchange);
}

#[track_caller]
fn check_reply(
    received: io::Result<(Vec<u8>, SocketAddr)>,
    expected: &[u8],
    from: SocketAddr,
    exchange: &Exchange,
) {
    match received {
        Ok((data, sender)) if sender == from => {
            expect_bytes(&fill("what.reply", &[]), expected, &data, Some(exchange))
        }
        Ok((_, sender)) => Report::new(fill("ch02.reply_wrong_address", &[]))
            .addr("expected from", from)
            .addr("came from", sender)
            .exchange(exchange)
            .fail(),
        Err(e) => Report::new(fill("test.no_reply", &[]))
            .bytes("expected", expected)
            .line("error", format!("{:?} (nothing came in time)", e.kind()))
            .line("hint", course_catalog::text("hint.reply_to_sender"))
            .exchange(exchange)
            .fail(),
    }
}

/// A test server that answers each request with `reply:` + request, `count` times.
fn replying_server(
    exchange: &Exchange,
    count: usize,
) -> (SocketAddr, thread::JoinHandle<Vec<Vec<u8>>>) {
    replying_server_on(exchange, count, V4)
}

/// [`replying_server`] on the loopback address of `family`.
fn replying_server_on(
    exchange: &Exchange,
    count: usize,
    family: Family,
) -> (SocketAddr, thread::JoinHandle<Vec<Vec<u8>>>) {
    let server = Peer::on(exchange, "server", family);
    let addr = server.addr();
    // The client under test may be a program that `program!` builds first (seconds on a busy
    // machine): this server waits longer than a test's usual read timeout for its requests.
    server
        .socket()
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("test setup: a read timeout");
    let handle = thread::spawn(move || {
        let mut requests = Vec::new();
        for _ in 0..count {
            let Ok((data, from)) = server.recv() else {
                break;
            };
            server.send_to(&[b"reply:".as_slice(), &data].concat(), from);
            requests.push(data);
        }
        requests
    });
    (addr, handle)
}

/// The largest UDP payload over IPv6: 65,535 bytes (the payload length field) minus 8 (UDP
/// header); IPv6's 40-byte header is not counted in that field.
const MAX_UDP_PAYLOAD_V6: usize = 65_527;

/// Exercise 2.1: `cargo test --test ch02_udp recv_one::`
mod recv_one {
    use super::*;

    #[rstest]
    #[case::article_d("Hello UDP".as_bytes())]
    #[case::empty_datagram(b"")]
    #[case::japanese("こんにちは".as_bytes())]
    #[case::not_utf8(&[0xff, 0xfe, 0x00, 0x80])]
    #[case::largest_ipv4_payload(&[b'x'; MAX_UDP_PAYLOAD])]
    fn recv_one_returns_the_whole_datagram_and_its_sender(#[case] payload: &'static [u8]) {
        let exchange = Exchange::new();
        let (server, learner) = your_socket(&exchange);
        let client = Peer::new(&exchange, "client");
        // Sent before your code runs: the datagram waits in the receive buffer.
        client.send_to(payload, server.addr());
        let got = call_learner(move || recv_one(&learner))
            .or_fail("test.returned_error", &[("call", &"recv_one")]);
        expect_datagram(got, payload, client.addr(), &exchange);
    }

    #[test]
    fn recv_one_keeps_datagram_boundaries() {
        let exchange = Exchange::new();
        let (server, learner) = your_socket(&exchange);
        let client = Peer::new(&exchange, "client");
        client.send_to(b"first", server.addr());
        client.send_to(b"second", server.addr());
        let (first, second) = call_learner(move || (recv_one(&learner), recv_one(&learner)));
        expect_datagram(
            first.or_fail("test.nth_call_error", &[("n", &1), ("call", &"recv_one")]),
            b"first",
            client.addr(),
            &exchange,
        );
        expect_datagram(
            second.or_fail("test.nth_call_error", &[("n", &2), ("call", &"recv_one")]),
            b"second",
            client.addr(),
            &exchange,
        );
    }

    /// On IPv6 the largest payload is 65,527 bytes (no 20-byte IPv4 header to subtract), and
    /// the sender is an `[::1]` address.
    #[test]
    fn recv_one_returns_the_largest_ipv6_payload_and_its_v6_sender() {
        if !V6.usable() {
            return;
        }
        let exchange = Exchange::new();
        let (server, learner) = your_socket_on(&exchange, V6);
        let client = Peer::on(&exchange, "client", V6);
        let payload = vec![b'x'; MAX_UDP_PAYLOAD_V6];
        client.send_to(&payload, server.addr());
        let got = call_learner(move || recv_one(&learner))
            .or_fail("test.returned_error", &[("call", &"recv_one")]);
        expect_datagram(got, &payload, client.addr(), &exchange);
    }
}

/// Exercise 2.2: `cargo test --test ch02_udp limits::`
mod limits {
    use super::*;

    #[rstest]
    #[case::exactly_the_limit(1024, 1024)]
    #[case::empty_with_limit_zero(0, 0)]
    #[case::well_below(5, 1024)]
    fn a_datagram_within_the_limit_is_returned(#[case] size: usize, #[case] limit: usize) {
        let exchange = Exchange::new();
        let (server, learner) = your_socket(&exchange);
        let client = Peer::new(&exchange, "client");
        let payload = vec![b'a'; size];
        client.send_to(&payload, server.addr());
        match call_learner(move || recv_limited(&learner, limit)) {
            Ok(got) => expect_datagram(got, &payload, client.addr(), &exchange),
            Err(e) => {
                let error = format!("{e:?}");
                let args: [(&str, &dyn std::fmt::Display); 3] =
                    [("limit", &limit), ("size", &size), ("error", &error)];
                panic!("{}", fill("ch02.rejected_within", &args))
            }
        }
    }

    #[rstest]
    #[case::one_byte_too_many(1025, 1024)]
    #[case::largest_ipv4_payload(MAX_UDP_PAYLOAD, 1024)]
    #[case::anything_with_limit_zero(1, 0)]
    fn a_datagram_over_the_limit_is_reported_with_its_real_size(
        #[case] size: usize,
        #[case] limit: usize,
    ) {
        let exchange = Exchange::new();
        let (server, learner) = your_socket(&exchange);
        let client = Peer::new(&exchange, "client");
        client.send_to(&vec![b'a'; size], server.addr());
        match call_learner(move || recv_limited(&learner, limit)) {
            Err(RecvError::TooLong {
                from,
                len,
                limit: reported,
            }) => {
                assert_eq!(
                    (from, len, reported),
                    (client.addr(), size, limit),
                    "{}",
                    text("ch02.too_long_fields")
                );
            }
            other => {
                let got = format!("{other:?}");
                let args: [(&str, &dyn std::fmt::Display); 3] =
                    [("size", &size), ("limit", &limit), ("got", &got)];
                panic!("{}", fill("ch02.should_be_too_long", &args))
            }
        }
    }

    #[test]
    fn a_rejected_datagram_does_not_hide_the_next_one() {
        let exchange = Exchange::new();
        let (server, learner) = your_socket(&exchange);
        let client = Peer::new(&exchange, "client");
        client.send_to(&[b'x'; 2000], server.addr());
        client.send_to(b"fits", server.addr());
        let (first, second) =
            call_learner(move || (recv_limited(&learner, 1024), recv_limited(&learner, 1024)));
        assert!(
            matches!(first, Err(RecvError::TooLong { len: 2000, .. })),
            "{}",
            fill(
                "ch02.should_be_too_long",
                &[
                    ("size", &2000),
                    ("limit", &1024),
                    ("got", &format!("{first:?}"))
                ]
            )
        );
        expect_datagram(
            second.or_fail("ch02.next_fits", &[("call", &"recv_limited")]),
            b"fits",
            client.addr(),
            &exchange,
        );
    }

    #[test]
    fn a_datagram_over_the_limit_is_reported_with_its_v6_sender_and_real_size() {
        if !V6.usable() {
            return;
        }
        let exchange = Exchange::new();
        let (server, learner) = your_socket_on(&exchange, V6);
        let client = Peer::on(&exchange, "client", V6);
        client.send_to(&vec![b'a'; MAX_UDP_PAYLOAD_V6], server.addr());
        client.send_to(b"fits", server.addr());
        let (big, small) =
            call_learner(move || (recv_limited(&learner, 1024), recv_limited(&learner, 1024)));
        match big {
            Err(RecvError::TooLong { from, len, limit }) => assert_eq!(
                (from, len, limit),
                (client.addr(), MAX_UDP_PAYLOAD_V6, 1024),
                "{}",
                text("ch02.too_long_fields")
            ),
            other => {
                let got = format!("{other:?}");
                let args: [(&str, &dyn std::fmt::Display); 3] = [
                    ("size", &MAX_UDP_PAYLOAD_V6),
                    ("limit", &1024),
                    ("got", &got),
                ];
                panic!("{}", fill("ch02.should_be_too_long", &args))
            }
        }
        expect_datagram(
            small.or_fail("ch02.next_fits", &[("call", &"recv_limited")]),
            b"fits",
            client.addr(),
            &exchange,
        );
    }
}

/// Exercise 2.3: `cargo test --test ch02_udp reply_server::`
mod reply_server {
    use super::*;

    #[test]
    fn the_server_answers_the_sender_with_the_articles_reply() {
        let exchange = Exchange::new();
        let (server, learner) = your_socket(&exchange);
        let client = Peer::new(&exchange, "client");
        client.send_to(b"hello", server.addr());
        let got = call_learner(move || answer_one(&learner, 1024))
            .or_fail("test.returned_error", &[("call", &"answer_one")]);
        expect_datagram(got, b"hello", client.addr(), &exchange);
        expect_reply(&client, REPLY, server.addr(), &exchange);
    }

    #[test]
    fn the_server_answers_a_v6_sender_at_its_v6_address() {
        if !V6.usable() {
            return;
        }
        let exchange = Exchange::new();
        let (server, learner) = your_socket_on(&exchange, V6);
        let client = Peer::on(&exchange, "client", V6);
        client.send_to(b"hello over IPv6", server.addr());
        let got = call_learner(move || answer_one(&learner, 1024))
            .or_fail("test.returned_error", &[("call", &"answer_one")]);
        expect_datagram(got, b"hello over IPv6", client.addr(), &exchange);
        expect_reply(&client, REPLY, server.addr(), &exchange);
    }

    #[test]
    fn the_reply_comes_without_a_deliberate_delay() {
        let exchange = Exchange::new();
        let (server, learner) = your_socket(&exchange);
        let client = Peer::new(&exchange, "client");
        let started = Instant::now();
        client.send_to(b"are you there?", server.addr());
        call_learner(move || answer_one(&learner, 1024))
            .or_fail("test.returned_error", &[("call", &"answer_one")]);
        expect_reply(&client, REPLY, server.addr(), &exchange);
        // Article A sleeps 1 s before replying; the client's receive buffer makes that needless.
        // The bound is far above any real delay on loopback, so only a deliberate sleep fails it.
        let took = started.elapsed();
        assert!(
            took < Duration::from_millis(800),
            "{}",
            fill("ch02.no_sleep", &[("took", &format!("{took:?}"))])
        );
    }

    #[test]
    fn each_client_gets_its_own_reply() {
        let exchange = Exchange::new();
        let (server, learner) = your_socket(&exchange);
        let clients: Vec<Peer> = (1..=3)
            .map(|n| Peer::new(&exchange, &format!("client {n}")))
            .collect();
        for (n, client) in clients.iter().enumerate() {
            client.send_to(format!("message {n}").as_bytes(), server.addr());
        }
        call_learner(move || {
            for _ in 0..3 {
                answer_one(&learner, 1024)?;
            }
            Ok::<(), RecvError>(())
        })
        .or_fail("test.returned_error", &[("call", &"answer_one")]);
        for client in &clients {
            expect_reply(client, REPLY, server.addr(), &exchange);
        }
    }

    #[rstest]
    #[case::empty_datagram(b"")]
    #[case::not_utf8(&[0xff, 0xfe, 0xfd])]
    fn odd_but_valid_datagrams_are_answered_too(#[case] payload: &'static [u8]) {
        let exchange = Exchange::new();
        let (server, learner) = your_socket(&exchange);
        let client = Peer::new(&exchange, "client");
        client.send_to(payload, server.addr());
        let got = call_learner(move || answer_one(&learner, 1024))
            .or_fail("test.returned_error", &[("call", &"answer_one")]);
        expect_datagram(got, payload, client.addr(), &exchange);
        expect_reply(&client, REPLY, server.addr(), &exchange);
    }

    #[test]
    fn a_datagram_over_the_limit_gets_no_reply_and_the_next_one_does() {
        let exchange = Exchange::new();
        let (server, learner) = your_socket(&exchange);
        let client = Peer::new(&exchange, "client");
        client.send_to(&[b'x'; 2000], server.addr());
        client.send_to(b"small", server.addr());
        let (big, small) =
            call_learner(move || (answer_one(&learner, 1024), answer_one(&learner, 1024)));
        assert!(
            matches!(big, Err(RecvError::TooLong { len: 2000, .. })),
            "{}",
            fill(
                "ch02.should_be_too_long",
                &[
                    ("size", &2000),
                    ("limit", &1024),
                    ("got", &format!("{big:?}"))
                ]
            )
        );
        expect_datagram(
            small.or_fail("ch02.next_fits", &[("call", &"answer_one")]),
            b"small",
            client.addr(),
            &exchange,
        );
        // Exactly one reply: the one for "small".
        expect_reply(&client, REPLY, server.addr(), &exchange);
        client
            .socket()
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        if let Ok((extra, _)) = client.recv() {
            Report::new(fill("ch02.over_limit_answered", &[]))
                .bytes("extra reply", &extra)
                .exchange(&exchange)
                .fail();
        }
    }
}

/// Exercise 2.4: `cargo test --test ch02_udp request::`
mod request {
    use super::*;

    #[test]
    fn request_returns_the_servers_reply() {
        let exchange = Exchange::new();
        let (server, handle) = replying_server(&exchange, 1);
        let client = Peer::new(&exchange, "your client");
        let socket = client.socket().try_clone().unwrap();
        let got = call_learner(move || request(&socket, server, b"ping", Duration::from_secs(2)));
        let requests = handle.join().unwrap();
        match got {
            Ok(reply) => expect_bytes(
                &fill("what.request_returned", &[("call", &"request")]),
                b"reply:ping",
                &reply,
                Some(&exchange),
            ),
            Err(e) => Report::new(fill("test.returned_error", &[("call", &"request")]))
                .line("error", format!("{e:?}"))
                .exchange(&exchange)
                .fail(),
        }
        assert_eq!(
            requests,
            [b"ping".to_vec()],
            "{}",
            text("test.server_received")
        );
    }

    #[test]
    fn request_returns_the_reply_of_a_v6_server() {
        if !V6.usable() {
            return;
        }
        let exchange = Exchange::new();
        let (server, handle) = replying_server_on(&exchange, 1, V6);
        let client = Peer::on(&exchange, "your client", V6);
        let socket = client.socket().try_clone().unwrap();
        let got = call_learner(move || request(&socket, server, b"ping6", Duration::from_secs(2)));
        let requests = handle.join().unwrap();
        let reply = got.unwrap_or_else(|e| {
            Report::new(fill("test.returned_error", &[("call", &"request")]))
                .line("error", format!("{e:?}"))
                .exchange(&exchange)
                .fail()
        });
        expect_bytes(
            &fill("what.request_returned", &[("call", &"request")]),
            b"reply:ping6",
            &reply,
            Some(&exchange),
        );
        assert_eq!(
            requests,
            [b"ping6".to_vec()],
            "{}",
            text("test.server_received")
        );
    }

    #[test]
    fn a_silent_server_gives_no_reply_after_the_timeout() {
        let exchange = Exchange::new();
        let silent = Peer::new(&exchange, "silent server");
        let client = Peer::new(&exchange, "your client");
        let socket = client.socket().try_clone().unwrap();
        let to = silent.addr();
        let timeout = Duration::from_millis(300);
        let started = Instant::now();
        let got = call_learner(move || request(&socket, to, b"anyone?", timeout));
        let took = started.elapsed();
        assert!(
            matches!(got, Err(RequestError::NoReply)),
            "{}",
            fill(
                "test.expected_got",
                &[("expected", &"Err(NoReply)"), ("got", &format!("{got:?}"))]
            )
        );
        assert!(
            took >= timeout,
            "{}",
            fill(
                "ch02.gave_up_early",
                &[
                    ("call", &"request"),
                    ("took", &format!("{took:?}")),
                    ("timeout", &format!("{timeout:?}"))
                ]
            )
        );
        // The request itself did go out.
        let (data, _) = silent.recv().or_fail("ch02.request_not_received", &[]);
        assert_eq!(data, b"anyone?");
    }

    #[test]
    fn a_port_where_nothing_listens_is_refused() {
        let exchange = Exchange::new();
        // Bind and close a socket: its port is now (almost certainly) unused.
        let gone = net::udp_socket().local_addr().unwrap();
        let client = Peer::new(&exchange, "your client");
        let socket = client.socket().try_clone().unwrap();
        // The OS answers with ICMP "port unreachable"; a connected UDP socket reports it.
        let got = call_learner(move || request(&socket, gone, b"hello?", Duration::from_secs(3)));
        assert!(
            matches!(got, Err(RequestError::Refused)),
            "{}",
            fill(
                "test.expected_got",
                &[("expected", &"Err(Refused)"), ("got", &format!("{got:?}"))]
            )
        );
    }

    #[test]
    fn a_strangers_datagram_is_not_taken_for_the_reply() {
        let exchange = Exchange::new();
        let server = Peer::new(&exchange, "server");
        let stranger = Peer::new(&exchange, "stranger");
        let client = Peer::new(&exchange, "your client");
        let server_addr = server.addr();
        let handle = thread::spawn(move || {
            let (data, from) = server.recv().or_fail("ch02.request_not_received", &[]);
            // Before the real reply, someone else sends to the client's port.
            stranger.send_to(b"fake reply", from);
            server.send_to(&[b"reply:".as_slice(), &data].concat(), from);
        });
        let socket = client.socket().try_clone().unwrap();
        let got =
            call_learner(move || request(&socket, server_addr, b"ping", Duration::from_secs(2)));
        handle.join().unwrap();
        match got {
            Ok(reply) => expect_bytes(
                &fill("what.request_returned", &[("call", &"request")]),
                b"reply:ping",
                &reply,
                Some(&exchange),
            ),
            Err(e) => Report::new(fill("test.returned_error", &[("call", &"request")]))
                .line("error", format!("{e:?}"))
                .exchange(&exchange)
                .fail(),
        }
    }
}

/// Exercise 2.5a: `cargo test --test ch02_udp run_server::`
mod run_server {
    use super::*;
    use std::sync::mpsc;

    /// Starts your `run_server` on 127.0.0.1:0 with `max_size`; returns the address of
    /// the socket it gave `ready`, the server's running code, and its `out` and `log`.
    fn start(
        max_size: usize,
    ) -> (
        SocketAddr,
        Running<io::Result<()>>,
        SharedOutput,
        SharedOutput,
    ) {
        start_on(max_size, V4)
    }

    /// [`start`] on the loopback address of `family`, port 0.
    fn start_on(
        max_size: usize,
        family: Family,
    ) -> (
        SocketAddr,
        Running<io::Result<()>>,
        SharedOutput,
        SharedOutput,
    ) {
        let (tx, rx) = mpsc::channel();
        let (out, log) = (SharedOutput::new(), SharedOutput::new());
        let (out2, log2) = (out.clone(), log.clone());
        let bind = family.any_port();
        let ready = move |socket: &UdpSocket| tx.send(socket.local_addr().unwrap()).unwrap();
        let mut server = start_learner(move || run_server(bind, max_size, ready, out2, log2));
        let addr = match rx.recv_timeout(Duration::from_secs(5)) {
            Ok(addr) => addr,
            Err(_) => {
                server.check();
                panic!("{}", text("ch02.no_ready"));
            }
        };
        assert_ne!(addr.port(), 0, "{}", text("ch02.ready_port_zero"));
        (addr, server, out, log)
    }

    /// Waits (bounded) until `output` holds `count` lines.
    fn lines(
        output: &SharedOutput,
        count: usize,
        server: &mut Running<io::Result<()>>,
    ) -> Vec<String> {
        let deadline = course_harness::Deadline::after(Duration::from_secs(5));
        loop {
            let lines = output.complete_lines();
            if lines.len() >= count || deadline.expired() {
                return lines;
            }
            server.check();
            thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn it_answers_each_datagram_and_prints_it_with_its_sender() {
        let exchange = Exchange::new();
        let (addr, mut server, out, _) = start(1024);
        let client = Peer::new(&exchange, "client");
        for text in ["hello", "こんにちは"] {
            client.send_to(text.as_bytes(), addr);
            expect_reply_while(&client, REPLY, addr, &exchange, &mut server);
        }
        let printed = lines(&out, 2, &mut server);
        let expected = vec![
            format!("from {}: hello", client.addr()),
            format!("from {}: こんにちは", client.addr()),
        ];
        assert_eq!(printed, expected, "{}", text("ch02.out_lines"));
    }

    #[test]
    fn it_answers_on_v6_and_prints_the_v6_sender() {
        if !V6.usable() {
            return;
        }
        let exchange = Exchange::new();
        let (addr, mut server, out, _) = start_on(1024, V6);
        let asked = V6.any_port();
        assert!(
            addr.is_ipv6(),
            "{}",
            fill("test.same_family", &[("asked", &asked), ("got", &addr)])
        );
        let client = Peer::on(&exchange, "client", V6);
        client.send_to(b"hello", addr);
        expect_reply_while(&client, REPLY, addr, &exchange, &mut server);
        let printed = lines(&out, 1, &mut server);
        let expected = vec![format!("from {}: hello", client.addr())];
        assert_eq!(printed, expected, "{}", text("ch02.out_lines"));
    }

    #[test]
    fn a_datagram_over_the_limit_is_logged_and_the_server_goes_on() {
        let exchange = Exchange::new();
        let (addr, mut server, out, log) = start(8);
        let client = Peer::new(&exchange, "client");
        client.send_to(b"nine byte", addr);
        let warning = lines(&log, 1, &mut server);
        assert!(
            warning.first().is_some_and(|w| w.starts_with("warning:")),
            "{}",
            fill("ch02.expected_warning", &[("got", &format!("{warning:?}"))])
        );
        client.send_to(b"fits", addr);
        expect_reply_while(&client, REPLY, addr, &exchange, &mut server);
        assert_eq!(
            lines(&out, 1, &mut server),
            vec![format!("from {}: fits", client.addr())]
        );
    }

    #[test]
    fn control_characters_are_printed_escaped() {
        let exchange = Exchange::new();
        let (addr, mut server, out, _) = start(1024);
        let client = Peer::new(&exchange, "client");
        client.send_to(b"two\nlines\x1b[2J", addr);
        expect_reply_while(&client, REPLY, addr, &exchange, &mut server);
        let printed = lines(&out, 1, &mut server);
        assert_eq!(
            printed,
            vec![format!("from {}: two\\nlines\\u{{1b}}[2J", client.addr())],
            "{}",
            text("ch02.escaped")
        );
    }

    /// Fails unless `client` receives `expected` from `from`, noticing a panic of `server`.
    #[track_caller]
    fn expect_reply_while(
        client: &Peer,
        expected: &[u8],
        from: SocketAddr,
        exchange: &Exchange,
        server: &mut Running<io::Result<()>>,
    ) {
        check_reply(
            client.recv_checking(|| server.check()),
            expected,
            from,
            exchange,
        );
    }
}

/// Exercise 2.5b, with `programs::`: `cargo test --test ch02_udp -- run_client:: programs::`
mod run_client {
    use super::*;

    /// Your `run_client` with `input`, against a server on `family` that replies to
    /// `count` requests: what the server received and what was printed, once
    /// `run_client` returned Ok.
    fn run_with(
        family: Family,
        input: &'static str,
        count: usize,
    ) -> (Vec<Vec<u8>>, Vec<u8>, Exchange) {
        let exchange = Exchange::new();
        let (server, handle) = replying_server_on(&exchange, count, family);
        let out = SharedOutput::new();
        let printed = out.clone();
        let input = io::Cursor::new(input);
        let got = call_learner(move || run_client(server, input, out, Duration::from_secs(2)));
        assert!(
            got.is_ok(),
            "{}",
            fill(
                "test.returned",
                &[("call", &"run_client"), ("got", &format!("{got:?}"))]
            )
        );
        (handle.join().unwrap(), printed.contents(), exchange)
    }

    #[test]
    fn each_line_gets_its_reply_printed_until_end() {
        let (requests, printed, exchange) = run_with(V4, "hello\r\nworld\nend\nnot sent\n", 2);
        assert_eq!(
            requests,
            [b"hello".to_vec(), b"world".to_vec()],
            "{}",
            text("test.server_received")
        );
        expect_bytes(
            &fill("what.printed", &[("name", &"run_client")]),
            b"reply:hello\nreply:world\n",
            &printed,
            Some(&exchange),
        );
    }

    #[test]
    fn a_v6_server_gets_each_line_and_its_reply_is_printed() {
        if !V6.usable() {
            return;
        }
        let (requests, printed, exchange) = run_with(V6, "hello six\n", 1);
        assert_eq!(requests, [b"hello six".to_vec()]);
        expect_bytes(
            &fill("what.printed", &[("name", &"run_client")]),
            b"reply:hello six\n",
            &printed,
            Some(&exchange),
        );
    }

    #[test]
    fn the_end_of_input_ends_it_too() {
        let (requests, printed, _) = run_with(V4, "only line", 1);
        assert_eq!(requests, [b"only line".to_vec()]);
        expect_bytes(
            &fill("what.printed", &[("name", &"run_client")]),
            b"reply:only line\n",
            &printed,
            None,
        );
    }

    #[test]
    fn a_silent_server_ends_it_with_no_reply() {
        let exchange = Exchange::new();
        let silent = Peer::new(&exchange, "silent server");
        let to = silent.addr();
        let input = io::Cursor::new("anyone?\nstill there?\n");
        let got =
            call_learner(move || run_client(to, input, io::sink(), Duration::from_millis(300)));
        assert!(
            matches!(got, Err(RequestError::NoReply)),
            "{}",
            fill(
                "test.expected_got",
                &[("expected", &"Err(NoReply)"), ("got", &format!("{got:?}"))]
            )
        );
        let (data, from) = silent.recv().or_fail("ch02.first_line_not_received", &[]);
        assert_eq!(data, b"anyone?");
        assert!(
            from.ip().is_loopback(),
            "{}",
            fill("ch02.bind_loopback", &[("from", &from)])
        );
    }
}

/// The programs udp-server, udp-client, udp-send and udp-recv:
/// `cargo test --test ch02_udp programs::`
mod programs {
    use super::*;

    fn program(name: &str) -> Command {
        let path = course_harness::program!(name);
        Command::new(path)
    }

    fn start(name: &str, args: &[&str]) -> (ChildGuard, SocketAddr) {
        let mut command = program(name);
        command.args(args);
        let mut child = ChildGuard::spawn(command);
        let addr = child.listening_addr();
        (child, addr)
    }

    #[test]
    fn udp_server_prints_each_message_and_replies() {
        let (mut server, addr) = start("udp-server", &["--bind", "127.0.0.1:0"]);
        let exchange = Exchange::new();
        exchange.name(addr, "udp-server");
        let client = Peer::new(&exchange, "client");
        client.send_to(b"hello", addr);
        expect_program_reply(&client, &mut server, REPLY, addr, &exchange);
        let line = server.stdout_line();
        assert!(
            line.contains("hello") && line.contains(&client.addr().to_string()),
            "{}",
            fill("test.stdout_was", &[("stdout", &format!("{line:?}"))])
        );
    }

    #[test]
    fn udp_server_keeps_serving_after_bad_input() {
        let (mut server, addr) = start("udp-server", &["--bind", "127.0.0.1:0"]);
        let exchange = Exchange::new();
        exchange.name(addr, "udp-server");
        let client = Peer::new(&exchange, "client");
        client.send_to(&[b'x'; MAX_UDP_PAYLOAD], addr); // too long: reported, no reply
        client.send_to(&[0xff, 0xfe], addr); // not UTF-8: printed lossily, answered
        client.send_to(b"", addr); // empty: answered
        client.send_to(b"still there?", addr);
        for _ in 0..3 {
            expect_program_reply(&client, &mut server, REPLY, addr, &exchange);
        }
        let warning = server.stderr_line();
        assert!(
            warning.contains("65507"),
            "{}",
            fill(
                "ch02.oversized_reported",
                &[("stderr", &format!("{warning:?}"))]
            )
        );
        let lines: Vec<String> = (0..3).map(|_| server.stdout_line()).collect();
        assert!(
            lines[2].contains("still there?"),
            "{}",
            fill("test.stdout_was", &[("stdout", &format!("{lines:?}"))])
        );
    }

    #[test]
    fn udp_server_once_prints_one_datagram_and_exits() {
        let (mut server, addr) = start("udp-server", &["--bind", "127.0.0.1:0", "--once"]);
        let exchange = Exchange::new();
        let client = Peer::new(&exchange, "client");
        client.send_to(b"Hello UDP", addr);
        let exited = server.wait_exit(Duration::from_secs(5));
        assert!(exited.status.success(), "{exited:?}");
        assert!(
            exited.stdout.iter().any(|l| l.contains("Hello UDP")),
            "{exited:?}"
        );
    }

    /// Runs udp-client with `args` and `stdin`; returns (exit code, stdout, stderr).
    fn run_client(args: &[&str], stdin: &str) -> (Option<i32>, String, String) {
        run_built_client(program("udp-client"), args, stdin)
    }

    /// Like `run_client`, with the program built before the test starts its server (a
    /// build may wait for cargo's lock on a busy machine while the server waits).
    fn run_built_client(
        mut command: std::process::Command,
        args: &[&str],
        stdin: &str,
    ) -> (Option<i32>, String, String) {
        command.args(args);
        let exited = ChildGuard::run_to_end(command, stdin.as_bytes(), Duration::from_secs(10));
        let text = |lines: &[String]| lines.iter().map(|l| format!("{l}\n")).collect();
        (
            exited.status.code(),
            text(&exited.stdout),
            text(&exited.stderr),
        )
    }

    #[test]
    fn udp_client_prints_each_reply_and_stops_at_end() {
        let exchange = Exchange::new();
        let client = program("udp-client");
        let (server, handle) = replying_server(&exchange, 2);
        let (code, stdout, stderr) = run_built_client(
            client,
            &["--server", &server.to_string()],
            "one\ntwo\nend\nthree\n",
        );
        assert_eq!(
            code,
            Some(0),
            "{}",
            fill("test.stderr_was", &[("stderr", &stderr)])
        );
        assert_eq!(stdout, "reply:one\nreply:two\n");
        assert_eq!(
            handle.join().unwrap(),
            [b"one".to_vec(), b"two".to_vec()],
            "{}",
            text("test.server_received")
        );
    }

    #[test]
    fn udp_client_without_a_reply_exits_with_code_1() {
        let exchange = Exchange::new();
        let silent = Peer::new(&exchange, "silent server");
        let (code, _, stderr) = run_client(
            &["--server", &silent.addr().to_string(), "--timeout", "0.3"],
            "hello\n",
        );
        assert_eq!(
            code,
            Some(1),
            "{}",
            fill("test.stderr_was", &[("stderr", &stderr)])
        );
        assert!(
            stderr.contains("no reply"),
            "{}",
            fill("test.stderr_was", &[("stderr", &stderr)])
        );
    }

    #[test]
    fn udp_client_refuses_a_line_too_long_for_a_datagram_and_goes_on() {
        let exchange = Exchange::new();
        let client = program("udp-client");
        let (server, handle) = replying_server(&exchange, 1);
        let input = format!("{}\nafter\n", "x".repeat(70_000));
        let (code, stdout, stderr) =
            run_built_client(client, &["--server", &server.to_string()], &input);
        assert_eq!(
            code,
            Some(0),
            "{}",
            fill("test.stderr_was", &[("stderr", &stderr)])
        );
        assert!(
            stderr.contains("70000 bytes") && stderr.contains("65507 bytes"),
            "{}",
            fill("ch02.one_clear_line", &[("stderr", &stderr)])
        );
        assert_eq!(stdout, "reply:after\n", "{}", text("ch02.next_line_sent"));
        assert_eq!(handle.join().unwrap(), [b"after".to_vec()]);
    }

    #[test]
    fn udp_client_names_the_servers_limit_when_a_long_line_gets_no_reply() {
        let exchange = Exchange::new();
        let silent = Peer::new(&exchange, "server that drops long datagrams");
        let input = format!("{}\n", "x".repeat(2_000));
        let (code, _, stderr) = run_client(
            &["--server", &silent.addr().to_string(), "--timeout", "0.3"],
            &input,
        );
        assert_eq!(
            code,
            Some(1),
            "{}",
            fill("test.stderr_was", &[("stderr", &stderr)])
        );
        assert!(
            stderr.contains("2000 bytes") && stderr.contains("1024 bytes"),
            "{}",
            fill("ch02.names_limit", &[("stderr", &stderr)])
        );
        assert!(silent.recv().is_ok(), "{}", text("ch02.line_sent"));
    }

    fn printed(stdout: &[String]) -> String {
        let output = format!("{stdout:?}");
        fill(
            "test.printed",
            &[("name", &"udp-recv"), ("output", &output)],
        )
    }

    #[test]
    fn udp_recv_prints_what_udp_send_sends() {
        let (mut receiver, addr) = start("udp-recv", &["--bind", "127.0.0.1:0", "--count", "3"]);
        let mut command = program("udp-send");
        command.args([
            "--server",
            &addr.to_string(),
            "--interval",
            "0.01",
            "--count",
            "3",
        ]);
        ChildGuard::run_to_end(command, b"", Duration::from_secs(10)).expect_code("udp-send", 0);
        let exited = receiver.wait_exit(Duration::from_secs(5));
        assert!(
            exited.status.success(),
            "{}",
            fill(
                "test.exited",
                &[("name", &"udp-recv"), ("exited", &format!("{exited:?}"))]
            )
        );
        let expected = ["Hello world : 1", "Hello world : 2", "Hello world : 3"];
        for (line, text) in exited.stdout.iter().zip(expected) {
            assert!(line.ends_with(text), "{}", printed(&exited.stdout));
        }
        assert_eq!(exited.stdout.len(), 3, "{}", printed(&exited.stdout));
        assert_eq!(
            receiver.next_line(Stream::Stdout, Duration::from_millis(10)),
            Err(NoLine::Ended)
        );
    }
}
