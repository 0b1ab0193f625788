//! The authorizer: the decision across every policy type (IAM User Guide, "Policy
//! evaluation logic", "Cross-account policy evaluation logic"; KMS Developer Guide,
//! "Key policies"; STS, "AssumeRole"). Spec `iam-evaluation.md`, "Decision order":
//!
//! 1. any applicable explicit Deny (SCP, RCP, resource policy, identity policies,
//!    boundary, session policy) → explicit deny;
//! 2. every RCP level of the resource's account must allow;
//! 3. every SCP level of the principal's account must allow;
//! 4. same account: a resource policy naming the user or session ARN allows on its
//!    own; naming the role ARN bypasses identity policies but not the boundary or
//!    session policy; naming the account delegates to identity policies;
//! 5. identity policies, 6. permissions boundary, 7. session policy;
//!
//! cross-account: both the principal's side (identity ∧ boundary ∧ session) and the
//! resource policy must allow. KMS (`kms:*`) and role trust (`sts:AssumeRole*`, and
//! `sts:TagSession`/`sts:SetSourceIdentity`/`sts:SetContext` on a role) policies must
//! allow even within one account. The root user is allowed on its own
//! account's resources unless denied (or limited by an SCP); it cannot assume roles.
//!
//! Before any policy, a federated caller is refused when AWS would refuse its call
//! ([`Refusal`]): an identity provider only federates through its own
//! `sts:AssumeRoleWith…` call (plus the `sts:TagSession` / `sts:SetSourceIdentity`
//! checks made inside it), and STS looks a web identity token's issuer up among the
//! OIDC providers of the role's account only (STS API Reference,
//! "AssumeRoleWithWebIdentity", error `InvalidIdentityToken`: "No OpenIDConnect
//! provider found in your account for <issuer>",
//! <https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html>).
//! So a trust policy naming another account's OIDC provider never matches.

use crate::ast::{Effect, Policy, PolicyKind};
use crate::evaluator::{evaluate, Env, Mode, PolicyEval, Strength};
use crate::principal::PrincipalKind;
use crate::request::Request;
use std::sync::Arc;

/// A policy with the name used in explanations.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedPolicy {
    /// Name shown in reasons (`eso-secrets`, `arn:aws:iam::…:policy/x`, …).
    pub name: Arc<str>,
    /// The compiled policy (shared: one parse serves many decisions).
    pub policy: Arc<Policy>,
}

impl NamedPolicy {
    /// Names a policy.
    pub fn new(name: impl Into<Arc<str>>, policy: impl Into<Arc<Policy>>) -> Self {
        NamedPolicy {
            name: name.into(),
            policy: policy.into(),
        }
    }
}

/// All the policies that apply to one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicySet {
    /// Identity-based policies of the caller (user inline + attached + groups', or
    /// the role's inline + attached).
    pub identity_policies: Vec<NamedPolicy>,
    /// The resource-based policy (for `kms:*` the key policy, for `sts:AssumeRole*`
    /// the role trust policy).
    pub resource_policy: Option<NamedPolicy>,
    /// The caller's permissions boundary.
    pub permissions_boundary: Option<NamedPolicy>,
    /// The session policy of a role session.
    pub session_policy: Option<NamedPolicy>,
    /// SCPs of the principal's account, one list per level (root, OUs, account);
    /// every level must allow.
    pub scps: Vec<Vec<NamedPolicy>>,
    /// RCPs of the resource's account, one list per level; every level must allow.
    pub rcps: Vec<Vec<NamedPolicy>>,
}

impl PolicySet {
    /// An empty set (everything implicitly denied).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an identity-based policy.
    pub fn with_identity_policy(
        mut self,
        name: impl Into<Arc<str>>,
        policy: impl Into<Arc<Policy>>,
    ) -> Self {
        self.identity_policies.push(NamedPolicy::new(name, policy));
        self
    }

