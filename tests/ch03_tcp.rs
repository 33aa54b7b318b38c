//! Chapter 3: TCP basics. Grade this chapter with `cargo test --test 'ch03*'`; every test calls
//! your code in `exercises/src/ch03_tcp/`, directly or through the chapter's programs.

use std::io::{self, Cursor, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use course_catalog::{fill, text};
use course_harness::child::Stream;
use course_harness::net::Family::{self, V4, V6};
use course_harness::net::{self, accept_within};
use course_harness::show::{self, OrFail, Report, expect_bytes};
use course_harness::{ChildGuard, Running, SharedOutput, SplitReads, call_learner, start_learner};
use rstest::rstest;
use socket_course::ch03_tcp::{
    LineError, LineReader, MAX_LINE, Pace, copy_until_eof, echo_connection, send_lines, serve, talk,
};

/// A connected pair on loopback: (the test's end, the end for your code). Both have timeouts.
fn connected_pair() -> (TcpStream, TcpStream) {
    connected_pair_on(V4)
}

/// [`connected_pair`] on the loopback address of `family`.
fn connected_pair_on(family: Family) -> (TcpStream, TcpStream) {
    let listener = net::tcp_listener_on(family);
    let test_end = net::connect(listener.local_addr().unwrap()).unwrap();
    let (your_end, _) = accept_within(&listener, net::IO_TIMEOUT).unwrap();
    (test_end, your_end)
}

/// Reads exactly `len` bytes, or fails the test, reporting a panic of `learner` first.
#[track_caller]
fn read_reply<T>(
    stream: &mut TcpStream,
    len: usize,
    learner: &mut Running<T>,
    sent: &[u8],
) -> Vec<u8> {
    let mut got = Vec::new();
    let result = Read::by_ref(stream).take(len as u64).read_to_end(&mut got);
    if result.is_err() || got.len() < len {
        learner.check();
        Report::new(fill("ch04.echo_incomplete", &[]))
            .bytes("sent", sent)
            .line("expected", format!("{len} bytes back"))
            .bytes("got", &got)
            .line(
                "error",
                result
                    .err()
                    .map_or("the connection was closed".into(), |e| e.to_string()),
            )
            .fail();
    }
    got
}

/// Sends `message` on `stream` and expects `expected` back.
#[track_caller]
fn expect_echo<T>(
    stream: &mut TcpStream,
    message: &[u8],
    expected: &[u8],
    learner: &mut Running<T>,
) {
    if let Err(e) = stream.write_all(message) {
        learner.check();
        panic!("{}", fill("test.could_not_send", &[("error", &e)]));
    }
    let got = read_reply(stream, expected.len(), learner, message);
    expect_bytes(&fill("what.echo", &[]), expected, &got, None);
}

/// A test server for one connection: optionally greets, reads to the end of the stream
/// (echoing if `echo`), then optionally says goodbye and closes. Returns what it read.
fn test_server(
    greeting: &'static [u8],
    echo: bool,
    goodbye: &'static [u8],
) -> (SocketAddr, thread::JoinHandle<Vec<u8>>) {
    test_server_on(greeting, echo, goodbye, V4)
}

/// [`test_server`] on the loopback address of `family`.
fn test_server_on(
    greeting: &'static [u8],
    echo: bool,
    goodbye: &'static [u8],
    family: Family,
) -> (SocketAddr, thread::JoinHandle<Vec<u8>>) {
    let listener = net::tcp_listener_on(family);
    let addr = listener.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let (mut stream, _) =
            accept_within(&listener, net::IO_TIMEOUT).or_fail("test.client_never_connected", &[]);
        stream.write_all(greeting).unwrap();
        let mut received = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(len) => {
                    received.extend_from_slice(&buf[..len]);
                    if echo {
                        stream.write_all(&buf[..len]).unwrap();
                    }
                }
            }
        }
        stream.write_all(goodbye).unwrap();
        received
    });
    (addr, handle)
}

/// Exercise 3.1: `cargo test --test ch03_tcp echo::`
mod echo {
    use super::*;

