//! GetKeyPolicy, PutKeyPolicy and ListKeyPolicies through aws-sdk-kms.

mod common;

use common::{code, create_key, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_policies_through_the_sdk() {
    let server = TestServer::start().await;
    let kms = server.client();
    let key = create_key(&kms).await;

    let listed = kms.list_key_policies().key_id(&key).send().await.unwrap();
    assert_eq!(listed.policy_names(), ["default"]);
    let got = kms
        .get_key_policy()
        .key_id(&key)
        .policy_name("default")
        .send()
        .await
        .unwrap();
    assert!(got
        .policy()
        .unwrap()
        .contains("arn:aws:iam::111122223333:root"));

    let policy = r#"{"Version":"2012-10-17","Statement":[{"Sid":"admin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#;
    kms.put_key_policy()
        .key_id(&key)
        .policy_name("default")
        .policy(policy)
        .send()
        .await
        .unwrap();
    let got = kms.get_key_policy().key_id(&key).send().await.unwrap();
    assert_eq!(got.policy(), Some(policy));

    let lockout = policy.replace(":root", ":user/somebody-else");
    let err = kms
        .put_key_policy()
        .key_id(&key)
        .policy(lockout)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "MalformedPolicyDocumentException");
    let err = kms
        .put_key_policy()
        .key_id(&key)
        .policy("{")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "MalformedPolicyDocumentException");
    server.shutdown().await;
}
