//! Chapter 9: IPv6 multicast. A receiver joins a group on an interface given by its
//! *index*; a sender picks its interface by index too (`IPV6_MULTICAST_IF`), with a
//! hop limit (`IPV6_MULTICAST_HOPS`) and the loop option (`IPV6_MULTICAST_LOOP`).
//!
//! `cargo run --example ch09_v6_multicast` tries it on the loopback interface, with a
//! hop limit of 0: on Linux every send fails, because the loopback interface carries
//! no IPv6 multicast. `scripts/v6-multicast-netns.sh` (as root) runs the
//! demonstration instead: it makes a veth pair in a private network namespace and
//! runs `ch09_v6_multicast --veth A B` inside it, which refuses to run anywhere else
//! (see [`sealed`]): there, the hop limit is 0 or 1 and the only link leads back to
//! itself.

use std::io;
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6, UdpSocket};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

/// IANA's groups for "any private experiment" (ff0X::114), in three scopes.
const GROUPS: [(Ipv6Addr, &str); 3] = [
    (
        Ipv6Addr::new(0xff01, 0, 0, 0, 0, 0, 0, 0x114),
        "interface-local",
    ),
    (Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x114), "link-local"),
    (Ipv6Addr::new(0xff05, 0, 0, 0, 0, 0, 0, 0x114), "site-local"),
];
/// How long a receiver waits for the datagram.
const WAIT: Duration = Duration::from_millis(300);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [] => on_loopback(),
        [flag, a, b] if flag == "--veth" => on_veth(a, b),
        _ => {
            eprintln!("usage: ch09_v6_multicast [--veth SENDING-END OTHER-END]");
            std::process::exit(2);
        }
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// Each group on the loopback interface: a receiver joins it, a sender sends one
/// datagram to it with a hop limit of 0.
fn on_loopback() -> io::Result<()> {
    let name = if cfg!(target_os = "linux") {
        "lo"
    } else {
        "lo0"
    };
    let lo = index(name)?;
    println!("the loopback interface {name} (index {lo}), hop limit 0, loop on:");
    for (group, scope) in GROUPS {
        let outcome = match send_and_receive(group, lo, lo, 0, true) {
            Ok(Some(_)) => "received".to_string(),
            Ok(None) => "nothing arrived".to_string(),
            Err(e) => format!("send_to failed: {e}"),
        };
        println!("  {group} ({scope}): {outcome}");
    }
    Ok(())
}

/// The demonstration, inside a namespace that holds nothing but `lo` and the veth
/// pair `a`-`b`: a sender on `a`, a receiver on the other end `b` (the loop off: only
/// what crosses the pair counts), then a receiver on `a` itself (the loop on).
fn on_veth(a: &str, b: &str) -> io::Result<()> {
    if let Err(why) = sealed(a, b) {
        eprintln!(
            "refused: {why}. This demonstration sends multicast (hop limit 1); \
             scripts/v6-multicast-netns.sh runs it in a private network namespace"
        );
        std::process::exit(2);
    }
    let (ia, ib) = (index(a)?, index(b)?);
    println!(
        "sender on {a} (index {ia}); {b} (index {ib}) is the other end of the pair"
    );
    let (group, scope, hops, across) =
        ("group", "scope", "hop limit", "across (loop off)");
    println!("{group:<12}{scope:<17}{hops:<11}{across:<20}sender's end (loop on)");
    let mut source = None;
    for (group, scope) in GROUPS {
        for hops in [1, 0] {
            let across = send_and_receive(group, ia, ib, hops, false)?;
            let local = send_and_receive(group, ia, ia, hops, true)?;
            source = source.or(across);
            println!(
                "{:<12}{:<17}{:<11}{:<20}{}",
                group.to_string(),
                scope,
                hops,
                said(across),
                said(local)
            );
        }
    }
    if let Some(from) = source {
        let (ip, scope) = (from.ip(), from.scope_id());
        println!(
            "at the other end, the datagrams came from {ip}, scope id {scope} ({b})"
        );
    }
    Ok(())
}

fn said(received: Option<SocketAddrV6>) -> &'static str {
    if received.is_some() {
        "received"
    } else {
        "nothing"
    }
}

