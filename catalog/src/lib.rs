//! Everything a learner reads at run time, in two languages, and the map of the exercises.
//!
//! Both the test harness (its failure messages) and the `course` program (progress, hints)
//! use this crate, so it depends on nothing (style rule 9: what both need lives on its own).
//!
//! Map of the modules:
//! - this file: the message catalogs. One file per language, `messages/en.txt` and
//!   `messages/ja.txt`, of `key = text` lines; [`text`] and [`fill`] look a key up in the
//!   learner's language ([`lang`]: `COURSE_LANG=ja|en`, else `LC_ALL`/`LC_MESSAGES`/`LANG`
//!   starting with `ja`).
//! - [`exercises`]: the table of chapters and exercises (file, book anchors, test filters);
//!   titles and hints are catalog keys (`ex.<id>.title`, `ex.<id>.idea`, `ex.<id>.api`).
//!
//! Adding a language means adding a catalog file and a [`Lang`] variant; `tests/catalog.rs`
//! (in the root package) checks that every key exists in every language.

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::OnceLock;
use std::time::Duration;

pub mod exercises;

/// A language the course speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    Ja,
}

impl Lang {
    /// Every language, English first (the fallback).
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ja];

    /// `en` or `ja`: the book folder (`book/en`) and the `COURSE_LANG` value.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }

    fn source(self) -> &'static str {
        match self {
            Lang::En => include_str!("../messages/en.txt"),
            Lang::Ja => include_str!("../messages/ja.txt"),
        }
    }
}

/// The learner's language, from the environment: `COURSE_LANG=ja|en` wins; otherwise the
/// first of `LC_ALL`, `LC_MESSAGES`, `LANG` that is set (the POSIX order) starting with `ja`
/// means Japanese. Anything else is English.
pub fn lang() -> Lang {
    let var = |name: &str| std::env::var(name).ok();
    lang_from(
        var("COURSE_LANG").as_deref(),
        var("LC_ALL").as_deref(),
        var("LC_MESSAGES").as_deref(),
        var("LANG").as_deref(),
    )
}

/// [`lang`] on given values (for tests).
pub fn lang_from(
    course_lang: Option<&str>,
    lc_all: Option<&str>,
    lc_messages: Option<&str>,
    lang: Option<&str>,
) -> Lang {
    match course_lang.map(str::trim) {
        Some(v) if v.eq_ignore_ascii_case("ja") => return Lang::Ja,
        Some(v) if v.eq_ignore_ascii_case("en") => return Lang::En,
        _ => {}
    }
    let locale = [lc_all, lc_messages, lang]
        .into_iter()
        .flatten()
        .find(|v| !v.is_empty());
    match locale {
        Some(v) if v.starts_with("ja") => Lang::Ja,
        _ => Lang::En,
    }
}

/// Parses a catalog: `key = text` per line; `#` starts a comment line; in a text, `\n` is a
/// line break and `\\` a backslash (write `b'\\n'` to show `b'\n'`). Returns the entries in
/// file order, and the problems found (for the test).
pub fn parse(source: &str) -> (Vec<(&str, String)>, Vec<String>) {
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    for (number, line) in source.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        match line.split_once(" = ") {
            Some((key, value)) if !key.trim().is_empty() && !key.contains(' ') => {
                entries.push((key.trim(), unescape(value.trim())));
            }
            _ => problems.push(format!("line {}: not `key = text`: {line}", number + 1)),
        }
    }
    (entries, problems)
}

/// `\n` to a line break, `\\` to one backslash; any other backslash stays.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some('n')) => {
                chars.next();
                out.push('\n');
            }
            ('\\', Some('\\')) => {
                chars.next();
                out.push('\\');
            }
            _ => out.push(c),
        }
    }
    out
}

fn catalog(lang: Lang) -> &'static HashMap<&'static str, String> {
    static CATALOGS: OnceLock<[HashMap<&'static str, String>; 2]> = OnceLock::new();
    let all = CATALOGS.get_or_init(|| Lang::ALL.map(|l| parse(l.source()).0.into_iter().collect()));
    match lang {
        Lang::En => &all[0],
        Lang::Ja => &all[1],
    }
}

/// Every key of `lang`'s catalog, in file order (for the test that compares languages).
pub fn keys(lang: Lang) -> Vec<&'static str> {
    parse(lang.source()).0.into_iter().map(|(k, _)| k).collect()
}

