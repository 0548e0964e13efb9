//! UpdateAlias: point an existing alias at another key of the same type and usage.
//!
//! AWS requires kms:UpdateAlias on the alias (identity policy), on the key it points at now and on
//! the key it is to point at (key policies): moving an alias away from a key is a change to that
//! key's users, so a caller with no access to it must not be able to do it. The write is
//! conditional on the key the caller was authorised for; if the alias moved meanwhile, the key it
//! points at now is authorised in turn.

use super::create_alias::alias_target;
use crate::access::authz::AuthorizedKey;
use crate::key_state::StateRule;
use crate::pipeline::{authorize_target, KeyTarget, Operation};
use crate::{error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_store::StoreError;
use ferrokms_types::ids::{alias_arn, check_alias_name};
use ferrokms_types::shapes::aliases::AliasTargetRequest;
use ferrokms_types::shapes::Empty;
use ferrokms_types::KmsError;

pub struct UpdateAlias;

#[async_trait]
impl Operation for UpdateAlias {
    const NAME: &'static str = "UpdateAlias";
    const ACTION: &'static str = "kms:UpdateAlias";
    const CROSS_ACCOUNT: bool = false;
    const READ_ONLY: bool = false;
    type Input = AliasTargetRequest;
    type Output = Empty;

    fn aliases(input: &Self::Input) -> Vec<&str> {
        input.alias_name.as_deref().into_iter().collect()
    }

    /// The key the alias points at now, then the new target.
    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        check_alias_name(input.alias_name.as_deref().unwrap_or_default())?;
        Ok(vec![
            current_target(&input.alias_name, Self::ACTION),
            alias_target(&input.target_key_id, Self::ACTION)?,
        ])
    }

    async fn run(
        kms: &Kms,
        caller: &Caller,
        input: Self::Input,
        keys: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        let mut keys = keys.into_iter();
        let (Some(mut old), Some(new)) = (keys.next(), keys.next()) else {
            tracing::error!("UpdateAlias received fewer keys than it declared");
            return Err(KmsError::internal());
        };
        let name = input.alias_name.unwrap_or_default();
        loop {
            if old.key.usage != new.key.usage || old.key.spec != new.key.spec {
                return Err(KmsError::Validation(format!(
                    "Alias {name} cannot be changed from a key with KeySpec {} and KeyUsage {} to a key with KeySpec {} and KeyUsage {}.",
                    old.key.spec.as_str(), old.key.usage.as_str(), new.key.spec.as_str(), new.key.usage.as_str()
                )));
            }
            let written = kms
                .store()
                .update_alias(
                    &caller.account_id,
                    &caller.region,
                    &name,
                    old.key.id(),
                    new.key.id(),
                    kms.now_ms(),
                )
                .await;
            match after_alias_write(kms, caller, &name, Self::ACTION, written).await? {
                None => return Ok(Empty {}),
                Some(moved) => old = moved,
            }
        }
    }
}

/// What follows a compare-and-swap write of alias `name` conditional on the key it pointed at:
/// `None` when it landed; when another writer moved the alias in between (Conflict), the key it
/// points at now, authorised for `action` (it needs the caller's permission too), to try again
/// with. Each conflict is another writer's success, so the retries end.
pub(crate) async fn after_alias_write(
    kms: &Kms,
    caller: &Caller,
    name: &str,
    action: &'static str,
    written: Result<(), StoreError>,
) -> Result<Option<AuthorizedKey>, KmsError> {
    match written {
        Ok(()) => {
            kms.alias_written(&caller.account_id, &caller.region, name);
            Ok(None)
        }
        Err(StoreError::NotFound) => Err(KmsError::NotFound(format!(
            "Alias {} is not found.",
            alias_arn(&caller.region, &caller.account_id, name)
        ))),
        Err(StoreError::Conflict) => {
            kms.alias_written(&caller.account_id, &caller.region, name);
            let target = current_target(&Some(name.to_string()), action);
            Ok(Some(authorize_target(kms, caller, target).await?))
        }
        Err(other) => Err(error::store(other)),
    }
}

/// The key an alias points at, on which an operation changing the alias needs `action` (in any
/// key state: an alias may be moved away from, or deleted off, a key pending deletion).
pub(crate) fn current_target(alias_name: &Option<String>, action: &'static str) -> KeyTarget {
    KeyTarget::field(alias_name, true, action, StateRule::Any)
}
