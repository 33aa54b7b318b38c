//! What a submission brings that it should not: code pulled in from outside `exercises/`
//! (`include!`-like macros, `#[path]`), and files changed outside `exercises/`.

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Read};
use std::path::Path;

use crate::build::MAX_FILE;

/// What the overlaid exercise files do that they should not, found in the code's tokens
/// (comments, strings and character literals removed first; attributes and macros however they
/// are spaced or split over lines): pulling in code from elsewhere (`include!`, `include_str!`,
/// `include_bytes!` with any brackets or under another name, `#[path]`, `cfg_attr(.., path =
/// ..)`), ending the test process itself (`process::exit`, `exec`), reading the command line
/// (`env::args`). Reported as `file:line: what`. The compiler's list of sources (see
/// [`foreign_sources`]) is the check that counts; this one gives the early, plain message.
pub fn scan_for_escapes(dir: &Path, shown: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut files = Vec::new();
    list_rs(dir, &mut files);
    for path in files {
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        let rel = path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        let tokens = tokens(&text);
        for (i, (line, token)) in tokens.iter().enumerate() {
            let before = |n: usize| i.checked_sub(n).map(|j| tokens[j].1.as_str());
            let after = |n: usize| tokens.get(i + n).map(|t| t.1.as_str());
            let what = match token.as_str() {
                "include" | "include_str" | "include_bytes" => Some(format!(
                    "uses {token}! to pull in code from outside exercises/"
                )),
                "path"
                    if after(1) == Some("=")
                        && after(2) != Some("=")
                        && matches!(before(1), Some("[" | "(" | ",")) =>
                {
                    Some("uses #[path] to pull in code from outside exercises/".into())
                }
                // `process::exit`, `use std::process::{exit}`, or after `use std::process::*`.
                "exit" if before(1) != Some(".") => Some(
                    "calls process::exit, which ends the test process itself: graded as its stub"
                        .into(),
                ),
                "exec" => {
                    Some("calls exec, which replaces the test process: graded as its stub".into())
                }
                "args" | "args_os" if before(1) == Some("::") && before(2) == Some("env") => {
                    Some("reads the command line (env::args)".into())
                }
                _ => None,
            };
            if let Some(what) = what {
                found.push(format!("{shown}/{rel}:{line}: {what}"));
            }
        }
    }
    found.dedup();
    found
}

/// Every `.rs` file under `dir` (symbolic links not followed), sorted.
pub fn list_rs(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            list_rs(&entry.path(), out);
        } else if kind.is_file() && entry.path().extension().is_some_and(|e| e == "rs") {
            out.push(entry.path());
        }
    }
}

/// The code's tokens with their line numbers: identifiers, `::`, and single punctuation
/// characters. Comments (nested block comments too), string literals (raw ones too), byte
/// strings and character literals are dropped; a lifetime `'a` is kept as punctuation + name.
fn tokens(text: &str) -> Vec<(usize, String)> {
    let chars: Vec<char> = text.chars().collect();
    let (mut out, mut i, mut line) = (Vec::new(), 0usize, 1usize);
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if c == 'r'
            && (at(i + 1) == '#' || at(i + 1) == '"')
            && raw_start(&chars, i + 1).is_some()
        {
            // r"..." or r#"..."#: skip to the matching quote and hashes.
            let (hashes, body) = raw_start(&chars, i + 1).unwrap_or((0, i + 2));
            i = body;
            while i < chars.len() {
                if chars[i] == '"' && (1..=hashes).all(|k| at(i + k) == '#') {
                    i += 1 + hashes;
                    break;
                }
                if chars[i] == '\n' {
                    line += 1;
                }
                i += 1;
            }
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                if at(i) == '\n' {
                    line += 1;
                }
                i += 1;
            }
            i += 1;
        } else if c == '\'' {
            // A character literal ('x', '\'', '\u{..}', '"') or a lifetime ('a).
            if at(i + 1) == '\\' {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                out.push((line, "'".to_string()));
                i += 1;
            }
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            // b"..", br"..": the prefix of a byte string; the literal follows.
            if (word == "b" || word == "br" || word == "c" || word == "cr")
                && matches!(at(i), '"' | '#')
            {
                if word.ends_with('r') {
                    i -= 1; // let the raw-string branch see the `r`
                }
                continue;
            }
            out.push((line, word));
        } else if c == ':' && at(i + 1) == ':' {
            out.push((line, "::".to_string()));
            i += 2;
        } else {
            out.push((line, c.to_string()));
            i += 1;
        }
    }
    out
}

/// For `#*"` at `i` (after an `r`): the number of hashes and where the body starts.
fn raw_start(chars: &[char], mut i: usize) -> Option<(usize, usize)> {
    let mut hashes = 0;
    while chars.get(i) == Some(&'#') {
        hashes += 1;
        i += 1;
    }
    (chars.get(i) == Some(&'"')).then_some((hashes, i + 1))
}

