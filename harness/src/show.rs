//! Bytes rendered for people, and failure reports that say what was sent, what came back and
//! what was expected.
//!
//! Payloads in this course are mostly text, sometimes Japanese, sometimes deliberate garbage.
//! Valid UTF-8 is shown as text (control characters escaped), anything else as `\xNN`, so a
//! failure message never hides a stray byte and never prints raw binary to the terminal.

use std::net::SocketAddr;

use wire_record::Exchange;

/// How many characters of a payload a report shows before cutting it.
const REPORT_CHARS: usize = 80;

/// `"hello\n" (6 bytes)`: the bytes quoted and escaped, with their length; a long payload is
/// cut (`…`) so that a 65,507-byte datagram does not fill the screen.
pub fn bytes(data: &[u8]) -> String {
    let unit = if data.len() == 1 { "byte" } else { "bytes" };
    format!(
        "\"{}\" ({} {unit})",
        preview(data, REPORT_CHARS),
        data.len()
    )
}

pub use wire_record::text::{escape, preview};

/// A failure report: a headline, labelled lines, and optionally the recorded wire exchange.
///
/// ```
/// # use course_harness::show::Report;
/// let text = Report::new("the reply was not what the test expected")
///     .bytes("sent", b"hello")
///     .bytes("expected", b"Success to receive message")
///     .bytes("got", b"")
///     .to_string();
/// assert!(text.contains("expected: \"Success to receive message\" (26 bytes)"));
/// ```
#[derive(Debug, Clone)]
pub struct Report {
    headline: String,
    lines: Vec<(String, String)>,
    diagram: Option<String>,
}

impl Report {
    /// A report that starts with `headline`.
    pub fn new(headline: impl Into<String>) -> Self {
        Report {
            headline: headline.into(),
            lines: Vec::new(),
            diagram: None,
        }
    }

    /// Adds `label: "..." (N bytes)`.
    pub fn bytes(self, label: &str, data: &[u8]) -> Self {
        self.line(label, bytes(data))
    }

    /// Adds `label: text`.
    pub fn line(mut self, label: &str, text: impl Into<String>) -> Self {
        self.lines.push((label.to_string(), text.into()));
        self
    }

    /// Adds `label: 127.0.0.1:4000`.
    pub fn addr(self, label: &str, addr: SocketAddr) -> Self {
        self.line(label, addr.to_string())
    }

    /// Appends the exchange as a mermaid diagram (skipped while nothing was recorded).
    pub fn exchange(mut self, exchange: &Exchange) -> Self {
        if !exchange.is_empty() {
            self.diagram = Some(exchange.to_mermaid());
        }
        self
    }

    /// Panics with the report: the way a test fails.
    #[track_caller]
    pub fn fail(self) -> ! {
        panic!("{self}")
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}", self.headline)?;
        // Labels are shown in the learner's language where the catalog has them.
        let lines: Vec<(String, &String)> = self
            .lines
            .iter()
            .map(|(label, text)| (course_catalog::label(label), text))
            .collect();
        let width = lines
            .iter()
            .map(|(label, _)| label.chars().count())
            .max()
            .unwrap_or(0);
        for (label, text) in lines {
            writeln!(
                f,
                "  {:<width$} {text}",
                format!("{label}:"),
                width = width + 1
            )?;
        }
        if let Some(diagram) = &self.diagram {
            writeln!(f, "{}", course_catalog::text("harness.diagram"))?;
            write!(f, "{diagram}")?;
        }
        Ok(())
    }
}

/// Fails the test with a [`Report`] unless `got == expected`.
#[track_caller]
pub fn expect_bytes(what: &str, expected: &[u8], got: &[u8], exchange: Option<&Exchange>) {
    if expected == got {
        return;
    }
    let mut report = Report::new(not_expected(what))
        .bytes("expected", expected)
        .bytes("got", got);
    let same = expected.iter().zip(got).take_while(|(a, b)| a == b).count();
    if got.len() < expected.len() && same == got.len() {
        report = report.line(
            "note",
            course_catalog::fill("harness.cut_short", &[("len", &got.len())]),
        );
    } else {
        report = report.line(
            "first difference",
            course_catalog::fill("harness.at_byte", &[("at", &same)]),
        );
    }
    if let Some(exchange) = exchange {
        report = report.exchange(exchange);
    }
    report.fail()
}

/// Fails the test with labelled values unless `got == expected` (instead of `left`/`right`).
#[track_caller]
pub fn expect_eq<T: PartialEq + std::fmt::Debug>(what: &str, expected: T, got: T) {
    if expected != got {
        Report::new(not_expected(what))
            .line("expected", format!("{expected:?}"))
            .line("got", format!("{got:?}"))
            .fail();
    }
}

/// Fails the test unless the program run as `command` exited with `code`; explains the exit
/// (101 means the program panicked: a `todo!()`, say) and shows what it printed.
#[track_caller]
pub fn expect_exit(command: &str, output: &std::process::Output, code: i32) {
    let got = output.status.code();
    if got == Some(code) {
        return;
    }
    let meaning = match got {
        Some(101) => course_catalog::text("harness.exit_panicked").to_string(),
        Some(other) => other.to_string(),
        None => course_catalog::text("harness.exit_signal").to_string(),
    };
    let text = |bytes: &[u8]| {
        let lines: Vec<String> = String::from_utf8_lossy(bytes)
            .lines()
            .take(20)
            .map(|l| format!("\n      {l}"))
            .collect();
        if lines.is_empty() {
            course_catalog::text("harness.nothing").to_string()
        } else {
            lines.concat()
        }
    };
    let exit_code =
        |code: &dyn std::fmt::Display| course_catalog::fill("harness.exit_code", &[("code", code)]);
    Report::new(course_catalog::fill(
        "harness.exit_wrong",
        &[("command", &command)],
    ))
    .line("expected", exit_code(&code))
    .line("got", exit_code(&meaning))
    .line("stdout", text(&output.stdout))
    .line("stderr", text(&output.stderr))
    .fail()
}

/// "{what} was not what the test expected", in the learner's language.
fn not_expected(what: &str) -> String {
    course_catalog::fill("harness.not_expected", &[("what", &what)])
}

/// `expect` with a message from the catalog, in the learner's language: `key` and its
/// placeholders as for [`course_catalog::fill`]. On `Err(e)` the message is followed by
/// `: {e:?}`, as `expect` does.
///
/// ```ignore
/// let (socket, port) = call_learner(bind_ephemeral)
///     .or_fail("test.returned_error", &[("call", &"bind_ephemeral")]);
/// ```
pub trait OrFail<T> {
    fn or_fail(self, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> T;
}

impl<T, E: std::fmt::Debug> OrFail<T> for Result<T, E> {
    #[track_caller]
    fn or_fail(self, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> T {
        match self {
            Ok(value) => value,
            Err(e) => panic!("{}: {e:?}", course_catalog::fill(key, args)),
        }
    }
}

impl<T> OrFail<T> for Option<T> {
    #[track_caller]
    fn or_fail(self, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> T {
        match self {
            Some(value) => value,
            None => panic!("{}", course_catalog::fill(key, args)),
        }
    }
}
