//! The catalogs and the table of exercises stay complete and true to the files on disk:
//! every message key exists in both languages with the same placeholders, every exercise's
//! file exists and every exercise file is listed, every book anchor names a real heading in
//! both books, and every exercise has a title and hints in both languages.

use std::fs;
use std::path::Path;

use course_catalog::exercises::{CHAPTERS, EXERCISES, heading_id};
use course_catalog::{Lang, has, keys, lang_from, parse, placeholders, text_in};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_key_exists_in_both_languages_with_the_same_placeholders() {
    let mut problems = Vec::new();
    for lang in Lang::ALL {
        let path = root().join(format!("catalog/messages/{}.txt", lang.code()));
        let source = fs::read_to_string(&path).unwrap();
        let (entries, errors) = parse(&source);
        problems.extend(errors.into_iter().map(|e| format!("{}: {e}", lang.code())));
        let mut seen = std::collections::HashSet::new();
        for (key, _) in &entries {
            if !seen.insert(*key) {
                problems.push(format!("{}: `{key}` appears twice", lang.code()));
            }
        }
    }
    for key in keys(Lang::En) {
        for lang in Lang::ALL {
            if !has(lang, key) {
                problems.push(format!("`{key}` is missing in {}", lang.code()));
            } else if placeholders(text_in(lang, key)) != placeholders(text_in(Lang::En, key)) {
                problems.push(format!(
                    "`{key}` has other placeholders in {} than in en",
                    lang.code()
                ));
            }
        }
    }
    for key in keys(Lang::Ja) {
        if !has(Lang::En, key) {
            problems.push(format!("`{key}` is missing in en"));
        }
    }
    assert!(
        problems.is_empty(),
        "catalog problems:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_language_comes_from_course_lang_then_the_locale() {
    assert_eq!(lang_from(Some("ja"), None, None, None), Lang::Ja);
    assert_eq!(
        lang_from(Some("en"), None, None, Some("ja_JP.UTF-8")),
        Lang::En
    );
    assert_eq!(lang_from(None, None, None, Some("ja_JP.UTF-8")), Lang::Ja);
    assert_eq!(
        lang_from(None, Some("ja_JP.UTF-8"), None, Some("C")),
        Lang::Ja
    );
    assert_eq!(
        lang_from(None, Some("C.UTF-8"), None, Some("ja_JP.UTF-8")),
        Lang::En
    );
    assert_eq!(lang_from(None, Some(""), None, Some("ja_JP")), Lang::Ja);
    assert_eq!(lang_from(None, None, None, None), Lang::En);
    assert_eq!(lang_from(Some("fr"), None, None, Some("en_US")), Lang::En);
}

#[test]
fn an_exercise_in_steps_is_found_by_its_number_too() {
    use course_catalog::exercises::exercise;
    assert_eq!(exercise("1.1").map(|e| e.id), Some("1.1"));
    assert_eq!(exercise("1.2").map(|e| e.id), Some("1.2a"));
    assert_eq!(exercise("1.2C").map(|e| e.id), Some("1.2c"));
    assert_eq!(exercise("0.9").map(|e| e.id), None);
}

#[test]
fn every_exercise_has_a_title_and_hints_in_both_languages() {
    let mut problems = Vec::new();
    for exercise in EXERCISES {
        for lang in Lang::ALL {
            for part in ["title", "idea", "api"] {
                let key = format!("ex.{}.{part}", exercise.id);
                if !has(lang, &key) {
                    problems.push(format!("`{key}` is missing in {}", lang.code()));
                }
            }
        }
        if !has(Lang::En, &format!("chapter.{}", exercise.chapter)) {
            problems.push(format!("no title for chapter {}", exercise.chapter));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_exercise_table_matches_the_files_on_disk() {
    let mut problems = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for exercise in EXERCISES {
        if !ids.insert(exercise.id) {
            problems.push(format!("exercise {} is listed twice", exercise.id));
        }
        if CHAPTERS.iter().all(|c| c.id != exercise.chapter) {
            problems.push(format!(
                "exercise {}: unknown chapter {}",
                exercise.id, exercise.chapter
            ));
        }
        if !root().join(exercise.file).is_file() {
            problems.push(format!(
                "exercise {}: no file {}",
                exercise.id, exercise.file
            ));
        }
        let solution = exercise.file.replacen("exercises/", "solutions/", 1);
        if !root().join(&solution).is_file() {
            problems.push(format!(
                "exercise {}: no solution file {solution}",
                exercise.id
            ));
        }
        if exercise.tests.is_empty() {
            problems.push(format!("exercise {}: no tests", exercise.id));
        }
        let number = CHAPTERS
            .iter()
            .find(|c| c.id == exercise.chapter)
            .map_or(0, |c| c.number);
        if !exercise
            .file
            .starts_with(&format!("exercises/src/ch{number:02}_"))
        {
            problems.push(format!(
                "exercise {}: file outside its chapter",
                exercise.id
            ));
        }
    }
    // Every chapter folder is a listed chapter, and every exercise file in it is listed.
    for entry in fs::read_dir(root().join("exercises/src"))
        .unwrap()
        .flatten()
    {
        if !entry.path().is_dir() {
            continue;
        }
        let chapter = entry.file_name().to_string_lossy().to_string();
        if CHAPTERS.iter().all(|c| c.id != chapter) {
            problems.push(format!(
                "exercises/src/{chapter} is not in the table of chapters"
            ));
        }
        for file in fs::read_dir(entry.path()).unwrap().flatten() {
            let name = file.file_name().to_string_lossy().to_string();
            let path = format!("exercises/src/{chapter}/{name}");
            // A file with a `todo!()` holds an exercise; a given file (no `todo!()`) may not.
            let has_todo = fs::read_to_string(file.path()).is_ok_and(|t| t.contains("todo!()"));
            if has_todo && EXERCISES.iter().all(|e| e.file != path) {
                problems.push(format!("{path} holds an exercise that is not listed"));
            }
        }
    }
    for chapter in CHAPTERS {
        if !root().join(format!("tests/{}.rs", chapter.id)).is_file() {
            problems.push(format!(
                "chapter {}: no tests/{}.rs",
                chapter.id, chapter.id
            ));
        }
        if EXERCISES.iter().all(|e| e.chapter != chapter.id) {
            problems.push(format!("chapter {} has no exercises", chapter.id));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_exercise_names_test_modules_of_its_chapter() {
    let mut problems = Vec::new();
    for exercise in EXERCISES {
        let tests = fs::read_to_string(root().join(format!("tests/{}.rs", exercise.chapter)))
            .unwrap_or_default();
        for filter in exercise.tests {
            // `module::` names `mod module` (or a module a macro makes: `spec_tests!(module,`);
            // `module::test_start` a test in it too. (A quick look at the sources;
            // tests/grade_commands.rs checks the filters against the test binaries.)
            let (module, test) = filter.split_once("::").unwrap_or((filter, ""));
            let module_found = tests.contains(&format!("mod {module} {{"))
                || tests.contains(&format!("!({module},"));
            let test_found = test.is_empty() || tests.contains(&format!("fn {test}"));
            if !module_found || !test_found {
                problems.push(format!(
                    "exercise {}: no tests `{filter}` in tests/{}.rs",
                    exercise.id, exercise.chapter
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_book_anchor_names_a_heading_in_both_books() {
    let mut problems = Vec::new();
    for exercise in EXERCISES {
        let page = CHAPTERS
            .iter()
            .find(|c| c.id == exercise.chapter)
            .map(|c| c.page)
            .unwrap_or("");
        for (lang, anchor) in [("en", exercise.anchor_en), ("ja", exercise.anchor_ja)] {
            let text = fs::read_to_string(root().join(format!("book/{lang}/src/{page}")))
                .unwrap_or_default();
            let found = text
                .lines()
                .filter(|l| l.starts_with('#'))
                .any(|l| heading_id(l.trim_start_matches('#').trim()) == anchor);
            if !found {
                problems.push(format!(
                    "exercise {}: no heading `#{anchor}` in book/{lang}/src/{page}",
                    exercise.id
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// One token of a Rust source, as much as [`english_in_assertions`] needs.
#[derive(Debug, PartialEq)]
enum Token {
    Ident(String),
    /// A string literal's text as written (escapes left as they are); byte strings are data,
    /// not messages, and come out as [`Token::Other`].
    Str(String),
    Punct(char),
    Other,
}

/// The tokens of `source` with their line numbers; comments dropped.
fn tokens(source: &str) -> Vec<(Token, usize)> {
    let chars: Vec<char> = source.chars().collect();
    let (mut i, mut line, mut out) = (0, 1, Vec::new());
    // Reads a string body from `i` (after the opening quote) to the closing quote of a
    // literal with `hashes` #s (0: an ordinary string, where `\` escapes).
    let string_end = |mut i: usize, hashes: usize, line: &mut usize| {
        let start = i;
        while i < chars.len() {
            match chars[i] {
                '\\' if hashes == 0 => i += 1,
                '\n' => *line += 1,
                '"' if chars[i + 1..]
                    .iter()
                    .take(hashes)
                    .filter(|c| **c == '#')
                    .count()
                    == hashes =>
                {
                    return (chars[start..i].iter().collect::<String>(), i + 1 + hashes);
                }
                _ => {}
            }
            i += 1;
        }
        (chars[start..].iter().collect(), chars.len())
    };
    while i < chars.len() {
        let c = chars[i];
        let at = line;
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if source_starts(&chars, i, "//") {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if source_starts(&chars, i, "/*") {
            while i < chars.len() && !source_starts(&chars, i, "*/") {
                line += usize::from(chars[i] == '\n');
                i += 1;
            }
            i += 2;
        } else if c == '"' {
            let (text, next) = string_end(i + 1, 0, &mut line);
            out.push((Token::Str(text), at));
            i = next;
        } else if (c == 'r' || c == 'b')
            && (source_starts(&chars, i + 1, "\"")
                || source_starts(&chars, i + 1, "#")
                || source_starts(&chars, i + 1, "r\"")
                || source_starts(&chars, i + 1, "r#"))
        {
            // r"..", r#".."#, b"..", br"..": the prefix, the #s, the body.
            let byte = c == 'b';
            let mut j = i + 1;
            if byte && chars.get(j) == Some(&'r') {
                j += 1;
            }
            let raw = chars[i..j].contains(&'r');
            let hashes = chars[j..].iter().take_while(|c| **c == '#').count();
            if chars.get(j + hashes) != Some(&'"') {
                // `r#ident` or the like: an identifier.
                out.push((Token::Ident(c.to_string()), at));
                i += 1;
                continue;
            }
            let (text, next) = string_end(j + hashes + 1, if raw { hashes } else { 0 }, &mut line);
            out.push((if byte { Token::Other } else { Token::Str(text) }, at));
            i = next;
        } else if c == '\'' {
            // A char literal ('x', '\n', '\'') or a lifetime ('a).
            if chars.get(i + 1) == Some(&'\\') {
                i += 3;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
            }
            out.push((Token::Other, at));
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push((Token::Ident(chars[start..i].iter().collect()), at));
        } else {
            out.push((Token::Punct(c), at));
            i += 1;
        }
    }
    out
}

fn source_starts(chars: &[char], at: usize, text: &str) -> bool {
    text.chars()
        .enumerate()
        .all(|(k, c)| chars.get(at + k) == Some(&c))
}

/// Whether a string literal in an assertion's message may stay as it is: the rule of
/// [`chapter_tests_assert_in_the_learners_language`].
fn allowed_in_a_message(text: &str) -> bool {
    // `{...}` placeholders removed: nothing left to translate?
    let mut rest = String::new();
    let mut depth = 0;
    for c in text.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth > 0 => depth -= 1,
            _ if depth == 0 => rest.push(c),
            _ => {}
        }
    }
    // Escapes (`\n`, `\t`) are not words.
    let rest = rest.replace("\\n", " ").replace("\\t", " ");
    let words = !rest.chars().any(|c| c.is_ascii_alphabetic());
    // One lowercase word of letters, digits, `_`, `.` and `-`: a catalog key, a placeholder's
    // name or a program's name.
    let key = text.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c));
    // A call or a value shown as code: `classify_port({port})`, `Err(NoReply)`.
    let call = text.ends_with(')')
        && text.split_once('(').is_some_and(|(name, _)| {
            name.starts_with(|c: char| c.is_ascii_alphabetic())
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        });
    // A constant's name, shown as code: `IP_MULTICAST_TTL`.
    let constant = text.contains('_')
        && text
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    words || key || call || constant || text.starts_with("test setup:")
}

/// Where `tests/chNN_*.rs` has a string literal in the message of an `assert!`, `assert_eq!`,
/// `assert_ne!`, `panic!`, `unreachable!`, `.expect(` or `.or_fail(`, or in the headline or
/// description of a harness report (`Report::new(`, `expect_bytes(`, `expect_eq(`, `.fail(`,
/// `fail_with_diagram(`): (file:line, literal).
fn english_in_assertions(file: &str, source: &str) -> Vec<(String, String)> {
    let tokens = tokens(source);
    let mut found = Vec::new();
    for (at, (token, _)) in tokens.iter().enumerate() {
        let Token::Ident(name) = token else { continue };
        let after = |k: usize| tokens.get(at + k).map(|(t, _)| t);
        let method = at > 0 && tokens[at - 1].0 == Token::Punct('.');
        let of_report = at > 2 && tokens[at - 3].0 == Token::Ident("Report".into());
        // Which arguments are the message (from `skip`, before `until`), and where the
        // arguments open.
        let (skip, until, open) = match (name.as_str(), after(1)) {
            ("assert", Some(Token::Punct('!'))) => (1, usize::MAX, at + 2),
            ("assert_eq" | "assert_ne", Some(Token::Punct('!'))) => (2, usize::MAX, at + 2),
            ("panic" | "unreachable", Some(Token::Punct('!'))) => (0, usize::MAX, at + 2),
            ("expect" | "or_fail", Some(Token::Punct('('))) if method => (0, usize::MAX, at + 1),
            // The harness's reports: their headline or the description of what is compared.
            ("new", Some(Token::Punct('('))) if of_report => (0, 1, at + 1),
            ("expect_bytes" | "expect_eq", Some(Token::Punct('('))) => (0, 1, at + 1),
            ("fail", Some(Token::Punct('('))) if method => (0, 1, at + 1),
            ("fail_with_diagram", Some(Token::Punct('('))) => (1, 2, at + 1),
            _ => continue,
        };
        if open >= tokens.len() {
            continue;
        }
        if !matches!(tokens[open].0, Token::Punct('(' | '[' | '{')) {
            continue;
        }
        // The arguments, split at the commas of the outermost level.
        let (mut depth, mut argument) = (0usize, 0usize);
        for (token, line) in &tokens[open..] {
            match token {
                Token::Punct('(' | '[' | '{') => depth += 1,
                Token::Punct(')' | ']' | '}') => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                Token::Punct(',') if depth == 1 => argument += 1,
                Token::Str(text)
                    if (skip..until).contains(&argument) && !allowed_in_a_message(text) =>
                {
                    found.push((format!("{file}:{line}"), text.clone()));
                }
                _ => {}
            }
        }
    }
    found
}

/// The chapter tests' failure messages come from the catalog, so a learner reads them in
/// their language. This scans `tests/chNN_*.rs` for string literals in the message of an
/// assertion (`assert!`, `assert_eq!`, `assert_ne!`: after the compared values; `panic!`,
/// `unreachable!`, `.expect(`, the harness's `.or_fail(`: all of it, which covers
/// `unwrap_or_else(|e| panic!(..))`), and the first words of the harness's reports
/// (`Report::new(headline)`, `expect_bytes(what, ..)`, `expect_eq(what, ..)`, `.fail(headline)`,
/// `fail_with_diagram(relay, headline, ..)`): the values they compare are not scanned.
/// Allowed, so the rule stays simple:
/// - a format string of placeholders and punctuation only (`"{}"`, `"{why}: {detail}"`);
/// - one lowercase word (letters, digits, `_`, `.`, `-`): a catalog key, a placeholder name, a
///   program name (`"test.returned"`, `"call"`, `"udp-recv"`);
/// - a call or a value shown as code, a path then `(`...`)`: `"classify_port({port})"`,
///   `"Err(NoReply)"`; a constant's name in capitals with a `_` (`"IP_MULTICAST_TTL"`);
/// - a text that starts with `test setup:`: a failure of the test's own setup (a port it
///   could not bind, a program that did not build), not of the learner's code; it is for
///   whoever maintains the course and stays English, like the harness's self-tests.
///
/// Messages built elsewhere (a `format!` kept in a variable, a report's `.line(..)` values)
/// are not seen here.
#[test]
fn chapter_tests_assert_in_the_learners_language() {
    let mut found = Vec::new();
    let mut files: Vec<_> = fs::read_dir(root().join("tests"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|name| name.starts_with("ch") && name.ends_with(".rs"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "test setup: no tests/chNN_*.rs found");
    for name in files {
        let source = fs::read_to_string(root().join("tests").join(&name)).unwrap();
        found.extend(english_in_assertions(&format!("tests/{name}"), &source));
    }
    let lines: Vec<String> = found
        .iter()
        .map(|(place, text)| format!("{place}: \"{text}\""))
        .collect();
    assert!(
        found.is_empty(),
        "{} English assertion messages in chapter tests; put them in catalog/messages \
         (en.txt and ja.txt) and use course_catalog::text/fill:\n{}",
        found.len(),
        lines.join("\n")
    );
}

#[test]
fn the_assertion_scan_finds_english_and_lets_keys_and_setup_pass() {
    let source = r##"
        // assert!(false, "a comment is not a message");
        assert!(x == 1, "x should be 1, not {x}");
        assert_eq!(parse("localhost:80"), Ok(80), "{}", fill("ch01.key", &[("call", &c)]));
        assert_ne!(a, "data", "they differ");
        let t = s.expect("test setup: a socket");
        let u = r.unwrap_or_else(|e| panic!(r#"no "reply": {e}"#));
        let v = s.expect(&text("ch02.no_reply"));
        let r = s.or_fail("Not a key", &[]);
        assert_eq!(a, b, "{}", fill("ch09.option", &[("option", &"IP_MULTICAST_TTL")]));
        assert!(ok, "ERROR");
        expect_bytes("the echo", b"data", &got, None);
        Report::new(format!("no reply to {what}")).line("got", "data").fail();
        panic!("{}", fill("k", &[("call", &format!("recv_one({n})"))]));
        let w = w.expect(
            "spread over
             two lines",
        );
        let c = '"'; let l: &'static str = "not in an assertion";
    "##;
    let found: Vec<String> = english_in_assertions("f.rs", source)
        .into_iter()
        .map(|(place, text)| format!("{place} {text}"))
        .collect();
    assert_eq!(
        found,
        [
            "f.rs:3 x should be 1, not {x}",
            "f.rs:5 they differ",
            "f.rs:7 no \"reply\": {e}",
            "f.rs:9 Not a key",
            "f.rs:11 ERROR",
            "f.rs:12 the echo",
            "f.rs:13 no reply to {what}",
            "f.rs:16 spread over\n             two lines",
        ]
    );
}