/// Symbolic links in the tree `root` (the root itself included), as `shown`-relative paths.
pub fn symlinks_in(root: &Path, shown: &str) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(meta) = fs::symlink_metadata(root) else {
        return out;
    };
    if meta.file_type().is_symlink() {
        out.push(shown.to_string());
        return out;
    }
    if let Ok(entries) = fs::read_dir(root) {
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            out.extend(symlinks_in(&entry.path(), &format!("{shown}/{name}")));
        }
    }
    out
}

/// The source files cargo's dep-info (`exercises-*.d`, the newest, from the first folder that
/// has one) lists for the exercises crate that are not under `allowed`: whatever pulled them in
/// (`#[path]`, `include!` under any name or spelling, a symbolic link), the compiler read them.
pub fn foreign_sources(deps: &[std::path::PathBuf], root: &Path) -> Vec<String> {
    // Chapter 10's exercises are a crate of their own (`exercises_tls-*.d`), read the same way.
    let mut out: BTreeSet<String> = BTreeSet::new();
    for prefix in ["exercises-", "exercises_tls-"] {
        out.extend(foreign_sources_of(deps, root, prefix));
    }
    out.into_iter().collect()
}

/// [`foreign_sources`] for the dep-info files whose names start with `prefix`.
fn foreign_sources_of(deps: &[std::path::PathBuf], root: &Path, prefix: &str) -> Vec<String> {
    let allowed = root.join("exercises").join("src");
    let newest = deps.iter().find_map(|dir| {
        let mut files: Vec<(std::time::SystemTime, std::path::PathBuf)> = fs::read_dir(dir)
            .ok()?
            .flatten()
            .filter(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.starts_with(prefix) && n.ends_with(".d")
            })
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        files.sort();
        files.pop().map(|(_, p)| p)
    });
    let Some(file) = newest else {
        return Vec::new();
    };
    let Ok(text) = fs::read_to_string(&file) else {
        return Vec::new();
    };
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        // `out: src1 src2` or `src:`; spaces in paths are escaped as `\ `.
        let line = line.replace("\\ ", "\u{0}");
        let (left, right) = line
            .split_once(": ")
            .unwrap_or((line.trim_end_matches(':'), ""));
        for path in std::iter::once(left).chain(right.split(' ')) {
            let path = path.replace('\u{0}', " ");
            if path.is_empty()
                || path.ends_with(".rlib")
                || path.ends_with(".rmeta")
                || path.ends_with(".d")
            {
                continue;
            }
            // Relative to the workspace root; `..` resolved by hand (a `#[path]` to
            // `../../../solutions/x.rs` is recorded as `exercises/src/ch01/../../../..`).
            let mut full = std::path::PathBuf::new();
            for part in root.join(&path).components() {
                match part {
                    std::path::Component::ParentDir => {
                        full.pop();
                    }
                    std::path::Component::CurDir => {}
                    other => full.push(other),
                }
            }
            if !full.starts_with(&allowed) {
                out.insert(full.display().to_string());
            }
        }
    }
    out.into_iter().collect()
}

/// Files of `theirs` that are near-copies of the reference `reference` (same file names):
/// the code the learner wrote (their token 4-grams that the stub does not have) against the
/// code the reference adds to the stub, Jaccard similarity >= 90 %. A hint for the teacher, not
/// a verdict: short answers can be alike by nature.
pub fn similarity(reference: &Path, theirs: &Path, shown: &str) -> Vec<String> {
    let mut files = Vec::new();
    list_rs(theirs, &mut files);
    // `<course>/solutions/src/chNN_x` -> `<course>/exercises/src/chNN_x`.
    let stubs = reference
        .ancestors()
        .nth(3)
        .map(|course| {
            course
                .join("exercises/src")
                .join(reference.file_name().unwrap_or_default())
        })
        .unwrap_or_default();
    let grams = |p: &Path| -> BTreeSet<Vec<String>> {
        let words: Vec<String> = fs::read_to_string(p)
            .map(|t| tokens(&t).into_iter().map(|(_, w)| w).collect())
            .unwrap_or_default();
        words.windows(4).map(<[String]>::to_vec).collect()
    };
    let mut out = Vec::new();
    for file in files {
        let rel = file.strip_prefix(theirs).unwrap_or(&file);
        let (mine, stub, answer) = (
            grams(&file),
            grams(&stubs.join(rel)),
            grams(&reference.join(rel)),
        );
        let written: BTreeSet<_> = mine.difference(&stub).collect();
        let added: BTreeSet<_> = answer.difference(&stub).collect();
        if written.len() < 20 || added.is_empty() {
            continue;
        }
        let common = written.intersection(&added).count();
        let union = written.union(&added).count();
        let percent = common * 100 / union.max(1);
        if percent >= 90 {
            out.push(format!(
                "{shown}/{}: {percent} % similar to the reference",
                rel.to_string_lossy().replace('\\', "/")
            ));
        }
    }
    out
}

