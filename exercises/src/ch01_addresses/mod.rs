//! Chapter 1: sockets, addresses and ports.
//!
//! Before any data moves, a program must say *where*: an IP address picks the
//! machine, a port number picks the socket on it. This chapter's exercises work with
//! those two numbers.
//! - [`port_range`]: the IANA range a port belongs to.
//! - [`parse_addr`]: `host:port` text to socket addresses, with errors that say what
//!   is wrong, in four steps: split, the port, the host, all together.
//! - [`ephemeral_port`]: bind to port 0 and find out which port the OS chose.

pub mod ephemeral_port;
pub mod parse_addr;
pub mod port_range;

pub use ephemeral_port::bind_ephemeral;
pub use parse_addr::{
    AddrError, parse_addr, parse_host, parse_port, split_host_port,
};
pub use port_range::{PortRange, classify_port};
