//! `course book --no-build`: the file server, attacked over loopback. The site is a temporary
//! `target/book` (the program finds its course root through `CARGO_MANIFEST_DIR`), with
//! symbolic links planted in it; slow clients drip their request heads a byte a second.
//! Linux only: the slow clients come from several loopback addresses (127.0.0.0/8).
#![cfg(target_os = "linux")]

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// The deadline the server is given for a whole request head (`--head-deadline`; 5 s unless
/// told): shorter here, so that the test of it waits 1 s, not 5.
const HEAD_DEADLINE: Duration = Duration::from_secs(1);

/// A course root with a built site: `target/book/{en,ja}` with their index and 404 pages.
fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("exercises/src")).unwrap();
    fs::create_dir_all(root.join("tests")).unwrap();
    for lang in ["en", "ja"] {
        let book = root.join("target/book").join(lang);
        fs::create_dir_all(&book).unwrap();
        fs::write(book.join("index.html"), format!("{lang} index")).unwrap();
        fs::write(book.join("404.html"), "styled 404").unwrap();
    }
    fs::write(root.join("target/book/index.html"), "both books").unwrap();
    dir
}

/// `course book --no-build` on `root`, on a port the system picks; stopped when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(root: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_course"))
            .args(["book", "--no-build", "--bind", "127.0.0.1:0"])
            .args(["--head-deadline", &HEAD_DEADLINE.as_secs_f64().to_string()])
            .current_dir(root)
            .env("CARGO_MANIFEST_DIR", root)
            .env("COURSE_LANG", "en")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("expected `listening on ADDR`, got {line:?}"))
            .parse()
            .unwrap();
        // Keep reading its stderr, so that it never blocks writing there.
        thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        Server { child, addr }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A connection to `to` from the loopback address `from`.
fn connect_from(from: Ipv4Addr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    socket.bind(&SocketAddr::new(IpAddr::V4(from), 0).into())?;
    socket.connect_timeout(&to.into(), Duration::from_secs(2))?;
    Ok(socket.into())
}

/// `GET target` from `from`; returns the status line and the body, or why there is none.
fn get_from(from: Ipv4Addr, addr: SocketAddr, target: &str) -> Result<(String, String), String> {
    let mut stream = connect_from(from, addr).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(HEAD_DEADLINE * 2))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("send: {e}"))?;
    let mut answer = Vec::new();
    let mut buf = [0; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                answer.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&answer);
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("Content-Length: "))
                        .and_then(|n| n.trim().parse().ok())
                        .unwrap_or(usize::MAX);
                    if body.len() >= length {
                        break;
                    }
                }
            }
            Err(e) => return Err(format!("read: {e} after {} bytes", answer.len())),
        }
    }
    let text = String::from_utf8_lossy(&answer).into_owned();
    match text.split_once("\r\n\r\n") {
        Some((head, body)) => Ok((head.lines().next().unwrap_or("").into(), body.into())),
        None => Err(format!("the connection closed with no answer ({text:?})")),
    }
}

fn get(addr: SocketAddr, target: &str) -> Result<(String, String), String> {
    get_from(Ipv4Addr::LOCALHOST, addr, target)
}

#[test]
fn symbolic_links_that_leave_the_book_are_not_followed() {
    let dir = site();
    let en = dir.path().join("target/book/en");
    symlink("/etc/passwd", en.join("leak.txt")).unwrap();
    symlink("/", en.join("up")).unwrap();
    // A link that stays inside the book is served as the file it names.
    symlink("index.html", en.join("same.html")).unwrap();
    let server = Server::start(dir.path());
    for target in ["/en/leak.txt", "/en/up/etc/passwd", "/en/up/", "/en/up"] {
        let (status, body) = get(server.addr, target).unwrap();
        assert!(
            !status.contains(" 200 ") && !status.contains(" 301 ") && !body.contains("root:"),
            "GET {target} answered {status}: {body:.80}"
        );
    }
    let (status, body) = get(server.addr, "/en/same.html").unwrap();
    assert!(
        status.contains(" 200 ") && body == "en index",
        "{status} {body}"
    );
}

