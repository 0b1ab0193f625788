//! Evaluation of one policy against one request: which statements apply.
//!
//! A statement applies when its action, resource, principal and conditions all
//! match. Errors fail closed: a condition that cannot be evaluated (a request value
//! unparsable for its operator) or a `NotResource` whose variable has no value is
//! "unknown"; an `Allow` statement then does not apply, a `Deny` statement does.
//! A `Resource` whose variable has no value matches nothing (spec: never everything).
//!
//! Decisions where AWS's documentation is silent or ambiguous (issue 15, item 5),
//! each pinned by a test in `tests/it/evaluation_logic.rs`:
//! - **`NotResource` with an unresolved variable.** The IAM User Guide says only that
//!   a variable AWS cannot resolve "might" make the whole statement invalid
//!   (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html>).
//!   We follow our `Resource` rule instead: the unresolved pattern matches nothing,
//!   so it excludes nothing, and a `Deny` with that `NotResource` applies to every
//!   resource; an `Allow` with it never applies (fail closed: an Allow never rests
//!   on something unresolved). If AWS in fact drops such a statement, we deny more
//!   than AWS, never less.
//! - **`Principal: "*"` in a same-account resource policy and a permissions
//!   boundary.** AWS documents the boundary bypass only for a resource policy that
//!   names the IAM user ARN or the role session ARN ("Evaluating effective
//!   permissions with boundaries",
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html#access_policies_boundaries-eval-logic>);
//!   `"*"` names nobody in particular. We treat `"*"` like the role ARN, for users
//!   and role sessions alike: it replaces the identity-based policies, but the
//!   permissions boundary and the session policy still apply. (Until issue 15 an IAM
//!   user bypassed its boundary through `"*"` and a role session did not.)
//! - **`ArnLike` with the bare value `"*"`**: see [`crate::condition`].

use crate::ast::{Effect, Policy, PrincipalClause, PrincipalEntry, ResourceClause, Statement};
use crate::condition::{and_all, Lookup, Tri};
use crate::principal::{Principal, PrincipalKind};
use crate::request::Request;
use crate::variables::Vars;

/// The effective request context: caller keys first, then principal-derived keys.
pub(crate) struct Env<'a> {
    pub(crate) req: &'a Request,
}

impl Vars for Env<'_> {
    #[inline]
    fn var(&self, k: &str) -> Option<&str> {
        match self.req.context.get_lower(k) {
            Some(v) => v.as_variable(),
            None => self.req.principal.context().get_lower(k)?.as_variable(),
        }
    }
}

impl Lookup for Env<'_> {
    #[inline]
    fn values(&self, k: &str) -> Option<&[String]> {
        self.req
            .context
            .get_lower(k)
            .or_else(|| self.req.principal.context().get_lower(k))
            .map(|v| v.as_slice())
    }
}

/// How a resource-based policy named the caller; decides what it can bypass
/// (spec, "Decision order" step 4). Ordered from weakest to strongest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Strength {
    /// Through its account (`"AWS": "A"`): delegates to identity policies.
    Account,
    /// Through its role ARN (or `"*"` for a user or role session): bypasses identity
    /// policies, not the boundary or session policy.
    Role,
    /// Directly (user ARN, session ARN, federated provider, service): bypasses all.
    Exact,
}

/// How the Principal element is treated for a policy kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Identity-based, boundary, session policy, SCP: the principal is implicit.
    /// A statement with a Principal element is invalid there: it never allows.
    Identity,
    /// Resource-based policy or RCP: the Principal element must match.
    Resource {
        /// The caller has a permissions boundary (affects `NotPrincipal` + Deny).
        has_boundary: bool,
    },
}

/// What one policy says about a request.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PolicyEval {
    /// Index of the first applying Deny statement.
    pub(crate) deny: Option<usize>,
    /// Index of the strongest applying Allow statement, with its strength.
    pub(crate) allow: Option<(usize, Strength)>,
}

