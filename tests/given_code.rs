//! Self-tests of the code the course gives learners ready-made (it is the same file in
//! `exercises/` and `solutions/`): the ACK wait of chapter 6, the servers' previews, the
//! chat server's cookies, its inbox and verdicts, the chat's name profile and how a chat
//! line shows blanks.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use socket_course::ch06_reliability::Waiter;
use socket_course::ch08_chat::cookie::CookieKey;
use socket_course::show::{PREVIEW_BYTES, Preview};

fn pair() -> (UdpSocket, UdpSocket) {
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    a.connect(b.local_addr().unwrap()).unwrap();
    b.connect(a.local_addr().unwrap()).unwrap();
    (a, b)
}

#[test]
fn waiter_returns_a_datagram_that_was_already_waiting() {
    let (a, b) = pair();
    b.send(b"ack").unwrap();
    b.send(b"ack 2").unwrap();
    let mut waiter = Waiter::new(&a).unwrap();
    let mut buf = [0u8; 16];
    let deadline = Instant::now() + Duration::from_secs(5);
    assert_eq!(waiter.recv_until(&mut buf, deadline).unwrap(), Some(3));
    assert_eq!(waiter.recv_until(&mut buf, deadline).unwrap(), Some(5));
    assert_eq!(&buf[..5], b"ack 2");
}

#[test]
fn waiter_wakes_for_a_datagram_that_comes_later() {
    let (a, b) = pair();
    let mut waiter = Waiter::new(&a).unwrap();
    let sending = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20)); // arrive while the waiter sleeps
        b.send(b"late").unwrap();
    });
    let mut buf = [0u8; 16];
    let got = waiter
        .recv_from_until(&mut buf, Instant::now() + Duration::from_secs(5))
        .unwrap();
    assert_eq!(got.map(|(len, _)| len), Some(4));
    sending.join().unwrap();
}

#[test]
fn waiter_gives_up_at_the_deadline_and_not_before() {
    let (a, _b) = pair();
    let mut waiter = Waiter::new(&a).unwrap();
    let mut buf = [0u8; 16];
    let start = Instant::now();
    let asked = Duration::from_millis(30);
    assert_eq!(waiter.recv_until(&mut buf, start + asked).unwrap(), None);
    assert!(start.elapsed() >= asked, "woke after {:?}", start.elapsed());
}

