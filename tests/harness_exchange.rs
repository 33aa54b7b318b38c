//! Self-tests of the wire-exchange recorder, its mermaid rendering, and failure reports.

use std::net::SocketAddr;

use course_harness::Exchange;
use course_harness::deadline::panic_text;
use course_harness::show::{self, Report, expect_bytes};

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

#[test]
fn an_exchange_renders_as_a_mermaid_sequence_diagram_in_order() {
    let client = addr("127.0.0.1:50001");
    let server = addr("127.0.0.1:8890");
    let exchange = Exchange::new();
    exchange.name(client, "client");
    exchange.name(server, "server");
    exchange.sent(client, server, b"hello");
    exchange.lost(server, client, b"Success to receive message");
    exchange.note(client, "timed out after 1 s");

    assert_eq!(
        exchange.to_mermaid(),
        "sequenceDiagram\n\
         \x20   participant P1 as client 127.0.0.1:50001\n\
         \x20   participant P2 as server 127.0.0.1:8890\n\
         \x20   P1->>P2: \"hello\" (5 B)\n\
         \x20   P2-xP1: \"Success to receive message\" (26 B)\n\
         \x20   Note over P1: timed out after 1 s\n"
    );
}

#[test]
fn ipv6_participants_show_their_bracketed_address() {
    let client = addr("[::1]:50001");
    let server = addr("[::1]:8890");
    let exchange = Exchange::new();
    exchange.name(client, "client");
    exchange.name(server, "server");
    exchange.sent(client, server, b"hello");
    exchange.note(server, "timed out after 1 s");
    assert_eq!(
        exchange.to_mermaid(),
        "sequenceDiagram\n\
         \x20   participant P1 as client [::1]:50001\n\
         \x20   participant P2 as server [::1]:8890\n\
         \x20   P1->>P2: \"hello\" (5 B)\n\
         \x20   Note over P2: timed out after 1 s\n"
    );
}

#[test]
fn unnamed_participants_appear_in_order_of_first_appearance() {
    let a = addr("[::1]:4000");
    let b = addr("127.0.0.1:4001");
    let exchange = Exchange::new();
    exchange.sent(b, a, b"x");
    let text = exchange.to_mermaid();
    let first = text.find("participant P1 as 127.0.0.1:4001").expect(&text);
    let second = text.find("participant P2 as [::1]:4000").expect(&text);
    assert!(first < second);
}

#[test]
fn clones_record_into_the_same_exchange() {
    let exchange = Exchange::new();
    let clone = exchange.clone();
    std::thread::spawn(move || {
        clone.sent(addr("127.0.0.1:1"), addr("127.0.0.1:2"), b"from a thread")
    })
    .join()
    .unwrap();
    assert_eq!(exchange.len(), 1);
}

#[test]
fn payloads_cannot_break_the_diagram() {
    let exchange = Exchange::new();
    // `;` and `#` end a mermaid statement, a newline ends the line, `<` starts HTML.
    exchange.sent(addr("127.0.0.1:1"), addr("127.0.0.1:2"), b"a;b#c\nd<e>\xff");
    let text = exchange.to_mermaid();
    let arrow = text.lines().find(|l| l.contains("->>")).unwrap();
    assert_eq!(
        arrow,
        "    P1->>P2: \"a#59;b#35;c\\nd#lt;e#gt;\\xff\" (11 B)"
    );
}

#[test]
fn long_payloads_are_cut_in_the_diagram() {
    let exchange = Exchange::new();
    exchange.sent(addr("127.0.0.1:1"), addr("127.0.0.1:2"), &[b'a'; 1000]);
    let text = exchange.to_mermaid();
    assert!(text.contains("…\" (1000 B)"), "{text}");
    assert!(text.len() < 300, "{text}");
}

#[test]
fn bytes_are_shown_as_text_with_escapes_and_their_length() {
    assert_eq!(show::bytes(b"hello\n"), "\"hello\\n\" (6 bytes)");
    assert_eq!(
        show::bytes("こんにちは".as_bytes()),
        "\"こんにちは\" (15 bytes)"
    );
    assert_eq!(show::bytes(b"\x00\xfe"), "\"\\u{0}\\xfe\" (2 bytes)");
    assert_eq!(show::bytes(b"x"), "\"x\" (1 byte)");
}

#[test]
fn a_mismatch_reports_expected_got_and_the_exchange() {
    let exchange = Exchange::new();
    exchange.sent(addr("127.0.0.1:1"), addr("127.0.0.1:2"), b"hello");
    let text = panic_text(|| {
        expect_bytes(
            "the reply",
            b"Success to receive message",
            b"hello",
            Some(&exchange),
        )
    });
    assert!(
        text.starts_with("the reply was not what the test expected\n"),
        "{text}"
    );
    assert!(
        text.contains("  expected:         \"Success to receive message\" (26 bytes)\n"),
        "{text}"
    );
    assert!(
        text.contains("  got:              \"hello\" (5 bytes)\n"),
        "{text}"
    );
    assert!(text.contains("  first difference: at byte 0\n"), "{text}");
    assert!(text.contains("sequenceDiagram\n"), "{text}");
}

#[test]
fn equal_bytes_pass() {
    expect_bytes("the reply", b"same", b"same", None);
}

#[test]
fn a_report_lines_up_its_labels() {
    let text = Report::new("headline")
        .line("sent to", "127.0.0.1:1")
        .line("got", "nothing")
        .to_string();
    assert_eq!(
        text,
        "headline\n  sent to: 127.0.0.1:1\n  got:     nothing\n"
    );
}

#[test]
fn a_cut_datagram_is_pointed_out_and_long_payloads_are_shortened() {
    let sent = vec![b'x'; 65_507];
    let text = panic_text(|| expect_bytes("the datagram", &sent, &sent[..1024], None));
    assert!(
        text.contains("(65507 bytes)") && text.contains("(1024 bytes)"),
        "{text}"
    );
    assert!(
        text.contains("cut after 1024 bytes: is a receive buffer too small?"),
        "{text}"
    );
    assert!(
        text.len() < 1000,
        "the report should be short, is {} characters",
        text.len()
    );
}

#[test]
fn expect_eq_labels_both_sides() {
    let text = panic_text(|| show::expect_eq("the port", 80, 81));
    assert_eq!(
        text,
        "the port was not what the test expected\n  expected: 80\n  got:      81\n"
    );
}