    #[rstest]
    #[case::article_b(b"", b"Hello world", b"Hello world")]
    #[case::article_d(b"Receive: ", b"Hello TCP", b"Receive: Hello TCP")]
    #[case::not_utf8(b"", &[0xff, 0x00, 0xfe], &[0xff, 0x00, 0xfe])]
    fn echo_connection_answers_each_chunk(
        #[case] prefix: &'static [u8],
        #[case] message: &'static [u8],
        #[case] expected: &'static [u8],
    ) {
        let (mut client, your_end) = connected_pair();
        let mut learner = start_learner(move || echo_connection(your_end.into(), prefix));
        expect_echo(&mut client, message, expected, &mut learner);
        client.shutdown(Shutdown::Write).unwrap();
        let received = learner
            .finish()
            .or_fail("test.returned_error", &[("call", &"echo_connection")]);
        assert_eq!(
            received,
            message.len() as u64,
            "{}",
            text("ch03.returns_count")
        );
    }

    #[test]
    fn echo_connection_returns_when_the_client_closes_and_closes_too() {
        let (mut client, your_end) = connected_pair();
        let learner = start_learner(move || echo_connection(your_end.into(), b""));
        client.shutdown(Shutdown::Write).unwrap();
        assert_eq!(
            learner
                .finish()
                .or_fail("test.returned_error", &[("call", &"echo_connection")]),
            0
        );
        let mut rest = Vec::new();
        client
            .read_to_end(&mut rest)
            .or_fail("ch03.eof_after_return", &[]);
        assert!(
            rest.is_empty(),
            "{}",
            fill("test.bytes_after_end", &[("bytes", &show::bytes(&rest))])
        );
    }

    #[test]
    fn a_megabyte_comes_back_whole() {
        let (mut client, your_end) = connected_pair();
        let mut learner = start_learner(move || echo_connection(your_end.into(), b""));
        let message: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        // Write on another thread: the echo comes back while we are still sending, and nobody
        // reading it would fill the buffers and stop both sides.
        let mut writer = client.try_clone().unwrap();
        let to_send = message.clone();
        let sending = thread::spawn(move || writer.write_all(&to_send));
        let got = read_reply(
            &mut client,
            message.len(),
            &mut learner,
            b"(1,000,000 bytes)",
        );
        sending
            .join()
            .unwrap()
            .or_fail("ch03.sending_megabyte", &[]);
        assert!(got == message, "{}", text("ch03.megabyte_changed"));
        client.shutdown(Shutdown::Write).unwrap();
        assert_eq!(
            learner
                .finish()
                .or_fail("test.returned_error", &[("call", &"echo_connection")]),
            1_000_000
        );
    }

    /// The deadlines the tests give `serve` (only the idle and rate tests wait for them).
    const PACE: Pace = Pace {
        idle_timeout: Duration::from_secs(20),
        min_rate: 0,
    };

    /// Your `serve` on a listener of its own, started in the background (it never returns).
    fn serving(prefix: &'static [u8]) -> (SocketAddr, Running<io::Result<()>>) {
        serving_on(prefix, V4)
    }

    /// [`serving`] on the loopback address of `family`.
    fn serving_on(prefix: &'static [u8], family: Family) -> (SocketAddr, Running<io::Result<()>>) {
        let listener: TcpListener = net::tcp_listener_on(family);
        let addr = listener.local_addr().unwrap();
        (addr, start_learner(move || serve(&listener, prefix, PACE)))
    }

    #[track_caller]
    fn connect<T>(addr: SocketAddr, learner: &mut Running<T>) -> TcpStream {
        net::connect(addr).unwrap_or_else(|e| {
            learner.check();
            panic!(
                "{}",
                fill("test.could_not_connect", &[("addr", &addr), ("error", &e)])
            )
        })
    }

    #[test]
    fn the_server_serves_clients_one_after_another() {
        let (addr, mut learner) = serving(b"");
        for message in [
            b"first client".as_slice(),
            b"second client",
            b"third client",
        ] {
            let mut client = connect(addr, &mut learner);
            expect_echo(&mut client, message, message, &mut learner);
        }
    }

