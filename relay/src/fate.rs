//! Fates: what the relay does with each datagram, and how it decides.
//!
//! Two sources, tried in order: a [`Script`] of exact rules ("drop the 1st datagram
//! client->server"), then [`Rates`] with a seed. With rates, a datagram's fate is a pure
//! function of (seed, direction, the datagram's bytes, how many times these same bytes have
//! passed in this direction before): see [`rates_fate`]. It does not depend on arrival times
//! or on other datagrams, so a retransmission gets a fate of its own, and one extra datagram
//! elsewhere (a timeout that fired once more) does not reshuffle the fates of the rest.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Which way a datagram travels through the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From a client to the server.
    ToServer,
    /// From the server back to a client.
    ToClient,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::ToServer => "client->server",
            Direction::ToClient => "server->client",
        })
    }
}

/// What happens to one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Passed on once.
    Forward,
    /// Never arrives.
    Drop,
    /// Arrives twice.
    Duplicate,
    /// Held back and released after the next datagram of the same flow and direction (or after
    /// [`HOLD_LIMIT`] if none comes), so it arrives late and out of order.
    Reorder,
}

/// How long a reordered datagram waits at most for a datagram to overtake it.
pub const HOLD_LIMIT: Duration = Duration::from_millis(200);

/// An action plus a delay before the datagram goes on (zero: at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fate {
    pub action: Action,
    pub delay: Duration,
}

impl Fate {
    /// Forward at once.
    pub const FORWARD: Fate = Fate {
        action: Action::Forward,
        delay: Duration::ZERO,
    };

    /// `action` at once.
    pub fn now(action: Action) -> Fate {
        Fate {
            action,
            delay: Duration::ZERO,
        }
    }
}

impl fmt::Display for Fate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.action {
            Action::Forward => "forward",
            Action::Drop => "drop",
            Action::Duplicate => "duplicate",
            Action::Reorder => "reorder",
        };
        if self.delay.is_zero() || self.action == Action::Drop {
            f.write_str(name)
        } else {
            write!(f, "{name}+{}ms", self.delay.as_millis())
        }
    }
}

/// Probabilities and a seed, for soak tests and for watching a protocol cope.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Rates {
    /// Probability that a datagram is dropped.
    pub loss: f64,
    /// Probability that it is duplicated.
    pub dup: f64,
    /// Probability that it is held back and reordered.
    pub reorder: f64,
    /// Delay added to every datagram that is not dropped (a slower link).
    pub delay: Duration,
    /// Different seeds, different (but each reproducible) fates.
    pub seed: u64,
}

impl Rates {
    /// Checks that the probabilities are each within 0..=1 and add up to at most 1.
    pub fn validate(&self) -> Result<(), String> {
        for (name, p) in [
            ("loss", self.loss),
            ("dup", self.dup),
            ("reorder", self.reorder),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("--{name} {p}: a probability goes from 0 to 1"));
            }
        }
        if self.loss + self.dup + self.reorder > 1.0 {
            return Err("--loss, --dup and --reorder add up to more than 1".into());
        }
        Ok(())
    }
}

/// The fate that `rates` give a datagram: a pure function of the seed, the direction, the
/// bytes and `occurrence` (0 the first time these bytes pass in this direction, 1 the next...).
pub fn rates_fate(rates: &Rates, direction: Direction, bytes: &[u8], occurrence: u32) -> Fate {
    let mut h = fnv1a(bytes);
    h = mix(h ^ rates.seed);
    h = mix(h ^ u64::from(occurrence));
    h = mix(h ^ direction as u64);
    // 53 random bits -> a uniform number in [0, 1).
    let u = (h >> 11) as f64 / (1u64 << 53) as f64;
    let action = if u < rates.loss {
        Action::Drop
    } else if u < rates.loss + rates.dup {
        Action::Duplicate
    } else if u < rates.loss + rates.dup + rates.reorder {
        Action::Reorder
    } else {
        Action::Forward
    };
    let delay = if action == Action::Drop {
        Duration::ZERO
    } else {
        rates.delay
    };
    Fate { action, delay }
}

/// FNV-1a: a simple hash that is the same on every machine and Rust version (std's
/// `DefaultHasher` promises neither).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// splitmix64's finaliser: spreads every input bit over the whole output.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Which datagrams a script rule applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Which {
    /// The n-th datagram in the rule's direction (counted from 1, over all clients).
    Nth(u32),
    /// The n-th occurrence (from 1) of datagrams whose bytes equal these.
    Bytes(Vec<u8>, u32),
}

