//! The sliding window's header, on the wire (given: not an exercise).
//!
//! Exercise 6.1's header has room for one number. A window needs more in an ACK:
//! everything up to N arrived (cumulative), which later messages arrived too
//! (selective), and how many messages the receiver accepts (its window). So the
//! window protocol has a header of its own, thirteen bytes, with a version in the
//! high four bits of the first byte. Stop-and-wait's kind byte (1, 2, 3) has zeros
//! there: each protocol rejects the other's messages by name, so two mismatched
//! programs say so instead of waiting for each other.
//!
//! Version 2 carries the session id (see `session.rs`): the sender picks it at
//! random, the receiver echoes it in every ACK, and either side ignores a message of
//! another session. Version 1 had no session; its messages are refused by name.
//!
//! ```text
//!  byte 0       1 ... 4      5 ... 8      9    10     11   12    13 ...
//!     +-----+------------+------------+-----------+-----------+-----------------+
//!     |ver  | session id | number     |  window   |  length   | payload         |
//!     |kind | (32, BE)   | (32, BE)   |  (16, BE) |  (16, BE) | (length bytes)  |
//!     +-----+------------+------------+-----------+-----------+-----------------+
//!  ver (high 4 bits): 2. kind (low 4 bits): 1 DATA, 2 ACK, 3 END.
//!  session: the sender's random id, echoed in every ACK.
//!  DATA  number: its sequence number; window 0; payload: the data (at most 1,024 bytes).
//!  END   number: the one after the last DATA; window 0; no payload.
//!  ACK   number: "cumulative": every message before it has arrived;
//!        window: how many messages, from `cumulative` on, the receiver accepts (1-256);
//!        payload: the selective ACK, a bitmap of at most 32 bytes: bit k (byte k / 8,
//!        bit k % 8 counted from the least significant) set = message cumulative+1+k arrived.
//!  Numbers wrap after 2^32 - 1 and are compared with serial arithmetic (`seq_before`).
//! ```

use std::fmt;

use crate::kind::{Kind, MAX_PAYLOAD};
use crate::session::{seq_before, seq_offset};

/// Bytes before the payload: version and kind (1), session (4), number (4), window
/// (2), length (2).
pub const WINDOW_HEADER_LEN: usize = 13;

/// The version in the high four bits of byte 0. Stop-and-wait's messages have 0
/// there; version 1 was this header without a session.
pub const VERSION: u8 = 2;

/// The largest window either side may use, in messages.
pub const MAX_WINDOW: u16 = 256;

/// The largest selective-ACK bitmap: one bit per message after `cumulative`.
pub const MAX_SACK_BYTES: usize = MAX_WINDOW as usize / 8;

// ANCHOR: ack
/// An ACK of the window protocol: cumulative, selective, and the receiver's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    /// The session this ACK answers (the id from the sender's messages).
    pub session: u32,
    /// Every message with a smaller number has arrived; this one has not.
    pub cumulative: u32,
    /// The receiver accepts messages `cumulative .. cumulative + window`.
    pub window: u16,
    /// Bit k: message `cumulative + 1 + k` arrived.
    sack: [u64; 4],
}

impl Ack {
    /// An ACK, for `session`, of everything before `cumulative`, and nothing after it
    /// (yet).
    pub fn new(session: u32, cumulative: u32, window: u16) -> Ack {
        Ack {
            session,
            cumulative,
            window,
            sack: [0; 4],
        }
    }

    /// Marks message `seq` (after `cumulative`) as arrived. Returns false, and marks
    /// nothing, when `seq` is not within the 256 messages the bitmap covers.
    pub fn mark(&mut self, seq: u32) -> bool {
        match sack_bit(self.cumulative, seq) {
            Some(k) => {
                self.sack[k / 64] |= 1 << (k % 64);
                true
            }
            None => false,
        }
    }

