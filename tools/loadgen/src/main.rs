//! `loadgen`: a bounded load generator for a running ferrokms on a loopback address.
//!
//! Setup (outside the measurement): read the credentials, create a key if none was given, build
//! the request pool and sign it, open every connection. Then one task per connection runs a closed
//! loop until the deadline while a background task re-signs the pool every minute. Finally the
//! per-connection histograms are merged and reported.

mod cli;
mod client;
mod credentials;
mod histogram;
mod signer;
mod workload;

use clap::Parser;
use cli::Args;
use client::Outcome;
use serde_json::json;
use signer::{Pool, Signer};
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

fn main() -> ExitCode {
    let args = Args::parse();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if let Some(threads) = args.threads {
        builder.worker_threads(threads.max(1));
    }
    let runtime = match builder.build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("loadgen: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The connected HSM key store the run's keys go in (`--hsm-cluster-id`).
async fn hsm_store(
    setup: &mut client::Sender,
    signer: &Signer,
    args: &Args,
    cluster: &str,
) -> Result<String, String> {
    let read = |path: &Option<std::path::PathBuf>, what: &str| {
        let path = path
            .as_ref()
            .ok_or_else(|| format!("--hsm-cluster-id needs {what}"))?;
        std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
    };
    let anchor = read(&args.hsm_trust_anchor, "--hsm-trust-anchor")?;
    let pin = read(&args.hsm_pin_file, "--hsm-pin-file")?;
    workload::connected_hsm_store(setup, signer, cluster, &anchor, pin.trim_end()).await
}

async fn run(args: Args) -> Result<ExitCode, String> {
    let target = cli::resolve_target(&args.endpoint).await?;
    let credentials = credentials::load(&args.credentials, &args.profile)?;
    let signer = Arc::new(Signer::new(
        credentials,
        args.region.clone(),
        target.host_header.clone(),
    ));

    let mut setup = client::connect(target.addr).await?;
    let key_ids = match &args.key_id {
        Some(id) => vec![id.clone()],
        None => {
            let store = match &args.hsm_cluster_id {
                Some(cluster) => Some(hsm_store(&mut setup, &signer, &args, cluster).await?),
                None => None,
            };
            let mut ids = Vec::with_capacity(args.keys as usize);
            for _ in 0..args.keys {
                let id =
                    workload::create_key(&mut setup, &signer, args.operation, store.as_deref())
                        .await?;
                ids.push(id);
            }
            ids
        }
    };
    if (args.pool_size as usize) < key_ids.len() {
        return Err(format!(
            "--pool-size {} is smaller than --keys {}: some keys would never be used",
            args.pool_size,
            key_ids.len()
        ));
    }
    let key_id = key_ids[0].clone();
    let templates = Arc::new(
        workload::templates(
            args.operation,
            &key_ids,
            args.pool_size as usize,
            args.plaintext_size as usize,
            &mut setup,
            &signer,
        )
        .await?,
    );
    drop(setup);
    let pool = Arc::new(Pool::new(signer.sign_all(&templates)?));
    if let Some(path) = &args.wrk_script {
        let first = pool.snapshot();
        let lua = signer::wrk_lua(&first[0])?;
        std::fs::write(path, lua).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!(
            "loadgen: wrote {} (one signed {} request, key {key_id}; valid for 5 minutes)",
            path.display(),
            args.operation.wire_name()
        );
        return Ok(ExitCode::SUCCESS);
    }

    let load_addr = match &args.replay_to {
        Some(url) => cli::resolve_target(url).await?.addr,
        None => target.addr,
    };
    let check_bodies = args.replay_to.is_none();
    let mut senders = Vec::with_capacity(args.connections as usize);
    for _ in 0..args.connections {
        senders.push(client::connect(load_addr).await?);
    }

    let started = Instant::now();
    let deadline = started + args.duration;
    let resigner = {
        let (pool, signer, templates) = (pool.clone(), signer.clone(), templates.clone());
        tokio::spawn(async move {
            let mut every = tokio::time::interval(signer::RESIGN_EVERY);
            every.tick().await; // the first tick is immediate; the pool is fresh
            loop {
                every.tick().await;
                match signer.sign_all(&templates) {
                    Ok(signed) => pool.replace(signed),
                    Err(e) => eprintln!("loadgen: re-signing failed: {e}"),
                }
            }
        })
    };
    let stride = args.connections as usize;
    let tasks: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(n, sender)| {
            tokio::spawn(client::run(
                client::Destination {
                    addr: load_addr,
                    check_bodies,
                },
                Some(sender),
                pool.clone(),
                n,
                stride,
                deadline,
                args.timeout,
            ))
        })
        .collect();
    let mut total = Outcome::default();
    for task in tasks {
        match task.await {
            Ok(outcome) => total.merge(&outcome),
            Err(e) => return Err(format!("a connection task failed: {e}")),
        }
    }
    let elapsed = started.elapsed();
    resigner.abort();

    let report = if args.json {
        format!("{}\n", report_json(&args, &key_id, elapsed, &total))
    } else {
        report_text(&args, &key_id, elapsed, &total)
    };
    // Not print!: a closed stdout (e.g. `| head`) is an error to report, not a panic.
    std::io::stdout()
        .write_all(report.as_bytes())
        .map_err(|e| format!("cannot write the report: {e}"))?;
    Ok(if total.ok == 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn millis(nanos: u64) -> f64 {
    nanos as f64 / 1e6
}

fn report_json(args: &Args, key_id: &str, elapsed: Duration, total: &Outcome) -> String {
    let h = &total.latency;
    json!({
        "operation": args.operation.wire_name(),
        "endpoint": args.endpoint,
        "key_id": key_id,
        "keys": args.key_id.as_ref().map_or(args.keys, |_| 1),
        "connections": args.connections,
        "seconds": elapsed.as_secs_f64(),
        "ok": total.ok,
        "errors": total.error_count(),
        "error_kinds": total.errors,
        "requests_per_second": total.ok as f64 / elapsed.as_secs_f64(),
        "latency_ms": {
            "mean": millis(h.mean()),
            "p50": millis(h.quantile(0.50)),
            "p90": millis(h.quantile(0.90)),
            "p99": millis(h.quantile(0.99)),
            "max": millis(h.max()),
        },
    })
    .to_string()
}

fn report_text(args: &Args, key_id: &str, elapsed: Duration, total: &Outcome) -> String {
    let h = &total.latency;
    let mut out = format!(
        "operation    {} ({} connections, key {key_id})\n\
         endpoint     {}\n\
         duration     {:.2} s\n\
         requests     {} ok, {} errors\n\
         throughput   {:.1} requests/s\n\
         latency      p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms (mean {:.3} ms)\n",
        args.operation.cli_name(),
        args.connections,
        args.endpoint,
        elapsed.as_secs_f64(),
        total.ok,
        total.error_count(),
        total.ok as f64 / elapsed.as_secs_f64(),
        millis(h.quantile(0.50)),
        millis(h.quantile(0.90)),
        millis(h.quantile(0.99)),
        millis(h.max()),
        millis(h.mean()),
    );
    for (kind, n) in &total.errors {
        out.push_str(&format!("  error      {n} x {kind}\n"));
    }
    out
}
