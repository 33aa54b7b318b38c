//! Every measured figure in the books names the command that prints it, and that command
//! exists; the cheap ones are run. The pages speak to learners: no word of how the book was
//! made, and how busy the machine was goes in an aside. The packet captures the book shows
//! keep the shape of the exchanges that `scripts/capture.sh` makes.
//!
//! # The convention
//!
//! A measured figure (a paragraph, a list item, a table or an output block) is preceded by a
//! marker line, with only blank lines, `<details>`/`<summary>` lines or other HTML comments
//! between them:
//!
//! ```text
//! <!-- figure: cargo run --example ch02_overflow -->
//! <!-- figure: cargo bench --features solutions --bench echo (slow) -->
//! <!-- figure: sudo scripts/ch09-loop.sh (root) -->
//! <!-- figure: cargo run --bin lossy-relay -- --loss 0.3 --seed 7 --trace (interactive) -->
//! <!-- figure: cargo run --example ch01_localhost (verbatim) -->
//! <!-- not-a-figure -->
//! ```
//!
//! The command is exactly what a reader runs. The flags in parentheses at the end say how the
//! test treats it: none, a cheap command, which this test runs (it must exit 0 and print
//! something); `slow`, a benchmark, a release build or anything longer than a second or two,
//! run only with `BOOK_FIGURES_ALL=1`; `root`, an experiment that needs root (network
//! namespaces, packet captures), run by `.ci/run` as root and skipped elsewhere with a word;
//! `interactive`, a program that runs next to others in several terminals, as the text around
//! it says; `verbatim`, a cheap command whose output block shows exactly what it prints, line
//! for line, except the port numbers the OS picks (`127.0.0.1:41844`, `[::1]:36256`): this
//! test compares them, so a number changed by hand on the page is caught. Every command is
//! checked to exist: `--example X` is `examples/X.rs`, `--bench X`
//! is `benches/X.rs`, `--bin X` a program, `scripts/X` a script. An output block whose first
//! line is `$ COMMAND` names its command itself. `<!-- not-a-figure -->` marks a block that
//! the heuristic below takes for a measurement but that is not one (a worked example, a
//! constant).
//!
//! # What counts as measured
//!
//! A heuristic, kept simple so that a writer can predict it: a block is a figure when it holds
//! a decimal number with a unit of time, size, rate or share (`0.503 s`, `44.8 s`, `1.5 %`,
//! `5.8 ミリ秒`) or any number with a rate (`485 MiB/s`); or, next to words that say something
//! was measured ("measured", "on this machine", "in our runs", 「測定」, 「このマシンで」...),
//! a whole number with such a unit or a count (`256 datagrams`, `4 runs out of 20`, 「20 回中 4
//! 回」); or when it is a table with a measuring column (time, median, ratio, `/s`, sends) and
//! numbers, or with outcomes (`received`, `got it`). Mermaid diagrams and code are not read.
//! A heuristic misses a figure written without such words: mark it all the same.
//!
//! # Speaking to learners
//!
//! No page says how it was made: no issues, no "while writing this chapter", no "an earlier
//! version of this server", no prose pointing at a listing by its number, in either language.
//! A load average stands only in a `<details>` aside (or in a command's output, as printed).
//!
//! Sections that another change rewrites at the same time are listed in `IN_REWORK`, and
//! their problems are set aside until that change lands with its own markers; the test then
//! asks for the entry to go.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const LANGUAGES: [&str; 2] = ["en", "ja"];

// ---------------------------------------------------------------------------------------
// Reading the pages into blocks

#[derive(Debug, Clone, PartialEq)]
enum Mark {
    Figure { command: String, flags: Vec<String> },
    NotAFigure,
}

#[derive(Debug)]
enum Kind {
    Paragraph,
    Table,
    Fence(String),
}

#[derive(Debug)]
struct Block {
    line: usize,
    kind: Kind,
    text: String,
    mark: Option<Mark>,
    /// The heading the block stands under.
    section: String,
}

/// The marker on this line, if it is one: `Ok(None)` for any other line, `Err` for a marker
/// that cannot be read.
fn marker(line: &str) -> Result<Option<Mark>, String> {
    let line = line.trim();
    let Some(inner) = line
        .strip_prefix("<!--")
        .and_then(|l| l.strip_suffix("-->"))
    else {
        return Ok(None);
    };
    let inner = inner.trim();
    if inner == "not-a-figure" {
        return Ok(Some(Mark::NotAFigure));
    }
    let Some(command) = inner.strip_prefix("figure:") else {
        return Ok(None);
    };
    let mut command = command.trim().to_string();
    let mut flags = Vec::new();
    if command.ends_with(')')
        && let Some(open) = command.rfind(" (")
    {
        let list = command[open + 2..command.len() - 1].to_string();
        let parsed: Vec<String> = list.split(',').map(|f| f.trim().to_string()).collect();
        if parsed
            .iter()
            .all(|f| ["slow", "root", "interactive", "verbatim"].contains(&f.as_str()))
        {
            flags = parsed;
            command.truncate(open);
        }
    }
    if command.is_empty() {
        return Err(format!("a figure marker without a command: {line}"));
    }
    Ok(Some(Mark::Figure { command, flags }))
}

