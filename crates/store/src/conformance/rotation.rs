//! Conformance cases for key rotation: the schedule changes only with the key's compare-and-swap,
//! the rotation step is all or nothing, and the due list holds exactly the enabled, due keys.

use super::{assert_store_err, insert_key_row, join_all, version, Scope, RACERS};
use crate::{KeyRotationRow, KeyRow, KeyVersionRow, Store, StoreError};

fn schedule(key_id: &str, enabled: bool, next: Option<i64>) -> KeyRotationRow {
    KeyRotationRow {
        key_id: key_id.into(),
        enabled,
        period_days: 365,
        next_rotation_date: next,
    }
}

/// Inserts the key `a` of `scope` with an enabled schedule due at `next`; returns the key row
/// the schedule's compare-and-swap left.
async fn insert_rotating_key(store: &dyn Store, scope: &Scope, next: i64) -> KeyRow {
    let key = scope.insert_key(store, "a").await;
    let due = schedule(&key.key_id, true, Some(next));
    store
        .update_key_with_rotation(&key, &due)
        .await
        .expect("enable rotation")
}

/// The version a rotation of `key` to `number` writes, and the key row that makes it current.
fn rotated(key: &KeyRow, number: i64, material: &[u8]) -> (KeyRow, KeyVersionRow) {
    let mut row = key.clone();
    row.current_version = number;
    let new = KeyVersionRow {
        rotation_type: Some("AUTOMATIC".into()),
        rotation_date: Some(1_700_000_100_000),
        material_id: format!("{number:064x}"),
        ..version(&key.key_id, number, material)
    };
    (row, new)
}

pub(super) async fn rotation_schedule_changes_with_the_keys_compare_and_swap(store: &dyn Store) {
    let scope = Scope::new("rotation-schedule");
    let key = scope.insert_key(store, "a").await;
    assert_eq!(
        store.get_key_rotation(&key.key_id).await.expect("get"),
        None
    );

    let enabled = schedule(&key.key_id, true, Some(5_000));
    let after = store
        .update_key_with_rotation(&key, &enabled)
        .await
        .expect("enable");
    assert_eq!(after.row_version, key.row_version + 1);
    assert_eq!(
        store.get_key_rotation(&key.key_id).await.expect("get"),
        Some(enabled.clone())
    );

    // A stale row_version writes nothing.
    let disabled = schedule(&key.key_id, false, None);
    let stale = store.update_key_with_rotation(&key, &disabled).await;
    assert_store_err!(stale, StoreError::Conflict);
    assert_eq!(
        store.get_key_rotation(&key.key_id).await.expect("get"),
        Some(enabled)
    );

    // Replacing the schedule: disabled keeps the period.
    store
        .update_key_with_rotation(&after, &disabled)
        .await
        .expect("disable");
    assert_eq!(
        store.get_key_rotation(&key.key_id).await.expect("get"),
        Some(disabled.clone())
    );

    let foreign = schedule(&scope.key_id("other"), true, Some(1));
    let result = store.update_key_with_rotation(&after, &foreign).await;
    assert_store_err!(result, StoreError::Backend(_));
    let missing = scope.key("missing");
    let result = store
        .update_key_with_rotation(&missing, &schedule(&missing.key_id, true, Some(1)))
        .await;
    assert_store_err!(result, StoreError::NotFound);
}

pub(super) async fn rotate_key_is_all_or_nothing(store: &dyn Store) {
    let scope = Scope::new("rotation-step");
    let key = insert_rotating_key(store, &scope, 5_000).await;

    let (row, second) = rotated(&key, 2, b"second");
    let moved = schedule(&key.key_id, true, Some(9_000));
    let after = store
        .rotate_key(&row, &second, Some(&moved))
        .await
        .expect("rotate");
    assert_eq!(after.current_version, 2);
    assert_eq!(after.row_version, key.row_version + 1);
    assert_eq!(
        store.get_key_version(&key.key_id, 2).await.expect("get"),
        Some(second)
    );
    assert_eq!(
        store.get_key_rotation(&key.key_id).await.expect("get"),
        Some(moved.clone())
    );

    // From a stale row_version: no version, no schedule change, key unchanged.
    let (stale, third) = rotated(&key, 3, b"third");
    let result = store
        .rotate_key(&stale, &third, Some(&schedule(&key.key_id, true, Some(1))))
        .await;
    assert_store_err!(result, StoreError::Conflict);
    assert_eq!(
        store.get_key_version(&key.key_id, 3).await.expect("get"),
        None
    );
    assert_eq!(
        store.get_key_rotation(&key.key_id).await.expect("get"),
        Some(moved.clone())
    );

    // On demand: the schedule is left alone.
    let (row, third) = rotated(&after, 3, b"third");
    let after = store
        .rotate_key(&row, &third, None)
        .await
        .expect("on demand");
    assert_eq!(after.current_version, 3);
    assert_eq!(
        store.get_key_rotation(&key.key_id).await.expect("get"),
        Some(moved)
    );

    // The written version must be the one made current.
    let (mut row, fourth) = rotated(&after, 4, b"fourth");
    row.current_version = 3;
    let result = store.rotate_key(&row, &fourth, None).await;
    assert_store_err!(result, StoreError::Backend(_));
    assert_eq!(
        store.get_key_version(&key.key_id, 4).await.expect("get"),
        None
    );
    let versions = store.list_key_versions(&key.key_id).await.expect("list");
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [1, 2, 3]
    );
}

