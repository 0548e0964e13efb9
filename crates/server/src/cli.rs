//! The command line. Every flag of `serve` can also be given as `FERROKMS_<NAME>`; the root key
//! itself only as the FERROKMS_ROOT_KEY variable (a secret on a command line shows in `ps`).

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "ferrokms",
    version,
    about = "A self-hosted key management service that speaks the AWS KMS API"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Manage principals (users) and their access keys.
    #[command(subcommand)]
    Principal(PrincipalCommand),
    /// Manage roles, which callers assume through STS AssumeRole for temporary credentials.
    #[command(subcommand)]
    Role(RoleCommand),
    /// Verify and search the audit trail (DATA_DIR/audit).
    #[command(subcommand)]
    Audit(AuditCommand),
}

/// The audit trail commands. They read the files only, so they work while the server runs.
#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Prove the trail intact: every record chained to the one before, every closed file signed.
    /// Names exactly which file and record were altered, removed or reordered; exits 1 if any.
    Verify(AuditVerifyArgs),
    /// Print the events that match every filter given, oldest first, one JSON object a line.
    Query(AuditQueryArgs),
}

#[derive(Args, Debug)]
pub struct AuditVerifyArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Start at the file holding events of this time (RFC 3339, or YYYY-MM-DD for midnight UTC).
    #[arg(long, value_parser = instant)]
    pub from: Option<std::time::SystemTime>,
    /// Verify against this public key (PEM) instead of the one of the data dir's signing key
    /// (which needs the root key). Use a copy kept apart from the server.
    #[arg(long)]
    pub public_key: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct AuditQueryArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// A key id or key ARN (or an alias, as the request named it).
    #[arg(long)]
    pub key_id: Option<String>,
    /// The caller's ARN.
    #[arg(long)]
    pub principal: Option<String>,
    /// The operation, e.g. Decrypt.
    #[arg(long)]
    pub event: Option<String>,
    /// Only events at or after this time (RFC 3339, or YYYY-MM-DD).
    #[arg(long, value_parser = instant)]
    pub since: Option<std::time::SystemTime>,
}

/// RFC 3339 (`2026-01-02T03:04:05Z`) or a date (`2026-01-02`, midnight UTC).
fn instant(text: &str) -> Result<std::time::SystemTime, String> {
    use time::format_description::well_known::Rfc3339;
    let parsed = time::OffsetDateTime::parse(text, &Rfc3339)
        .or_else(|_| time::OffsetDateTime::parse(&format!("{text}T00:00:00Z"), &Rfc3339));
    parsed
        .map(std::time::SystemTime::from)
        .map_err(|_| "expected RFC 3339 (2026-01-02T03:04:05Z) or a date (2026-01-02)".into())
}

/// Where the data lives and how it is unlocked; shared by every command.
#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    /// Data directory: the store, root.key and the credentials file.
    #[arg(long, env = "FERROKMS_DATA_DIR", default_value = "./ferrokms-data")]
    pub data_dir: PathBuf,
    /// File holding the root key (base64 of 32 bytes). Default: DATA_DIR/root.key, created on
    /// first start. FERROKMS_ROOT_KEY (the key itself) takes precedence.
    #[arg(long, env = "FERROKMS_ROOT_KEY_FILE")]
    pub root_key_file: Option<PathBuf>,
    /// Where keys and identities live: a PostgreSQL URL (postgres://USER:PASSWORD@HOST/DB) shared
    /// by the nodes of a cluster. Default: the SQLite file DATA_DIR/ferrokms.db.
    #[arg(long, env = "FERROKMS_STORE", hide_env_values = true)]
    pub store: Option<String>,
}

