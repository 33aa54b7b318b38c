//! Chapter 6, second part: the sliding window. Grade it with `cargo test --test ch06_window`
//! (or the whole chapter with `cargo test --test 'ch06*'`); every test calls your code in
//! `exercises/src/ch06_reliability/window_*.rs`, directly or through the programs.
//!
//! Your sender talks to the reference receiver (from `solutions`) and the other way round, so
//! that a mistake in one exercise does not fail the tests of another. Between them sits the
//! lossy relay; when a transfer fails, the test prints the relay's record as a sequence diagram.

mod support;

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use course_catalog::{fill, text};
use course_harness::net::Family::{self, V4, V6};
use course_harness::show::{OrFail, Report};
use course_harness::{
    ChildGuard, Exchange, Peer, call_learner, call_learner_within, net, start_learner,
};
use lossy_relay::{Action, Direction, Fate, Rates, Relay, RelayConfig, Script, Which};
use rstest::rstest;
use socket_course::ch06_reliability::{
    Ack, DecodeError, FixedTimer, Listen, MAX_PAYLOAD, Message, Packet, Progress, RecvWindow,
    RetransmitTimer, Rto, RtoConfig, SendError, SendWindow, Session, Slot, Verdict, judge,
    run_window_receiver, send_window,
};
use solutions::ch06_reliability as reference;
use support::{hex, noise};

/// The session id of the tests' packets (a sender picks one at random).
const S: u32 = 0x5e55_1011;

/// The session of most tests: id `S`, messages numbered from 1. The tests of the wrap
/// start at `u32::MAX - 2` instead.
const SESSION: Session = Session {
    id: S,
    first_seq: 1,
};

const MS: Duration = Duration::from_millis(1);

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
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

/// Listen to the first sender, give up after 10 s of silence, linger `linger_ms` after END.
fn listen(linger_ms: u64) -> Listen {
    Listen {
        from: None,
        idle_timeout: Some(Duration::from_secs(10)),
        linger: Duration::from_millis(linger_ms),
    }
}

/// An ACK with `cumulative`, `window`, and these messages marked as arrived.
fn ack(cumulative: u32, window: u16, selective: &[u32]) -> Ack {
    let mut ack = Ack::new(S, cumulative, window);
    for &seq in selective {
        assert!(ack.mark(seq), "test setup: {seq} cannot be marked");
    }
    ack
}

/// Exercise 6.5: `cargo test --test ch06_window send_window::` (the window's bookkeeping, no
/// socket: no IPv6 case; nor has 6.8's `loss::`)
mod send_window {
    use super::*;

    const T: Duration = Duration::from_millis(10);

    /// Sends every message `next_new` allows at `now`; returns their numbers.
    fn send_new(window: &mut SendWindow, now: Instant) -> Vec<u32> {
        let mut sent = Vec::new();
        while let Some(seq) = window.next_new() {
            assert!(sent.len() < 1000, "{}", text("ch06w.never_none"));
            window.on_sent(seq, now, T);
            sent.push(seq);
        }
        sent
    }

    #[test]
    fn until_the_receiver_has_spoken_one_message_is_in_flight() {
        let got = call_learner(|| {
            let mut window = SendWindow::new(SESSION, 10, 8);
            send_new(&mut window, Instant::now())
        });
        assert_eq!(got, [1], "{}", text("ch06w.before_ack"));
    }

    #[rstest]
    #[case::ours_is_smaller(4, 64, vec![2, 3, 4, 5])]
    #[case::theirs_is_smaller(8, 2, vec![2, 3])]
    #[case::both_one(1, 1, vec![2])]
    fn an_ack_opens_the_smaller_of_the_two_windows(
        #[case] ours: u16,
        #[case] theirs: u16,
        #[case] expected: Vec<u32>,
    ) {
        let got = call_learner(move || {
            let t0 = Instant::now();
            let mut window = SendWindow::new(SESSION, 10, ours);
            send_new(&mut window, t0);
            window.on_ack(&Ack::new(S, 2, theirs), t0 + MS);
            send_new(&mut window, t0 + MS)
        });
        assert_eq!(
            got,
            expected,
            "{}",
            fill("ch06w.after_ack", &[("theirs", &theirs)])
        );
    }

    #[test]
    fn a_selective_ack_marks_messages_but_the_window_waits_for_the_gap() {
        let (progress, base, acked, more) = call_learner(|| {
            let t0 = Instant::now();
            let mut window = SendWindow::new(SESSION, 10, 4);
            send_new(&mut window, t0);
            window.on_ack(&Ack::new(S, 2, 64), t0);
            send_new(&mut window, t0); // 2, 3, 4, 5
            let progress = window.on_ack(&ack(2, 64, &[4, 5]), t0 + MS);
            let acked: Vec<bool> = (2..=5).map(|s| window.slot(s).unwrap().acked).collect();
            (progress, window.base(), acked, window.next_new())
        });
        assert_eq!(progress.newly_acked, 2, "{}", text("ch06w.selective"));
        assert_eq!(
            acked,
            [false, false, true, true],
            "{}",
            text("ch06w.acked_flags")
        );
        assert_eq!(base, 2, "{}", text("ch06w.base_at_gap"));
        assert_eq!(more, None, "{}", text("ch06w.nothing_new"));
    }

    #[test]
    fn a_cumulative_ack_moves_the_base_past_everything_acknowledged() {
        let (progress, base, more) = call_learner(|| {
            let t0 = Instant::now();
            let mut window = SendWindow::new(SESSION, 10, 4);
            send_new(&mut window, t0);
            window.on_ack(&Ack::new(S, 2, 64), t0);
            send_new(&mut window, t0);
            window.on_ack(&ack(2, 64, &[4, 5]), t0);
            // The ACKs of 2 and 3 were lost; this one says "all before 4", and 4 and 5 were known.
            let progress = window.on_ack(&Ack::new(S, 4, 64), t0 + MS);
            (progress, window.base(), send_new(&mut window, t0 + MS))
        });
        assert_eq!(progress.newly_acked, 2, "{}", text("ch06w.cumulative"));
        assert_eq!(base, 6, "{}", text("ch06w.base_after"));
        assert_eq!(more, [6, 7, 8, 9], "{}", text("ch06w.sent_after"));
    }

