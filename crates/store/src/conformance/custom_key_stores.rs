//! Conformance cases for custom key stores: names unique per account and Region, every column
//! round-tripping, compare-and-swap updates and deletion, filtered pages in id order, the keys
//! inside a store.

use super::{assert_store_err, every_page, insert_key_row, unique, Scope, PAGE};
use crate::{CustomKeyStoreRow, KeyRow, Store, StoreError};

impl Scope {
    fn custom_key_store(&self, name: &str) -> CustomKeyStoreRow {
        CustomKeyStoreRow {
            custom_key_store_id: unique("cks"),
            account_id: self.account.clone(),
            region: self.region.clone(),
            name: name.into(),
            store_type: "AWS_CLOUDHSM".into(),
            cloud_hsm_cluster_id: Some("cluster-234567abcdefg".into()),
            trust_anchor_certificate: Some("-----BEGIN CERTIFICATE-----".into()),
            wrapped_password: Some(vec![1, 2, 3, 0, 255]),
            xks_uri_endpoint: None,
            xks_uri_path: None,
            xks_connectivity: None,
            xks_access_key_id: None,
            wrapped_xks_secret: None,
            connection_state: "DISCONNECTED".into(),
            creation_date: 1_700_000_000_000,
            row_version: 1,
        }
    }
}

async fn get(store: &dyn Store, scope: &Scope, id: String) -> Option<CustomKeyStoreRow> {
    store
        .get_custom_key_store(&scope.account, &scope.region, &id)
        .await
        .expect("get_custom_key_store")
}

pub(super) async fn insert_get_and_unique_names(store: &dyn Store) {
    let scope = Scope::new("cks-names");
    let hsm = scope.custom_key_store("hsm");
    store.insert_custom_key_store(&hsm).await.expect("insert");
    assert_eq!(
        get(store, &scope, hsm.custom_key_store_id.clone()).await,
        Some(hsm.clone())
    );

    // Every optional column round-trips, the external key store's too.
    let mut xks = scope.custom_key_store("xks");
    xks.store_type = "EXTERNAL_KEY_STORE".into();
    (
        xks.cloud_hsm_cluster_id,
        xks.trust_anchor_certificate,
        xks.wrapped_password,
    ) = (None, None, None);
    xks.xks_uri_endpoint = Some("https://proxy.example".into());
    xks.xks_uri_path = Some("/kms/xks/v1".into());
    xks.xks_connectivity = Some("PUBLIC_ENDPOINT".into());
    xks.xks_access_key_id = Some("ABCDEFGHIJKLMNOPQRST".into());
    xks.wrapped_xks_secret = Some(vec![9; 40]);
    store.insert_custom_key_store(&xks).await.expect("insert");
    assert_eq!(
        get(store, &scope, xks.custom_key_store_id.clone()).await,
        Some(xks)
    );

    let mut same_name = scope.custom_key_store("hsm");
    assert_store_err!(
        store.insert_custom_key_store(&same_name).await,
        StoreError::AlreadyExists
    );
    let mut same_id = scope.custom_key_store("other");
    same_id.custom_key_store_id = hsm.custom_key_store_id.clone();
    assert_store_err!(
        store.insert_custom_key_store(&same_id).await,
        StoreError::AlreadyExists
    );
    // The name is free in another Region; the store is not visible there.
    let elsewhere = scope.in_region("eu-west-1");
    assert_eq!(
        get(store, &elsewhere, hsm.custom_key_store_id.clone()).await,
        None
    );
    same_name.region = elsewhere.region.clone();
    store
        .insert_custom_key_store(&same_name)
        .await
        .expect("the same name in another Region");
}

