//! Conformance cases for keys: insertion, scoping, pagination, compare-and-swap updates, the
//! deletion sweep and destruction.

use super::{assert_store_err, every_page, insert_key_row, tag, version, Scope, PAGE};
use crate::{KeyRow, Store, StoreError, Tag, PENDING_DELETION_STATE};

pub(super) async fn insert_then_get_round_trips(store: &dyn Store) {
    let scope = Scope::new("keys-roundtrip");
    let mut key = scope.key("a");
    key.deletion_date = Some(42);
    key.pending_window_days = Some(7);
    key.multi_region = true;
    key.row_version = 99; // ignored: insertion always stores 1
    let first = version(&key.key_id, 1, &[0, 1, 2, 255]);
    let tags = [tag("b", "2"), tag("a", "1"), tag("b", "3")];
    store.insert_key(&key, &first, &tags).await.expect("insert");

    let stored = store
        .get_key(&scope.account, &scope.region, &key.key_id)
        .await
        .expect("get_key");
    key.row_version = 1;
    assert_eq!(stored, Some(key.clone()));
    let stored_version = store
        .get_key_version(&key.key_id, 1)
        .await
        .expect("version");
    assert_eq!(stored_version, Some(first));
    let stored_tags = store.list_tags(&key.key_id, None, 10).await.expect("tags");
    assert_eq!(stored_tags, vec![tag("a", "1"), tag("b", "3")]);

    assert_eq!(
        store.get_key_version(&key.key_id, 2).await.expect("v2"),
        None
    );
    let missing = scope.key_id("missing");
    assert_eq!(
        store
            .get_key(&scope.account, &scope.region, &missing)
            .await
            .expect("get"),
        None
    );
    assert_eq!(store.get_key_version(&missing, 1).await.expect("get"), None);
}

pub(super) async fn duplicate_insert_is_already_exists_and_changes_nothing(store: &dyn Store) {
    let scope = Scope::new("keys-duplicate");
    let key = scope.key("a");
    store
        .insert_key(&key, &version(&key.key_id, 1, b"first"), &[tag("t", "1")])
        .await
        .expect("insert");

    let mut again = key.clone();
    again.description = "second".into();
    let result = store
        .insert_key(
            &again,
            &version(&key.key_id, 1, b"second"),
            &[tag("u", "2")],
        )
        .await;
    assert_store_err!(result, StoreError::AlreadyExists);

    let stored = store
        .get_key(&scope.account, &scope.region, &key.key_id)
        .await
        .expect("get");
    assert_eq!(stored.map(|row| row.description), Some(key.description));
    let material = store
        .get_key_version(&key.key_id, 1)
        .await
        .expect("version");
    assert_eq!(
        material.map(|v| v.wrapped_material),
        Some(b"first".to_vec())
    );
    let tags = store.list_tags(&key.key_id, None, 10).await.expect("tags");
    assert_eq!(tags, vec![tag("t", "1")]);
}

pub(super) async fn keys_are_scoped_by_account_and_region(store: &dyn Store) {
    let home = Scope::new("keys-scope-a");
    let other_account = Scope::new("keys-scope-b");
    let other_region = home.in_region("eu-west-1");
    let key = home.insert_key(store, "a").await;

    for scope in [&other_account, &other_region] {
        let seen = store
            .get_key(&scope.account, &scope.region, &key.key_id)
            .await;
        assert_eq!(
            seen.expect("get_key"),
            None,
            "visible from {}",
            scope.region
        );
        let listed = store
            .list_keys(&scope.account, &scope.region, None, 100)
            .await;
        assert_eq!(listed.expect("list_keys"), vec![]);
    }
    let listed = store
        .list_keys(&home.account, &home.region, None, 100)
        .await;
    assert_eq!(listed.expect("list_keys"), vec![key]);
}

pub(super) async fn list_keys_paginates_in_key_id_order(store: &dyn Store) {
    let scope = Scope::new("keys-pages");
    let neighbour = scope.in_region("ap-south-1");
    neighbour.insert_key(store, "c").await;
    let mut ids = Vec::new();
    for suffix in ["e", "b", "d", "a", "c"] {
        ids.push(scope.insert_key(store, suffix).await.key_id);
    }
    ids.sort();

    let pages = every_page!(
        |after| store.list_keys(&scope.account, &scope.region, after, PAGE),
        key_id
    );
    let seen: Vec<_> = pages.into_iter().map(|row| row.key_id).collect();
    assert_eq!(seen, ids);

    let page = store
        .list_keys(&scope.account, &scope.region, Some(&ids[1]), 100)
        .await;
    let page: Vec<_> = page
        .expect("list_keys")
        .into_iter()
        .map(|k| k.key_id)
        .collect();
    assert_eq!(page, ids[2..].to_vec());
    let empty = store
        .list_keys(&scope.account, &scope.region, None, 0)
        .await;
    assert_eq!(empty.expect("list_keys"), vec![]);
}

