//! In-process caches of the hot path: key metadata by (account, Region, key id), alias targets by
//! (account, Region, alias), and unwrapped key material by (key id, version, key row version).
//!
//! Writes made through this process update or drop their entries at once. Writes made anywhere
//! else (another node, the admin command) reach the store's change feed, written by triggers in
//! the writing transaction; while this process follows the feed (see [`crate::change_feed`]) it
//! drops each changed entry as soon as it reads the change, and metadata entries live up to
//! `FOLLOWED_TTL` as a backstop. While it does not (the feed is not followed, or the store cannot
//! be read), metadata expires after `METADATA_TTL`, so a disabled or deleted key stops working
//! within that bound everywhere, and when following resumes every entry is dropped.
//!
//! A reader that fetched a row just before a change must not cache the old row after the feed
//! has dropped it: it takes a [`ReadTicket`] before reading, and its entry is cached only if no
//! change was applied in between (checked under the map's lock, which applying changes takes
//! after counting them).
//!
//! Material is keyed by the key's row version as well: imported material can be deleted (or
//! expire) and come back, and every such change moves the row version, so no node serves
//! material its key no longer has past the metadata bound. It is dropped with its key and
//! expires after `MATERIAL_TTL` so unused key bytes do not linger in memory. Parsed key policies
//! are kept by row version; public keys (derived from a version's private key) live as long as
//! material; parsed identity policies are metadata.

use crate::key::Key;
use ferrokms_crypto::SecretBytes;
use ferrokms_policy::Policy;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How long metadata stays cached while the change feed is not followed.
pub const METADATA_TTL: Duration = Duration::from_secs(1);
/// How long metadata stays cached while the change feed is followed: changes drop their entries,
/// this only bounds the cost of a change the feed missed (see [`crate::change_feed`]).
pub const FOLLOWED_TTL: Duration = Duration::from_secs(60);
pub const MATERIAL_TTL: Duration = Duration::from_secs(300);
/// Past this many entries a map is emptied rather than grown: a crude bound, never a leak.
const MAX_ENTRIES: usize = 100_000;

/// (account id, Region, name): a key id or an alias name.
pub type Scoped = (String, String, String);

pub struct Caches {
    freshness: Arc<Freshness>,
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

/// How long one successful read of the change feed keeps the caches following it: a reader
/// stuck on an unanswering store (no error, just silence) stops counting as following after this
/// long, and metadata falls back to `METADATA_TTL`.
pub const FOLLOW_LEASE: Duration = Duration::from_secs(1);

/// What the maps share: whether the change feed is followed, and how many rounds of changes
/// have been applied (the number a [`ReadTicket`] holds).
struct Freshness {
    /// The change feed is followed until this many milliseconds after `epoch` (0: not at all).
    followed_until_ms: AtomicU64,
    epoch: Instant,
    applied: AtomicU64,
    /// Moves with every change to principals or access keys read from the feed, and whenever
    /// following starts or stops: a cache of credentials is current while it is unchanged.
    identity: AtomicU64,
}

impl Default for Freshness {
    fn default() -> Self {
        Freshness {
            followed_until_ms: AtomicU64::new(0),
            epoch: Instant::now(),
            applied: AtomicU64::new(0),
            identity: AtomicU64::new(0),
        }
    }
}

impl Freshness {
    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn following(&self) -> bool {
        self.now_ms() < self.followed_until_ms.load(Ordering::Acquire)
    }
}

/// Taken before a store read whose result is to be cached; see the module docs.
#[derive(Clone, Copy, Debug)]
pub struct ReadTicket(u64);

impl Default for Caches {
    fn default() -> Self {
        let freshness = Arc::new(Freshness::default());
        let f = &freshness;
        Caches {
            keys: TimedMap::metadata(f.clone()),
            aliases: TimedMap::metadata(f.clone()),
            material: TimedMap::new(MATERIAL_TTL),
            material_ids: TimedMap::new(MATERIAL_TTL),
            public_keys: TimedMap::new(MATERIAL_TTL),
            key_policies: TimedMap::new(MATERIAL_TTL),
            identity_policies: TimedMap::metadata(f.clone()),
            tags: TimedMap::metadata(f.clone()),
            key_aliases: TimedMap::metadata(f.clone()),
            freshness,
        }
    }
}

pub fn scoped(account_id: &str, region: &str, name: &str) -> Scoped {
    (account_id.to_string(), region.to_string(), name.to_string())
}

impl Caches {
    /// The ticket for a store read that starts now.
    pub fn read_ticket(&self) -> ReadTicket {
        ReadTicket(self.freshness.applied.load(Ordering::SeqCst))
    }

