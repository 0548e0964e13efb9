//! CreateGrant: lets a grantee principal perform some operations on a key, optionally only with
//! some encryption contexts. Idempotent by Name: the same name and parameters give the same grant.

use crate::access::authz::AuthorizedKey;
use crate::key::Key;
use crate::key_state::StateRule;
use crate::pipeline::{KeyTarget, Operation};
use crate::{access::grants, error, Caller, Kms};
use async_trait::async_trait;
use base64::Engine;
use ferrokms_policy::Context;
use ferrokms_store::GrantRow;
use ferrokms_types::enums::{GrantOperation, KeySpec, KeyUsage};
use ferrokms_types::shapes::grants::{CreateGrantRequest, CreateGrantResponse, GrantConstraints};
use ferrokms_types::KmsError;

pub struct CreateGrant;

/// AWS's limit of grants per key.
pub const MAX_GRANTS_PER_KEY: usize = 50_000;

/// The operations a grant on a symmetric encryption key may name.
const SYMMETRIC_ENCRYPTION: &[GrantOperation] = &[
    GrantOperation::Decrypt,
    GrantOperation::Encrypt,
    GrantOperation::GenerateDataKey,
    GrantOperation::GenerateDataKeyWithoutPlaintext,
    GrantOperation::ReEncryptFrom,
    GrantOperation::ReEncryptTo,
    GrantOperation::CreateGrant,
    GrantOperation::RetireGrant,
    GrantOperation::DescribeKey,
    GrantOperation::GenerateDataKeyPair,
    GrantOperation::GenerateDataKeyPairWithoutPlaintext,
];

/// The operations a grant on an asymmetric encryption key (RSA, SM2) may name.
const ASYMMETRIC_ENCRYPTION: &[GrantOperation] = &[
    GrantOperation::Decrypt,
    GrantOperation::Encrypt,
    GrantOperation::ReEncryptFrom,
    GrantOperation::ReEncryptTo,
    GrantOperation::GetPublicKey,
    GrantOperation::CreateGrant,
    GrantOperation::RetireGrant,
    GrantOperation::DescribeKey,
];

const SIGNING: &[GrantOperation] = &[
    GrantOperation::Sign,
    GrantOperation::Verify,
    GrantOperation::GetPublicKey,
    GrantOperation::CreateGrant,
    GrantOperation::RetireGrant,
    GrantOperation::DescribeKey,
];

const MAC: &[GrantOperation] = &[
    GrantOperation::GenerateMac,
    GrantOperation::VerifyMac,
    GrantOperation::CreateGrant,
    GrantOperation::RetireGrant,
    GrantOperation::DescribeKey,
];

const KEY_AGREEMENT: &[GrantOperation] = &[
    GrantOperation::DeriveSharedSecret,
    GrantOperation::GetPublicKey,
    GrantOperation::CreateGrant,
    GrantOperation::RetireGrant,
    GrantOperation::DescribeKey,
];

const KEY_ENCAPSULATION: &[GrantOperation] = &[
    GrantOperation::Encapsulate,
    GrantOperation::Decapsulate,
    GrantOperation::GetPublicKey,
    GrantOperation::CreateGrant,
    GrantOperation::RetireGrant,
    GrantOperation::DescribeKey,
];

/// The operations a grant on `key` may name (AWS: a grant cannot allow what the key does not
/// support), and how AWS's message names that kind of key.
fn grantable(key: &Key) -> (&'static [GrantOperation], &'static str) {
    match key.usage {
        KeyUsage::EncryptDecrypt if key.spec == KeySpec::SymmetricDefault => {
            (SYMMETRIC_ENCRYPTION, "a symmetric encryption key")
        }
        KeyUsage::EncryptDecrypt => (ASYMMETRIC_ENCRYPTION, "an asymmetric encryption key"),
        KeyUsage::SignVerify => (SIGNING, "an asymmetric signing key"),
        KeyUsage::GenerateVerifyMac => (MAC, "an HMAC key"),
        KeyUsage::KeyAgreement => (KEY_AGREEMENT, "a key agreement key"),
        KeyUsage::EncapsulateDecapsulate => (KEY_ENCAPSULATION, "a key encapsulation key"),
    }
}

