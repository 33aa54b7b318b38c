//! Chapter 10's given code, the same on both sides: a certificate authority for
//! tests, made in code with rcgen.
//!
//! Real servers get their certificates from a certificate authority (CA) that
//! operating systems and browsers trust. On loopback we play every part ourselves:
//! [`TestCa::new`] makes a CA (a key pair and a self-signed certificate), and
//! [`TestCa::issue`] signs a server certificate for some names with it. A client that
//! trusts this CA's certificate, and nothing else, accepts exactly the servers it
//! issued for.
//!
//! Keys and certificates come out as PEM text (`-----BEGIN CERTIFICATE-----`), the
//! format files use, so tests and programs hand them around the same way.

pub use rcgen;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair,
    KeyUsagePurpose,
};

/// A certificate and its private key, as PEM text.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The certificate (public: the server sends it to every client).
    pub cert_pem: String,
    /// The private key (secret: it stays with the server).
    pub key_pem: String,
}

/// How long an issued certificate is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// From 1975 to 4096: valid today.
    Current,
    /// The year 2000 only: expired long ago.
    Expired,
}

/// A certificate authority for tests: its key never leaves this value.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
    key_pem: String,
}

impl TestCa {
    /// A new CA with a fresh key pair; `name` becomes its certificate's common name.
    pub fn new(name: &str) -> Result<TestCa, rcgen::Error> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate()?;
        let key_pem = key.serialize_pem();
        let issuer = CertifiedIssuer::self_signed(params, key)?;
        Ok(TestCa { issuer, key_pem })
    }

    /// The CA's certificate as PEM: what a client puts in its root store.
    pub fn cert_pem(&self) -> String {
        self.issuer.pem()
    }

    /// The CA's own key and certificate (`tls-cert` writes them, to issue more
    /// later).
    pub fn as_issued(&self) -> Issued {
        Issued {
            cert_pem: self.cert_pem(),
            key_pem: self.key_pem.clone(),
        }
    }

    /// A server certificate for `names` (DNS names like `localhost`, or IP addresses
    /// like `127.0.0.1`), signed by this CA, with a fresh key pair.
    pub fn issue(
        &self,
        names: &[&str],
        validity: Validity,
    ) -> Result<Issued, rcgen::Error> {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names.clone())?;
        if let Some(first) = names.first() {
            params.distinguished_name.push(DnType::CommonName, first);
        }
        if validity == Validity::Expired {
            params.not_before = rcgen::date_time_ymd(2000, 1, 1);
            params.not_after = rcgen::date_time_ymd(2000, 12, 31);
        }
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}
