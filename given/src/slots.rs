//! Places on a server (given): at most so many clients in all, and at most so many from one
//! source address, so that one machine cannot take every place (nginx's `limit_conn`).
//!
//! [`Slots::take`] hands out a [`Slot`]; dropping the slot gives the place back, however the
//! connection ends (a thread that returns or panics, a task that is cancelled). Clones of a
//! `Slots` share one count.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

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
    per_address: HashMap<IpAddr, usize>,
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
        let mine = taken.per_address.get(&address).copied().unwrap_or(0);
        if taken.total >= self.inner.max_total || mine >= self.inner.max_per_address {
            return None;
        }
        taken.total += 1;
        *taken.per_address.entry(address).or_insert(0) += 1;
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

impl Drop for Slot {
    fn drop(&mut self) {
        let mut taken = lock(&self.inner.taken);
        taken.total -= 1;
        if let Some(count) = taken.per_address.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
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
