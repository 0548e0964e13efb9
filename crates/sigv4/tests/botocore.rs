//! Requests signed by botocore (what boto3 and the AWS CLI send) must verify.
//!
//! `botocore_sign.py` signs header-authenticated KMS requests (with and without a session token,
//! and one with a path needing normalisation and a query) and a presigned GET at a fixed clock.
//! The test is skipped, with a printed reason, only when python3 cannot import botocore.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use ferrokms_sigv4::{parse, verify, SigV4Error};
use serde_json::{json, Value};

#[test]
fn botocore_signed_requests_verify() {
    match Command::new("python3")
        .args(["-c", "import botocore"])
        .output()
    {
        Ok(output) if output.status.success() => {}
        Ok(output) => {
            println!(
                "SKIPPED: python3 cannot import botocore: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            return;
        }
        Err(e) => {
            println!("SKIPPED: python3 is not available: {e}");
            return;
        }
    }
    let fixture = json!({
        "access_key_id": ACCESS_KEY_ID,
        "secret": SECRET,
        "token": SESSION_TOKEN,
        "region": REGION,
        "service": SERVICE,
        "endpoint": ENDPOINT,
        "target": TARGET,
        "content_type": CONTENT_TYPE,
        "body": std::str::from_utf8(BODY).expect("UTF-8 body"),
        "signed_at": SIGNED_AT_SECS,
    });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/botocore_sign.py");
    let output = Command::new("python3")
        .arg(script)
        .arg(fixture.to_string())
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "botocore_sign.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let requests: Vec<Value> = serde_json::from_slice(&output.stdout).expect("JSON output");
    assert_eq!(requests.len(), 4);
    let with_token = requests.iter().filter(|signed| check_one(signed)).count();
    assert_eq!(with_token, 2, "two requests carry a session token");
}

/// Verifies one signed request; returns whether it carried the session token.
fn check_one(signed: &Value) -> bool {
    let url: http::Uri = signed["url"]
        .as_str()
        .expect("url")
        .parse()
        .expect("valid url");
    let mut builder = http::Request::builder()
        .method(signed["method"].as_str().expect("method"))
        .uri(url.path_and_query().map_or("/", |pq| pq.as_str()));
    for pair in signed["headers"].as_array().expect("headers") {
        let name = pair[0].as_str().expect("header name");
        builder = builder.header(name, pair[1].as_str().expect("header value"));
    }
    let parts = builder.body(()).expect("valid request").into_parts().0;
    let body = signed["body"].as_str().expect("body").as_bytes();
    let label = format!("{} {}", parts.method, url);

    let req = parse(&parts).unwrap_or_else(|e| panic!("{label}: {e:?}"));
    assert_eq!(req.access_key_id, ACCESS_KEY_ID, "{label}");
    assert_eq!(
        (req.region.as_str(), req.service.as_str()),
        (REGION, SERVICE)
    );
    assert_eq!(req.request_time, signed_at(), "{label}");
    assert_eq!(
        verify(&req, &parts, body, SECRET, signed_at()),
        Ok(()),
        "{label}"
    );
    assert_eq!(
        verify(&req, &parts, body, "wrong", signed_at()),
        Err(SigV4Error::SignatureMismatch),
        "{label}"
    );
    let late = signed_at() + Duration::from_secs(301);
    assert!(
        matches!(
            verify(&req, &parts, body, SECRET, late),
            Err(SigV4Error::Expired(_))
        ),
        "{label}"
    );
    if !body.is_empty() {
        let mut tampered = body.to_vec();
        tampered[0] ^= 1;
        assert_eq!(
            verify(&req, &parts, &tampered, SECRET, signed_at()),
            Err(SigV4Error::SignatureMismatch),
            "{label}"
        );
        assert!(req.is_header_signed("x-amz-target"), "{label}");
    }
    println!(
        "verified botocore {label} ({})",
        if req.is_presigned() {
            "query"
        } else {
            "header"
        }
    );
    match req.session_token.as_deref() {
        Some(token) => {
            assert_eq!(token, SESSION_TOKEN, "{label}");
            true
        }
        None => false,
    }
}
