//! Conformance cases for the last use of keys: the newest use wins whatever the order of writes.

use super::unique;
use crate::{KeyUsageRow, Store};

fn used(arn: &str, operation: &str, at: i64) -> KeyUsageRow {
    KeyUsageRow {
        key_arn: arn.into(),
        operation: operation.into(),
        used_at: at,
        request_id: format!("req-{at}"),
        event_id: format!("event-{at}"),
    }
}

pub(super) async fn newest_use_wins_and_delete_forgets(store: &dyn Store) {
    let arn = format!("arn:aws:kms:us-east-1:{}:key/k", unique("usage"));
    let other = format!("{arn}-other");
    assert_eq!(store.get_key_usage(&arn).await.expect("get"), None);
    store
        .record_key_usage(&[])
        .await
        .expect("nothing to record");

    store
        .record_key_usage(&[used(&arn, "Encrypt", 200), used(&other, "Sign", 5)])
        .await
        .expect("record");
    // An older use, e.g. flushed late by another node, does not overwrite a newer one; a
    // newer one does.
    for (recorded, newest) in [
        (used(&arn, "Decrypt", 100), used(&arn, "Encrypt", 200)),
        (
            used(&arn, "GenerateDataKey", 300),
            used(&arn, "GenerateDataKey", 300),
        ),
    ] {
        store.record_key_usage(&[recorded]).await.expect("record");
        assert_eq!(store.get_key_usage(&arn).await.expect("get"), Some(newest));
    }

    store.delete_key_usage(&arn).await.expect("delete");
    store.delete_key_usage(&arn).await.expect("delete again");
    assert_eq!(store.get_key_usage(&arn).await.expect("get"), None);
    assert_eq!(
        store.get_key_usage(&other).await.expect("other kept"),
        Some(used(&other, "Sign", 5))
    );
}
