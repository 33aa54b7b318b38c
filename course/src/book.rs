//! `course book`: builds both books with their search index and serves them on loopback.
//!
//! `mdbook build` and `mdbook serve` clear the output folder, and with it the Pagefind index
//! that the search box needs (mdBook's own index drops Japanese words). So this command runs
//! the three steps in order, `mdbook build` for each language, then Pagefind over the built
//! HTML (the pinned extended build, the one that segments Japanese), then a small static file
//! server on 127.0.0.1 that serves `target/book/{en,ja}` the way the books expect to be served
//! (each under its own folder, with its styled 404 page). The site's root gets a static
//! `index.html` offering both books; `/en` and `/ja` redirect to `/en/` and `/ja/`.

use std::collections::HashMap;
use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

mod words;

/// The Pagefind release the books are indexed with (the same as `.ci/browser/package.json`).
pub const PAGEFIND_VERSION: &str = "1.6.0";
/// The languages, each a folder under `book/` and under `target/book/`.
pub const LANGUAGES: [&str; 2] = ["en", "ja"];
/// How long one response may take to leave (a reader that stops reading is closed).
const IDLE: Duration = Duration::from_secs(10);
/// A whole request head must arrive within this time of the connection's accept (or of the
/// end of the previous answer on a kept-alive connection), unless `--head-deadline` says
/// otherwise. One deadline for the whole head, not a timer that each byte resets: a client
/// sending a byte a second is closed all the same.
const HEAD_DEADLINE: &str = "5";
/// At most this many connections are served at once. A newcomer past it closes the kept-alive
/// connection that has waited longest between two requests (as nginx does): a place held by
/// a client that only asks now and then is given to one that asks now. While none is between
/// requests, newcomers wait in the listen queue.
const MAX_CONNECTIONS: usize = 64;
/// How often a newcomer waiting for a place looks again for a connection between requests.
const RECHECK: Duration = Duration::from_millis(100);
/// At most this many of them from one address (a browser opens about 6); more are closed at once.
const MAX_PER_ADDRESS: usize = 16;
/// The longest request head accepted (request line and headers).
const MAX_REQUEST_HEAD: usize = 16 * 1024;

#[derive(clap::Args, Debug)]
pub struct BookArgs {
    /// Only build the books and their search index; do not serve them.
    #[arg(long, conflicts_with = "no_build")]
    pub no_serve: bool,
    /// Serve what is already built under target/book, without building.
    #[arg(long)]
    pub no_build: bool,
    /// Where to serve: a loopback address (port 0 lets the OS pick a free port).
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub bind: SocketAddr,
    /// Seconds a client has to send a whole request head (fractions allowed: 0.5).
    #[arg(long, default_value = HEAD_DEADLINE, value_parser = seconds)]
    pub head_deadline: Duration,
}

/// A duration given in seconds, fractions allowed: more than 0, at most an hour.
fn seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(secs) if secs > 0.0 && secs <= 3600.0 => Ok(Duration::from_secs_f64(secs)),
        _ => Err(format!(
            "`{text}` is not a number of seconds above 0 and at most 3600"
        )),
    }
}

/// Runs `course book` from the repository root `root`.
pub fn run(root: &Path, args: &BookArgs) -> ExitCode {
    let site = root.join("target").join("book");
    if !args.no_build
        && let Err(message) = build(root, &site)
    {
        eprintln!("error: {message}");
        return ExitCode::from(1);
    }
    if args.no_serve {
        return ExitCode::SUCCESS;
    }
    if !args.bind.ip().is_loopback() {
        eprintln!(
            "error: --bind {}: the book is served on loopback only (127.0.0.1 or [::1])",
            args.bind
        );
        return ExitCode::from(2);
    }
    match serve(&site, args.bind, args.head_deadline) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot serve the book on {}: {e}", args.bind);
            ExitCode::from(1)
        }
    }
}

/// Builds each book with mdBook, then indexes it with Pagefind.
fn build(root: &Path, site: &Path) -> Result<(), String> {
    for lang in LANGUAGES {
        let book = root.join("book").join(lang);
        eprintln!("building book/{lang} ...");
        run_tool(
            Command::new("mdbook").arg("build").arg(&book),
            "mdbook",
            "cargo install --locked mdbook@0.5.4 mdbook-mermaid@0.17.1",
        )?;
        eprintln!("indexing target/book/{lang} for search ...");
        if lang == "ja" {
            index_japanese(root, site)?;
        } else {
            index(
                root,
                &site.join(lang),
                &site.join(lang).join("pagefind"),
                true,
            )?;
        }
    }
    fs::write(site.join("index.html"), SITE_INDEX)
        .map_err(|e| format!("cannot write target/book/index.html: {e}"))?;
    Ok(())
}