    /// Sets the resource-based policy (key policy for KMS, trust policy for STS).
    pub fn with_resource_policy(
        mut self,
        name: impl Into<Arc<str>>,
        policy: impl Into<Arc<Policy>>,
    ) -> Self {
        self.resource_policy = Some(NamedPolicy::new(name, policy));
        self
    }

    /// Sets the permissions boundary.
    pub fn with_permissions_boundary(
        mut self,
        name: impl Into<Arc<str>>,
        policy: impl Into<Arc<Policy>>,
    ) -> Self {
        self.permissions_boundary = Some(NamedPolicy::new(name, policy));
        self
    }

    /// Sets the session policy.
    pub fn with_session_policy(
        mut self,
        name: impl Into<Arc<str>>,
        policy: impl Into<Arc<Policy>>,
    ) -> Self {
        self.session_policy = Some(NamedPolicy::new(name, policy));
        self
    }

    /// Appends one SCP level (all the SCPs attached at that level).
    pub fn with_scp_level(mut self, level: Vec<NamedPolicy>) -> Self {
        self.scps.push(level);
        self
    }

    /// Appends one RCP level.
    pub fn with_rcp_level(mut self, level: Vec<NamedPolicy>) -> Self {
        self.rcps.push(level);
        self
    }

    fn named(&self, r: &Ref) -> &NamedPolicy {
        match r.kind {
            PolicyKind::Identity => &self.identity_policies[r.policy],
            PolicyKind::Resource => self.resource_policy.as_ref().expect("resource ref"),
            PolicyKind::PermissionsBoundary => {
                self.permissions_boundary.as_ref().expect("boundary ref")
            }
            PolicyKind::Session => self.session_policy.as_ref().expect("session ref"),
            PolicyKind::Scp => &self.scps[r.level][r.policy],
            PolicyKind::Rcp => &self.rcps[r.level][r.policy],
        }
    }
}

/// The outcome of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecisionKind {
    /// Allowed.
    Allow,
    /// An applicable `Deny` statement.
    ExplicitDeny,
    /// Nothing (or not every required policy) allows it.
    ImplicitDeny,
}

impl DecisionKind {
    /// `Allow`, `ExplicitDeny` or `ImplicitDeny`.
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Allow => "Allow",
            DecisionKind::ExplicitDeny => "ExplicitDeny",
            DecisionKind::ImplicitDeny => "ImplicitDeny",
        }
    }
}

impl std::fmt::Display for DecisionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A statement that decided (the Deny of an explicit deny, or the Allows that
/// together granted the request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecidingStatement {
    /// Where the policy sits.
    pub policy_kind: PolicyKind,
    /// The policy's name in the [`PolicySet`].
    pub policy_name: Arc<str>,
    /// SCP/RCP level (0 = first), `None` for other kinds.
    pub level: Option<usize>,
    /// The statement's `Sid`.
    pub sid: Option<Arc<str>>,
    /// The statement's index in its policy.
    pub index: usize,
    /// The statement's effect.
    pub effect: Effect,
}

impl std::fmt::Display for DecidingStatement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.sid {
            Some(s) => write!(f, "statement {s:?}")?,
            None => write!(f, "statement #{}", self.index)?,
        }
        write!(f, " of the {} {:?}", self.policy_kind, &*self.policy_name)?;
        if let Some(l) = self.level {
            write!(f, " (level {l})")?;
        }
        Ok(())
    }
}

/// Why AWS refuses a federated caller's request before evaluating any policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// AWS's error code (`InvalidIdentityToken`, `AccessDenied`).
    pub code: &'static str,
    /// AWS's message.
    pub message: String,
}

/// Actions an identity provider's caller can be checked for: its own federation
/// call and the session checks made inside it.
const WEB_IDENTITY_ACTIONS: [&str; 3] = [
    "sts:AssumeRoleWithWebIdentity",
    "sts:TagSession",
    "sts:SetSourceIdentity",
];
const SAML_ACTIONS: [&str; 3] = [
    "sts:AssumeRoleWithSAML",
    "sts:TagSession",
    "sts:SetSourceIdentity",
];

