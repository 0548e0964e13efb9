//! A key as the service layer sees it: the stored row with its enums parsed, and how it is shown
//! on the wire (KeyMetadata).

use crate::error;
use ferrokms_store::KeyRow;
use ferrokms_types::enums::{CustomerMasterKeySpec, KeySpec, KeyState, KeyUsage, Origin};
use ferrokms_types::key_specs::{self, Algorithms};
use ferrokms_types::shapes::keys::KeyMetadata;
use ferrokms_types::{KmsError, Timestamp};

#[derive(Clone, Debug)]
pub struct Key {
    pub row: KeyRow,
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
            row,
            state,
            usage,
            spec,
            origin,
        })
    }

    pub fn arn(&self) -> &str {
        &self.row.arn
    }

    pub fn id(&self) -> &str {
        &self.row.key_id
    }

    /// The name of the key inside its ciphertexts: account and key id, so that a ciphertext finds
    /// its key without a KeyId (also across accounts) while the Region stays the caller's.
    pub fn ciphertext_name(&self) -> String {
        format!("{}:{}", self.row.account_id, self.row.key_id)
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

    pub fn metadata(&self) -> KeyMetadata {
        let r = &self.row;
        let algorithms = self.algorithms();
        KeyMetadata {
            aws_account_id: r.account_id.clone(),
            key_id: r.key_id.clone(),
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
            pending_deletion_window_in_days: r
                .pending_window_days
                .filter(|_| self.state == KeyState::PendingDeletion),
            // What the key's materials say is filled in by `materials::metadata`.
            valid_to: None,
            expiration_model: None,
            current_key_material_id: None,
        }
    }
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
