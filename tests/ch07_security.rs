//! Chapter 7: securing messages. Grade this chapter with `cargo test --test 'ch07*'`; every
//! test calls your code in `exercises/src/ch07_security/`, directly or through the programs.
//!
//! Keys are fixed and times are chosen, so nothing here waits for a clock.

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use course_catalog::{fill, text};
use course_harness::net::Family::V6;
use course_harness::show::{OrFail, Report};
use course_harness::{ChildGuard, Exchange, Peer, call_learner, start_learner};
use rstest::rstest;
use socket_course::ch07_security::{
    Allow, Guard, KeyError, OpenError, REPLY, Refusal, load_key, open, run_secure_server, seal,
};

/// Two fixed keys, written as `Fernet.generate_key()` writes them.
const KEY: &str = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";
const OTHER_KEY: &str = "Rkb2zE6X5MSa3ejNumbFJybNrOo3ugOeqOR3Uof4YJw=";
const T0: u64 = 1_763_798_400; // a chosen "now", in Unix seconds
const TTL: Duration = Duration::from_secs(60);

fn key(text: &str) -> fernet::Fernet {
    fernet::Fernet::new(text).expect("test setup: a valid key")
}

/// A token made by the reference, not by your `seal`, so the tests of `open` stand alone.
fn token(text: &[u8], at: u64) -> String {
    key(KEY).encrypt_at_time(text, at)
}

