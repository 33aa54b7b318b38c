//! Chapter 6: reliability over UDP. Grade this chapter with `cargo test --test 'ch06*'`; every
//! test calls your code in `exercises/src/ch06_reliability/`, directly or through the programs.
//!
//! The peer on the other side of your sender is the reference receiver (from `solutions`),
//! so that a mistake in one exercise does not fail the tests of another. Between them sits the
//! lossy relay; when a test fails, it prints the relay's record as a sequence diagram.

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use course_catalog::{fill, text};
use course_harness::net::Family::{self, V4, V6};
use course_harness::show::{OrFail, Report};
use course_harness::{
    ChildGuard, Exchange, Peer, call_learner, call_learner_within, net, start_learner,
};
use lossy_relay::{Direction, Rates, Relay, RelayConfig, Script};
use rstest::rstest;
use socket_course::ch06_reliability::{
    DecodeError, FixedTimer, Kind, MAX_PAYLOAD, Message, Receiver, RetransmitTimer, Rto, RtoConfig,
    SendError, Session, Step, Waiter, run_receiver, send_all, send_one, wait_for_ack,
};
use solutions::ch06_reliability as reference;

/// The session id of the tests' messages (a sender picks one at random).
const S: u32 = 0x5e55_1011;

/// The session of most tests: id `S`, messages numbered from 1. The tests of the wrap
/// start at `u32::MAX - 2` instead.
const SESSION: Session = Session {
    id: S,
    first_seq: 1,
};

/// Bytes from a hex string with spaces: `"01 0000 00"`.
fn hex(text: &str) -> Vec<u8> {
    let digits: String = text.split_whitespace().collect();
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap())
        .collect()
}

/// A fixed pseudo-random byte string (the same on every run).
fn noise(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// What the reference receiver has delivered so far.
type Delivered = Arc<Mutex<Vec<Vec<u8>>>>;

/// The reference receiver on its own socket, in the background. It delivers a message before
/// it reads the next one, so once END is acknowledged, `Delivered` holds every payload: a
/// test can check it then, without waiting for the receiver's linger to run out.
fn reference_receiver(linger: Duration) -> (SocketAddr, Delivered) {
    reference_receiver_on(linger, V4)
}

/// [`reference_receiver`] on the loopback address of `family`.
fn reference_receiver_on(linger: Duration, family: Family) -> (SocketAddr, Delivered) {
    let socket = net::udp_socket_on(family);
    let addr = socket.local_addr().unwrap();
    let delivered = Delivered::default();
    let sink = Arc::clone(&delivered);
    thread::spawn(move || {
        let _ = reference::run_receiver(&socket, linger, |payload| {
            sink.lock().unwrap().push(payload.to_vec());
            Ok(())
        });
    });
    (addr, delivered)
}

/// Fails with the relay's record of the exchange.
#[track_caller]
fn fail_with_diagram(relay: &Relay, headline: &str, details: &[(&str, String)]) -> ! {
    let mut report = Report::new(headline);
    for (label, text) in details {
        report = report.line(label, text.clone());
    }
    report.exchange(&relay.exchange()).fail()
}

/// Exercise 6.1: `cargo test --test ch06_reliability header::` (a header is bytes: no socket,
/// so no IPv6 case)
mod header {
    use super::*;

    #[rstest]
    #[case::data(Message::data(S, 1, b"hi"), "01 5e551011 00000001 0002 6869")]
    #[case::empty_data(Message::data(S, 7, b""), "01 5e551011 00000007 0000")]
    #[case::ack(Message::ack(S, 258), "02 5e551011 00000102 0000")]
    #[case::end(Message::end(S, 0x0102_0304), "03 5e551011 01020304 0000")]
    fn messages_encode_to_the_documented_bytes(#[case] message: Message, #[case] expected: &str) {
        let got = call_learner(move || message.encode());
        assert_eq!(
            got,
            hex(expected),
            "{}",
            fill("ch06.encode_compared", &[("expected", &expected)])
        );
    }

    #[rstest]
    #[case::data(Message::data(S, 1, b"hello"))]
    #[case::largest_payload(Message::data(S, u32::MAX, &[0xab; MAX_PAYLOAD]))]
    #[case::ack(Message::ack(S, 0))]
    #[case::end(Message::end(S, 42))]
    fn messages_survive_a_round_trip(#[case] message: Message) {
        let copy = message.clone();
        let got = call_learner(move || Message::decode(&copy.encode()));
        assert_eq!(got, Ok(message));
    }

    #[rstest]
    #[case::empty("", DecodeError::Truncated(0))]
    #[case::kind_only("01", DecodeError::Truncated(1))]
    #[case::one_byte_short("01 5e551011 00000001 00", DecodeError::Truncated(10))]
    #[case::kind_zero("00 5e551011 00000001 0000", DecodeError::UnknownKind(0))]
    #[case::kind_four("04 5e551011 00000001 0000", DecodeError::UnknownKind(4))]
    #[case::kind_ff("ff 5e551011 00000001 0000", DecodeError::UnknownKind(0xff))]
    #[case::length_says_more("01 5e551011 00000001 0005 6869", DecodeError::LengthMismatch { declared: 5, actual: 2 })]
    #[case::length_says_less("01 5e551011 00000001 0000 68", DecodeError::LengthMismatch { declared: 0, actual: 1 })]
    #[case::huge_length("01 5e551011 00000001 ffff 00", DecodeError::LengthMismatch { declared: 65535, actual: 1 })]
    #[case::ack_with_payload(
        "02 5e551011 00000001 0001 00",
        DecodeError::UnexpectedPayload(Kind::Ack)
    )]
    #[case::end_with_payload(
        "03 5e551011 00000001 0001 00",
        DecodeError::UnexpectedPayload(Kind::End)
    )]
    fn malformed_bytes_are_errors(#[case] bytes: &str, #[case] expected: DecodeError) {
        let bytes = hex(bytes);
        let got = call_learner(move || Message::decode(&bytes));
        assert_eq!(got, Err(expected));
    }

    #[test]
    fn a_payload_over_the_limit_is_an_error() {
        let mut bytes = hex("01 5e551011 00000001 0401");
        bytes.extend(vec![0u8; MAX_PAYLOAD + 1]);
        let got = call_learner(move || Message::decode(&bytes));
        assert_eq!(got, Err(DecodeError::PayloadTooLong(MAX_PAYLOAD + 1)));
    }

    #[test]
    fn ten_thousand_random_inputs_never_panic() {
        call_learner(|| {
            for seed in 0..10_000u32 {
                let mut bytes = noise(seed, (seed % 40) as usize);
                if let Some(first) = bytes.first_mut() {
                    *first %= 5; // mostly valid kinds, so the later checks are reached too
                }
                let _ = Message::decode(&bytes);
            }
        });
    }
}