/// Sends one datagram to `group` out of the interface with index `out`, with `hops`
/// and `looped`, to a receiver that joined the group on interface `joined`. Where it
/// came from, if it arrived; an error if the send failed.
fn send_and_receive(
    group: Ipv6Addr,
    out: u32,
    joined: u32,
    hops: u32,
    looped: bool,
) -> io::Result<Option<SocketAddrV6>> {
    // ANCHOR: receiver
    let receiver = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP))?;
    receiver.set_only_v6(true)?;
    #[cfg(target_os = "linux")]
    receiver.set_multicast_all_v6(false)?; // only the groups this socket joined
    // Bound to the group (with the interface as scope id): no unicast gets in.
    receiver.bind(&SocketAddrV6::new(group, 0, 0, joined).into())?;
    receiver.join_multicast_v6(&group, joined)?; // an interface index, not an address
    // ANCHOR_END: receiver
    let receiver: UdpSocket = receiver.into();
    let port = receiver.local_addr()?.port();

    // ANCHOR: sender
    let sender = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP))?;
    sender.set_multicast_if_v6(out)?; // the interface, by index
    sender.set_multicast_hops_v6(hops)?; // 0 or 1 here: never beyond the link
    sender.set_multicast_loop_v6(looped)?;
    let to = SocketAddrV6::new(group, port, 0, out);
    sender.send_to(b"hello, group", &to.into())?;
    // ANCHOR_END: sender

    receiver.set_read_timeout(Some(WAIT))?;
    match receiver.recv_from(&mut [0u8; 64]) {
        Ok((_, SocketAddr::V6(from))) => Ok(Some(from)),
        Ok((_, from)) => Err(io::Error::other(format!("an IPv4 sender, {from}?"))),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The interface index of `name`.
#[cfg(unix)]
fn index(name: &str) -> io::Result<u32> {
    let c = std::ffi::CString::new(name).map_err(|_| {
        io::Error::new(io::ErrorKind::InvalidInput, "a NUL in the name")
    })?;
    // SAFETY: `c` is a valid NUL-terminated string for the duration of the call.
    match unsafe { libc::if_nametoindex(c.as_ptr()) } {
        0 => Err(io::Error::other(format!("no interface named {name}"))),
        i => Ok(i),
    }
}

#[cfg(not(unix))]
fn index(name: &str) -> io::Result<u32> {
    Err(io::Error::other(format!(
        "{name}: this example looks interfaces up on Unix only"
    )))
}

/// Why this network namespace is not one the demonstration may send in, or `Ok`: it
/// must hold exactly `lo`, `a` and `b`, and `a` and `b` must be the two ends of one
/// veth pair. Then nothing sent here can reach any other network.
#[cfg(target_os = "linux")]
fn sealed(a: &str, b: &str) -> Result<(), String> {
    let mut found =
        interfaces().map_err(|e| format!("cannot list the interfaces: {e}"))?;
    found.sort();
    let mut wanted = vec!["lo".to_string(), a.to_string(), b.to_string()];
    wanted.sort();
    if found != wanted {
        return Err(format!(
            "this network namespace has the interfaces {}, not only lo, {a} and {b}",
            found.join(", ")
        ));
    }
    // A veth's `iflink` is the index of its peer. Under `ip netns exec`, /sys shows
    // this namespace's interfaces.
    let number = |path: String| -> Option<u32> {
        std::fs::read_to_string(path).ok()?.trim().parse().ok()
    };
    let link = |name: &str| number(format!("/sys/class/net/{name}/iflink"));
    let (ia, ib) = (index(a).ok(), index(b).ok());
    if ia.is_none() || link(a) != ib || link(b) != ia {
        return Err(format!("{a} and {b} are not the two ends of one veth pair"));
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn sealed(_: &str, _: &str) -> Result<(), String> {
    Err("the demonstration runs on Linux only".into())
}

/// The names of this network namespace's interfaces.
#[cfg(target_os = "linux")]
fn interfaces() -> io::Result<Vec<String>> {
    // SAFETY: if_nameindex returns an array ended by an entry with index 0, which
    // stays valid until if_freenameindex; the names are NUL-terminated.
    unsafe {
        let list = libc::if_nameindex();
        if list.is_null() {
            return Err(io::Error::last_os_error());
        }
        let mut names = Vec::new();
        let mut entry = list;
        while (*entry).if_index != 0 {
            let name = std::ffi::CStr::from_ptr((*entry).if_name);
            names.push(name.to_string_lossy().into_owned());
            entry = entry.add(1);
        }
        libc::if_freenameindex(list);
        Ok(names)
    }
}