/// Runs the pinned Pagefind over the pages of `pages` (the chapters only: print.html repeats
/// them all, 404.html and toc.html are chrome) and writes the bundle to `bundle`.
fn index(root: &Path, pages: &Path, bundle: &Path, chapters_only: bool) -> Result<(), String> {
    let mut pagefind = pagefind_command(root);
    pagefind
        .arg("--site")
        .arg(pages)
        .arg("--output-path")
        .arg(bundle);
    if chapters_only {
        pagefind
            .args(["--glob", "{introduction,ch*,appendix*,glossary}.html"])
            // The page text, without the sidebar and the previous/next buttons.
            .args(["--root-selector", "main", "--exclude-selectors", "nav"]);
    }
    pagefind.arg("--quiet");
    run_tool(&mut pagefind, "pagefind", "cd .ci/browser && npm ci")
}

/// The Japanese book's index, cut into words with the glossary (see [`words`]): a copy of the
/// pages with word boundaries, indexed as language `und` (which Pagefind does not cut again)
/// into `ja/pagefind-words/`, with the dictionary the page's script cuts queries with. The
/// search box's own bundle, `ja/pagefind/`, holds one placeholder page: Pagefind's script cuts
/// the query of its main bundle by the page's language, so the book's pages are searched as a
/// merged bundle, whose language can be given.
fn index_japanese(root: &Path, site: &Path) -> Result<(), String> {
    let glossary = fs::read_to_string(root.join("book/ja/src/glossary.md"))
        .map_err(|e| format!("cannot read book/ja/src/glossary.md: {e}"))?;
    let dictionary = words::Dictionary::from_glossary(&glossary);
    let stage = root.join("target").join("book-words");
    let pages = stage.join("ja");
    let primary = stage.join("ja-primary");
    let _ = fs::remove_dir_all(&stage);
    let staged = (|| -> io::Result<()> {
        fs::create_dir_all(&pages)?;
        fs::create_dir_all(&primary)?;
        for entry in fs::read_dir(site.join("ja"))? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "html") {
                let html = fs::read_to_string(&path)?;
                let cut = words::segment_html(&html, &dictionary).replacen(
                    "<html lang=\"ja\"",
                    "<html lang=\"und\"",
                    1,
                );
                fs::write(pages.join(path.file_name().unwrap_or_default()), cut)?;
            }
        }
        // One word no query can reach: the page's script drops this letter from queries.
        fs::write(
            primary.join("index.html"),
            "<!DOCTYPE html><html lang=\"ja\"><head><meta charset=\"utf-8\"><title>-</title></head>\
             <body><main><p>\u{01C2}\u{01C2}\u{01C2}</p></main></body></html>",
        )
    })();
    staged.map_err(|e| format!("cannot prepare {}: {e}", stage.display()))?;
    let words_bundle = site.join("ja").join("pagefind-words");
    index(root, &pages, &words_bundle, true)?;
    index(root, &primary, &site.join("ja").join("pagefind"), false)?;
    fs::write(words_bundle.join("dictionary.txt"), dictionary.lines())
        .map_err(|e| format!("cannot write the search dictionary: {e}"))
}

/// The site's front page (`/`): both books, and a redirect to the one in the browser's
/// language. A static file, so it works on any static host as well as in `course book`.
const SITE_INDEX: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Socket Programming in Rust / Rust で学ぶソケットプログラミング</title>
<script>
  // Straight to the book in the reader's language; the links below stay for everyone else.
  if (!location.hash) {
    var ja = (navigator.languages || [navigator.language || ""]).some(function (l) {
      return /^ja\b/i.test(l);
    });
    location.replace(ja ? "ja/" : "en/");
  }
