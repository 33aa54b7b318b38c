//! Chapter 1: sockets, addresses and ports. Grade this chapter with
//! `cargo test --test 'ch01*'`; every test calls your code in `exercises/src/ch01_addresses/`.

use std::mem::discriminant;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use course_catalog::fill;
use course_harness::show::{OrFail, Report, expect_bytes, expect_eq, expect_exit};
use course_harness::{ChildGuard, Exchange, call_learner, net};
use rstest::rstest;
// `parse_addr` is also the name of a module there: import only the function.
use socket_course::ch01_addresses::parse_addr::{
    parse_addr, parse_host, parse_port, split_host_port,
};
use socket_course::ch01_addresses::{AddrError, PortRange, bind_ephemeral, classify_port};

/// Exercise 1.1: `cargo test --test ch01_addresses port_range::` (a number in, a range out:
/// no socket, so no IPv6 case)
mod port_range {
    use super::*;

    #[rstest]
    #[case::zero(0, PortRange::WellKnown)]
    #[case::http(80, PortRange::WellKnown)]
    #[case::last_well_known(1023, PortRange::WellKnown)]
    #[case::first_registered(1024, PortRange::Registered)]
    #[case::article_b_tcp_server(4000, PortRange::Registered)]
    #[case::article_a_udp_server(8890, PortRange::Registered)]
    #[case::article_c_chat(12345, PortRange::Registered)]
    #[case::last_registered(49151, PortRange::Registered)]
    #[case::first_dynamic(49152, PortRange::Dynamic)]
    #[case::article_d(50000, PortRange::Dynamic)]
    #[case::article_e(50007, PortRange::Dynamic)]
    #[case::last_port(65535, PortRange::Dynamic)]
    fn a_port_falls_in_its_iana_range(#[case] port: u16, #[case] expected: PortRange) {
        let got = call_learner(move || classify_port(port));
        assert_eq!(
            got,
            expected,
            "{}",
            fill(
                "test.should_be",
                &[
                    ("call", &format!("classify_port({port})")),
                    ("expected", &format!("{expected:?}"))
                ]
            )
        );
    }
}

/// Exercise 1.2a: `cargo test --test ch01_addresses split_host_port::`
mod split_host_port {
    use super::*;

    #[rstest]
    #[case::ipv4("127.0.0.1:8890", "127.0.0.1", "8890")]
    #[case::name("localhost:50000", "localhost", "50000")]
    #[case::ipv6_keeps_its_brackets("[::1]:8890", "[::1]", "8890")]
    #[case::the_port_is_not_checked_yet("example:http", "example", "http")]
    #[case::an_empty_port_is_for_the_next_step("localhost:", "localhost", "")]
    #[case::an_empty_host_is_for_the_host_step(":8890", "", "8890")]
    fn text_splits_at_the_colon_before_the_port(
        #[case] text: &'static str,
        #[case] host: &'static str,
        #[case] port: &'static str,
    ) {
        let got = call_learner(move || split_host_port(text));
        expect_eq(&format!("split_host_port({text:?})"), Ok((host, port)), got);
    }

    #[rstest]
    #[case::no_colon("127.0.0.1", AddrError::MissingPort)]
    #[case::empty_text("", AddrError::MissingPort)]
    #[case::ipv6_without_port("[::1]", AddrError::MissingPort)]
    #[case::ipv6_without_brackets("::1:8890", AddrError::Ipv6NeedsBrackets)]
    #[case::unclosed_bracket("[::1:8890", AddrError::InvalidHost("[::1:8890".into()))]
    fn text_without_a_place_for_the_port_is_an_error(
        #[case] text: &'static str,
        #[case] expected: AddrError,
    ) {
        let got = call_learner(move || split_host_port(text).map(|_| ()));
        expect_error_kind(&format!("split_host_port({text:?})"), got, expected);
    }
}

/// Exercise 1.2b: `cargo test --test ch01_addresses parse_port::` (the port text alone: no
/// address and no socket, so no IPv6 case)
mod parse_port {
    use super::*;

