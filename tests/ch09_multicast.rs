//! Chapter 9: multicast. Grade this chapter with `cargo test --test 'ch09*'`; every test calls
//! your code in `exercises/src/ch09_multicast/`.
//!
//! Everything stays on this machine: the sockets send and join on 127.0.0.1 with TTL 0. Each
//! test uses its own group (239.255.9.N) and a port that was free when it started, so tests
//! running at the same time do not hear each other.
//!
//! No IPv6 cases here, unlike the other chapters: Linux's loopback interface does not deliver
//! IPv6 multicast (a send to ff02::/ff05:: on `lo` fails with ENETUNREACH), so an IPv6 group
//! would need a network interface beyond loopback, which the chapter's tests never touch.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::process::Command;
use std::time::{Duration, Instant};

use course_catalog::fill;
use course_harness::child::Stream;
use course_harness::multicast::NOTHING_WITHIN;
use course_harness::multicast::{
    LOOPBACK, anything_within, free_port, group, retry_if_in_use, test_receiver, test_sender,
};
use course_harness::net::{self, prepare_udp, recv_datagram};
use course_harness::show::OrFail;
use course_harness::{ChildGuard, call_learner};
use rstest::rstest;
use socket_course::ch09_multicast::{SenderOptions, leave, receive, receiver, sender};
use socket2::SockRef;

/// This file's family of groups: 239.255.9.N.
const FAMILY: u8 = 9;

/// Your `receiver`, called on its own thread; the socket gets the harness's timeouts.
#[track_caller]
fn your_receiver(group: Ipv4Addr, port: u16) -> UdpSocket {
    let socket = retry_if_in_use(|| call_learner(move || receiver(group, port, LOOPBACK))).or_fail(
        "test.returned_error",
        &[("call", &format!("receiver({group}, {port}, 127.0.0.1)"))],
    );
    prepare_udp(&socket).expect("test setup: timeouts on your receiver");
    socket
}

/// The next datagram on `socket` as text, or a failure that names who missed what (`who`:
/// a catalog key).
#[track_caller]
fn next_text(socket: &UdpSocket, who: &str, expected: &str) -> (String, SocketAddr) {
    match recv_datagram(socket) {
        Ok((data, from)) => (String::from_utf8_lossy(&data).into_owned(), from),
        Err(e) => {
            let (who, expected) = (fill(who, &[]), format!("{expected:?}"));
            let args: [(&str, &dyn std::fmt::Display); 3] =
                [("who", &who), ("expected", &expected), ("error", &e)];
            panic!("{}", fill("ch09.should_have_received", &args))
        }
    }
}

/// Exercise 9.1: `cargo test --test ch09_multicast sender_socket::`
mod sender_socket {
    use super::*;

    #[rstest]
    #[case::loop_on(true)]
    #[case::loop_off(false)]
    fn the_sender_uses_the_interface_ttl_and_loop_it_is_given(#[case] loopback: bool) {
        let options = SenderOptions {
            interface: LOOPBACK,
            ttl: 0,
            loopback,
        };
        let socket = call_learner(move || sender(&options))
            .or_fail("test.returned_error", &[("call", &"sender(..)")]);
        let sock = SockRef::from(&socket);
        // The OS defaults are interface 0.0.0.0 (the routing table decides), TTL 1, loop on.
        assert_eq!(
            sock.multicast_if_v4().unwrap(),
            LOOPBACK,
            "{}",
            fill("ch09.multicast_if", &[])
        );
        assert_eq!(
            sock.multicast_ttl_v4().unwrap(),
            0,
            "{}",
            fill("ch09.option", &[("option", &"IP_MULTICAST_TTL")])
        );
        assert_eq!(
            sock.multicast_loop_v4().unwrap(),
            loopback,
            "{}",
            fill("ch09.option", &[("option", &"IP_MULTICAST_LOOP")])
        );
        let local = socket.local_addr().unwrap();
        assert_eq!(
            local.ip(),
            LOOPBACK,
            "{}",
            fill("ch09.bound_to", &[("local", &local)])
        );
    }

    #[test]
    fn datagrams_from_the_sender_reach_a_receiver_of_the_group() {
        let (group, port) = (group(FAMILY, 1), free_port());
        let receiver = test_receiver(group, port);
        let socket = call_learner(|| sender(&SenderOptions::default()))
            .or_fail("test.returned_error", &[("call", &"sender(..)")]);
        socket
            .send_to(b"Hello world : 1", (group, port))
            .or_fail("ch09.send_failed", &[]);
        let (text, from) = next_text(&receiver, "ch09.who_group", "Hello world : 1");
        assert_eq!(text, "Hello world : 1");
        assert_eq!(
            from,
            socket.local_addr().unwrap(),
            "{}",
            fill("ch09.datagram_sender", &[])
        );
    }
}