/// The refusal AWS gives a federated caller before any policy (module docs), if any.
pub fn federated_refusal(req: &Request) -> Option<Refusal> {
    let p = &req.principal;
    if *p.kind() != PrincipalKind::Federated {
        return None;
    }
    let oidc = p.oidc_host_path();
    let (allowed, federation) = if oidc.is_some() || p.built_in_provider().is_some() {
        (WEB_IDENTITY_ACTIONS, WEB_IDENTITY_ACTIONS[0])
    } else {
        (SAML_ACTIONS, SAML_ACTIONS[0])
    };
    if !allowed.iter().any(|a| a.eq_ignore_ascii_case(&req.action)) {
        return Some(Refusal {
            code: "AccessDenied",
            message: format!(
                "{} is an identity provider: its users reach AWS only through {federation}, so it cannot perform {}",
                p.arn(),
                req.action
            ),
        });
    }
    match oidc {
        Some(host_path) if p.account() != req.effective_resource_account() => Some(Refusal {
            code: "InvalidIdentityToken",
            message: format!(
                "No OpenIDConnect provider found in your account for https://{host_path}"
            ),
        }),
        _ => None,
    }
}

/// The result of [`authorize`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Allow, explicit deny or implicit deny.
    pub kind: DecisionKind,
    /// Why, in words an auditor understands; each statement is named.
    pub reasons: Vec<String>,
    /// The deciding statements (empty for an implicit deny).
    pub statements: Vec<DecidingStatement>,
    /// For an explicit deny: the kind of policy holding the Deny. For an implicit
    /// deny: the kind of policy whose Allow was missing. `None` when allowed.
    pub deny_policy_kind: Option<PolicyKind>,
    /// Set when AWS refuses the call before any policy (an implicit deny).
    pub refusal: Option<Refusal>,
}

impl Decision {
    /// Whether the request is allowed.
    pub fn is_allowed(&self) -> bool {
        self.kind == DecisionKind::Allow
    }

    /// The kind of policy with the applicable Deny, for an explicit deny.
    pub fn denied_by(&self) -> Option<PolicyKind> {
        (self.kind == DecisionKind::ExplicitDeny)
            .then_some(self.deny_policy_kind)
            .flatten()
    }

    /// The kind of policy that did not allow, for an implicit deny.
    pub fn missing_allow(&self) -> Option<PolicyKind> {
        (self.kind == DecisionKind::ImplicitDeny)
            .then_some(self.deny_policy_kind)
            .flatten()
    }

    /// AWS's AccessDenied message for a denial, e.g. `User: ARN is not authorized to
    /// perform: secretsmanager:GetSecretValue on resource: ARN because no
    /// identity-based policy allows the secretsmanager:GetSecretValue action`, or
    /// `… with an explicit deny in a resource-based policy`. `None` when allowed.
    pub fn access_denied_message(&self, req: &Request) -> Option<String> {
        if let Some(r) = &self.refusal {
            return Some(r.message.clone());
        }
        let head = format!(
            "User: {} is not authorized to perform: {} on resource: {}",
            req.principal.arn(),
            req.action,
            req.resource
        );
        match self.kind {
            DecisionKind::Allow => None,
            DecisionKind::ExplicitDeny => {
                let k = self.deny_policy_kind.unwrap_or(PolicyKind::Identity);
                Some(format!(
                    "{head} with an explicit deny in {} {}",
                    k.article(),
                    k.aws_name()
                ))
            }
            DecisionKind::ImplicitDeny => {
                let k = self.deny_policy_kind.unwrap_or(PolicyKind::Identity);
                Some(format!(
                    "{head} because no {} allows the {} action",
                    k.aws_name(),
                    req.action
                ))
            }
        }
    }
}

/// A statement reference collected during evaluation (no allocation).
#[derive(Debug, Clone, Copy)]
struct Ref {
    kind: PolicyKind,
    level: usize,
    policy: usize,
    stmt: usize,
    effect: Effect,
}

