//! Conformance cases for identity changes after creation: access keys, deletion, policies, and
//! the identity version that tells caches something changed.

use super::{assert_store_err, unique, Scope};
use crate::{Store, StoreError};

pub(super) async fn access_keys_added_listed_and_deleted(store: &dyn Store) {
    let scope = Scope::new("identity-keys");
    let (alice, first) = scope.insert_user(store, "alice").await;
    let mut second = first.clone();
    second.access_key_id = unique("AKIA");
    store.insert_access_key(&second).await.expect("second key");
    let mut ids: Vec<String> = vec![first.access_key_id.clone(), second.access_key_id.clone()];
    ids.sort();
    let listed: Vec<String> = store
        .list_access_keys(&alice.arn)
        .await
        .expect("list")
        .into_iter()
        .map(|k| k.access_key_id)
        .collect();
    assert_eq!(listed, ids);
    assert_store_err!(
        store.insert_access_key(&second).await,
        StoreError::AlreadyExists
    );

    store
        .delete_access_key(&first.access_key_id)
        .await
        .expect("delete");
    assert_eq!(
        store
            .get_access_key(&first.access_key_id)
            .await
            .expect("get"),
        None
    );
    assert_store_err!(
        store.delete_access_key(&first.access_key_id).await,
        StoreError::NotFound
    );

    let mut orphan = second.clone();
    orphan.access_key_id = unique("AKIA");
    orphan.principal_arn = format!("{}-missing", alice.arn);
    assert_store_err!(store.insert_access_key(&orphan).await, StoreError::NotFound);
}

pub(super) async fn deleting_a_principal_removes_its_keys_and_policies(store: &dyn Store) {
    let scope = Scope::new("identity-delete");
    let (bob, key) = scope.insert_user(store, "bob").await;
    store
        .put_principal_policy(&bob.arn, "p", "{}", 1)
        .await
        .expect("policy");
    store.delete_principal(&bob.arn).await.expect("delete");
    assert_eq!(store.get_principal(&bob.arn).await.expect("get"), None);
    assert_eq!(
        store.get_access_key(&key.access_key_id).await.expect("get"),
        None
    );
    assert!(store
        .list_principal_policies(&bob.arn)
        .await
        .expect("list")
        .is_empty());
    assert_store_err!(store.delete_principal(&bob.arn).await, StoreError::NotFound);
}

pub(super) async fn policies_put_replace_list_and_delete(store: &dyn Store) {
    let scope = Scope::new("identity-policies");
    let (carol, _) = scope.insert_user(store, "carol").await;
    // The last put of a name replaces the ones before.
    for (name, document, at) in [
        ("zeta", "{\"z\":1}", 1),
        ("alpha", "{\"a\":1}", 1),
        ("alpha", "{\"a\":2}", 2),
    ] {
        let put = store.put_principal_policy(&carol.arn, name, document, at);
        put.await.expect("put_principal_policy");
    }
    let listed = store
        .list_principal_policies(&carol.arn)
        .await
        .expect("list");
    assert_eq!(
        listed,
        vec![
            ("alpha".to_string(), "{\"a\":2}".to_string()),
            ("zeta".to_string(), "{\"z\":1}".to_string())
        ]
    );
    store
        .delete_principal_policy(&carol.arn, "zeta")
        .await
        .expect("delete");
    assert_store_err!(
        store.delete_principal_policy(&carol.arn, "zeta").await,
        StoreError::NotFound
    );
    let missing = format!("{}-missing", carol.arn);
    assert_store_err!(
        store.put_principal_policy(&missing, "p", "{}", 1).await,
        StoreError::NotFound
    );
}

pub(super) async fn every_identity_change_moves_the_version(store: &dyn Store) {
    let scope = Scope::new("identity-version");
    // The version last seen: each change must move it past the one before.
    let last = std::cell::Cell::new(store.identity_version().await.expect("version"));
    macro_rules! moved {
        ($what:literal) => {{
            let now = store.identity_version().await.expect("identity_version");
            assert!(
                now > last.replace(now),
                "{} did not move the identity version",
                $what
            );
        }};
    }
    let (dan, key) = scope.insert_user(store, "dan").await;
    moved!("insert_principal");
    let mut extra = key.clone();
    extra.access_key_id = unique("AKIA");
    store.insert_access_key(&extra).await.expect("key");
    moved!("insert_access_key");
    store
        .put_principal_policy(&dan.arn, "p", "{}", 1)
        .await
        .expect("put");
    moved!("put_principal_policy");
    store
        .delete_principal_policy(&dan.arn, "p")
        .await
        .expect("del");
    moved!("delete_principal_policy");
    store
        .delete_access_key(&extra.access_key_id)
        .await
        .expect("del");
    moved!("delete_access_key");
    store.delete_principal(&dan.arn).await.expect("del");
    moved!("delete_principal");
}

pub(super) async fn roles_have_no_access_keys_and_a_replaceable_trust_policy(store: &dyn Store) {
    let scope = Scope::new("identity-roles");
    let arn = format!("arn:aws:iam::{}:role/deployer", scope.account);
    let role = crate::PrincipalRow {
        arn: arn.clone(),
        account_id: scope.account.clone(),
        name: "deployer".into(),
        created_at: 1_700_000_000_000,
        assume_role_policy: Some("{\"trust\":1}".into()),
        unique_id: Some("AROAEXAMPLEROLEID000".into()),
    };
    store
        .insert_principal(&role, None)
        .await
        .expect("insert role");
    assert_eq!(
        store.get_principal(&arn).await.expect("get"),
        Some(role.clone())
    );
    assert_eq!(store.list_access_keys(&arn).await.expect("keys"), vec![]);

    let before = store.identity_version().await.expect("version");
    store
        .update_assume_role_policy(&arn, "{\"trust\":2}")
        .await
        .expect("update");
    assert!(store.identity_version().await.expect("version") > before);
    let stored = store.get_principal(&arn).await.expect("get").expect("role");
    assert_eq!(stored.assume_role_policy.as_deref(), Some("{\"trust\":2}"));

    let missing = format!("{arn}-missing");
    assert_store_err!(
        store.update_assume_role_policy(&missing, "{}").await,
        StoreError::NotFound
    );
}
