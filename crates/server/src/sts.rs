//! The part of AWS STS that SDK users reach for: GetCallerIdentity, and AssumeRole for temporary
//! credentials (see `ferrokms_core::iam::sessions`), over STS's Query protocol (form-encoded POST, XML
//! answer), signed for service `sts`. Other actions are answered with STS's own error for an
//! action it does not know.

use crate::app::{App, Exchange};
use ferrokms_core::iam::sessions::{self, AssumeRoleRequest, IssuedSession};
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

/// Answers an STS request: the status, the XML body and the outcome (`ok` or the error code).
pub async fn serve(
    app: &App,
    parts: &Parts,
    body: &[u8],
    request_id: &str,
    exchange: &mut Exchange,
) -> (u16, String, &'static str) {
    match run(app, parts, body, exchange).await {
        Ok(Answer::Identity(caller)) => (200, identity_xml(&caller, request_id), "ok"),
        Ok(Answer::Session(session)) => (200, session_xml(&session, request_id), "ok"),
        Err((status, code, message)) => {
            let xml = error_xml(code, &message, request_id);
            exchange.error_message = Some(message);
            (status, xml, code)
        }
    }
}

enum Answer {
    Identity(Caller),
    Session(IssuedSession),
}

type StsError = (u16, &'static str, String);

async fn run(
    app: &App,
    parts: &Parts,
    body: &[u8],
    exchange: &mut Exchange,
) -> Result<Answer, StsError> {
    let form = parse_form(body);
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.to_string())
    };
    let action = field("Action").unwrap_or_default();
    exchange.operation = crate::operation::recorded_sts(&action);
    let caller = app
        .auth
        .authenticate(parts, body, "sts")
        .await
        .map_err(auth_error)?;
    exchange.caller = Some(caller.clone());
    let version = field("Version").unwrap_or_else(|| VERSION.into());
    match (action.as_str(), version == VERSION) {
        ("GetCallerIdentity", true) => Ok(Answer::Identity(caller)),
        ("AssumeRole", true) => {
            if field("PolicyArns.member.1.arn").is_some() {
                return Err((
                    400,
                    "ValidationError",
                    "PolicyArns: ferrokms has no managed policies; pass an inline Policy".into(),
                ));
            }
            exchange.audit = Some(assume_role_facts(&form));
            let request = AssumeRoleRequest {
                role_arn: field("RoleArn"),
                role_session_name: field("RoleSessionName"),
                duration_seconds: field("DurationSeconds"),
                policy: field("Policy"),
            };
            sessions::assume_role(&app.kms, &caller, &request)
                .await
                .map(Answer::Session)
                .map_err(action_error)
        }
        _ => Err((
            400,
            "InvalidAction",
            // Both come from the unauthenticated body: cut, so an answer and its audit event
            // stay small.
            format!(
                "Could not find operation {} for version {}",
                cut(&action),
                cut(&version)
            ),
        )),
    }
}

/// At most 64 characters of a client's text, for an error message.
fn cut(text: &str) -> String {
    text.chars().take(64).collect()
}

/// AssumeRole's audit facts: the role, session name and duration (the session policy and the
/// credentials stay out).
fn assume_role_facts(form: &[(String, String)]) -> ferrokms_core::audit::AuditFacts {
    let mut parameters = serde_json::Map::new();
    for (field, name) in [
        ("RoleArn", "roleArn"),
        ("RoleSessionName", "roleSessionName"),
        ("DurationSeconds", "durationSeconds"),
    ] {
        if let Some((_, value)) = form.iter().find(|(k, _)| k == field) {
            parameters.insert(name.into(), serde_json::Value::String(value.clone()));
        }
    }
    ferrokms_core::audit::AuditFacts {
        operation: "AssumeRole".into(),
        read_only: false,
        request_parameters: Some(serde_json::Value::Object(parameters)),
        ..Default::default()
    }
}

/// STS's names for the failures of an action.
fn action_error(e: KmsError) -> StsError {
    let message = e.message().to_string();
    match e {
        KmsError::AccessDenied(_) => (403, "AccessDenied", message),
        KmsError::Validation(_) => (400, "ValidationError", message),
        KmsError::MalformedPolicyDocument(_) => (400, "MalformedPolicyDocument", message),
        other => auth_error(other),
    }
}

/// STS's names for the authentication failures.
fn auth_error(e: KmsError) -> StsError {
    let message = e.message().to_string();
    match e {
        KmsError::UnrecognizedClient(_) => (403, "InvalidClientTokenId", message),
        KmsError::ExpiredToken(_) => (400, "ExpiredToken", message),
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

/// The UserId STS shows: `AIDA…` for a user, `AROA…:<session>` for a role session.
fn user_id(caller: &Caller) -> String {
    caller.principal_id()
}

fn identity_xml(caller: &Caller, request_id: &str) -> String {
    format!(
        "<GetCallerIdentityResponse xmlns=\"{NAMESPACE}\">\n  <GetCallerIdentityResult>\n    <Arn>{}</Arn>\n    <UserId>{}</UserId>\n    <Account>{}</Account>\n  </GetCallerIdentityResult>\n  <ResponseMetadata>\n    <RequestId>{}</RequestId>\n  </ResponseMetadata>\n</GetCallerIdentityResponse>\n",
        escape(&caller.principal_arn),
        user_id(caller),
        escape(&caller.account_id),
        escape(request_id)
    )
}

fn session_xml(session: &IssuedSession, request_id: &str) -> String {
    let expiration = time::OffsetDateTime::from_unix_timestamp(session.expires_ms / 1000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    // The secret is base64 text made by ferrokms; it needs no escaping, but gets it anyway.
    let secret = String::from_utf8_lossy(session.secret_access_key.expose());
    format!(
        "<AssumeRoleResponse xmlns=\"{NAMESPACE}\">\n  <AssumeRoleResult>\n    <Credentials>\n      <AccessKeyId>{}</AccessKeyId>\n      <SecretAccessKey>{}</SecretAccessKey>\n      <SessionToken>{}</SessionToken>\n      <Expiration>{}</Expiration>\n    </Credentials>\n    <AssumedRoleUser>\n      <AssumedRoleId>{}</AssumedRoleId>\n      <Arn>{}</Arn>\n    </AssumedRoleUser>\n  </AssumeRoleResult>\n  <ResponseMetadata>\n    <RequestId>{}</RequestId>\n  </ResponseMetadata>\n</AssumeRoleResponse>\n",
        escape(&session.access_key_id),
        escape(&secret),
        escape(&session.session_token),
        expiration,
        escape(&session.assumed_role_id),
        escape(&session.assumed_role_arn),
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
        let user = |arn: &str| {
            user_id(&Caller {
                principal_arn: arn.into(),
                ..Caller::default()
            })
        };
        let id = user("arn:aws:iam::111122223333:user/admin");
        assert_eq!(id, user("arn:aws:iam::111122223333:user/admin"));
        assert_ne!(id, user("arn:aws:iam::111122223333:user/bob"));
        assert_eq!(id.len(), 20);
        assert!(id.starts_with("AIDA"));
    }

    #[test]
    fn xml_is_escaped() {
        assert_eq!(escape("a<b>&\"c"), "a&lt;b&gt;&amp;&quot;c");
    }
}
