//! Chapter 8: a UDP chat. Grade this chapter with `cargo test --test 'ch08*'`; every test calls
//! your code in `exercises/src/ch08_chat/`, directly or through the chat programs.

use std::collections::BTreeMap;
use std::io::BufReader;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use course_catalog::fill;
use course_harness::net::Family::{self, V4, V6};
use course_harness::show::{OrFail, Report};
use course_harness::{
    ChildGuard, Deadline, Exchange, Peer, SharedOutput, call_learner, input_pipe, net,
    start_learner,
};
use rstest::rstest;
use socket_course::ch08_chat::payload::ParseError;
use socket_course::ch08_chat::{
    ChatMessage, Kind, MAX_DATAGRAM, MAX_PLAIN, Now, Payload, Relay, ServeOptions, display_line,
    parse, receive, run_client, run_server_with, text_limit, validate_name,
};

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// `[::1]:port`: the IPv6 cases' members.
fn addr6(port: u16) -> SocketAddr {
    V6.with_port(port)
}

/// A fixed moment, so relayed plain text gets a known timestamp.
fn at(instant: Instant, unix_ms: u64) -> Now {
    Now { instant, unix_ms }
}

/// Exercise 8.1: `cargo test --test ch08_chat payload::` (text in, text out: no socket, so no
/// IPv6 case)
mod payload {
    use super::*;

    #[rstest]
    #[case::message(
        ChatMessage::new(Kind::Msg, 1_763_798_400_123, "Taro Yamada", "Hello, everyone!"),
        "chat/1 msg 1763798400123 Taro Yamada\nHello, everyone!"
    )]
    #[case::join(
        ChatMessage::new(Kind::Join, 5, "hanako", ""),
        "chat/1 join 5 hanako\n"
    )]
    #[case::japanese(
        ChatMessage::new(Kind::Msg, 0, "太郎", "こんにちは"),
        "chat/1 msg 0 太郎\nこんにちは"
    )]
    fn messages_encode_to_the_documented_text(
        #[case] message: ChatMessage,
        #[case] expected: &str,
    ) {
        let got = call_learner(move || message.encode());
        assert_eq!(String::from_utf8_lossy(&got), expected);
    }

    #[rstest]
    #[case::message("chat/1 msg 12 taro\nhi", Kind::Msg, 12, "taro", "hi")]
    #[case::name_with_spaces(
        "chat/1 msg 12 Taro Yamada\nhi there",
        Kind::Msg,
        12,
        "Taro Yamada",
        "hi there"
    )]
    #[case::empty_text("chat/1 msg 12 taro\n", Kind::Msg, 12, "taro", "")]
    #[case::no_newline("chat/1 leave 12 taro", Kind::Leave, 12, "taro", "")]
    #[case::ping("chat/1 ping 0 taro\n", Kind::Ping, 0, "taro", "")]
    #[case::text_with_newlines(
        "chat/1 msg 1 a\nline 1\nline 2",
        Kind::Msg,
        1,
        "a",
        "line 1\nline 2"
    )]
    #[case::forged_future_time(
        "chat/1 msg 99999999999999999 taro\nfrom the future",
        Kind::Msg,
        99_999_999_999_999_999,
        "taro",
        "from the future"
    )]
    fn good_chat_datagrams_parse(
        #[case] datagram: &'static str,
        #[case] kind: Kind,
        #[case] timestamp_ms: u64,
        #[case] name: &str,
        #[case] text: &str,
    ) {
        let got = call_learner(move || parse(datagram.as_bytes()));
        assert_eq!(
            got,
            Ok(Payload::Chat(ChatMessage::new(
                kind,
                timestamp_ms,
                name,
                text
            ))),
            "parse({datagram:?})"
        );
    }

    #[rstest]
    #[case::article_c_client(b"hello")]
    #[case::almost_the_marker(b"chat/ 1 msg")]
    #[case::not_utf8(&[0xff, 0xfe, b'x'])]
    fn anything_without_the_marker_is_plain_text(#[case] datagram: &'static [u8]) {
        let got = call_learner(move || parse(datagram));
        assert_eq!(got, Ok(Payload::Plain(datagram.to_vec())));
    }

    #[rstest]
    #[case::empty(b"".to_vec(), ParseError::Empty)]
    #[case::formatted_too_long([b"chat/1 msg 1 a\n".to_vec(), vec![b'x'; MAX_DATAGRAM]].concat(), ParseError::TooLong { len: MAX_DATAGRAM + 15, limit: MAX_DATAGRAM })]
    #[case::plain_too_long(vec![b'x'; MAX_PLAIN + 1], ParseError::TooLong { len: MAX_PLAIN + 1, limit: MAX_PLAIN })]
    #[case::ten_thousand_byte_name(format!("chat/1 msg 1 {}\nhi", "n".repeat(10_000)).into_bytes(), ParseError::TooLong { len: 10_016, limit: MAX_DATAGRAM })]
    #[case::marker_only(b"chat/1".to_vec(), ParseError::BadHeader)]
    #[case::no_name(b"chat/1 msg 5".to_vec(), ParseError::BadHeader)]
    #[case::longer_marker(b"chat/12 msg 5 a\nx".to_vec(), ParseError::BadHeader)]
    #[case::not_utf8_after_marker(b"chat/1 msg 5 \xff\nx".to_vec(), ParseError::NotUtf8)]
    #[case::unknown_kind(b"chat/1 shout 5 a\nx".to_vec(), ParseError::UnknownKind("shout".into()))]
    #[case::negative_time(b"chat/1 msg -5 a\nx".to_vec(), ParseError::BadTimestamp("-5".into()))]
    #[case::empty_time(b"chat/1 msg  a\nx".to_vec(), ParseError::BadTimestamp("".into()))]
    #[case::time_beyond_u64(b"chat/1 msg 99999999999999999999 a\nx".to_vec(), ParseError::BadTimestamp("99999999999999999999".into()))]
    #[case::empty_name(b"chat/1 msg 5 \nx".to_vec(), ParseError::BadName("".into()))]
    #[case::name_too_long(format!("chat/1 msg 5 {}\nx", "a".repeat(33)).into_bytes(), ParseError::BadName("a".repeat(33)))]
    #[case::control_character_in_name(b"chat/1 msg 5 ta\x07ro\nx".to_vec(), ParseError::BadName("ta\u{7}ro".into()))]
    #[case::text_after_join(b"chat/1 join 5 taro\nhello".to_vec(), ParseError::UnexpectedText)]
    fn malformed_chat_datagrams_are_errors(
        #[case] datagram: Vec<u8>,
        #[case] expected: ParseError,
    ) {
        let got = call_learner(move || parse(&datagram));
        assert_eq!(got, Err(expected));
    }

    #[test]
    fn the_plain_text_limit_is_the_one_named() {
        let got = call_learner(|| parse(&vec![b'x'; 1793]));
        let Err(e) = got else {
            panic!(
                "{}",
                fill("ch08.plain_limit", &[("got", &format!("{got:?}"))])
            )
        };
        assert_eq!(
            e,
            ParseError::TooLong {
                len: 1793,
                limit: 1792
            }
        );
        assert!(e.to_string().contains("1792"), "{e}");
    }

    #[rstest]
    #[case::short("a", true)]
    #[case::spaces("Taro Yamada", true)]
    #[case::thirty_two_japanese_characters(&"あ".repeat(32), true)]
    #[case::empty("", false)]
    #[case::thirty_three(&"a".repeat(33), false)]
    #[case::tab("a\tb", false)]
    #[case::newline("a\nb", false)]
    #[case::escape_sequence("\u{1b}[31mred", false)]
    #[case::direction_override("abc\u{202e}def", false)]
    #[case::arabic_letter_mark("Ali\u{61c}ce", false)]
    #[case::zero_width_space("Alice\u{200b}", false)]
    #[case::line_separator("Ali\u{2028}ce", false)]
    #[case::tag_character("Alice\u{e0041}", false)]
    #[case::hangul_filler("\u{3164}", false)]
    #[case::japanese_name("田中さん", true)]
    #[case::colon_space_could_fake_a_message("Alice: hi", false)]
    #[case::an_address("127.0.0.1:9", true)]
    #[case::star_could_fake_a_join("* Alice", false)]
    #[case::space_at_the_start(" Alice", false)]
    #[case::space_at_the_end("Alice ", false)]
    fn names_are_checked_by_characters(#[case] name: &str, #[case] valid: bool) {
        let owned = name.to_string();
        let got = call_learner(move || validate_name(&owned));
        assert_eq!(
            got.is_ok(),
            valid,
            "{}",
            fill(
                "test.returned",
                &[
                    ("call", &format!("validate_name({name:?})")),
                    ("got", &format!("{got:?}"))
                ]
            )
        );
    }
}

