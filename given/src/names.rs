//! Given (not an exercise): the chat's name profile.
//!
//! A name is how people tell members apart on screen, so a name must show all that it
//! is, and two members' names must not look alike. The chat server checks every new
//! name against this profile (chat-client checks `--name` too):
//! 1. **NFKC** (Unicode TR 15): the name is already in Normalization Form KC, so
//!    `ｔａｒｏ` is written `taro` and `ﾀﾅｶ` `タナカ` (chat-client normalizes the name
//!    you give it, [`normalize`]).
//! 2. **Visible characters only**: letters, marks and digits that Unicode TR 39 allows
//!    in identifiers (its General Security Profile), ASCII punctuation, and single
//!    spaces. Nothing invisible: no zero-width characters, bidi controls, tag
//!    characters, separators or fillers (`show::needs_escape`); no two spaces in a row;
//!    at most [`MAX_MARKS`] combining marks in a row.
//! 3. **Highly Restrictive** (TR 39): the letters come from one script, or from Latin
//!    with Han, Hiragana and Katakana (Japanese; Chinese with Bopomofo and Korean with
//!    Hangul likewise). `田中さん`, `タナカ` and `Taro田中` pass; `Аlice`, whose first
//!    letter is Cyrillic, does not.
//! 4. **Not confusable** with another member's name: their [`skeleton`]s (TR 39's
//!    confusable skeleton: `BiII` and `Bill` both become `Bill`, `タナ力` with the Han
//!    character 力 and `タナカ` become the same) must differ. The server checks this
//!    one, against the members present.

use std::fmt;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::{UnicodeNormalization, is_nfkc};
use unicode_security::{
    GeneralSecurityProfile, RestrictionLevel, RestrictionLevelDetection,
};

use crate::show::needs_escape;

/// The most combining marks in a row (31 stacked marks make a smear over a line).
pub const MAX_MARKS: usize = 2;

/// Why a name does not follow the profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameProblem {
    /// A character that does not show itself (zero-width, bidi control, tag,
    /// separator, filler, control).
    Invisible(char),
    /// Not in NFKC: [`normalize`] gives the form to use.
    NotNfkc,
    /// A character the profile does not allow (symbols, most punctuation outside
    /// ASCII).
    NotAllowed(char),
    /// Two spaces in a row.
    Spaces,
    /// More than [`MAX_MARKS`] combining marks in a row.
    StackedMarks,
    /// Letters from scripts that do not go together (TR 39 Highly Restrictive).
    MixedScripts,
    /// Looks like the name of another member (the same [`skeleton`]).
    Confusable(String),
}

impl fmt::Display for NameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameProblem::Invisible(c) => {
                write!(
                    f,
                    "it contains an invisible character {}",
                    c.escape_unicode()
                )
            }
            NameProblem::NotNfkc => write!(f, "it is not in Unicode NFKC form"),
            NameProblem::NotAllowed(c) => {
                write!(
                    f,
                    "it contains {c:?} ({}), not allowed in names",
                    c.escape_unicode()
                )
            }
            NameProblem::Spaces => write!(f, "it has two spaces in a row"),
            NameProblem::StackedMarks => {
                write!(f, "it stacks more than {MAX_MARKS} combining marks")
            }
            NameProblem::MixedScripts => write!(
                f,
                "it mixes scripts (one script, or Latin with Han, Hiragana and Katakana)"
            ),
            NameProblem::Confusable(other) => {
                write!(f, "it looks like {other:?}, the name of another member")
            }
        }
    }
}

impl std::error::Error for NameProblem {}

/// `name` in NFKC form.
pub fn normalize(name: &str) -> String {
    name.nfkc().collect()
}

// ANCHOR: check
/// Checks `name` against rules 1 to 3 of the profile.
pub fn check(name: &str) -> Result<(), NameProblem> {
    if let Some(c) = name.chars().find(|&c| needs_escape(c)) {
        return Err(NameProblem::Invisible(c));
    }
    if !is_nfkc(name) {
        return Err(NameProblem::NotNfkc);
    }
    let (mut marks, mut after_space) = (0, false);
    for c in name.chars() {
        if c == ' ' && after_space {
            return Err(NameProblem::Spaces);
        }
        after_space = c == ' ';
        marks = if is_combining_mark(c) { marks + 1 } else { 0 };
        if marks > MAX_MARKS {
            return Err(NameProblem::StackedMarks);
        }
        if !(c.is_ascii_graphic() || c == ' ' || c.identifier_allowed()) {
            return Err(NameProblem::NotAllowed(c));
        }
    }
    // The scripts of the letters and digits; ASCII punctuation and spaces belong to
    // every script.
    let letters: String = name
        .chars()
        .filter(|c| !c.is_ascii() || c.is_ascii_alphanumeric())
        .collect();
    if !letters
        .as_str()
        .check_restriction_level(RestrictionLevel::HighlyRestrictive)
    {
        return Err(NameProblem::MixedScripts);
    }
    Ok(())
}
// ANCHOR_END: check

/// TR 39's confusable skeleton of `name`: two names that look alike have the same
/// skeleton.
pub fn skeleton(name: &str) -> String {
    unicode_security::skeleton(name).collect()
}

/// Rule 4: `Err` if `name` looks like one of `others` (and is not the same name).
pub fn not_confusable<'a>(
    name: &str,
    others: impl IntoIterator<Item = &'a str>,
) -> Result<(), NameProblem> {
    let mine = skeleton(name);
    match others
        .into_iter()
        .find(|other| *other != name && skeleton(other) == mine)
    {
        Some(other) => Err(NameProblem::Confusable(other.to_string())),
        None => Ok(()),
    }
}