    #[rstest]
    #[case::article_a("8890", 8890)]
    #[case::zero_lets_the_os_choose("0", 0)]
    #[case::highest("65535", 65535)]
    #[case::leading_zeros("08890", 8890)]
    fn digits_up_to_65535_are_a_port(#[case] text: &'static str, #[case] expected: u16) {
        let got = call_learner(move || parse_port(text));
        expect_eq(&format!("parse_port({text:?})"), Ok(expected), got);
    }

    #[rstest]
    #[case::empty("", AddrError::MissingPort)]
    #[case::a_name("http", AddrError::InvalidPort("http".into()))]
    #[case::negative("-1", AddrError::InvalidPort("-1".into()))]
    #[case::plus_sign("+80", AddrError::InvalidPort("+80".into()))]
    #[case::space(" 80", AddrError::InvalidPort(" 80".into()))]
    #[case::just_too_large("65536", AddrError::PortOutOfRange("65536".into()))]
    #[case::far_too_large("99999999999", AddrError::PortOutOfRange("99999999999".into()))]
    fn anything_else_is_an_error_that_says_why(
        #[case] text: &'static str,
        #[case] expected: AddrError,
    ) {
        let got = call_learner(move || parse_port(text).map(|_| ()));
        expect_error_kind(&format!("parse_port({text:?})"), got, expected);
    }
}

/// Exercise 1.2c: `cargo test --test ch01_addresses parse_host::`
mod parse_host {
    use super::*;

    #[rstest]
    #[case::ipv4("127.0.0.1", &["127.0.0.1"])]
    #[case::all_interfaces("0.0.0.0", &["0.0.0.0"])]
    #[case::ipv6_in_brackets("[::1]", &["::1"])]
    #[case::localhost_names_both_loopbacks("localhost", &["127.0.0.1", "::1"])]
    #[case::localhost_in_capitals("LOCALHOST", &["127.0.0.1", "::1"])]
    fn a_host_names_its_ips(#[case] text: &'static str, #[case] expected: &[&str]) {
        let expected: Vec<std::net::IpAddr> = expected.iter().map(|a| a.parse().unwrap()).collect();
        let got = call_learner(move || parse_host(text));
        expect_eq(&format!("parse_host({text:?})"), Ok(expected), got);
    }

    #[rstest]
    #[case::empty("", AddrError::EmptyHost)]
    #[case::empty_brackets("[]", AddrError::EmptyHost)]
    #[case::octet_too_large("256.0.0.1", AddrError::InvalidHost("256.0.0.1".into()))]
    #[case::other_names_are_not_looked_up("example.com", AddrError::InvalidHost("example.com".into()))]
    #[case::ipv4_in_brackets("[127.0.0.1]", AddrError::InvalidHost("[127.0.0.1]".into()))]
    #[case::ipv6_without_brackets("::1", AddrError::InvalidHost("::1".into()))]
    fn anything_else_is_an_error_that_says_why(
        #[case] text: &'static str,
        #[case] expected: AddrError,
    ) {
        let got = call_learner(move || parse_host(text).map(|_| ()));
        expect_error_kind(&format!("parse_host({text:?})"), got, expected);
    }
}

/// Fails unless `got` is an error of the same kind as `expected` (the text it carries is the
/// learner's choice).
#[track_caller]
fn expect_error_kind(call: &str, got: Result<(), AddrError>, expected: AddrError) {
    match got {
        Err(e) if discriminant(&e) == discriminant(&expected) => {}
        other => panic!("{}", error_like(call, &other, &expected)),
    }
}

/// "`call` returned `got`; expected an error like `expected`", in the learner's language.
fn error_like(call: &str, got: &dyn std::fmt::Debug, expected: &AddrError) -> String {
    fill(
        "test.error_like",
        &[
            ("call", &call),
            ("got", &format!("{got:?}")),
            ("expected", &format!("{expected:?}")),
        ],
    )
}

/// Exercise 1.2d: `cargo test --test ch01_addresses parse_addr::`
mod parse_addr {
    use super::*;

