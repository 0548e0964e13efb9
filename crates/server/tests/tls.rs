//! HTTPS through rustls: the SDK, trusting only a freshly made self-signed certificate, talks to a
//! server started with --tls-cert/--tls-key; a plain-HTTP client gets nothing from it.

mod common;

use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use aws_sdk_kms::config::Region;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use common::{read_credentials_file, REGION};
use ferrokms_server::server::{start, ServerConfig};

#[tokio::test]
async fn sdk_over_tls_with_a_self_signed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_pem = cert.cert.pem();
    let (cert_file, key_file) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_file, &cert_pem).unwrap();
    std::fs::write(&key_file, cert.key_pair.serialize_pem()).unwrap();

    let data = common::DataDir::new();
    let mut config = ServerConfig::new(data.path().to_path_buf());
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.tls = Some((cert_file, key_file));
    config.store = common::postgres_store_for(data.path()).await;
    let running = start(config).await.unwrap();
    assert_eq!(running.scheme, "https");
    let creds = read_credentials_file(running.new_credentials.as_ref().unwrap());

    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(
            TlsContext::builder()
                .with_trust_store(TrustStore::empty().with_pem_certificate(cert_pem.into_bytes()))
                .build()
                .unwrap(),
        )
        .build_https();
    let sdk_config = aws_sdk_kms::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(format!("https://localhost:{}", running.addr.port()))
        .http_client(http_client)
        .credentials_provider(Credentials::new(
            creds.access_key_id,
            creds.secret_access_key,
            None,
            None,
            "test",
        ))
        .build();
    let client = aws_sdk_kms::Client::from_conf(sdk_config);

    let key = client.create_key().send().await.unwrap();
    let key_id = key.key_metadata().unwrap().key_id().to_string();
    let blob = client
        .encrypt()
        .key_id(&key_id)
        .plaintext(aws_sdk_kms::primitives::Blob::new(b"over tls".to_vec()))
        .send()
        .await
        .unwrap();
    let plain = client
        .decrypt()
        .ciphertext_blob(blob.ciphertext_blob().unwrap().clone())
        .send()
        .await
        .unwrap();
    assert_eq!(plain.plaintext().unwrap().as_ref(), b"over tls");

    // Plain HTTP to the TLS port is not served.
    let plain_http = common::client(
        &format!("http://127.0.0.1:{}", running.addr.port()),
        &read_credentials_file(&data.path().join("credentials")),
        REGION,
    );
    assert!(plain_http.list_keys().send().await.is_err());
    running.shutdown().await;
}
