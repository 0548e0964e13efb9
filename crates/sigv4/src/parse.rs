//! Reading what a request claims about its signature, before any secret is looked up.
//!
//! Two locations are supported: the `Authorization: AWS4-HMAC-SHA256 Credential=...,
//! SignedHeaders=..., Signature=...` header, and presigned `X-Amz-*` query parameters. Checks that
//! need no secret and no clock (algorithm, scope shape, scope date against the request date, `host`
//! and `x-amz-date` being signed) happen here, so a malformed request fails fast.

use std::time::Duration;

use http::header::{AUTHORIZATION, DATE};
use http::request::Parts;
use http::HeaderValue;
use percent_encoding::percent_decode_str;

use crate::canonical::ALGORITHM;
use crate::clock::{format_amz_date, parse_amz_date, parse_http_date, MAX_EXPIRES_SECS};
use crate::{Location, SigV4Error, SignedRequest};

const X_AMZ_DATE: &str = "x-amz-date";
const X_AMZ_SECURITY_TOKEN: &str = "x-amz-security-token";
const MISSING_DATE: &str =
    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.";

/// Extracts the claimed identity, scope, time and signature from `parts`.
///
/// Returns [`SigV4Error::MissingAuthentication`] when the request carries neither an
/// `Authorization` header nor `X-Amz-Algorithm`/`X-Amz-Signature` query parameters.
pub fn parse(parts: &Parts) -> Result<SignedRequest, SigV4Error> {
    let params = query_params(parts.uri.query().unwrap_or(""));
    let presigned = params
        .iter()
        .any(|(name, _)| name == "X-Amz-Algorithm" || name == "X-Amz-Signature");
    let headers: Vec<&HeaderValue> = parts.headers.get_all(AUTHORIZATION).iter().collect();
    match (headers.as_slice(), presigned) {
        ([], false) => Err(SigV4Error::MissingAuthentication),
        ([], true) => from_query(parts, &params),
        ([header], false) => from_header(parts, header),
        (_, true) => Err(incomplete(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the \
             Authorization header should be specified.",
        )),
        (_, false) => Err(incomplete("Found multiple Authorization headers.")),
    }
}

