//! Given (not an exercise): the chat server's socket loop, [`run_server`], around your
//! `Relay`.
//!
//! The loop itself is given code the stubs and the reference share:
//! [`course_given::chat`] (in `given/src/chat/`). Read its `serve.rs` for what it does:
//! one socket no other process can share; a reading thread that queues what arrives, a
//! queue per sender, taken in turn, so a quiet member waits for nobody's flood; a rate
//! limit per member and an allowance per address for newcomers; a cookie that proves each
//! newcomer's address, then a welcome or a refusal (the chat is full, its address has
//! too many members, or the name); names checked against the profile. This file only
//! connects it to your `Relay` (through
//! [`course_given::chat_relay_bridge!`]): the loop asks through
//! [`course_given::chat::ChatRelay`].

pub use course_given::chat::{
    DEFAULT_MAX_PER_ADDRESS, ServeOptions, admission, inbox,
};

use super::{Counters, Kind, Now, ParseError, Payload, Relay, display_line, parse};

course_given::chat_relay_bridge!();
