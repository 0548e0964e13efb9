//! Aliases (CreateAlias, UpdateAlias, DeleteAlias, ListAliases) and tags (TagResource,
//! UntagResource, ListResourceTags) through aws-sdk-kms.

mod common;

use aws_sdk_kms::types::{KeyState, Tag};
use aws_sdk_kms::Client;
use common::*;

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().tag_key(k).tag_value(v).build().expect("tag")
}

async fn all_tags(kms: &Client, key: &str) -> Vec<(String, String)> {
    let out = kms
        .list_resource_tags()
        .key_id(key)
        .send()
        .await
        .expect("ListResourceTags");
    assert!(!out.truncated());
    out.tags()
        .iter()
        .map(|t| (t.tag_key().to_string(), t.tag_value().to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alias_lifecycle_and_list_aliases_fields() {
    let server = TestServer::start().await;
    let kms = server.client();
    let a = create_key(&kms).await;
    let b = create_key(&kms).await;

    let before = now_ms();
    kms.create_alias()
        .alias_name("alias/my-app-key")
        .target_key_id(&a)
        .send()
        .await
        .expect("CreateAlias");
    // By key ARN as well.
    kms.create_alias()
        .alias_name("alias/second")
        .target_key_id(key_arn(&b))
        .send()
        .await
        .expect("CreateAlias by ARN");

    let out = kms.list_aliases().send().await.expect("ListAliases");
    assert!(!out.truncated());
    assert_eq!(out.next_marker(), None);
    let entry = out
        .aliases()
        .iter()
        .find(|e| e.alias_name() == Some("alias/my-app-key"))
        .expect("alias listed");
    assert_eq!(
        entry.alias_arn(),
        Some(alias_arn("alias/my-app-key").as_str())
    );
    assert_eq!(entry.target_key_id(), Some(a.as_str()));
    let created = millis(entry.creation_date().expect("CreationDate"));
    let updated = millis(entry.last_updated_date().expect("LastUpdatedDate"));
    assert!((created - before).abs() < 5_000, "{created} vs {before}");
    assert_eq!(created, updated);
    assert_eq!(out.aliases().len(), 2);

    // Filtered by KeyId (id or ARN): only that key's aliases.
    for reference in [b.clone(), key_arn(&b)] {
        let out = kms
            .list_aliases()
            .key_id(&reference)
            .send()
            .await
            .expect("ListAliases by key");
        let names: Vec<_> = out.aliases().iter().map(|e| e.alias_name()).collect();
        assert_eq!(names, [Some("alias/second")], "{reference}");
        assert_eq!(out.aliases()[0].target_key_id(), Some(b.as_str()));
    }

    // UpdateAlias points the name at the other key; encryption through it follows.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    kms.update_alias()
        .alias_name("alias/my-app-key")
        .target_key_id(&b)
        .send()
        .await
        .expect("UpdateAlias");
    let out = kms
        .encrypt()
        .key_id("alias/my-app-key")
        .plaintext(aws_sdk_kms::primitives::Blob::new("x"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.key_id(), Some(key_arn(&b).as_str()));
    let out = kms.list_aliases().key_id(&b).send().await.unwrap();
    assert_eq!(out.aliases().len(), 2);
    let entry = out
        .aliases()
        .iter()
        .find(|e| e.alias_name() == Some("alias/my-app-key"))
        .unwrap();
    assert_eq!(millis(entry.creation_date().unwrap()), created);
    assert!(millis(entry.last_updated_date().unwrap()) > updated);
    assert!(kms
        .list_aliases()
        .key_id(&a)
        .send()
        .await
        .unwrap()
        .aliases()
        .is_empty());

    // DeleteAlias: the name is gone, the key is not.
    kms.delete_alias()
        .alias_name("alias/my-app-key")
        .send()
        .await
        .expect("DeleteAlias");
    expect_err(
        kms.describe_key().key_id("alias/my-app-key").send().await,
        "NotFoundException",
    );
    expect_err(
        kms.delete_alias()
            .alias_name("alias/my-app-key")
            .send()
            .await,
        "NotFoundException",
    );
    expect_err(
        kms.update_alias()
            .alias_name("alias/my-app-key")
            .target_key_id(&a)
            .send()
            .await,
        "NotFoundException",
    );
    kms.describe_key()
        .key_id(&b)
        .send()
        .await
        .expect("key stays");
    // The name is free again.
    kms.create_alias()
        .alias_name("alias/my-app-key")
        .target_key_id(&a)
        .send()
        .await
        .expect("CreateAlias after delete");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alias_names_are_checked() {
    let server = TestServer::start().await;
    let kms = server.client();
    let id = create_key(&kms).await;
    kms.create_alias()
        .alias_name("alias/taken")
        .target_key_id(&id)
        .send()
        .await
        .unwrap();
    expect_err(
        kms.create_alias()
            .alias_name("alias/taken")
            .target_key_id(&id)
            .send()
            .await,
        "AlreadyExistsException",
    );
    // A missing prefix is a ValidationException at AWS (issue 12), the reserved namespace and an
    // empty name InvalidAliasNameException.
    expect_err(
        kms.create_alias()
            .alias_name("no-prefix")
            .target_key_id(&id)
            .send()
            .await,
        "ValidationException",
    );
    for bad in ["alias/aws/reserved", "alias/"] {
        expect_err(
            kms.create_alias()
                .alias_name(bad)
                .target_key_id(&id)
                .send()
                .await,
            "InvalidAliasNameException",
        );
    }
    expect_err(
        kms.create_alias()
            .alias_name("alias/has space")
            .target_key_id(&id)
            .send()
            .await,
        "ValidationException",
    );
    expect_err(
        kms.create_alias()
            .alias_name(format!("alias/{}", "a".repeat(251)))
            .target_key_id(&id)
            .send()
            .await,
        "ValidationException",
    );
    // An alias cannot point at an alias (AWS's own words), nor at a key that does not exist.
    let msg = expect_err(
        kms.create_alias()
            .alias_name("alias/chain")
            .target_key_id("alias/taken")
            .send()
            .await,
        "ValidationException",
    );
    assert_eq!(msg, "Aliases must refer to keys. Not aliases");
    expect_err(
        kms.create_alias()
            .alias_name("alias/ghost")
            .target_key_id("11111111-2222-3333-4444-555555555555")
            .send()
            .await,
        "NotFoundException",
    );
    let names: Vec<_> = kms
        .list_aliases()
        .send()
        .await
        .unwrap()
        .aliases()
        .iter()
        .map(|a| a.alias_name().unwrap_or_default().to_string())
        .collect();
    assert_eq!(names, ["alias/taken"]);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_aliases_pages() {
    let server = TestServer::start().await;
    let kms = server.client();
    let id = create_key(&kms).await;
    let names: Vec<String> = (0..5).map(|i| format!("alias/page-{i}")).collect();
    for n in &names {
        kms.create_alias()
            .alias_name(n)
            .target_key_id(&id)
            .send()
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    for page in 1.. {
        let out = kms
            .list_aliases()
            .key_id(&id)
            .limit(2)
            .set_marker(marker.clone())
            .send()
            .await
            .expect("ListAliases page");
        assert!(out.aliases().len() <= 2);
        seen.extend(
            out.aliases()
                .iter()
                .map(|a| a.alias_name().unwrap().to_string()),
        );
        assert_eq!(out.truncated(), out.next_marker().is_some());
        match out.next_marker() {
            Some(m) => marker = Some(m.to_string()),
            None => {
                assert_eq!(page, 3);
                break;
            }
        }
        assert!(page < 10);
    }
    seen.sort();
    assert_eq!(seen, names);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tag_untag_and_list_tags() {
    let server = TestServer::start().await;
    let kms = server.client();
    let out = kms
        .create_key()
        .tags(tag("created", "with-key"))
        .send()
        .await
        .unwrap();
    let id = out.key_metadata().unwrap().key_id().to_string();
    assert_eq!(
        all_tags(&kms, &id).await,
        [("created".to_string(), "with-key".to_string())]
    );

    kms.tag_resource()
        .key_id(&id)
        .tags(tag("env", "prod"))
        .tags(tag("team", "payments"))
        .send()
        .await
        .expect("TagResource");
    // Overwrite a value, by ARN, and an empty value is allowed.
    kms.tag_resource()
        .key_id(key_arn(&id))
        .tags(tag("env", "staging"))
        .tags(tag("empty", ""))
        .send()
        .await
        .expect("TagResource by ARN");
    let mut tags = all_tags(&kms, &id).await;
    tags.sort();
    let expected: Vec<(String, String)> = [
        ("created", "with-key"),
        ("empty", ""),
        ("env", "staging"),
        ("team", "payments"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(tags, expected);

    kms.untag_resource()
        .key_id(&id)
        .tag_keys("env")
        .tag_keys("not-there")
        .send()
        .await
        .expect("UntagResource");
    let keys: Vec<_> = all_tags(&kms, &id)
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert!(!keys.contains(&"env".to_string()), "{keys:?}");
    assert_eq!(keys.len(), 3);

    expect_err(
        kms.tag_resource()
            .key_id(&id)
            .tags(tag("aws:reserved", "x"))
            .send()
            .await,
        "TagException",
    );
    // Tagging takes key id or ARN, not an alias.
    kms.create_alias()
        .alias_name("alias/tagged")
        .target_key_id(&id)
        .send()
        .await
        .unwrap();
    expect_err(
        kms.tag_resource()
            .key_id("alias/tagged")
            .tags(tag("a", "b"))
            .send()
            .await,
        "NotFoundException",
    );
    expect_err(
        kms.tag_resource()
            .key_id(&id)
            .tags(tag(&"k".repeat(129), "v"))
            .send()
            .await,
        "ValidationException",
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_resource_tags_pages_and_reads_in_every_state() {
    let server = TestServer::start().await;
    let kms = server.client();
    let id = create_key(&kms).await;
    let mut req = kms.tag_resource().key_id(&id);
    for i in 0..5 {
        req = req.tags(tag(&format!("k{i}"), &format!("v{i}")));
    }
    req.send().await.unwrap();

    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let out = kms
            .list_resource_tags()
            .key_id(&id)
            .limit(2)
            .set_marker(marker.clone())
            .send()
            .await
            .expect("ListResourceTags");
        pages += 1;
        for t in out.tags() {
            seen.push((t.tag_key().to_string(), t.tag_value().to_string()));
        }
        if pages < 3 {
            assert_eq!(out.tags().len(), 2);
            assert!(out.truncated());
        } else {
            assert_eq!(out.tags().len(), 1);
            assert!(!out.truncated());
        }
        match out.next_marker() {
            Some(m) => marker = Some(m.to_string()),
            None => break,
        }
        assert!(pages < 10);
    }
    assert_eq!(pages, 3);
    seen.sort();
    let expected: Vec<_> = (0..5).map(|i| (format!("k{i}"), format!("v{i}"))).collect();
    assert_eq!(seen, expected);

    // Tags are readable while pending deletion, but not writable.
    kms.schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    assert_eq!(all_tags(&kms, &id).await.len(), 5);
    expect_err(
        kms.tag_resource()
            .key_id(&id)
            .tags(tag("late", "x"))
            .send()
            .await,
        "KMSInvalidStateException",
    );
    let state = kms
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_state()
        .cloned();
    assert_eq!(state, Some(KeyState::PendingDeletion));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_fifty_tags_per_key() {
    let server = TestServer::start().await;
    let kms = server.client();
    let id = create_key(&kms).await;
    let mut req = kms.tag_resource().key_id(&id);
    for i in 0..50 {
        req = req.tags(tag(&format!("t{i:02}"), "v"));
    }
    req.send().await.expect("50 tags");
    // Overwriting an existing tag is fine at the limit; a 51st is not.
    kms.tag_resource()
        .key_id(&id)
        .tags(tag("t00", "new"))
        .send()
        .await
        .expect("overwrite at the limit");
    expect_err(
        kms.tag_resource()
            .key_id(&id)
            .tags(tag("t50", "v"))
            .send()
            .await,
        "LimitExceededException",
    );
    assert_eq!(all_tags(&kms, &id).await.len(), 50);
    server.shutdown().await;
}