/// Whether `key` exists in `lang`'s catalog.
pub fn has(lang: Lang, key: &str) -> bool {
    catalog(lang).contains_key(key)
}

/// The text of `key` in the learner's language.
pub fn text(key: &str) -> &'static str {
    text_in(lang(), key)
}

/// The text of `key` in `lang`; falls back to English, then to the key itself, so a missing
/// entry shows up as its key instead of a panic (the test catches it before a learner does).
pub fn text_in(lang: Lang, key: &str) -> &'static str {
    catalog(lang)
        .get(key)
        .or_else(|| catalog(Lang::En).get(key))
        .map(String::as_str)
        .unwrap_or_else(|| Box::leak(key.to_string().into_boxed_str()))
}

/// The text of `key` in the learner's language with `{name}` placeholders filled.
pub fn fill(key: &str, args: &[(&str, &dyn Display)]) -> String {
    fill_in(lang(), key, args)
}

/// [`fill`] in a given language.
pub fn fill_in(lang: Lang, key: &str, args: &[(&str, &dyn Display)]) -> String {
    let mut out = text_in(lang, key).to_string();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), &value.to_string());
    }
    out
}

/// A report label (`expected`, `got`, `first difference`) in the learner's language: the key
/// is `label.` + the label with spaces as `_`; a label without an entry stays as it is.
pub fn label(label: &str) -> String {
    let key = format!("label.{}", label.replace(' ', "_"));
    let lang = lang();
    if has(lang, &key) {
        text_in(lang, &key).to_string()
    } else {
        label.to_string()
    }
}

/// The `{name}` placeholders in a text, for the test that checks both languages use the same.
pub fn placeholders(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end)
                if after[..end]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                names.push(after[..end].to_string());
                rest = &after[end + 1..];
            }
            _ => rest = after,
        }
    }
    names.sort();
    names.dedup();
    names
}

/// A clap value parser for a number of seconds (`0.5`, `5`); `positive` rejects zero. The
/// course's programs and the `course` program read durations with it.
pub fn seconds(text: &str, positive: bool) -> Result<Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !secs.is_finite() || secs < 0.0 || (positive && secs == 0.0) {
        let least = if positive { "more than 0" } else { "0 or more" };
        return Err(format!("`{text}`: the number of seconds must be {least}"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Takes from `command` the variables cargo sets for the program it runs (`cargo run`,
/// `cargo test`: `CARGO_MANIFEST_DIR`, `CARGO_PKG_NAME`, ...), so that a cargo started by that
/// program builds as one started from a shell. Inherited, they look like a changed environment
/// to a build script that reads one of them (ring's reads `CARGO_MANIFEST_DIR`): cargo reruns
/// it and rebuilds every crate above it (rustls, quinn, chapter 10's crates) on every switch
/// between a nested cargo and the learner's own.
pub fn without_inherited_cargo_env(command: &mut std::process::Command) {
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let set_by_cargo_for_its_program = matches!(
            key,
            "CARGO_MANIFEST_DIR"
                | "CARGO_MANIFEST_PATH"
                | "CARGO_CRATE_NAME"
                | "CARGO_BIN_NAME"
                | "CARGO_PRIMARY_PACKAGE"
                | "CARGO_TARGET_TMPDIR"
                | "CARGO_RUSTC_CURRENT_DIR"
        ) || key.starts_with("CARGO_PKG_")
            || key.starts_with("CARGO_BIN_EXE_");
        if set_by_cargo_for_its_program {
            command.env_remove(key);
        }
    }
}

#[cfg(test)]
mod nested_cargo {
    /// `cargo test` runs this test with `CARGO_MANIFEST_DIR` and `CARGO_PKG_NAME` set, as it
    /// runs every test that starts a cargo of its own.
    #[test]
    fn a_nested_cargo_does_not_inherit_what_cargo_set_for_its_program() {
        assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
        let mut command = std::process::Command::new("cargo");
        super::without_inherited_cargo_env(&mut command);
        let removed: Vec<_> = command
            .get_envs()
            .filter(|(_, value)| value.is_none())
            .map(|(key, _)| key.to_string_lossy().into_owned())
            .collect();
        for key in ["CARGO_MANIFEST_DIR", "CARGO_PKG_NAME"] {
            assert!(
                removed.iter().any(|k| k == key),
                "{key} is inherited: {removed:?}"
            );
        }
        assert!(
            !removed
                .iter()
                .any(|k| k == "CARGO_HOME" || k == "CARGO_TARGET_DIR")
        );
    }
}
