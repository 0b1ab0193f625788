//! From an authenticated identity to an `iam` decision: the caller's principal and
//! policies (read through the [`Directory`]), the request context AWS would build, and
//! the call into [`iam::authorize`]. The gateway never evaluates policies itself.
//!
//! Fail closed: a policy that does not parse, a principal that cannot be built or a
//! read that fails is a denial with the reason, never an allow.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use thiserror::Error;

use crate::credentials::{Identity, Session, SessionKind};
use crate::directory::{Directory, NamedPolicy};
use crate::errors::AuthFailure;
use crate::issuers::IssuerRegistry;
use crate::upstream::UpstreamError;
use aws_wire::arn;
use aws_wire::time::{format_rfc3339, unix_now};

/// Why a decision could not be made (always answered as a denial).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum AuthzError {
    /// Reading IAM/Secrets Manager/KMS state from LocalStack failed.
    #[error("could not read authorization data from LocalStack: {0}")]
    Upstream(#[from] UpstreamError),
    /// A policy document did not parse.
    #[error("policy {name} could not be parsed (request denied, fail closed): {error}")]
    Policy {
        /// Where the policy came from.
        name: String,
        /// Parser message.
        error: String,
    },
    /// The principal could not be represented.
    #[error("principal could not be built: {0}")]
    Principal(String),
    /// The credentials no longer stand for a principal (deleted user or key).
    #[error("credentials no longer valid")]
    Credentials(AuthFailure),
}

/// Parsed policies shared across requests, keyed by document text.
#[derive(Debug, Default)]
pub struct PolicyCache {
    map: Mutex<HashMap<String, Arc<iam::Policy>>>,
}

impl PolicyCache {
    /// Parses `doc` (or returns the cached parse).
    pub fn parse(&self, name: &str, doc: &str) -> Result<Arc<iam::Policy>, AuthzError> {
        if let Some(p) = self.map.lock().ok().and_then(|m| m.get(doc).cloned()) {
            return Ok(p);
        }
        let p = Arc::new(iam::Policy::parse(doc).map_err(|e| AuthzError::Policy {
            name: name.to_string(),
            error: e.to_string(),
        })?);
        if let Ok(mut m) = self.map.lock() {
            if m.len() > 10_000 {
                m.clear();
            }
            m.insert(doc.to_string(), p.clone());
        }
        Ok(p)
    }
}

/// An authenticated caller ready for decisions.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The identity from the credential store.
    pub identity: Identity,
    /// The `iam` principal (ARN with path, unique id, tags, source identity).
    pub principal: iam::Principal,
    /// Identity policies, boundary and session policy (no resource policy).
    pub policies: iam::PolicySet,
}

impl Caller {
    /// The caller's ARN as AWS reports it.
    pub fn arn(&self) -> &str {
        self.principal.arn()
    }

    /// The caller's account.
    pub fn account(&self) -> &str {
        self.identity.account()
    }

    /// The policy set for a request on a resource with `resource_policy`.
    pub fn policy_set(&self, resource_policy: Option<(&str, Arc<iam::Policy>)>) -> iam::PolicySet {
        let mut set = self.policies.clone();
        if let Some((name, p)) = resource_policy {
            set.resource_policy = Some(iam::NamedPolicy::new(name, p));
        }
        set
    }
}

fn principal(arn: &str) -> Result<iam::Principal, AuthzError> {
    iam::Principal::from_arn(arn).map_err(|e| AuthzError::Principal(e.to_string()))
}

/// Merges several policy documents into one (the union of their statements), as AWS
/// combines an inline session policy with managed session policies.
pub fn merge_policies(docs: &[String]) -> Result<String, AuthzError> {
    let mut statements = Vec::new();
    let mut version = "2012-10-17";
    for d in docs {
        let v: Value = serde_json::from_str(d).map_err(|e| AuthzError::Policy {
            name: "session policy".into(),
            error: e.to_string(),
        })?;
        if v.get("Version").and_then(Value::as_str) != Some("2012-10-17") {
            version = "2008-10-17";
        }
        match v.get("Statement") {
            Some(Value::Array(a)) => statements.extend(a.iter().cloned()),
            Some(s @ Value::Object(_)) => statements.push(s.clone()),
            _ => {
                return Err(AuthzError::Policy {
                    name: "session policy".into(),
                    error: "no Statement".into(),
                })
            }
        }
    }
    Ok(serde_json::json!({"Version": version, "Statement": statements}).to_string())
}

/// What every decision about one request reads: IAM, secret and key state, parsed
/// policies, trusted OIDC issuers, and where the request comes from. It resolves the
/// signer into a [`Caller`]; the services decide through it (`sts` directly,
/// `secretsmanager` with the caller, as its `SmContext`).
#[derive(Clone, Copy)]
pub struct Decider<'a> {
    /// Cached IAM/secret/key state.
    pub dir: &'a Directory,
    /// Parsed policies.
    pub policies: &'a PolicyCache,
    /// Trusted OIDC issuers (`AssumeRoleWithWebIdentity`).
    pub issuers: &'a IssuerRegistry,
    /// The region of the request's signing scope (`aws:RequestedRegion`).
    pub region: &'a str,
    /// The client's address (`aws:SourceIp`).
    pub source_ip: &'a str,
}

