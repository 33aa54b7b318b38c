//! Chapter 9's IPv6 multicast demonstration keeps its promises: the example sends only
//! inside a network namespace that holds nothing but `lo` and one veth pair, and
//! `scripts/v6-multicast-netns.sh` deletes the namespace it made, also when it is stopped.
//!
//! The figure in chapter 9 is what a fresh run prints, row for row.
//!
//! The refusal and the figure's shape run on any Unix machine. The script needs root and about a second per run, so its
//! tests are ignored in the suite; `.ci/run` runs them as root (`-- --include-ignored`).

#![cfg(unix)]

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const SCRIPT: &str = "scripts/v6-multicast-netns.sh";

/// `cargo run` of the example with `args`, without features, as the book runs it (the
/// example needs none, and the reference's feature would bring in chapter 10's crates).
fn example(args: &[&str]) -> Output {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    Command::new(cargo)
        .current_dir(ROOT)
        .args(["run", "--quiet", "--example", "ch09_v6_multicast", "--"])
        .args(args)
        .output()
        .expect("test setup: could not run cargo")
}

#[test]
fn the_demonstration_refuses_to_send_outside_its_namespace() {
    // This process's namespace has more than lo and one veth pair (and no v6mc-a at all).
    let out = example(&["--veth", "v6mc-a", "v6mc-b"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "not refused: {stderr}");
    assert!(stderr.starts_with("refused: "), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "it printed a result: {:?}",
        out.stdout
    );
}

/// Whether this test may make network namespaces; if not, it says why.
fn root() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        println!("not root: the script's tests run as root (.ci/run)");
    }
    root
}

/// The namespaces that exist now.
fn namespaces() -> String {
    let out = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("test setup: could not run `ip netns list`");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The script, started; its namespace is `course-v6mc-PID`.
fn start_script() -> (Child, String) {
    let child = Command::new(Path::new(ROOT).join(SCRIPT))
        .current_dir(ROOT)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("test setup: could not start the script");
    let name = format!("course-v6mc-{}", child.id());
    (child, name)
}

/// The console block that follows the marker `<!-- figure: sudo
/// scripts/v6-multicast-netns.sh (root) -->` in chapter 9 of the book in `lang`.
fn figure(lang: &str) -> String {
    let page = Path::new(ROOT).join(format!("book/{lang}/src/ch09-multicast.md"));
    let text = std::fs::read_to_string(&page).expect("test setup: could not read chapter 9");
    let marker = "<!-- figure: sudo scripts/v6-multicast-netns.sh (root) -->";
    let after = text
        .split_once(marker)
        .unwrap_or_else(|| panic!("no `{marker}` in {}", page.display()))
        .1;
    let block = after
        .split("```")
        .nth(1)
        .unwrap_or_else(|| panic!("no code block after the marker in {}", page.display()));
    block.to_string()
}

/// The lines of the script's output that do not change from run to run (the namespace's
/// name carries the script's process id): the header, one row per group and hop limit, and
/// the line on the sender's address, each with its spaces collapsed.
fn table(output: &str) -> Vec<String> {
    output
        .lines()
        .filter(|l| {
            l.starts_with("group ") || l.starts_with("ff0") || l.starts_with("at the other end")
        })
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn the_figure_shows_every_group_at_both_hop_limits() {
    // Without root the run below cannot happen; this much holds anywhere: the figure has a
    // row for each of the three groups at hop limits 1 and 0, in both languages.
    for lang in ["en", "ja"] {
        let rows = table(&figure(lang));
        for group in ["ff01::114", "ff02::114", "ff05::114"] {
            for hops in ["1", "0"] {
                assert!(
                    rows.iter().any(|r| r.starts_with(&format!("{group} "))
                        && r.split(' ').nth(2) == Some(hops)),
                    "book/{lang}: no row for {group} at hop limit {hops}: {rows:#?}"
                );
            }
        }
    }
}

#[test]
#[ignore = "needs root; .ci/run runs it"]
fn the_script_shows_the_datagrams_cross_and_leaves_no_namespace() {
    if !root() {
        return;
    }
    let (child, name) = start_script();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(&name), "{stdout}");
    // The link-local group crosses the pair; the interface-local one never does.
    let row = |group: &str, hops: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(group) && l.split_whitespace().nth(2) == Some(hops))
            .map(|l| l.split_whitespace().skip(3).collect::<Vec<_>>().join(" "))
    };
    assert_eq!(row("ff02::114", "1").as_deref(), Some("received received"));
    assert_eq!(row("ff01::114", "1").as_deref(), Some("nothing received"));
    // And every row of the book's figure (both languages) is what this run printed, in order:
    // each group at hop limits 1 and 0, the header and the sender's address at the other end.
    let ran = table(&stdout);
    for lang in ["en", "ja"] {
        let shown = table(&figure(lang));
        assert_eq!(
            shown, ran,
            "book/{lang}/src/ch09-multicast.md's figure differs from a fresh run:\n{stdout}"
        );
    }
    assert!(!namespaces().contains(&name), "{name} is still there");
}

#[test]
#[ignore = "needs root; .ci/run runs it"]
fn the_script_deletes_its_namespace_when_stopped() {
    if !root() {
        return;
    }
    let (mut child, name) = start_script();
    // The namespace appears once the example is built; then the script is stopped.
    let started = Instant::now();
    while !namespaces().contains(&name) {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the script ended ({status}) before its namespace was seen");
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no namespace {name} after 300 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: kill has no memory preconditions; the pid is our own child's.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert!(!status.success(), "the script ignored SIGTERM");
    assert!(
        !namespaces().contains(&name),
        "{name} is still there after SIGTERM"
    );
}
