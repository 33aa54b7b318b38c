//! The table of chapters and exercises: the one place that says which file an exercise lives
//! in, where the book explains it, and which tests grade it. Titles and hints live in the
//! catalogs under `ex.<id>.title`, `ex.<id>.idea` (step 1: the idea) and `ex.<id>.api` (step 2:
//! what to look at); step 3 is the book section, built from the anchors here.
//!
//! Adding a chapter means adding a [`Chapter`] and its [`Exercise`]s here and their texts to
//! both catalogs; `tests/catalog.rs` checks the table against the files on disk and the book.
//! The `course` program shows only chapters whose test file exists, so an entry may come
//! before or after its chapter lands.

use crate::{Lang, fill_in, text_in};

/// A chapter: its module folder under `exercises/src/`, its test file `tests/<id>.rs`, and
/// its book page (the same file name in `book/en/src` and `book/ja/src`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chapter {
    /// `ch01_addresses`: the test file `tests/ch01_addresses.rs`, and usually the folder
    /// `exercises/src/ch01_addresses/` (a chapter's exercises may live in another folder
    /// of the same chapter number: `ch06_window`'s live in `ch06_reliability/`).
    pub id: &'static str,
    /// The chapter number the book uses.
    pub number: u8,
    /// `ch01-addresses.md`
    pub page: &'static str,
}

/// One exercise: one new idea, one function (or method) to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exercise {
    /// `1.2a`: what the book calls it and what `course hint 1.2a` takes.
    pub id: &'static str,
    /// The [`Chapter::id`] it belongs to.
    pub chapter: &'static str,
    /// The file to edit, from the repository's root.
    pub file: &'static str,
    /// The heading id of its section on the chapter's page, English and Japanese books.
    pub anchor_en: &'static str,
    pub anchor_ja: &'static str,
    /// Its tests in the chapter's test binary, as libtest filters: a test belongs to the
    /// exercise when its name (`port_range::a_port_falls_in_its_iana_range::case_1_zero`)
    /// contains one of them, which is what `cargo test --test <chapter> <filter>` runs. No
    /// filter may match a test of another exercise (`client::` would also match
    /// `run_client::`): test modules are named so that one filter selects one exercise's tests,
    /// and `tests/grade_commands.rs` checks it against the test binaries' `--list`.
    pub tests: &'static [&'static str],
    /// A "go further" exercise (chapter 4's mio and tokio parts): `cargo run` shows it and
    /// its state, but it never blocks "Next"; `course grade` reports its tests apart, and
    /// `--require-all` does not require them.
    pub optional: bool,
}

impl Exercise {
    /// Whether the test called `name` (as libtest prints it) grades this exercise: the same
    /// substring match as libtest's filters, so this is exactly what [`Exercise::command`] runs.
    pub fn grades(&self, name: &str) -> bool {
        self.tests.iter().any(|filter| name.contains(filter))
    }

    /// Its title in `lang`.
    pub fn title(&self, lang: Lang) -> &'static str {
        text_in(lang, &format!("ex.{}.title", self.id))
    }

    /// The book page and section, as a path under the book: `ch01-addresses.html#exercise-11`.
    pub fn book_link(&self, lang: Lang) -> String {
        let page = chapter(self.chapter).map(|c| c.page).unwrap_or("");
        let anchor = match lang {
            Lang::En => self.anchor_en,
            Lang::Ja => self.anchor_ja,
        };
        format!(
            "{}#{anchor}",
            page.trim_end_matches(".md").to_string() + ".html"
        )
    }

    /// Hint `step` (1: the idea, 2: the API to look at, 3: the book section) in `lang`.
    pub fn hint(&self, lang: Lang, step: usize) -> String {
        match step {
            1 => text_in(lang, &format!("ex.{}.idea", self.id)).to_string(),
            2 => text_in(lang, &format!("ex.{}.api", self.id)).to_string(),
            _ => {
                let page = chapter(self.chapter).map(|c| c.page).unwrap_or("");
                fill_in(
                    lang,
                    "hint.book",
                    &[
                        ("file", &format!("book/{}/src/{page}", lang.code())),
                        ("link", &self.book_link(lang)),
                        ("lang", &lang.code()),
                    ],
                )
            }
        }
    }

    /// How many hint steps there are.
    pub const HINT_STEPS: usize = 3;

    /// The command that grades it, one line a shell accepts: `cargo test --test ch01_addresses
    /// port_range::`, or with several filters after `--` (cargo takes only one test name
    /// before it): `cargo test --test ch01_addresses -- ephemeral_port:: addr_info::`.
    pub fn command(&self) -> String {
        let features = chapter_features(self.chapter)
            .map(|f| format!(" --features {f}"))
            .unwrap_or_default();
        match self.tests {
            [filter] => format!("cargo test{features} --test {} {filter}", self.chapter),
            filters => format!(
                "cargo test{features} --test {} -- {}",
                self.chapter,
                filters.join(" ")
            ),
        }
    }
}

