//! A key as the service layer sees it: the stored row with its enums parsed, and how it is shown
//! on the wire (KeyMetadata).

use crate::error;
use ferrokms_store::KeyRow;
use ferrokms_types::enums::{CustomerMasterKeySpec, KeySpec, KeyState, KeyUsage, Origin};
use ferrokms_types::ids::key_arn;
use ferrokms_types::key_specs::{self, Algorithms};
use ferrokms_types::shapes::keys::KeyMetadata;
use ferrokms_types::shapes::multi_region::{
    MultiRegionConfiguration, MultiRegionKey, MultiRegionKeyType,
};
use ferrokms_types::{KmsError, Timestamp};
use std::sync::Arc;

/// Cheap to clone: the row is shared (a cached key is handed to every request that uses it), so
/// a change builds a new row (`(*key.row).clone()`) rather than editing this one.
#[derive(Clone, Debug)]
pub struct Key {
    pub row: Arc<KeyRow>,
    pub state: KeyState,
    pub usage: KeyUsage,
    pub spec: KeySpec,
    pub origin: Origin,
}

impl Key {
    pub fn from_row(row: KeyRow) -> Result<Key, KmsError> {
        let state = KeyState::parse(&row.state).ok_or_else(|| error::corrupt("key state"))?;
        let usage = KeyUsage::parse(&row.key_usage).ok_or_else(|| error::corrupt("key usage"))?;
        let spec = KeySpec::parse(&row.key_spec).ok_or_else(|| error::corrupt("key spec"))?;
        let origin = Origin::parse(&row.origin).ok_or_else(|| error::corrupt("key origin"))?;
        Ok(Key {
            row: Arc::new(row),
            state,
            usage,
            spec,
            origin,
        })
    }

    pub fn arn(&self) -> &str {
        &self.row.arn
    }

    /// The key's row id in the store, unique across Regions: what caches, grants, tags, aliases
    /// and material are keyed by. Never shown to callers (see [`Key::key_id`]).
    pub fn id(&self) -> &str {
        &self.row.key_id
    }

    /// The key id callers see: for a multi-Region key the id its related keys share.
    pub fn key_id(&self) -> &str {
        self.row
            .multi_region_id
            .as_deref()
            .unwrap_or(&self.row.key_id)
    }

    /// The name of the key inside its ciphertexts: account and key id, so that a ciphertext finds
    /// its key without a KeyId (also across accounts) while the Region stays the caller's; for a
    /// multi-Region key, whichever of its related keys lives in that Region.
    pub fn ciphertext_name(&self) -> String {
        format!("{}:{}", self.row.account_id, self.key_id())
    }

    /// Whether this is a multi-Region key whose primary lives in its own Region.
    pub fn is_primary(&self) -> bool {
        self.row.multi_region_id.is_some()
            && self.row.primary_region.as_deref() == Some(self.row.region.as_str())
    }

    /// The algorithms the key supports, from the key spec table. A stored (spec, usage) pair that
    /// CreateKey would refuse supports nothing.
    pub fn algorithms(&self) -> Algorithms {
        key_specs::algorithms(self.spec, self.usage).unwrap_or_default()
    }

    /// Whether the key holds a key pair (GetPublicKey works on it).
    pub fn is_asymmetric(&self) -> bool {
        key_specs::is_asymmetric(self.spec)
    }

    /// The key's spec under its deprecated name, when that enum lists it.
    pub fn customer_master_key_spec(&self) -> Option<CustomerMasterKeySpec> {
        CustomerMasterKeySpec::parse(self.spec.as_str())
    }

    /// KeyMetadata of a single-Region key, or of a multi-Region key given the regions of all its
    /// related keys (itself included; see [`crate::Kms::related_regions`]).
    pub fn metadata(&self, related_regions: &[String]) -> KeyMetadata {
        let r = &self.row;
        let algorithms = self.algorithms();
        KeyMetadata {
            aws_account_id: r.account_id.clone(),
            key_id: self.key_id().to_string(),
            arn: r.arn.clone(),
            creation_date: Timestamp(r.creation_date),
            enabled: self.state == KeyState::Enabled,
            description: r.description.clone(),
            key_usage: self.usage,
            key_state: self.state,
            deletion_date: r.deletion_date.map(Timestamp),
            origin: self.origin,
            key_manager: "CUSTOMER",
            customer_master_key_spec: self.customer_master_key_spec(),
            key_spec: self.spec,
            encryption_algorithms: listed(algorithms.encryption),
            signing_algorithms: listed(algorithms.signing),
            mac_algorithms: listed(algorithms.mac),
            key_agreement_algorithms: listed(algorithms.key_agreement),
            encapsulation_algorithms: listed(algorithms.encapsulation),
            multi_region: r.multi_region,
            multi_region_configuration: self.multi_region_configuration(related_regions),
            pending_deletion_window_in_days: r.pending_window_days.filter(|_| {
                matches!(
                    self.state,
                    KeyState::PendingDeletion | KeyState::PendingReplicaDeletion
                )
            }),
            // What the key's materials say is filled in by `materials::metadata`.
            valid_to: None,
            expiration_model: None,
            current_key_material_id: None,
            custom_key_store_id: r.custom_key_store_id.clone(),
            // The store's row says; filled in by `materials::metadata`.
            cloud_hsm_cluster_id: None,
        }
    }
}