/// URL-safe base64 without the `base64` crate: enough to flip bits in a token.
fn b64_decode(text: &str) -> Vec<u8> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.bytes().filter(|&c| c != b'=') {
        bits = bits << 6 | alphabet.iter().position(|&a| a == c).unwrap() as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

fn b64_encode(bytes: &[u8]) -> String {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(alphabet[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    while !out.len().is_multiple_of(4) {
        out.push('=');
    }
    out
}

/// Exercise 7.1: `cargo test --test ch07_security token::` (tokens are bytes and keys: no
/// socket, so no IPv6 case)
mod token {
    use super::*;

    #[test]
    fn a_sealed_message_opens_again() {
        let got = call_learner(|| {
            let k = key(KEY);
            let sealed = seal(&k, "こんにちは, secret".as_bytes(), T0);
            open(&k, &sealed, TTL, T0 + 5)
        });
        assert_eq!(got, Ok("こんにちは, secret".as_bytes().to_vec()));
    }

    #[test]
    fn seal_dates_the_token_at_the_given_time() {
        let sealed = call_learner(|| seal(&key(KEY), b"x", T0));
        // The reference opens it: dated T0, it is fresh at T0 and expired at T0 + 61 with a 60 s limit.
        assert!(
            key(KEY).decrypt_at_time(&sealed, Some(60), T0).is_ok(),
            "{}",
            fill("ch07.dated", &[("t0", &T0)])
        );
        assert!(
            key(KEY)
                .decrypt_at_time(&sealed, Some(60), T0 + 61)
                .is_err(),
            "{}",
            fill("ch07.dated", &[("t0", &T0)])
        );
    }

    #[test]
    fn python_style_tokens_open_and_say_what_they_carry() {
        let sealed = token(b"Hello world", T0);
        let got = call_learner(move || open(&key(KEY), &sealed, TTL, T0));
        assert_eq!(got, Ok(b"Hello world".to_vec()));
    }

    #[test]
    fn a_token_made_with_another_key_is_rejected() {
        let sealed = key(OTHER_KEY).encrypt_at_time(b"hi", T0);
        let got = call_learner(move || open(&key(KEY), &sealed, TTL, T0));
        assert_eq!(got, Err(OpenError::Rejected));
    }

    /// Flips one bit in each region of the token; every change must be caught by the MAC.
    #[rstest]
    #[case::version(0)]
    #[case::timestamp(5)]
    #[case::iv(12)]
    #[case::ciphertext(30)]
    #[case::hmac_first_byte(-32)]
    #[case::hmac_last_byte(-1)]
    fn a_tampered_token_is_rejected(#[case] index: isize) {
        let mut bytes = b64_decode(&token(b"pay 100 yen to taro", T0));
        let at = if index < 0 {
            bytes.len() - index.unsigned_abs()
        } else {
            index as usize
        };
        bytes[at] ^= 0x01;
        let tampered = b64_encode(&bytes);
        let got = call_learner(move || open(&key(KEY), &tampered, TTL, T0));
        assert_eq!(
            got,
            Err(OpenError::Rejected),
            "{}",
            fill("ch07.byte_flipped", &[("at", &at)])
        );
    }

    #[rstest]
    #[case::empty("")]
    #[case::not_base64("this is not a token!")]
    #[case::base64_of_garbage(
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    )]
    #[case::cut_short("gAAAAABpIQ")]
    fn what_is_not_a_token_is_rejected(#[case] text: &'static str) {
        let got = call_learner(move || open(&key(KEY), text, TTL, T0));
        assert_eq!(got, Err(OpenError::Rejected));
    }

    #[test]
    fn a_token_exactly_at_the_limit_opens_and_one_second_later_expires() {
        let sealed = token(b"x", T0);
        let (at_limit, after) = call_learner(move || {
            (
                open(&key(KEY), &sealed, TTL, T0 + 60),
                open(&key(KEY), &sealed, TTL, T0 + 61),
            )
        });
        assert_eq!(at_limit, Ok(b"x".to_vec()));
        assert_eq!(after, Err(OpenError::Expired { age_secs: 61 }));
    }

    #[test]
    fn a_token_from_the_future_is_refused_beyond_the_allowed_skew() {
        let near = token(b"x", T0 + 30);
        let far = token(b"x", T0 + 3600);
        let (near, far) = call_learner(move || {
            (
                open(&key(KEY), &near, TTL, T0),
                open(&key(KEY), &far, TTL, T0),
            )
        });
        assert_eq!(near, Ok(b"x".to_vec()), "{}", text("ch07.within_skew"));
        assert_eq!(far, Err(OpenError::FromTheFuture { ahead_secs: 3600 }));
    }

    #[test]
    fn a_forged_timestamp_at_the_end_of_time_is_rejected_without_a_panic() {
        // 12 characters: the version byte and a timestamp near u64::MAX, no MAC at all. A
        // clock check done before the MAC computes `timestamp + ttl` and overflows.
        let got = call_learner(|| open(&key(KEY), "gP_________E", TTL, T0));
        assert_eq!(got, Err(OpenError::Rejected));
        let full = b64_encode(&[[0x80].as_slice(), &[0xff; 8], &[0; 16 + 16 + 32]].concat());
        let got = call_learner(move || open(&key(KEY), &full, TTL, T0));
        assert_eq!(
            got,
            Err(OpenError::Rejected),
            "{}",
            text("ch07.full_forgery")
        );
    }

    #[rstest]
    #[case::as_written(KEY)]
    #[case::with_a_newline("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=\n")]
    fn a_key_loads(#[case] text: &'static str) {
        let got = call_learner(move || load_key(text).map(|k| k.encrypt_at_time(b"x", T0)));
        let sealed = got.or_fail("ch07.key_should_load", &[]);
        assert!(
            key(KEY).decrypt_at_time(&sealed, None, T0).is_ok(),
            "{}",
            course_catalog::text("ch07.wrong_key")
        );
    }

    #[rstest]
    #[case::empty("")]
    #[case::not_base64("not a key at all")]
    #[case::too_short("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4")]
    fn a_malformed_key_is_an_error(#[case] text: &'static str) {
        let got = call_learner(move || load_key(text).map(|_| ()));
        assert!(
            matches!(got, Err(KeyError::Malformed)),
            "{}",
            fill(
                "test.returned",
                &[
                    ("call", &format!("load_key({text:?})")),
                    ("got", &format!("{got:?}"))
                ]
            )
        );
    }
}

/// What the tests of exercises 7.2 to 7.4 share: a guard, and datagrams run through it.
mod guard {
    use super::*;

    pub(super) fn peer(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    fn guard(allow: &[&str]) -> Guard {
        Guard::new(
            key(KEY),
            TTL,
            allow.iter().map(|a| a.parse::<Allow>().unwrap()).collect(),
        )
    }

    /// Runs `datagrams` (sender port on 127.0.0.1, bytes, now) through one guard.
    pub(super) fn check_all(
        allow: &'static [&'static str],
        datagrams: Vec<(u16, Vec<u8>, u64)>,
    ) -> (Vec<Result<Vec<u8>, Refusal>>, usize) {
        let datagrams = datagrams
            .into_iter()
            .map(|(port, bytes, now)| (peer(port), bytes, now))
            .collect();
        check_all_from(allow, datagrams)
    }

    /// [`check_all`] with the sender's whole address (an IPv6 one, say).
    pub(super) fn check_all_from(
        allow: &'static [&'static str],
        datagrams: Vec<(SocketAddr, Vec<u8>, u64)>,
    ) -> (Vec<Result<Vec<u8>, Refusal>>, usize) {
        call_learner(move || {
            let mut guard = guard(allow);
            let results = datagrams
                .into_iter()
                .map(|(from, bytes, now)| guard.check(from, &bytes, now))
                .collect();
            (results, guard.remembered())
        })
    }
}

