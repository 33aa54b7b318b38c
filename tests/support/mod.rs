//! Test support shared by test files (`mod support;`): bytes written as hex,
//! reproducible pseudo-random bytes, and joining a chat server that asks for a cookie.

#![allow(dead_code)]

/// Bytes from a hex string with spaces: `"01 0000 00"`.
pub fn hex(text: &str) -> Vec<u8> {
    let digits: String = text.split_whitespace().collect();
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap())
        .collect()
}

/// A fixed pseudo-random byte string (the same on every run).
pub fn noise(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// Joins the chat server at `server` from `socket`: sends `join` and, when the server
/// answers with a cookie (`chat/1 cookie ...`), sends the cookie back unchanged, as
/// chat-client does. A server that asks for no cookie (an older one) is given 1 s to
/// say so by silence. Then it takes the server's verdict off the socket (an older server
/// that sends none is given 1 s). Returns whether the server said `chat/1 welcome`.
/// `socket`'s read timeout is left at 1 s.
pub fn chat_join(socket: &std::net::UdpSocket, server: std::net::SocketAddr, join: &[u8]) -> bool {
    socket
        .set_read_timeout(Some(std::time::Duration::from_secs(1)))
        .unwrap();
    socket.send_to(join, server).unwrap();
    let mut buf = [0u8; 4096];
    while let Ok((len, from)) = socket.recv_from(&mut buf) {
        if from == server && buf[..len].starts_with(b"chat/1 cookie ") {
            socket.send_to(&buf[..len], server).unwrap();
            return chat_verdict(socket, server).as_deref() == Some(&b"chat/1 welcome"[..]);
        }
    }
    false
}

/// The server's verdict on a join whose cookie went back (`chat/1 welcome`, or `chat/1
/// refused REASON N`), taken off `socket`; `None` if none came within 1 s.
pub fn chat_verdict(socket: &std::net::UdpSocket, server: std::net::SocketAddr) -> Option<Vec<u8>> {
    let mut buf = [0u8; 4096];
    while let Ok((len, from)) = socket.recv_from(&mut buf) {
        let got = &buf[..len];
        if from == server && (got == b"chat/1 welcome" || got.starts_with(b"chat/1 refused ")) {
            return Some(got.to_vec());
        }
    }
    None
}