/// Exercise 9.2: `cargo test --test ch09_multicast receiver_socket::`
mod receiver_socket {
    use super::*;

    #[test]
    fn two_receivers_of_a_group_on_one_port_both_get_every_datagram() {
        let (group, port) = (group(FAMILY, 2), free_port());
        let first = your_receiver(group, port);
        // Fails with "address in use" unless both set SO_REUSEADDR before bind.
        let second = your_receiver(group, port);
        let sender = test_sender();
        let sent: Vec<String> = (1..=5).map(|n| format!("Hello world : {n}")).collect();
        for message in &sent {
            sender.send_to(message.as_bytes(), (group, port)).unwrap();
        }
        for (who, socket) in [("ch09.who_first", &first), ("ch09.who_second", &second)] {
            for message in &sent {
                let (text, from) = next_text(socket, who, message);
                let who = fill(who, &[]);
                assert_eq!(
                    &text,
                    message,
                    "{}",
                    fill("ch09.in_order", &[("who", &who)])
                );
                assert_eq!(
                    from,
                    sender.local_addr().unwrap(),
                    "{}",
                    fill("ch09.the_sender", &[("who", &who)])
                );
            }
        }
    }

    #[test]
    fn a_receiver_of_another_group_on_the_same_port_gets_nothing_of_the_first() {
        let (group_a, group_b, port) = (group(FAMILY, 3), group(FAMILY, 4), free_port());
        let a = your_receiver(group_a, port);
        let b = your_receiver(group_b, port);
        let sender = test_sender();
        sender.send_to(b"for group A", (group_a, port)).unwrap();
        next_text(&a, "ch09.who_a", "for group A");
        // The kernel hands a datagram to all its receivers at once: A has it, so B would too.
        if let Some((text, _)) = anything_within(&b) {
            panic!(
                "{}",
                fill("ch09.b_got_a", &[("text", &format!("{text:?}"))])
            );
        }
        // And B is not deaf: it gets what is sent to B.
        sender.send_to(b"for group B", (group_b, port)).unwrap();
        let (text, _) = next_text(&b, "ch09.who_b", "for group B");
        assert_eq!(text, "for group B");
        assert_eq!(anything_within(&a), None, "{}", fill("ch09.a_got_b", &[]));
    }

    #[test]
    fn after_leaving_a_receiver_gets_nothing_while_the_other_keeps_receiving() {
        let (group, port) = (group(FAMILY, 5), free_port());
        let leaving = your_receiver(group, port);
        let staying = your_receiver(group, port);
        let sender = test_sender();
        sender.send_to(b"before", (group, port)).unwrap();
        next_text(&leaving, "ch09.who_leaving", "before");
        next_text(&staying, "ch09.who_staying", "before");

        let socket = leaving.try_clone().unwrap();
        call_learner(move || leave(&socket, group, LOOPBACK)).or_fail(
            "test.returned_error",
            &[("call", &format!("leave(.., {group}, 127.0.0.1)"))],
        );
        for n in 1..=3 {
            let message = format!("after {n}");
            sender.send_to(message.as_bytes(), (group, port)).unwrap();
            let (text, _) = next_text(&staying, "ch09.who_staying", &message);
            assert_eq!(text, message);
        }
        if let Some((text, _)) = anything_within(&leaving) {
            panic!(
                "{}",
                fill("ch09.left_still_got", &[("text", &format!("{text:?}"))])
            );
        }
    }

    #[test]
    fn the_receiver_is_bound_to_the_port_and_shares_it() {
        let (group, port) = (group(FAMILY, 6), free_port());
        let socket = your_receiver(group, port);
        let sock = SockRef::from(&socket);
        assert_eq!(
            socket.local_addr().unwrap().port(),
            port,
            "{}",
            fill("ch09.bound_port", &[])
        );
        assert!(
            sock.reuse_address().unwrap(),
            "{}",
            fill("ch09.reuseaddr", &[])
        );
        #[cfg(target_os = "linux")]
        assert!(
            !sock.multicast_all_v4().unwrap(),
            "{}",
            fill("ch09.multicast_all", &[])
        );
    }

    #[test]
    fn joining_an_address_that_is_not_a_group_is_an_error() {
        let port = free_port();
        let result = call_learner(move || receiver(Ipv4Addr::LOCALHOST, port, LOOPBACK));
        assert!(result.is_err(), "{}", fill("ch09.not_a_group", &[]));
    }
}

/// Exercise 9.3, with `programs::`: `cargo test --test ch09_multicast -- receive_loop:: programs::`
mod receive_loop {
    use super::*;

