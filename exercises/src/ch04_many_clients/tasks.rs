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
    // TODO: build a current-thread tokio runtime and block_on an async loop that
    // accepts with tokio's TcpListener (from_std), spawns echo_until_idle for each
    // stream into a JoinSet (at most limits.max_clients at once), and stops on a
    // Notify that shutdown.on_stop notifies. Shut the JoinSet down before returning.
    todo!()
}
// ANCHOR_END: serve