</script>
<style>
  body { font: 1.1rem/1.6 system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; padding: 0 1rem; color: #222; background: #fff; }
  a { color: #0645ad; }
  @media (prefers-color-scheme: dark) { body { color: #ddd; background: #1d1f21; } a { color: #8ab4f8; } }
</style>
</head>
<body>
<main>
<h1>Socket Programming in Rust</h1>
<ul>
<li><a href="en/" hreflang="en">English</a></li>
<li><a href="ja/" hreflang="ja" lang="ja">日本語（Rust で学ぶソケットプログラミング）</a></li>
</ul>
</main>
</body>
</html>
"#;

/// The pinned Pagefind, extended build (only that build segments Japanese): the binary that
/// `npm ci` in `.ci/browser` installs, else the pinned npm release through `npx` (its wrapper
/// runs `pagefind_extended`). A `pagefind` found first on PATH is never used: it may be another
/// release, or the build without Japanese.
fn pagefind_command(root: &Path) -> Command {
    let platform = match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => Some("linux-x64"),
        ("linux", "aarch64") => Some("linux-arm64"),
        ("macos", "x86_64") => Some("darwin-x64"),
        ("macos", "aarch64") => Some("darwin-arm64"),
        ("windows", "x86_64") => Some("windows-x64"),
        ("windows", "aarch64") => Some("windows-arm64"),
        ("freebsd", "x86_64") => Some("freebsd-x64"),
        _ => None,
    };
    if let Some(platform) = platform {
        let exe = if cfg!(windows) {
            "pagefind_extended.exe"
        } else {
            "pagefind_extended"
        };
        let pinned = root
            .join(".ci/browser/node_modules/@pagefind")
            .join(platform)
            .join("bin")
            .join(exe);
        let version = Command::new(&pinned).arg("--version").output();
        if version.is_ok_and(|o| {
            String::from_utf8_lossy(&o.stdout).trim() == format!("pagefind {PAGEFIND_VERSION}")
        }) {
            return Command::new(pinned);
        }
    }
    let mut npx = Command::new(if cfg!(windows) { "npx.cmd" } else { "npx" });
    npx.args(["--yes", &format!("pagefind@{PAGEFIND_VERSION}")]);
    npx
}

fn run_tool(command: &mut Command, name: &str, install: &str) -> Result<(), String> {
    match command.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("{name} failed ({status})")),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(format!(
            "{name} is not installed (install it with `{install}`)"
        )),
        Err(e) => Err(format!("cannot run {name}: {e}")),
    }
}

/// Serves `site` on `bind` until the process is stopped (Ctrl-C).
fn serve(site: &Path, bind: SocketAddr, head_deadline: Duration) -> io::Result<()> {
    let listener = TcpListener::bind(bind)?;
    let addr = listener.local_addr()?;
    eprintln!("listening on {addr}");
    for lang in LANGUAGES {
        eprintln!("  http://{addr}/{lang}/");
    }
    // The site's real path: every file served must be under it once links are followed.
    let site = Arc::new(fs::canonicalize(site)?);
    let places = Arc::new(Places::default());
    let mut next_id = 0u64;
    loop {
        // One newcomer at a time: the others wait in the listen queue (in order).
        let Ok((stream, peer)) = listener.accept() else {
            continue;
        };
        if !places.take(peer.ip()) {
            continue; // this address holds its share already: closed at once
        }
        let id = next_id;
        next_id += 1;
        let (site, places) = (Arc::clone(&site), Arc::clone(&places));
        thread::spawn(move || {
            // One connection's failure (a reset, a timeout) only ends that connection.
            let _ = serve_connection(&site, stream, Some((&*places, id)), head_deadline);
            places.give_back(peer.ip(), id);
        });
    }
}

/// The connections being served: how many in all and from each address, and those waiting
/// between two requests (a handle to close them by, and since when).
#[derive(Default)]
struct Places {
    taken: Mutex<Taken>,
    freed: Condvar,
}

#[derive(Default)]
struct Taken {
    per_address: HashMap<IpAddr, usize>,
    between_requests: HashMap<u64, (TcpStream, Instant)>,
}

impl Places {
    /// Takes a place for `ip`, unless it holds [`MAX_PER_ADDRESS`] already. While all
    /// [`MAX_CONNECTIONS`] are taken, closes the connection that has waited longest between
    /// two requests, and waits for its place (or, if none is between requests, for any).
    fn take(&self, ip: IpAddr) -> bool {
        let mut taken = self.taken.lock().unwrap_or_else(PoisonError::into_inner);
        if taken.per_address.get(&ip).copied().unwrap_or(0) >= MAX_PER_ADDRESS {
            return false;
        }
        while taken.per_address.values().sum::<usize>() >= MAX_CONNECTIONS {
            let longest = (taken.between_requests.iter())
                .min_by_key(|(_, (_, since))| *since)
                .map(|(id, _)| *id);
            if let Some((stream, _)) = longest.and_then(|id| taken.between_requests.remove(&id)) {
                // Its thread sees the end of the stream and gives its place back.
                let _ = stream.shutdown(std::net::Shutdown::Both);
            }
            taken = (self.freed)
                .wait_timeout(taken, RECHECK)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        *taken.per_address.entry(ip).or_default() += 1;
        true
    }

    /// Connection `id` waits for its next request from now on (`Some`: a handle to close it
    /// by), or is reading one (`None`).
    fn between_requests(&self, id: u64, stream: Option<TcpStream>) {
        let mut taken = self.taken.lock().unwrap_or_else(PoisonError::into_inner);
        match stream {
            Some(stream) => {
                taken.between_requests.insert(id, (stream, Instant::now()));
            }
            None => {
                taken.between_requests.remove(&id);
            }
        }
    }

    fn give_back(&self, ip: IpAddr, id: u64) {
        let mut taken = self.taken.lock().unwrap_or_else(PoisonError::into_inner);
        taken.between_requests.remove(&id);
        if let Some(count) = taken.per_address.get_mut(&ip) {
            *count -= 1;
            if *count == 0 {
                taken.per_address.remove(&ip);
            }
        }
        self.freed.notify_one();
    }
}

/// A connection's reading side with a deadline: each read waits at most until `deadline`, so a
/// request head trickling in a byte at a time still ends when the deadline passes. The first
/// bytes of a request take the connection off the list of those between requests.
struct Deadline<'a> {
    stream: TcpStream,
    deadline: Instant,
    place: Option<(&'a Places, u64)>,
    between_requests: bool,
}

impl Read for Deadline<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        self.stream.set_read_timeout(Some(left))?;
        let n = self.stream.read(buf)?;
        if n > 0 && self.between_requests {
            self.between_requests = false;
            if let Some((places, id)) = self.place {
                places.between_requests(id, None);
            }
        }
        Ok(n)
    }
}

