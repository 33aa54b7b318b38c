//! Property tests: every function that parses network or user input gets arbitrary input
//! (never a panic) and every valid value survives a round trip; forged cookies and sealed
//! datagrams never open.
//!
//! They test the reference (`solutions::...` and the relay), whichever side the switch is on:
//! they are the course's own hardening, not an exercise. Debug build, overflow checks on, as
//! learners run them. Few cases by default (64 per property) to keep the suite fast; for a
//! longer run: `PROPTEST_CASES=100000 cargo test --test fuzz_parsers`.

use std::net::SocketAddr;
use std::time::Duration;

use lossy_relay::{Action, Direction, Fate, Script, Which};
use proptest::prelude::*;
use solutions::ch01_addresses::parse_addr;
use solutions::ch06_reliability::{Ack, Kind as RelKind, MAX_PAYLOAD, MAX_WINDOW, Message, Packet};
use solutions::ch07_security::{SealKey, open, open_datagram, seal};
use solutions::ch08_chat::cookie::CookieKey;
use solutions::ch08_chat::{ChatMessage, Kind, MAX_DATAGRAM, Payload, names, parse, validate_name};

/// 64 cases per property unless `PROPTEST_CASES` says otherwise.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Text made of the characters parsers care about, so that near-valid input is common.
fn addressish() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[\\[\\]:0-9a-fA-F.localhost%\\- ]{0,48}").unwrap()
}

fn key() -> fernet::Fernet {
    fernet::Fernet::new("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=").unwrap()
}

/// Base64url of arbitrary bytes that start like a Fernet token (version 0x80 and a timestamp),
/// often with an extreme timestamp: the MAC is wrong, so every one must be refused.
fn tokenish() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            Just(u64::MAX),
            Just(u64::MAX - 59),
            Just(0u64),
            any::<u64>()
        ],
        proptest::collection::vec(any::<u8>(), 0..120),
    )
        .prop_map(|(timestamp, rest)| {
            use base64::Engine;
            let mut bytes = vec![0x80];
            bytes.extend_from_slice(&timestamp.to_be_bytes());
            bytes.extend_from_slice(&rest);
            base64::engine::general_purpose::URL_SAFE.encode(bytes)
        })
}

const NOW: u64 = 1_763_798_400;

