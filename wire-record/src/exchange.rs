//! A record of a wire exchange (who sent what to whom, in order) that renders as a mermaid
//! `sequenceDiagram`.
//!
//! Tests and the lossy relay record into one shared [`Exchange`] (it is a cheap, cloneable
//! handle), and a failing test prints the diagram, so the learner sees the conversation their
//! code took part in instead of a bare "assertion failed".

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::text;

/// How many characters of a payload a diagram shows.
const PREVIEW_CHARS: usize = 40;

/// A shared, ordered record of datagrams and notes. Clones record into the same exchange.
#[derive(Debug, Clone, Default)]
pub struct Exchange {
    inner: Arc<Mutex<Record>>,
}

#[derive(Debug, Default)]
struct Record {
    names: Vec<(SocketAddr, String)>,
    events: Vec<Event>,
}

/// One recorded step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Bytes went from one address to another (`delivered == false`: lost on the way).
    Message {
        from: SocketAddr,
        to: SocketAddr,
        bytes: Vec<u8>,
        delivered: bool,
    },
    /// A remark over one participant's lifeline ("timeout", "closed").
    Note { at: SocketAddr, text: String },
}

impl Exchange {
    /// An empty record.
    pub fn new() -> Self {
        Self::default()
    }

    /// Gives `addr` a role name shown in the diagram ("client", "your server").
    pub fn name(&self, addr: SocketAddr, name: &str) {
        let mut record = self.lock();
        match record.names.iter_mut().find(|(a, _)| *a == addr) {
            Some(entry) => entry.1 = name.to_string(),
            None => record.names.push((addr, name.to_string())),
        }
    }

    /// Records that `bytes` went from `from` to `to`.
    pub fn sent(&self, from: SocketAddr, to: SocketAddr, bytes: &[u8]) {
        self.push(Event::Message {
            from,
            to,
            bytes: bytes.to_vec(),
            delivered: true,
        });
    }

    /// Records that `bytes` left `from` for `to` but never arrived (drawn with a cross).
    pub fn lost(&self, from: SocketAddr, to: SocketAddr, bytes: &[u8]) {
        self.push(Event::Message {
            from,
            to,
            bytes: bytes.to_vec(),
            delivered: false,
        });
    }

    /// Records a note over `at`.
    pub fn note(&self, at: SocketAddr, text: &str) {
        self.push(Event::Note {
            at,
            text: text.to_string(),
        });
    }

    /// A copy of the events so far, in order.
    pub fn events(&self) -> Vec<Event> {
        self.lock().events.clone()
    }

    /// How many events were recorded.
    pub fn len(&self) -> usize {
        self.lock().events.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The exchange as mermaid `sequenceDiagram` text, one arrow per message.
    ///
    /// Participants appear in the order they were named, then in order of first appearance;
    /// each is labelled with its role name (if any) and its address.
    pub fn to_mermaid(&self) -> String {
        let record = self.lock();
        let mut order: Vec<SocketAddr> = record.names.iter().map(|(addr, _)| *addr).collect();
        for event in &record.events {
            let addrs = match event {
                Event::Message { from, to, .. } => vec![*from, *to],
                Event::Note { at, .. } => vec![*at],
            };
            for addr in addrs {
                if !order.contains(&addr) {
                    order.push(addr);
                }
            }
        }
        let id = |addr: &SocketAddr| {
            let index = order.iter().position(|a| a == addr).unwrap_or(0);
            format!("P{}", index + 1)
        };

        let mut out = String::from("sequenceDiagram\n");
        for addr in &order {
            let label = match record.names.iter().find(|(a, _)| a == addr) {
                Some((_, name)) => format!("{name} {addr}"),
                None => addr.to_string(),
            };
            let _ = writeln!(
                out,
                "    participant {} as {}",
                id(addr),
                mermaid_text(&label)
            );
        }
        for event in &record.events {
            match event {
                Event::Message {
                    from,
                    to,
                    bytes,
                    delivered,
                } => {
                    let arrow = if *delivered { "->>" } else { "-x" };
                    let text = format!(
                        "\"{}\" ({} B)",
                        text::preview(bytes, PREVIEW_CHARS),
                        bytes.len()
                    );
                    let _ = writeln!(
                        out,
                        "    {}{arrow}{}: {}",
                        id(from),
                        id(to),
                        mermaid_text(&text)
                    );
                }
                Event::Note { at, text } => {
                    let _ = writeln!(out, "    Note over {}: {}", id(at), mermaid_text(text));
                }
            }
        }
        out
    }

    fn push(&self, event: Event) {
        self.lock().events.push(event);
    }

    fn lock(&self) -> MutexGuard<'_, Record> {
        // A panic while recording (in another test thread) must not hide this test's diagram.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Text made safe for a mermaid label: `#` and `;` end a statement there and `<`, `>` are
/// read as HTML, so they become mermaid's entity codes; line breaks cannot occur (escaped).
fn mermaid_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '#' => out.push_str("#35;"),
            ';' => out.push_str("#59;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}