impl Decider<'_> {
    fn add_policies(
        &self,
        set: &mut iam::PolicySet,
        list: &[NamedPolicy],
    ) -> Result<(), AuthzError> {
        for p in list {
            set.identity_policies.push(iam::NamedPolicy::new(
                p.source.as_str(),
                self.policies.parse(&p.source, &p.document)?,
            ));
        }
        Ok(())
    }

    fn boundary(
        &self,
        set: &mut iam::PolicySet,
        b: &Option<NamedPolicy>,
    ) -> Result<(), AuthzError> {
        if let Some(b) = b {
            set.permissions_boundary = Some(iam::NamedPolicy::new(
                b.source.as_str(),
                self.policies.parse(&b.source, &b.document)?,
            ));
        }
        Ok(())
    }

    /// Builds the caller for `identity` (signed with `access_key_id`).
    pub async fn caller(
        &self,
        identity: &Identity,
        access_key_id: Option<&str>,
    ) -> Result<Caller, AuthzError> {
        let mut set = iam::PolicySet::new();
        let principal = match identity {
            Identity::Root { account } => principal(&format!("arn:aws:iam::{account}:root"))?,
            Identity::User { account, name } => {
                let user = self
                    .dir
                    .user(account, name)
                    .await?
                    .ok_or(AuthzError::Credentials(AuthFailure::UnknownKey))?;
                if let Some(akid) = access_key_id {
                    // A key deleted or deactivated behind the gateway's back stops working too.
                    match user.access_keys.iter().find(|(k, _)| k == akid) {
                        Some((_, true)) => {}
                        _ => return Err(AuthzError::Credentials(AuthFailure::UnknownKey)),
                    }
                }
                self.add_policies(&mut set, &user.policies)?;
                self.boundary(&mut set, &user.boundary)?;
                let mut p = principal(&user.arn)?;
                if !user.user_id.is_empty() {
                    p = p.with_unique_id(&user.user_id);
                }
                for (k, v) in &user.tags {
                    p = p.with_tag(k, v);
                }
                p
            }
            Identity::Session(s) => return self.session_caller(identity, s).await,
        };
        Ok(Caller {
            identity: identity.clone(),
            principal,
            policies: set,
        })
    }

    async fn session_caller(
        &self,
        identity: &Identity,
        s: &Arc<Session>,
    ) -> Result<Caller, AuthzError> {
        match &s.kind {
            SessionKind::SessionToken { base } => {
                let mut c = Box::pin(self.caller(base, None)).await?;
                c.identity = identity.clone();
                Ok(c)
            }
            SessionKind::AssumedRole {
                role_arn,
                assumed_role_arn,
                assumed_role_id,
                ..
            } => {
                let mut set = iam::PolicySet::new();
                let mut p = principal(assumed_role_arn)?;
                // The session belongs to the role with this unique id, not to whatever
                // role carries the name today.
                let session_role_id = assumed_role_id.split(':').next().unwrap_or("");
                if !session_role_id.is_empty() {
                    p = p.with_unique_id(session_role_id);
                }
                let mut tags: Vec<(String, String)> = Vec::new();
                let role = self.dir.role_by_arn(role_arn).await?;
                if let Some(role) = role.filter(|r| same_role(&r.role_id, session_role_id)) {
                    self.add_policies(&mut set, &role.policies)?;
                    self.boundary(&mut set, &role.boundary)?;
                    p = p
                        .with_role_arn(&role.arn)
                        .map_err(|e| AuthzError::Principal(e.to_string()))?;
                    tags.extend(role.tags.iter().cloned());
                }
                // A deleted role keeps its sessions but they hold no permission: the
                // empty identity policy set denies everything. So does a role deleted
                // and recreated under the same name: as in AWS, its unique id differs
                // and the old sessions get none of the new role's permissions.
                for (k, v) in &s.tags {
                    tags.retain(|(tk, _)| !tk.eq_ignore_ascii_case(k));
                    tags.push((k.clone(), v.clone()));
                }
                for (k, v) in &tags {
                    p = p.with_tag(k, v);
                }
                if let Some(si) = &s.source_identity {
                    p = p.with_source_identity(si);
                }
                if s.has_session_policy() {
                    let account = arn::account(role_arn).unwrap_or(&s.account).to_string();
                    let mut docs = Vec::new();
                    if let Some(d) = &s.session_policy {
                        docs.push(d.clone());
                    }
                    for arn in &s.session_policy_arns {
                        // A managed session policy that no longer exists allows nothing.
                        match self.dir.managed_policy(&account, arn).await? {
                            Some(d) => docs.push(d.as_ref().clone()),
                            None => docs.push(r#"{"Version":"2012-10-17","Statement":[]}"#.into()),
                        }
                    }
                    let merged = merge_policies(&docs)?;
                    set.session_policy = Some(iam::NamedPolicy::new(
                        "session policy",
                        self.policies.parse("session policy", &merged)?,
                    ));
                }
                Ok(Caller {
                    identity: identity.clone(),
                    principal: p,
                    policies: set,
                })
            }
        }
    }
}