/// Files of `submission` that differ from the pristine course outside `exercises/`: changed,
/// added, or missing. (Information for the teacher: none of them is used for grading.)
pub fn modified_outside_exercises(pristine: &Path, submission: &Path) -> Vec<String> {
    let mut theirs = BTreeSet::new();
    list_files(submission, Path::new(""), &mut theirs);
    let mut ours = BTreeSet::new();
    list_files(pristine, Path::new(""), &mut ours);
    let mut out = Vec::new();
    for path in theirs.union(&ours) {
        if path.starts_with("exercises/") || path.starts_with(".course-grade") {
            continue;
        }
        let (a, b) = (pristine.join(path), submission.join(path));
        let same = match (fs::metadata(&a), fs::metadata(&b)) {
            (Ok(ma), Ok(mb)) => ma.len() == mb.len() && same_bytes(&a, &b),
            _ => false,
        };
        if !same {
            out.push(path.clone());
        }
    }
    out
}

fn same_bytes(a: &Path, b: &Path) -> bool {
    let read = |p: &Path| -> io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        fs::File::open(p)?
            .take(MAX_FILE * 64)
            .read_to_end(&mut bytes)?;
        Ok(bytes)
    };
    matches!((read(a), read(b)), (Ok(x), Ok(y)) if x == y)
}

/// Every file under `dir` as a `/`-separated relative path, skipping `.git`, `target` and
/// `node_modules` folders and the built books.
fn list_files(root: &Path, relative: &Path, out: &mut BTreeSet<String>) {
    let Ok(entries) = fs::read_dir(root.join(relative)) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let rel = relative.join(&name);
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if name == ".git" {
            continue; // a folder, or a file in a worktree
        }
        if kind.is_dir() {
            let skip = [".git", "target", "node_modules"];
            if skip.iter().any(|s| name == *s) || rel == Path::new("book/en/book") {
                continue;
            }
            list_files(root, &rel, out);
        } else {
            let text = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            if !text.starts_with(".course-grade") && !text.ends_with(".archive.tar") {
                out.insert(text);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_found_however_they_are_spelled_and_comments_and_strings_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                "a.rs",
                "// include!(\"x\") in a comment\n/* #[path = \"y\"] */\nfn f() {}\n",
                0,
            ),
            (
                "b.rs",
                "#[cfg_attr(all(), path = \"../../x.rs\")]\nmod m;\n",
                1,
            ),
            ("c.rs", "#\n[path = \"../x.rs\"]\nmod m;\n", 1),
            (
                "d.rs",
                "const Q: char = '\"'; const S: &str = \"/*\";\n#[path = \"x.rs\"] mod m;\n",
                1,
            ),
            ("e.rs", "const T: &str = include_str!{\"../x.rs\"};\n", 1),
            ("f.rs", "use std::include_str as grab;\n", 1),
            (
                "g.rs",
                "fn f() { std::process::exit(0) }\nfn g() { let _ = std::env::args(); }\n",
                2,
            ),
            (
                "h.rs",
                "fn f<'a>(path: &'a str) -> bool { let x = \"include!\"; path == x }\n",
                0,
            ),
            (
                "i.rs",
                "const R: &str = r#\"include!(\"x\") #[path = \"y\"]\"#;\n",
                0,
            ),
        ];
        for (name, text, expected) in cases {
            let sub = dir.path().join(name.replace(".rs", ""));
            fs::create_dir_all(&sub).unwrap();
            fs::write(sub.join(name), text).unwrap();
            let found = scan_for_escapes(&sub, "ex");
            assert_eq!(found.len(), expected, "{name}: {found:?}");
        }
    }

    #[test]
    fn dep_info_sources_outside_the_exercises_are_listed() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("exercises-0abc.d"),
            "/c/target/debug/deps/exercises-0abc.d: exercises/src/lib.rs exercises/src/ch01/mod.rs exercises/src/ch01/../../../solutions/src/ch01/x.rs /etc/passwd\n\nexercises/src/lib.rs:\n/etc/passwd:\n",
        )
        .unwrap();
        let found = foreign_sources(&[dir.path().to_path_buf()], Path::new("/c"));
        assert_eq!(found, ["/c/solutions/src/ch01/x.rs", "/etc/passwd"]);
    }

    #[test]
    fn chapter_10s_crate_is_read_too() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("exercises_tls-0abc.d"),
            "/c/target/debug/deps/exercises_tls-0abc.d: exercises/src/ch10_tls/mod.rs /etc/shadow\n",
        )
        .unwrap();
        let found = foreign_sources(&[dir.path().to_path_buf()], Path::new("/c"));
        assert_eq!(found, ["/etc/shadow"]);
    }
}
