//! GenerateMac: the HMAC of a message (up to 4096 bytes) under a GENERATE_VERIFY_MAC key, with
//! the MAC algorithm of the key's spec.

use crate::access::authz::AuthorizedKey;
use crate::key_state::StateRule;
use crate::pipeline::{KeyTarget, Operation};
use crate::{algorithms, error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_policy::Context;
use ferrokms_types::enums::KeyUsage;
use ferrokms_types::shapes::mac::{GenerateMacRequest, GenerateMacResponse};
use ferrokms_types::{Blob, KmsError};

pub struct GenerateMac;

#[async_trait]
impl Operation for GenerateMac {
    const NAME: &'static str = "GenerateMac";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Cryptographic;
    const ACTION: &'static str = "kms:GenerateMac";
    const CROSS_ACCOUNT: bool = true;
    const READ_ONLY: bool = true;
    const TRACKS_LAST_USAGE: bool = true;
    type Input = GenerateMacRequest;
    type Output = GenerateMacResponse;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        Ok(vec![mac_target(&input.key_id, Self::ACTION)])
    }

    fn conditions(input: &Self::Input, _: &str, context: &mut Context) {
        mac_conditions(input.mac_algorithm.as_deref(), context);
    }

    fn dry_run(input: &Self::Input) -> bool {
        input.dry_run == Some(true)
    }

    async fn run(
        kms: &Kms,
        _: &Caller,
        input: Self::Input,
        keys: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        let key = super::only(keys)?;
        let algorithm = algorithms::mac(&key.key, input.mac_algorithm.as_deref())?;
        let spec = key.key.spec;
        let material = super::current_material(kms, &key).await?;
        let message = input.message.unwrap_or_default();
        let mac =
            ferrokms_crypto::asymmetric::generate_mac(spec, algorithm, &material, message.expose())
                .map_err(|e| error::crypto_for(e, spec, algorithm.as_str()))?;
        Ok(GenerateMacResponse {
            mac: Blob(mac),
            mac_algorithm: algorithm,
            key_id: key.key.arn().to_string(),
        })
    }
}

/// The key of GenerateMac and VerifyMac.
pub(crate) fn mac_target(key_id: &Option<String>, action: &'static str) -> KeyTarget {
    KeyTarget::field(key_id, true, action, StateRule::Cryptographic)
        .with_usage(KeyUsage::GenerateVerifyMac)
}

/// kms:MacAlgorithm; shared with VerifyMac.
pub(crate) fn mac_conditions(algorithm: Option<&str>, context: &mut Context) {
    if let Some(algorithm) = algorithm {
        context.insert("kms:MacAlgorithm", algorithm);
    }
}
