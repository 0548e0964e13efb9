//! Server-side AWS Signature Version 4 verification over [`http::request::Parts`] and body bytes.
//!
//! The flow is two steps so the secret is looked up only for well-formed requests:
//! [`parse`] reads what the request claims (access key, scope, time, signed headers, signature)
//! from the `Authorization` header or presigned `X-Amz-*` query parameters; the caller looks up
//! the secret for [`SignedRequest::access_key_id`] and checks region and service; then [`verify`]
//! checks the clock and recomputes the signature, comparing it in constant time.
//!
//! Canonicalisation follows AWS's rules for non-S3 services (see [`canonical_request`]); the
//! intermediate texts are public so tests can compare them with AWS's test suite.
//!
//! ```no_run
//! use ferrokms_sigv4::{parse, verify, SigV4Error};
//!
//! /// Returns the authenticated access key id. `secret_for` is the server's credential store.
//! fn authenticate(
//!     parts: &http::request::Parts,
//!     body: &[u8], // already capped in size by the caller
//!     secret_for: impl Fn(&str) -> Option<String>,
//! ) -> Result<String, SigV4Error> {
//!     let claim = parse(parts)?;
//!     // The server also checks claim.region and claim.service against its own configuration,
//!     // and answers an unknown key with UnrecognizedClientException instead of this error.
//!     let secret = secret_for(&claim.access_key_id).ok_or(SigV4Error::SignatureMismatch)?;
//!     verify(&claim, parts, body, &secret, std::time::SystemTime::now())?;
//!     Ok(claim.access_key_id)
//! }
//! ```

mod canonical;
mod clock;
mod crypto;
mod error;
mod parse;

use std::fmt;
use std::time::{Duration, SystemTime};

use http::request::Parts;
use subtle::ConstantTimeEq;

pub use canonical::{canonical_request, string_to_sign, ALGORITHM};
pub use crypto::SigningKey;
pub use error::SigV4Error;
pub use parse::parse;

/// The payload-hash value S3 lets a client sign instead of the body hash. AWS accepts it for S3
/// only: a KMS or STS request signing it would let anyone holding a presigned URL send any body
/// under its signature, so it is never the payload hash here (the signature then covers the real
/// body's hash and does not match, as at AWS).
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

const X_AMZ_CONTENT_SHA256: &str = "x-amz-content-sha256";

/// What the `Authorization` header (or presigned query) claims; parsed before any secret is
/// looked up. Only [`parse`] creates one.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// The access key id the client signed with; the caller looks its secret up.
    pub access_key_id: String,
    /// Credential-scope date, `yyyymmdd`; always the day of [`Self::request_time`].
    pub date: String,
    /// Credential-scope region; the caller checks it is the server's region.
    pub region: String,
    /// Credential-scope service; the caller checks it is `kms`.
    pub service: String,
    /// `X-Amz-Security-Token` (query parameter for presigned requests, else header), if present.
    pub session_token: Option<String>,
    /// The signed request time, from `X-Amz-Date` (or the `Date` header).
    pub request_time: SystemTime,
    /// The `yyyymmddThhmmssZ` timestamp that goes into the string to sign.
    timestamp: String,
    /// Header names of `SignedHeaders`, lower-case and sorted (the canonical request's order).
    signed_headers: Vec<String>,
    /// The lower-case hex signature supplied by the client.
    signature: String,
    location: Location,
}

/// Where the signature was carried, which decides the freshness rule and payload options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Location {
    Header,
    Query { expires: Option<Duration> },
}

impl SignedRequest {
    /// The credential scope, `date/region/service/aws4_request`.
    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }

    /// The header names the client signed, lower-case and sorted.
    pub fn signed_headers(&self) -> &[String] {
        &self.signed_headers
    }

    /// Whether `name` (any case) is among the signed headers; servers may require e.g.
    /// `x-amz-target` and `content-type` to be signed.
    pub fn is_header_signed(&self, name: &str) -> bool {
        self.signed_headers
            .iter()
            .any(|h| h.eq_ignore_ascii_case(name))
    }

    /// Whether the signature came in the query string (a presigned request).
    pub fn is_presigned(&self) -> bool {
        matches!(self.location, Location::Query { .. })
    }

    /// The canonical request [`verify`] recomputes for these `parts` and `body`.
    pub fn canonical_request(&self, parts: &Parts, body: &[u8]) -> Result<String, SigV4Error> {
        let payload_hash = self.payload_hash(parts, body)?;
        canonical_request(parts, &self.signed_headers, &payload_hash)
    }

    /// The string to sign for a canonical request under this request's time and scope.
    pub fn string_to_sign(&self, canonical_request: &str) -> String {
        string_to_sign(&self.timestamp, &self.scope(), canonical_request)
    }

    /// The payload hash line: the body's SHA-256, or a signed `x-amz-content-sha256` header,
    /// which must then match the body.
    fn payload_hash(&self, parts: &Parts, body: &[u8]) -> Result<String, SigV4Error> {
        let body_hash = crypto::sha256_hex(body);
        if !self.is_header_signed(X_AMZ_CONTENT_SHA256) {
            return Ok(body_hash);
        }
        let mut values = parts.headers.get_all(X_AMZ_CONTENT_SHA256).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            return Err(SigV4Error::SignatureMismatch);
        };
        let declared = value
            .to_str()
            .map_err(|_| SigV4Error::SignatureMismatch)?
            .trim();
        if declared == UNSIGNED_PAYLOAD {
            return Err(SigV4Error::SignatureMismatch);
        }
        if declared.len() != 64 || !declared.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(SigV4Error::Incomplete(format!(
                "Unsupported x-amz-content-sha256 value '{declared}'."
            )));
        }
        if !declared.eq_ignore_ascii_case(&body_hash) {
            return Err(SigV4Error::SignatureMismatch);
        }
        Ok(declared.to_owned())
    }
}