pub(super) async fn update_key_is_compare_and_swap(store: &dyn Store) {
    let scope = Scope::new("keys-cas");
    let key = scope.insert_key(store, "a").await;

    let mut first = key.clone();
    first.description = "first writer".into();
    let updated = store.update_key(&first).await.expect("first update");
    assert_eq!(updated.row_version, 2);
    assert_eq!(updated.description, "first writer");

    let mut stale = key.clone(); // still row_version 1
    stale.description = "stale writer".into();
    assert_store_err!(store.update_key(&stale).await, StoreError::Conflict);

    let stored = store
        .get_key(&scope.account, &scope.region, &key.key_id)
        .await
        .expect("get");
    assert_eq!(stored.as_ref(), Some(&updated));

    let mut next = updated.clone();
    next.state = "Disabled".into();
    let again = store.update_key(&next).await.expect("second update");
    assert_eq!(again.row_version, 3);
    assert_eq!(again.state, "Disabled");
}

pub(super) async fn update_key_writes_every_mutable_column_only(store: &dyn Store) {
    let scope = Scope::new("keys-columns");
    let key = scope.insert_key(store, "a").await;

    let mut change = key.clone();
    change.description = "new description".into();
    change.key_usage = "SIGN_VERIFY".into();
    change.state = "Disabled".into();
    change.policy = r#"{"changed":true}"#.into();
    change.deletion_date = Some(9_000_000_000_000);
    change.pending_window_days = Some(30);
    change.current_version = 4;
    // Immutable columns: ignored by update_key.
    change.arn = "arn:changed".into();
    change.key_spec = "RSA_2048".into();
    change.origin = "EXTERNAL".into();
    change.creation_date = 5;
    change.multi_region = true;

    let updated = store.update_key(&change).await.expect("update");
    let mut expected = key.clone();
    expected.description = change.description.clone();
    expected.key_usage = change.key_usage.clone();
    expected.state = change.state.clone();
    expected.policy = change.policy.clone();
    expected.deletion_date = change.deletion_date;
    expected.pending_window_days = change.pending_window_days;
    expected.current_version = change.current_version;
    expected.row_version = 2;
    assert_eq!(updated, expected);

    let mut clear = updated.clone();
    clear.deletion_date = None;
    clear.pending_window_days = None;
    let cleared = store.update_key(&clear).await.expect("clear");
    assert_eq!(
        (cleared.deletion_date, cleared.pending_window_days),
        (None, None)
    );
    let stored = store
        .get_key(&scope.account, &scope.region, &key.key_id)
        .await
        .expect("get");
    assert_eq!(stored, Some(cleared));
}

pub(super) async fn update_missing_key_is_not_found(store: &dyn Store) {
    let scope = Scope::new("keys-update-missing");
    assert_store_err!(
        store.update_key(&scope.key("nope")).await,
        StoreError::NotFound
    );

    let key = scope.insert_key(store, "a").await;
    let mut elsewhere = key.clone();
    elsewhere.account_id = Scope::new("keys-update-other").account;
    assert_store_err!(store.update_key(&elsewhere).await, StoreError::NotFound);
}

pub(super) async fn keys_due_for_deletion_respects_time_and_state(store: &dyn Store) {
    let scope = Scope::new("keys-due");
    // (suffix, state, deletion_date): only a and b are due at NOW.
    const NOW: i64 = 3_000;
    let plan = [
        ("a", PENDING_DELETION_STATE, Some(1_000)),
        ("b", PENDING_DELETION_STATE, Some(2_000)),
        ("c", PENDING_DELETION_STATE, Some(NOW + 1)),
        ("d", "Enabled", Some(500)),
        ("e", "Disabled", None),
    ];
    let mut ids = Vec::new();
    for (suffix, state, deletion_date) in plan {
        let mut key = scope.key(suffix);
        key.state = state.into();
        key.deletion_date = deletion_date;
        key.pending_window_days = deletion_date.map(|_| 7);
        ids.push(insert_key_row(store, key, &[]).await.key_id);
    }

    let due = store.keys_due_for_deletion(NOW, 10_000).await.expect("due");
    let mine: Vec<_> = due.iter().filter(|k| ids.contains(&k.key_id)).collect();
    let mine_ids: Vec<_> = mine.iter().map(|k| k.key_id.as_str()).collect();
    assert_eq!(mine_ids, vec![ids[0].as_str(), ids[1].as_str()]);
    assert!(due.iter().all(|k| k.state == PENDING_DELETION_STATE));
    assert!(due
        .iter()
        .all(|k| k.deletion_date.is_some_and(|d| d <= NOW)));
    assert!(due
        .windows(2)
        .all(|w| w[0].deletion_date <= w[1].deletion_date));

    let first = store.keys_due_for_deletion(NOW, 1).await.expect("due");
    assert_eq!(first.len(), 1);
    assert!(first[0].deletion_date <= Some(1_000));
    let later = store
        .keys_due_for_deletion(NOW + 1, 10_000)
        .await
        .expect("due");
    assert!(later.iter().any(|k| k.key_id == ids[2]));

    for key_id in &ids {
        store.destroy_key(key_id).await.expect("cleanup");
    }
}