/// `count` clients from the addresses `from(i)`, each sending one byte of a request head a
/// second, until `stop`.
fn drip(
    addr: SocketAddr,
    count: usize,
    from: impl Fn(usize) -> Ipv4Addr,
    stop: &Arc<AtomicBool>,
) -> Vec<thread::JoinHandle<()>> {
    let mut streams = Vec::new();
    for i in 0..count {
        if let Ok(stream) = connect_from(from(i), addr) {
            streams.push(stream);
        }
    }
    streams
        .into_iter()
        .map(|mut stream| {
            let stop = Arc::clone(stop);
            thread::spawn(move || {
                let head = b"GET /en/ HTTP/1.1\r\nX-Slow: "
                    .iter()
                    .chain(b"a".repeat(64).iter())
                    .copied()
                    .collect::<Vec<_>>();
                for byte in head {
                    if stop.load(Ordering::SeqCst) || stream.write_all(&[byte]).is_err() {
                        return;
                    }
                    thread::sleep(Duration::from_secs(1));
                }
            })
        })
        .collect()
}

#[test]
fn slow_request_heads_from_64_addresses_do_not_keep_a_reader_out_past_the_head_deadline() {
    let dir = site();
    let server = Server::start(dir.path());
    let stop = Arc::new(AtomicBool::new(false));
    let drippers = drip(
        server.addr,
        64,
        |i| Ipv4Addr::new(127, 0, 1, i as u8 + 1),
        &stop,
    );
    thread::sleep(Duration::from_millis(300));
    let start = Instant::now();
    let answer = get(server.addr, "/en/");
    let took = start.elapsed();
    stop.store(true, Ordering::SeqCst);
    eprintln!("the probe was answered after {took:?}");
    let (status, body) =
        answer.unwrap_or_else(|e| panic!("the probe got no page: {e} (after {took:?})"));
    assert!(
        status.contains(" 200 ") && body == "en index",
        "{status} {body}"
    );
    assert!(
        took <= HEAD_DEADLINE + Duration::from_secs(1),
        "the probe waited {took:?} for its page"
    );
    for dripper in drippers {
        dripper.join().unwrap();
    }
}

#[test]
fn one_address_cannot_take_every_place() {
    let dir = site();
    let server = Server::start(dir.path());
    let stop = Arc::new(AtomicBool::new(false));
    let drippers = drip(server.addr, 64, |_| Ipv4Addr::LOCALHOST, &stop);
    thread::sleep(Duration::from_millis(300));
    let start = Instant::now();
    let answer = get_from(Ipv4Addr::new(127, 0, 0, 2), server.addr, "/en/");
    let took = start.elapsed();
    stop.store(true, Ordering::SeqCst);
    let (status, _) =
        answer.unwrap_or_else(|e| panic!("the probe got no page: {e} (after {took:?})"));
    assert!(status.contains(" 200 "), "{status}");
    assert!(
        took < Duration::from_secs(1),
        "the probe waited {took:?} for its page"
    );
    for dripper in drippers {
        dripper.join().unwrap();
    }
}

/// Keep-alive hoarding: 4 addresses x 16 connections (every place) each ask for a page and
/// keep the connection, asking again now and then within the head deadline. A browser's
/// request must not wait for them: the newcomer closes the connection that has waited
/// longest between two requests, and is answered at once.
#[test]
fn kept_alive_connections_between_requests_make_way_for_a_newcomer() {
    let dir = site();
    let server = Server::start(dir.path());
    let mut held = Vec::new();
    for i in 0..64u8 {
        let mut stream = connect_from(Ipv4Addr::new(127, 0, 2, i / 16 + 1), server.addr)
            .unwrap_or_else(|e| panic!("test setup: connection {i}: {e}"));
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream
            .write_all(b"GET /en/ HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut buf = [0; 512];
        let n = stream.read(&mut buf).unwrap_or(0);
        assert!(
            String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"),
            "test setup: connection {i} got no page"
        );
        held.push(stream);
    }
    let start = Instant::now();
    let answer = get(server.addr, "/en/");
    let took = start.elapsed();
    let (status, body) =
        answer.unwrap_or_else(|e| panic!("the probe got no page: {e} (after {took:?})"));
    assert!(
        status.contains(" 200 ") && body == "en index",
        "{status} {body}"
    );
    assert!(
        took < Duration::from_secs(2),
        "the probe waited {took:?} while 64 kept-alive connections sat between requests"
    );
    drop(held);
}
