//! Word boundaries for the Japanese book's search.
//!
//! Japanese has no spaces between words. Pagefind's extended build cuts the pages with a general
//! dictionary and the browser cuts the query with another (ICU's), and the two disagree on the
//! course's words: `バインド` became `バイ ン ド` in the query, `受信側` became `受信` and `側`.
//! So the course cuts both sides itself, with one rule and one dictionary, the glossary's terms:
//! at each place the longest term wins, and a run of one script (katakana, kanji, hiragana) that
//! no term covers is one word. Pagefind then indexes a copy of the pages with those boundaries
//! (a hair space, U+200A, which Pagefind splits on and a reader barely sees in an excerpt) under
//! a language it does not cut again, and the page's script cuts a query with the same rule
//! (`segment` in `book/theme/head.hbs`; the browser check searches every glossary term).

/// The boundary put between two words.
pub const BOUNDARY: char = '\u{200A}';

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Script {
    Katakana,
    Hiragana,
    Kanji,
    /// Letters, digits and everything else that is part of a word elsewhere.
    Other,
    /// Japanese punctuation (「」（）、。・ and the like): never inside a word.
    Mark,
}

fn script(c: char) -> Script {
    match c {
        '\u{30A0}'..='\u{30FF}' | '\u{31F0}'..='\u{31FF}' | '\u{FF66}'..='\u{FF9F}' => {
            if c == '\u{30FB}' {
                Script::Mark // ・
            } else {
                Script::Katakana
            }
        }
        '\u{3040}'..='\u{309F}' => Script::Hiragana,
        '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '々' | '〆' => Script::Kanji,
        '\u{3000}'..='\u{303F}' | '\u{FF01}'..='\u{FF0F}' | '\u{FF1A}'..='\u{FF20}' => Script::Mark,
        '\u{FF3B}'..='\u{FF40}' | '\u{FF5B}'..='\u{FF65}' => Script::Mark,
        _ => Script::Other,
    }
}

fn is_japanese(c: char) -> bool {
    matches!(
        script(c),
        Script::Katakana | Script::Hiragana | Script::Kanji
    )
}

/// The terms words are cut by: the Japanese words of the glossary's first column.
#[derive(Debug, Default)]
pub struct Dictionary {
    /// Longest first, each as chars.
    terms: Vec<Vec<char>>,
}

impl Dictionary {
    /// Reads the Japanese glossary (a markdown table: term | English | meaning). A cell may hold
    /// several terms, separated by `/`, `／`, `、` or parentheses.
    pub fn from_glossary(markdown: &str) -> Dictionary {
        let mut terms: Vec<Vec<char>> = Vec::new();
        for line in markdown.lines() {
            let Some(cell) = line.strip_prefix('|').and_then(|l| l.split('|').next()) else {
                continue;
            };
            for part in cell.split(['/', '／', '、', '（', '）', '(', ')']) {
                let term: String = part.chars().filter(|c| *c != '`').collect();
                let term = term.trim();
                // Only the Japanese part of a term cuts words: `IP アドレス` gives `アドレス`.
                for word in term.split_whitespace() {
                    let chars: Vec<char> = word.chars().collect();
                    if chars.iter().all(|c| is_japanese(*c)) && !terms.contains(&chars) {
                        terms.push(chars);
                    }
                }
            }
        }
        terms.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        Dictionary { terms }
    }

    /// The terms, for the page's script (one per line, longest first).
    pub fn lines(&self) -> String {
        let mut out = String::new();
        for term in &self.terms {
            out.extend(term.iter());
            out.push('\n');
        }
        out
    }

    /// The terms that start at `text[at..]`, longest first.
    fn starting_at<'a>(&'a self, text: &'a [char], at: usize) -> impl Iterator<Item = usize> + 'a {
        self.terms
            .iter()
            .filter(move |t| text[at..].starts_with(t))
            .map(|t| t.len())
    }
}

