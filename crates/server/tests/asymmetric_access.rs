//! The rules around the non-symmetric key specs through aws-sdk-kms: CreateKey's (spec, usage)
//! checks, operations refused on a key of the wrong usage, data key pairs whose halves match,
//! ReEncrypt across symmetric and asymmetric keys, key state, grants and the algorithm
//! condition keys.

mod common;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types as sdk;
use aws_sdk_kms::Client;
use common::*;
use ferrokms_crypto::{asymmetric, SecretBytes};
use ferrokms_types::enums::{DataKeyPairSpec, KeySpec, MessageType, SigningAlgorithmSpec};

async fn create(kms: &Client, spec: &str, usage: &str) -> String {
    kms.create_key()
        .key_spec(sdk::KeySpec::from(spec))
        .key_usage(sdk::KeyUsageType::from(usage))
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateKey {spec} {usage}: {e:?}"))
        .key_metadata()
        .expect("KeyMetadata")
        .key_id()
        .to_string()
}

async fn sign(kms: &Client, key: &str, alg: sdk::SigningAlgorithmSpec) -> Result<Vec<u8>, String> {
    kms.sign()
        .key_id(key)
        .message(Blob::new("signed"))
        .signing_algorithm(alg)
        .send()
        .await
        .map(|o| o.signature().unwrap().as_ref().to_vec())
        .map_err(|e| code(&e))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_key_checks_spec_and_usage_as_aws() {
    let server = TestServer::start().await;
    let kms = server.client();
    let no_usage = kms
        .create_key()
        .key_spec(sdk::KeySpec::EccNistP256)
        .send()
        .await;
    let msg = expect_err(no_usage, "ValidationException");
    assert_eq!(
        msg,
        "You must specify a KeyUsage value when KeySpec is ECC_NIST_P256"
    );
    for (spec, usage) in [
        (sdk::KeySpec::EccNistP256, sdk::KeyUsageType::EncryptDecrypt),
        (sdk::KeySpec::EccSecgP256K1, sdk::KeyUsageType::KeyAgreement),
        (sdk::KeySpec::Hmac256, sdk::KeyUsageType::SignVerify),
        (sdk::KeySpec::MlKem768, sdk::KeyUsageType::EncryptDecrypt),
        (
            sdk::KeySpec::SymmetricDefault,
            sdk::KeyUsageType::SignVerify,
        ),
        (sdk::KeySpec::Rsa2048, sdk::KeyUsageType::GenerateVerifyMac),
    ] {
        let refused = kms
            .create_key()
            .key_spec(spec.clone())
            .key_usage(usage.clone())
            .send()
            .await;
        let msg = expect_err(refused, "ValidationException");
        assert_eq!(
            msg,
            format!(
                "KeyUsage {} is not compatible with KeySpec {}",
                usage.as_str(),
                spec.as_str()
            )
        );
    }
    // The deprecated CustomerMasterKeySpec works the same way, and shows in the metadata.
    #[allow(deprecated)]
    let legacy = kms
        .create_key()
        .customer_master_key_spec(sdk::CustomerMasterKeySpec::EccSecgP256K1)
        .key_usage(sdk::KeyUsageType::SignVerify)
        .send()
        .await
        .expect("CreateKey with CustomerMasterKeySpec");
    let meta = legacy.key_metadata().unwrap();
    assert_eq!(meta.key_spec(), Some(&sdk::KeySpec::EccSecgP256K1));
    #[allow(deprecated)]
    let legacy_spec = meta
        .customer_master_key_spec()
        .map(|s| s.as_str().to_string());
    assert_eq!(legacy_spec.as_deref(), Some("ECC_SECG_P256K1"));
    // Specs the deprecated enum does not list have no CustomerMasterKeySpec.
    let mldsa = create(&kms, "ML_DSA_44", "SIGN_VERIFY").await;
    let meta = kms.describe_key().key_id(&mldsa).send().await.unwrap();
    #[allow(deprecated)]
    let legacy_spec = meta
        .key_metadata()
        .unwrap()
        .customer_master_key_spec()
        .is_some();
    assert!(!legacy_spec, "ML_DSA_44 is not a CustomerMasterKeySpec");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_refuse_keys_of_another_usage() {
    let server = TestServer::start().await;
    let kms = server.client();
    let symmetric = create_key(&kms).await;
    let signing = create(&kms, "ECC_NIST_P256", "SIGN_VERIFY").await;
    let agreement = create(&kms, "ECC_NIST_P256", "KEY_AGREEMENT").await;
    let hmac = create(&kms, "HMAC_256", "GENERATE_VERIFY_MAC").await;
    let kem = create(&kms, "ML_KEM_512", "ENCAPSULATE_DECAPSULATE").await;
    let rsa = create(&kms, "RSA_2048", "ENCRYPT_DECRYPT").await;
    let usage_message = |key: &str, usage: &str, op: &str| {
        format!(
            "{} key usage is {usage} which is not valid for {op}.",
            key_arn(key)
        )
    };

    let refused = sign(&kms, &symmetric, sdk::SigningAlgorithmSpec::EcdsaSha256).await;
    assert_eq!(refused.unwrap_err(), "InvalidKeyUsageException");
    let msg = expect_err(
        kms.sign()
            .key_id(&hmac)
            .message(Blob::new("m"))
            .signing_algorithm(sdk::SigningAlgorithmSpec::EcdsaSha256)
            .send()
            .await,
        "InvalidKeyUsageException",
    );
    assert_eq!(msg, usage_message(&hmac, "GENERATE_VERIFY_MAC", "Sign"));
    let msg = expect_err(
        kms.encrypt()
            .key_id(&signing)
            .plaintext(Blob::new("m"))
            .send()
            .await,
        "InvalidKeyUsageException",
    );
    assert_eq!(msg, usage_message(&signing, "SIGN_VERIFY", "Encrypt"));
    let msg = expect_err(
        kms.generate_mac()
            .key_id(&signing)
            .message(Blob::new("m"))
            .mac_algorithm(sdk::MacAlgorithmSpec::HmacSha256)
            .send()
            .await,
        "InvalidKeyUsageException",
    );
    assert_eq!(msg, usage_message(&signing, "SIGN_VERIFY", "GenerateMac"));
    let public = kms
        .get_public_key()
        .key_id(&agreement)
        .send()
        .await
        .unwrap();
    let msg = expect_err(
        kms.derive_shared_secret()
            .key_id(&signing)
            .key_agreement_algorithm(sdk::KeyAgreementAlgorithmSpec::Ecdh)
            .public_key(public.public_key().unwrap().clone())
            .send()
            .await,
        "InvalidKeyUsageException",
    );
    assert_eq!(
        msg,
        usage_message(&signing, "SIGN_VERIFY", "DeriveSharedSecret")
    );
    let msg = expect_err(
        kms.encapsulate()
            .key_id(&agreement)
            .encapsulation_algorithm(sdk::EncapsulationAlgorithmSpec::MlKem)
            .send()
            .await,
        "InvalidKeyUsageException",
    );
    assert_eq!(
        msg,
        usage_message(&agreement, "KEY_AGREEMENT", "Encapsulate")
    );
    let msg = expect_err(
        kms.sign()
            .key_id(&kem)
            .message(Blob::new("m"))
            .signing_algorithm(sdk::SigningAlgorithmSpec::MlDsaShake256)
            .send()
            .await,
        "InvalidKeyUsageException",
    );
    assert_eq!(msg, usage_message(&kem, "ENCAPSULATE_DECAPSULATE", "Sign"));
    // Data keys come only from symmetric encryption keys.
    for key in [&rsa, &signing] {
        let refused = kms
            .generate_data_key()
            .key_id(key)
            .key_spec(sdk::DataKeySpec::Aes256)
            .send()
            .await;
        expect_err(refused, "InvalidKeyUsageException");
        let refused = kms
            .generate_data_key_pair()
            .key_id(key)
            .key_pair_spec(sdk::DataKeyPairSpec::EccNistP256)
            .send()
            .await;
        expect_err(refused, "InvalidKeyUsageException");
    }
    // A signing algorithm of another key spec, and a digest of the wrong length.
    let msg = expect_err(
        kms.sign()
            .key_id(&signing)
            .message(Blob::new("m"))
            .signing_algorithm(sdk::SigningAlgorithmSpec::EcdsaSha384)
            .send()
            .await,
        "InvalidKeyUsageException",
    );
    assert_eq!(
        msg,
        "Algorithm ECDSA_SHA_384 is incompatible with key spec ECC_NIST_P256."
    );
    let msg = expect_err(
        kms.sign()
            .key_id(&signing)
            .message(Blob::new(vec![0u8; 31]))
            .message_type(sdk::MessageType::Digest)
            .signing_algorithm(sdk::SigningAlgorithmSpec::EcdsaSha256)
            .send()
            .await,
        "ValidationException",
    );
    assert_eq!(msg, "Digest is invalid length for algorithm ECDSA_SHA_256.");
    let msg = expect_err(
        kms.get_public_key().key_id(&symmetric).send().await,
        "UnsupportedOperationException",
    );
    assert!(msg.contains("SYMMETRIC_DEFAULT"), "{msg}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_key_pairs_have_matching_halves() {
    let server = TestServer::start().await;
    let kms = server.client();
    let key = create_key(&kms).await;
    for &spec in DataKeyPairSpec::ALL {
        let sdk_spec = sdk::DataKeyPairSpec::from(spec.as_str());
        let out = kms
            .generate_data_key_pair()
            .key_id(&key)
            .key_pair_spec(sdk_spec.clone())
            .encryption_context("pair", spec.as_str())
            .send()
            .await
            .unwrap_or_else(|e| panic!("GenerateDataKeyPair {spec:?}: {e:?}"));
        assert_eq!(out.key_pair_spec(), Some(&sdk_spec));
        assert_eq!(out.key_id(), Some(key_arn(&key).as_str()));
        let private = out.private_key_plaintext().unwrap().as_ref().to_vec();
        let public = out.public_key().unwrap().as_ref().to_vec();
        let sealed = out.private_key_ciphertext_blob().unwrap().as_ref().to_vec();
        // The public key is the private key's.
        let key_spec = spec.key_spec();
        let derived = asymmetric::public_key_der(key_spec, &SecretBytes::new(private.clone()))
            .expect("the private key is PKCS#8 of its spec");
        assert_eq!(derived, public, "{spec:?}");
        // The sealed private key decrypts (with the same context) to the same PKCS#8.
        let opened = kms
            .decrypt()
            .ciphertext_blob(Blob::new(sealed.clone()))
            .encryption_context("pair", spec.as_str())
            .send()
            .await
            .expect("Decrypt of PrivateKeyCiphertextBlob");
        assert_eq!(opened.plaintext().unwrap().as_ref(), &private[..]);
        let wrong_context = kms
            .decrypt()
            .ciphertext_blob(Blob::new(sealed))
            .send()
            .await;
        expect_err(wrong_context, "InvalidCiphertextException");

        let without = kms
            .generate_data_key_pair_without_plaintext()
            .key_id(&key)
            .key_pair_spec(sdk_spec)
            .send()
            .await
            .expect("GenerateDataKeyPairWithoutPlaintext");
        let public = without.public_key().unwrap().as_ref().to_vec();
        let opened = kms
            .decrypt()
            .ciphertext_blob(without.private_key_ciphertext_blob().unwrap().clone())
            .send()
            .await
            .unwrap();
        let private = SecretBytes::new(opened.plaintext().unwrap().as_ref().to_vec());
        assert_eq!(
            asymmetric::public_key_der(key_spec, &private).unwrap(),
            public
        );
        // A signing pair signs outside KMS and verifies with its public half.
        if let Some(&alg) = ferrokms_types::key_specs::algorithms(
            key_spec,
            ferrokms_types::enums::KeyUsage::SignVerify,
        )
        .and_then(|a| a.signing.first())
        {
            let signature =
                asymmetric::sign(key_spec, alg, MessageType::Raw, &private, b"hello").unwrap();
            let ok = asymmetric::verify_with_public_key(
                key_spec,
                alg,
                MessageType::Raw,
                &public,
                b"hello",
                &signature,
            );
            assert_eq!(ok.ok(), Some(true), "{spec:?}");
        }
    }
    let missing = kms.generate_data_key_pair().key_id(&key).send().await;
    expect_err(missing, "ValidationException");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_encrypt_between_symmetric_and_rsa_keys() {
    let server = TestServer::start().await;
    let kms = server.client();
    let symmetric = create_key(&kms).await;
    let rsa = create(&kms, "RSA_3072", "ENCRYPT_DECRYPT").await;
    let oaep = sdk::EncryptionAlgorithmSpec::RsaesOaepSha256;

    // Symmetric → RSA.
    let blob = encrypt(&kms, &symmetric, b"moving between keys").await;
    let out = kms
        .re_encrypt()
        .ciphertext_blob(Blob::new(blob))
        .destination_key_id(&rsa)
        .destination_encryption_algorithm(oaep.clone())
        .send()
        .await
        .expect("ReEncrypt to RSA");
    assert_eq!(out.source_key_id(), Some(key_arn(&symmetric).as_str()));
    assert_eq!(out.destination_encryption_algorithm(), Some(&oaep));
    assert_eq!(
        out.source_encryption_algorithm(),
        Some(&sdk::EncryptionAlgorithmSpec::SymmetricDefault)
    );
    let rsa_blob = out.ciphertext_blob().unwrap().as_ref().to_vec();
    assert_eq!(rsa_blob.len(), 384);

    // RSA → symmetric needs the source key and algorithm.
    let no_source = kms
        .re_encrypt()
        .ciphertext_blob(Blob::new(rsa_blob.clone()))
        .source_encryption_algorithm(oaep.clone())
        .destination_key_id(&symmetric)
        .send()
        .await;
    let msg = expect_err(no_source, "ValidationException");
    assert_eq!(msg, "SourceKeyId must not be null");
    let out = kms
        .re_encrypt()
        .ciphertext_blob(Blob::new(rsa_blob))
        .source_key_id(&rsa)
        .source_encryption_algorithm(oaep.clone())
        .destination_key_id(&symmetric)
        .send()
        .await
        .expect("ReEncrypt from RSA");
    let back = out.ciphertext_blob().unwrap().as_ref().to_vec();
    assert_eq!(decrypt(&kms, &back).await, b"moving between keys");

    // A plaintext over the destination's limit is refused.
    let big = encrypt(&kms, &symmetric, &[7u8; 400]).await;
    let refused = kms
        .re_encrypt()
        .ciphertext_blob(Blob::new(big))
        .destination_key_id(&rsa)
        .destination_encryption_algorithm(oaep)
        .send()
        .await;
    expect_err(refused, "ValidationException");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_state_grants_and_algorithm_conditions() {
    let server = TestServer::start().await;
    let kms = server.client();
    let signing = create(&kms, "ECC_NIST_P256", "SIGN_VERIFY").await;

    // Disabled: Sign and GetPublicKey are DisabledException; enabled again they work.
    kms.disable_key().key_id(&signing).send().await.unwrap();
    let refused = sign(&kms, &signing, sdk::SigningAlgorithmSpec::EcdsaSha256).await;
    assert_eq!(refused.unwrap_err(), "DisabledException");
    let msg = expect_err(
        kms.get_public_key().key_id(&signing).send().await,
        "DisabledException",
    );
    assert_eq!(msg, format!("{} is disabled.", key_arn(&signing)));
    kms.enable_key().key_id(&signing).send().await.unwrap();

    // A grant of Sign lets a principal without policies sign, and nothing else.
    let (bob, bob_arn) = user_with_policy(&server, ACCOUNT, "bob", None).await;
    assert_eq!(
        sign(&bob, &signing, sdk::SigningAlgorithmSpec::EcdsaSha256)
            .await
            .unwrap_err(),
        "AccessDeniedException"
    );
    kms.create_grant()
        .key_id(&signing)
        .grantee_principal(&bob_arn)
        .operations(sdk::GrantOperation::Sign)
        .operations(sdk::GrantOperation::GetPublicKey)
        .send()
        .await
        .expect("CreateGrant");
    let signature = sign(&bob, &signing, sdk::SigningAlgorithmSpec::EcdsaSha256)
        .await
        .expect("Sign through the grant");
    let public = bob.get_public_key().key_id(&signing).send().await.unwrap();
    let valid = asymmetric::verify_with_public_key(
        KeySpec::EccNistP256,
        SigningAlgorithmSpec::EcdsaSha256,
        MessageType::Raw,
        public.public_key().unwrap().as_ref(),
        b"signed",
        &signature,
    );
    assert_eq!(valid.ok(), Some(true));
    let verify = bob
        .verify()
        .key_id(&signing)
        .message(Blob::new("signed"))
        .signature(Blob::new(signature))
        .signing_algorithm(sdk::SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await;
    expect_err(verify, "AccessDeniedException");
    // Grants cannot name what the key does not do, nor constrain an encryption context.
    let refused = kms
        .create_grant()
        .key_id(&signing)
        .grantee_principal(&bob_arn)
        .operations(sdk::GrantOperation::Encrypt)
        .send()
        .await;
    expect_err(refused, "ValidationException");
    let constrained = kms
        .create_grant()
        .key_id(&signing)
        .grantee_principal(&bob_arn)
        .operations(sdk::GrantOperation::Sign)
        .constraints(
            sdk::GrantConstraints::builder()
                .encryption_context_subset("a", "b")
                .build(),
        )
        .send()
        .await;
    expect_err(constrained, "ValidationException");

    // kms:SigningAlgorithm and kms:MacAlgorithm in an identity policy.
    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"kms:Sign","Resource":"*",
         "Condition":{"StringEquals":{"kms:SigningAlgorithm":"ECDSA_SHA_256","kms:MessageType":"DIGEST"}}},
        {"Effect":"Allow","Action":"kms:GenerateMac","Resource":"*",
         "Condition":{"StringEquals":{"kms:MacAlgorithm":"HMAC_SHA_512"}}}]}"#;
    let (carol, _) = user_with_policy(&server, ACCOUNT, "carol", Some(policy)).await;
    let raw = sign(&carol, &signing, sdk::SigningAlgorithmSpec::EcdsaSha256).await;
    assert_eq!(
        raw.unwrap_err(),
        "AccessDeniedException",
        "RAW is not DIGEST"
    );
    let digest = carol
        .sign()
        .key_id(&signing)
        .message(Blob::new(ferrokms_crypto::sha256(b"signed").to_vec()))
        .message_type(sdk::MessageType::Digest)
        .signing_algorithm(sdk::SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await;
    assert!(digest.is_ok(), "{digest:?}");
    let hmac = create(&kms, "HMAC_256", "GENERATE_VERIFY_MAC").await;
    let mac = carol
        .generate_mac()
        .key_id(&hmac)
        .message(Blob::new("m"))
        .mac_algorithm(sdk::MacAlgorithmSpec::HmacSha256)
        .send()
        .await;
    expect_err(mac, "AccessDeniedException");
    server.shutdown().await;
}