/// Exercise 7.2, the guard opens and answers: `cargo test --test ch07_security guard_opens::`
mod guard_opens {
    use super::guard::check_all;
    use super::*;

    #[test]
    fn a_valid_token_is_accepted_and_garbage_refused() {
        let (results, _) = check_all(
            &[],
            vec![
                (1, token(b"hello", T0).into_bytes(), T0),
                (1, b"\xff\xfe".to_vec(), T0),
                (1, b"garbage".to_vec(), T0),
                (1, token(b"again", T0).into_bytes(), T0 + 1),
            ],
        );
        assert_eq!(results[0], Ok(b"hello".to_vec()));
        assert_eq!(results[1], Err(Refusal::NotAToken));
        assert_eq!(results[2], Err(Refusal::Open(OpenError::Rejected)));
        assert_eq!(results[3], Ok(b"again".to_vec()));
    }

    /// The given server loop with your guard, on a real socket, through a storm of bad input.
    #[test]
    fn the_server_answers_valid_tokens_through_a_storm() {
        let socket = course_harness::net::udp_socket();
        let server = socket.local_addr().unwrap();
        let mut running = start_learner(move || {
            run_secure_server(&socket, Guard::new(key(KEY), TTL, Vec::new()), |_, _| {})
        });
        let exchange = Exchange::new();
        exchange.name(server, "your server");
        let client = Peer::new(&exchange, "client");
        let attacker = Peer::new(&exchange, "attacker");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let old = token(b"old", now - 3600);
        let fresh = token(b"fresh", now);
        let mut storm: Vec<Vec<u8>> = vec![
            Vec::new(),
            vec![b'A'; 65_507],
            b"!!! not base64 !!!".to_vec(),
            b64_encode(&[0x80; 100]).into_bytes(),
            fresh.as_bytes()[..40].to_vec(),
            token(b"future", now + 86_400).into_bytes(),
            old.into_bytes(),
        ];
        storm.extend(std::iter::repeat_n(fresh.clone().into_bytes(), 20)); // a replay storm
        client.send_to(fresh.as_bytes(), server);
        let check = |peer: &Peer,
                     running: &mut course_harness::Running<std::io::Result<()>>,
                     what: &str| match peer.recv_checking(|| running.check()) {
            // `what` is a catalog key.
            Ok((reply, _)) => {
                let opened = key(KEY).decrypt(&String::from_utf8_lossy(&reply));
                assert_eq!(
                    opened.ok(),
                    Some(REPLY.to_vec()),
                    "{}",
                    fill(
                        "ch07.reply_sealed",
                        &[
                            ("what", &fill(what, &[])),
                            ("reply", &format!("{:?}", String::from_utf8_lossy(REPLY)))
                        ]
                    )
                );
            }
            Err(e) => Report::new(fill("ch07.no_reply_to", &[("what", &fill(what, &[]))]))
                .line("error", e.to_string())
                .exchange(&exchange)
                .fail(),
        };
        check(&client, &mut running, "ch07.first_valid");
        for bad in &storm {
            attacker.send_to(bad, server);
        }
        client.send_to(token(b"still there?", now).as_bytes(), server);
        check(&client, &mut running, "ch07.valid_after_storm");
        attacker
            .socket()
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        if let Ok((reply, _)) = attacker.recv() {
            Report::new(fill("ch07.answered_storm", &[]))
                .bytes("reply", &reply)
                .exchange(&exchange)
                .fail();
        }
    }

