//! The bridge between the given loop and a side's `Relay`, written once: both sides'
//! `ch08_chat/serve.rs` expand [`chat_relay_bridge!`] in their module.

/// Defines `run_server` and `run_server_with` and implements
/// [`ChatRelay`](crate::chat::ChatRelay) for the calling module's `Relay`, through that
/// module's `parse`, `display_line`, `Kind`, `Payload`, `ParseError`, `Now` and `Counters`
/// (which the caller brings into scope).
#[macro_export]
macro_rules! chat_relay_bridge {
    () => {
        /// Runs `relay` on `socket` with the default [`ServeOptions`] (cookies for every
        /// newcomer); see [`run_server_with`].
        pub fn run_server(
            socket: &::std::net::UdpSocket,
            relay: Relay,
            stop: &::std::sync::atomic::AtomicBool,
            show: impl FnMut(String),
        ) -> ::std::io::Result<Counters> {
            run_server_with(
                socket,
                relay,
                $crate::chat::ServeOptions::default(),
                stop,
                show,
            )
        }

        /// Runs `relay` on `socket` until `stop` is set or the socket fails, and returns what
        /// it counted: proves each newcomer's address with a cookie and tells it whether it is
        /// in, relays every datagram, reports each relayed message to `show` and each refused
        /// datagram on stderr, drops what a sender sends over its quota or the rate limit, and
        /// forgets silent members. (Given: it uses your `parse`, `on_datagram` and
        /// `forget_silent`.)
        pub fn run_server_with(
            socket: &::std::net::UdpSocket,
            mut relay: Relay,
            options: $crate::chat::ServeOptions,
            stop: &::std::sync::atomic::AtomicBool,
            show: impl FnMut(String),
        ) -> ::std::io::Result<Counters> {
            $crate::chat::serve(socket, &mut relay, options, stop, show)?;
            Ok(relay.counters)
        }

        impl $crate::chat::ChatRelay for Relay {
            fn read(
                &self,
                datagram: &[u8],
            ) -> Result<$crate::chat::Datagram, String> {
                match parse(datagram) {
                    Ok(Payload::Chat(m)) => Ok($crate::chat::Datagram::Chat {
                        kind: match m.kind {
                            Kind::Msg => $crate::chat::ChatKind::Msg,
                            Kind::Join => $crate::chat::ChatKind::Join,
                            Kind::Leave => $crate::chat::ChatKind::Leave,
                            Kind::Ping => $crate::chat::ChatKind::Ping,
                        },
                        name: m.name,
                    }),
                    Ok(Payload::Plain(_)) => Ok($crate::chat::Datagram::Plain),
                    Err(e) => Err(e.to_string()),
                }
            }

            fn show(
                &self,
                datagram: &[u8],
                from: ::std::net::SocketAddr,
            ) -> Option<String> {
                parse(datagram).ok().and_then(|p| display_line(&p, from))
            }

            fn admit(
                &mut self,
                from: ::std::net::SocketAddr,
                now: ::std::time::Instant,
            ) -> Result<(), bool> {
                Relay::admit(self, from, now)
            }

            fn is_member(&self, addr: ::std::net::SocketAddr) -> bool {
                Relay::is_member(self, addr)
            }

            fn members(&self) -> Vec<::std::net::SocketAddr> {
                Relay::members(self)
            }

            fn name_of(&self, addr: ::std::net::SocketAddr) -> Option<&str> {
                Relay::name_of(self, addr)
            }

            fn names_but(&self, addr: ::std::net::SocketAddr) -> Vec<&str> {
                Relay::names_but(self, addr).collect()
            }

            fn on_datagram(
                &mut self,
                from: ::std::net::SocketAddr,
                datagram: &[u8],
                instant: ::std::time::Instant,
                unix_ms: u64,
            ) -> Result<Vec<(::std::net::SocketAddr, Vec<u8>)>, $crate::chat::Refusal>
            {
                let now = Now { instant, unix_ms };
                Relay::on_datagram(self, from, datagram, now).map_err(|e| match e {
                    ParseError::ChatFull(max) => $crate::chat::Refusal::Full(max),
                    ParseError::NameTaken(name) => {
                        $crate::chat::Refusal::NameTaken(name)
                    }
                    other => $crate::chat::Refusal::Other(other.to_string()),
                })
            }

            fn forget_silent(
                &mut self,
                now: ::std::time::Instant,
            ) -> Vec<::std::net::SocketAddr> {
                Relay::forget_silent(self, now)
            }

            fn silence_limit(&self) -> ::std::time::Duration {
                self.silence_limit
            }

            fn count(&mut self, what: $crate::chat::Count) {
                let counters = &mut self.counters;
                match what {
                    $crate::chat::Count::Received => counters.received += 1,
                    $crate::chat::Count::Relayed => counters.relayed += 1,
                    $crate::chat::Count::Refused => counters.refused += 1,
                    $crate::chat::Count::Cookie => counters.cookies += 1,
                    $crate::chat::Count::RateLimited => counters.rate_limited += 1,
                    $crate::chat::Count::Busy(total) => counters.busy = total,
                }
            }

            fn rate_limited(&self) -> u64 {
                self.counters.rate_limited
            }
        }
    };
}