    /// Whether this ACK says that message `seq` arrived (cumulatively or
    /// selectively). Serial arithmetic: "before `cumulative`" wraps past 2^32 - 1.
    pub fn acknowledges(&self, seq: u32) -> bool {
        seq_before(seq, self.cumulative)
            || sack_bit(self.cumulative, seq)
                .is_some_and(|k| self.sack[k / 64] & (1 << (k % 64)) != 0)
    }
    // ANCHOR_END: ack

    /// The messages marked as arrived after `cumulative`, in order.
    pub fn selective(&self) -> impl Iterator<Item = u32> + '_ {
        (0..MAX_WINDOW as usize)
            .filter(|k| self.sack[k / 64] & (1 << (k % 64)) != 0)
            .map(|k| self.cumulative.wrapping_add(1 + k as u32))
    }

    /// The bitmap's bytes, without trailing zero bytes.
    fn sack_bytes(&self) -> ([u8; MAX_SACK_BYTES], usize) {
        let mut bytes = [0u8; MAX_SACK_BYTES];
        for (i, word) in self.sack.iter().enumerate() {
            bytes[i * 8..i * 8 + 8].copy_from_slice(&word.to_le_bytes());
        }
        let len = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        (bytes, len)
    }
}

/// Which bit stands for `seq` in an ACK with this `cumulative`, if any.
fn sack_bit(cumulative: u32, seq: u32) -> Option<usize> {
    let k = seq_offset(cumulative, seq).checked_sub(1)? as usize;
    (k < MAX_WINDOW as usize).then_some(k)
}

/// One message of the window protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// Message `seq` of `session` carries a payload.
    Data {
        session: u32,
        seq: u32,
        payload: Vec<u8>,
    },
    /// The receiver's answer (its session is inside).
    Ack(Ack),
    /// "There is nothing after message `seq - 1`." END takes a number of its own.
    End { session: u32, seq: u32 },
}

// ANCHOR: error
/// Why bytes are not a message of the window protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PacketError {
    /// Fewer bytes than a header (how many there were).
    Truncated(usize),
    /// A stop-and-wait message (version 0): the peer runs the other protocol.
    StopAndWait,
    /// A message of version 1, which had no session: the peer is an older program.
    Version1,
    /// A version this program does not know.
    UnknownVersion(u8),
    /// A kind that is not 1, 2 or 3.
    UnknownKind(u8),
    /// The length field says one thing, the datagram another.
    LengthMismatch { declared: usize, actual: usize },
    /// A DATA payload over [`MAX_PAYLOAD`], or a bitmap over [`MAX_SACK_BYTES`].
    PayloadTooLong(usize),
    /// An END with a payload.
    UnexpectedPayload(Kind),
    /// An ACK's window outside 1..=[`MAX_WINDOW`], or a window in a DATA or END.
    BadWindow(u16),
}
// ANCHOR_END: error

impl fmt::Display for PacketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PacketError::Truncated(len) => {
                write!(
                    f,
                    "{len} bytes, shorter than a {WINDOW_HEADER_LEN}-byte header"
                )
            }
            PacketError::StopAndWait => f.write_str(
                "a stop-and-wait message (version 0); this program speaks the window protocol \
                 (version 2): run both ends with the same protocol",
            ),
            PacketError::Version1 => f.write_str(
                "a version 1 message (no session id); this program speaks version 2: \
                 update the other end",
            ),
            PacketError::UnknownVersion(v) => write!(f, "unknown version {v}"),
            PacketError::UnknownKind(k) => write!(f, "unknown kind {k}"),
            PacketError::LengthMismatch { declared, actual } => write!(
                f,
                "the header declares {declared} payload bytes, the datagram has {actual}"
            ),
            PacketError::PayloadTooLong(len) => write!(f, "a payload of {len} bytes is too long"),
            PacketError::UnexpectedPayload(kind) => write!(f, "a {kind:?} message with a payload"),
            PacketError::BadWindow(w) => write!(f, "a window of {w} is not allowed here"),
        }
    }
}

impl std::error::Error for PacketError {}

/// Appends DATA `seq` of `session` with `payload` to `out` (at most [`MAX_PAYLOAD`]
/// bytes): the sender's way to encode without copying the payload into a [`Packet`]
/// first.
pub fn write_data(session: u32, seq: u32, payload: &[u8], out: &mut Vec<u8>) {
    write_header(out, Kind::Data, session, seq, 0, payload.len());
    out.extend_from_slice(payload);
}