/// Exercise 6.2: `cargo test --test ch06_reliability receiver::`
mod receiver {
    use super::*;

    fn step(reply: Option<Message>, deliver: Option<&[u8]>, finished: bool) -> Step {
        Step {
            reply,
            deliver: deliver.map(<[u8]>::to_vec),
            finished,
        }
    }

    /// Feeds `messages` to a new receiver; returns its steps.
    fn feed(messages: Vec<Message>) -> Vec<Step> {
        call_learner(move || {
            let mut receiver = Receiver::new();
            messages
                .into_iter()
                .map(|m| receiver.on_message(m))
                .collect()
        })
    }

    #[test]
    fn messages_in_order_are_acked_and_delivered() {
        let steps = feed(vec![
            Message::data(S, 1, b"a"),
            Message::data(S, 2, b"b"),
            Message::end(S, 3),
        ]);
        assert_eq!(
            steps,
            [
                step(Some(Message::ack(S, 1)), Some(b"a"), false),
                step(Some(Message::ack(S, 2)), Some(b"b"), false),
                step(Some(Message::ack(S, 3)), None, true),
            ]
        );
    }

    #[test]
    fn out_of_order_messages_are_delivered_in_order_exactly_once() {
        let steps = feed(vec![
            Message::data(S, 1, b"one"),
            Message::data(S, 3, b"three"),
            Message::data(S, 2, b"two"),
            Message::data(S, 3, b"three"),
            Message::data(S, 2, b"two"),
        ]);
        assert_eq!(
            steps,
            [
                step(Some(Message::ack(S, 1)), Some(b"one"), false),
                step(None, None, false), // 3 before 2: not acknowledged, the sender will resend it
                step(Some(Message::ack(S, 2)), Some(b"two"), false),
                step(Some(Message::ack(S, 3)), Some(b"three"), false),
                step(Some(Message::ack(S, 2)), None, false), // a late copy: ACK again only
            ]
        );
    }

    #[test]
    fn messages_of_another_session_are_ignored() {
        // A stranger who sends from the sender's address but does not know the session id.
        let other = S ^ 1;
        let steps = feed(vec![
            Message::data(S, 1, b"good"),
            Message::data(other, 2, b"INJECTED"),
            Message::end(other, 2),
            Message::data(other, 1, b"INJECTED"),
            Message::data(S, 2, b" tail"),
            Message::end(S, 3),
        ]);
        assert_eq!(
            steps,
            [
                step(Some(Message::ack(S, 1)), Some(b"good"), false),
                step(None, None, false),
                step(None, None, false),
                step(None, None, false),
                step(Some(Message::ack(S, 2)), Some(b" tail"), false),
                step(Some(Message::ack(S, 3)), None, true),
            ]
        );
    }

    #[test]
    fn numbers_start_where_the_first_message_says_and_wrap_past_u32_max() {
        let first = u32::MAX - 2;
        let steps = feed(vec![
            Message::data(S, first, b"a"),
            Message::data(S, u32::MAX - 1, b"b"),
            Message::data(S, u32::MAX, b"c"),
            Message::data(S, 0, b"d"),
            Message::data(S, u32::MAX, b"c"),
            Message::data(S, 2, b"too early"),
            Message::end(S, 1),
        ]);
        assert_eq!(
            steps,
            [
                step(Some(Message::ack(S, first)), Some(b"a"), false),
                step(Some(Message::ack(S, u32::MAX - 1)), Some(b"b"), false),
                step(Some(Message::ack(S, u32::MAX)), Some(b"c"), false),
                step(Some(Message::ack(S, 0)), Some(b"d"), false),
                step(Some(Message::ack(S, u32::MAX)), None, false), // 2^32-1 comes before 0
                step(None, None, false),
                step(Some(Message::ack(S, 1)), None, true),
            ]
        );
    }

    #[test]
    fn a_duplicate_is_acked_again_but_not_delivered_again() {
        let steps = feed(vec![
            Message::data(S, 1, b"once"),
            Message::data(S, 1, b"once"),
            Message::data(S, 1, b"once"),
        ]);
        assert_eq!(
            steps,
            [
                step(Some(Message::ack(S, 1)), Some(b"once"), false),
                step(Some(Message::ack(S, 1)), None, false),
                step(Some(Message::ack(S, 1)), None, false),
            ]
        );
    }

    #[test]
    fn a_repeated_end_is_acked_again() {
        let steps = feed(vec![Message::end(S, 1), Message::end(S, 1)]);
        assert_eq!(
            steps,
            [
                step(Some(Message::ack(S, 1)), None, true),
                step(Some(Message::ack(S, 1)), None, false)
            ]
        );
    }

    #[test]
    fn acks_sent_to_a_receiver_are_ignored() {
        let steps = feed(vec![Message::ack(S, 1), Message::data(S, 1, b"x")]);
        assert_eq!(
            steps,
            [
                step(None, None, false),
                step(Some(Message::ack(S, 1)), Some(b"x"), false)
            ]
        );
    }