    #[test]
    fn an_ack_of_messages_never_sent_is_ignored_and_counted() {
        let (progress, base, next_new, ignored) = call_learner(|| {
            let t0 = Instant::now();
            let mut window = SendWindow::new(SESSION, 10, 4);
            send_new(&mut window, t0); // message 1 only: the receiver has not spoken
            // "Everything up to 9 arrived, and 10": only message 1 was ever sent.
            let progress = window.on_ack(&ack(9, 64, &[10]), t0 + MS);
            (progress, window.base(), window.next_new(), window.ignored())
        });
        assert_eq!(progress.newly_acked, 0, "{}", text("ch06w.never_sent"));
        assert_eq!(base, 1, "{}", text("ch06w.never_sent"));
        assert_eq!(next_new, None, "{}", text("ch06w.forged_window"));
        assert_eq!(ignored, 1, "{}", text("ch06w.ignored_counted"));
    }

    #[rstest]
    #[case::another_session(S ^ 1, 2)]
    #[case::everything(S ^ 0x8000_0000, u32::MAX)]
    #[case::zero(0, 0)]
    fn an_ack_of_another_session_is_ignored_and_counted(
        #[case] session: u32,
        #[case] cumulative: u32,
    ) {
        let (progress, base, acked, ignored) = call_learner(move || {
            let t0 = Instant::now();
            let mut window = SendWindow::new(SESSION, 10, 4);
            send_new(&mut window, t0);
            let forged = Ack::new(session, cumulative, 256);
            let progress = window.on_ack(&forged, t0 + MS);
            (
                progress,
                window.base(),
                window.slot(1).unwrap().acked,
                window.ignored(),
            )
        });
        assert_eq!(
            progress,
            Progress::default(),
            "{}",
            text("ch06w.other_session")
        );
        assert!(base == 1 && !acked, "{}", text("ch06w.other_session"));
        assert_eq!(ignored, 1, "{}", text("ch06w.ignored_counted"));
    }

    #[test]
    fn numbers_wrap_past_u32_max() {
        let first = u32::MAX - 2;
        let wrapping = Session {
            id: S,
            first_seq: first,
        };
        let (sent, progress, base, more, done) = call_learner(move || {
            let t0 = Instant::now();
            let mut window = SendWindow::new(wrapping, 6, 8); // 5 DATA and END
            let mut sent = send_new(&mut window, t0);
            window.on_ack(&Ack::new(S, first.wrapping_add(1), 8), t0);
            sent.extend(send_new(&mut window, t0));
            // Everything up to 1 (after the wrap) arrived: u32::MAX - 1, u32::MAX, 0.
            let progress = window.on_ack(&Ack::new(S, 1, 8), t0 + MS);
            let base = window.base();
            let more = send_new(&mut window, t0 + MS);
            window.on_ack(&Ack::new(S, 3, 8), t0 + MS);
            (sent, progress, base, more, window.is_done())
        });
        let wrapped = [first, u32::MAX - 1, u32::MAX, 0, 1, 2];
        assert_eq!(sent, wrapped, "{}", text("ch06w.wrap"));
        assert_eq!(progress.newly_acked, 3, "{}", text("ch06w.wrap"));
        assert_eq!(base, 1, "{}", text("ch06w.wrap"));
        assert_eq!(more, Vec::<u32>::new(), "{}", text("ch06w.wrap"));
        assert!(done, "{}", text("ch06w.wrap"));
    }

    #[test]
    fn due_names_the_oldest_unacknowledged_message_whose_timer_ran_out() {
        let got = call_learner(|| {
            let t0 = Instant::now();
            let mut window = SendWindow::new(SESSION, 10, 4);
            send_new(&mut window, t0);
            window.on_ack(&Ack::new(S, 2, 64), t0);
            send_new(&mut window, t0); // 2-5, each due at t0 + 10 ms
            window.on_ack(&ack(2, 64, &[3]), t0 + MS);
            let before = window.due(t0 + T - MS);
            let first = window.due(t0 + T);
            window.on_sent(2, t0 + T, T); // resent: due again at t0 + 20 ms
            let second = window.due(t0 + T);
            (before, first, second)
        });
        assert_eq!(got.0, None, "{}", text("ch06w.nothing_due"));
        assert_eq!(got.1, Some(2), "{}", text("ch06w.oldest_due"));
        assert_eq!(got.2, Some(4), "{}", text("ch06w.then_four"));
    }

    #[test]
    fn the_round_trip_sample_comes_from_the_newest_message_sent_once() {
        let got = call_learner(|| {
            let t0 = Instant::now();
            let mut window = SendWindow::new(SESSION, 10, 4);
            send_new(&mut window, t0);
            window.on_ack(&Ack::new(S, 2, 64), t0 + MS);
            window.on_sent(2, t0 + MS, T);
            window.on_sent(3, t0 + 2 * MS, T);
            window.on_ack(&Ack::new(S, 4, 64), t0 + 5 * MS)
        });
        assert_eq!(
            got,
            Progress {
                newly_acked: 2,
                rtt: Some(3 * MS)
            },
            "{}",
            text("ch06w.sample_from")
        );
    }

    #[test]
    fn no_sample_from_a_message_sent_twice() {
        let got = call_learner(|| {
            let t0 = Instant::now();
            let mut window = SendWindow::new(SESSION, 3, 4);
            window.on_sent(1, t0, T);
            window.on_sent(1, t0 + T, T); // its timer ran out: resent
            window.on_ack(&Ack::new(S, 2, 64), t0 + T + MS)
        });
        assert_eq!(
            got,
            Progress {
                newly_acked: 1,
                rtt: None
            },
            "{}",
            text("ch06w.karn")
        );
    }

    #[test]
    fn the_ack_of_end_finishes_the_transfer() {
        let got = call_learner(|| {
            let t0 = Instant::now();
            let mut window = SendWindow::new(SESSION, 3, 4); // DATA 1, DATA 2, END 3
            send_new(&mut window, t0);
            window.on_ack(&Ack::new(S, 2, 64), t0);
            let sent = send_new(&mut window, t0);
            let before = window.is_done();
            window.on_ack(&Ack::new(S, 4, 64), t0);
            (sent, before, window.is_done(), window.next_new())
        });
        assert_eq!(got.0, [2, 3], "{}", text("ch06w.data2_end3"));
        assert!(!got.1, "{}", text("ch06w.done_too_early"));
        assert!(got.2, "{}", text("ch06w.not_done"));
        assert_eq!(got.3, None, "{}", text("ch06w.nothing_after_end"));
    }
}

