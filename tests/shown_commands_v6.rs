//! The IPv6 commands the README and the books show, run as the page shows them.
//!
//! Every `console` block of `README.md`, `book/en/src` and `book/ja/src` is read as a reader
//! reads it: a `$ [printf 'TEXT' |] cargo run --bin NAME [-- ARGS]` line is a command, the
//! lines under it are what it prints. A block that names an IPv6 address (`::`) anywhere is
//! run:
//!
//! - when its first command has `--bind`, it is a server with its clients: the server starts
//!   with the shown address but port 0 (so that parallel tests never collide), the
//!   `listening on` line gives the real port, and each client (the block's other commands,
//!   then the complete commands in backticks of a paragraph in parentheses right after the
//!   block, "(after `printf 'v4\n' | cargo run ...`)") runs with the shown port replaced by
//!   that one and every other argument as printed. Each client must exit 0 and print exactly
//!   what the page shows under it, if anything; the server must print what the page shows
//!   under it (port numbers aside, in an order each of its two streams agrees with: which
//!   stream comes first between them is not told, they arrive on two pipes), or,
//!   where the page shows nothing, a line with what each client sent;
//! - otherwise each command that names `::` itself, or in its output, runs alone and must
//!   print exactly what the page shows (exit 2 for an `error:` line, 0 otherwise).
//!
//! The programs run from their built binaries (`course_harness::program!`), not through a
//! nested `cargo run`; they run the reference, so this file needs
//! `cargo test --features solutions --test shown_commands_v6`. A client that types into a
//! program without a `printf` gets `hello`, then `end` (the UDP client's quit word).
//! Commands that name a feature (`cargo run --features ch10 --bin ...`) are not read here.
//!
//! `addr-info resolve` (chapter 1) is checked here too: it prints the system's answer, in
//! the system's order.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use course_harness::ChildGuard;
use course_harness::child::{Exited, NoLine, Stream};
use course_harness::net;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// One shown command: where, what the reader types, what the page shows it prints.
#[derive(Debug, Clone)]
struct Shown {
    place: String,
    text: String,
    stdin: Option<String>,
    program: String,
    args: Vec<String>,
    output: Vec<String>,
}

/// A `console` block with its commands (and those of the paragraph after it).
#[derive(Debug)]
struct Block {
    place: String,
    commands: Vec<Shown>,
    /// The commands of the parenthesised paragraph right after the block.
    after: Vec<Shown>,
    /// Commands this test cannot read (a problem only in a block that names IPv6).
    unread: Vec<String>,
}

/// `text` split into words as a shell splits it: blanks separate, quotes group and go.
fn words(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => out.extend(word.take()),
            (None, '$' | '`' | '\\' | '*' | '?' | '<' | '>' | '&' | ';') => {
                return Err(format!("a shell would treat `{c}` specially here"));
            }
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    if quote.is_some() {
        return Err("a quote is not closed".into());
    }
    out.extend(word);
    Ok(out)
}

/// `text` without a trailing ` # comment` (outside quotes).
fn without_comment(text: &str) -> &str {
    let mut quote = None;
    let bytes = text.as_bytes();
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '\'' | '"') => quote = Some(c),
            (None, '#') if i > 0 && bytes[i - 1] == b' ' => return text[..i].trim_end(),
            _ => {}
        }
    }
    text.trim_end()
}