/// Exercise 8.2, with `server::`: `cargo test --test ch08_chat -- relay:: server::`
mod relay {
    use super::*;

    /// Runs `steps` (sender port, datagram) through a new relay; returns each step's result
    /// with the sends sorted by address.
    fn run(steps: Vec<(u16, Vec<u8>)>) -> Vec<Result<Vec<(SocketAddr, String)>, ParseError>> {
        run_from(steps.into_iter().map(|(port, d)| (addr(port), d)).collect())
    }

    /// [`run`] with whole sender addresses (IPv6 ones, say).
    fn run_from(
        steps: Vec<(SocketAddr, Vec<u8>)>,
    ) -> Vec<Result<Vec<(SocketAddr, String)>, ParseError>> {
        call_learner(move || {
            let mut relay = Relay::new(Duration::from_secs(60));
            let start = Instant::now();
            steps
                .into_iter()
                .map(|(from, datagram)| {
                    relay
                        .on_datagram(from, &datagram, at(start, 1_000))
                        .map(|mut sends| {
                            sends.sort();
                            sends
                                .into_iter()
                                .map(|(to, bytes)| {
                                    (to, String::from_utf8_lossy(&bytes).into_owned())
                                })
                                .collect()
                        })
                })
                .collect()
        })
    }

    fn join(port: u16, name: &str) -> (u16, Vec<u8>) {
        (port, format!("chat/1 join 1 {name}\n").into_bytes())
    }

    #[test]
    fn a_message_goes_to_every_other_member_and_never_back() {
        let results = run(vec![
            join(1, "a"),
            join(2, "b"),
            join(3, "c"),
            (1, b"chat/1 msg 7 a\nhello".to_vec()),
        ]);
        let message = "chat/1 msg 7 a\nhello".to_string();
        assert_eq!(
            results[3],
            Ok(vec![(addr(2), message.clone()), (addr(3), message)])
        );
    }

    #[test]
    fn joins_are_announced_to_those_already_there() {
        let results = run(vec![join(1, "a"), join(2, "b")]);
        assert_eq!(
            results[0],
            Ok(vec![]),
            "{}",
            fill("ch08.nobody_to_tell", &[])
        );
        assert_eq!(
            results[1],
            Ok(vec![(addr(1), "chat/1 join 1 b\n".to_string())])
        );
    }

    #[test]
    fn plain_text_is_relayed_under_the_senders_address() {
        let results = run(vec![join(1, "a"), (9, b"hello from python".to_vec())]);
        assert_eq!(
            results[1],
            Ok(vec![(
                addr(1),
                "chat/1 msg 1000 127.0.0.1:9\nhello from python".to_string()
            )])
        );
    }

    #[test]
    fn plain_text_from_a_v6_sender_is_relayed_under_its_v6_address() {
        let results = run_from(vec![
            (addr6(1), b"chat/1 join 1 a\n".to_vec()),
            (addr6(9), b"hello from python".to_vec()),
            (addr(2), b"chat/1 join 1 b\n".to_vec()),
            (addr6(1), b"chat/1 msg 7 a\nhi".to_vec()),
        ]);
        assert_eq!(
            results[1],
            Ok(vec![(
                addr6(1),
                "chat/1 msg 1000 [::1]:9\nhello from python".to_string()
            )])
        );
        let mut expected = vec![
            (addr(2), "chat/1 msg 7 a\nhi".to_string()),
            (addr6(9), "a: hi".to_string()),
        ];
        expected.sort();
        assert_eq!(results[3], Ok(expected));
    }

    #[test]
    fn a_member_without_the_format_gets_plain_text() {
        let results = run(vec![
            (9, b"hi".to_vec()),
            join(1, "taro"),
            (1, b"chat/1 msg 7 taro\nhello".to_vec()),
            (1, b"chat/1 leave 8 taro\n".to_vec()),
        ]);
        assert_eq!(results[1], Ok(vec![(addr(9), "* taro joined".to_string())]));
        assert_eq!(results[2], Ok(vec![(addr(9), "taro: hello".to_string())]));
        assert_eq!(results[3], Ok(vec![(addr(9), "* taro left".to_string())]));
    }

