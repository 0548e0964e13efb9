//! Starting and stopping a server: open the data dir and store, check the root key against it,
//! create the administrator on first start, then serve until told to stop.

use crate::app::App;
use crate::audit_trail;
use crate::auth::Authenticator;
use crate::data_dir::{self, RootKeySource};
use crate::http::router;
use crate::listener;
use crate::metrics::Metrics;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ferrokms_audit::AuditLog;
use ferrokms_core::clock::{Clock, SystemClock};
use ferrokms_core::quotas::QuotaConfig;
use ferrokms_core::{bootstrap, last_usage, scheduler, Kms};
use ferrokms_crypto::RootSecrets;
use ferrokms_store::sqlite::SqliteStore;
use ferrokms_store::{open_store, Store};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub account_id: String,
    pub root_key: RootKeySource,
    /// A PostgreSQL URL; `None` is the SQLite file in the data dir.
    pub store: Option<String>,
    pub tls: Option<(PathBuf, PathBuf)>,
    /// How often the scheduler looks for keys whose deletion date has passed.
    pub deletion_interval: Duration,
    /// The Region written into the CLI config file on first start.
    pub default_region: String,
    /// Header-read and idle timeouts, and the connection limit.
    pub limits: listener::Limits,
    /// The Regions requests may be signed for.
    pub regions: Arc<[String]>,
    /// Request quotas (requests per second per account, Region and quota); AWS's by default.
    /// Each node applies them on its own.
    pub quotas: QuotaConfig,
    /// Start even if the audit trail lost acknowledged records (`--accept-audit-tail-loss`).
    pub accept_audit_tail_loss: bool,
    /// The HSM clusters custom key stores may use (`--hsm-cluster`).
    pub hsm_clusters: Vec<ferrokms_core::key_stores::HsmCluster>,
}

impl ServerConfig {
    pub fn new(data_dir: PathBuf) -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 4599)),
            data_dir,
            account_id: "111122223333".into(),
            root_key: RootKeySource::default(),
            store: None,
            tls: None,
            deletion_interval: Duration::from_secs(60),
            default_region: "us-east-1".into(),
            limits: listener::Limits::default(),
            regions: crate::auth::default_regions(),
            quotas: QuotaConfig::default(),
            accept_audit_tail_loss: false,
            hsm_clusters: Vec::new(),
        }
    }
}

/// How often each node writes the key uses it saw to the store (GetKeyLastUsage's lag across
/// nodes, and what a crash can lose).
const LAST_USAGE_FLUSH_INTERVAL: Duration = Duration::from_secs(5);

/// A running server.
pub struct Running {
    pub addr: SocketAddr,
    pub scheme: &'static str,
    /// Set on first start: where the administrator's credentials were written.
    pub new_credentials: Option<PathBuf>,
    pub kms: Arc<Kms>,
    pub audit: AuditLog,
    stop: watch::Sender<bool>,
    serving: JoinHandle<()>,
    scheduler: JoinHandle<()>,
    usage_flusher: JoinHandle<()>,
    change_follower: JoinHandle<()>,
}

impl Running {
    pub fn endpoint(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// Stops accepting, waits for requests in flight, stops background work.
    /// Stops accepting, waits for requests in flight, stops background work, then closes (and
    /// signs) the audit trail's open file.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.serving.await;
        let _ = self.scheduler.await;
        let _ = self.usage_flusher.await;
        let _ = self.change_follower.await;
        if let Err(e) = self.audit.close().await {
            tracing::error!(error = %e, "closing the audit trail failed");
        }
    }
}

/// Opens the store (`store`: a PostgreSQL URL, or `None` for the data dir's SQLite file) with
/// the root key (shared by `serve` and the admin commands).
pub async fn open(
    data_dir: &Path,
    store: Option<&str>,
    root_key: &RootKeySource,
    clock: Arc<dyn Clock>,
) -> Result<Kms, String> {
    data_dir::ensure_dir(data_dir).map_err(|e| e.to_string())?;
    let (root, _created) =
        data_dir::load_or_create_root_key(data_dir, root_key).map_err(|e| e.to_string())?;
    let store: Arc<dyn Store> = match store {
        // The URL may hold a password: it is never repeated in messages.
        Some(url) => open_store(url)
            .await
            .map_err(|e| format!("cannot open the PostgreSQL store: {e}"))?,
        None => Arc::new(
            SqliteStore::open(&data_dir::store_path(data_dir))
                .await
                .map_err(|e| format!("cannot open the store in {}: {e}", data_dir.display()))?,
        ),
    };
    let kms = Kms::new(store, root, clock);
    check_root_key(kms.store(), kms.secrets()).await?;
    Ok(kms)
}

