//! Chapter 8: a UDP chat, with user names and timestamps.
//!
//! Article C's chat: a server that remembers every address it hears from and forwards
//! each message to everybody else; clients that type and read at the same time. Here
//! the messages carry a user name and a timestamp in a small text format, and plain
//! text from the article's own client still works.
//! - [`payload`]: the chat datagram: `chat/1 KIND TIME NAME`, a newline, the text.
//! - [`server`]: the relay: forward to all others, never back; join, leave, forget
//!   the silent.
//! - [`client`]: a receiving thread and a sending loop; `q` or end of input quits
//!   cleanly.
//! - [`serve`] (given): the socket loop around the relay: one socket no other process
//!   can share, a queue with a quota per sender, and a cookie that proves each
//!   newcomer's address.

pub mod client;
pub use course_given::{cookie, names};
pub mod payload;
pub mod serve;
pub mod server;

pub use client::{
    ANSWER_WAIT, LineProblem, MAX_BLANKS, check_server_answers, display_line,
    mark_blank_runs, next_line, now_ms, receive, run_client, text_limit,
};
pub use payload::{
    ChatMessage, Kind, MAX_DATAGRAM, MAX_NAME_CHARS, MAX_PLAIN, ParseError, Payload,
    escape_for_screen, is_unsafe_char, parse, validate_name,
};
pub use serve::{ServeOptions, run_server, run_server_with};
pub use server::{
    Counters, DEFAULT_MAX_MEMBERS, DEFAULT_RATE, Now, Relay, TokenBucket,
};