    /// Whether the change feed is followed (metadata then lives `FOLLOWED_TTL`): it was read
    /// successfully less than `FOLLOW_LEASE` ago.
    pub fn following(&self) -> bool {
        self.freshness.following()
    }

    /// See [`Freshness::identity`].
    pub fn identity_epoch(&self) -> u64 {
        self.freshness.identity.load(Ordering::Acquire)
    }

    /// The change feed was read successfully just now (its changes applied): following lasts
    /// `FOLLOW_LEASE` more. If it had lapsed (or never started), whatever was cached may have
    /// missed changes meanwhile, so everything is dropped first.
    pub fn renew_following(&self) {
        let f = &self.freshness;
        if !f.following() {
            self.forget_everything();
        }
        let until = f.now_ms() + FOLLOW_LEASE.as_millis() as u64;
        f.followed_until_ms.store(until, Ordering::Release);
    }

    /// The feed cannot be read: metadata falls back to `METADATA_TTL` at once, without waiting
    /// for the lease to run out.
    pub fn stop_following(&self) {
        self.freshness.followed_until_ms.store(0, Ordering::Release);
        self.freshness.identity.fetch_add(1, Ordering::AcqRel);
    }

    /// Drops what each change makes stale (see [`ferrokms_store::ChangeRow`] for the kinds).
    pub fn apply_changes(&self, changes: &[ferrokms_store::ChangeRow]) {
        if changes.is_empty() {
            return;
        }
        // Counted before anything is dropped: a reader whose ticket predates this round and
        // who caches after the count is refused; one who cached before is dropped below.
        self.freshness.applied.fetch_add(1, Ordering::SeqCst);
        for change in changes {
            match change.kind.as_str() {
                "key" => self.forget_key(&change.account_id, &change.region, &change.name),
                "tags" => self.forget_tags(&change.name),
                "alias" => {
                    self.forget_alias(&scoped(&change.account_id, &change.region, &change.name))
                }
                "policies" => self.identity_policies.remove(&change.name),
                "identity" => {
                    self.freshness.identity.fetch_add(1, Ordering::AcqRel);
                }
                // A kind this version does not know (written by a newer node): drop everything.
                _ => self.forget_everything(),
            }
        }
    }

