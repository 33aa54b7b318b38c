//! [`ChildGuard`]: a program under test, run as a real process, that can never outlive its test.
//!
//! Its stdout and stderr are read line by line on two threads, so the test never blocks on a
//! pipe and the child never blocks on a full one. When the child exits early (a stub that
//! panicked, a bad flag) the readers see end-of-file at once and the guard reports the exit
//! status and everything the child printed, instead of waiting for a timeout.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::Duration;

use crate::deadline::{Deadline, format_duration};

/// How long a server may take to print its `listening on` line.
pub const STARTUP_DEADLINE: Duration = Duration::from_secs(5);

/// How long the guard waits for one line of output by default.
pub const LINE_DEADLINE: Duration = Duration::from_secs(5);

/// Which output stream of the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Why no line came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoLine {
    /// The deadline passed while the child was still running.
    TimedOut,
    /// The stream reached end-of-file: the child exited (or closed it).
    Ended,
}

/// A spawned child process, killed and reaped when the guard drops.
pub struct ChildGuard {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    /// Every line read so far, per stream, for failure messages.
    seen: Vec<(Stream, String)>,
}

impl ChildGuard {
    /// Spawns `command` with all three standard streams piped. Panics (test setup) if the
    /// program cannot be started.
    pub fn spawn(command: Command) -> Self {
        Self::spawn_with_stdout(command, Stdio::piped())
    }

