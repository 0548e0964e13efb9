//! The server's side of the audit trail (the `ferrokms-audit` crate keeps the files): the audit
//! signing key in the data dir, and one CloudTrail-shaped event per request, success or failure —
//! authentication failures and denials included — written durably before the answer leaves.
//!
//! Each node keeps its own trail in DATA_DIR/audit, signed with its own key: the private key is
//! stored only wrapped under the root key (DATA_DIR/audit-signing.key); the public key is
//! exported as DATA_DIR/audit/audit-public-key.pem for anyone who verifies the trail.

use crate::app::Exchange;
use crate::data_dir;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ferrokms_audit::{
    AuditError, AuditEvent, AuditLog, AuditOptions, AuditSigningKey, CheckpointExpectation,
    Resource, UserIdentity,
};
use ferrokms_core::service_events::{ServiceEvent, ServiceEvents};
use ferrokms_core::Caller;
use ferrokms_crypto::{AuditKeyState as KeyFile, RootSecrets, SecretBytes};
use http::request::Parts;
use std::path::{Path, PathBuf};

/// The wrapped audit signing key. Its wrapping says whether the trail has a checkpoint
/// ([`KeyFile`]): versions before the checkpoint wrote a "legacy" key file; the first start since
/// then writes the checkpoint and rewraps the key as "checkpointed".
pub const SIGNING_KEY_FILE: &str = "audit-signing.key";
/// What a checkpointed key file starts with (a legacy one is the bare base64).
const CHECKPOINTED_PREFIX: &str = "checkpointed ";
/// The longest User-Agent recorded.
const MAX_USER_AGENT: usize = 1024;

/// Where a data dir's audit trail lives.
pub fn audit_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("audit")
}

/// Opens the data dir's audit trail, creating its signing key on first start. A trail that lost
/// acknowledged records (or its checkpoint) refuses to open unless `accept_tail_loss`.
pub async fn open(
    data_dir: &Path,
    root: &RootSecrets,
    accept_tail_loss: bool,
) -> Result<AuditLog, String> {
    let (signer, state, pkcs8) = load_or_create_signing_key(data_dir, root)?;
    let options = AuditOptions {
        accept_tail_loss,
        checkpoint: match state {
            KeyFile::Legacy => CheckpointExpectation::NotYetWritten,
            KeyFile::Checkpointed => CheckpointExpectation::Required,
        },
        ..AuditOptions::default()
    };
    let log = AuditLog::open(&audit_dir(data_dir), signer, options)
        .await
        .map_err(|e| match e {
            AuditError::TailLost(_) => format!(
                "cannot open the audit trail: {e}. `ferrokms audit verify` shows what is \
                 missing; once you have seen it, start with --accept-audit-tail-loss to go on \
                 from what is left (the loss is then logged)"
            ),
            e => format!("cannot open the audit trail: {e}"),
        })?;
    if state == KeyFile::Legacy {
        // The checkpoint is written: from now on a missing one is a loss.
        write_signing_key(data_dir, root, pkcs8.expose(), KeyFile::Checkpointed, true)?;
    }
    Ok(log)
}

fn load_or_create_signing_key(
    data_dir: &Path,
    root: &RootSecrets,
) -> Result<(AuditSigningKey, KeyFile, SecretBytes), String> {
    let path = data_dir.join(SIGNING_KEY_FILE);
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let (state, encoded) = match text.trim().strip_prefix(CHECKPOINTED_PREFIX) {
            Some(rest) => (KeyFile::Checkpointed, rest),
            None => (KeyFile::Legacy, text.trim()),
        };
        let wrapped = STANDARD
            .decode(encoded)
            .map_err(|_| format!("{} is corrupt", path.display()))?;
        let pkcs8 = root
            .unwrap_audit_signing_key(state, &wrapped)
            .map_err(|_| format!("{} does not open with this root key", path.display()))?;
        let key = AuditSigningKey::from_pkcs8(pkcs8.expose()).map_err(|e| e.to_string())?;
        return Ok((key, state, pkcs8));
    }
    let (key, pkcs8) = AuditSigningKey::generate().map_err(|e| e.to_string())?;
    // Legacy until the trail's first checkpoint is on disk (`open` then rewraps it), so that a
    // crash before it does not leave a key that demands a checkpoint never written.
    write_signing_key(data_dir, root, pkcs8.expose(), KeyFile::Legacy, false)?;
    Ok((key, KeyFile::Legacy, pkcs8))
}

