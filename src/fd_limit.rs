//! The soft limit on open file descriptors (`ulimit -n`), raised where a program or a test
//! needs thousands of sockets. Every socket is a file descriptor; many systems start
//! programs with a soft limit of 1,024 (macOS: 256), while the hard limit, the most an
//! unprivileged process may ask for, is usually far higher.

use std::io;

/// The soft and hard limits after trying to raise the soft one to `wanted` (never above the
/// hard limit). `None` where the system has no such limit (Windows).
#[cfg(unix)]
#[allow(clippy::unnecessary_cast)] // rlim_t is u64 on Linux and macOS, not on every Unix
pub fn raise(wanted: u64) -> io::Result<Option<(u64, u64)>> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass and reads nothing else.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let hard = limit.rlim_max as u64;
    let target = wanted.min(hard);
    if (limit.rlim_cur as u64) < target {
        // macOS refuses more than OPEN_MAX (10,240) even when the hard limit says unlimited.
        for attempt in [target, target.min(10_240)] {
            limit.rlim_cur = attempt as libc::rlim_t;
            // SAFETY: setrlimit reads the struct we pass.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } == 0 {
                break;
            }
        }
        // SAFETY: as above.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(Some((limit.rlim_cur as u64, hard)))
}

/// Windows has no per-process descriptor limit of this kind.
#[cfg(not(unix))]
pub fn raise(_wanted: u64) -> io::Result<Option<(u64, u64)>> {
    Ok(None)
}
