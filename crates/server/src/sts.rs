//! The part of AWS STS that SDK users reach for first: GetCallerIdentity, over STS's Query
//! protocol (form-encoded POST, XML answer), signed for service `sts`. Other actions are answered
//! with STS's own error for an action it does not know.

use crate::http::App;
use ferrokms_core::Caller;
use ferrokms_types::KmsError;
use http::request::Parts;

const VERSION: &str = "2011-06-15";
const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// Whether a request is for STS rather than KMS: a form body and no `X-Amz-Target`.
pub fn is_sts(parts: &Parts) -> bool {
    let form = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    form && !parts.headers.contains_key("x-amz-target")
}

/// Answers an STS request: the status and the XML body.
pub async fn serve(app: &App, parts: &Parts, body: &[u8], request_id: &str) -> (u16, String) {
    match run(app, parts, body).await {
        Ok(caller) => (200, identity_xml(&caller, request_id)),
        Err((status, code, message)) => (status, error_xml(code, &message, request_id)),
    }
}

type StsError = (u16, &'static str, String);

async fn run(app: &App, parts: &Parts, body: &[u8]) -> Result<Caller, StsError> {
    let caller = app
        .auth
        .authenticate(parts, body, "sts")
        .await
        .map_err(auth_error)?;
    let form = parse_form(body);
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let (action, version) = (
        field("Action").unwrap_or_default(),
        field("Version").unwrap_or(VERSION),
    );
    if action == "GetCallerIdentity" && version == VERSION {
        return Ok(caller);
    }
    Err((
        400,
        "InvalidAction",
        format!("Could not find operation {action} for version {version}"),
    ))
}

/// STS's names for the authentication failures.
fn auth_error(e: KmsError) -> StsError {
    let message = e.message().to_string();
    match e {
        KmsError::UnrecognizedClient(_) => (403, "InvalidClientTokenId", message),
        KmsError::InvalidSignature(_) => (403, "SignatureDoesNotMatch", message),
        KmsError::IncompleteSignature(_) => (400, "IncompleteSignature", message),
        KmsError::MissingAuthenticationToken(_) => (403, "MissingAuthenticationToken", message),
        _ => (
            500,
            "InternalFailure",
            "An internal error occurred.".to_string(),
        ),
    }
}

/// A stable, AWS-looking unique id for a user: `AIDA` and 16 characters derived from its ARN.
fn user_id(arn: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let digest = ferrokms_crypto::sha256(arn.as_bytes());
    let tail: String = digest
        .iter()
        .take(16)
        .map(|b| ALPHABET[(*b as usize) % 32] as char)
        .collect();
    format!("AIDA{tail}")
}

fn identity_xml(caller: &Caller, request_id: &str) -> String {
    format!(
        "<GetCallerIdentityResponse xmlns=\"{NAMESPACE}\">\n  <GetCallerIdentityResult>\n    <Arn>{}</Arn>\n    <UserId>{}</UserId>\n    <Account>{}</Account>\n  </GetCallerIdentityResult>\n  <ResponseMetadata>\n    <RequestId>{}</RequestId>\n  </ResponseMetadata>\n</GetCallerIdentityResponse>\n",
        escape(&caller.principal_arn),
        user_id(&caller.principal_arn),
        escape(&caller.account_id),
        escape(request_id)
    )
}

fn error_xml(code: &str, message: &str, request_id: &str) -> String {
    let kind = if code == "InternalFailure" {
        "Receiver"
    } else {
        "Sender"
    };
    format!(
        "<ErrorResponse xmlns=\"{NAMESPACE}\">\n  <Error>\n    <Type>{kind}</Type>\n    <Code>{code}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{}</RequestId>\n</ErrorResponse>\n",
        escape(message),
        escape(request_id)
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `application/x-www-form-urlencoded`: `+` is a space, `%XX` a byte.
fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let spaced = s.replace('+', " ");
        percent_encoding::percent_decode_str(&spaced)
            .decode_utf8_lossy()
            .into_owned()
    };
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode_as_browsers_encode_them() {
        let form = parse_form(b"Action=GetCallerIdentity&Version=2011-06-15&X=a+b%2Fc");
        assert_eq!(form[0], ("Action".into(), "GetCallerIdentity".into()));
        assert_eq!(form[2], ("X".into(), "a b/c".into()));
    }

    #[test]
    fn user_ids_are_stable_and_look_like_aws() {
        let id = user_id("arn:aws:iam::111122223333:user/admin");
        assert_eq!(id, user_id("arn:aws:iam::111122223333:user/admin"));
        assert_ne!(id, user_id("arn:aws:iam::111122223333:user/bob"));
        assert_eq!(id.len(), 20);
        assert!(id.starts_with("AIDA"));
    }

    #[test]
    fn xml_is_escaped() {
        assert_eq!(escape("a<b>&\"c"), "a&lt;b&gt;&amp;&quot;c");
    }
}
