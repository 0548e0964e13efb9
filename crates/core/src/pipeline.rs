//! The one generic driver every operation runs through. An operation declares its name, its
//! shapes, the keys it touches (with the action, state rule and usage each needs) and its `run`;
//! the driver does the rest: parse → validate → resolve keys → authorise → check state and usage
//! → dry run → run → serialise, gathering the request's audit facts on the way.
//!
//! Authorisation comes before the state check so that a caller who may not use a key learns
//! nothing about its state.

use crate::access::authz::{self, AuthorizedKey};
use crate::access::conditions;
use crate::audit::{scrubbed_value, AuditFacts};
use crate::key::{parse_ciphertext_name, Key};
use crate::key_state::StateRule;
use crate::quotas::QuotaRule;
use crate::{Caller, Kms};
use async_trait::async_trait;
use ferrokms_policy::Context;
use ferrokms_types::enums::KeyUsage;
use ferrokms_types::ids::alias_arn;
use ferrokms_types::shapes::EncryptionContext;
use ferrokms_types::shapes::Validate;
use ferrokms_types::validate::Validator;
use ferrokms_types::KmsError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::future::Future;
use std::pin::Pin;

/// One API operation.
#[async_trait]
pub trait Operation: Send + Sync + 'static {
    /// The operation's name, as in `X-Amz-Target: TrentService.<NAME>`.
    const NAME: &'static str;
    /// The IAM action of account-level operations (those that name no key), and of the aliases
    /// an operation acts on.
    const ACTION: &'static str;
    /// Whether the operation may act on a key of another account: AWS's "Cross-account use" in
    /// the operation's API reference. For the others a key of another account is refused before
    /// any of its policies is read, whatever they say.
    const CROSS_ACCOUNT: bool;
    /// Whether the operation only reads or computes (CloudTrail's `readOnly`): true for the
    /// cryptographic operations and the reads, false for every operation that changes something.
    /// A change's answer is recorded in its audit event (`responseElements`).
    const READ_ONLY: bool;
    /// Whether a success counts as a use of the keys it touched (GetKeyLastUsage; botocore's
    /// `KeyLastUsageTrackingOperation`).
    const TRACKS_LAST_USAGE: bool = false;
    /// Request members this operation refuses on purpose, each with its reason beside it: a
    /// member of botocore's model it does not take, or a member of a shared `Input` shape that
    /// the model does not give this operation. Every other member of the model is in `Input`.
    const UNSUPPORTED_MEMBERS: &'static [&'static str] = &[];
    type Input: DeserializeOwned + Serialize + Validate + Send + Sync;
    type Output: Serialize + Send;

    /// The ARN of the key the request created, which its audit event names among its resources
    /// (CreateKey; ReplicateKey's replica).
    fn created_key(_output: &Self::Output) -> Option<&str> {
        None
    }

    /// The keys the request touches, in the order `run` receives them authorised.
    fn keys(_input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        Ok(Vec::new())
    }

    /// The alias names the request acts on (CreateAlias, UpdateAlias, DeleteAlias). AWS authorises
    /// an alias by the caller's identity policies alone ("kms:CreateAlias on the alias (IAM
    /// policy)"), with `ACTION` on the alias ARN in the caller's account and Region; the keys
    /// behind it are `keys` and need their key policies too.
    fn aliases(_input: &Self::Input) -> Vec<&str> {
        Vec::new()
    }

    /// Adds the request's condition keys for `action` (encryption context, algorithms, tags...)
    /// to the context policies are evaluated in.
    fn conditions(_input: &Self::Input, _action: &str, _context: &mut Context) {}

    /// Adds condition keys that depend on the keys the request resolved (all of them, in the
    /// order of `keys`), for `action`: ReEncrypt's `kms:ReEncryptOnSameKey`.
    fn key_conditions(_keys: &[Key], _action: &str, _context: &mut Context) {}

    /// The encryption context the request carries for `action`, which grant constraints check.
    fn encryption_context<'a>(
        _input: &'a Self::Input,
        _action: &str,
    ) -> Option<&'a EncryptionContext> {
        None
    }

    /// The request quota the operation draws on (AWS's "Request quotas"); most management
    /// operations have one of their own at 5 requests a second.
    const QUOTA: QuotaRule<Self::Input> = QuotaRule::Own(5);

    /// Regions besides the caller's whose request quota the request also draws on: an
    /// operation that acts on keys in another Region (ReplicateKey, UpdatePrimaryRegion) counts
    /// there too. `None` in the list (an absent member) is skipped.
    fn other_quota_regions(_input: &Self::Input) -> Vec<Option<&str>> {
        Vec::new()
    }

    /// True for operations whose permission comes from what they act on rather than from
    /// policies (RetireGrant: the grant names who may retire it); they authorise in `run`.
    const SELF_AUTHORIZED: bool = false;

    /// Whether the request asks for a dry run (DryRun = true).
    fn dry_run(_input: &Self::Input) -> bool {
        false
    }

    async fn run(
        kms: &Kms,
        caller: &Caller,
        input: Self::Input,
        keys: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError>;
}

