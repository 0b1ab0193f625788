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

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::upstream::{Upstream, UpstreamError};
use aws_wire::arn;
use aws_wire::encoding::percent_decode;
use aws_wire::xml::Element;

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

struct Entry<V> {
    generation: u64,
    /// Which put stored it (to tell a waiting request that another one fetched it).
    serial: u64,
    fetched: Instant,
    value: V,
}

struct Cache<K, V> {
    generation: AtomicU64,
    map: Mutex<HashMap<K, Entry<V>>>,
    /// One lock per key being fetched: requests that miss the same entry at once wait
    /// for one fetch instead of each reading LocalStack (a burst after an invalidation
    /// would otherwise multiply LocalStack's work by the requests in flight).
    fetching: Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>,
    puts: AtomicU64,
}

impl<K: Eq + Hash + Clone, V: Clone> Cache<K, V> {
    fn new() -> Self {
        Self {
            generation: AtomicU64::new(1),
            map: Mutex::new(HashMap::new()),
            fetching: Mutex::new(HashMap::new()),
            puts: AtomicU64::new(0),
        }
    }

    /// Which put stored the entry of `k`, if any.
    fn serial_of(&self, k: &K) -> Option<u64> {
        self.map.lock().ok()?.get(k).map(|e| e.serial)
    }

    /// The entry of `k` when it belongs to `generation` and was stored by another put
    /// than `seen` (a fetch that finished while the caller waited).
    fn get_newer(&self, k: &K, generation: u64, seen: Option<u64>) -> Option<V> {
        let map = self.map.lock().ok()?;
        let e = map.get(k)?;
        (e.generation == generation && Some(e.serial) != seen).then(|| e.value.clone())
    }