impl StoreArgs {
    /// Where the root key comes from: FERROKMS_ROOT_KEY (the key itself) first, then the file.
    pub fn root_key_source(&self) -> crate::data_dir::RootKeySource {
        crate::data_dir::RootKeySource {
            inline: std::env::var("FERROKMS_ROOT_KEY").ok(),
            file: self.root_key_file.clone(),
        }
    }
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "FERROKMS_LISTEN", default_value = "127.0.0.1:4599")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub store: StoreArgs,
    /// The AWS account id of the administrator created on first start.
    #[arg(long, env = "FERROKMS_ACCOUNT_ID", default_value = "111122223333", value_parser = account_id)]
    pub account_id: String,
    /// PEM certificate chain; serve HTTPS with it (needs --tls-key).
    #[arg(long, env = "FERROKMS_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of the certificate.
    #[arg(long, env = "FERROKMS_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Seconds a client has to send a request's whole head (after connecting or after the
    /// previous answer) and to finish a TLS handshake; then the connection is closed.
    #[arg(long, env = "FERROKMS_HEADER_READ_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_read_timeout: u64,
    /// Seconds a connection may stay open with nothing sent either way and no request in
    /// flight; then it is closed.
    #[arg(long, env = "FERROKMS_IDLE_TIMEOUT", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub idle_timeout: u64,
    /// Connections served at once; a connection past them is answered 503 and closed (over TLS,
    /// closed). Lowered to fit the open-file limit if that is smaller.
    #[arg(long, env = "FERROKMS_MAX_CONNECTIONS", default_value_t = 4096, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: u64,
    /// The Regions requests may be signed for, comma-separated (default: AWS's public Regions of
    /// the aws, aws-cn and aws-us-gov partitions). Others are refused as AWS refuses them.
    #[arg(long, env = "FERROKMS_REGIONS", value_delimiter = ',', value_parser = region)]
    pub regions: Vec<String>,
    /// Request quotas, comma-separated or repeated: NAME=RATE sets a quota's rate in requests per
    /// second (NAME=off lifts it), `off` turns quotas off. Default: AWS's quotas. NAME is an
    /// operation with a quota of its own (CreateKey, DescribeKey...), or a shared quota: symmetric,
    /// rsa, ecc, ml-dsa, ml-kem, GenerateDataKeyPair/<KeyPairSpec>. Each node applies them on its own.
    #[arg(
        long = "quota",
        env = "FERROKMS_QUOTAS",
        value_delimiter = ',',
        value_name = "NAME=RATE|off"
    )]
    pub quotas: Vec<String>,
    /// An HSM cluster custom key stores may use (repeatable; in the environment, separated by
    /// `;`): `id=cluster-<11 to 16 of a-z, A-Z, 2-7>,module=<PKCS#11 module .so>,token=<token
    /// label>,trust-anchor=<PEM certificate file>[,accounts=<account id>:<account id>...]`.
    /// CreateCustomKeyStore names the id and must present that certificate; KeyStorePassword is
    /// the token user's PIN. With `accounts=`, only those accounts see the cluster.
    #[arg(
        long = "hsm-cluster",
        env = "FERROKMS_HSM_CLUSTERS",
        value_delimiter = ';',
        value_name = "id=..,module=..,token=..,trust-anchor=..",
        value_parser = ferrokms_core::key_stores::HsmCluster::from_flag
    )]
    pub hsm_clusters: Vec<ferrokms_core::key_stores::HsmCluster>,
    /// Start even if the audit trail lost acknowledged records or its checkpoint (records cut
    /// from its end, files deleted). Refused otherwise; run `ferrokms audit verify` first to see
    /// what is gone. The trail then goes on from what is left and the loss is logged.
    #[arg(long, env = "FERROKMS_ACCEPT_AUDIT_TAIL_LOSS")]
    pub accept_audit_tail_loss: bool,
    /// Log format: text or json.
    #[arg(long, env = "FERROKMS_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
}

