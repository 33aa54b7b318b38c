//! Chapter 6: reliability over UDP.
//!
//! UDP loses, duplicates and reorders datagrams and says nothing. This chapter builds
//! a small protocol that delivers every message exactly once and in order anyway:
//! stop-and-wait with acknowledgements, retransmission on timeout, and a timeout that
//! adapts to the network.
//! - [`header`]: the wire format, an 11-byte header (kind, session, number,
//!   length) and a payload, parsed without panics.
//! - [`session`] (given): a random session id and first sequence number per
//!   transfer, and the serial arithmetic that compares wrapping numbers.
//! - [`receiver`]: ACK what arrives, drop duplicates, deliver in order; linger after
//!   END.
//! - [`sender`]: send one message at a time, resend until its ACK comes, give up
//!   clearly.
//! - [`rto`]: the retransmission timeout of RFC 6298, learned from measured round
//!   trips.
//! - [`wait`] (given): wait for a datagram until a deadline, to the millisecond.
//! - [`window_header`]: the sliding window's 13-byte header: the session, cumulative
//!   and selective ACKs and the receiver's window (given).
//! - [`window_send`]: the send window's bookkeeping: in flight, acknowledged, due.
//! - [`window_loss`]: which messages the receiver's ACKs show lost (packet and time
//!   thresholds), before any timer runs out.
//! - [`window_recv`]: the receive window: buffer early messages, deliver in order,
//!   build ACKs.
//! - [`window_sender`]: the window sender's loop, one timer per message.

pub mod header;
pub mod receiver;
pub mod rto;
pub mod sender;
pub use course_given::{session, wait, window_header};
pub mod window_loss;
pub mod window_recv;
pub mod window_send;
pub mod window_sender;

pub use header::{DecodeError, HEADER_LEN, Kind, MAX_PAYLOAD, Message};
pub use receiver::{Listen, Receiver, Step, run_receiver, run_receiver_with};
pub use rto::{Rto, RtoConfig};
pub use sender::{
    FixedTimer, Report, RetransmitTimer, SendError, send_all, send_one, wait_for_ack,
};
pub use session::{Session, seq_before, seq_offset};
pub use wait::Waiter;
pub use window_header::{
    Ack, MAX_SACK_BYTES, MAX_WINDOW, Packet, PacketError, VERSION, WINDOW_HEADER_LEN,
    write_data,
};
pub use window_loss::{
    GRANULARITY, PACKET_THRESHOLD, RoundTrip, Verdict, judge, loss_delay,
};
pub use window_recv::{RecvWindow, run_window_receiver};
pub use window_send::{Progress, SendWindow, Slot};
pub use window_sender::send_window;