    /// The given server loop with your guard answers a `[::1]` client.
    #[test]
    fn the_server_answers_a_valid_token_from_a_v6_client() {
        if !V6.usable() {
            return;
        }
        let socket = course_harness::net::udp_socket_on(V6);
        let server = socket.local_addr().unwrap();
        let mut running = start_learner(move || {
            run_secure_server(&socket, Guard::new(key(KEY), TTL, Vec::new()), |_, _| {})
        });
        let exchange = Exchange::new();
        exchange.name(server, "your server");
        let client = Peer::on(&exchange, "client", V6);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        client.send_to(token(b"over IPv6", now).as_bytes(), server);
        match client.recv_checking(|| running.check()) {
            Ok((reply, _)) => assert_eq!(
                key(KEY).decrypt(&String::from_utf8_lossy(&reply)).ok(),
                Some(REPLY.to_vec()),
                "{}",
                fill(
                    "ch07.reply_sealed",
                    &[
                        ("what", &fill("ch07.first_valid", &[])),
                        ("reply", &format!("{:?}", String::from_utf8_lossy(REPLY)))
                    ]
                )
            ),
            Err(e) => Report::new(fill(
                "ch07.no_reply_to",
                &[("what", &fill("ch07.first_valid", &[]))],
            ))
            .line("error", e.to_string())
            .exchange(&exchange)
            .fail(),
        }
    }
}

/// Exercise 7.3, the guard refuses replays: `cargo test --test ch07_security guard_replays::`
mod guard_replays {
    use super::guard::{check_all, peer};
    use super::*;

    #[test]
    fn a_replayed_token_is_refused() {
        let sealed = token(b"transfer 100 yen", T0).into_bytes();
        let (results, _) = check_all(
            &[],
            vec![
                (1, sealed.clone(), T0),
                (2, sealed.clone(), T0 + 10),
                (1, sealed, T0 + 59),
            ],
        );
        assert_eq!(results[0], Ok(b"transfer 100 yen".to_vec()));
        assert_eq!(
            results[1],
            Err(Refusal::Replayed),
            "{}",
            text("ch07.other_address")
        );
        assert_eq!(results[2], Err(Refusal::Replayed), "{}", text("ch07.later"));
    }

    #[test]
    fn a_token_replayed_from_another_v6_address_is_refused() {
        let sealed = token(b"transfer 100 yen", T0).into_bytes();
        let from = |text: &str| text.parse::<SocketAddr>().unwrap();
        let (results, _) = super::guard::check_all_from(
            &[],
            vec![
                (from("[::1]:5000"), sealed.clone(), T0),
                (from("[::1]:5001"), sealed.clone(), T0 + 10),
                (from("127.0.0.1:5000"), sealed, T0 + 20),
            ],
        );
        assert_eq!(results[0], Ok(b"transfer 100 yen".to_vec()));
        assert_eq!(
            results[1..],
            [Err(Refusal::Replayed), Err(Refusal::Replayed)],
            "{}",
            text("ch07.other_address")
        );
    }

    #[test]
    fn a_replay_in_another_encoding_is_still_a_replay() {
        let sealed = token(b"once", T0);
        // The same bytes, base64 padding removed: a different text for the same token.
        let unpadded = sealed.trim_end_matches('=').to_string();
        let (results, _) = check_all(
            &[],
            vec![
                (1, sealed.into_bytes(), T0),
                (1, unpadded.into_bytes(), T0 + 1),
            ],
        );
        assert_eq!(results[0], Ok(b"once".to_vec()));
        assert_ne!(
            results[1],
            Ok(b"once".to_vec()),
            "{}",
            text("ch07.unpadded")
        );
    }

    #[test]
    fn memory_of_accepted_tokens_stays_bounded() {
        // 100 tokens, one per second; with a 60 s limit, at most about 60 are worth remembering.
        let datagrams = (0..100u64)
            .map(|i| {
                (
                    1,
                    token(format!("m{i}").as_bytes(), T0 + i).into_bytes(),
                    T0 + i,
                )
            })
            .collect();
        let (results, remembered) = check_all(&[], datagrams);
        assert!(
            results.iter().all(Result::is_ok),
            "{}",
            text("ch07.all_fresh")
        );
        assert!(
            remembered <= 62,
            "{}",
            fill("ch07.remembered", &[("remembered", &remembered)])
        );
    }

    #[test]
    fn a_token_dated_before_the_server_started_is_refused() {
        // A server that started at T0 forgot what it accepted before: a token from T0 - 1
        // may be a recording of one it accepted then.
        let (before, at_start) = call_learner(|| {
            let mut guard = Guard::new(key(KEY), TTL, Vec::new()).not_before(T0);
            (
                guard.check(peer(1), token(b"old", T0 - 1).as_bytes(), T0 + 5),
                guard.check(peer(1), token(b"new", T0).as_bytes(), T0 + 5),
            )
        });
        assert_eq!(before, Err(Refusal::BeforeStart));
        assert_eq!(at_start, Ok(b"new".to_vec()));
    }
}

