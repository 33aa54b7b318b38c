//! Self-tests of the harness's multicast helpers, and a check that this machine delivers
//! multicast over loopback at all: if these fail, chapter 9's tests cannot pass, whatever the
//! learner writes.

use course_harness::multicast::{
    LOOPBACK, anything_within, free_port, group, test_receiver, test_sender,
};
use socket2::SockRef;

/// This file's family of groups: 239.255.29.N.
const FAMILY: u8 = 29;

#[test]
fn the_test_sender_is_loopback_only_with_ttl_0() {
    let sender = test_sender();
    let sock = SockRef::from(&sender);
    assert_eq!(sock.multicast_if_v4().unwrap(), LOOPBACK);
    assert_eq!(sock.multicast_ttl_v4().unwrap(), 0);
    assert!(sender.local_addr().unwrap().ip().is_loopback());
}

#[test]
fn multicast_over_loopback_works_on_this_machine() {
    let (group, port) = (group(FAMILY, 1), free_port());
    let first = test_receiver(group, port);
    let second = test_receiver(group, port);
    let sender = test_sender();
    sender.send_to(b"ping", (group, port)).unwrap();
    for receiver in [&first, &second] {
        let mut buf = [0u8; 16];
        let (len, from) = receiver.recv_from(&mut buf).unwrap_or_else(|e| {
            panic!(
                "a datagram sent to {group} on 127.0.0.1 did not arrive ({e}): this machine does \
                 not deliver multicast over loopback, so chapter 9's tests cannot pass here"
            )
        });
        assert_eq!(&buf[..len], b"ping");
        assert_eq!(from, sender.local_addr().unwrap());
    }
}

#[test]
fn a_test_receiver_hears_only_its_own_group() {
    let (a, b, port) = (group(FAMILY, 2), group(FAMILY, 3), free_port());
    let in_a = test_receiver(a, port);
    let in_b = test_receiver(b, port);
    test_sender().send_to(b"for A", (a, port)).unwrap();
    assert!(
        anything_within(&in_a).is_some(),
        "the receiver of A got nothing"
    );
    assert_eq!(
        anything_within(&in_b),
        None,
        "the receiver of B got A's datagram"
    );
}