/// Receives the statements that matched.
trait Sink {
    fn deny(&mut self, r: Ref);
    fn allow(&mut self, r: Ref);
}

/// The fast path records nothing.
struct NoSink;
impl Sink for NoSink {
    #[inline]
    fn deny(&mut self, _: Ref) {}
    #[inline]
    fn allow(&mut self, _: Ref) {}
}

#[derive(Default)]
struct Collect {
    denies: Vec<Ref>,
    allows: Vec<Ref>,
}
impl Sink for Collect {
    fn deny(&mut self, r: Ref) {
        self.denies.push(r);
    }
    fn allow(&mut self, r: Ref) {
        self.allows.push(r);
    }
}

/// Why the decision came out as it did, beyond the statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Why {
    /// An explicit Deny.
    Denied,
    /// Missing allow in an SCP/RCP level.
    OrgLevel(usize),
    /// The root user on its own account.
    RootOwnAccount,
    /// The root user cannot assume roles.
    RootCannotAssume,
    /// The resource policy named the caller directly.
    ResourceExact,
    /// The resource policy named the role (boundary/session still apply).
    ResourceRole,
    /// Identity-side allow (same account, possibly with resource delegation).
    IdentitySide,
    /// Cross-account: both sides allowed.
    CrossAccount,
    /// A missing allow on the principal or resource side.
    Missing,
    /// Refused before any policy ([`federated_refusal`]).
    Refused,
}

struct Core {
    kind: DecisionKind,
    policy_kind: Option<PolicyKind>,
    why: Why,
    same_account: bool,
    special: Special,
}

/// Which resource-policy regime applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Special {
    None,
    Kms,
    Trust,
}

#[inline]
fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// Actions a role's trust policy must allow even within one account (STS User Guide,
/// "Passing session tags in STS", "Monitor and control actions taken with assumed
/// roles"): assuming the role, and tagging, naming the source identity of, or setting
/// the context of a session of that role.
fn is_trust_action(action: &str, resource: &str) -> bool {
    if !starts_with_ci(action, "sts:") {
        return false;
    }
    if starts_with_ci(action, "sts:assumerole") {
        return true;
    }
    ["sts:TagSession", "sts:SetSourceIdentity", "sts:SetContext"]
        .iter()
        .any(|a| a.eq_ignore_ascii_case(action))
        && resource.split(':').nth(2) == Some("iam")
        && resource
            .splitn(6, ':')
            .nth(5)
            .is_some_and(|r| r.starts_with("role/"))
}

/// What the policies said about one request, read in one pass over the policy set.
/// Denies, and the allows of organization levels, are reported to the sink as they are
/// found; the allows that decide are reported once [`combine`] has decided.
struct Evidence {
    same_account: bool,
    special: Special,
    /// A user, role session or root (SCPs and identity policies apply).
    iam_principal: bool,
    is_root: bool,
    /// The first policy type with a matching Deny.
    first_deny: Option<PolicyKind>,
    /// The first organization level (SCP or RCP) with no Allow.
    missing_org: Option<(PolicyKind, usize)>,
    /// The resource policy's first Allow: statement and how it named the caller.
    rp_allow: Option<(usize, Strength)>,
    /// The first identity policy Allow: policy and statement.
    id_allow: Option<(usize, usize)>,
    /// `None`: no permissions boundary (no limit); `Some(None)`: present, no Allow.
    boundary: Option<Option<usize>>,
    /// The session policy, as the boundary.
    session: Option<Option<usize>>,
}

/// An allow that decided an allowed request, reported in the order [`combine`] gives.
#[derive(Debug, Clone, Copy)]
enum Credit {
    /// The resource policy's Allow.
    Resource,
    /// The identity policy's Allow.
    Identity,
    /// The boundary's and the session policy's Allows.
    Limits,
}