    /// Your receiver on a socket of `family`; the test plays the sender with hand-made
    /// datagrams.
    fn acks_skips_garbage_and_finishes_after_end_on(family: Family) {
        let exchange = Exchange::new();
        let sender = Peer::on(&exchange, "test sender", family);
        let socket = net::udp_socket_on(family);
        let addr = socket.local_addr().unwrap();
        exchange.name(addr, "your receiver");
        let mut learner = start_learner(move || {
            let mut delivered = Vec::new();
            let result = run_receiver(&socket, Duration::from_millis(200), |p| {
                delivered.push(p.to_vec());
                Ok(())
            });
            (result, delivered)
        });
        let script: [(&str, Option<&str>); 6] = [
            (
                "01 5e551011 00000001 0003 6f6e65",
                Some("02 5e551011 00000001 0000"),
            ), // DATA 1 "one"
            ("ff ff", None),                          // garbage
            ("01 5e551011 00000002 0009 7477", None), // a length that lies
            (
                "01 5e551011 00000001 0003 6f6e65",
                Some("02 5e551011 00000001 0000"),
            ), // DATA 1 again: re-ACK
            (
                "01 5e551011 00000002 0003 74776f",
                Some("02 5e551011 00000002 0000"),
            ), // DATA 2 "two"
            (
                "03 5e551011 00000003 0000",
                Some("02 5e551011 00000003 0000"),
            ), // END
        ];
        for (datagram, expected_ack) in script {
            sender.send_to(&hex(datagram), addr);
            if let Some(ack) = expected_ack {
                match sender.recv_checking(|| learner.check()) {
                    Ok((got, _)) if got == hex(ack) => {}
                    other => Report::new(fill("ch06.expected_ack", &[]))
                        .bytes("sent", &hex(datagram))
                        .bytes("expected", &hex(ack))
                        .line("got", format!("{other:?}"))
                        .exchange(&exchange)
                        .fail(),
                }
            }
        }
        let (result, delivered) = learner.finish();
        assert_eq!(
            result.or_fail("test.returned_error", &[("call", &"run_receiver")]),
            6,
            "{}",
            text("ch06.bytes_delivered")
        );
        assert_eq!(delivered, [b"one".to_vec(), b"two".to_vec()]);
    }

    #[test]
    fn on_a_socket_it_acks_skips_garbage_and_finishes_after_end() {
        acks_skips_garbage_and_finishes_after_end_on(V4);
    }

    #[test]
    fn on_a_v6_socket_it_acks_the_sender_and_finishes_after_end() {
        if !V6.usable() {
            return;
        }
        acks_skips_garbage_and_finishes_after_end_on(V6);
    }
}

/// Your socket, connected to the test's peer socket: (yours, the peer).
fn connected_pair() -> (std::net::UdpSocket, std::net::UdpSocket) {
    connected_pair_on(V4)
}

/// [`connected_pair`] on the loopback address of `family`.
fn connected_pair_on(family: Family) -> (std::net::UdpSocket, std::net::UdpSocket) {
    let peer = net::udp_socket_on(family);
    let yours = net::udp_socket_on(family);
    yours.connect(peer.local_addr().unwrap()).unwrap();
    (yours, peer)
}

/// Exercise 6.3a: `cargo test --test ch06_reliability wait_for_ack::`
mod wait_for_ack {
    use super::*;
    use std::time::Instant;

    /// A late ACK of an earlier message, garbage, a DATA, then the ACK of 3, over a pair
    /// of `family`: only the last ends the wait for 3.
    fn only_the_ack_of_its_seq_ends_the_wait_on(family: Family) {
        let (yours, peer) = connected_pair_on(family);
        let to = yours.local_addr().unwrap();
        for bytes in [
            reference::Message::ack(S, 2).encode(),
            b"garbage".to_vec(),
            reference::Message::data(S, 3, b"x").encode(),
            reference::Message::ack(S, 3).encode(),
        ] {
            peer.send_to(&bytes, to).unwrap();
        }
        let got = call_learner(move || {
            let mut waiter = Waiter::new(&yours)?;
            wait_for_ack(&mut waiter, S, 3, Instant::now() + Duration::from_secs(3))
        });
        assert!(
            matches!(got, Ok(true)),
            "{}",
            fill(
                "test.expected_got",
                &[("expected", &"Ok(true)"), ("got", &format!("{got:?}"))]
            )
        );
    }

    #[test]
    fn only_the_ack_of_its_seq_ends_the_wait() {
        only_the_ack_of_its_seq_ends_the_wait_on(V4);
    }

    #[test]
    fn on_v6_the_ack_of_its_seq_ends_the_wait() {
        if !V6.usable() {
            return;
        }
        only_the_ack_of_its_seq_ends_the_wait_on(V6);
    }

    #[test]
    fn without_its_ack_it_returns_false_at_the_deadline() {
        let (yours, peer) = connected_pair();
        peer.send_to(
            &reference::Message::ack(S, 2).encode(),
            yours.local_addr().unwrap(),
        )
        .unwrap();
        let wait = Duration::from_millis(200);
        let started = Instant::now();
        let got = call_learner(move || {
            let mut waiter = Waiter::new(&yours)?;
            wait_for_ack(&mut waiter, S, 3, Instant::now() + wait)
        });
        let took = started.elapsed();
        assert!(
            matches!(got, Ok(false)),
            "{}",
            fill(
                "test.expected_got",
                &[("expected", &"Ok(false)"), ("got", &format!("{got:?}"))]
            )
        );
        assert!(
            took >= wait,
            "{}",
            fill(
                "test.gave_up_early",
                &[
                    ("took", &format!("{took:?}")),
                    ("deadline", &format!("{wait:?}"))
                ]
            )
        );
    }
}

/// Exercise 6.3b: `cargo test --test ch06_reliability send_one::`
mod send_one {
    use super::*;
    use std::time::Instant;

    /// A timer that records what the sender told it.
    #[derive(Default)]
    struct Recording {
        acks: Vec<Option<Duration>>,
        timeouts: u32,
    }

    impl RetransmitTimer for Recording {
        // 300 ms: the ACK of a second copy must come back within it, also on a loaded
        // machine (100 ms was once too short with the whole suite running).
        fn timeout(&self) -> Duration {
            Duration::from_millis(300)
        }
        fn on_ack(&mut self, rtt: Option<Duration>) {
            self.acks.push(rtt);
        }
        fn on_timeout(&mut self) {
            self.timeouts += 1;
        }
    }