/// Exercise 6.8: `cargo test --test ch06_window loss::`
mod loss {
    use super::*;

    const RTT: Duration = Duration::from_millis(8);

    /// A message whose last sending was the `order`-th of the transfer, at `sent_at`.
    fn sent(order: u64, sent_at: Instant) -> Slot {
        Slot {
            transmissions: 1,
            order,
            sent_at: Some(sent_at),
            deadline: Some(sent_at + Duration::from_secs(1)),
            acked: false,
        }
    }

    /// Checks `judge` on `cases`: (slot, newest acknowledged sending, now, expected).
    fn check(cases: Vec<(Slot, u64, Instant, Verdict)>) {
        for (slot, newest, now, expected) in cases {
            let got = call_learner(move || judge(&slot, newest, now, RTT));
            assert_eq!(
                got,
                expected,
                "{}",
                fill(
                    "ch06w.judge",
                    &[("slot", &format!("{slot:?}")), ("newest", &newest)]
                )
            );
        }
    }

    #[test]
    fn three_later_sendings_acknowledged_mean_lost_at_once() {
        let t0 = Instant::now();
        let slot = sent(10, t0);
        check(vec![
            (slot, 13, t0, Verdict::Lost),
            (slot, 500, t0, Verdict::Lost),
            // Earlier sendings say nothing about this one.
            (slot, 9, t0 + 50 * MS, Verdict::NoEvidence),
            (slot, 0, t0 + 50 * MS, Verdict::NoEvidence),
        ]);
    }

    #[test]
    fn fewer_later_sendings_mean_lost_after_9_8_of_the_round_trip() {
        let t0 = Instant::now();
        let slot = sent(10, t0);
        // 9/8 of 8 ms: lost 9 ms after it was sent, and not before.
        check(vec![
            (slot, 11, t0 + 2 * MS, Verdict::LostAt(t0 + 9 * MS)),
            (slot, 12, t0 + 2 * MS, Verdict::LostAt(t0 + 9 * MS)),
            (slot, 11, t0 + 9 * MS, Verdict::Lost),
            (slot, 12, t0 + 20 * MS, Verdict::Lost),
        ]);
    }

    #[test]
    fn the_time_threshold_is_never_below_the_timers_resolution() {
        let t0 = Instant::now();
        let slot = sent(10, t0);
        let rtt = Duration::from_micros(100);
        let got = call_learner(move || judge(&slot, 11, t0, rtt));
        assert_eq!(got, Verdict::LostAt(t0 + MS), "{}", text("ch06w.lost_at"));
    }

    #[test]
    fn no_verdict_on_a_message_acknowledged_or_never_sent() {
        let t0 = Instant::now();
        let acked = Slot {
            acked: true,
            ..sent(10, t0)
        };
        check(vec![
            (sent(10, t0), 50, t0, Verdict::Lost),
            (acked, 50, t0, Verdict::NoEvidence),
            (Slot::default(), 50, t0, Verdict::NoEvidence),
        ]);
    }

    #[test]
    fn a_reported_gap_is_resent_before_its_timer() {
        // A timer of a minute: only the ACKs showing 3, 4 and 5 without 2 can bring 2
        // back within the test's 10 seconds.
        let script = sender::drop_data(Script::new(), &[2]);
        let timer = FixedTimer(Duration::from_secs(60));
        let (sent, _) = sender::send_through(script, 4, timer);
        assert_eq!(
            sent,
            sender::once_except(&[2]),
            "{}",
            text("ch06w.sends_per_message")
        );
    }
}

/// Exercise 6.6: `cargo test --test ch06_window recv_window::`
mod recv_window {
    use super::*;

    fn data(seq: u32) -> Packet {
        Packet::Data {
            session: S,
            seq,
            payload: format!("m{seq}").into_bytes(),
        }
    }

    fn payloads(seqs: &[u32]) -> Vec<Vec<u8>> {
        seqs.iter().map(|s| format!("m{s}").into_bytes()).collect()
    }