    #[test]
    fn the_server_serves_v6_clients_one_after_another() {
        if !V6.usable() {
            return;
        }
        let (addr, mut learner) = serving_on(b"Receive: ", V6);
        for message in [b"first over IPv6".as_slice(), b"second over IPv6"] {
            let mut client = connect(addr, &mut learner);
            let expected = [b"Receive: ".as_slice(), message].concat();
            expect_echo(&mut client, message, &expected, &mut learner);
        }
    }

    #[test]
    fn the_server_uses_its_prefix() {
        let (addr, mut learner) = serving(b"Receive: ");
        let mut client = connect(addr, &mut learner);
        expect_echo(
            &mut client,
            b"Hello TCP",
            b"Receive: Hello TCP",
            &mut learner,
        );
    }

    #[test]
    fn a_client_that_resets_does_not_stop_the_server() {
        let (addr, mut learner) = serving(b"");
        let mut rude = connect(addr, &mut learner);
        expect_echo(&mut rude, b"bye", b"bye", &mut learner);
        net::reset(rude); // a reset (RST) instead of a clean end (FIN)
        let mut next = connect(addr, &mut learner);
        expect_echo(
            &mut next,
            b"still serving?",
            b"still serving?",
            &mut learner,
        );
    }

    #[test]
    fn a_silent_client_is_dropped_after_the_idle_timeout_and_the_next_is_served() {
        let listener: TcpListener = net::tcp_listener();
        let addr = listener.local_addr().unwrap();
        let pace = Pace {
            idle_timeout: Duration::from_millis(300),
            min_rate: 4,
        };
        let mut learner = start_learner(move || serve(&listener, b"", pace));
        let silent = connect(addr, &mut learner); // connects, then says nothing
        let mut next = connect(addr, &mut learner);
        expect_echo(&mut next, b"my turn?", b"my turn?", &mut learner);
        drop(silent);
    }

    #[test]
    fn a_client_sending_a_byte_now_and_then_is_dropped_and_the_next_is_served() {
        let listener: TcpListener = net::tcp_listener();
        let addr = listener.local_addr().unwrap();
        // Never silent for 0.5 s, but 100 bytes a second are asked for and it sends 10.
        let pace = Pace {
            idle_timeout: Duration::from_millis(500),
            min_rate: 100,
        };
        let mut learner = start_learner(move || serve(&listener, b"", pace));
        let trickler = connect(addr, &mut learner);
        let dripping = trickler.try_clone().unwrap();
        // Pacing: the slow client's byte every 100 ms, for at most 3 s.
        let drip = thread::spawn(move || {
            for _ in 0..30 {
                if (&dripping).write_all(b".").is_err() {
                    break;
                }
                thread::sleep(Duration::from_millis(100));
            }
        });
        let mut next = connect(addr, &mut learner);
        // The window (0.5 s) and a second more: then the next client's echo must be back.
        next.set_read_timeout(Some(Duration::from_millis(1_500)))
            .unwrap();
        expect_echo(&mut next, b"my turn?", b"my turn?", &mut learner);
        drop(trickler);
        let _ = drip.join(); // it stops by itself within 3 s
    }

    #[test]
    fn a_second_client_waits_until_the_first_leaves() {
        let (addr, mut learner) = serving(b"");
        let mut first = connect(addr, &mut learner);
        expect_echo(&mut first, b"one", b"one", &mut learner);
        let mut second = connect(addr, &mut learner);
        second.write_all(b"two").unwrap();
        // One client at a time: while the first is connected, the second gets nothing.
        second
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut buf = [0u8; 16];
        match second.read(&mut buf) {
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            other => {
                panic!(
                    "{}",
                    fill("ch03.second_waits", &[("got", &format!("{other:?}"))])
                )
            }
        }
        drop(first);
        second.set_read_timeout(Some(net::IO_TIMEOUT)).unwrap();
        let got = read_reply(&mut second, 3, &mut learner, b"two");
        expect_bytes(&fill("what.second_echo", &[]), b"two", &got, None);
    }
}

/// Exercise 3.2a: `cargo test --test ch03_tcp copy_until_eof::`
mod copy_until_eof {
    use super::*;

