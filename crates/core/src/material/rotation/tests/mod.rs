//! Rotation driven through the service with a manual clock. The fixture lives here; the cases
//! are split by subject: the scheduler, on-demand rotation and listing, imported material.

mod imported;
mod on_demand;
mod scheduler;

use crate::clock::ManualClock;
use crate::{Caller, Kms};
use ferrokms_crypto::RootKey;
use ferrokms_store::sqlite::SqliteStore;
use ferrokms_store::{KeyVersionRow, Store};
use serde_json::Value;
use std::sync::Arc;

pub(super) const START_MS: i64 = 1_800_000_000_000;
pub(super) const ACCOUNT: &str = "111122223333";

pub(super) struct Fixture {
    pub kms: Kms,
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    root: String,
}

fn caller() -> Caller {
    Caller {
        principal_arn: format!("arn:aws:iam::{ACCOUNT}:user/admin"),
        account_id: ACCOUNT.into(),
        access_key_id: "AKIATEST".into(),
        region: "us-east-1".into(),
        ..Caller::default()
    }
}

pub(super) async fn fixture_on(store: Arc<dyn Store>) -> Fixture {
    let root = RootKey::generate().unwrap().encode();
    let clock = Arc::new(ManualClock::new(START_MS));
    let kms = Kms::new(
        store.clone(),
        RootKey::from_encoded(&root).unwrap(),
        clock.clone(),
    );
    crate::bootstrap::ensure_admin(&kms, ACCOUNT).await.unwrap();
    Fixture {
        kms,
        store,
        clock,
        root,
    }
}

pub(super) async fn fixture() -> Fixture {
    fixture_on(Arc::new(SqliteStore::open_in_memory().await.unwrap())).await
}

impl Fixture {
    /// Another service (another process or node) on the same store, root key and time.
    pub(super) fn twin(&self) -> Kms {
        Kms::new(
            self.store.clone(),
            RootKey::from_encoded(&self.root).unwrap(),
            self.clock.clone(),
        )
    }

    pub(super) async fn call(&self, op: &str, body: Value) -> Result<Value, (String, String)> {
        let bytes = serde_json::to_vec(&body).unwrap();
        match crate::registry::dispatch(&self.kms, op, &caller(), &bytes)
            .await
            .result
        {
            Ok(out) => Ok(serde_json::from_slice(&out).unwrap()),
            Err(e) => Err((e.wire_name().to_string(), e.message().to_string())),
        }
    }

    pub(super) async fn error(&self, op: &str, body: Value) -> String {
        self.call(op, body).await.expect_err(op).0
    }

    pub(super) async fn new_key(&self, body: Value) -> String {
        let out = self.call("CreateKey", body).await.unwrap();
        out["KeyMetadata"]["KeyId"].as_str().unwrap().to_string()
    }

    pub(super) async fn versions(&self, key: &str) -> Vec<KeyVersionRow> {
        self.store.list_key_versions(key).await.unwrap()
    }

    pub(super) async fn current(&self, key: &str) -> i64 {
        self.store
            .get_key(ACCOUNT, "us-east-1", key)
            .await
            .unwrap()
            .unwrap()
            .current_version
    }
}