/// Lines that neither make a block nor end the wait of a marker for its block.
fn transparent(line: &str) -> bool {
    let t = line.trim();
    t.is_empty()
        || t == "<details>"
        || t == "</details>"
        || t.starts_with("<summary>")
        || (t.starts_with("<!--") && t.ends_with("-->"))
}

fn starts_list_item(line: &str) -> bool {
    let t = line.trim_start();
    if t.starts_with("- ") || t.starts_with("* ") {
        return true;
    }
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && t[digits..].starts_with(". ")
}

/// The page cut into blocks, each with the marker just before it. `problems` gets markers
/// that cannot be read.
fn blocks(page: &str, problems: &mut Vec<String>, name: &str) -> Vec<Block> {
    let lines: Vec<&str> = page.lines().collect();
    let mut out = Vec::new();
    let mut pending: Option<Mark> = None;
    let mut section = String::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let t = line.trim();
        match marker(line) {
            Err(e) => problems.push(format!("{name}:{}: {e}", i + 1)),
            Ok(Some(mark)) => {
                pending = Some(mark);
                i += 1;
                continue;
            }
            Ok(None) => {}
        }
        if transparent(line) {
            i += 1;
            continue;
        }
        if t.starts_with('#') {
            section = t.trim_start_matches('#').trim().to_string();
        }
        if t.starts_with('#') || t.starts_with("<p class=\"listing-caption\"") {
            pending = None;
            i += 1;
            continue;
        }
        let start = i;
        let (kind, text) = if let Some(info) = t.strip_prefix("```") {
            let mut body = Vec::new();
            i += 1;
            while i < lines.len() && !lines[i].trim().starts_with("```") {
                body.push(lines[i]);
                i += 1;
            }
            i += 1;
            (Kind::Fence(info.trim().to_string()), body.join("\n"))
        } else if t.starts_with('|') {
            let mut body = Vec::new();
            while i < lines.len() && lines[i].trim().starts_with('|') {
                body.push(lines[i]);
                i += 1;
            }
            (Kind::Table, body.join("\n"))
        } else {
            let mut body = vec![line];
            i += 1;
            while i < lines.len() {
                let next = lines[i];
                let nt = next.trim();
                if transparent(next)
                    || nt.starts_with('#')
                    || nt.starts_with("```")
                    || nt.starts_with('|')
                    || starts_list_item(next)
                    || nt.starts_with("<p class=")
                {
                    break;
                }
                body.push(next);
                i += 1;
            }
            (Kind::Paragraph, body.join("\n"))
        };
        out.push(Block {
            line: start + 1,
            kind,
            text,
            mark: pending.take(),
            section: section.clone(),
        });
    }
    out
}

// ---------------------------------------------------------------------------------------
// The heuristic

/// The text without inline code spans and link targets: `--loss 0.1` and `ch02-udp.md` are
/// not figures.
fn prose(text: &str) -> String {
    let mut out = String::new();
    let mut in_code = false;
    for (n, part) in text.split('`').enumerate() {
        in_code = n % 2 == 1;
        if !in_code {
            out.push_str(part);
        }
        out.push(' ');
    }
    let _ = in_code;
    // Link targets: "](...)".
    let mut cleaned = String::new();
    let mut rest = out.as_str();
    while let Some(at) = rest.find("](") {
        cleaned.push_str(&rest[..at + 1]);
        rest = &rest[at + 2..];
        rest = rest.find(')').map_or("", |end| &rest[end + 1..]);
    }
    cleaned.push_str(rest);
    cleaned
}

/// Each number in the text (digits, with `,` or `.` inside) and the words after it.
fn numbers(text: &str) -> Vec<(String, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let before_ok = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '.');
        if c.is_ascii_digit() && before_ok {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_digit()
                    || ((chars[i] == ',' || chars[i] == '.')
                        && chars.get(i + 1).is_some_and(char::is_ascii_digit)))
            {
                i += 1;
            }
            let number: String = chars[start..i].iter().collect();
            let after: String = chars[i..].iter().take(24).collect();
            out.push((number, after));
        } else {
            i += 1;
        }
    }
    out
}