/// Where a key reference comes from.
#[derive(Debug)]
pub enum KeySource {
    /// A KeyId-like member. `aliases` says whether alias names and alias ARNs are accepted.
    Field { value: String, aliases: bool },
    /// The key named inside a ciphertext, and the key the caller says it should be (if any).
    Ciphertext {
        name: String,
        requested: Option<String>,
    },
}

/// A key an operation touches and what it needs of it.
#[derive(Debug)]
pub struct KeyTarget {
    pub source: KeySource,
    pub action: &'static str,
    pub states: StateRule,
    pub usage: Option<KeyUsage>,
}

impl KeyTarget {
    pub fn field(
        value: &Option<String>,
        aliases: bool,
        action: &'static str,
        states: StateRule,
    ) -> Self {
        KeyTarget {
            source: KeySource::Field {
                value: value.clone().unwrap_or_default(),
                aliases,
            },
            action,
            states,
            usage: None,
        }
    }

    pub fn with_usage(mut self, usage: KeyUsage) -> Self {
        self.usage = Some(usage);
        self
    }
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What handling a request gives: the JSON answer or the error, and the audit facts.
#[derive(Debug)]
pub struct Handled {
    pub result: Result<Vec<u8>, KmsError>,
    pub audit: AuditFacts,
}

/// The type-erased entry of the registry: JSON body in, JSON body out.
pub type Handler = for<'a> fn(&'a Kms, &'a Caller, &'a [u8]) -> BoxFuture<'a, Handled>;

pub fn handle<'a, O: Operation>(
    kms: &'a Kms,
    caller: &'a Caller,
    body: &'a [u8],
) -> BoxFuture<'a, Handled> {
    Box::pin(async move {
        let mut audit = AuditFacts::of::<O>();
        let output = match parse::<O::Input>(body) {
            Ok(input) => {
                audit.request_parameters = crate::audit::parameters(&input);
                drive::<O>(kms, caller, input, &mut audit).await
            }
            Err(e) => Err(e),
        };
        let result = output.and_then(|output| answer::<O>(&output, &mut audit));
        Handled { result, audit }
    })
}