/// Reads every policy of `set` that applies to `req` (or refuses a federated caller
/// before any policy: `Err`).
fn collect<S: Sink>(req: &Request, set: &PolicySet, sink: &mut S) -> Result<Evidence, Core> {
    let env = Env { req };
    let p = &req.principal;
    let same_account = req.effective_resource_account() == p.account();
    let special = if starts_with_ci(&req.action, "kms:") {
        Special::Kms
    } else if is_trust_action(&req.action, &req.resource) {
        Special::Trust
    } else {
        Special::None
    };
    if *p.kind() == PrincipalKind::Federated && federated_refusal(req).is_some() {
        return Err(Core {
            kind: DecisionKind::ImplicitDeny,
            policy_kind: None,
            why: Why::Refused,
            same_account,
            special,
        });
    }
    let res_mode = Mode::Resource {
        has_boundary: set.permissions_boundary.is_some(),
    };
    let iam_principal = matches!(
        p.kind(),
        PrincipalKind::User { .. } | PrincipalKind::RoleSession { .. } | PrincipalKind::Root
    );

    let mut first_deny: Option<PolicyKind> = None;
    let mut missing_org: Option<(PolicyKind, usize)> = None;
    let mut on_deny = |sink: &mut S, kind, level, policy, e: &PolicyEval| {
        if let Some(stmt) = e.deny {
            first_deny.get_or_insert(kind);
            sink.deny(Ref {
                kind,
                level,
                policy,
                stmt,
                effect: Effect::Deny,
            });
        }
    };

    // Organization levels: SCPs bind IAM principals of the caller's account, RCPs
    // the resources of the resource's account. Every level must allow.
    let levels: [(PolicyKind, &Vec<Vec<NamedPolicy>>, Mode, bool); 2] = [
        (PolicyKind::Scp, &set.scps, Mode::Identity, iam_principal),
        (PolicyKind::Rcp, &set.rcps, res_mode, true),
    ];
    for (kind, lvls, mode, applies) in levels {
        if !applies {
            continue;
        }
        for (l, level) in lvls.iter().enumerate() {
            let mut allowed = false;
            for (pi, np) in level.iter().enumerate() {
                let e = evaluate(&np.policy, &env, mode);
                on_deny(sink, kind, l, pi, &e);
                if let (Some((stmt, _)), false) = (e.allow, allowed) {
                    allowed = true;
                    sink.allow(Ref {
                        kind,
                        level: l,
                        policy: pi,
                        stmt,
                        effect: Effect::Allow,
                    });
                }
            }
            if !allowed && missing_org.is_none() {
                missing_org = Some((kind, l));
            }
        }
    }

    let rp = set.resource_policy.as_ref().map(|np| {
        let e = evaluate(&np.policy, &env, res_mode);
        on_deny(sink, PolicyKind::Resource, 0, 0, &e);
        e.allow
    });
    let mut id_allow: Option<(usize, usize)> = None;
    for (pi, np) in set.identity_policies.iter().enumerate() {
        let e = evaluate(&np.policy, &env, Mode::Identity);
        on_deny(sink, PolicyKind::Identity, 0, pi, &e);
        if id_allow.is_none() {
            id_allow = e.allow.map(|(s, _)| (pi, s));
        }
    }
    let mut single = |np: &Option<NamedPolicy>, kind, sink: &mut S| {
        np.as_ref().map(|np| {
            let e = evaluate(&np.policy, &env, Mode::Identity);
            on_deny(sink, kind, 0, 0, &e);
            e.allow.map(|(s, _)| s)
        })
    };
    let boundary = single(
        &set.permissions_boundary,
        PolicyKind::PermissionsBoundary,
        sink,
    );
    let session = single(&set.session_policy, PolicyKind::Session, sink);
    Ok(Evidence {
        same_account,
        special,
        iam_principal,
        is_root: p.is_root(),
        first_deny,
        missing_org,
        rp_allow: rp.flatten(),
        id_allow,
        boundary,
        session,
    })
}

