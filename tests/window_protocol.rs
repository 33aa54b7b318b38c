//! The window protocol's header (given code, the same in `exercises` and `solutions`, so its
//! tests cannot live in a chapter file) and the programs' `--window` checks.
//! Hex literals follow the diagram in `given/src/window_header.rs`.

mod support;

use std::time::Duration;

use rstest::rstest;
use solutions::ch06_reliability::{Ack, Kind, MAX_PAYLOAD, Packet, PacketError};
use support::hex;

fn ack(cumulative: u32, window: u16, selective: &[u32]) -> Ack {
    let mut ack = Ack::new(cumulative, window);
    for &seq in selective {
        assert!(ack.mark(seq));
    }
    ack
}

#[rstest]
#[case::data(Packet::Data { seq: 1, payload: b"hi".to_vec() }, "11 00000001 0000 0002 6869")]
#[case::end(Packet::End { seq: 0x0102_0304 }, "13 01020304 0000 0000")]
#[case::plain_ack(Packet::Ack(Ack::new(5, 64)), "12 00000005 0040 0000")]
#[case::selective(Packet::Ack(ack(5, 64, &[6, 8])), "12 00000005 0040 0001 05")]
#[case::far_bit(Packet::Ack(ack(5, 256, &[14])), "12 00000005 0100 0002 0001")]
#[case::last_bit(Packet::Ack(ack(0, 256, &[256])), "12 00000000 0100 0020 0000000000000000 0000000000000000 0000000000000000 0000000000000080")]
fn packets_encode_to_the_documented_bytes_and_back(#[case] packet: Packet, #[case] bytes: &str) {
    assert_eq!(packet.encode(), hex(bytes), "encode");
    assert_eq!(Packet::decode(&hex(bytes)), Ok(packet), "decode");
}

#[rstest]
#[case::empty("", PacketError::Truncated(0))]
#[case::one_short("11 00000001 0000 00", PacketError::Truncated(8))]
#[case::stop_and_wait_data("01 00000001 0000 0000", PacketError::StopAndWait)]
#[case::stop_and_wait_ack("02 00000001 0000 0000", PacketError::StopAndWait)]
#[case::version_two("21 00000001 0000 0000", PacketError::UnknownVersion(2))]
#[case::kind_zero("10 00000001 0000 0000", PacketError::UnknownKind(0))]
#[case::kind_four("14 00000001 0000 0000", PacketError::UnknownKind(4))]
#[case::length_says_more("11 00000001 0000 0005 6869", PacketError::LengthMismatch { declared: 5, actual: 2 })]
#[case::end_with_payload("13 00000001 0000 0001 00", PacketError::UnexpectedPayload(Kind::End))]
#[case::data_with_window("11 00000001 0001 0000", PacketError::BadWindow(1))]
#[case::ack_window_zero("12 00000001 0000 0000", PacketError::BadWindow(0))]
#[case::ack_window_too_big("12 00000001 0101 0000", PacketError::BadWindow(257))]
#[case::bitmap_too_long(
    "12 00000001 0040 0021 000000000000000000000000000000000000000000000000000000000000000000",
    PacketError::PayloadTooLong(33)
)]
fn malformed_bytes_are_errors(#[case] bytes: &str, #[case] expected: PacketError) {
    assert_eq!(Packet::decode(&hex(bytes)), Err(expected));
}

#[test]
fn a_data_payload_over_the_limit_is_an_error() {
    let mut bytes = hex("11 00000001 0000 0401");
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
            *first = 0x10 | (*first % 4); // mostly version 1, so the later checks are reached
        }
        let _ = Packet::decode(&bytes);
    }
}

#[test]
fn an_ack_marks_only_the_256_messages_after_cumulative() {
    let mut ack = Ack::new(10, 64);
    assert!(!ack.mark(10), "cumulative itself has not arrived");
    assert!(!ack.mark(9));
    assert!(!ack.mark(267));
    assert!(ack.mark(266));
    assert!(ack.acknowledges(9) && !ack.acknowledges(10) && ack.acknowledges(266));
    assert_eq!(ack.selective().collect::<Vec<_>>(), [266]);
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