async fn drive<O: Operation>(
    kms: &Kms,
    caller: &Caller,
    input: O::Input,
    audit: &mut AuditFacts,
) -> Result<O::Output, KmsError> {
    let mut v = Validator::new();
    input.validate(&mut v);
    v.finish()?;

    let targets = O::keys(&input)?;
    let aliases = O::aliases(&input);
    let now_ms = kms.now_ms();
    if targets.is_empty() && aliases.is_empty() && !O::SELF_AUTHORIZED {
        let mut context = conditions::caller(caller, now_ms);
        O::conditions(&input, O::ACTION, &mut context);
        authz::authorize_account(kms, caller, O::ACTION, &context).await?;
    }
    for alias in aliases {
        let arn = alias_arn(&caller.region, &caller.account_id, alias);
        let mut context = conditions::caller(caller, now_ms);
        O::conditions(&input, O::ACTION, &mut context);
        authz::authorize_identity(kms, caller, O::ACTION, &arn, &context).await?;
    }
    // Every key is resolved before any is authorised: a condition of one may depend on another
    // (kms:ReEncryptOnSameKey).
    let mut resolved = Vec::with_capacity(targets.len());
    for target in &targets {
        let key = resolve(kms, caller, &target.source).await?;
        audit.resources.push(key.arn().to_string());
        if !O::CROSS_ACCOUNT && key.row.account_id != caller.account_id {
            return Err(authz::not_cross_account(caller, target.action, key.arn()));
        }
        resolved.push(key);
    }
    let mut contexts = Vec::with_capacity(targets.len());
    for (target, key) in targets.iter().zip(&resolved) {
        let mut context = key_context(kms, caller, key, &target.source, now_ms).await?;
        O::conditions(&input, target.action, &mut context);
        O::key_conditions(&resolved, target.action, &mut context);
        contexts.push(context);
    }
    let mut keys = Vec::with_capacity(targets.len());
    for ((target, key), context) in targets.into_iter().zip(resolved).zip(contexts) {
        let ec = O::encryption_context(&input, target.action);
        let authorized = authz::authorize(kms, caller, key, target.action, &context, ec).await?;
        target
            .states
            .check(authorized.key.state, authorized.key.arn())?;
        if let Some(usage) = target.usage {
            check_usage(&authorized.key, usage, O::NAME)?;
        }
        keys.push(authorized);
    }
    // Charged to the caller's account once the request may proceed, as AWS throttles the
    // account that makes a request, whoever owns the key.
    let quotas = crate::quotas::of_request(O::NAME, &O::QUOTA, &input, &keys);
    let mut regions = vec![caller.region.as_str()];
    for region in O::other_quota_regions(&input).into_iter().flatten() {
        if !regions.contains(&region) {
            regions.push(region);
        }
    }
    kms.quotas()
        .charge_in(&caller.account_id, &regions, &quotas)?;
    if O::dry_run(&input) {
        return Err(KmsError::DryRunOperation(
            "The request would have succeeded, but the DryRun option is set.".into(),
        ));
    }
    O::run(kms, caller, input, keys).await
}

/// Bytes reserved for an answer before it is serialised.
const ANSWER_CAPACITY: usize = 1024;

/// The JSON answer of `output`. A change's answer is also recorded in its audit event, from the
/// typed answer (scrubbed), and a key it created is one of its resources (ReplicateKey's
/// replica, next to the primary it copied), as CloudTrail shows them.
fn answer<O: Operation>(output: &O::Output, audit: &mut AuditFacts) -> Result<Vec<u8>, KmsError> {
    let failed = |e: serde_json::Error| {
        tracing::error!(error = %e, "response serialisation failed");
        KmsError::internal()
    };
    if O::READ_ONLY {
        // Sized for the answers of the cryptographic operations (a ciphertext in base64).
        let mut body = Vec::with_capacity(ANSWER_CAPACITY);
        serde_json::to_writer(&mut body, output).map_err(failed)?;
        return Ok(body);
    }
    let value = serde_json::to_value(output).map_err(failed)?;
    let body = serde_json::to_vec(&value).map_err(failed)?;
    audit.response_elements = scrubbed_value(value);
    if let Some(arn) = O::created_key(output) {
        if !audit.resources.iter().any(|r| r == arn) {
            audit.resources.push(arn.to_string());
        }
    }
    Ok(body)
}

/// The condition context of a request on `key`: the caller's keys, the key's, and its tags and
/// aliases.
async fn key_context(
    kms: &Kms,
    caller: &Caller,
    key: &Key,
    source: &KeySource,
    now_ms: i64,
) -> Result<Context, KmsError> {
    let mut context = conditions::caller(caller, now_ms);
    conditions::key(key, source, &mut context);
    conditions::resource(kms, key, &mut context).await?;
    Ok(context)
}

