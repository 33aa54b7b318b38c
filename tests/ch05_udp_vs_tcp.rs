//! Chapter 5: UDP and TCP, measured. Grade this chapter with `cargo test --test 'ch05*'`;
//! every test calls your code in `exercises/src/ch05_udp_vs_tcp/`, directly or through the
//! `udp-vs-tcp` program.
//!
//! The UDP tests go through the lossy relay with scripts, so they know exactly which datagram
//! is lost, duplicated or late; when one fails it prints the relay's record as a sequence
//! diagram. The TCP tests play the server. No test checks how fast anything was: the machine
//! is shared and its timings are noise. They check counts, and that replies match requests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use course_catalog::{fill, text};
use course_harness::net::Family::{self, V4, V6};
use course_harness::net::{self, accept_within};
use course_harness::show::{OrFail, Report};
use course_harness::{Deadline, call_learner, call_learner_within};
use lossy_relay::{Relay, RelayConfig, Script};
use rstest::rstest;
use socket_course::ch05_udp_vs_tcp::{
    Summary, TripError, UdpTrips, summarize, tcp_connect_per_request, tcp_round_trips,
    udp_round_trips,
};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Exercise 5.1: `cargo test --test ch05_udp_vs_tcp stats::` (arithmetic on durations: no
/// socket, so no IPv6 case)
mod stats {
    use super::*;

    fn summary(count: usize, min: u64, median: u64, p99: u64, mean: u64) -> Option<Summary> {
        Some(Summary {
            count,
            min: Duration::from_nanos(min),
            median: Duration::from_nanos(median),
            p99: Duration::from_nanos(p99),
            mean: Duration::from_nanos(mean),
        })
    }

    /// 1 ns, 2 ns, ..., n ns, shuffled deterministically (so sorting is your job).
    fn one_to(n: u64) -> Vec<u64> {
        let mut v: Vec<u64> = (1..=n).collect();
        let mut x = 0x9e37_79b9_u64;
        for i in (1..v.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            v.swap(i, (x % (i as u64 + 1)) as usize);
        }
        v
    }

    #[rstest]
    #[case::empty(vec![], None)]
    #[case::one_sample(vec![7], summary(1, 7, 7, 7, 7))]
    #[case::odd_count_unsorted(vec![30, 10, 20], summary(3, 10, 20, 30, 20))]
    #[case::even_count_mean_of_the_middle_two(vec![40, 10, 30, 20], summary(4, 10, 25, 40, 25))]
    #[case::even_count_rounds_down(vec![1, 2], summary(2, 1, 1, 2, 1))]
    #[case::mean_rounds_down(vec![1, 1, 2], summary(3, 1, 1, 2, 1))]
    #[case::equal_values(vec![5, 5, 5, 5], summary(4, 5, 5, 5, 5))]
    #[case::one_slow_outlier(vec![1, 1, 1, 1, 1, 1, 1, 1, 1, 991], summary(10, 1, 1, 991, 100))]
    #[case::p99_of_100_is_the_99th(one_to(100), summary(100, 1, 50, 99, 50))]
    #[case::p99_of_101_is_the_100th(one_to(101), summary(101, 1, 51, 100, 51))]
    #[case::p99_of_150_is_the_149th(one_to(150), summary(150, 1, 75, 149, 75))]
    #[case::p99_of_1000_is_the_990th(one_to(1000), summary(1000, 1, 500, 990, 500))]
    fn summaries_follow_the_definitions(
        #[case] nanos: Vec<u64>,
        #[case] expected: Option<Summary>,
    ) {
        let samples: Vec<Duration> = nanos.iter().map(|&n| Duration::from_nanos(n)).collect();
        let got = call_learner(move || summarize(&samples));
        assert_eq!(
            got,
            expected,
            "{}",
            fill("ch05.summarize_of", &[("count", &nanos.len())])
        );
    }

    #[test]
    fn large_durations_do_not_overflow() {
        let hour = Duration::from_secs(3600);
        let samples = vec![hour; 1000];
        let got = call_learner(move || summarize(&samples));
        assert_eq!(
            got,
            Some(Summary {
                count: 1000,
                min: hour,
                median: hour,
                p99: hour,
                mean: hour
            })
        );
    }
}

/// A UDP echo server on its own thread: sends every datagram back to its sender. It stops
/// when dropped (it wakes every 50 ms to look).
struct UdpEcho {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl UdpEcho {
    /// On the loopback address of `family`.
    fn start_on(family: Family) -> Self {
        let socket = net::udp_socket_on(family);
        socket.set_read_timeout(Some(ms(50))).unwrap();
        let addr = socket.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        thread::spawn(move || {
            let mut buf = vec![0u8; net::MAX_DATAGRAM];
            while !stopping.load(Ordering::Relaxed) {
                if let Ok((len, from)) = socket.recv_from(&mut buf) {
                    let _ = socket.send_to(&buf[..len], from);
                }
            }
        });
        UdpEcho { addr, stop }
    }
}

impl Drop for UdpEcho {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Exercise 5.2: `cargo test --test ch05_udp_vs_tcp udp::`
mod udp {
    use super::*;

    /// Runs your `udp_round_trips` through a relay with `script` in front of an echo server.
    fn through_relay(script: &str, count: u32, timeout: Duration) -> (UdpTrips, Relay) {
        through_relay_on(script, count, timeout, V4)
    }

    /// [`through_relay`] with the echo server, the relay and your socket on `family`.
    fn through_relay_on(
        script: &str,
        count: u32,
        timeout: Duration,
        family: Family,
    ) -> (UdpTrips, Relay) {
        let echo = UdpEcho::start_on(family);
        let script: Script = script.parse().expect("test setup: a bad relay script");
        let relay = Relay::start(
            family.any_port(),
            RelayConfig::new(echo.addr).script(script),
        )
        .expect("test setup: could not start the relay");
        let socket = net::udp_socket_on(family);
        let relay_addr = relay.addr();
        let trips = call_learner_within(Duration::from_secs(8), move || {
            udp_round_trips(&socket, relay_addr, count, timeout)
        });
        match trips {
            Ok(trips) => (trips, relay),
            Err(e) => Report::new(fill("test.returned_error", &[("call", &"udp_round_trips")]))
                .line("error", e.to_string())
                .exchange(&relay.exchange())
                .fail(),
        }
    }

    /// Compares what was measured with what the script makes happen.
    #[track_caller]
    fn expect(trips: &UdpTrips, relay: &Relay, count: u32, lost: &[u32], stale: u32) {
        let answered = count as usize - lost.len();
        if trips.lost != lost || trips.rtts.len() != answered || trips.stale != stale {
            Report::new(fill("ch05.did_not_count", &[]))
                .line(
                    "expected",
                    format!("lost {lost:?}, {answered} round-trip times, {stale} stale"),
                )
                .line(
                    "got",
                    format!(
                        "lost {:?}, {} round-trip times, {} stale",
                        trips.lost,
                        trips.rtts.len(),
                        trips.stale
                    ),
                )
                .exchange(&relay.exchange())
                .fail();
        }
    }

    #[test]
    fn every_request_comes_back_when_nothing_is_lost() {
        let (trips, relay) = through_relay("", 20, ms(2000));
        expect(&trips, &relay, 20, &[], 0);
    }

    #[test]
    fn lost_requests_and_lost_replies_are_counted_exactly() {
        // Request 3 never reaches the server; the server's reply to 7 never comes back.
        // (A generous timeout: a round trip takes well under a millisecond here, but on a
        // busy machine it can take a hundred.)
        let script = "to-server \"3\" drop\nto-client \"7\" drop";
        let (trips, relay) = through_relay(script, 10, ms(400));
        expect(&trips, &relay, 10, &[3, 7], 0);
    }

    #[test]
    fn over_v6_a_lost_request_is_counted_and_the_rest_come_back() {
        if !V6.usable() {
            return;
        }
        let (trips, relay) = through_relay_on("to-server \"3\" drop", 5, ms(400), V6);
        expect(&trips, &relay, 5, &[3], 0);
    }

    #[test]
    fn a_late_reply_is_not_taken_for_the_next_one() {
        // The reply to 2 comes 600 ms late, after its 400 ms deadline, while we wait for 3
        // (whose request is lost, so that wait lasts from 400 ms to 800 ms): it must not
        // count as 3's reply.
        let script = "to-client \"2\" delay 600\nto-server \"3\" drop";
        let (trips, relay) = through_relay(script, 5, ms(400));
        expect(&trips, &relay, 5, &[2, 3], 1);
    }

    #[test]
    fn a_duplicated_reply_is_not_taken_for_the_next_one() {
        // The reply to 1 arrives twice; request 2 is lost, so the copy comes while we wait
        // for 2's reply.
        let script = "to-client \"1\" duplicate\nto-server \"2\" drop";
        let (trips, relay) = through_relay(script, 4, ms(400));
        expect(&trips, &relay, 4, &[2], 1);
    }

    #[test]
    fn wrong_datagrams_do_not_stretch_the_deadline() {
        // The test plays the server: it never answers 1, but sends a wrong datagram every
        // 20 ms for 3 s. Waiting 200 ms *after each* datagram would wait for all of them.
        let server = net::udp_socket();
        let server_addr = server.local_addr().unwrap();
        let noise = thread::spawn(move || {
            let (_, client) = net::recv_datagram(&server).or_fail("ch05.no_request", &[]);
            let deadline = Deadline::after(Duration::from_secs(3));
            while !deadline.expired() {
                if server.send_to(b"999", client).is_err() {
                    break;
                }
                thread::sleep(ms(20)); // pacing: one wrong datagram every 20 ms
            }
        });
        let socket = net::udp_socket();
        let trips = call_learner_within(Duration::from_millis(1500), move || {
            udp_round_trips(&socket, server_addr, 1, ms(200))
        })
        .or_fail("test.returned_error", &[("call", &"udp_round_trips")]);
        assert_eq!(trips.lost, [1], "{}", text("ch05.never_answered"));
        assert!(trips.rtts.is_empty(), "{}", text("ch05.never_answered"));
        assert!(trips.stale > 0, "{}", text("ch05.stale"));
        drop(noise);
    }

    #[test]
    fn a_server_that_is_not_there_is_an_error_or_all_lost() {
        // A port where nothing listens: a connected UDP socket hears the ICMP "port
        // unreachable" as an error on Linux and macOS. Either that error comes back, or the
        // requests are all lost, but nothing is answered and nothing hangs.
        let nobody = net::udp_socket();
        let addr = nobody.local_addr().unwrap();
        drop(nobody);
        let socket = net::udp_socket();
        let got = call_learner(move || udp_round_trips(&socket, addr, 2, ms(200)));
        if let Ok(trips) = got {
            assert_eq!(trips.lost, [1, 2], "{}", text("ch05.nothing_answered"));
        }
    }
}

/// A line echo server on a connection the test owns: answers each line with `answer(n, line)`
/// (`None` closes the connection), writing each reply byte by byte if `byte_by_byte`.
/// Returns the lines it read.
fn line_server(
    stream: TcpStream,
    byte_by_byte: bool,
    answer: impl Fn(usize, &str) -> Option<String> + Send + 'static,
) -> thread::JoinHandle<Vec<String>> {
    thread::spawn(move || {
        let mut writer = stream.try_clone().unwrap();
        writer.set_nodelay(true).unwrap();
        let mut seen = Vec::new();
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            let Some(reply) = answer(seen.len() + 1, &line) else {
                break;
            };
            seen.push(line);
            let ok = if byte_by_byte {
                reply.bytes().all(|b| writer.write_all(&[b]).is_ok())
            } else {
                writer.write_all(reply.as_bytes()).is_ok()
            };
            if !ok {
                break;
            }
        }
        seen
    })
}

/// A connected pair on loopback: (the test's end, the end for your code), with timeouts.
fn connected_pair() -> (TcpStream, TcpStream) {
    let listener = net::tcp_listener();
    let your_end = net::connect(listener.local_addr().unwrap()).unwrap();
    let (test_end, _) = accept_within(&listener, net::IO_TIMEOUT).unwrap();
    (test_end, your_end)
}

fn numbers(count: usize) -> Vec<String> {
    (1..=count).map(|n| n.to_string()).collect()
}

/// Exercise 5.3, with `program::`: `cargo test --test ch05_udp_vs_tcp -- tcp:: program::`
mod tcp {
    use super::*;

    #[rstest]
    #[case::whole_lines(false)]
    #[case::replies_one_byte_at_a_time(true)]
    fn every_request_gets_its_reply_on_one_connection(#[case] byte_by_byte: bool) {
        let (test_end, your_end) = connected_pair();
        let server = line_server(test_end, byte_by_byte, |_, line| Some(format!("{line}\n")));
        let rtts = call_learner(move || tcp_round_trips(your_end, 50))
            .or_fail("test.returned_error", &[("call", &"tcp_round_trips")]);
        assert_eq!(rtts.len(), 50, "{}", text("ch05.one_rtt_each"));
        // Your code has returned and dropped the connection: the server read to the end.
        let seen = server.join().unwrap();
        assert_eq!(seen, numbers(50), "{}", text("ch05.lines_in_order"));
    }

    const MISMATCH: &str = r#"Err(Mismatch { seq: 3, reply: "4" })"#;

    #[test]
    fn a_wrong_reply_is_a_mismatch() {
        let (test_end, your_end) = connected_pair();
        let _server = line_server(test_end, false, |n, line| {
            Some(if n == 3 {
                "4\n".into()
            } else {
                format!("{line}\n")
            })
        });
        let got = call_learner(move || tcp_round_trips(your_end, 5));
        assert!(
            matches!(&got, Err(TripError::Mismatch { seq: 3, reply }) if reply == "4"),
            "{}",
            fill(
                "test.expected_got",
                &[("expected", &MISMATCH), ("got", &format!("{got:?}"))]
            )
        );
    }

    #[test]
    fn a_server_that_closes_early_is_an_error() {
        let (test_end, your_end) = connected_pair();
        let _server = line_server(test_end, false, |n, line| {
            (n <= 2).then(|| format!("{line}\n"))
        });
        let got = call_learner(move || tcp_round_trips(your_end, 5));
        assert!(
            matches!(got, Err(TripError::Closed { seq: 3 })),
            "{}",
            fill(
                "ch05.closed_after_two",
                &[
                    ("expected", &"Err(Closed { seq: 3 })"),
                    ("got", &format!("{got:?}"))
                ]
            )
        );
    }

    /// A server that accepts connections one after another, reads one line from each, answers
    /// it, then expects the client to close. Returns, per connection, the line and whatever
    /// else the client sent ("" when it closed properly).
    fn one_line_per_connection(
        listener: TcpListener,
        connections: usize,
    ) -> thread::JoinHandle<Vec<(String, String)>> {
        thread::spawn(move || {
            let mut seen = Vec::new();
            for _ in 0..connections {
                let Ok((stream, _)) = accept_within(&listener, net::IO_TIMEOUT) else {
                    break;
                };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    break;
                }
                let line = line.trim_end().to_string();
                let _ = (&stream).write_all(format!("{line}\n").as_bytes());
                let mut rest = Vec::new();
                let closed = reader.read_to_end(&mut rest).is_ok();
                let mut rest = String::from_utf8_lossy(&rest).into_owned();
                if !closed {
                    rest.push_str("(the client did not close the connection)");
                }
                seen.push((line, rest));
            }
            seen
        })
    }

    #[test]
    fn every_request_gets_a_connection_of_its_own() {
        let listener = net::tcp_listener();
        let addr = listener.local_addr().unwrap();
        let server = one_line_per_connection(listener, 20);
        let rtts = call_learner(move || tcp_connect_per_request(addr, 20, ms(3000))).or_fail(
            "test.returned_error",
            &[("call", &"tcp_connect_per_request")],
        );
        assert_eq!(rtts.len(), 20, "{}", text("ch05.one_time_each"));
        let seen = server.join().unwrap();
        let expected: Vec<(String, String)> = numbers(20)
            .into_iter()
            .map(|n| (n, String::new()))
            .collect();
        assert_eq!(seen, expected, "{}", text("ch05.per_connection"));
    }

    #[test]
    fn every_request_to_a_v6_server_gets_a_connection_of_its_own() {
        if !V6.usable() {
            return;
        }
        let listener = net::tcp_listener_on(V6);
        let addr = listener.local_addr().unwrap();
        let server = one_line_per_connection(listener, 5);
        let rtts = call_learner(move || tcp_connect_per_request(addr, 5, ms(3000))).or_fail(
            "test.returned_error",
            &[("call", &"tcp_connect_per_request")],
        );
        assert_eq!(rtts.len(), 5, "{}", text("ch05.one_time_each"));
        let expected: Vec<(String, String)> =
            numbers(5).into_iter().map(|n| (n, String::new())).collect();
        assert_eq!(
            server.join().unwrap(),
            expected,
            "{}",
            text("ch05.per_connection")
        );
    }

    #[test]
    fn a_refused_connection_is_an_error() {
        let listener = net::tcp_listener();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let got = call_learner(move || tcp_connect_per_request(addr, 3, ms(2000)));
        assert!(
            matches!(&got, Err(TripError::Io(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused),
            "{}",
            fill(
                "ch05.refused",
                &[
                    ("addr", &addr),
                    ("expected", &"Err(Io(ConnectionRefused))"),
                    ("got", &format!("{got:?}"))
                ]
            )
        );
    }
}

/// The program: `cargo test --test ch05_udp_vs_tcp program::`
mod program {
    use super::*;
    use course_harness::ChildGuard;
    use std::process::Command;

    #[test]
    fn udp_vs_tcp_prints_every_row_of_the_table() {
        let mut command = Command::new(course_harness::program!("udp-vs-tcp"));
        command.args([
            "--round-trips",
            "20",
            "--loss",
            "0.05",
            "--seed",
            "3",
            "--quick",
        ]);
        let mut child = ChildGuard::spawn(command);
        let exited = child.wait_exit(Duration::from_secs(30));
        let stdout = exited.stdout.join("\n");
        if !exited.status.success() {
            child.fail(&fill(
                "test.exited",
                &[("name", &"udp-vs-tcp"), ("exited", &exited.status)],
            ));
        }
        for row in [
            "UDP round trip",
            "TCP round trip, one connection",
            "TCP connect + request + close",
            "TCP two writes, Nagle on",
            "TCP two writes, TCP_NODELAY",
            "TCP one write",
            "TCP bulk transfer",
            "UDP via relay, loss 0.05",
        ] {
            assert!(
                stdout.contains(row),
                "{}",
                fill("ch05.no_row", &[("row", &row), ("stdout", &stdout)])
            );
        }
    }
}