impl Key {
    fn multi_region_configuration(&self, regions: &[String]) -> Option<MultiRegionConfiguration> {
        let r = &self.row;
        let primary = r.primary_region.as_deref()?;
        r.multi_region_id.as_ref()?;
        // Related keys share the key id, so each one's ARN differs from this key's only in Region.
        let at = |region: &str| MultiRegionKey {
            arn: key_arn(region, &r.account_id, self.key_id()),
            region: region.to_string(),
        };
        Some(MultiRegionConfiguration {
            multi_region_key_type: if self.is_primary() {
                MultiRegionKeyType::Primary
            } else {
                MultiRegionKeyType::Replica
            },
            primary_key: at(primary),
            replica_keys: regions
                .iter()
                .filter(|region| region.as_str() != primary)
                .map(|region| at(region))
                .collect(),
        })
    }
}

/// The store's key_id for the key a caller names `key_id` in `region`. Related multi-Region keys
/// share their key id across Regions, but every store row needs an id of its own (other tables
/// refer to keys by it alone), so theirs is `<key id>@<region>`; any other id is stored as is.
/// `None` for an id with an `@` in it: no key id has one, so a caller cannot name a row by its
/// store id.
pub fn stored_key_id(region: &str, key_id: &str) -> Option<String> {
    if key_id.contains('@') {
        None
    } else if is_multi_region_key_id(key_id) {
        Some(format!("{key_id}@{region}"))
    } else {
        Some(key_id.to_string())
    }
}

/// The key id a caller sees for a store key_id (undoes [`stored_key_id`]).
pub fn visible_key_id(stored: &str) -> &str {
    stored.split_once('@').map_or(stored, |(id, _)| id)
}

/// `mrk-` and 32 lowercase hex digits: the form of the ids AWS gives multi-Region keys.
pub fn is_multi_region_key_id(key_id: &str) -> bool {
    key_id.strip_prefix("mrk-").is_some_and(|hex| {
        hex.len() == 32
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// A new multi-Region key id: `mrk-` and a random UUID's 32 hex digits.
pub fn new_multi_region_key_id() -> String {
    format!("mrk-{}", uuid::Uuid::new_v4().simple())
}

/// An algorithm list as the wire shows it: absent when empty.
pub fn listed<T: Copy>(list: &[T]) -> Option<Vec<T>> {
    (!list.is_empty()).then(|| list.to_vec())
}

/// Splits a ciphertext's key name back into (account id, key id).
pub fn parse_ciphertext_name(name: &str) -> Option<(&str, &str)> {
    let (account, key_id) = name.split_once(':')?;
    (ferrokms_types::ids::is_account_id(account) && !key_id.is_empty()).then_some((account, key_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MRK: &str = "mrk-0123456789abcdef0123456789abcdef";

    #[test]
    fn multi_region_ids_are_stored_per_region_and_shown_without_it() {
        let stored = stored_key_id("eu-west-1", MRK).expect("an id");
        assert_eq!(stored, format!("{MRK}@eu-west-1"));
        assert_eq!(visible_key_id(&stored), MRK);
        let uuid = "1234abcd-12ab-34cd-56ef-1234567890ab";
        assert_eq!(stored_key_id("eu-west-1", uuid).as_deref(), Some(uuid));
        assert_eq!(visible_key_id(uuid), uuid);
        // A caller writing a store id names nothing.
        assert_eq!(stored_key_id("eu-west-1", &stored), None);
        assert_eq!(stored_key_id("eu-west-1", "x@y"), None);
    }

    #[test]
    fn multi_region_key_ids_have_aws_form() {
        let id = new_multi_region_key_id();
        assert!(is_multi_region_key_id(&id), "{id}");
        assert_ne!(id, new_multi_region_key_id());
        for bad in [
            "mrk-",
            "mrk-0123456789ABCDEF0123456789abcdef",
            &MRK[..35],
            "1234abcd-12ab",
        ] {
            assert!(!is_multi_region_key_id(bad), "{bad}");
        }
    }
}
