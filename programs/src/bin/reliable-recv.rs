//! `reliable-recv`: the receiving end of chapter 6's protocol. Writes the payloads it receives
//! to stdout, each exactly once and in order, and exits after END (and a short linger).

use std::io::{self, BufWriter, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use clap::Parser;
use course_programs::cli::{self, EXIT_FAILURE, EXIT_USAGE};
use course_programs::sealing;
use socket_course::ch06_reliability::{Listen, MAX_WINDOW, run_window_receiver};
use socket_course::ch07_security::SealKey;

/// Receives a stream from `reliable-send` and writes it to stdout, exactly once and in order,
/// however the network loses, duplicates or reorders datagrams. Status goes to stderr.
#[derive(Parser)]
#[command(version, after_help = format!("Built from: {}", socket_course::SIDE))]
struct Args {
    /// Address to listen on, IP:PORT or [IPv6]:PORT (port 0: the OS chooses a free port).
    /// [::]:PORT listens on both families at once (IPv6 and IPv4 on one socket, IPV6_V6ONLY
    /// off), and on every interface, not only on loopback.
    #[arg(long, default_value = "127.0.0.1:50001", value_parser = cli::socket_addr)]
    bind: SocketAddr,
    /// After END, stay this many milliseconds after the last datagram, to ACK a resent END.
    #[arg(long, default_value_t = 2000)]
    linger_ms: u64,
    /// Hear only this sender, IP:PORT (default: the first that sends a valid message, which
    /// may be a stranger who was quicker than the real sender). On an IPv6 socket
    /// (--bind [::]:PORT) an IPv4 address also matches its ::ffff: form, the way IPv4
    /// senders show up there (127.0.0.1:PORT as [::ffff:127.0.0.1]:PORT).
    #[arg(long, value_parser = cli::socket_addr)]
    from: Option<SocketAddr>,
    /// Give up (exit code 1) when the sender sends nothing for this many seconds before END;
    /// what was written stays written (fractions allowed: 0.5).
    #[arg(long, default_value = "30", value_parser = |s: &str| cli::seconds(s, true))]
    idle_timeout: Duration,
    /// How many messages, from the next one to deliver on, it accepts (1-256).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=MAX_WINDOW as i64))]
    window: u16,
    /// Accept only datagrams sealed with this chapter 7 key file (the one reliable-send
    /// uses), and seal the ACKs: nobody without the key can inject data or end the stream.
    #[arg(long, alias = "key", value_name = "FILE")]
    key_file: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let key = args.key_file.as_ref().map(|path| {
        SealKey::read(path).unwrap_or_else(|e| cli::fail(EXIT_USAGE, format!("--key-file: {e}")))
    });
    let socket = cli::bind_udp(args.bind);
    cli::announce(socket.local_addr());
    // On [::], an IPv4 sender is seen as ::ffff:a.b.c.d: compare it with that form.
    let from = args
        .from
        .map(|from| SocketAddr::new(cli::as_seen_on(args.bind, from.ip()), from.port()));
    // With a key, the protocol hears only the sealing relay, which hears the sender.
    let (socket, from, refused) = match key {
        Some(key) => match sealing::start(socket, from, key) {
            Ok(sealed) => (sealed.socket, Some(sealed.peer), Some(sealed.refused)),
            Err(e) => cli::fail(EXIT_FAILURE, format!("cannot start sealing: {e}")),
        },
        None => (socket, from, None),
    };
    let mut out = Output::start();
    let listen = Listen {
        from,
        idle_timeout: Some(args.idle_timeout),
        linger: Duration::from_millis(args.linger_ms.max(1)),
    };
    let result = run_window_receiver(&socket, args.window, listen, |payload| out.write(payload));
    // What was delivered stays delivered, also when the sender fell silent.
    let flushed = out.finish();
    if let Some(refused) = refused {
        refused.report();
    }
    match result.and_then(|n| flushed.map(|()| n)) {
        Ok(bytes) => {
            eprintln!("received {bytes} bytes; the stream is complete");
            ExitCode::SUCCESS
        }
        Err(e) => cli::fail(EXIT_FAILURE, e),
    }
}

/// How long the writer waits for more data before it flushes what it holds.
const IDLE_FLUSH: Duration = Duration::from_millis(1);

/// Stdout, written by a thread of its own as the data arrives in order: through a 64 KiB
/// buffer (one write per 64 KiB while data streams in), flushed as soon as nothing more came
/// for `IDLE_FLUSH`, and at the end. So the output is complete on disk when the data is, not
/// when the receiver exits after its linger (stdout alone is line-buffered: binary data
/// after the last newline would wait for the exit).
struct Output {
    chunks: Option<mpsc::Sender<Vec<u8>>>,
    writer: Option<JoinHandle<io::Result<()>>>,
}

impl Output {
    fn start() -> Output {
        let (chunks, arriving) = mpsc::channel::<Vec<u8>>();
        let writer = thread::spawn(move || -> io::Result<()> {
            let mut out = BufWriter::with_capacity(64 * 1024, io::stdout().lock());
            loop {
                match arriving.recv_timeout(IDLE_FLUSH) {
                    Ok(chunk) => out.write_all(&chunk)?,
                    Err(RecvTimeoutError::Timeout) => out.flush()?,
                    Err(RecvTimeoutError::Disconnected) => return out.flush(),
                }
            }
        });
        Output {
            chunks: Some(chunks),
            writer: Some(writer),
        }
    }

    /// Hands a payload to the writer; fails once the writer has failed (stdout closed).
    fn write(&mut self, payload: &[u8]) -> io::Result<()> {
        let sent = self.chunks.as_ref().map(|c| c.send(payload.to_vec()));
        match sent {
            Some(Ok(())) => Ok(()),
            // The writer stopped: its error says why.
            _ => self.finish().and(Err(io::ErrorKind::BrokenPipe.into())),
        }
    }

    /// Writes and flushes everything handed over; the writer's error, if it failed.
    fn finish(&mut self) -> io::Result<()> {
        self.chunks = None; // the writer sees the end, flushes and returns
        match self.writer.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(io::Error::other("the writer thread panicked")),
            None => Ok(()),
        }
    }
}
