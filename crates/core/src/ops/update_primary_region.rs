//! UpdatePrimaryRegion: makes the replica of a multi-Region key in `PrimaryRegion` the primary
//! and the former primary a replica. Every related key records the primary Region, and the store
//! moves it on all of them in one transaction, so no reader ever sees two primaries or none (AWS
//! shows a transient `Updating` state instead; ferrokms has nothing in between to show).
//!
//! Permissions as at AWS: `kms:UpdatePrimaryRegion` on the current primary (the pipeline checks
//! it) and on the replica that becomes primary (checked here, in its own Region).

use crate::access::authz::{self, AuthorizedKey};
use crate::key::Key;
use crate::key_state::StateRule;
use crate::pipeline::{KeySource, KeyTarget, Operation};
use crate::{access::conditions, error, material::rotation, Caller, Kms};
use async_trait::async_trait;
use ferrokms_policy::Context;
use ferrokms_store::{KeyRotationRow, StoreError};
use ferrokms_types::shapes::multi_region::UpdatePrimaryRegionRequest;
use ferrokms_types::shapes::Empty;
use ferrokms_types::KmsError;

pub struct UpdatePrimaryRegion;

#[async_trait]
impl Operation for UpdatePrimaryRegion {
    const NAME: &'static str = "UpdatePrimaryRegion";
    const ACTION: &'static str = "kms:UpdatePrimaryRegion";
    const CROSS_ACCOUNT: bool = false;
    const READ_ONLY: bool = false;
    type Input = UpdatePrimaryRegionRequest;
    type Output = Empty;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        Ok(vec![KeyTarget::field(
            &input.key_id,
            false,
            Self::ACTION,
            StateRule::Manage,
        )])
    }

    /// The replica in that Region becomes the primary: the request counts against that
    /// Region's quota too.
    fn other_quota_regions(input: &Self::Input) -> Vec<Option<&str>> {
        vec![input.primary_region.as_deref()]
    }

    fn conditions(input: &Self::Input, _: &str, context: &mut Context) {
        if let Some(region) = &input.primary_region {
            context.insert("kms:PrimaryRegion", region.as_str());
        }
    }

    async fn run(
        kms: &Kms,
        caller: &Caller,
        input: Self::Input,
        keys: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        let primary = super::only(keys)?.key;
        let region = input.primary_region.clone().unwrap_or_default();
        let family = check_movable(&primary, &region)?;
        let account = &primary.row.account_id;
        let replica = kms.key_in(account, &region, primary.key_id()).await?;
        let replica = authorize_replica(kms, caller, &input, replica).await?;
        StateRule::Manage.check(replica.state, replica.arn())?;

        let moved = kms
            .store()
            .set_primary_region(account, family, &primary.row.region, &region)
            .await;
        // Both rows changed (or may have, if another node won): drop what this process cached.
        kms.forget_key_row(account, &primary.row.region, primary.id());
        kms.forget_key_row(account, &region, replica.id());
        match moved {
            Ok(()) => {
                move_rotation_schedule(kms, &primary, &replica).await;
                Ok(Empty {})
            }
            Err(StoreError::Conflict) => Err(KmsError::KmsInvalidState(format!(
                "The primary Region of {} changed while this request was being carried out.",
                primary.arn()
            ))),
            Err(StoreError::NotFound) => Err(KmsError::NotFound(format!(
                "Key '{}' does not exist",
                replica.arn()
            ))),
            Err(other) => Err(error::store(other)),
        }
    }
}