fn from_header(parts: &Parts, value: &HeaderValue) -> Result<SignedRequest, SigV4Error> {
    let text = value
        .to_str()
        .map_err(|_| incomplete("Authorization header is not valid ASCII."))?
        .trim();
    let (algorithm, fields) = text.split_once(' ').unwrap_or((text, ""));
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for field in fields.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        let Some((key, value)) = field.split_once('=') else {
            return Err(SigV4Error::Incomplete(format!(
                "'{field}' not a valid key=value pair (missing equal-sign) in Authorization \
                 header: '{text}'."
            )));
        };
        let slot = match key.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => continue,
        };
        if slot.replace(value.trim().to_owned()).is_some() {
            return Err(SigV4Error::Incomplete(format!(
                "Authorization header has more than one '{}' parameter.",
                key.trim()
            )));
        }
    }
    let amz_date = single_header(parts, X_AMZ_DATE)?;
    let date = single_header(parts, DATE.as_str())?;
    let mut missing = String::new();
    for (name, value) in [
        ("Credential", &credential),
        ("Signature", &signature),
        ("SignedHeaders", &signed_headers),
    ] {
        if value.is_none() {
            missing.push_str(&format!(
                "Authorization header requires '{name}' parameter. "
            ));
        }
    }
    if amz_date.is_none() && date.is_none() {
        missing.push_str(MISSING_DATE);
        missing.push(' ');
    }
    let (Some(credential), Some(signed_headers), Some(signature), true) =
        (credential, signed_headers, signature, missing.is_empty())
    else {
        return Err(SigV4Error::Incomplete(format!(
            "{missing}Authorization={text}"
        )));
    };
    if algorithm != ALGORITHM {
        return Err(SigV4Error::Incomplete(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'."
        )));
    }
    let (timestamp, request_time) = match (amz_date, date) {
        (Some(v), _) => (v.to_owned(), parse_amz_date(v).ok_or_else(|| bad_date(v))?),
        (None, Some(v)) => {
            let t = parse_http_date(v).ok_or_else(|| {
                SigV4Error::Incomplete(format!("Date header '{v}' could not be parsed."))
            })?;
            (format_amz_date(t), t)
        }
        (None, None) => return Err(incomplete(MISSING_DATE)),
    };
    let signed_headers = split_signed_headers(&signed_headers)?;
    if amz_date.is_some() && !contains(&signed_headers, X_AMZ_DATE) {
        return Err(incomplete(
            "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    let session_token = single_header(parts, X_AMZ_SECURITY_TOKEN)?.map(str::to_owned);
    finish(Claims {
        credential: &credential,
        timestamp,
        request_time,
        signed_headers,
        signature,
        session_token,
        location: Location::Header,
    })
}

fn from_query(parts: &Parts, params: &[(String, String)]) -> Result<SignedRequest, SigV4Error> {
    let algorithm = single_param(params, "X-Amz-Algorithm")?;
    let credential = single_param(params, "X-Amz-Credential")?;
    let amz_date = single_param(params, "X-Amz-Date")?;
    let signed_headers = single_param(params, "X-Amz-SignedHeaders")?;
    let signature = single_param(params, "X-Amz-Signature")?;
    let (Some(algorithm), Some(credential), Some(amz_date), Some(signed_headers), Some(signature)) =
        (algorithm, credential, amz_date, signed_headers, signature)
    else {
        return Err(incomplete(
            "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', \
             'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders'. \
             Re-examine the query-string parameters.",
        ));
    };
    if algorithm != ALGORITHM {
        return Err(SigV4Error::Incomplete(format!(
            "X-Amz-Algorithm only supports '{ALGORITHM}', not '{algorithm}'."
        )));
    }
    let request_time = parse_amz_date(amz_date).ok_or_else(|| bad_date(amz_date))?;
    let expires = match single_param(params, "X-Amz-Expires")? {
        None => None,
        Some(v) => match v.parse::<u64>() {
            Ok(secs) if secs <= MAX_EXPIRES_SECS => Some(Duration::from_secs(secs)),
            Ok(_) => {
                return Err(incomplete(
                    "X-Amz-Expires must be less than a week (in seconds) that is 604800.",
                ))
            }
            Err(_) => return Err(incomplete("X-Amz-Expires should be a number.")),
        },
    };
    let session_token = match single_param(params, "X-Amz-Security-Token")? {
        Some(token) => Some(token.to_owned()),
        None => single_header(parts, X_AMZ_SECURITY_TOKEN)?.map(str::to_owned),
    };
    finish(Claims {
        credential,
        timestamp: amz_date.to_owned(),
        request_time,
        signed_headers: split_signed_headers(signed_headers)?,
        signature: signature.to_owned(),
        session_token,
        location: Location::Query { expires },
    })
}

/// What both locations yield before the shared checks.
struct Claims<'a> {
    credential: &'a str,
    timestamp: String,
    request_time: std::time::SystemTime,
    signed_headers: Vec<String>,
    signature: String,
    session_token: Option<String>,
    location: Location,
}

fn finish(claims: Claims<'_>) -> Result<SignedRequest, SigV4Error> {
    let [access_key_id, date, region, service, terminator] = split_credential(claims.credential)?;
    if terminator != "aws4_request" {
        return Err(SigV4Error::Incomplete(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not \
             '{terminator}'."
        )));
    }
    if access_key_id.is_empty() {
        return Err(incomplete(
            "Credential should have a non-empty access key id.",
        ));
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SigV4Error::Incomplete(format!(
            "Credential date '{date}' is not in yyyyMMdd format."
        )));
    }
    if region.is_empty() {
        return Err(incomplete("Credential should be scoped to a valid region."));
    }
    if service.is_empty() {
        return Err(incomplete(
            "Credential should be scoped to correct service.",
        ));
    }
    // The scope date must be the day of the signed timestamp; otherwise the client signed with a
    // key for another day and no signature we compute can match.
    if claims.timestamp.get(..8) != Some(date) {
        return Err(SigV4Error::SignatureMismatch);
    }
    if !contains(&claims.signed_headers, "host") {
        return Err(incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    Ok(SignedRequest {
        access_key_id: access_key_id.to_owned(),
        date: date.to_owned(),
        region: region.to_owned(),
        service: service.to_owned(),
        session_token: claims.session_token,
        request_time: claims.request_time,
        timestamp: claims.timestamp,
        signed_headers: claims.signed_headers,
        signature: claims.signature,
        location: claims.location,
    })
}

fn split_credential(credential: &str) -> Result<[&str; 5], SigV4Error> {
    let elements: Vec<&str> = credential.split('/').collect();
    <[&str; 5]>::try_from(elements).map_err(|_| {
        SigV4Error::Incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. \
             keyid/date/region/service/term, got '{credential}'."
        ))
    })
}

/// The names of `SignedHeaders`, in canonical form: lower-case and sorted, as AWS rebuilds the
/// canonical request whatever order or case the client listed (so a signature computed over
/// another order does not match, as at AWS).
fn split_signed_headers(list: &str) -> Result<Vec<String>, SigV4Error> {
    let mut names: Vec<String> = list.split(';').map(str::to_ascii_lowercase).collect();
    if names.iter().any(|n| n.is_empty() || n.trim() != n) {
        return Err(SigV4Error::Incomplete(format!(
            "SignedHeaders '{list}' contains an empty or padded header name."
        )));
    }
    // A name listed twice would sign one header value twice; AWS refuses such a list.
    for (i, name) in names.iter().enumerate() {
        if names[..i].iter().any(|n| n.eq_ignore_ascii_case(name)) {
            let shown: String = name.chars().take(64).collect();
            return Err(SigV4Error::Incomplete(format!(
                "SignedHeaders names '{shown}' more than once."
            )));
        }
    }
    names.sort_unstable();
    Ok(names)
}

