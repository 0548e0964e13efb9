//! ListKeyRotations: a key's completed rotations (ROTATIONS_ONLY, the default) or all its key
//! materials (ALL_KEY_MATERIAL), oldest first, paged by version number. Imported material also
//! shows its import state, expiration and description.

use super::{check_marker, page, DEFAULT_LIMIT};
use crate::access::authz::AuthorizedKey;
use crate::key::Key;
use crate::key_state::StateRule;
use crate::pipeline::{KeyTarget, Operation};
use crate::{error, material::materials, material::rotation, Caller, Kms};
use async_trait::async_trait;
use ferrokms_store::KeyVersionRow;
use ferrokms_types::enums::{IncludeKeyMaterial, KeyMaterialState, Origin, RotationType};
use ferrokms_types::shapes::rotation::{
    ListKeyRotationsRequest, ListKeyRotationsResponse, RotationsListEntry,
};
use ferrokms_types::{KmsError, Timestamp};

pub struct ListKeyRotations;

#[async_trait]
impl Operation for ListKeyRotations {
    const NAME: &'static str = "ListKeyRotations";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Own(100);
    const ACTION: &'static str = "kms:ListKeyRotations";
    const CROSS_ACCOUNT: bool = false;
    const READ_ONLY: bool = true;
    type Input = ListKeyRotationsRequest;
    type Output = ListKeyRotationsResponse;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        Ok(vec![KeyTarget::field(
            &input.key_id,
            false,
            Self::ACTION,
            StateRule::Any,
        )])
    }

    async fn run(
        kms: &Kms,
        _: &Caller,
        input: Self::Input,
        keys: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        check_marker(input.marker.as_deref())?;
        let after = match input.marker.as_deref() {
            None => 0,
            Some(m) => m
                .parse::<i64>()
                .map_err(|_| KmsError::InvalidMarker("The marker is not valid.".into()))?,
        };
        let key = super::only(keys)?;
        rotation::check_rotatable(&key.key, false)?;
        let all = input
            .include_key_material
            .as_deref()
            .and_then(IncludeKeyMaterial::parse)
            == Some(IncludeKeyMaterial::AllKeyMaterial);
        let versions = kms
            .store()
            .list_key_versions(key.key.id())
            .await
            .map_err(error::store)?;
        let listed: Vec<KeyVersionRow> = versions
            .into_iter()
            .filter(|v| v.version > after && (all || v.rotation_type.is_some()))
            .collect();
        let limit = input.limit.unwrap_or(DEFAULT_LIMIT) as usize;
        let page = page(listed, limit, |v| v.version.to_string());
        let rotations = page.items.iter().map(|v| entry(&key.key, v)).collect();
        Ok(ListKeyRotationsResponse {
            rotations,
            truncated: page.next_marker.is_some(),
            next_marker: page.next_marker,
        })
    }
}

fn entry(key: &Key, v: &KeyVersionRow) -> RotationsListEntry {
    let state = if v.version == key.row.current_version {
        KeyMaterialState::Current
    } else if rotation::is_pending_rotation(key, v) {
        KeyMaterialState::PendingRotation
    } else {
        KeyMaterialState::NonCurrent
    };
    let imported = key.origin == Origin::External;
    RotationsListEntry {
        key_id: key.id().to_string(),
        key_material_id: materials::material_id(v),
        key_material_description: v.material_description.clone().filter(|_| imported),
        import_state: v.import_state.clone().filter(|_| imported),
        key_material_state: state,
        expiration_model: v.expiration_model.clone().filter(|_| imported),
        valid_to: v.valid_to.filter(|_| imported).map(Timestamp),
        rotation_date: v.rotation_date.map(Timestamp),
        rotation_type: v.rotation_type.as_deref().and_then(RotationType::parse),
    }
}
