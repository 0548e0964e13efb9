//! The canonical request and string to sign, as AWS specifies them for non-S3 services.
//!
//! Everything here is a pure function of the request as received, so the test suite can compare
//! each intermediate text with AWS's expected files. The path is taken in its wire (already
//! percent-encoded) form, normalised (dot segments removed, empty segments collapsed) and then
//! percent-encoded once more: that is the "double encoding" non-S3 services use.

use http::request::Parts;
use percent_encoding::{percent_decode_str, percent_encode, utf8_percent_encode, AsciiSet};

use crate::SigV4Error;

/// The only algorithm this verifier accepts.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Everything but the RFC 3986 unreserved characters `A-Z a-z 0-9 - . _ ~`.
const QUERY_ENCODE: &AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// As [`QUERY_ENCODE`], but `/` separates path segments and stays literal.
const PATH_ENCODE: &AsciiSet = &QUERY_ENCODE.remove(b'/');

/// The query parameter that carries a presigned signature; it is never itself signed.
const SIGNATURE_PARAM: &str = "X-Amz-Signature";

/// Builds the canonical request for `parts`, signing the headers named in `signed_headers`
/// (lower-case, in the order the client listed them) with the given payload hash.
///
/// The `host` header falls back to the URI authority when absent (HTTP/2 `:authority`).
/// A signed header missing from the request yields [`SigV4Error::SignatureMismatch`]: the client
/// signed a value the server did not receive.
pub fn canonical_request<S: AsRef<str>>(
    parts: &Parts,
    signed_headers: &[S],
    payload_hash: &str,
) -> Result<String, SigV4Error> {
    let mut out = String::with_capacity(256);
    out.push_str(parts.method.as_str());
    out.push('\n');
    out.push_str(&canonical_uri(parts.uri.path()));
    out.push('\n');
    out.push_str(&canonical_query(parts.uri.query().unwrap_or("")));
    out.push('\n');
    for name in signed_headers {
        let name = name.as_ref();
        out.push_str(name);
        out.push(':');
        out.push_str(&canonical_header_value(parts, name)?);
        out.push('\n');
    }
    out.push('\n');
    let names: Vec<&str> = signed_headers.iter().map(AsRef::as_ref).collect();
    out.push_str(&names.join(";"));
    out.push('\n');
    out.push_str(payload_hash);
    Ok(out)
}

/// The string to sign: algorithm, `yyyymmddThhmmssZ` timestamp, credential scope
/// (`date/region/service/aws4_request`) and the hex SHA-256 of the canonical request.
pub fn string_to_sign(timestamp: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{timestamp}\n{scope}\n{}",
        crate::crypto::sha256_hex(canonical_request.as_bytes())
    )
}

/// Normalises then encodes the wire path (see the module documentation).
pub(crate) fn canonical_uri(path: &str) -> String {
    utf8_percent_encode(&normalize_path(path), PATH_ENCODE).to_string()
}

/// RFC 3986 §5.2.4 dot-segment removal, also dropping empty segments (`//`), keeping a trailing
/// slash when the input ends in a slash or a dot segment. The result always starts with `/`.
fn normalize_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    out.push('/');
    out.push_str(&segments.join("/"));
    let trailing = path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..");
    if trailing && !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// Decodes each `name=value` pair, re-encodes it strictly, drops `X-Amz-Signature`, and sorts by
/// encoded name then encoded value. A `+` is a literal plus (encoded `%2B`), not a space.
pub(crate) fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name: Vec<u8> = percent_decode_str(name).collect();
            if name == SIGNATURE_PARAM.as_bytes() {
                return None;
            }
            let value: Vec<u8> = percent_decode_str(value).collect();
            Some((
                percent_encode(&name, QUERY_ENCODE).to_string(),
                percent_encode(&value, QUERY_ENCODE).to_string(),
            ))
        })
        .collect();
    pairs.sort();
    let joined: Vec<String> = pairs.into_iter().map(|(n, v)| format!("{n}={v}")).collect();
    joined.join("&")
}

/// All values of one header, each trimmed with inner runs of spaces collapsed, joined by `,` in
/// the order received.
fn canonical_header_value(parts: &Parts, name: &str) -> Result<String, SigV4Error> {
    let lower = name.to_ascii_lowercase();
    let mut values = Vec::new();
    for value in parts.headers.get_all(lower.as_str()) {
        let text = std::str::from_utf8(value.as_bytes()).map_err(|_| {
            SigV4Error::Incomplete(format!("Signed header '{lower}' is not valid UTF-8."))
        })?;
        values.push(trim_all(text));
    }
    if values.is_empty() {
        return match parts.uri.authority() {
            Some(authority) if lower == "host" => Ok(trim_all(authority.as_str())),
            _ => Err(SigV4Error::SignatureMismatch),
        };
    }
    Ok(values.join(","))
}

