//! A shutdown handle (given): whoever holds a clone can stop the server, from a test
//! or from a Ctrl-C handler. Each design tells it how to wake its own wait (a blocked
//! `accept`, a `poll`, an async task) with [`Shutdown::on_stop`].

use std::collections::HashMap;
use std::fmt;
use std::net::{
    Ipv4Addr, Ipv6Addr, Shutdown as Both, SocketAddr, TcpListener, TcpStream,
};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

type Hook = Box<dyn FnOnce() + Send>;

/// Stops a server: [`Shutdown::stop`] sets a flag and runs the wake-up hooks the
/// server registered. Clones share one flag.
#[derive(Clone, Default)]
pub struct Shutdown {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    stopped: AtomicBool,
    hooks: Mutex<Vec<Hook>>,
    streams: Mutex<HashMap<u64, Arc<TcpStream>>>,
    next_id: AtomicU64,
}

impl Shutdown {
    /// A handle that has not been stopped.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the server to stop: sets the flag, wakes the server, and shuts down every
    /// tracked connection so that threads blocked in `read` return. Calling it again
    /// does nothing.
    pub fn stop(&self) {
        let hooks = {
            let mut streams = lock(&self.inner.streams);
            self.inner.stopped.store(true, Ordering::SeqCst);
            for stream in streams.values() {
                let _ = stream.shutdown(Both::Both);
            }
            streams.clear();
            std::mem::take(&mut *lock(&self.inner.hooks))
        };
        for hook in hooks {
            hook();
        }
    }

    /// Whether [`stop`](Self::stop) has been called.
    pub fn is_stopped(&self) -> bool {
        self.inner.stopped.load(Ordering::SeqCst)
    }

    /// Runs `wake` once when the server is stopped (at once if it already is): the
    /// server's way to be woken from a wait, e.g. `mio::Waker::wake`.
    pub fn on_stop(&self, wake: impl FnOnce() + Send + 'static) {
        let mut hooks = lock(&self.inner.hooks);
        if self.is_stopped() {
            drop(hooks);
            wake();
        } else {
            hooks.push(Box::new(wake));
        }
    }

    /// Wakes a thread blocked in `listener.accept()` on stop, by connecting to it
    /// once.
    pub fn wake_on_stop(&self, listener: &TcpListener) -> std::io::Result<()> {
        let mut addr = listener.local_addr()?;
        // A server bound to every interface is reached through loopback.
        if addr.ip().is_unspecified() {
            addr.set_ip(match addr {
                SocketAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
            });
        }
        self.on_stop(move || {
            let _ = TcpStream::connect_timeout(&addr, Duration::from_secs(1));
        });
        Ok(())
    }

    /// Shares `stream` with this handle until the returned [`Tracked`] is dropped, so
    /// that [`stop`](Self::stop) can shut it down and wake the thread that reads it.
    /// Use the stream through the `Tracked` (it derefs to `&TcpStream`, which reads
    /// and writes).
    pub fn track(&self, stream: TcpStream) -> Tracked {
        // Shared, not duplicated: a `try_clone` would cost a second file descriptor.
        let stream = Arc::new(stream);
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let mut streams = lock(&self.inner.streams);
        if self.is_stopped() {
            let _ = stream.shutdown(Both::Both);
        } else {
            streams.insert(id, Arc::clone(&stream));
        }
        Tracked {
            shutdown: self.clone(),
            id,
            stream,
        }
    }
}

impl fmt::Debug for Shutdown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shutdown")
            .field("stopped", &self.is_stopped())
            .finish()
    }
}

/// A connection that [`Shutdown`] can shut down; dropping it closes the connection.
#[derive(Debug)]
pub struct Tracked {
    shutdown: Shutdown,
    id: u64,
    stream: Arc<TcpStream>,
}

impl std::ops::Deref for Tracked {
    type Target = TcpStream;

    fn deref(&self) -> &TcpStream {
        &self.stream
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        // The handle's share goes first; then `stream`, the last one, closes the
        // socket.
        lock(&self.shutdown.inner.streams).remove(&self.id);
    }
}

/// Locks a mutex; a panic elsewhere while it was held does not matter for these plain
/// maps.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