/// Reads `[printf 'TEXT' |] cargo run --bin NAME [-- ARGS]`.
fn command(place: &str, text: &str) -> Result<Shown, String> {
    let text = without_comment(text);
    let (stdin, run) = match text.split_once(" | ") {
        Some((printf, run)) => {
            let w = words(printf)?;
            match w.as_slice() {
                [p, arg] if p == "printf" => (Some(arg.replace("\\n", "\n")), run),
                _ => return Err(format!("`{printf}` is not `printf 'TEXT'`")),
            }
        }
        None => (None, text),
    };
    let w = words(run)?;
    let (program, args) = match w.as_slice() {
        [c, r, b, name] if [c, r, b] == ["cargo", "run", "--bin"] => (name.clone(), vec![]),
        [c, r, b, name, dashes, args @ ..]
            if [c, r, b] == ["cargo", "run", "--bin"] && dashes == "--" =>
        {
            (name.clone(), args.to_vec())
        }
        _ => return Err(format!("not `cargo run --bin NAME -- ARGS`: `{run}`")),
    };
    Ok(Shown {
        place: place.to_string(),
        text: text.to_string(),
        stdin,
        program,
        args,
        output: Vec::new(),
    })
}

/// The inline code spans of `text` that run a program.
fn inline_commands(text: &str) -> Vec<&str> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|span| span.contains("cargo run --bin"))
        .collect()
}

/// A command the test cannot read, kept for the question whether its block names IPv6.
fn unread(place: &str, text: &str, why: String, unread: &mut Vec<String>) -> Shown {
    unread.push(format!("{place}: {why}"));
    Shown {
        place: place.to_string(),
        text: text.to_string(),
        stdin: None,
        program: String::new(),
        args: Vec::new(),
        output: Vec::new(),
    }
}

/// The console blocks of the page `name`.
fn blocks(name: &str, page: &str) -> Vec<Block> {
    let lines: Vec<&str> = page.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() != "```console" {
            i += 1;
            continue;
        }
        let place = format!("{name}:{}", i + 1);
        let mut commands: Vec<Shown> = Vec::new();
        let mut problems = Vec::new();
        let mut other: Option<String> = None;
        i += 1;
        while i < lines.len() && lines[i].trim() != "```" {
            let line = lines[i];
            let at = format!("{name}:{}", i + 1);
            if let Some(text) = line.strip_prefix("$ ") {
                other = None;
                if text.contains("cargo run --bin") {
                    commands.push(
                        command(&at, text).unwrap_or_else(|e| unread(&at, text, e, &mut problems)),
                    );
                } else {
                    // Another command (a test run, a Python program): its output is not ours.
                    other = Some(text.to_string());
                }
            } else if other.is_none()
                && let Some(last) = commands.last_mut()
            {
                last.output.push(line.to_string());
            }
            i += 1;
        }
        i += 1;
        // The paragraph right after the block, when it is an aside in parentheses.
        while i < lines.len() && lines[i].trim().is_empty() {
            i += 1;
        }
        let mut after = Vec::new();
        let first = lines.get(i).map_or("", |l| l.trim_start());
        if first.starts_with('(') || first.starts_with('（') {
            let start = i;
            let mut paragraph = Vec::new();
            while i < lines.len() && !lines[i].trim().is_empty() {
                paragraph.push(lines[i]);
                i += 1;
            }
            let at = format!("{name}:{}", start + 1);
            for text in inline_commands(&paragraph.join(" ")) {
                after.push(
                    command(&at, text).unwrap_or_else(|e| unread(&at, text, e, &mut problems)),
                );
            }
        }
        out.push(Block {
            place,
            commands,
            after,
            unread: problems,
        });
    }
    out
}

fn names_v6(text: &str) -> bool {
    text.contains("::")
}

fn shows_v6(c: &Shown) -> bool {
    names_v6(&c.text) || c.output.iter().any(|l| names_v6(l))
}

/// The shown blocks of the page that name IPv6.
fn v6_blocks(file: &str) -> Vec<Block> {
    let page = std::fs::read_to_string(Path::new(ROOT).join(file))
        .unwrap_or_else(|e| panic!("test setup: cannot read {file}: {e}"));
    let found: Vec<Block> = blocks(file, &page)
        .into_iter()
        .filter(|b| b.commands.iter().chain(&b.after).any(shows_v6))
        .collect();
    let problems: Vec<&String> = found.iter().flat_map(|b| &b.unread).collect();
    assert!(
        problems.is_empty(),
        "shown commands this test cannot run as printed:\n{problems:?}"
    );
    found
}

