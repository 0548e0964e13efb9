//! First start: the administrator principal of the account, created exactly once per data dir.

use crate::principals::{create_user, Credentials, PrincipalError};
use crate::{error, Kms};

const ADMIN_SETTING: &str = "bootstrap.admin_arn";
pub const ADMIN_NAME: &str = "admin";

/// Creates the administrator on first start and returns its credentials; on later starts returns
/// None (the credentials were written out the first time and are not shown again).
pub async fn ensure_admin(
    kms: &Kms,
    account_id: &str,
) -> Result<Option<Credentials>, PrincipalError> {
    let existing = kms
        .store()
        .get_setting(ADMIN_SETTING)
        .await
        .map_err(|e| PrincipalError::Kms(error::store(e)))?;
    if existing.is_some() {
        return Ok(None);
    }
    let creds = create_user(kms, account_id, ADMIN_NAME).await?;
    kms.store()
        .set_setting(ADMIN_SETTING, &creds.arn)
        .await
        .map_err(|e| PrincipalError::Kms(error::store(e)))?;
    Ok(Some(creds))
}