/// Trims spaces and tabs at both ends and collapses each inner run of spaces to one space.
fn trim_all(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut previous_space = false;
    for c in value.trim_matches([' ', '\t']).chars() {
        if c == ' ' {
            if !previous_space {
                out.push(c);
            }
            previous_space = true;
        } else {
            out.push(c);
            previous_space = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut builder = http::Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).expect("valid test request").into_parts().0
    }

    #[test]
    fn path_normalisation() {
        for (input, expected) in [
            ("", "/"),
            ("/", "/"),
            ("//", "/"),
            ("/./", "/"),
            ("/./example", "/example"),
            ("//example//", "/example/"),
            ("/example/..", "/"),
            ("/example1/example2/../..", "/"),
            ("/../a", "/a"),
            ("/a/b/.", "/a/b/"),
            ("/a/b/..", "/a/"),
            ("/a./b..", "/a./b.."),
        ] {
            assert_eq!(normalize_path(input), expected, "{input}");
        }
    }

    #[test]
    fn path_is_encoded_again() {
        assert_eq!(
            canonical_uri("/test/@connections/JBDvjfGEIAMCERw%3D"),
            "/test/%40connections/JBDvjfGEIAMCERw%253D"
        );
        assert_eq!(canonical_uri("/ሴ"), "/%E1%88%B4");
        assert_eq!(canonical_uri("/-._~az09"), "/-._~az09");
    }

    #[test]
    fn query_is_sorted_reencoded_and_drops_signature() {
        assert_eq!(canonical_query(""), "");
        assert_eq!(canonical_query("b=2&a=1&a=0"), "a=0&a=1&b=2");
        assert_eq!(canonical_query("Param1"), "Param1=");
        assert_eq!(canonical_query("a=%2f%7e&&c=x+y"), "a=%2F~&c=x%2By");
        assert_eq!(canonical_query("X-Amz-Signature=abc&z=1"), "z=1");
        // Sorting is by encoded name: `%E1...` sorts before `P`.
        assert_eq!(
            canonical_query("Param-3=Value3&Param=Value2&%E1%88%B4=Value1"),
            "%E1%88%B4=Value1&Param=Value2&Param-3=Value3"
        );
    }

    #[test]
    fn header_values_are_trimmed_and_joined() {
        let p = parts(
            "GET",
            "/",
            &[("my-header1", "  a   b  c "), ("x", "1"), ("x", "2")],
        );
        assert_eq!(canonical_header_value(&p, "my-header1"), Ok("a b c".into()));
        assert_eq!(canonical_header_value(&p, "x"), Ok("1,2".into()));
        assert_eq!(trim_all("a\tb"), "a\tb");
        assert_eq!(
            canonical_header_value(&p, "absent"),
            Err(SigV4Error::SignatureMismatch)
        );
    }

    #[test]
    fn host_falls_back_to_uri_authority_for_http2() {
        let p = parts("POST", "https://127.0.0.1:4599/", &[]);
        assert_eq!(
            canonical_header_value(&p, "host"),
            Ok("127.0.0.1:4599".into())
        );
        let p = parts("POST", "/", &[]);
        assert_eq!(
            canonical_header_value(&p, "host"),
            Err(SigV4Error::SignatureMismatch)
        );
        let p = parts("POST", "https://ignored/", &[("host", "kms.local")]);
        assert_eq!(canonical_header_value(&p, "host"), Ok("kms.local".into()));
    }

    #[test]
    fn whole_canonical_request_shape() {
        let p = parts(
            "POST",
            "/?b=2&a=1",
            &[("host", "h"), ("x-amz-date", "20150830T123600Z")],
        );
        let creq = canonical_request(&p, &["host", "x-amz-date"], "abc").expect("canonical");
        assert_eq!(
            creq,
            "POST\n/\na=1&b=2\nhost:h\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\nabc"
        );
        assert_eq!(
            string_to_sign("20150830T123600Z", "20150830/r/s/aws4_request", "")
                .lines()
                .collect::<Vec<_>>(),
            [
                ALGORITHM,
                "20150830T123600Z",
                "20150830/r/s/aws4_request",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
            ]
        );
    }
}
