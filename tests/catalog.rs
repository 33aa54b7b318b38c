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
