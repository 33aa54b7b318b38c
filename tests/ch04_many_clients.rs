//! Chapter 4: many clients at once. Grade this chapter with `cargo test --test 'ch04*'`;
//! every test calls your code in `exercises/src/ch04_many_clients/`.
//!
//! Exercise 4.1, the whole server with a thread per client, is graded by `thread_server::`.
//! Then, to go further, one specification (`mod spec`) runs against every design, in one
//! module per design: `threads::` (exercise 4.2), `events::` (4.5) and `tasks::` (4.6).
//! Grade one design with `cargo test --test ch04_many_clients threads::` (or `events::`;
//! 4.6 with `cargo test --test ch04_many_clients -- tasks:: program::`).

use std::io::{self, Read, Write};
use std::net::{Shutdown as Both, SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use course_catalog::{fill, text};
use course_harness::child::Stream;
use course_harness::deadline::Deadline;
use course_harness::drip::{Drippers, connect_from, probe_echo, spread_source};
use course_harness::net;
use course_harness::net::Family::{self, V4, V6};
use course_harness::show::{self, OrFail, Report};
use course_harness::{ChildGuard, Running, call_learner, start_learner};
use socket_course::ch04_many_clients as ch04;
use socket_course::ch04_many_clients::events::{Clients, LISTENER};
use socket_course::ch04_many_clients::{Connection, Limits, Progress, Shutdown};

/// The three designs of the chapter, each behind the same `serve(listener, limits, shutdown)`.
#[derive(Debug, Clone, Copy)]
enum Design {
    Threads,
    Events,
    Tasks,
}

/// Limits for most tests: generous, except where a test says otherwise.
fn limits() -> Limits {
    Limits {
        idle_timeout: Duration::from_secs(10),
        min_rate: 0,
        max_clients: 2_000,
        max_per_address: 2_000,
        max_buffer: 64 * 1024,
    }
}

/// A listener on 127.0.0.1, port 0, whose kernel queue holds 1,024 connections waiting for
/// `accept` (std asks for 128): on a busy machine a server may accept late, and a full queue
/// drops connection requests, which clients retry only after a second.
fn listener() -> TcpListener {
    listener_on(V4)
}

/// [`listener`] on the loopback address of `family`.
fn listener_on(family: Family) -> TcpListener {
    let addr = family.any_port();
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        None,
    )
    .unwrap();
    socket.bind(&addr.into()).unwrap();
    socket.listen(1_024).unwrap();
    socket.into()
}

/// How long a test waits for one echo before it gives up.
const ECHO_DEADLINE: Duration = Duration::from_secs(8);

/// Your server, running on its own thread on a listener the test made.
struct Server {
    addr: SocketAddr,
    shutdown: Shutdown,
    running: Option<Running<io::Result<()>>>,
    design: Design,
}

impl Server {
    fn start(design: Design, limits: Limits) -> Server {
        Self::start_on(design, limits, listener())
    }

    fn start_on(design: Design, limits: Limits, listener: TcpListener) -> Server {
        let addr = listener.local_addr().unwrap();
        let shutdown = Shutdown::new();
        let handle = shutdown.clone();
        let running = start_learner(move || match design {
            Design::Threads => ch04::threads::serve(listener, limits, handle),
            Design::Events => ch04::events::serve(listener, limits, handle),
            Design::Tasks => ch04::tasks::serve(listener, limits, handle),
        });
        Server {
            addr,
            shutdown,
            running: Some(running),
            design,
        }
    }

    /// Fails the test at once if `serve` has returned or panicked (it must run until stopped).
    #[track_caller]
    fn check_running(&mut self) {
        let running = self
            .running
            .as_mut()
            .expect("test setup: the server was stopped already");
        if running.is_finished() {
            let result = self.running.take().unwrap().finish();
            let (design, result) = (format!("{:?}", self.design), format!("{result:?}"));
            panic!(
                "{}",
                fill(
                    "ch04.returned_early",
                    &[("design", &design), ("result", &result)]
                )
            );
        }
    }

    /// Called when talking to the server failed: if the server panicked or returned, that
    /// is the real failure, so report it (giving a panicking thread 100 ms to say so).
    #[track_caller]
    fn blame_server_first(&mut self) {
        if let Some(running) = self.running.as_mut() {
            running.check(); // fails the test with "your code panicked: ..."
        }
        self.check_running();
    }

    /// A client connected to the server, with read and write timeouts.
    #[track_caller]
    fn connect(&mut self) -> TcpStream {
        match net::connect(self.addr) {
            Ok(stream) => stream,
            Err(e) => {
                self.blame_server_first();
                panic!(
                    "{}",
                    fill(
                        "test.could_not_connect",
                        &[("addr", &self.addr), ("error", &e)]
                    )
                )
            }
        }
    }

