//! CreateCustomKeyStore: a custom key store over one of the HSM clusters the operator declared
//! (AWS_CLOUDHSM). It starts DISCONNECTED; ConnectCustomKeyStore logs in.
//!
//! Required permissions: kms:CreateCustomKeyStore (IAM policy); no cross-account use. The
//! cluster must be declared (CloudHsmClusterNotFoundException), present the trust anchor the
//! request carries (IncorrectTrustAnchorException), have its token (CloudHsmClusterNotActive
//! Exception) and not back another store of the account (CloudHsmClusterInUseException).
//! KeyStorePassword, the token user's PIN, is stored only wrapped under the root key.

use crate::access::authz::AuthorizedKey;
use crate::key_stores::rows::{list_all, name_in_use, refuse_cluster_in_use, wrap_pin};
use crate::key_stores::MAX_STORES_PER_ACCOUNT;
use crate::pipeline::Operation;
use crate::{error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_store::{CustomKeyStoreRow, StoreError};
use ferrokms_types::enums::{ConnectionState, CustomKeyStoreType};
use ferrokms_types::shapes::custom_key_stores::{
    CreateCustomKeyStoreRequest, CreateCustomKeyStoreResponse, KeyStoreLocation,
};
use ferrokms_types::KmsError;

pub struct CreateCustomKeyStore;

#[async_trait]
impl Operation for CreateCustomKeyStore {
    const NAME: &'static str = "CreateCustomKeyStore";
    const ACTION: &'static str = "kms:CreateCustomKeyStore";
    const CROSS_ACCOUNT: bool = false;
    const READ_ONLY: bool = false;
    type Input = CreateCustomKeyStoreRequest;
    type Output = CreateCustomKeyStoreResponse;

    async fn run(
        kms: &Kms,
        caller: &Caller,
        input: Self::Input,
        _: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        let kind = input
            .custom_key_store_type
            .as_deref()
            .and_then(CustomKeyStoreType::parse)
            .unwrap_or(CustomKeyStoreType::AwsCloudhsm);
        if kind == CustomKeyStoreType::ExternalKeyStore {
            return Err(KmsError::UnsupportedOperation(
                "External key stores (EXTERNAL_KEY_STORE) are not available in this version of ferrokms; \
                 AWS_CLOUDHSM key stores over a PKCS#11 token are."
                    .into(),
            ));
        }
        refuse_xks_members(input.location())?;
        let cluster_id = required(input.cloud_hsm_cluster_id.clone(), "CloudHsmClusterId")?;
        let Some(password) = input.key_store_password else {
            return Err(missing("KeyStorePassword"));
        };
        let anchor = required(input.trust_anchor_certificate, "TrustAnchorCertificate")?;
        let name = input.custom_key_store_name.unwrap_or_default();

        let cluster = kms.key_stores().cluster(&cluster_id, &caller.account_id)?;
        if !cluster.is_trust_anchor(&anchor) {
            return Err(KmsError::IncorrectTrustAnchor(format!(
                "The TrustAnchorCertificate is not the trust anchor certificate of cluster {cluster_id}."
            )));
        }
        let existing = list_all(kms, caller).await?;
        if existing.iter().any(|s| s.name == name) {
            return Err(name_in_use(&name));
        }
        refuse_cluster_in_use(&existing, &cluster_id)?;
        if existing.len() >= MAX_STORES_PER_ACCOUNT {
            return Err(KmsError::LimitExceeded(format!(
                "An account may have at most {MAX_STORES_PER_ACCOUNT} custom key stores in a Region."
            )));
        }
        crate::key_stores::check_token(cluster).await?;

        let id = new_custom_key_store_id()?;
        let row = CustomKeyStoreRow {
            custom_key_store_id: id.clone(),
            account_id: caller.account_id.clone(),
            region: caller.region.clone(),
            name: name.clone(),
            store_type: kind.as_str().to_string(),
            cloud_hsm_cluster_id: Some(cluster_id),
            trust_anchor_certificate: Some(anchor),
            wrapped_password: Some(wrap_pin(kms, &id, password.expose())?),
            xks_uri_endpoint: None,
            xks_uri_path: None,
            xks_connectivity: None,
            xks_access_key_id: None,
            wrapped_xks_secret: None,
            connection_state: ConnectionState::Disconnected.as_str().to_string(),
            creation_date: kms.now_ms(),
            row_version: 1,
        };
        match kms.store().insert_custom_key_store(&row).await {
            Ok(()) => Ok(CreateCustomKeyStoreResponse {
                custom_key_store_id: id,
            }),
            // The name was taken between the check above and this insert.
            Err(StoreError::AlreadyExists) => Err(name_in_use(&name)),
            Err(other) => Err(error::store(other)),
        }
    }
}

/// `cks-` and 17 hexadecimal digits, as AWS's custom key store ids.
fn new_custom_key_store_id() -> Result<String, KmsError> {
    let bytes = ferrokms_crypto::random_bytes(9).map_err(error::crypto)?;
    let mut id = hex::encode(bytes.expose());
    id.truncate(17);
    Ok(format!("cks-{id}"))
}

fn missing(member: &str) -> KmsError {
    KmsError::Validation(format!(
        "{member} is required for a custom key store of type AWS_CLOUDHSM."
    ))
}

fn required(value: Option<String>, member: &str) -> Result<String, KmsError> {
    value.ok_or_else(|| missing(member))
}

/// The members of an external key store given for an HSM key store.
pub(crate) fn refuse_xks_members(location: KeyStoreLocation<'_>) -> Result<(), KmsError> {
    let given = [
        ("XksProxyUriEndpoint", location.xks_proxy_uri_endpoint.is_some()),
        ("XksProxyUriPath", location.xks_proxy_uri_path.is_some()),
        (
            "XksProxyVpcEndpointServiceName",
            location.xks_proxy_vpc_endpoint_service_name.is_some(),
        ),
        (
            "XksProxyVpcEndpointServiceOwner",
            location.xks_proxy_vpc_endpoint_service_owner.is_some(),
        ),
        (
            "XksProxyAuthenticationCredential",
            location.xks_proxy_authentication_credential.is_some(),
        ),
        ("XksProxyConnectivity", location.xks_proxy_connectivity.is_some()),
    ];
    match given.iter().find(|(_, present)| *present) {
        Some((member, _)) => Err(KmsError::Validation(format!(
            "{member} is a property of external key stores (EXTERNAL_KEY_STORE), not of AWS_CLOUDHSM key stores."
        ))),
        None => Ok(()),
    }
}