/// Resolves and authorises a key target while an operation runs, exactly as the driver does for
/// the targets an operation declares (for operations whose target moved under them: an alias
/// re-pointed between the driver's check and the write).
pub(crate) async fn authorize_target(
    kms: &Kms,
    caller: &Caller,
    target: KeyTarget,
) -> Result<AuthorizedKey, KmsError> {
    let key = resolve(kms, caller, &target.source).await?;
    let context = key_context(kms, caller, &key, &target.source, kms.now_ms()).await?;
    let authorized = authz::authorize(kms, caller, key, target.action, &context, None).await?;
    target
        .states
        .check(authorized.key.state, authorized.key.arn())?;
    Ok(authorized)
}

/// JSON 1.1 body → request shape. An empty body is an empty object, as AWS treats it.
fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, KmsError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| {
        // serde's message names the member and the type mismatch; it never echoes a value.
        let what = match e.classify() {
            serde_json::error::Category::Data => {
                format!("Request body does not match the operation's shape: {e}")
            }
            _ => "Request body is not valid JSON".to_string(),
        };
        KmsError::Serialization(what)
    })
}

/// The key `source` names, in the state this node sees it in (a key of a custom key store this
/// node does not reach is Unavailable).
async fn resolve(kms: &Kms, caller: &Caller, source: &KeySource) -> Result<Key, KmsError> {
    let key = find(kms, caller, source).await?;
    crate::key_stores::keys::as_seen_here(kms, key).await
}

async fn find(kms: &Kms, caller: &Caller, source: &KeySource) -> Result<Key, KmsError> {
    match source {
        KeySource::Field { value, aliases } => kms.resolve(caller, value, *aliases).await,
        KeySource::Ciphertext { name, requested } => {
            let Some((account, key_id)) = parse_ciphertext_name(name) else {
                return Err(KmsError::InvalidCiphertext(String::new()));
            };
            // The key name is read before the blob is authenticated: a name that leads nowhere is
            // a damaged or forged ciphertext, and saying which key was not found would tell the
            // caller which bytes it changed.
            let key = match kms.key_in(account, &caller.region, key_id).await {
                Err(KmsError::NotFound(_)) => {
                    return Err(KmsError::InvalidCiphertext(String::new()))
                }
                other => other?,
            };
            if let Some(requested) = requested {
                let wanted = kms.resolve(caller, requested, true).await?;
                if wanted.arn() != key.arn() {
                    return Err(KmsError::IncorrectKey(
                        "The key ID in the request does not identify a KMS key that can perform this operation.".into(),
                    ));
                }
            }
            Ok(key)
        }
    }
}

fn check_usage(key: &Key, usage: KeyUsage, operation: &str) -> Result<(), KmsError> {
    if key.usage == usage {
        return Ok(());
    }
    Err(KmsError::InvalidKeyUsage(format!(
        "{} key usage is {} which is not valid for {operation}.",
        key.arn(),
        key.usage.as_str()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrokms_types::shapes::keys::DescribeKeyRequest;

    #[test]
    fn malformed_json_is_a_serialization_exception() {
        let err = parse::<DescribeKeyRequest>(b"{not json").unwrap_err();
        assert_eq!(err.wire_name(), "SerializationException");
        let err = parse::<DescribeKeyRequest>(br#"{"KeyId": 5}"#).unwrap_err();
        assert_eq!(err.wire_name(), "SerializationException");
        let err = parse::<DescribeKeyRequest>(b"[]").unwrap_err();
        assert_eq!(err.wire_name(), "SerializationException");
    }

    #[test]
    fn empty_body_is_an_empty_object() {
        let req = parse::<DescribeKeyRequest>(b"").unwrap();
        assert!(req.key_id.is_none());
    }
}
