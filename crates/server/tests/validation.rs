//! The AWS JSON 1.1 protocol and request validation, through raw requests correctly signed with
//! the aws-sigv4 crate: bodies the SDK would never send must get a 400 with the right `__type`,
//! AWS's message where AWS's is known, and never a 500.

mod common;

use base64::Engine;
use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_is_200_with_the_json_content_type() {
    let server = TestServer::start().await;
    let r = call(&server, "CreateKey", &json!({"Description": "raw"})).await;
    assert_eq!(r.status, 200, "{:?}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("content-type"), Some("application/x-amz-json-1.1"));
    assert!(r.header("x-amzn-requestid").is_some());
    let m = &r.json()["KeyMetadata"];
    assert_eq!(m["AWSAccountId"], ACCOUNT);
    assert_eq!(m["Description"], "raw");
    assert_eq!(m["KeyState"], "Enabled");
    assert_eq!(m["Enabled"], true);
    assert_eq!(m["KeyManager"], "CUSTOMER");
    assert_eq!(m["MultiRegion"], false);
    // Timestamps are epoch seconds (a JSON number), as the JSON 1.1 protocol writes them.
    let created = m["CreationDate"]
        .as_f64()
        .expect("CreationDate is a number");
    assert!((created * 1000.0 - now_ms() as f64).abs() < 60_000.0);
    let id = m["KeyId"].as_str().unwrap().to_string();
    assert_eq!(m["Arn"], key_arn(&id));

    // Blobs are base64 in both directions.
    let r = call(
        &server,
        "Encrypt",
        &json!({"KeyId": id, "Plaintext": base64::engine::general_purpose::STANDARD.encode("hi")}),
    )
    .await;
    assert_eq!(r.status, 200);
    let blob = r.json()["CiphertextBlob"].as_str().unwrap().to_string();
    base64::engine::general_purpose::STANDARD
        .decode(&blob)
        .expect("CiphertextBlob is base64");
    let r = call(&server, "Decrypt", &json!({ "CiphertextBlob": blob })).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["Plaintext"], "aGk=");
    assert_eq!(r.json()["KeyId"], key_arn(&id));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_serialization_exception() {
    let server = TestServer::start().await;
    for body in [
        &b"{not json"[..],
        b"{\"KeyId\": ",
        b"\xff\xfe",
        b"{\"KeyId\": \"a\"} trailing",
    ] {
        let r = Signed::new(&server.admin, "DescribeKey", body)
            .send(server.addr())
            .await;
        r.assert_error("SerializationException");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_json_types_are_serialization_exception() {
    let server = TestServer::start().await;
    let id = create_key(&server.client()).await;
    let cases = [
        ("DescribeKey", json!({"KeyId": 5})),
        ("DescribeKey", json!([])),
        ("DescribeKey", json!("KeyId")),
        ("DescribeKey", json!({"KeyId": {"nested": true}})),
        ("ListKeys", json!({"Limit": "ten"})),
        ("ListKeys", json!({"Limit": 1.5})),
        (
            "ListKeys",
            json!({"Limit": 99999999999999999999u128 as f64}),
        ),
        ("Encrypt", json!({"KeyId": id, "Plaintext": 5})),
        ("Encrypt", json!({"KeyId": id, "Plaintext": "not base64!"})),
        (
            "Encrypt",
            json!({"KeyId": id, "Plaintext": "aGk=", "EncryptionContext": {"a": 1}}),
        ),
        (
            "Encrypt",
            json!({"KeyId": id, "Plaintext": "aGk=", "EncryptionContext": ["a"]}),
        ),
        (
            "Encrypt",
            json!({"KeyId": id, "Plaintext": "aGk=", "DryRun": "yes"}),
        ),
        ("TagResource", json!({"KeyId": id, "Tags": {"a": "b"}})),
        ("UntagResource", json!({"KeyId": id, "TagKeys": "a"})),
    ];
    for (op, body) in cases {
        let r = call(&server, op, &body).await;
        let msg = r.assert_error("SerializationException");
        // The message never echoes a value (it might be a secret).
        assert!(!msg.contains("not base64!"), "{op} {body}: {msg}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_required_members_have_aws_messages() {
    let server = TestServer::start().await;
    let r = call(&server, "DescribeKey", &json!({})).await;
    assert_eq!(
        r.assert_error("ValidationException"),
        "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null"
    );
    // An explicit null is the same as absent; an empty body is an empty object.
    let r = call(&server, "DescribeKey", &json!({"KeyId": null})).await;
    assert_eq!(
        r.assert_error("ValidationException"),
        "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null"
    );
    let r = Signed::new(&server.admin, "DescribeKey", b"")
        .send(server.addr())
        .await;
    r.assert_error("ValidationException");

    // Every violation is listed.
    let r = call(&server, "Encrypt", &json!({})).await;
    let msg = r.assert_error("ValidationException");
    assert!(msg.starts_with("2 validation errors detected: "), "{msg}");
    assert!(
        msg.contains("Value null at 'keyId' failed to satisfy constraint: Member must not be null"),
        "{msg}"
    );
    assert!(
        msg.contains(
            "Value null at 'plaintext' failed to satisfy constraint: Member must not be null"
        ),
        "{msg}"
    );

    for (op, member) in [
        ("Decrypt", "ciphertextBlob"),
        ("CreateAlias", "aliasName"),
        ("DeleteAlias", "aliasName"),
        ("TagResource", "keyId"),
        ("GenerateDataKey", "keyId"),
        ("ScheduleKeyDeletion", "keyId"),
        ("GenerateRandom", "numberOfBytes"),
    ] {
        let r = call(&server, op, &json!({})).await;
        let msg = r.assert_error("ValidationException");
        assert!(
            msg.contains(&format!(
                "Value null at '{member}' failed to satisfy constraint: Member must not be null"
            )),
            "{op}: {msg}"
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_and_out_of_range_members_are_validation_errors() {
    let server = TestServer::start().await;
    let id = create_key(&server.client()).await;
    let b64 = |n: usize| base64::engine::general_purpose::STANDARD.encode(vec![0x41u8; n]);

    let r = call(
        &server,
        "Encrypt",
        &json!({"KeyId": id, "Plaintext": b64(4097)}),
    )
    .await;
    assert_eq!(
        r.assert_error("ValidationException"),
        "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096"
    );
    let r = call(
        &server,
        "Encrypt",
        &json!({"KeyId": id, "Plaintext": b64(4096)}),
    )
    .await;
    assert_eq!(r.status, 200);

    let cases = [
        ("DescribeKey", json!({"KeyId": ""}), "keyId"),
        ("DescribeKey", json!({"KeyId": "k".repeat(2049)}), "keyId"),
        ("ListKeys", json!({"Limit": 0}), "limit"),
        ("ListKeys", json!({"Limit": 1001}), "limit"),
        ("ListKeys", json!({"Marker": ""}), "marker"),
        (
            "GenerateRandom",
            json!({"NumberOfBytes": 0}),
            "numberOfBytes",
        ),
        (
            "GenerateRandom",
            json!({"NumberOfBytes": 1025}),
            "numberOfBytes",
        ),
        (
            "GenerateDataKey",
            json!({"KeyId": id, "KeySpec": "AES_512"}),
            "keySpec",
        ),
        (
            "CreateKey",
            json!({"KeyUsage": "ENCRYPT_EVERYTHING"}),
            "keyUsage",
        ),
        (
            "CreateKey",
            json!({"Description": "d".repeat(8193)}),
            "description",
        ),
        (
            "Decrypt",
            json!({"CiphertextBlob": b64(6145)}),
            "ciphertextBlob",
        ),
        ("Decrypt", json!({"CiphertextBlob": ""}), "ciphertextBlob"),
        (
            "Encrypt",
            json!({"KeyId": id, "Plaintext": "aGk=", "EncryptionAlgorithm": "ROT13"}),
            "encryptionAlgorithm",
        ),
    ];
    for (op, body, member) in cases {
        let r = call(&server, op, &body).await;
        let msg = r.assert_error("ValidationException");
        assert!(msg.contains(&format!("'{member}'")), "{op}: {msg}");
    }
    // A long value is not echoed in full.
    let r = call(&server, "DescribeKey", &json!({"KeyId": "k".repeat(2049)})).await;
    assert!(r.error_message().len() < 400, "{}", r.error_message());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_targets_are_unknown_operation() {
    let server = TestServer::start().await;
    let body = b"{}";
    for target in [
        Some("TrentService.NoSuchOperation"),
        Some("TrentService.encrypt"),
        Some("TrentService."),
        Some("OtherService.Encrypt"),
        Some("Encrypt"),
    ] {
        let mut req = Signed::new(&server.admin, "x", body);
        req.target = target.map(str::to_string);
        let r = req.send(server.addr()).await;
        r.assert_error("UnknownOperationException");
    }
    // The server insists that the target be signed (so a signed body cannot be replayed as
    // another operation); with no target at all there is nothing signed.
    let mut req = Signed::new(&server.admin, "x", body);
    req.target = None;
    req.send(server.addr())
        .await
        .assert_error("IncompleteSignatureException");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_members_are_ignored() {
    let server = TestServer::start().await;
    let id = create_key(&server.client()).await;
    let r = call(
        &server,
        "DescribeKey",
        &json!({"KeyId": id, "SomeFutureMember": {"x": [1, 2]}}),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", String::from_utf8_lossy(&r.body));
    server.shutdown().await;
}

/// Hostile bodies against every operation: each answer is a 200 or a well-formed 400.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_body_gets_a_500() {
    let server = TestServer::start().await;
    let id = create_key(&server.client()).await;
    let operations = [
        "CancelKeyDeletion",
        "CreateAlias",
        "CreateKey",
        "Decrypt",
        "DeleteAlias",
        "DescribeKey",
        "DisableKey",
        "EnableKey",
        "Encrypt",
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
        "GenerateRandom",
        "ListAliases",
        "ListKeys",
        "ListResourceTags",
        "ReEncrypt",
        "ScheduleKeyDeletion",
        "TagResource",
        "UntagResource",
        "UpdateAlias",
        "UpdateKeyDescription",
    ];
    let bodies: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"{".to_vec(),
        b"null".to_vec(),
        b"[]".to_vec(),
        b"{}".to_vec(),
        br#"{"KeyId": 5}"#.to_vec(),
        br#"{"KeyId": "arn:aws:kms:us-east-1:111122223333:key/"}"#.to_vec(),
        br#"{"KeyId": "arn:aws:kms:::"}"#.to_vec(),
        br#"{"KeyId": "alias/aws/ebs"}"#.to_vec(),
        format!(r#"{{"KeyId": "{}"}}"#, "\u{1F600}".repeat(600)).into_bytes(),
        br#"{"KeyId": "\u0000"}"#.to_vec(),
        br#"{"CiphertextBlob": "AAAA"}"#.to_vec(),
        br#"{"CiphertextBlob": "RksBMTExMTIyMjIzMzMzOmsAAAAB"}"#.to_vec(),
        br#"{"Limit": -1, "Marker": "\u0001"}"#.to_vec(),
        br#"{"Limit": 1, "Marker": "zzzz"}"#.to_vec(),
        br#"{"Tags": [{}], "TagKeys": [null]}"#.to_vec(),
        br#"{"AliasName": "alias/x", "TargetKeyId": "alias/y"}"#.to_vec(),
        br#"{"NumberOfBytes": 9223372036854775807}"#.to_vec(),
        br#"{"PendingWindowInDays": -9223372036854775808}"#.to_vec(),
        format!(r#"{{"KeyId": "{id}", "PendingWindowInDays": 365}}"#).into_bytes(),
        format!(r#"{{"KeyId": "{id}", "NumberOfBytes": 0, "KeySpec": "AES_256"}}"#).into_bytes(),
        format!(r#"{{"KeyId": "{id}", "Recipient": {{"KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256"}}, "NumberOfBytes": 8}}"#).into_bytes(),
        format!("{}{}", "[".repeat(200), "]".repeat(200)).into_bytes(),
        format!(r#"{{"Description": "{}"}}"#, "\\u0000".repeat(100)).into_bytes(),
    ];
    for op in operations {
        for body in &bodies {
            let r = Signed::new(&server.admin, op, body)
                .send(server.addr())
                .await;
            let shown = String::from_utf8_lossy(body);
            assert!(
                r.status == 200 || r.status == 400,
                "{op} {shown}: status {} body {:?}",
                r.status,
                String::from_utf8_lossy(&r.body)
            );
            assert_eq!(
                r.header("content-type"),
                Some("application/x-amz-json-1.1"),
                "{op} {shown}"
            );
            let json = r.json();
            if r.status == 400 {
                assert!(json["__type"].is_string(), "{op} {shown}: {json}");
                assert!(json["message"].is_string(), "{op} {shown}: {json}");
                assert_ne!(json["__type"], "KMSInternalException", "{op} {shown}");
            }
        }
    }
    // The server is still healthy.
    let r = call(&server, "DescribeKey", &json!({ "KeyId": id })).await;
    assert_eq!(r.status, 200);
    server.shutdown().await;
}
