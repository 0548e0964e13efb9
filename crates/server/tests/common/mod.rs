//! Shared harness of the integration tests: a real ferrokms server started in-process on an
//! ephemeral port in its own temp dir, aws-sdk-kms clients for its principals, and a tiny raw
//! HTTP/1.1 client whose requests are signed with the aws-sigv4 crate (for the protocol and
//! authentication cases the SDK would never send).
//!
//! Each test binary uses only part of this module.
#![allow(dead_code)]

use aws_sdk_kms::config::retry::RetryConfig;
use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::Client;
use ferrokms_server::server::{self, Running, ServerConfig};
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const ACCOUNT: &str = "111122223333";
pub const OTHER_ACCOUNT: &str = "444455556666";
pub const REGION: &str = "us-east-1";

/// An access key of a principal.
#[derive(Clone, Debug)]
pub struct Creds {
    pub arn: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// A server on an ephemeral port, its data dir and its administrator's credentials. (Fields drop
/// in order: the server stops before its data dir, and its database, go.)
pub struct TestServer {
    pub running: Running,
    pub dir: DataDir,
    pub admin: Creds,
}

/// A test's data dir in a fresh temp dir; when the suite runs on PostgreSQL, also the database
/// named after it (see [`postgres_store_for`]). Dropping it removes both, also when the test
/// fails, so that runs leave no databases behind on the test server.
pub struct DataDir {
    dir: tempfile::TempDir,
}

impl DataDir {
    pub fn new() -> DataDir {
        DataDir {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        // Not postgres_database_of: a misconfigured suite already failed when the database was
        // made, and a second panic while that test unwinds would abort the binary.
        let on_postgres = std::env::var("FERROKMS_TEST_BACKEND").is_ok_and(|b| b == "postgres");
        if let (true, Ok(server)) = (on_postgres, std::env::var("FERROKMS_TEST_POSTGRES_URL")) {
            let name = database_name(self.dir.path());
            ferrokms_store::conformance::databases::drop_database_blocking(&server, &name);
        }
    }
}

impl TestServer {
    /// A fresh server in a fresh temp dir.
    pub async fn start() -> TestServer {
        let dir = DataDir::new();
        let running = start_in(dir.path()).await;
        let path = running
            .new_credentials
            .clone()
            .expect("first start writes credentials");
        let admin = read_credentials_file(&path);
        TestServer {
            dir,
            running,
            admin,
        }
    }

    pub fn endpoint(&self) -> String {
        self.running.endpoint()
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        self.running.addr
    }

    /// The administrator's client in us-east-1.
    pub fn client(&self) -> Client {
        client(&self.endpoint(), &self.admin, REGION)
    }

    pub fn client_in(&self, region: &str) -> Client {
        client(&self.endpoint(), &self.admin, region)
    }

    /// A new principal `arn:aws:iam::<account>:user/<name>`, created while the server runs.
    pub async fn create_user(&self, account: &str, name: &str) -> Creds {
        create_user(&self.running, account, name).await
    }