/// The principal commands, modelled on `aws iam` (users, access keys, inline user policies).
/// They work while the server runs; a running server sees each change within 250 ms.
#[derive(Subcommand, Debug)]
pub enum PrincipalCommand {
    /// Create a user with an access key; prints {"Arn","AccessKeyId","SecretAccessKey"} as JSON.
    Create(UserArgs),
    /// List the users of an account.
    List(AccountArgs),
    /// Delete a user with its access keys and policies.
    Delete(UserArgs),
    /// Add an access key to a user; prints it as JSON (the secret is shown only here).
    CreateAccessKey(UserArgs),
    /// List a user's access key ids.
    ListAccessKeys(UserArgs),
    /// Delete one of a user's access keys.
    DeleteAccessKey(AccessKeyArgs),
    /// Attach (or replace) an inline identity policy of a user.
    PutPolicy(PutPolicyArgs),
    /// Print an inline policy of a user.
    GetPolicy(PolicyArgs),
    /// List the names of a user's inline policies.
    ListPolicies(UserArgs),
    /// Delete an inline policy of a user.
    DeletePolicy(PolicyArgs),
}

/// The role commands, modelled on `aws iam` (roles, trust policies, inline role policies).
/// They work while the server runs; a running server sees each change within 250 ms.
#[derive(Subcommand, Debug)]
pub enum RoleCommand {
    /// Create a role with its trust policy; prints {"Role": {...}} as JSON.
    Create(CreateRoleArgs),
    /// List the roles of an account.
    List(AccountArgs),
    /// Delete a role with its policies; its sessions stop working within 250 ms.
    Delete(UserArgs),
    /// Replace a role's trust policy (who may assume it).
    UpdateAssumeRolePolicy(UpdateTrustArgs),
    /// Attach (or replace) an inline identity policy of a role.
    PutPolicy(PutPolicyArgs),
    /// Print an inline policy of a role.
    GetPolicy(PolicyArgs),
    /// List the names of a role's inline policies.
    ListPolicies(UserArgs),
    /// Delete an inline policy of a role.
    DeletePolicy(PolicyArgs),
}

#[derive(Args, Debug)]
pub struct CreateRoleArgs {
    #[command(flatten)]
    pub role: UserArgs,
    /// The trust policy: JSON text, or file://PATH as with the AWS CLI.
    #[arg(long)]
    pub assume_role_policy_document: String,
}

#[derive(Args, Debug)]
pub struct UpdateTrustArgs {
    #[command(flatten)]
    pub role: UserArgs,
    /// The trust policy: JSON text, or file://PATH as with the AWS CLI.
    #[arg(long)]
    pub policy_document: String,
}

#[derive(Args, Debug)]
pub struct AccountArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Account of the users.
    #[arg(long, env = "FERROKMS_ACCOUNT_ID", default_value = "111122223333", value_parser = account_id)]
    pub account_id: String,
}

#[derive(Args, Debug)]
pub struct UserArgs {
    #[command(flatten)]
    pub account: AccountArgs,
    /// Name of the user (arn:aws:iam::ACCOUNT:user/NAME) or role (arn:aws:iam::ACCOUNT:role/NAME).
    #[arg(long)]
    pub name: String,
}

#[derive(Args, Debug)]
pub struct AccessKeyArgs {
    #[command(flatten)]
    pub user: UserArgs,
    #[arg(long)]
    pub access_key_id: String,
}

#[derive(Args, Debug)]
pub struct PolicyArgs {
    #[command(flatten)]
    pub user: UserArgs,
    #[arg(long)]
    pub policy_name: String,
}

#[derive(Args, Debug)]
pub struct PutPolicyArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// The policy: JSON text, or file://PATH as with the AWS CLI.
    #[arg(long)]
    pub policy_document: String,
}

fn region(value: &str) -> Result<String, String> {
    let value = value.trim();
    if ferrokms_types::shapes::multi_region::is_region_name(value) {
        Ok(value.to_string())
    } else {
        Err(format!("not a Region name: {value:?} (e.g. us-east-1)"))
    }
}

fn account_id(text: &str) -> Result<String, String> {
    if ferrokms_types::ids::is_account_id(text) {
        Ok(text.to_string())
    } else {
        Err("an account id is 12 digits".into())
    }
}
