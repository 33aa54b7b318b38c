//! Chapter 10's DTLS demonstration (examples/ch10_dtls.rs), checked: the handshake
//! completes over real UDP sockets with a cookie exchange, a lost datagram of the
//! handshake is resent, each message is delivered once, and a replayed datagram is
//! dropped. Not a chapter test: the learner writes no DTLS code. It needs the feature
//! `dtls` (`cargo test --features dtls --test dtls_demo`).

#[allow(dead_code)]
#[path = "../examples/ch10_dtls.rs"]
mod demo;

fn shown(report: &demo::Report) -> String {
    report.lines.join("\n")
}

#[test]
fn the_handshake_completes_with_a_cookie_and_resends_the_lost_flight() {
    let report = demo::run(true);
    assert!(report.connected, "no handshake:\n{}", shown(&report));
    assert!(
        report.cookie_exchange,
        "no cookie exchange:\n{}",
        shown(&report)
    );
    assert!(
        report.lost_flight_resent,
        "nothing resent:\n{}",
        shown(&report)
    );
}

#[test]
fn each_message_is_delivered_once_and_the_replay_is_dropped() {
    let report = demo::run(true);
    let expected: Vec<Vec<u8>> = [&b"first"[..], b"second", b"third"]
        .iter()
        .map(|m| m.to_vec())
        .collect();
    assert_eq!(report.delivered, expected, "\n{}", shown(&report));
}

/// The check above catches a replay that skips the window: here the example's loop
/// hands the replayed datagram's message on without asking dimpl.
#[test]
fn a_replay_that_skips_the_window_is_seen_twice() {
    let report = demo::run(false);
    let firsts = report
        .delivered
        .iter()
        .filter(|m| m.as_slice() == b"first")
        .count();
    assert_eq!(firsts, 2, "\n{}", shown(&report));
}
