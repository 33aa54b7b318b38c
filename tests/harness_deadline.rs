//! Self-tests of the harness's deadlines: learner code that returns, panics or never returns.

use std::time::{Duration, Instant};

use course_harness::deadline::panic_text;
use course_harness::{call_learner, call_learner_within};

#[test]
fn the_value_of_code_that_returns_is_passed_through() {
    assert_eq!(call_learner(|| 6 * 7), 42);
}

#[test]
fn a_stub_fails_at_once_with_its_panic_message() {
    let text = panic_text(|| {
        call_learner(|| -> u16 { todo!() });
    });
    assert_eq!(text, "your code panicked: not yet implemented");
    // At once: not at the deadline. (Not "within a second": with RUST_BACKTRACE=1 the
    // panic's backtrace alone takes about 2 s to print in a debug build on a 2-core machine.)
    let within = Duration::from_secs(30);
    let started_within = Instant::now();
    let text = panic_text(|| {
        call_learner_within(within, || -> u16 { todo!() });
    });
    assert_eq!(text, "your code panicked: not yet implemented");
    assert!(
        started_within.elapsed() < within / 3,
        "took {:?} of the {within:?} deadline",
        started_within.elapsed()
    );
}

#[test]
fn an_endless_loop_fails_at_the_deadline_instead_of_hanging() {
    let started = Instant::now();
    let text = panic_text(|| {
        // A stub replaced by `loop {}`: it spins forever, and the test must still end.
        #[allow(clippy::empty_loop)]
        call_learner_within(Duration::from_millis(300), || -> u16 {
            loop {}
        });
    });
    assert_eq!(text, "timed out: your code did not return within 0.3 s");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(3),
        "took {took:?}"
    );
}

#[test]
fn code_blocked_in_recv_fails_at_the_deadline() {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let text = panic_text(|| {
        let _ = call_learner_within(Duration::from_millis(300), move || {
            // No read timeout and nobody sends: this recv would block forever.
            let mut buf = [0u8; 16];
            socket.recv(&mut buf)
        });
    });
    assert_eq!(text, "timed out: your code did not return within 0.3 s");
}

#[test]
fn code_started_in_the_background_gives_its_result_when_finished() {
    let (tx, rx) = std::sync::mpsc::channel::<u8>();
    let mut running = course_harness::start_learner(move || rx.recv().unwrap() * 2);
    assert!(!running.is_finished(), "it waits for the test's part");
    tx.send(21).unwrap();
    assert_eq!(running.finish(), 42);
}

#[test]
fn check_reports_a_background_panic_at_once() {
    let mut running = course_harness::start_learner(|| -> u8 { todo!() });
    // Wait until the code has panicked: with RUST_BACKTRACE=1 the first backtrace of a process
    // takes longer to print than `check`'s grace period, and `check` would rightly say
    // nothing yet. What is tested is that a panic that happened is reported at once.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !running.is_finished() {
        assert!(Instant::now() < deadline, "the stub did not panic");
        std::thread::sleep(Duration::from_millis(5));
    }
    let started = Instant::now();
    let text = panic_text(move || running.check());
    assert_eq!(text, "your code panicked: not yet implemented");
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn background_code_that_never_returns_times_out_when_finished() {
    let running = course_harness::start_learner(|| std::thread::sleep(Duration::from_secs(3600)));
    let text = panic_text(move || running.finish_within(Duration::from_millis(200)));
    assert_eq!(text, "timed out: your code did not return within 0.2 s");
}
