//! Key identifiers as callers write them (key id, key ARN, alias name, alias ARN) and the ARNs the
//! server builds. Parsing is syntax only; whether the key exists is the service layer's question.

use crate::KmsError;

/// The partition every ARN is written in.
pub const PARTITION: &str = "aws";

/// A caller's reference to a key, in any of the four forms AWS accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyRef {
    KeyId(String),
    KeyArn {
        region: String,
        account_id: String,
        key_id: String,
    },
    AliasName(String),
    AliasArn {
        region: String,
        account_id: String,
        alias_name: String,
    },
}

impl KeyRef {
    /// Reads a `KeyId` field. Malformed ARNs are InvalidArnException; anything else that is not an
    /// alias is taken as a key id and looked up.
    pub fn parse(text: &str) -> Result<KeyRef, KmsError> {
        if let Some(rest) = text.strip_prefix("arn:") {
            return parse_arn(text, rest);
        }
        if text.starts_with("alias/") {
            return Ok(KeyRef::AliasName(text.to_string()));
        }
        Ok(KeyRef::KeyId(text.to_string()))
    }

    /// True when the reference names an alias rather than a key.
    pub fn is_alias(&self) -> bool {
        matches!(self, KeyRef::AliasName(_) | KeyRef::AliasArn { .. })
    }
}

fn parse_arn(whole: &str, rest: &str) -> Result<KeyRef, KmsError> {
    let invalid = || KmsError::InvalidArn(format!("Invalid arn {whole}"));
    let mut parts = rest.splitn(5, ':');
    let (Some(partition), Some(service), Some(region), Some(account_id), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(invalid());
    };
    if partition.is_empty() || service != "kms" || region.is_empty() || !is_account_id(account_id) {
        return Err(invalid());
    }
    let (region, account_id) = (region.to_string(), account_id.to_string());
    if let Some(key_id) = resource.strip_prefix("key/") {
        if key_id.is_empty() {
            return Err(invalid());
        }
        return Ok(KeyRef::KeyArn {
            region,
            account_id,
            key_id: key_id.to_string(),
        });
    }
    if resource.starts_with("alias/") && resource.len() > "alias/".len() {
        return Ok(KeyRef::AliasArn {
            region,
            account_id,
            alias_name: resource.to_string(),
        });
    }
    Err(invalid())
}

/// Twelve decimal digits.
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

pub fn key_arn(region: &str, account_id: &str, key_id: &str) -> String {
    format!("arn:{PARTITION}:kms:{region}:{account_id}:key/{key_id}")
}

pub fn alias_arn(region: &str, account_id: &str, alias_name: &str) -> String {
    format!("arn:{PARTITION}:kms:{region}:{account_id}:{alias_name}")
}

/// A new key id: a random UUID, as AWS issues for single-Region keys.
pub fn new_key_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Checks an alias name for CreateAlias/UpdateAlias beyond the model's pattern: the `alias/`
/// prefix, something after it, and not the reserved `alias/aws/` namespace.
pub fn check_alias_name(name: &str) -> Result<(), KmsError> {
    let Some(rest) = name.strip_prefix("alias/") else {
        // AWS answers a missing prefix as a validation error of the member, not as
        // InvalidAliasNameException.
        return Err(KmsError::Validation(
            "Alias must start with the prefix \"alias/\". Please see \
             https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html"
                .into(),
        ));
    };
    if rest.is_empty() {
        return Err(KmsError::InvalidAliasName(
            "Alias name must not be empty after \"alias/\"".into(),
        ));
    }
    if name.starts_with("alias/aws/") {
        return Err(KmsError::InvalidAliasName(
            "Alias names that begin with \"alias/aws/\" are reserved for AWS managed keys".into(),
        ));
    }
    Ok(())
}

/// The account of an AWS principal named by ARN (`arn:<partition>:iam::<account>:...` or
/// `arn:<partition>:sts::<account>:...`) or by bare account id; `None` for anything else
/// (service principals, malformed text).
pub fn principal_account(principal: &str) -> Option<&str> {
    let is_account = |s: &str| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit());
    if is_account(principal) {
        return Some(principal);
    }
    let mut parts = principal.splitn(6, ':');
    let (Some("arn"), Some(_), Some("iam" | "sts"), Some(""), Some(account), Some(rest)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    (is_account(account) && !rest.is_empty()).then_some(account)
}

