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
    /// Log format: text or json.
    #[arg(long, env = "FERROKMS_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
}

#[derive(Subcommand, Debug)]
pub enum PrincipalCommand {
    /// Create a user with an access key; prints {"Arn","AccessKeyId","SecretAccessKey"} as JSON.
    Create(PrincipalCreateArgs),
}

#[derive(Args, Debug)]
pub struct PrincipalCreateArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// User name (the ARN is arn:aws:iam::ACCOUNT:user/NAME).
    #[arg(long)]
    pub name: String,
    /// Account of the user.
    #[arg(long, env = "FERROKMS_ACCOUNT_ID", default_value = "111122223333", value_parser = account_id)]
    pub account_id: String,
}

fn account_id(text: &str) -> Result<String, String> {
    if ferrokms_types::ids::is_account_id(text) {
        Ok(text.to_string())
    } else {
        Err("an account id is 12 digits".into())
    }
}
