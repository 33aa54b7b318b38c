//! Exercise 8.1: the chat datagram.
//!
//! Scenario: article C's exercise adds a user name and a timestamp to every message.
//! The server relays what others typed, so it must never relay something it cannot
//! read strictly: a malformed message is rejected and logged. Plain text (from the
//! article's own client, which knows no format) is still welcome. Goal:
//! [`ChatMessage::encode`] and [`parse`]. The tests use tables of good messages and
//! of every malformed case.
//!
//! ```text
//! chat/1 msg 1763798400123 Taro Yamada      <- marker, kind, Unix time in ms, name (to the end of the line)
//! Hello, everyone!                          <- the text (msg only; may be empty)
//! ```

use std::fmt;

/// The first bytes of every datagram in the course's format.
pub const MARKER: &str = "chat/1";

/// The longest name, in characters.
pub const MAX_NAME_CHARS: usize = 32;

/// The largest datagram in the course's format.
pub const MAX_DATAGRAM: usize = 2048;

/// The largest plain-text datagram: the relay adds a header of its own when it passes
/// plain text on, and the result must still fit in [`MAX_DATAGRAM`].
pub const MAX_PLAIN: usize = MAX_DATAGRAM - 256;

/// What a chat datagram is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A line of text.
    Msg,
    /// "I am here, call me NAME."
    Join,
    /// "I am leaving."
    Leave,
    /// "Still here" (a keepalive; never shown, never relayed).
    Ping,
}

impl Kind {
    /// The word on the wire.
    pub fn word(self) -> &'static str {
        match self {
            Kind::Msg => "msg",
            Kind::Join => "join",
            Kind::Leave => "leave",
            Kind::Ping => "ping",
        }
    }
}

/// A datagram in the course's format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub kind: Kind,
    /// Milliseconds since 1970-01-01 UTC, as the sender's clock said.
    pub timestamp_ms: u64,
    pub name: String,
    /// Empty except for `Msg`.
    pub text: String,
}

/// What a datagram turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// The course's format.
    Chat(ChatMessage),
    /// Anything that does not start with [`MARKER`]: text from a client that knows no
    /// format.
    Plain(Vec<u8>),
}

// ANCHOR: error
/// Why a datagram is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Zero bytes.
    Empty,
    /// `len` bytes, more than `limit`: [`MAX_DATAGRAM`] ([`MAX_PLAIN`] for plain
    /// text).
    TooLong { len: usize, limit: usize },
    /// Starts with the marker but is not UTF-8.
    NotUtf8,
    /// The first line is not `chat/1 KIND TIME NAME`.
    BadHeader,
    /// A kind other than msg, join, leave, ping.
    UnknownKind(String),
    /// A time that is not a number of milliseconds.
    BadTimestamp(String),
    /// A name that [`validate_name`] refuses.
    BadName(String),
    /// Text after a join, leave or ping.
    UnexpectedText,
    /// The name belongs to another member (another address) who is still present.
    NameTaken(String),
    /// A newcomer, and the chat already has its maximum number of members.
    ChatFull(usize),
}
// ANCHOR_END: error

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Empty => write!(f, "an empty datagram"),
            ParseError::TooLong { len, limit } => {
                write!(f, "{len} bytes, more than {limit}")
            }
            ParseError::NotUtf8 => write!(f, "a chat datagram that is not UTF-8"),
            ParseError::BadHeader => {
                write!(f, "the first line is not `{MARKER} KIND TIME NAME`")
            }
            ParseError::UnknownKind(kind) => write!(f, "unknown kind {kind:?}"),
            ParseError::BadTimestamp(time) => {
                write!(f, "{time:?} is not a time in milliseconds")
            }
            ParseError::BadName(name) => {
                let shown: String = name.chars().take(40).collect();
                write!(
                    f,
                    "the name {shown:?} is not 1 to {MAX_NAME_CHARS} characters without control \
                     characters, `: `, a leading `*` or spaces at either end"
                )
            }
            ParseError::UnexpectedText => {
                write!(f, "text after a join, leave or ping")
            }
            ParseError::NameTaken(name) => {
                write!(f, "the name {name:?} belongs to another member")
            }
            ParseError::ChatFull(max) => {
                write!(f, "the chat is full ({max} members)")
            }
        }
    }
}

impl std::error::Error for ParseError {}

