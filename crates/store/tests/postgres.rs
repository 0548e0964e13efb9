//! [`PgStore`] against a real PostgreSQL: the conformance suite, plus what only a cluster shows
//! (two nodes' pools racing from spawned tasks, nodes migrating one fresh database at once), the
//! byte order of text under a locale-aware database, SQLSTATE mapping, and timeouts.
//!
//! The server is the one at `FERROKMS_TEST_POSTGRES_URL`, whose user must be able to create
//! databases (for the fresh-database tests):
//!
//! ```text
//! URL=$(scripts/pg.sh start /tmp/pgtest) &&
//!     FERROKMS_TEST_POSTGRES_URL=$URL cargo test -p ferrokms-store --test postgres
//! scripts/pg.sh stop /tmp/pgtest
//! ```
//!
//! Without that variable every test prints a note and passes, unless `CI` is set: then it fails,
//! so that CI cannot skip PostgreSQL silently.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ferrokms_store::conformance::databases::ScratchDatabase;
use ferrokms_store::conformance::{self, run_all, CASES};
use ferrokms_store::{
    open_store, AliasRow, KeyRow, PgStore, PrincipalRow, Store, StoreError, Tag,
    PENDING_DELETION_STATE,
};
use sqlx::{Connection, PgConnection, Row};

/// The test server's URL, or `None` (after a note) when it is not configured outside CI.
fn server_url() -> Option<String> {
    match std::env::var("FERROKMS_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some_and(|ci| !ci.is_empty()) => panic!(
            "CI is set but FERROKMS_TEST_POSTGRES_URL is not: start a server with \
             `scripts/pg.sh start DIR` and export the URL it prints"
        ),
        _ => {
            eprintln!(
                "note: FERROKMS_TEST_POSTGRES_URL is not set, skipping the PostgreSQL tests \
                 (see crates/store/tests/postgres.rs)"
            );
            None
        }
    }
}

async fn open(url: &str) -> PgStore {
    PgStore::open(url).await.expect("open PgStore")
}

/// A database name no other test or run has used.
fn fresh_name(label: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    format!("ferrokms_test_{label}_{nanos:x}")
}

/// A scratch database named for `label`, or `None` (after a note) if the server refuses `extra`
/// (e.g. no ICU support); it is dropped when the value is, even if the test fails.
async fn scratch_database(server: &str, label: &str, extra: &str) -> Option<ScratchDatabase> {
    match ScratchDatabase::create(server, &fresh_name(label), extra).await {
        Ok(db) => Some(db),
        Err(err) => {
            eprintln!("note: CREATE DATABASE ... {extra} refused: {err}");
            None
        }
    }
}

fn key(account: &str, key_id: &str) -> KeyRow {
    conformance::key_row(account, "us-east-1", key_id)
}

/// Inserts an enabled key whose first material is `material` in a fresh account named for
/// `label`; returns the account and the key id.
async fn insert_fresh_key(store: &PgStore, label: &str, material: &[u8]) -> (String, String) {
    let account = fresh_name(label);
    let key_id = format!("{account}-key");
    let first = conformance::version(&key_id, 1, material);
    store
        .insert_key(&key(&account, &key_id), &first, &[])
        .await
        .expect("insert_key");
    (account, key_id)
}

/// Runs `call(store, i)` for i in 0..n, each in its own spawned task, on the stores in turn;
/// returns the results in order of i.
async fn race<T, F, Fut>(stores: &[Arc<PgStore>], n: usize, call: F) -> Vec<Result<T, StoreError>>
where
    T: Send + 'static,
    F: Fn(Arc<PgStore>, usize) -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>> + Send + 'static,
{
    let tasks: Vec<_> = (0..n)
        .map(|i| tokio::spawn(call(stores[i % stores.len()].clone(), i)))
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("join"));
    }
    results
}

fn count_ok<T>(results: &[Result<T, StoreError>]) -> usize {
    results.iter().filter(|result| result.is_ok()).count()
}

#[tokio::test]
async fn conformance_each_case_on_the_shared_database() {
    let Some(url) = server_url() else { return };
    let store = open(&url).await;
    for case in CASES {
        eprintln!("conformance: {}", case.name);
        let started = Instant::now();
        (case.run)(&store).await;
        eprintln!("  {:?}", started.elapsed());
    }
}