/// Exercise 7.4, the guard's allowlist (with `programs::`):
/// `cargo test --test ch07_security -- guard_allowlist:: programs::`
mod guard_allowlist {
    use super::guard::check_all;
    use super::*;

    #[rstest]
    #[case::ip_only(&["127.0.0.1"], 5000, true)]
    #[case::ip_and_port(&["127.0.0.1:5000"], 5000, true)]
    #[case::wrong_port(&["127.0.0.1:5000"], 5001, false)]
    #[case::other_ip(&["127.0.0.2"], 5000, false)]
    #[case::one_of_several(&["127.0.0.2", "127.0.0.1:5000"], 5000, true)]
    #[case::empty_list_allows_all(&[], 5000, true)]
    fn the_allowlist_decides_who_is_heard(
        #[case] allow: &'static [&'static str],
        #[case] port: u16,
        #[case] allowed: bool,
    ) {
        let (results, _) = check_all(allow, vec![(port, token(b"hi", T0).into_bytes(), T0)]);
        if allowed {
            assert_eq!(results[0], Ok(b"hi".to_vec()));
        } else {
            assert_eq!(results[0], Err(Refusal::NotAllowed));
        }
    }

    /// The same rules for a sender at `[::1]:5000`.
    #[rstest]
    #[case::v6_ip_only(&["::1"], true)]
    #[case::v6_ip_and_port(&["[::1]:5000"], true)]
    #[case::v6_wrong_port(&["[::1]:5001"], false)]
    #[case::v6_sender_v4_entry(&["127.0.0.1"], false)]
    #[case::v6_one_of_several(&["127.0.0.1:5000", "::1"], true)]
    fn the_allowlist_decides_who_is_heard_on_v6(
        #[case] allow: &'static [&'static str],
        #[case] allowed: bool,
    ) {
        let from: SocketAddr = "[::1]:5000".parse().unwrap();
        let token = token(b"hi", T0).into_bytes();
        let (results, _) = super::guard::check_all_from(allow, vec![(from, token, T0)]);
        let expected = if allowed {
            Ok(b"hi".to_vec())
        } else {
            Err(Refusal::NotAllowed)
        };
        assert_eq!(results[0], expected);
    }
}

/// The programs keygen, secure-server, secure-client: `cargo test --test ch07_security programs::`
mod programs {
    use super::*;

    fn key_file(dir: &tempfile::TempDir, text: &str) -> std::path::PathBuf {
        let path = dir.path().join("secret.key");
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn secure_client_and_server_talk_with_a_shared_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = key_file(&dir, &format!("{KEY}\n"));
        let mut command = Command::new(course_harness::program!("secure-server"));
        command.args([
            "--bind",
            "127.0.0.1:0",
            "--key-file",
            path.to_str().unwrap(),
        ]);
        let mut server = ChildGuard::spawn(command);
        let addr = server.listening_addr();
        let mut command = Command::new(course_harness::program!("secure-client"));
        command.args([
            "--server",
            &addr.to_string(),
            "--key-file",
            path.to_str().unwrap(),
        ]);
        let mut client = ChildGuard::spawn(command);
        client.write_stdin("hello, securely\n");
        client.close_stdin();
        let exited = client.wait_exit_while_running(&mut server, Duration::from_secs(10));
        assert!(exited.status.success(), "{exited:?}");
        assert_eq!(exited.stdout, ["Success to receive message"]);
        assert!(server.stdout_line().ends_with(": hello, securely"));
    }