/// Cargo features a chapter's tests need: chapter 10's exercises are crates of their own
/// (rustls, quinn), built only with the root package's feature `ch10`, so that chapters 1-9
/// never compile them. Its commands read `cargo test --features ch10 --test ch10_tls ...`.
pub const CHAPTER_FEATURES: &[(&str, &str)] = &[("ch10_tls", "ch10")];

/// The feature chapter `id`'s tests need, if any (see [`CHAPTER_FEATURES`]).
pub fn chapter_features(id: &str) -> Option<&'static str> {
    CHAPTER_FEATURES
        .iter()
        .find(|(chapter, _)| *chapter == id)
        .map(|(_, feature)| *feature)
}

/// The chapters, in book order.
pub const CHAPTERS: &[Chapter] = &[
    Chapter {
        id: "ch01_addresses",
        number: 1,
        page: "ch01-addresses.md",
    },
    Chapter {
        id: "ch02_udp",
        number: 2,
        page: "ch02-udp.md",
    },
    Chapter {
        id: "ch03_tcp",
        number: 3,
        page: "ch03-tcp.md",
    },
    // Chapter 3's whole program (the echo server from bind to Ctrl-C) has a test file of its
    // own.
    Chapter {
        id: "ch03_server",
        number: 3,
        page: "ch03-tcp.md",
    },
    Chapter {
        id: "ch04_many_clients",
        number: 4,
        page: "ch04-many-clients.md",
    },
    Chapter {
        id: "ch05_udp_vs_tcp",
        number: 5,
        page: "ch05-udp-vs-tcp.md",
    },
    Chapter {
        id: "ch06_reliability",
        number: 6,
        page: "ch06-reliability.md",
    },
    // Chapter 6's second part, the sliding window, has a test file of its own.
    Chapter {
        id: "ch06_window",
        number: 6,
        page: "ch06-reliability.md",
    },
    Chapter {
        id: "ch07_security",
        number: 7,
        page: "ch07-security.md",
    },
    Chapter {
        id: "ch08_chat",
        number: 8,
        page: "ch08-chat.md",
    },
    Chapter {
        id: "ch09_multicast",
        number: 9,
        page: "ch09-multicast.md",
    },
    Chapter {
        id: "ch10_tls",
        number: 10,
        page: "ch10-tls.md",
    },
];

