//! The sliding window's header, on the wire (given: not an exercise).
//!
//! Exercise 6.1's header has room for one number. A window needs more in an ACK:
//! everything up to N arrived (cumulative), which later messages arrived too
//! (selective), and how many messages the receiver accepts (its window). So the
//! window protocol has a header of its own, nine bytes, with a version in the high
//! four bits of the first byte. Stop-and-wait's kind byte (1, 2, 3) has zeros there:
//! each protocol rejects the other's messages by name, so two mismatched programs say
//! so instead of waiting for each other.
//!
//! ```text
//!  byte 0       1     2     3     4     5     6     7     8     9 ...
//!     +-----+-----+-----+-----+-----+-----+-----+-----+-----+-----------------+
//!     |ver  |  number (32 bits,      |  window   |  length   | payload         |
//!     |kind |  big-endian)           |  (16, BE) |  (16, BE) | (length bytes)  |
//!     +-----+-----+-----+-----+-----+-----+-----+-----+-----+-----------------+
//!  ver (high 4 bits): 1. kind (low 4 bits): 1 DATA, 2 ACK, 3 END.
//!  DATA  number: its sequence number; window 0; payload: the data (at most 1,024 bytes).
//!  END   number: the one after the last DATA; window 0; no payload.
//!  ACK   number: "cumulative": every message before it has arrived;
//!        window: how many messages, from `cumulative` on, the receiver accepts (1-256);
//!        payload: the selective ACK, a bitmap of at most 32 bytes: bit k (byte k / 8,
//!        bit k % 8 counted from the least significant) set = message cumulative+1+k arrived.
//! ```

use std::fmt;

use crate::kind::{Kind, MAX_PAYLOAD};

/// Bytes before the payload: version and kind (1), number (4), window (2), length
/// (2).
pub const WINDOW_HEADER_LEN: usize = 9;

/// The version in the high four bits of byte 0. Stop-and-wait's messages have 0
/// there.
pub const VERSION: u8 = 1;

/// The largest window either side may use, in messages.
pub const MAX_WINDOW: u16 = 256;

/// The largest selective-ACK bitmap: one bit per message after `cumulative`.
pub const MAX_SACK_BYTES: usize = MAX_WINDOW as usize / 8;

// ANCHOR: ack
/// An ACK of the window protocol: cumulative, selective, and the receiver's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    /// Every message with a smaller number has arrived; this one has not.
    pub cumulative: u32,
    /// The receiver accepts messages `cumulative .. cumulative + window`.
    pub window: u16,
    /// Bit k: message `cumulative + 1 + k` arrived.
    sack: [u64; 4],
}

impl Ack {
    /// An ACK of everything before `cumulative`, and nothing after it (yet).
    pub fn new(cumulative: u32, window: u16) -> Ack {
        Ack {
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
    /// selectively).
    pub fn acknowledges(&self, seq: u32) -> bool {
        seq < self.cumulative
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
    let k = seq.checked_sub(cumulative)?.checked_sub(1)? as usize;
    (k < MAX_WINDOW as usize).then_some(k)
}

/// One message of the window protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// Message `seq` carries a payload.
    Data { seq: u32, payload: Vec<u8> },
    /// The receiver's answer.
    Ack(Ack),
    /// "There is nothing after message `seq - 1`." END takes a number of its own.
    End { seq: u32 },
}

// ANCHOR: error
/// Why bytes are not a message of the window protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PacketError {
    /// Fewer bytes than a header (how many there were).
    Truncated(usize),
    /// A stop-and-wait message (version 0): the peer runs the other protocol.
    StopAndWait,
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
                 (version 1): run both ends with the same protocol",
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

/// Appends DATA `seq` with `payload` to `out` (at most [`MAX_PAYLOAD`] bytes): the
/// sender's way to encode without copying the payload into a [`Packet`] first.
pub fn write_data(seq: u32, payload: &[u8], out: &mut Vec<u8>) {
    write_header(out, Kind::Data, seq, 0, payload.len());
    out.extend_from_slice(payload);
}

fn write_header(out: &mut Vec<u8>, kind: Kind, number: u32, window: u16, len: usize) {
    out.push(VERSION << 4 | kind as u8);
    out.extend_from_slice(&number.to_be_bytes());
    out.extend_from_slice(&window.to_be_bytes());
    out.extend_from_slice(&(len as u16).to_be_bytes());
}

impl Packet {
    /// The packet as bytes on the wire, appended to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Packet::Data { seq, payload } => write_data(*seq, payload, out),
            Packet::Ack(ack) => {
                let (bytes, len) = ack.sack_bytes();
                write_header(out, Kind::Ack, ack.cumulative, ack.window, len);
                out.extend_from_slice(&bytes[..len]);
            }
            Packet::End { seq } => write_header(out, Kind::End, *seq, 0, 0),
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
        let [vk, n0, n1, n2, n3, w0, w1, l0, l1] = *header;
        match vk >> 4 {
            0 => return Err(PacketError::StopAndWait),
            VERSION => {}
            other => return Err(PacketError::UnknownVersion(other)),
        }
        let kind =
            Kind::from_byte(vk & 0x0f).ok_or(PacketError::UnknownKind(vk & 0x0f))?;
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
                seq: number,
                payload: payload.to_vec(),
            }),
            Kind::End if declared != 0 => {
                Err(PacketError::UnexpectedPayload(Kind::End))
            }
            Kind::End => Ok(Packet::End { seq: number }),
            Kind::Ack if declared > MAX_SACK_BYTES => {
                Err(PacketError::PayloadTooLong(declared))
            }
            Kind::Ack if window == 0 || window > MAX_WINDOW => {
                Err(PacketError::BadWindow(window))
            }
            Kind::Ack => {
                let mut ack = Ack::new(number, window);
                for (i, byte) in payload.iter().enumerate() {
                    ack.sack[i / 8] |= u64::from(*byte) << (8 * (i % 8));
                }
                Ok(Packet::Ack(ack))
            }
        }
    }
    // ANCHOR_END: decode
}
