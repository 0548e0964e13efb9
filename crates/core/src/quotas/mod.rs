//! AWS KMS's request quotas ("Request quotas" in the developer guide): how many requests per
//! second an account may make in a Region, per quota, with AWS's default values.
//!
//! Each operation says which quota it draws on (`Operation::QUOTA`): management operations have
//! their own ("CreateKey request rate": 5 a second), cryptographic operations share one per kind
//! of key (symmetric, RSA, ECC and SM2, ML-DSA, ML-KEM), and GenerateDataKeyPair(WithoutPlaintext)
//! share one per data key pair spec. The pipeline charges a request once its keys are authorised,
//! to the caller's account and Region: for cross-account use AWS throttles the account that makes
//! the request, not the one that owns the key. Past a quota the answer is AWS's
//! ThrottlingException; the limiter itself is in `limiter`.

mod limiter;

pub use limiter::Limiter;

use crate::access::authz::AuthorizedKey;
use ferrokms_types::enums::{DataKeyPairSpec, KeySpec};
use std::collections::HashMap;

/// Which quota an operation draws on. `I` is the operation's input shape.
pub enum QuotaRule<I> {
    /// The operation's own quota ("<NAME> request rate") at AWS's default rate per second.
    Own(u32),
    /// The shared quota of cryptographic operations for the kind of the keys used (each kind
    /// once, when a request uses two keys: ReEncrypt); the symmetric one without a key
    /// (GenerateRandom).
    Cryptographic,
    /// The shared quota of the data key pair spec the request asks for.
    DataKeyPair(fn(&I) -> Option<DataKeyPairSpec>),
}

impl<I> QuotaRule<I> {
    /// The rule without its input accessor, for the registry's table.
    pub const fn kind(&self) -> QuotaKind {
        match self {
            QuotaRule::Own(n) => QuotaKind::Own(*n),
            QuotaRule::Cryptographic => QuotaKind::Cryptographic,
            QuotaRule::DataKeyPair(_) => QuotaKind::DataKeyPair,
        }
    }
}

/// [`QuotaRule`] without what depends on the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuotaKind {
    Own(u32),
    Cryptographic,
    DataKeyPair,
}

/// One request quota. Its name is the label of `ferrokms_throttled_requests_total` and what
/// `serve --quota NAME=RATE` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Quota {
    /// "Cryptographic operations (symmetric) request rate": symmetric encryption and HMAC keys,
    /// and GenerateRandom.
    Symmetric,
    /// "Cryptographic operations (RSA) request rate".
    Rsa,
    /// "Cryptographic operations (ECC and SM2) request rate".
    Ecc,
    /// "Cryptographic operations (ML-DSA) request rate".
    MlDsa,
    /// Encapsulate and Decapsulate with ML-KEM keys. AWS's table names no quota for them; they
    /// get one of their own at the rate of the other asymmetric kinds.
    MlKem,
    /// "GenerateDataKeyPair (<spec>) request rate".
    DataKeyPair(DataKeyPairSpec),
    /// "<name> request rate", AWS's default being `per_second`.
    Operation { name: &'static str, per_second: u32 },
}

/// The names of the shared quotas, as `--quota` takes them.
pub const SHARED: &[Quota] = &[
    Quota::Symmetric,
    Quota::Rsa,
    Quota::Ecc,
    Quota::MlDsa,
    Quota::MlKem,
    Quota::DataKeyPair(DataKeyPairSpec::Rsa2048),
    Quota::DataKeyPair(DataKeyPairSpec::Rsa3072),
    Quota::DataKeyPair(DataKeyPairSpec::Rsa4096),
    Quota::DataKeyPair(DataKeyPairSpec::EccNistP256),
    Quota::DataKeyPair(DataKeyPairSpec::EccNistP384),
    Quota::DataKeyPair(DataKeyPairSpec::EccNistP521),
    Quota::DataKeyPair(DataKeyPairSpec::EccSecgP256k1),
    Quota::DataKeyPair(DataKeyPairSpec::Sm2),
    Quota::DataKeyPair(DataKeyPairSpec::EccNistEdwards25519),
    Quota::DataKeyPair(DataKeyPairSpec::MlKem512),
    Quota::DataKeyPair(DataKeyPairSpec::MlKem768),
    Quota::DataKeyPair(DataKeyPairSpec::MlKem1024),
];