    /// Your window, behind the given `run_window_receiver` on `[::1]`, receives a transfer of
    /// the reference sender whole and in order.
    #[test]
    fn a_v6_transfer_is_delivered_whole_and_in_order() {
        if !V6.usable() {
            return;
        }
        let socket = net::udp_socket_on(V6);
        let to = socket.local_addr().unwrap();
        let receiving = start_learner(move || {
            let mut delivered = Vec::new();
            let result = run_window_receiver(&socket, 8, listen(100), |p| {
                delivered.push(p.to_vec());
                Ok(())
            });
            (result, delivered)
        });
        let sent = payloads(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        let sender = net::udp_socket_on(V6);
        let timer = &mut reference::FixedTimer(Duration::from_millis(100));
        let result = reference::send_window(&sender, to, SESSION, &sent, 4, timer, 10);
        let (received, delivered) = receiving.finish();
        received.or_fail("test.returned_error", &[("call", &"run_window_receiver")]);
        assert!(
            result.is_ok() && delivered == sent,
            "{}",
            fill("ch06.exactly_once_in_order", &[])
        );
    }

    /// After one packet: what was delivered, and the ACK.
    type AfterPacket = (Vec<Vec<u8>>, Ack);

    /// Feeds `packets` to a new receive window; returns, after each packet, what it delivered
    /// and the ACK it would send, and at the end whether it finished.
    fn feed(window: u16, packets: Vec<Packet>) -> (Vec<AfterPacket>, bool) {
        feed_session(SESSION, window, packets)
    }

    /// [`feed`], for a session of your choice.
    fn feed_session(
        session: Session,
        window: u16,
        packets: Vec<Packet>,
    ) -> (Vec<AfterPacket>, bool) {
        call_learner(move || {
            let mut state = RecvWindow::new(session, window);
            let steps = packets
                .into_iter()
                .map(|p| {
                    let delivered = state.on_packet(p);
                    (delivered, state.ack())
                })
                .collect();
            (steps, state.is_finished())
        })
    }

    #[test]
    fn messages_in_order_are_delivered_at_once() {
        let (steps, finished) = feed(
            8,
            vec![data(1), data(2), Packet::End { session: S, seq: 3 }],
        );
        assert_eq!(
            steps,
            [
                (payloads(&[1]), Ack::new(S, 2, 8)),
                (payloads(&[2]), Ack::new(S, 3, 8)),
                (vec![], Ack::new(S, 4, 8)),
            ]
        );
        assert!(finished, "{}", text("ch06w.end_reached"));
    }

    #[test]
    fn early_messages_wait_and_are_acknowledged_selectively() {
        let (steps, _) = feed(8, vec![data(3), data(2), data(1)]);
        assert_eq!(
            steps,
            [
                (vec![], ack(1, 8, &[3])),
                (vec![], ack(1, 8, &[2, 3])),
                (payloads(&[1, 2, 3]), Ack::new(S, 4, 8)),
            ],
            "{}",
            text("ch06w.wait_for_one")
        );
    }

    #[test]
    fn duplicates_are_delivered_once() {
        let (steps, _) = feed(8, vec![data(1), data(1), data(3), data(3), data(2)]);
        let delivered: Vec<Vec<Vec<u8>>> = steps.into_iter().map(|(d, _)| d).collect();
        assert_eq!(
            delivered,
            [payloads(&[1]), vec![], vec![], vec![], payloads(&[2, 3])]
        );
    }

    #[test]
    fn messages_beyond_the_window_are_dropped() {
        // Window 4 from message 1: 1, 2, 3, 4. Message 5 is too far ahead.
        let (steps, _) = feed(4, vec![data(5), data(4), data(1), data(2), data(3)]);
        assert_eq!(
            steps[0],
            (vec![], Ack::new(S, 1, 4)),
            "{}",
            text("ch06w.outside")
        );
        assert_eq!(
            steps[1],
            (vec![], ack(1, 4, &[4])),
            "{}",
            text("ch06w.inside")
        );
        assert_eq!(steps[4].0, payloads(&[3, 4]), "{}", text("ch06w.fills_gap"));
        assert_eq!(steps[4].1, Ack::new(S, 5, 4));
    }

    #[test]
    fn an_early_end_finishes_only_when_the_gap_is_filled() {
        let (steps, finished) = feed(
            8,
            vec![Packet::End { session: S, seq: 3 }, data(2), data(1)],
        );
        assert_eq!(
            steps,
            [
                (vec![], ack(1, 8, &[3])),
                (vec![], ack(1, 8, &[2, 3])),
                (payloads(&[1, 2]), Ack::new(S, 4, 8)),
            ]
        );
        assert!(finished);
    }

    #[test]
    fn nothing_after_end_is_delivered() {
        let (steps, finished) = feed(
            8,
            vec![
                Packet::End { session: S, seq: 3 },
                data(4),
                Packet::End { session: S, seq: 5 },
                data(1),
                data(2),
                data(3),
            ],
        );
        let delivered: Vec<Vec<u8>> = steps.iter().flat_map(|(d, _)| d.clone()).collect();
        assert_eq!(delivered, payloads(&[1, 2]), "{}", text("ch06w.after_end"));
        assert_eq!(steps[5].1, Ack::new(S, 4, 8));
        assert!(finished);
    }

    #[test]
    fn acks_sent_to_a_receiver_change_nothing() {
        let (steps, _) = feed(8, vec![Packet::Ack(Ack::new(S, 7, 8)), data(1)]);
        assert_eq!(
            steps,
            [
                (vec![], Ack::new(S, 1, 8)),
                (payloads(&[1]), Ack::new(S, 2, 8))
            ]
        );
    }

    #[test]
    fn packets_of_another_session_are_ignored() {
        // From the sender's address, with the right numbers, but not the session's id.
        let other = S ^ 1;
        let forged = |seq: u32| Packet::Data {
            session: other,
            seq,
            payload: b"INJECTED".to_vec(),
        };
        let (steps, finished) = feed(
            8,
            vec![
                data(1),
                forged(2),
                Packet::End {
                    session: other,
                    seq: 2,
                },
                forged(3),
                data(2),
            ],
        );
        let delivered: Vec<Vec<u8>> = steps.iter().flat_map(|(d, _)| d.clone()).collect();
        assert_eq!(
            delivered,
            payloads(&[1, 2]),
            "{}",
            text("ch06w.other_session_data")
        );
        assert!(!finished, "{}", text("ch06w.other_session_data"));
        assert_eq!(
            steps[3].1,
            Ack::new(S, 2, 8),
            "{}",
            text("ch06w.other_session_data")
        );
    }

    #[test]
    fn numbers_wrap_past_u32_max() {
        let first = u32::MAX - 2;
        let wrapping = Session {
            id: S,
            first_seq: first,
        };
        let named = |seq: u32| Packet::Data {
            session: S,
            seq,
            payload: format!("m{seq}").into_bytes(),
        };
        let (steps, finished) = feed_session(
            wrapping,
            8,
            vec![
                named(first),
                named(0),
                named(u32::MAX),
                named(u32::MAX - 1),
                Packet::End { session: S, seq: 1 },
            ],
        );
        let delivered: Vec<Vec<u8>> = steps.iter().flat_map(|(d, _)| d.clone()).collect();
        let order = [first, u32::MAX - 1, u32::MAX, 0];
        assert_eq!(delivered, payloads(&order), "{}", text("ch06w.wrap"));
        let mut early = Ack::new(S, u32::MAX - 1, 8);
        early.mark(0);
        early.mark(u32::MAX);
        assert_eq!(steps[2].1, early, "{}", text("ch06w.wrap"));
        assert_eq!(steps[4].1, Ack::new(S, 2, 8), "{}", text("ch06w.wrap"));
        assert!(finished, "{}", text("ch06w.wrap"));
    }

    #[test]
    fn a_flood_of_future_messages_cannot_grow_the_buffer() {
        let buffered = call_learner(|| {
            let mut state = RecvWindow::new(SESSION, 8);
            for seq in 2..20_000 {
                let _ = state.on_packet(data(seq));
            }
            state.buffered()
        });
        assert!(
            buffered <= 7,
            "{}",
            fill("ch06w.buffered", &[("buffered", &buffered)])
        );
    }
}

/// Exercise 6.7, with `soak::`, `versions::` and `programs::`:
/// `cargo test --test ch06_window -- sender:: soak:: versions:: programs::`
mod sender {
    use super::*;

    /// Long enough that, on a loaded machine, no timer runs out unless a datagram was lost.
    const TIMEOUT: Duration = Duration::from_millis(250);
    const TEN: u32 = 10;

