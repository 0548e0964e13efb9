//! Conformance cases for aliases: uniqueness per account and region, retargeting, deletion,
//! filtered pagination.

use super::{assert_store_err, every_page, Scope, PAGE};
use crate::{Store, StoreError};

pub(super) async fn insert_get_and_duplicate(store: &dyn Store) {
    let scope = Scope::new("aliases-dup");
    let key = scope.insert_key(store, "a").await;
    let alias = scope.alias("app", &key.key_id);
    store.insert_alias(&alias).await.expect("insert");
    let stored = store
        .get_alias(&scope.account, &scope.region, &alias.alias_name)
        .await;
    assert_eq!(stored.expect("get_alias"), Some(alias.clone()));

    let mut again = alias.clone();
    again.creation_date += 1;
    assert_store_err!(store.insert_alias(&again).await, StoreError::AlreadyExists);
    let stored = store
        .get_alias(&scope.account, &scope.region, &alias.alias_name)
        .await;
    assert_eq!(stored.expect("get_alias"), Some(alias.clone()));

    // The same name is free in another region and in another account.
    for other in [
        scope.in_region("eu-west-1"),
        Scope::new("aliases-dup-other"),
    ] {
        let missing = store
            .get_alias(&other.account, &other.region, &alias.alias_name)
            .await;
        assert_eq!(missing.expect("get_alias"), None);
        let other_key = other.insert_key(store, "a").await;
        let same_name = other.alias("app", &other_key.key_id);
        store
            .insert_alias(&same_name)
            .await
            .expect("same name elsewhere");
    }
    let missing = store
        .get_alias(&scope.account, &scope.region, "alias/none")
        .await;
    assert_eq!(missing.expect("get_alias"), None);
}

pub(super) async fn alias_to_missing_key_is_not_found(store: &dyn Store) {
    let scope = Scope::new("aliases-orphan");
    let orphan = scope.alias("orphan", &scope.key_id("missing"));
    assert_store_err!(store.insert_alias(&orphan).await, StoreError::NotFound);

    let key = scope.insert_key(store, "a").await;
    let alias = scope.alias("app", &key.key_id);
    store.insert_alias(&alias).await.expect("insert");
    let retarget = store
        .update_alias(
            &scope.account,
            &scope.region,
            &alias.alias_name,
            &key.key_id,
            &scope.key_id("missing"),
            5,
        )
        .await;
    assert_store_err!(retarget, StoreError::NotFound);
    let stored = store
        .get_alias(&scope.account, &scope.region, &alias.alias_name)
        .await;
    assert_eq!(stored.expect("get_alias"), Some(alias));
}

pub(super) async fn update_alias_retargets(store: &dyn Store) {
    let scope = Scope::new("aliases-update");
    let first = scope.insert_key(store, "a").await;
    let second = scope.insert_key(store, "b").await;
    let alias = scope.alias("app", &first.key_id);
    store.insert_alias(&alias).await.expect("insert");

    let (account, region, name) = (&scope.account, &scope.region, &alias.alias_name);
    let now = alias.last_updated_date + 1_000;
    // Conditional on the key the alias points at now: a writer that read it pointing elsewhere
    // changes nothing.
    assert_store_err!(
        store
            .update_alias(account, region, name, &second.key_id, &second.key_id, now)
            .await,
        StoreError::Conflict
    );
    store
        .update_alias(account, region, name, &first.key_id, &second.key_id, now)
        .await
        .expect("update");
    let stored = store
        .get_alias(account, region, name)
        .await
        .expect("get_alias");
    let mut expected = alias.clone();
    expected.target_key_id = second.key_id.clone();
    expected.last_updated_date = now;
    assert_eq!(stored, Some(expected));
    assert!(store
        .aliases_for_key(&first.key_id)
        .await
        .expect("for_key")
        .is_empty());
    assert_eq!(
        store
            .aliases_for_key(&second.key_id)
            .await
            .expect("for_key"),
        vec![name.clone()]
    );

    let missing = store
        .update_alias(
            account,
            region,
            "alias/none",
            &first.key_id,
            &first.key_id,
            now,
        )
        .await;
    assert_store_err!(missing, StoreError::NotFound);
    let other_region = store
        .update_alias(
            account,
            "eu-west-1",
            name,
            &second.key_id,
            &first.key_id,
            now,
        )
        .await;
    assert_store_err!(other_region, StoreError::NotFound);
}

pub(super) async fn delete_alias(store: &dyn Store) {
    let scope = Scope::new("aliases-delete");
    let key = scope.insert_key(store, "a").await;
    let alias = scope.alias("app", &key.key_id);
    store.insert_alias(&alias).await.expect("insert");
    let (account, region, name) = (&scope.account, &scope.region, &alias.alias_name);

    let other_account = Scope::new("aliases-delete-other").account;
    let elsewhere = store
        .delete_alias(&other_account, region, name, &key.key_id)
        .await;
    assert_store_err!(elsewhere, StoreError::NotFound);
    let other = scope.insert_key(store, "b").await;
    assert_store_err!(
        store
            .delete_alias(account, region, name, &other.key_id)
            .await,
        StoreError::Conflict
    );
    store
        .delete_alias(account, region, name, &key.key_id)
        .await
        .expect("delete");
    assert_eq!(
        store.get_alias(account, region, name).await.expect("get"),
        None
    );
    assert_store_err!(
        store.delete_alias(account, region, name, &key.key_id).await,
        StoreError::NotFound
    );
    // The key itself is untouched.
    assert!(store
        .get_key(account, region, &key.key_id)
        .await
        .expect("get")
        .is_some());
}

pub(super) async fn list_aliases_filters_and_paginates(store: &dyn Store) {
    let scope = Scope::new("aliases-list");
    let first = scope.insert_key(store, "a").await;
    let second = scope.insert_key(store, "b").await;
    let neighbour = scope.in_region("eu-west-1");
    let neighbour_key = neighbour.insert_key(store, "a").await;
    store
        .insert_alias(&neighbour.alias("n1", &neighbour_key.key_id))
        .await
        .expect("insert");
    let plan = [
        ("e", &first),
        ("b", &second),
        ("d", &first),
        ("a", &first),
        ("c", &second),
    ];
    for (name, key) in plan {
        store
            .insert_alias(&scope.alias(name, &key.key_id))
            .await
            .expect("insert");
    }
    let (account, region) = (&scope.account, &scope.region);

    let pages = every_page!(
        |after| store.list_aliases(account, region, None, after, PAGE),
        alias_name
    );
    let seen: Vec<_> = pages.into_iter().map(|row| row.alias_name).collect();
    assert_eq!(
        seen,
        ["alias/a", "alias/b", "alias/c", "alias/d", "alias/e"]
    );

    let of_first = store
        .list_aliases(account, region, Some(&first.key_id), None, 100)
        .await;
    let of_first: Vec<_> = of_first
        .expect("list")
        .into_iter()
        .map(|a| a.alias_name)
        .collect();
    assert_eq!(of_first, ["alias/a", "alias/d", "alias/e"]);
    let page = store
        .list_aliases(account, region, Some(&first.key_id), Some("alias/a"), 1)
        .await
        .expect("list");
    let page: Vec<_> = page.into_iter().map(|a| a.alias_name).collect();
    assert_eq!(page, ["alias/d"]);
    let names = store
        .aliases_for_key(&second.key_id)
        .await
        .expect("for_key");
    assert_eq!(names, ["alias/b", "alias/c"]);
    let foreign = store
        .list_aliases(account, region, Some(&neighbour_key.key_id), None, 100)
        .await;
    assert_eq!(foreign.expect("list"), vec![]);
}