const ROOT_CHECK_SETTING: &str = "root_key.check";

/// A store opened with another root key would fail on every key; refuse it up front instead.
async fn check_root_key(store: &dyn Store, root: &RootSecrets) -> Result<(), String> {
    let existing = store
        .get_setting(ROOT_CHECK_SETTING)
        .await
        .map_err(|e| e.to_string())?;
    match existing {
        Some(text) => {
            let wrapped = STANDARD
                .decode(text)
                .map_err(|_| "the store's root key check is corrupt".to_string())?;
            if root.is_root_check(&wrapped) {
                Ok(())
            } else {
                Err("the root key does not belong to this data dir's store".to_string())
            }
        }
        None => {
            let wrapped = root.root_check().map_err(|e| e.to_string())?;
            store
                .set_setting(ROOT_CHECK_SETTING, &STANDARD.encode(wrapped))
                .await
                .map_err(|e| e.to_string())
        }
    }
}

/// A name for this process among the nodes of a cluster (the holder of background-work leases).
fn node_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "node".into());
    let nonce = ferrokms_crypto::random_bytes(6)
        .map(|b| hex::encode(b.expose()))
        .unwrap_or_default();
    format!("{host}-{}-{nonce}", std::process::id())
}

/// Starts a server. Sets the process's umask to 0077 first (see `crate::process`), so that all
/// it writes to the data dir is owner-only.
pub async fn start(config: ServerConfig) -> Result<Running, String> {
    crate::process::restrict_umask();
    let tls = match &config.tls {
        Some((cert, key)) => Some(listener::tls_acceptor(cert, key)?),
        None => None,
    };
    let kms = Arc::new(
        open(
            &config.data_dir,
            config.store.as_deref(),
            &config.root_key,
            Arc::new(SystemClock),
        )
        .await?
        .with_quotas(config.quotas.clone())
        .with_hsm_clusters(config.hsm_clusters.clone()),
    );
    let new_credentials = match bootstrap::ensure_admin(&kms, &config.account_id)
        .await
        .map_err(|e| e.to_string())?
    {
        Some(creds) => Some(
            data_dir::write_credentials(&config.data_dir, &creds, &config.default_region)
                .map_err(|e| e.to_string())?,
        ),
        None => None,
    };
    let tcp = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let addr = tcp.local_addr().map_err(|e| e.to_string())?;
    let (stop, stopped) = watch::channel(false);
    let audit = audit_trail::open(
        &config.data_dir,
        kms.secrets(),
        config.accept_audit_tail_loss,
    )
    .await?;
    kms.set_service_events(std::sync::Arc::new(audit_trail::TrailServiceEvents(
        audit.clone(),
    )));
    let metrics = Metrics::default();
    let scheduler_stats = metrics.scheduler.clone();
    let app = Arc::new(App {
        kms: kms.clone(),
        auth: Authenticator::with_regions(kms.clone(), config.regions.clone()),
        metrics,
        audit: audit.clone(),
    });
    let scheme = if tls.is_some() { "https" } else { "http" };
    let serving = tokio::spawn(listener::serve(
        tcp,
        tls,
        router(app),
        config.limits,
        stopped.clone(),
    ));
    // Tracking of key uses begins when the first server of a deployment starts, not at the first
    // GetKeyLastUsage, so that TrackingStartDate is honest about every use since.
    last_usage::tracking_start(kms.store(), kms.now_ms())
        .await
        .map_err(|e| format!("cannot record the start of key usage tracking: {e}"))?;
    let usage_flusher =
        last_usage::spawn_flusher(kms.clone(), LAST_USAGE_FLUSH_INTERVAL, stopped.clone());
    let change_follower = ferrokms_core::change_feed::spawn_follower(kms.clone(), stopped.clone());
    let scheduler = scheduler::spawn(
        kms.clone(),
        config.deletion_interval,
        node_id(),
        scheduler_stats,
        stopped,
    );
    Ok(Running {
        addr,
        scheme,
        new_credentials,
        kms,
        audit,
        stop,
        serving,
        scheduler,
        usage_flusher,
        change_follower,
    })
}
