//! Exercise 4.5: the same server with async/await on tokio.
//!
//! Scenario: the event loop of 4.4 works, but you wrote the bookkeeping (tokens,
//! buffers, interests) by hand. tokio's runtime runs such a loop for you: `.await` on
//! a socket that is not ready parks the task, and the runtime resumes it when mio
//! says the socket is ready. Code reads like the thread version, one task per
//! connection. Goal: [`serve`] accepts connections and spawns a task for each (at
//! most `limits.max_clients`), and when stopped ends every task before it returns.
//! The tests check the chapter's specification.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio::time::timeout;

use super::{Limits, Shutdown, affects_one_connection};

// ANCHOR: echo
/// Echoes one connection until the client closes, or moves no bytes for `idle`
/// (given).
pub async fn echo_until_idle(mut conn: TcpStream, idle: Duration) -> io::Result<()> {
    let mut buf = [0u8; 4096];
    loop {
        // `timeout` gives up on the read after `idle`: a quiet client is closed.
        let len = match timeout(idle, conn.read(&mut buf)).await {
            Ok(read) => read?,
            Err(_elapsed) => return Ok(()),
        };
        if len == 0 {
            return Ok(()); // the client closed its side
        }
        // Waiting for room here is the backpressure: no more reading until it is
        // written.
        match timeout(idle, conn.write_all(&buf[..len])).await {
            Ok(written) => written?,
            Err(_elapsed) => return Ok(()),
        }
    }
}
// ANCHOR_END: echo

// ANCHOR: serve
/// Accepts connections and echoes each in a task of its own, on a one-thread tokio
/// runtime, until `shutdown` is stopped; then ends every task and returns.
pub fn serve(
    listener: std::net::TcpListener,
    limits: Limits,
    shutdown: Shutdown,
) -> io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all() // the I/O driver (mio underneath) and timers
        .build()?;
    runtime.block_on(async move {
        listener.set_nonblocking(true)?;
        let listener = TcpListener::from_std(listener)?;
        let stop = Arc::new(Notify::new());
        let notify = Arc::clone(&stop);
        shutdown.on_stop(move || notify.notify_one());

        let mut tasks = JoinSet::new();
        loop {
            tokio::select! {
                _ = stop.notified() => break,
                // Collect finished tasks, so `tasks.len()` counts live connections.
                Some(_) = tasks.join_next() => {}
                accepted = listener.accept() => match accepted {
                    Ok((stream, _peer)) if tasks.len() < limits.max_clients => {
                        tasks.spawn(echo_until_idle(stream, limits.idle_timeout));
                    }
                    Ok(_over_the_cap) => {} // dropped: the client reads end-of-file
                    Err(e) if affects_one_connection(&e) => {}
                    Err(e) => {
                        eprintln!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                },
            }
        }
        tasks.shutdown().await; // cancels every connection task and waits for it
        Ok(())
    })
}
// ANCHOR_END: serve
