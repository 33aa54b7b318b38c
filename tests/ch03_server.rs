//! Chapter 3, exercise 3.4: the whole echo server, from `bind` to a clean stop on Ctrl-C.
//! Grade it with `cargo test --test ch03_server`; every test calls your code in
//! `exercises/src/ch03_tcp/server.rs`.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use course_catalog::fill;
use course_harness::deadline::Running;
use course_harness::net;
use course_harness::net::Family::{self, V4, V6};
use course_harness::show;
use course_harness::start_learner;
use socket_course::ch03_tcp::{Served, Shutdown, run_echo_server};

/// Reads until the server closes the connection (end-of-file or a reset), within `within`.
fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 64];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                return !matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                );
            }
        }
    }
}

/// Fails unless the server reports what it served.
#[track_caller]
fn expect_served(served: Served, expected: Served) {
    assert_eq!(
        served,
        expected,
        "{}",
        fill(
            "ch03.served_count",
            &[
                ("expected", &format!("{expected:?}")),
                ("got", &format!("{served:?}"))
            ]
        )
    );
}

/// Step 3.4a: `cargo test --test ch03_server run_echo_server::`
mod run_echo_server {
    use super::*;

    /// Your server on its own thread, on 127.0.0.1 (or `::1`) port 0.
    struct Server {
        addr: SocketAddr,
        shutdown: Shutdown,
        running: Running<io::Result<Served>>,
    }

    impl Server {
        #[track_caller]
        fn start(idle: Duration) -> Server {
            Server::start_on(idle, V4)
        }

        #[track_caller]
        fn start_on(idle: Duration, family: Family) -> Server {
            let shutdown = Shutdown::new();
            let handle = shutdown.clone();
            let (tx, rx) = mpsc::channel();
            let mut running = start_learner(move || {
                let bind = family.any_port();
                run_echo_server(bind, idle, &handle, move |addr| {
                    let _ = tx.send(addr);
                })
            });
            let within = Duration::from_secs(5);
            let Ok(addr) = rx.recv_timeout(within) else {
                running.check(); // "your code panicked: ..." if it did
                let duration = format!("{within:?}");
                panic!("{}", fill("ch03.no_ready", &[("duration", &duration)]));
            };
            let asked = family.any_port();
            assert!(
                Family::of(addr) == family,
                "{}",
                fill("test.same_family", &[("asked", &asked), ("got", &addr)])
            );
            Server {
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

        /// Sends `message` and expects exactly it back.
        #[track_caller]
        fn echo(&mut self, stream: &mut TcpStream, message: &[u8]) {
            let mut got = vec![0u8; message.len()];
            let result = stream
                .write_all(message)
                .and_then(|()| stream.read_exact(&mut got));
            if let Err(e) = result {
                self.running.check();
                panic!("{}", fill("ch03.no_echo_from_yours", &[("error", &e)]));
            }
            show::expect_bytes(&fill("what.echo", &[]), message, &got, None);
        }

        /// Stops the server, which must return within 5 s with what it served.
        #[track_caller]
        fn stop(self) -> Served {
            self.shutdown.stop();
            match self.running.finish_within(Duration::from_secs(5)) {
                Ok(served) => served,
                Err(e) => panic!("{}", fill("ch03.error_when_stopped", &[("error", &e)])),
            }
        }
    }

    #[test]
    fn echoes_one_client_after_another_and_counts_clients_and_bytes() {
        let mut server = Server::start(Duration::from_secs(10));
        for message in [&b"hello"[..], b"world!"] {
            let mut client = server.connect();
            server.echo(&mut client, message);
            // The client closes its side; the server must close too and take the next.
            client.shutdown(std::net::Shutdown::Write).unwrap();
            assert!(
                closed_within(&mut client, Duration::from_secs(3)),
                "{}",
                fill("ch03.not_closed_after_eof", &[])
            );
        }
        let expected = Served {
            clients: 2,
            bytes: 11,
        };
        expect_served(server.stop(), expected);
    }

    #[test]
    fn echoes_a_v6_client_and_counts_it() {
        if !V6.usable() {
            return;
        }
        let mut server = Server::start_on(Duration::from_secs(10), V6);
        let mut client = server.connect();
        server.echo(&mut client, b"hello over IPv6");
        drop(client);
        let expected = Served {
            clients: 1,
            bytes: 15,
        };
        expect_served(server.stop(), expected);
    }

    #[test]
    fn a_silent_client_is_closed_after_the_idle_timeout_and_the_next_is_served() {
        let mut server = Server::start(Duration::from_millis(300));
        let mut silent = server.connect();
        let mut next = server.connect();
        assert!(
            closed_within(&mut silent, Duration::from_secs(3)),
            "{}",
            fill("ch03.silent_kept", &[])
        );
        server.echo(&mut next, b"my turn");
        drop(next);
        // The silent client counts too; "my turn" is 7 bytes.
        let expected = Served {
            clients: 2,
            bytes: 7,
        };
        expect_served(server.stop(), expected);
    }

    #[test]
    fn stopping_disconnects_the_client_being_served_and_returns() {
        let mut server = Server::start(Duration::from_secs(30));
        let mut client = server.connect();
        server.echo(&mut client, b"still here");
        // The server waits in `read` for this client (for up to 30 s): stop() must end
        // that wait (`track`) and the loop.
        let expected = Served {
            clients: 1,
            bytes: 10,
        };
        expect_served(server.stop(), expected);
        assert!(
            closed_within(&mut client, Duration::from_secs(2)),
            "{}",
            fill("ch03.open_after_stop", &[])
        );
    }
}

/// Step 3.4b: `cargo test --test ch03_server ctrl_c::`. Ctrl-C in a terminal sends the
/// program SIGINT; the test sends it the same way, with `kill` (Unix only).
#[cfg(unix)]
mod ctrl_c {
    use super::*;
    use course_harness::ChildGuard;
    use std::process::Command;

