//! Conformance cases for the writes that insert or replace a row, whose SQL differs most between
//! backends (one statement over bound arrays, or one per row; an upsert that replaces every
//! column): repeated keys within one call, and a replaced row keeping none of its old values.

use super::{tag, version, Scope};
use crate::{KeyVersionRow, Store};

pub(super) async fn put_tags_with_repeated_keys_keeps_the_last_and_counts_it_once(
    store: &dyn Store,
) {
    let scope = Scope::new("upserts-tags");
    let key = scope.insert_key(store, "a").await;
    let id = &key.key_id;
    store
        .put_tags(id, &[tag("b", "old")], 2)
        .await
        .expect("put");
    // Three entries, two distinct keys: within a limit of two, and the last value of each wins
    // (also over the stored one).
    let repeated = [tag("a", "1"), tag("b", "2"), tag("a", "3")];
    store
        .put_tags(id, &repeated, 2)
        .await
        .expect("put repeated");
    let tags = store.list_tags(id, None, 10).await.expect("list");
    assert_eq!(tags, vec![tag("a", "3"), tag("b", "2")]);
}

pub(super) async fn rotating_in_a_pending_version_replaces_every_column(store: &dyn Store) {
    let scope = Scope::new("upserts-versions");
    let key = scope.insert_key(store, "a").await;
    // Imported material waiting to be rotated in: every optional column set.
    let pending = KeyVersionRow {
        material_id: format!("{:064x}", 2),
        import_state: Some("PENDING_IMPORT".into()),
        expiration_model: Some("KEY_MATERIAL_EXPIRES".into()),
        valid_to: Some(1_800_000_000_000),
        material_description: Some("pending".into()),
        material_digest: Some(vec![9; 32]),
        ..version(&key.key_id, 2, b"")
    };
    store.insert_key_version(&pending).await.expect("pending");

    // The rotation writes version 2 anew: columns it leaves empty must not keep old values.
    let mut row = key.clone();
    row.current_version = 2;
    let current = KeyVersionRow {
        material_id: format!("{:064x}", 2),
        rotation_type: Some("ON_DEMAND".into()),
        rotation_date: Some(1_700_000_100_000),
        ..version(&key.key_id, 2, b"rotated-in")
    };
    let after = store
        .rotate_key(&row, &current, None)
        .await
        .expect("rotate");
    assert_eq!(after.current_version, 2);
    assert_eq!(
        store.get_key_version(&key.key_id, 2).await.expect("get"),
        Some(current)
    );
    let versions = store.list_key_versions(&key.key_id).await.expect("list");
    assert_eq!(versions.len(), 2, "replaced, not added: {versions:?}");
}