    /// Runs your `send_one` for DATA 1 with `tries`, while the peer ignores the first
    /// `ignore` copies and ACKs the next; returns the result, the timer, and the copies.
    fn run(tries: u32, ignore: usize) -> (Result<u32, SendError>, Recording, usize) {
        run_on(tries, ignore, V4)
    }

    /// [`run`] with both sockets on the loopback address of `family`.
    fn run_on(
        tries: u32,
        ignore: usize,
        family: Family,
    ) -> (Result<u32, SendError>, Recording, usize) {
        let (yours, peer) = connected_pair_on(family);
        let mut learner = start_learner(move || {
            let mut timer = Recording::default();
            let mut waiter = Waiter::new(&yours).map_err(SendError::Io)?;
            let result = send_one(&mut waiter, &Message::data(S, 1, b"hi"), &mut timer, tries);
            Ok::<_, SendError>((result, timer))
        });
        // Short waits, so that a panic of your code is noticed at once.
        peer.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let deadline = course_harness::Deadline::after(Duration::from_secs(5));
        let mut copies = 0;
        let mut buf = [0u8; 64];
        while !deadline.expired() {
            let Ok((len, from)) = peer.recv_from(&mut buf) else {
                learner.check();
                if learner.is_finished() {
                    break;
                }
                continue;
            };
            assert_eq!(Message::decode(&buf[..len]), Ok(Message::data(S, 1, b"hi")));
            copies += 1;
            if copies > ignore {
                peer.send_to(&reference::Message::ack(S, 1).encode(), from)
                    .unwrap();
                break;
            }
            if copies as u32 >= tries {
                break;
            }
        }
        let (result, timer) = learner
            .finish()
            .expect("test setup: could not make a Waiter");
        (result, timer, copies)
    }

    #[test]
    fn acked_at_once_it_is_sent_once_and_the_timer_gets_a_sample() {
        let (result, timer, copies) = run(3, 0);
        assert_eq!(
            result.ok(),
            Some(1),
            "{}",
            fill("ch06.should_return", &[("count", &1)])
        );
        assert_eq!(copies, 1);
        assert_eq!(timer.timeouts, 0);
        assert!(
            matches!(timer.acks.as_slice(), [Some(_)]),
            "{}",
            fill("ch06.one_sample", &[("acks", &format!("{:?}", timer.acks))])
        );
    }

    #[test]
    fn a_lost_copy_is_sent_again_and_gives_no_sample() {
        let (result, timer, copies) = run(3, 1);
        assert_eq!(
            result.ok(),
            Some(2),
            "{}",
            fill("ch06.should_return", &[("count", &2)])
        );
        assert_eq!(copies, 2);
        assert_eq!(timer.timeouts, 1, "{}", text("ch06.one_timeout"));
        assert_eq!(timer.acks, vec![None], "{}", text("ch06.karn"));
    }

    #[test]
    fn on_v6_a_lost_copy_is_sent_again() {
        if !V6.usable() {
            return;
        }
        let (result, timer, copies) = run_on(3, 1, V6);
        assert_eq!(
            result.ok(),
            Some(2),
            "{}",
            fill("ch06.should_return", &[("count", &2)])
        );
        assert_eq!(copies, 2);
        assert_eq!(timer.timeouts, 1, "{}", text("ch06.one_timeout"));
    }

    #[test]
    fn without_any_ack_it_gives_up_after_the_tries() {
        let started = Instant::now();
        let (result, timer, copies) = run(3, usize::MAX);
        assert!(
            matches!(result, Err(SendError::GaveUp { seq: 1, tries: 3 })),
            "{}",
            fill(
                "test.expected_got",
                &[
                    ("expected", &"Err(GaveUp { seq: 1, tries: 3 })"),
                    ("got", &format!("{result:?}"))
                ]
            )
        );
        assert_eq!(copies, 3);
        assert_eq!(timer.timeouts, 3);
        assert!(started.elapsed() >= Duration::from_millis(900));
    }
}

/// Exercise 6.3c: `cargo test --test ch06_reliability sender::`
mod sender {
    use super::*;

    const TIMEOUT: Duration = Duration::from_millis(40);

    /// Sends `payloads` with your sender through a relay with `script` to the reference
    /// receiver; returns how many times each message was sent, after checking delivery.
    fn send_through(script: Script, payloads: &[&[u8]]) -> Vec<u32> {
        send_through_on(script, payloads, V4)
    }

    /// [`send_through`] with the receiver, the relay and your socket on `family`.
    fn send_through_on(script: Script, payloads: &[&[u8]], family: Family) -> Vec<u32> {
        let (receiver, delivered) = reference_receiver_on(Duration::from_millis(400), family);
        let relay =
            Relay::start(family.any_port(), RelayConfig::new(receiver).script(script)).unwrap();
        let to = relay.addr();
        let owned: Vec<Vec<u8>> = payloads.iter().map(|p| p.to_vec()).collect();
        let socket = net::udp_socket_on(family);
        let sent = owned.clone();
        let result = call_learner(move || {
            send_all(&socket, to, SESSION, &sent, &mut FixedTimer(TIMEOUT), 10)
        });
        let report = match result {
            Ok(report) => report,
            Err(e) => fail_with_diagram(
                &relay,
                &fill("test.returned_error", &[("call", &"send_all")]),
                &[("error", format!("{e:?}"))],
            ),
        };
        // send_all returned Ok: END was acknowledged, so the receiver delivered everything.
        let got = delivered.lock().unwrap().clone();
        if got != owned {
            fail_with_diagram(
                &relay,
                &fill("ch06.exactly_once_in_order", &[]),
                &[
                    ("sent", format!("{:?}", texts(&owned))),
                    ("delivered", format!("{:?}", texts(&got))),
                ],
            );
        }
        report.transmissions
    }

    fn texts(payloads: &[Vec<u8>]) -> Vec<String> {
        payloads
            .iter()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect()
    }

    const THREE: [&[u8]; 3] = [b"one", b"two", b"three"];