const MEASURE_UNITS: [&str; 16] = [
    "ms",
    "µs",
    "us",
    "ns",
    "s",
    "seconds",
    "MiB",
    "KiB",
    "GiB",
    "MB",
    "KB",
    "%",
    "x",
    "ミリ秒",
    "マイクロ秒",
    "秒",
];
const RATE_UNITS: [&str; 8] = [
    "MiB/s",
    "GiB/s",
    "KiB/s",
    "MB/s",
    "KB/s",
    "round trips/s",
    "replies/s",
    "往復/秒",
];
const COUNT_UNITS: [&str; 21] = [
    "bytes",
    "バイト",
    "datagrams",
    "messages",
    "runs",
    "retransmissions",
    "sends",
    "timeouts",
    "round trips",
    "clients",
    "of ",
    "out of",
    "回",
    "個",
    "件",
    "通",
    "人",
    "ミリ秒",
    "秒",
    "ms",
    "s",
];
const CUES: [&str; 25] = [
    "measured",
    "tried on",
    "tried it",
    "on this machine",
    "course's machine",
    "course's linux machine",
    "our runs",
    "this run",
    "load average",
    "quiet machine",
    "idle machine",
    "we saw",
    "測りました",
    "測ったところ",
    "測ると、",
    "測定では",
    "計測では",
    "計測しました",
    "試したところ",
    "試すと、",
    "このコースのマシン",
    "このコースの linux マシン",
    "ロードアベレージ",
    "回中",
    "回のうち",
];

/// Words that tell of an experiment whatever the numbers.
const TELLING_CUES: [&str; 5] = [
    "tried on",
    "we measured",
    "measured it",
    "試したところ",
    "測ったところ",
];

/// The unit right after a number, if `after` starts with it as a word.
fn unit_in<'a>(after: &str, units: &[&'a str]) -> Option<&'a str> {
    let after = after.trim_start_matches([' ', '\u{a0}', '\n']);
    units.iter().copied().find(|unit| {
        after.starts_with(unit)
            && after[unit.len()..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_ascii_alphanumeric())
    })
}

/// Why this block looks measured, or `None`.
fn measured(block: &Block) -> Option<String> {
    let text = match &block.kind {
        Kind::Fence(info) => {
            if !(info.is_empty() || info == "text" || info == "console") {
                return None;
            }
            block.text.clone()
        }
        _ => prose(&block.text),
    };
    let lower = text.to_lowercase();
    let nums = numbers(&text);
    for (number, after) in &nums {
        if let Some(unit) = unit_in(after, &RATE_UNITS) {
            return Some(format!("{number} {unit}"));
        }
        if number.contains('.')
            && let Some(unit) = unit_in(after, &MEASURE_UNITS)
        {
            return Some(format!("{number} {unit}"));
        }
    }
    if let Kind::Table = block.kind {
        let header = lower.lines().next().unwrap_or("");
        let measuring = [
            "time",
            "median",
            "ratio",
            "/s",
            " ms",
            "µs",
            "sends",
            "時間",
            "中央値",
            "比",
        ]
        .iter()
        .any(|w| header.contains(w));
        let body: String = lower.lines().skip(2).collect::<Vec<_>>().join("\n");
        if measuring && body.chars().any(|c| c.is_ascii_digit()) {
            return Some("a table with a measuring column".to_string());
        }
        let outcome = body.lines().any(|row| {
            row.split('|')
                .any(|cell| ["received", "got it", "届いた"].contains(&cell.trim()))
        });
        if outcome {
            return Some("a table of outcomes".to_string());
        }
    }
    // Words of an experiment next to counts: a table is read row by row (a glossary's
    // rows are not one text).
    let parts: Vec<&str> = match block.kind {
        Kind::Table => lower.lines().collect(),
        _ => vec![lower.as_str()],
    };
    parts.into_iter().find_map(told_of_an_experiment)
}

/// Why `text` (lower case) tells of an experiment, or `None`.
fn told_of_an_experiment(text: &str) -> Option<String> {
    if let Some(cue) = TELLING_CUES.iter().find(|cue| text.contains(*cue)) {
        return Some(format!("\"{cue}\""));
    }
    let cue = CUES.iter().find(|cue| text.contains(*cue))?;
    numbers(text).iter().find_map(|(number, after)| {
        unit_in(after, &COUNT_UNITS).map(|unit| format!("{number} {unit}, next to \"{cue}\""))
    })
}

// ---------------------------------------------------------------------------------------
// The pages

fn pages() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for lang in LANGUAGES {
        let src = Path::new(ROOT).join("book").join(lang).join("src");
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&src)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "md"))
            .collect();
        entries.sort();
        for path in entries {
            let name = format!("{lang}/{}", path.file_name().unwrap().to_string_lossy());
            out.push((name, std::fs::read_to_string(&path).unwrap()));
        }
    }
    out
}

/// Sections that other changes rewrite while this check lands; they bring their own markers
/// (and drop their own words of how they were measured). `(page, English heading, Japanese
/// heading)`, an empty heading for the whole page. Once such a section passes, the test says
/// so: remove its line then.
const IN_REWORK: [(&str, &str, &str); 0] = [];