    /// Reads exactly `len` bytes from `stream`, checking every 50 ms that the server still
    /// runs, so a server that panicked fails the test at once instead of after a timeout.
    #[track_caller]
    fn read_exact(&mut self, stream: &mut TcpStream, len: usize, sent: &[u8]) -> Vec<u8> {
        let deadline = Deadline::after(ECHO_DEADLINE);
        stream
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let mut got = vec![0u8; len];
        let mut filled = 0;
        let failure = loop {
            if filled == len {
                break None;
            }
            match stream.read(&mut got[filled..]) {
                Ok(0) => break Some(text("ch04.server_closed").to_string()),
                Ok(n) => filled += n,
                Err(e) if is_timeout(&e) => {
                    self.check_running();
                    if deadline.expired() {
                        let duration = format!("{ECHO_DEADLINE:?}");
                        break Some(fill("ch04.no_reply_within", &[("duration", &duration)]));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Some(e.to_string()),
            }
        };
        stream.set_read_timeout(Some(net::IO_TIMEOUT)).unwrap();
        if let Some(why) = failure {
            self.blame_server_first();
            Report::new(format!(
                "{} ({:?})",
                text("ch04.echo_incomplete"),
                self.design
            ))
            .bytes("sent", sent)
            .line("expected", fill("ch04.bytes_back", &[("len", &len)]))
            .bytes("got", &got[..filled])
            .line("why", why)
            .fail();
        }
        got
    }

    /// Sends `message` and expects exactly it back.
    #[track_caller]
    fn echo(&mut self, stream: &mut TcpStream, message: &[u8]) {
        if let Err(e) = stream.write_all(message) {
            self.blame_server_first();
            panic!("{}", fill("test.could_not_send", &[("error", &e)]));
        }
        let got = self.read_exact(stream, message.len(), message);
        show::expect_bytes(&fill("what.echo", &[]), message, &got, None);
    }

    /// Stops the server and expects `serve` to return `Ok(())` soon.
    #[track_caller]
    fn stop(mut self) {
        self.shutdown.stop();
        let running = self.running.take().expect("test setup: stopped twice");
        if let Err(e) = running.finish_within(Duration::from_secs(5)) {
            panic!("{}", fill("ch04.error_when_stopped", &[("error", &e)]));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A failing test still stops its server, so that no thread outlives it for long.
        self.shutdown.stop();
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Reads until the server closes `stream`; `Err` with what arrived if it stays open
/// past `within`. A reset counts as closed.
fn wait_for_close(stream: &mut TcpStream, within: Duration) -> Result<(), String> {
    stream.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                return Err(fill(
                    "ch04.sent_instead",
                    &[("bytes", &show::bytes(&buf[..n]))],
                ));
            }
            Err(e) if is_timeout(&e) => {
                let duration = format!("{within:?}");
                return Err(fill("ch04.still_open", &[("duration", &duration)]));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_reset) => return Ok(()),
        }
    }
}

/// Whether `stream` is open with nothing to read (not closed by the server).
fn is_open_and_quiet(stream: &TcpStream) -> bool {
    stream.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 16];
    let open = matches!(stream.peek(&mut buf), Err(e) if e.kind() == io::ErrorKind::WouldBlock);
    stream.set_nonblocking(false).unwrap();
    open
}

/// Tests with hundreds of connections or more take their share of file descriptors here.
/// They run together while their shares fit under the soft limit (`ulimit -n`, raised
/// towards [`FD_TARGET`] where the hard limit lets it), one after another where they do not;
/// [`FD_ROOM`] stays free for the other tests of this file.
fn many_sockets(needed: u64) -> FdShare {
    let total = match socket_course::fd_limit::raise(FD_TARGET) {
        Ok(Some((soft, _))) => soft.saturating_sub(FD_ROOM),
        Ok(None) => FD_TARGET, // no such limit (Windows)
        Err(e) => panic!("test setup: could not read the file descriptor limit: {e}"),
    };
    if needed > total {
        let hard = socket_course::fd_limit::raise(0)
            .ok()
            .flatten()
            .map_or(0, |(_, h)| h);
        panic!(
            "test setup: this test needs about {} file descriptors, but the hard limit is \
             {hard} (see `ulimit -Hn`)",
            needed + FD_ROOM
        );
    }
    let mut taken = FD_TAKEN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    while *taken + needed > total {
        taken = FD_GIVEN_BACK
            .wait(taken)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
    }
    *taken += needed;
    FdShare(needed)
}

/// The soft limit the tests with many connections ask for (more would let more of them run
/// at once, each with hundreds of threads on this machine's few cores).
const FD_TARGET: u64 = 4_096;
/// Descriptors left for the tests that do not take a share.
const FD_ROOM: u64 = 512;
/// How many descriptors the running tests have taken, and the signal that some came back.
static FD_TAKEN: Mutex<u64> = Mutex::new(0);
static FD_GIVEN_BACK: Condvar = Condvar::new();

/// A test's share of file descriptors, given back when the test ends (or panics).
struct FdShare(u64);

impl Drop for FdShare {
    fn drop(&mut self) {
        let mut taken = FD_TAKEN
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *taken = taken.saturating_sub(self.0);
        FD_GIVEN_BACK.notify_all();
    }
}

/// A message that differs per client and per round, with bytes that are not UTF-8.
fn message(client: usize, round: usize) -> Vec<u8> {
    let mut bytes = format!("client {client} round {round}: ").into_bytes();
    bytes.extend_from_slice(&[0xff, 0x00, b'\n']);
    bytes
}

/// Exercise 4.1: `cargo test --test ch04_many_clients thread_server::`
mod thread_server {
    use super::*;
    use std::sync::mpsc;

    /// Your `run_server`, running on its own thread on 127.0.0.1, port 0.
    struct Whole {
        addr: SocketAddr,
        shutdown: Shutdown,
        running: Running<io::Result<u64>>,
    }

    impl Whole {
        #[track_caller]
        fn start(idle: Duration) -> Whole {
            Whole::start_on(idle, V4)
        }

        #[track_caller]
        fn start_on(idle: Duration, family: Family) -> Whole {
            let shutdown = Shutdown::new();
            let handle = shutdown.clone();
            let (tx, rx) = mpsc::channel();
            let mut running = start_learner(move || {
                let bind = family.any_port();
                ch04::thread_server::run_server(bind, idle, &handle, move |addr| {
                    let _ = tx.send(addr);
                })
            });
            let within = Duration::from_secs(5);
            let addr = match rx.recv_timeout(within) {
                Ok(addr) => addr,
                Err(_) => {
                    running.check(); // "your code panicked: ..." if it did
                    let duration = format!("{within:?}");
                    panic!("{}", fill("ch04.no_ready", &[("duration", &duration)]));
                }
            };
            let asked = family.any_port();
            assert!(
                Family::of(addr) == family,
                "{}",
                fill("test.same_family", &[("asked", &asked), ("got", &addr)])
            );
            Whole {
                addr,
                shutdown,
                running,
            }
        }

        #[track_caller]
        fn connect(&mut self) -> TcpStream {
            net::connect(self.addr).unwrap_or_else(|e| {
                self.running.check();
                panic!(
                    "{}",
                    fill(
                        "test.could_not_connect",
                        &[("addr", &self.addr), ("error", &e)]
                    )
                )
            })
        }

        /// Stops the server; it must return `Ok(clients)` within 5 s.
        #[track_caller]
        fn stop_expecting(self, clients: u64) {
            self.shutdown.stop();
            match self.running.finish_within(Duration::from_secs(5)) {
                Ok(got) => assert_eq!(
                    got,
                    clients,
                    "{}",
                    fill("ch04.count", &[("expected", &clients), ("got", &got)])
                ),
                Err(e) => panic!("{}", fill("ch04.error_when_stopped", &[("error", &e)])),
            }
        }
    }

