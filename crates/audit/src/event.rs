//! [`AuditEvent`]: one API request, in the shape of a CloudTrail KMS event.
//!
//! The caller (the request pipeline) fills it in; this crate stores it as it
//! serialises, with CloudTrail's field names, so tools that read CloudTrail
//! records read these too. Fields the request did not have are `None`; like
//! CloudTrail, `requestParameters` and `responseElements` are written as
//! `null` when absent and the error fields are left out on success.
//!
//! Events must carry no secret (plaintext, key material, secret access
//! keys, session tokens). [`AuditEvent::secret_field`] finds the usual
//! suspects, and [`crate::AuditLog::append`] asserts it in debug builds.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `eventSource` of every ferrokms event.
pub const EVENT_SOURCE: &str = "kms.amazonaws.com";
/// `eventType` of an API call.
pub const EVENT_TYPE_API_CALL: &str = "AwsApiCall";
/// `eventType` of what the service did on its own (a scheduled deletion, an automatic rotation).
pub const EVENT_TYPE_SERVICE_EVENT: &str = "AwsServiceEvent";
/// `eventVersion` written by default (CloudTrail's record format version).
pub const EVENT_VERSION: &str = "1.08";
/// `resources[].type` of a KMS key.
pub const RESOURCE_TYPE_KMS_KEY: &str = "AWS::KMS::Key";

/// One API request, as CloudTrail records it for KMS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AuditEvent {
    /// CloudTrail record format version, [`EVENT_VERSION`] by default.
    pub event_version: String,
    /// Who made the request.
    pub user_identity: UserIdentity,
    /// When the request was made: RFC 3339 UTC, `2025-01-02T03:04:05Z`.
    /// Used by time filters and the digests' time ranges.
    pub event_time: String,
    /// Always [`EVENT_SOURCE`].
    pub event_source: String,
    /// The API operation, e.g. `Encrypt`.
    pub event_name: String,
    /// The Region the request was sent to.
    pub aws_region: String,
    /// The client's address.
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: String,
    /// The client's `User-Agent`.
    pub user_agent: String,
    /// The request's parameters, secrets left out (`null` if none).
    pub request_parameters: Option<Value>,
    /// The response's non-secret elements (`null` if none).
    pub response_elements: Option<Value>,
    /// The request id returned to the client.
    #[serde(rename = "requestID")]
    pub request_id: String,
    /// A unique id of this event.
    #[serde(rename = "eventID")]
    pub event_id: String,
    /// Whether the operation only reads.
    pub read_only: bool,
    /// The KMS keys the request touched.
    pub resources: Vec<Resource>,
    /// Always [`EVENT_TYPE_API_CALL`] for requests.
    pub event_type: String,
    /// CloudTrail's `managementEvent`; KMS API calls are management events.
    pub management_event: bool,
    /// CloudTrail's `eventCategory`, `Management`.
    pub event_category: String,
    /// The account that owns the resources.
    pub recipient_account_id: String,
    /// The AWS exception name when the request failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// The error message returned when the request failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// CloudTrail's `additionalEventData`: facts about the request that are
    /// not its parameters, e.g. `{"signatureVerified": false}` when the
    /// request did not authenticate (so a claimed access key id is visibly
    /// unproven). Left out when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_event_data: Option<Value>,
}

impl Default for AuditEvent {
    /// An event with the constant fields set ([`EVENT_VERSION`],
    /// [`EVENT_SOURCE`], [`EVENT_TYPE_API_CALL`], management) and the rest empty.
    fn default() -> Self {
        Self {
            event_version: EVENT_VERSION.to_owned(),
            user_identity: UserIdentity::default(),
            event_time: String::new(),
            event_source: EVENT_SOURCE.to_owned(),
            event_name: String::new(),
            aws_region: String::new(),
            source_ip_address: String::new(),
            user_agent: String::new(),
            request_parameters: None,
            response_elements: None,
            request_id: String::new(),
            event_id: String::new(),
            read_only: false,
            resources: Vec::new(),
            event_type: EVENT_TYPE_API_CALL.to_owned(),
            management_event: true,
            event_category: "Management".to_owned(),
            recipient_account_id: String::new(),
            error_code: None,
            error_message: None,
            additional_event_data: None,
        }
    }
}

/// CloudTrail's `userIdentity`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UserIdentity {
    /// `IAMUser`, `AssumedRole`, `Root`, …
    #[serde(rename = "type")]
    pub identity_type: String,
    /// The principal's unique id.
    pub principal_id: String,
    /// The principal's ARN; the `principal` query filter matches it.
    pub arn: String,
    /// The principal's account.
    pub account_id: String,
    /// The access key id that signed the request (never the secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    /// For a service event, the service that acted (`kms.amazonaws.com`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoked_by: Option<String>,
}

