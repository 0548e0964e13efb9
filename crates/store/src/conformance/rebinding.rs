//! Conformance cases for finding what names a principal that is being deleted: keys whose policy
//! mentions it, roles whose trust policy does, and grants naming it (rebound to its unique id).

use super::{version, Scope};
use crate::{GrantRow, PrincipalRow, Store};

pub(super) async fn keys_with_policy_containing_pages_across_accounts(store: &dyn Store) {
    let here = Scope::new("rebind-keys-a");
    let there = Scope::new("rebind-keys-b");
    let needle = format!("arn:aws:iam::{}:user/gone_{}", here.account, here.region);
    let naming = |scope: &Scope, suffix: &str| {
        let mut key = scope.key(suffix);
        key.policy = format!(r#"{{"Statement":[{{"Principal":{{"AWS":"{needle}"}}}}]}}"#);
        key
    };
    let keys = [naming(&here, "1"), naming(&there, "2"), naming(&here, "3")];
    for key in &keys {
        store
            .insert_key(key, &version(&key.key_id, 1, b"w"), &[])
            .await
            .expect("insert");
    }
    here.insert_key(store, "unrelated").await;
    let mut wanted: Vec<String> = keys.iter().map(|k| k.key_id.clone()).collect();
    wanted.sort();

    let first = store
        .keys_with_policy_containing(&needle, None, 2)
        .await
        .expect("first page");
    let after = first.last().map(|k| k.key_id.clone());
    let rest = store
        .keys_with_policy_containing(&needle, after.as_deref(), 2)
        .await
        .expect("second page");
    let found: Vec<String> = first
        .iter()
        .chain(&rest)
        .map(|k| k.key_id.clone())
        .collect();
    assert_eq!(found, wanted);
    // A LIKE pattern would let `_` match any character: the search is for the text itself.
    let other = needle.replace('_', "x");
    let none = store.keys_with_policy_containing(&other, None, 10).await;
    assert!(none.expect("search").is_empty());
}

pub(super) async fn roles_with_trust_policy_containing(store: &dyn Store) {
    let scope = Scope::new("rebind-roles");
    let needle = format!("arn:aws:iam::{}:user/trusted%", scope.account);
    let role = |name: &str, trust: &str| PrincipalRow {
        arn: format!("arn:aws:iam::{}:role/{name}", scope.account),
        account_id: scope.account.clone(),
        name: name.into(),
        created_at: 1_700_000_000_000,
        assume_role_policy: Some(trust.into()),
        unique_id: Some(format!("AROA{}", name.to_uppercase())),
    };
    let trusting = role(
        "trusting",
        &format!(r#"{{"Principal":{{"AWS":"{needle}"}}}}"#),
    );
    let other = role(
        "other",
        r#"{"Principal":{"AWS":"arn:aws:iam::1:user/trusted"}}"#,
    );
    for r in [&trusting, &other] {
        store.insert_principal(r, None).await.expect("insert");
    }
    let found = store
        .roles_with_trust_policy_containing(&needle)
        .await
        .expect("search");
    assert_eq!(found, vec![trusting]);
}

pub(super) async fn rebind_grant_principals_replaces_the_arn(store: &dyn Store) {
    let scope = Scope::new("rebind-grants");
    let key = scope.insert_key(store, "k").await;
    let gone = format!("arn:aws:iam::{}:user/gone", scope.account);
    let grant = |id: &str, grantee: &str, retiring: Option<&str>| GrantRow {
        grant_id: format!("{}-{id}", key.key_id),
        key_id: key.key_id.clone(),
        grant_token: format!("token-{}-{id}", key.key_id),
        name: None,
        grantee_principal: grantee.into(),
        retiring_principal: retiring.map(Into::into),
        issuing_account: scope.account.clone(),
        operations: r#"["Decrypt"]"#.into(),
        constraints: None,
        creation_date: 1_700_000_000_000,
    };
    let stays = format!("arn:aws:iam::{}:user/stays", scope.account);
    let grants = [
        grant("a", &gone, None),
        grant("b", &stays, Some(&gone)),
        grant("c", &stays, None),
    ];
    for g in &grants {
        store.insert_grant(g).await.expect("insert");
    }
    let changed = store
        .rebind_grant_principals(&gone, "AIDAGONE")
        .await
        .expect("rebind");
    assert_eq!(changed, 2);
    let mut stored = Vec::new();
    for g in &grants {
        let got = store.get_grant(&g.key_id, &g.grant_id).await;
        stored.push(got.expect("get").expect("still there"));
    }
    assert_eq!(stored[0].grantee_principal, "AIDAGONE");
    assert_eq!(stored[1].grantee_principal, stays);
    assert_eq!(stored[1].retiring_principal.as_deref(), Some("AIDAGONE"));
    assert_eq!(stored[2], grants[2]);
}