    #[test]
    fn without_loss_each_message_is_sent_once() {
        assert_eq!(
            send_through(Script::new(), &THREE),
            [1, 1, 1, 1],
            "{}",
            text("ch06.sends_per_message")
        );
    }

    #[test]
    fn a_lost_data_is_sent_again() {
        let script = Script::new().drop_nth(Direction::ToServer, 1);
        assert_eq!(send_through(script, &THREE), [2, 1, 1, 1]);
    }

    #[test]
    fn over_v6_a_lost_data_is_sent_again() {
        if !V6.usable() {
            return;
        }
        let script = Script::new().drop_nth(Direction::ToServer, 1);
        assert_eq!(send_through_on(script, &THREE, V6), [2, 1, 1, 1]);
    }

    #[test]
    fn a_lost_ack_means_the_data_is_sent_again_but_delivered_once() {
        let script = Script::new().drop_nth(Direction::ToClient, 1);
        assert_eq!(send_through(script, &THREE), [2, 1, 1, 1]);
    }

    #[test]
    fn a_duplicated_data_costs_nothing() {
        // The receiver ACKs the copy too; that late ACK of 1 must not count as the ACK of 2.
        let script = Script::new().duplicate_nth(Direction::ToServer, 1);
        assert_eq!(send_through(script, &THREE), [1, 1, 1, 1]);
    }

    #[test]
    fn a_duplicated_ack_costs_nothing() {
        let script = Script::new().duplicate_nth(Direction::ToClient, 1);
        assert_eq!(send_through(script, &THREE), [1, 1, 1, 1]);
    }

    #[test]
    fn a_lost_end_ack_means_end_is_sent_again() {
        let end_ack = reference::Message::ack(S, 4).encode();
        let script = Script::new().drop_bytes(Direction::ToClient, &end_ack, 1);
        assert_eq!(send_through(script, &THREE), [1, 1, 1, 2]);
    }

    #[test]
    fn a_peer_that_never_answers_is_given_up_after_the_tries() {
        // A relay to a port where nothing listens: every datagram vanishes.
        let gone = net::udp_socket().local_addr().unwrap();
        let relay = Relay::start(loopback(), RelayConfig::new(gone)).unwrap();
        let to = relay.addr();
        let socket = net::udp_socket();
        let result = call_learner(move || {
            send_all(
                &socket,
                to,
                SESSION,
                &[b"hello?".to_vec()],
                &mut FixedTimer(TIMEOUT),
                3,
            )
        });
        assert!(
            matches!(result, Err(SendError::GaveUp { seq: 1, tries: 3 })),
            "{}",
            fill(
                "test.expected_got",
                &[
                    ("expected", &"Err(GaveUp { seq: 1, tries: 3 })"),
                    ("got", &format!("{result:?}"))
                ]
            )
        );
        assert_eq!(
            relay.stats().to_server.total(),
            3,
            "{}",
            text("ch06.sent_three_times")
        );
    }

    #[test]
    fn a_port_where_nothing_listens_is_reported_as_gone() {
        let gone = net::udp_socket().local_addr().unwrap();
        let socket = net::udp_socket();
        let result = call_learner(move || {
            send_all(
                &socket,
                gone,
                SESSION,
                &[b"hello?".to_vec()],
                &mut FixedTimer(TIMEOUT),
                3,
            )
        });
        assert!(
            matches!(result, Err(SendError::PeerGone { seq: 1 })),
            "{}",
            fill(
                "test.expected_got",
                &[
                    ("expected", &"Err(PeerGone { seq: 1 })"),
                    ("got", &format!("{result:?}"))
                ]
            )
        );
    }

    #[test]
    fn a_payload_over_the_limit_is_refused_before_anything_is_sent() {
        let exchange = Exchange::new();
        let watcher = Peer::new(&exchange, "receiver");
        let to = watcher.addr();
        let socket = net::udp_socket();
        let payloads = vec![b"fine".to_vec(), vec![0; MAX_PAYLOAD + 1]];
        let result = call_learner(move || {
            send_all(&socket, to, SESSION, &payloads, &mut FixedTimer(TIMEOUT), 3)
        });
        assert!(
            matches!(result, Err(SendError::TooLong { index: 1, len }) if len == MAX_PAYLOAD + 1),
            "{result:?}"
        );
        watcher
            .socket()
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        assert!(watcher.recv().is_err(), "{}", text("test.nothing_sent"));
    }

    /// A timer that records what the sender tells it.
    struct Spy(Arc<Mutex<Vec<&'static str>>>);

    impl RetransmitTimer for Spy {
        fn timeout(&self) -> Duration {
            TIMEOUT
        }
        fn on_ack(&mut self, rtt: Option<Duration>) {
            self.0.lock().unwrap().push(if rtt.is_some() {
                "ack with rtt"
            } else {
                "ack without rtt"
            });
        }
        fn on_timeout(&mut self) {
            self.0.lock().unwrap().push("timeout");
        }
    }

    #[test]
    fn the_timer_hears_every_event_and_no_rtt_from_a_retransmission() {
        let (receiver, _delivered) = reference_receiver(Duration::from_millis(400));
        let relay = Relay::start(
            loopback(),
            RelayConfig::new(receiver).script(Script::new().drop_nth(Direction::ToServer, 1)),
        )
        .unwrap();
        let to = relay.addr();
        let events = Arc::new(Mutex::new(Vec::new()));
        let mut spy = Spy(Arc::clone(&events));
        let socket = net::udp_socket();
        call_learner(move || {
            send_all(
                &socket,
                to,
                SESSION,
                &[b"a".to_vec(), b"b".to_vec()],
                &mut spy,
                10,
            )
        })
        .or_fail("test.returned_error", &[("call", &"send_all")]);
        // DATA 1 lost once: a timeout, then its ACK without a sample (Karn's rule).
        assert_eq!(
            *events.lock().unwrap(),
            ["timeout", "ack without rtt", "ack with rtt", "ack with rtt"]
        );
    }
}

/// Exercise 6.4, with `soak::` and `programs::`:
/// `cargo test --test ch06_reliability -- rto:: soak:: programs::`
mod rto {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    enum Event {
        Sample(u64),
        NoSample,
        Timeout,
    }
    use Event::*;

