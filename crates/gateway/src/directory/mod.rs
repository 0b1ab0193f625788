//! What the authorizer needs to know, read from LocalStack as the owning account's root
//! user: users, roles, groups, their policies and boundaries, access keys, OIDC
//! providers, secrets (ARN, tags, KMS key, resource policy) and KMS keys (key policy).
//!
//! Freshness: every entry remembers the *generation* of its cache at which its fetch
//! started. After relaying a request that may change state, the gateway bumps the
//! generation of every cache that service's writes can change ([`Changed`]): a Secrets
//! Manager write re-reads secrets, not users and roles; CloudFormation and unknown
//! services re-read everything. So the next request after a change reads again. Changes made behind the gateway's back (directly on LocalStack) are seen after
//! `POST /_sma/cache/invalidate`, or once an entry is older than the optional age bound
//! (zero: never cached).

mod cache;
mod iam;
mod resources;

use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::upstream::{Upstream, UpstreamError};
use aws_wire::encoding::percent_decode;
use aws_wire::xml::Element;
use cache::Cache;
pub use cache::Changed;

/// A policy document with where it came from (for decision explanations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedPolicy {
    /// `inline:user/NAME/POLICY`, `inline:role/…`, `inline:group/…` or a managed policy ARN.
    pub source: String,
    /// The JSON document.
    pub document: String,
}

/// An IAM user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    /// ARN (with path).
    pub arn: String,
    /// `AIDA…`.
    pub user_id: String,
    /// Tags.
    pub tags: Vec<(String, String)>,
    /// Permissions boundary policy, if any.
    pub boundary: Option<NamedPolicy>,
    /// Inline and attached policies of the user and of its groups.
    pub policies: Vec<NamedPolicy>,
    /// Access key ids and whether each is active.
    pub access_keys: Vec<(String, bool)>,
}

/// An IAM role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleInfo {
    /// ARN (with path).
    pub arn: String,
    /// `AROA…`.
    pub role_id: String,
    /// Tags.
    pub tags: Vec<(String, String)>,
    /// Permissions boundary policy, if any.
    pub boundary: Option<NamedPolicy>,
    /// Trust policy.
    pub trust_policy: String,
    /// `MaxSessionDuration` in seconds.
    pub max_session_duration: i64,
    /// Inline and attached policies.
    pub policies: Vec<NamedPolicy>,
}

/// A secret's metadata relevant to authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretInfo {
    /// Full ARN (with the random suffix).
    pub arn: String,
    /// Name.
    pub name: String,
    /// KMS key as recorded on the secret (`None`: the AWS managed key).
    pub kms_key_id: Option<String>,
    /// Tags.
    pub tags: Vec<(String, String)>,
    /// Resource policy, if any.
    pub resource_policy: Option<String>,
    /// Primary region.
    pub primary_region: Option<String>,
    /// Rotation Lambda ARN.
    pub rotation_lambda_arn: Option<String>,
}

/// A KMS key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// Key ARN.
    pub arn: String,
    /// `CUSTOMER` or `AWS`.
    pub manager: String,
    /// The `default` key policy.
    pub policy: Option<String>,
}

/// An IAM OIDC provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcProviderInfo {
    /// Provider ARN.
    pub arn: String,
    /// Client ids (audiences).
    pub client_ids: Vec<String>,
}

type Key2 = (String, String);
type Key3 = (String, String, String);

/// Cached, invalidatable reads of IAM / Secrets Manager / KMS state.
pub struct Directory {
    upstream: Upstream,
    generation: AtomicU64,
    max_age: Option<Duration>,
    users: Cache<Key2, Option<Arc<UserInfo>>>,
    roles: Cache<Key2, Option<Arc<RoleInfo>>>,
    managed: Cache<Key2, Option<Arc<String>>>,
    secrets: Cache<Key3, Option<Arc<SecretInfo>>>,
    keys: Cache<Key3, Option<Arc<KeyInfo>>>,
    providers: Cache<Key2, Option<Arc<OidcProviderInfo>>>,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory")
            .field("generation", &self.generation())
            .field("max_age", &self.max_age)
            .finish()
    }
}

/// The document of a policy as IAM returns it (URL-encoded) or as stored raw.
pub fn decode_policy_document(raw: &str) -> String {
    let t = raw.trim();
    if t.starts_with('{') {
        return t.to_string();
    }
    percent_decode(t).unwrap_or_else(|_| t.to_string())
}

fn members<'a>(root: &'a Element, list: &str) -> Vec<&'a Element> {
    root.find(list)
        .map(|l| l.children_named("member").collect())
        .unwrap_or_default()
}

fn tags_of(e: Option<&Element>) -> Vec<(String, String)> {
    e.map(|t| {
        t.children_named("member")
            .filter_map(|m| {
                Some((
                    m.text_at(&["Key"])?.to_string(),
                    m.text_at(&["Value"]).unwrap_or("").to_string(),
                ))
            })
            .collect()
    })
    .unwrap_or_default()
}

