//! What a submission brings that it should not: code pulled in from outside `exercises/`
//! (`include!`-like macros, `#[path]`), and files changed outside `exercises/`.

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Read};
use std::path::Path;

use crate::build::MAX_FILE;

/// Lines of the overlaid exercise files that pull code from elsewhere (`include!`,
/// `include_str!`, `include_bytes!`, `#[path]`): reported as `file:line: what`.
pub fn scan_for_escapes(dir: &Path, shown: &str) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return found;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            found.extend(scan_for_escapes(&path, &format!("{shown}/{name}")));
            continue;
        }
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        let code = strip_comments(&text);
        for (number, line) in code.lines().enumerate() {
            let squeezed: String = line.chars().filter(|c| !c.is_whitespace()).collect();
            for (needle, what) in [
                ("include!(", "include!"),
                ("include_str!(", "include_str!"),
                ("include_bytes!(", "include_bytes!"),
                ("#[path", "#[path]"),
                ("#![path", "#![path]"),
            ] {
                if squeezed.contains(needle) {
                    found.push(format!(
                        "{shown}/{name}:{}: uses {what} to pull in code from outside exercises/",
                        number + 1
                    ));
                }
            }
        }
    }
    found
}

/// `text` with `//` and `/* */` comments blanked (line structure kept), so a comment that
/// mentions `include!` is not flagged. String contents are kept as they are.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let (mut in_string, mut block_depth) = (false, 0usize);
    while let Some(c) = chars.next() {
        if block_depth > 0 {
            if c == '*' && chars.peek() == Some(&'/') {
                chars.next();
                block_depth -= 1;
            } else if c == '/' && chars.peek() == Some(&'*') {
                chars.next();
                block_depth += 1;
            } else if c == '\n' {
                out.push('\n');
            }
            continue;
        }
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match (c, chars.peek()) {
            ('/', Some('/')) => {
                for rest in chars.by_ref() {
                    if rest == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                chars.next();
                block_depth = 1;
            }
            ('"', _) => {
                in_string = true;
                out.push(c);
            }
            _ => out.push(c),
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
    fn includes_in_code_are_flagged_and_those_in_comments_are_not() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("a.rs"),
            "// include!(\"x\") in a comment\n/* #[path = \"y\"] */\nfn f() {}\ninclude ! (\"../../solutions/src/x.rs\");\nconst S: &str = \"//\"; #[path=\"z.rs\"] mod z;\n",
        )
        .unwrap();
        let found = scan_for_escapes(dir.path(), "ex");
        assert_eq!(
            found,
            vec![
                "ex/a.rs:4: uses include! to pull in code from outside exercises/",
                "ex/a.rs:5: uses #[path] to pull in code from outside exercises/",
            ]
        );
    }
}