    fn wide() -> RtoConfig {
        RtoConfig {
            initial: 1000 * MS,
            min: MS,
            max: 60_000 * MS,
        }
    }

    /// Applies `events` to a fresh estimator; returns the timeout after each.
    fn timeouts(config: RtoConfig, events: Vec<Event>) -> Vec<Duration> {
        call_learner(move || {
            let mut rto = Rto::new(config);
            events
                .into_iter()
                .map(|event| {
                    match event {
                        Sample(ms) => rto.on_ack(Some(Duration::from_millis(ms))),
                        NoSample => rto.on_ack(None),
                        Timeout => rto.on_timeout(),
                    }
                    rto.timeout()
                })
                .collect()
        })
    }

    #[test]
    fn an_ack_before_any_sample_keeps_the_initial_timeout() {
        assert_eq!(timeouts(wide(), vec![NoSample]), [1000 * MS]);
    }

    #[test]
    fn the_first_sample_sets_srtt_and_rttvar_to_half_of_it() {
        // SRTT = 100, RTTVAR = 50, RTO = 100 + 4 * 50 = 300.
        assert_eq!(timeouts(wide(), vec![Sample(100)]), [300 * MS]);
    }

    #[test]
    fn later_samples_are_smoothed() {
        // 2nd: RTTVAR = 3/4 * 50 + 1/4 * |100 - 100| = 37.5; SRTT = 100; RTO = 250.
        // 3rd: RTTVAR = 3/4 * 37.5 + 1/4 * |100 - 180| = 48.125; SRTT = 7/8 * 100 + 1/8 * 180 = 110.
        //      RTO = 110 + 4 * 48.125 = 302.5.
        let got = timeouts(wide(), vec![Sample(100), Sample(100), Sample(180)]);
        assert_eq!(got, [300 * MS, 250 * MS, Duration::from_micros(302_500)]);
    }

    #[test]
    fn each_timeout_doubles_it_up_to_the_maximum() {
        let config = RtoConfig {
            max: 1000 * MS,
            ..wide()
        };
        let got = timeouts(config, vec![Sample(100), Timeout, Timeout, Timeout]);
        assert_eq!(got, [300 * MS, 600 * MS, 1000 * MS, 1000 * MS]);
    }

    #[test]
    fn an_ack_without_a_sample_returns_to_the_estimate() {
        let got = timeouts(wide(), vec![Sample(100), Timeout, Timeout, NoSample]);
        assert_eq!(got, [300 * MS, 600 * MS, 1200 * MS, 300 * MS]);
    }

    #[test]
    fn the_minimum_holds_on_a_fast_link() {
        let config = RtoConfig {
            min: 5 * MS,
            ..wide()
        };
        // 0.1 ms round trips would give 0.3 ms; the minimum keeps 5 ms.
        let got = timeouts(config, vec![Event::Sample(0), Sample(0)]);
        assert_eq!(got, [5 * MS, 5 * MS]);
    }

    #[test]
    fn the_sender_learns_a_slow_links_round_trip() {
        // 15 ms each way through the relay: a round trip of about 30 ms, learned from samples.
        let (receiver, _delivered) = reference_receiver(Duration::from_millis(600));
        let rates = Rates {
            delay: 15 * MS,
            ..Rates::default()
        };
        let relay = Relay::start(loopback(), RelayConfig::new(receiver).rates(rates)).unwrap();
        let to = relay.addr();
        let socket = net::udp_socket();
        let payloads: Vec<Vec<u8>> = (0..20).map(|i| format!("m{i}").into_bytes()).collect();
        let rto = call_learner(move || {
            let mut rto = Rto::new(RtoConfig {
                initial: 1000 * MS,
                min: MS,
                max: 2000 * MS,
            });
            send_all(&socket, to, SESSION, &payloads, &mut rto, 10).map(|_| rto)
        })
        .or_fail("test.returned_error", &[("call", &"send_all")]);
        let srtt = rto.srtt().or_fail("ch06.no_rtt", &[]);
        assert!(
            (25 * MS..=80 * MS).contains(&srtt),
            "{}",
            fill("ch06.srtt_about", &[("srtt", &format!("{srtt:?}"))])
        );
        assert!(
            rto.timeout() < 300 * MS,
            "{}",
            fill(
                "ch06.timeout_down",
                &[("timeout", &format!("{:?}", rto.timeout()))]
            )
        );
    }
}

/// Your sender and receiver together, through a seeded lossy relay:
/// `cargo test --test ch06_reliability soak::`
mod soak {
    use super::*;