/// Answers the requests of one connection (keep-alive) until the peer closes, or a request
/// head is not in within `head_deadline` or is longer than [`MAX_REQUEST_HEAD`]. Between
/// two requests it is on `place`'s list: a newcomer finding every place taken may close it.
fn serve_connection(
    site: &Path,
    stream: TcpStream,
    place: Option<(&Places, u64)>,
    head_deadline: Duration,
) -> io::Result<()> {
    stream.set_write_timeout(Some(IDLE))?;
    let mut writer = stream.try_clone()?;
    let deadline = Instant::now() + head_deadline;
    let reading = Deadline {
        stream,
        deadline,
        place,
        between_requests: false,
    };
    let mut reader = BufReader::new(reading.take(MAX_REQUEST_HEAD as u64));
    loop {
        reader.get_mut().set_limit(MAX_REQUEST_HEAD as u64);
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        // Skip the headers: a GET without a body is all this server answers.
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header)? == 0 {
                return Ok(());
            }
            if header == "\r\n" || header == "\n" {
                break;
            }
        }
        let mut parts = request_line.split_whitespace();
        let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
            return respond(&mut writer, 400, "text/plain", b"bad request", false);
        };
        let head_only = method == "HEAD";
        if method != "GET" && !head_only {
            return respond(&mut writer, 405, "text/plain", b"GET only", false);
        }
        let (status, path) = match resolve(site, target) {
            Answer::File(status, path) => (status, path),
            Answer::Redirect(location) => {
                redirect(&mut writer, &location, head_only)?;
                continue;
            }
        };
        // A book's 404 page too must be a file of the book (not a link planted there).
        let body = match inside(site, &path).map(fs::read) {
            Some(Ok(body)) => body,
            _ => b"not found".to_vec(),
        };
        let content_type = content_type(&path);
        respond(&mut writer, status, content_type, &body, head_only)?;
        // The next request head has its own deadline, from the end of this answer.
        let reading = reader.get_mut().get_mut();
        reading.deadline = Instant::now() + head_deadline;
        // Between requests: a newcomer may close it, unless the next request is already in.
        if reader.buffer().is_empty()
            && let Some((places, id)) = place
        {
            places.between_requests(id, Some(writer.try_clone()?));
            reader.get_mut().get_mut().between_requests = true;
        }
    }
}

