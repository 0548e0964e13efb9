//! VerifyMac: recomputes the HMAC and compares it in constant time. A MAC that does not verify is
//! KMSInvalidMacException, as at AWS (MacValid is true whenever VerifyMac answers).

use super::generate_mac::{mac_conditions, mac_target};
use crate::access::authz::AuthorizedKey;
use crate::pipeline::{KeyTarget, Operation};
use crate::{algorithms, error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_policy::Context;
use ferrokms_types::shapes::mac::{VerifyMacRequest, VerifyMacResponse};
use ferrokms_types::KmsError;

pub struct VerifyMac;

#[async_trait]
impl Operation for VerifyMac {
    const NAME: &'static str = "VerifyMac";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Cryptographic;
    const ACTION: &'static str = "kms:VerifyMac";
    const CROSS_ACCOUNT: bool = true;
    const READ_ONLY: bool = true;
    const TRACKS_LAST_USAGE: bool = true;
    type Input = VerifyMacRequest;
    type Output = VerifyMacResponse;

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
        let mac = input.mac.map(|m| m.0).unwrap_or_default();
        let valid = ferrokms_crypto::asymmetric::verify_mac(
            spec,
            algorithm,
            &material,
            message.expose(),
            &mac,
        )
        .map_err(|e| error::crypto_for(e, spec, algorithm.as_str()))?;
        if !valid {
            return Err(KmsError::KmsInvalidMac(String::new()));
        }
        Ok(VerifyMacResponse {
            key_id: key.key.arn().to_string(),
            mac_valid: true,
            mac_algorithm: algorithm,
        })
    }
}