/// One entry of CloudTrail's `resources`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Resource {
    /// The key's account.
    pub account_id: String,
    /// [`RESOURCE_TYPE_KMS_KEY`].
    #[serde(rename = "type")]
    pub resource_type: String,
    /// The key's ARN; the `key_id` query filter matches it.
    #[serde(rename = "ARN")]
    pub arn: String,
}

impl Resource {
    /// A KMS key resource.
    pub fn kms_key(account_id: &str, arn: &str) -> Self {
        Self {
            account_id: account_id.to_owned(),
            resource_type: RESOURCE_TYPE_KMS_KEY.to_owned(),
            arn: arn.to_owned(),
        }
    }
}

/// Field names (compared case-insensitively) that hold secrets in KMS and
/// STS requests and responses, and must never be audited.
const SECRET_FIELD_NAMES: &[&str] = &[
    "plaintext",
    "secretaccesskey",
    "sessiontoken",
    "keymaterial",
    "importtoken",
    "privatekey",
    "privatekeyplaintext",
    "password",
];

impl AuditEvent {
    /// The name of the first field in `requestParameters` or
    /// `responseElements` (at any depth) that looks like a secret, if any.
    /// A guard for tests and debug builds, not a sanitiser.
    pub fn secret_field(&self) -> Option<String> {
        [&self.request_parameters, &self.response_elements]
            .into_iter()
            .flatten()
            .find_map(find_secret_field)
    }
}

fn find_secret_field(value: &Value) -> Option<String> {
    match value {
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let lower = k.to_ascii_lowercase();
            if SECRET_FIELD_NAMES.contains(&lower.as_str()) {
                Some(k.clone())
            } else {
                find_secret_field(v)
            }
        }),
        Value::Array(items) => items.iter().find_map(find_secret_field),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> AuditEvent {
        AuditEvent {
            user_identity: UserIdentity {
                identity_type: "IAMUser".into(),
                principal_id: "AIDAEXAMPLE".into(),
                arn: "arn:aws:iam::111122223333:user/alice".into(),
                account_id: "111122223333".into(),
                access_key_id: Some("AKIAEXAMPLE".into()),
                invoked_by: None,
            },
            event_time: "2025-01-02T03:04:05Z".into(),
            event_name: "Encrypt".into(),
            aws_region: "eu-west-1".into(),
            source_ip_address: "127.0.0.1".into(),
            user_agent: "aws-cli/2".into(),
            request_parameters: Some(json!({"keyId": "alias/app"})),
            request_id: "req-1".into(),
            event_id: "evt-1".into(),
            read_only: true,
            resources: vec![Resource::kms_key(
                "111122223333",
                "arn:aws:kms:eu-west-1:111122223333:key/1234",
            )],
            recipient_account_id: "111122223333".into(),
            ..AuditEvent::default()
        }
    }

    #[test]
    fn serialises_with_cloudtrail_field_names() {
        let v = serde_json::to_value(sample()).expect("json");
        for field in [
            "eventVersion",
            "userIdentity",
            "eventTime",
            "eventSource",
            "eventName",
            "awsRegion",
            "sourceIPAddress",
            "userAgent",
            "requestParameters",
            "responseElements",
            "requestID",
            "eventID",
            "readOnly",
            "resources",
            "eventType",
            "recipientAccountId",
        ] {
            assert!(v.get(field).is_some(), "missing {field}");
        }
        assert_eq!(v["eventSource"], "kms.amazonaws.com");
        assert_eq!(v["eventType"], "AwsApiCall");
        assert_eq!(v["responseElements"], Value::Null);
        assert_eq!(v["userIdentity"]["type"], "IAMUser");
        assert_eq!(v["userIdentity"]["accessKeyId"], "AKIAEXAMPLE");
        assert_eq!(v["resources"][0]["type"], "AWS::KMS::Key");
        assert!(v["resources"][0].get("ARN").is_some());
        assert!(v.get("errorCode").is_none());
    }

    #[test]
    fn round_trips_and_tolerates_missing_fields() {
        let e = sample();
        let text = serde_json::to_string(&e).expect("json");
        assert_eq!(serde_json::from_str::<AuditEvent>(&text).expect("parse"), e);
        let sparse: AuditEvent = serde_json::from_str(r#"{"eventName":"Decrypt"}"#).expect("parse");
        assert_eq!(sparse.event_name, "Decrypt");
    }

    #[test]
    fn secret_fields_are_spotted_at_any_depth() {
        assert_eq!(sample().secret_field(), None);
        let mut e = sample();
        e.response_elements = Some(json!({"outer": [{"Plaintext": "c2VjcmV0"}]}));
        assert_eq!(e.secret_field().as_deref(), Some("Plaintext"));
    }
}
