//! ReplicateKey: copies a multi-Region primary key into another Region of the same account. The
//! replica shares the primary's key id, key material, key spec, usage and origin (so either one
//! opens the other's ciphertexts), and has its own policy, description, tags, aliases and state.
//!
//! Permissions as at AWS: `kms:ReplicateKey` on the primary (the pipeline checks it), and
//! `kms:CreateKey` (plus `kms:TagResource` with Tags) in an identity policy evaluated in the
//! replica Region. The replica's material is the primary's, unwrapped for this authorised request
//! and wrapped again bound to the replica's own row. The replica is Enabled at once: AWS shows a
//! transient `Creating` state while it copies across Regions, which one store does not need.
//! A primary with imported material (Origin EXTERNAL) gives its replica no material: the replica
//! is PendingImport until the same material is imported into it, as at AWS.

use crate::access::authz::{self, AuthorizedKey};
use crate::key::{stored_key_id, Key};
use crate::key_state::StateRule;
use crate::pipeline::{KeyTarget, Operation};
use crate::{access::conditions, error, material::imported, Caller, Kms};
use async_trait::async_trait;
use ferrokms_policy::Context;
use ferrokms_store::{KeyRow, KeyVersionRow, StoreError};
use ferrokms_types::enums::{KeyState, Origin};
use ferrokms_types::ids::key_arn;
use ferrokms_types::shapes::multi_region::{ReplicateKeyRequest, ReplicateKeyResponse};
use ferrokms_types::KmsError;

pub struct ReplicateKey;

#[async_trait]
impl Operation for ReplicateKey {
    const NAME: &'static str = "ReplicateKey";
    const ACTION: &'static str = "kms:ReplicateKey";
    const CROSS_ACCOUNT: bool = false;
    const READ_ONLY: bool = false;

    fn created_key(output: &Self::Output) -> Option<&str> {
        Some(&output.replica_key_metadata.arn)
    }

    type Input = ReplicateKeyRequest;
    type Output = ReplicateKeyResponse;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        Ok(vec![KeyTarget::field(
            &input.key_id,
            false,
            Self::ACTION,
            StateRule::Manage,
        )])
    }

    /// The replica is created in its Region: the request counts against that Region's quota
    /// too.
    fn other_quota_regions(input: &Self::Input) -> Vec<Option<&str>> {
        vec![input.replica_region.as_deref()]
    }

    fn conditions(input: &Self::Input, _: &str, context: &mut Context) {
        if let Some(region) = &input.replica_region {
            context.insert("kms:ReplicaRegion", region.as_str());
        }
    }

    async fn run(
        kms: &Kms,
        caller: &Caller,
        input: Self::Input,
        keys: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        let primary = super::only(keys)?;
        let region = input.replica_region.clone().unwrap_or_default();
        check_replicable(&primary.key, &region)?;
        let tags = super::create_key::new_key_tags(input.tags.as_deref())?;
        authorize_in_replica_region(kms, caller, &primary.key, &input, &region).await?;

        let key_id = primary.key.key_id().to_string();
        let arn = key_arn(&region, &caller.account_id, &key_id);
        let policy = super::create_key::policy_of(
            input.policy,
            input.bypass_policy_lockout_safety_check,
            caller,
            &arn,
        )?;
        let p = &primary.key.row;
        let stored_id = stored_key_id(&region, &key_id).ok_or_else(KmsError::internal)?;
        let now = kms.now_ms();
        // Every material the primary has (rotated ones included), re-wrapped for the replica's
        // row, with the primary's KeyMaterialIds and rotation history.
        let originals = kms
            .store()
            .list_key_versions(&p.key_id)
            .await
            .map_err(error::store)?;
        let external = primary.key.origin == Origin::External;
        let mut copies = Vec::with_capacity(originals.len());
        for original in &originals {
            copies.push(if external {
                imported_copy(original, &stored_id)
            } else {
                let material = kms.key_material(&primary, original.version).await?;
                KeyVersionRow {
                    key_id: stored_id.clone(),
                    wrapped_material: kms.wrap_material(&stored_id, original.version, &material)?,
                    material_id: crate::material::materials::material_id(original),
                    ..original.clone()
                }
            });
        }
        let Some((first, rest)) = copies.split_first() else {
            return Err(KmsError::internal());
        };
        let row = KeyRow {
            key_id: stored_id,
            account_id: p.account_id.clone(),
            region: region.clone(),
            arn: arn.clone(),
            description: input.description.unwrap_or_default(),
            key_usage: p.key_usage.clone(),
            key_spec: p.key_spec.clone(),
            origin: p.origin.clone(),
            state: if external {
                KeyState::PendingImport
            } else {
                KeyState::Enabled
            }
            .as_str()
            .into(),
            policy: policy.clone(),
            creation_date: now,
            deletion_date: None,
            pending_window_days: None,
            current_version: first.version,
            multi_region: true,
            multi_region_id: p.multi_region_id.clone(),
            primary_region: p.primary_region.clone(),
            // Multi-Region keys never live in custom key stores.
            custom_key_store_id: None,
            row_version: 1,
        };
        match kms.store().insert_key(&row, first, &tags).await {
            Ok(()) => {}
            Err(StoreError::AlreadyExists) => return Err(already_replicated(&arn)),
            Err(other) => return Err(error::store(other)),
        }
        for copy in rest {
            kms.store()
                .insert_key_version(copy)
                .await
                .map_err(error::store)?;
        }
        // The replica starts on the primary's current material once it has all of them.
        let row = if p.current_version != row.current_version {
            let mut current = row.clone();
            current.current_version = p.current_version;
            kms.store()
                .update_key(&current)
                .await
                .map_err(error::store)?
        } else {
            row
        };
        check_primary_unmoved(kms, &row).await?;
        let replica = Key::from_row(row)?;
        Ok(ReplicateKeyResponse {
            replica_key_metadata: kms.key_metadata(&replica).await?,
            replica_policy: policy,
            replica_tags: input.tags.unwrap_or_default(),
        })
    }
}

