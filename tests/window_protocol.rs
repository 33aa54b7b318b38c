//! The window protocol's header (given code, the same in `exercises` and `solutions`, so its
//! tests cannot live in a chapter file) and the programs' `--window` checks.
//! Hex literals follow the diagram in `given/src/window_header.rs`.

mod support;

use std::time::Duration;

use rstest::rstest;
use solutions::ch06_reliability::{Ack, Kind, MAX_PAYLOAD, Packet, PacketError};
use support::hex;

/// The session id of the tests' packets.
const S: u32 = 0x5e55_1011;

fn ack(cumulative: u32, window: u16, selective: &[u32]) -> Ack {
    let mut ack = Ack::new(S, cumulative, window);
    for &seq in selective {
        assert!(ack.mark(seq));
    }
    ack
}

#[rstest]
#[case::data(Packet::Data { session: S, seq: 1, payload: b"hi".to_vec() }, "21 5e551011 00000001 0000 0002 6869")]
#[case::end(Packet::End { session: S, seq: 0x0102_0304 }, "23 5e551011 01020304 0000 0000")]
#[case::plain_ack(Packet::Ack(Ack::new(S, 5, 64)), "22 5e551011 00000005 0040 0000")]
#[case::selective(Packet::Ack(ack(5, 64, &[6, 8])), "22 5e551011 00000005 0040 0001 05")]
#[case::far_bit(Packet::Ack(ack(5, 256, &[14])), "22 5e551011 00000005 0100 0002 0001")]
#[case::last_bit(Packet::Ack(ack(0, 256, &[256])), "22 5e551011 00000000 0100 0020 0000000000000000 0000000000000000 0000000000000000 0000000000000080")]
fn packets_encode_to_the_documented_bytes_and_back(#[case] packet: Packet, #[case] bytes: &str) {
    assert_eq!(packet.encode(), hex(bytes), "encode");
    assert_eq!(Packet::decode(&hex(bytes)), Ok(packet), "decode");
}

#[rstest]
#[case::empty("", PacketError::Truncated(0))]
#[case::one_short("21 5e551011 00000001 0000 00", PacketError::Truncated(12))]
#[case::stop_and_wait_data("01 5e551011 00000001 0000 0000", PacketError::StopAndWait)]
#[case::stop_and_wait_ack("02 5e551011 00000001 0000 0000", PacketError::StopAndWait)]
#[case::version_one_without_a_session("11 00000001 0040 0000 00000000", PacketError::Version1)]
#[case::version_three("31 5e551011 00000001 0000 0000", PacketError::UnknownVersion(3))]
#[case::kind_zero("20 5e551011 00000001 0000 0000", PacketError::UnknownKind(0))]
#[case::kind_four("24 5e551011 00000001 0000 0000", PacketError::UnknownKind(4))]
#[case::length_says_more("21 5e551011 00000001 0000 0005 6869", PacketError::LengthMismatch { declared: 5, actual: 2 })]
#[case::end_with_payload(
    "23 5e551011 00000001 0000 0001 00",
    PacketError::UnexpectedPayload(Kind::End)
)]
#[case::data_with_window("21 5e551011 00000001 0001 0000", PacketError::BadWindow(1))]
#[case::ack_window_zero("22 5e551011 00000001 0000 0000", PacketError::BadWindow(0))]
#[case::ack_window_too_big("22 5e551011 00000001 0101 0000", PacketError::BadWindow(257))]
#[case::bitmap_too_long(
    "22 5e551011 00000001 0040 0021 000000000000000000000000000000000000000000000000000000000000000000",
    PacketError::PayloadTooLong(33)
)]
fn malformed_bytes_are_errors(#[case] bytes: &str, #[case] expected: PacketError) {
    assert_eq!(Packet::decode(&hex(bytes)), Err(expected));
}

#[test]
fn a_data_payload_over_the_limit_is_an_error() {
    let mut bytes = hex("21 5e551011 00000001 0000 0401");
    bytes.extend(vec![0u8; MAX_PAYLOAD + 1]);
    assert_eq!(
        Packet::decode(&bytes),
        Err(PacketError::PayloadTooLong(MAX_PAYLOAD + 1))
    );
}

#[test]
fn random_inputs_never_panic() {
    for seed in 0..20_000u32 {
        let mut bytes = support::noise(seed, (seed % 60) as usize);
        if let Some(first) = bytes.first_mut() {
            *first = 0x20 | (*first % 4); // mostly version 2, so the later checks are reached
        }
        let _ = Packet::decode(&bytes);
    }
}

#[test]
fn an_ack_marks_only_the_256_messages_after_cumulative() {
    let mut ack = Ack::new(S, 10, 64);
    assert!(!ack.mark(10), "cumulative itself has not arrived");
    assert!(!ack.mark(9));
    assert!(!ack.mark(267));
    assert!(ack.mark(266));
    assert!(ack.acknowledges(9) && !ack.acknowledges(10) && ack.acknowledges(266));
    assert_eq!(ack.selective().collect::<Vec<_>>(), [266]);
}

#[test]
fn an_ack_counts_across_the_wrap() {
    // Cumulative 1 after the wrap: u32::MAX - 1, u32::MAX and 0 came before it.
    let mut ack = Ack::new(S, 1, 64);
    assert!(ack.mark(3));
    for seq in [u32::MAX - 1, u32::MAX, 0, 3] {
        assert!(ack.acknowledges(seq), "{seq}");
    }
    for seq in [1, 2, 4] {
        assert!(!ack.acknowledges(seq), "{seq}");
    }
    let mut near_the_end = Ack::new(S, u32::MAX, 64);
    assert!(
        near_the_end.mark(1),
        "message 1 is the second after u32::MAX"
    );
    assert_eq!(near_the_end.selective().collect::<Vec<_>>(), [1]);
}

#[rstest]
#[case::send_zero("reliable-send", &["--server", "127.0.0.1:9", "--window", "0"])]
#[case::send_too_big("reliable-send", &["--server", "127.0.0.1:9", "--window", "257"])]
#[case::recv_zero("reliable-recv", &["--bind", "127.0.0.1:0", "--window", "0"])]
fn a_window_outside_1_to_256_is_a_usage_error(#[case] program: &str, #[case] args: &[&str]) {
    let path = course_harness::program!(program);
    let output = assert_cmd::Command::new(path)
        .args(args)
        .write_stdin("")
        .timeout(Duration::from_secs(10))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
}
