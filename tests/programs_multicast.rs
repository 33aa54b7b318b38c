//! The multicast programs' flags, checked before any learner code runs (so these tests cannot
//! live in `ch09_multicast.rs`, where every test must fail on the untouched stubs). The
//! network-safety rule shows here: only groups, only the loopback interface.

use std::time::Duration;

use rstest::rstest;

fn program(name: &str) -> assert_cmd::Command {
    let path = course_harness::program!(name);
    let mut command = assert_cmd::Command::new(path);
    command.timeout(Duration::from_secs(10));
    command
}

#[rstest]
#[case::send_to_a_unicast_address("multicast-send", &["--group", "127.0.0.1"], "not a multicast group")]
#[case::join_a_unicast_address("multicast-recv", &["--group", "10.1.2.3"], "not a multicast group")]
#[case::send_on_a_real_interface("multicast-send", &["--interface", "192.168.1.10"], "not a loopback address")]
#[case::join_on_a_real_interface("multicast-recv", &["--interface", "0.0.0.0"], "not a loopback address")]
#[case::ttl_too_large("multicast-send", &["--ttl", "256"], "256")]
#[case::not_an_address("multicast-send", &["--group", "group-a"], "not an IPv4 address")]
fn bad_flags_are_usage_errors(#[case] name: &str, #[case] args: &[&str], #[case] message: &str) {
    let output = program(name).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{name} {args:?}: {stderr}");
    assert!(stderr.contains(message), "{name} {args:?}: {stderr}");
}

#[rstest]
#[case("multicast-send", &["--group", "--port", "--interface", "--ttl", "--no-loop", "--count", "--interval"])]
#[case("multicast-recv", &["--group", "--port", "--interface", "--count"])]
fn help_explains_every_flag(#[case] name: &str, #[case] flags: &[&str]) {
    let output = program(name).arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in flags {
        assert!(
            help.contains(flag),
            "{name} --help does not mention {flag}:\n{help}"
        );
    }
    assert!(help.contains("[default: 127.0.0.1]"), "{help}");
    assert!(help.contains("[default: 239.255.0.1]"), "{help}");
}

#[test]
fn an_ipv6_group_or_interface_is_refused_with_the_reason_and_where_to_look() {
    // Linux's loopback carries no IPv6 multicast: the refusal says so, in the learner's
    // language, and names chapter 9's namespace demonstration.
    for (lang, reason) in [("en", "does not carry IPv6 multicast"), ("ja", "通さない")] {
        for (name, args) in [
            ("multicast-send", ["--group", "ff02::114"]),
            ("multicast-recv", ["--interface", "::1"]),
        ] {
            let output = program(name)
                .args(args)
                .env("COURSE_LANG", lang)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{name} {args:?}: {stderr}");
            assert!(
                stderr.contains(reason) && stderr.contains("scripts/v6-multicast-netns.sh"),
                "{name} {args:?} (COURSE_LANG={lang}): {stderr}"
            );
        }
    }
}
