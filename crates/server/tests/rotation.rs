//! Key rotation through aws-sdk-kms: EnableKeyRotation, DisableKeyRotation,
//! GetKeyRotationStatus, RotateKeyOnDemand and ListKeyRotations, and what rotation means for
//! ciphertexts (old ones keep decrypting, new ones use the newest material, ReEncrypt moves an
//! old one forward). Automatic rotation by the scheduler is driven with a manual clock in
//! `ferrokms_core::material::rotation`'s tests; here the clock is real.

mod common;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{
    IncludeKeyMaterial, KeyMaterialState, KeySpec, KeyUsageType, RotationType,
};
use common::*;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The key version a ciphertext names in its header (see docs/ciphertext-format.md).
fn blob_version(blob: &[u8]) -> u32 {
    let name_len = usize::from(blob[3]);
    let at = 4 + name_len;
    u32::from_be_bytes(blob[at..at + 4].try_into().expect("4 bytes"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enable_disable_and_status() {
    let server = TestServer::start().await;
    let kms = server.client();
    let key = create_key(&kms).await;

    let status = kms
        .get_key_rotation_status()
        .key_id(&key)
        .send()
        .await
        .expect("status");
    assert!(!status.key_rotation_enabled());
    assert_eq!(status.key_id(), Some(key_arn(&key).as_str()));
    assert_eq!(status.rotation_period_in_days(), None);
    assert_eq!(status.next_rotation_date(), None);

    let before = now_ms();
    kms.enable_key_rotation()
        .key_id(&key)
        .send()
        .await
        .expect("enable");
    let status = kms
        .get_key_rotation_status()
        .key_id(key_arn(&key))
        .send()
        .await
        .expect("status");
    assert!(status.key_rotation_enabled());
    assert_eq!(status.rotation_period_in_days(), Some(365));
    let next = millis(status.next_rotation_date().expect("NextRotationDate"));
    assert!(
        (before + 365 * DAY_MS - 1000..=now_ms() + 365 * DAY_MS + 1000).contains(&next),
        "{next}"
    );
    assert_eq!(status.on_demand_rotation_start_date(), None);

    // Re-enabling with another period re-times the schedule from the same start.
    kms.enable_key_rotation()
        .key_id(&key)
        .rotation_period_in_days(90)
        .send()
        .await
        .expect("re-enable");
    let status = kms
        .get_key_rotation_status()
        .key_id(&key)
        .send()
        .await
        .expect("status");
    assert_eq!(status.rotation_period_in_days(), Some(90));
    let retimed = millis(status.next_rotation_date().expect("NextRotationDate"));
    assert_eq!(retimed, next - 275 * DAY_MS);

    kms.disable_key_rotation()
        .key_id(&key)
        .send()
        .await
        .expect("disable");
    let status = kms
        .get_key_rotation_status()
        .key_id(&key)
        .send()
        .await
        .expect("status");
    assert!(!status.key_rotation_enabled());
    assert_eq!(status.next_rotation_date(), None);
    // Disabling twice is fine.
    kms.disable_key_rotation()
        .key_id(&key)
        .send()
        .await
        .expect("disable again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_requests_are_validated_and_key_states_checked() {
    let server = TestServer::start().await;
    let kms = server.client();
    let key = create_key(&kms).await;
    for days in [89, 2561] {
        let message = expect_err(
            kms.enable_key_rotation()
                .key_id(&key)
                .rotation_period_in_days(days)
                .send()
                .await,
            "ValidationException",
        );
        assert!(message.contains("rotationPeriodInDays"), "{message}");
    }
    for days in [90, 2560] {
        kms.enable_key_rotation()
            .key_id(&key)
            .rotation_period_in_days(days)
            .send()
            .await
            .expect("bounds are inclusive");
    }
    expect_err(
        kms.list_key_rotations().key_id(&key).limit(0).send().await,
        "ValidationException",
    );
    expect_err(
        kms.list_key_rotations()
            .key_id(&key)
            .marker("not-a-marker")
            .send()
            .await,
        "InvalidMarkerException",
    );
    let missing = "11111111-2222-3333-4444-555555555555";
    expect_err(
        kms.enable_key_rotation().key_id(missing).send().await,
        "NotFoundException",
    );
    expect_err(
        kms.rotate_key_on_demand().key_id("alias/none").send().await,
        "NotFoundException",
    );

    kms.disable_key()
        .key_id(&key)
        .send()
        .await
        .expect("disable");
    let message = expect_err(
        kms.rotate_key_on_demand().key_id(&key).send().await,
        "DisabledException",
    );
    assert_eq!(message, format!("{} is disabled.", key_arn(&key)));
    expect_err(
        kms.enable_key_rotation().key_id(&key).send().await,
        "DisabledException",
    );
    // Reads work in any state.
    kms.get_key_rotation_status()
        .key_id(&key)
        .send()
        .await
        .expect("status of a disabled key");
    kms.list_key_rotations()
        .key_id(&key)
        .send()
        .await
        .expect("rotations of a disabled key");

    kms.schedule_key_deletion()
        .key_id(&key)
        .send()
        .await
        .expect("schedule deletion");
    expect_err(
        kms.disable_key_rotation().key_id(&key).send().await,
        "KMSInvalidStateException",
    );
    let status = kms
        .get_key_rotation_status()
        .key_id(&key)
        .send()
        .await
        .expect("status");
    assert!(
        !status.key_rotation_enabled(),
        "pending deletion reads false"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_demand_rotation_changes_what_encrypts_and_keeps_what_decrypts() {
    let server = TestServer::start().await;
    let kms = server.client();
    let key = create_key(&kms).await;
    let old = encrypt(&kms, &key, b"before rotation").await;
    assert_eq!(blob_version(&old), 1);

    let out = kms
        .rotate_key_on_demand()
        .key_id(key_arn(&key))
        .send()
        .await
        .expect("rotate");
    assert_eq!(out.key_id(), Some(key.as_str()));

    let new = encrypt(&kms, &key, b"after rotation").await;
    assert_eq!(blob_version(&new), 2);
    assert_eq!(decrypt(&kms, &old).await, b"before rotation");
    assert_eq!(decrypt(&kms, &new).await, b"after rotation");

    // ReEncrypt moves the old ciphertext to the newest material.
    let moved = kms
        .re_encrypt()
        .ciphertext_blob(Blob::new(old.clone()))
        .destination_key_id(&key)
        .send()
        .await
        .expect("ReEncrypt");
    assert_eq!(moved.source_key_id(), Some(key_arn(&key).as_str()));
    let moved = moved.ciphertext_blob().expect("blob").as_ref().to_vec();
    assert_eq!(blob_version(&moved), 2);
    assert_eq!(decrypt(&kms, &moved).await, b"before rotation");

    // Data keys too.
    let data_key = kms
        .generate_data_key_without_plaintext()
        .key_id(&key)
        .number_of_bytes(32)
        .send()
        .await
        .expect("GenerateDataKeyWithoutPlaintext");
    assert_eq!(
        blob_version(data_key.ciphertext_blob().expect("blob").as_ref()),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_demand_rotation_stops_at_25_and_lists_page_through() {
    let server = TestServer::start().await;
    let kms = server.client();
    let key = create_key(&kms).await;
    let started = now_ms();
    for _ in 0..25 {
        kms.rotate_key_on_demand()
            .key_id(&key)
            .send()
            .await
            .expect("rotate");
    }
    let message = expect_err(
        kms.rotate_key_on_demand().key_id(&key).send().await,
        "LimitExceededException",
    );
    assert!(message.contains("25"), "{message}");
    assert_eq!(blob_version(&encrypt(&kms, &key, b"x").await), 26);

    // ROTATIONS_ONLY (the default): the 25 rotations, in pages of 10.
    let mut rotations = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = kms
            .list_key_rotations()
            .key_id(&key)
            .limit(10)
            .set_marker(marker.clone())
            .send()
            .await
            .expect("ListKeyRotations");
        pages += 1;
        rotations.extend(page.rotations().iter().cloned());
        if !page.truncated() {
            assert_eq!(page.next_marker(), None);
            break;
        }
        marker = page.next_marker().map(str::to_string);
        assert!(marker.is_some());
    }
    assert_eq!(pages, 3);
    assert_eq!(rotations.len(), 25);
    let mut ids: Vec<&str> = rotations
        .iter()
        .map(|r| r.key_material_id().expect("KeyMaterialId"))
        .collect();
    assert!(ids.iter().all(|id| id.len() == 64));
    for r in &rotations {
        assert_eq!(r.key_id(), Some(key.as_str()));
        assert_eq!(r.rotation_type(), Some(&RotationType::OnDemand));
        let date = millis(r.rotation_date().expect("RotationDate"));
        assert!(date >= started - 1000 && date <= now_ms() + 1000, "{date}");
        assert_eq!(r.import_state(), None);
    }
    let states: Vec<_> = rotations
        .iter()
        .map(|r| r.key_material_state().cloned())
        .collect();
    assert_eq!(states[24], Some(KeyMaterialState::Current));
    assert!(states[..24]
        .iter()
        .all(|s| s == &Some(KeyMaterialState::NonCurrent)));

    // ALL_KEY_MATERIAL adds the original material, without a rotation date.
    let all = kms
        .list_key_rotations()
        .key_id(&key)
        .include_key_material(IncludeKeyMaterial::AllKeyMaterial)
        .limit(1000)
        .send()
        .await
        .expect("ListKeyRotations");
    assert_eq!(all.rotations().len(), 26);
    assert!(!all.truncated());
    let first = &all.rotations()[0];
    assert_eq!(first.rotation_date(), None);
    assert_eq!(first.rotation_type(), None);
    assert_eq!(
        first.key_material_state(),
        Some(&KeyMaterialState::NonCurrent)
    );
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 25, "every material has its own id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asymmetric_and_hmac_keys_do_not_rotate() {
    let server = TestServer::start().await;
    let kms = server.client();
    for (spec, usage) in [
        (KeySpec::Rsa2048, KeyUsageType::EncryptDecrypt),
        (KeySpec::EccNistP256, KeyUsageType::SignVerify),
        (KeySpec::Hmac256, KeyUsageType::GenerateVerifyMac),
    ] {
        let key = kms
            .create_key()
            .key_spec(spec.clone())
            .key_usage(usage)
            .send()
            .await
            .expect("CreateKey")
            .key_metadata()
            .expect("metadata")
            .key_id()
            .to_string();
        expect_err(
            kms.enable_key_rotation().key_id(&key).send().await,
            "UnsupportedOperationException",
        );
        expect_err(
            kms.disable_key_rotation().key_id(&key).send().await,
            "UnsupportedOperationException",
        );
        expect_err(
            kms.rotate_key_on_demand().key_id(&key).send().await,
            "UnsupportedOperationException",
        );
        expect_err(
            kms.list_key_rotations().key_id(&key).send().await,
            "UnsupportedOperationException",
        );
        let status = kms
            .get_key_rotation_status()
            .key_id(&key)
            .send()
            .await
            .expect("status");
        assert!(!status.key_rotation_enabled(), "{spec:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_survives_a_restart() {
    let server = TestServer::start().await;
    let kms = server.client();
    let key = create_key(&kms).await;
    let old = encrypt(&kms, &key, b"kept").await;
    kms.rotate_key_on_demand()
        .key_id(&key)
        .send()
        .await
        .expect("rotate");
    kms.enable_key_rotation()
        .key_id(&key)
        .rotation_period_in_days(180)
        .send()
        .await
        .expect("enable");
    let admin = server.admin.clone();
    let dir = server.shutdown().await;

    let running = start_in(dir.path()).await;
    let kms = client(&running.endpoint(), &admin, REGION);
    assert_eq!(decrypt(&kms, &old).await, b"kept");
    assert_eq!(blob_version(&encrypt(&kms, &key, b"x").await), 2);
    let status = kms
        .get_key_rotation_status()
        .key_id(&key)
        .send()
        .await
        .expect("status");
    assert!(status.key_rotation_enabled());
    assert_eq!(status.rotation_period_in_days(), Some(180));
    running.shutdown().await;
}
