//! The command line, and the checks that keep a run bounded: a finite duration and a loopback
//! target only.

use clap::{Parser, ValueEnum};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// The longest run accepted: a load generator here is a measurement, not a soak rig.
pub const MAX_DURATION: Duration = Duration::from_secs(3600);

#[derive(Parser, Debug)]
#[command(
    name = "loadgen",
    version,
    about = "Drive SigV4-signed KMS requests at a running ferrokms and report requests/s and latency.",
    long_about = "Drive SigV4-signed KMS requests at a running ferrokms and report requests/s, errors \
and p50/p90/p99/max latency.\n\n\
How it loads the server: one task per connection, each a keep-alive HTTP/1.1 connection (hyper \
client) that sends its next request as soon as the previous response has been read (closed loop). \
The requests come from a pool of distinct requests signed up front with the aws-sigv4 crate \
(distinct plaintexts for encrypt, distinct ciphertexts for decrypt, a distinct encryption context \
for generate-data-key) and re-signed every 60 s, since a SigV4 signature is valid for 5 minutes. So \
the generator spends almost no CPU on signing and what is measured is the server. The server still \
verifies every signature.\n\n\
The run is bounded: it stops by itself after --duration (at most 1 h), and it only targets \
loopback addresses (127.0.0.0/8, ::1, localhost). If no --key-id is given it creates a key of the \
operation's kind first (symmetric; ECC_NIST_P256 for sign; HMAC_256 for generate-mac); for \
decrypt it encrypts the pool's plaintexts before the clock starts."
)]
pub struct Args {
    /// Server endpoint, plain HTTP on a loopback address, e.g. http://127.0.0.1:4599
    #[arg(long, default_value = "http://127.0.0.1:4599")]
    pub endpoint: String,
    /// AWS shared-credentials file (e.g. DATA_DIR/credentials written by `ferrokms serve`).
    #[arg(long)]
    pub credentials: PathBuf,
    /// Profile in the credentials file.
    #[arg(long, default_value = "default")]
    pub profile: String,
    /// Region for the SigV4 credential scope.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Concurrent keep-alive connections (one task each).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub connections: u32,
    /// How long to send load, e.g. 20s, 500ms, 2m (at most 1h).
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    pub duration: Duration,
    /// The operation to drive.
    #[arg(long, value_enum, default_value_t = Operation::Encrypt)]
    pub operation: Operation,
    /// Key to use (id, ARN or alias); a new key of the operation's kind is created when absent.
    #[arg(long)]
    pub key_id: Option<String>,
    /// Keys to create and use round-robin, request i of the pool on key i mod N (without
    /// --key-id): shows what many keys cost the server's caches against one.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub keys: u32,
    /// Make the keys inside an HSM key store on this declared cluster (the server's
    /// `--hsm-cluster`): the setup creates and connects a store first (encryption operations
    /// only). Needs --hsm-trust-anchor and --hsm-pin-file.
    #[arg(long, requires_all = ["hsm_trust_anchor", "hsm_pin_file"])]
    pub hsm_cluster_id: Option<String>,
    /// The cluster's trust anchor certificate (PEM file).
    #[arg(long)]
    pub hsm_trust_anchor: Option<PathBuf>,
    /// A file holding the token user's PIN (not given on the command line, where `ps` shows it).
    #[arg(long)]
    pub hsm_pin_file: Option<PathBuf>,
    /// Plaintext bytes per Encrypt (and per ciphertext in the Decrypt pool, per message of Sign
    /// and GenerateMac).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub plaintext_size: u32,
    /// Distinct signed requests in the pool.
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub pool_size: u32,
    /// Give up on one request after this long (counted as an error, the connection reopened).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Runtime worker threads for the generator (default: the number of CPUs).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print the result as one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Set up against --endpoint (key, ciphertexts, signing), then send the load to this other
    /// loopback endpoint instead: the benchmark's ceiling server, which gets the very requests
    /// ferrokms gets. Its answers (`{}`) are counted, not checked.
    #[arg(long, value_name = "URL")]
    pub replay_to: Option<String>,
    /// Instead of running, write a wrk Lua script that replays one request of the pool, signed
    /// now (valid for 5 minutes), and exit: `wrk -s FILE ENDPOINT/` for a comparison.
    #[arg(long, value_name = "FILE")]
    pub wrk_script: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Operation {
    Encrypt,
    Decrypt,
    GenerateDataKey,
    /// Sign with ECDSA_SHA_256 (an ECC_NIST_P256 key).
    Sign,
    /// GenerateMac with HMAC_SHA_256 (an HMAC_256 key).
    GenerateMac,
}

impl Operation {
    /// The `X-Amz-Target` operation name.
    pub fn wire_name(self) -> &'static str {
        match self {
            Operation::Encrypt => "Encrypt",
            Operation::Decrypt => "Decrypt",
            Operation::GenerateDataKey => "GenerateDataKey",
            Operation::Sign => "Sign",
            Operation::GenerateMac => "GenerateMac",
        }
    }