    #[test]
    fn a_malformed_datagram_is_an_error_and_goes_nowhere() {
        let results = run(vec![
            join(1, "a"),
            join(2, "b"),
            (1, b"chat/1 msg x a\nforged".to_vec()),
            (2, b"".to_vec()),
        ]);
        assert!(
            matches!(results[2], Err(ParseError::BadTimestamp(_))),
            "{:?}",
            results[2]
        );
        assert!(
            matches!(results[3], Err(ParseError::Empty)),
            "{:?}",
            results[3]
        );
    }
    #[test]
    fn a_name_belongs_to_the_member_who_joined_with_it() {
        let results = run(vec![
            join(1, "alice"),
            join(2, "bob"),
            (
                2,
                b"chat/1 msg 5 alice\nplease send me your password".to_vec(),
            ),
            (2, b"chat/1 leave 5 alice\n".to_vec()),
            join(3, "alice"),
            (1, b"chat/1 msg 6 alice\nstill me".to_vec()),
            (1, b"chat/1 leave 7 alice\n".to_vec()),
            join(3, "alice"),
            (
                2,
                b"chat/1 msg 8 127.0.0.1:9\nI am the plain-text member".to_vec(),
            ),
        ]);
        assert_eq!(
            results[8],
            Err(ParseError::NameTaken("127.0.0.1:9".into())),
            "{}",
            fill("ch08.name_is_address", &[])
        );
        for (step, kind) in [(2, "msg"), (3, "leave"), (4, "join")] {
            assert_eq!(
                results[step],
                Err(ParseError::NameTaken("alice".into())),
                "{}",
                fill("ch08.under_alices_name", &[("kind", &kind)])
            );
        }
        assert_eq!(
            results[5],
            Ok(vec![(addr(2), "chat/1 msg 6 alice\nstill me".to_string())]),
            "{}",
            fill("ch08.alices_own", &[])
        );
        assert!(
            matches!(&results[7], Ok(sends) if sends.len() == 1),
            "{}",
            fill("ch08.name_free", &[("got", &format!("{:?}", results[7]))])
        );
    }

    #[test]
    fn a_newcomer_to_a_full_chat_is_refused() {
        let results = call_learner(|| {
            let mut relay = Relay::new(Duration::from_secs(60)).with_limits(2, 100.0);
            let now = at(Instant::now(), 1);
            let mut results = Vec::new();
            for (port, datagram) in [
                (1, "chat/1 join 1 a\n"),
                (2, "chat/1 join 1 b\n"),
                (3, "chat/1 join 1 c\n"),
                (4, "plain text makes a member too"),
                (1, "chat/1 msg 2 a\nstill in"),
            ] {
                results.push(
                    relay
                        .on_datagram(addr(port), datagram.as_bytes(), now)
                        .map(|s| s.len()),
                );
            }
            (results, relay.members())
        });
        assert_eq!(
            results.0,
            [
                Ok(0),
                Ok(1),
                Err(ParseError::ChatFull(2)),
                Err(ParseError::ChatFull(2)),
                Ok(1)
            ]
        );
        assert_eq!(results.1, [addr(1), addr(2)]);
    }

    #[test]
    fn text_for_a_plain_member_stays_one_line() {
        let results = run(vec![
            (9, b"hi".to_vec()),
            join(1, "taro"),
            (
                1,
                b"chat/1 msg 7 taro\nhello\n* hanako left\x1b[2J".to_vec(),
            ),
        ]);
        assert_eq!(
            results[2],
            Ok(vec![(
                addr(9),
                "taro: hello\\n* hanako left\\u{1b}[2J".to_string()
            )]),
            "{}",
            fill("ch08.forged_line", &[])
        );
    }

    #[test]
    fn a_member_over_the_rate_limit_is_dropped_and_counted() {
        let (admitted, counters) = call_learner(|| {
            let mut relay = Relay::new(Duration::from_secs(60)).with_limits(64, 5.0);
            let t0 = Instant::now();
            let _ = relay.admit(addr(1), t0);
            let _ = relay.on_datagram(addr(1), b"chat/1 join 1 a\n", at(t0, 1));
            // 20 datagrams at the same instant: the bucket holds 5.
            let admitted = (0..20).filter(|_| relay.admit(addr(1), t0).is_ok()).count();
            (admitted, relay.counters())
        });
        assert_eq!(admitted, 5, "{}", fill("ch08.full_bucket", &[]));
        assert_eq!(counters.rate_limited, 15);
    }
}

/// Exercise 8.4, with `programs::`: `cargo test --test ch08_chat -- presence:: programs::`
mod presence {
    use super::*;

    #[test]
    fn pings_go_nowhere_and_a_leave_is_announced_then_forgotten() {
        let results = call_learner(|| {
            let mut relay = Relay::new(Duration::from_secs(60));
            let now = at(Instant::now(), 1);
            let mut sends = Vec::new();
            for (port, datagram) in [
                (1, "chat/1 join 1 a\n"),
                (2, "chat/1 join 1 b\n"),
                (1, "chat/1 ping 2 a\n"),
                (2, "chat/1 leave 3 b\n"),
                (1, "chat/1 msg 4 a\nanyone?"),
            ] {
                sends.push(
                    relay
                        .on_datagram(addr(port), datagram.as_bytes(), now)
                        .map(|s| s.len()),
                );
            }
            (sends, relay.members())
        });
        assert_eq!(
            results.0,
            [Ok(0), Ok(1), Ok(0), Ok(1), Ok(0)],
            "{}",
            fill("ch08.sent_after", &[])
        );
        assert_eq!(results.1, [addr(1)], "{}", fill("ch08.b_left", &[]));
    }

    #[test]
    fn a_v6_member_who_leaves_is_announced_then_forgotten() {
        let results = call_learner(|| {
            let mut relay = Relay::new(Duration::from_secs(60));
            let now = at(Instant::now(), 1);
            let mut sends = Vec::new();
            for (from, datagram) in [
                (addr6(1), "chat/1 join 1 a\n"),
                (addr6(2), "chat/1 join 1 b\n"),
                (addr6(1), "chat/1 ping 2 a\n"),
                (addr6(2), "chat/1 leave 3 b\n"),
            ] {
                sends.push(
                    relay
                        .on_datagram(from, datagram.as_bytes(), now)
                        .map(|s| s.len()),
                );
            }
            (sends, relay.members())
        });
        assert_eq!(
            results.0,
            [Ok(0), Ok(1), Ok(0), Ok(1)],
            "{}",
            fill("ch08.sent_after", &[])
        );
        assert_eq!(results.1, [addr6(1)], "{}", fill("ch08.b_left", &[]));
    }

