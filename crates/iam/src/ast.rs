//! The compiled form of a policy document.
//!
//! Everything a decision needs is prepared here at parse time: lowercased action
//! patterns split at wildcards, ARN patterns split per part, typed condition values.
//! The evaluator then only compares.

use crate::arn::ArnPattern;
use crate::condition::Condition;
use crate::wildcard::Pattern;
use std::sync::Arc;

/// The policy language version (`Version` element).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `2008-10-17`, or no `Version`: policy variables are literal text.
    V2008_10_17,
    /// `2012-10-17`: policy variables are substituted.
    V2012_10_17,
}

impl Version {
    /// The version string as written in policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V2008_10_17 => "2008-10-17",
            Version::V2012_10_17 => "2012-10-17",
        }
    }
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// Grants the action when the statement matches.
    Allow,
    /// Denies the action when the statement matches; always wins.
    Deny,
}

impl std::fmt::Display for Effect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        })
    }
}

/// A parsed and validated policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub(crate) version: Version,
    pub(crate) id: Option<String>,
    pub(crate) statements: Vec<Statement>,
}

impl Policy {
    /// The `Version` of the document.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The `Id` element, if any.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The statements, in document order.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }
}

/// One statement of a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub(crate) sid: Option<Arc<str>>,
    pub(crate) index: usize,
    pub(crate) effect: Effect,
    pub(crate) principal: Option<PrincipalClause>,
    pub(crate) action: ActionClause,
    pub(crate) resource: Option<ResourceClause>,
    pub(crate) conditions: Vec<Condition>,
}

impl Statement {
    /// The `Sid`, if any.
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    /// Position of the statement in the policy (0-based).
    pub fn index(&self) -> usize {
        self.index
    }

    /// `Allow` or `Deny`.
    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// Whether the statement has a `Principal` or `NotPrincipal` element.
    pub fn has_principal(&self) -> bool {
        self.principal.is_some()
    }

    /// Whether the statement uses `NotPrincipal`.
    pub fn has_not_principal(&self) -> bool {
        self.principal.as_ref().is_some_and(|p| p.negated)
    }

    /// Whether the statement has a `Resource` or `NotResource` element.
    pub fn has_resource(&self) -> bool {
        self.resource.is_some()
    }

    /// Whether the statement has a Condition block.
    pub fn has_conditions(&self) -> bool {
        !self.conditions.is_empty()
    }

    /// Whether the `Principal` element is exactly `"*"` (or `{"AWS": "*"}`).
    pub fn principal_is_wildcard(&self) -> bool {
        self.principal.as_ref().is_some_and(|p| {
            !p.negated && p.entries.len() == 1 && p.entries[0] == PrincipalEntry::Any
        })
    }

    /// `Sid "X"` or `#i` (statement index), for explanations.
    pub fn label(&self) -> String {
        match &self.sid {
            Some(s) => format!("statement {s:?}"),
            None => format!("statement #{}", self.index),
        }
    }
}

/// `Principal` / `NotPrincipal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PrincipalClause {
    pub(crate) negated: bool,
    pub(crate) entries: Vec<PrincipalEntry>,
}

/// One principal named in a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalEntry {
    /// `"*"` or `{"AWS": "*"}`: everyone.
    Any,
    /// `"AWS": "123456789012"` or `"AWS": "arn:aws:iam::123456789012:root"`: the whole account.
    Account(Box<str>),
    /// An IAM user, role, assumed-role session or federated-user ARN.
    Arn(Box<str>),
    /// `"Federated"`: an OIDC/SAML provider ARN or a web identity provider name.
    Federated(Box<str>),
    /// `"Service"`: a service principal such as `ec2.amazonaws.com`.
    Service(Box<str>),
    /// `"CanonicalUser"`: S3 canonical id (never matches an IAM caller).
    CanonicalUser(Box<str>),
}

/// `Action` / `NotAction`: lowercased patterns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ActionClause {
    pub(crate) negated: bool,
    pub(crate) patterns: Vec<Pattern>,
    /// The patterns as written, lowercased (for kind-specific validation).
    pub(crate) texts: Vec<Box<str>>,
}

impl ActionClause {
    /// Whether the clause covers `action` (case-insensitive).
    #[inline]
    pub(crate) fn matches(&self, action: &str) -> bool {
        self.patterns.iter().any(|p| p.matches(action, true)) != self.negated
    }
}

/// `Resource` / `NotResource`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ResourceClause {
    pub(crate) negated: bool,
    pub(crate) patterns: Vec<ArnPattern>,
}

/// The kind of a policy in a decision (IAM User Guide, "Policies and permissions in IAM").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// An identity-based policy (inline or managed, of the user, its groups or the role).
    Identity,
    /// A resource-based policy (secret policy, KMS key policy, role trust policy, …).
    Resource,
    /// The permissions boundary of the user or role.
    PermissionsBoundary,
    /// The session policy passed when the session was created.
    Session,
    /// A service control policy (AWS Organizations).
    Scp,
    /// A resource control policy (AWS Organizations).
    Rcp,
}

impl PolicyKind {
    /// The kind as AWS words it in AccessDenied messages ("identity-based policy",
    /// "resource-based policy", "permissions boundary", "session policy",
    /// "service control policy", "resource control policy").
    pub fn aws_name(self) -> &'static str {
        match self {
            PolicyKind::Identity => "identity-based policy",
            PolicyKind::Resource => "resource-based policy",
            PolicyKind::PermissionsBoundary => "permissions boundary",
            PolicyKind::Session => "session policy",
            PolicyKind::Scp => "service control policy",
            PolicyKind::Rcp => "resource control policy",
        }
    }

    /// The indefinite article AWS uses before [`PolicyKind::aws_name`].
    pub fn article(self) -> &'static str {
        match self {
            PolicyKind::Identity => "an",
            _ => "a",
        }
    }

    /// A short machine-friendly name (`identity`, `resource`, `permissions_boundary`,
    /// `session`, `scp`, `rcp`).
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyKind::Identity => "identity",
            PolicyKind::Resource => "resource",
            PolicyKind::PermissionsBoundary => "permissions_boundary",
            PolicyKind::Session => "session",
            PolicyKind::Scp => "scp",
            PolicyKind::Rcp => "rcp",
        }
    }
}

impl std::fmt::Display for PolicyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.aws_name())
    }
}