    pub fn cli_name(self) -> &'static str {
        match self {
            Operation::Encrypt => "encrypt",
            Operation::Decrypt => "decrypt",
            Operation::GenerateDataKey => "generate-data-key",
            Operation::Sign => "sign",
            Operation::GenerateMac => "generate-mac",
        }
    }
}

/// Parses `20s`, `500ms`, `2m`, `1h` or a bare number of seconds; zero and over an hour are refused.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("not a duration: {text:?} (try 20s, 500ms, 2m)"))?;
    let seconds = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => {
            return Err(format!(
                "unknown unit {unit:?} in {text:?} (use ms, s, m or h)"
            ))
        }
    };
    if !seconds.is_finite() || seconds <= 0.0 {
        return Err(format!("the duration must be positive: {text:?}"));
    }
    if seconds > MAX_DURATION.as_secs_f64() {
        return Err(format!("at most {}s: {text:?}", MAX_DURATION.as_secs()));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Where to connect, and the Host header that was signed.
#[derive(Clone, Debug)]
pub struct Target {
    pub addr: SocketAddr,
    pub host_header: String,
}

/// Parses `http://HOST[:PORT][/]`, and accepts it only when every address it names is loopback.
pub async fn resolve_target(endpoint: &str) -> Result<Target, String> {
    let uri: http::Uri = endpoint
        .parse()
        .map_err(|e| format!("bad --endpoint {endpoint:?}: {e}"))?;
    if uri.scheme_str() != Some("http") {
        return Err(format!(
            "--endpoint must be plain http://HOST:PORT (got {endpoint:?})"
        ));
    }
    if uri.path() != "/" && !uri.path().is_empty() {
        return Err(format!("--endpoint must have no path (got {endpoint:?})"));
    }
    let authority = uri
        .authority()
        .ok_or_else(|| format!("--endpoint has no host: {endpoint:?}"))?;
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let port = authority.port_u16().unwrap_or(80);
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| format!("cannot resolve {host:?}: {e}"))?
            .collect(),
    };
    let addr = *addrs
        .first()
        .ok_or_else(|| format!("{host:?} resolves to no address"))?;
    if let Some(bad) = addrs.iter().find(|a| !a.ip().is_loopback()) {
        return Err(format!(
            "loadgen only targets loopback addresses; {host:?} resolves to {}",
            bad.ip()
        ));
    }
    Ok(Target {
        addr,
        host_header: authority.as_str().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("20s"), Ok(Duration::from_secs(20)));
        assert_eq!(parse_duration("20"), Ok(Duration::from_secs(20)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
    }

    #[test]
    fn unbounded_or_empty_durations_are_refused() {
        for bad in ["0s", "", "s", "2d", "61m", "-1s", "inf"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[tokio::test]
    async fn only_loopback_targets_are_accepted() {
        for good in [
            "http://127.0.0.1:4599",
            "http://127.1.2.3:80/",
            "http://[::1]:4599",
        ] {
            let target = resolve_target(good).await.expect(good);
            assert!(target.addr.ip().is_loopback());
        }
        for bad in [
            "http://10.0.0.1:4599",
            "http://192.168.1.1:4599",
            "http://8.8.8.8:80",
            "https://127.0.0.1:4599",
            "http://127.0.0.1:4599/path",
        ] {
            assert!(resolve_target(bad).await.is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn host_header_keeps_the_port() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let target = rt
            .block_on(resolve_target("http://127.0.0.1:4599"))
            .expect("loopback");
        assert_eq!(target.host_header, "127.0.0.1:4599");
    }
}
