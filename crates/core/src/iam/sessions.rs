//! STS AssumeRole: temporary credentials for a role, and the session token that carries them.
//!
//! The token is self-contained, as AWS's are: the session's access key id and secret, the role,
//! the session name, the expiry and the session policy, sealed under the root key (AES-256-GCM
//! with a label of its own as associated data). Nothing is stored, so every node sharing the root
//! key accepts every node's tokens; a token cannot be forged or altered without the root key, and
//! deleting the role ends its sessions (the authenticator checks that the role still exists).

use crate::access::authz::{self, Authorizer};
use crate::{access::conditions, error, iam::principals, iam::roles, Caller, Kms};
use base64::Engine;
use ferrokms_crypto::SecretBytes;
use ferrokms_policy::{Policy, PolicyKind};
use ferrokms_types::KmsError;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// AWS's shortest session.
pub const MIN_DURATION_SECONDS: i64 = 900;
/// A role's MaxSessionDuration (AWS's default; roles here do not change it), and the default.
pub const MAX_DURATION_SECONDS: i64 = 3600;
/// AWS's limit on an inline session policy, in characters.
pub const MAX_SESSION_POLICY_CHARS: usize = 2048;
/// Access key ids of temporary credentials start like AWS's.
pub const SESSION_KEY_PREFIX: &str = "ASIA";

/// What AssumeRole asks for, as received (validated here).
#[derive(Debug, Default)]
pub struct AssumeRoleRequest {
    pub role_arn: Option<String>,
    pub role_session_name: Option<String>,
    pub duration_seconds: Option<String>,
    pub policy: Option<String>,
}

/// Temporary credentials for a role session.
pub struct IssuedSession {
    pub access_key_id: String,
    pub secret_access_key: SecretBytes,
    pub session_token: String,
    pub expires_ms: i64,
    /// `arn:aws:sts::<account>:assumed-role/<role>/<session>`.
    pub assumed_role_arn: String,
    /// `AROA…:<session>`.
    pub assumed_role_id: String,
}

/// The sealed content of a session token.
#[derive(Serialize, Deserialize)]
pub struct SessionToken {
    pub access_key_id: String,
    /// The session's secret access key (the token is only ever stored sealed).
    pub secret: String,
    pub role_arn: String,
    /// The unique id of the role the session was issued for: a role deleted and created again
    /// under the same name has another, and the session does not work for it. Empty in tokens
    /// issued before ids were stored (they then stand for the id derived from the ARN).
    #[serde(default)]
    pub role_id: String,
    pub account_id: String,
    pub session_name: String,
    pub expires_ms: i64,
    pub policy: Option<String>,
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SessionToken({}, {}, {}, <redacted>)",
            self.access_key_id, self.role_arn, self.session_name
        )
    }
}

impl Drop for SessionToken {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.secret);
    }
}

impl SessionToken {
    /// The unique id of the role this session was issued for.
    pub fn issued_role_id(&self) -> String {
        if self.role_id.is_empty() {
            principals::derived_id("AROA", &self.role_arn)
        } else {
            self.role_id.clone()
        }
    }

    /// The ARN this session's requests are made as.
    pub fn assumed_role_arn(&self) -> String {
        let role = self.role_arn.rsplit('/').next().unwrap_or_default();
        format!(
            "arn:aws:sts::{}:assumed-role/{role}/{}",
            self.account_id, self.session_name
        )
    }