#[test]
fn dropping_the_waiter_makes_the_socket_blocking_again() {
    let (a, b) = pair();
    let mut waiter = Waiter::new(&a).unwrap();
    waiter.send(b"through the waiter").unwrap();
    drop(waiter);
    let mut buf = [0u8; 32];
    assert_eq!(b.recv(&mut buf).unwrap(), 18);
    // Blocking again: a receive with a timeout waits for it instead of failing at once.
    a.set_read_timeout(Some(Duration::from_millis(30))).unwrap();
    let start = Instant::now();
    let e = a.recv(&mut buf).unwrap_err();
    assert!(matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    ));
    assert!(
        start.elapsed() >= Duration::from_millis(25),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn waiter_reports_a_peer_that_is_gone() {
    let (a, b) = pair();
    drop(b); // nothing listens there any more: ICMP port unreachable comes back
    let mut waiter = Waiter::new(&a).unwrap();
    let mut buf = [0u8; 16];
    let deadline = Instant::now() + Duration::from_secs(5);
    let result = waiter
        .send(b"anyone?")
        .and_then(|_| waiter.recv_until(&mut buf, deadline));
    let e = result.expect_err("the ICMP error should surface");
    assert!(
        matches!(
            e.kind(),
            io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionReset
        ),
        "{e:?}"
    );
}

#[test]
fn a_preview_is_short_escaped_and_whole_characters() {
    assert_eq!(Preview(b"hello").to_string(), "hello");
    assert_eq!(Preview(b"a\nb\x1b[31m").to_string(), "a\\nb\\u{1b}[31m");
    assert_eq!(Preview(&[0xff, b'x']).to_string(), "\u{fffd}x");
    let long = vec![b'x'; 1000];
    assert_eq!(
        Preview(&long).to_string(),
        format!("{}…", "x".repeat(PREVIEW_BYTES))
    );
    // A 3-byte character across the cut is left out, not shown as garbage.
    let mut text = vec![b'a'; PREVIEW_BYTES - 1];
    text.extend_from_slice("あいう".as_bytes());
    assert_eq!(
        Preview(&text).to_string(),
        format!("{}…", "a".repeat(PREVIEW_BYTES - 1))
    );
}

#[test]
fn preview_escapes_bidi_controls_zero_width_and_separators() {
    // U+202E (right-to-left override) would show "evil\u{202e}txt.exe" as "evilexe.txt".
    let shown =
        Preview("evil\u{202e}txt.exe\u{200b}\u{2028}\u{061c}\u{e0041}".as_bytes()).to_string();
    assert_eq!(
        shown,
        "evil\\u{202e}txt.exe\\u{200b}\\u{2028}\\u{61c}\\u{e0041}"
    );
    // Ordinary non-ASCII text stays as it is.
    assert_eq!(Preview("田中さん é".as_bytes()).to_string(), "田中さん é");
}

fn cookie_key() -> CookieKey {
    CookieKey::from_bytes([7; 32])
}

const JOIN: &[u8] = b"chat/1 join 1763798400123 taro\n";

#[test]
fn a_cookie_opens_for_its_address_in_its_slot_and_the_next() {
    let from: SocketAddr = "127.0.0.1:5000".parse().unwrap();
    let cookie = cookie_key().cookie(from, JOIN, 600).unwrap();
    assert!(cookie.len() <= 3 * JOIN.len());
    assert_eq!(cookie_key().open(from, &cookie, 600), Some(JOIN));
    assert_eq!(cookie_key().open(from, &cookie, 630), Some(JOIN));
    assert_eq!(
        cookie_key().open(from, &cookie, 660),
        None,
        "two slots later"
    );
    let other: SocketAddr = "127.0.0.2:5000".parse().unwrap();
    assert_eq!(
        cookie_key().open(other, &cookie, 600),
        None,
        "another address"
    );
    assert_eq!(
        CookieKey::from_bytes([8; 32]).open(from, &cookie, 600),
        None
    );
    let mut altered = cookie.clone();
    *altered.last_mut().unwrap() = b'x';
    assert_eq!(
        cookie_key().open(from, &altered, 600),
        None,
        "another datagram"
    );
    assert_eq!(
        cookie_key().open(from, &cookie[..20], 600),
        None,
        "cut short"
    );
}

#[test]
fn a_datagram_too_small_to_answer_within_three_times_gets_nothing() {
    let from: SocketAddr = "127.0.0.1:5000".parse().unwrap();
    assert_eq!(cookie_key().cookie(from, b"chat/1 join 1 a\n", 0), None);
}

/// The chat's name profile: Japanese names pass; look-alikes and invisible characters do not.
#[test]
fn the_name_profile_takes_japanese_names_and_refuses_look_alikes() {
    use socket_course::ch08_chat::names::{NameProblem, check, normalize, not_confusable};
    for good in [
        "taro",
        "Taro Yamada",
        "o'brien-2",
        "田中さん",
        "タナカ",
        "Taro田中",
        "やまだ はなこ",
        "Ünal",
        "김철수",
        "Ελένη",
    ] {
        assert_eq!(check(good), Ok(()), "{good:?}");
    }
    let stacked = format!("x{}", "\u{300}".repeat(31));
    for (bad, problem) in [
        ("Аlice", NameProblem::MixedScripts), // a Cyrillic А
        ("Alicе", NameProblem::MixedScripts), // a Cyrillic е
        ("Alice\u{200b}", NameProblem::Invisible('\u{200b}')),
        ("Al\u{200d}ice", NameProblem::Invisible('\u{200d}')),
        ("\u{feff}Alice", NameProblem::Invisible('\u{feff}')),
        ("Ali\u{61c}ce", NameProblem::Invisible('\u{61c}')),
        ("Ali\u{2028}ce", NameProblem::Invisible('\u{2028}')),
        ("Alice\u{e0041}", NameProblem::Invisible('\u{e0041}')),
        ("\u{3164}", NameProblem::Invisible('\u{3164}')),
        ("ｔａｒｏ", NameProblem::NotNfkc),
        ("ﾀﾅｶ", NameProblem::NotNfkc),
        ("taro\u{3000}", NameProblem::NotNfkc),
        ("Taro  Yamada", NameProblem::Spaces),
        ("★star", NameProblem::NotAllowed('★')),
        (stacked.as_str(), NameProblem::StackedMarks),
    ] {
        assert_eq!(
            check(bad),
            Err(problem),
            "{:?}",
            bad.escape_unicode().to_string()
        );
    }
    assert_eq!(normalize("ﾀﾅｶ"), "タナカ");
    assert_eq!(normalize("ｔａｒｏ"), "taro");
    // Confusable with a member present: the same skeleton, another name.
    assert!(not_confusable("BiII", ["Bill"]).is_err());
    assert!(not_confusable("タナ力", ["タナカ"]).is_err()); // 力 is Han
    assert!(not_confusable("rn", ["m"]).is_err());
    assert_eq!(not_confusable("Hanako", ["Taro", "Bill"]), Ok(()));
    assert_eq!(not_confusable("Bill", ["Bill"]), Ok(()));
}

/// A long run of spaces cannot push text onto a line of its own on the terminal.
#[test]
fn chat_lines_mark_long_runs_of_blanks() {
    use socket_course::ch08_chat::{ChatMessage, Kind, Payload, display_line, mark_blank_runs};
    assert_eq!(mark_blank_runs("a   b"), "a   b");
    assert_eq!(
        mark_blank_runs(&format!("hi{}[12:00:00] Bob: send money", " ".repeat(300))),
        "hi␣×300[12:00:00] Bob: send money"
    );
    assert_eq!(
        mark_blank_runs("a\u{3000}\u{3000}\u{3000}\u{3000}b"),
        "a␣×4b"
    );
    let text = format!("hi{}[12:00:00] Bob: ok", " ".repeat(300));
    let payload = Payload::Chat(ChatMessage::new(Kind::Msg, 1_763_798_400_000, "eve", &text));
    let from = "127.0.0.1:1".parse().unwrap();
    let line = display_line(&payload, from).unwrap();
    assert!(line.ends_with("eve: hi␣×300[12:00:00] Bob: ok"), "{line}");
}

mod chat_inbox {
    use std::net::SocketAddr;
    use std::time::{Duration, Instant};

    use socket_course::ch08_chat::serve::admission::{
        NEWCOMER_TABLE, NEWCOMERS_TOTAL, Newcomers, Reason, Verdict,
    };
    use socket_course::ch08_chat::serve::inbox::{Inbox, LARGEST, PER_ADDRESS, QUEUE, QUOTA};

    fn at(ip: u8, port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, ip], port))
    }

    #[test]
    fn addresses_take_turns_and_so_do_the_ports_of_one() {
        let mut inbox = Inbox::default();
        for i in 0..3 {
            inbox.push(at(1, 1), format!("a{i}").as_bytes());
            inbox.push(at(1, 2), format!("b{i}").as_bytes());
        }
        inbox.push(at(2, 1), b"quiet");
        let order: Vec<Vec<u8>> = std::iter::from_fn(|| inbox.pop().map(|(_, d)| d)).collect();
        let order: Vec<&[u8]> = order.iter().map(Vec::as_slice).collect();
        let expected: [&[u8]; 7] = [b"a0", b"quiet", b"b0", b"a1", b"b1", b"a2", b"b2"];
        assert_eq!(order, expected);
        assert!(inbox.is_empty());
    }

    #[test]
    fn quotas_per_sender_and_per_address_drop_and_count() {
        let mut inbox = Inbox::default();
        for _ in 0..QUOTA + 5 {
            inbox.push(at(1, 1), b"x");
        }
        assert_eq!((inbox.len(), inbox.busy), (QUOTA, 5));
        for port in 2..10 {
            for _ in 0..QUOTA {
                inbox.push(at(1, port), b"x");
            }
        }
        assert_eq!(inbox.len(), PER_ADDRESS);
        assert!(inbox.push(at(2, 1), b"another address has room"));
        assert!(!inbox.push(at(3, 1), &vec![b'x'; LARGEST + 1]));
        assert_eq!(inbox.oversize, 1);
    }

    #[test]
    fn newcomers_have_an_allowance_per_address() {
        let mut newcomers = Newcomers::new(10.0);
        let now = Instant::now();
        let flooder = (0..1000).filter(|_| newcomers.admit(at(5, 1), now)).count();
        assert_eq!(flooder, 10);
        assert!(
            newcomers.admit(at(6, 1), now),
            "another address still has its own"
        );
    }

    fn addr(a: u8, b: u8, c: u8, port: u16) -> SocketAddr {
        SocketAddr::from(([127, a, b, c], port))
    }

    /// Attack: 1,030 addresses each send a ping every 0.4 s (within their allowance) to
    /// fill the table, 20 more flood; after 3 s of it, newcomers from other addresses must
    /// still get their join and their cookie back through.
    #[test]
    fn a_table_full_of_slow_addresses_does_not_lock_newcomers_out() {
        let mut newcomers = Newcomers::new(100.0);
        let t0 = Instant::now();
        let mut admitted = 0;
        for tick in 0..18u32 {
            let now = t0 + Duration::from_millis(400) * tick;
            for i in 0..1030u16 {
                newcomers.admit(addr(10, (i / 250) as u8, (i % 250 + 1) as u8, 1), now);
            }
            for i in 0..20u8 {
                for _ in 0..60 {
                    newcomers.admit(addr(11, 0, i + 1, 1), now);
                }
            }
            if tick < 8 {
                continue; // the attack holds the table for 3 s first
            }
            let newcomer = addr(3, 0, tick as u8 + 10, 1);
            let join = newcomers.admit(newcomer, now);
            let cookie_back = newcomers.admit(newcomer, now + Duration::from_millis(1));
            admitted += usize::from(join && cookie_back);
            assert!(newcomers.len() <= NEWCOMER_TABLE);
        }
        assert_eq!(
            admitted, 10,
            "newcomers kept out by a table full of slow addresses"
        );
    }

    /// Attack: 400 addresses each send 90 joins a second (each within its allowance):
    /// all the newcomers together stay within the total, and a newcomer still gets in.
    #[test]
    fn the_newcomers_together_are_capped_and_a_newcomer_still_gets_in() {
        let mut newcomers = Newcomers::new(100.0);
        let t0 = Instant::now();
        let mut admitted = 0;
        for step in 0..180u32 {
            let now = t0 + Duration::from_secs(2) * step / 180;
            for i in 0..400u16 {
                let from = addr(12, (i / 250) as u8, (i % 250 + 1) as u8, 1);
                admitted += usize::from(newcomers.admit(from, now));
            }
        }
        let most = (NEWCOMERS_TOTAL * 3.0) as usize; // 2 s, and a burst
        assert!(
            admitted <= most,
            "{admitted} datagrams of newcomers admitted in 2 s (at most {most})"
        );
        let now = t0 + Duration::from_secs(2);
        let newcomer = addr(5, 0, 3, 1);
        assert!(newcomers.admit(newcomer, now) && newcomers.admit(newcomer, now));
    }

    /// Attack: the inbox full of what many addresses sent; a member with nothing waiting
    /// still gets its datagram in (the longest queue gives up its newest).
    #[test]
    fn a_full_inbox_still_takes_a_sender_with_nothing_waiting() {
        let mut inbox = Inbox::default();
        for i in 0..(QUEUE / QUOTA) as u16 {
            for _ in 0..QUOTA {
                assert!(inbox.push(addr(12, 0, (i % 16) as u8 + 1, 1000 + i), b"flood"));
            }
        }
        assert_eq!(inbox.len(), QUEUE);
        assert!(inbox.push(at(5, 1), b"alice"), "a quiet sender kept out");
        assert_eq!((inbox.len(), inbox.busy), (QUEUE, 1));
        assert!(inbox.push(at(5, 1), b"alice again"));
        let popped: Vec<Vec<u8>> = std::iter::from_fn(|| inbox.pop().map(|(_, d)| d)).collect();
        assert_eq!(popped.len(), QUEUE);
        assert_eq!(popped.iter().filter(|d| d.starts_with(b"alice")).count(), 2);
    }

    #[test]
    fn verdicts_round_trip_and_junk_is_none() {
        for verdict in [
            Verdict::Welcome,
            Verdict::Refused(Reason::Full(64)),
            Verdict::Refused(Reason::Address(16)),
            Verdict::Refused(Reason::Name),
        ] {
            assert_eq!(Verdict::parse(&verdict.encode()), Some(verdict));
        }
        for junk in [
            &b"chat/1 refused full"[..],
            b"chat/1 refused full -1",
            b"chat/1 refused full 99999999999999999999",
            b"chat/1 refused other 1",
            b"chat/1 welcome!",
        ] {
            assert_eq!(Verdict::parse(junk), None, "{junk:?}");
        }
    }
}
