//! Differential tests: requests signed by the `aws-sigv4` crate (what the Rust SDK sends) must
//! verify, and any one-byte change to the body, the signature, the scope or a signed header must
//! not.

mod common;

use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_sigv4::sign::v4;
use common::*;
use ferrokms_sigv4::{parse, verify, SigV4Error};
use http::request::Parts;
use http::HeaderValue;

/// How the client signs.
#[derive(Clone, Copy)]
struct Signing {
    token: Option<&'static str>,
    presign_for: Option<Duration>,
    content_sha256_header: bool,
}

const HEADER: Signing = Signing {
    token: None,
    presign_for: None,
    content_sha256_header: false,
};

/// A KMS Encrypt request signed by aws-sigv4 at [`signed_at`].
fn kms_request(signing: Signing) -> http::Request<Vec<u8>> {
    signed_request("http://127.0.0.1:4599/", BODY, signing)
}

fn signed_request(uri: &str, body: &[u8], signing: Signing) -> http::Request<Vec<u8>> {
    let mut request = http::Request::builder()
        .method("POST")
        .uri(uri)
        .header("content-type", CONTENT_TYPE)
        .header("x-amz-target", TARGET)
        .header("content-length", body.len())
        .body(body.to_vec())
        .expect("valid request");
    let identity = Credentials::new(
        ACCESS_KEY_ID,
        SECRET,
        signing.token.map(str::to_owned),
        None,
        "test",
    )
    .into();
    let mut settings = SigningSettings::default();
    if let Some(expires) = signing.presign_for {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(expires);
    }
    if signing.content_sha256_header {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name(SERVICE)
        .time(signed_at())
        .settings(settings)
        .build()
        .expect("signing params")
        .into();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().expect("ascii").to_owned()))
        .collect();
    let signable = SignableRequest::new(
        "POST",
        uri,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .expect("signable request");
    let (instructions, _signature) = sign(signable, &params).expect("signs").into_parts();
    instructions.apply_to_request_http1x(&mut request);
    request
}

fn check(parts: &Parts, body: &[u8], now_offset_secs: i64) -> Result<(), SigV4Error> {
    let now = match u64::try_from(now_offset_secs) {
        Ok(ahead) => signed_at() + Duration::from_secs(ahead),
        Err(_) => signed_at() - Duration::from_secs(now_offset_secs.unsigned_abs()),
    };
    let req = parse(parts)?;
    verify(&req, parts, body, SECRET, now)
}

/// Replaces the byte at `index` by a different byte that keeps the value a valid header value.
fn mutate(value: &[u8], index: usize) -> Vec<u8> {
    let mut out = value.to_vec();
    out[index] = match out[index] {
        b'z' => b'a',
        b'Z' => b'A',
        b'9' => b'0',
        b if b.is_ascii_alphanumeric() => b + 1,
        b'x' => b'y',
        _ => b'x',
    };
    out
}

fn with_header(parts: &Parts, name: &str, value: Vec<u8>) -> Parts {
    let mut parts = parts.clone();
    let value = HeaderValue::from_bytes(&value).expect("valid header value");
    parts.headers.insert(
        http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
        value,
    );
    parts
}

fn header_bytes(parts: &Parts, name: &str) -> Vec<u8> {
    parts
        .headers
        .get(name)
        .unwrap_or_else(|| panic!("{name} present"))
        .as_bytes()
        .to_vec()
}

#[test]
fn aws_sigv4_signed_request_verifies() {
    for token in [None, Some(SESSION_TOKEN)] {
        let request = kms_request(Signing { token, ..HEADER });
        let parts = as_received_http1(&request);
        let req = parse(&parts).expect("parses");
        assert_eq!(req.access_key_id, ACCESS_KEY_ID);
        assert_eq!(
            (req.region.as_str(), req.service.as_str()),
            (REGION, SERVICE)
        );
        assert_eq!(req.date, "20240101");
        assert_eq!(req.session_token.as_deref(), token);
        assert_eq!(req.request_time, signed_at());
        for name in ["host", "x-amz-date", "x-amz-target", "content-type"] {
            assert!(req.is_header_signed(name), "{name} signed");
        }
        assert_eq!(
            token.is_some(),
            req.is_header_signed("x-amz-security-token")
        );
        assert_eq!(verify(&req, &parts, BODY, SECRET, signed_at()), Ok(()));
    }
}