/// Evaluates every statement of `policy`.
pub(crate) fn evaluate(policy: &Policy, env: &Env<'_>, mode: Mode) -> PolicyEval {
    let mut out = PolicyEval::default();
    for (i, s) in policy.statements.iter().enumerate() {
        let wanted = match s.effect {
            Effect::Deny => out.deny.is_none(),
            Effect::Allow => out.allow.is_none_or(|(_, st)| st < Strength::Exact),
        };
        if !wanted {
            continue;
        }
        let Some(st) = applies(s, env, mode) else {
            continue;
        };
        match s.effect {
            Effect::Deny => out.deny = Some(i),
            Effect::Allow if out.allow.is_none_or(|(_, old)| st > old) => out.allow = Some((i, st)),
            Effect::Allow => {}
        }
    }
    out
}

/// Whether the statement applies to the request; for an Allow, how strongly the
/// principal was named.
#[inline]
fn applies(s: &Statement, env: &Env<'_>, mode: Mode) -> Option<Strength> {
    let req = env.req;
    if !s.action.matches(&req.action) {
        return None;
    }
    let deny = s.effect == Effect::Deny;
    let strength = match (mode, &s.principal) {
        (Mode::Identity, None) => Strength::Exact,
        (Mode::Identity, Some(_)) => {
            if deny {
                Strength::Exact
            } else {
                return None;
            }
        }
        // A resource policy statement must name a principal; without one it
        // allows nobody (invalid), and a Deny applies to everybody.
        (Mode::Resource { .. }, None) => {
            if deny {
                Strength::Exact
            } else {
                return None;
            }
        }
        (Mode::Resource { has_boundary }, Some(p)) => {
            principal_matches(p, &req.principal, deny, has_boundary)?
        }
    };
    let resource = match &s.resource {
        None => Tri::True, // trust policies, key policies without Resource
        Some(rc) => resource_matches(rc, &req.resource, env),
    };
    if resource == Tri::False {
        return None;
    }
    let cond = and_all(s.conditions.iter().map(|c| c.eval(env)));
    match and_all([resource, cond].into_iter()) {
        Tri::True => Some(strength),
        Tri::Error if deny => Some(strength),
        _ => None,
    }
}

fn resource_matches(rc: &ResourceClause, resource: &str, env: &Env<'_>) -> Tri {
    let mut unresolved = false;
    for p in &rc.patterns {
        match p.matches(resource, env) {
            Some(true) => return if rc.negated { Tri::False } else { Tri::True },
            Some(false) => {}
            None => unresolved = true,
        }
    }
    match (rc.negated, unresolved) {
        (false, _) => Tri::False, // unresolved variables match nothing
        (true, false) => Tri::True,
        (true, true) => Tri::Error, // cannot tell: never an Allow
    }
}

