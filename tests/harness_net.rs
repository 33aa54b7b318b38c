//! Self-tests of the harness's socket helpers: split reads, resets, deadlines on accept.

use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};

use course_harness::net::{self, accept_within};
use course_harness::{SharedOutput, SplitReads};

fn pair() -> (std::net::TcpStream, std::net::TcpStream) {
    let listener = net::tcp_listener();
    let a = net::connect(listener.local_addr().unwrap()).unwrap();
    let (b, _) = accept_within(&listener, net::IO_TIMEOUT).unwrap();
    (a, b)
}

#[test]
fn split_reads_return_pieces_of_the_chosen_sizes() {
    let (mut a, b) = pair();
    a.write_all(b"abcdefghij").unwrap();
    drop(a);
    let mut reader = SplitReads::new(b, &[1, 3]);
    let mut buf = [0u8; 64];
    let mut pieces = Vec::new();
    loop {
        let len = reader.read(&mut buf).unwrap();
        if len == 0 {
            break;
        }
        pieces.push(String::from_utf8(buf[..len].to_vec()).unwrap());
    }
    // Loopback delivered all ten bytes at once; the reader still cut them.
    assert_eq!(pieces, ["a", "bcd", "efg", "hij"]);
}

#[test]
fn a_reset_connection_is_seen_as_reset_by_the_peer() {
    let (a, mut b) = pair();
    net::reset(a);
    let mut buf = [0u8; 8];
    let err = b
        .read(&mut buf)
        .expect_err("a reset should be an error, not end-of-file");
    assert_eq!(err.kind(), ErrorKind::ConnectionReset);
}

#[test]
fn accept_gives_up_at_its_deadline() {
    let listener = net::tcp_listener();
    let started = Instant::now();
    let err = accept_within(&listener, Duration::from_millis(200)).expect_err("nobody connects");
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn shared_output_collects_writes_from_every_clone() {
    let output = SharedOutput::new();
    let mut clone = output.clone();
    std::thread::spawn(move || clone.write_all(b"from a thread"))
        .join()
        .unwrap()
        .unwrap();
    assert_eq!(output.contents(), b"from a thread");
}

#[test]
fn shared_output_counts_a_line_only_once_it_is_ended() {
    let mut output = SharedOutput::new();
    output.write_all(b"from 127.0.0.1:9").unwrap();
    assert!(output.complete_lines().is_empty(), "half a line is no line");
    output.write_all(b": hello\nsecond").unwrap();
    assert_eq!(output.complete_lines(), ["from 127.0.0.1:9: hello"]);
    output.write_all(b"\n").unwrap();
    assert_eq!(output.complete_lines().len(), 2);
}

#[test]
fn sockets_of_each_family_are_bound_to_its_loopback_address_and_talk() {
    use net::Family;
    for family in Family::BOTH {
        if family == Family::V6 && !net::ipv6_or_skip() {
            continue;
        }
        let a = net::udp_socket_on(family);
        let b = net::udp_socket_on(family);
        let a_addr = a.local_addr().unwrap();
        assert_eq!(a_addr.ip(), family.loopback(), "{family:?}");
        assert_eq!(Family::of(a_addr), family);
        b.send_to(b"hi", a_addr).unwrap();
        let (bytes, from) = net::recv_datagram(&a).unwrap();
        assert_eq!(
            (bytes.as_slice(), from),
            (&b"hi"[..], b.local_addr().unwrap())
        );

        let listener = net::tcp_listener_on(family);
        let addr = listener.local_addr().unwrap();
        assert_eq!(addr.ip(), family.loopback(), "{family:?}");
        let mut client = std::net::TcpStream::connect(addr).unwrap();
        let (mut server, peer) = accept_within(&listener, Duration::from_secs(5)).unwrap();
        assert_eq!(Family::of(peer), family);
        client.write_all(b"x").unwrap();
        let mut byte = [0u8; 1];
        server.read_exact(&mut byte).unwrap();
        assert_eq!(&byte, b"x");
    }
}