    #[test]
    fn everything_is_copied_however_it_is_split_until_the_end() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let expected = data.clone();
        let output = SharedOutput::new();
        let printed = output.clone();
        let from = SplitReads::new(Cursor::new(data), &[1, 7, 4096, 3]);
        call_learner(move || copy_until_eof(from, output))
            .or_fail("test.returned_error", &[("call", &"copy_until_eof")]);
        expect_bytes(
            &fill("what.wrote", &[("call", &"copy_until_eof")]),
            &expected,
            &printed.contents(),
            None,
        );
    }

    #[test]
    fn each_chunk_shows_before_the_stream_ends() {
        // The connection stays open: a copy that waits for the end before writing shows
        // nothing here.
        let (mut test_end, your_end) = connected_pair();
        let output = SharedOutput::new();
        let printed = output.clone();
        let mut learner = start_learner(move || copy_until_eof(your_end, output));
        test_end.write_all(b"first chunk\n").unwrap();
        let deadline = course_harness::Deadline::after(Duration::from_secs(5));
        while printed.contents() != b"first chunk\n" && !deadline.expired() {
            learner.check();
            thread::sleep(Duration::from_millis(5));
        }
        expect_bytes(
            &fill("what.wrote_while_open", &[("call", &"copy_until_eof")]),
            b"first chunk\n",
            &printed.contents(),
            None,
        );
        test_end.shutdown(Shutdown::Write).unwrap();
        learner
            .finish()
            .or_fail("test.returned_error", &[("call", &"copy_until_eof")]);
    }

    #[test]
    fn a_v6_connection_is_copied_until_its_end() {
        if !V6.usable() {
            return;
        }
        let (mut test_end, your_end) = connected_pair_on(V6);
        let output = SharedOutput::new();
        let printed = output.clone();
        let learner = start_learner(move || copy_until_eof(your_end, output));
        test_end.write_all(b"over IPv6\n").unwrap();
        test_end.shutdown(Shutdown::Write).unwrap();
        learner
            .finish()
            .or_fail("test.returned_error", &[("call", &"copy_until_eof")]);
        expect_bytes(
            &fill("what.wrote", &[("call", &"copy_until_eof")]),
            b"over IPv6\n",
            &printed.contents(),
            None,
        );
    }
}

/// Exercise 3.2b: `cargo test --test ch03_tcp send_lines::` (bytes into any `Write`: the
/// address family plays no part, so it has no IPv6 case)
mod send_lines {
    use super::*;

    #[rstest]
    #[case::two_lines("hello\nworld\n", b"hello\nworld\n")]
    #[case::stops_at_an_empty_line("first\n\nnot sent\n", b"first\n")]
    #[case::windows_line_endings("a\r\nb\r\n", b"a\nb\n")]
    #[case::last_line_without_newline("last", b"last\n")]
    #[case::no_input_sends_nothing("", b"")]
    #[case::japanese_text("こんにちは\n", "こんにちは\n".as_bytes())]
    fn each_line_goes_out_with_its_newline(
        #[case] input: &'static str,
        #[case] expected: &'static [u8],
    ) {
        let sent = call_learner(move || {
            let mut sent = Vec::new();
            send_lines(Cursor::new(input), &mut sent).map(|()| sent)
        })
        .or_fail("test.returned_error", &[("call", &"send_lines")]);
        expect_bytes(
            &fill(
                "what.sent_for",
                &[("call", &"send_lines"), ("input", &format!("{input:?}"))],
            ),
            expected,
            &sent,
            None,
        );
    }
}

/// Exercise 3.2c: `cargo test --test ch03_tcp client::`
mod client {
    use super::*;

    /// Runs your `talk` against the server at `addr` with `input`; returns what it printed.
    fn run_talk(addr: SocketAddr, input: &'static str) -> Vec<u8> {
        let stream = net::connect(addr).unwrap();
        let output = SharedOutput::new();
        let printed = output.clone();
        call_learner(move || talk(stream, Cursor::new(input), output))
            .or_fail("test.returned_error", &[("call", &"talk")]);
        printed.contents()
    }