#[async_trait]
impl Operation for CreateGrant {
    const NAME: &'static str = "CreateGrant";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Own(50);
    const ACTION: &'static str = "kms:CreateGrant";
    const CROSS_ACCOUNT: bool = true;
    const READ_ONLY: bool = false;
    type Input = CreateGrantRequest;
    type Output = CreateGrantResponse;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        Ok(vec![KeyTarget::field(
            &input.key_id,
            false,
            Self::ACTION,
            StateRule::Cryptographic,
        )])
    }

    fn conditions(input: &Self::Input, _: &str, context: &mut Context) {
        context.insert_multi(
            "kms:GrantOperations",
            input.operations.clone().unwrap_or_default(),
        );
        if let Some(grantee) = &input.grantee_principal {
            context.insert("kms:GranteePrincipal", grantee.as_str());
        }
        if let Some(retiring) = &input.retiring_principal {
            context.insert("kms:RetiringPrincipal", retiring.as_str());
        }
        context.insert_bool("kms:GrantIsForAWSResource", false);
        if let Some(c) = &input.constraints {
            let mut types = Vec::new();
            if c.encryption_context_equals.is_some() {
                types.push("EncryptionContextEquals".to_string());
            }
            if c.encryption_context_subset.is_some() {
                types.push("EncryptionContextSubset".to_string());
            }
            context.insert_multi("kms:GrantConstraintType", types);
        }
    }

    fn dry_run(input: &Self::Input) -> bool {
        input.dry_run == Some(true)
    }

    async fn run(
        kms: &Kms,
        caller: &Caller,
        input: Self::Input,
        keys: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        let key = super::only(keys)?;
        let mut operations: Vec<String> = input.operations.clone().unwrap_or_default();
        operations.sort();
        operations.dedup();
        check_operations(&key.key, &operations)?;
        let constraints = input
            .constraints
            .clone()
            .filter(|c| *c != GrantConstraints::default());
        check_constraints(&key.key, constraints.as_ref())?;
        if let Some(parent) = &key.via_grant {
            check_within_parent(parent, &operations, constraints.as_ref())?;
        }
        let operations_text =
            serde_json::to_string(&operations).map_err(|_| KmsError::internal())?;
        let constraints_text = match &constraints {
            Some(c) => Some(serde_json::to_string(c).map_err(|_| KmsError::internal())?),
            None => None,
        };
        let grantee = crate::access::grants::iam_principal(
            input.grantee_principal.as_deref(),
            input.grantee_service_principal.as_deref(),
            ("GranteePrincipal", "GranteeServicePrincipal"),
            KmsError::UnsupportedOperation,
        )?
        .ok_or_else(|| {
            KmsError::Validation(
                "You must specify either GranteePrincipal or GranteeServicePrincipal.".into(),
            )
        })?
        .to_string();
        crate::access::grants::iam_principal(
            input.retiring_principal.as_deref(),
            input.retiring_service_principal.as_deref(),
            ("RetiringPrincipal", "RetiringServicePrincipal"),
            KmsError::UnsupportedOperation,
        )?;
        if let Some(name) = &input.name {
            let same = kms
                .store()
                .find_grant_by_name(key.key.id(), name)
                .await
                .map_err(error::store)?;
            let existing = same.into_iter().find(|g| {
                g.grantee_principal == grantee
                    && g.retiring_principal == input.retiring_principal
                    && g.operations == operations_text
                    && grants::constraints(g) == constraints
            });
            if let Some(g) = existing {
                return Ok(CreateGrantResponse {
                    grant_token: g.grant_token,
                    grant_id: g.grant_id,
                });
            }
        }
        let row = GrantRow {
            grant_id: hex(&ferrokms_crypto::random_bytes(32)
                .map_err(error::crypto)?
                .into_vec()),
            key_id: key.key.id().to_string(),
            grant_token: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
                ferrokms_crypto::random_bytes(48)
                    .map_err(error::crypto)?
                    .into_vec(),
            ),
            name: input.name,
            grantee_principal: grantee,
            retiring_principal: input.retiring_principal,
            issuing_account: caller.account_id.clone(),
            operations: operations_text,
            constraints: constraints_text,
            creation_date: kms.now_ms(),
        };
        kms.store().insert_grant(&row).await.map_err(error::store)?;
        Ok(CreateGrantResponse {
            grant_token: row.grant_token,
            grant_id: row.grant_id,
        })
    }
}

