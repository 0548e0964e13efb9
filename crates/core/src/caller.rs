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
    /// For temporary credentials from STS AssumeRole: the role session behind them.
    pub session: Option<std::sync::Arc<RoleSession>>,
    /// For a user's long-term access key: the user's unique id (`AIDA…`).
    pub user_id: String,
}

impl Caller {
    /// The unique id STS and the audit trail show: `AIDA…` for a user, `AROA…:<session>` for a
    /// role session (derived from the ARN when the caller was made without one, as in tests).
    pub fn principal_id(&self) -> String {
        match &self.session {
            Some(s) => format!("{}:{}", s.role_id, s.session_name),
            None if !self.user_id.is_empty() => self.user_id.clone(),
            None => crate::iam::principals::derived_id("AIDA", &self.principal_arn),
        }
    }

    /// The ARN whose identity policies apply and that `aws:PrincipalArn` names: the role for a
    /// role session (`principal_arn` is then the session's `assumed-role` ARN), else the caller.
    pub fn identity_arn(&self) -> &str {
        match &self.session {
            Some(session) => &session.role_arn,
            None => &self.principal_arn,
        }
    }

    /// Whether `arn` (a grantee or retiring principal) names this caller: its own ARN, or for a
    /// role session the role's.
    pub fn is_named_by(&self, arn: &str) -> bool {
        arn == self.principal_arn || arn == self.identity_arn()
    }
}

/// A role session: who assumed which role, until when, limited by which session policy.
#[derive(Debug)]
pub struct RoleSession {
    /// `arn:aws:iam::<account>:role/<name>`.
    pub role_arn: String,
    /// The role's unique id (`AROA…`).
    pub role_id: String,
    pub session_name: String,
    /// When the temporary credentials stop working (epoch ms).
    pub expires_ms: i64,
    /// The inline session policy given to AssumeRole, if any: a request must be allowed by it as
    /// well as by the role's policies.
    pub policy: Option<ferrokms_policy::Policy>,
}

/// Where a connection came from, attached by the listener to every request it carries.
#[derive(Clone, Copy, Debug)]
pub struct Connection {
    pub peer: std::net::SocketAddr,
    pub tls: bool,
}