    fn payloads(n: u32) -> Vec<Vec<u8>> {
        (1..=n).map(|i| format!("m{i}").into_bytes()).collect()
    }

    fn data_bytes(seq: u32) -> Vec<u8> {
        reference::Packet::Data {
            session: S,
            seq,
            payload: format!("m{seq}").into_bytes(),
        }
        .encode()
    }

    /// What the reference receiver has delivered so far.
    type Delivered = Arc<Mutex<Vec<Vec<u8>>>>;

    /// The reference window receiver in the background, on the loopback address of `family`.
    /// Once your sender has the ACK of END, everything was delivered: the test need not wait
    /// for the receiver's linger.
    fn reference_receiver_on(window: u16, family: Family) -> (SocketAddr, Delivered) {
        let socket = net::udp_socket_on(family);
        let addr = socket.local_addr().unwrap();
        let delivered = Delivered::default();
        let shared = Arc::clone(&delivered);
        thread::spawn(move || {
            let listen = reference::Listen {
                from: None,
                idle_timeout: Some(Duration::from_secs(10)),
                linger: Duration::from_millis(500),
            };
            let _ = reference::run_window_receiver(&socket, window, listen, |p| {
                shared.lock().unwrap().push(p.to_vec());
                Ok(())
            });
        });
        (addr, delivered)
    }

    /// Sends 10 payloads with your sender (window `window`) through a relay with `script` to the
    /// reference receiver (window 64); checks delivery; returns how often each was sent.
    pub(super) fn send_through(
        script: Script,
        window: u16,
        timer: impl RetransmitTimer + Send + 'static,
    ) -> (Vec<u32>, Relay) {
        send_through_on(script, window, timer, V4)
    }

    /// [`send_through`] with the receiver, the relay and your socket on `family`.
    fn send_through_on(
        script: Script,
        window: u16,
        timer: impl RetransmitTimer + Send + 'static,
        family: Family,
    ) -> (Vec<u32>, Relay) {
        let (receiver, delivered) = reference_receiver_on(64, family);
        let relay =
            Relay::start(family.any_port(), RelayConfig::new(receiver).script(script)).unwrap();
        let to = relay.addr();
        let sent = payloads(TEN);
        let socket = net::udp_socket_on(family);
        let mut timer = timer;
        let result =
            call_learner(move || send_window(&socket, to, SESSION, &sent, window, &mut timer, 10));
        let report = match result {
            Ok(report) => report,
            Err(e) => fail_with_diagram(
                &relay,
                &fill("test.returned_error", &[("call", &"send_window")]),
                &[("error", format!("{e:?}"))],
            ),
        };
        let got = delivered.lock().unwrap().clone();
        if got != payloads(TEN) {
            fail_with_diagram(
                &relay,
                &fill("ch06.exactly_once_in_order", &[]),
                &[("delivered", format!("{:?}", texts(&got)))],
            );
        }
        (report.transmissions, relay)
    }

    fn texts(payloads: &[Vec<u8>]) -> Vec<String> {
        payloads
            .iter()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect()
    }

    /// Expected transmissions: once each (DATA 1-10 and END 11), except `twice`.
    pub(super) fn once_except(twice: &[u32]) -> Vec<u32> {
        (1..=TEN + 1)
            .map(|seq| if twice.contains(&seq) { 2 } else { 1 })
            .collect()
    }

    pub(super) fn drop_data(script: Script, seqs: &[u32]) -> Script {
        seqs.iter().fold(script, |s, &seq| {
            s.drop_bytes(Direction::ToServer, &data_bytes(seq), 1)
        })
    }

    #[test]
    fn without_loss_each_message_is_sent_once() {
        let (sent, _) = send_through(Script::new(), 4, FixedTimer(TIMEOUT));
        assert_eq!(
            sent,
            once_except(&[]),
            "{}",
            text("ch06w.sends_per_message")
        );
    }

    #[test]
    fn the_first_of_a_window_lost_is_sent_again_alone() {
        // After the ACK of 1, the window holds 2-5: lose 2.
        let (sent, _) = send_through(drop_data(Script::new(), &[2]), 4, FixedTimer(TIMEOUT));
        assert_eq!(sent, once_except(&[2]));
    }

    #[test]
    fn over_v6_a_lost_message_is_sent_again_alone() {
        if !V6.usable() {
            return;
        }
        let script = drop_data(Script::new(), &[2]);
        let (sent, _) = send_through_on(script, 4, FixedTimer(TIMEOUT), V6);
        assert_eq!(sent, once_except(&[2]));
    }

    #[test]
    fn the_last_of_a_window_lost_is_sent_again_alone() {
        let (sent, _) = send_through(drop_data(Script::new(), &[5]), 4, FixedTimer(TIMEOUT));
        assert_eq!(sent, once_except(&[5]));
    }

    #[test]
    fn a_window_sized_burst_lost_is_sent_again_once_each() {
        let script = drop_data(Script::new(), &[2, 3, 4, 5]);
        let (sent, _) = send_through(script, 4, FixedTimer(TIMEOUT));
        assert_eq!(sent, once_except(&[2, 3, 4, 5]));
    }

    #[test]
    fn a_lost_ack_with_nothing_else_in_flight_means_a_resend() {
        // The first ACK answers DATA 1, alone in flight (the receiver has not spoken yet).
        let script = Script::new().drop_nth(Direction::ToClient, 1);
        let (sent, _) = send_through(script, 4, FixedTimer(TIMEOUT));
        assert_eq!(sent, once_except(&[1]));
    }

    #[test]
    fn a_lost_ack_of_end_means_end_is_sent_again() {
        // Window 1, so that this ACK answers END alone (with a wider window it could also be
        // the only ACK of the last DATA, which would then be the one resent).
        let end_ack = reference::Packet::Ack(reference::Ack::new(S, TEN + 2, 64)).encode();
        let script = Script::new().drop_bytes(Direction::ToClient, &end_ack, 1);
        let (sent, _) = send_through(script, 1, FixedTimer(TIMEOUT));
        assert_eq!(sent, once_except(&[TEN + 1]));
    }