proptest! {
    #![proptest_config(config())]

    // ch01: address parsing.
    #[test]
    fn parse_addr_never_panics(text in addressish()) {
        let _ = parse_addr(&text);
    }

    #[test]
    fn parse_addr_never_panics_on_any_text(text in ".{0,64}") {
        let _ = parse_addr(&text);
    }

    #[test]
    fn every_socket_address_round_trips(addr in any::<SocketAddr>()) {
        // Scope ids and flow info are not part of the course's address syntax.
        let addr = match addr {
            SocketAddr::V6(v6) => SocketAddr::new((*v6.ip()).into(), v6.port()),
            v4 => v4,
        };
        prop_assert_eq!(parse_addr(&addr.to_string()), Ok(vec![addr]));
    }

    // ch06: the reliability header.
    #[test]
    fn header_decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..1100)) {
        let _ = Message::decode(&bytes);
    }

    #[test]
    fn every_message_round_trips(
        session in any::<u32>(),
        seq in any::<u32>(),
        kind in 0..3u8,
        payload in proptest::collection::vec(any::<u8>(), 0..=MAX_PAYLOAD),
    ) {
        let message = match kind {
            0 => Message::data(session, seq, &payload),
            1 => Message::ack(session, seq),
            _ => Message::end(session, seq),
        };
        prop_assert_eq!(Message::decode(&message.encode()), Ok(message.clone()));
        prop_assert!(message.kind != RelKind::Data || message.payload == payload);
    }

    // ch06: the window header (version 2: the session id) round-trips every field.
    #[test]
    fn every_window_packet_round_trips(
        session in any::<u32>(),
        number in any::<u32>(),
        kind in 0..3u8,
        window in 1..=MAX_WINDOW,
        marks in proptest::collection::vec(0..MAX_WINDOW as u32, 0..8),
        payload in proptest::collection::vec(any::<u8>(), 0..=MAX_PAYLOAD),
    ) {
        let packet = match kind {
            0 => Packet::Data { session, seq: number, payload },
            1 => {
                let mut ack = Ack::new(session, number, window);
                for k in marks {
                    ack.mark(number.wrapping_add(1 + k));
                }
                Packet::Ack(ack)
            }
            _ => Packet::End { session, seq: number },
        };
        let bytes = packet.encode();
        prop_assert_eq!(&bytes[1..5], &session.to_be_bytes()[..]);
        prop_assert_eq!(Packet::decode(&bytes), Ok(packet));
    }

    #[test]
    fn window_decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..1100)) {
        let _ = Packet::decode(&bytes);
    }

    // ch07: opening a token.
    #[test]
    fn open_never_panics_on_arbitrary_text(token in ".{0,200}", ttl in any::<u32>()) {
        let _ = open(&key(), &token, Duration::from_secs(ttl.into()), NOW);
    }

    #[test]
    fn open_refuses_forged_tokens_with_any_timestamp(token in tokenish()) {
        prop_assert!(open(&key(), &token, Duration::from_secs(60), NOW).is_err());
    }

    #[test]
    fn every_sealed_plaintext_opens(plaintext in proptest::collection::vec(any::<u8>(), 0..300)) {
        let token = seal(&key(), &plaintext, NOW);
        prop_assert_eq!(open(&key(), &token, Duration::from_secs(60), NOW), Ok(plaintext));
    }

    // ch08: the chat datagram.
    #[test]
    fn chat_parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2100)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn chat_parse_never_panics_on_near_valid_text(
        kind in "(msg|join|leave|ping|shout)",
        time in "[0-9-]{0,24}",
        name in ".{0,40}",
        text in ".{0,80}",
    ) {
        let _ = parse(format!("chat/1 {kind} {time} {name}\n{text}").as_bytes());
    }

    #[test]
    fn every_valid_chat_message_round_trips(
        kind in 0..4u8,
        timestamp_ms in any::<u64>(),
        name in "[^\\p{C}:*]{1,32}",
        text in ".{0,200}",
    ) {
        prop_assume!(validate_name(&name).is_ok());
        let kind = [Kind::Msg, Kind::Join, Kind::Leave, Kind::Ping][kind as usize];
        let text = if kind == Kind::Msg { text } else { String::new() };
        let message = ChatMessage::new(kind, timestamp_ms, &name, &text);
        let bytes = message.encode();
        prop_assume!(bytes.len() <= MAX_DATAGRAM);
        prop_assert_eq!(parse(&bytes), Ok(Payload::Chat(message)));
    }

    // The relay's script.
    #[test]
    fn script_parse_never_panics(text in "[a-z0-9:@\"\\\\# \\-\n]{0,120}") {
        let _ = text.parse::<Script>();
    }

    #[test]
    fn script_parse_never_panics_on_any_text(text in ".{0,120}") {
        let _ = text.parse::<Script>();
    }

    #[test]
    fn every_script_rule_round_trips(
        to_server in any::<bool>(),
        nth in proptest::option::of(1..u32::MAX),
        bytes in proptest::collection::vec(any::<u8>(), 0..16),
        occurrence in 1..u32::MAX,
        action in 0..4u8,
        delay in any::<u64>(),
    ) {
        let (direction, word) = if to_server {
            (Direction::ToServer, "to-server")
        } else {
            (Direction::ToClient, "to-client")
        };
        let (which, which_text) = match nth {
            Some(n) => (Which::Nth(n), n.to_string()),
            None => {
                let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                (Which::Bytes(bytes.clone(), occurrence), format!("hex:{hex} @{occurrence}"))
            }
        };
        let (fate, fate_text) = match action {
            0 => (Fate::now(Action::Drop), "drop".to_string()),
            1 => (Fate::now(Action::Duplicate), "duplicate".to_string()),
            2 => (Fate::now(Action::Reorder), "reorder".to_string()),
            _ => (
                Fate { action: Action::Forward, delay: Duration::from_millis(delay) },
                format!("delay {delay}"),
            ),
        };
        let text = format!("{word} {which_text} {fate_text}  # a comment\n");
        let expected = Script::new().rule(direction, which, fate);
        prop_assert_eq!(text.parse::<Script>(), Ok(expected));
    }

    #[test]
    fn cookie_open_never_panics_and_opens_nothing_forged(
        tail in proptest::collection::vec(any::<u8>(), 0..120),
    ) {
        let key = CookieKey::from_bytes([9; 32]);
        let from: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let mut bytes = b"chat/1 cookie ".to_vec();
        bytes.extend_from_slice(&tail);
        prop_assert_eq!(key.open(from, &bytes, 1_763_798_400), None);
        prop_assert_eq!(key.open(from, &tail, 1_763_798_400), None);
    }

    #[test]
    fn every_cookie_opens_for_its_address(join in "chat/1 join [0-9]{13} [a-z]{1,20}\n") {
        let key = CookieKey::from_bytes([9; 32]);
        let from: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let cookie = key.cookie(from, join.as_bytes(), 1_763_798_400).unwrap();
        prop_assert_eq!(key.open(from, &cookie, 1_763_798_400), Some(join.as_bytes()));
    }

    #[test]
    fn the_name_profile_never_panics(name in ".{0,40}") {
        let _ = names::check(&name);
        let _ = names::not_confusable(&name, ["Bill", "タナカ"]);
    }

    #[test]
    fn sealed_open_never_panics_and_opens_nothing_forged(
        bytes in proptest::collection::vec(any::<u8>(), 0..120),
    ) {
        let key = SealKey::from_key_text("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=").unwrap();
        prop_assert_eq!(open_datagram(&key, &bytes), None);
    }
}
