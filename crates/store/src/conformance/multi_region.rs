//! Conformance cases for multi-Region keys: related keys found by their shared id across Regions
//! and only in their account, and the primary Region moved on every row at once or not at all.

use super::{assert_store_err, version, Scope};
use crate::{KeyRow, Store, StoreError};

/// A multi-Region key of the family `family` in `scope`'s Region, whose primary is in `primary`.
fn related(scope: &Scope, family: &str, primary: &str) -> KeyRow {
    let mut key = scope.key(family);
    key.multi_region = true;
    key.multi_region_id = Some(family.to_string());
    key.primary_region = Some(primary.to_string());
    key
}

async fn insert(store: &dyn Store, key: &KeyRow) {
    store
        .insert_key(key, &version(&key.key_id, 1, b"wrapped"), &[])
        .await
        .expect("insert_key");
}

pub(super) async fn multi_region_keys_are_the_family_in_one_account(store: &dyn Store) {
    let east = Scope::new("mrk-family");
    let (west, south) = (east.in_region("eu-west-1"), east.in_region("ap-south-1"));
    let family = format!("mrk-{}", east.account);
    let primary = related(&east, &family, "us-east-1");
    let replicas = [
        related(&west, &family, "us-east-1"),
        related(&south, &family, "us-east-1"),
    ];
    insert(store, &primary).await;
    for replica in &replicas {
        insert(store, replica).await;
    }
    // Neither another family of the account nor the same id in another account belongs.
    insert(
        store,
        &related(&east, &format!("{family}-other"), "us-east-1"),
    )
    .await;
    let elsewhere = Scope::new("mrk-family-elsewhere");
    insert(store, &related(&elsewhere, &family, "us-east-1")).await;
    insert(store, &east.key("single")).await;

    let found = store
        .multi_region_keys(&east.account, &family)
        .await
        .expect("multi_region_keys");
    // Ordered by Region; every column as inserted.
    assert_eq!(
        found,
        vec![replicas[1].clone(), replicas[0].clone(), primary.clone()]
    );
    let none = store
        .multi_region_keys(&east.account, "mrk-none")
        .await
        .expect("multi_region_keys");
    assert!(none.is_empty());
}

pub(super) async fn set_primary_region_moves_every_row_or_none(store: &dyn Store) {
    let east = Scope::new("mrk-primary");
    let west = east.in_region("eu-west-1");
    let family = format!("mrk-{}", east.account);
    insert(store, &related(&east, &family, "us-east-1")).await;
    insert(store, &related(&west, &family, "us-east-1")).await;
    let primaries = |rows: Vec<KeyRow>| {
        rows.into_iter()
            .map(|r| (r.region, r.primary_region, r.row_version))
            .collect::<Vec<_>>()
    };

    store
        .set_primary_region(&east.account, &family, "us-east-1", "eu-west-1")
        .await
        .expect("set_primary_region");
    let moved = vec![
        ("eu-west-1".to_string(), Some("eu-west-1".to_string()), 2),
        ("us-east-1".to_string(), Some("eu-west-1".to_string()), 2),
    ];
    let after = store.multi_region_keys(&east.account, &family).await;
    assert_eq!(primaries(after.expect("list")), moved);

    // A stale expectation changes nothing.
    let stale = store
        .set_primary_region(&east.account, &family, "us-east-1", "us-east-1")
        .await;
    assert_store_err!(stale, StoreError::Conflict);
    // A Region with no related key cannot become the primary.
    let absent = store
        .set_primary_region(&east.account, &family, "eu-west-1", "ap-south-1")
        .await;
    assert_store_err!(absent, StoreError::NotFound);
    let unknown = store
        .set_primary_region(&east.account, "mrk-none", "us-east-1", "eu-west-1")
        .await;
    assert_store_err!(unknown, StoreError::NotFound);
    let unchanged = store.multi_region_keys(&east.account, &family).await;
    assert_eq!(primaries(unchanged.expect("list")), moved);
}

pub(super) async fn keys_in_state_finds_every_account_and_region(store: &dyn Store) {
    let east = Scope::new("keys-in-state");
    let west = east.in_region("eu-west-1");
    // A state no other case uses, so that the answer is exactly this case's rows.
    let state = format!("Test{}", east.account);
    let mut waiting = vec![east.key("a"), west.key("b")];
    for key in &mut waiting {
        key.state = state.clone();
        insert(store, key).await;
    }
    insert(store, &east.key("enabled")).await;
    let found = store
        .keys_in_state(&state, 10)
        .await
        .expect("keys_in_state");
    waiting.sort_by(|a, b| a.key_id.cmp(&b.key_id));
    assert_eq!(found, waiting);
    let first = store.keys_in_state(&state, 1).await.expect("keys_in_state");
    assert_eq!(first, waiting[..1].to_vec());
}