    /// Sends `message` and reads it back within `within`.
    fn echo_within(stream: &mut TcpStream, message: &[u8], within: Duration) -> Result<(), String> {
        stream.write_all(message).map_err(|e| e.to_string())?;
        stream.set_read_timeout(Some(within)).unwrap();
        let mut got = vec![0u8; message.len()];
        let result = stream.read_exact(&mut got);
        stream.set_read_timeout(Some(net::IO_TIMEOUT)).unwrap();
        match result {
            Ok(()) if got == message => Ok(()),
            Ok(()) => Err(fill("ch04.sent_instead", &[("bytes", &show::bytes(&got))])),
            Err(e) if is_timeout(&e) => {
                let duration = format!("{within:?}");
                Err(fill("ch04.no_reply_within", &[("duration", &duration)]))
            }
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn a_quiet_client_holds_up_nobody() {
        let mut server = Whole::start(Duration::from_secs(10));
        let _quiet = server.connect(); // connects, then says nothing
        let mut second = server.connect();
        // A server that serves one client at a time would answer after the quiet
        // client's 10 s idle timeout.
        if let Err(why) = echo_within(&mut second, b"hello", Duration::from_secs(3)) {
            server.running.check();
            panic!("{}", fill("ch04.quiet_holds_up", &[("why", &why)]));
        }
        server.stop_expecting(2);
    }

    #[test]
    fn a_quiet_v6_client_holds_up_nobody() {
        if !V6.usable() {
            return;
        }
        let mut server = Whole::start_on(Duration::from_secs(10), V6);
        let _quiet = server.connect();
        let mut second = server.connect();
        if let Err(why) = echo_within(&mut second, b"hello over IPv6", Duration::from_secs(3)) {
            server.running.check();
            panic!("{}", fill("ch04.quiet_holds_up", &[("why", &why)]));
        }
        server.stop_expecting(2);
    }

    #[test]
    fn fifty_clients_are_echoed_at_once() {
        let mut server = Whole::start(Duration::from_secs(10));
        let mut clients: Vec<TcpStream> = (0..50).map(|_| server.connect()).collect();
        // Everyone sends before anyone reads: all 50 are served at the same time.
        for (i, client) in clients.iter_mut().enumerate() {
            client.write_all(&message(i, 0)).unwrap();
        }
        for (i, client) in clients.iter_mut().enumerate() {
            let mut got = vec![0u8; message(i, 0).len()];
            if let Err(e) = client.read_exact(&mut got) {
                server.running.check();
                panic!(
                    "{}",
                    fill(
                        "ch04.client_n_no_echo",
                        &[("n", &(i + 1)), ("total", &50), ("error", &e)]
                    )
                );
            }
            show::expect_bytes(&fill("what.echo", &[]), &message(i, 0), &got, None);
        }
        server.stop_expecting(50);
    }

    #[test]
    fn stop_closes_every_connection_waits_for_its_threads_and_counts_the_clients() {
        let mut server = Whole::start(Duration::from_secs(30));
        let mut clients: Vec<TcpStream> = (0..3).map(|_| server.connect()).collect();
        for (i, client) in clients.iter_mut().enumerate() {
            if let Err(why) = echo_within(client, &message(i, 0), ECHO_DEADLINE) {
                server.running.check();
                panic!(
                    "{}",
                    fill(
                        "ch04.client_n_no_echo",
                        &[("n", &(i + 1)), ("total", &3), ("error", &why)]
                    )
                );
            }
        }
        // All three stay connected, their threads waiting in `read` (for up to 30 s):
        // stopping must wake them (`track`), and `run_server` returns once they ended.
        server.stop_expecting(3);
        for client in &mut clients {
            if let Err(why) = wait_for_close(client, Duration::from_secs(2)) {
                panic!("{}", fill("ch04.open_after_stop", &[("why", &why)]));
            }
        }
    }

    /// `cargo run --bin tcp-thread-server`, stopped with Ctrl-C (SIGINT, as `kill -INT`
    /// sends it) while two clients are connected: it exits with 0 and says so.
    #[cfg(unix)]
    #[test]
    fn tcp_thread_server_stops_on_sigint_after_its_threads() {
        let mut command = Command::new(course_harness::program!("tcp-thread-server"));
        command.args(["--bind", "127.0.0.1:0"]);
        let mut server = ChildGuard::spawn(command);
        let addr = server.listening_addr();
        let connect = |server: &mut ChildGuard| {
            net::connect(addr).unwrap_or_else(|e| {
                server.assert_running();
                panic!(
                    "{}",
                    fill("test.could_not_connect", &[("addr", &addr), ("error", &e)])
                )
            })
        };
        let _quiet = connect(&mut server);
        let mut talker = connect(&mut server);
        if let Err(why) = echo_within(&mut talker, b"hello", Duration::from_secs(3)) {
            server.assert_running();
            panic!("{}", fill("ch04.quiet_holds_up", &[("why", &why)]));
        }
        // SAFETY: kill(2) only sends a signal to the process this test started.
        let sent = unsafe { libc::kill(server.id() as libc::pid_t, libc::SIGINT) };
        assert_eq!(sent, 0, "test setup: kill -INT failed");
        let exited = server.wait_exit(Duration::from_secs(5));
        exited.expect_code("tcp-thread-server (after Ctrl-C)", 0);
        let summary = "stopped: 2 clients served, every thread finished";
        assert!(
            exited.stderr.iter().any(|line| line == summary),
            "{}",
            fill(
                "ch03.no_summary",
                &[("expected", &summary), ("got", &exited.stderr_text())]
            )
        );
    }
}

/// Exercise 4.3: `cargo test --test ch04_many_clients connection::`
mod connection {
    use super::*;
    use mio::net::TcpStream as MioStream;

    /// (the test's client, the server's end as a non-blocking mio stream, a std handle on
    /// the server's end to peek at what waits in it).
    fn pair() -> (TcpStream, MioStream, TcpStream) {
        pair_on(V4)
    }

    /// [`pair`] on the loopback address of `family`.
    fn pair_on(family: Family) -> (TcpStream, MioStream, TcpStream) {
        let listener = net::tcp_listener_on(family);
        let client = net::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = net::accept_within(&listener, net::IO_TIMEOUT).unwrap();
        let probe = server.try_clone().unwrap();
        server.set_nonblocking(true).unwrap();
        (client, MioStream::from_std(server), probe)
    }

    /// Waits until at least `len` bytes wait on the server's end (loopback may take a moment).
    fn wait_readable(probe: &TcpStream, len: usize) {
        let deadline = Deadline::after(Duration::from_secs(5));
        let mut buf = vec![0u8; len];
        probe
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        while probe.peek(&mut buf).unwrap() < len {
            assert!(!deadline.expired(), "test setup: the bytes never arrived");
            thread::yield_now();
        }
    }

    /// Calls `pump` on the learner's thread.
    fn pump(connection: Connection, budget: usize) -> (Connection, io::Result<Progress>) {
        call_learner(move || {
            let mut connection = connection;
            let progress = connection.pump(budget);
            (connection, progress)
        })
    }

    #[test]
    fn pump_echoes_what_the_client_sent() {
        let (mut client, server, probe) = pair();
        let sent = b"Hello world \xff";
        client.write_all(sent).unwrap();
        wait_readable(&probe, sent.len());
        let (connection, progress) = pump(Connection::new(server, 1024), 1024);
        assert_eq!(
            progress.or_fail("test.returned_error", &[("call", &"pump")]),
            Progress::Waiting,
            "{}",
            text("ch04.should_wait")
        );
        assert_eq!(connection.pending(), 0, "{}", text("ch04.echo_written"));
        let mut got = vec![0u8; sent.len()];
        client.read_exact(&mut got).or_fail("ch04.no_echo", &[]);
        show::expect_bytes(&fill("what.echo", &[]), sent, &got, None);
    }

    #[test]
    fn pump_echoes_what_a_v6_client_sent() {
        if !V6.usable() {
            return;
        }
        let (mut client, server, probe) = pair_on(V6);
        let sent = b"Hello IPv6";
        client.write_all(sent).unwrap();
        wait_readable(&probe, sent.len());
        let (connection, progress) = pump(Connection::new(server, 1024), 1024);
        progress.or_fail("test.returned_error", &[("call", &"pump")]);
        assert_eq!(connection.pending(), 0, "{}", text("ch04.echo_written"));
        let mut got = vec![0u8; sent.len()];
        client.read_exact(&mut got).or_fail("ch04.no_echo", &[]);
        show::expect_bytes(&fill("what.echo", &[]), sent, &got, None);
    }

    #[test]
    fn pump_is_done_after_end_of_file_once_the_echo_is_out() {
        let (mut client, server, probe) = pair();
        client.write_all(b"bye").unwrap();
        client.shutdown(Both::Write).unwrap();
        wait_readable(&probe, 3);
        let mut connection = Connection::new(server, 1024);
        let deadline = Deadline::after(Duration::from_secs(5));
        loop {
            let (next, progress) = pump(connection, 1024);
            connection = next;
            match progress.or_fail("test.returned_error", &[("call", &"pump")]) {
                Progress::Done => break,
                _ if deadline.expired() => {
                    panic!("{}", text("ch04.never_done"))
                }
                _ => thread::yield_now(),
            }
        }
        assert_eq!(connection.pending(), 0, "{}", text("ch04.done_too_early"));
        drop((connection, probe)); // closes the server's end: the client reads end-of-file
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).unwrap();
        show::expect_bytes(&fill("what.came_back", &[]), b"bye", &rest, None);
    }

    #[test]
    fn pump_holds_at_most_max_buffer_while_the_client_does_not_read() {
        let (client, server, _probe) = pair();
        const MAX: usize = 16 * 1024;
        let data: Vec<u8> = (0..1024 * 1024u32).map(|i| (i % 253) as u8).collect();
        let mut writer = client.try_clone().unwrap();
        let to_send = data.clone();
        let sender = thread::spawn(move || writer.write_all(&to_send));

        // Phase 1: the client does not read; pump must stop reading at MAX bytes.
        let mut connection = Connection::new(server, MAX);
        for _ in 0..200 {
            let (next, progress) = pump(connection, 64 * 1024);
            connection = next;
            progress.or_fail("test.returned_error", &[("call", &"pump")]);
            assert!(
                connection.pending() <= MAX,
                "{}",
                fill(
                    "ch04.holds_too_much",
                    &[("held", &connection.pending()), ("max", &MAX)]
                )
            );
        }
        // Phase 2: the client reads; everything comes back, in order.
        let mut reader = client.try_clone().unwrap();
        let total = data.len();
        let receiver = thread::spawn(move || {
            let mut got = vec![0u8; total];
            reader.read_exact(&mut got).map(|()| got)
        });
        let deadline = Deadline::after(Duration::from_secs(8));
        while !receiver.is_finished() && !deadline.expired() {
            let (next, progress) = pump(connection, 64 * 1024);
            connection = next;
            progress.or_fail("test.returned_error", &[("call", &"pump")]);
            assert!(
                connection.pending() <= MAX,
                "{}",
                fill(
                    "ch04.holds_too_much",
                    &[("held", &connection.pending()), ("max", &MAX)]
                )
            );
            thread::yield_now();
        }
        sender
            .join()
            .unwrap()
            .or_fail("ch04.client_could_not_send", &[]);
        let got = receiver
            .join()
            .unwrap()
            .or_fail("ch04.echo_incomplete", &[]);
        assert!(got == data, "{}", text("ch04.mebibyte_changed"));
    }

    #[test]
    fn pump_stops_at_its_budget_and_asks_to_be_called_again() {
        let (mut client, server, probe) = pair();
        let sent = vec![b'x'; 10_000];
        client.write_all(&sent).unwrap();
        wait_readable(&probe, sent.len());
        let (connection, progress) = pump(Connection::new(server, 64 * 1024), 1_000);
        assert_eq!(
            progress.or_fail("test.returned_error", &[("call", &"pump")]),
            Progress::Again,
            "{}",
            text("ch04.should_say_again")
        );
        // The rest comes with more calls (no new event would announce it).
        let mut connection = connection;
        let deadline = Deadline::after(Duration::from_secs(5));
        let mut got = Vec::new();
        client.set_nonblocking(true).unwrap();
        while got.len() < sent.len() {
            assert!(
                !deadline.expired(),
                "{}",
                fill("ch04.only_bytes", &[("count", &got.len())])
            );
            let (next, progress) = pump(connection, 1_000);
            connection = next;
            progress.or_fail("test.returned_error", &[("call", &"pump")]);
            let mut buf = [0u8; 4096];
            match client.read(&mut buf) {
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("{}", fill("ch04.reading_failed", &[("error", &e)])),
            }
        }
        assert!(got == sent, "{}", text("ch04.echo_changed"));
    }

    #[test]
    fn pump_reports_a_client_that_reset() {
        let (mut client, server, probe) = pair();
        client.write_all(b"unread").unwrap();
        wait_readable(&probe, 6);
        // The server has unread bytes; a reset from the client ends the connection.
        net::reset(client);
        let mut connection = Connection::new(server, 1024);
        let deadline = Deadline::after(Duration::from_secs(5));
        loop {
            let (next, progress) = pump(connection, 1024);
            connection = next;
            match progress {
                Err(_) | Ok(Progress::Done) => break,
                Ok(_) if deadline.expired() => {
                    panic!("{}", text("ch04.reset_unnoticed"))
                }
                Ok(_) => thread::yield_now(),
            }
        }
    }
}

/// Exercise 4.4: `cargo test --test ch04_many_clients accepting::`
mod accepting {
    use super::*;
    use mio::net::TcpListener as MioListener;
    use mio::{Events, Interest, Poll, Token};