    /// 1,000 messages at 0 % and at 10 % loss; at 30 %, where each message waits for about
    /// one timeout, twice 500 with two seeds, so that the two halves run at the same time.
    /// One short run on IPv6 (200 messages at 10 % loss).
    #[rstest]
    #[case::no_loss(0.0, 42, 1000, V4)]
    #[case::ten_percent(0.1, 42, 1000, V4)]
    #[case::thirty_percent(0.3, 42, 500, V4)]
    #[case::thirty_percent_another_seed(0.3, 43, 500, V4)]
    #[case::v6_ten_percent(0.1, 44, 200, V6)]
    fn every_message_arrives_exactly_once_and_in_order(
        #[case] loss: f64,
        #[case] seed: u64,
        #[case] count: u32,
        #[case] family: Family,
    ) {
        if !family.usable() {
            return;
        }
        let socket = net::udp_socket_on(family);
        let receiver_addr = socket.local_addr().unwrap();
        let receiving = start_learner(move || {
            let mut delivered = Vec::new();
            // A linger of 150 ms: 30 of the sender's longest timeouts (5 ms, below).
            let result = run_receiver(&socket, Duration::from_millis(150), |p| {
                delivered.push(p.to_vec());
                Ok(())
            });
            (result, delivered)
        });
        let rates = Rates {
            loss,
            seed,
            ..Rates::default()
        };
        let relay = Relay::start(
            family.any_port(),
            RelayConfig::new(receiver_addr).rates(rates),
        )
        .unwrap();
        let to = relay.addr();
        let payloads: Vec<Vec<u8>> = (0..count)
            .map(|i| format!("message {i}").into_bytes())
            .collect();
        let sent = payloads.clone();
        let sender = net::udp_socket_on(family);
        // The one deadline above the usual 10 s: at 30 % loss each way, 500 messages need
        // about 500 timeouts of at most 5 ms. A sender that waits with SO_RCVTIMEO (rounded
        // up to kernel timer ticks: 4-8 ms for any short timeout at HZ=250) on a busy machine
        // can legitimately take 10 s. It still cannot hang.
        let result = call_learner_within(Duration::from_secs(30), move || {
            let mut rto = Rto::new(RtoConfig {
                initial: Duration::from_millis(5),
                min: Duration::from_micros(500),
                max: Duration::from_millis(5),
            });
            send_all(&sender, to, SESSION, &sent, &mut rto, 30)
        });
        if let Err(e) = result {
            fail_with_diagram(
                &relay,
                &fill("test.returned_error", &[("call", &"send_all")]),
                &[("error", format!("{e:?}"))],
            );
        }
        let (received, delivered) = receiving.finish();
        received.or_fail("test.returned_error", &[("call", &"run_receiver")]);
        if delivered != payloads {
            let first_bad = delivered
                .iter()
                .zip(&payloads)
                .position(|(d, p)| d != p)
                .unwrap_or(delivered.len().min(payloads.len()));
            fail_with_diagram(
                &relay,
                &fill("ch06.exactly_once_in_order", &[]),
                &[
                    ("delivered", format!("{} messages", delivered.len())),
                    ("first difference", format!("at message {first_bad}")),
                ],
            );
        }
    }
}

/// The programs reliable-send and reliable-recv: `cargo test --test ch06_reliability programs::`
mod programs {
    use super::*;

    fn receiver_program(out: &std::path::Path) -> (ChildGuard, SocketAddr) {
        let mut command = Command::new(course_harness::program!("reliable-recv"));
        // 200 ms: 20 of the sender's longest timeouts (`--max-rto-ms 10`, below).
        command.args(["--bind", "127.0.0.1:0", "--linger-ms", "200"]);
        let mut child = ChildGuard::spawn_with_stdout(
            command,
            Stdio::from(std::fs::File::create(out).unwrap()),
        );
        let addr = child.listening_addr();
        (child, addr)
    }

    fn send_program(to: SocketAddr, data: &[u8], extra: &[&str]) -> ChildGuard {
        let mut command = Command::new(course_harness::program!("reliable-send"));
        command
            .args([
                "--server",
                &to.to_string(),
                "--min-rto-ms",
                "1",
                "--max-rto-ms",
                "10",
            ])
            .args(extra);
        let mut child = ChildGuard::spawn(command);
        child.write_stdin_bytes(data);
        child.close_stdin();
        child
    }

    #[rstest]
    #[case::seed_1(1)]
    #[case::seed_2(2)]
    #[case::seed_3(3)]
    fn a_file_is_copied_byte_exact_through_a_lossy_relay(#[case] seed: u64) {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("copy.bin");
        let (mut receiver, addr) = receiver_program(&out);
        let mut relay = Command::new(course_harness::program!("lossy-relay"));
        relay.args([
            "--bind",
            "127.0.0.1:0",
            "--server",
            &addr.to_string(),
            "--loss",
            "0.3",
            "--seed",
            &seed.to_string(),
        ]);
        let mut relay = ChildGuard::spawn(relay);
        let relay_addr = relay.listening_addr();
        let data = noise(seed as u32, 64 * 1024);
        let mut sender = send_program(relay_addr, &data, &[]);
        let sent = sender.wait_exit_while_running(&mut receiver, Duration::from_secs(10));
        assert!(
            sent.status.success(),
            "{}",
            fill(
                "test.exited",
                &[("name", &"reliable-send"), ("exited", &format!("{sent:?}"))]
            )
        );
        let received = receiver.wait_exit(Duration::from_secs(5));
        assert!(
            received.status.success(),
            "{}",
            fill(
                "test.exited",
                &[
                    ("name", &"reliable-recv"),
                    ("exited", &format!("{received:?}"))
                ]
            )
        );
        let copy = std::fs::read(&out).unwrap();
        assert!(
            copy == data,
            "{}",
            fill(
                "ch06.copy_sizes",
                &[("sent", &data.len()), ("received", &copy.len())]
            )
        );
    }

    #[test]
    fn hostile_datagrams_neither_stop_the_receiver_nor_corrupt_the_copy() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("copy.bin");
        let (mut receiver, addr) = receiver_program(&out);
        // 2,000 datagrams from a stranger: random bytes, truncated headers, lying and huge lengths.
        let hostile: Vec<Vec<u8>> = (0..2000u32)
            .map(|i| match i % 4 {
                0 => noise(i, (i % 100) as usize),
                1 => hex("01 5e551011 00000001 00")[..(i % 11) as usize].to_vec(),
                2 => [hex("01 5e551011 00000001 ffff"), noise(i, 10)].concat(),
                _ => [
                    vec![(i % 3) as u8 + 1],
                    noise(i, 6),
                    noise(i + 1, (i % 50) as usize),
                ]
                .concat(),
            })
            .filter(|d| {
                reference::Message::decode(d).is_err() && reference::Packet::decode(d).is_err()
            })
            .collect();
        assert!(
            hostile.len() > 1900,
            "test setup: the hostile datagrams must not be valid messages"
        );
        let stranger = net::udp_socket();
        let attack = thread::spawn(move || {
            for (i, datagram) in hostile.iter().enumerate() {
                let _ = stranger.send_to(datagram, addr);
                if i % 100 == 99 {
                    // Paced a little, so the attack lasts through the transfer.
                    thread::sleep(Duration::from_millis(2));
                }
            }
        });
        let data = noise(99, 64 * 1024);
        let mut sender = send_program(addr, &data, &[]);
        let sent = sender.wait_exit_while_running(&mut receiver, Duration::from_secs(10));
        attack.join().unwrap();
        assert!(
            sent.status.success(),
            "{}",
            fill(
                "test.exited",
                &[("name", &"reliable-send"), ("exited", &format!("{sent:?}"))]
            )
        );
        let received = receiver.wait_exit(Duration::from_secs(5));
        assert!(
            received.status.success(),
            "{}",
            fill(
                "test.exited",
                &[
                    ("name", &"reliable-recv"),
                    ("exited", &format!("{received:?}"))
                ]
            )
        );
        assert!(
            std::fs::read(&out).unwrap() == data,
            "{}",
            text("ch06.copy_differs")
        );
    }