    #[test]
    fn members_silent_too_long_are_forgotten_and_pings_keep_them() {
        let (forgotten, members) = call_learner(|| {
            let mut relay = Relay::new(Duration::from_secs(10));
            let t0 = Instant::now();
            let _ = relay.on_datagram(addr(1), b"chat/1 join 1 quiet\n", at(t0, 1));
            let _ = relay.on_datagram(addr(2), b"chat/1 join 1 listener\n", at(t0, 1));
            // Only the listener's keepalive arrives, 8 s later.
            let _ = relay.on_datagram(
                addr(2),
                b"chat/1 ping 2 listener\n",
                at(t0 + Duration::from_secs(8), 2),
            );
            let forgotten = relay.forget_silent(t0 + Duration::from_secs(12));
            (forgotten, relay.members())
        });
        assert_eq!(forgotten, [addr(1)]);
        assert_eq!(members, [addr(2)]);
    }

    #[test]
    fn a_ping_from_a_stranger_does_not_make_a_member() {
        let members = call_learner(|| {
            let mut relay = Relay::new(Duration::from_secs(10));
            let now = at(Instant::now(), 1);
            let _ = relay.on_datagram(addr(1), b"chat/1 join 1 a\n", now);
            let _ = relay.on_datagram(addr(2), b"chat/1 ping 1 b\n", now);
            relay.members()
        });
        assert_eq!(members, [addr(1)]);
    }
}

/// Your relay on a real socket, with many clients: `cargo test --test ch08_chat server::`
mod server {
    use super::*;

    /// Never set: these servers stop when their test ends.
    static NEVER: AtomicBool = AtomicBool::new(false);

    /// Starts `run_server` (given, with your `Relay`) on a socket of its own.
    fn serving() -> (
        SocketAddr,
        course_harness::Running<std::io::Result<socket_course::ch08_chat::Counters>>,
    ) {
        serving_on(V4)
    }

    /// [`serving`] on the loopback address of `family`.
    fn serving_on(
        family: Family,
    ) -> (
        SocketAddr,
        course_harness::Running<std::io::Result<socket_course::ch08_chat::Counters>>,
    ) {
        let socket = net::udp_socket_on(family);
        let addr = socket.local_addr().unwrap();
        let relay = Relay::new(Duration::from_secs(60));
        // Every test client is on 127.0.0.1: room for 20 of them on that one address.
        let options = ServeOptions {
            max_per_address: 20,
            ..ServeOptions::default()
        };
        let running =
            start_learner(move || run_server_with(&socket, relay, options, &NEVER, |_| {}));
        (addr, running)
    }

    /// A client that joins as chat-client does: the join, then the server's cookie sent
    /// back unchanged (the given `run_server` admits a newcomer only then).
    fn join(
        exchange: &Exchange,
        server: SocketAddr,
        name: &str,
        running: &mut course_harness::Running<std::io::Result<socket_course::ch08_chat::Counters>>,
    ) -> Peer {
        let peer = Peer::on(exchange, name, Family::of(server));
        peer.send_to(
            format!("chat/1 join 1763798400000 {name}\n").as_bytes(),
            server,
        );
        let (cookie, _) = peer
            .recv_checking(|| running.check())
            .or_fail("ch08.no_cookie", &[]);
        peer.send_to(&cookie, server);
        // The given loop then says the newcomer is in (or why not).
        let (verdict, _) = peer
            .recv_checking(|| running.check())
            .or_fail("ch08.no_welcome", &[]);
        if verdict != b"chat/1 welcome" {
            Report::new(fill("ch08.no_welcome", &[]))
                .bytes("got", &verdict)
                .exchange(exchange)
                .fail();
        }
        peer
    }

    #[test]
    fn every_message_reaches_every_other_client_exactly_once() {
        let exchange = Exchange::new();
        let (server, mut running) = serving();
        exchange.name(server, "your server");
        let clients: Vec<Peer> = ["a", "b", "c"]
            .iter()
            .map(|n| join(&exchange, server, n, &mut running))
            .collect();
        // Drain the join announcements: a hears b and c join, b hears c.
        for (i, client) in clients.iter().enumerate() {
            for _ in i + 1..clients.len() {
                client
                    .recv_checking(|| running.check())
                    .or_fail("ch08.join_missing", &[]);
            }
        }
        for (i, sender) in clients.iter().enumerate() {
            let text = format!("chat/1 msg 5 {}\nmessage from {i}", ["a", "b", "c"][i]);
            sender.send_to(text.as_bytes(), server);
            // Paced: each message is received everywhere before the next is sent.
            for (j, receiver) in clients.iter().enumerate() {
                if j == i {
                    continue;
                }
                match receiver.recv_checking(|| running.check()) {
                    Ok((got, _)) if got == text.as_bytes() => {}
                    other => Report::new(fill("ch08.client_missed", &[]))
                        .line("expected", text.clone())
                        .line("got", format!("{other:?}"))
                        .exchange(&exchange)
                        .fail(),
                }
            }
        }
        // And nothing came back to a sender.
        for client in &clients {
            client
                .socket()
                .set_read_timeout(Some(Duration::from_millis(100)))
                .unwrap();
            if let Ok((extra, _)) = client.recv() {
                Report::new(fill("ch08.extra_datagram", &[]))
                    .bytes("extra", &extra)
                    .exchange(&exchange)
                    .fail();
            }
        }
    }

    #[test]
    fn v6_clients_join_and_hear_each_other() {
        if !V6.usable() {
            return;
        }
        let exchange = Exchange::new();
        let (server, mut running) = serving_on(V6);
        exchange.name(server, "your server");
        let a = join(&exchange, server, "a", &mut running);
        let b = join(&exchange, server, "b", &mut running);
        a.recv_checking(|| running.check())
            .or_fail("ch08.b_join_missing", &[]);
        let text = "chat/1 msg 5 b\nhello over IPv6";
        b.send_to(text.as_bytes(), server);
        match a.recv_checking(|| running.check()) {
            Ok((got, _)) if got == text.as_bytes() => {}
            other => Report::new(fill("ch08.client_missed", &[]))
                .line("expected", text)
                .line("got", format!("{other:?}"))
                .exchange(&exchange)
                .fail(),
        }
    }

