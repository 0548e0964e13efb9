//! Tests of [`SqliteStore`]: the conformance suite on fresh and shared stores, plus what only a
//! file shows: durability across reopening, two processes' stores on one file, concurrent
//! writers, connection settings, and that destroyed material leaves the files.

use std::path::{Path, PathBuf};

use sqlx::Row;
use tempfile::TempDir;

use super::SqliteStore;
use crate::conformance::{self, run_all, CASES};
use crate::{AccessKeyRow, AliasRow, KeyRow, KeyVersionRow, PrincipalRow, Store, StoreError, Tag};

fn db_path(dir: &TempDir) -> PathBuf {
    dir.path().join("ferrokms.db")
}

async fn open(path: &Path) -> SqliteStore {
    SqliteStore::open(path).await.expect("open")
}

fn key(key_id: &str) -> KeyRow {
    conformance::key_row("111122223333", "us-east-1", key_id)
}

fn version(key_id: &str, material: &[u8]) -> KeyVersionRow {
    conformance::version(key_id, 1, material)
}

fn alias(name: &str, key_id: &str) -> AliasRow {
    AliasRow {
        account_id: "111122223333".into(),
        region: "us-east-1".into(),
        alias_name: name.into(),
        target_key_id: key_id.into(),
        creation_date: 1,
        last_updated_date: 1,
    }
}

fn principal(name: &str) -> (PrincipalRow, AccessKeyRow) {
    let arn = format!("arn:aws:iam::111122223333:user/{name}");
    let principal = PrincipalRow {
        arn: arn.clone(),
        account_id: "111122223333".into(),
        name: name.into(),
        created_at: 1,
        assume_role_policy: None,
        unique_id: None,
    };
    let access_key = AccessKeyRow {
        access_key_id: format!("AKIA{}", name.to_uppercase()),
        principal_arn: arn,
        account_id: "111122223333".into(),
        wrapped_secret: vec![1, 2, 3],
        created_at: 1,
    };
    (principal, access_key)
}

