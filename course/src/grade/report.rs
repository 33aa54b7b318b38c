//! `course grade`'s results as a table, JSON, CSV or JUnit XML.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{Format, Submission};

/// The results in the chosen format.
pub fn render(results: &[Submission], format: Format) -> String {
    match format {
        Format::Json => {
            let mut text = serde_json::to_string_pretty(&to_json(results)).unwrap_or_default();
            text.push('\n');
            text
        }
        Format::Csv => to_csv(results),
        Format::Junit => to_junit(results),
        Format::Table => to_table(results),
    }
}

fn to_json(results: &[Submission]) -> Value {
    let submissions: Vec<Value> = results
        .iter()
        .map(|s| {
            let chapters: Vec<Value> = s
                .chapters
                .iter()
                .map(|c| {
                    json!({
                        "chapter": c.chapter,
                        "passed": c.passed,
                        "total": c.total,
                        "compiled": c.compiled,
                        "timed_out": c.timed_out,
                        "flagged": c.flagged,
                    })
                })
                .collect();
            let mut value = json!({
                "submission": s.path.display().to_string(),
                "chapters": chapters,
                "passed": s.passed(),
                "total": s.total(),
                "modified_outside_exercises": s.modified_outside_exercises,
                "flagged": s.flagged,
            });
            if let Some(error) = &s.error {
                value["error"] = json!(error);
            }
            value
        })
        .collect();
    json!({ "submissions": submissions })
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn to_csv(results: &[Submission]) -> String {
    let mut out = String::from(
        "submission,chapter,passed,total,compiled,timed_out,modified_outside_exercises,flagged\n",
    );
    for s in results {
        for c in &s.chapters {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{}",
                csv_field(&s.path.display().to_string()),
                csv_field(&c.chapter),
                c.passed,
                c.total,
                c.compiled,
                c.timed_out,
                s.modified_outside_exercises.len(),
                s.flagged.len()
            );
        }
    }
    out
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn to_junit(results: &[Submission]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    for s in results {
        for c in &s.chapters {
            let failures = c.tests.iter().filter(|(_, ok)| !ok).count();
            let _ = writeln!(
                out,
                "  <testsuite name=\"{}\" package=\"{}\" tests=\"{}\" failures=\"{failures}\">",
                xml(&c.chapter),
                xml(&s.path.display().to_string()),
                c.tests.len()
            );
            for (name, ok) in &c.tests {
                let _ = write!(
                    out,
                    "    <testcase classname=\"{}\" name=\"{}\"",
                    xml(&c.chapter),
                    xml(name)
                );
                if *ok {
                    out.push_str("/>\n");
                } else {
                    let why = if !c.compiled {
                        "did not compile"
                    } else if c.timed_out {
                        "failed or did not finish in time"
                    } else {
                        "failed"
                    };
                    let _ = writeln!(out, "><failure message=\"{why}\"/></testcase>");
                }
            }
            out.push_str("  </testsuite>\n");
        }
    }
    out.push_str("</testsuites>\n");
    out
}

fn to_table(results: &[Submission]) -> String {
    let mut out = String::new();
    for s in results {
        let _ = writeln!(
            out,
            "{}  {}/{} tests",
            s.path.display(),
            s.passed(),
            s.total()
        );
        if let Some(error) = &s.error {
            let _ = writeln!(out, "  error: {error}");
        }
        for c in &s.chapters {
            let note = if c.flagged {
                "  flagged: graded as its stub"
            } else if !c.compiled {
                "  not compiled (graded as its stub)"
            } else if c.timed_out {
                "  timed out (finished tests counted)"
            } else {
                ""
            };
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
    }
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
