//! `course grade`'s results as a table, JSON, CSV or JUnit XML.

use std::fmt::Write as _;

use serde_json::{Value, json};

use std::collections::BTreeMap;

use super::{Class, Format, Submission};

/// The results in the chosen format.
pub fn render(class: &Class, format: Format) -> String {
    match format {
        Format::Json => {
            let mut text = serde_json::to_string_pretty(&to_json(class)).unwrap_or_default();
            text.push('\n');
            text
        }
        Format::Csv => to_csv(class),
        Format::Junit => to_junit(class),
        Format::Table => to_table(class),
    }
}

/// One line per class: students, mean and median share of tests passed per chapter, the
/// three most-failed tests.
pub fn summary(class: &Class) -> String {
    let graded: Vec<&Submission> = class
        .submissions
        .iter()
        .filter(|s| s.error.is_none())
        .collect();
    let mut per_chapter: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut failed: BTreeMap<String, usize> = BTreeMap::new();
    for s in &graded {
        for c in &s.chapters {
            let share = if c.total == 0 {
                0.0
            } else {
                c.passed as f64 / c.total as f64
            };
            per_chapter.entry(&c.chapter).or_default().push(share);
            for (name, ok) in &c.tests {
                if !ok {
                    *failed.entry(format!("{}::{name}", c.chapter)).or_default() += 1;
                }
            }
        }
    }
    let mut parts = Vec::new();
    for (chapter, mut shares) in per_chapter {
        shares.sort_by(f64::total_cmp);
        let mean = shares.iter().sum::<f64>() / shares.len() as f64;
        let n = shares.len();
        let median = if n % 2 == 1 {
            shares[n / 2]
        } else {
            (shares[n / 2 - 1] + shares[n / 2]) / 2.0
        };
        parts.push(format!(
            "{chapter} mean {:.0} % median {:.0} %",
            mean * 100.0,
            median * 100.0
        ));
    }
    let mut worst: Vec<(String, usize)> = failed.into_iter().collect();
    worst.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let worst: Vec<String> = worst
        .iter()
        .take(3)
        .map(|(n, k)| format!("{n} ({k})"))
        .collect();
    format!(
        "class: {} graded, {} not graded; {}; most failed: {}",
        graded.len(),
        class.submissions.len() - graded.len(),
        parts.join(", "),
        if worst.is_empty() {
            "none".to_string()
        } else {
            worst.join(", ")
        }
    )
}

fn to_json(class: &Class) -> Value {
    let submissions: Vec<Value> = class
        .submissions
        .iter()
        .map(|s| {
            let chapters: Vec<Value> = s
                .chapters
                .iter()
                .map(|c| {
                    let tests: Vec<Value> = c
                        .tests
                        .iter()
                        .map(|(name, ok)| {
                            json!({ "name": name, "passed": ok, "optional": c.is_optional(name) })
                        })
                        .collect();
                    let (optional_passed, optional_total) = c.optional();
                    json!({
                        "chapter": c.chapter,
                        "passed": c.passed,
                        "total": c.total,
                        "optional_passed": optional_passed,
                        "optional_total": optional_total,
                        "compiled": c.compiled,
                        "timed_out": c.timed_out,
                        "flagged": c.flagged,
                        "error": c.error,
                        "tests": tests,
                    })
                })
                .collect();
            json!({
                "submission": s.path.display().to_string(),
                "chapters": chapters,
                "passed": s.passed(),
                "total": s.total(),
                "required_passed": s.required().0,
                "required_total": s.required().1,
                "modified_outside_exercises": s.modified_outside_exercises,
                "flagged": s.flagged,
                "similar": s.similar,
                "error": s.error,
                "sandboxed": s.sandboxed,
                "seconds": (s.seconds * 10.0).round() / 10.0,
                "build_seconds": (s.build_seconds * 10.0).round() / 10.0,
            })
        })
        .collect();
    let (sandbox, unsandboxed) = match &class.sandbox {
        Ok(what) => (Value::from(what.as_str()), Value::Null),
        Err(why) => (Value::Null, Value::from(why.as_str())),
    };
    json!({
        "sandbox": sandbox,
        "unsandboxed_because": unsandboxed,
        "summary": summary(class),
        "submissions": submissions,
    })
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn to_csv(class: &Class) -> String {
    let mut out = String::from(
        "submission,chapter,passed,total,optional_passed,optional_total,compiled,timed_out,flagged,modified_outside_exercises,similar,sandboxed,error\n",
    );
    for s in &class.submissions {
        let row = |out: &mut String, c: Option<&super::ChapterResult>| {
            let error = c
                .and_then(|c| c.error.clone())
                .or_else(|| s.error.clone())
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{},{},{},{}",
                csv_field(&s.path.display().to_string()),
                csv_field(c.map_or("", |c| &c.chapter)),
                c.map_or(0, |c| c.passed),
                c.map_or(0, |c| c.total),
                c.map_or(0, |c| c.optional().0),
                c.map_or(0, |c| c.optional().1),
                c.is_some_and(|c| c.compiled),
                c.is_some_and(|c| c.timed_out),
                c.is_some_and(|c| c.flagged) || (c.is_none() && !s.flagged.is_empty()),
                s.modified_outside_exercises.len(),
                s.similar.len(),
                s.sandboxed,
                csv_field(&error)
            );
        };
        if s.chapters.is_empty() {
            row(&mut out, None);
        }
        for c in &s.chapters {
            row(&mut out, Some(c));
        }
    }
    out
}