    /// The session policy, parsed; a token's policy was checked when it was issued.
    pub fn parsed_policy(&self) -> Option<Policy> {
        let text = self.policy.as_deref()?;
        authz::parse_stored(text, PolicyKind::Identity).or_else(|| {
            // A policy that parsed at issue time and no longer does allows nothing.
            Policy::parse_as(r#"{"Statement":[]}"#, PolicyKind::Identity).ok()
        })
    }
}

/// Issues temporary credentials for the role, if its trust policy (with the caller's identity
/// policies, as AWS combines them) lets the caller assume it.
pub async fn assume_role(
    kms: &Kms,
    caller: &Caller,
    request: &AssumeRoleRequest,
) -> Result<IssuedSession, KmsError> {
    let (role_arn, session_name, duration, policy) = validate(request)?;
    let denied = || {
        KmsError::AccessDenied(format!(
            "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
            caller.principal_arn
        ))
    };
    let Some(role) = kms
        .store()
        .get_principal(&role_arn)
        .await
        .map_err(error::store)?
    else {
        return Err(denied());
    };
    let Some(trust) = role
        .assume_role_policy
        .as_deref()
        .and_then(|text| roles::parse_trust_policy(text).ok())
    else {
        return Err(denied());
    };
    let mut context = conditions::caller(caller, kms.now_ms());
    context.insert("sts:RoleSessionName", session_name.as_str());
    let authorizer = Authorizer::new(kms, caller, "sts:AssumeRole", &role_arn, &context).await?;
    if !authorizer.allows(&trust, caller.account_id == role.account_id) {
        return Err(denied());
    }

    let access_key_id = principals::random_id(SESSION_KEY_PREFIX)?;
    let secret = principals::new_secret()?;
    let secret_text = std::str::from_utf8(secret.expose())
        .map_err(|_| KmsError::internal())?
        .to_string();
    let expires_ms = kms.now_ms() + duration * 1000;
    let role_id = principals::unique_id(&role);
    let token = SessionToken {
        access_key_id: access_key_id.clone(),
        secret: secret_text,
        role_arn: role.arn.clone(),
        role_id: role_id.clone(),
        account_id: role.account_id.clone(),
        session_name: session_name.clone(),
        expires_ms,
        policy,
    };
    let plain = Zeroizing::new(serde_json::to_vec(&token).map_err(|_| KmsError::internal())?);
    let sealed = kms
        .secrets()
        .seal_session_token(&plain)
        .map_err(error::crypto)?;
    Ok(IssuedSession {
        access_key_id,
        secret_access_key: secret,
        session_token: base64::engine::general_purpose::STANDARD.encode(sealed),
        expires_ms,
        assumed_role_arn: token.assumed_role_arn(),
        assumed_role_id: format!("{role_id}:{session_name}"),
    })
}

/// Opens a session token presented with a request. A token that does not open is
/// UnrecognizedClient, as AWS answers a bad token; expiry is the caller's to check.
pub fn open_token(kms: &Kms, token: &str) -> Result<SessionToken, KmsError> {
    let bad = || {
        KmsError::UnrecognizedClient(
            "The security token included in the request is invalid.".into(),
        )
    };
    let sealed = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .map_err(|_| bad())?;
    let plain = kms
        .secrets()
        .open_session_token(&sealed)
        .map_err(|_| bad())?;
    serde_json::from_slice(plain.expose()).map_err(|_| bad())
}

/// The answer to a request made with an expired session.
pub fn expired() -> KmsError {
    KmsError::ExpiredToken("The security token included in the request is expired".into())
}

type Validated = (String, String, i64, Option<String>);

/// AWS STS's constraints on AssumeRole's parameters.
fn validate(request: &AssumeRoleRequest) -> Result<Validated, KmsError> {
    let missing = |field: &str| {
        KmsError::Validation(format!(
            "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
        ))
    };
    let role_arn = request.role_arn.clone().ok_or_else(|| missing("roleArn"))?;
    if !(20..=2048).contains(&role_arn.len()) || roles::parse_role_arn(&role_arn).is_none() {
        return Err(KmsError::Validation(format!(
            "{role_arn} is invalid: RoleArn must be the ARN of a role, arn:aws:iam::<account>:role/<name>"
        )));
    }
    let name = request
        .role_session_name
        .clone()
        .ok_or_else(|| missing("roleSessionName"))?;
    let name_ok = (2..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b));
    if !name_ok {
        return Err(KmsError::Validation(format!(
            "1 validation error detected: Value '{name}' at 'roleSessionName' failed to satisfy constraint: Member must have length between 2 and 64 and match pattern [\\w+=,.@-]*"
        )));
    }
    let duration = match request.duration_seconds.as_deref() {
        None => MAX_DURATION_SECONDS,
        Some(text) => text.parse::<i64>().map_err(|_| {
            KmsError::Validation(format!("DurationSeconds {text:?} is not a number"))
        })?,
    };
    if !(MIN_DURATION_SECONDS..=43_200).contains(&duration) {
        return Err(KmsError::Validation(format!(
            "1 validation error detected: Value '{duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value between {MIN_DURATION_SECONDS} and 43200"
        )));
    }
    if duration > MAX_DURATION_SECONDS {
        return Err(KmsError::Validation(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
                .into(),
        ));
    }
    if let Some(policy) = &request.policy {
        if policy.chars().count() > MAX_SESSION_POLICY_CHARS {
            return Err(KmsError::Validation(format!(
                "The session policy is longer than {MAX_SESSION_POLICY_CHARS} characters"
            )));
        }
        Policy::parse_as(policy, PolicyKind::Identity)
            .map_err(|e| KmsError::MalformedPolicyDocument(e.to_string()))?;
    }
    Ok((role_arn, name, duration, request.policy.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(arn: &str, name: &str, duration: Option<&str>) -> AssumeRoleRequest {
        AssumeRoleRequest {
            role_arn: Some(arn.into()),
            role_session_name: Some(name.into()),
            duration_seconds: duration.map(str::to_string),
            policy: None,
        }
    }

    const ROLE: &str = "arn:aws:iam::111122223333:role/deployer";

    #[test]
    fn parameters_follow_sts_constraints() {
        assert!(validate(&request(ROLE, "ci-run.7@x", None)).is_ok());
        assert_eq!(validate(&request(ROLE, "ci", Some("900"))).unwrap().2, 900);
        for bad in [
            request(ROLE, "a", None),
            request(ROLE, "has space", None),
            request(ROLE, "ok-name", Some("899")),
            request(ROLE, "ok-name", Some("3601")),
            request(ROLE, "ok-name", Some("many")),
            request("arn:aws:iam::111122223333:user/alice", "ok-name", None),
            AssumeRoleRequest::default(),
        ] {
            assert!(
                matches!(validate(&bad), Err(KmsError::Validation(_))),
                "{bad:?}"
            );
        }
        let mut with_policy = request(ROLE, "ok-name", None);
        with_policy.policy = Some("{not json".into());
        assert!(matches!(
            validate(&with_policy),
            Err(KmsError::MalformedPolicyDocument(_))
        ));
    }

    #[test]
    fn session_arns_name_the_role_and_session() {
        let token = SessionToken {
            access_key_id: "ASIAX".into(),
            secret: "s".into(),
            role_arn: ROLE.into(),
            role_id: String::new(),
            account_id: "111122223333".into(),
            session_name: "ci".into(),
            expires_ms: 0,
            policy: None,
        };
        assert_eq!(
            token.assumed_role_arn(),
            "arn:aws:sts::111122223333:assumed-role/deployer/ci"
        );
        // A token from before role ids were stored stands for the id derived from the ARN.
        assert_eq!(token.issued_role_id(), principals::derived_id("AROA", ROLE));
        assert!(!format!("{token:?}").contains("\"s\""));
    }
}