/// A material row of a primary with imported material, as its replica starts with it: no
/// material (AWS copies none: the same material is imported into each related key), but the
/// primary's KeyMaterialId and digest, so that only that material can be imported into it.
fn imported_copy(original: &KeyVersionRow, stored_id: &str) -> KeyVersionRow {
    KeyVersionRow {
        key_id: stored_id.to_string(),
        wrapped_material: Vec::new(),
        import_state: Some(imported::PENDING_IMPORT.into()),
        expiration_model: None,
        valid_to: None,
        ..original.clone()
    }
}

/// Only a multi-Region primary key is replicated, and never into its own Region.
fn check_replicable(key: &Key, region: &str) -> Result<(), KmsError> {
    if key.row.multi_region_id.is_none() {
        return Err(KmsError::UnsupportedOperation(format!(
            "{} is not a multi-Region key.",
            key.arn()
        )));
    }
    if !key.is_primary() {
        return Err(KmsError::UnsupportedOperation(format!(
            "{} is not a multi-Region primary key. Replicate its primary key.",
            key.arn()
        )));
    }
    if region == key.row.region {
        return Err(KmsError::Validation(format!(
            "The replica Region {region} must differ from the Region of the primary key."
        )));
    }
    Ok(())
}

/// An UpdatePrimaryRegion that committed between reading the primary and inserting the replica
/// would leave the replica naming the old primary Region. Every related key must name the same
/// one, so in that case the replica is removed again and the caller asked to retry.
async fn check_primary_unmoved(kms: &Kms, replica: &KeyRow) -> Result<(), KmsError> {
    let family = replica.multi_region_id.as_deref().unwrap_or_default();
    let related = kms
        .store()
        .multi_region_keys(&replica.account_id, family)
        .await
        .map_err(error::store)?;
    if related
        .iter()
        .all(|r| r.primary_region == replica.primary_region)
    {
        return Ok(());
    }
    match kms.store().destroy_key(&replica.key_id).await {
        Ok(()) | Err(StoreError::NotFound) => {}
        Err(other) => return Err(error::store(other)),
    }
    Err(KmsError::KmsInvalidState(format!(
        "The primary Region of {} changed during replication; replicate it again.",
        replica.arn
    )))
}

fn already_replicated(arn: &str) -> KmsError {
    KmsError::AlreadyExists(format!("{arn} already exists."))
}

