//! Places on a server (given): at most so many clients in all, and at most so many from one
//! source address, so that one machine cannot take every place (nginx's `limit_conn`).
//!
//! [`Slots::take`] hands out a [`Slot`]; dropping the slot gives the place back, however the
//! connection ends (a thread that returns or panics, a task that is cancelled). Clones of a
//! `Slots` share one count. [`Slot::pressure`] tells whether others wait for a place: the
//! server is full, or a newcomer from the slot's address was refused its share since one
//! of that address's places last freed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::pace::Pressure;

/// The places of one server.
#[derive(Debug, Clone)]
pub struct Slots {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    max_total: usize,
    max_per_address: usize,
    taken: Mutex<Taken>,
}

#[derive(Debug, Default)]
struct Taken {
    total: usize,
    /// Places per address, and whether a newcomer from it was refused since one freed.
    per_address: HashMap<IpAddr, (usize, bool)>,
}

/// One place, held by one connection; dropping it gives the place back.
#[derive(Debug)]
pub struct Slot {
    inner: Arc<Inner>,
    address: IpAddr,
}

impl Slots {
    /// At most `max_total` places, at most `max_per_address` of them for one address.
    pub fn new(max_total: usize, max_per_address: usize) -> Self {
        Slots {
            inner: Arc::new(Inner {
                max_total,
                max_per_address,
                taken: Mutex::new(Taken::default()),
            }),
        }
    }

    /// A place for a client from `address`, or `None` if the server is full or that
    /// address holds its share already.
    pub fn take(&self, address: IpAddr) -> Option<Slot> {
        let mut taken = lock(&self.inner.taken);
        let full = taken.total >= self.inner.max_total;
        let max_per_address = self.inner.max_per_address;
        let mine = taken.per_address.entry(address).or_insert((0, false));
        if mine.0 >= max_per_address {
            mine.1 = true; // a newcomer waits for a place of this address
            return None;
        }
        if full {
            if mine.0 == 0 {
                taken.per_address.remove(&address); // the map holds only who is here
            }
            return None;
        }
        mine.0 += 1;
        taken.total += 1;
        Some(Slot {
            inner: Arc::clone(&self.inner),
            address,
        })
    }

    /// Places in use.
    pub fn in_use(&self) -> usize {
        lock(&self.inner.taken).total
    }
}

impl Slot {
    /// Whether others wait for a place: the server is full, or a newcomer from this
    /// slot's address was refused since one of its places last freed.
    pub fn pressure(&self) -> Pressure {
        let (inner, address) = (Arc::clone(&self.inner), self.address);
        Pressure::from_fn(move || {
            let taken = lock(&inner.taken);
            taken.total >= inner.max_total
                || taken.per_address.get(&address).is_some_and(|mine| mine.1)
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut taken = lock(&self.inner.taken);
        taken.total -= 1;
        if let Some(mine) = taken.per_address.get_mut(&self.address) {
            mine.0 -= 1;
            mine.1 = false; // a place of this address is free
            if mine.0 == 0 {
                taken.per_address.remove(&self.address); // the map holds only who is here
            }
        }
    }
}

fn lock(taken: &Mutex<Taken>) -> MutexGuard<'_, Taken> {
    taken
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