/// Writes the wrapped signing key; `replace` swaps it in whole (temporary file, rename, sync).
fn write_signing_key(
    data_dir: &Path,
    root: &RootSecrets,
    pkcs8: &[u8],
    state: KeyFile,
    replace: bool,
) -> Result<(), String> {
    let wrapped = root
        .wrap_audit_signing_key(state, pkcs8)
        .map_err(|e| e.to_string())?;
    let prefix = match state {
        KeyFile::Legacy => "",
        KeyFile::Checkpointed => CHECKPOINTED_PREFIX,
    };
    let text = format!("{prefix}{}", STANDARD.encode(wrapped));
    let path = data_dir.join(SIGNING_KEY_FILE);
    if !replace {
        return data_dir::write_private(&path, text.as_bytes()).map_err(|e| e.to_string());
    }
    data_dir::replace_private(&path, text.as_bytes()).map_err(|e| e.to_string())
}

/// The public key of the data dir's audit signing key (needs the root key, which an attacker
/// able to rewrite the trail's files does not have), and whether its trail must have a
/// checkpoint.
pub fn public_key(
    data_dir: &Path,
    root_key: &data_dir::RootKeySource,
) -> Result<(Vec<u8>, bool), String> {
    if !data_dir.join(SIGNING_KEY_FILE).exists() {
        return Err(format!(
            "no audit signing key in {} (has a server run there?)",
            data_dir.display()
        ));
    }
    let (root, _) =
        data_dir::load_or_create_root_key(data_dir, root_key).map_err(|e| e.to_string())?;
    let (_, secrets) = root.split();
    let (key, state, _) = load_or_create_signing_key(data_dir, &secrets)?;
    Ok((key.public_key_der(), state == KeyFile::Checkpointed))
}

/// How a request ended, for its event.
pub struct Ending<'a> {
    pub request_id: &'a str,
    /// `None` on success; the AWS error code and message otherwise.
    pub error: Option<(&'a str, String)>,
}

/// The event of one request.
pub fn event(parts: &Parts, exchange: &Exchange, ending: &Ending<'_>, now_ms: i64) -> AuditEvent {
    let facts = exchange.audit.as_ref();
    let caller = exchange.caller.as_ref();
    let (source, name) = match exchange.operation.strip_prefix("sts:") {
        Some(action) => ("sts.amazonaws.com", action.to_string()),
        None => (ferrokms_audit::EVENT_SOURCE, exchange.operation.clone()),
    };
    let resources: Vec<Resource> = facts
        .map(|f| {
            f.resources
                .iter()
                .map(|arn| Resource::kms_key(arn_account(arn), arn))
                .collect()
        })
        .unwrap_or_default();
    let caller_account = caller.map(|c| c.account_id.clone()).unwrap_or_default();
    let recipient = resources
        .first()
        .map(|r| r.account_id.clone())
        .unwrap_or_else(|| caller_account.clone());
    let user_identity = identity(parts, caller);
    // A request that did not authenticate names an access key id it has not proven to hold:
    // say so in the event, as CloudTrail does, so a reader does not take it for the caller.
    let additional_event_data = (caller.is_none() && user_identity.access_key_id.is_some())
        .then(|| serde_json::json!({ "signatureVerified": false }));
    AuditEvent {
        user_identity,
        event_time: rfc3339(now_ms),
        event_source: source.to_string(),
        event_name: name.clone(),
        aws_region: caller.map(|c| c.region.clone()).unwrap_or_default(),
        source_ip_address: parts
            .extensions
            .get::<ferrokms_core::Connection>()
            .map(|c| c.peer.ip().to_string())
            .unwrap_or_default(),
        user_agent: header(parts, "user-agent")
            .chars()
            .take(MAX_USER_AGENT)
            .collect(),
        request_parameters: facts.and_then(|f| f.request_parameters.clone()),
        response_elements: facts.and_then(|f| f.response_elements.clone()),
        request_id: ending.request_id.to_string(),
        event_id: random_uuid(),
        // A request the pipeline never reached (unauthenticated, or another service's) is
        // recorded as what the operation it named is; an unknown one changed nothing.
        read_only: facts.map_or_else(
            || ferrokms_core::registry::facts(&name).is_none_or(|f| f.read_only),
            |f| f.read_only,
        ),
        resources,
        recipient_account_id: recipient,
        error_code: ending.error.as_ref().map(|(code, _)| code.to_string()),
        error_message: ending.error.as_ref().map(|(_, m)| m.clone()),
        additional_event_data,
        ..AuditEvent::default()
    }
}