/// `line` with every port of a socket address written `PORT`: the digits after a colon
/// that follows `]` or a digit (`[::1]:4000`, `127.0.0.1:54848`).
fn without_ports(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.trim_end().chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        let before = out.chars().rev().nth(1);
        if c == ':'
            && before.is_some_and(|b| b == ']' || b.is_ascii_digit())
            && chars.peek().is_some_and(char::is_ascii_digit)
        {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            out.push_str("PORT");
        }
    }
    out
}

/// Whether `small` appears in `big` in the same order (not necessarily next to each other).
fn in_order(small: &[String], big: &[String]) -> bool {
    let mut rest = big.iter();
    small.iter().all(|s| rest.any(|b| b == s))
}

/// Whether the lines a program printed on its two streams are the lines `shown`: the same
/// lines, port numbers aside, each stream's in an order the page agrees with.
fn same_lines(shown: &[String], stdout: &[String], stderr: &[String]) -> Result<(), String> {
    let norm =
        |lines: &[String]| -> Vec<String> { lines.iter().map(|l| without_ports(l)).collect() };
    let (shown, stdout, stderr) = (norm(shown), norm(stdout), norm(stderr));
    let mut sorted_shown = shown.clone();
    let mut sorted_got: Vec<String> = stdout.iter().chain(&stderr).cloned().collect();
    sorted_shown.sort();
    sorted_got.sort();
    if sorted_shown == sorted_got && in_order(&stdout, &shown) && in_order(&stderr, &shown) {
        Ok(())
    } else {
        Err(format!(
            "the page shows\n    {}\nbut it printed\n    stdout: {stdout:?}\n    stderr: {stderr:?}",
            shown.join("\n    ")
        ))
    }
}

fn program(c: &Shown, args: &[String]) -> Command {
    let mut command = Command::new(course_harness::program!(c.program.as_str()));
    command.args(args);
    command
}

/// What a reader types into the command: its `printf`, or a line and the quit word.
fn typed(c: &Shown) -> String {
    c.stdin.clone().unwrap_or_else(|| "hello\nend\n".into())
}

/// Runs a command that ends by itself and checks it against the page.
fn run_alone(c: &Shown) {
    println!("{}: {}", c.place, c.text);
    let exited = ChildGuard::run_to_end(
        program(c, &c.args),
        typed(c).as_bytes(),
        Duration::from_secs(10),
    );
    let error = c.output.iter().any(|l| l.starts_with("error:"));
    exited.expect_code(&c.text, if error { 2 } else { 0 });
    if let Err(why) = same_lines(&c.output, &exited.stdout, &exited.stderr) {
        panic!("{}: `{}`: {why}", c.place, c.text);
    }
}

/// `args` with the port of every address that ends in `:shown` replaced by `port`.
/// (`localhost:4000` becomes `localhost:P`: its first address, 127.0.0.1:P, refuses as on the
/// page, since the OS gave P to the server on ::1; another program would have to hold
/// 127.0.0.1:P at that moment to change that.)
fn with_port(args: &[String], shown: u16, port: u16) -> Vec<String> {
    let suffix = format!(":{shown}");
    args.iter()
        .map(|a| match a.strip_suffix(&suffix) {
            Some(host) if !host.is_empty() => format!("{host}:{port}"),
            _ => a.clone(),
        })
        .collect()
}

