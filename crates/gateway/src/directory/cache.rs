//! The directory's cache: entries stamped with the generation at which their fetch
//! started, one fetch per missing key at a time, and [`Changed`] (which caches a
//! relayed write makes stale).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Entry<V> {
    generation: u64,
    /// Which put stored it (to tell a waiting request that another one fetched it).
    serial: u64,
    fetched: Instant,
    value: V,
}

pub(super) struct Cache<K, V> {
    generation: AtomicU64,
    map: Mutex<HashMap<K, Entry<V>>>,
    /// One lock per key being fetched: requests that miss the same entry at once wait
    /// for one fetch instead of each reading LocalStack (a burst after an invalidation
    /// would otherwise multiply LocalStack's work by the requests in flight).
    fetching: Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>,
    puts: AtomicU64,
}

impl<K: Eq + Hash + Clone, V: Clone> Cache<K, V> {
    pub(super) fn new() -> Self {
        Self {
            generation: AtomicU64::new(1),
            map: Mutex::new(HashMap::new()),
            fetching: Mutex::new(HashMap::new()),
            puts: AtomicU64::new(0),
        }
    }

    /// Which put stored the entry of `k`, if any.
    pub(super) fn serial_of(&self, k: &K) -> Option<u64> {
        self.map.lock().ok()?.get(k).map(|e| e.serial)
    }

    /// The entry of `k` when it belongs to `generation` and was stored by another put
    /// than `seen` (a fetch that finished while the caller waited).
    pub(super) fn get_newer(&self, k: &K, generation: u64, seen: Option<u64>) -> Option<V> {
        let map = self.map.lock().ok()?;
        let e = map.get(k)?;
        (e.generation == generation && Some(e.serial) != seen).then(|| e.value.clone())
    }

    /// The lock that serializes fetches of `k`.
    pub(super) fn fetch_lock(&self, k: &K) -> Arc<tokio::sync::Mutex<()>> {
        match self.fetching.lock() {
            Ok(mut m) => {
                if m.len() > 50_000 {
                    m.clear();
                }
                m.entry(k.clone()).or_default().clone()
            }
            // A poisoned map only loses the sharing, never freshness.
            Err(_) => Arc::default(),
        }
    }

    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// The cached value when it belongs to `generation` and is younger than `max_age`
    /// (if bounded).
    /// When only the age bound has passed, this caller gets `None` (and refreshes the
    /// entry) while concurrent callers keep the current value until the refresh lands:
    /// one request per entry and bound pays for the re-read, not all in flight.
    pub(super) fn get(&self, k: &K, generation: u64, max_age: Option<Duration>) -> Option<V> {
        let mut map = self.map.lock().ok()?;
        let e = map.get_mut(k)?;
        if e.generation != generation {
            return None;
        }
        if max_age.is_none_or(|bound| e.fetched.elapsed() < bound) {
            return Some(e.value.clone());
        }
        e.fetched = Instant::now();
        None
    }

    pub(super) fn put(&self, k: K, generation: u64, fetched: Instant, value: V) {
        if let Ok(mut map) = self.map.lock() {
            if map.len() > 50_000 {
                map.clear();
            }
            map.insert(
                k,
                Entry {
                    generation,
                    serial: self.puts.fetch_add(1, Ordering::SeqCst) + 1,
                    fetched,
                    value,
                },
            );
        }
    }

    /// Forgets every entry; an entry whose fetch started before this call is stored
    /// with the old generation and so never served.
    pub(super) fn clear(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut m) = self.map.lock() {
            m.clear();
        }
    }
}

/// What a relayed write may have changed: which caches must be read again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changed {
    /// IAM: users, roles, groups, policies, access keys, OIDC providers.
    Iam,
    /// Secrets Manager: a secret's existence, tags, KMS key or resource policy.
    Secrets,
    /// KMS: keys and their policies.
    Kms,
    /// Anything (CloudFormation, admin registrations, unknown services).
    Everything,
}

impl Changed {
    /// What a write to `service` may change.
    pub fn by_service(service: &str) -> Self {
        match service {
            "iam" => Self::Iam,
            "secretsmanager" => Self::Secrets,
            "kms" => Self::Kms,
            _ => Self::Everything,
        }
    }
}
