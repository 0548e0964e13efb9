//! The condition context policies are evaluated in: what every request carries (caller, time,
//! transport), what the key carries (spec, usage, tags, aliases, how the request named it), and
//! the encryption-context keys operations add. AWS's global and KMS condition keys, by name.

use crate::key::Key;
use crate::pipeline::KeySource;
use crate::{Caller, Kms};
use ferrokms_policy::Context;
use ferrokms_types::shapes::EncryptionContext;
use ferrokms_types::KmsError;

/// Condition keys every request has: who is calling and when.
pub(crate) fn caller(caller: &Caller, now_ms: i64) -> Context {
    let mut context = Context::new();
    context
        .insert("aws:PrincipalArn", caller.identity_arn())
        .insert("aws:PrincipalAccount", caller.account_id.as_str())
        .insert("kms:CallerAccount", caller.account_id.as_str())
        .insert("aws:RequestedRegion", caller.region.as_str())
        .insert_epoch("aws:CurrentTime", now_ms / 1000)
        .insert_number("aws:EpochTime", (now_ms / 1000) as f64)
        .insert_bool("aws:SecureTransport", caller.secure_transport);
    if let Some(ip) = caller.source_ip {
        context.insert_ip("aws:SourceIp", ip);
    }
    context
}

/// Condition keys of the key a request touches, and of how the request named it.
pub(crate) fn key(key: &Key, source: &KeySource, context: &mut Context) {
    context
        .insert("kms:KeySpec", key.spec.as_str())
        .insert("kms:KeyUsage", key.usage.as_str())
        .insert("kms:KeyOrigin", key.origin.as_str())
        .insert(
            "kms:MultiRegion",
            if key.row.multi_region {
                "true"
            } else {
                "false"
            },
        );
    if key.row.multi_region_id.is_some() {
        let kind = if key.is_primary() {
            "PRIMARY"
        } else {
            "REPLICA"
        };
        context.insert("kms:MultiRegionKeyType", kind);
    }
    use ferrokms_types::ids::KeyRef;
    if let KeySource::Field { value, .. } = source {
        if let Ok(
            KeyRef::AliasName(name)
            | KeyRef::AliasArn {
                alias_name: name, ..
            },
        ) = KeyRef::parse(value)
        {
            context.insert("kms:RequestAlias", name);
        }
    }
}

/// The key's tags (`aws:ResourceTag/<key>`) and alias names (`kms:ResourceAliases`).
pub(crate) async fn resource(kms: &Kms, key: &Key, context: &mut Context) -> Result<(), KmsError> {
    for (k, v) in kms.resource_tags(key.id()).await?.iter() {
        context.insert(&format!("aws:ResourceTag/{k}"), v.as_str());
    }
    let aliases = kms.resource_aliases(key.id()).await?;
    if !aliases.is_empty() {
        context.insert_multi(
            "kms:ResourceAliases",
            aliases.iter().cloned().collect::<Vec<_>>(),
        );
    }
    Ok(())
}

/// The encryption-context condition keys: one `kms:EncryptionContext:<key>` per pair, and the
/// set of keys as `kms:EncryptionContextKeys`.
pub fn encryption_context_conditions(ec: Option<&EncryptionContext>, context: &mut Context) {
    let Some(ec) = ec else { return };
    for (k, v) in ec {
        context.insert(&format!("kms:EncryptionContext:{k}"), v.as_str());
    }
    context.insert_multi(
        "kms:EncryptionContextKeys",
        ec.keys().cloned().collect::<Vec<_>>(),
    );
}