/// The entry of [`IN_REWORK`] that covers `section` of page `name` (`en/ch03-tcp.md`).
fn in_rework(name: &str, section: &str) -> Option<usize> {
    let file = name.split_once('/').map_or(name, |(_, f)| f);
    IN_REWORK.iter().position(|(page, en, ja)| {
        *page == file && (en.is_empty() || section == *en || section == *ja)
    })
}

/// Problems found in sections in rework are put aside: counted per entry of [`IN_REWORK`].
fn set_aside(
    problems: Vec<(String, String, String)>,
    reworked: &mut [usize; IN_REWORK.len()],
) -> Vec<String> {
    let mut out = Vec::new();
    for (name, section, problem) in problems {
        match in_rework(&name, &section) {
            Some(entry) => reworked[entry] += 1,
            None => out.push(problem),
        }
    }
    out
}

/// An entry of [`IN_REWORK`] that set nothing aside has landed: the test asks to remove it.
fn stale_rework(reworked: &[usize; IN_REWORK.len()]) -> Vec<String> {
    IN_REWORK
        .iter()
        .zip(reworked)
        .filter(|(_, count)| **count == 0)
        .map(|((page, en, _), _)| format!("{page} \"{en}\" passes now: remove it from IN_REWORK"))
        .collect()
}

/// The problems of one page: measured blocks without a marker, unreadable markers; each
/// with the page and the section it is in.
fn unmarked_figures(name: &str, page: &str) -> Vec<(String, String, String)> {
    let mut unreadable = Vec::new();
    let mut problems = Vec::new();
    for block in blocks(page, &mut unreadable, name) {
        if block.mark.is_some() {
            continue;
        }
        // An output block that starts with its command names it.
        if let Kind::Fence(_) = block.kind
            && block.text.trim_start().starts_with("$ ")
        {
            continue;
        }
        if let Some(why) = measured(&block) {
            let first = block.text.lines().next().unwrap_or("");
            let first: String = first.chars().take(70).collect();
            problems.push((
                name.to_string(),
                block.section.clone(),
                format!(
                    "{name}:{}: a measured figure ({why}) without `<!-- figure: COMMAND -->` \
                     before it: {first}",
                    block.line
                ),
            ));
        }
    }
    for problem in unreadable {
        problems.push((name.to_string(), String::new(), problem));
    }
    problems
}

#[test]
fn every_measured_figure_has_a_marker() {
    let mut problems = Vec::new();
    let mut reworked = [0; IN_REWORK.len()];
    for (name, page) in pages() {
        problems.extend(set_aside(unmarked_figures(&name, &page), &mut reworked));
    }
    problems.extend(stale_rework(&reworked));
    assert!(
        problems.is_empty(),
        "{} figure(s) without the command that prints them (see the top of \
         tests/book_figures.rs):\n- {}",
        problems.len(),
        problems.join("\n- ")
    );
}

/// The heuristic against its own defect: the marker before chapter 2's overflow figure,
/// taken away, leaves a figure without a command.
#[test]
fn a_figure_whose_marker_is_removed_is_caught() {
    let page = std::fs::read_to_string(Path::new(ROOT).join("book/en/src/ch02-udp.md")).unwrap();
    let marker = "<!-- figure: cargo run --example ch02_overflow -->\n";
    assert!(page.contains(marker), "the page lost its overflow marker");
    assert!(unmarked_figures("en/ch02-udp.md", &page).is_empty());
    let without = page.replacen(marker, "", 1);
    let problems = unmarked_figures("en/ch02-udp.md", &without);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].2.contains("receive buffer is full"),
        "{problems:?}"
    );

    // The same for a table, and for the Japanese page.
    let page =
        std::fs::read_to_string(Path::new(ROOT).join("book/ja/src/ch09-multicast.md")).unwrap();
    let marker = "<!-- figure: sudo scripts/ch09-loop.sh (root) -->\n";
    assert!(page.contains(marker), "the page lost its veth marker");
    let problems = unmarked_figures("ja/ch09-multicast.md", &page.replacen(marker, "", 1));
    assert_eq!(problems.len(), 1, "{problems:?}");
}

// ---------------------------------------------------------------------------------------
// The commands

/// Every figure command in the books, with its flags and where it is used.
fn commands() -> BTreeMap<String, (Vec<String>, Vec<String>)> {
    let mut out: BTreeMap<String, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for (name, page) in pages() {
        let mut problems = Vec::new();
        for block in blocks(&page, &mut problems, &name) {
            if let Some(Mark::Figure { command, flags }) = block.mark {
                let entry = out.entry(command).or_default();
                for flag in flags {
                    if !entry.0.contains(&flag) {
                        entry.0.push(flag);
                    }
                }
                entry.1.push(format!("{name}:{}", block.line));
            }
        }
    }
    out
}