fn check_operations(key: &Key, operations: &[String]) -> Result<(), KmsError> {
    if operations.is_empty() {
        return Err(KmsError::Validation(
            "A grant must allow at least one operation.".into(),
        ));
    }
    let (allowed, kind) = grantable(key);
    for op in operations {
        let parsed = GrantOperation::parse(op);
        if !parsed.is_some_and(|p| allowed.contains(&p)) {
            return Err(KmsError::Validation(format!(
                "Grant operation {op} is not valid for {kind}."
            )));
        }
    }
    Ok(())
}

/// Encryption context constraints exist only for keys whose operations take an encryption
/// context: symmetric encryption keys.
fn check_constraints(key: &Key, constraints: Option<&GrantConstraints>) -> Result<(), KmsError> {
    let symmetric = key.spec == KeySpec::SymmetricDefault;
    if constraints.is_some() && !symmetric {
        return Err(KmsError::Validation(
            "Encryption context grant constraints are supported only for symmetric encryption KMS keys.".into(),
        ));
    }
    Ok(())
}

/// A grantee creating a grant through its own grant may pass on only what it holds: a subset of
/// the operations, and the same constraints.
fn check_within_parent(
    parent: &GrantRow,
    operations: &[String],
    constraints: Option<&GrantConstraints>,
) -> Result<(), KmsError> {
    let held = grants::operations(parent);
    if let Some(extra) = operations.iter().find(|op| !held.contains(op)) {
        return Err(KmsError::AccessDenied(format!(
            "The grant that allows this CreateGrant does not allow {extra}, so it cannot be granted."
        )));
    }
    if grants::constraints(parent).is_some() && grants::constraints(parent).as_ref() != constraints
    {
        return Err(KmsError::AccessDenied(
            "A grant created through a constrained grant must carry the same constraints.".into(),
        ));
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::key_of;

    fn ops(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn grant_operations_follow_the_key_type() {
        let signing = key_of(KeySpec::EccNistP256, KeyUsage::SignVerify);
        assert!(check_operations(&signing, &ops(&["Sign", "Verify", "GetPublicKey"])).is_ok());
        let err = check_operations(&signing, &ops(&["Encrypt"])).unwrap_err();
        assert_eq!(
            err.message(),
            "Grant operation Encrypt is not valid for an asymmetric signing key."
        );
        let rsa = key_of(KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
        assert!(check_operations(&rsa, &ops(&["Decrypt", "GetPublicKey"])).is_ok());
        assert!(check_operations(&rsa, &ops(&["GenerateDataKey"])).is_err());
        let hmac = key_of(KeySpec::Hmac256, KeyUsage::GenerateVerifyMac);
        assert!(check_operations(&hmac, &ops(&["GenerateMac", "VerifyMac"])).is_ok());
        assert!(check_operations(&hmac, &ops(&["GetPublicKey"])).is_err());
        let ecdh = key_of(KeySpec::EccNistP384, KeyUsage::KeyAgreement);
        assert!(check_operations(&ecdh, &ops(&["DeriveSharedSecret"])).is_ok());
        let kem = key_of(KeySpec::MlKem768, KeyUsage::EncapsulateDecapsulate);
        assert!(check_operations(&kem, &ops(&["Encapsulate", "Decapsulate"])).is_ok());
        let aes = key_of(KeySpec::SymmetricDefault, KeyUsage::EncryptDecrypt);
        assert!(check_operations(&aes, &ops(&["Sign"])).is_err());
    }

    #[test]
    fn constraints_only_on_symmetric_keys() {
        let c = GrantConstraints {
            encryption_context_subset: Some([("a".to_string(), "b".to_string())].into()),
            ..Default::default()
        };
        let signing = key_of(KeySpec::EccNistP256, KeyUsage::SignVerify);
        assert!(check_constraints(&signing, Some(&c)).is_err());
        let aes = key_of(KeySpec::SymmetricDefault, KeyUsage::EncryptDecrypt);
        assert!(check_constraints(&aes, Some(&c)).is_ok());
    }
}