    fn setup() -> (Poll, MioListener, SocketAddr) {
        setup_on(V4)
    }

    /// [`setup`] on the loopback address of `family`.
    fn setup_on(family: Family) -> (Poll, MioListener, SocketAddr) {
        let poll = Poll::new().unwrap();
        let std_listener = net::tcp_listener_on(family);
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let mut listener = MioListener::from_std(std_listener);
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)
            .unwrap();
        (poll, listener, addr)
    }

    /// Polls until `token` has an event; fails after 5 s.
    fn wait_for(poll: &mut Poll, token: Token) {
        let mut events = Events::with_capacity(64);
        let deadline = Deadline::after(Duration::from_secs(5));
        loop {
            poll.poll(&mut events, Some(deadline.remaining())).unwrap();
            if events.iter().any(|event| event.token() == token) {
                return;
            }
            assert!(
                !deadline.expired(),
                "test setup: no event for {token:?} within 5 s"
            );
        }
    }

    /// Runs accept_ready on the learner's thread.
    fn accept(
        poll: &Poll,
        listener: MioListener,
        clients: Clients,
        limits: Limits,
    ) -> (MioListener, Clients) {
        let registry = poll.registry().try_clone().unwrap();
        call_learner(move || {
            let mut clients = clients;
            ch04::events::accept_ready(&listener, &registry, &mut clients, &limits)
                .or_fail("test.returned_error", &[("call", &"accept_ready")]);
            (listener, clients)
        })
    }

    #[test]
    fn accept_ready_accepts_every_waiting_client_and_registers_it() {
        let (mut poll, listener, addr) = setup();
        let mut streams: Vec<TcpStream> = (0..3).map(|_| net::connect(addr).unwrap()).collect();
        wait_for(&mut poll, LISTENER);
        let (_listener, mut clients) = accept(&poll, listener, Clients::new(), limits());
        assert_eq!(clients.len(), 3, "{}", text("ch04.accept_all"));
        // Registered: a client that writes makes its connection's token ready.
        streams[1].write_all(b"ping").unwrap();
        let mut events = Events::with_capacity(64);
        let deadline = Deadline::after(Duration::from_secs(5));
        let token = loop {
            poll.poll(&mut events, Some(deadline.remaining())).unwrap();
            if let Some(event) = events.iter().find(|e| e.token() != LISTENER) {
                break event.token();
            }
            assert!(!deadline.expired(), "{}", text("ch04.register"));
        };
        assert!(
            clients.get_mut(token).is_some(),
            "{}",
            fill("ch04.unknown_token", &[("token", &format!("{token:?}"))])
        );
    }