pub(super) async fn keys_due_for_rotation_are_enabled_keys_with_a_due_enabled_schedule(
    store: &dyn Store,
) {
    let scope = Scope::new("rotation-due");
    const NOW: i64 = 3_000;
    // (suffix, key state, schedule enabled, next date): only a and b are due at NOW.
    let plan = [
        ("a", "Enabled", true, Some(1_000)),
        ("b", "Enabled", true, Some(NOW)),
        ("c", "Enabled", true, Some(NOW + 1)),
        ("d", "Enabled", false, Some(500)),
        ("e", "Disabled", true, Some(500)),
        ("f", "PendingDeletion", true, Some(500)),
        ("g", "Enabled", false, None),
    ];
    let mut ids = Vec::new();
    for (suffix, state, enabled, next) in plan {
        let key = KeyRow {
            state: state.into(),
            ..scope.key(suffix)
        };
        let key = insert_key_row(store, key, &[]).await;
        store
            .update_key_with_rotation(&key, &schedule(&key.key_id, enabled, next))
            .await
            .expect("schedule");
        ids.push(key.key_id);
    }
    let unscheduled = scope.insert_key(store, "h").await;

    let due = store.keys_due_for_rotation(NOW, 10_000).await.expect("due");
    let mine: Vec<&str> = due
        .iter()
        .filter(|k| ids.contains(&k.key_id) || k.key_id == unscheduled.key_id)
        .map(|k| k.key_id.as_str())
        .collect();
    assert_eq!(mine, vec![ids[0].as_str(), ids[1].as_str()]);
    assert!(due.iter().all(|k| k.state == "Enabled"));
    // The rows carry the row_version the rotation step must compare against.
    assert!(due
        .iter()
        .filter(|k| ids.contains(&k.key_id))
        .all(|k| k.row_version == 2));

    let first = store.keys_due_for_rotation(NOW, 1).await.expect("due");
    assert_eq!(first.len(), 1);
    let later = store
        .keys_due_for_rotation(NOW + 1, 10_000)
        .await
        .expect("due");
    assert!(later.iter().any(|k| k.key_id == ids[2]));

    for key_id in ids.iter().chain([&unscheduled.key_id]) {
        store.destroy_key(key_id).await.expect("cleanup");
        assert_eq!(store.get_key_rotation(key_id).await.expect("get"), None);
    }
}

/// Two (here twelve) rotation passes rotating one due key from the row_version they read: one
/// wins, and the key has exactly one new version, the winner's, and the winner's schedule.
pub(super) async fn racing_rotations_of_one_due_key_rotate_once(store: &dyn Store) {
    let scope = Scope::new("rotation-race");
    let key = insert_rotating_key(store, &scope, 1_000).await;
    let attempts: Vec<_> = (0..RACERS)
        .map(|i| {
            let (row, new) = rotated(&key, 2, format!("material {i}").as_bytes());
            let next = schedule(
                &key.key_id,
                true,
                Some(2_000 + i64::try_from(i).expect("small")),
            );
            (row, new, next)
        })
        .collect();
    let results = join_all(
        attempts
            .iter()
            .map(|(row, new, next)| store.rotate_key(row, new, Some(next)))
            .collect(),
    )
    .await;
    let mut winners = Vec::new();
    for (i, result) in results.iter().enumerate() {
        match result {
            Ok(_) => winners.push(i),
            Err(StoreError::Conflict) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "{results:?}");
    let winner = &attempts[winners[0]];
    assert_eq!(
        store.get_key_version(&key.key_id, 2).await.expect("get"),
        Some(winner.1.clone())
    );
    assert_eq!(
        store.get_key_rotation(&key.key_id).await.expect("get"),
        Some(winner.2.clone())
    );
    let versions = store.list_key_versions(&key.key_id).await.expect("list");
    assert_eq!(versions.len(), 2);
    let stored = store
        .get_key(&scope.account, &scope.region, &key.key_id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!((stored.current_version, stored.row_version), (2, 3));
}