    #[test]
    fn talk_prints_the_echo_of_every_line() {
        let (addr, server) = test_server(b"", true, b"");
        let printed = run_talk(addr, "hello\nworld\n");
        let received = server.join().unwrap();
        expect_bytes(
            &fill("test.server_received", &[]),
            b"hello\nworld\n",
            &received,
            None,
        );
        expect_bytes(
            &fill("what.printed", &[("name", &"talk")]),
            b"hello\nworld\n",
            &printed,
            None,
        );
    }

    #[test]
    fn talk_to_a_v6_server_prints_the_echo() {
        if !V6.usable() {
            return;
        }
        let (addr, server) = test_server_on(b"", true, b"", V6);
        let printed = run_talk(addr, "hello six\n");
        let received = server.join().unwrap();
        expect_bytes(
            &fill("test.server_received", &[]),
            b"hello six\n",
            &received,
            None,
        );
        expect_bytes(
            &fill("what.printed", &[("name", &"talk")]),
            b"hello six\n",
            &printed,
            None,
        );
    }

    #[test]
    fn talk_stops_sending_at_an_empty_line() {
        let (addr, server) = test_server(b"", true, b"");
        let printed = run_talk(addr, "first\n\nnot sent\n");
        expect_bytes(
            &fill("test.server_received", &[]),
            b"first\n",
            &server.join().unwrap(),
            None,
        );
        expect_bytes(
            &fill("what.printed", &[("name", &"talk")]),
            b"first\n",
            &printed,
            None,
        );
    }

    #[test]
    fn talk_half_closes_and_prints_until_the_server_closes() {
        // This server speaks first, and answers only once it has read the end of the stream:
        // a client that does not half-close, or stops reading early, misses the goodbye.
        let (addr, server) = test_server(b"welcome\n", false, b"goodbye\n");
        let printed = run_talk(addr, "hello\n");
        expect_bytes(
            &fill("test.server_received", &[]),
            b"hello\n",
            &server.join().unwrap(),
            None,
        );
        expect_bytes(
            &fill("what.printed", &[("name", &"talk")]),
            b"welcome\ngoodbye\n",
            &printed,
            None,
        );
    }
}

/// Exercise 3.3, with `programs::`: `cargo test --test ch03_tcp -- line_reader:: programs::`
mod line_reader {
    use super::*;

    /// Sends `bytes` in one write, closes the sending side, and lets your `LineReader` read
    /// `count` results through a reader that cuts reads at `sizes`.
    fn read_lines(
        bytes: &[u8],
        sizes: &'static [usize],
        count: usize,
    ) -> Vec<Result<Option<String>, LineError>> {
        read_lines_on(bytes, sizes, count, V4)
    }

    /// [`read_lines`] over a connection on the loopback address of `family`.
    fn read_lines_on(
        bytes: &[u8],
        sizes: &'static [usize],
        count: usize,
        family: Family,
    ) -> Vec<Result<Option<String>, LineError>> {
        let (mut test_end, your_end) = connected_pair_on(family);
        test_end.write_all(bytes).unwrap();
        test_end.shutdown(Shutdown::Write).unwrap();
        call_learner(move || {
            let mut reader = LineReader::new(SplitReads::new(your_end, sizes));
            (0..count).map(|_| reader.read_line()).collect()
        })
    }

    #[track_caller]
    fn expect_lines(got: Vec<Result<Option<String>, LineError>>, expected: &[Option<&str>]) {
        let got: Vec<String> = got.iter().map(|r| format!("{r:?}")).collect();
        let expected: Vec<String> = expected
            .iter()
            .map(|l| format!("{:?}", Ok::<_, ()>(l.map(str::to_string))))
            .collect();
        if got != expected {
            Report::new(fill("ch03.read_line_results", &[]))
                .line("expected", expected.join(", "))
                .line("got", got.join(", "))
                .fail();
        }
    }

    #[rstest]
    #[case::two_lines_in_one_read(&[4096])]
    #[case::one_byte_at_a_time(&[1])]
    #[case::cut_inside_lines(&[3, 5, 2, 7])]
    #[case::line_end_alone(&[5, 1])]
    fn lines_come_out_whole_however_the_bytes_are_split(#[case] sizes: &'static [usize]) {
        let got = read_lines(b"hello\nworld\n", sizes, 3);
        expect_lines(got, &[Some("hello"), Some("world"), None]);
    }