    #[test]
    fn accept_ready_closes_clients_past_the_cap() {
        let (mut poll, listener, addr) = setup();
        let mut streams: Vec<TcpStream> = (0..3).map(|_| net::connect(addr).unwrap()).collect();
        wait_for(&mut poll, LISTENER);
        let capped = Limits {
            max_clients: 2,
            ..limits()
        };
        let (_listener, clients) = accept(&poll, listener, Clients::new(), capped);
        assert_eq!(clients.len(), 2, "{}", text("ch04.max_two"));
        // Connections wait for accept in the order they came: the third is the extra one.
        if let Err(why) = wait_for_close(&mut streams[2], Duration::from_secs(5)) {
            panic!("{}", fill("ch04.past_cap_closed", &[("why", &why)]));
        }
        assert!(
            is_open_and_quiet(&streams[0]) && is_open_and_quiet(&streams[1]),
            "{}",
            text("ch04.first_two_stay")
        );
    }

    #[test]
    fn accept_ready_counts_the_share_of_a_v6_address() {
        if !V6.usable() {
            return;
        }
        let (mut poll, listener, addr) = setup_on(V6);
        // Three from ::1; the address may hold two.
        let mut streams: Vec<TcpStream> = (0..3).map(|_| net::connect(addr).unwrap()).collect();
        wait_for(&mut poll, LISTENER);
        let shared = Limits {
            max_per_address: 2,
            ..limits()
        };
        let (_listener, clients) = accept(&poll, listener, Clients::new(), shared);
        assert_eq!(clients.len(), 2, "{}", text("ch04.max_two"));
        if let Err(why) = wait_for_close(&mut streams[2], Duration::from_secs(5)) {
            panic!("{}", fill("ch04.past_share_closed", &[("why", &why)]));
        }
    }

    #[test]
    fn accept_ready_closes_a_client_past_its_address_share() {
        let (mut poll, listener, addr) = setup();
        // Three from 127.0.0.1, then one from 127.0.0.2; each address may hold two.
        let mut streams: Vec<TcpStream> = (0..3).map(|_| net::connect(addr).unwrap()).collect();
        streams.push(connect_from(spread_source(0), addr).unwrap());
        wait_for(&mut poll, LISTENER);
        let shared = Limits {
            max_per_address: 2,
            ..limits()
        };
        let (_listener, clients) = accept(&poll, listener, Clients::new(), shared);
        assert_eq!(clients.len(), 3, "{}", text("ch04.per_address_three"));
        if let Err(why) = wait_for_close(&mut streams[2], Duration::from_secs(5)) {
            panic!("{}", fill("ch04.past_share_closed", &[("why", &why)]));
        }
        assert!(
            is_open_and_quiet(&streams[3]),
            "{}",
            text("ch04.other_address_stays")
        );
    }
}

/// The specification every design meets. Its tests are run once per design, each design in a
/// module of its own (`threads::`, `events::`, `tasks::`), so that one filter selects the tests
/// of one exercise: `cargo test --test ch04_many_clients threads::` grades 4.2.
mod spec {
    use super::*;

    pub fn fifty_clients_at_once_interleaved_each_echoed_byte_exact(design: Design) {
        let mut server = Server::start(design, limits());
        let mut clients: Vec<TcpStream> = (0..50).map(|_| server.connect()).collect();
        for round in 0..3 {
            // Everyone sends before anyone reads: the server must serve all 50 at once.
            for (i, client) in clients.iter_mut().enumerate() {
                client.write_all(&message(i, round)).unwrap();
            }
            for (i, client) in clients.iter_mut().enumerate() {
                let sent = message(i, round);
                let got = server.read_exact(client, sent.len(), &sent);
                show::expect_bytes(&fill("what.echo_to", &[("client", &i)]), &sent, &got, None);
            }
        }
        server.stop();
    }

    pub fn one_byte_at_a_time_from_two_clients(design: Design) {
        let mut server = Server::start(design, limits());
        let mut a = server.connect();
        let mut b = server.connect();
        a.set_nodelay(true).unwrap();
        b.set_nodelay(true).unwrap();
        for (i, byte) in b"one byte at a time\xff".iter().enumerate() {
            server.echo(&mut a, &[*byte]);
            server.echo(&mut b, &[byte.wrapping_add(i as u8)]);
        }
        server.stop();
    }

    pub fn an_idle_client_does_not_delay_others_and_is_closed_after_the_idle_timeout(
        design: Design,
    ) {
        let idle = Duration::from_millis(300);
        let mut server = Server::start(
            design,
            Limits {
                idle_timeout: idle,
                ..limits()
            },
        );
        let connected = Instant::now();
        let mut quiet = server.connect();
        let mut other = server.connect();
        server.echo(&mut other, b"not kept waiting");
        assert!(
            is_open_and_quiet(&quiet),
            "{}",
            text("ch04.quiet_closed_early")
        );
        if let Err(why) = wait_for_close(&mut quiet, Duration::from_secs(6)) {
            let idle = format!("{idle:?}");
            panic!(
                "{}",
                fill("ch04.idle_not_closed", &[("idle", &idle), ("why", &why)])
            );
        }
        let took = connected.elapsed();
        assert!(
            took >= idle.mul_f64(0.9),
            "{}",
            fill(
                "ch04.closed_before_idle",
                &[
                    ("took", &format!("{took:?}")),
                    ("idle", &format!("{idle:?}"))
                ]
            )
        );
        server.check_running();
        server.stop();
    }

    pub fn clients_that_reset_do_not_stop_the_server(design: Design) {
        let mut server = Server::start(design, limits());
        let mut stayer = server.connect();
        server.echo(&mut stayer, b"before");
        for i in 0..20 {
            let mut leaver = server.connect();
            if i % 2 == 0 {
                // Half of them with echo bytes on the way back, unread.
                leaver.write_all(&vec![b'r'; 10_000]).unwrap();
            }
            net::reset(leaver);
        }
        server.echo(&mut stayer, b"after the resets");
        let mut newcomer = server.connect();
        server.echo(&mut newcomer, b"new client");
        server.stop();
    }