/// The bytes of the database file and its WAL, concatenated.
fn file_bytes(path: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(path).expect("read db");
    if let Ok(wal) = std::fs::read(path.with_extension("db-wal")) {
        bytes.extend(wal);
    }
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[tokio::test]
async fn conformance_each_case_on_a_fresh_in_memory_store() {
    for case in CASES {
        eprintln!("conformance: {}", case.name);
        let store = SqliteStore::open_in_memory().await.expect("open");
        (case.run)(&store).await;
    }
}

#[tokio::test]
async fn change_feed_pruning_on_a_store_of_its_own() {
    let store = SqliteStore::open_in_memory().await.expect("open");
    crate::conformance::changes::pruning_drops_old_rows_only(&store).await;
}

#[tokio::test]
async fn conformance_all_cases_twice_on_one_shared_file_store() {
    let dir = TempDir::new().expect("tempdir");
    let store = open(&db_path(&dir)).await;
    run_all(&store).await;
    run_all(&store).await;
}

#[tokio::test]
async fn data_survives_reopening_the_file() {
    let dir = TempDir::new().expect("tempdir");
    let path = db_path(&dir);
    let store = open(&path).await;
    let tag = Tag {
        key: "team".into(),
        value: "kms".into(),
    };
    store
        .insert_key(
            &key("k1"),
            &version("k1", b"material"),
            std::slice::from_ref(&tag),
        )
        .await
        .expect("insert");
    let updated = store.update_key(&key("k1")).await.expect("update");
    store
        .insert_alias(&alias("alias/a", "k1"))
        .await
        .expect("alias");
    let (principal, access_key) = principal("alice");
    store
        .insert_principal(&principal, Some(&access_key))
        .await
        .expect("principal");
    store
        .set_setting("schema-owner", "ferrokms")
        .await
        .expect("setting");
    store.close().await;
    drop(store);

    let store = open(&path).await;
    let stored = store.get_key("111122223333", "us-east-1", "k1").await;
    assert_eq!(stored.expect("get"), Some(updated));
    let material = store.get_key_version("k1", 1).await.expect("version");
    assert_eq!(material, Some(version("k1", b"material")));
    assert_eq!(
        store.list_tags("k1", None, 10).await.expect("tags"),
        vec![tag]
    );
    assert_eq!(
        store.aliases_for_key("k1").await.expect("aliases"),
        ["alias/a"]
    );
    let stored = store.get_access_key(&access_key.access_key_id).await;
    assert_eq!(stored.expect("access key"), Some(access_key));
    let stored = store.get_setting("schema-owner").await.expect("setting");
    assert_eq!(stored.as_deref(), Some("ferrokms"));
}

#[tokio::test]
async fn two_stores_on_one_file_see_each_others_writes() {
    let dir = TempDir::new().expect("tempdir");
    let path = db_path(&dir);
    let server = open(&path).await;
    let cli = open(&path).await;

    let (principal, access_key) = principal("admin");
    cli.insert_principal(&principal, Some(&access_key))
        .await
        .expect("cli insert");
    let seen = server.get_access_key(&access_key.access_key_id).await;
    assert_eq!(seen.expect("server read"), Some(access_key));

    server
        .insert_key(&key("k1"), &version("k1", b"m"), &[])
        .await
        .expect("insert");
    let seen = cli
        .get_key("111122223333", "us-east-1", "k1")
        .await
        .expect("cli read");
    let stale = seen.clone().expect("visible to the cli");
    cli.update_key(&stale).await.expect("cli update");
    assert!(matches!(
        server.update_key(&stale).await,
        Err(StoreError::Conflict)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_insert_alias_of_one_name_admit_exactly_one() {
    let dir = TempDir::new().expect("tempdir");
    let path = db_path(&dir);
    let stores = [open(&path).await, open(&path).await];
    stores[0]
        .insert_key(&key("k1"), &version("k1", b"m"), &[])
        .await
        .expect("insert");

    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = stores[i % 2].clone();
        tasks.push(tokio::spawn(async move {
            let mut row = alias("alias/contended", "k1");
            row.creation_date = i64::try_from(i).expect("small");
            store.insert_alias(&row).await
        }));
    }
    let (mut ok, mut exists) = (0, 0);
    for task in tasks {
        match task.await.expect("join") {
            Ok(()) => ok += 1,
            Err(StoreError::AlreadyExists) => exists += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((ok, exists), (1, 19));
}

#[tokio::test]
async fn destroyed_material_is_gone_from_the_files() {
    let dir = TempDir::new().expect("tempdir");
    let path = db_path(&dir);
    let store = open(&path).await;
    let small = b"SMALL-WRAPPED-MATERIAL-0123456789-abcdef-SMALL".to_vec();
    let large: Vec<u8> = b"LARGE-WRAPPED-MATERIAL-"
        .iter()
        .copied()
        .cycle()
        .take(20_000)
        .collect();
    store
        .insert_key(&key("small"), &version("small", &small), &[])
        .await
        .expect("insert");
    store
        .insert_key(&key("large"), &version("large", &large), &[])
        .await
        .expect("insert");
    store
        .insert_key(&key("kept"), &version("kept", b"kept"), &[])
        .await
        .expect("insert");
    assert!(
        contains(&file_bytes(&path), &small),
        "test must see the material first"
    );
    assert!(contains(&file_bytes(&path), &large[..64]));

    store.destroy_key("small").await.expect("destroy");
    store.destroy_key("large").await.expect("destroy");

    let bytes = file_bytes(&path);
    assert!(!contains(&bytes, &small), "small material remains on disk");
    assert!(
        !contains(&bytes, &large[..64]),
        "large material remains on disk"
    );
    assert!(store
        .get_key_version("kept", 1)
        .await
        .expect("get")
        .is_some());
}

#[tokio::test]
async fn connections_use_wal_full_sync_foreign_keys_and_secure_delete() {
    let dir = TempDir::new().expect("tempdir");
    let store = open(&db_path(&dir)).await;
    let mut conn = store.pool.acquire().await.expect("acquire");
    let mut pragma = async |name: &str| -> String {
        let row = sqlx::query(&format!("PRAGMA {name}"))
            .fetch_one(&mut *conn)
            .await
            .expect("pragma");
        row.try_get::<String, _>(0)
            .or_else(|_| row.try_get::<i64, _>(0).map(|n| n.to_string()))
            .expect("pragma value")
    };
    assert_eq!(pragma("journal_mode").await, "wal");
    assert_eq!(pragma("synchronous").await, "2"); // FULL
    assert_eq!(pragma("foreign_keys").await, "1");
    assert_eq!(pragma("secure_delete").await, "1");
    assert_eq!(pragma("busy_timeout").await, "5000");
}

#[tokio::test]
async fn open_creates_a_missing_file_but_not_a_missing_directory() {
    let dir = TempDir::new().expect("tempdir");
    let path = db_path(&dir);
    assert!(!path.exists());
    open(&path).await.ping().await.expect("ping");
    assert!(path.exists());

    let nested = dir.path().join("missing").join("ferrokms.db");
    let result = SqliteStore::open(&nested).await;
    assert!(matches!(result, Err(StoreError::Backend(_))), "{result:?}");
}

#[tokio::test]
async fn in_memory_stores_are_private() {
    let first = SqliteStore::open_in_memory().await.expect("open");
    let second = SqliteStore::open_in_memory().await.expect("open");
    first.set_setting("who", "first").await.expect("set");
    assert_eq!(second.get_setting("who").await.expect("get"), None);
}

/// SHA-384 of the released migrations, as sqlx records them in every existing database: moving
/// or editing a released file must not change them, or those databases stop opening.
const RELEASED_CHECKSUMS: [(i64, &str); 4] = [
    (1, "b3305806fb8a4a54ec8c4d4c58171ce5d86f8fdcddcbb0dd5eb5cf25c0e59200c69711d7947b6508f6a5eff4f1d0d6e9"),
    (2, "1fe3b6a7a37e10414e4994cf2a660d29a2591187b84aa2577f75071108a8febcb4338332404bcf0b1fa95c3f9d1e7022"),
    (3, "83330255d69664c6413836e1340f503b00a9d33e2d44efc3a21f9283ef528fbaa23b4d820e684cd0cd852ec03774145a"),
    (4, "713f41f19ed1219300806634b8069a6e49a57d35e53a4256ae08b24c782e08aad4294264e059426f1c93ef1431ab5e5c"),
];

#[test]
fn released_migrations_keep_their_checksums() {
    let migrator = sqlx::migrate!("./migrations/sqlite");
    for (version, checksum) in RELEASED_CHECKSUMS {
        let migration = migrator
            .iter()
            .find(|m| m.version == version)
            .expect("released migration present");
        assert_eq!(hex(&migration.checksum), checksum, "migration {version}");
    }
}

#[tokio::test]
async fn a_database_migrated_before_leases_opens_and_gains_them() {
    let dir = TempDir::new().expect("tempdir");
    let path = db_path(&dir);
    {
        // The database as the release before leases left it: migrations 1 to 4 applied.
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.expect("pool");
        let mut old = sqlx::migrate!("./migrations/sqlite");
        old.migrations = old
            .migrations
            .iter()
            .filter(|m| m.version <= 4)
            .cloned()
            .collect::<Vec<_>>()
            .into();
        old.run(&pool).await.expect("old migrations");
        pool.close().await;
    }
    let store = open(&path).await;
    assert!(store
        .try_acquire_lease("sweep", "node-a", 0, 1_000)
        .await
        .expect("leases table"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_all_cases_on_two_stores_of_one_file_at_once() {
    let dir = TempDir::new().expect("tempdir");
    let path = db_path(&dir);
    let stores = [open(&path).await, open(&path).await];
    let runs: Vec<_> = stores
        .iter()
        .cloned()
        .map(|store| tokio::spawn(async move { run_all(&store).await }))
        .collect();
    for run in runs {
        run.await.expect("a store's run panicked");
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