impl Directory {
    /// A directory reading through `upstream`, reusing entries until [`invalidate`]
    /// and, when `max_age` is set, for at most that long.
    ///
    /// [`invalidate`]: Directory::invalidate
    pub fn new(upstream: Upstream, max_age: Option<Duration>) -> Self {
        Self {
            upstream,
            generation: AtomicU64::new(1),
            max_age,
            users: Cache::new(),
            roles: Cache::new(),
            managed: Cache::new(),
            secrets: Cache::new(),
            keys: Cache::new(),
            providers: Cache::new(),
        }
    }

    /// How many invalidations there have been (of any scope).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Invalidates everything cached: the next request reads again.
    pub fn invalidate(&self) {
        self.invalidate_after(Changed::Everything);
    }

    /// Invalidates the caches that `changed` may have made stale.
    pub fn invalidate_after(&self, changed: Changed) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        let everything = changed == Changed::Everything;
        if everything || changed == Changed::Iam {
            self.users.clear();
            self.roles.clear();
            self.managed.clear();
            self.providers.clear();
        }
        if everything || changed == Changed::Secrets {
            self.secrets.clear();
        }
        if everything || changed == Changed::Kms {
            self.keys.clear();
        }
    }

    async fn cached<K, V, F, Fut>(
        &self,
        cache: &Cache<K, V>,
        key: K,
        fetch: F,
    ) -> Result<V, UpstreamError>
    where
        K: Eq + Hash + Clone,
        V: Clone,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<V, UpstreamError>>,
    {
        let generation = cache.generation();
        if let Some(v) = cache.get(&key, generation, self.max_age) {
            return Ok(v);
        }
        let seen = cache.serial_of(&key);
        let lock = cache.fetch_lock(&key);
        let _fetching = lock.lock().await;
        // Another request may have fetched it while this one waited.
        let generation = cache.generation();
        if let Some(v) = cache.get_newer(&key, generation, seen) {
            return Ok(v);
        }
        let started = Instant::now();
        let v = fetch().await?;
        cache.put(key, generation, started, v.clone());
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(decode_policy_document("%7B%22a%22%3A1%7D"), "{\"a\":1}");
        assert_eq!(
            decode_policy_document(" {\"a\":\"50%\"}"),
            "{\"a\":\"50%\"}"
        );
    }

    /// Reads `key` from `cache` (a fetch gives `None`), counting fetches in `fetches`.
    async fn read<K: Eq + Hash + Clone, V: Clone>(
        dir: &Directory,
        cache: &Cache<K, Option<V>>,
        key: K,
        fetches: &AtomicU64,
    ) {
        dir.cached(cache, key, || async {
            fetches.fetch_add(1, Ordering::SeqCst);
            Ok(None)
        })
        .await
        .expect("the fetch never fails");
    }

    #[tokio::test]
    async fn a_write_re_reads_only_what_its_service_can_change() {
        let upstream = Upstream::new("http://127.0.0.1:9", "unused", Duration::from_secs(1))
            .expect("a valid endpoint");
        let dir = Directory::new(upstream, None);
        let (iam, secrets) = (AtomicU64::new(0), AtomicU64::new(0));
        let a = || "111122223333".to_string();
        let both = || async {
            read(&dir, &dir.roles, (a(), "r".into()), &iam).await;
            read(
                &dir,
                &dir.secrets,
                (a(), "us-east-1".into(), "s".into()),
                &secrets,
            )
            .await;
        };
        let fetched = || (iam.load(Ordering::SeqCst), secrets.load(Ordering::SeqCst));
        both().await;
        both().await;
        assert_eq!(fetched(), (1, 1));
        // (what changed, fetches of the IAM and the secret entry since the start)
        for (changed, expected) in [
            (Changed::Secrets, (1, 2)),
            (Changed::Iam, (2, 2)),
            (Changed::Kms, (2, 2)),
            (Changed::Everything, (3, 3)),
        ] {
            dir.invalidate_after(changed);
            both().await;
            assert_eq!(fetched(), expected, "after a change of {changed:?}");
        }
        assert_eq!(Changed::by_service("cloudformation"), Changed::Everything);
        assert_eq!(Changed::by_service("iam"), Changed::Iam);
        assert_eq!(Changed::by_service("secretsmanager"), Changed::Secrets);
    }

    #[tokio::test]
    async fn requests_missing_the_same_entry_at_once_share_one_fetch() {
        let upstream = Upstream::new("http://127.0.0.1:9", "unused", Duration::from_secs(1))
            .expect("a valid endpoint");
        let dir = Directory::new(upstream, None);
        let fetches = AtomicU64::new(0);
        let read = || async {
            dir.cached(&dir.managed, ("a".to_string(), "p".to_string()), || async {
                fetches.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok(Some(Arc::new("doc".to_string())))
            })
            .await
            .expect("the fetch never fails")
        };
        for round in 1..=2 {
            let got = futures::future::join_all((0..8).map(|_| read())).await;
            assert!(got
                .iter()
                .all(|v| v.as_deref().map(String::as_str) == Some("doc")));
            assert_eq!(fetches.load(Ordering::SeqCst), round);
            dir.invalidate_after(Changed::Iam);
        }
    }
}
