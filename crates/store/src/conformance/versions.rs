//! Conformance cases for key materials (key_versions): every column round-trips, versions list in
//! order, and a key changes together with one of its materials or not at all.

use super::{assert_store_err, version, Scope};
use crate::{KeyVersionRow, Store, StoreError};

/// A version with every optional column set, as imported material that was rotated in.
fn full_version(key_id: &str, number: i64) -> KeyVersionRow {
    KeyVersionRow {
        material_id: format!("{number:064x}"),
        rotation_type: Some("ON_DEMAND".into()),
        rotation_date: Some(1_700_000_000_500 + number),
        import_state: Some("IMPORTED".into()),
        expiration_model: Some("KEY_MATERIAL_EXPIRES".into()),
        valid_to: Some(1_800_000_000_000),
        material_description: Some("from the HSM".into()),
        material_digest: Some(vec![7; 32]),
        ..version(key_id, number, &[number as u8; 40])
    }
}

pub(super) async fn versions_round_trip_every_column_in_order(store: &dyn Store) {
    let scope = Scope::new("versions-roundtrip");
    let key = scope.insert_key(store, "a").await;
    let third = full_version(&key.key_id, 3);
    let second = KeyVersionRow {
        import_state: Some("PENDING_IMPORT".into()),
        wrapped_material: Vec::new(),
        ..version(&key.key_id, 2, b"")
    };
    store.insert_key_version(&third).await.expect("insert 3");
    store.insert_key_version(&second).await.expect("insert 2");

    assert_eq!(
        store.get_key_version(&key.key_id, 3).await.expect("get"),
        Some(third.clone())
    );
    let listed = store.list_key_versions(&key.key_id).await.expect("list");
    let numbers: Vec<i64> = listed.iter().map(|v| v.version).collect();
    assert_eq!(numbers, vec![1, 2, 3]);
    assert_eq!(listed[1], second);
    assert_eq!(listed[2], third);
    assert!(store
        .list_key_versions(&scope.key_id("missing"))
        .await
        .expect("list missing")
        .is_empty());
}

pub(super) async fn insert_key_version_refuses_duplicates_and_missing_keys(store: &dyn Store) {
    let scope = Scope::new("versions-insert");
    let key = scope.insert_key(store, "a").await;
    let duplicate = store
        .insert_key_version(&version(&key.key_id, 1, b"other"))
        .await;
    assert_store_err!(duplicate, StoreError::AlreadyExists);
    let kept = store.get_key_version(&key.key_id, 1).await.expect("get");
    assert_eq!(kept.map(|v| v.wrapped_material), Some(b"wrapped".to_vec()));

    let orphan = store
        .insert_key_version(&version(&scope.key_id("missing"), 1, b"x"))
        .await;
    assert_store_err!(orphan, StoreError::NotFound);
}

pub(super) async fn update_key_with_version_is_all_or_nothing(store: &dyn Store) {
    let scope = Scope::new("versions-update");
    let key = scope.insert_key(store, "a").await;
    let stored = store
        .get_key(&scope.account, &scope.region, &key.key_id)
        .await
        .expect("get")
        .expect("exists");

    // A new version made current, as a rotation does.
    let mut rotated = stored.clone();
    rotated.current_version = 2;
    let second = full_version(&key.key_id, 2);
    let after = store
        .update_key_with_version(&rotated, &second)
        .await
        .expect("rotate");
    assert_eq!(after.current_version, 2);
    assert_eq!(after.row_version, stored.row_version + 1);
    assert_eq!(
        store.get_key_version(&key.key_id, 2).await.expect("get 2"),
        Some(second)
    );

    // A stale row_version writes neither the key nor the version.
    let mut stale = stored.clone();
    stale.current_version = 3;
    let result = store
        .update_key_with_version(&stale, &full_version(&key.key_id, 3))
        .await;
    assert_store_err!(result, StoreError::Conflict);
    assert_eq!(
        store.get_key_version(&key.key_id, 3).await.expect("3"),
        None
    );

    // An existing version is replaced in every column (material deleted, pending import).
    let mut pending = after.clone();
    pending.state = "PendingImport".into();
    let emptied = KeyVersionRow {
        wrapped_material: Vec::new(),
        import_state: Some("PENDING_IMPORT".into()),
        valid_to: None,
        ..full_version(&key.key_id, 2)
    };
    let now = store
        .update_key_with_version(&pending, &emptied)
        .await
        .expect("delete material");
    assert_eq!(now.state, "PendingImport");
    assert_eq!(
        store.get_key_version(&key.key_id, 2).await.expect("get 2"),
        Some(emptied)
    );

    // A version of another key is refused before anything is written.
    let mut next = now.clone();
    next.description = "changed".into();
    let foreign = store
        .update_key_with_version(&next, &version(&scope.key_id("other"), 1, b"x"))
        .await;
    assert!(foreign.is_err());
    let unchanged = store
        .get_key(&scope.account, &scope.region, &key.key_id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(unchanged, now);

    // A missing key is NotFound.
    let mut missing = now;
    missing.key_id = scope.key_id("missing");
    let result = store
        .update_key_with_version(&missing, &version(&missing.key_id, 2, b"x"))
        .await;
    assert_store_err!(result, StoreError::NotFound);
}

pub(super) async fn expired_key_materials_are_those_past_valid_to_with_material(store: &dyn Store) {
    let scope = Scope::new("versions-expired");
    const NOW: i64 = 5_000;
    let key = scope.insert_key(store, "a").await;
    let other = scope.insert_key(store, "b").await;
    // (key, version, valid_to, material): only 2 and other's 2 are due; 3 is already emptied,
    // 4 expires later, 5 never expires.
    let plan: [(&str, i64, Option<i64>, &[u8]); 5] = [
        (&key.key_id, 2, Some(NOW), b"m2"),
        (&key.key_id, 3, Some(1_000), b""),
        (&key.key_id, 4, Some(NOW + 1), b"m4"),
        (&key.key_id, 5, None, b"m5"),
        (&other.key_id, 2, Some(2_000), b"o2"),
    ];
    for (key_id, number, valid_to, material) in plan {
        let row = KeyVersionRow {
            valid_to,
            import_state: Some("IMPORTED".into()),
            ..version(key_id, number, material)
        };
        store.insert_key_version(&row).await.expect("insert");
    }
    let mine = |rows: Vec<(crate::KeyRow, KeyVersionRow)>| -> Vec<(String, i64)> {
        rows.into_iter()
            .filter(|(k, _)| k.account_id == scope.account)
            .map(|(k, v)| {
                assert_eq!(k.key_id, v.key_id, "each material comes with its own key");
                (v.key_id, v.version)
            })
            .collect()
    };
    let due = mine(store.expired_key_materials(NOW, 10_000).await.expect("due"));
    assert_eq!(
        due,
        vec![(other.key_id.clone(), 2), (key.key_id.clone(), 2)],
        "ordered by valid_to"
    );
    let later = mine(
        store
            .expired_key_materials(NOW + 1, 10_000)
            .await
            .expect("due"),
    );
    assert_eq!(later.len(), 3);
    let first = store.expired_key_materials(NOW, 1).await.expect("due");
    assert_eq!(first.len(), 1);
    assert!(first[0].1.valid_to.is_some_and(|t| t <= NOW));
}