#[test]
fn http2_request_uses_uri_authority_as_host() {
    let request = kms_request(HEADER);
    let parts = as_received_http2(&request);
    assert!(parts.headers.get("host").is_none());
    assert_eq!(check(&parts, BODY, 0), Ok(()));
}

#[test]
fn every_one_byte_body_change_is_rejected() {
    let request = kms_request(Signing {
        token: Some(SESSION_TOKEN),
        ..HEADER
    });
    let parts = as_received_http1(&request);
    for i in 0..BODY.len() {
        let mut body = BODY.to_vec();
        body[i] = body[i].wrapping_add(1);
        assert_eq!(
            check(&parts, &body, 0),
            Err(SigV4Error::SignatureMismatch),
            "byte {i}"
        );
    }
    assert_eq!(
        check(&parts, &BODY[1..], 0),
        Err(SigV4Error::SignatureMismatch)
    );
    assert_eq!(check(&parts, b"", 0), Err(SigV4Error::SignatureMismatch));
}

#[test]
fn every_one_byte_signature_change_is_rejected() {
    let parts = as_received_http1(&kms_request(HEADER));
    let auth = header_bytes(&parts, "authorization");
    let start = auth
        .windows(10)
        .position(|w| w == b"Signature=")
        .expect("has a signature")
        + 10;
    assert_eq!(auth.len() - start, 64, "hex SHA-256 signature");
    for i in start..auth.len() {
        let mut changed = auth.clone();
        changed[i] = if changed[i] == b'0' { b'1' } else { b'0' };
        let p = with_header(&parts, "authorization", changed.clone());
        assert_eq!(
            check(&p, BODY, 0),
            Err(SigV4Error::SignatureMismatch),
            "byte {i}"
        );
        changed[i] = auth[i].to_ascii_uppercase();
        if changed[i] != auth[i] {
            let p = with_header(&parts, "authorization", changed);
            assert_eq!(
                check(&p, BODY, 0),
                Err(SigV4Error::SignatureMismatch),
                "case {i}"
            );
        }
    }
}

#[test]
fn every_one_byte_scope_or_signed_headers_change_is_rejected() {
    let parts = as_received_http1(&kms_request(HEADER));
    let auth = header_bytes(&parts, "authorization");
    // From the first byte after the access key id to the end of SignedHeaders.
    let start = auth
        .iter()
        .position(|&b| b == b'/')
        .expect("credential scope");
    let end = auth
        .windows(11)
        .position(|w| w == b", Signature")
        .expect("signature");
    for i in start..end {
        let p = with_header(&parts, "authorization", mutate(&auth, i));
        let result = check(&p, BODY, 0);
        assert!(result.is_err(), "byte {i}: {result:?}");
    }
}

#[test]
fn every_one_byte_signed_header_change_is_rejected() {
    let parts = as_received_http1(&kms_request(Signing {
        token: Some(SESSION_TOKEN),
        ..HEADER
    }));
    for name in [
        "host",
        "x-amz-target",
        "content-type",
        "x-amz-security-token",
    ] {
        let value = header_bytes(&parts, name);
        for i in 0..value.len() {
            let p = with_header(&parts, name, mutate(&value, i));
            assert_eq!(
                check(&p, BODY, 0),
                Err(SigV4Error::SignatureMismatch),
                "{name} {i}"
            );
        }
    }
    // A changed date is malformed, outside the clock window, or simply not what was signed.
    let value = header_bytes(&parts, "x-amz-date");
    for i in 0..value.len() {
        let p = with_header(&parts, "x-amz-date", mutate(&value, i));
        assert!(check(&p, BODY, 0).is_err(), "x-amz-date byte {i}");
    }
}

#[test]
fn signed_headers_may_not_be_dropped_but_unsigned_ones_may_be_added() {
    let parts = as_received_http1(&kms_request(HEADER));
    for name in ["x-amz-target", "content-type"] {
        let mut p = parts.clone();
        p.headers.remove(name);
        assert_eq!(
            check(&p, BODY, 0),
            Err(SigV4Error::SignatureMismatch),
            "{name}"
        );
    }
    let p = with_header(&parts, "user-agent", b"curl/8".to_vec());
    assert_eq!(check(&p, BODY, 0), Ok(()));
}