    #[test]
    fn reordering_inside_the_window_costs_nothing() {
        // DATA 3 is held back until DATA 4 has passed it.
        let script = Script::new().rule(
            Direction::ToServer,
            Which::Bytes(data_bytes(3), 1),
            Fate::now(Action::Reorder),
        );
        let (sent, relay) = send_through(script, 4, FixedTimer(TIMEOUT));
        assert_eq!(sent, once_except(&[]));
        assert_eq!(
            relay.stats().to_server.reordered,
            1,
            "test setup: 3 was reordered"
        );
    }

    #[test]
    fn duplicated_data_and_acks_cost_nothing() {
        let script = Script::new()
            .rule(
                Direction::ToServer,
                Which::Bytes(data_bytes(3), 1),
                Fate::now(Action::Duplicate),
            )
            .duplicate_nth(Direction::ToClient, 1)
            .duplicate_nth(Direction::ToClient, 2);
        let (sent, _) = send_through(script, 4, FixedTimer(TIMEOUT));
        assert_eq!(sent, once_except(&[]));
    }

    #[test]
    fn window_one_is_stop_and_wait() {
        let (sent, relay) = send_through(Script::new(), 1, FixedTimer(TIMEOUT));
        assert_eq!(sent, once_except(&[]));
        let directions: Vec<Direction> = relay.log().iter().map(|e| e.direction).collect();
        let alternating = directions.iter().enumerate().all(|(i, d)| {
            *d == if i % 2 == 0 {
                Direction::ToServer
            } else {
                Direction::ToClient
            }
        });
        if !alternating {
            fail_with_diagram(&relay, &fill("ch06w.stop_and_wait", &[]), &[]);
        }
    }

    /// The test plays the receiver: it answers with hand-made ACKs.
    struct HandReceiver {
        exchange: Exchange,
        peer: Peer,
    }

    impl HandReceiver {
        fn new() -> Self {
            let exchange = Exchange::new();
            let peer = Peer::new(&exchange, "test receiver");
            HandReceiver { exchange, peer }
        }

        /// Receives `n` datagrams; returns the DATA/END numbers, in arrival order.
        fn expect(
            &self,
            n: usize,
            learner: &mut course_harness::Running<Result<reference::Report, SendError>>,
        ) -> (Vec<u32>, SocketAddr) {
            let mut seqs = Vec::new();
            let mut from = None;
            while seqs.len() < n {
                match self.peer.recv_checking(|| learner.check()) {
                    Ok((bytes, addr)) => {
                        from = Some(addr);
                        match reference::Packet::decode(&bytes) {
                            Ok(
                                reference::Packet::Data { seq, .. }
                                | reference::Packet::End { seq, .. },
                            ) => seqs.push(seq),
                            other => self.fail(&fill("ch06w.not_data", &[]), format!("{other:?}")),
                        }
                    }
                    Err(e) => self.fail(
                        &fill(
                            "ch06w.expected_n",
                            &[("n", &n), ("got", &format!("{seqs:?}"))],
                        ),
                        e.to_string(),
                    ),
                }
            }
            (seqs, from.unwrap())
        }

        /// Checks that nothing comes for `wait`.
        fn expect_silence(&self, wait: Duration) {
            self.peer.socket().set_read_timeout(Some(wait)).unwrap();
            let got = self.peer.recv();
            self.peer
                .socket()
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            if let Ok((bytes, _)) = got {
                self.fail(
                    &fill("ch06w.beyond_window", &[]),
                    format!("{:?}", reference::Packet::decode(&bytes)),
                );
            }
        }

        fn answer(&self, ack: reference::Ack, to: SocketAddr) {
            self.peer.send_to(&reference::Packet::Ack(ack).encode(), to);
        }

        #[track_caller]
        fn fail(&self, headline: &str, got: String) -> ! {
            Report::new(headline)
                .line("got", got)
                .exchange(&self.exchange)
                .fail()
        }
    }

    fn start(
        to: SocketAddr,
        n: u32,
        window: u16,
    ) -> course_harness::Running<Result<reference::Report, SendError>> {
        let socket = net::udp_socket();
        start_learner(move || {
            send_window(
                &socket,
                to,
                SESSION,
                &payloads(n),
                window,
                &mut FixedTimer(Duration::from_secs(3)),
                5,
            )
            .map(|r| reference::Report {
                transmissions: r.transmissions,
                ignored_acks: r.ignored_acks,
            })
        })
    }

    #[test]
    fn one_cumulative_ack_covers_the_acks_that_were_lost() {
        let receiver = HandReceiver::new();
        let mut learner = start(receiver.peer.addr(), 8, 4);
        let (first, from) = receiver.expect(1, &mut learner);
        assert_eq!(first, [1]);
        receiver.answer(reference::Ack::new(S, 2, 4), from);
        let (window, _) = receiver.expect(4, &mut learner);
        assert_eq!(window, [2, 3, 4, 5]);
        // The ACKs of 2, 3 and 4 "were lost": only one ACK, for everything up to 5.
        receiver.answer(reference::Ack::new(S, 6, 4), from);
        let (next, _) = receiver.expect(4, &mut learner);
        assert_eq!(next, [6, 7, 8, 9], "{}", text("ch06w.move_on"));
        receiver.answer(reference::Ack::new(S, 10, 4), from);
        let report = learner
            .finish()
            .or_fail("test.returned_error", &[("call", &"send_window")]);
        assert_eq!(report.transmissions, [1; 9]);
    }

    #[test]
    fn the_sender_never_goes_beyond_the_receivers_window() {
        let receiver = HandReceiver::new();
        let mut learner = start(receiver.peer.addr(), 4, 8);
        let (first, from) = receiver.expect(1, &mut learner);
        assert_eq!(first, [1]);
        receiver.answer(reference::Ack::new(S, 2, 2), from);
        let (two, _) = receiver.expect(2, &mut learner);
        assert_eq!(two, [2, 3], "{}", text("ch06w.their_window"));
        receiver.expect_silence(Duration::from_millis(300));
        receiver.answer(reference::Ack::new(S, 4, 2), from);
        let (rest, _) = receiver.expect(2, &mut learner);
        assert_eq!(rest, [4, 5], "{}", text("ch06w.data4_end5"));
        receiver.answer(reference::Ack::new(S, 6, 2), from);
        learner
            .finish()
            .or_fail("test.returned_error", &[("call", &"send_window")]);
    }