    /// Stops the server and hands back its data dir (and database), e.g. to start it again.
    pub async fn shutdown(self) -> DataDir {
        self.running.shutdown().await;
        self.dir
    }
}

/// Starts a server on an ephemeral port over an existing data dir, with AWS's request quotas
/// raised a thousandfold: the suites create keys, aliases and import parameters far faster than
/// AWS's 5 (or 1) a second allow. tests/quotas.rs runs on the real ones.
///
/// With FERROKMS_TEST_BACKEND=postgres (and FERROKMS_TEST_POSTGRES_URL, as scripts/test.sh sets
/// them) the store is a PostgreSQL database of its own per data dir, so that the whole suite runs
/// on both backends and a restart over the same dir finds the same database.
pub async fn start_in(dir: &Path) -> Running {
    server::start(config_for(dir).await)
        .await
        .expect("server starts")
}

/// The configuration [`start_in`] starts with, for tests that change one thing in it.
pub async fn config_for(dir: &Path) -> ServerConfig {
    let mut cfg = ServerConfig::new(dir.to_path_buf());
    cfg.listen = "127.0.0.1:0".parse().expect("address");
    cfg.store = postgres_store_for(dir).await;
    cfg.quotas = ferrokms_core::quotas::QuotaConfig::aws_defaults().scaled(1000.0);
    cfg
}

/// The PostgreSQL database of a data dir when the suite runs on PostgreSQL (created if
/// missing, dropped with its [`DataDir`]); `None` for SQLite.
pub async fn postgres_store_for(dir: &Path) -> Option<String> {
    let (server, name) = postgres_database_of(dir)?;
    let url = ferrokms_store::conformance::databases::create_database(&server, &name, "")
        .await
        .expect("create the test database");
    Some(url)
}

/// The `--store` of a data dir's server, for admin commands run as the binary: the
/// FERROKMS_STORE value to set, when the suite runs on PostgreSQL.
pub fn store_env_for(dir: &Path) -> Option<String> {
    let (server, name) = postgres_database_of(dir)?;
    Some(ferrokms_store::conformance::databases::with_database(
        &server, &name,
    ))
}

/// (server URL, database name) of a data dir when the suite runs on PostgreSQL.
fn postgres_database_of(dir: &Path) -> Option<(String, String)> {
    if std::env::var("FERROKMS_TEST_BACKEND").ok()? != "postgres" {
        return None;
    }
    let server = std::env::var("FERROKMS_TEST_POSTGRES_URL")
        .expect("FERROKMS_TEST_BACKEND=postgres needs FERROKMS_TEST_POSTGRES_URL");
    Some((server, database_name(dir)))
}

/// The database of a data dir: named after its path, so that a restart finds it again.
fn database_name(dir: &Path) -> String {
    let digest = ferrokms_crypto::sha256(dir.to_string_lossy().as_bytes());
    format!("api_{}", hex::encode(&digest[..10]))
}

pub async fn create_user(running: &Running, account: &str, name: &str) -> Creds {
    let c = ferrokms_core::iam::principals::create_user(&running.kms, account, name)
        .await
        .expect("create_user");
    // A new user has no permissions, as at AWS: give test users every KMS action in their own
    // account's identity policies (key policies still decide across accounts).
    ferrokms_core::iam::identities::put_policy(
        &running.kms,
        ferrokms_core::iam::identities::PrincipalKind::User,
        account,
        name,
        "test-kms-all",
        ALL_KMS,
    )
    .await
    .expect("put_policy");
    Creds {
        arn: c.arn,
        access_key_id: c.access_key_id,
        secret_access_key: String::from_utf8(c.secret_access_key.expose().to_vec())
            .expect("secret is UTF-8"),
    }
}

/// A new user of `account` with an SDK client, and its ARN; `policy` becomes its one identity
/// policy (none: the user may do nothing that a key policy or grant does not allow).
pub async fn user_with_policy(
    server: &TestServer,
    account: &str,
    name: &str,
    policy: Option<&str>,
) -> (Client, String) {
    let kms = &server.running.kms;
    let made = ferrokms_core::iam::principals::create_user(kms, account, name)
        .await
        .expect("create_user");
    if let Some(policy) = policy {
        ferrokms_core::iam::identities::put_policy(
            kms,
            ferrokms_core::iam::identities::PrincipalKind::User,
            account,
            name,
            "p",
            policy,
        )
        .await
        .expect("put_policy");
    }
    let secret = String::from_utf8(made.secret_access_key.expose().to_vec()).expect("UTF-8");
    let arn = made.arn.clone();
    let creds = Creds {
        arn: made.arn,
        access_key_id: made.access_key_id,
        secret_access_key: secret,
    };
    (client(&server.endpoint(), &creds, REGION), arn)
}

/// An identity policy allowing every KMS action on every resource.
pub const ALL_KMS: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#;

/// Reads the `[default]` profile of an AWS shared-credentials file.
pub fn read_credentials_file(path: &PathBuf) -> Creds {
    let text = std::fs::read_to_string(path).expect("credentials file");
    let value = |name: &str| {
        text.lines()
            .filter_map(|l| l.split_once('='))
            .find(|(k, _)| k.trim() == name)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_else(|| panic!("{name} missing from {text}"))
    };
    let arn = text
        .lines()
        .find_map(|l| l.strip_prefix("# ferrokms administrator "))
        .unwrap_or_default()
        .trim()
        .to_string();
    Creds {
        arn,
        access_key_id: value("aws_access_key_id"),
        secret_access_key: value("aws_secret_access_key"),
    }
}

/// An aws-sdk-kms client for `creds` in `region`, without retries (every answer is the first).
pub fn client(endpoint: &str, creds: &Creds, region: &str) -> Client {
    let config = aws_sdk_kms::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .endpoint_url(endpoint)
        .retry_config(RetryConfig::disabled())
        .credentials_provider(Credentials::new(
            creds.access_key_id.clone(),
            creds.secret_access_key.clone(),
            None,
            None,
            "test",
        ))
        .build();
    Client::from_conf(config)
}

/// The exception name of a failed SDK call (`NotFoundException`, ...).
pub fn code<E: ProvideErrorMetadata>(err: &E) -> String {
    err.code().unwrap_or("<no code>").to_string()
}

/// Unwraps an SDK error, asserting the exception name, and returns its message.
#[track_caller]
pub fn expect_err<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, E>,
    expected: &str,
) -> String {
    match result {
        Ok(v) => panic!("expected {expected}, got success: {v:?}"),
        Err(e) => {
            assert_eq!(code(&e), expected, "wrong error: {e:?}");
            e.message().unwrap_or_default().to_string()
        }
    }
}

pub fn key_arn(key_id: &str) -> String {
    format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}")
}

pub fn alias_arn(alias: &str) -> String {
    format!("arn:aws:kms:{REGION}:{ACCOUNT}:{alias}")
}

/// Creates a symmetric key and returns its key id.
pub async fn create_key(client: &Client) -> String {
    client
        .create_key()
        .send()
        .await
        .expect("CreateKey")
        .key_metadata()
        .expect("KeyMetadata")
        .key_id()
        .to_string()
}

