//! Exercise 6.1: the header, on the wire.
//!
//! Scenario: sender and receiver must agree, byte for byte, on what a message looks
//! like, and the receiver must survive anything else: a datagram from a stranger, a
//! truncated one, one whose length field lies. Goal: [`Message::encode`] and
//! [`Message::decode`], where decoding checks the length before it reads any field
//! and returns an error value, never panics. The tests compare with hex literals,
//! round-trip messages, and feed one malformed input per error variant plus thousands
//! of random byte strings.
//!
//! ```text
//!  byte 0     1 ... 4          5 ... 8          9    10    11 ...
//!     +-----+----------------+----------------+-----------+----------------+
//!     |kind | session id     | sequence number| length    | payload        |
//!     |     | (32 bits, BE)  | (32 bits, BE)  | (16, BE)  | (length bytes) |
//!     +-----+----------------+----------------+-----------+----------------+
//!  kind: 1 DATA, 2 ACK, 3 END. ACK and END carry no payload.
//!  session: chosen at random by the sender, echoed in every ACK (see session.rs).
//! ```

use std::fmt;

// Given, and shared with the window protocol of exercises 6.5 to 6.7: what a
// message is for (`Kind`, with `Kind::from_byte`) and the payload limit, in
// `given/src/kind.rs`.
pub use course_given::kind::{Kind, MAX_PAYLOAD};

/// Bytes before the payload: kind (1), session id (4), sequence number (4), length
/// (2).
pub const HEADER_LEN: usize = 11;

/// One message of the protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub kind: Kind,
    /// The transfer it belongs to: the sender's random id (`Session::id`).
    pub session: u32,
    pub seq: u32,
    pub payload: Vec<u8>,
}

// ANCHOR: error
/// Why bytes are not a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Fewer bytes than a header (how many there were).
    Truncated(usize),
    /// A kind byte that is not 1, 2 or 3.
    UnknownKind(u8),
    /// The length field says one thing, the datagram another.
    LengthMismatch { declared: usize, actual: usize },
    /// A payload longer than [`MAX_PAYLOAD`].
    PayloadTooLong(usize),
    /// An ACK or END with a payload.
    UnexpectedPayload(Kind),
}
// ANCHOR_END: error

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated(len) => {
                write!(f, "{len} bytes, shorter than a {HEADER_LEN}-byte header")
            }
            DecodeError::UnknownKind(byte) => write!(f, "unknown kind {byte}"),
            DecodeError::LengthMismatch { declared, actual } => {
                write!(
                    f,
                    "the header declares {declared} payload bytes, the datagram has {actual}"
                )
            }
            DecodeError::PayloadTooLong(len) => {
                write!(f, "a payload of {len} bytes (at most {MAX_PAYLOAD})")
            }
            DecodeError::UnexpectedPayload(kind) => {
                write!(f, "a {kind:?} message with a payload")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

impl Message {
    /// A DATA message (the payload must not exceed [`MAX_PAYLOAD`]).
    pub fn data(session: u32, seq: u32, payload: &[u8]) -> Message {
        Message {
            kind: Kind::Data,
            session,
            seq,
            payload: payload.to_vec(),
        }
    }

    /// The ACK of message `seq` of `session`.
    pub fn ack(session: u32, seq: u32) -> Message {
        Message {
            kind: Kind::Ack,
            session,
            seq,
            payload: Vec::new(),
        }
    }

    /// END, with the sequence number after the last DATA.
    pub fn end(session: u32, seq: u32) -> Message {
        Message {
            kind: Kind::End,
            session,
            seq,
            payload: Vec::new(),
        }
    }

    // ANCHOR: encode
    /// The message as bytes on the wire. The payload must not exceed [`MAX_PAYLOAD`].
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(HEADER_LEN + self.payload.len());
        bytes.push(self.kind as u8);
        bytes.extend_from_slice(&self.session.to_be_bytes());
        bytes.extend_from_slice(&self.seq.to_be_bytes());
        bytes.extend_from_slice(&(self.payload.len() as u16).to_be_bytes());
        bytes.extend_from_slice(&self.payload);
        bytes
    }
    // ANCHOR_END: encode

    // ANCHOR: decode
    /// The message in `bytes`, or why there is none. Never panics, whatever the
    /// bytes.
    pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
        // The length check comes first; after it, every field is known to be there.
        let Some((header, payload)) = bytes.split_first_chunk::<HEADER_LEN>() else {
            return Err(DecodeError::Truncated(bytes.len()));
        };
        let [kind, i0, i1, i2, i3, s0, s1, s2, s3, l0, l1] = *header;
        let kind = Kind::from_byte(kind).ok_or(DecodeError::UnknownKind(kind))?;
        let session = u32::from_be_bytes([i0, i1, i2, i3]);
        let seq = u32::from_be_bytes([s0, s1, s2, s3]);
        let declared = usize::from(u16::from_be_bytes([l0, l1]));
        if declared != payload.len() {
            return Err(DecodeError::LengthMismatch {
                declared,
                actual: payload.len(),
            });
        }
        if declared > MAX_PAYLOAD {
            return Err(DecodeError::PayloadTooLong(declared));
        }
        if kind != Kind::Data && declared != 0 {
            return Err(DecodeError::UnexpectedPayload(kind));
        }
        Ok(Message {
            kind,
            session,
            seq,
            payload: payload.to_vec(),
        })
    }
    // ANCHOR_END: decode
}