    #[test]
    fn bad_input_does_not_stop_it_and_valid_messages_still_arrive() {
        let exchange = Exchange::new();
        let (server, mut running) = serving();
        let a = join(&exchange, server, "a", &mut running);
        let b = join(&exchange, server, "b", &mut running);
        a.recv_checking(|| running.check())
            .or_fail("ch08.b_join_missing", &[]);
        let rogue = Peer::new(&exchange, "rogue");
        for bad in [
            Vec::new(),
            vec![b'x'; 65_507],
            b"chat/1 msg 5 \xff\xfe\nx".to_vec(),
            b"chat/1 msg 5 bad\x1bname\nx".to_vec(),
            format!("chat/1 msg 5 {}\nx", "n".repeat(10_000)).into_bytes(),
            b"chat/1 msg 5".to_vec(),
        ] {
            rogue.send_to(&bad, server);
        }
        b.send_to(b"chat/1 msg 99999999999999 b\nstill here", server);
        let (got, _) = a
            .recv_checking(|| running.check())
            .or_fail("ch08.valid_missing", &[]);
        assert_eq!(got, b"chat/1 msg 99999999999999 b\nstill here");
        running.check();
    }

    #[test]
    fn a_thousand_messages_among_twenty_clients_none_lost() {
        let exchange = Exchange::new();
        let (server, mut running) = serving();
        let names: Vec<String> = (0..20).map(|i| format!("c{i}")).collect();
        let clients: Vec<Peer> = names
            .iter()
            .map(|n| join(&exchange, server, n, &mut running))
            .collect();
        for (i, client) in clients.iter().enumerate() {
            for _ in i + 1..clients.len() {
                client
                    .recv_checking(|| running.check())
                    .or_fail("ch08.join_missing", &[]);
            }
        }
        let mut received: BTreeMap<usize, Vec<Vec<u8>>> = BTreeMap::new();
        // 50 rounds; in each, every client sends one message and then reads the 19 others.
        // Paced by rounds, so no receive buffer ever holds more than 19 small datagrams.
        for round in 0..50 {
            for (i, client) in clients.iter().enumerate() {
                client.send_to(
                    format!("chat/1 msg {round} {}\nround {round}", names[i]).as_bytes(),
                    server,
                );
            }
            for (j, client) in clients.iter().enumerate() {
                for _ in 0..19 {
                    let (got, _) = client
                        .recv_checking(|| running.check())
                        .unwrap_or_else(|e| {
                            let args: [(&str, &dyn std::fmt::Display); 3] =
                                [("client", &j), ("round", &round), ("error", &e)];
                            panic!("{}", fill("ch08.lost_message", &args))
                        });
                    received.entry(j).or_default().push(got);
                }
            }
        }
        for (j, got) in &received {
            let mut expected: Vec<Vec<u8>> = (0..50)
                .flat_map(|round| {
                    (0..20).filter(move |i| i != j).map(move |i| {
                        format!("chat/1 msg {round} c{i}\nround {round}").into_bytes()
                    })
                })
                .collect();
            let mut got = got.clone();
            expected.sort();
            got.sort();
            assert!(
                got == expected,
                "{}",
                fill("ch08.exactly_once", &[("client", &j)])
            );
        }
    }
}

/// Exercise 8.3a: `cargo test --test ch08_chat receive::`
mod receive {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::Ordering;

    struct Listening {
        server: Peer,
        screen: SharedOutput,
        stop: Arc<AtomicBool>,
        joined: Arc<AtomicBool>,
        running: course_harness::Running<std::io::Result<()>>,
    }

    /// Your `receive` on a socket connected to a test server, as "taro".
    fn listen(keepalive: Duration) -> Listening {
        listen_on(keepalive, V4)
    }

    /// [`listen`] with the test server and your socket on `family`.
    fn listen_on(keepalive: Duration, family: Family) -> Listening {
        let exchange = Exchange::new();
        let server = Peer::on(&exchange, "test server", family);
        let socket = net::udp_socket_on(family);
        socket.connect(server.addr()).unwrap();
        let screen = SharedOutput::new();
        let output = screen.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let joined = Arc::new(AtomicBool::new(true));
        let (stop2, joined2) = (Arc::clone(&stop), Arc::clone(&joined));
        let running =
            start_learner(move || receive(socket, "taro", output, keepalive, &stop2, &joined2));
        Listening {
            server,
            screen,
            stop,
            joined,
            running,
        }
    }