    #[rstest]
    #[case::ipv4("127.0.0.1:8890", &["127.0.0.1:8890"])]
    #[case::ipv6_in_brackets("[::1]:8890", &["[::1]:8890"])]
    #[case::localhost_names_both_loopbacks("localhost:50000", &["127.0.0.1:50000", "[::1]:50000"])]
    #[case::localhost_in_capitals("LocalHost:4000", &["127.0.0.1:4000", "[::1]:4000"])]
    #[case::port_zero_lets_the_os_choose("127.0.0.1:0", &["127.0.0.1:0"])]
    #[case::highest_port("[::1]:65535", &["[::1]:65535"])]
    #[case::all_interfaces("0.0.0.0:12345", &["0.0.0.0:12345"])]
    fn good_text_parses_into_its_addresses(#[case] text: &'static str, #[case] expected: &[&str]) {
        let expected: Vec<SocketAddr> = expected.iter().map(|a| a.parse().unwrap()).collect();
        let got = call_learner(move || parse_addr(text));
        expect_eq(&format!("parse_addr({text:?})"), Ok(expected), got);
    }

    #[rstest]
    #[case::no_port("127.0.0.1", AddrError::MissingPort)]
    #[case::colon_but_no_port("localhost:", AddrError::MissingPort)]
    #[case::ipv6_without_port("[::1]", AddrError::MissingPort)]
    #[case::empty_text("", AddrError::MissingPort)]
    #[case::port_is_a_name("localhost:http", AddrError::InvalidPort("http".into()))]
    #[case::negative_port("localhost:-1", AddrError::InvalidPort("-1".into()))]
    #[case::port_just_too_large("localhost:65536", AddrError::PortOutOfRange("65536".into()))]
    #[case::port_far_too_large("127.0.0.1:99999999999", AddrError::PortOutOfRange("99999999999".into()))]
    #[case::no_host(":8890", AddrError::EmptyHost)]
    #[case::ipv6_without_brackets("::1:8890", AddrError::Ipv6NeedsBrackets)]
    #[case::octet_too_large("256.0.0.1:80", AddrError::InvalidHost("256.0.0.1".into()))]
    #[case::other_names_are_not_looked_up("example.com:80", AddrError::InvalidHost("example.com".into()))]
    #[case::unclosed_bracket("[::1:8890", AddrError::InvalidHost("[::1:8890".into()))]
    #[case::ipv4_in_brackets("[127.0.0.1]:80", AddrError::InvalidHost("[127.0.0.1]".into()))]
    fn bad_text_is_rejected_with_the_matching_error(
        #[case] text: &'static str,
        #[case] expected: AddrError,
    ) {
        let got = call_learner(move || parse_addr(text));
        // The error's kind is the spec; the text it carries is yours to choose.
        match got {
            Err(e) if discriminant(&e) == discriminant(&expected) => {}
            other => panic!(
                "{}",
                error_like(&format!("parse_addr({text:?})"), &other, &expected)
            ),
        }
    }
}

/// Exercise 1.3, with `addr_info::`:
/// `cargo test --test ch01_addresses -- ephemeral_port:: addr_info::`
mod ephemeral_port {
    use super::*;
    use course_catalog::text;

    #[test]
    fn ephemeral_port_is_the_one_the_socket_is_bound_to() {
        let (socket, port) = call_learner(bind_ephemeral)
            .or_fail("test.returned_error", &[("call", &"bind_ephemeral")]);
        assert_ne!(port, 0, "{}", text("ch01.port_zero"));
        let bound = socket.local_addr().or_fail("ch01.no_local_addr", &[]);
        assert_eq!(
            bound,
            SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            "{}",
            text("ch01.bound_to")
        );
    }

    #[test]
    fn ephemeral_socket_receives_what_is_sent_to_its_port() {
        let (socket, port) = call_learner(bind_ephemeral)
            .or_fail("test.returned_error", &[("call", &"bind_ephemeral")]);
        socket.set_read_timeout(Some(net::IO_TIMEOUT)).unwrap();
        let target = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let sender = net::udp_socket();
        let exchange = Exchange::new();
        exchange.name(sender.local_addr().unwrap(), "test");
        exchange.name(target, "your socket");

        sender.send_to(b"hello, port", target).unwrap();
        exchange.sent(sender.local_addr().unwrap(), target, b"hello, port");
        match net::recv_datagram(&socket) {
            Ok((data, _from)) => expect_bytes(
                &fill("what.datagram_received", &[]),
                b"hello, port",
                &data,
                Some(&exchange),
            ),
            Err(e) => Report::new(fill("ch01.never_reached", &[]))
                .addr("sent to", target)
                .line("error", e.to_string())
                .exchange(&exchange)
                .fail(),
        }
    }