    #[test]
    fn lines_over_a_v6_connection_come_out_whole() {
        if !V6.usable() {
            return;
        }
        let got = read_lines_on(b"hello\nworld\n", &[3, 5, 2, 7], 3, V6);
        expect_lines(got, &[Some("hello"), Some("world"), None]);
    }

    #[test]
    fn a_character_cut_in_two_is_not_broken() {
        // Each of these characters is 3 bytes in UTF-8; one-byte reads cut every one of them.
        let got = read_lines("こんにちは\nソケット\n".as_bytes(), &[1], 3);
        expect_lines(got, &[Some("こんにちは"), Some("ソケット"), None]);
    }

    #[test]
    fn empty_lines_and_crlf_endings() {
        let got = read_lines(b"\nwindows\r\n\r\nend\n", &[2], 5);
        expect_lines(
            got,
            &[Some(""), Some("windows"), Some(""), Some("end"), None],
        );
    }

    #[test]
    fn a_clean_end_keeps_saying_none() {
        let got = read_lines(b"only line\n", &[4096], 3);
        expect_lines(got, &[Some("only line"), None, None]);
    }

    #[test]
    fn a_stream_that_ends_mid_line_is_an_error_with_what_arrived() {
        let mut got = read_lines(b"complete\npartial", &[3], 2);
        let second = got.pop().unwrap();
        expect_lines(got, &[Some("complete")]);
        match second {
            Err(LineError::UnexpectedEof { partial }) => {
                expect_bytes(&fill("what.partial_line", &[]), b"partial", &partial, None)
            }
            other => panic!(
                "{}",
                fill("ch03.eof_mid_line", &[("got", &format!("{other:?}"))])
            ),
        }
    }

    /// What the next test sends and expects, as its failure message shows them.
    const INPUT: &str = r#""ok\n\xff\xfe bad\nnext\n""#;
    const EXPECTED: &str = r#"Ok(Some("ok")), Err(InvalidUtf8([255, 254, 32, 98, 97, 100])), Ok(Some("next")), Ok(None)"#;

    #[test]
    fn a_line_that_is_not_utf8_is_rejected_and_the_next_one_still_arrives() {
        let mut got = read_lines(b"ok\n\xff\xfe bad\nnext\n", &[4096], 4);
        let all = format!("{got:?}");
        let bad = got.remove(1);
        assert!(
            matches!(&bad, Err(LineError::InvalidUtf8(bytes)) if bytes == b"\xff\xfe bad"),
            "{}",
            fill(
                "ch03.not_utf8",
                &[("input", &INPUT), ("expected", &EXPECTED), ("got", &all)]
            )
        );
        expect_lines(got, &[Some("ok"), Some("next"), None]);
    }

    /// A result of `read_line` with the line's length instead of the line.
    fn length(got: &Result<Option<String>, LineError>) -> String {
        format!("{:?}", got.as_ref().map(|l| l.as_ref().map(String::len)))
    }

    #[test]
    fn a_line_of_exactly_the_limit_is_accepted_and_one_byte_more_is_not() {
        let mut bytes = vec![b'a'; MAX_LINE];
        bytes.push(b'\n');
        bytes.extend(vec![b'b'; MAX_LINE + 1]);
        bytes.push(b'\n');
        let got = read_lines(&bytes, &[4096], 2);
        assert!(
            matches!(&got[0], Ok(Some(line)) if line.len() == MAX_LINE),
            "{}",
            fill("ch03.line_of_limit", &[("got", &length(&got[0]))])
        );
        assert!(
            matches!(got[1], Err(LineError::TooLong)),
            "{}",
            fill("ch03.line_over_limit", &[("got", &length(&got[1]))])
        );
    }

    #[test]
    fn a_line_longer_than_the_limit_is_refused_without_waiting_for_its_end() {
        let (mut test_end, your_end) = connected_pair();
        // The connection stays open and no newline ever comes: the reader must stop on its own.
        let writer = thread::spawn(move || {
            let _ = test_end.write_all(&vec![b'a'; MAX_LINE + 10_000]);
            test_end
        });
        let got = call_learner(move || LineReader::new(your_end).read_line());
        assert!(
            matches!(got, Err(LineError::TooLong)),
            "{}",
            fill(
                "test.expected_got",
                &[("expected", &"Err(TooLong)"), ("got", &format!("{got:?}"))]
            )
        );
        drop(writer.join());
    }
}

