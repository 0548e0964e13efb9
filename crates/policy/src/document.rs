//! The policy document: JSON text → [`Policy`], with every rule of the language checked at parse
//! time so evaluation never meets a malformed statement. Element names are case-sensitive as AWS
//! spells them; unknown elements are refused rather than silently ignored.

use crate::condition::{self, Condition};
use crate::error::PolicyError;
use crate::pattern::Pattern;
use crate::principal::{string_list, Principals};

/// Which kind of policy a document is; the two differ only in the Principal rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// A key policy (resource-based): each statement needs Principal or NotPrincipal.
    Resource,
    /// An IAM policy attached to a principal: statements must not have Principal/NotPrincipal.
    Identity,
}

/// The policy language version. Only 2012-10-17 has policy variables; a document without Version
/// is read as 2008-10-17, as AWS does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `2008-10-17`: `${...}` is literal text.
    V2008_10_17,
    /// `2012-10-17`: `${...}` are policy variables.
    V2012_10_17,
}

/// Allow or Deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// The statement grants.
    Allow,
    /// The statement forbids, overriding any Allow.
    Deny,
}

/// Principal or NotPrincipal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Who {
    Principal(Principals),
    NotPrincipal(Principals),
}

/// Action/NotAction or Resource/NotResource: patterns, and whether the element is the Not… form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Targets {
    pub(crate) not: bool,
    pub(crate) patterns: Vec<Pattern>,
}

/// One parsed statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub(crate) sid: Option<String>,
    pub(crate) effect: Effect,
    pub(crate) who: Option<Who>,
    pub(crate) actions: Targets,
    pub(crate) resources: Targets,
    pub(crate) conditions: Vec<Condition>,
}

impl Statement {
    /// The Sid, if any.
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    /// Allow or Deny.
    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// True if the statement has a Principal or NotPrincipal element.
    pub fn has_principal(&self) -> bool {
        self.who.is_some()
    }
}

/// A parsed, validated policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub(crate) version: Version,
    pub(crate) id: Option<String>,
    pub(crate) statements: Vec<Statement>,
}

const POLICY_ELEMENTS: &[&str] = &["Version", "Id", "Statement"];
const STATEMENT_ELEMENTS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

impl Policy {
    /// Parses a document of either kind (Principal optional); see [`Policy::parse_as`].
    pub fn parse(json: &str) -> Result<Self, PolicyError> {
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| PolicyError::NotJson(e.to_string()))?;
        let top = value
            .as_object()
            .ok_or_else(|| PolicyError::invalid("Policy", "the document must be a JSON object"))?;
        if let Some(unknown) = top.keys().find(|k| !POLICY_ELEMENTS.contains(&k.as_str())) {
            return Err(PolicyError::invalid(
                "Policy",
                format!("unknown element {unknown:?}"),
            ));
        }
        let version = match top.get("Version") {
            None => Version::V2008_10_17,
            Some(v) if v == "2012-10-17" => Version::V2012_10_17,
            Some(v) if v == "2008-10-17" => Version::V2008_10_17,
            Some(_) => {
                return Err(PolicyError::invalid(
                    "Policy",
                    "Version must be \"2012-10-17\" or \"2008-10-17\"",
                ))
            }
        };
        let id = match top.get("Id") {
            None => None,
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(PolicyError::invalid("Policy", "Id must be a string")),
        };
        let raw: Vec<&serde_json::Value> = match top.get("Statement") {
            Some(serde_json::Value::Array(items)) if !items.is_empty() => items.iter().collect(),
            Some(obj @ serde_json::Value::Object(_)) => vec![obj],
            Some(_) => {
                return Err(PolicyError::invalid(
                    "Policy",
                    "Statement must be an object or a non-empty list of objects",
                ))
            }
            None => return Err(PolicyError::invalid("Policy", "Statement is required")),
        };
        let variables = version == Version::V2012_10_17;
        let statements = raw
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                parse_statement(s, variables)
                    .map_err(|problem| PolicyError::invalid(format!("Statement[{i}]"), problem))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            version,
            id,
            statements,
        })
    }

    /// Parses a document and checks the Principal rule of `kind`.
    pub fn parse_as(json: &str, kind: PolicyKind) -> Result<Self, PolicyError> {
        let policy = Self::parse(json)?;
        policy.validate(kind)?;
        Ok(policy)
    }

    /// Checks the Principal rule of `kind`: required in key policies, forbidden in identity policies.
    pub fn validate(&self, kind: PolicyKind) -> Result<(), PolicyError> {
        for (i, s) in self.statements.iter().enumerate() {
            let problem = match (kind, s.has_principal()) {
                (PolicyKind::Resource, false) => {
                    "Principal or NotPrincipal is required in a key policy"
                }
                (PolicyKind::Identity, true) => {
                    "Principal and NotPrincipal are not allowed in an identity-based policy"
                }
                _ => continue,
            };
            return Err(PolicyError::invalid(format!("Statement[{i}]"), problem));
        }
        Ok(())
    }

    /// The language version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The Id element, if any.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The statements, in document order.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }
}