fn xml(text: &str) -> String {
    text.chars()
        .filter(|c| matches!(*c, '\t' | '\n' | '\r') || *c >= ' ')
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The submission's name in test ids: its folder's name.
fn student(s: &Submission) -> String {
    s.path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| s.path.display().to_string())
}

/// JUnit XML as the Jenkins xunit plugin's `junit-10.xsd` defines it (tests/schemas/): every
/// `testsuite` has `name`, `tests`, `failures`, `errors`; test ids are `student.chapter` +
/// test name, unique in the file; a submission that could not be graded is a suite with one
/// `error`.
fn to_junit(class: &Class) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    for s in &class.submissions {
        let who = student(s);
        let notes: Vec<String> = s
            .flagged
            .iter()
            .map(|f| format!("flagged: {f}"))
            .chain(s.similar.iter().map(|f| format!("similar: {f}")))
            .chain(
                s.modified_outside_exercises
                    .iter()
                    .map(|f| format!("changed outside exercises/: {f}")),
            )
            .collect();
        if let Some(error) = &s.error {
            let _ = writeln!(
                out,
                "  <testsuite name=\"{}\" package=\"{}\" tests=\"1\" failures=\"0\" errors=\"1\">",
                xml(&who),
                xml(&s.path.display().to_string())
            );
            let _ = writeln!(
                out,
                "    <testcase classname=\"{}\" name=\"grading\"><error message=\"{}\"/></testcase>",
                xml(&who),
                xml(error)
            );
            out.push_str("  </testsuite>\n");
            continue;
        }
        for c in &s.chapters {
            let failures = c.tests.iter().filter(|(_, ok)| !ok).count();
            let _ = writeln!(
                out,
                "  <testsuite name=\"{}.{}\" package=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" time=\"0\">",
                xml(&who),
                xml(&c.chapter),
                xml(&s.path.display().to_string()),
                c.tests.len()
            );
            if !notes.is_empty() {
                out.push_str("    <properties>\n");
                for (i, note) in notes.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "      <property name=\"note{}\" value=\"{}\"/>",
                        i + 1,
                        xml(note)
                    );
                }
                out.push_str("    </properties>\n");
            }
            for (name, ok) in &c.tests {
                let _ = write!(
                    out,
                    "    <testcase classname=\"{}.{}\" name=\"{}\"",
                    xml(&who),
                    xml(&c.chapter),
                    xml(name)
                );
                if *ok {
                    out.push_str("/>\n");
                } else {
                    let why = match &c.error {
                        Some(error) => error.clone(),
                        None if c.timed_out => "failed or did not finish in time".into(),
                        None => "failed".into(),
                    };
                    let _ = writeln!(
                        out,
                        "><failure message=\"{}\" type=\"failure\"/></testcase>",
                        xml(&why)
                    );
                }
            }
            out.push_str("  </testsuite>\n");
        }
    }
    out.push_str("</testsuites>\n");
    out
}

fn to_table(class: &Class) -> String {
    let mut out = String::new();
    match &class.sandbox {
        Ok(what) => {
            let _ = writeln!(out, "sandbox: {what}");
        }
        Err(why) => {
            let _ = writeln!(
                out,
                "UNSANDBOXED ({why}): learner code ran with your rights"
            );
        }
    }
    for s in &class.submissions {
        let (required_passed, required_total) = s.required();
        let _ = writeln!(
            out,
            "{}  {}/{} tests, required {required_passed}/{required_total}  ({:.1} s)",
            s.path.display(),
            s.passed(),
            s.total(),
            s.seconds
        );
        if let Some(error) = &s.error {
            let _ = writeln!(out, "  error: {error}");
        }
        for c in &s.chapters {
            let mut note = match (&c.error, c.timed_out) {
                (Some(error), _) => format!("  {error}"),
                (None, true) => "  timed out (finished tests counted)".into(),
                (None, false) => String::new(),
            };
            let (optional_passed, optional_total) = c.optional();
            if optional_total > 0 {
                note.push_str(&format!(
                    "  (of which go further: {optional_passed}/{optional_total}, not required)"
                ));
            }
            let _ = writeln!(
                out,
                "  {:<22} {:>4}/{:<4}{note}",
                c.chapter, c.passed, c.total
            );
        }
        if !s.modified_outside_exercises.is_empty() {
            let _ = writeln!(
                out,
                "  changed outside exercises/ (not used for grading): {}",
                s.modified_outside_exercises.join(", ")
            );
        }
        for flag in &s.flagged {
            let _ = writeln!(out, "  FLAGGED: {flag}");
        }
        for similar in &s.similar {
            let _ = writeln!(out, "  similar: {similar}");
        }
    }
    let _ = writeln!(out, "{}", summary(class));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_xml_fields_are_escaped() {
        assert_eq!(csv_field("a,\"b\""), "\"a,\"\"b\"\"\"");
        assert_eq!(xml("<a&\"b\">"), "&lt;a&amp;&quot;b&quot;&gt;");
    }
}