/// The programs tcp-server and tcp-client: `cargo test --test ch03_tcp programs::`
mod programs {
    use super::*;

    fn start_server(args: &[&str]) -> (ChildGuard, SocketAddr) {
        let mut command = Command::new(course_harness::program!("tcp-server"));
        command.args(["--bind", "127.0.0.1:0"]).args(args);
        let mut child = ChildGuard::spawn(command);
        let addr = child.listening_addr();
        (child, addr)
    }

    /// Sends `message` to the program and reads `expected.len()` bytes back; a crash of the
    /// program is reported with its output.
    #[track_caller]
    fn program_echo(
        server: &mut ChildGuard,
        addr: SocketAddr,
        message: &[u8],
        expected: &[u8],
    ) -> TcpStream {
        let attempt = || -> io::Result<(TcpStream, Vec<u8>)> {
            let mut stream = net::connect(addr)?;
            stream.write_all(message)?;
            let mut got = vec![0u8; expected.len()];
            stream.read_exact(&mut got)?;
            Ok((stream, got))
        };
        match attempt() {
            Ok((stream, got)) => {
                expect_bytes(&fill("what.echo", &[]), expected, &got, None);
                stream
            }
            Err(e) => {
                server.assert_running();
                panic!("{}", fill("ch03.no_echo", &[("error", &e)]))
            }
        }
    }

    #[test]
    fn tcp_server_echoes_and_prints_what_it_receives() {
        let (mut server, addr) = start_server(&[]);
        drop(program_echo(
            &mut server,
            addr,
            b"Hello world",
            b"Hello world",
        ));
        let line = server.stdout_line();
        assert!(
            line.contains("Hello world"),
            "{}",
            fill("test.stdout_was", &[("stdout", &format!("{line:?}"))])
        );
    }

    #[test]
    fn tcp_server_prefixes_like_article_d() {
        let (mut server, addr) = start_server(&["--prefix", "Receive: "]);
        drop(program_echo(
            &mut server,
            addr,
            b"Hello TCP",
            b"Receive: Hello TCP",
        ));
    }

    #[test]
    fn tcp_server_keeps_serving_after_clients_leave() {
        let (mut server, addr) = start_server(&[]);
        drop(net::connect(addr).unwrap()); // connects and leaves without a word
        let rude = program_echo(&mut server, addr, b"x", b"x");
        net::reset(rude); // leaves with a reset
        drop(program_echo(
            &mut server,
            addr,
            b"still there?",
            b"still there?",
        ));
    }

    #[test]
    fn tcp_server_drops_idle_clients_so_the_next_is_served() {
        let (mut server, addr) = start_server(&["--idle-timeout", "0.3"]);
        // One client connects and says nothing.
        let silent = net::connect(addr).unwrap();
        drop(program_echo(&mut server, addr, b"next", b"next"));
        // One sends without ever reading its echo, until the buffers on both sides are full
        // and the server's write blocks.
        let mut greedy = net::connect(addr).unwrap();
        greedy
            .set_write_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..1_000 {
            if greedy.write_all(&chunk).is_err() {
                break; // our own send buffer is full: the server stopped reading
            }
        }
        drop(program_echo(&mut server, addr, b"and next", b"and next"));
        drop((silent, greedy));
        let mut lines = Vec::new();
        while let Ok(line) = server.next_line(Stream::Stderr, Duration::from_millis(100)) {
            lines.push(line);
        }
        assert!(
            lines
                .iter()
                .filter(|l| l.contains("idle for 0.3 s"))
                .count()
                >= 1,
            "{}",
            fill("ch03.said_idle", &[("lines", &format!("{lines:?}"))])
        );
    }