/// The exercises, in the order a learner does them.
pub const EXERCISES: &[Exercise] = &[
    Exercise {
        id: "1.1",
        chapter: "ch01_addresses",
        file: "exercises/src/ch01_addresses/port_range.rs",
        anchor_en: "exercise-11-which-range",
        anchor_ja: "演習-11-どの範囲",
        tests: &["port_range::"],
        optional: false,
    },
    Exercise {
        id: "1.2a",
        chapter: "ch01_addresses",
        file: "exercises/src/ch01_addresses/parse_addr.rs",
        anchor_en: "step-12a-split-off-the-port",
        anchor_ja: "段階-12a-ポートを切り離す",
        tests: &["split_host_port::"],
        optional: false,
    },
    Exercise {
        id: "1.2b",
        chapter: "ch01_addresses",
        file: "exercises/src/ch01_addresses/parse_addr.rs",
        anchor_en: "step-12b-the-port-number",
        anchor_ja: "段階-12b-ポート番号",
        tests: &["parse_port::"],
        optional: false,
    },
    Exercise {
        id: "1.2c",
        chapter: "ch01_addresses",
        file: "exercises/src/ch01_addresses/parse_addr.rs",
        anchor_en: "step-12c-the-host",
        anchor_ja: "段階-12c-ホスト",
        tests: &["parse_host::"],
        optional: false,
    },
    Exercise {
        id: "1.2d",
        chapter: "ch01_addresses",
        file: "exercises/src/ch01_addresses/parse_addr.rs",
        anchor_en: "step-12d-all-together",
        anchor_ja: "段階-12d-まとめる",
        tests: &["parse_addr::"],
        optional: false,
    },
    Exercise {
        id: "1.3",
        chapter: "ch01_addresses",
        file: "exercises/src/ch01_addresses/ephemeral_port.rs",
        anchor_en: "exercise-13-let-the-os-choose",
        anchor_ja: "演習-13-os-に選んでもらう",
        tests: &["ephemeral_port::", "addr_info::"],
        optional: false,
    },
    Exercise {
        id: "2.1",
        chapter: "ch02_udp",
        file: "exercises/src/ch02_udp/recv_one.rs",
        anchor_en: "exercise-21-receive-one-datagram",
        anchor_ja: "演習-21-データグラムを1つ受信する",
        tests: &["recv_one::"],
        optional: false,
    },
    Exercise {
        id: "2.2",
        chapter: "ch02_udp",
        file: "exercises/src/ch02_udp/limits.rs",
        anchor_en: "exercise-22-refuse-what-is-too-large",
        anchor_ja: "演習-22-大きすぎるものは断る",
        tests: &["limits::"],
        optional: false,
    },
    Exercise {
        id: "2.3",
        chapter: "ch02_udp",
        file: "exercises/src/ch02_udp/reply_server.rs",
        anchor_en: "exercise-23-the-reply-server",
        anchor_ja: "演習-23-返事をするサーバー",
        tests: &["reply_server::"],
        optional: false,
    },
    Exercise {
        id: "2.4",
        chapter: "ch02_udp",
        file: "exercises/src/ch02_udp/client.rs",
        anchor_en: "exercise-24-request-with-a-timeout",
        anchor_ja: "演習-24-タイムアウト付きのリクエスト",
        tests: &["request::"],
        optional: false,
    },
    Exercise {
        id: "2.5a",
        chapter: "ch02_udp",
        file: "exercises/src/ch02_udp/program.rs",
        anchor_en: "step-25a-the-server",
        anchor_ja: "段階-25a-サーバー",
        tests: &["run_server::"],
        optional: false,
    },
    Exercise {
        id: "2.5b",
        chapter: "ch02_udp",
        file: "exercises/src/ch02_udp/program.rs",
        anchor_en: "step-25b-the-client",
        anchor_ja: "段階-25b-クライアント",
        tests: &["run_client::", "programs::"],
        optional: false,
    },
    Exercise {
        id: "3.1",
        chapter: "ch03_tcp",
        file: "exercises/src/ch03_tcp/echo.rs",
        anchor_en: "exercise-31-echo-one-client-at-a-time",
        anchor_ja: "演習-31-一度に1つのクライアントとエコーする",
        tests: &["echo::"],
        optional: false,
    },
    Exercise {
        id: "3.2a",
        chapter: "ch03_tcp",
        file: "exercises/src/ch03_tcp/client.rs",
        anchor_en: "step-32a-the-printing-side",
        anchor_ja: "段階-32a-表示する側",
        tests: &["copy_until_eof::"],
        optional: false,
    },
    Exercise {
        id: "3.2b",
        chapter: "ch03_tcp",
        file: "exercises/src/ch03_tcp/client.rs",
        anchor_en: "step-32b-the-sending-side",
        anchor_ja: "段階-32b-送る側",
        tests: &["send_lines::"],
        optional: false,
    },
    Exercise {
        id: "3.2c",
        chapter: "ch03_tcp",
        file: "exercises/src/ch03_tcp/client.rs",
        anchor_en: "step-32c-both-at-once",
        anchor_ja: "段階-32c-両方を同時に",
        tests: &["client::"],
        optional: false,
    },
    Exercise {
        id: "3.3",
        chapter: "ch03_tcp",
        file: "exercises/src/ch03_tcp/lines.rs",
        anchor_en: "exercise-33-linereader",
        anchor_ja: "演習-33-linereader",
        tests: &["line_reader::", "programs::"],
        optional: false,
    },
    Exercise {
        id: "3.4a",
        chapter: "ch03_server",
        file: "exercises/src/ch03_tcp/server.rs",
        anchor_en: "step-34a-the-whole-server",
        anchor_ja: "段階-34a-サーバー全体",
        tests: &["run_echo_server::"],
        optional: false,
    },
    Exercise {
        id: "3.4b",
        chapter: "ch03_server",
        file: "exercises/src/ch03_tcp/server.rs",
        anchor_en: "step-34b-stopping-on-ctrl-c",
        anchor_ja: "段階-34b-ctrl-c-で止める",
        tests: &["ctrl_c::"],
        optional: false,
    },
    Exercise {
        id: "4.1",
        chapter: "ch04_many_clients",
        file: "exercises/src/ch04_many_clients/thread_server.rs",
        anchor_en: "exercise-41-a-thread-per-client-from-bind-to-shutdown",
        anchor_ja: "演習-41-クライアントごとにスレッドbind-から終了まで",
        tests: &["thread_server::"],
        optional: false,
    },
    Exercise {
        id: "4.2",
        chapter: "ch04_many_clients",
        file: "exercises/src/ch04_many_clients/threads.rs",
        anchor_en: "exercise-42-go-further-threads-with-limits",
        anchor_ja: "演習-42発展-上限のあるスレッド",
        tests: &["threads::"],
        optional: true,
    },
    Exercise {
        id: "4.3",
        chapter: "ch04_many_clients",
        file: "exercises/src/ch04_many_clients/connection.rs",
        anchor_en: "exercise-43-a-connection-that-never-blocks",
        anchor_ja: "演習-43-決してブロックしないコネクション",
        tests: &["connection::"],
        optional: true,
    },
    Exercise {
        id: "4.4",
        chapter: "ch04_many_clients",
        file: "exercises/src/ch04_many_clients/events.rs",
        anchor_en: "exercise-44-accept-everything-that-waits",
        anchor_ja: "演習-44-待っているものを全部受け付ける",
        tests: &["accepting::"],
        optional: true,
    },
    Exercise {
        id: "4.5",
        chapter: "ch04_many_clients",
        file: "exercises/src/ch04_many_clients/events.rs",
        anchor_en: "exercise-45-the-loop",
        anchor_ja: "演習-45-ループ",
        tests: &["events::"],
        optional: true,
    },
    Exercise {
        id: "4.6",
        chapter: "ch04_many_clients",
        file: "exercises/src/ch04_many_clients/tasks.rs",
        anchor_en: "exercise-46-a-task-per-connection",
        anchor_ja: "演習-46-コネクションごとにタスク",
        tests: &["tasks::", "program::"],
        optional: true,
    },
    Exercise {
        id: "5.1",
        chapter: "ch05_udp_vs_tcp",
        file: "exercises/src/ch05_udp_vs_tcp/stats.rs",
        anchor_en: "exercise-51-statistics-of-a-sample",
        anchor_ja: "演習-51-測った値をまとめる",
        tests: &["stats::"],
        optional: false,
    },
    Exercise {
        id: "5.2",
        chapter: "ch05_udp_vs_tcp",
        file: "exercises/src/ch05_udp_vs_tcp/udp_trips.rs",
        anchor_en: "exercise-52-udp-round-trips-and-the-ones-that-never-come-back",
        anchor_ja: "演習-52-udp-の往復と戻ってこないリクエスト",
        tests: &["udp::"],
        optional: false,
    },
    Exercise {
        id: "5.3",
        chapter: "ch05_udp_vs_tcp",
        file: "exercises/src/ch05_udp_vs_tcp/tcp_trips.rs",
        anchor_en: "exercise-53-tcp-round-trips",
        anchor_ja: "演習-53-tcp-の往復",
        tests: &["tcp::", "program::"],
        optional: false,
    },
    Exercise {
        id: "6.1",
        chapter: "ch06_reliability",
        file: "exercises/src/ch06_reliability/header.rs",
        anchor_en: "exercise-61-the-header",
        anchor_ja: "演習-61-ヘッダー",
        tests: &["header::"],
        optional: false,
    },
    Exercise {
        id: "6.2",
        chapter: "ch06_reliability",
        file: "exercises/src/ch06_reliability/receiver.rs",
        anchor_en: "exercise-62-the-receiver",
        anchor_ja: "演習-62-受信側",
        tests: &["receiver::"],
        optional: false,
    },
    Exercise {
        id: "6.3a",
        chapter: "ch06_reliability",
        file: "exercises/src/ch06_reliability/sender.rs",
        anchor_en: "step-63a-wait-for-the-ack",
        anchor_ja: "段階-63a-ack-を待つ",
        tests: &["wait_for_ack::"],
        optional: false,
    },
    Exercise {
        id: "6.3b",
        chapter: "ch06_reliability",
        file: "exercises/src/ch06_reliability/sender.rs",
        anchor_en: "step-63b-one-message-until-acknowledged",
        anchor_ja: "段階-63b-1つのメッセージを確認応答が来るまで",
        tests: &["send_one::"],
        optional: false,
    },
    Exercise {
        id: "6.3c",
        chapter: "ch06_reliability",
        file: "exercises/src/ch06_reliability/sender.rs",
        anchor_en: "step-63c-the-whole-transfer",
        anchor_ja: "段階-63c-転送の全体",
        tests: &["sender::"],
        optional: false,
    },
    Exercise {
        id: "6.4",
        chapter: "ch06_reliability",
        file: "exercises/src/ch06_reliability/rto.rs",
        anchor_en: "exercise-64-a-timeout-that-learns",
        anchor_ja: "演習-64-学習するタイムアウト",
        tests: &["rto::", "soak::", "programs::"],
        optional: false,
    },
    Exercise {
        id: "6.5",
        chapter: "ch06_window",
        file: "exercises/src/ch06_reliability/window_send.rs",
        anchor_en: "exercise-65-the-send-window",
        anchor_ja: "演習-65-送信ウィンドウ",
        tests: &["send_window::"],
        optional: false,
    },
    Exercise {
        id: "6.6",
        chapter: "ch06_window",
        file: "exercises/src/ch06_reliability/window_recv.rs",
        anchor_en: "exercise-66-the-receive-window",
        anchor_ja: "演習-66-受信ウィンドウ",
        tests: &["recv_window::"],
        optional: false,
    },
    Exercise {
        id: "6.7",
        chapter: "ch06_window",
        file: "exercises/src/ch06_reliability/window_sender.rs",
        anchor_en: "exercise-67-the-senders-loop",
        anchor_ja: "演習-67-送信側のループ",
        tests: &["sender::", "soak::", "versions::", "programs::"],
        optional: false,
    },
    Exercise {
        id: "6.8",
        chapter: "ch06_window",
        file: "exercises/src/ch06_reliability/window_loss.rs",
        anchor_en: "exercise-68-losses-the-receiver-reports",
        anchor_ja: "演習-68-受信側が知らせる損失",
        tests: &["loss::"],
        optional: false,
    },
    Exercise {
        id: "7.1",
        chapter: "ch07_security",
        file: "exercises/src/ch07_security/token.rs",
        anchor_en: "exercise-71-seal-and-open",
        anchor_ja: "演習-71-封をして開ける",
        tests: &["token::"],
        optional: false,
    },
    Exercise {
        id: "7.2",
        chapter: "ch07_security",
        file: "exercises/src/ch07_security/guard.rs",
        anchor_en: "exercises-72-to-74-the-guard",
        anchor_ja: "演習-7274-ガード",
        tests: &["guard_opens::"],
        optional: false,
    },
    Exercise {
        id: "7.3",
        chapter: "ch07_security",
        file: "exercises/src/ch07_security/guard.rs",
        anchor_en: "exercises-72-to-74-the-guard",
        anchor_ja: "演習-7274-ガード",
        tests: &["guard_replays::"],
        optional: false,
    },
    Exercise {
        id: "7.4",
        chapter: "ch07_security",
        file: "exercises/src/ch07_security/guard.rs",
        anchor_en: "exercises-72-to-74-the-guard",
        anchor_ja: "演習-7274-ガード",
        tests: &["guard_allowlist::", "programs::"],
        optional: false,
    },
    Exercise {
        id: "7.5",
        chapter: "ch07_security",
        file: "exercises/src/ch07_security/sealed.rs",
        anchor_en: "exercise-75-seal-one-datagram",
        anchor_ja: "演習-75-データグラムに封をする",
        tests: &["sealed::"],
        optional: false,
    },
    Exercise {
        id: "8.1",
        chapter: "ch08_chat",
        file: "exercises/src/ch08_chat/payload.rs",
        anchor_en: "exercise-81-encode-and-parse",
        anchor_ja: "演習-81-エンコードと解析",
        tests: &["payload::"],
        optional: false,
    },
    Exercise {
        id: "8.2",
        chapter: "ch08_chat",
        file: "exercises/src/ch08_chat/server.rs",
        anchor_en: "exercise-82-the-relay",
        anchor_ja: "演習-82-リレー中継",
        tests: &["relay::", "server::"],
        optional: false,
    },
    Exercise {
        id: "8.3a",
        chapter: "ch08_chat",
        file: "exercises/src/ch08_chat/client.rs",
        anchor_en: "step-83a-the-listening-side",
        anchor_ja: "段階-83a-聞く側",
        tests: &["receive::"],
        optional: false,
    },
    Exercise {
        id: "8.3b",
        chapter: "ch08_chat",
        file: "exercises/src/ch08_chat/client.rs",
        anchor_en: "step-83b-the-keyboard-side",
        anchor_ja: "段階-83b-キーボードの側",
        tests: &["client::"],
        optional: false,
    },
    Exercise {
        id: "8.4",
        chapter: "ch08_chat",
        file: "exercises/src/ch08_chat/server.rs",
        anchor_en: "exercise-84-forgetting-the-silent",
        anchor_ja: "演習-84-黙ったままのメンバーを忘れる",
        tests: &["presence::", "programs::"],
        optional: false,
    },
    Exercise {
        id: "9.1",
        chapter: "ch09_multicast",
        file: "exercises/src/ch09_multicast/sender.rs",
        anchor_en: "exercise-91-the-sender",
        anchor_ja: "演習-91-送信側",
        tests: &["sender_socket::"],
        optional: false,
    },
    Exercise {
        id: "9.2",
        chapter: "ch09_multicast",
        file: "exercises/src/ch09_multicast/receiver.rs",
        anchor_en: "exercise-92-the-receiver",
        anchor_ja: "演習-92-受信側",
        tests: &["receiver_socket::"],
        optional: false,
    },
    Exercise {
        id: "9.3",
        chapter: "ch09_multicast",
        file: "exercises/src/ch09_multicast/receive.rs",
        anchor_en: "exercise-93-the-receive-loop",
        anchor_ja: "演習-93-受信ループ",
        tests: &["receive_loop::", "programs::"],
        optional: false,
    },
    Exercise {
        id: "10.1",
        chapter: "ch10_tls",
        file: "exercises/src/ch10_tls/client.rs",
        anchor_en: "exercise-101-a-tls-client",
        anchor_ja: "演習-101-tls-クライアント",
        tests: &["tls_client::"],
        optional: false,
    },
    Exercise {
        id: "10.2",
        chapter: "ch10_tls",
        file: "exercises/src/ch10_tls/server.rs",
        anchor_en: "exercise-102-a-tls-server-that-echoes",
        anchor_ja: "演習-102-エコーする-tls-サーバー",
        tests: &["tls_server::"],
        optional: false,
    },
    Exercise {
        id: "10.3",
        chapter: "ch10_tls",
        file: "exercises/src/ch10_tls/refusals.rs",
        anchor_en: "exercise-103-what-tls-refuses",
        anchor_ja: "演習-103-tls-が断るもの",
        tests: &["refused::"],
        optional: false,
    },
    Exercise {
        id: "10.4",
        chapter: "ch10_tls",
        file: "exercises/src/ch10_tls/quic.rs",
        anchor_en: "exercise-104-a-quic-echo-many-streams-at-once",
        anchor_ja: "演習-104-quic-のエコーたくさんのストリームを同時に",
        tests: &["quic_echo::"],
        optional: false,
    },
    Exercise {
        id: "10.5",
        chapter: "ch10_tls",
        file: "exercises/src/ch10_tls/migrate.rs",
        anchor_en: "exercise-105-go-further-connection-migration",
        anchor_ja: "演習-105発展-コネクションマイグレーション",
        tests: &["migration::"],
        optional: true,
    },
];

/// The chapter called `id`.
pub fn chapter(id: &str) -> Option<&'static Chapter> {
    CHAPTERS.iter().find(|c| c.id == id)
}

/// The exercise called `id` (`1.2a`; `1.2A` and a leading `ex` are accepted too; `1.2`
/// names the first step of an exercise in steps).
pub fn exercise(id: &str) -> Option<&'static Exercise> {
    let id = id.trim().trim_start_matches("ex").trim_start_matches('.');
    EXERCISES
        .iter()
        .find(|e| e.id.eq_ignore_ascii_case(id))
        // `1.2` for an exercise in steps: its first step, `1.2a`.
        .or_else(|| {
            EXERCISES
                .iter()
                .find(|e| e.id.len() == id.len() + 1 && e.id.starts_with(id))
        })
}

/// The exercises of chapter `id`, in order.
pub fn of_chapter(id: &str) -> impl Iterator<Item = &'static Exercise> + '_ {
    EXERCISES.iter().filter(move |e| e.chapter == id)
}

/// A heading's id as mdBook 0.5 makes it: alphanumerics lowercased, `_` and `-` kept,
/// whitespace as `-`, everything else dropped (code spans count by their text).
pub fn heading_id(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c.to_lowercase().next().unwrap_or(c))
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}