/// What the command runs, as a file of the repository, or why it cannot be told.
fn target_file(command: &str) -> Result<PathBuf, String> {
    let words: Vec<&str> = command.split_whitespace().collect();
    let words: Vec<&str> = match words.first() {
        Some(&"sudo") => words[1..].to_vec(),
        _ => words,
    };
    let after = |flag: &str| {
        words
            .iter()
            .position(|w| *w == flag)
            .and_then(|at| words.get(at + 1))
            .copied()
    };
    match words.first() {
        Some(&"cargo") => {
            if let Some(name) = after("--example") {
                Ok(PathBuf::from(format!("examples/{name}.rs")))
            } else if let Some(name) = after("--bench") {
                Ok(PathBuf::from(format!("benches/{name}.rs")))
            } else if let Some(name) = after("--bin") {
                Ok(PathBuf::from(format!("programs/src/bin/{name}.rs")))
            } else if let Some(name) = after("--test") {
                Ok(PathBuf::from(format!("tests/{name}.rs")))
            } else {
                Err("a cargo command without --example, --bench, --bin or --test".into())
            }
        }
        Some(&"bash") | Some(&"python3") => words
            .get(1)
            .map(PathBuf::from)
            .ok_or_else(|| "no file to run".to_string()),
        Some(first) if first.starts_with("scripts/") => Ok(PathBuf::from(first)),
        _ => Err("not a cargo command, a script or a Python file".into()),
    }
}