/// Characters in a grant token ferrokms issues: 48 random bytes in unpadded URL-safe base64.
pub const GRANT_TOKEN_LEN: usize = 64;

/// Whether `token` has the form of the grant tokens ferrokms issues (so any other token is
/// InvalidGrantTokenException). A well-formed token of a retired grant is still accepted: grant
/// tokens only speed up eventual consistency, which ferrokms does not need.
pub fn is_grant_token(token: &str) -> bool {
    token.len() == GRANT_TOKEN_LEN
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `id` is a CloudHSM cluster id as botocore's model has it:
/// `cluster-[2-7a-zA-Z]{11,16}`.
pub fn is_cloud_hsm_cluster_id(id: &str) -> bool {
    id.strip_prefix("cluster-").is_some_and(|rest| {
        (11..=16).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphabetic() || (b'2'..=b'7').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_tokens_have_the_issued_form() {
        assert!(is_grant_token(&"aZ09-_".repeat(11)[..64]));
        assert!(!is_grant_token(&"a".repeat(63)));
        assert!(!is_grant_token(&format!("{}=", "a".repeat(63))));
        assert!(!is_grant_token("token"));
    }

    #[test]
    fn parses_the_four_forms() {
        let id = "1234abcd-12ab-34cd-56ef-1234567890ab";
        assert_eq!(KeyRef::parse(id).unwrap(), KeyRef::KeyId(id.into()));
        assert_eq!(
            KeyRef::parse(&format!("arn:aws:kms:us-east-2:111122223333:key/{id}")).unwrap(),
            KeyRef::KeyArn {
                region: "us-east-2".into(),
                account_id: "111122223333".into(),
                key_id: id.into()
            }
        );
        assert_eq!(
            KeyRef::parse("alias/app").unwrap(),
            KeyRef::AliasName("alias/app".into())
        );
        assert_eq!(
            KeyRef::parse("arn:aws:kms:us-east-2:111122223333:alias/app").unwrap(),
            KeyRef::AliasArn {
                region: "us-east-2".into(),
                account_id: "111122223333".into(),
                alias_name: "alias/app".into()
            }
        );
    }

    #[test]
    fn malformed_arns_are_invalid_arn() {
        for bad in [
            "arn:aws:kms:us-east-1:111122223333:",
            "arn:aws:s3:us-east-1:111122223333:key/x",
            "arn:aws:kms:us-east-1:1111:key/x",
            "arn:aws:kms:us-east-1:111122223333:key/",
            "arn:aws:kms:us-east-1:111122223333:alias/",
            "arn:aws:kms",
        ] {
            assert!(
                matches!(KeyRef::parse(bad), Err(KmsError::InvalidArn(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn principal_accounts() {
        assert_eq!(
            principal_account("arn:aws:iam::111122223333:user/alice"),
            Some("111122223333")
        );
        assert_eq!(
            principal_account("arn:aws:sts::444455556666:assumed-role/r/s"),
            Some("444455556666")
        );
        assert_eq!(principal_account("111122223333"), Some("111122223333"));
        assert_eq!(principal_account("arn:aws:iam::1111:user/a"), None);
        assert_eq!(principal_account("kms.amazonaws.com"), None);
        assert_eq!(
            principal_account("arn:aws:kms:us-east-1:111122223333:key/x"),
            None
        );
    }

    #[test]
    fn alias_names_need_prefix_and_not_reserved() {
        assert!(check_alias_name("alias/my-app-key").is_ok());
        assert!(matches!(
            check_alias_name("my-app-key"),
            Err(KmsError::Validation(_))
        ));
        assert!(matches!(
            check_alias_name("alias/"),
            Err(KmsError::InvalidAliasName(_))
        ));
        assert!(matches!(
            check_alias_name("alias/aws/s3"),
            Err(KmsError::InvalidAliasName(_))
        ));
    }

    #[test]
    fn arns_are_built_as_aws_writes_them() {
        assert_eq!(
            key_arn("eu-west-1", "111122223333", "k"),
            "arn:aws:kms:eu-west-1:111122223333:key/k"
        );
        assert_eq!(
            alias_arn("eu-west-1", "111122223333", "alias/a"),
            "arn:aws:kms:eu-west-1:111122223333:alias/a"
        );
    }
}