    #[test]
    fn ephemeral_ports_of_two_open_sockets_differ() {
        // Both sockets stay open, so a port that was chosen by hand could not be bound twice.
        let (_first, first_port) = call_learner(bind_ephemeral).or_fail(
            "test.nth_call_error",
            &[("n", &1), ("call", &"bind_ephemeral")],
        );
        let (_second, second_port) = call_learner(bind_ephemeral).or_fail(
            "test.nth_call_error",
            &[("n", &2), ("call", &"bind_ephemeral")],
        );
        assert_ne!(first_port, second_port, "{}", text("ch01.ports_differ"));
    }
}

/// The `addr-info` program runs the same code: `cargo test --test ch01_addresses addr_info::`
mod addr_info {
    use super::*;

    /// Runs `addr-info ARGS` (at most 10 s, through the harness's child guard).
    fn run(args: &[&str]) -> std::process::Output {
        let mut command = std::process::Command::new(course_harness::program!("addr-info"));
        command.args(args);
        let exited = ChildGuard::run_to_end(command, b"", Duration::from_secs(10));
        let bytes = |lines: &[String]| -> Vec<u8> {
            lines
                .iter()
                .flat_map(|l| format!("{l}\n").into_bytes())
                .collect()
        };
        std::process::Output {
            status: exited.status,
            stdout: bytes(&exited.stdout),
            stderr: bytes(&exited.stderr),
        }
    }

    #[test]
    fn addr_info_parse_prints_one_address_per_line() {
        let output = run(&["parse", "localhost:8890"]);
        expect_exit("addr-info parse localhost:8890", &output, 0);
        expect_bytes(
            &fill("what.printed", &[("name", &"addr-info")]),
            b"127.0.0.1:8890\n[::1]:8890\n",
            &output.stdout,
            None,
        );
    }

    /// The IPv6 case graded with exercise 1.3 (its grade command selects `addr_info::`), but
    /// it runs `addr-info parse`, which is exercise 1.2's code. Exercise 1.3's `bind_ephemeral`
    /// takes no address and binds 127.0.0.1:0 by design, so 1.3's own code has no IPv6 case.
    #[test]
    fn addr_info_parse_prints_an_ipv6_address_in_brackets() {
        let output = run(&["parse", "[::1]:8890"]);
        expect_exit("addr-info parse [::1]:8890", &output, 0);
        expect_bytes(
            &fill("what.printed", &[("name", &"addr-info")]),
            b"[::1]:8890\n",
            &output.stdout,
            None,
        );
    }

    #[test]
    fn addr_info_parse_rejects_bad_text_with_exit_code_2() {
        let output = run(&["parse", "localhost:65536"]);
        expect_exit("addr-info parse localhost:65536", &output, 2);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("65536"),
            "{}",
            fill("ch01.names_the_port", &[("stderr", &format!("{stderr:?}"))])
        );
    }

    #[test]
    fn addr_info_port_names_each_range() {
        let output = run(&["port", "80", "8890", "50000"]);
        expect_exit("addr-info port 80 8890 50000", &output, 0);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(
            lines.len(),
            3,
            "{}",
            fill("ch01.line_per_port", &[("stdout", &format!("{stdout:?}"))])
        );
        for (line, range) in lines.iter().zip([
            PortRange::WellKnown,
            PortRange::Registered,
            PortRange::Dynamic,
        ]) {
            assert!(
                line.ends_with(&range.to_string()),
                "{}",
                fill(
                    "ch01.names_range",
                    &[("line", &format!("{line:?}")), ("range", &range)]
                )
            );
        }
    }
}