/// `kms:CreateKey` (and `kms:TagResource` with tags) in an identity policy, as the caller would
/// need to create the replica in its Region directly; the context is CreateKey's for this key.
async fn authorize_in_replica_region(
    kms: &Kms,
    caller: &Caller,
    primary: &Key,
    input: &ReplicateKeyRequest,
    region: &str,
) -> Result<(), KmsError> {
    let there = Caller {
        region: region.to_string(),
        ..caller.clone()
    };
    let mut context = conditions::caller(&there, kms.now_ms());
    let tags = input.tags.as_deref().unwrap_or_default();
    super::tag_resource::request_tag_conditions(tags, &mut context);
    context
        .insert("kms:KeySpec", primary.spec.as_str())
        .insert("kms:KeyUsage", primary.usage.as_str())
        .insert("kms:KeyOrigin", primary.origin.as_str())
        .insert("kms:MultiRegion", "true");
    authz::authorize_account(kms, &there, "kms:CreateKey", &context).await?;
    if !tags.is_empty() {
        authz::authorize_account(kms, &there, "kms:TagResource", &context).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(multi_region_id: Option<&str>, region: &str, primary: Option<&str>) -> Key {
        use ferrokms_types::enums::{KeySpec, KeyUsage};
        let mut row =
            (*crate::testing::key_of(KeySpec::SymmetricDefault, KeyUsage::EncryptDecrypt).row)
                .clone();
        row.region = region.into();
        row.arn = format!("arn:aws:kms:{region}:111122223333:key/k");
        row.multi_region_id = multi_region_id.map(Into::into);
        row.multi_region = multi_region_id.is_some();
        row.primary_region = primary.map(Into::into);
        Key::from_row(row).expect("row")
    }

    /// A replica inserted after its primary moved is removed again; one naming the current
    /// primary Region stays.
    #[tokio::test]
    async fn a_replica_naming_a_stale_primary_region_is_removed() {
        let store = ferrokms_store::sqlite::SqliteStore::open_in_memory()
            .await
            .unwrap();
        let clock = std::sync::Arc::new(crate::clock::ManualClock::new(0));
        let root = ferrokms_crypto::RootKey::generate().unwrap();
        let kms = Kms::new(std::sync::Arc::new(store), root, clock);
        let row = |region: &str, primary: &str| {
            let mut r = (*key(Some("mrk-1"), region, Some(primary)).row).clone();
            r.key_id = format!("mrk-1@{region}");
            r
        };
        let version = |r: &KeyRow| KeyVersionRow {
            key_id: r.key_id.clone(),
            version: 1,
            wrapped_material: vec![1],
            created_at: 0,
            ..KeyVersionRow::default()
        };
        // The primary moved to eu-west-1 (both existing keys say so)...
        for r in [row("us-east-1", "eu-west-1"), row("eu-west-1", "eu-west-1")] {
            kms.store().insert_key(&r, &version(&r), &[]).await.unwrap();
        }
        // ...after a replica to ap-south-1 read it in us-east-1.
        let stale = row("ap-south-1", "us-east-1");
        kms.store()
            .insert_key(&stale, &version(&stale), &[])
            .await
            .unwrap();
        let err = check_primary_unmoved(&kms, &stale).await.unwrap_err();
        assert_eq!(err.wire_name(), "KMSInvalidStateException");
        let left = kms
            .store()
            .multi_region_keys(&stale.account_id, "mrk-1")
            .await;
        assert_eq!(left.unwrap().len(), 2);

        let current = row("ap-south-1", "eu-west-1");
        kms.store()
            .insert_key(&current, &version(&current), &[])
            .await
            .unwrap();
        assert!(check_primary_unmoved(&kms, &current).await.is_ok());
    }

    fn refusal(key: &Key, region: &str) -> String {
        let e = check_replicable(key, region).unwrap_err();
        format!("{}: {}", e.wire_name(), e.message())
    }

    #[test]
    fn only_a_primary_is_replicated_and_only_elsewhere() {
        let single = key(None, "us-east-1", None);
        assert_eq!(
            refusal(&single, "eu-west-1"),
            "UnsupportedOperationException: arn:aws:kms:us-east-1:111122223333:key/k is not a multi-Region key."
        );
        let replica = key(Some("mrk-1"), "eu-west-1", Some("us-east-1"));
        assert!(refusal(&replica, "ap-south-1")
            .starts_with("UnsupportedOperationException: arn:aws:kms:eu-west-1:111122223333:key/k is not a multi-Region primary key."));
        let primary = key(Some("mrk-1"), "us-east-1", Some("us-east-1"));
        assert!(refusal(&primary, "us-east-1").starts_with("ValidationException: "));
        assert!(check_replicable(&primary, "eu-west-1").is_ok());
    }
}