    /// A timer that records what the sender tells it.
    struct Spy(Arc<Mutex<Vec<&'static str>>>);

    impl RetransmitTimer for Spy {
        fn timeout(&self) -> Duration {
            TIMEOUT
        }
        fn on_ack(&mut self, _rtt: Option<Duration>) {
            self.0.lock().unwrap().push("ack");
        }
        fn on_timeout(&mut self) {
            self.0.lock().unwrap().push("timeout");
        }
    }

    /// `lost`: DATA lost once; `probe_lost`: DATA lost a second time too (the probe).
    #[rstest]
    #[case::one_lost_while_acks_come(&[3], &[], 0)]
    #[case::a_whole_window_lost_then_its_probe_answered(&[2, 3, 4, 5], &[], 0)]
    #[case::a_whole_window_lost_and_its_probe_too(&[2, 3, 4, 5], &[2, 3], 1)]
    fn the_timer_backs_off_only_after_a_probe_got_no_ack(
        #[case] lost: &[u32],
        #[case] probe_lost: &[u32],
        #[case] backoffs: usize,
    ) {
        let events = Arc::new(Mutex::new(Vec::new()));
        let script = probe_lost
            .iter()
            .fold(drop_data(Script::new(), lost), |s, &seq| {
                s.drop_bytes(Direction::ToServer, &data_bytes(seq), 2)
            });
        let (sent, _) = send_through(script, 4, Spy(Arc::clone(&events)));
        let mut expected = once_except(lost);
        for &seq in probe_lost {
            expected[seq as usize - 1] += 1;
        }
        assert_eq!(sent, expected);
        let timeouts = events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| **e == "timeout")
            .count();
        assert_eq!(
            timeouts,
            backoffs,
            "{}",
            fill(
                "ch06w.timeouts_with",
                &[
                    ("lost", &format!("{lost:?}")),
                    ("events", &format!("{:?}", events.lock().unwrap()))
                ]
            )
        );
    }

    /// An ACK that acknowledges nothing new (the answer to a copy) is no sign that the
    /// messages still waiting got through: it must not stop the back-off. Otherwise a
    /// timeout shorter than the round trip never grows: every message goes twice, every
    /// copy is answered, and those answers keep the timeout short.
    #[test]
    fn an_ack_of_nothing_new_does_not_stop_the_back_off() {
        let receiver = HandReceiver::new();
        let events = Arc::new(Mutex::new(Vec::new()));
        let mut spy = Spy(Arc::clone(&events));
        let socket = net::udp_socket();
        let to = receiver.peer.addr();
        let mut learner = start_learner(move || {
            send_window(&socket, to, SESSION, &payloads(2), 4, &mut spy, 5).map(|r| {
                reference::Report {
                    transmissions: r.transmissions,
                    ignored_acks: r.ignored_acks,
                }
            })
        });
        let (first, from) = receiver.expect(1, &mut learner);
        assert_eq!(first, [1]);
        receiver.answer(reference::Ack::new(S, 2, 4), from);
        let (window, _) = receiver.expect(2, &mut learner);
        assert_eq!(window, [2, 3], "{}", text("ch06w.data2_end3"));
        // The same ACK again, before either timer runs out: it acknowledges nothing new.
        receiver.answer(reference::Ack::new(S, 2, 4), from);
        // After the timeout, both go again: a probe of two datagrams (a tail loss probe: no
        // back-off yet).
        let (again, _) = receiver.expect(2, &mut learner);
        assert_eq!(again, [2, 3], "{}", text("ch06w.both_again"));
        // The same ACK once more: still nothing new. The probe's timeout must back off.
        receiver.answer(reference::Ack::new(S, 2, 4), from);
        let (again, _) = receiver.expect(2, &mut learner);
        assert_eq!(again, [2, 3], "{}", text("ch06w.both_again"));
        receiver.answer(reference::Ack::new(S, 4, 4), from);
        learner
            .finish()
            .or_fail("test.returned_error", &[("call", &"send_window")]);
        let events = events.lock().unwrap();
        let timeouts = events.iter().filter(|e| **e == "timeout").count();
        assert_eq!(
            timeouts,
            1,
            "{}",
            fill(
                "ch06w.timeouts_nothing_new",
                &[("events", &format!("{events:?}"))]
            )
        );
    }