    pub fn a_client_sending_a_mebibyte_without_reading_blocks_nobody_and_is_not_buffered_whole(
        design: Design,
    ) {
        // Small socket buffers on both ends (accepted sockets inherit the listener's), so
        // that the kernel holds little and what the server holds shows.
        let listener = listener();
        let sock = socket2::SockRef::from(&listener);
        sock.set_recv_buffer_size(32 * 1024).unwrap();
        sock.set_send_buffer_size(32 * 1024).unwrap();
        let mut server = Server::start_on(design, limits(), listener);
        let mut hog = server.connect();
        let hog_sock = socket2::SockRef::from(&hog);
        hog_sock.set_recv_buffer_size(32 * 1024).unwrap();
        hog_sock.set_send_buffer_size(32 * 1024).unwrap();

        let data: Vec<u8> = (0..1024 * 1024u32).map(|i| (i % 251) as u8).collect();
        hog.set_nonblocking(true).unwrap();
        let mut sent = 0;
        let mut last_progress = Instant::now();
        let deadline = Deadline::after(Duration::from_secs(8));
        // Write without reading until no byte has gone out for 200 ms: everything between
        // the client and the server is full. (Pacing: a short nap between tries.)
        while sent < data.len() && last_progress.elapsed() < Duration::from_millis(200) {
            match hog.write(&data[sent..]) {
                Ok(n) => {
                    sent += n;
                    last_progress = Instant::now();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    server.check_running();
                    assert!(!deadline.expired(), "test setup: writing took too long");
                    thread::sleep(Duration::from_millis(5));
                }
                Err(e) => {
                    server.blame_server_first();
                    panic!("{}", fill("ch04.closed_non_reader", &[("error", &e)]))
                }
            }
        }
        hog.set_nonblocking(false).unwrap();
        assert!(sent < data.len(), "{}", text("ch04.unbounded"));
        let mut other = server.connect();
        server.echo(&mut other, b"am I blocked?");

        // Now the client reads: every byte comes back, in order.
        let mut reader = hog.try_clone().unwrap();
        let total = data.len();
        let receiver = thread::spawn(move || {
            let mut got = vec![0u8; total];
            reader.read_exact(&mut got).map(|()| got)
        });
        hog.write_all(&data[sent..])
            .or_fail("ch04.rest_not_sent", &[]);
        let got = receiver
            .join()
            .unwrap()
            .or_fail("ch04.echo_incomplete", &[]);
        assert!(got == data, "{}", text("ch04.mebibyte_changed"));
        server.stop();
    }

    pub fn one_address_holds_at_most_max_per_address(design: Design) {
        let mut server = Server::start(
            design,
            Limits {
                max_per_address: 2,
                ..limits()
            },
        );
        let mut a = server.connect();
        let mut b = server.connect();
        server.echo(&mut a, b"a");
        server.echo(&mut b, b"b");
        let mut c = server.connect(); // a third from 127.0.0.1
        if let Err(why) = wait_for_close(&mut c, Duration::from_secs(5)) {
            panic!("{}", fill("ch04.past_share_closed", &[("why", &why)]));
        }
        let mut d = connect_from(spread_source(0), server.addr).unwrap();
        server.echo(&mut d, b"another address");
        server.stop();
    }

    pub fn a_client_trickling_bytes_is_closed_at_the_end_of_its_window(design: Design) {
        // 100 bytes a second are asked for over each 0.5 s window; the client sends a
        // byte every 100 ms: never idle, far too slow. It holds the only place, so others
        // wait for it: the minimum rate applies.
        let window = Duration::from_millis(500);
        let mut server = Server::start(
            design,
            Limits {
                idle_timeout: window,
                min_rate: 100,
                max_clients: 1,
                ..limits()
            },
        );
        let trickler = server.connect();
        let started = Instant::now();
        let dripping = trickler.try_clone().unwrap();
        // Pacing: the slow client's byte every 100 ms, for at most 3 s.
        let drip = thread::spawn(move || {
            for _ in 0..30 {
                if (&dripping).write_all(b".").is_err() {
                    break;
                }
                thread::sleep(Duration::from_millis(100));
            }
        });
        // Read (and drop) the echoes until the server closes the connection.
        let mut reader = &trickler;
        reader
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let mut buf = [0u8; 64];
        let closed = loop {
            if started.elapsed() > window * 2 + Duration::from_secs(1) {
                break false;
            }
            match reader.read(&mut buf) {
                Ok(0) => break true,
                Ok(_) => {}
                Err(e) if is_timeout(&e) => server.check_running(),
                Err(_reset) => break true,
            }
        };
        let took = started.elapsed();
        let _ = trickler.shutdown(Both::Both); // ends the dripping thread
        let _ = drip.join();
        assert!(
            closed,
            "{}",
            fill("ch04.trickler_kept", &[("took", &format!("{took:.1?}"))])
        );
        server.check_running();
        let mut other = server.connect();
        server.echo(&mut other, b"still serving");
        server.stop();
    }

    pub fn past_max_clients_a_new_client_is_closed_until_a_place_frees(design: Design) {
        let mut server = Server::start(
            design,
            Limits {
                max_clients: 2,
                ..limits()
            },
        );
        let mut a = server.connect();
        let mut b = server.connect();
        server.echo(&mut a, b"a");
        server.echo(&mut b, b"b");
        let mut c = server.connect();
        if let Err(why) = wait_for_close(&mut c, Duration::from_secs(5)) {
            panic!("{}", fill("ch04.third_not_closed", &[("why", &why)]));
        }
        drop(a); // a place frees once the server notices
        let deadline = Deadline::after(Duration::from_secs(5));
        loop {
            let mut d = server.connect();
            if d.write_all(b"d").is_ok() && is_open_after_echo(&mut d, b"d") {
                break;
            }
            server.check_running();
            assert!(!deadline.expired(), "{}", text("ch04.no_new_client"));
            thread::sleep(Duration::from_millis(20)); // pacing: a new try every 20 ms
        }
        server.echo(&mut b, b"b again");
        server.stop();
    }

    /// Whether `expected` comes back on `stream` (false if the server closes it instead).
    fn is_open_after_echo(stream: &mut TcpStream, expected: &[u8]) -> bool {
        let mut got = vec![0u8; expected.len()];
        stream.read_exact(&mut got).is_ok() && got == expected
    }

    pub fn a_thousand_connections_at_once_each_echoed(design: Design) {
        let _fds = many_sockets(2 * 1_000);
        let mut server = Server::start(design, limits());
        let mut clients: Vec<TcpStream> = (0..1_000).map(|_| server.connect()).collect();
        for (i, client) in clients.iter_mut().enumerate() {
            client.write_all(&message(i, 0)).unwrap();
        }
        for (i, client) in clients.iter_mut().enumerate() {
            let sent = message(i, 0);
            let got = server.read_exact(client, sent.len(), &sent);
            show::expect_bytes(&fill("what.echo_to", &[("client", &i)]), &sent, &got, None);
        }
        server.stop();
    }

    pub fn v6_clients_are_echoed(design: Design) {
        if !V6.usable() {
            return;
        }
        let mut server = Server::start_on(design, limits(), listener_on(V6));
        let mut a = server.connect();
        let mut b = server.connect();
        server.echo(&mut a, b"first over IPv6");
        server.echo(&mut b, b"second over IPv6");
        server.stop();
    }

