//! In-process caches of the hot path: key metadata by (account, Region, key id), alias targets by
//! (account, Region, alias), and unwrapped key material by (key id, version, key row version).
//!
//! Writes made through this process update or drop their entries at once. Every entry also
//! expires, so a change made by another process (the admin command today, other nodes of a
//! cluster later) is seen within `METADATA_TTL`; a disabled or deleted key stops working within
//! that bound everywhere. Material is keyed by the key's row version as well: imported material
//! can be deleted (or expire) and come back, and every such change moves the row version, so no
//! node serves material its key no longer has past the metadata bound. It is dropped with its key
//! and expires after `MATERIAL_TTL` so unused key bytes do not linger in memory. Parsed key policies
//! are kept by row version; public keys (derived from a version's private key) live as long as
//! material; parsed identity policies expire after `METADATA_TTL`, so a policy
//! changed by the admin command applies within that bound.

use crate::key::Key;
use ferrokms_crypto::SecretBytes;
use ferrokms_policy::Policy;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

pub const METADATA_TTL: Duration = Duration::from_secs(1);
pub const MATERIAL_TTL: Duration = Duration::from_secs(300);
/// Past this many entries a map is emptied rather than grown: a crude bound, never a leak.
const MAX_ENTRIES: usize = 100_000;

/// (account id, Region, name): a key id or an alias name.
pub type Scoped = (String, String, String);

pub struct Caches {
    keys: TimedMap<Scoped, Key>,
    aliases: TimedMap<Scoped, String>,
    /// By (key id, version, key row version).
    material: TimedMap<(String, i64, i64), Arc<SecretBytes>>,
    /// The KeyMaterialId of a key version by (key id, version): fixed for the version's life
    /// (imported material can only come back as the same material).
    material_ids: TimedMap<(String, i64), Arc<str>>,
    /// DER SubjectPublicKeyInfo of a key pair by (key id, version).
    public_keys: TimedMap<(String, i64), Arc<Vec<u8>>>,
    /// Parsed key policies by (key id, row version): a new row version is a new entry.
    key_policies: TimedMap<(String, i64), Arc<Policy>>,
    /// Parsed identity policies by principal ARN.
    identity_policies: TimedMap<String, Arc<Vec<Policy>>>,
    /// A key's tags (for `aws:ResourceTag/<key>`) by key id.
    tags: TimedMap<String, Arc<Vec<(String, String)>>>,
    /// A key's alias names (for `kms:ResourceAliases`) by key id.
    key_aliases: TimedMap<String, Arc<Vec<String>>>,
}

impl Default for Caches {
    fn default() -> Self {
        Caches {
            keys: TimedMap::new(METADATA_TTL),
            aliases: TimedMap::new(METADATA_TTL),
            material: TimedMap::new(MATERIAL_TTL),
            material_ids: TimedMap::new(MATERIAL_TTL),
            public_keys: TimedMap::new(MATERIAL_TTL),
            key_policies: TimedMap::new(MATERIAL_TTL),
            identity_policies: TimedMap::new(METADATA_TTL),
            tags: TimedMap::new(METADATA_TTL),
            key_aliases: TimedMap::new(METADATA_TTL),
        }
    }
}

pub fn scoped(account_id: &str, region: &str, name: &str) -> Scoped {
    (account_id.to_string(), region.to_string(), name.to_string())
}

impl Caches {
    pub fn key(&self, at: &Scoped) -> Option<Key> {
        self.keys.get(at)
    }

    /// Caches a key row unless a newer version of it is cached already: a reader that fetched
    /// the row just before a writer changed it must not put the old row back over the new one.
    pub fn put_key(&self, key: &Key) {
        let r = &key.row;
        self.keys.put_unless(
            scoped(&r.account_id, &r.region, &r.key_id),
            key.clone(),
            |cached| cached.row.row_version > r.row_version,
        );
    }

    /// Drops a key and all of its material (after deletion).
    pub fn forget_key(&self, account_id: &str, region: &str, key_id: &str) {
        self.keys.remove(&scoped(account_id, region, key_id));
        self.material.retain(|(id, _, _)| id != key_id);
        self.material_ids.retain(|(id, _)| id != key_id);
        self.public_keys.retain(|(id, _)| id != key_id);
        self.forget_tags(key_id);
    }

    pub fn alias_target(&self, at: &Scoped) -> Option<String> {
        self.aliases.get(at)
    }

    pub fn put_alias_target(&self, at: Scoped, key_id: &str) {
        self.aliases.put(at, key_id.to_string());
    }

    /// Drops an alias and every key's alias list (an alias write may move it between keys).
    pub fn forget_alias(&self, at: &Scoped) {
        self.aliases.remove(at);
        self.key_aliases.retain(|_| false);
    }

    pub fn tags(&self, key_id: &str) -> Option<Arc<Vec<(String, String)>>> {
        self.tags.get(&key_id.to_string())
    }

    pub fn put_tags(&self, key_id: &str, tags: Arc<Vec<(String, String)>>) {
        self.tags.put(key_id.to_string(), tags);
    }

    pub fn forget_tags(&self, key_id: &str) {
        self.tags.remove(&key_id.to_string());
    }