    /// reliable-recv with `extra` flags, writing to `out`; the tests' sessions start at 1.
    fn receiver_program_with(out: &std::path::Path, extra: &[&str]) -> (ChildGuard, SocketAddr) {
        let mut command = Command::new(course_harness::program!("reliable-recv"));
        command
            .args(["--bind", "127.0.0.1:0", "--linger-ms", "200"])
            .args(extra);
        let mut child = ChildGuard::spawn_with_stdout(
            command,
            Stdio::from(std::fs::File::create(out).unwrap()),
        );
        let addr = child.listening_addr();
        (child, addr)
    }

    /// Sends `message` from `peer` and waits for its ACK.
    #[track_caller]
    /// Sends one packet of the window protocol (the programs' default) and checks that its
    /// ACK comes back: cumulative up to and including `seq`.
    fn send_acked(peer: &Peer, packet: reference::Packet, to: SocketAddr, rx: &mut ChildGuard) {
        let seq = match &packet {
            reference::Packet::Data { seq, .. } | reference::Packet::End { seq, .. } => *seq,
            reference::Packet::Ack(_) => unreachable!("test setup: send DATA or END"),
        };
        peer.send_to(&packet.encode(), to);
        match peer.recv_while_running(rx) {
            Ok((ack, _)) => match reference::Packet::decode(&ack) {
                Ok(reference::Packet::Ack(ack)) if ack.cumulative == seq + 1 => {}
                other => panic!(
                    "{}",
                    fill(
                        "ch06.reply_to",
                        &[
                            ("seq", &seq),
                            ("ack", &(seq + 1)),
                            ("got", &format!("{other:?}"))
                        ]
                    )
                ),
            },
            Err(e) => rx.fail(&fill("ch06.no_ack_for", &[("seq", &seq), ("error", &e)])),
        }
    }

    fn data(seq: u32, payload: &[u8]) -> reference::Packet {
        reference::Packet::Data {
            session: S,
            seq,
            payload: payload.to_vec(),
        }
    }

    #[test]
    fn reliable_recv_from_hears_only_the_named_sender() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("copy.bin");
        let exchange = Exchange::new();
        let sender = Peer::new(&exchange, "sender");
        let stranger = Peer::new(&exchange, "stranger");
        let from = sender.addr().to_string();
        let (mut receiver, addr) = receiver_program_with(&out, &["--from", &from]);
        // The stranger is quicker: without --from, its DATA 1 would start the stream.
        let first = SESSION.first_seq;
        stranger.send_to(&data(first, b"evil").encode(), addr);
        send_acked(&sender, data(first, b"good"), addr, &mut receiver);
        send_acked(
            &sender,
            reference::Packet::End {
                session: S,
                seq: first + 1,
            },
            addr,
            &mut receiver,
        );
        let exited = receiver.wait_exit(Duration::from_secs(5));
        exited.expect_code("reliable-recv", 0);
        assert_eq!(std::fs::read(&out).unwrap(), b"good");
        stranger
            .socket()
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        assert!(stranger.recv().is_err(), "{}", text("ch06.stranger_no_ack"));
    }

    #[test]
    fn reliable_recv_gives_up_on_a_silent_sender_and_keeps_what_arrived() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("copy.bin");
        let (mut receiver, addr) = receiver_program_with(&out, &["--idle-timeout", "0.3"]);
        let exchange = Exchange::new();
        let sender = Peer::new(&exchange, "sender");
        let first = SESSION.first_seq;
        send_acked(&sender, data(first, b"part one"), addr, &mut receiver);
        // ... and then the sender falls silent before END.
        let exited = receiver.wait_exit(Duration::from_secs(5));
        exited.expect_code("reliable-recv --idle-timeout 0.3", 1);
        assert!(
            exited.stderr_text().contains("no datagram from"),
            "{}",
            fill("test.one_clear_line", &[("exited", &format!("{exited:?}"))])
        );
        assert_eq!(std::fs::read(&out).unwrap(), b"part one");
    }

    #[test]
    fn reliable_send_to_nobody_exits_with_code_1() {
        let gone = net::udp_socket().local_addr().unwrap();
        let mut sender = send_program(gone, b"hello", &["--tries", "3"]);
        let exited = sender.wait_exit(Duration::from_secs(5));
        assert_eq!(exited.status.code(), Some(1), "{exited:?}");
        assert!(
            exited
                .stderr
                .iter()
                .any(|l| l.contains("nothing is listening")),
            "{exited:?}"
        );
    }

    #[test]
    fn reliable_send_gives_up_when_every_datagram_is_lost() {
        let (receiver, _delivered) = reference_receiver(Duration::from_millis(100));
        let mut relay = Command::new(course_harness::program!("lossy-relay"));
        relay.args([
            "--bind",
            "127.0.0.1:0",
            "--server",
            &receiver.to_string(),
            "--loss",
            "1",
        ]);
        let mut relay = ChildGuard::spawn(relay);
        let relay_addr = relay.listening_addr();
        let mut sender = send_program(relay_addr, b"into the void", &["--tries", "4"]);
        let exited = sender.wait_exit(Duration::from_secs(5));
        assert_eq!(exited.status.code(), Some(1), "{exited:?}");
        assert!(
            exited
                .stderr
                .iter()
                .any(|l| l.contains("sent 4 times and never acknowledged")),
            "{exited:?}"
        );
    }
}