#[test]
fn wrong_secret_is_a_mismatch() {
    let parts = as_received_http1(&kms_request(HEADER));
    let req = parse(&parts).expect("parses");
    let wrong = format!("{SECRET}x");
    assert_eq!(
        verify(&req, &parts, BODY, &wrong, signed_at()),
        Err(SigV4Error::SignatureMismatch)
    );
}

#[test]
fn six_minutes_of_clock_skew_is_expired() {
    let parts = as_received_http1(&kms_request(HEADER));
    assert_eq!(check(&parts, BODY, 300), Ok(()));
    assert_eq!(check(&parts, BODY, -300), Ok(()));
    assert_eq!(
        check(&parts, BODY, 360),
        Err(SigV4Error::Expired(
            "Signature expired: 20240101T000000Z is now earlier than 20240101T000100Z \
             (20240101T000600Z - 5 min.)"
                .into()
        ))
    );
    assert!(matches!(
        check(&parts, BODY, -360),
        Err(SigV4Error::Expired(_))
    ));
}

#[test]
fn missing_or_garbage_authorization() {
    let parts = as_received_http1(&kms_request(HEADER));
    let mut p = parts.clone();
    p.headers.remove("authorization");
    assert_eq!(check(&p, BODY, 0), Err(SigV4Error::MissingAuthentication));
    for garbage in ["garbage", "AWS4-HMAC-SHA256", "Bearer abc", ""] {
        let p = with_header(&parts, "authorization", garbage.as_bytes().to_vec());
        assert!(
            matches!(check(&p, BODY, 0), Err(SigV4Error::Incomplete(_))),
            "{garbage:?}"
        );
    }
}

#[test]
fn signed_content_sha256_header_must_match_the_body() {
    let request = kms_request(Signing {
        content_sha256_header: true,
        ..HEADER
    });
    let parts = as_received_http1(&request);
    assert!(parse(&parts)
        .expect("parses")
        .is_header_signed("x-amz-content-sha256"));
    assert_eq!(check(&parts, BODY, 0), Ok(()));
    assert_eq!(check(&parts, b"{}", 0), Err(SigV4Error::SignatureMismatch));
}

#[test]
fn path_and_query_are_canonicalised_like_the_sdk() {
    let uri = "http://127.0.0.1:4599/a%3Ab/c%20d/~e?z=1&b=%2F%7E&a=&b=0&%E1%88%B4=x";
    let request = signed_request(uri, BODY, HEADER);
    assert_eq!(check(&as_received_http1(&request), BODY, 0), Ok(()));
}

#[test]
fn presigned_request_verifies_until_it_expires() {
    let presign = Signing {
        token: Some(SESSION_TOKEN),
        presign_for: Some(Duration::from_secs(300)),
        content_sha256_header: false,
    };
    let request = kms_request(presign);
    assert!(request.headers().get("authorization").is_none());
    let parts = as_received_http1(&request);
    let req = parse(&parts).expect("parses");
    assert!(req.is_presigned());
    assert_eq!(req.session_token.as_deref(), Some(SESSION_TOKEN));
    assert_eq!(check(&parts, BODY, 0), Ok(()));
    assert_eq!(check(&parts, BODY, 300), Ok(()));
    assert!(matches!(
        check(&parts, BODY, 301),
        Err(SigV4Error::Expired(_))
    ));
    assert!(matches!(
        check(&parts, BODY, -301),
        Err(SigV4Error::Expired(_))
    ));
    assert_eq!(check(&parts, b"{}", 0), Err(SigV4Error::SignatureMismatch));

    let query = parts.uri.query().expect("query").to_owned();
    let start = query.find("X-Amz-Signature=").expect("signature param") + 16;
    for i in start..start + 64 {
        let mut changed = query.clone().into_bytes();
        changed[i] = if changed[i] == b'0' { b'1' } else { b'0' };
        let mut p = parts.clone();
        p.uri = format!("/?{}", String::from_utf8(changed).expect("ascii"))
            .parse()
            .expect("uri");
        assert_eq!(
            check(&p, BODY, 0),
            Err(SigV4Error::SignatureMismatch),
            "byte {i}"
        );
    }
}