/// Characters that change how a terminal shows the text around them, or hide
/// themselves: control characters (newline, escape: the start of ANSI sequences),
/// the bidirectional controls (which can show text backwards), zero-width
/// characters, the line and paragraph separators, tag characters and the Hangul
/// fillers (the given `show::needs_escape`).
pub fn is_unsafe_char(c: char) -> bool {
    course_given::show::needs_escape(c)
}

/// `text` made safe for one line of a terminal: every [`is_unsafe_char`] is shown
/// escaped (`\n`, `\u{1b}`), so one message stays one line and cannot move the cursor
/// or recolour the screen.
pub fn escape_for_screen(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    for c in text.chars() {
        if is_unsafe_char(c) {
            shown.extend(c.escape_default());
        } else {
            shown.push(c);
        }
    }
    shown
}

// ANCHOR: validate_name
/// Checks a user name: 1 to 32 characters, none of them unsafe on a screen
/// ([`is_unsafe_char`]), no `: `, no `*` first, no space at either end. A line on
/// screen is `[time] NAME: text` or `[time] * NAME joined`: such a name could fake
/// the rest of a line.
pub fn validate_name(name: &str) -> Result<(), ParseError> {
    let count = name.chars().count();
    if count == 0
        || count > MAX_NAME_CHARS
        || name.chars().any(is_unsafe_char)
        || name.contains(": ")
        || name.starts_with('*')
        || name.trim() != name
    {
        return Err(ParseError::BadName(name.to_string()));
    }
    Ok(())
}
// ANCHOR_END: validate_name

impl ChatMessage {
    /// A message of `kind` from `name` at `timestamp_ms` (text only for `Msg`).
    pub fn new(kind: Kind, timestamp_ms: u64, name: &str, text: &str) -> Self {
        ChatMessage {
            kind,
            timestamp_ms,
            name: name.to_string(),
            text: text.to_string(),
        }
    }

    // ANCHOR: encode
    /// The datagram: header line, newline, text.
    pub fn encode(&self) -> Vec<u8> {
        format!(
            "{MARKER} {} {} {}\n{}",
            self.kind.word(),
            self.timestamp_ms,
            self.name,
            self.text
        )
        .into_bytes()
    }
    // ANCHOR_END: encode
}

// ANCHOR: parse
/// What `datagram` is: the course's format (checked strictly), or plain text.
pub fn parse(datagram: &[u8]) -> Result<Payload, ParseError> {
    if datagram.is_empty() {
        return Err(ParseError::Empty);
    }
    let len = datagram.len();
    if len > MAX_DATAGRAM {
        return Err(ParseError::TooLong {
            len,
            limit: MAX_DATAGRAM,
        });
    }
    if !datagram.starts_with(MARKER.as_bytes()) {
        if len > MAX_PLAIN {
            return Err(ParseError::TooLong {
                len,
                limit: MAX_PLAIN,
            });
        }
        return Ok(Payload::Plain(datagram.to_vec()));
    }
    let text = std::str::from_utf8(datagram).map_err(|_| ParseError::NotUtf8)?;
    let (header, body) = text.split_once('\n').unwrap_or((text, ""));
    // Exactly four parts; the name is the rest of the line and may contain spaces.
    let mut parts = header.splitn(4, ' ');
    let (Some(MARKER), Some(kind), Some(time), Some(name)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ParseError::BadHeader);
    };
    let kind = match kind {
        "msg" => Kind::Msg,
        "join" => Kind::Join,
        "leave" => Kind::Leave,
        "ping" => Kind::Ping,
        other => return Err(ParseError::UnknownKind(other.to_string())),
    };
    // Digits only (no sign, no spaces); `parse` then fails only for numbers beyond
    // u64.
    let timestamp_ms = match time.bytes().all(|b| b.is_ascii_digit()) {
        true => time
            .parse()
            .map_err(|_| ParseError::BadTimestamp(time.to_string()))?,
        false => return Err(ParseError::BadTimestamp(time.to_string())),
    };
    validate_name(name)?;
    if kind != Kind::Msg && !body.is_empty() {
        return Err(ParseError::UnexpectedText);
    }
    Ok(Payload::Chat(ChatMessage::new(
        kind,
        timestamp_ms,
        name,
        body,
    )))
}
// ANCHOR_END: parse