    #[test]
    fn a_malformed_key_file_is_a_usage_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = key_file(&dir, "not a key\n");
        let mut command = Command::new(course_harness::program!("secure-server"));
        command.args([
            "--bind",
            "127.0.0.1:0",
            "--key-file",
            path.to_str().unwrap(),
        ]);
        let exited = ChildGuard::run_to_end(command, b"", Duration::from_secs(10));
        exited.expect_code("secure-server", 2);
        assert!(
            exited.stderr_text().contains("not a Fernet key"),
            "{exited:?}"
        );
    }

    #[test]
    fn secure_client_refuses_a_line_too_long_to_seal_and_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let (mut server, addr) = secure_server(&dir);
        let path = dir.path().join("secret.key");
        let mut command = Command::new(course_harness::program!("secure-client"));
        command.args([
            "--server",
            &addr.to_string(),
            "--key-file",
            path.to_str().unwrap(),
        ]);
        // A long line, a line that is not UTF-8, and a short one: only the first is refused.
        let mut input = vec![b'x'; 60_000];
        input.extend_from_slice(b"\n\xff\xfe not utf-8\nafter\n");
        let exited = ChildGuard::run_to_end(command, &input, Duration::from_secs(10));
        exited.expect_code("secure-client", 0);
        assert_eq!(
            exited.stdout,
            ["Success to receive message", "Success to receive message"],
            "{exited:?}"
        );
        let stderr = exited.stderr_text();
        assert!(
            stderr.contains("60000 bytes") && stderr.contains("65507 bytes"),
            "{}",
            fill("ch02.one_clear_line", &[("stderr", &stderr)])
        );
        server.stdout_line_ending_with(": after");
    }

    /// A secure-server with the test key, and a peer to talk to it.
    fn secure_server(dir: &tempfile::TempDir) -> (ChildGuard, SocketAddr) {
        let path = key_file(dir, &format!("{KEY}\n"));
        let mut command = Command::new(course_harness::program!("secure-server"));
        command.args([
            "--bind",
            "127.0.0.1:0",
            "--key-file",
            path.to_str().unwrap(),
        ]);
        let mut server = ChildGuard::spawn(command);
        let addr = server.listening_addr();
        (server, addr)
    }

    fn now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    #[test]
    fn a_forged_timestamp_at_the_end_of_time_does_not_crash_the_server() {
        let dir = tempfile::tempdir().unwrap();
        let (mut server, addr) = secure_server(&dir);
        let exchange = Exchange::new();
        exchange.name(addr, "secure-server");
        let attacker = Peer::new(&exchange, "attacker");
        attacker.send_to(b"gP_________E", addr);
        let refusal = server.stderr_line();
        assert!(refusal.starts_with("refused 12 bytes"), "{refusal}");
        attacker.send_to(token(b"still alive?", now()).as_bytes(), addr);
        match attacker.recv_while_running(&mut server) {
            Ok((reply, _)) => assert!(key(KEY).decrypt(&String::from_utf8_lossy(&reply)).is_ok()),
            Err(e) => Report::new(fill("ch07.no_reply_forged", &[]))
                .line("error", e.to_string())
                .exchange(&exchange)
                .fail(),
        }
    }

    #[test]
    fn a_token_dated_an_hour_ahead_is_refused_naming_the_clock() {
        let dir = tempfile::tempdir().unwrap();
        let (mut server, addr) = secure_server(&dir);
        let exchange = Exchange::new();
        exchange.name(addr, "secure-server");
        let sender = Peer::new(&exchange, "sender with a fast clock");
        sender.send_to(token(b"from the future", now() + 3600).as_bytes(), addr);
        let refusal = server.stderr_line();
        assert!(
            refusal.starts_with("refused ") && refusal.contains("clock"),
            "{}",
            fill("ch07.names_the_clock", &[("refusal", &refusal)])
        );
        server.assert_running();
    }

    #[test]
    fn a_token_made_before_the_server_started_is_refused_as_a_possible_replay() {
        // Made two seconds before the server starts: the server cannot know whether it
        // accepted this token before a restart, so it must refuse it.
        let recorded = token(b"pay taro 100 yen", now() - 2);
        let dir = tempfile::tempdir().unwrap();
        let (mut server, addr) = secure_server(&dir);
        let exchange = Exchange::new();
        exchange.name(addr, "secure-server");
        let recorder = Peer::new(&exchange, "recorder");
        recorder.send_to(recorded.as_bytes(), addr);
        let refusal = server.stderr_line();
        assert!(
            refusal.contains("before this server started"),
            "{}",
            fill("ch07.replay_refused", &[("refusal", &refusal)])
        );
        recorder.send_to(token(b"fresh", now()).as_bytes(), addr);
        assert!(
            recorder.recv_while_running(&mut server).is_ok(),
            "{}",
            text("ch07.fresh_answered")
        );
        server.assert_running();
        assert_eq!(
            server.stdout_line().split_once(": ").map(|(_, m)| m),
            Some("fresh")
        );
    }
}

