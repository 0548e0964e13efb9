//! CreateGrant: lets a grantee principal perform some operations on a key, optionally only with
//! some encryption contexts. Idempotent by Name: the same name and parameters give the same grant.

use crate::authz::AuthorizedKey;
use crate::key_state::StateRule;
use crate::pipeline::{KeyTarget, Operation};
use crate::{error, grants, Caller, Kms};
use async_trait::async_trait;
use base64::Engine;
use ferrokms_policy::Context;
use ferrokms_store::GrantRow;
use ferrokms_types::enums::GrantOperation;
use ferrokms_types::shapes::grants::{CreateGrantRequest, CreateGrantResponse, GrantConstraints};
use ferrokms_types::KmsError;

pub struct CreateGrant;

/// AWS's limit of grants per key.
pub const MAX_GRANTS_PER_KEY: usize = 50_000;

/// The operations a grant on a symmetric encryption key may name.
const SYMMETRIC_OPERATIONS: &[GrantOperation] = &[
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

#[async_trait]
impl Operation for CreateGrant {
    const NAME: &'static str = "CreateGrant";
    const ACTION: &'static str = "kms:CreateGrant";
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
        check_operations(&operations)?;
        let constraints = input
            .constraints
            .clone()
            .filter(|c| *c != GrantConstraints::default());
        if let Some(parent) = &key.via_grant {
            check_within_parent(parent, &operations, constraints.as_ref())?;
        }
        let operations_text =
            serde_json::to_string(&operations).map_err(|_| KmsError::internal())?;
        let constraints_text = match &constraints {
            Some(c) => Some(serde_json::to_string(c).map_err(|_| KmsError::internal())?),
            None => None,
        };
        let grantee = input.grantee_principal.unwrap_or_default();
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

fn check_operations(operations: &[String]) -> Result<(), KmsError> {
    if operations.is_empty() {
        return Err(KmsError::Validation(
            "A grant must allow at least one operation.".into(),
        ));
    }
    for op in operations {
        let parsed = GrantOperation::parse(op);
        if !parsed.is_some_and(|p| SYMMETRIC_OPERATIONS.contains(&p)) {
            return Err(KmsError::Validation(format!(
                "Grant operation {op} is not valid for a symmetric encryption key."
            )));
        }
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