    #[test]
    fn tcp_echo_server_stops_on_sigint_exits_0_and_prints_its_summary() {
        stops_on_sigint(V4);
    }

    #[test]
    fn tcp_echo_server_on_v6_stops_on_sigint_exits_0_and_prints_its_summary() {
        if V6.usable() {
            stops_on_sigint(V6);
        }
    }

    fn stops_on_sigint(family: Family) {
        let mut command = Command::new(course_harness::program!("tcp-echo-server"));
        command.args(["--bind", &family.any_port().to_string()]);
        let mut server = ChildGuard::spawn(command);
        let addr = server.listening_addr();
        let mut client = net::connect(addr).unwrap_or_else(|e| {
            server.assert_running();
            panic!(
                "{}",
                fill("test.could_not_connect", &[("addr", &addr), ("error", &e)])
            )
        });
        let mut got = [0u8; 5];
        let echoed = client
            .write_all(b"hello")
            .and_then(|()| client.read_exact(&mut got));
        if let Err(e) = echoed {
            server.assert_running();
            panic!("{}", fill("ch03.no_echo_from_yours", &[("error", &e)]));
        }
        // The client stays connected: Ctrl-C must end its conversation too.
        // SAFETY: kill(2) only sends a signal to the process the test started.
        let sent = unsafe { libc::kill(server.id() as libc::pid_t, libc::SIGINT) };
        assert_eq!(sent, 0, "test setup: kill -INT failed");
        let exited = server.wait_exit(Duration::from_secs(5));
        exited.expect_code("tcp-echo-server (after Ctrl-C)", 0);
        let summary = "stopped: 1 clients served, 5 bytes echoed";
        assert!(
            exited.stderr.iter().any(|line| line == summary),
            "{}",
            fill(
                "ch03.no_summary",
                &[("expected", &summary), ("got", &exited.stderr_text())]
            )
        );
        assert!(
            closed_within(&mut client, Duration::from_secs(2)),
            "{}",
            fill("ch03.open_after_stop", &[])
        );
    }
}