/// AWS's evaluation logic over what the policies said: the decision and the allows
/// that made it. Pure.
fn combine(e: &Evidence) -> (Core, &'static [Credit]) {
    use Credit::{Identity, Limits, Resource};
    let core = |kind, policy_kind, why| Core {
        kind,
        policy_kind,
        why,
        same_account: e.same_account,
        special: e.special,
    };
    let allow = |why, credits: &'static [Credit]| (core(DecisionKind::Allow, None, why), credits);
    let deny = |k, why| (core(DecisionKind::ImplicitDeny, Some(k), why), &[][..]);

    if let Some(k) = e.first_deny {
        return (core(DecisionKind::ExplicitDeny, Some(k), Why::Denied), &[]);
    }
    if let Some((k, l)) = e.missing_org {
        return deny(k, Why::OrgLevel(l));
    }
    // The root user: its own account's resources are allowed (not KMS keys, whose
    // key policy must allow; roles cannot be assumed with root credentials).
    if e.is_root {
        if e.special == Special::Trust {
            return deny(PolicyKind::Identity, Why::RootCannotAssume);
        }
        if e.same_account && e.special == Special::None {
            return allow(Why::RootOwnAccount, &[Resource]);
        }
    }
    // The root user elsewhere, federated callers and services (no identity
    // policies): the resource (trust) policy alone decides.
    if e.is_root || !e.iam_principal {
        return if e.rp_allow.is_some() {
            allow(Why::ResourceExact, &[Resource])
        } else {
            deny(PolicyKind::Resource, Why::Missing)
        };
    }

    let identity_ok = e.id_allow.is_some();
    let boundary_ok = !matches!(e.boundary, Some(None));
    let session_ok = !matches!(e.session, Some(None));
    let first_missing = if !identity_ok {
        PolicyKind::Identity
    } else if !boundary_ok {
        PolicyKind::PermissionsBoundary
    } else {
        PolicyKind::Session
    };
    let resource_required = e.special != Special::None;
    let principal_side = identity_ok && boundary_ok && session_ok;

    if !e.same_account {
        if !principal_side {
            return deny(first_missing, Why::Missing);
        }
        if e.rp_allow.is_none() {
            return deny(PolicyKind::Resource, Why::Missing);
        }
        return allow(Why::CrossAccount, &[Resource, Identity, Limits]);
    }
    match e.rp_allow.map(|(_, s)| s) {
        Some(Strength::Exact) => allow(Why::ResourceExact, &[Resource]),
        Some(Strength::Role) if boundary_ok && session_ok => {
            allow(Why::ResourceRole, &[Resource, Limits])
        }
        Some(Strength::Role) => {
            let k = if boundary_ok {
                PolicyKind::Session
            } else {
                PolicyKind::PermissionsBoundary
            };
            deny(k, Why::Missing)
        }
        None if resource_required => deny(PolicyKind::Resource, Why::Missing),
        _ if principal_side => allow(Why::IdentitySide, &[Identity, Limits, Resource]),
        _ => deny(first_missing, Why::Missing),
    }
}

/// Collects, combines, then reports the allows that decided.
fn decide<S: Sink>(req: &Request, set: &PolicySet, sink: &mut S) -> Core {
    let evidence = match collect(req, set, sink) {
        Ok(e) => e,
        Err(refused) => return refused,
    };
    let (core, credits) = combine(&evidence);
    let mut emit = |kind: PolicyKind, policy: usize, stmt: usize| {
        sink.allow(Ref {
            kind,
            level: 0,
            policy,
            stmt,
            effect: Effect::Allow,
        })
    };
    for credit in credits {
        match credit {
            Credit::Resource => {
                if let Some((s, _)) = evidence.rp_allow {
                    emit(PolicyKind::Resource, 0, s);
                }
            }
            Credit::Identity => {
                if let Some((pi, s)) = evidence.id_allow {
                    emit(PolicyKind::Identity, pi, s);
                }
            }
            Credit::Limits => {
                if let Some(Some(s)) = evidence.boundary {
                    emit(PolicyKind::PermissionsBoundary, 0, s);
                }
                if let Some(Some(s)) = evidence.session {
                    emit(PolicyKind::Session, 0, s);
                }
            }
        }
    }
    core
}