    pub fn stop_closes_every_connection_and_returns(design: Design) {
        let mut server = Server::start(design, limits());
        let mut talker = server.connect();
        let mut quiet = server.connect();
        server.echo(&mut talker, b"hello");
        server.stop(); // fails unless serve returns within 5 s
        for (key, stream) in [
            ("ch04.talker_open", &mut talker),
            ("ch04.quiet_open", &mut quiet),
        ] {
            if let Err(why) = wait_for_close(stream, Duration::from_secs(5)) {
                panic!("{}", fill(key, &[("why", &why)]));
            }
        }
    }
}

/// The tests of [`spec`] for one design, in a module named after the design's file.
macro_rules! spec_tests {
    ($module:ident, $design:expr) => {
        mod $module {
            use super::*;

            #[test]
            fn fifty_clients_at_once_interleaved_each_echoed_byte_exact() {
                spec::fifty_clients_at_once_interleaved_each_echoed_byte_exact($design);
            }

            #[test]
            fn one_byte_at_a_time_from_two_clients() {
                spec::one_byte_at_a_time_from_two_clients($design);
            }

            #[test]
            fn an_idle_client_does_not_delay_others_and_is_closed_after_the_idle_timeout() {
                spec::an_idle_client_does_not_delay_others_and_is_closed_after_the_idle_timeout($design);
            }

            #[test]
            fn clients_that_reset_do_not_stop_the_server() {
                spec::clients_that_reset_do_not_stop_the_server($design);
            }

            #[test]
            fn a_client_sending_a_mebibyte_without_reading_blocks_nobody_and_is_not_buffered_whole() {
                spec::a_client_sending_a_mebibyte_without_reading_blocks_nobody_and_is_not_buffered_whole($design);
            }

            #[test]
            fn one_address_holds_at_most_max_per_address() {
                spec::one_address_holds_at_most_max_per_address($design);
            }

            #[test]
            fn a_client_trickling_bytes_is_closed_at_the_end_of_its_window() {
                spec::a_client_trickling_bytes_is_closed_at_the_end_of_its_window($design);
            }

            #[test]
            fn past_max_clients_a_new_client_is_closed_until_a_place_frees() {
                spec::past_max_clients_a_new_client_is_closed_until_a_place_frees($design);
            }

            #[test]
            fn a_thousand_connections_at_once_each_echoed() {
                spec::a_thousand_connections_at_once_each_echoed($design);
            }

            #[test]
            fn v6_clients_are_echoed() {
                spec::v6_clients_are_echoed($design);
            }

            #[test]
            fn stop_closes_every_connection_and_returns() {
                spec::stop_closes_every_connection_and_returns($design);
            }
        }
    };
}

// Exercise 4.2: threads with limits.
spec_tests!(threads, Design::Threads);
// Exercise 4.5: the event loop.
spec_tests!(events, Design::Events);
// Exercise 4.6: a task per connection (with `program::`).
spec_tests!(tasks, Design::Tasks);

/// `tcp-multi-server` with its defaults (only the port changed, to one the OS picks).
mod program {
    use super::*;

    fn start(design: &str, args: &[&str]) -> (ChildGuard, SocketAddr) {
        let mut command = Command::new(course_harness::program!("tcp-multi-server"));
        command
            .args(["--bind", "127.0.0.1:0", "--design", design])
            .args(args);
        let mut child = ChildGuard::spawn(command);
        let addr = child.listening_addr();
        (child, addr)
    }

    /// Slowloris: 300 clients, each from its own address, send one byte every second, so
    /// the 1.5 s idle timeout never closes them, and hold every place (`--max-clients
    /// 300`). They move less than the minimum rate (4 bytes a second by default, over each
    /// idle-timeout window), so a newcomer must be served within the window + 1 s.
    fn a_probe_is_served_while_300_clients_drip(design: &str) {
        let window = Duration::from_millis(1_500);
        let dripping = Duration::from_secs(1);
        let limit = window + Duration::from_secs(1);
        probe_served_among_300_drippers(design, dripping, limit, "ch04.drip_starves");
    }

    /// A person typing into tcp-client: one byte every 0.2 s, below `--min-rate 20` (15
    /// bytes sent over each 0.75 s window; it sends at most 4), never
    /// idle. Alone on the server (far from `--max-clients`), the minimum rate does not
    /// apply: the client is kept over 3 windows.
    fn a_slow_client_alone_is_kept(design: &str) {
        let (mut server, addr) = start(design, &["--idle-timeout", "0.75", "--min-rate", "20"]);
        let mut slow = net::connect(addr).unwrap();
        slow.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
        let started = Instant::now();
        // Pacing: a byte every 0.2 s (5 bytes/s, under the minimum of 20) for 3 windows
        // (2.25 s) and a bit more.
        while started.elapsed() < Duration::from_millis(2_500) {
            let mut one = [0u8; 1];
            let echoed = slow
                .write_all(b".")
                .and_then(|()| slow.read_exact(&mut one));
            if let Err(e) = echoed {
                server.assert_running();
                let took = format!("{:.1?}", started.elapsed());
                let args: [(&str, &dyn std::fmt::Display); 3] =
                    [("design", &design), ("took", &took), ("error", &e)];
                panic!("{}", fill("ch04.slow_alone_closed", &args));
            }
            thread::sleep(Duration::from_millis(200));
        }
    }

    /// Drips that read their echo: 300 clients each send a byte every 0.35 s and read it
    /// back. They send about 4.3 bytes over each 1.5 s window, below the minimum (6); with
    /// the echo counted too they would pass (8.6). Only what a client sends is progress, so
    /// they are closed while others wait, and a newcomer is served.
    fn a_probe_is_served_while_300_clients_drip_and_read_the_echo(design: &str) {
        let window = Duration::from_millis(1_500);
        let dripping = Duration::from_millis(350);
        let limit = window * 2 + Duration::from_secs(1);
        probe_served_among_300_drippers(design, dripping, limit, "ch04.drip_echo_starves");
    }

    /// 300 clients, each from its own address, send a byte every `dripping` (and read
    /// what comes back) to a server with a 1.5 s idle timeout and `--max-clients 300`;
    /// then a newcomer's probe must be echoed within `limit` of the start, or the test
    /// fails with the message `failure` (its arguments: design, limit, open).
    fn probe_served_among_300_drippers(
        design: &str,
        dripping: Duration,
        limit: Duration,
        failure: &str,
    ) {
        const DRIPPERS: usize = 300;
        let _fds = many_sockets(DRIPPERS as u64);
        let (mut server, addr) = start(design, &["--idle-timeout", "1.5", "--max-clients", "300"]);
        let started = Instant::now();
        let drippers = Drippers::start(addr, DRIPPERS, dripping, Duration::from_secs(8))
            .unwrap_or_else(|e| panic!("test setup: 300 clients could not connect: {e}"));
        let served = probe_echo(addr, b"probe", limit.saturating_sub(started.elapsed()));
        if served.is_none() {
            server.assert_running();
            let args: [(&str, &dyn std::fmt::Display); 3] = [
                ("design", &design),
                ("limit", &format!("{limit:?}")),
                ("open", &drippers.open()),
            ];
            panic!("{}", fill(failure, &args));
        }
    }

    #[test]
    fn threads_close_drips_that_read_their_echo() {
        a_probe_is_served_while_300_clients_drip_and_read_the_echo("threads");
    }

    #[test]
    fn events_close_drips_that_read_their_echo() {
        a_probe_is_served_while_300_clients_drip_and_read_the_echo("events");
    }