    #[test]
    fn a_peer_that_never_answers_is_given_up_after_the_tries() {
        let gone = net::udp_socket().local_addr().unwrap();
        let relay = Relay::start(loopback(), RelayConfig::new(gone)).unwrap();
        let to = relay.addr();
        let socket = net::udp_socket();
        let result = call_learner(move || {
            send_window(
                &socket,
                to,
                SESSION,
                &payloads(3),
                4,
                &mut FixedTimer(40 * MS),
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
            send_window(
                &socket,
                gone,
                SESSION,
                &payloads(3),
                4,
                &mut FixedTimer(40 * MS),
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
            send_window(
                &socket,
                to,
                SESSION,
                &payloads,
                4,
                &mut FixedTimer(40 * MS),
                3,
            )
        });
        assert!(
            matches!(result, Err(SendError::TooLong { index: 1, len }) if len == MAX_PAYLOAD + 1),
            "{result:?}"
        );
        watcher.socket().set_read_timeout(Some(100 * MS)).unwrap();
        assert!(watcher.recv().is_err(), "{}", text("test.nothing_sent"));
    }
}

/// Your window sender and your window receiver together, through a seeded lossy relay that
/// also duplicates and reorders: `cargo test --test ch06_window soak::`
mod soak {
    use super::*;

    #[rstest]
    #[case::no_loss(0.0, 0.0, 1)]
    #[case::ten_percent_with_dups_and_reordering(0.1, 0.05, 2)]
    #[case::thirty_percent(0.3, 0.0, 3)]
    #[case::thirty_percent_another_seed(0.3, 0.05, 4)]
    fn every_message_arrives_exactly_once_and_in_order(
        #[case] loss: f64,
        #[case] dup_and_reorder: f64,
        #[case] seed: u64,
    ) {
        let socket = net::udp_socket();
        let receiver_addr = socket.local_addr().unwrap();
        let receiving = start_learner(move || {
            let mut delivered = Vec::new();
            // A linger of 150 ms: three of the sender's longest timeouts.
            let result = run_window_receiver(&socket, 64, listen(150), |p| {
                delivered.push(p.to_vec());
                Ok(())
            });
            (result, delivered)
        });
        let rates = Rates {
            loss,
            dup: dup_and_reorder,
            reorder: dup_and_reorder,
            seed,
            ..Rates::default()
        };
        let relay = Relay::start(loopback(), RelayConfig::new(receiver_addr).rates(rates)).unwrap();
        let to = relay.addr();
        let payloads: Vec<Vec<u8>> = (0..300u32)
            .map(|i| noise(i, 1 + (i as usize * 37) % MAX_PAYLOAD))
            .collect();
        let sent = payloads.clone();
        let sender = net::udp_socket();
        let result = call_learner_within(Duration::from_secs(20), move || {
            send_window(
                &sender,
                to,
                SESSION,
                &sent,
                32,
                // Shorter than the defaults (10 ms to 500 ms), so that the soak waits less;
                // the programs' tests below copy with the defaults.
                &mut Rto::new(RtoConfig {
                    initial: Duration::from_millis(10),
                    min: Duration::from_millis(5),
                    max: Duration::from_millis(50),
                }),
                30,
            )
        });
        if let Err(e) = result {
            fail_with_diagram(
                &relay,
                &fill("test.returned_error", &[("call", &"send_window")]),
                &[("error", format!("{e:?}"))],
            );
        }
        let (received, delivered) = receiving.finish();
        received.or_fail("test.returned_error", &[("call", &"run_window_receiver")]);
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

/// The two protocols tell each other apart: `cargo test --test ch06_window versions::`
mod versions {
    use super::*;

    #[test]
    fn a_stop_and_wait_receiver_rejects_window_messages_by_their_version() {
        // Your decoder from exercise 6.1 sees version 2 in the high bits of the kind byte.
        let bytes = reference::Packet::End { session: S, seq: 3 }.encode();
        let got = call_learner(move || Message::decode(&bytes));
        assert_eq!(got, Err(DecodeError::UnknownKind(0x23)));
    }
}

/// The programs with their defaults: `cargo test --test ch06_window programs::`
mod programs {
    use super::*;

    fn receiver_program(out: &std::path::Path) -> (ChildGuard, SocketAddr) {
        let mut command = Command::new(course_harness::program!("reliable-recv"));
        // The linger restarts at every datagram, so it must outlast the gap between two
        // copies of a resent END: the sender's longest timeout with the defaults, 500 ms, plus
        // room for a loaded machine. At 400 ms a loaded run saw the receiver leave while the
        // sender still waited for the ACK of its END.
        command.args(["--bind", "127.0.0.1:0", "--linger-ms", "1500"]);
        let mut child = ChildGuard::spawn_with_stdout(
            command,
            Stdio::from(std::fs::File::create(out).unwrap()),
        );
        let addr = child.listening_addr();
        (child, addr)
    }

    #[rstest]
    #[case::seed_11(11)]
    #[case::seed_12(12)]
    #[case::seed_13(13)]
    fn a_64_kib_file_is_copied_byte_exact_through_30_percent_loss_with_the_defaults(
        #[case] seed: u64,
    ) {
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
        let mut command = Command::new(course_harness::program!("reliable-send"));
        command.args(["--server", &relay_addr.to_string()]);
        let mut sender = ChildGuard::spawn(command);
        sender.write_stdin_bytes(&data);
        sender.close_stdin();
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
    fn the_copy_is_complete_on_disk_before_the_receiver_exits() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("copy.bin");
        // A linger of a minute: the receiver is still running when the copy must be whole.
        let mut command = Command::new(course_harness::program!("reliable-recv"));
        command.args(["--bind", "127.0.0.1:0", "--linger-ms", "60000"]);
        let mut receiver = ChildGuard::spawn_with_stdout(
            command,
            Stdio::from(std::fs::File::create(&out).unwrap()),
        );
        let addr = receiver.listening_addr();
        let mut relay = Command::new(course_harness::program!("lossy-relay"));
        let addr = addr.to_string();
        relay.args(["--bind", "127.0.0.1:0", "--server", &addr, "--loss", "0.3"]);
        let mut relay = ChildGuard::spawn(relay);
        let relay_addr = relay.listening_addr();
        // Binary data that ends without a newline, as most files do.
        let mut data = noise(29, 64 * 1024);
        data.extend_from_slice(b"no newline at the end");
        let mut command = Command::new(course_harness::program!("reliable-send"));
        command.args(["--server", &relay_addr.to_string()]);
        let mut sender = ChildGuard::spawn(command);
        sender.write_stdin_bytes(&data);
        sender.close_stdin();
        let sent = sender.wait_exit_while_running(&mut receiver, Duration::from_secs(10));
        assert!(
            sent.status.success(),
            "{}",
            fill(
                "test.exited",
                &[("name", &"reliable-send"), ("exited", &format!("{sent:?}"))]
            )
        );
        // The sender has the ACK of END: everything was delivered. The file must say so
        // soon, while the receiver still lingers.
        let until = Instant::now() + Duration::from_secs(5);
        let mut copy = std::fs::read(&out).unwrap();
        while copy != data && Instant::now() < until {
            thread::sleep(10 * MS); // polling a file: there is no event to wait for
            copy = std::fs::read(&out).unwrap();
        }
        receiver.assert_running();
        assert!(
            copy == data,
            "{}",
            fill(
                "ch06w.complete_before_exit",
                &[("sent", &data.len()), ("received", &copy.len())]
            )
        );
    }

    #[test]
    fn a_stop_and_wait_sender_is_told_off_and_the_transfer_still_works() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("copy.bin");
        let (mut receiver, addr) = receiver_program(&out);
        // A stop-and-wait DATA 1 first: reliable-recv names the protocol mismatch.
        let stranger = net::udp_socket();
        stranger
            .send_to(&hex("01 5e551011 00000001 0002 6869"), addr)
            .unwrap();
        let mut command = Command::new(course_harness::program!("reliable-send"));
        command.args(["--server", &addr.to_string()]);
        let mut sender = ChildGuard::spawn(command);
        sender.write_stdin_bytes(b"window protocol");
        sender.close_stdin();
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
            received.stderr.iter().any(|l| l.contains("stop-and-wait")),
            "{}",
            fill(
                "ch06w.names_stop_and_wait",
                &[("received", &format!("{received:?}"))]
            )
        );
        assert_eq!(std::fs::read(&out).unwrap(), b"window protocol");
    }
}