    /// Slowloris against one-client-at-a-time: a client that sends a byte every second is
    /// never idle for the 1.5 s idle timeout, yet moves far less than the minimum rate (4
    /// bytes a second by default, over each idle-timeout window: 6 bytes, and it moves at
    /// most 4 with their echo). A queued client must be served within the window + 1 s.
    #[test]
    fn tcp_server_serves_a_queued_client_while_another_drips() {
        const WINDOW: Duration = Duration::from_millis(1_500);
        let (mut server, addr) = start_server(&["--idle-timeout", "1.5"]);
        let mut dripper = net::connect(addr).unwrap();
        dripper.write_all(b".").unwrap();
        let mut one = [0u8; 1];
        dripper.read_exact(&mut one).unwrap(); // it is the client being served
        let mut queued = net::connect(addr).unwrap();
        queued.write_all(b"queued").unwrap();
        queued.set_nonblocking(true).unwrap();
        let started = Instant::now();
        let limit = WINDOW + Duration::from_secs(1);
        let mut got = Vec::new();
        let mut dripping = true;
        // Pacing: one byte every second from the dripper, the queued client looked at every
        // 50 ms; the whole test is bounded by `limit` plus one slack second.
        let mut next_drip = Instant::now() + Duration::from_secs(1);
        while got.len() < 6 && started.elapsed() < limit + Duration::from_secs(1) {
            if dripping && Instant::now() >= next_drip {
                dripping = dripper.write_all(b".").is_ok();
                next_drip += Duration::from_secs(1);
            }
            let mut buf = [0u8; 16];
            match queued.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    thread::sleep(Duration::from_millis(50))
                }
                Err(_) => break,
            }
        }
        let took = started.elapsed();
        if got != b"queued" || took > limit {
            server.assert_running();
            let args: [(&str, &dyn std::fmt::Display); 3] = [
                ("took", &format!("{took:.1?}")),
                ("limit", &format!("{limit:?}")),
                ("got", &show::bytes(&got)),
            ];
            panic!("{}", fill("ch03.drip_starves", &args));
        }
    }

    /// A person typing into tcp-client: one byte every 0.2 s, below `--min-rate 20` (15
    /// bytes over each 0.75 s window, both directions counted; it moves at most 8), never
    /// idle. With nobody waiting for the server, the minimum rate does not apply: the
    /// client is kept over 3 windows.
    #[test]
    fn tcp_server_keeps_a_slow_client_while_nobody_waits() {
        let (mut server, addr) = start_server(&["--idle-timeout", "0.75", "--min-rate", "20"]);
        let mut slow = net::connect(addr).unwrap();
        slow.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
        let started = Instant::now();
        // Pacing: a byte every 0.2 s (10 bytes/s both ways, under the minimum of 20) for 3 windows
        // (2.25 s) and a bit more.
        while started.elapsed() < Duration::from_millis(2_500) {
            let mut one = [0u8; 1];
            let echoed = slow
                .write_all(b".")
                .and_then(|()| slow.read_exact(&mut one));
            if let Err(e) = echoed {
                server.assert_running();
                let took = format!("{:.1?}", started.elapsed());
                panic!(
                    "{}",
                    fill("ch03.slow_alone_closed", &[("took", &took), ("error", &e)])
                );
            }
            thread::sleep(Duration::from_millis(200));
        }
    }

    #[test]
    fn tcp_client_sends_lines_and_prints_the_echo() {
        // Built before the test server starts: its accept deadline must not pay for a build
        // (other tests' builds come first, one at a time).
        let mut command = Command::new(course_harness::program!("tcp-client"));
        let (addr, server) = test_server(b"", true, b"");
        command.args(["--server", &addr.to_string()]);
        let exited = ChildGuard::run_to_end(
            command,
            b"Hello world\nsecond line\n",
            Duration::from_secs(10),
        );
        exited.expect_code("tcp-client", 0);
        let printed: String = exited.stdout.iter().map(|l| format!("{l}\n")).collect();
        expect_bytes(
            &fill("what.printed", &[("name", &"tcp-client")]),
            b"Hello world\nsecond line\n",
            printed.as_bytes(),
            None,
        );
        expect_bytes(
            &fill("test.server_received", &[]),
            b"Hello world\nsecond line\n",
            &server.join().unwrap(),
            None,
        );
    }
}