/// One script rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub direction: Direction,
    pub which: Which,
    pub fate: Fate,
}

/// Exact fates for exact datagrams, for tests. Datagrams no rule names are forwarded (or get
/// their fate from the rates, when there are rates too).
///
/// As text, one rule per line, `#` starts a comment:
/// ```text
/// to-server 1 drop            # the 1st datagram from a client to the server
/// to-server 3 drop
/// to-client 2 duplicate       # the 2nd datagram back to a client
/// to-server "hello" drop      # the first datagram whose bytes are exactly "hello"
/// to-server "hello"@2 drop    # ... and the second one
/// to-client hex:00ff reorder  # bytes written in hex
/// to-server 4 delay 50        # held 50 ms
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Script {
    rules: Vec<Rule>,
}

impl Script {
    /// A script with no rules.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a rule.
    pub fn rule(mut self, direction: Direction, which: Which, fate: Fate) -> Self {
        self.rules.push(Rule {
            direction,
            which,
            fate,
        });
        self
    }

    /// Drops the `nth` datagram (from 1) in `direction`.
    pub fn drop_nth(self, direction: Direction, nth: u32) -> Self {
        self.rule(direction, Which::Nth(nth), Fate::now(Action::Drop))
    }

    /// Duplicates the `nth` datagram (from 1) in `direction`.
    pub fn duplicate_nth(self, direction: Direction, nth: u32) -> Self {
        self.rule(direction, Which::Nth(nth), Fate::now(Action::Duplicate))
    }

    /// Drops the `occurrence`-th (from 1) datagram in `direction` whose bytes equal `bytes`.
    pub fn drop_bytes(self, direction: Direction, bytes: &[u8], occurrence: u32) -> Self {
        self.rule(
            direction,
            Which::Bytes(bytes.to_vec(), occurrence),
            Fate::now(Action::Drop),
        )
    }

    /// The rules, in order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }
}

impl FromStr for Script {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let mut script = Script::new();
        for (index, line) in text.lines().enumerate() {
            let tokens = tokenize(line).map_err(|e| format!("line {}: {e}", index + 1))?;
            if tokens.is_empty() {
                continue;
            }
            let rule = parse_rule(&tokens).map_err(|e| format!("line {}: {e}", index + 1))?;
            script.rules.push(rule);
        }
        Ok(script)
    }
}

#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    Quoted(Vec<u8>),
}

/// Splits a script line into words and quoted byte strings, up to a `#` comment.
fn tokenize(line: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '#' {
            break;
        } else if c == '"' {
            chars.next();
            let mut bytes = Vec::new();
            loop {
                match chars.next() {
                    None => return Err("a quoted string is not closed".into()),
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some('n') => bytes.push(b'\n'),
                        Some('r') => bytes.push(b'\r'),
                        Some('t') => bytes.push(b'\t'),
                        Some('\\') => bytes.push(b'\\'),
                        Some('"') => bytes.push(b'"'),
                        Some('x') => {
                            let hex: String = chars.by_ref().take(2).collect();
                            let byte = u8::from_str_radix(&hex, 16)
                                .map_err(|_| format!("bad escape \\x{hex}"))?;
                            bytes.push(byte);
                        }
                        other => {
                            return Err(format!(
                                "unknown escape \\{}",
                                other.map_or(String::new(), String::from)
                            ));
                        }
                    },
                    Some(c) => bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
                }
            }
            // An `@N` right after the closing quote names the occurrence.
            if chars.peek() == Some(&'@') {
                chars.next();
                let digits: String =
                    std::iter::from_fn(|| chars.next_if(char::is_ascii_digit)).collect();
                tokens.push(Token::Quoted(bytes));
                tokens.push(Token::Word(format!("@{digits}")));
                continue;
            }
            tokens.push(Token::Quoted(bytes));
        } else {
            let word: String =
                std::iter::from_fn(|| chars.next_if(|c| !c.is_whitespace() && *c != '#')).collect();
            tokens.push(Token::Word(word));
        }
    }
    Ok(tokens)
}