    /// [`ChildGuard::spawn`], with stdout going to `stdout` (a file, for a byte-exact copy)
    /// instead of being read as lines.
    pub fn spawn_with_stdout(mut command: Command, stdout: Stdio) -> Self {
        let name = command.get_program().to_string_lossy().into_owned();
        let name = std::path::Path::new(&name)
            .file_stem()
            .map_or(name.clone(), |stem| stem.to_string_lossy().into_owned());
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("test setup: could not start `{name}`: {e}"));
        let stdout = match child.stdout.take() {
            Some(pipe) => read_lines(pipe),
            None => mpsc::channel().1, // not piped: a stream that has already ended
        };
        let stderr = read_lines(child.stderr.take().expect("stderr is piped"));
        let stdin = child.stdin.take();
        ChildGuard {
            name,
            child,
            stdin,
            stdout,
            stderr,
            seen: Vec::new(),
        }
    }

    /// Runs `command` to its end with `stdin` as its whole input, like `Command::output()`
    /// but with a deadline: a program still running after `within` is killed, and the test
    /// fails saying so in words (not `left: None, right: Some(1)`), with what it printed.
    /// Every test that runs a program to its end goes through here.
    #[track_caller]
    pub fn run_to_end(command: Command, stdin: &[u8], within: Duration) -> Exited {
        let mut child = Self::spawn(command);
        // Written on a thread: a program that never reads its stdin must not block the test
        // on a full pipe. A program that exits before reading it all (a usage error) closes
        // the pipe: not the test's concern, its exit status says what happened.
        if let Some(mut pipe) = child.stdin.take() {
            let input = stdin.to_vec();
            thread::spawn(move || {
                let _ = pipe.write_all(&input);
                // Dropping `pipe` closes it: the program reads end-of-file.
            });
        }
        match child.exited_within(within) {
            Some(exited) => exited,
            None => {
                let (name, duration) = (child.name.clone(), format_duration(within));
                child.fail(&course_catalog::fill(
                    "harness.still_running",
                    &[("name", &name), ("duration", &duration)],
                ))
            }
        }
    }

    /// The child's process id (to send it a signal, say).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The program's name, for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Waits for the contract's first stderr line, `listening on IP:PORT`, and returns the
    /// address. Fails the test if the child exits first, prints something else, or is silent
    /// past [`STARTUP_DEADLINE`].
    #[track_caller]
    pub fn listening_addr(&mut self) -> SocketAddr {
        let line = self.expect_line(Stream::Stderr, STARTUP_DEADLINE);
        match line
            .strip_prefix("listening on ")
            .map(|rest| rest.trim().parse::<SocketAddr>())
        {
            Some(Ok(addr)) => addr,
            _ => {
                let (name, line) = (self.name.clone(), format!("{line:?}"));
                self.fail(&course_catalog::fill(
                    "harness.no_listening_line",
                    &[("name", &name), ("line", &line)],
                ))
            }
        }
    }

    /// The next line on `stream` within [`LINE_DEADLINE`]; fails the test otherwise.
    #[track_caller]
    pub fn expect_line(&mut self, stream: Stream, within: Duration) -> String {
        match self.next_line(stream, within) {
            Ok(line) => line,
            Err(NoLine::TimedOut) => {
                let (name, duration) = (self.name.clone(), format_duration(within));
                let stream = stream_name(stream);
                let args: [(&str, &dyn std::fmt::Display); 3] = [
                    ("name", &name),
                    ("stream", &stream),
                    ("duration", &duration),
                ];
                self.fail(&course_catalog::fill("harness.no_line_within", &args))
            }
            Err(NoLine::Ended) => {
                let status = self.wait_briefly();
                let (name, stream) = (self.name.clone(), stream_name(stream));
                let status = describe(status);
                let args: [(&str, &dyn std::fmt::Display); 3] =
                    [("name", &name), ("stream", &stream), ("status", &status)];
                self.fail(&course_catalog::fill("harness.closed_stream", &args))
            }
        }
    }

    /// The next stdout line within [`LINE_DEADLINE`]; fails the test otherwise.
    #[track_caller]
    pub fn stdout_line(&mut self) -> String {
        self.expect_line(Stream::Stdout, LINE_DEADLINE)
    }

    /// The next stderr line within [`LINE_DEADLINE`]; fails the test otherwise.
    #[track_caller]
    pub fn stderr_line(&mut self) -> String {
        self.expect_line(Stream::Stderr, LINE_DEADLINE)
    }

    /// Reads stdout lines (each within [`LINE_DEADLINE`]) until one ends with `suffix`, and
    /// returns it; the lines before it are skipped.
    #[track_caller]
    pub fn stdout_line_ending_with(&mut self, suffix: &str) -> String {
        loop {
            let line = self.stdout_line();
            if line.ends_with(suffix) {
                return line;
            }
        }
    }

    /// The next line on `stream`, or why none came within `within`.
    pub fn next_line(&mut self, stream: Stream, within: Duration) -> Result<String, NoLine> {
        let receiver = match stream {
            Stream::Stdout => &self.stdout,
            Stream::Stderr => &self.stderr,
        };
        match receiver.recv_timeout(within) {
            Ok(line) => {
                self.seen.push((stream, line.clone()));
                Ok(line)
            }
            Err(RecvTimeoutError::Timeout) => Err(NoLine::TimedOut),
            Err(RecvTimeoutError::Disconnected) => Err(NoLine::Ended),
        }
    }

    /// Writes `text` to the child's stdin (add the `\n` yourself).
    #[track_caller]
    pub fn write_stdin(&mut self, text: &str) {
        self.write_stdin_bytes(text.as_bytes());
    }

    /// Writes raw bytes to the child's stdin.
    #[track_caller]
    pub fn write_stdin_bytes(&mut self, bytes: &[u8]) {
        let result = match self.stdin.as_mut() {
            Some(stdin) => stdin.write_all(bytes).and_then(|()| stdin.flush()),
            None => self.fail("test setup: the test wrote to stdin after closing it"),
        };
        if let Err(e) = result {
            let name = self.name.clone();
            self.fail(&course_catalog::fill(
                "harness.could_not_write_stdin",
                &[("name", &name), ("error", &e)],
            ));
        }
    }

    /// Closes the child's stdin: the child reads end-of-file.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits for the child to exit within `within` and returns its status together with the
    /// rest of its output; fails the test (and kills the child on drop) if it does not exit.
    #[track_caller]
    pub fn wait_exit(&mut self, within: Duration) -> Exited {
        match self.exited_within(within) {
            Some(exited) => exited,
            None => self.fail(&course_catalog::fill(
                "harness.no_exit",
                &[("name", &self.name), ("duration", &format_duration(within))],
            )),
        }
    }

    /// [`ChildGuard::wait_exit`] for a client talking to `server`: fails at once, with the
    /// server's output, if the server exits first (a client waiting for a crashed server
    /// would otherwise wait out its whole deadline).
    #[track_caller]
    pub fn wait_exit_while_running(&mut self, server: &mut ChildGuard, within: Duration) -> Exited {
        let deadline = Deadline::after(within);
        loop {
            if let Some(exited) = self.exited_within(Duration::from_millis(50)) {
                return exited;
            }
            server.assert_running();
            if deadline.expired() {
                self.fail(&course_catalog::fill(
                    "harness.no_exit",
                    &[("name", &self.name), ("duration", &format_duration(within))],
                ));
            }
        }
    }

    /// The exit status and remaining output if the child exits within `within`.
    pub fn exited_within(&mut self, within: Duration) -> Option<Exited> {
        let deadline = Deadline::after(within);
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    let stdout = drain(&self.stdout);
                    let stderr = drain(&self.stderr);
                    return Some(Exited {
                        status,
                        stdout,
                        stderr,
                    });
                }
                Ok(None) if !deadline.expired() => thread::sleep(Duration::from_millis(10)),
                Ok(None) | Err(_) => return None,
            }
        }
    }

    /// Fails the test, with the child's exit status and output, if the child has exited. Tests
    /// call it while they wait for something else (a reply on a socket) so that a crashed
    /// program is reported at once, not after a timeout.
    #[track_caller]
    pub fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            let name = self.name.clone();
            self.fail(&course_catalog::fill(
                "harness.exited_early",
                &[("name", &name), ("status", &status)],
            ));
        }
    }

    /// Fails the test with `message`, the exit status if known, and everything the child
    /// printed so far.
    #[track_caller]
    pub fn fail(&mut self, message: &str) -> ! {
        let mut text = format!("{message}\n");
        let mut shown = self.seen.clone();
        // Pick up what is still queued, so a panic message from the child is shown too.
        for (stream, receiver) in [
            (Stream::Stdout, &self.stdout),
            (Stream::Stderr, &self.stderr),
        ] {
            while let Ok(line) = receiver.recv_timeout(Duration::from_millis(50)) {
                shown.push((stream, line));
            }
        }
        for stream in [Stream::Stdout, Stream::Stderr] {
            let lines: Vec<&str> = shown
                .iter()
                .filter(|(s, _)| *s == stream)
                .map(|(_, l)| l.as_str())
                .collect();
            let args: [(&str, &dyn std::fmt::Display); 2] =
                [("stream", &stream_name(stream)), ("name", &self.name)];
            if lines.is_empty() {
                text.push_str(&course_catalog::fill("harness.output_of_nothing", &args));
                text.push('\n');
            } else {
                text.push_str(&course_catalog::fill("harness.output_of", &args));
                text.push('\n');
                for line in lines {
                    text.push_str(&format!("    {line}\n"));
                }
            }
        }
        panic!("{text}")
    }

    fn wait_briefly(&mut self) -> Option<ExitStatus> {
        let deadline = Deadline::after(Duration::from_secs(1));
        while !deadline.expired() {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        // Kill fails only if the child already exited; either way, reap it so no zombie stays.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A child that has exited, and what it printed after the test stopped reading lines.
#[derive(Debug)]
pub struct Exited {
    pub status: ExitStatus,
    pub stdout: Vec<String>,
    pub stderr: Vec<String>,
}

impl Exited {
    /// Fails the test unless the program (`what`, for the message) exited with `code`; the
    /// failure explains the exit (101: a panic, such as a `todo!()`) and shows the output.
    #[track_caller]
    pub fn expect_code(&self, what: &str, code: i32) {
        let got = self.status.code();
        if got == Some(code) {
            return;
        }
        let meaning = match got {
            Some(101) => course_catalog::text("harness.exit_panicked").to_string(),
            Some(other) => other.to_string(),
            None => course_catalog::text("harness.exit_signal").to_string(),
        };
        let text = |lines: &[String]| {
            if lines.is_empty() {
                course_catalog::text("harness.nothing").to_string()
            } else {
                lines
                    .iter()
                    .take(20)
                    .map(|l| format!("\n      {l}"))
                    .collect()
            }
        };
        let exit_code = |code: &dyn std::fmt::Display| {
            course_catalog::fill("harness.exit_code", &[("code", code)])
        };
        crate::show::Report::new(course_catalog::fill(
            "harness.exit_wrong",
            &[("command", &what)],
        ))
        .line("expected", exit_code(&code))
        .line("got", exit_code(&meaning))
        .line("stdout", text(&self.stdout))
        .line("stderr", text(&self.stderr))
        .fail()
    }

    /// Everything the program printed on stderr, as one text (for `contains` checks).
    pub fn stderr_text(&self) -> String {
        self.stderr.join("\n")
    }
}

fn read_lines(pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let text = String::from_utf8_lossy(&line);
                    let text = text.trim_end_matches(['\n', '\r']).to_string();
                    if tx.send(text).is_err() {
                        break;
                    }
                }
            }
        }
        // Dropping `tx` here tells the test that the stream ended.
    });
    rx
}

/// The lines still queued on a stream of a child that has exited. Its pipe is closed, so the
/// reader thread ends promptly; the grace period only matters if a grandchild kept it open.
fn drain(receiver: &Receiver<String>) -> Vec<String> {
    let mut lines = Vec::new();
    while let Ok(line) = receiver.recv_timeout(Duration::from_secs(2)) {
        lines.push(line);
    }
    lines
}

/// `stdout` or `stderr`, in the learner's language (`標準出力` in Japanese).
fn stream_name(stream: Stream) -> String {
    course_catalog::label(match stream {
        Stream::Stdout => "stdout",
        Stream::Stderr => "stderr",
    })
}

fn describe(status: Option<ExitStatus>) -> String {
    match status {
        Some(status) => course_catalog::fill("harness.exited_with", &[("status", &status)]),
        None => course_catalog::text("harness.is_running").to_string(),
    }
}