    /// The lock that serializes fetches of `k`.
    fn fetch_lock(&self, k: &K) -> Arc<tokio::sync::Mutex<()>> {
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

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// The cached value when it belongs to `generation` and is younger than `max_age`
    /// (if bounded).
    /// When only the age bound has passed, this caller gets `None` (and refreshes the
    /// entry) while concurrent callers keep the current value until the refresh lands:
    /// one request per entry and bound pays for the re-read, not all in flight.
    fn get(&self, k: &K, generation: u64, max_age: Option<Duration>) -> Option<V> {
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

    fn put(&self, k: K, generation: u64, fetched: Instant, value: V) {
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
    fn clear(&self) {
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

    async fn paged(
        &self,
        account: &str,
        params: &[(&str, &str)],
        list: &str,
    ) -> Result<Vec<Element>, UpstreamError> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        for _ in 0..100 {
            let mut p: Vec<(&str, &str)> = params.to_vec();
            if let Some(m) = &marker {
                p.push(("Marker", m));
            }
            let root = self.upstream.query(account, "iam", &p).await?;
            out.extend(members(&root, list).into_iter().cloned());
            let truncated = root
                .find("IsTruncated")
                .map(|e| e.text.trim() == "true")
                .unwrap_or(false);
            marker = root
                .find("Marker")
                .map(|e| e.text.trim().to_string())
                .filter(|m| !m.is_empty());
            if !truncated || marker.is_none() {
                return Ok(out);
            }
        }
        Err(UpstreamError::Parse(format!(
            "too many pages listing {list}"
        )))
    }

    /// A managed policy's default version document (read as root of `account`).
    pub async fn managed_policy(
        &self,
        account: &str,
        arn: &str,
    ) -> Result<Option<Arc<String>>, UpstreamError> {
        let key = (account.to_string(), arn.to_string());
        self.cached(&self.managed, key, || async {
            let root = match self
                .upstream
                .query(
                    account,
                    "iam",
                    &[
                        ("Action", "GetPolicy"),
                        ("Version", "2010-05-08"),
                        ("PolicyArn", arn),
                    ],
                )
                .await
            {
                Err(e) if e.is_code("NoSuchEntity") => return Ok(None),
                r => r?,
            };
            let version = root
                .find("DefaultVersionId")
                .map(|e| e.text.trim().to_string())
                .ok_or_else(|| UpstreamError::Parse("GetPolicy lacks DefaultVersionId".into()))?;
            let v = self
                .upstream
                .query(
                    account,
                    "iam",
                    &[
                        ("Action", "GetPolicyVersion"),
                        ("Version", "2010-05-08"),
                        ("PolicyArn", arn),
                        ("VersionId", &version),
                    ],
                )
                .await?;
            let doc = v
                .find("Document")
                .map(|e| decode_policy_document(&e.text))
                .ok_or_else(|| UpstreamError::Parse("GetPolicyVersion lacks Document".into()))?;
            Ok(Some(Arc::new(doc)))
        })
        .await
    }

    async fn attached(
        &self,
        account: &str,
        action: &str,
        entity_param: &str,
        entity: &str,
    ) -> Result<Vec<NamedPolicy>, UpstreamError> {
        let mut out = Vec::new();
        for m in self
            .paged(
                account,
                &[
                    ("Action", action),
                    ("Version", "2010-05-08"),
                    (entity_param, entity),
                ],
                "AttachedPolicies",
            )
            .await?
        {
            let Some(arn) = m.text_at(&["PolicyArn"]) else {
                continue;
            };
            let doc = self
                .managed_policy(account, arn)
                .await?
                .ok_or_else(|| UpstreamError::Parse(format!("attached policy {arn} not found")))?;
            out.push(NamedPolicy {
                source: arn.to_string(),
                document: doc.as_ref().clone(),
            });
        }
        Ok(out)
    }

    async fn inline(
        &self,
        account: &str,
        kind: &str,
        entity_param: &str,
        entity: &str,
    ) -> Result<Vec<NamedPolicy>, UpstreamError> {
        let (list, get) = match kind {
            "user" => ("ListUserPolicies", "GetUserPolicy"),
            "role" => ("ListRolePolicies", "GetRolePolicy"),
            _ => ("ListGroupPolicies", "GetGroupPolicy"),
        };
        let mut out = Vec::new();
        for m in self
            .paged(
                account,
                &[
                    ("Action", list),
                    ("Version", "2010-05-08"),
                    (entity_param, entity),
                ],
                "PolicyNames",
            )
            .await?
        {
            let name = m.text.trim().to_string();
            let root = self
                .upstream
                .query(
                    account,
                    "iam",
                    &[
                        ("Action", get),
                        ("Version", "2010-05-08"),
                        (entity_param, entity),
                        ("PolicyName", &name),
                    ],
                )
                .await?;
            let doc = root
                .find("PolicyDocument")
                .map(|e| decode_policy_document(&e.text))
                .ok_or_else(|| UpstreamError::Parse(format!("{get} lacks PolicyDocument")))?;
            out.push(NamedPolicy {
                source: format!("inline:{kind}/{entity}/{name}"),
                document: doc,
            });
        }
        Ok(out)
    }

    async fn boundary(
        &self,
        account: &str,
        entity: &Element,
    ) -> Result<Option<NamedPolicy>, UpstreamError> {
        let Some(arn) = entity
            .path(&["PermissionsBoundary", "PermissionsBoundaryArn"])
            .map(|e| e.text.trim().to_string())
        else {
            return Ok(None);
        };
        if arn.is_empty() {
            return Ok(None);
        }
        // A boundary naming a missing policy allows nothing (fail closed).
        let doc = self
            .managed_policy(account, &arn)
            .await?
            .map(|d| d.as_ref().clone())
            .unwrap_or_else(|| r#"{"Version":"2012-10-17","Statement":[]}"#.to_string());
        Ok(Some(NamedPolicy {
            source: arn,
            document: doc,
        }))
    }

    /// An IAM user with everything that decides its permissions.
    pub async fn user(
        &self,
        account: &str,
        name: &str,
    ) -> Result<Option<Arc<UserInfo>>, UpstreamError> {
        let key = (account.to_string(), name.to_string());
        self.cached(&self.users, key, || async {
            let root = match self
                .upstream
                .query(
                    account,
                    "iam",
                    &[
                        ("Action", "GetUser"),
                        ("Version", "2010-05-08"),
                        ("UserName", name),
                    ],
                )
                .await
            {
                Err(e) if e.is_code("NoSuchEntity") => return Ok(None),
                r => r?,
            };
            let user = root
                .find("User")
                .ok_or_else(|| UpstreamError::Parse("GetUser lacks User".into()))?;
            let arn = user.text_at(&["Arn"]).unwrap_or("").trim().to_string();
            let user_id = user.text_at(&["UserId"]).unwrap_or("").trim().to_string();
            let mut tags = tags_of(user.child("Tags"));
            if user.child("Tags").is_none() {
                let t = self
                    .upstream
                    .query(
                        account,
                        "iam",
                        &[
                            ("Action", "ListUserTags"),
                            ("Version", "2010-05-08"),
                            ("UserName", name),
                        ],
                    )
                    .await?;
                tags = tags_of(t.find("Tags"));
            }
            let boundary = self.boundary(account, user).await?;
            let mut policies = self.inline(account, "user", "UserName", name).await?;
            policies.extend(
                self.attached(account, "ListAttachedUserPolicies", "UserName", name)
                    .await?,
            );
            for g in self
                .paged(
                    account,
                    &[
                        ("Action", "ListGroupsForUser"),
                        ("Version", "2010-05-08"),
                        ("UserName", name),
                    ],
                    "Groups",
                )
                .await?
            {
                let Some(group) = g.text_at(&["GroupName"]).map(|s| s.trim().to_string()) else {
                    continue;
                };
                policies.extend(self.inline(account, "group", "GroupName", &group).await?);
                policies.extend(
                    self.attached(account, "ListAttachedGroupPolicies", "GroupName", &group)
                        .await?,
                );
            }
            let access_keys = self
                .paged(
                    account,
                    &[
                        ("Action", "ListAccessKeys"),
                        ("Version", "2010-05-08"),
                        ("UserName", name),
                    ],
                    "AccessKeyMetadata",
                )
                .await?
                .iter()
                .filter_map(|m| {
                    Some((
                        m.text_at(&["AccessKeyId"])?.trim().to_string(),
                        m.text_at(&["Status"])
                            .map(|s| s.trim() == "Active")
                            .unwrap_or(false),
                    ))
                })
                .collect();
            Ok(Some(Arc::new(UserInfo {
                arn,
                user_id,
                tags,
                boundary,
                policies,
                access_keys,
            })))
        })
        .await
    }

    /// An IAM role with its trust policy, boundary and policies.
    pub async fn role(
        &self,
        account: &str,
        name: &str,
    ) -> Result<Option<Arc<RoleInfo>>, UpstreamError> {
        let key = (account.to_string(), name.to_string());
        self.cached(&self.roles, key, || async {
            let root = match self
                .upstream
                .query(
                    account,
                    "iam",
                    &[
                        ("Action", "GetRole"),
                        ("Version", "2010-05-08"),
                        ("RoleName", name),
                    ],
                )
                .await
            {
                Err(e) if e.is_code("NoSuchEntity") => return Ok(None),
                r => r?,
            };
            let role = root
                .find("Role")
                .ok_or_else(|| UpstreamError::Parse("GetRole lacks Role".into()))?;
            let arn = role.text_at(&["Arn"]).unwrap_or("").trim().to_string();
            let role_id = role.text_at(&["RoleId"]).unwrap_or("").trim().to_string();
            let mut tags = tags_of(role.child("Tags"));
            if role.child("Tags").is_none() {
                let t = self
                    .upstream
                    .query(
                        account,
                        "iam",
                        &[
                            ("Action", "ListRoleTags"),
                            ("Version", "2010-05-08"),
                            ("RoleName", name),
                        ],
                    )
                    .await?;
                tags = tags_of(t.find("Tags"));
            }
            let trust_policy = role
                .text_at(&["AssumeRolePolicyDocument"])
                .map(decode_policy_document)
                .unwrap_or_default();
            let max_session_duration = role
                .text_at(&["MaxSessionDuration"])
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(3600);
            let boundary = self.boundary(account, role).await?;
            let mut policies = self.inline(account, "role", "RoleName", name).await?;
            policies.extend(
                self.attached(account, "ListAttachedRolePolicies", "RoleName", name)
                    .await?,
            );
            Ok(Some(Arc::new(RoleInfo {
                arn,
                role_id,
                tags,
                boundary,
                trust_policy,
                max_session_duration,
                policies,
            })))
        })
        .await
    }

    /// A role by ARN (`arn:aws:iam::ACCT:role/PATH/NAME`).
    pub async fn role_by_arn(&self, arn: &str) -> Result<Option<Arc<RoleInfo>>, UpstreamError> {
        let (Some(account), Some(name)) = (arn::account(arn), arn::resource_name(arn, "role"))
        else {
            return Ok(None);
        };
        let role = self.role(account, name).await?;
        // The path must match too: a role ARN with a wrong path names no role.
        Ok(role.filter(|r| r.arn == arn))
    }

    /// An OIDC provider of `account` for an issuer URL (`https://host/path`).
    pub async fn oidc_provider(
        &self,
        account: &str,
        issuer: &str,
    ) -> Result<Option<Arc<OidcProviderInfo>>, UpstreamError> {
        let host_path = issuer
            .strip_prefix("https://")
            .unwrap_or(issuer)
            .trim_end_matches('/');
        let arn = format!("arn:aws:iam::{account}:oidc-provider/{host_path}");
        let key = (account.to_string(), arn.clone());
        self.cached(&self.providers, key, || async {
            let root = match self
                .upstream
                .query(
                    account,
                    "iam",
                    &[
                        ("Action", "GetOpenIDConnectProvider"),
                        ("Version", "2010-05-08"),
                        ("OpenIDConnectProviderArn", &arn),
                    ],
                )
                .await
            {
                Err(e) if e.is_code("NoSuchEntity") => return Ok(None),
                r => r?,
            };
            let client_ids = members(&root, "ClientIDList")
                .iter()
                .map(|m| m.text.trim().to_string())
                .collect();
            Ok(Some(Arc::new(OidcProviderInfo {
                arn: arn.clone(),
                client_ids,
            })))
        })
        .await
    }

    /// A secret by id (name, full or partial ARN) in `account`/`region`.
    pub async fn secret(
        &self,
        account: &str,
        region: &str,
        secret_id: &str,
    ) -> Result<Option<Arc<SecretInfo>>, UpstreamError> {
        let key = (
            account.to_string(),
            region.to_string(),
            secret_id.to_string(),
        );
        self.cached(&self.secrets, key, || async {
            let d = match self
                .upstream
                .json(
                    account,
                    region,
                    "secretsmanager",
                    "secretsmanager.DescribeSecret",
                    &json!({"SecretId": secret_id}),
                )
                .await
            {
                Err(e) if e.is_code("ResourceNotFoundException") => return Ok(None),
                r => r?,
            };
            let s = |k: &str| d.get(k).and_then(Value::as_str).map(str::to_string);
            let arn =
                s("ARN").ok_or_else(|| UpstreamError::Parse("DescribeSecret lacks ARN".into()))?;
            let tags = d
                .get("Tags")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|t| {
                            Some((
                                t.get("Key")?.as_str()?.to_string(),
                                t.get("Value")
                                    .and_then(Value::as_str)
                                    .unwrap_or("")
                                    .to_string(),
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let p = self
                .upstream
                .json(
                    account,
                    region,
                    "secretsmanager",
                    "secretsmanager.GetResourcePolicy",
                    &json!({"SecretId": arn}),
                )
                .await?;
            let resource_policy = p
                .get("ResourcePolicy")
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
                .map(str::to_string);
            Ok(Some(Arc::new(SecretInfo {
                name: s("Name").unwrap_or_default(),
                kms_key_id: s("KmsKeyId").filter(|k| !k.is_empty()),
                tags,
                resource_policy,
                primary_region: s("PrimaryRegion"),
                rotation_lambda_arn: s("RotationLambdaARN"),
                arn,
            })))
        })
        .await
    }

    /// A KMS key by id, ARN or alias, in `account`/`region`.
    pub async fn kms_key(
        &self,
        account: &str,
        region: &str,
        key_id: &str,
    ) -> Result<Option<Arc<KeyInfo>>, UpstreamError> {
        let key = (account.to_string(), region.to_string(), key_id.to_string());
        self.cached(&self.keys, key, || async {
            let d = match self
                .upstream
                .json(
                    account,
                    region,
                    "kms",
                    "TrentService.DescribeKey",
                    &json!({"KeyId": key_id}),
                )
                .await
            {
                Err(e) if e.is_code("NotFoundException") => return Ok(None),
                r => r?,
            };
            let meta = d
                .get("KeyMetadata")
                .ok_or_else(|| UpstreamError::Parse("DescribeKey lacks KeyMetadata".into()))?;
            let arn = meta
                .get("Arn")
                .and_then(Value::as_str)
                .ok_or_else(|| UpstreamError::Parse("DescribeKey lacks Arn".into()))?
                .to_string();
            let manager = meta
                .get("KeyManager")
                .and_then(Value::as_str)
                .unwrap_or("CUSTOMER")
                .to_string();
            let key_id = meta
                .get("KeyId")
                .and_then(Value::as_str)
                .unwrap_or(key_id)
                .to_string();
            let policy = match self
                .upstream
                .json(
                    account,
                    region,
                    "kms",
                    "TrentService.GetKeyPolicy",
                    &json!({"KeyId": key_id, "PolicyName": "default"}),
                )
                .await
            {
                Ok(p) => p.get("Policy").and_then(Value::as_str).map(str::to_string),
                Err(e) if e.is_code("NotFoundException") => None,
                Err(e) => return Err(e),
            };
            Ok(Some(Arc::new(KeyInfo {
                arn,
                manager,
                policy,
            })))
        })
        .await
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