/// Exercise 7.5, a seal on every datagram: `cargo test --test ch07_security sealed::` (bytes
/// and a key: no socket, so no IPv6 case)
mod sealed {
    use super::*;
    use socket_course::ch07_security::{SealKey, TAG_LEN, open_datagram, seal_datagram};

    fn seal_key(text: &str) -> SealKey {
        SealKey::from_key_text(text).expect("test setup: a valid key")
    }

    /// The reference's sealed datagram, so the tests of `open_datagram` stand alone.
    fn reference(datagram: &[u8]) -> Vec<u8> {
        let key = solutions::ch07_security::SealKey::from_key_text(KEY).unwrap();
        solutions::ch07_security::seal_datagram(&key, datagram)
    }

    #[rstest]
    #[case::empty(b"".to_vec())]
    #[case::a_header(vec![0x21, 0x5e, 0x55, 0x10, 0x11, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 5])]
    #[case::a_full_message(vec![b'x'; 1037])]
    fn a_sealed_datagram_is_the_datagram_and_its_tag(#[case] datagram: Vec<u8>) {
        let input = datagram.clone();
        let sealed = call_learner(move || seal_datagram(&seal_key(KEY), &input));
        assert_eq!(
            sealed,
            reference(&datagram),
            "{}",
            fill("ch07.seal_layout", &[("tag", &TAG_LEN)])
        );
    }

    #[test]
    fn a_sealed_datagram_opens_to_the_same_bytes() {
        let sealed = reference(b"\x21hello");
        let got = call_learner(move || open_datagram(&seal_key(KEY), &sealed).map(<[u8]>::to_vec));
        assert_eq!(got.as_deref(), Some(&b"\x21hello"[..]));
    }

    #[test]
    fn every_flipped_bit_is_refused() {
        let sealed = reference(b"\x21\x5e\x55\x10\x11 some payload");
        let refused_all = call_learner(move || {
            let key = seal_key(KEY);
            (0..sealed.len() * 8).all(|bit| {
                let mut altered = sealed.clone();
                altered[bit / 8] ^= 1 << (bit % 8);
                open_datagram(&key, &altered).is_none()
            })
        });
        assert!(refused_all, "{}", text("ch07.flipped_bit_opened"));
    }

    #[test]
    fn short_or_cut_datagrams_are_refused_without_a_panic() {
        let sealed = reference(b"\x21data");
        let opened = call_learner(move || {
            let key = seal_key(KEY);
            let mut opened = Vec::new();
            for len in 0..sealed.len() {
                if open_datagram(&key, &sealed[..len]).is_some() {
                    opened.push(len);
                }
            }
            opened
        });
        assert!(
            opened.is_empty(),
            "{}",
            fill("ch07.cut_opened", &[("lengths", &format!("{opened:?}"))])
        );
    }

    #[test]
    fn a_datagram_sealed_with_another_key_is_refused() {
        let sealed = reference(b"\x21data");
        let got = call_learner(move || open_datagram(&seal_key(OTHER_KEY), &sealed).is_some());
        assert!(!got, "{}", text("ch07.other_key_opened"));
    }

    /// Chapters 6 and 7 together: reliable-send and reliable-recv with `--key-file`.
    #[test]
    fn a_stream_sealed_end_to_end_arrives_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        std::fs::write(&path, format!("{KEY}\n")).unwrap();
        let mut receiver = Command::new(course_harness::program!("reliable-recv"));
        receiver.args(["--bind", "127.0.0.1:0", "--linger-ms", "100", "--key-file"]);
        receiver.arg(&path);
        let mut receiver = ChildGuard::spawn(receiver);
        let addr: SocketAddr = receiver.listening_addr();
        let mut sender = Command::new(course_harness::program!("reliable-send"));
        sender.args(["--server", &addr.to_string(), "--key-file"]);
        sender.arg(&path);
        let mut sender = ChildGuard::spawn(sender);
        let lines: String = (0..2000).map(|i| format!("line {i}\n")).collect();
        sender.write_stdin(&lines);
        sender.close_stdin();
        let sent = sender.wait_exit(Duration::from_secs(10));
        assert_eq!(sent.status.code(), Some(0), "{sent:?}");
        let received = receiver.wait_exit(Duration::from_secs(10));
        assert_eq!(received.status.code(), Some(0), "{received:?}");
        assert_eq!(
            received.stdout.len(),
            2000,
            "{}",
            text("ch07.sealed_stream_whole")
        );
        assert_eq!(received.stdout.join("\n") + "\n", lines);
    }
}