#[tokio::test]
async fn conformance_all_cases_through_open_store() {
    let Some(url) = server_url() else { return };
    let store = open_store(&url).await.expect("open_store");
    run_all(store.as_ref()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_all_cases_on_two_nodes_at_once() {
    let Some(url) = server_url() else { return };
    let nodes = [Arc::new(open(&url).await), Arc::new(open(&url).await)];
    let runs: Vec<_> = nodes
        .iter()
        .cloned()
        .map(|node| tokio::spawn(async move { run_all(node.as_ref()).await }))
        .collect();
    for run in runs {
        run.await.expect("a node's run panicked");
    }
}

#[tokio::test]
async fn conformance_on_a_fresh_database_with_a_locale_aware_default_collation() {
    let Some(url) = server_url() else { return };
    let Some(db) = scratch_database(
        &url,
        "icu",
        "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'",
    )
    .await
    else {
        return;
    };
    let mut conn = PgConnection::connect(db.url()).await.expect("connect");
    let locale_aware: bool = sqlx::query("SELECT 'a' < 'B'")
        .fetch_one(&mut conn)
        .await
        .expect("compare")
        .get(0);
    assert!(locale_aware, "the database should not compare bytes");
    conn.close().await.expect("close");

    let store = open(db.url()).await;
    run_all(&store).await;
    store.close().await;
    drop(db);
}

#[tokio::test]
async fn change_feed_pruning_on_a_database_of_its_own() {
    let Some(url) = server_url() else { return };
    let Some(db) = scratch_database(&url, "prune", "").await else {
        panic!("could not create a scratch database");
    };
    let store = open(db.url()).await;
    ferrokms_store::conformance::changes::pruning_drops_old_rows_only(&store).await;
    store.close().await;
    drop(db);
}

/// The feed's listening connection is not taken from the node's pool: with a pool of one, the
/// node still has its one connection for requests while it listens.
#[tokio::test]
async fn listening_for_the_feed_leaves_the_pool_alone() {
    let Some(url) = server_url() else { return };
    let sep = if url.contains('?') { '&' } else { '?' };
    let store = open(&format!(
        "{url}{sep}max_connections=1&acquire_timeout_ms=1000"
    ))
    .await;
    store.wait_for_changes(Duration::from_millis(50)).await;
    store
        .identity_version()
        .await
        .expect("a request while the listener holds its connection");
    store.close().await;
}

/// A node waiting for the change feed is woken by another node's commit, not by its timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_on_one_node_wakes_the_feed_waiter_on_another() {
    let Some(url) = server_url() else { return };
    let (waiter, writer) = (Arc::new(open(&url).await), open(&url).await);
    // The first wait opens the listening connection; nothing commits meanwhile.
    waiter.wait_for_changes(Duration::from_millis(50)).await;
    let waiting = {
        let waiter = waiter.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            waiter.wait_for_changes(Duration::from_secs(30)).await;
            started.elapsed()
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let version = writer.identity_version().await.expect("version");
    let scope = fresh_name("feed_wake");
    let user = PrincipalRow {
        arn: format!("arn:aws:iam::{scope}:user/w"),
        account_id: scope.clone(),
        name: "w".into(),
        created_at: 1,
        assume_role_policy: None,
        unique_id: None,
    };
    writer.insert_principal(&user, None).await.expect("insert");
    assert!(writer.identity_version().await.expect("version") > version);
    let waited = waiting.await.expect("join");
    assert!(
        waited < Duration::from_secs(10),
        "woken after {waited:?}, not by the commit"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_opening_one_fresh_database_at_once_migrate_it_once() {
    let Some(url) = server_url() else { return };
    let Some(db) = scratch_database(&url, "migrate", "").await else {
        panic!("could not create a scratch database");
    };
    let opens: Vec<_> = (0..4)
        .map(|_| {
            let url = db.url().to_owned();
            tokio::spawn(async move { PgStore::open(&url).await })
        })
        .collect();
    let mut stores = Vec::new();
    for open in opens {
        stores.push(open.await.expect("join").expect("every node opens"));
    }
    let mut conn = PgConnection::connect(db.url()).await.expect("connect");
    let row = sqlx::query(
        "SELECT COUNT(*), COUNT(*) FILTER (WHERE success), MAX(version) FROM _sqlx_migrations",
    )
    .fetch_one(&mut conn)
    .await
    .expect("migrations table");
    let (applied, succeeded, latest): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
    // Every embedded migration applied once (numbers may have gaps while branches that took
    // the numbers in between are unmerged).
    let embedded = sqlx::migrate!("./migrations/postgres");
    let count = i64::try_from(embedded.iter().count()).expect("few migrations");
    let newest = embedded
        .iter()
        .map(|m| m.version)
        .max()
        .expect("migrations");
    assert_eq!((applied, succeeded, latest), (count, count, newest));
    assert!(latest >= 5, "leases come with migration 5");
    let counters: i64 = sqlx::query("SELECT COUNT(*) FROM counters")
        .fetch_one(&mut conn)
        .await
        .expect("counters")
        .get(0);
    assert_eq!(counters, 1, "the seed row of migration 2 was inserted once");
    conn.close().await.expect("close");

    for store in &stores {
        store.ping().await.expect("ping");
        store.close().await;
    }
    // Opening an up-to-date database again is a no-op.
    open(db.url()).await.close().await;
    drop(db);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_racing_from_spawned_tasks_get_exactly_one_winner() {
    let Some(url) = server_url() else { return };
    let nodes = [Arc::new(open(&url).await), Arc::new(open(&url).await)];
    let (account, key_id) = insert_fresh_key(&nodes[0], "race", b"m").await;

    let alias = AliasRow {
        account_id: account.clone(),
        region: "us-east-1".into(),
        alias_name: "alias/contended".into(),
        target_key_id: key_id.clone(),
        creation_date: 1,
        last_updated_date: 1,
    };
    let results = race(&nodes, 20, |node, _| {
        let alias = alias.clone();
        async move { node.insert_alias(&alias).await }
    })
    .await;
    assert_eq!(count_ok(&results), 1, "{results:?}");
    assert!(results
        .iter()
        .all(|r| matches!(r, Ok(()) | Err(StoreError::AlreadyExists))));

    let stale = key(&account, &key_id);
    let results = race(&nodes, 20, |node, i| {
        let mut row = stale.clone();
        row.description = format!("writer {i}");
        async move { node.update_key(&row).await }
    })
    .await;
    assert_eq!(count_ok(&results), 1, "{results:?}");
    assert!(results
        .iter()
        .all(|r| matches!(r, Ok(_) | Err(StoreError::Conflict))));

    let results = race(&nodes, 20, |node, i| {
        let id = key_id.clone();
        let tags = [Tag {
            key: format!("t{i:02}"),
            value: "v".into(),
        }];
        async move { node.put_tags(&id, &tags, 7).await }
    })
    .await;
    assert_eq!(count_ok(&results), 7, "{results:?}");
    let tags = nodes[1].list_tags(&key_id, None, 100).await.expect("list");
    assert_eq!(tags.len(), 7);

    let lease = fresh_name("lease");
    let results = race(&nodes, 20, |node, i| {
        let lease = lease.clone();
        async move {
            node.try_acquire_lease(&lease, &format!("node-{i}"), 0, 60_000)
                .await
        }
    })
    .await;
    let granted = results.iter().filter(|r| matches!(r, Ok(true))).count();
    assert_eq!(granted, 1, "{results:?}");

    let mut pending = nodes[0]
        .get_key(&account, "us-east-1", &key_id)
        .await
        .expect("get")
        .expect("key");
    pending.state = PENDING_DELETION_STATE.into();
    pending.deletion_date = Some(0);
    let pending = nodes[0].update_key(&pending).await.expect("schedule");
    let results = race(&nodes, 20, |node, _| {
        let id = key_id.clone();
        let row_version = pending.row_version;
        async move { node.destroy_key_if_version(&id, row_version).await }
    })
    .await;
    assert_eq!(count_ok(&results), 1, "{results:?}");
    assert!(results
        .iter()
        .all(|r| matches!(r, Ok(()) | Err(StoreError::NotFound))));
}

#[tokio::test]
async fn a_held_row_lock_fails_calls_after_the_statement_timeout_instead_of_hanging() {
    let Some(url) = server_url() else { return };
    let separator = if url.contains('?') { '&' } else { '?' };
    let store = open(&format!("{url}{separator}statement_timeout_ms=300")).await;
    let (_, key_id) = insert_fresh_key(&store, "timeout", b"m").await;

    // A "hung node": a transaction holding the key row's lock and doing nothing.
    let mut hung = PgConnection::connect(&url).await.expect("connect");
    sqlx::query("BEGIN")
        .execute(&mut hung)
        .await
        .expect("begin");
    sqlx::query("SELECT 1 FROM keys WHERE key_id = $1 FOR UPDATE")
        .bind(&key_id)
        .execute(&mut hung)
        .await
        .expect("lock");

    let started = Instant::now();
    let tag = Tag {
        key: "k".into(),
        value: "v".into(),
    };
    let result = store
        .put_tags(&key_id, std::slice::from_ref(&tag), 50)
        .await;
    assert!(matches!(result, Err(StoreError::Backend(_))), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(5));

    sqlx::query("ROLLBACK")
        .execute(&mut hung)
        .await
        .expect("rollback");
    hung.close().await.expect("close");
    store
        .put_tags(&key_id, &[tag], 50)
        .await
        .expect("free again");
}

#[tokio::test]
async fn constraint_violations_are_classified_by_sqlstate() {
    let Some(url) = server_url() else { return };
    let mut conn = PgConnection::connect(&url).await.expect("connect");
    sqlx::raw_sql(
        "CREATE TEMP TABLE p (id INTEGER PRIMARY KEY);
         CREATE TEMP TABLE c (id INTEGER PRIMARY KEY, p INTEGER REFERENCES p (id));
         INSERT INTO p VALUES (1);",
    )
    .execute(&mut conn)
    .await
    .expect("schema");
    let duplicate = sqlx::query("INSERT INTO p VALUES (1)")
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert_eq!(
        duplicate
            .as_database_error()
            .and_then(|e| e.code())
            .as_deref(),
        Some("23505")
    );
    assert!(matches!(
        StoreError::from(duplicate),
        StoreError::AlreadyExists
    ));
    let orphan = sqlx::query("INSERT INTO c VALUES (1, 2)")
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert_eq!(
        orphan.as_database_error().and_then(|e| e.code()).as_deref(),
        Some("23503")
    );
    assert!(matches!(StoreError::from(orphan), StoreError::NotFound));
    let missing = sqlx::query("SELECT * FROM missing_table")
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert!(matches!(StoreError::from(missing), StoreError::Backend(_)));
    conn.close().await.expect("close");
}

#[tokio::test]
async fn open_store_takes_either_scheme_and_pool_parameters() {
    let Some(url) = server_url() else { return };
    let alternate = url
        .strip_prefix("postgres://")
        .map(|rest| format!("PostgreSQL://{rest}"))
        .unwrap_or_else(|| url.clone());
    let separator = if url.contains('?') { '&' } else { '?' };
    for spec in [
        url.clone(),
        alternate,
        format!("{url}{separator}max_connections=2&acquire_timeout_ms=2000"),
    ] {
        let store = open_store(&spec).await.expect("open_store");
        store.ping().await.expect("ping");
        let missing = store.put_tags("no-such-key", &[], 1).await;
        assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    }
    let bad = format!("{url}{separator}max_connections=zero");
    assert!(matches!(
        open_store(&bad).await.err(),
        Some(StoreError::Backend(_))
    ));
}

#[tokio::test]
async fn destroyed_material_is_unreachable_and_its_tables_are_vacuumed_eagerly() {
    let Some(url) = server_url() else { return };
    let store = open(&url).await;
    let (_, key_id) = insert_fresh_key(&store, "destroy", b"secret").await;
    store.destroy_key(&key_id).await.expect("destroy");

    let mut conn = PgConnection::connect(&url).await.expect("connect");
    let left: i64 = sqlx::query("SELECT COUNT(*) FROM key_versions WHERE key_id = $1")
        .bind(&key_id)
        .fetch_one(&mut conn)
        .await
        .expect("count")
        .get(0);
    assert_eq!(left, 0);
    for table in ["key_versions", "access_keys"] {
        let options: Vec<String> = sqlx::query(
            "SELECT COALESCE(c.reloptions, '{}') || COALESCE(t.reloptions, '{}') \
             FROM pg_class c LEFT JOIN pg_class t ON t.oid = c.reltoastrelid \
             WHERE c.oid = $1::regclass",
        )
        .bind(table)
        .fetch_one(&mut conn)
        .await
        .expect("reloptions")
        .get(0);
        for wanted in [
            "autovacuum_vacuum_threshold=0",
            "autovacuum_vacuum_scale_factor=0",
        ] {
            let count = options.iter().filter(|o| *o == wanted).count();
            assert_eq!(count, 2, "{table} and its TOAST table: {options:?}");
        }
    }
    conn.close().await.expect("close");
}
