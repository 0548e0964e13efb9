//! `ferrokms`: the server and its admin commands.

/// jemalloc: a request allocates and frees many small buffers across threads, where glibc's
/// malloc spent about 15% of the server's CPU (docs/performance.md).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use clap::Parser;
use ferrokms_server::cli::{Cli, Command, ServeArgs};
use ferrokms_server::server::{self, ServerConfig};
use ferrokms_server::{admin, log_writer};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Before any command writes to the data dir: everything it creates is owner-only.
    ferrokms_server::process::restrict_umask();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ferrokms: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(args).await,
            Command::Principal(command) => admin::principal(command).await,
            Command::Role(command) => admin::role(command).await,
            Command::Audit(command) => admin::audit(command).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ferrokms: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr in batches (see `log_writer`), so a request never waits on a write; colour
/// only when stderr is a terminal. The returned guard writes what is left when dropped.
fn init_logging(format: &str) -> log_writer::FlushGuard {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("FERROKMS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let (writer, guard) = log_writer::batched_stderr();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(writer);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
    guard
}

/// `--quota` values: AWS's defaults, each NAME=RATE or NAME=off changing one; `off` alone turns
/// them all off.
fn quotas(values: &[String]) -> Result<ferrokms_core::quotas::QuotaConfig, String> {
    if values.len() > 1 && values.iter().any(|v| v == "off") {
        return Err("--quota off cannot be combined with NAME=RATE".into());
    }
    let mut config = ferrokms_core::quotas::QuotaConfig::aws_defaults();
    for value in values {
        config
            .apply(value, ferrokms_core::registry::is_quota_name)
            .map_err(|e| format!("--quota: {e}"))?;
    }
    Ok(config)
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let _log_guard = init_logging(&args.log_format);
    let mut config = ServerConfig::new(args.store.data_dir.clone());
    config.limits = limits(&args);
    if !args.regions.is_empty() {
        config.regions = args.regions.clone().into();
    }
    config.quotas = quotas(&args.quotas)?;
    config.accept_audit_tail_loss = args.accept_audit_tail_loss;
    config.hsm_clusters = args.hsm_clusters.clone();
    config.listen = args.listen;
    config.account_id = args.account_id;
    config.root_key = args.store.root_key_source();
    config.store = args.store.store.clone();
    config.tls = args.tls_cert.zip(args.tls_key);
    let running = server::start(config.clone()).await?;
    print_banner(&running, &config);
    wait_for_signal().await;
    eprintln!("ferrokms: shutting down; finishing requests in flight");
    running.shutdown().await;
    Ok(())
}

/// The connection limits of the flags, with the connection limit lowered to fit the open-file
/// limit (raised to its hard limit first), keeping some descriptors for the store, the audit
/// trail and the refusals past the limit.
fn limits(args: &ServeArgs) -> ferrokms_server::listener::Limits {
    const RESERVED_FDS: u64 = 128;
    let mut max_connections = args.max_connections;
    if let Some(fds) = ferrokms_server::process::raise_fd_limit() {
        let fit = fds.saturating_sub(RESERVED_FDS).max(1);
        if max_connections > fit {
            tracing::warn!(
                max_connections,
                open_file_limit = fds,
                "--max-connections lowered to {fit} to fit the open-file limit"
            );
            max_connections = fit;
        }
    }
    ferrokms_server::listener::Limits {
        header_read_timeout: std::time::Duration::from_secs(args.header_read_timeout),
        idle_timeout: std::time::Duration::from_secs(args.idle_timeout),
        max_connections: usize::try_from(max_connections).unwrap_or(usize::MAX),
    }
}

fn print_banner(running: &server::Running, config: &ServerConfig) {
    let dir = std::fs::canonicalize(&config.data_dir).unwrap_or_else(|_| config.data_dir.clone());
    let endpoint = running.endpoint();
    println!(
        "ferrokms {} listening on {endpoint} (account {})",
        env!("CARGO_PKG_VERSION"),
        config.account_id
    );
    match &running.new_credentials {
        Some(path) => println!(
            "Created the administrator; its credentials are in {} (shown nowhere else).",
            path.display()
        ),
        None => println!(
            "Administrator credentials: {}",
            dir.join("credentials").display()
        ),
    }
    println!("Try:");
    println!(
        "  export AWS_SHARED_CREDENTIALS_FILE={} AWS_CONFIG_FILE={}",
        dir.join("credentials").display(),
        dir.join("config").display()
    );
    println!("  aws --endpoint-url {endpoint} kms list-keys");
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