pub(super) async fn update_and_delete_are_compare_and_swap(store: &dyn Store) {
    let scope = Scope::new("cks-cas");
    let created = scope.custom_key_store("hsm");
    store
        .insert_custom_key_store(&created)
        .await
        .expect("insert");
    let taken = scope.custom_key_store("taken");
    store.insert_custom_key_store(&taken).await.expect("insert");

    let mut change = created.clone();
    change.name = "renamed".into();
    change.connection_state = "CONNECTED".into();
    change.wrapped_password = Some(vec![7; 28]);
    change.creation_date += 5; // not a mutable column
    let stored = store
        .update_custom_key_store(&change)
        .await
        .expect("update");
    assert_eq!(stored.row_version, 2);
    assert_eq!(stored.name, "renamed");
    assert_eq!(stored.connection_state, "CONNECTED");
    assert_eq!(stored.wrapped_password, change.wrapped_password);
    assert_eq!(stored.creation_date, created.creation_date);
    let read = store
        .get_custom_key_store(&scope.account, &scope.region, &created.custom_key_store_id)
        .await
        .expect("get");
    assert_eq!(read.as_ref(), Some(&stored));

    // The old row_version lost; a taken name is refused; a missing store is not found.
    assert_store_err!(
        store.update_custom_key_store(&change).await,
        StoreError::Conflict
    );
    let mut clash = stored.clone();
    clash.name = taken.name.clone();
    assert_store_err!(
        store.update_custom_key_store(&clash).await,
        StoreError::AlreadyExists
    );
    let mut missing = stored.clone();
    missing.custom_key_store_id = unique("cks-missing");
    assert_store_err!(
        store.update_custom_key_store(&missing).await,
        StoreError::NotFound
    );

    let id = &created.custom_key_store_id;
    let delete =
        |version| store.delete_custom_key_store(&scope.account, &scope.region, id, version);
    assert_store_err!(delete(1).await, StoreError::Conflict);
    delete(2).await.expect("delete");
    assert_store_err!(delete(2).await, StoreError::NotFound);
    let gone = store
        .get_custom_key_store(&scope.account, &scope.region, id)
        .await
        .expect("get");
    assert_eq!(gone, None);
}

pub(super) async fn list_filters_by_name_and_paginates(store: &dyn Store) {
    let scope = Scope::new("cks-list");
    let mut made = Vec::new();
    for i in 0..(2 * PAGE + 1) {
        let row = scope.custom_key_store(&format!("store-{i}"));
        store.insert_custom_key_store(&row).await.expect("insert");
        made.push(row);
    }
    store
        .insert_custom_key_store(&Scope::new("cks-list-other").custom_key_store("store-0"))
        .await
        .expect("another account");
    made.sort_by(|a, b| a.custom_key_store_id.cmp(&b.custom_key_store_id));
    let listed = every_page!(
        |after| store.list_custom_key_stores(&scope.account, &scope.region, None, after, PAGE),
        custom_key_store_id
    );
    assert_eq!(listed, made);

    let named = store
        .list_custom_key_stores(&scope.account, &scope.region, Some("store-3"), None, PAGE)
        .await
        .expect("by name");
    assert_eq!(named.len(), 1);
    assert_eq!(named[0].name, "store-3");
    let none = store
        .list_custom_key_stores(&scope.account, &scope.region, Some("nothing"), None, PAGE)
        .await
        .expect("by name");
    assert!(none.is_empty());
}

/// A key's store id round-trips, and each store finds only its own keys (DeleteCustomKeyStore
/// refuses a store that still has one).
pub(super) async fn keys_are_found_by_their_store(store: &dyn Store) {
    let scope = Scope::new("cks-keys");
    let (one, other) = (unique("cks"), unique("cks"));
    let inside = |suffix: &str, id: &str| KeyRow {
        custom_key_store_id: Some(id.to_string()),
        ..scope.key(suffix)
    };
    let a = insert_key_row(store, inside("a", &one), &[]).await;
    let b = insert_key_row(store, inside("b", &one), &[]).await;
    insert_key_row(store, inside("c", &other), &[]).await;
    scope.insert_key(store, "default").await;
    let read = store
        .get_key(&scope.account, &scope.region, &a.key_id)
        .await
        .expect("get_key")
        .expect("found");
    assert_eq!(read.custom_key_store_id.as_deref(), Some(one.as_str()));
    let mut expected = vec![a.key_id.clone(), b.key_id.clone()];
    expected.sort();
    let found = store
        .keys_in_custom_key_store(&one, 10)
        .await
        .expect("keys");
    let found: Vec<String> = found.into_iter().map(|k| k.key_id).collect();
    assert_eq!(found, expected);
    assert_eq!(
        store
            .keys_in_custom_key_store(&one, 1)
            .await
            .expect("keys")
            .len(),
        1
    );
    assert!(store
        .keys_in_custom_key_store(&unique("cks"), 10)
        .await
        .expect("keys")
        .is_empty());
}