    #[test]
    fn async_closes_drips_that_read_their_echo() {
        a_probe_is_served_while_300_clients_drip_and_read_the_echo("async");
    }

    #[test]
    fn threads_keep_a_slow_client_alone() {
        a_slow_client_alone_is_kept("threads");
    }

    #[test]
    fn events_keep_a_slow_client_alone() {
        a_slow_client_alone_is_kept("events");
    }

    #[test]
    fn async_keeps_a_slow_client_alone() {
        a_slow_client_alone_is_kept("async");
    }

    #[test]
    fn threads_serve_a_probe_while_300_clients_drip() {
        a_probe_is_served_while_300_clients_drip("threads");
    }

    #[test]
    fn events_serve_a_probe_while_300_clients_drip() {
        a_probe_is_served_while_300_clients_drip("events");
    }

    #[test]
    fn async_serves_a_probe_while_300_clients_drip() {
        a_probe_is_served_while_300_clients_drip("async");
    }

    /// Out of file descriptors: the server's soft limit is lowered (prlimit, as an
    /// administrator would) to a few dozen, and clients connect until one is not served:
    /// it waits in the kernel's queue while `accept` fails with EMFILE, again and again.
    /// The failure is logged at most once a second, and once a client leaves (a descriptor
    /// is free) the waiting client is served within 1 s. (No `/proc` is needed: the
    /// grader's sandbox has none.)
    #[cfg(target_os = "linux")]
    fn out_of_descriptors_a_waiting_client_is_served_once_one_frees(design: &str) {
        const LOW_LIMIT: u64 = 48;
        let (mut server, addr) = start(design, &[]);
        let mut leaver = net::connect(addr).unwrap();
        leaver.write_all(b"x").unwrap();
        let mut one = [0u8; 1];
        leaver.read_exact(&mut one).unwrap();
        let pid = server.id() as libc::pid_t;
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: prlimit reads and writes the two structs passed; pid is our own child.
        let lowered = unsafe {
            libc::prlimit(pid, libc::RLIMIT_NOFILE, std::ptr::null(), &mut limit) == 0 && {
                let new = libc::rlimit {
                    rlim_cur: LOW_LIMIT,
                    rlim_max: limit.rlim_max,
                };
                libc::prlimit(pid, libc::RLIMIT_NOFILE, &new, std::ptr::null_mut()) == 0
            }
        };
        assert!(
            lowered,
            "test setup: prlimit failed: {}",
            io::Error::last_os_error()
        );
        // Clients that are served stay connected (each holds a descriptor of the server);
        // the first one that is not served, while the server reports a failed accept, is
        // the one that waits.
        let mut served = Vec::new();
        let (mut waiting, first) = 'fill: loop {
            assert!(
                served.len() <= LOW_LIMIT as usize,
                "test setup: {} clients served under a limit of {LOW_LIMIT} descriptors",
                served.len()
            );
            let mut client = net::connect(addr).unwrap();
            client.write_all(b"waiting").unwrap();
            client
                .set_read_timeout(Some(Duration::from_millis(50)))
                .unwrap();
            let given_up = Instant::now() + Duration::from_secs(10);
            let mut got = [0u8; 7];
            loop {
                if client.read_exact(&mut got).is_ok() {
                    served.push(client);
                    continue 'fill;
                }
                if let Ok(line) = server.next_line(Stream::Stderr, Duration::from_millis(50))
                    && line.contains("accept")
                {
                    break 'fill (client, line); // earlier lines: the limit it raised
                }
                assert!(
                    Instant::now() < given_up,
                    "test setup: client {} neither served nor refused in 10 s",
                    served.len() + 1
                );
            }
        };
        let counting = Instant::now();
        let mut reports = vec![first];
        while let Some(left) = Duration::from_millis(1_100).checked_sub(counting.elapsed()) {
            match server.next_line(Stream::Stderr, left) {
                Ok(line) => reports.push(line),
                Err(_) => break,
            }
        }
        drop(leaver); // the server closes its end: one descriptor is free
        let freed = Instant::now();
        waiting
            .set_read_timeout(Some(Duration::from_secs(3)))
            .unwrap();
        let mut got = [0u8; 7];
        let echoed = waiting.read_exact(&mut got).is_ok() && &got == b"waiting";
        let took = freed.elapsed();
        let limit = Duration::from_secs(1);
        server.assert_running();
        if !echoed || took > limit + Duration::from_millis(200) {
            let args: [(&str, &dyn std::fmt::Display); 2] =
                [("design", &design), ("took", &format!("{took:.1?}"))];
            panic!("{}", fill("ch04.emfile_stuck", &args));
        }
        let args: [(&str, &dyn std::fmt::Display); 2] = [
            ("count", &reports.len()),
            ("lines", &format!("{reports:#?}")),
        ];
        assert!(
            reports.len() <= 3,
            "{}",
            fill("ch04.emfile_log_flood", &args)
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn threads_recover_when_descriptors_run_out() {
        out_of_descriptors_a_waiting_client_is_served_once_one_frees("threads");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn events_recover_when_descriptors_run_out() {
        out_of_descriptors_a_waiting_client_is_served_once_one_frees("events");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn async_recovers_when_descriptors_run_out() {
        out_of_descriptors_a_waiting_client_is_served_once_one_frees("async");
    }

    /// A soak test: 3,000 connections take a second or two, too long for the everyday suite.
    /// `.ci/run` runs it: `cargo test --features solutions --test ch04_many_clients --
    /// --ignored`.
    #[test]
    #[ignore = "soak test, run by .ci/run (cargo test --test ch04_many_clients -- --ignored)"]
    fn tcp_multi_server_with_its_defaults_holds_3000_clients_every_one_echoed() {
        const CLIENTS: usize = 3_000;
        let _fds = many_sockets(CLIENTS as u64);
        let mut command = Command::new(course_harness::program!("tcp-multi-server"));
        command.args(["--bind", "127.0.0.1:0"]);
        let mut child = ChildGuard::spawn(command);
        let addr = child.listening_addr();
        let mut clients = Vec::with_capacity(CLIENTS);
        for i in 0..CLIENTS {
            // 500 clients per source address: one address may hold 1,000 (--max-per-address).
            match connect_from(spread_source(i / 500), addr) {
                Ok(stream) => clients.push(stream),
                Err(e) => {
                    let args: [(&str, &dyn std::fmt::Display); 3] =
                        [("n", &clients.len()), ("total", &CLIENTS), ("error", &e)];
                    child.fail(&fill("ch04.client_n_connect", &args))
                }
            }
        }
        for (i, client) in clients.iter_mut().enumerate() {
            client.write_all(&message(i, 0)).unwrap();
        }
        for (i, client) in clients.iter_mut().enumerate() {
            let sent = message(i, 0);
            let mut got = vec![0u8; sent.len()];
            if let Err(e) = client.read_exact(&mut got) {
                let args: [(&str, &dyn std::fmt::Display); 3] =
                    [("n", &i), ("total", &CLIENTS), ("error", &e)];
                child.fail(&fill("ch04.client_n_no_echo", &args));
            }
            show::expect_bytes(&fill("what.echo_to", &[("client", &i)]), &sent, &got, None);
        }
        child.assert_running();
    }
}
