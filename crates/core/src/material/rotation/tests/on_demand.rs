//! On-demand rotation (its limit, its conflict with an imminent automatic rotation), refusals
//! for keys that cannot rotate, and ListKeyRotations paging.

use super::*;
use crate::clock::DAY_MS;
use crate::material::rotation::{rotate_due_keys, CONFLICT_WINDOW_MS, ON_DEMAND_LIMIT};
use serde_json::json;

#[tokio::test]
async fn on_demand_rotation_is_limited_and_leaves_the_schedule_alone() {
    let f = fixture().await;
    let key = f.new_key(json!({})).await;
    for n in 0..ON_DEMAND_LIMIT {
        let out = f
            .call("RotateKeyOnDemand", json!({"KeyId": key}))
            .await
            .unwrap();
        assert_eq!(out["KeyId"], key.as_str(), "{n}");
    }
    assert_eq!(
        f.error("RotateKeyOnDemand", json!({"KeyId": key})).await,
        "LimitExceededException"
    );
    assert_eq!(f.current(&key).await, 1 + ON_DEMAND_LIMIT as i64);
    let versions = f.versions(&key).await;
    assert!(versions[1..]
        .iter()
        .all(|v| v.rotation_type.as_deref() == Some("ON_DEMAND")));
    // Automatic rotations do not count towards the limit.
    f.call("EnableKeyRotation", json!({"KeyId": key}))
        .await
        .unwrap();
    f.clock.advance_ms(365 * DAY_MS);
    assert_eq!(rotate_due_keys(&f.kms).await.unwrap(), 1);
}

#[tokio::test]
async fn on_demand_rotation_is_a_conflict_when_automatic_rotation_is_imminent() {
    let f = fixture().await;
    let key = f.new_key(json!({})).await;
    f.call(
        "EnableKeyRotation",
        json!({"KeyId": key, "RotationPeriodInDays": 90}),
    )
    .await
    .unwrap();
    f.clock.advance_ms(90 * DAY_MS - CONFLICT_WINDOW_MS);
    assert_eq!(
        f.error("RotateKeyOnDemand", json!({"KeyId": key})).await,
        "ConflictException"
    );
    f.clock.advance_ms(-1);
    f.call("RotateKeyOnDemand", json!({"KeyId": key}))
        .await
        .unwrap();
    // The automatic schedule is unchanged by it.
    f.clock.advance_ms(1 + CONFLICT_WINDOW_MS);
    assert_eq!(rotate_due_keys(&f.kms).await.unwrap(), 1);
    assert_eq!(f.current(&key).await, 3);
}

#[tokio::test]
async fn keys_that_cannot_rotate_are_refused_as_aws_does() {
    let f = fixture().await;
    let rsa = f
        .new_key(json!({"KeySpec": "RSA_2048", "KeyUsage": "SIGN_VERIFY"}))
        .await;
    let hmac = f
        .new_key(json!({"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"}))
        .await;
    for key in [&rsa, &hmac] {
        for op in [
            "EnableKeyRotation",
            "DisableKeyRotation",
            "RotateKeyOnDemand",
            "ListKeyRotations",
        ] {
            assert_eq!(
                f.error(op, json!({"KeyId": key})).await,
                "UnsupportedOperationException",
                "{op}"
            );
        }
        let status = f
            .call("GetKeyRotationStatus", json!({"KeyId": key}))
            .await
            .unwrap();
        assert_eq!(status["KeyRotationEnabled"], false);
    }
}

#[tokio::test]
async fn list_key_rotations_pages_by_version() {
    let f = fixture().await;
    let key = f.new_key(json!({})).await;
    for _ in 0..5 {
        f.call("RotateKeyOnDemand", json!({"KeyId": key}))
            .await
            .unwrap();
    }
    let mut marker: Option<String> = None;
    let mut seen = Vec::new();
    loop {
        let mut body = json!({"KeyId": key, "Limit": 2});
        if let Some(m) = &marker {
            body["Marker"] = json!(m);
        }
        let page = f.call("ListKeyRotations", body).await.unwrap();
        for r in page["Rotations"].as_array().unwrap() {
            seen.push(r["KeyMaterialId"].as_str().unwrap().to_string());
        }
        if page["Truncated"] == false {
            assert!(page.get("NextMarker").is_none());
            break;
        }
        marker = Some(page["NextMarker"].as_str().unwrap().to_string());
    }
    let expected: Vec<String> = f.versions(&key).await[1..]
        .iter()
        .map(|v| v.material_id.clone())
        .collect();
    assert_eq!(seen, expected);
    assert_eq!(
        f.error("ListKeyRotations", json!({"KeyId": key, "Marker": "nope"}))
            .await,
        "InvalidMarkerException"
    );
}