/// Whether the role read from IAM (`current_id`) is the one a session was issued for.
/// Fails closed: an id missing on either side is not a match.
fn same_role(current_id: &str, session_role_id: &str) -> bool {
    !current_id.is_empty() && current_id == session_role_id
}

/// The global condition keys of every request (`aws:CurrentTime`, `aws:EpochTime`,
/// `aws:SecureTransport`, `aws:SourceIp`, `aws:RequestedRegion`, `aws:ViaAWSService`).
pub fn global_context(region: &str, source_ip: &str) -> iam::Context {
    let now = unix_now();
    let mut c = iam::Context::new();
    c.insert("aws:CurrentTime", format_rfc3339(now));
    c.insert("aws:EpochTime", now.to_string());
    c.insert("aws:SecureTransport", "false");
    c.insert("aws:SourceIp", source_ip);
    c.insert("aws:ViaAWSService", "false");
    if !region.is_empty() {
        c.insert("aws:RequestedRegion", region);
    }
    c
}

/// How a request was decided: the decision log's `decision`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Allowed by the engine, or needing no permission.
    Allow,
    /// Denied by a `Deny` statement.
    ExplicitDeny,
    /// Denied for want of an `Allow`, or decided outside the engine (unmodelled
    /// request, internal error: fail closed).
    ImplicitDeny,
    /// The signature, key, session token or web-identity token did not authenticate.
    AuthenticationFailed,
}

impl Outcome {
    /// `Allow`, `ExplicitDeny`, `ImplicitDeny` or `AuthenticationFailed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "Allow",
            Outcome::ExplicitDeny => "ExplicitDeny",
            Outcome::ImplicitDeny => "ImplicitDeny",
            Outcome::AuthenticationFailed => "AuthenticationFailed",
        }
    }
}

impl From<iam::DecisionKind> for Outcome {
    fn from(kind: iam::DecisionKind) -> Self {
        match kind {
            iam::DecisionKind::Allow => Outcome::Allow,
            iam::DecisionKind::ExplicitDeny => Outcome::ExplicitDeny,
            iam::DecisionKind::ImplicitDeny => Outcome::ImplicitDeny,
        }
    }
}

/// The outcome of one authorization, ready for answering and logging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// How it was decided.
    pub outcome: Outcome,
    /// AWS's AccessDenied message when denied; the engine's reasons when allowed.
    pub message: String,
    /// Deciding statements, described.
    pub statements: Vec<String>,
    /// `service:Action`.
    pub action: String,
    /// Resource ARN or `*`.
    pub resource: String,
}

impl Verdict {
    /// Whether the request may go on.
    pub fn allowed(&self) -> bool {
        self.outcome == Outcome::Allow
    }

    /// A denial decided outside the policy engine (unmodelled, internal error).
    pub fn deny(action: &str, resource: &str, message: impl Into<String>) -> Self {
        Self::outside_engine(Outcome::ImplicitDeny, action, resource, message)
    }

    /// An allow that needs no policy (a permission-free action, the account root on
    /// its own account, LocalStack's health check).
    pub fn allow(action: &str, resource: &str, message: impl Into<String>) -> Self {
        Self::outside_engine(Outcome::Allow, action, resource, message)
    }

    /// A verdict with no deciding statement.
    pub fn outside_engine(
        outcome: Outcome,
        action: &str,
        resource: &str,
        message: impl Into<String>,
    ) -> Self {
        Verdict {
            outcome,
            message: message.into(),
            statements: vec![],
            action: action.into(),
            resource: resource.into(),
        }
    }
}

/// Decides `req` against `set` with the `iam` engine.
pub fn decide(req: &iam::Request, set: &iam::PolicySet) -> Verdict {
    let d = iam::authorize(req, set);
    let message = if d.is_allowed() {
        d.reasons.join("; ")
    } else {
        d.access_denied_message(req)
            .unwrap_or_else(|| d.reasons.join("; "))
    };
    Verdict {
        outcome: d.kind.into(),
        message,
        statements: d.statements.iter().map(|s| s.to_string()).collect(),
        action: req.action.clone(),
        resource: req.resource.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge() {
        let a = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#.to_string();
        let b = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:Get*","Resource":"*"}]}"#.to_string();
        let m: Value = serde_json::from_str(&merge_policies(&[a, b]).unwrap()).unwrap();
        assert_eq!(m["Statement"].as_array().unwrap().len(), 2);
        assert!(merge_policies(&["{}".into()]).is_err());
    }

    #[test]
    fn policy_cache_fails_closed() {
        let c = PolicyCache::default();
        assert!(c.parse("x", "not json").is_err());
        let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#;
        let p1 = c.parse("x", doc).unwrap();
        let p2 = c.parse("x", doc).unwrap();
        assert!(Arc::ptr_eq(&p1, &p2));
    }
}