/// Reads the server's lines (both streams) until `enough` holds, for at most 5 s.
fn server_lines(
    server: &mut ChildGuard,
    enough: impl Fn(&[String], &[String]) -> bool,
) -> (Vec<String>, Vec<String>) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let deadline = Instant::now() + Duration::from_secs(5);
    while !enough(&out, &err) && Instant::now() < deadline {
        for (stream, lines) in [(Stream::Stdout, &mut out), (Stream::Stderr, &mut err)] {
            match server.next_line(stream, Duration::from_millis(10)) {
                Ok(line) => lines.push(line),
                Err(NoLine::TimedOut) => {}
                Err(NoLine::Ended) => server.fail("the server ended while it was being checked"),
            }
        }
    }
    (out, err)
}

/// Runs a server block: the server, then each client, as described at the top.
fn run_server_block(block: &Block) {
    let (server, clients) = block.commands.split_first().expect("a server block");
    let clients: Vec<&Shown> = clients.iter().chain(&block.after).collect();
    let at = |c: &Shown| format!("{}: `{}`", c.place, c.text);
    let bind_at = server.args.iter().position(|a| a == "--bind").unwrap() + 1;
    let shown_bind: SocketAddr = server
        .args
        .get(bind_at)
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("{}: --bind needs an IP:PORT here", at(server)));
    let mut args = server.args.clone();
    args[bind_at] = SocketAddr::new(shown_bind.ip(), 0).to_string();
    let mut guard = ChildGuard::spawn(program(server, &args));
    let real = guard.listening_addr();
    assert_eq!(
        real.ip(),
        shown_bind.ip(),
        "{}: listening on {real}",
        at(server)
    );
    let mut shown_server = server.output.clone();
    if let Some(first) = shown_server.first()
        && first.starts_with("listening on")
    {
        let printed = format!("listening on {real}");
        assert_eq!(
            without_ports(first),
            without_ports(&printed),
            "{}: the page shows `{first}`, the server printed `{printed}`",
            at(server)
        );
        shown_server.remove(0);
    }
    let mut sent = Vec::new();
    println!("{}: {}", server.place, server.text);
    for client in &clients {
        println!("{}: {}", client.place, client.text);
        let args = with_port(&client.args, shown_bind.port(), real.port());
        assert_ne!(
            args,
            client.args,
            "{}: no address with port {}",
            at(client),
            shown_bind.port()
        );
        let typed = typed(client);
        let exited = ChildGuard::run_to_end(
            program(client, &args),
            typed.as_bytes(),
            Duration::from_secs(10),
        );
        exited.expect_code(&client.text, 0);
        if !client.output.is_empty()
            && let Err(why) = same_lines(&client.output, &exited.stdout, &exited.stderr)
        {
            panic!("{}: {why}", at(client));
        }
        sent.extend(typed.lines().filter(|l| *l != "end").map(str::to_string));
    }
    let heard = |out: &[String], err: &[String]| {
        sent.iter()
            .all(|s| out.iter().chain(err).any(|l| l.contains(s.as_str())))
    };
    if shown_server.is_empty() {
        let (out, err) = server_lines(&mut guard, heard);
        assert!(
            heard(&out, &err),
            "{}: the server never showed {sent:?}: {out:?} {err:?}",
            at(server)
        );
    } else {
        let want = shown_server.len();
        let (out, err) = server_lines(&mut guard, |o, e| o.len() + e.len() >= want);
        if let Err(why) = same_lines(&shown_server, &out, &err) {
            panic!("{}: {why}", at(server));
        }
    }
}

/// Runs every IPv6 block of `files`; how many commands ran.
fn run_pages(files: &[&str]) -> usize {
    let mut ran = 0;
    for file in files {
        for block in v6_blocks(file) {
            let server = block
                .commands
                .first()
                .is_some_and(|c| c.args.iter().any(|a| a == "--bind"));
            if server {
                run_server_block(&block);
                ran += block.commands.len() + block.after.len();
            } else {
                assert!(
                    block.after.is_empty(),
                    "{}: commands after a block without a server",
                    block.place
                );
                for c in block.commands.iter().filter(|c| shows_v6(c)) {
                    run_alone(c);
                    ran += 1;
                }
            }
        }
    }
    ran
}

