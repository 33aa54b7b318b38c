//! The chat server's inbox: what the reading thread hands to the relay's thread, shared
//! fairly among senders.
//!
//! The reading thread empties the socket as fast as it can; the relay takes one datagram
//! at a time. When more arrives than the relay can relay, the order in which it takes them
//! decides who waits. In arrival order (one queue, first in, first out), a message from a
//! quiet member waits behind everything the busy ones sent before it: with 59 members each
//! sending within its rate limit, seconds. So the inbox keeps a queue per sender and takes
//! them in turn (round robin, the fair queuing of deficit round robin with a quantum of one
//! datagram: the relay's cost is one send per member for any datagram it relays), in two
//! levels: source addresses take turns, and within an address its ports take turns. A
//! quiet member's message then waits for at most one datagram of each other address, and
//! many ports on one address get no more turns than one.
//!
//! Each queue is bounded: [`QUOTA`] datagrams per sender (address and port),
//! [`PER_ADDRESS`] per source address, [`QUEUE`] in all. What is over is dropped by the
//! reading thread before it is copied, and counted (`busy`). When all [`QUEUE`] places are
//! taken, a datagram from an address with fewer waiting than the longest queue takes a
//! place from it (the longest loses its newest): a member with nothing waiting is never
//! kept out because many others filled the inbox. A datagram larger than
//! [`LARGEST`] bytes (no chat datagram is) is dropped there too and counted as refused, so
//! the inbox holds at most `QUEUE * LARGEST` bytes (16 MiB).

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::io;
use std::net::{IpAddr, SocketAddr};

/// The most datagrams one sender (address and port) may have waiting for the relay.
pub const QUOTA: usize = 64;

/// The most datagrams one source address may have waiting, all its ports together.
pub const PER_ADDRESS: usize = 256;

/// The most datagrams waiting for the relay, from everyone together.
pub const QUEUE: usize = 4096;

/// The largest datagram the inbox keeps, in bytes (a chat datagram is at most 2,048).
pub const LARGEST: usize = 4096;

/// The datagrams waiting for the relay, a queue per sender, taken in turn.
#[derive(Debug, Default)]
pub struct Inbox {
    /// The addresses with something waiting, in the order of their turns.
    turns: VecDeque<IpAddr>,
    hosts: HashMap<IpAddr, Host>,
    /// The addresses with something waiting, by how many they have waiting.
    lengths: BTreeSet<(usize, IpAddr)>,
    waiting: usize,
    /// Dropped over a quota.
    pub busy: u64,
    /// Dropped as larger than [`LARGEST`], since the relay last took this count.
    pub oversize: u64,
    /// The socket failed; the reading thread has stopped.
    pub failed: Option<io::Error>,
}

/// What one source address has waiting: a queue per port, taken in turn.
#[derive(Debug, Default)]
struct Host {
    turns: VecDeque<SocketAddr>,
    queues: HashMap<SocketAddr, VecDeque<Vec<u8>>>,
    waiting: usize,
}

impl Inbox {
    /// Whether a datagram from `from` would be kept (checked before copying it): its
    /// sender and its address are under their quotas, and there is a place, or one to take
    /// from a longer queue.
    pub fn has_room(&self, from: SocketAddr) -> bool {
        let here = self.hosts.get(&from.ip());
        let waiting_here = here.map_or(0, |host| host.waiting);
        if let Some(host) = here
            && (host.waiting >= PER_ADDRESS
                || host.queues.get(&from).is_some_and(|q| q.len() >= QUOTA))
        {
            return false;
        }
        self.waiting < QUEUE
            || self
                .lengths
                .last()
                .is_some_and(|&(longest, _)| longest >= waiting_here + 2)
    }

    /// Keeps `datagram` from `from` if there is room (taking a place from the longest
    /// queue if all are taken); else drops it and counts it.
    pub fn push(&mut self, from: SocketAddr, datagram: &[u8]) -> bool {
        if datagram.len() > LARGEST {
            self.oversize += 1;
            return false;
        }
        if !self.has_room(from) {
            self.busy += 1;
            return false;
        }
        if self.waiting >= QUEUE {
            self.drop_from_longest();
        }
        let host = self.hosts.entry(from.ip()).or_insert_with(|| {
            self.turns.push_back(from.ip());
            Host::default()
        });
        let queue = host.queues.entry(from).or_insert_with(|| {
            host.turns.push_back(from);
            VecDeque::new()
        });
        queue.push_back(datagram.to_vec());
        self.lengths.remove(&(host.waiting, from.ip()));
        host.waiting += 1;
        self.lengths.insert((host.waiting, from.ip()));
        self.waiting += 1;
        true
    }

    /// Drops the newest datagram of the longest queue of the address with the most
    /// waiting (it keeps at least one: [`has_room`](Self::has_room) asks for two more than
    /// the newcomer has), and counts it.
    fn drop_from_longest(&mut self) {
        let Some(&(longest, ip)) = self.lengths.last() else {
            return;
        };
        let Some(host) = self.hosts.get_mut(&ip) else {
            return;
        };
        let Some((&port, _)) = host.queues.iter().max_by_key(|(_, q)| q.len()) else {
            return;
        };
        let Some(queue) = host.queues.get_mut(&port) else {
            return;
        };
        queue.pop_back();
        if queue.is_empty() {
            host.queues.remove(&port);
            host.turns.retain(|&p| p != port);
        }
        self.lengths.remove(&(longest, ip));
        host.waiting -= 1;
        if host.waiting > 0 {
            self.lengths.insert((host.waiting, ip));
        } else {
            self.hosts.remove(&ip);
            self.turns.retain(|&i| i != ip);
        }
        self.waiting -= 1;
        self.busy += 1;
    }

    /// The next datagram: one from the address whose turn it is (from its port whose turn
    /// it is); the address and the port then go to the back of their lines.
    pub fn pop(&mut self) -> Option<(SocketAddr, Vec<u8>)> {
        let ip = self.turns.pop_front()?;
        let host = self.hosts.get_mut(&ip)?;
        let from = host.turns.pop_front()?;
        let queue = host.queues.get_mut(&from)?;
        let datagram = queue.pop_front()?;
        if queue.is_empty() {
            host.queues.remove(&from);
        } else {
            host.turns.push_back(from);
        }
        self.lengths.remove(&(host.waiting, ip));
        host.waiting -= 1;
        self.waiting -= 1;
        if host.waiting == 0 {
            self.hosts.remove(&ip);
        } else {
            self.lengths.insert((host.waiting, ip));
            self.turns.push_back(ip);
        }
        Some((from, datagram))
    }

    /// Datagrams waiting, from everyone.
    pub fn len(&self) -> usize {
        self.waiting
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.waiting == 0
    }
}
