//! On-demand rotation of imported material, seeded as the import operations leave it: a
//! `key_versions` row newer than the current one, IMPORTED, never rotated in.

use super::*;
use ferrokms_store::{KeyRow, KeyVersionRow};
use serde_json::json;

/// An EXTERNAL key as the import operations leave it: version 1 imported and current, and
/// `pending` more imported versions waiting to be rotated in.
async fn seed_external_key(f: &Fixture, pending: i64) -> String {
    let key_id = ferrokms_types::ids::new_key_id();
    let row = KeyRow {
        arn: format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{key_id}"),
        key_id: key_id.clone(),
        account_id: ACCOUNT.into(),
        region: "us-east-1".into(),
        description: String::new(),
        key_usage: "ENCRYPT_DECRYPT".into(),
        key_spec: "SYMMETRIC_DEFAULT".into(),
        origin: "EXTERNAL".into(),
        state: "Enabled".into(),
        policy: crate::ops::create_key::default_policy(ACCOUNT),
        creation_date: START_MS,
        deletion_date: None,
        pending_window_days: None,
        current_version: 1,
        multi_region: false,
        multi_region_id: None,
        primary_region: None,
        custom_key_store_id: None,
        row_version: 1,
    };
    let imported = |version: i64| KeyVersionRow {
        key_id: key_id.clone(),
        version,
        wrapped_material: f
            .kms
            .wrap_material(
                &key_id,
                version,
                &ferrokms_crypto::generate_symmetric_key().unwrap(),
            )
            .unwrap(),
        created_at: START_MS,
        material_id: format!("{version:064x}"),
        import_state: Some("IMPORTED".into()),
        expiration_model: Some("KEY_MATERIAL_DOES_NOT_EXPIRE".into()),
        material_description: Some(format!("material {version}")),
        ..KeyVersionRow::default()
    };
    f.store.insert_key(&row, &imported(1), &[]).await.unwrap();
    for version in 2..2 + pending {
        f.store
            .insert_key_version(&imported(version))
            .await
            .unwrap();
    }
    key_id
}

#[tokio::test]
async fn imported_keys_rotate_on_demand_to_the_newest_pending_material() {
    let f = fixture().await;
    let key = seed_external_key(&f, 2).await;
    let listed = f
        .call(
            "ListKeyRotations",
            json!({"KeyId": key, "IncludeKeyMaterial": "ALL_KEY_MATERIAL"}),
        )
        .await
        .unwrap();
    let states: Vec<&str> = listed["Rotations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["KeyMaterialState"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["CURRENT", "PENDING_ROTATION", "PENDING_ROTATION"]);
    assert_eq!(listed["Rotations"][1]["ImportState"], "IMPORTED");
    assert_eq!(
        listed["Rotations"][1]["KeyMaterialDescription"],
        "material 2"
    );

    assert_eq!(
        f.error("EnableKeyRotation", json!({"KeyId": key})).await,
        "UnsupportedOperationException"
    );
    f.call("RotateKeyOnDemand", json!({"KeyId": key}))
        .await
        .unwrap();
    assert_eq!(f.current(&key).await, 3);
    let versions = f.versions(&key).await;
    assert_eq!(
        versions.len(),
        3,
        "no material is generated for an imported key"
    );
    assert_eq!(versions[2].rotation_type.as_deref(), Some("ON_DEMAND"));
    assert_eq!(versions[2].material_id, format!("{:064x}", 3));
    // Version 2 was passed over and is no longer waiting; nothing is left to rotate to.
    assert_eq!(
        f.error("RotateKeyOnDemand", json!({"KeyId": key})).await,
        "KMSInvalidStateException"
    );
    let rotations = f
        .call("ListKeyRotations", json!({"KeyId": key}))
        .await
        .unwrap();
    let only = rotations["Rotations"].as_array().unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0]["KeyMaterialState"], "CURRENT");
    assert_eq!(only[0]["RotationType"], "ON_DEMAND");
}

#[tokio::test]
async fn imported_keys_pending_import_get_awss_answers() {
    let f = fixture().await;
    let key = seed_external_key(&f, 1).await;
    let mut row = f
        .store
        .get_key(ACCOUNT, "us-east-1", &key)
        .await
        .unwrap()
        .unwrap();
    row.state = "PendingImport".into();
    f.store.update_key(&row).await.unwrap();
    let (code, message) = f
        .call("EnableKeyRotation", json!({"KeyId": key}))
        .await
        .unwrap_err();
    assert_eq!(code, "UnsupportedOperationException");
    assert!(message.ends_with("origin is EXTERNAL which is not valid for this operation."));
    let (code, message) = f
        .call("RotateKeyOnDemand", json!({"KeyId": key}))
        .await
        .unwrap_err();
    assert_eq!(code, "KMSInvalidStateException");
    assert!(message.ends_with("is pending import."), "{message}");
    assert_eq!(f.current(&key).await, 1);
}