/// A random (version 4) UUID, for request and event ids, from the userspace generator: uuid's own
/// `new_v4` makes a system call per id.
pub fn random_uuid() -> String {
    let mut bytes = [0u8; 16];
    if let Ok(random) = ferrokms_crypto::random_bytes(16) {
        bytes.copy_from_slice(random.expose());
    }
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// The scheduler's work (deletion, automatic rotation, expiry of imported material) into the
/// audit trail, as CloudTrail records KMS's own actions.
pub struct TrailServiceEvents(pub AuditLog);

#[async_trait::async_trait]
impl ServiceEvents for TrailServiceEvents {
    async fn record(&self, event: ServiceEvent) -> Result<(), String> {
        self.0
            .append(&service_event(&event))
            .await
            .map_err(|e| e.to_string())
    }
}

/// A service event as CloudTrail shows one: invoked by KMS, no caller, no request.
pub fn service_event(event: &ServiceEvent) -> AuditEvent {
    const KMS: &str = ferrokms_audit::EVENT_SOURCE;
    AuditEvent {
        user_identity: UserIdentity {
            identity_type: "AWSService".into(),
            account_id: event.account_id.clone(),
            invoked_by: Some(KMS.into()),
            ..UserIdentity::default()
        },
        event_time: rfc3339(event.at_ms),
        event_name: event.name.into(),
        aws_region: event.region.clone(),
        source_ip_address: KMS.into(),
        user_agent: KMS.into(),
        event_id: random_uuid(),
        resources: vec![Resource::kms_key(&event.account_id, &event.key_arn)],
        event_type: ferrokms_audit::EVENT_TYPE_SERVICE_EVENT.into(),
        recipient_account_id: event.account_id.clone(),
        ..AuditEvent::default()
    }
}

/// CloudTrail's userIdentity: the authenticated caller, or for a request that did not
/// authenticate, the access key id it claimed (if any).
fn identity(parts: &Parts, caller: Option<&Caller>) -> UserIdentity {
    let Some(caller) = caller else {
        return UserIdentity {
            identity_type: "Unknown".into(),
            access_key_id: claimed_access_key(parts),
            ..UserIdentity::default()
        };
    };
    let identity_type = match &caller.session {
        Some(_) => "AssumedRole",
        None => "IAMUser",
    };
    let principal_id = caller.principal_id();
    UserIdentity {
        identity_type: identity_type.into(),
        principal_id,
        arn: caller.principal_arn.clone(),
        account_id: caller.account_id.clone(),
        access_key_id: Some(caller.access_key_id.clone()),
        invoked_by: None,
    }
}

/// The access key id in `Authorization: AWS4-HMAC-SHA256 Credential=<id>/...`, if well formed.
fn claimed_access_key(parts: &Parts) -> Option<String> {
    let auth = header(parts, "authorization");
    let rest = auth.split("Credential=").nth(1)?;
    let id = rest.split('/').next()?;
    (!id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| id.to_string())
}

fn header<'a>(parts: &'a Parts, name: &str) -> &'a str {
    parts
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// The account of a key ARN (`arn:aws:kms:<region>:<account>:key/<id>`).
fn arn_account(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or_default()
}

