//! Who is calling, as established by SigV4 authentication, and in which Region.

/// An authenticated caller. The Region comes from the SigV4 credential scope and selects which of
/// the account's keys the request sees.
#[derive(Clone, Debug, Default)]
pub struct Caller {
    pub principal_arn: String,
    pub account_id: String,
    pub access_key_id: String,
    pub region: String,
    /// The address the request came from (`aws:SourceIp`), when known.
    pub source_ip: Option<std::net::IpAddr>,
    /// Whether the request arrived over TLS (`aws:SecureTransport`).
    pub secure_transport: bool,
}

/// Where a connection came from, attached by the listener to every request it carries.
#[derive(Clone, Copy, Debug)]
pub struct Connection {
    pub peer: std::net::SocketAddr,
    pub tls: bool,
}