/// Where the word that starts at `at` ends. The longest term wins, except that a term which is
/// a shorter term followed by kana, by another term, or (both in kanji) by two or more kanji is
/// cut after the shorter one (`受信側が伝えるウィンドウ` is `受信側` + `が` + ...; `輻輳制御` is
/// `輻輳` + `制御`; `受信側` stays whole), so that a search for the shorter term finds its whole
/// word. Without a term, a run of one script is a word.
fn word_end(text: &[char], at: usize, dictionary: &Dictionary) -> usize {
    let lengths: Vec<usize> = dictionary.starting_at(text, at).collect();
    if let Some(&longest) = lengths.first() {
        for &short in lengths.iter().rev() {
            if short == longest {
                break;
            }
            let next = at + short;
            let kanji = |range: &[char]| range.iter().all(|c| script(*c) == Script::Kanji);
            let cut = script(text[next]) == Script::Hiragana
                || dictionary.starting_at(text, next).next().is_some()
                || (short >= 2 && longest - short >= 2 && kanji(&text[at..at + longest]));
            if cut {
                return next;
            }
        }
        return at + longest;
    }
    let kind = script(text[at]);
    let mut end = at + 1;
    while end < text.len()
        && script(text[end]) == kind
        && dictionary.starting_at(text, end).next().is_none()
    {
        end += 1;
    }
    end
}

/// `text` with a boundary between Japanese words, and around Japanese punctuation.
pub fn segment(text: &str, dictionary: &Dictionary) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut at = 0;
    let mut previous: Option<Script> = None;
    while at < chars.len() {
        let kind = script(chars[at]);
        let end = if is_japanese(chars[at]) {
            word_end(&chars, at, dictionary)
        } else {
            at + 1
        };
        let joins_other = kind == Script::Other && previous == Some(Script::Other);
        let spaced = chars[at].is_whitespace() || out.ends_with(char::is_whitespace);
        if previous.is_some() && !joins_other && !spaced {
            out.push(BOUNDARY);
        }
        out.extend(&chars[at..end]);
        previous = Some(kind);
        at = end;
    }
    out
}

/// The HTML page with its text (outside tags, scripts and styles) cut into words.
pub fn segment_html(html: &str, dictionary: &Dictionary) -> String {
    let mut out = String::with_capacity(html.len() + html.len() / 4);
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&segment(&rest[..open], dictionary));
        rest = &rest[open..];
        let lower = rest.get(..8).unwrap_or(rest).to_ascii_lowercase();
        let raw_end = if lower.starts_with("<script") {
            rest.find("</script>")
        } else if lower.starts_with("<style") {
            rest.find("</style>")
        } else {
            None
        };
        let end = raw_end
            .or_else(|| rest.find('>'))
            .map_or(rest.len(), |e| e + 1);
        out.push_str(&rest[..end]);
        rest = &rest[end..];
    }
    out.push_str(&segment(rest, dictionary));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dictionary() -> Dictionary {
        Dictionary::from_glossary(
            "| 日本語 | English |\n|---|---|\n| ソケット | socket |\n| バインド | bind |\n\
             | 受信側 / 送信側 | receiver / sender |\n| 受信側が伝えるウィンドウ | rwnd |\n\
             | ポート番号 | port number |\n| IP アドレス | IP address |\n| 再送 | retransmit |\n\
             | タイムアウト | timeout |\n| 再送タイムアウト（RTO） | RTO |\n\
             | 輻輳 | congestion |\n| 輻輳制御 | congestion control |\n",
        )
    }

    fn words(text: &str) -> Vec<String> {
        segment(text, &dictionary())
            .split(|c: char| c == BOUNDARY || c.is_whitespace())
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn glossary_terms_are_whole_words_and_other_runs_split_by_script() {
        assert_eq!(
            words("ソケットをバインドする"),
            ["ソケット", "を", "バインド", "する"]
        );
        assert_eq!(words("受信側のポート番号"), ["受信側", "の", "ポート番号"]);
        assert_eq!(
            words("IP アドレスとポート番号"),
            ["IP", "アドレス", "と", "ポート番号"]
        );
        assert_eq!(
            words("Nagle（ネーグル）の"),
            ["Nagle", "（", "ネーグル", "）", "の"]
        );
    }

    #[test]
    fn a_longer_term_made_of_a_term_and_more_is_cut_after_the_term() {
        assert_eq!(
            words("受信側が伝えるウィンドウ"),
            ["受信側", "が", "伝", "える", "ウィンドウ"]
        );
        assert_eq!(words("再送タイムアウトを"), ["再送", "タイムアウト", "を"]);
        assert_eq!(words("輻輳制御の"), ["輻輳", "制御", "の"]);
    }

    #[test]
    fn markup_is_left_alone() {
        let html =
            "<p class=\"a\">受信側の<code>bind</code></p><script>let s = \"受信側の\";</script>";
        let out = segment_html(html, &dictionary());
        assert_eq!(
            out,
            "<p class=\"a\">受信側\u{200A}の<code>bind</code></p><script>let s = \"受信側の\";</script>"
        );
    }
}
