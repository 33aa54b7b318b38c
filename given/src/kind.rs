//! Given (not an exercise): the kinds of chapter 6's messages and the payload limit,
//! shared by the stop-and-wait header (exercise 6.1) and the window header.

/// The largest payload of one DATA message.
pub const MAX_PAYLOAD: usize = 1024;

/// What a message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Carries a payload.
    Data = 1,
    /// "I have message `seq`."
    Ack = 2,
    /// "There is nothing after message `seq - 1`."
    End = 3,
}

impl Kind {
    /// The kind a header byte stands for, if any.
    pub fn from_byte(byte: u8) -> Option<Kind> {
        match byte {
            1 => Some(Kind::Data),
            2 => Some(Kind::Ack),
            3 => Some(Kind::End),
            _ => None,
        }
    }
}