/// Automatic rotation belongs to the primary (only a primary rotates, for all related keys):
/// the old primary's schedule moves to the new one, through the same compare-and-swap update
/// EnableKeyRotation uses. Done after the switch, so a failure here leaves the primary switched
/// and is logged; EnableKeyRotation on the new primary repairs it.
async fn move_rotation_schedule(kms: &Kms, old: &Key, new: &Key) {
    let result: Result<(), KmsError> = async {
        let schedule = kms
            .store()
            .get_key_rotation(old.id())
            .await
            .map_err(error::store)?;
        let Some(schedule) = schedule.filter(|s| s.enabled) else {
            return Ok(());
        };
        rotation::update_schedule(kms, new, StateRule::Any, |_, _| {
            Some(KeyRotationRow {
                key_id: new.id().to_string(),
                ..schedule.clone()
            })
        })
        .await?;
        rotation::update_schedule(kms, old, StateRule::Any, |current, _| {
            current.map(|s| KeyRotationRow {
                enabled: false,
                next_rotation_date: None,
                ..s.clone()
            })
        })
        .await
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(key = old.arn(), error = %e, "moving the rotation schedule to the new primary failed");
    }
}

/// The family id, if `key` is a multi-Region primary key and `region` another Region.
fn check_movable<'k>(key: &'k Key, region: &str) -> Result<&'k str, KmsError> {
    let Some(family) = key.row.multi_region_id.as_deref() else {
        return Err(KmsError::UnsupportedOperation(format!(
            "{} is not a multi-Region key.",
            key.arn()
        )));
    };
    if !key.is_primary() {
        return Err(KmsError::UnsupportedOperation(format!(
            "{} is not a multi-Region primary key. Call UpdatePrimaryRegion on its primary key.",
            key.arn()
        )));
    }
    if region == key.row.region {
        return Err(KmsError::Validation(format!(
            "{} is already the primary key in {region}.",
            key.arn()
        )));
    }
    Ok(family)
}

/// The replica's own policies (and grants) must allow the caller `kms:UpdatePrimaryRegion`.
async fn authorize_replica(
    kms: &Kms,
    caller: &Caller,
    input: &UpdatePrimaryRegionRequest,
    replica: Key,
) -> Result<Key, KmsError> {
    let source = KeySource::Field {
        value: replica.arn().to_string(),
        aliases: false,
    };
    let mut context = conditions::caller(caller, kms.now_ms());
    conditions::key(&replica, &source, &mut context);
    conditions::resource(kms, &replica, &mut context).await?;
    UpdatePrimaryRegion::conditions(input, UpdatePrimaryRegion::ACTION, &mut context);
    let authorized = authz::authorize(
        kms,
        caller,
        replica,
        UpdatePrimaryRegion::ACTION,
        &context,
        None,
    )
    .await?;
    Ok(authorized.key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrokms_types::enums::{KeySpec, KeyUsage};

    fn key(family: Option<&str>, region: &str, primary: Option<&str>) -> Key {
        let mut row =
            (*crate::testing::key_of(KeySpec::SymmetricDefault, KeyUsage::EncryptDecrypt).row)
                .clone();
        row.region = region.into();
        row.arn = format!("arn:aws:kms:{region}:111122223333:key/k");
        row.multi_region_id = family.map(Into::into);
        row.multi_region = family.is_some();
        row.primary_region = primary.map(Into::into);
        Key::from_row(row).expect("row")
    }

    fn refusal(key: &Key, region: &str) -> String {
        let e = check_movable(key, region).unwrap_err();
        format!("{}: {}", e.wire_name(), e.message())
    }

    #[test]
    fn only_a_primary_moves_and_only_to_another_region() {
        assert_eq!(
            refusal(&key(None, "us-east-1", None), "eu-west-1"),
            "UnsupportedOperationException: arn:aws:kms:us-east-1:111122223333:key/k is not a multi-Region key."
        );
        let replica = key(Some("mrk-1"), "eu-west-1", Some("us-east-1"));
        assert!(refusal(&replica, "us-east-1").contains("is not a multi-Region primary key"));
        let primary = key(Some("mrk-1"), "us-east-1", Some("us-east-1"));
        assert!(refusal(&primary, "us-east-1").starts_with("ValidationException: "));
        assert_eq!(check_movable(&primary, "eu-west-1").ok(), Some("mrk-1"));
    }
}
