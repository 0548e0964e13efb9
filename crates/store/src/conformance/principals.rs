//! Conformance cases for principals and their access keys, settings, and ping.

use super::{assert_store_err, unique, Scope};
use crate::{AccessKeyRow, PrincipalRow, Store, StoreError};

pub(super) fn principal(scope: &Scope, name: &str) -> (PrincipalRow, AccessKeyRow) {
    let arn = format!("arn:aws:iam::{}:user/{name}", scope.account);
    let principal = PrincipalRow {
        arn: arn.clone(),
        account_id: scope.account.clone(),
        name: name.into(),
        created_at: 1_700_000_000_000,
        assume_role_policy: None,
        unique_id: Some("AIDAEXAMPLEUSERID000".into()),
    };
    let access_key = AccessKeyRow {
        access_key_id: unique("AKIA"),
        principal_arn: arn,
        account_id: scope.account.clone(),
        wrapped_secret: vec![9, 8, 7, 0, 255],
        created_at: 1_700_000_000_000,
    };
    (principal, access_key)
}

pub(super) async fn insert_and_get_principal(store: &dyn Store) {
    let scope = Scope::new("principals-get");
    let (principal, access_key) = scope.insert_user(store, "alice").await;

    let stored = store
        .get_principal(&principal.arn)
        .await
        .expect("get_principal");
    assert_eq!(stored, Some(principal.clone()));
    let stored = store
        .get_access_key(&access_key.access_key_id)
        .await
        .expect("get_access_key");
    assert_eq!(stored, Some(access_key));
    let missing = format!("{}-missing", principal.arn);
    assert_eq!(store.get_principal(&missing).await.expect("get"), None);
    assert_eq!(
        store.get_access_key("AKIA-missing").await.expect("get"),
        None
    );
}

pub(super) async fn duplicate_principal_is_already_exists_and_atomic(store: &dyn Store) {
    let scope = Scope::new("principals-dup");
    let (principal, access_key) = scope.insert_user(store, "alice").await;

    // Same ARN, fresh access key: refused, and the fresh access key is not stored.
    let (_, fresh_key) = principal_with_arn(&scope, &principal.arn);
    let result = store.insert_principal(&principal, Some(&fresh_key)).await;
    assert_store_err!(result, StoreError::AlreadyExists);
    let stored = store
        .get_access_key(&fresh_key.access_key_id)
        .await
        .expect("get");
    assert_eq!(stored, None);

    // Fresh ARN, existing access key id: refused, and the fresh principal is not stored.
    let (bob, mut bob_key) = self::principal(&scope, "bob");
    bob_key.access_key_id = access_key.access_key_id.clone();
    let result = store.insert_principal(&bob, Some(&bob_key)).await;
    assert_store_err!(result, StoreError::AlreadyExists);
    assert_eq!(store.get_principal(&bob.arn).await.expect("get"), None);
    let stored = store
        .get_access_key(&access_key.access_key_id)
        .await
        .expect("get");
    assert_eq!(stored, Some(access_key));
}

/// A principal deleted and created again under the same ARN is a new principal: its new
/// unique id is the one stored, so nothing bound to the old id (sessions, policies) finds it
/// (security review finding 8).
pub(super) async fn a_recreated_principal_has_its_new_unique_id(store: &dyn Store) {
    let scope = Scope::new("principals-recreated");
    let (mut role, _) = principal(&scope, "deployer");
    role.arn = format!("arn:aws:iam::{}:role/deployer", scope.account);
    role.unique_id = Some("AROAFIRSTROLEID00000".into());
    role.assume_role_policy = Some("{\"first\":1}".into());
    store.insert_principal(&role, None).await.expect("insert");
    store.delete_principal(&role.arn).await.expect("delete");
    assert_eq!(store.get_principal(&role.arn).await.expect("get"), None);

    let again = PrincipalRow {
        unique_id: Some("AROASECONDROLEID0000".into()),
        assume_role_policy: Some("{\"second\":2}".into()),
        ..role.clone()
    };
    store
        .insert_principal(&again, None)
        .await
        .expect("re-create");
    let stored = store.get_principal(&role.arn).await.expect("get");
    assert_eq!(stored, Some(again));
}

fn principal_with_arn(scope: &Scope, arn: &str) -> (PrincipalRow, AccessKeyRow) {
    let (mut principal, mut access_key) = principal(scope, "other");
    principal.arn = arn.into();
    access_key.principal_arn = arn.into();
    (principal, access_key)
}

pub(super) async fn list_principals_by_account(store: &dyn Store) {
    let scope = Scope::new("principals-list");
    let other = Scope::new("principals-list-other");
    let mut expected = Vec::new();
    for name in ["carol", "alice", "bob"] {
        let (principal, _) = scope.insert_user(store, name).await;
        expected.push(principal);
    }
    let (foreign, foreign_key) = principal(&other, "dave");
    store
        .insert_principal(&foreign, Some(&foreign_key))
        .await
        .expect("insert");
    expected.sort_by(|a, b| a.arn.cmp(&b.arn));

    assert_eq!(
        store.list_principals(&scope.account).await.expect("list"),
        expected
    );
    assert_eq!(
        store.list_principals(&other.account).await.expect("list"),
        vec![foreign]
    );
    let nobody = Scope::new("principals-list-empty").account;
    assert_eq!(store.list_principals(&nobody).await.expect("list"), vec![]);
}

pub(super) async fn settings_get_and_overwrite(store: &dyn Store) {
    let name = unique("setting");
    assert_eq!(store.get_setting(&name).await.expect("get"), None);
    store.set_setting(&name, "one").await.expect("set");
    assert_eq!(
        store.get_setting(&name).await.expect("get"),
        Some("one".into())
    );
    store.set_setting(&name, "").await.expect("overwrite");
    assert_eq!(
        store.get_setting(&name).await.expect("get"),
        Some(String::new())
    );
}

pub(super) async fn ping_answers(store: &dyn Store) {
    store.ping().await.expect("ping");
}