fn book_pages(language: &str) -> Vec<String> {
    let folder = format!("book/{language}/src");
    let mut pages: Vec<String> = std::fs::read_dir(Path::new(ROOT).join(&folder))
        .unwrap_or_else(|e| panic!("test setup: cannot read {folder}: {e}"))
        .flatten()
        .map(|e| format!("{folder}/{}", e.file_name().to_string_lossy()))
        .filter(|p| p.ends_with(".md"))
        .collect();
    pages.sort();
    pages
}

#[test]
fn the_readme_s_ipv6_commands_run_as_shown() {
    if !net::ipv6_or_skip() {
        return;
    }
    // Two commands in English, the same two in Japanese.
    let ran = run_pages(&["README.md"]);
    assert!(ran >= 4, "README.md: only {ran} IPv6 commands found");
}

#[test]
fn the_english_book_s_ipv6_commands_run_as_shown() {
    if !net::ipv6_or_skip() {
        return;
    }
    let pages = book_pages("en");
    let ran = run_pages(&pages.iter().map(String::as_str).collect::<Vec<_>>());
    // Chapter 1's two `addr-info parse`, chapter 3's two servers with three clients.
    assert!(ran >= 7, "book/en: only {ran} IPv6 commands found");
}

#[test]
fn the_japanese_book_s_ipv6_commands_run_as_shown() {
    if !net::ipv6_or_skip() {
        return;
    }
    let pages = book_pages("ja");
    let ran = run_pages(&pages.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(ran >= 7, "book/ja: only {ran} IPv6 commands found");
}

/// `addr-info resolve` prints what the system answers, in its order (chapter 1's figure):
/// the same list this process gets from std, which may differ from `parse`'s fixed order.
#[test]
fn addr_info_resolve_prints_the_system_s_answer_in_order() {
    for text in ["localhost:8890", "[::1]:8890", "127.0.0.1:8890"] {
        let system: Vec<String> = text
            .to_socket_addrs()
            .unwrap_or_else(|e| panic!("test setup: {text}: {e}"))
            .map(|a| a.to_string())
            .collect();
        let c = command(
            "test",
            &format!("cargo run --bin addr-info -- resolve {text}"),
        )
        .unwrap();
        let exited: Exited =
            ChildGuard::run_to_end(program(&c, &c.args), b"", Duration::from_secs(10));
        exited.expect_code(&c.text, 0);
        assert_eq!(exited.stdout, system, "addr-info resolve {text}");
    }
}

/// The reading of a page against its defects: a changed flag, a port left out, a comment.
#[test]
fn a_shown_command_is_read_as_a_shell_and_cargo_would_read_it() {
    let c = command(
        "p",
        "printf 'v4\\n' | cargo run --bin tcp-client -- --server '[::1]:4000'   # terminal 2",
    )
    .unwrap();
    assert_eq!(
        (c.program.as_str(), c.stdin.as_deref()),
        ("tcp-client", Some("v4\n"))
    );
    assert_eq!(c.args, ["--server", "[::1]:4000"]);
    assert_eq!(with_port(&c.args, 4000, 5), ["--server", "[::1]:5"]);
    assert!(command("p", "cargo run --features ch10 --bin tls-client").is_err());
    assert!(command("p", "cargo run --bin udp-server -- --bind '[::1]:8890").is_err());
    assert_eq!(
        without_ports("from [::1]:37452 (6 bytes): hello\\n"),
        "from [::1]:PORT (6 bytes): hello\\n"
    );
    let shown = ["a".to_string(), "b".to_string(), "c".to_string()];
    assert!(same_lines(&shown, &["b".into()], &["a".into(), "c".into()]).is_ok());
    assert!(same_lines(&shown, &["c".into(), "b".into()], &["a".into()]).is_err());
    assert!(same_lines(&shown, &["b".into()], &["a".into()]).is_err());
}