fn write_header(
    out: &mut Vec<u8>,
    kind: Kind,
    session: u32,
    number: u32,
    window: u16,
    len: usize,
) {
    out.push(VERSION << 4 | kind as u8);
    out.extend_from_slice(&session.to_be_bytes());
    out.extend_from_slice(&number.to_be_bytes());
    out.extend_from_slice(&window.to_be_bytes());
    out.extend_from_slice(&(len as u16).to_be_bytes());
}

impl Packet {
    /// The session the packet belongs to.
    pub fn session(&self) -> u32 {
        match self {
            Packet::Data { session, .. } | Packet::End { session, .. } => *session,
            Packet::Ack(ack) => ack.session,
        }
    }

    /// The packet as bytes on the wire, appended to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Packet::Data {
                session,
                seq,
                payload,
            } => write_data(*session, *seq, payload, out),
            Packet::Ack(ack) => {
                let (bytes, len) = ack.sack_bytes();
                let (session, number) = (ack.session, ack.cumulative);
                write_header(out, Kind::Ack, session, number, ack.window, len);
                out.extend_from_slice(&bytes[..len]);
            }
            Packet::End { session, seq } => {
                write_header(out, Kind::End, *session, *seq, 0, 0)
            }
        }
    }

    /// The packet as bytes on the wire.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(WINDOW_HEADER_LEN + MAX_PAYLOAD);
        self.encode_into(&mut out);
        out
    }

    // ANCHOR: decode
    /// The packet in `bytes`, or why there is none. Never panics, whatever the bytes.
    pub fn decode(bytes: &[u8]) -> Result<Packet, PacketError> {
        let Some((header, payload)) = bytes.split_first_chunk::<WINDOW_HEADER_LEN>()
        else {
            return Err(PacketError::Truncated(bytes.len()));
        };
        let [vk, s0, s1, s2, s3, n0, n1, n2, n3, w0, w1, l0, l1] = *header;
        match vk >> 4 {
            0 => return Err(PacketError::StopAndWait),
            1 => return Err(PacketError::Version1),
            VERSION => {}
            other => return Err(PacketError::UnknownVersion(other)),
        }
        let kind =
            Kind::from_byte(vk & 0x0f).ok_or(PacketError::UnknownKind(vk & 0x0f))?;
        let session = u32::from_be_bytes([s0, s1, s2, s3]);
        let number = u32::from_be_bytes([n0, n1, n2, n3]);
        let window = u16::from_be_bytes([w0, w1]);
        let declared = usize::from(u16::from_be_bytes([l0, l1]));
        if declared != payload.len() {
            return Err(PacketError::LengthMismatch {
                declared,
                actual: payload.len(),
            });
        }
        match kind {
            Kind::Data if declared > MAX_PAYLOAD => {
                Err(PacketError::PayloadTooLong(declared))
            }
            Kind::Data | Kind::End if window != 0 => {
                Err(PacketError::BadWindow(window))
            }
            Kind::Data => Ok(Packet::Data {
                session,
                seq: number,
                payload: payload.to_vec(),
            }),
            Kind::End if declared != 0 => {
                Err(PacketError::UnexpectedPayload(Kind::End))
            }
            Kind::End => Ok(Packet::End {
                session,
                seq: number,
            }),
            Kind::Ack if declared > MAX_SACK_BYTES => {
                Err(PacketError::PayloadTooLong(declared))
            }
            Kind::Ack if window == 0 || window > MAX_WINDOW => {
                Err(PacketError::BadWindow(window))
            }
            Kind::Ack => {
                let mut ack = Ack::new(session, number, window);
                for (i, byte) in payload.iter().enumerate() {
                    ack.sack[i / 8] |= u64::from(*byte) << (8 * (i % 8));
                }
                Ok(Packet::Ack(ack))
            }
        }
    }
    // ANCHOR_END: decode
}