/// Parses one statement; the error is a sentence the caller prefixes with `Statement[i]`.
fn parse_statement(value: &serde_json::Value, variables: bool) -> Result<Statement, String> {
    let s = value
        .as_object()
        .ok_or("a statement must be a JSON object")?;
    if let Some(unknown) = s.keys().find(|k| !STATEMENT_ELEMENTS.contains(&k.as_str())) {
        return Err(format!("unknown element {unknown:?}"));
    }
    let sid = match s.get("Sid") {
        None => None,
        Some(serde_json::Value::String(v)) => Some(v.clone()),
        Some(_) => return Err("Sid must be a string".into()),
    };
    let effect = match s.get("Effect") {
        None => return Err("Effect is required".into()),
        Some(v) if v == "Allow" => Effect::Allow,
        Some(v) if v == "Deny" => Effect::Deny,
        Some(_) => return Err("Effect must be \"Allow\" or \"Deny\"".into()),
    };
    let who = match (s.get("Principal"), s.get("NotPrincipal")) {
        (Some(_), Some(_)) => {
            return Err("Principal and NotPrincipal cannot both be present".into())
        }
        (Some(p), None) => Some(Who::Principal(Principals::parse("Principal", p)?)),
        (None, Some(p)) => Some(Who::NotPrincipal(Principals::parse("NotPrincipal", p)?)),
        (None, None) => None,
    };
    let actions = targets(s, "Action", "NotAction", |name, text| {
        if text != "*" && !text.contains(':') {
            return Err(format!("{name} {text:?} must be \"*\" or service:action"));
        }
        Pattern::parse(text, true, false)
    })?;
    let resources = targets(s, "Resource", "NotResource", |name, text| {
        if text != "*" && !text.starts_with("arn:") {
            return Err(format!("{name} {text:?} must be \"*\" or an ARN"));
        }
        Pattern::parse(text, true, variables)
    })?;
    let conditions = match s.get("Condition") {
        None => Vec::new(),
        Some(block) => condition::parse_block(block, variables)?,
    };
    Ok(Statement {
        sid,
        effect,
        who,
        actions,
        resources,
        conditions,
    })
}

/// Parses the `yes`/`no` pair (Action/NotAction, Resource/NotResource): exactly one is required.
fn targets(
    s: &serde_json::Map<String, serde_json::Value>,
    yes: &str,
    no: &str,
    parse: impl Fn(&str, &str) -> Result<Pattern, String>,
) -> Result<Targets, String> {
    let (name, not, value) = match (s.get(yes), s.get(no)) {
        (Some(_), Some(_)) => return Err(format!("{yes} and {no} cannot both be present")),
        (Some(v), None) => (yes, false, v),
        (None, Some(v)) => (no, true, v),
        (None, None) => return Err(format!("{yes} or {no} is required")),
    };
    let texts = string_list(value)
        .ok_or_else(|| format!("{name} must be a string or a list of strings"))?;
    let patterns = texts
        .into_iter()
        .map(|t| parse(name, t))
        .collect::<Result<_, _>>()?;
    Ok(Targets { not, patterns })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(json: &str) -> String {
        Policy::parse(json).unwrap_err().to_string()
    }

    #[test]
    fn single_statement_object_and_defaults() {
        let p = Policy::parse(
            r#"{"Statement": {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}}"#,
        )
        .unwrap();
        assert_eq!(p.version(), Version::V2008_10_17);
        assert_eq!(p.statements().len(), 1);
        assert!(!p.statements()[0].has_principal());
        assert!(p.validate(PolicyKind::Identity).is_ok());
        assert_eq!(
            p.validate(PolicyKind::Resource).unwrap_err().to_string(),
            "Statement[0]: Principal or NotPrincipal is required in a key policy"
        );
    }

    #[test]
    fn structural_errors() {
        assert!(err("[]").starts_with("Policy: the document must be a JSON object"));
        assert_eq!(
            err(r#"{"Version":"2012-10-17"}"#),
            "Policy: Statement is required"
        );
        assert!(err(r#"{"Version":"2020-01-01","Statement":[]}"#).contains("Version must be"));
        assert!(err(r#"{"Statment":[]}"#).contains("unknown element \"Statment\""));
        assert!(err(r#"{"Statement":[]}"#).contains("non-empty list"));
        let bad_action = r#"{"Statement":[{"Effect":"Allow","Action":"Encrypt","Resource":"*"}]}"#;
        assert!(err(bad_action).contains("must be \"*\" or service:action"));
        let bad_resource =
            r#"{"Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"key"}]}"#;
        assert!(err(bad_resource).contains("must be \"*\" or an ARN"));
        let no_resource = r#"{"Statement":[{"Effect":"Allow","Action":"kms:*"}]}"#;
        assert_eq!(
            err(no_resource),
            "Statement[0]: Resource or NotResource is required"
        );
        let both = r#"{"Statement":[{"Effect":"Allow","Principal":"*","NotPrincipal":"*","Action":"kms:*","Resource":"*"}]}"#;
        assert!(err(both).contains("cannot both be present"));
    }
}
