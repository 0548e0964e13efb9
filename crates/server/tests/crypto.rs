//! Cryptographic operations through aws-sdk-kms: Encrypt, Decrypt, ReEncrypt, GenerateDataKey,
//! GenerateDataKeyWithoutPlaintext, GenerateRandom, and what key state and DryRun do to them.

mod common;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{DataKeySpec, EncryptionAlgorithmSpec};
use aws_sdk_kms::Client;
use common::*;
use std::collections::HashMap;

fn context(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypt_then_decrypt_without_key_id() {
    let server = TestServer::start().await;
    let kms = server.client();
    let id = create_key(&kms).await;

    let out = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new("HelloWorld"))
        .send()
        .await
        .expect("Encrypt");
    assert_eq!(out.key_id(), Some(key_arn(&id).as_str()));
    assert_eq!(
        out.encryption_algorithm(),
        Some(&EncryptionAlgorithmSpec::SymmetricDefault)
    );
    let blob = out
        .ciphertext_blob()
        .expect("CiphertextBlob")
        .as_ref()
        .to_vec();
    assert!(blob.len() > "HelloWorld".len());
    assert!(!blob.windows(10).any(|w| w == b"HelloWorld"));

    let out = kms
        .decrypt()
        .ciphertext_blob(Blob::new(blob.clone()))
        .send()
        .await
        .expect("Decrypt");
    assert_eq!(out.plaintext().unwrap().as_ref(), b"HelloWorld");
    assert_eq!(out.key_id(), Some(key_arn(&id).as_str()));
    assert_eq!(
        out.encryption_algorithm(),
        Some(&EncryptionAlgorithmSpec::SymmetricDefault)
    );

    // Two encryptions of the same plaintext differ (fresh salt and nonce).
    let again = encrypt(&kms, &id, b"HelloWorld").await;
    assert_ne!(again, blob);

    // Plaintext of 1 and of 4096 bytes, and every byte value.
    let all: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    for p in [vec![0u8], all] {
        let c = encrypt(&kms, &id, &p).await;
        assert_eq!(decrypt(&kms, &c).await, p);
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_identifier_form_encrypts_and_names_the_key_arn() {
    let server = TestServer::start().await;
    let kms = server.client();
    let id = create_key(&kms).await;
    kms.create_alias()
        .alias_name("alias/my-app-key")
        .target_key_id(&id)
        .send()
        .await
        .unwrap();
    for reference in [
        id.clone(),
        key_arn(&id),
        "alias/my-app-key".to_string(),
        alias_arn("alias/my-app-key"),
    ] {
        let out = kms
            .encrypt()
            .key_id(&reference)
            .plaintext(Blob::new("x"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("Encrypt with {reference}: {e:?}"));
        assert_eq!(out.key_id(), Some(key_arn(&id).as_str()), "{reference}");
        // Decrypt naming the same key in that form works too.
        let d = kms
            .decrypt()
            .key_id(&reference)
            .ciphertext_blob(out.ciphertext_blob().unwrap().clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("Decrypt with {reference}: {e:?}"));
        assert_eq!(d.plaintext().unwrap().as_ref(), b"x");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decrypt_with_another_key_id_is_incorrect_key() {
    let server = TestServer::start().await;
    let kms = server.client();
    let a = create_key(&kms).await;
    let b = create_key(&kms).await;
    let blob = encrypt(&kms, &a, b"secret").await;
    for wrong in [b.clone(), key_arn(&b)] {
        expect_err(
            kms.decrypt()
                .key_id(&wrong)
                .ciphertext_blob(Blob::new(blob.clone()))
                .send()
                .await,
            "IncorrectKeyException",
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encryption_context_must_match_exactly() {
    let server = TestServer::start().await;
    let kms = server.client();
    let id = create_key(&kms).await;
    let ctx = context(&[("purpose", "test"), ("tenant", "42")]);
    let blob = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new("bound"))
        .set_encryption_context(Some(ctx.clone()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob()
        .unwrap()
        .clone();

    // The same context, in any order, decrypts.
    let out = kms
        .decrypt()
        .ciphertext_blob(blob.clone())
        .set_encryption_context(Some(context(&[("tenant", "42"), ("purpose", "test")])))
        .send()
        .await
        .expect("same context");
    assert_eq!(out.plaintext().unwrap().as_ref(), b"bound");

    let wrong: Vec<Option<HashMap<String, String>>> = vec![
        None,
        Some(HashMap::new()),
        Some(context(&[("purpose", "test")])),
        Some(context(&[
            ("purpose", "test"),
            ("tenant", "42"),
            ("x", "y"),
        ])),
        Some(context(&[("purpose", "test"), ("tenant", "43")])),
        Some(context(&[("Purpose", "test"), ("tenant", "42")])),
    ];
    for ctx in wrong {
        expect_err(
            kms.decrypt()
                .ciphertext_blob(blob.clone())
                .set_encryption_context(ctx.clone())
                .send()
                .await,
            "InvalidCiphertextException",
        );
    }

    // A blob made without context does not open with one.
    let plain = encrypt(&kms, &id, b"no context").await;
    expect_err(
        kms.decrypt()
            .ciphertext_blob(Blob::new(plain))
            .set_encryption_context(Some(context(&[("a", "b")])))
            .send()
            .await,
        "InvalidCiphertextException",
    );
    server.shutdown().await;
}

/// The AWS mocks concatenate keys and values; a length-prefixed encoding keeps these apart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn context_a_bc_differs_from_ab_c() {
    let server = TestServer::start().await;
    let kms = server.client();
    let id = create_key(&kms).await;
    for (sealed, other) in [
        (context(&[("a", "bc")]), context(&[("ab", "c")])),
        (context(&[("ab", "c")]), context(&[("a", "bc")])),
        (
            context(&[("a", "b"), ("c", "d")]),
            context(&[("a", "bc"), ("", "d")]),
        ),
    ] {
        let blob = kms
            .encrypt()
            .key_id(&id)
            .plaintext(Blob::new("p"))
            .set_encryption_context(Some(sealed.clone()))
            .send()
            .await
            .unwrap()
            .ciphertext_blob()
            .unwrap()
            .clone();
        expect_err(
            kms.decrypt()
                .ciphertext_blob(blob.clone())
                .set_encryption_context(Some(other))
                .send()
                .await,
            "InvalidCiphertextException",
        );
        kms.decrypt()
            .ciphertext_blob(blob)
            .set_encryption_context(Some(sealed))
            .send()
            .await
            .expect("the sealing context opens");
    }
    server.shutdown().await;
}

/// The ciphertext's key name: its length byte (3) and the name `account:key-id` (4..53). The rest
/// of the blob is magic, format version, key version, salt, nonce, sealed bytes and tag.
const KEY_NAME: std::ops::Range<usize> = 3..53;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_ciphertext_is_invalid_ciphertext() {
    let server = TestServer::start().await;
    let kms = server.client();
    let id = create_key(&kms).await;
    let blob = encrypt(&kms, &id, b"do not touch").await;
    let n = blob.len();
    assert_eq!(n, 68 + 49 + 12, "format v1 layout");
    let positions: Vec<usize> = (0..n).filter(|i| !KEY_NAME.contains(i)).collect();
    for i in positions {
        let mut bad = blob.clone();
        bad[i] ^= 0x01;
        expect_tamper_refused(&kms, &bad, i).await;
    }
    // Truncated, extended and garbage blobs.
    for bad in [
        blob[..n - 1].to_vec(),
        blob[..20].to_vec(),
        [blob.clone(), vec![0]].concat(),
        vec![0u8; 64],
        b"not a ciphertext".to_vec(),
    ] {
        expect_tamper_refused(&kms, &bad, bad.len()).await;
    }
    // The original still opens.
    assert_eq!(decrypt(&kms, &blob).await, b"do not touch");
    server.shutdown().await;
}

/// The issue asks for InvalidCiphertextException for *any* change to a blob. A changed byte in
/// the key name inside the blob (or its length byte) makes the server look up another key and
/// answer NotFoundException ("Key 'arn:...:key/<mangled id>' does not exist") instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_key_name_in_ciphertext_is_invalid_ciphertext() {
    let server = TestServer::start().await;
    let kms = server.client();
    let id = create_key(&kms).await;
    let blob = encrypt(&kms, &id, b"do not touch").await;
    for i in KEY_NAME {
        let mut bad = blob.clone();
        bad[i] ^= 0x01;
        expect_tamper_refused(&kms, &bad, i).await;
    }
    server.shutdown().await;
}

async fn expect_tamper_refused(kms: &Client, bad: &[u8], position: usize) {
    match kms.decrypt().ciphertext_blob(Blob::new(bad)).send().await {
        Ok(_) => panic!("tampered blob (byte {position}) decrypted"),
        Err(e) => assert_eq!(
            code(&e),
            "InvalidCiphertextException",
            "byte {position}: {e:?}"
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_encrypt_moves_a_ciphertext_to_another_key() {
    let server = TestServer::start().await;
    let kms = server.client();
    let a = create_key(&kms).await;
    let b = create_key(&kms).await;
    let src_ctx = context(&[("stage", "source")]);
    let dst_ctx = context(&[("stage", "destination")]);
    let blob = kms
        .encrypt()
        .key_id(&a)
        .plaintext(Blob::new("moving"))
        .set_encryption_context(Some(src_ctx.clone()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob()
        .unwrap()
        .clone();

    let out = kms
        .re_encrypt()
        .ciphertext_blob(blob.clone())
        .source_encryption_context("stage", "source")
        .destination_key_id(&b)
        .set_destination_encryption_context(Some(dst_ctx.clone()))
        .send()
        .await
        .expect("ReEncrypt");
    assert_eq!(out.source_key_id(), Some(key_arn(&a).as_str()));
    assert_eq!(out.key_id(), Some(key_arn(&b).as_str()));
    assert_eq!(
        out.source_encryption_algorithm(),
        Some(&EncryptionAlgorithmSpec::SymmetricDefault)
    );
    assert_eq!(
        out.destination_encryption_algorithm(),
        Some(&EncryptionAlgorithmSpec::SymmetricDefault)
    );
    let moved = out.ciphertext_blob().unwrap().clone();
    assert_ne!(moved.as_ref(), blob.as_ref());

    let d = kms
        .decrypt()
        .ciphertext_blob(moved.clone())
        .set_encryption_context(Some(dst_ctx))
        .send()
        .await
        .expect("decrypt the re-encrypted blob");
    assert_eq!(d.plaintext().unwrap().as_ref(), b"moving");
    assert_eq!(d.key_id(), Some(key_arn(&b).as_str()));
    expect_err(
        kms.decrypt().key_id(&a).ciphertext_blob(moved).send().await,
        "IncorrectKeyException",
    );

    // The source context is checked; a wrong SourceKeyId is IncorrectKey.
    expect_err(
        kms.re_encrypt()
            .ciphertext_blob(blob.clone())
            .destination_key_id(&b)
            .send()
            .await,
        "InvalidCiphertextException",
    );
    expect_err(
        kms.re_encrypt()
            .ciphertext_blob(blob.clone())
            .source_encryption_context("stage", "source")
            .source_key_id(&b)
            .destination_key_id(&b)
            .send()
            .await,
        "IncorrectKeyException",
    );
    // Re-encrypting under the same key works and gives a fresh blob.
    let same = kms
        .re_encrypt()
        .ciphertext_blob(blob.clone())
        .set_source_encryption_context(Some(src_ctx))
        .source_key_id(&a)
        .destination_key_id(&a)
        .send()
        .await
        .expect("ReEncrypt to the same key");
    assert_eq!(
        decrypt(&kms, same.ciphertext_blob().unwrap().as_ref()).await,
        b"moving"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_data_key_lengths_and_round_trip() {
    let server = TestServer::start().await;
    let kms = server.client();
    let id = create_key(&kms).await;
    let cases: Vec<(Option<DataKeySpec>, Option<i32>, usize)> = vec![
        (Some(DataKeySpec::Aes256), None, 32),
        (Some(DataKeySpec::Aes128), None, 16),
        (None, Some(1), 1),
        (None, Some(64), 64),
        (None, Some(1024), 1024),
    ];
    for (spec, bytes, len) in cases {
        let out = kms
            .generate_data_key()
            .key_id(&id)
            .set_key_spec(spec.clone())
            .set_number_of_bytes(bytes)
            .encryption_context("use", "data-key")
            .send()
            .await
            .unwrap_or_else(|e| panic!("GenerateDataKey {spec:?} {bytes:?}: {e:?}"));
        assert_eq!(out.key_id(), Some(key_arn(&id).as_str()));
        let plaintext = out.plaintext().expect("Plaintext").as_ref().to_vec();
        assert_eq!(plaintext.len(), len);
        let d = kms
            .decrypt()
            .ciphertext_blob(out.ciphertext_blob().expect("CiphertextBlob").clone())
            .encryption_context("use", "data-key")
            .send()
            .await
            .expect("decrypt the data key");
        assert_eq!(d.plaintext().unwrap().as_ref(), plaintext.as_slice());
        assert_eq!(d.key_id(), Some(key_arn(&id).as_str()));
    }
    // Two data keys differ.
    let k1 = kms
        .generate_data_key()
        .key_id(&id)
        .key_spec(DataKeySpec::Aes256)
        .send()
        .await
        .unwrap();
    let k2 = kms
        .generate_data_key()
        .key_id(&id)
        .key_spec(DataKeySpec::Aes256)
        .send()
        .await
        .unwrap();
    assert_ne!(k1.plaintext(), k2.plaintext());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_data_key_needs_exactly_one_of_spec_and_length() {
    let server = TestServer::start().await;
    let kms = server.client();
    let id = create_key(&kms).await;
    expect_err(
        kms.generate_data_key()
            .key_id(&id)
            .key_spec(DataKeySpec::Aes256)
            .number_of_bytes(32)
            .send()
            .await,
        "ValidationException",
    );
    expect_err(
        kms.generate_data_key().key_id(&id).send().await,
        "ValidationException",
    );
    expect_err(
        kms.generate_data_key_without_plaintext()
            .key_id(&id)
            .send()
            .await,
        "ValidationException",
    );
    for n in [0, 1025] {
        expect_err(
            kms.generate_data_key()
                .key_id(&id)
                .number_of_bytes(n)
                .send()
                .await,
            "ValidationException",
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_data_key_without_plaintext() {
    let server = TestServer::start().await;
    let kms = server.client();
    let id = create_key(&kms).await;
    kms.create_alias()
        .alias_name("alias/dk")
        .target_key_id(&id)
        .send()
        .await
        .unwrap();
    for (spec, bytes, len) in [
        (Some(DataKeySpec::Aes256), None, 32),
        (Some(DataKeySpec::Aes128), None, 16),
        (None, Some(7), 7),
    ] {
        let out = kms
            .generate_data_key_without_plaintext()
            .key_id("alias/dk")
            .set_key_spec(spec)
            .set_number_of_bytes(bytes)
            .send()
            .await
            .expect("GenerateDataKeyWithoutPlaintext");
        assert_eq!(out.key_id(), Some(key_arn(&id).as_str()));
        let blob = out.ciphertext_blob().expect("CiphertextBlob");
        assert_eq!(decrypt(&kms, blob.as_ref()).await.len(), len);
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_random_lengths() {
    let server = TestServer::start().await;
    let kms = server.client();
    for n in [1, 32, 1024] {
        let out = kms
            .generate_random()
            .number_of_bytes(n)
            .send()
            .await
            .expect("GenerateRandom");
        assert_eq!(out.plaintext().unwrap().as_ref().len(), n as usize);
        assert_eq!(out.ciphertext_for_recipient(), None);
    }
    let a = kms
        .generate_random()
        .number_of_bytes(32)
        .send()
        .await
        .unwrap();
    let b = kms
        .generate_random()
        .number_of_bytes(32)
        .send()
        .await
        .unwrap();
    assert_ne!(a.plaintext(), b.plaintext());
    for n in [0, 1025, -1] {
        let msg = expect_err(
            kms.generate_random().number_of_bytes(n).send().await,
            "ValidationException",
        );
        assert!(msg.contains("numberOfBytes"), "{msg}");
    }
    expect_err(kms.generate_random().send().await, "ValidationException");
    server.shutdown().await;
}

/// Every cryptographic operation on `id` (and ReEncrypt onto it) answers `code`.
async fn assert_cryptography_refused(
    kms: &Client,
    id: &str,
    blob: &[u8],
    other_blob: &[u8],
    code: &str,
) {
    let pt = Blob::new("x");
    expect_err(kms.encrypt().key_id(id).plaintext(pt).send().await, code);
    expect_err(
        kms.decrypt().ciphertext_blob(Blob::new(blob)).send().await,
        code,
    );
    let spec = DataKeySpec::Aes256;
    expect_err(
        kms.generate_data_key()
            .key_id(id)
            .key_spec(spec.clone())
            .send()
            .await,
        code,
    );
    expect_err(
        kms.generate_data_key_without_plaintext()
            .key_id(id)
            .key_spec(spec)
            .send()
            .await,
        code,
    );
    let re_encrypt = kms
        .re_encrypt()
        .ciphertext_blob(Blob::new(other_blob))
        .destination_key_id(id);
    expect_err(re_encrypt.send().await, code);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_key_refuses_cryptography() {
    let server = TestServer::start().await;
    let kms = server.client();
    let id = create_key(&kms).await;
    let other = create_key(&kms).await;
    let blob = encrypt(&kms, &id, b"before").await;
    let other_blob = encrypt(&kms, &other, b"other").await;
    kms.disable_key().key_id(&id).send().await.unwrap();
    assert_cryptography_refused(&kms, &id, &blob, &other_blob, "DisabledException").await;
    // Management and reads still work; re-enabling restores everything.
    kms.describe_key().key_id(&id).send().await.unwrap();
    kms.enable_key().key_id(&id).send().await.unwrap();
    assert_eq!(decrypt(&kms, &blob).await, b"before");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_pending_deletion_refuses_cryptography() {
    let server = TestServer::start().await;
    let kms = server.client();
    let id = create_key(&kms).await;
    let other = create_key(&kms).await;
    let blob = encrypt(&kms, &id, b"before").await;
    let other_blob = encrypt(&kms, &other, b"other").await;
    let schedule = kms
        .schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7);
    schedule.send().await.unwrap();
    assert_cryptography_refused(&kms, &id, &blob, &other_blob, "KMSInvalidStateException").await;
    kms.cancel_key_deletion().key_id(&id).send().await.unwrap();
    kms.enable_key().key_id(&id).send().await.unwrap();
    assert_eq!(decrypt(&kms, &blob).await, b"before");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_answers_dry_run_operation() {
    let server = TestServer::start().await;
    let kms = server.client();
    let a = create_key(&kms).await;
    let b = create_key(&kms).await;
    let blob = encrypt(&kms, &a, b"x").await;
    expect_err(
        kms.encrypt()
            .key_id(&a)
            .plaintext(Blob::new("x"))
            .dry_run(true)
            .send()
            .await,
        "DryRunOperationException",
    );
    expect_err(
        kms.decrypt()
            .ciphertext_blob(Blob::new(blob.clone()))
            .dry_run(true)
            .send()
            .await,
        "DryRunOperationException",
    );
    expect_err(
        kms.generate_data_key()
            .key_id(&a)
            .key_spec(DataKeySpec::Aes256)
            .dry_run(true)
            .send()
            .await,
        "DryRunOperationException",
    );
    expect_err(
        kms.generate_data_key_without_plaintext()
            .key_id(&a)
            .key_spec(DataKeySpec::Aes256)
            .dry_run(true)
            .send()
            .await,
        "DryRunOperationException",
    );
    expect_err(
        kms.re_encrypt()
            .ciphertext_blob(Blob::new(blob.clone()))
            .destination_key_id(&b)
            .dry_run(true)
            .send()
            .await,
        "DryRunOperationException",
    );
    // DryRun=false runs for real; a dry run of a request that would fail gives that failure.
    let out = kms
        .encrypt()
        .key_id(&a)
        .plaintext(Blob::new("x"))
        .dry_run(false)
        .send()
        .await
        .expect("DryRun=false");
    assert!(out.ciphertext_blob().is_some());
    kms.disable_key().key_id(&a).send().await.unwrap();
    expect_err(
        kms.encrypt()
            .key_id(&a)
            .plaintext(Blob::new("x"))
            .dry_run(true)
            .send()
            .await,
        "DisabledException",
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_limits() {
    let server = TestServer::start().await;
    let kms = server.client();
    let id = create_key(&kms).await;
    let msg = expect_err(
        kms.encrypt()
            .key_id(&id)
            .plaintext(Blob::new(vec![7u8; 4097]))
            .send()
            .await,
        "ValidationException",
    );
    assert!(
        msg.contains("'plaintext'") && msg.contains("less than or equal to 4096"),
        "{msg}"
    );
    // The secret value is never echoed.
    assert!(!msg.contains("BwcH"), "{msg}");
    expect_err(
        kms.encrypt()
            .key_id(&id)
            .plaintext(Blob::new(Vec::<u8>::new()))
            .send()
            .await,
        "ValidationException",
    );
    expect_err(
        kms.decrypt()
            .ciphertext_blob(Blob::new(vec![1u8; 6145]))
            .send()
            .await,
        "ValidationException",
    );
    server.shutdown().await;
}

/// KeyMaterialId in the answers of Decrypt, the GenerateDataKey operations and ReEncrypt names
/// the key material used, as DescribeKey and ListKeyRotations name it; after a rotation an old
/// ciphertext names the old material and a new one the new.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_name_the_key_material_they_used() {
    let server = TestServer::start().await;
    let kms = server.client();
    let key = create_key(&kms).await;
    let current = |kms: Client, key: String| async move {
        kms.describe_key()
            .key_id(key)
            .send()
            .await
            .unwrap()
            .key_metadata()
            .unwrap()
            .current_key_material_id()
            .unwrap()
            .to_string()
    };
    let first = current(kms.clone(), key.clone()).await;
    let data_key = kms
        .generate_data_key()
        .key_id(&key)
        .key_spec(aws_sdk_kms::types::DataKeySpec::Aes256)
        .send()
        .await
        .unwrap();
    assert_eq!(data_key.key_material_id(), Some(first.as_str()));
    let without = kms
        .generate_data_key_without_plaintext()
        .key_id(&key)
        .number_of_bytes(16)
        .send()
        .await
        .unwrap();
    assert_eq!(without.key_material_id(), Some(first.as_str()));
    let pair = kms
        .generate_data_key_pair_without_plaintext()
        .key_id(&key)
        .key_pair_spec(aws_sdk_kms::types::DataKeyPairSpec::EccNistP256)
        .send()
        .await
        .unwrap();
    assert_eq!(pair.key_material_id(), Some(first.as_str()));

    let old_blob = data_key.ciphertext_blob().unwrap().clone();
    kms.rotate_key_on_demand()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    let second = current(kms.clone(), key.clone()).await;
    assert_ne!(first, second);
    let opened = kms
        .decrypt()
        .ciphertext_blob(old_blob.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(opened.key_material_id(), Some(first.as_str()));
    let moved = kms
        .re_encrypt()
        .ciphertext_blob(old_blob)
        .destination_key_id(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(moved.source_key_material_id(), Some(first.as_str()));
    assert_eq!(moved.destination_key_material_id(), Some(second.as_str()));

    // An asymmetric key has no key material id in Decrypt's answer.
    let rsa = kms
        .create_key()
        .key_spec(aws_sdk_kms::types::KeySpec::Rsa2048)
        .key_usage(aws_sdk_kms::types::KeyUsageType::EncryptDecrypt)
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_string();
    let alg = aws_sdk_kms::types::EncryptionAlgorithmSpec::RsaesOaepSha256;
    let blob = kms
        .encrypt()
        .key_id(&rsa)
        .plaintext(Blob::new("x"))
        .encryption_algorithm(alg.clone())
        .send()
        .await
        .unwrap()
        .ciphertext_blob()
        .unwrap()
        .clone();
    let opened = kms
        .decrypt()
        .key_id(&rsa)
        .ciphertext_blob(blob)
        .encryption_algorithm(alg)
        .send()
        .await
        .unwrap();
    assert_eq!(opened.key_material_id(), None);
    server.shutdown().await;
}

/// DryRun with DryRunModifiers IGNORE_CIPHERTEXT tests permissions on the named key without a
/// ciphertext: DryRunOperationException when allowed, AccessDeniedException when not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_can_ignore_the_ciphertext() {
    use aws_sdk_kms::types::DryRunModifierType;
    let server = TestServer::start().await;
    let kms = server.client();
    let key = create_key(&kms).await;
    let junk = Blob::new("not a ciphertext");
    let message = expect_err(
        kms.decrypt()
            .key_id(&key)
            .ciphertext_blob(junk.clone())
            .dry_run(true)
            .dry_run_modifiers(DryRunModifierType::IgnoreCiphertext)
            .send()
            .await,
        "DryRunOperationException",
    );
    assert!(!message.is_empty());
    expect_err(
        kms.re_encrypt()
            .source_key_id(&key)
            .destination_key_id(&key)
            .ciphertext_blob(junk.clone())
            .dry_run(true)
            .dry_run_modifiers(DryRunModifierType::IgnoreCiphertext)
            .send()
            .await,
        "DryRunOperationException",
    );
    // Without the modifier the ciphertext is read, and this one is not a ciphertext.
    expect_err(
        kms.decrypt()
            .ciphertext_blob(junk.clone())
            .dry_run(true)
            .send()
            .await,
        "InvalidCiphertextException",
    );
    let (nobody, _) = user_with_policy(&server, ACCOUNT, "nobody", None).await;
    expect_err(
        nobody
            .decrypt()
            .key_id(&key)
            .ciphertext_blob(junk)
            .dry_run(true)
            .dry_run_modifiers(DryRunModifierType::IgnoreCiphertext)
            .send()
            .await,
        "AccessDeniedException",
    );
    server.shutdown().await;
}