/// Regions where AWS's symmetric quota is 20,000 a second.
const SYMMETRIC_20K: &[&str] = &[
    "us-east-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "eu-central-1",
    "eu-west-2",
];

/// Regions where AWS's symmetric quota is 100,000 a second.
const SYMMETRIC_100K: &[&str] = &["us-east-1", "us-west-2", "eu-west-1"];

fn is_china(region: &str) -> bool {
    region.starts_with("cn-")
}

impl Quota {
    /// The quota of cryptographic operations with a key of `spec`.
    pub fn of_key(spec: KeySpec) -> Quota {
        match spec {
            KeySpec::SymmetricDefault
            | KeySpec::Hmac224
            | KeySpec::Hmac256
            | KeySpec::Hmac384
            | KeySpec::Hmac512 => Quota::Symmetric,
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => Quota::Rsa,
            KeySpec::EccNistP256
            | KeySpec::EccNistP384
            | KeySpec::EccNistP521
            | KeySpec::EccSecgP256k1
            | KeySpec::EccNistEdwards25519
            | KeySpec::Sm2 => Quota::Ecc,
            KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87 => Quota::MlDsa,
            KeySpec::MlKem512 | KeySpec::MlKem768 | KeySpec::MlKem1024 => Quota::MlKem,
        }
    }

    /// The quota's name: the operation's name for its own quota; `symmetric`, `rsa`, `ecc`,
    /// `ml-dsa`, `ml-kem` and `GenerateDataKeyPair/<spec>` for the shared ones.
    pub fn name(self) -> &'static str {
        use DataKeyPairSpec as D;
        match self {
            Quota::Symmetric => "symmetric",
            Quota::Rsa => "rsa",
            Quota::Ecc => "ecc",
            Quota::MlDsa => "ml-dsa",
            Quota::MlKem => "ml-kem",
            Quota::DataKeyPair(spec) => match spec {
                D::Rsa2048 => "GenerateDataKeyPair/RSA_2048",
                D::Rsa3072 => "GenerateDataKeyPair/RSA_3072",
                D::Rsa4096 => "GenerateDataKeyPair/RSA_4096",
                D::EccNistP256 => "GenerateDataKeyPair/ECC_NIST_P256",
                D::EccNistP384 => "GenerateDataKeyPair/ECC_NIST_P384",
                D::EccNistP521 => "GenerateDataKeyPair/ECC_NIST_P521",
                D::EccSecgP256k1 => "GenerateDataKeyPair/ECC_SECG_P256K1",
                D::Sm2 => "GenerateDataKeyPair/SM2",
                D::EccNistEdwards25519 => "GenerateDataKeyPair/ECC_NIST_EDWARDS25519",
                D::MlKem512 => "GenerateDataKeyPair/ML_KEM_512",
                D::MlKem768 => "GenerateDataKeyPair/ML_KEM_768",
                D::MlKem1024 => "GenerateDataKeyPair/ML_KEM_1024",
            },
            Quota::Operation { name, .. } => name,
        }
    }

    /// AWS's default rate, in requests per second, in `region`.
    pub fn aws_default(self, region: &str) -> f64 {
        use DataKeyPairSpec as D;
        match self {
            Quota::Symmetric if SYMMETRIC_100K.contains(&region) => 100_000.0,
            Quota::Symmetric if SYMMETRIC_20K.contains(&region) => 20_000.0,
            Quota::Symmetric => 10_000.0,
            Quota::Rsa | Quota::Ecc | Quota::MlDsa | Quota::MlKem => 1_000.0,
            Quota::DataKeyPair(spec) => match spec {
                D::Rsa2048 if is_china(region) => 1.0,
                D::Rsa2048 => 20.0,
                D::Rsa3072 if is_china(region) => 0.5,
                D::Rsa3072 => 4.0,
                D::Rsa4096 if is_china(region) => 0.1,
                D::Rsa4096 => 1.0,
                D::Sm2 => 25.0,
                // AWS lists no ML-KEM data key pairs; they are as cheap to make as ECC ones.
                D::EccNistP256
                | D::EccNistP384
                | D::EccNistP521
                | D::EccSecgP256k1
                | D::EccNistEdwards25519
                | D::MlKem512
                | D::MlKem768
                | D::MlKem1024 => 100.0,
            },
            Quota::Operation { per_second, .. } => f64::from(per_second),
        }
    }
}