/// Decides a request: only the outcome, without explanations (the allocation-free
/// fast path; same logic as [`authorize`]).
pub fn authorize_kind(req: &Request, set: &PolicySet) -> DecisionKind {
    decide(req, set, &mut NoSink).kind
}

/// Decides a request and explains the decision.
///
/// ```
/// use iam::{authorize, DecisionKind, Policy, PolicySet, Principal, Request};
/// let policy = Policy::parse(r#"{"Version":"2012-10-17","Statement":[{"Sid":"Read",
///   "Effect":"Allow","Action":"secretsmanager:GetSecretValue",
///   "Resource":"arn:aws:secretsmanager:eu-west-3:123456789012:secret:staging/*"}]}"#).unwrap();
/// let set = PolicySet::new().with_identity_policy("eso", policy);
/// let who = Principal::from_arn("arn:aws:iam::123456789012:user/eso").unwrap();
/// let ok = authorize(&Request::new(who.clone(), "secretsmanager:GetSecretValue",
///     "arn:aws:secretsmanager:eu-west-3:123456789012:secret:staging/db-AbCdEf"), &set);
/// assert_eq!(ok.kind, DecisionKind::Allow);
/// let no = authorize(&Request::new(who, "secretsmanager:GetSecretValue",
///     "arn:aws:secretsmanager:eu-west-3:123456789012:secret:prod/db-AbCdEf"), &set);
/// assert_eq!(no.kind, DecisionKind::ImplicitDeny);
/// assert_eq!(no.missing_allow(), Some(iam::PolicyKind::Identity));
/// ```
pub fn authorize(req: &Request, set: &PolicySet) -> Decision {
    let mut sink = Collect::default();
    let core = decide(req, set, &mut sink);
    let to_stmt = |r: &Ref| {
        let np = set.named(r);
        let st = &np.policy.statements[r.stmt];
        DecidingStatement {
            policy_kind: r.kind,
            policy_name: np.name.clone(),
            level: matches!(r.kind, PolicyKind::Scp | PolicyKind::Rcp).then_some(r.level),
            sid: st.sid.clone(),
            index: st.index,
            effect: r.effect,
        }
    };
    let action = &req.action;
    let resource = &req.resource;
    let mut reasons = Vec::new();
    let statements: Vec<DecidingStatement>;
    let refusal = (core.why == Why::Refused)
        .then(|| federated_refusal(req))
        .flatten();
    match core.kind {
        DecisionKind::ExplicitDeny => {
            statements = sink.denies.iter().map(to_stmt).collect();
            for s in &statements {
                reasons.push(format!(
                    "Explicit deny: {s} matches {action} on {resource}; an explicit Deny overrides every Allow"
                ));
            }
        }
        DecisionKind::Allow => {
            sink.allows.sort_by_key(|r| kind_order(r.kind));
            statements = sink.allows.iter().map(to_stmt).collect();
            reasons.push(allow_summary(&core, req));
            for s in &statements {
                reasons.push(format!("{s} allows {action} on {resource}"));
            }
        }
        DecisionKind::ImplicitDeny => {
            statements = Vec::new();
            reasons.push(deny_summary(&core, req, set));
            for r in &sink.allows {
                reasons.push(format!(
                    "{} allows it, but that is not enough on its own",
                    to_stmt(r)
                ));
            }
        }
    }
    Decision {
        kind: core.kind,
        reasons,
        statements,
        deny_policy_kind: core.policy_kind,
        refusal,
    }
}

fn kind_order(k: PolicyKind) -> u8 {
    match k {
        PolicyKind::Identity => 0,
        PolicyKind::Resource => 1,
        PolicyKind::PermissionsBoundary => 2,
        PolicyKind::Session => 3,
        PolicyKind::Scp => 4,
        PolicyKind::Rcp => 5,
    }
}