fn contains(signed_headers: &[String], name: &str) -> bool {
    signed_headers.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// The one value of a header, if present; several values or non-ASCII text are malformed.
fn single_header<'p>(parts: &'p Parts, name: &str) -> Result<Option<&'p str>, SigV4Error> {
    let mut values = parts.headers.get_all(name).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        if parts.headers.contains_key(name) {
            return Err(SigV4Error::Incomplete(format!(
                "Found multiple '{name}' headers."
            )));
        }
        return Ok(None);
    };
    value
        .to_str()
        .map(|v| Some(v.trim()))
        .map_err(|_| SigV4Error::Incomplete(format!("Header '{name}' is not valid ASCII.")))
}

/// The query string as decoded `(name, value)` pairs; undecodable UTF-8 is replaced, which can
/// only make a signature fail, never pass.
fn query_params(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (
                percent_decode_str(name).decode_utf8_lossy().into_owned(),
                percent_decode_str(value).decode_utf8_lossy().into_owned(),
            )
        })
        .collect()
}

fn single_param<'q>(
    params: &'q [(String, String)],
    name: &str,
) -> Result<Option<&'q str>, SigV4Error> {
    let mut values = params.iter().filter(|(n, _)| n == name);
    match (values.next(), values.next()) {
        (None, _) => Ok(None),
        (Some((_, value)), None) => Ok(Some(value)),
        (Some(_), Some(_)) => Err(SigV4Error::Incomplete(format!(
            "Query parameter '{name}' appears more than once."
        ))),
    }
}

fn bad_date(value: &str) -> SigV4Error {
    SigV4Error::Incomplete(format!(
        "Date must be in ISO-8601 'basic format'. Got '{value}'. \
         See http://en.wikipedia.org/wiki/ISO_8601"
    ))
}