/// The quotas a request draws on, one request from each, by its operation's rule.
pub fn of_request<I>(
    operation: &'static str,
    rule: &QuotaRule<I>,
    input: &I,
    keys: &[AuthorizedKey],
) -> Vec<Quota> {
    match rule {
        QuotaRule::Own(per_second) => vec![Quota::Operation {
            name: operation,
            per_second: *per_second,
        }],
        QuotaRule::Cryptographic => {
            let mut quotas: Vec<Quota> = Vec::with_capacity(keys.len().max(1));
            for key in keys {
                let quota = Quota::of_key(key.key.spec);
                if !quotas.contains(&quota) {
                    quotas.push(quota);
                }
            }
            if quotas.is_empty() {
                quotas.push(Quota::Symmetric);
            }
            quotas
        }
        // Validation has checked the spec by now; a request without one draws on nothing.
        QuotaRule::DataKeyPair(spec) => spec(input).map(Quota::DataKeyPair).into_iter().collect(),
    }
}

/// What `serve --quota` sets: AWS's defaults, or quotas off, with rates set by name.
#[derive(Clone, Debug, PartialEq)]
pub struct QuotaConfig {
    enabled: bool,
    /// Every default rate is multiplied by this (tests that create keys faster than AWS
    /// allows); a rate set by name is not.
    scale: f64,
    /// Rates set by quota name; `None` is no limit.
    rates: HashMap<String, Option<f64>>,
}

impl Default for QuotaConfig {
    fn default() -> Self {
        QuotaConfig::aws_defaults()
    }
}

impl QuotaConfig {
    /// Every quota at AWS's default rate.
    pub fn aws_defaults() -> Self {
        QuotaConfig {
            enabled: true,
            scale: 1.0,
            rates: HashMap::new(),
        }
    }

    /// No quota at all.
    pub fn off() -> Self {
        QuotaConfig {
            enabled: false,
            ..QuotaConfig::aws_defaults()
        }
    }