fn regime(core: &Core) -> &'static str {
    match core.special {
        Special::None => "resource-based policy",
        Special::Kms => "key policy",
        Special::Trust => "role trust policy",
    }
}

fn allow_summary(core: &Core, req: &Request) -> String {
    let action = &req.action;
    match core.why {
        Why::RootOwnAccount => format!(
            "Allowed: the root user of account {} may perform {action} on its own account's resources unless explicitly denied",
            req.principal.account()
        ),
        Why::ResourceExact => format!(
            "Allowed: the {} names the caller directly, which is enough on its own",
            regime(core)
        ),
        Why::ResourceRole => format!(
            "Allowed: the {} names the caller's role, which replaces the identity-based policies; the permissions boundary and session policy, if any, allow it too",
            regime(core)
        ),
        Why::CrossAccount => format!(
            "Allowed: cross-account request (caller account {}, resource account {}): the caller's identity-based policies and the {} both allow it",
            req.principal.account(),
            req.effective_resource_account(),
            regime(core)
        ),
        _ if core.special != Special::None => format!(
            "Allowed: the {} delegates to the account's IAM policies, and the identity-based policies allow {action}",
            regime(core)
        ),
        _ => format!(
            "Allowed: an identity-based policy allows {action} and no limit (permissions boundary, session policy, SCP, RCP) prevents it"
        ),
    }
}

fn deny_summary(core: &Core, req: &Request, set: &PolicySet) -> String {
    let action = &req.action;
    let resource = &req.resource;
    let kind = core.policy_kind.unwrap_or(PolicyKind::Identity);
    let name = |np: &Option<NamedPolicy>| {
        np.as_ref()
            .map_or(String::new(), |n| format!(" {:?}", &*n.name))
    };
    match core.why {
        Why::Refused => match federated_refusal(req) {
            Some(r) => format!("Implicit deny: AWS refuses the call before any policy ({}): {}", r.code, r.message),
            None => "Implicit deny: AWS refuses the call before any policy".to_string(),
        },
        Why::OrgLevel(l) => format!(
            "Implicit deny: no policy of {} level {l} allows {action} on {resource}; every level must allow",
            kind.aws_name()
        ),
        Why::RootCannotAssume => "Implicit deny: the root user cannot assume a role".to_string(),
        _ => match kind {
            PolicyKind::Identity => format!(
                "Implicit deny: no identity-based policy allows {action} on {resource}"
            ),
            PolicyKind::PermissionsBoundary => format!(
                "Implicit deny: the permissions boundary{} does not allow {action} on {resource}; a boundary caps what the other policies grant",
                name(&set.permissions_boundary)
            ),
            PolicyKind::Session => format!(
                "Implicit deny: the session policy{} does not allow {action} on {resource}; a session policy caps the session's permissions",
                name(&set.session_policy)
            ),
            PolicyKind::Resource => match (core.special, core.same_account) {
                (Special::Kms, _) => format!(
                    "Implicit deny: the key policy does not allow {action} for this caller; for KMS the key policy must allow (IAM policies count only when it delegates to the account)"
                ),
                (Special::Trust, _) => format!(
                    "Implicit deny: the role trust policy does not allow {action} for this caller; it must allow even within one account"
                ),
                (Special::None, false) => format!(
                    "Implicit deny: cross-account request (caller account {}, resource account {}): no resource-based policy allows {action} on {resource}; both accounts must allow",
                    req.principal.account(),
                    req.effective_resource_account()
                ),
                (Special::None, true) => format!(
                    "Implicit deny: no resource-based policy allows {action} on {resource} for this caller"
                ),
            },
            PolicyKind::Scp | PolicyKind::Rcp => format!(
                "Implicit deny: no {} allows {action} on {resource}",
                kind.aws_name()
            ),
        },
    }
}