/// One identity of the caller, as `NotPrincipal` sees it (IAM User Guide,
/// "AWS JSON policy elements: NotPrincipal": a session is its session ARN, its role
/// ARN and its account; a user is its ARN and its account).
enum Identity<'a> {
    Account(&'a str),
    Arn(&'a str),
    Federated(&'a str),
    Service(&'a str),
}

fn covered(entries: &[PrincipalEntry], id: &Identity<'_>) -> bool {
    entries.iter().any(|e| match (e, id) {
        (PrincipalEntry::Any, _) => true,
        (PrincipalEntry::Account(a), Identity::Account(b)) => **a == **b,
        (PrincipalEntry::Arn(a), Identity::Arn(b)) => **a == **b,
        (PrincipalEntry::Federated(a), Identity::Federated(b)) => **a == **b,
        (PrincipalEntry::Service(a), Identity::Service(b)) => **a == **b,
        _ => false,
    })
}

fn principal_matches(
    clause: &PrincipalClause,
    p: &Principal,
    deny: bool,
    has_boundary: bool,
) -> Option<Strength> {
    if clause.negated {
        // AWS: NotPrincipal with Deny always denies a principal that has a
        // permissions boundary (IAM User Guide, "Permissions boundaries").
        if deny && has_boundary {
            return Some(Strength::Exact);
        }
        let mut ids: [Option<Identity<'_>>; 3] = [None, None, None];
        match p.kind() {
            PrincipalKind::User { .. } => {
                ids[0] = Some(Identity::Arn(p.arn()));
                ids[1] = Some(Identity::Account(p.account()));
            }
            PrincipalKind::RoleSession { .. } => {
                ids[0] = Some(Identity::Arn(p.arn()));
                ids[1] = p.role_arn().map(Identity::Arn);
                ids[2] = Some(Identity::Account(p.account()));
            }
            PrincipalKind::Root => ids[0] = Some(Identity::Account(p.account())),
            PrincipalKind::Federated => ids[0] = Some(Identity::Federated(p.arn())),
            PrincipalKind::Service => ids[0] = Some(Identity::Service(p.arn())),
        }
        let all_covered = ids.iter().flatten().all(|id| covered(&clause.entries, id));
        // An Allow through NotPrincipal never bypasses anything.
        return (!all_covered).then_some(Strength::Account);
    }
    let iam_identity = matches!(
        p.kind(),
        PrincipalKind::User { .. } | PrincipalKind::RoleSession { .. }
    );
    let mut best: Option<Strength> = None;
    for e in &clause.entries {
        let s = match e {
            // "*" names every caller but none directly: for IAM users and role
            // sessions it is like the role ARN (boundary and session policy still
            // apply; module docs).
            PrincipalEntry::Any => Some(if iam_identity {
                Strength::Role
            } else {
                Strength::Exact
            }),
            PrincipalEntry::Account(a) => match p.kind() {
                PrincipalKind::Root if **a == *p.account() => Some(Strength::Exact),
                PrincipalKind::User { .. } | PrincipalKind::RoleSession { .. }
                    if **a == *p.account() =>
                {
                    Some(Strength::Account)
                }
                _ => None,
            },
            PrincipalEntry::Arn(a) => match p.kind() {
                PrincipalKind::User { .. } if **a == *p.arn() => Some(Strength::Exact),
                PrincipalKind::RoleSession { .. } if **a == *p.arn() => Some(Strength::Exact),
                PrincipalKind::RoleSession { .. } if p.role_arn() == Some(&**a) => {
                    Some(Strength::Role)
                }
                _ => None,
            },
            PrincipalEntry::Federated(f) => {
                (p.is_federated() && **f == *p.arn()).then_some(Strength::Exact)
            }
            PrincipalEntry::Service(s) => {
                (*p.kind() == PrincipalKind::Service && **s == *p.arn()).then_some(Strength::Exact)
            }
            PrincipalEntry::CanonicalUser(_) => None,
        };
        if s > best {
            best = s;
        }
        if best == Some(Strength::Exact) || (deny && best.is_some()) {
            break;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(principal: &str, action: &str, resource: &str) -> Request {
        Request::new(Principal::from_arn(principal).unwrap(), action, resource)
    }

    fn eval(policy: &str, r: &Request, mode: Mode) -> PolicyEval {
        evaluate(&Policy::parse(policy).unwrap(), &Env { req: r }, mode)
    }

    const USER: &str = "arn:aws:iam::123456789012:user/alice";
    const SESSION: &str = "arn:aws:sts::123456789012:assumed-role/eso/s1";

    #[test]
    fn action_resource_matching() {
        let r = req(
            USER,
            "SecretsManager:GetSecretValue",
            "arn:aws:secretsmanager:eu-west-3:123456789012:secret:staging/a-AbCdEf",
        );
        let p = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:get*","Resource":"arn:aws:secretsmanager:eu-west-3:123456789012:secret:staging/*"}]}"#;
        assert!(eval(p, &r, Mode::Identity).allow.is_some());
        let p = r#"{"Statement":[{"Effect":"Allow","Action":"secretsmanager:Describe*","Resource":"*"}]}"#;
        assert!(eval(p, &r, Mode::Identity).allow.is_none());
        let p = r#"{"Statement":[{"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:secretsmanager:*:*:secret:prod/*"}]}"#;
        assert!(eval(p, &r, Mode::Identity).allow.is_some());
        let p = r#"{"Statement":[{"Effect":"Deny","Action":"*","NotResource":"arn:aws:secretsmanager:*:*:secret:staging/*"}]}"#;
        assert!(eval(p, &r, Mode::Identity).deny.is_none());
    }

    #[test]
    fn unresolved_variable_in_resource_matches_nothing() {
        let r = req(SESSION, "s3:GetObject", "arn:aws:s3:::bucket/home/x");
        let p = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::bucket/home/${aws:username}*"}]}"#;
        assert!(eval(p, &r, Mode::Identity).allow.is_none());
        let p = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","NotResource":"arn:aws:s3:::bucket/home/${aws:username}*"}]}"#;
        assert!(eval(p, &r, Mode::Identity).allow.is_none());
        let p = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","NotResource":"arn:aws:s3:::bucket/home/${aws:username}*"}]}"#;
        assert!(eval(p, &r, Mode::Identity).deny.is_some());
    }

    #[test]
    fn principal_strengths() {
        let r = req(SESSION, "s3:GetObject", "arn:aws:s3:::b/k");
        let rp = |pr: &str| {
            format!(
                r#"{{"Statement":[{{"Effect":"Allow","Principal":{pr},"Action":"s3:*","Resource":"*"}}]}}"#
            )
        };
        let m = Mode::Resource {
            has_boundary: false,
        };
        let st = |pr: &str| eval(&rp(pr), &r, m).allow.map(|a| a.1);
        assert_eq!(
            st(r#"{"AWS":"arn:aws:sts::123456789012:assumed-role/eso/s1"}"#),
            Some(Strength::Exact)
        );
        assert_eq!(
            st(r#"{"AWS":"arn:aws:iam::123456789012:role/eso"}"#),
            Some(Strength::Role)
        );
        assert_eq!(st(r#"{"AWS":"123456789012"}"#), Some(Strength::Account));
        assert_eq!(
            st(r#"{"AWS":"arn:aws:iam::123456789012:root"}"#),
            Some(Strength::Account)
        );
        assert_eq!(st(r#"{"AWS":"210987654321"}"#), None);
        assert_eq!(st(r#""*""#), Some(Strength::Role));
        assert_eq!(
            st(r#"{"AWS":["123456789012","arn:aws:sts::123456789012:assumed-role/eso/s1"]}"#),
            Some(Strength::Exact)
        );
        // Identity mode: a statement with a Principal never allows.
        assert!(eval(&rp(r#""*""#), &r, Mode::Identity).allow.is_none());
    }

    #[test]
    fn not_principal() {
        // IAM User Guide, "AWS JSON policy elements: NotPrincipal": a role session is
        // spared only when its session ARN, role ARN and account are all listed.
        let r = req(SESSION, "s3:GetObject", "arn:aws:s3:::b/k");
        let deny = |np: &str| {
            format!(
                r#"{{"Statement":[{{"Effect":"Deny","NotPrincipal":{{"AWS":{np}}},"Action":"s3:*","Resource":"*"}}]}}"#
            )
        };
        let m = Mode::Resource {
            has_boundary: false,
        };
        assert!(
            eval(&deny(r#"["arn:aws:iam::123456789012:role/eso"]"#), &r, m)
                .deny
                .is_some()
        );
        assert!(eval(
            &deny(r#"["arn:aws:sts::123456789012:assumed-role/eso/s1","arn:aws:iam::123456789012:role/eso","arn:aws:iam::123456789012:root"]"#),
            &r,
            m
        )
        .deny
        .is_none());
        // With a permissions boundary, NotPrincipal + Deny always applies.
        assert!(eval(
            &deny(r#"["arn:aws:sts::123456789012:assumed-role/eso/s1","arn:aws:iam::123456789012:role/eso","123456789012"]"#),
            &r,
            Mode::Resource { has_boundary: true }
        )
        .deny
        .is_some());
        let u = req(USER, "s3:GetObject", "arn:aws:s3:::b/k");
        assert!(eval(&deny(&format!(r#"["{USER}"]"#)), &u, m).deny.is_some());
        assert!(eval(&deny(&format!(r#"["{USER}","123456789012"]"#)), &u, m)
            .deny
            .is_none());
    }

    #[test]
    fn condition_errors_fail_closed() {
        let r = req(USER, "s3:GetObject", "*").with_key("s3:max-keys", "lots");
        let p = |effect: &str| {
            format!(
                r#"{{"Statement":[{{"Effect":"{effect}","Action":"s3:*","Resource":"*","Condition":{{"NumericLessThan":{{"s3:max-keys":"10"}}}}}}]}}"#
            )
        };
        assert!(eval(&p("Allow"), &r, Mode::Identity).allow.is_none());
        assert!(eval(&p("Deny"), &r, Mode::Identity).deny.is_some());
    }
}