fn rfc3339(now_ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(now_ms / 1000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(headers: &[(&str, &str)]) -> Parts {
        let mut request = http::Request::builder().method("POST").uri("/");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(()).unwrap().into_parts().0
    }

    #[test]
    fn service_events_are_invoked_by_kms_with_the_key_as_resource() {
        let event = service_event(&ServiceEvent {
            name: ferrokms_core::service_events::ROTATE_KEY,
            key_arn: "arn:aws:kms:eu-west-1:111122223333:key/k".into(),
            account_id: "111122223333".into(),
            region: "eu-west-1".into(),
            at_ms: 1_700_000_000_000,
        });
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["eventType"], "AwsServiceEvent");
        assert_eq!(json["eventName"], "RotateKey");
        assert_eq!(json["userIdentity"]["invokedBy"], "kms.amazonaws.com");
        assert_eq!(json["userIdentity"]["accountId"], "111122223333");
        assert_eq!(json["awsRegion"], "eu-west-1");
        assert_eq!(json["eventTime"], "2023-11-14T22:13:20Z");
        assert_eq!(
            json["resources"][0]["ARN"],
            "arn:aws:kms:eu-west-1:111122223333:key/k"
        );
        assert_eq!(json["readOnly"], false);
        assert!(json["userIdentity"].get("accessKeyId").is_none());
    }

    #[test]
    fn unauthenticated_requests_name_the_claimed_key_only() {
        let p = parts(&[(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=00",
        )]);
        let who = identity(&p, None);
        assert_eq!(who.identity_type, "Unknown");
        assert_eq!(who.access_key_id.as_deref(), Some("AKIAEXAMPLE"));
        assert_eq!(identity(&parts(&[]), None).access_key_id, None);
    }

    #[test]
    fn events_carry_the_caller_keys_and_outcome() {
        let p = parts(&[("user-agent", "aws-cli/1")]);
        let exchange = Exchange {
            operation: "Encrypt".into(),
            caller: Some(Caller {
                principal_arn: "arn:aws:iam::111122223333:user/alice".into(),
                account_id: "111122223333".into(),
                access_key_id: "AKIAALICE".into(),
                region: "eu-west-1".into(),
                ..Caller::default()
            }),
            audit: Some(ferrokms_core::audit::AuditFacts {
                request_parameters: Some(serde_json::json!({"keyId": "k"})),
                ..ferrokms_core::audit::AuditFacts::of::<ferrokms_core::ops::encrypt::Encrypt>()
            }),
            error_message: None,
        };
        let ending = Ending {
            request_id: "req-1",
            error: Some(("AccessDeniedException", "no".into())),
        };
        let e = event(&p, &exchange, &ending, 1_700_000_000_000);
        assert_eq!(e.event_name, "Encrypt");
        assert_eq!(e.event_time, "2023-11-14T22:13:20Z");
        assert_eq!(e.aws_region, "eu-west-1");
        assert_eq!(e.user_identity.identity_type, "IAMUser");
        assert!(e.user_identity.principal_id.starts_with("AIDA"));
        assert_eq!(e.error_code.as_deref(), Some("AccessDeniedException"));
        assert_eq!(e.user_agent, "aws-cli/1");
        assert!(e.read_only);
        let text = serde_json::to_string(&e).unwrap();
        assert!(!text.contains("c2VjcmV0"), "{text}");
        assert!(text.contains("\"keyId\":\"k\""), "{text}");
    }
}
