//! Exercise 10.3: what TLS refuses.
//!
//! Scenario: a hand-made protocol that receives something wrong often carries on with
//! it. TLS stops instead, and says why: the certificate is for another name, or
//! signed by a CA nobody here trusts, or out of date; or a record failed its
//! integrity check because a byte changed on the way. Goal: [`refusal`] reads an
//! `io::Error` from a TLS connection and tells which of these it was. The tests
//! provoke each one for real (a server with the wrong certificate; a relay that flips
//! one bit) and check that the connection ended in that error, never in data.

use std::io;

use rustls::{AlertDescription, CertificateError};

/// Why a TLS connection was refused or broken off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The certificate is valid, but for another name than the one asked for.
    WrongName,
    /// The certificate is signed by a CA the client does not trust.
    UnknownIssuer,
    /// The certificate's validity period is over.
    Expired,
    /// A record failed its integrity check (this side found it, or the peer did and
    /// said so with a `bad_record_mac` alert): a byte changed on the way.
    Tampered,
    /// Anything else (a timeout, a refused connection, another TLS error).
    Other,
}

// ANCHOR: refusal
/// Which [`Refusal`] `error` is. rustls returns its own `rustls::Error` inside an
/// `io::Error` (kind `InvalidData`).
pub fn refusal(error: &io::Error) -> Refusal {
    // TODO: find the rustls::Error inside (error.get_ref(), then downcast_ref); match
    // InvalidCertificate(CertificateError::...) for the name, the issuer and the
    // dates, and DecryptError or AlertReceived(AlertDescription::BadRecordMac) for
    // tampering.
    todo!()
}
// ANCHOR_END: refusal