pub async fn encrypt(client: &Client, key: &str, plaintext: &[u8]) -> Vec<u8> {
    client
        .encrypt()
        .key_id(key)
        .plaintext(Blob::new(plaintext))
        .send()
        .await
        .expect("Encrypt")
        .ciphertext_blob()
        .expect("CiphertextBlob")
        .as_ref()
        .to_vec()
}

pub async fn decrypt(client: &Client, ciphertext: &[u8]) -> Vec<u8> {
    client
        .decrypt()
        .ciphertext_blob(Blob::new(ciphertext))
        .send()
        .await
        .expect("Decrypt")
        .plaintext()
        .expect("Plaintext")
        .as_ref()
        .to_vec()
}

/// Milliseconds since the epoch of an SDK timestamp.
pub fn millis(t: &aws_sdk_kms::primitives::DateTime) -> i64 {
    t.to_millis().expect("timestamp in range")
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP

/// A response as read off the socket.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// `__type` of an error body.
    pub fn error_type(&self) -> String {
        self.json()["__type"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn error_message(&self) -> String {
        self.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Asserts the shape every error answer must have: 400, AWS JSON 1.1, `{"__type","message"}`
    /// with the expected type. Returns the message.
    #[track_caller]
    pub fn assert_error(&self, expected: &str) -> String {
        assert_eq!(
            self.status,
            400,
            "status of {:?}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/x-amz-json-1.1")
        );
        let json = self.json();
        assert_eq!(json["__type"], expected, "body {json}");
        assert!(json["message"].is_string(), "message missing in {json}");
        self.error_message()
    }
}

/// Sends one HTTP/1.1 request over a fresh connection and reads the whole answer.
pub async fn raw_request(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> RawResponse {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut head = format!("{method} {path} HTTP/1.1\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    stream.write_all(head.as_bytes()).await.expect("write head");
    stream.write_all(body).await.expect("write body");
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).await.expect("read answer");
    parse_response(&bytes)
}

fn parse_response(bytes: &[u8]) -> RawResponse {
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(bytes)));
    let head = std::str::from_utf8(&bytes[..split]).expect("head is text");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let rest = &bytes[split + 4..];
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    RawResponse {
        status,
        headers,
        body,
    }
}

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size line");
        let size_text = std::str::from_utf8(&rest[..line_end]).expect("chunk size");
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .expect("hex chunk size");
        rest = &rest[line_end + 2..];
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

/// A KMS request to be signed and sent raw.
pub struct Signed<'a> {
    pub creds: &'a Creds,
    pub region: &'a str,
    pub service: &'a str,
    /// The whole `X-Amz-Target` header; None leaves it out.
    pub target: Option<String>,
    pub body: &'a [u8],
    pub time: SystemTime,
    pub content_type: &'a str,
}

impl<'a> Signed<'a> {
    /// A request for `TrentService.<operation>` signed now, in us-east-1.
    pub fn new(creds: &'a Creds, operation: &'a str, body: &'a [u8]) -> Self {
        Signed {
            creds,
            region: REGION,
            service: "kms",
            target: Some(format!("TrentService.{operation}")),
            body,
            time: SystemTime::now(),
            content_type: "application/x-amz-json-1.1",
        }
    }

    /// The request's headers with the SigV4 `Authorization` and `X-Amz-Date` added.
    pub fn headers(&self, addr: std::net::SocketAddr) -> Vec<(String, String)> {
        use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
        use aws_sigv4::sign::v4;

        let mut headers = vec![
            ("host".to_string(), addr.to_string()),
            ("content-type".to_string(), self.content_type.to_string()),
        ];
        if let Some(target) = &self.target {
            headers.push(("x-amz-target".to_string(), target.clone()));
        }
        let identity = aws_credential_types::Credentials::new(
            self.creds.access_key_id.clone(),
            self.creds.secret_access_key.clone(),
            None,
            None,
            "test",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(self.region)
            .name(self.service)
            .time(self.time)
            .settings(SigningSettings::default())
            .build()
            .expect("signing params")
            .into();
        let signable = SignableRequest::new(
            "POST",
            "/",
            headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            SignableBody::Bytes(self.body),
        )
        .expect("signable request");
        let (instructions, _signature) = sign(signable, &params).expect("sign").into_parts();
        for (name, value) in instructions.headers() {
            headers.push((name.to_string(), value.to_string()));
        }
        headers
    }

    pub async fn send(&self, addr: std::net::SocketAddr) -> RawResponse {
        let headers = self.headers(addr);
        raw_request(addr, "POST", "/", &headers, self.body).await
    }
}

/// Sends a signed request for `operation` with a JSON body as the administrator.
pub async fn call(server: &TestServer, operation: &str, body: &serde_json::Value) -> RawResponse {
    let bytes = serde_json::to_vec(body).expect("JSON");
    Signed::new(&server.admin, operation, &bytes)
        .send(server.addr())
        .await
}