#[test]
fn every_figure_command_exists() {
    let mut problems = Vec::new();
    let commands = commands();
    assert!(
        commands.len() >= 10,
        "only {} figure markers found",
        commands.len()
    );
    for (command, (_, used)) in &commands {
        match target_file(command) {
            Ok(file) if Path::new(ROOT).join(&file).is_file() => {}
            Ok(file) => problems.push(format!(
                "`{command}` ({}) runs {}, which does not exist",
                used.join(", "),
                file.display()
            )),
            Err(why) => problems.push(format!("`{command}` ({}): {why}", used.join(", "))),
        }
    }
    // Output blocks that name their command with `$ `: the same check.
    for (name, page) in pages() {
        let mut ignored = Vec::new();
        for block in blocks(&page, &mut ignored, &name) {
            if let Kind::Fence(_) = block.kind
                && let Some(first) = block.text.trim_start().lines().next()
                && let Some(command) = first.strip_prefix("$ ")
                && measured(&block).is_some()
            {
                let command = command.split(" #").next().unwrap_or(command).trim();
                if let Ok(file) = target_file(command)
                    && !Path::new(ROOT).join(&file).is_file()
                {
                    problems.push(format!(
                        "{name}:{}: `{command}` runs {}, which does not exist",
                        block.line,
                        file.display()
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Runs `command` from the repository's root (`cargo` is the cargo running this test), with
/// a deadline; its exit status and what it printed.
fn run(command: &str, deadline: Duration) -> Result<String, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let command = match command.strip_prefix("cargo ") {
        Some(rest) => format!("'{cargo}' {rest}"),
        None => command.to_string(),
    };
    let out_path = std::env::temp_dir().join(format!(
        "book-figure-{}-{}.out",
        std::process::id(),
        command.len() ^ command.bytes().map(usize::from).sum::<usize>()
    ));
    let out = std::fs::File::create(&out_path).map_err(|e| e.to_string())?;
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(&command)
        .current_dir(ROOT)
        .env("COURSE_LANG", "en")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("still running after {} s", deadline.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let printed = std::fs::read_to_string(&out_path).unwrap_or_default();
    let _ = std::fs::remove_file(&out_path);
    if !status.success() {
        let mut stderr = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
        }
        return Err(format!("{status}: {printed}{stderr}"));
    }
    Ok(printed)
}

/// The output blocks marked `verbatim`: (page:line, command, the block without a first
/// `$ command` line).
fn verbatim_figures() -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (name, page) in pages() {
        let mut problems = Vec::new();
        for block in blocks(&page, &mut problems, &name) {
            let Some(Mark::Figure { command, flags }) = &block.mark else {
                continue;
            };
            if !flags.iter().any(|f| f == "verbatim") {
                continue;
            }
            let text = match block.kind {
                Kind::Fence(_) => block.text.clone(),
                // Not an output block: nothing to compare, which is itself a mistake.
                _ => String::new(),
            };
            let text = match text.split_once('\n') {
                Some((first, rest)) if first.trim() == format!("$ {command}") => rest.to_string(),
                _ => text,
            };
            out.push((format!("{name}:{}", block.line), command.clone(), text));
        }
    }
    out
}

/// `text` with every port number of a socket address written `PORT`: the digits after the
/// colon that follows `]` (IPv6) or a dotted IPv4 address.
fn without_ports(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        out.push(c);
        i += 1;
        if c != ':' || !chars.get(i).is_some_and(char::is_ascii_digit) {
            continue;
        }
        // The word before the colon: `]`-ended, or a dotted IPv4 address.
        let word: String = out[..out.len() - 1]
            .chars()
            .rev()
            .take_while(|c| !c.is_whitespace() && *c != '(')
            .collect();
        let word: String = word.chars().rev().collect();
        let ipv4 = word.split('.').count() == 4
            && word
                .split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
        if word.ends_with(']') || ipv4 {
            while chars.get(i).is_some_and(char::is_ascii_digit) {
                i += 1;
            }
            out.push_str("PORT");
        }
    }
    out
}

/// Whether `printed` is what the `figure` shows, line for line (trailing spaces and port
/// numbers aside); the first difference otherwise.
fn same_output(figure: &str, printed: &str) -> Result<(), String> {
    let figure: Vec<String> = figure
        .lines()
        .map(|l| without_ports(l.trim_end()))
        .collect();
    let printed: Vec<String> = printed
        .lines()
        .map(|l| without_ports(l.trim_end()))
        .collect();
    if figure.is_empty() {
        return Err("a verbatim figure must be an output block".into());
    }
    for (n, (shown, got)) in figure.iter().zip(&printed).enumerate() {
        if shown != got {
            return Err(format!(
                "line {} shows\n  {shown}\nbut the command prints\n  {got}",
                n + 1
            ));
        }
    }
    if figure.len() != printed.len() {
        return Err(format!(
            "the figure has {} lines, the command prints {}",
            figure.len(),
            printed.len()
        ));
    }
    Ok(())
}

/// The comparison against its defect: a number changed in a figure is caught, a port the
/// OS picked differently is not.
#[test]
fn a_verbatim_figure_with_another_number_is_caught() {
    let printed = "  TCP client to ::1:  Connection refused (os error 111)\n\
                   \x20 the server sees [::ffff:127.0.0.1]:55328 and 127.0.0.1:41844\n";
    let same = "  TCP client to ::1:  Connection refused (os error 111)\n\
                \x20 the server sees [::ffff:127.0.0.1]:40001 and 127.0.0.1:40002\n";
    assert_eq!(same_output(same, printed), Ok(()));
    let changed = same.replace("111", "112");
    assert!(same_output(&changed, printed).is_err());
    assert!(
        same_output(
            "  TCP client to ::1:  Connection refused (os error 111)",
            printed
        )
        .is_err()
    );
    assert_eq!(
        without_ports("ff02::1:9 at [fe80::a%2]:4001"),
        "ff02::1:9 at [fe80::a%2]:PORT"
    );
}

/// The cheap commands run and print something; with `BOOK_FIGURES_ALL=1` the slow ones too.
/// A `verbatim` figure must show exactly what its command printed.
#[test]
fn the_cheap_figure_commands_run() {
    let all = std::env::var("BOOK_FIGURES_ALL").is_ok_and(|v| v == "1");
    let mut skipped = Vec::new();
    let mut runs = Vec::new();
    let mut slow = Vec::new();
    for (command, (flags, _)) in commands() {
        let has = |f: &str| flags.iter().any(|x| x == f);
        if has("root") || has("interactive") || (has("slow") && !all) {
            skipped.push(command);
        } else if has("slow") {
            slow.push(command);
        } else {
            // The cheap ones side by side; only their exit and output count here.
            runs.push(std::thread::spawn(move || {
                let result = run(&command, Duration::from_secs(600));
                (command, result)
            }));
        }
    }
    let mut results: Vec<_> = runs.into_iter().map(|h| h.join().unwrap()).collect();
    // The slow ones one after another: benchmarks that share two cores with each other
    // measure nothing, and a loaded machine can time a transfer out.
    for command in slow {
        let result = run(&command, Duration::from_secs(1200));
        results.push((command, result));
    }
    let mut problems = Vec::new();
    let shown = verbatim_figures();
    for (command, result) in results {
        match result {
            Ok(printed) if !printed.trim().is_empty() => {
                for (place, figure) in shown
                    .iter()
                    .filter(|(_, c, _)| *c == command)
                    .map(|(p, _, f)| (p, f))
                {
                    if let Err(why) = same_output(figure, &printed) {
                        problems.push(format!("{place}: the figure of `{command}`: {why}"));
                    }
                }
            }
            Ok(_) => problems.push(format!("`{command}` printed nothing")),
            Err(e) => problems.push(format!("`{command}` failed: {e}")),
        }
    }
    println!(
        "not run here ({}): {}",
        if all {
            "root or interactive"
        } else {
            "slow, root or interactive; BOOK_FIGURES_ALL=1 runs the slow ones"
        },
        skipped.join("; ")
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------------------
// Pages that speak to learners

/// Phrases about how the book was made, in either language.
const PROVENANCE: [&str; 15] = [
    "while writing",
    "writing this chapter",
    "the reference did",
    "did that once",
    "reviewer",
    "closing note",
    "pull request",
    "an earlier version",
    "an earlier run",
    "イシュー",
    "執筆",
    "レビュアー",
    "以前の版",
    "以前の",
    "前の計測",
];

/// Finds a provenance phrase, the word "issue(s)" as a word, or prose that points at a
/// listing by its number (the captions number them; the text says what the code does), in
/// `text`, one line of a page.
fn provenance(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    if !lower.contains("listing-caption") {
        for word in ["listing ", "リスト "] {
            if let Some(at) = lower.find(word)
                && lower[at + word.len()..].starts_with(|c: char| c.is_ascii_digit())
            {
                return Some(format!("{}N", word));
            }
        }
    }
    if let Some(phrase) = PROVENANCE.iter().find(|p| lower.contains(*p)) {
        return Some(phrase.to_string());
    }
    let words = lower.split(|c: char| !c.is_ascii_alphanumeric() && c != '#');
    words
        .into_iter()
        .find(|w| *w == "issue" || *w == "issues" || w.starts_with("issue#"))
        .map(str::to_string)
}

/// The lines of `page` outside `<details>` (and outside output blocks, which show what a
/// command printed) that mention how busy the machine was.
fn load_on_main_path(page: &str) -> Vec<usize> {
    let mut depth = 0usize;
    let mut fenced = false;
    let mut out = Vec::new();
    for (n, line) in page.lines().enumerate() {
        let t = line.trim();
        if t.starts_with("```") {
            // What a command printed (its own load average) is shown as printed.
            fenced = !fenced;
        } else if fenced {
        } else if t == "<details>" {
            depth += 1;
        } else if t == "</details>" {
            depth = depth.saturating_sub(1);
        } else if depth == 0 {
            let lower = t.to_lowercase();
            if ["load average", "ロードアベレージ", "負荷平均"]
                .iter()
                .any(|w| lower.contains(w))
            {
                out.push(n + 1);
            }
        }
    }
    out
}

/// The heading each line of `page` stands under.
fn sections(page: &str) -> Vec<String> {
    let mut section = String::new();
    page.lines()
        .map(|line| {
            if line.starts_with('#') {
                section = line.trim_start_matches('#').trim().to_string();
            }
            section.clone()
        })
        .collect()
}

#[test]
fn no_page_speaks_of_how_the_book_was_made() {
    let mut found = Vec::new();
    for (name, page) in pages() {
        let sections = sections(&page);
        for (n, line) in page.lines().enumerate() {
            if line.trim_start().starts_with("{{#") {
                continue;
            }
            if let Some(phrase) = provenance(line) {
                let line: String = line.chars().take(100).collect();
                let problem = format!("{name}:{}: \"{phrase}\": {line}", n + 1);
                found.push((name.clone(), sections[n].clone(), problem));
            }
        }
        for n in load_on_main_path(&page) {
            let problem =
                format!("{name}:{n}: a load average on the main path: put it in a <details> aside");
            found.push((name.clone(), sections[n - 1].clone(), problem));
        }
    }
    let mut reworked = [0; IN_REWORK.len()];
    let problems = set_aside(found, &mut reworked);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_provenance_check_catches_its_phrases() {
    for line in [
        "We saw it while writing this chapter.",
        "The reference did that once.",
        "as issue 30 says",
        "An earlier version of this server went further",
        "このイシューで測りました。",
        "以前の版のサーバーは",
        "as Listing 3-2 shows",
        "リスト 5-16 のように",
    ] {
        assert!(provenance(line).is_some(), "not caught: {line}");
    }
    for line in [
        "the token is issued at",
        "a session id",
        "以前つないだことのあるサーバー",
        "<p class=\"listing-caption\" id=\"listing-3-2\">Listing 3-2: <code>x</code></p>",
    ] {
        assert!(provenance(line).is_none(), "caught by mistake: {line}");
    }
    let page = "text\nload average 20\n<details>\nload average 3\n</details>\n";
    assert_eq!(load_on_main_path(page), vec![2]);
}

// ---------------------------------------------------------------------------------------
// The packet captures

/// A capture's shape: one word per packet, `C:` or `S:` (the client's or the server's, by
/// port 4000) and tcpdump's flags, with the length for data (`C:P.10`).
fn shape(capture: &str) -> Result<String, String> {
    let mut out = Vec::new();
    for line in capture.lines().filter(|l| !l.trim().is_empty()) {
        let (left, rest) = line
            .split_once(':')
            .ok_or_else(|| format!("not a packet line: {line}"))?;
        let from = left.split_whitespace().rev().nth(2).unwrap_or("");
        let side = if from == "4000" { "S" } else { "C" };
        let flags = rest
            .split_once("Flags [")
            .and_then(|(_, f)| f.split_once(']'))
            .map(|(f, _)| f)
            .ok_or_else(|| format!("no flags: {line}"))?;
        let length = rest
            .rsplit_once("length ")
            .map(|(_, l)| l.trim())
            .unwrap_or("0");
        out.push(if length == "0" {
            format!("{side}:{flags}")
        } else {
            format!("{side}:{flags}{length}")
        });
    }
    Ok(out.join(" "))
}

/// Whether `shape` is `pattern`, where `pattern` is a sequence of words, `(...)?` an
/// optional group and `(...){n}` a repeated one. A small matcher, enough for these shapes.
fn shape_matches(shape: &str, pattern: &str) -> bool {
    fn parse(tokens: &mut std::iter::Peekable<std::vec::IntoIter<String>>) -> Vec<Item> {
        let mut items = Vec::new();
        while let Some(t) = tokens.next() {
            if t == "(" {
                let inner = parse(tokens);
                let q = tokens.next().unwrap_or_default();
                let (min, max) = match q.as_str() {
                    "?" => (0, 1),
                    n => {
                        let n: usize = n.parse().unwrap_or(1);
                        (n, n)
                    }
                };
                items.push(Item::Group(inner, min, max));
            } else if t == ")" {
                return items;
            } else {
                items.push(Item::Word(t));
            }
        }
        items
    }
    #[derive(Debug)]
    enum Item {
        Word(String),
        Group(Vec<Item>, usize, usize),
    }
    fn ends(items: &[Item], words: &[&str], at: usize) -> Vec<usize> {
        let Some((first, rest)) = items.split_first() else {
            return vec![at];
        };
        let mut here = Vec::new();
        match first {
            Item::Word(w) => {
                if words.get(at) == Some(&w.as_str()) {
                    here.push(at + 1);
                }
            }
            Item::Group(inner, min, max) => {
                let mut frontier = vec![at];
                if *min == 0 {
                    here.push(at);
                }
                for n in 1..=*max {
                    let mut next = Vec::new();
                    for f in &frontier {
                        next.extend(ends(inner, words, *f));
                    }
                    next.sort();
                    next.dedup();
                    if n >= *min {
                        here.extend(next.iter().copied());
                    }
                    frontier = next;
                }
            }
        }
        let mut out = Vec::new();
        for h in here {
            out.extend(ends(rest, words, h));
        }
        out
    }
    let spaced = pattern
        .replace('(', " ( ")
        .replace(")?", " ) ? ")
        .replace("){", " ) ")
        .replace('}', " ");
    let tokens: Vec<String> = spaced.split_whitespace().map(str::to_string).collect();
    let items = parse(&mut tokens.into_iter().peekable());
    let words: Vec<&str> = shape.split_whitespace().collect();
    ends(&items, &words, 0).contains(&words.len())
}

/// What `scripts/capture.sh` must have captured, scene by scene.
const SHAPES: [(&str, &str); 3] = [
    // The handshake, a line and its echo, then an orderly close: FIN from each side.
    (
        "close",
        "C:S S:S. C:. C:P.10 (S:.)? S:P.10 (C:.)? C:F. (S:.)? S:F. C:.",
    ),
    // The line arrives, the server closes without reading it: a reset, no FIN.
    ("reset", "C:S S:S. C:. C:P.10 (S:.)? S:R."),
    // Three requests of a header (8 bytes) and a body (5), each acknowledged on its own.
    (
        "nagle",
        "C:S S:S. C:. (C:P.8 (S:.)? C:P.5 (S:.)? S:P.13 (C:.)?){3} C:F. (S:.)? S:F. C:.",
    ),
];

/// The committed captures (or those in `CAPTURES_DIR`, where `.ci/run` has the script
/// write fresh ones) keep the shape of each exchange: the flags, not the times or ports.
#[test]
fn the_captures_keep_the_shape_of_each_exchange() {
    let dir = std::env::var("CAPTURES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(ROOT).join("captures"));
    let mut problems = Vec::new();
    for (scene, pattern) in SHAPES {
        let path = dir.join(format!("{scene}.txt"));
        let Ok(text) = std::fs::read_to_string(&path) else {
            problems.push(format!("{} is missing", path.display()));
            continue;
        };
        match shape(&text) {
            Ok(got) if shape_matches(&got, pattern) => {}
            Ok(got) => problems.push(format!(
                "{}: the packets are\n  {got}\nnot the shape\n  {pattern}",
                path.display()
            )),
            Err(e) => problems.push(format!("{}: {e}", path.display())),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The shape check against its defect: a reset where the close should be is caught.
#[test]
fn a_capture_of_another_exchange_is_caught() {
    let close = "C:S S:S. C:. C:P.10 S:. S:P.10 C:. C:F. S:F. C:.";
    assert!(shape_matches(close, SHAPES[0].1));
    assert!(!shape_matches("C:S S:S. C:. C:P.10 S:. S:R.", SHAPES[0].1));
    assert!(shape_matches("C:S S:S. C:. C:P.10 S:. S:R.", SHAPES[1].1));
    // Two requests where three were made.
    let two = "C:S S:S. C:. C:P.8 S:. C:P.5 S:. S:P.13 C:. \
               C:P.8 S:. C:P.5 S:. S:P.13 C:F. S:F. C:.";
    assert!(!shape_matches(two, SHAPES[2].1));
}