/// What the server answers to one request target.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// A file under the site, with its status: 200, or 404 for a book's 404 page.
    File(u16, PathBuf),
    /// A folder named without its final slash (`/en`): 301 to the same path with it, so that the
    /// book's relative links resolve.
    Redirect(String),
}

/// Maps a request target to an answer under `site` (a canonical path). Nothing outside `site`
/// can be reached: `..`, absolute and drive components are refused, and the file's canonical
/// path (symbolic links followed) must still lie under `site`, so a link to `/etc/passwd` or
/// to `/` planted in the book answers 404. Only regular files are served.
pub fn resolve(site: &Path, target: &str) -> Answer {
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let decoded = percent_decode(path);
    let mut file = site.to_path_buf();
    let mut safe = true;
    for component in Path::new(decoded.trim_start_matches('/')).components() {
        match component {
            Component::Normal(part) => file.push(part),
            Component::CurDir => {}
            _ => safe = false,
        }
    }
    if safe && inside(site, &file).is_some_and(|real| real.is_dir()) {
        if !path.ends_with('/') {
            return Answer::Redirect(format!("{path}/"));
        }
        file.push("index.html");
    }
    if let Some(real) = inside(site, &file).filter(|real| safe && real.is_file()) {
        return Answer::File(200, real);
    }
    // Each book's own 404 page (styled, thanks to its site-url); the English one elsewhere.
    let lang = LANGUAGES
        .into_iter()
        .find(|lang| {
            decoded
                .trim_start_matches('/')
                .starts_with(&format!("{lang}/"))
        })
        .unwrap_or("en");
    Answer::File(404, site.join(lang).join("404.html"))
}

/// The real path of `file` (symbolic links followed) if it lies under `site`, else `None`.
fn inside(site: &Path, file: &Path) -> Option<PathBuf> {
    fs::canonicalize(file)
        .ok()
        .filter(|real| real.starts_with(site))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "txt" => "text/plain; charset=utf-8",
        // Pagefind's index and wasm files: compressed bytes it decodes itself.
        _ => "application/octet-stream",
    }
}

fn redirect(out: &mut TcpStream, location: &str, head_only: bool) -> io::Result<()> {
    // The location is the request's own path plus a slash: no header can be injected through it
    // (a request line holds no CR or LF), but keep it to printable ASCII all the same.
    let location: String = location.chars().filter(|c| c.is_ascii_graphic()).collect();
    let body = format!("moved to {location}");
    let head = format!(
        "HTTP/1.1 301 Moved Permanently\r\nLocation: {location}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    out.write_all(head.as_bytes())?;
    if !head_only {
        out.write_all(body.as_bytes())?;
    }
    out.flush()
}

fn respond(
    out: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &[u8],
    head_only: bool,
) -> io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        _ => "Method Not Allowed",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\n\r\n",
        body.len()
    );
    out.write_all(head.as_bytes())?;
    if !head_only {
        out.write_all(body)?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_site_and_missing_pages_get_their_books_404() {
        let dir = tempfile::tempdir().unwrap();
        // The server resolves under the site's real path (macOS's /tmp is a link).
        let site = fs::canonicalize(dir.path()).unwrap();
        for lang in LANGUAGES {
            fs::create_dir_all(site.join(lang)).unwrap();
            fs::write(site.join(lang).join("404.html"), "404").unwrap();
            fs::write(site.join(lang).join("index.html"), "index").unwrap();
        }
        fs::write(site.join("index.html"), "both books").unwrap();
        fs::write(site.join("ja").join("ソケット.html"), "page").unwrap();
        let at = |target| resolve(&site, target);
        let file = |status, path: &str| Answer::File(status, site.join(path));
        assert_eq!(at("/ja/"), file(200, "ja/index.html"));
        assert_eq!(
            at("/ja/%E3%82%BD%E3%82%B1%E3%83%83%E3%83%88.html?q=1"),
            file(200, "ja/ソケット.html")
        );
        assert_eq!(at("/ja/missing.html"), file(404, "ja/404.html"));
        assert_eq!(at("/en/../../etc/passwd"), file(404, "en/404.html"));
        assert_eq!(at("/%2e%2e/%2e%2e/etc/passwd"), file(404, "en/404.html"));
        assert_eq!(at("/"), file(200, "index.html"));
        assert_eq!(at("/en"), Answer::Redirect("/en/".into()));
        assert_eq!(at("/ja?x=1"), Answer::Redirect("/ja/".into()));
    }
}