impl fmt::Debug for SignedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedRequest")
            .field("access_key_id", &self.access_key_id)
            .field("scope", &self.scope())
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .field("timestamp", &self.timestamp)
            .field("signed_headers", &self.signed_headers)
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// Checks the request time against `now` (5 minutes either way; for presigned requests, until
/// `X-Amz-Expires` after the request time), then recomputes the signature with
/// `secret_access_key` and compares it with the supplied one in constant time.
///
/// `req` must come from [`parse`] on the same `parts`; `body` is the complete request body, whose
/// size the caller has already capped. The scope date and the signing of `host` and `x-amz-date`
/// were checked by [`parse`].
pub fn verify(
    req: &SignedRequest,
    parts: &Parts,
    body: &[u8],
    secret_access_key: &str,
    now: SystemTime,
) -> Result<(), SigV4Error> {
    let key = SigningKey::derive(secret_access_key, &req.date, &req.region, &req.service);
    verify_with_key(req, parts, body, &key, now)
}

/// [`verify`] with the signing key already derived for `req`'s scope (see [`SigningKey`]); the
/// caller must have derived it from the access key's secret and `req.date`, `req.region` and
/// `req.service`.
pub fn verify_with_key(
    req: &SignedRequest,
    parts: &Parts,
    body: &[u8],
    key: &SigningKey,
    now: SystemTime,
) -> Result<(), SigV4Error> {
    match req.location {
        Location::Header => clock::check_skew(req.request_time, now)?,
        Location::Query { expires } => clock::check_presigned(req.request_time, expires, now)?,
    }
    let canonical = req.canonical_request(parts, body)?;
    let expected = key.sign_hex(&req.string_to_sign(&canonical));
    if bool::from(expected.as_bytes().ct_eq(req.signature.as_bytes())) {
        Ok(())
    } else {
        Err(SigV4Error::SignatureMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "test-secret";
    const SCOPE: &str = "20240101/us-east-1/kms/aws4_request";
    const PLACEHOLDER: &str = "SIGNATURE";

    fn at() -> SystemTime {
        clock::parse_amz_date("20240101T000000Z").expect("valid time")
    }

    /// A request whose signature is computed by this crate, so payload rules can be exercised.
    fn signed_parts(presigned: bool, content_sha256: &str, body: &[u8]) -> Parts {
        let signed_headers = "host;x-amz-content-sha256;x-amz-date";
        let mut builder = http::Request::builder()
            .method("POST")
            .header("host", "kms.local")
            .header("x-amz-date", "20240101T000000Z")
            .header("x-amz-content-sha256", content_sha256);
        builder = if presigned {
            builder.uri(format!(
                "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F{}\
                 &X-Amz-Date=20240101T000000Z&X-Amz-SignedHeaders={}&X-Amz-Signature={PLACEHOLDER}",
                SCOPE.replace('/', "%2F"),
                signed_headers.replace(';', "%3B"),
            ))
        } else {
            builder.uri("/").header(
                "authorization",
                format!(
                    "{ALGORITHM} Credential=AKID/{SCOPE}, SignedHeaders={signed_headers}, \
                     Signature={PLACEHOLDER}"
                ),
            )
        };
        let mut parts = builder.body(()).expect("valid request").into_parts().0;
        let req = parse(&parts).expect("parses");
        let Ok(canonical) = req.canonical_request(&parts, body) else {
            return parts; // left unsigned: the payload rules reject it before any signature
        };
        let signature = crypto::signature_hex(
            SECRET,
            "20240101",
            "us-east-1",
            "kms",
            &req.string_to_sign(&canonical),
        );
        if presigned {
            let uri = parts.uri.to_string().replace(PLACEHOLDER, &signature);
            parts.uri = uri.parse().expect("uri");
        } else {
            let auth = parts.headers["authorization"].to_str().expect("ascii");
            let auth = auth.replace(PLACEHOLDER, &signature);
            parts
                .headers
                .insert("authorization", auth.parse().expect("ascii"));
        }
        parts
    }

    fn check(parts: &Parts, body: &[u8]) -> Result<(), SigV4Error> {
        verify(&parse(parts)?, parts, body, SECRET, at())
    }

    #[test]
    fn signed_content_sha256_is_the_payload_hash_and_must_match_the_body() {
        let hash = crypto::sha256_hex(b"{}");
        for presigned in [false, true] {
            let parts = signed_parts(presigned, &hash, b"{}");
            assert_eq!(check(&parts, b"{}"), Ok(()));
            assert_eq!(check(&parts, b"[]"), Err(SigV4Error::SignatureMismatch));
        }
        let upper = signed_parts(false, &hash.to_ascii_uppercase(), b"{}");
        assert_eq!(check(&upper, b"{}"), Ok(()));
    }

    #[test]
    fn signed_headers_are_canonicalised_sorted_and_lower_case() {
        // A client that signs its headers in another order (or case) than the canonical one
        // computed a canonical request AWS does not rebuild: SignatureDoesNotMatch.
        let hash = crypto::sha256_hex(b"{}");
        for (list, ok) in [
            ("host;x-amz-content-sha256;x-amz-date", true),
            ("x-amz-date;host;x-amz-content-sha256", false),
            ("Host;X-Amz-Content-Sha256;X-Amz-Date", false),
        ] {
            let mut parts = http::Request::builder()
                .method("POST")
                .uri("/")
                .header("host", "kms.local")
                .header("x-amz-date", "20240101T000000Z")
                .header("x-amz-content-sha256", &hash)
                .body(())
                .expect("valid request")
                .into_parts()
                .0;
            let names: Vec<&str> = list.split(';').collect();
            let client_canonical = canonical_request(&parts, &names, &hash)
                .expect("the client's canonical request")
                .replace(&names.join(";").to_ascii_lowercase(), list);
            let signature = crypto::signature_hex(
                SECRET,
                "20240101",
                "us-east-1",
                "kms",
                &string_to_sign("20240101T000000Z", SCOPE, &client_canonical),
            );
            let auth = format!(
                "{ALGORITHM} Credential=AKID/{SCOPE}, SignedHeaders={list}, Signature={signature}"
            );
            parts
                .headers
                .insert("authorization", auth.parse().expect("ascii"));
            let req = parse(&parts).expect("parses");
            assert_eq!(
                req.signed_headers(),
                ["host", "x-amz-content-sha256", "x-amz-date"]
            );
            let expected = if ok {
                Ok(())
            } else {
                Err(SigV4Error::SignatureMismatch)
            };
            assert_eq!(check(&parts, b"{}"), expected, "{list}");
        }
    }

    #[test]
    fn unsigned_payload_is_never_accepted() {
        // Security review finding 12: a presigned DescribeKey signed with UNSIGNED-PAYLOAD ran
        // with whatever body its holder chose.
        for presigned in [true, false] {
            let parts = signed_parts(presigned, UNSIGNED_PAYLOAD, b"{}");
            assert_eq!(check(&parts, b"{}"), Err(SigV4Error::SignatureMismatch));
            assert_eq!(
                check(&parts, b"anything"),
                Err(SigV4Error::SignatureMismatch)
            );
        }
    }

    #[test]
    fn streaming_payloads_are_not_supported() {
        let parts = signed_parts(false, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", b"");
        assert!(matches!(check(&parts, b""), Err(SigV4Error::Incomplete(_))));
    }

    #[test]
    fn signature_comparison_is_exact_lower_case_hex() {
        let parts = signed_parts(false, &crypto::sha256_hex(b""), b"");
        assert_eq!(check(&parts, b""), Ok(()));
        let auth = parts.headers["authorization"].to_str().expect("ascii");
        let (head, signature) = auth.split_once("Signature=").expect("signature");
        for changed in [
            signature.to_ascii_uppercase(),
            format!("{signature}0"),
            signature[1..].to_owned(),
            String::new(),
        ] {
            let mut p = parts.clone();
            let value = format!("{head}Signature={changed}");
            p.headers
                .insert("authorization", value.parse().expect("ascii"));
            assert_eq!(
                check(&p, b""),
                Err(SigV4Error::SignatureMismatch),
                "{changed}"
            );
        }
    }
}