    /// Waits (bounded) until the screen shows `count` lines.
    fn lines(l: &mut Listening, count: usize) -> Vec<String> {
        let deadline = Deadline::after(Duration::from_secs(5));
        loop {
            let lines = l.screen.complete_lines();
            if lines.len() >= count || deadline.expired() {
                return lines;
            }
            l.running.check();
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The client's address, learned from its first ping.
    fn client_addr(l: &mut Listening) -> SocketAddr {
        let running = &mut l.running;
        let (_, from) = l
            .server
            .recv_checking(|| running.check())
            .or_fail("ch08.no_ping", &[]);
        from
    }

    /// A server on `family` sends `messages` (kind, time, name, text): your `receive`
    /// prints each as `display_line` shows it, in order, and returns Ok once told to stop.
    /// (The messages are encoded only once your `receive` has shown its address: encoding
    /// is your code too, and a stub that never returns must fail the test, not hang it.)
    fn printed_line_by_line(family: Family, messages: &[(Kind, u64, &str, &str)]) {
        let mut l = listen_on(Duration::from_millis(50), family);
        let client = client_addr(&mut l);
        let mut expected = Vec::new();
        for &(kind, time, name, text) in messages {
            let message = ChatMessage::new(kind, time, name, text).encode();
            l.server.send_to(&message, client);
            let payload = parse(&message).unwrap();
            expected.extend(display_line(&payload, l.server.addr()));
        }
        assert_eq!(
            lines(&mut l, expected.len()),
            expected,
            "{}",
            fill("ch08.receive_printed", &[])
        );
        l.stop.store(true, Ordering::Relaxed);
        l.running
            .finish()
            .or_fail("test.returned_error", &[("call", &"receive")]);
    }

    #[test]
    fn what_arrives_is_printed_line_by_line_until_stop() {
        printed_line_by_line(
            V4,
            &[
                (Kind::Join, 1_700_000_000_000, "hanako", ""),
                (Kind::Msg, 1_700_000_001_000, "hanako", "こんにちは"),
            ],
        );
    }

    #[test]
    fn what_a_v6_server_sends_is_printed() {
        if !V6.usable() {
            return;
        }
        printed_line_by_line(V6, &[(Kind::Msg, 1_700_000_001_000, "hanako", "IPv6")]);
    }

    #[test]
    fn it_pings_while_joined_and_stops_pinging_after_leave() {
        let mut l = listen(Duration::from_millis(30));
        let running = &mut l.running;
        for _ in 0..3 {
            let (bytes, _) = l
                .server
                .recv_checking(|| running.check())
                .or_fail("ch08.no_ping", &[]);
            match parse(&bytes) {
                Ok(Payload::Chat(m)) if m.kind == Kind::Ping && m.name == "taro" => {}
                other => panic!(
                    "{}",
                    fill("ch08.ping_from_taro", &[("got", &format!("{other:?}"))])
                ),
            }
        }
        l.joined.store(false, Ordering::Relaxed);
        // A ping already on its way may still arrive; after that, silence (ten keepalives).
        let deadline = Deadline::after(Duration::from_millis(300));
        let mut late = 0;
        while !deadline.expired() {
            if l.server
                .socket()
                .set_read_timeout(Some(Duration::from_millis(50)))
                .is_ok()
                && l.server.socket().recv_from(&mut [0u8; 2048]).is_ok()
            {
                late += 1;
            }
        }
        assert!(late <= 1, "{}", fill("ch08.late_pings", &[("late", &late)]));
        l.stop.store(true, Ordering::Relaxed);
        l.running
            .finish()
            .or_fail("test.returned_error", &[("call", &"receive")]);
    }

    #[test]
    fn a_refused_datagram_does_not_stop_it() {
        // The server goes away for a moment: the kernel answers the pings with "port
        // unreachable", which the connected socket reports. receive goes on.
        let exchange = Exchange::new();
        let gone = net::udp_socket().local_addr().unwrap();
        let socket = net::udp_socket();
        socket.connect(gone).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let joined = Arc::new(AtomicBool::new(true));
        let (stop2, joined2) = (Arc::clone(&stop), Arc::clone(&joined));
        let _keep = Peer::new(&exchange, "unused");
        let mut running = start_learner(move || {
            receive(
                socket,
                "taro",
                std::io::sink(),
                Duration::from_millis(20),
                &stop2,
                &joined2,
            )
        });
        let deadline = Deadline::after(Duration::from_millis(300));
        while !deadline.expired() {
            running.check();
            assert!(
                !running.is_finished(),
                "{}",
                fill("ch08.returned_while_away", &[])
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        stop.store(true, Ordering::Relaxed);
        running
            .finish()
            .or_fail("test.returned_error", &[("call", &"receive")]);
    }
}

/// Exercise 8.3b: `cargo test --test ch08_chat client::`
mod client {
    use super::*;

    /// Your client talking to a test server; returns the server, the keyboard, the screen and
    /// the running client.
    fn start(
        keepalive: Duration,
    ) -> (
        Peer,
        course_harness::InputWriter,
        SharedOutput,
        course_harness::Running<std::io::Result<()>>,
    ) {
        start_on(keepalive, V4)
    }

    /// [`start`] with the test server and your socket on `family`.
    fn start_on(
        keepalive: Duration,
        family: Family,
    ) -> (
        Peer,
        course_harness::InputWriter,
        SharedOutput,
        course_harness::Running<std::io::Result<()>>,
    ) {
        let exchange = Exchange::new();
        let server = Peer::on(&exchange, "test server", family);
        let socket = net::udp_socket_on(family);
        let (keyboard, input) = input_pipe();
        let screen = SharedOutput::new();
        let output = screen.clone();
        let to = server.addr();
        let running = start_learner(move || {
            run_client(socket, to, "taro", BufReader::new(input), output, keepalive)
        });
        (server, keyboard, screen, running)
    }

    /// The next datagram from the client that is not a ping.
    #[track_caller]
    fn next(
        server: &Peer,
        running: &mut course_harness::Running<std::io::Result<()>>,
    ) -> (String, SocketAddr) {
        loop {
            let (bytes, from) = server
                .recv_checking(|| running.check())
                .or_fail("ch08.sent_nothing_more", &[]);
            let text = String::from_utf8_lossy(&bytes).into_owned();
            if !text.starts_with("chat/1 ping ") {
                return (text, from);
            }
        }
    }

    /// The join, answered as a course server answers a newcomer: with a cookie, which the
    /// client must send back unchanged (the given `check_server_answers` does it). Returns
    /// the join and where it came from.
    #[track_caller]
    fn joined(
        server: &Peer,
        running: &mut course_harness::Running<std::io::Result<()>>,
    ) -> (String, SocketAddr) {
        let (join, client) = next(server, running);
        let cookie = format!("chat/1 cookie 0123456789abcdef01234567\n{join}");
        server.send_to(cookie.as_bytes(), client);
        let (back, _) = next(server, running);
        assert_eq!(back, cookie, "{}", fill("ch08.cookie_not_returned", &[]));
        server.send_to(b"chat/1 welcome", client);
        (join, client)
    }

    /// Checks `line` is `[HH:MM:SS] ` followed by `rest`.
    #[track_caller]
    fn assert_line(line: &str, rest: &str) {
        let ok = line.len() == 11 + rest.len()
            && line.starts_with('[')
            && line[1..9].bytes().enumerate().all(|(i, b)| {
                if i % 3 == 2 {
                    b == b':'
                } else {
                    b.is_ascii_digit()
                }
            })
            && &line[9..11] == "] "
            && line.ends_with(rest);
        assert!(
            ok,
            "{}",
            fill(
                "ch08.line_format",
                &[("rest", &rest), ("line", &format!("{line:?}"))]
            )
        );
    }

    /// Waits until the screen shows at least `count` lines.
    fn lines(screen: &SharedOutput, count: usize) -> Vec<String> {
        let deadline = Deadline::after(Duration::from_secs(5));
        loop {
            let lines = screen.complete_lines();
            if lines.len() >= count || deadline.expired() {
                return lines;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// A timestamp in the course's format is a number of milliseconds.
    fn timestamp(datagram: &str) -> bool {
        datagram
            .split(' ')
            .nth(2)
            .is_some_and(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
    }

    #[test]
    fn it_joins_sends_each_line_and_leaves_at_q() {
        let (server, keyboard, _screen, mut running) = start(Duration::from_secs(60));
        let (join, _) = joined(&server, &mut running);
        assert!(
            join.starts_with("chat/1 join ") && join.ends_with(" taro\n") && timestamp(&join),
            "{join:?}"
        );
        keyboard.type_text("hello, everyone\n");
        let (message, _) = next(&server, &mut running);
        assert!(
            message.starts_with("chat/1 msg ") && message.ends_with(" taro\nhello, everyone"),
            "{message:?}"
        );
        keyboard.type_text("q\n");
        let (leave, _) = next(&server, &mut running);
        assert!(
            leave.starts_with("chat/1 leave ") && leave.ends_with(" taro\n"),
            "{leave:?}"
        );
        running
            .finish()
            .or_fail("test.returned_error", &[("call", &"run_client")]);
    }

    #[test]
    fn it_joins_a_v6_server_sends_a_line_and_leaves_at_q() {
        if !V6.usable() {
            return;
        }
        let (server, keyboard, _screen, mut running) = start_on(Duration::from_secs(60), V6);
        let (join, _) = joined(&server, &mut running);
        assert!(join.starts_with("chat/1 join "), "{join:?}");
        keyboard.type_text("hello over IPv6\n");
        let (message, _) = next(&server, &mut running);
        assert!(message.ends_with(" taro\nhello over IPv6"), "{message:?}");
        keyboard.type_text("q\n");
        let (leave, _) = next(&server, &mut running);
        assert!(leave.starts_with("chat/1 leave "), "{leave:?}");
        running
            .finish()
            .or_fail("test.returned_error", &[("call", &"run_client")]);
    }

    #[test]
    fn it_prints_what_arrives_while_waiting_for_the_keyboard() {
        let (server, keyboard, screen, mut running) = start(Duration::from_secs(60));
        let (_, client) = joined(&server, &mut running);
        server.send_to(b"chat/1 join 1763798400000 hanako\n", client);
        server.send_to(b"chat/1 ping 1763798400000 hanako\n", client);
        server.send_to(b"chat/1 msg 1763798400000 hanako\nhi taro", client);
        server.send_to(b"plain words", client);
        let shown = lines(&screen, 3);
        assert_eq!(
            shown.len(),
            3,
            "{}",
            fill("ch08.three_lines", &[("shown", &format!("{shown:?}"))])
        );
        assert_line(&shown[0], "* hanako joined");
        assert_line(&shown[1], "hanako: hi taro");
        assert_line(&shown[2], &format!("{}: plain words", server.addr()));
        drop(keyboard);
        running
            .finish()
            .or_fail("test.returned_error", &[("call", &"run_client")]);
    }

    #[test]
    fn a_newline_or_an_escape_sequence_cannot_forge_a_line() {
        let (server, keyboard, screen, mut running) = start(Duration::from_secs(60));
        let (_, client) = joined(&server, &mut running);
        server.send_to(
            b"chat/1 msg 1763798400000 hanako\nhi\n[09:00:00] alice: my password is\x1b[8m",
            client,
        );
        server.send_to(b"plain\n[09:00:00] bob: \x1b[2Jforged", client);
        server.send_to(b"chat/1 msg 1763798400000 hanako\nlast", client);
        let shown = lines(&screen, 3);
        let text = screen.contents();
        assert!(
            !text.contains(&0x1b),
            "{}",
            fill("ch08.escape_on_screen", &[("shown", &format!("{shown:?}"))])
        );
        assert_eq!(
            shown.len(),
            3,
            "{}",
            fill("ch08.three_datagrams", &[("shown", &format!("{shown:?}"))])
        );
        assert_line(
            &shown[0],
            "hanako: hi\\n[09:00:00] alice: my password is\\u{1b}[8m",
        );
        assert_line(
            &shown[1],
            &format!(
                "{}: plain\\n[09:00:00] bob: \\u{{1b}}[2Jforged",
                server.addr()
            ),
        );
        drop(keyboard);
        running
            .finish()
            .or_fail("test.returned_error", &[("call", &"run_client")]);
    }

    #[test]
    fn a_line_too_long_or_not_utf8_is_not_sent_and_the_client_goes_on() {
        let (server, keyboard, _screen, mut running) = start(Duration::from_secs(60));
        joined(&server, &mut running);
        let limit = text_limit("taro");
        keyboard.type_text(&format!("{}\n", "x".repeat(limit + 1)));
        keyboard.type_text(&format!("{}\n", "y".repeat(70_000)));
        keyboard.type_bytes(b"caf\xe9\n");
        keyboard.type_text(&format!("{}\n", "z".repeat(limit)));
        keyboard.type_text("still here\n");
        let (longest, _) = next(&server, &mut running);
        assert!(
            longest.ends_with(&"z".repeat(limit)) && longest.len() <= MAX_DATAGRAM,
            "{}",
            fill(
                "ch08.limit_line_first",
                &[
                    ("limit", &limit),
                    ("len", &longest.len()),
                    ("start", &format!("{:?}", &longest[..longest.len().min(60)]))
                ]
            )
        );
        let (message, _) = next(&server, &mut running);
        assert!(message.ends_with(" taro\nstill here"), "{message:?}");
        drop(keyboard);
        running
            .finish()
            .or_fail("test.returned_error", &[("call", &"run_client")]);
    }

    #[test]
    fn end_of_input_leaves_and_returns() {
        let (server, keyboard, _screen, mut running) = start(Duration::from_secs(60));
        joined(&server, &mut running);
        drop(keyboard);
        let (leave, _) = next(&server, &mut running);
        assert!(leave.starts_with("chat/1 leave "), "{leave:?}");
        running
            .finish()
            .or_fail("test.returned_error", &[("call", &"run_client")]);
    }

    #[test]
    fn it_pings_while_idle() {
        let (server, keyboard, _screen, mut running) = start(Duration::from_millis(50));
        joined(&server, &mut running);
        let started = Instant::now();
        let mut pings = 0;
        while pings < 3 {
            let (bytes, _) = server
                .recv_checking(|| running.check())
                .or_fail("ch08.no_keepalive", &[]);
            if bytes.starts_with(b"chat/1 ping ") {
                pings += 1;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{}",
            fill(
                "ch08.pings_took",
                &[("took", &format!("{:?}", started.elapsed()))]
            )
        );
        drop(keyboard);
        running
            .finish()
            .or_fail("test.returned_error", &[("call", &"run_client")]);
    }

    #[test]
    fn leave_and_join_commands() {
        let (server, keyboard, _screen, mut running) = start(Duration::from_secs(60));
        joined(&server, &mut running);
        keyboard.type_text("/leave\n/join jiro\nI am back\n");
        let (leave, _) = next(&server, &mut running);
        assert!(
            leave.starts_with("chat/1 leave ") && leave.ends_with(" taro\n"),
            "{leave:?}"
        );
        let (join, _) = next(&server, &mut running);
        assert!(
            join.starts_with("chat/1 join ") && join.ends_with(" jiro\n"),
            "{join:?}"
        );
        let (message, _) = next(&server, &mut running);
        assert!(message.ends_with(" jiro\nI am back"), "{message:?}");
        drop(keyboard);
        running
            .finish()
            .or_fail("test.returned_error", &[("call", &"run_client")]);
    }

    #[test]
    fn after_leave_it_neither_pings_nor_sends_until_it_joins_again() {
        let (server, keyboard, _screen, mut running) = start(Duration::from_millis(30));
        joined(&server, &mut running);
        keyboard.type_text("/leave\nnobody should see this\n");
        let (leave, _) = next(&server, &mut running);
        assert!(leave.starts_with("chat/1 leave "), "{leave:?}");
        // Ten keepalive periods of silence: no ping, and the line typed was not sent.
        server
            .socket()
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        if let Ok((extra, _)) = server.recv_checking(|| running.check()) {
            let sent = format!("{:?}", String::from_utf8_lossy(&extra));
            panic!("{}", fill("ch08.after_leave", &[("sent", &sent)]));
        }
        server
            .socket()
            .set_read_timeout(Some(net::IO_TIMEOUT))
            .unwrap();
        drop(keyboard);
        running
            .finish()
            .or_fail("test.returned_error", &[("call", &"run_client")]);
    }
}

/// The programs: `cargo test --test ch08_chat programs::`
mod programs {
    use super::*;

    fn chat_client(server: SocketAddr, name: &str) -> ChildGuard {
        let mut command = Command::new(course_harness::program!("chat-client"));
        command.args(["--server", &server.to_string(), "--name", name]);
        ChildGuard::spawn(command)
    }

    #[test]
    fn three_chat_clients_see_each_others_lines() {
        let mut command = Command::new(course_harness::program!("chat-server"));
        command.args(["--bind", "127.0.0.1:0"]);
        let mut server = ChildGuard::spawn(command);
        let addr = server.listening_addr();
        let mut clients: Vec<ChildGuard> = Vec::new();
        for name in ["a", "b", "c"] {
            clients.push(chat_client(addr, name));
            // The server prints each join it relays: wait for it before the next client.
            server.stdout_line_ending_with(&format!("* {name} joined"));
        }
        for (i, name) in ["a", "b", "c"].iter().enumerate() {
            clients[i].write_stdin(&format!("hello from {name}\n"));
            for (j, other) in clients.iter_mut().enumerate() {
                if j != i {
                    other.stdout_line_ending_with(&format!("{name}: hello from {name}"));
                }
            }
        }
        for mut client in clients {
            client.close_stdin();
            let exited = client.wait_exit(Duration::from_secs(5));
            assert!(exited.status.success(), "{exited:?}");
        }
    }

    #[test]
    fn a_bad_name_is_a_usage_error() {
        let mut command = Command::new(course_harness::program!("chat-client"));
        command.args(["--name", &"x".repeat(33)]);
        let exited = ChildGuard::spawn(command).wait_exit(Duration::from_secs(10));
        assert_eq!(exited.status.code(), Some(2), "{exited:?}");
    }

    #[test]
    fn nothing_answering_is_reported_with_exit_1() {
        // Port 1 on this machine: nobody listens there, so the kernel answers "unreachable".
        let mut client = chat_client(addr(1), "taro");
        let exited = client.wait_exit(Duration::from_secs(10));
        assert_eq!(exited.status.code(), Some(1), "{exited:?}");
        let stderr = exited.stderr.join("\n");
        assert!(stderr.contains("nothing answered"), "{exited:?}");
    }

    #[test]
    fn a_line_too_long_gets_one_clear_line_and_the_client_goes_on() {
        let exchange = Exchange::new();
        let server = Peer::new(&exchange, "test server");
        let mut client = chat_client(server.addr(), "taro");
        let (join, client_addr) = server.recv().or_fail("ch08.no_join", &[]);
        assert!(join.starts_with(b"chat/1 join "));
        // Answered as a course server answers a newcomer: with a cookie to send back.
        let mut cookie = b"chat/1 cookie 0123456789abcdef01234567\n".to_vec();
        cookie.extend_from_slice(&join);
        server.send_to(&cookie, client_addr);
        let (back, _) = server.recv().or_fail("ch08.cookie_not_returned", &[]);
        assert_eq!(back, cookie);
        server.send_to(b"chat/1 welcome", client_addr);
        client.write_stdin(&format!("{}\n", "x".repeat(3000)));
        let complaint = client.stderr_line();
        let limit = text_limit("taro");
        assert!(
            complaint.contains(&limit.to_string()) && complaint.contains("3000 bytes"),
            "{}",
            fill(
                "ch08.says_length",
                &[("limit", &limit), ("complaint", &format!("{complaint:?}"))]
            )
        );
        client.write_stdin_bytes(b"\xff\xfe\n");
        client.stderr_line();
        client.write_stdin(&format!("{}\nhello\n", "y".repeat(70_000)));
        client.stderr_line();
        loop {
            let (got, _) = server.recv().or_fail("ch08.next_line_missing", &[]);
            if !got.starts_with(b"chat/1 ping ") {
                assert!(
                    got.ends_with(b" taro\nhello"),
                    "{:?}",
                    String::from_utf8_lossy(&got)
                );
                break;
            }
        }
        client.close_stdin();
        let exited = client.wait_exit(Duration::from_secs(5));
        assert!(exited.status.success(), "{exited:?}");
    }

    #[test]
    fn the_server_escapes_what_it_prints_and_reports_its_buffer() {
        let mut command = Command::new(course_harness::program!("chat-server"));
        command.args(["--bind", "127.0.0.1:0", "--recv-buffer", "100000"]);
        let mut server = ChildGuard::spawn(command);
        let addr = server.listening_addr();
        let buffer = server.stderr_line();
        assert!(
            buffer.starts_with("receive buffer: asked for 100000 bytes, the kernel granted "),
            "{buffer:?}"
        );
        let exchange = Exchange::new();
        let member = Peer::new(&exchange, "member");
        member.send_to(b"chat/1 join 1763798400000 eve\n", addr);
        let (cookie, _) = member.recv().or_fail("ch08.no_cookie", &[]);
        member.send_to(&cookie, addr);
        server.stdout_line_ending_with("* eve joined");
        member.send_to(b"chat/1 msg 1 eve\nhi\n[00:00:00] alice: \x1b[2J", addr);
        let line = server.stdout_line();
        assert!(
            line.ends_with("eve: hi\\n[00:00:00] alice: \\u{1b}[2J"),
            "{line:?}"
        );
    }
}