fn parse_rule(tokens: &[Token]) -> Result<Rule, String> {
    let mut rest = tokens.iter().peekable();
    let direction = match rest.next() {
        Some(Token::Word(w)) if w == "to-server" => Direction::ToServer,
        Some(Token::Word(w)) if w == "to-client" => Direction::ToClient,
        _ => return Err("a rule starts with `to-server` or `to-client`".into()),
    };
    let which = match rest.next() {
        Some(Token::Word(w)) if w.starts_with("hex:") => {
            Which::Bytes(parse_hex(&w[4..])?, occurrence(&mut rest)?)
        }
        Some(Token::Quoted(bytes)) => Which::Bytes(bytes.clone(), occurrence(&mut rest)?),
        Some(Token::Word(w)) => match w.parse::<u32>() {
            Ok(n) if n >= 1 => Which::Nth(n),
            _ => {
                return Err(format!(
                    "`{w}`: name a datagram by its number (from 1), \"its bytes\" or hex:BYTES"
                ));
            }
        },
        None => return Err("which datagram? give a number, \"bytes\" or hex:BYTES".into()),
    };
    let fate = match rest.next() {
        Some(Token::Word(w)) => match w.as_str() {
            "forward" => Fate::FORWARD,
            "drop" => Fate::now(Action::Drop),
            "duplicate" => Fate::now(Action::Duplicate),
            "reorder" => Fate::now(Action::Reorder),
            "delay" => match rest.next() {
                Some(Token::Word(ms)) => {
                    let ms: u64 = ms
                        .parse()
                        .map_err(|_| format!("`delay {ms}`: milliseconds, a whole number"))?;
                    Fate {
                        action: Action::Forward,
                        delay: Duration::from_millis(ms),
                    }
                }
                _ => return Err("`delay` needs a number of milliseconds".into()),
            },
            other => {
                return Err(format!(
                    "`{other}`: the fate is forward, drop, duplicate, reorder or delay MS"
                ));
            }
        },
        _ => return Err("missing the fate: forward, drop, duplicate, reorder or delay MS".into()),
    };
    if rest.next().is_some() {
        return Err("unexpected text after the fate".into());
    }
    Ok(Rule {
        direction,
        which,
        fate,
    })
}

/// The occurrence named by an `@N` token, if one comes next (taking it); otherwise 1.
fn occurrence<'a, I: Iterator<Item = &'a Token>>(
    rest: &mut std::iter::Peekable<I>,
) -> Result<u32, String> {
    let Some(Token::Word(w)) = rest.next_if(|t| matches!(t, Token::Word(w) if w.starts_with('@')))
    else {
        return Ok(1);
    };
    match w[1..].parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("`{w}`: the occurrence is a number from 1")),
    }
}

fn parse_hex(hex: &str) -> Result<Vec<u8>, String> {
    if !hex.len().is_multiple_of(2) || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("hex:{hex}: an even number of hex digits"));
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|e| e.to_string()))
        .collect()
}

/// Decides fates as datagrams pass: the script first, then the rates, else forward.
#[derive(Debug, Clone)]
pub struct Fates {
    script: Script,
    rates: Option<Rates>,
    /// How many datagrams have passed in each direction (index: direction as usize).
    counts: [u32; 2],
    /// How many times each payload (by hash) has passed in each direction.
    seen: HashMap<(Direction, u64), u32>,
}

impl Fates {
    /// Fates from `script`, then `rates` (if any).
    pub fn new(script: Script, rates: Option<Rates>) -> Self {
        Fates {
            script,
            rates,
            counts: [0; 2],
            seen: HashMap::new(),
        }
    }

    /// The fate of the next datagram with these `bytes` in `direction`.
    pub fn decide(&mut self, direction: Direction, bytes: &[u8]) -> Fate {
        let count = &mut self.counts[direction as usize];
        *count += 1;
        let nth = *count;
        if self.rates.is_none() && self.script.rules().is_empty() {
            // Nothing to decide (a lossless relay): no need to count each payload either.
            return Fate::FORWARD;
        }
        let seen = self.seen.entry((direction, fnv1a(bytes))).or_insert(0);
        let occurrence = *seen;
        *seen += 1;

        for rule in self.script.rules() {
            let applies = rule.direction == direction
                && match &rule.which {
                    Which::Nth(n) => *n == nth,
                    Which::Bytes(b, n) => b == bytes && *n == occurrence + 1,
                };
            if applies {
                return rule.fate;
            }
        }
        match &self.rates {
            Some(rates) => rates_fate(rates, direction, bytes, occurrence),
            None => Fate::FORWARD,
        }
    }
}