    pub fn key_aliases(&self, key_id: &str) -> Option<Arc<Vec<String>>> {
        self.key_aliases.get(&key_id.to_string())
    }

    pub fn put_key_aliases(&self, key_id: &str, aliases: Arc<Vec<String>>) {
        self.key_aliases.put(key_id.to_string(), aliases);
    }

    pub fn key_policy(&self, key_id: &str, row_version: i64) -> Option<Arc<Policy>> {
        self.key_policies.get(&(key_id.to_string(), row_version))
    }

    pub fn put_key_policy(&self, key_id: &str, row_version: i64, policy: Arc<Policy>) {
        self.key_policies
            .put((key_id.to_string(), row_version), policy);
    }

    pub fn identity_policies(&self, principal_arn: &str) -> Option<Arc<Vec<Policy>>> {
        self.identity_policies.get(&principal_arn.to_string())
    }

    pub fn put_identity_policies(&self, principal_arn: &str, policies: Arc<Vec<Policy>>) {
        self.identity_policies
            .put(principal_arn.to_string(), policies);
    }

    pub fn material(
        &self,
        key_id: &str,
        version: i64,
        row_version: i64,
    ) -> Option<Arc<SecretBytes>> {
        self.material
            .get(&(key_id.to_string(), version, row_version))
    }

    pub fn put_material(
        &self,
        key_id: &str,
        version: i64,
        row_version: i64,
        material: Arc<SecretBytes>,
    ) {
        self.material
            .put((key_id.to_string(), version, row_version), material);
    }

    /// Drops a key's cached material (its imported material was deleted or expired here).
    pub fn forget_material(&self, key_id: &str) {
        self.material.retain(|(id, _, _)| id != key_id);
        self.public_keys.retain(|(id, _)| id != key_id);
    }

    pub fn material_id(&self, key_id: &str, version: i64) -> Option<Arc<str>> {
        self.material_ids.get(&(key_id.to_string(), version))
    }

    pub fn put_material_id(&self, key_id: &str, version: i64, material_id: Arc<str>) {
        self.material_ids
            .put((key_id.to_string(), version), material_id);
    }

    pub fn public_key(&self, key_id: &str, version: i64) -> Option<Arc<Vec<u8>>> {
        self.public_keys.get(&(key_id.to_string(), version))
    }

    pub fn put_public_key(&self, key_id: &str, version: i64, der: Arc<Vec<u8>>) {
        self.public_keys.put((key_id.to_string(), version), der);
    }
}

/// A map whose entries expire. A poisoned lock reads as a miss and skips the write: the cache is
/// an optimisation, never the source of truth.
struct TimedMap<K, V> {
    ttl: Duration,
    map: RwLock<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash, V: Clone> TimedMap<K, V> {
    fn new(ttl: Duration) -> Self {
        TimedMap {
            ttl,
            map: RwLock::new(HashMap::new()),
        }
    }

    fn get(&self, k: &K) -> Option<V> {
        let map = self.map.read().ok()?;
        let (at, v) = map.get(k)?;
        (at.elapsed() < self.ttl).then(|| v.clone())
    }

    fn put(&self, k: K, v: V) {
        if let Ok(mut map) = self.map.write() {
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(k, (Instant::now(), v));
        }
    }

    /// As `put`, but keeps a live entry for which `keep` says so.
    fn put_unless(&self, k: K, v: V, keep: impl Fn(&V) -> bool) {
        if let Ok(mut map) = self.map.write() {
            if let Some((at, cached)) = map.get(&k) {
                if at.elapsed() < self.ttl && keep(cached) {
                    return;
                }
            }
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(k, (Instant::now(), v));
        }
    }

    fn remove(&self, k: &K) {
        if let Ok(mut map) = self.map.write() {
            map.remove(k);
        }
    }

    fn retain(&self, keep: impl Fn(&K) -> bool) {
        if let Ok(mut map) = self.map.write() {
            map.retain(|k, _| keep(k));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire() {
        let map: TimedMap<&str, i32> = TimedMap::new(Duration::from_millis(20));
        map.put("a", 1);
        assert_eq!(map.get(&"a"), Some(1));
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(map.get(&"a"), None);
    }

    #[test]
    fn forget_key_drops_its_material_only() {
        let c = Caches::default();
        c.put_material("k1", 1, 1, Arc::new(SecretBytes::new(vec![1; 32])));
        c.put_material("k2", 1, 1, Arc::new(SecretBytes::new(vec![2; 32])));
        c.forget_key("111122223333", "us-east-1", "k1");
        assert!(c.material("k1", 1, 1).is_none());
        assert!(c.material("k2", 1, 1).is_some());
    }

    /// Deleted imported material must not be served from the cache: the deletion moved the
    /// key's row version, which is part of the material's cache key.
    #[test]
    fn material_of_an_older_row_version_is_not_served() {
        let c = Caches::default();
        c.put_material("k", 1, 7, Arc::new(SecretBytes::new(vec![1; 32])));
        assert!(c.material("k", 1, 7).is_some());
        assert!(c.material("k", 1, 8).is_none());
        c.forget_material("k");
        assert!(c.material("k", 1, 7).is_none());
    }
}