    /// A receiver of the test's own, its datagrams already waiting in its buffer.
    fn receiver_with(group_n: u8, messages: &[&[u8]]) -> (UdpSocket, SocketAddr) {
        let (group, port) = (group(FAMILY, group_n), free_port());
        let receiver = test_receiver(group, port);
        let sender = test_sender();
        for message in messages {
            sender.send_to(message, (group, port)).unwrap();
        }
        (receiver, sender.local_addr().unwrap())
    }

    #[test]
    fn the_loop_returns_every_datagram_in_order_with_its_sender() {
        let sent: [&[u8]; 3] = [b"one", b"", b"\xff not UTF-8"];
        let (socket, sender) = receiver_with(10, &sent);
        let got = call_learner(move || receive(&socket, 3, net::IO_TIMEOUT)).unwrap();
        let data: Vec<&[u8]> = got.iter().map(|d| d.data.as_slice()).collect();
        assert_eq!(data, sent, "{}", fill("ch09.arrived_in_order", &[]));
        for datagram in &got {
            assert_eq!(datagram.from, sender, "{}", fill("ch09.each_sender", &[]));
        }
    }

    #[test]
    fn a_quiet_group_ends_the_loop_with_what_arrived() {
        let (socket, _) = receiver_with(11, &[b"first", b"second"]);
        let started = Instant::now();
        let got = call_learner(move || receive(&socket, 10, Duration::from_millis(100)))
            .or_fail("ch09.quiet_not_error", &[]);
        assert_eq!(
            got.len(),
            2,
            "{}",
            fill("ch09.two_sent", &[("got", &format!("{got:?}"))])
        );
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{}",
            fill("ch09.stop_after", &[])
        );
    }

    #[test]
    fn nothing_at_all_is_an_empty_list() {
        let (socket, _) = receiver_with(12, &[]);
        let got = call_learner(move || receive(&socket, 1, Duration::from_millis(50)))
            .or_fail("ch09.quiet_not_error", &[]);
        assert!(
            got.is_empty(),
            "{}",
            fill("ch09.nothing_sent", &[("got", &format!("{got:?}"))])
        );
    }

    #[test]
    fn a_65507_byte_datagram_arrives_whole() {
        let big = vec![b'm'; 65_507];
        let (socket, _) = receiver_with(13, &[&big]);
        let got = call_learner(move || receive(&socket, 1, net::IO_TIMEOUT)).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].data.len(), 65_507, "{}", fill("ch09.cut", &[]));
    }
}

/// The programs, built on your code: `cargo test --test ch09_multicast programs::`
mod programs {
    use super::*;

    fn multicast_recv(group: Ipv4Addr, port: u16) -> ChildGuard {
        let mut command = Command::new(course_harness::program!("multicast-recv"));
        command.args(["--group", &group.to_string(), "--port", &port.to_string()]);
        command.args(["--count", "3"]);
        let mut receiver = ChildGuard::spawn(command);
        let addr = receiver.listening_addr();
        assert_eq!(addr.port(), port, "{}", fill("ch09.listen_on_port", &[]));
        receiver
    }

    #[test]
    fn two_multicast_recv_on_one_port_print_every_datagram_and_another_group_nothing() {
        let (group_a, group_b, port) = (group(FAMILY, 20), group(FAMILY, 21), free_port());
        let mut first = multicast_recv(group_a, port);
        let mut second = multicast_recv(group_a, port);
        let mut other = multicast_recv(group_b, port);

        let mut send = Command::new(course_harness::program!("multicast-send"));
        send.args(["--group", &group_a.to_string(), "--port", &port.to_string()]);
        send.args(["--count", "3", "--interval", "0"]);
        let mut sender = ChildGuard::spawn(send);
        for n in 1..=3 {
            assert_eq!(sender.stdout_line(), format!("sent: Hello world : {n}"));
        }
        assert!(sender.wait_exit(Duration::from_secs(5)).status.success());

        for receiver in [&mut first, &mut second] {
            for n in 1..=3 {
                let line = receiver.stdout_line();
                assert!(
                    line.starts_with("from 127.0.0.1:")
                        && line.ends_with(&format!(": Hello world : {n}")),
                    "{}",
                    fill(
                        "ch09.recv_line",
                        &[("n", &n), ("line", &format!("{line:?}"))]
                    )
                );
            }
            assert!(receiver.wait_exit(Duration::from_secs(5)).status.success());
        }
        // Both receivers of A printed everything, so the kernel has long delivered it all.
        if let Ok(line) = other.next_line(Stream::Stdout, NOTHING_WITHIN) {
            let line = format!("{line:?}");
            let args: [(&str, &dyn std::fmt::Display); 3] = [
                ("group_b", &group_b),
                ("line", &line),
                ("group_a", &group_a),
            ];
            panic!("{}", fill("ch09.other_group_printed", &args));
        }
    }
}