    /// AWS's defaults multiplied by `factor`.
    pub fn scaled(mut self, factor: f64) -> Self {
        self.scale = factor;
        self
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Applies one item of `--quota`: `off` (no quotas), `NAME=RATE` (requests per second, a
    /// positive number) or `NAME=off` (that quota has no limit). `known` says whether a name is
    /// a quota (a shared one or an operation's own).
    pub fn apply(&mut self, item: &str, known: impl Fn(&str) -> bool) -> Result<(), String> {
        if item == "off" {
            self.enabled = false;
            return Ok(());
        }
        let Some((name, value)) = item.split_once('=') else {
            return Err(format!("expected NAME=RATE or off, not '{item}'"));
        };
        if !known(name) {
            return Err(format!(
                "'{name}' is not a request quota (an operation with a quota of its own, or one of {})",
                SHARED.iter().map(|q| q.name()).collect::<Vec<_>>().join(", ")
            ));
        }
        let rate = match value {
            "off" => None,
            text => match text.parse::<f64>() {
                Ok(r) if r.is_finite() && r > 0.0 => Some(r),
                _ => {
                    return Err(format!(
                        "the rate of '{name}' must be a positive number of requests per second or off, not '{text}'"
                    ))
                }
            },
        };
        self.rates.insert(name.to_string(), rate);
        Ok(())
    }

    /// The rate of `quota` in `region`, requests per second; `None` is no limit.
    pub fn rate(&self, quota: Quota, region: &str) -> Option<f64> {
        if !self.enabled {
            return None;
        }
        match self.rates.get(quota.name()) {
            Some(set) => *set,
            None => Some(quota.aws_default(region) * self.scale),
        }
    }
}

/// Whether `name` is a shared quota's name.
pub fn is_shared(name: &str) -> bool {
    SHARED.iter().any(|q| q.name() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetric_default_follows_the_region_as_at_aws() {
        assert_eq!(Quota::Symmetric.aws_default("us-east-1"), 100_000.0);
        assert_eq!(Quota::Symmetric.aws_default("eu-west-2"), 20_000.0);
        assert_eq!(Quota::Symmetric.aws_default("ca-central-1"), 10_000.0);
        let rsa_4096 = Quota::DataKeyPair(DataKeyPairSpec::Rsa4096);
        assert_eq!(rsa_4096.aws_default("us-east-1"), 1.0);
        assert_eq!(rsa_4096.aws_default("cn-north-1"), 0.1);
    }

    #[test]
    fn every_key_spec_has_its_kind_of_quota() {
        assert_eq!(Quota::of_key(KeySpec::Hmac256), Quota::Symmetric);
        assert_eq!(Quota::of_key(KeySpec::Sm2), Quota::Ecc);
        assert_eq!(Quota::of_key(KeySpec::MlDsa65), Quota::MlDsa);
        assert_eq!(Quota::of_key(KeySpec::Rsa3072), Quota::Rsa);
    }

    #[test]
    fn every_data_key_pair_spec_is_a_shared_quota() {
        for spec in DataKeyPairSpec::ALL {
            assert!(SHARED.contains(&Quota::DataKeyPair(*spec)), "{spec:?}");
        }
        let names: std::collections::HashSet<_> = SHARED.iter().map(|q| q.name()).collect();
        assert_eq!(names.len(), SHARED.len());
    }

    #[test]
    fn flags_set_rates_by_name_or_turn_quotas_off() {
        let known = |n: &str| is_shared(n) || n == "CreateKey";
        let create_key = Quota::Operation {
            name: "CreateKey",
            per_second: 5,
        };
        let mut config = QuotaConfig::aws_defaults();
        assert_eq!(config.rate(create_key, "us-east-1"), Some(5.0));
        config.apply("CreateKey=50", known).unwrap();
        config.apply("rsa=off", known).unwrap();
        config.apply("symmetric=0.5", known).unwrap();
        assert_eq!(config.rate(create_key, "us-east-1"), Some(50.0));
        assert_eq!(config.rate(Quota::Rsa, "us-east-1"), None);
        assert_eq!(config.rate(Quota::Symmetric, "eu-west-1"), Some(0.5));
        assert_eq!(config.rate(Quota::Ecc, "eu-west-1"), Some(1000.0));
        assert!(config.apply("Nope=1", known).is_err());
        assert!(config.apply("CreateKey=0", known).is_err());
        assert!(config.apply("CreateKey=-1", known).is_err());
        assert!(config.apply("CreateKey=NaN", known).is_err());
        assert!(config.apply("CreateKey", known).is_err());
        config.apply("off", known).unwrap();
        assert_eq!(config.rate(create_key, "us-east-1"), None);
        let scaled = QuotaConfig::aws_defaults().scaled(100.0);
        assert_eq!(scaled.rate(create_key, "us-east-1"), Some(500.0));
    }
}
