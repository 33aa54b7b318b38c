//! Amplification through the chat: a join that claims to come from a victim's address makes
//! a server without a return-path check send the victim every message of the chat. Here 60
//! forged joins (sent from sockets bound to 127.0.0.2 ... 127.0.0.61, which stand for the
//! victims: they never answer, as a victim who did not ask would not) are followed by 20
//! messages of 1,000 bytes from a real member. chat-server must deliver the victims nothing
//! but its cookies, each at most 3x the join that asked for it.
//! `COURSE_ATTACK_PROGRAMS=DIR` runs the attack against the programs in DIR.

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use course_harness::ChildGuard;

mod support;

const VICTIMS: u8 = 60;
const MESSAGES: usize = 20;

fn program(name: &str) -> PathBuf {
    match std::env::var_os("COURSE_ATTACK_PROGRAMS") {
        Some(dir) => PathBuf::from(dir).join(name),
        None => course_harness::program!(name),
    }
}

fn member(server: &mut ChildGuard, addr: SocketAddr, name: &str) -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let join = format!("chat/1 join 1763798400000 {name}\n");
    support::chat_join(&socket, addr, join.as_bytes());
    server.stdout_line_ending_with(&format!("* {name} joined"));
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    socket
}

#[test]
fn sixty_forged_joins_deliver_nothing_but_cookies_to_their_victims() {
    let mut command = Command::new(program("chat-server"));
    command.args(["--bind", "127.0.0.1:0"]);
    let mut server = ChildGuard::spawn(command);
    let addr = server.listening_addr();
    let host = member(&mut server, addr, "host");
    let probe = member(&mut server, addr, "probe");

    let mut sent = 0;
    let victims: Vec<UdpSocket> = (0..VICTIMS)
        .map(|i| {
            let victim = UdpSocket::bind((format!("127.0.0.{}", 2 + i).as_str(), 0)).unwrap();
            let join = format!("chat/1 join 1763798400000 v{i}\n");
            sent += victim.send_to(join.as_bytes(), addr).unwrap();
            victim
        })
        .collect();
    // The messages; the probe (a real member) receives each, so once it has the last one the
    // server has handled everything before it.
    let text = "x".repeat(1000);
    let mut buf = vec![0u8; 65_536];
    for i in 0..MESSAGES {
        let message = format!("chat/1 msg 1763798400000 host\n{i} {text}");
        host.send_to(message.as_bytes(), addr).unwrap();
        loop {
            let len = match probe.recv(&mut buf) {
                Ok(len) => len,
                Err(e) => server.fail(&format!("the probe never got message {i}: {e}")),
            };
            if buf[..len].ends_with(message.as_bytes()) {
                break;
            }
        }
    }
    let (mut delivered, mut datagrams, mut chat) = (0, 0, 0);
    for victim in &victims {
        victim.set_nonblocking(true).unwrap();
        while let Ok(len) = victim.recv(&mut buf) {
            delivered += len;
            datagrams += 1;
            if !buf[..len].starts_with(b"chat/1 cookie ") {
                chat += 1;
            }
        }
    }
    eprintln!(
        "{VICTIMS} forged joins, {sent} bytes: the victims received {datagrams} datagrams, \
         {delivered} bytes ({:.1}x), {chat} of them chat traffic",
        delivered as f64 / sent as f64
    );
    server.assert_running();
    assert_eq!(chat, 0, "the victims received the chat's traffic");
    assert!(
        delivered <= 3 * sent,
        "the victims received {delivered} bytes for {sent} forged: more than 3x"
    );
}