    fn forget_everything(&self) {
        self.freshness.applied.fetch_add(1, Ordering::SeqCst);
        self.freshness.identity.fetch_add(1, Ordering::AcqRel);
        self.keys.clear();
        self.aliases.clear();
        self.identity_policies.clear();
        self.tags.clear();
        self.key_aliases.clear();
    }

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
            None,
        );
    }

    /// As `put_key`, for a row read from the store under `ticket`.
    pub fn put_read_key(&self, key: &Key, ticket: ReadTicket) {
        let r = &key.row;
        self.keys.put_unless(
            scoped(&r.account_id, &r.region, &r.key_id),
            key.clone(),
            |cached| cached.row.row_version > r.row_version,
            Some(ticket),
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

    pub fn put_alias_target(&self, at: Scoped, key_id: &str, ticket: ReadTicket) {
        self.aliases.put_read(at, key_id.to_string(), ticket);
    }

    /// Drops an alias and every key's alias list (an alias write may move it between keys).
    pub fn forget_alias(&self, at: &Scoped) {
        self.aliases.remove(at);
        self.key_aliases.retain(|_| false);
    }

    pub fn tags(&self, key_id: &str) -> Option<Arc<Vec<(String, String)>>> {
        self.tags.get(&key_id.to_string())
    }

    pub fn put_tags(&self, key_id: &str, tags: Arc<Vec<(String, String)>>, ticket: ReadTicket) {
        self.tags.put_read(key_id.to_string(), tags, ticket);
    }

    pub fn forget_tags(&self, key_id: &str) {
        self.tags.remove(&key_id.to_string());
    }

    pub fn key_aliases(&self, key_id: &str) -> Option<Arc<Vec<String>>> {
        self.key_aliases.get(&key_id.to_string())
    }

    pub fn put_key_aliases(&self, key_id: &str, aliases: Arc<Vec<String>>, ticket: ReadTicket) {
        self.key_aliases
            .put_read(key_id.to_string(), aliases, ticket);
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

    pub fn put_identity_policies(
        &self,
        principal_arn: &str,
        policies: Arc<Vec<Policy>>,
        ticket: ReadTicket,
    ) {
        self.identity_policies
            .put_read(principal_arn.to_string(), policies, ticket);
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
    /// For metadata: the shared freshness, which lengthens the TTL to `FOLLOWED_TTL` while the
    /// change feed is followed and refuses entries read under an outdated ticket.
    freshness: Option<Arc<Freshness>>,
    map: RwLock<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash, V: Clone> TimedMap<K, V> {
    fn new(ttl: Duration) -> Self {
        TimedMap {
            ttl,
            freshness: None,
            map: RwLock::new(HashMap::new()),
        }
    }

    fn metadata(freshness: Arc<Freshness>) -> Self {
        TimedMap {
            freshness: Some(freshness),
            ..TimedMap::new(METADATA_TTL)
        }
    }

    fn ttl(&self) -> Duration {
        match &self.freshness {
            Some(f) if f.following() => FOLLOWED_TTL,
            _ => self.ttl,
        }
    }

    /// Whether an entry read under `ticket` may still be cached (see the module docs); called
    /// with the map's lock held.
    fn admits(&self, ticket: Option<ReadTicket>) -> bool {
        match (&self.freshness, ticket) {
            (Some(f), Some(t)) => f.applied.load(Ordering::SeqCst) == t.0,
            _ => true,
        }
    }

    fn get(&self, k: &K) -> Option<V> {
        let map = self.map.read().ok()?;
        let (at, v) = map.get(k)?;
        (at.elapsed() < self.ttl()).then(|| v.clone())
    }

    fn put(&self, k: K, v: V) {
        self.put_unless(k, v, |_| false, None);
    }

    /// As `put`, for a value read from the store under `ticket`.
    fn put_read(&self, k: K, v: V, ticket: ReadTicket) {
        self.put_unless(k, v, |_| false, Some(ticket));
    }

    /// As `put`, but keeps a live entry for which `keep` says so, and caches nothing read under
    /// an outdated `ticket`.
    fn put_unless(&self, k: K, v: V, keep: impl Fn(&V) -> bool, ticket: Option<ReadTicket>) {
        if let Ok(mut map) = self.map.write() {
            if !self.admits(ticket) {
                return;
            }
            if let Some((at, cached)) = map.get(&k) {
                if at.elapsed() < self.ttl() && keep(cached) {
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

    fn clear(&self) {
        self.retain(|_| false);
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

    fn change(kind: &str, name: &str) -> ferrokms_store::ChangeRow {
        ferrokms_store::ChangeRow {
            seq: 1,
            kind: kind.into(),
            account_id: String::new(),
            region: String::new(),
            name: name.into(),
        }
    }

    /// A reader that fetched tags before a change was applied must not cache them after it:
    /// the feed already dropped the entry, and nothing would drop the stale one.
    #[test]
    fn a_read_that_started_before_a_change_is_not_cached() {
        let c = Caches::default();
        let ticket = c.read_ticket();
        c.apply_changes(&[change("tags", "k")]);
        c.put_tags("k", Arc::new(vec![("old".into(), "1".into())]), ticket);
        assert!(c.tags("k").is_none());
        // A read that starts after it is.
        let ticket = c.read_ticket();
        c.put_tags("k", Arc::new(vec![("new".into(), "1".into())]), ticket);
        assert!(c.tags("k").is_some());
    }

    #[test]
    fn each_kind_of_change_drops_its_entries() {
        let c = Caches::default();
        let t = c.read_ticket();
        c.put_tags("k", Arc::new(Vec::new()), t);
        c.put_identity_policies("arn:p", Arc::new(Vec::new()), t);
        c.put_alias_target(scoped("a", "r", "alias/x"), "k", t);
        c.put_key_aliases("k", Arc::new(vec!["alias/x".into()]), t);
        let epoch = c.identity_epoch();

        c.apply_changes(&[change("tags", "k")]);
        assert!(c.tags("k").is_none());
        assert!(c.identity_policies("arn:p").is_some());
        c.apply_changes(&[change("policies", "arn:p")]);
        assert!(c.identity_policies("arn:p").is_none());
        let mut alias = change("alias", "alias/x");
        (alias.account_id, alias.region) = ("a".into(), "r".into());
        c.apply_changes(&[alias]);
        assert!(c.alias_target(&scoped("a", "r", "alias/x")).is_none());
        assert!(c.key_aliases("k").is_none());
        assert_eq!(c.identity_epoch(), epoch);
        c.apply_changes(&[change("identity", "")]);
        assert!(c.identity_epoch() > epoch);
    }

    /// A kind written by a newer version is not ignored: everything is dropped.
    #[test]
    fn an_unknown_kind_of_change_drops_everything() {
        let c = Caches::default();
        c.put_tags("k", Arc::new(Vec::new()), c.read_ticket());
        c.apply_changes(&[change("something-new", "x")]);
        assert!(c.tags("k").is_none());
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
