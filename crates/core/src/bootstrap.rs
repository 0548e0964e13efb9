//! First start: the administrator principal of the account, created exactly once per data dir,
//! with an identity policy allowing every KMS action (a new user otherwise has no permissions,
//! as at AWS).

use crate::iam::identities;
use crate::iam::principals::{create_user, Credentials, PrincipalError};
use crate::{error, Kms};

const ADMIN_SETTING: &str = "bootstrap.admin_arn";
const ADMIN_POLICY_SETTING: &str = "bootstrap.admin_policy";
pub const ADMIN_NAME: &str = "admin";
pub const ADMIN_POLICY_NAME: &str = "AdministratorAccess";
pub const ADMIN_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"AllKms","Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#;

/// Creates the administrator on first start and returns its credentials; on later starts returns
/// None (the credentials were written out the first time and are not shown again). Either way
/// the administrator's policy is attached once, also to data dirs made before it existed.
pub async fn ensure_admin(
    kms: &Kms,
    account_id: &str,
) -> Result<Option<Credentials>, PrincipalError> {
    let setting = |e| PrincipalError::Kms(error::store(e));
    let existing = kms
        .store()
        .get_setting(ADMIN_SETTING)
        .await
        .map_err(setting)?;
    let created = match existing {
        Some(_) => None,
        None => match create_user(kms, account_id, ADMIN_NAME).await {
            Ok(creds) => {
                kms.store()
                    .set_setting(ADMIN_SETTING, &creds.arn)
                    .await
                    .map_err(setting)?;
                Some(creds)
            }
            // Another node of a cluster, starting at the same time on a fresh store, made it.
            Err(PrincipalError::AlreadyExists) => None,
            Err(e) => return Err(e),
        },
    };
    if kms
        .store()
        .get_setting(ADMIN_POLICY_SETTING)
        .await
        .map_err(setting)?
        .is_none()
    {
        match identities::put_policy(
            kms,
            identities::PrincipalKind::User,
            account_id,
            ADMIN_NAME,
            ADMIN_POLICY_NAME,
            ADMIN_POLICY,
        )
        .await
        {
            // The administrator was deleted on purpose: do not bring its power back.
            Ok(()) | Err(PrincipalError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
        kms.store()
            .set_setting(ADMIN_POLICY_SETTING, ADMIN_POLICY_NAME)
            .await
            .map_err(setting)?;
    }
    Ok(created)
}