pub(super) async fn destroy_key_removes_everything_it_owns(store: &dyn Store) {
    let scope = Scope::new("keys-destroy");
    let doomed = insert_key_row(store, scope.key("a"), &[tag("t", "1")]).await;
    let kept = scope.insert_key(store, "b").await;
    store
        .put_tags(&kept.key_id, &[tag("t", "2")], 50)
        .await
        .expect("tags");
    let doomed_alias = scope.alias("doomed", &doomed.key_id);
    let kept_alias = scope.alias("kept", &kept.key_id);
    store.insert_alias(&doomed_alias).await.expect("alias");
    store.insert_alias(&kept_alias).await.expect("alias");

    store.destroy_key(&doomed.key_id).await.expect("destroy");

    assert_key_gone(store, &doomed).await;
    let (account, region) = (&scope.account, &scope.region);
    let alias = store
        .get_alias(account, region, &doomed_alias.alias_name)
        .await;
    assert_eq!(alias.expect("get_alias"), None);
    assert_store_err!(
        store.destroy_key(&doomed.key_id).await,
        StoreError::NotFound
    );

    assert_key_intact(store, &kept, &[tag("t", "2")]).await;
    let alias = store
        .get_alias(account, region, &kept_alias.alias_name)
        .await;
    assert_eq!(alias.expect("get_alias"), Some(kept_alias));
}

pub(super) async fn destroy_key_if_version_checks_the_row_version(store: &dyn Store) {
    let scope = Scope::new("keys-destroy-if");
    let key = insert_key_row(store, scope.key_pending_deletion("a"), &[tag("t", "1")]).await;
    let due = store
        .keys_due_for_deletion(1_000, 10_000)
        .await
        .expect("due");
    let seen = due
        .into_iter()
        .find(|row| row.key_id == key.key_id)
        .expect("due");

    // The deletion is cancelled after the sweep read the key: the sweep must not destroy it.
    let mut cancelled = seen.clone();
    cancelled.state = "Disabled".into();
    cancelled.deletion_date = None;
    cancelled.pending_window_days = None;
    let cancelled = store.update_key(&cancelled).await.expect("cancel");
    assert_store_err!(
        store
            .destroy_key_if_version(&key.key_id, seen.row_version)
            .await,
        StoreError::Conflict
    );
    assert_key_intact(store, &cancelled, &[tag("t", "1")]).await;

    store
        .destroy_key_if_version(&key.key_id, cancelled.row_version)
        .await
        .expect("destroy at the current version");
    assert_key_gone(store, &key).await;
    assert_store_err!(
        store
            .destroy_key_if_version(&key.key_id, cancelled.row_version)
            .await,
        StoreError::NotFound
    );
    assert_store_err!(
        store
            .destroy_key_if_version(&scope.key_id("missing"), 1)
            .await,
        StoreError::NotFound
    );
}

pub(super) async fn keys_are_counted_by_state(store: &dyn Store) {
    let scope = Scope::new("keys-count");
    // States are opaque text to the store: fresh ones isolate this case from other rows.
    let (busy, idle) = (super::unique("StateA"), super::unique("StateB"));
    for (name, state) in [("a", &busy), ("b", &busy), ("c", &idle)] {
        let mut key = scope.key(name);
        key.state = state.clone();
        let first = version(&key.key_id, 1, &[1]);
        store.insert_key(&key, &first, &[]).await.expect("insert");
    }
    let counts = store.count_keys_by_state().await.expect("count");
    let count = |state: &str| counts.iter().find(|(s, _)| s == state).map(|(_, n)| *n);
    assert_eq!(count(&busy), Some(2));
    assert_eq!(count(&idle), Some(1));
    let states: Vec<&String> = counts.iter().map(|(s, _)| s).collect();
    let mut sorted = states.clone();
    sorted.sort();
    assert_eq!(states, sorted, "ordered by state");
}

/// Asserts that `key` is stored as it is, with its first material and exactly `tags`.
/// Asserts that nothing of `key` is left: its row, its first version, its tags and its aliases.
async fn assert_key_gone(store: &dyn Store, key: &KeyRow) {
    let stored = store
        .get_key(&key.account_id, &key.region, &key.key_id)
        .await;
    assert_eq!(stored.expect("get_key"), None);
    let material = store.get_key_version(&key.key_id, 1).await;
    assert_eq!(material.expect("get_key_version"), None);
    let tags = store.list_tags(&key.key_id, None, 10).await;
    assert_eq!(tags.expect("list_tags"), vec![]);
    let aliases = store.aliases_for_key(&key.key_id).await;
    assert!(aliases.expect("aliases_for_key").is_empty());
}

async fn assert_key_intact(store: &dyn Store, key: &KeyRow, tags: &[Tag]) {
    let stored = store
        .get_key(&key.account_id, &key.region, &key.key_id)
        .await;
    assert_eq!(stored.expect("get_key").as_ref(), Some(key));
    let material = store.get_key_version(&key.key_id, 1).await;
    assert!(material.expect("get_key_version").is_some());
    let stored_tags = store.list_tags(&key.key_id, None, 10).await;
    assert_eq!(stored_tags.expect("list_tags"), tags);
}
