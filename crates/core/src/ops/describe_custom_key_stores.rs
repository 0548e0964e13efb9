//! DescribeCustomKeyStores: the account's custom key stores in the caller's Region, or the one
//! named by id or by name, each with the connection state this node reached.
//!
//! Required permissions: kms:DescribeCustomKeyStores (IAM policy); no cross-account use.

use super::{check_marker, page, DEFAULT_LIMIT};
use crate::access::authz::AuthorizedKey;
use crate::key_stores::rows::{entry, load, not_found};
use crate::pipeline::Operation;
use crate::{error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_types::shapes::custom_key_stores::{
    DescribeCustomKeyStoresRequest, DescribeCustomKeyStoresResponse,
};
use ferrokms_types::KmsError;

pub struct DescribeCustomKeyStores;

#[async_trait]
impl Operation for DescribeCustomKeyStores {
    const NAME: &'static str = "DescribeCustomKeyStores";
    const ACTION: &'static str = "kms:DescribeCustomKeyStores";
    const CROSS_ACCOUNT: bool = false;
    const READ_ONLY: bool = true;
    type Input = DescribeCustomKeyStoresRequest;
    type Output = DescribeCustomKeyStoresResponse;

    async fn run(
        kms: &Kms,
        caller: &Caller,
        input: Self::Input,
        _: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        check_marker(input.marker.as_deref())?;
        let rows = match (&input.custom_key_store_id, &input.custom_key_store_name) {
            (Some(_), Some(_)) => {
                return Err(KmsError::Validation(
                    "Specify either CustomKeyStoreId or CustomKeyStoreName, not both.".into(),
                ))
            }
            (Some(id), None) => vec![load(kms, caller, id).await?],
            (None, name) => {
                let limit = input.limit.unwrap_or(DEFAULT_LIMIT);
                let rows = kms
                    .store()
                    .list_custom_key_stores(
                        &caller.account_id,
                        &caller.region,
                        name.as_deref(),
                        input.marker.as_deref(),
                        u32::try_from(limit + 1).unwrap_or(u32::MAX),
                    )
                    .await
                    .map_err(error::store)?;
                if let (Some(name), true) = (name, rows.is_empty()) {
                    return Err(not_found(name));
                }
                rows
            }
        };
        let limit = input.limit.unwrap_or(DEFAULT_LIMIT) as usize;
        let paged = page(rows, limit, |row| row.custom_key_store_id.clone());
        let mut custom_key_stores = Vec::with_capacity(paged.items.len());
        for row in &paged.items {
            custom_key_stores.push(entry(kms, row).await?);
        }
        Ok(DescribeCustomKeyStoresResponse {
            custom_key_stores,
            truncated: paged.next_marker.is_some(),
            next_marker: paged.next_marker,
        })
    }
}