fn incomplete(message: &str) -> SigV4Error {
    SigV4Error::Incomplete(message.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CREDENTIAL: &str = "AKIDEXAMPLE/20150830/us-east-1/kms/aws4_request";

    fn parts(uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut builder = http::Request::builder().method("POST").uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).expect("valid test request").into_parts().0
    }

    fn authorization(credential: &str, signed: &str) -> String {
        format!("AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={signed}, Signature=abcd")
    }

    fn header_request(auth: &str) -> Parts {
        parts(
            "/",
            &[
                ("host", "kms.local"),
                ("x-amz-date", "20150830T123600Z"),
                ("authorization", auth),
            ],
        )
    }

    fn incomplete_message(result: Result<SignedRequest, SigV4Error>) -> String {
        match result {
            Err(SigV4Error::Incomplete(message)) => message,
            other => panic!("expected Incomplete, got {other:?}"),
        }
    }

    #[test]
    fn a_header_named_twice_in_signed_headers_is_refused() {
        for list in ["host;x-amz-date;host", "host;x-amz-date;X-Amz-Date"] {
            let message =
                incomplete_message(parse(&header_request(&authorization(CREDENTIAL, list))));
            assert!(message.contains("more than once"), "{message}");
        }
    }

    #[test]
    fn no_authentication_at_all() {
        let p = parts("/?a=b", &[("host", "kms.local")]);
        assert_eq!(parse(&p), Err(SigV4Error::MissingAuthentication));
    }

    #[test]
    fn header_fields_are_extracted() {
        let auth = authorization(CREDENTIAL, "host;x-amz-date;x-amz-security-token");
        let mut p = header_request(&auth);
        p.headers
            .insert("x-amz-security-token", "tok".parse().expect("ascii"));
        let req = parse(&p).expect("parses");
        assert_eq!(req.access_key_id, "AKIDEXAMPLE");
        assert_eq!(req.date, "20150830");
        assert_eq!(req.region, "us-east-1");
        assert_eq!(req.service, "kms");
        assert_eq!(req.session_token.as_deref(), Some("tok"));
        assert_eq!(req.scope(), "20150830/us-east-1/kms/aws4_request");
        assert!(req.is_header_signed("X-Amz-Security-Token"));
        assert!(!req.is_presigned());
        assert_eq!(req.signature, "abcd");
        assert_eq!(
            crate::clock::format_amz_date(req.request_time),
            "20150830T123600Z"
        );
        let debug = format!("{req:?}");
        assert!(
            debug.contains("<redacted>") && !debug.contains("tok\""),
            "{debug}"
        );
    }

    #[test]
    fn garbage_header_lists_what_is_missing() {
        let p = parts("/", &[("host", "kms.local"), ("authorization", "garbage")]);
        assert_eq!(
            incomplete_message(parse(&p)),
            "Authorization header requires 'Credential' parameter. \
             Authorization header requires 'Signature' parameter. \
             Authorization header requires 'SignedHeaders' parameter. \
             Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. \
             Authorization=garbage"
        );
    }

    #[test]
    fn malformed_headers_are_incomplete() {
        for auth in [
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/kms/aws4_request, Signature=ab"
                .to_owned(),
            "AWS4-HMAC-SHA256 garbage".to_owned(),
            authorization(CREDENTIAL, "host;x-amz-date").replace("SHA256", "SHA512"),
            authorization("AKID/20150830/us-east-1/kms", "host;x-amz-date"),
            authorization(
                "AKID/20150830/us-east-1/kms/aws5_request",
                "host;x-amz-date",
            ),
            authorization("/20150830/us-east-1/kms/aws4_request", "host;x-amz-date"),
            authorization("AKID/2015083/us-east-1/kms/aws4_request", "host;x-amz-date"),
            authorization("AKID/20150830//kms/aws4_request", "host;x-amz-date"),
            authorization("AKID/20150830/us-east-1//aws4_request", "host;x-amz-date"),
            authorization(CREDENTIAL, "host;;x-amz-date"),
            authorization(CREDENTIAL, "x-amz-date"),
            authorization(CREDENTIAL, "host"),
            format!(
                "{}, Signature=again",
                authorization(CREDENTIAL, "host;x-amz-date")
            ),
        ] {
            let result = parse(&header_request(&auth));
            assert!(
                matches!(result, Err(SigV4Error::Incomplete(_))),
                "{auth}: {result:?}"
            );
        }
    }

    #[test]
    fn scope_date_must_be_the_request_day() {
        let auth = authorization(
            "AKID/20150831/us-east-1/kms/aws4_request",
            "host;x-amz-date",
        );
        assert_eq!(
            parse(&header_request(&auth)),
            Err(SigV4Error::SignatureMismatch)
        );
    }

    #[test]
    fn bad_amz_date_is_incomplete() {
        let auth = authorization(CREDENTIAL, "host;x-amz-date");
        let mut p = header_request(&auth);
        p.headers
            .insert("x-amz-date", "2015-08-30T12:36:00Z".parse().expect("ascii"));
        assert!(incomplete_message(parse(&p)).starts_with("Date must be in ISO-8601"));
    }

    #[test]
    fn date_header_is_the_fallback() {
        let auth = authorization(CREDENTIAL, "date;host");
        let p = parts(
            "/",
            &[
                ("host", "kms.local"),
                ("date", "Sun, 30 Aug 2015 12:36:00 GMT"),
                ("authorization", &auth),
            ],
        );
        let req = parse(&p).expect("parses");
        assert_eq!(req.timestamp, "20150830T123600Z");
    }

    #[test]
    fn header_and_query_together_are_rejected() {
        let auth = authorization(CREDENTIAL, "host;x-amz-date");
        let mut p = header_request(&auth);
        p.uri = "/?X-Amz-Signature=abcd".parse().expect("uri");
        assert!(incomplete_message(parse(&p)).starts_with("Only one auth mechanism"));
    }

    fn presigned(extra: &str) -> Result<SignedRequest, SigV4Error> {
        let uri = format!(
            "/?X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fkms%2Faws4_request\
             &X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Signature=abcd{extra}"
        );
        parse(&parts(&uri, &[("host", "kms.local")]))
    }

    #[test]
    fn query_fields_are_extracted() {
        let req = presigned("&X-Amz-Expires=300&X-Amz-Security-Token=a%2Fb").expect("parses");
        assert!(req.is_presigned());
        assert_eq!(req.access_key_id, "AKIDEXAMPLE");
        assert_eq!(req.session_token.as_deref(), Some("a/b"));
        assert_eq!(
            req.location,
            Location::Query {
                expires: Some(Duration::from_secs(300))
            }
        );
    }

    #[test]
    fn malformed_queries_are_incomplete() {
        for extra in [
            "&X-Amz-Expires=604801",
            "&X-Amz-Expires=soon",
            "&X-Amz-Signature=again",
        ] {
            assert!(
                matches!(presigned(extra), Err(SigV4Error::Incomplete(_))),
                "{extra}"
            );
        }
        let p = parts("/?X-Amz-Signature=abcd", &[("host", "kms.local")]);
        assert!(incomplete_message(parse(&p)).starts_with("AWS query-string parameters"));
        let p = parts("/?X-Amz-Algorithm=HMAC", &[("host", "kms.local")]);
        assert!(matches!(parse(&p), Err(SigV4Error::Incomplete(_))));
    }
}
