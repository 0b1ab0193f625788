//! The decision across policy types, after the IAM User Guide pages "Policy
//! evaluation logic", "Permissions boundaries for IAM entities", "Session policies",
//! "Service control policies", "Resource control policies" and spec
//! `iam-evaluation.md` ("Decision order").

use crate::common::*;
use iam::{DecisionKind::*, NamedPolicy, PolicyKind, PolicySet};

const GET: &str = "secretsmanager:GetSecretValue";

#[test]
fn default_is_implicit_deny() {
    let u = user(A, "alice");
    let d = decide(&u, GET, &secret(A, "x"), &PolicySet::new());
    assert_eq!(d.kind, ImplicitDeny);
    assert_eq!(d.missing_allow(), Some(PolicyKind::Identity));
    assert!(d.statements.is_empty());
    assert!(d.reasons[0].contains("no identity-based policy allows"));
}

#[test]
fn identity_allow_and_explicit_deny_wins() {
    // "Policy evaluation logic": an explicit deny in any policy overrides any allow.
    let u = user(A, "alice");
    let set = PolicySet::new().with_identity_policy("read", allow(GET, "*"));
    let d = decide(&u, GET, &secret(A, "x"), &set);
    assert_eq!(d.kind, Allow);
    assert_eq!(d.statements.len(), 1);
    assert_eq!(d.statements[0].policy_kind, PolicyKind::Identity);
    assert_eq!(&*d.statements[0].policy_name, "read");
    let set = set.with_identity_policy("guard", deny("secretsmanager:*", "*"));
    let d = decide(&u, GET, &secret(A, "x"), &set);
    assert_eq!(d.kind, ExplicitDeny);
    assert_eq!(d.denied_by(), Some(PolicyKind::Identity));
    assert_eq!(d.statements[0].sid.as_deref(), Some("Deny"));
    assert!(d.reasons[0].contains("statement \"Deny\" of the identity-based policy \"guard\""));
    let msg = d
        .access_denied_message(&iam::Request::new(u, GET, secret(A, "x")))
        .unwrap();
    assert!(
        msg.ends_with("with an explicit deny in an identity-based policy"),
        "{msg}"
    );
}

#[test]
fn permissions_boundary_limits_identity_policies() {
    // "Permissions boundaries for IAM entities": the effective permissions are the
    // intersection of identity-based policies and the boundary.
    let u = user(A, "shirley");
    let set = PolicySet::new()
        .with_identity_policy("admin", allow("iam:*", "*"))
        .with_identity_policy("s3", allow("s3:*", "*"))
        .with_permissions_boundary("boundary", allow("s3:*", "*"));
    assert_eq!(kind(&u, "s3:GetObject", "arn:aws:s3:::b/k", &set), Allow);
    let d = decide(
        &u,
        "iam:CreateUser",
        "arn:aws:iam::111122223333:user/x",
        &set,
    );
    assert_eq!(d.kind, ImplicitDeny);
    assert_eq!(d.missing_allow(), Some(PolicyKind::PermissionsBoundary));
    // A boundary alone grants nothing.
    let only_boundary = PolicySet::new().with_permissions_boundary("b", allow("s3:*", "*"));
    assert_eq!(
        kind(&u, "s3:GetObject", "arn:aws:s3:::b/k", &only_boundary),
        ImplicitDeny
    );
    // An explicit deny in the boundary is reported as such.
    let set = set.with_permissions_boundary("b", deny("s3:*", "*"));
    let d = decide(&u, "s3:GetObject", "arn:aws:s3:::b/k", &set);
    assert_eq!(d.denied_by(), Some(PolicyKind::PermissionsBoundary));
}

#[test]
fn session_policy_limits_role_permissions() {
    // "Session policies": the session's permissions are the intersection of the
    // role's identity-based policies and the session policy.
    let s = session(A, "eso", "s1");
    let set = PolicySet::new()
        .with_identity_policy("role", allow("secretsmanager:*", "*"))
        .with_session_policy("session", allow("secretsmanager:ListSecrets", "*"));
    assert_eq!(kind(&s, "secretsmanager:ListSecrets", "*", &set), Allow);
    let d = decide(&s, GET, &secret(A, "x"), &set);
    assert_eq!(d.kind, ImplicitDeny);
    assert_eq!(d.missing_allow(), Some(PolicyKind::Session));
    // A session policy grants nothing by itself.
    let only = PolicySet::new().with_session_policy("s", allow("secretsmanager:*", "*"));
    assert_eq!(kind(&s, GET, &secret(A, "x"), &only), ImplicitDeny);
}

#[test]
fn same_account_resource_policy_principal_table() {
    // Spec step 4 / "Policy evaluation logic" (same account): the resource policy
    // principal decides what it bypasses.
    let sec = secret(A, "x");
    let s = session(A, "eso", "s1");
    let boundary_denies = |set: PolicySet| set.with_permissions_boundary("b", allow("s3:*", "*"));
    let with_rp = |p: &str| PolicySet::new().with_resource_policy("secret", rp(p, GET, "*"));

    // Session ARN: enough alone, even against a boundary or session policy.
    let by_session = with_rp(r#"{"AWS":"arn:aws:sts::111122223333:assumed-role/eso/s1"}"#);
    assert_eq!(kind(&s, GET, &sec, &by_session), Allow);
    assert_eq!(
        kind(&s, GET, &sec, &boundary_denies(by_session.clone())),
        Allow
    );
    let d = decide(&s, GET, &sec, &by_session);
    assert_eq!(d.statements[0].policy_kind, PolicyKind::Resource);
    assert_eq!(d.statements[0].sid.as_deref(), Some("Grant"));

    // Role ARN: bypasses identity policies, but the boundary still applies.
    let by_role = with_rp(r#"{"AWS":"arn:aws:iam::111122223333:role/eso"}"#);
    assert_eq!(kind(&s, GET, &sec, &by_role), Allow);
    let d = decide(&s, GET, &sec, &boundary_denies(by_role.clone()));
    assert_eq!(d.kind, ImplicitDeny);
    assert_eq!(d.missing_allow(), Some(PolicyKind::PermissionsBoundary));
    let limited = by_role
        .clone()
        .with_session_policy("sp", allow("secretsmanager:ListSecrets", "*"));
    assert_eq!(
        decide(&s, GET, &sec, &limited).missing_allow(),
        Some(PolicyKind::Session)
    );
    let boundary_ok = by_role.with_permissions_boundary("b", allow(GET, "*"));
    assert_eq!(kind(&s, GET, &sec, &boundary_ok), Allow);

    // A role with a path must be named with its path.
    let pathed = session(A, "eso", "s1")
        .with_role_arn("arn:aws:iam::111122223333:role/platform/eso")
        .unwrap();
    let by_role_no_path = with_rp(r#"{"AWS":"arn:aws:iam::111122223333:role/eso"}"#);
    assert_eq!(kind(&pathed, GET, &sec, &by_role_no_path), ImplicitDeny);
    let by_role_path = with_rp(r#"{"AWS":"arn:aws:iam::111122223333:role/platform/eso"}"#);
    assert_eq!(kind(&pathed, GET, &sec, &by_role_path), Allow);

    // Account: delegates to identity policies (no bypass).
    let by_account = with_rp(r#"{"AWS":"111122223333"}"#);
    assert_eq!(kind(&s, GET, &sec, &by_account), ImplicitDeny);
    let by_root = with_rp(r#"{"AWS":"arn:aws:iam::111122223333:root"}"#);
    assert_eq!(kind(&s, GET, &sec, &by_root), ImplicitDeny);
    let delegated = by_account.with_identity_policy("id", allow(GET, "*"));
    assert_eq!(kind(&s, GET, &sec, &delegated), Allow);

    // IAM user ARN: enough alone; a boundary's implicit deny does not limit it.
    let u = user(A, "carlos");
    let by_user = with_rp(r#"{"AWS":"arn:aws:iam::111122223333:user/carlos"}"#);
    assert_eq!(kind(&u, GET, &sec, &by_user), Allow);
    assert_eq!(
        kind(&u, GET, &sec, &boundary_denies(by_user.clone())),
        Allow
    );
    // But an explicit deny anywhere still wins.
    let denied = by_user.with_identity_policy("d", deny(GET, "*"));
    assert_eq!(kind(&u, GET, &sec, &denied), ExplicitDeny);
    // Another user is not named.
    assert_eq!(
        kind(
            &user(A, "bob"),
            GET,
            &sec,
            &with_rp(r#"{"AWS":"arn:aws:iam::111122223333:user/carlos"}"#)
        ),
        ImplicitDeny
    );
}

#[test]
fn explicit_deny_in_resource_policy() {
    let u = user(A, "alice");
    let set = PolicySet::new()
        .with_identity_policy("id", allow("secretsmanager:*", "*"))
        .with_resource_policy(
            "secret",
            pol(r#"{"Statement":[{"Sid":"NoOne","Effect":"Deny","Principal":"*","Action":"secretsmanager:*","Resource":"*"}]}"#),
        );
    let d = decide(&u, GET, &secret(A, "x"), &set);
    assert_eq!(d.kind, ExplicitDeny);
    assert_eq!(d.denied_by(), Some(PolicyKind::Resource));
    let msg = d
        .access_denied_message(&iam::Request::new(u, GET, secret(A, "x")))
        .unwrap();
    assert!(msg.ends_with("with an explicit deny in a resource-based policy"));
}

fn level(policies: Vec<iam::Policy>) -> Vec<NamedPolicy> {
    policies
        .into_iter()
        .enumerate()
        .map(|(i, p)| NamedPolicy::new(format!("scp{i}"), p))
        .collect()
}

#[test]
fn scp_every_level_must_allow() {
    // "Service control policies (SCPs)": every level from the root to the account
    // must allow; SCPs grant nothing.
    let u = user(A, "alice");
    let sec = secret(A, "x");
    let full = || allow("*", "*");
    let base = PolicySet::new().with_identity_policy("id", allow("secretsmanager:*", "*"));
    let ok = base
        .clone()
        .with_scp_level(level(vec![full()]))
        .with_scp_level(level(vec![allow("secretsmanager:*", "*")]));
    assert_eq!(kind(&u, GET, &sec, &ok), Allow);
    let d = decide(&u, GET, &sec, &ok);
    assert!(d
        .statements
        .iter()
        .any(|s| s.policy_kind == PolicyKind::Scp && s.level == Some(1)));
    let missing = base
        .clone()
        .with_scp_level(level(vec![full()]))
        .with_scp_level(level(vec![allow("s3:*", "*")]));
    let d = decide(&u, GET, &sec, &missing);
    assert_eq!(d.kind, ImplicitDeny);
    assert_eq!(d.missing_allow(), Some(PolicyKind::Scp));
    assert!(d.reasons[0].contains("level 1"));
    let msg = d
        .access_denied_message(&iam::Request::new(u.clone(), GET, sec.clone()))
        .unwrap();
    assert!(msg.ends_with(
        "because no service control policy allows the secretsmanager:GetSecretValue action"
    ));
    // Several SCPs at one level: one allowing is enough.
    let one_of = base.clone().with_scp_level(level(vec![
        allow("s3:*", "*"),
        allow("secretsmanager:*", "*"),
    ]));
    assert_eq!(kind(&u, GET, &sec, &one_of), Allow);
    // SCP deny.
    let denied = base
        .clone()
        .with_scp_level(level(vec![full(), deny(GET, "*")]));
    assert_eq!(
        decide(&u, GET, &sec, &denied).denied_by(),
        Some(PolicyKind::Scp)
    );
    // SCPs grant nothing alone.
    let only = PolicySet::new().with_scp_level(level(vec![full()]));
    assert_eq!(kind(&u, GET, &sec, &only), ImplicitDeny);
    // SCPs also bind the root user of a member account.
    let root = principal("arn:aws:iam::111122223333:root");
    assert_eq!(kind(&root, GET, &sec, &missing), ImplicitDeny);
    assert_eq!(kind(&root, GET, &sec, &PolicySet::new()), Allow);
}

#[test]
fn rcp_every_level_must_allow() {
    // "Resource control policies (RCPs)": the default RCPFullAWSAccess allows; a
    // deny in an RCP binds every principal, including from other accounts.
    let full = || {
        pol(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#,
        )
    };
    let deny_external = || {
        pol(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyExternal","Effect":"Deny","Principal":"*","Action":"secretsmanager:*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalAccount":"111122223333"}}}]}"#,
        )
    };
    let u = user(A, "alice");
    let sec = secret(A, "x");
    let base = PolicySet::new().with_identity_policy("id", allow("secretsmanager:*", "*"));
    let set = base
        .clone()
        .with_rcp_level(level(vec![full(), deny_external()]));
    assert_eq!(kind(&u, GET, &sec, &set), Allow);
    let outsider = user(B, "mallory");
    let cross = set
        .clone()
        .with_resource_policy("secret", rp(r#"{"AWS":"444455556666"}"#, GET, "*"));
    let d = decide(&outsider, GET, &sec, &cross);
    assert_eq!(d.kind, ExplicitDeny);
    assert_eq!(d.denied_by(), Some(PolicyKind::Rcp));
    // A level without an allow.
    let empty_level = base.with_rcp_level(level(vec![deny_external()]));
    assert_eq!(
        decide(&u, GET, &sec, &empty_level).missing_allow(),
        Some(PolicyKind::Rcp)
    );
}

#[test]
fn root_user() {
    // "AWS account root user": full access to its own account unless denied.
    let root = principal("arn:aws:iam::111122223333:root");
    let sec = secret(A, "x");
    let d = decide(&root, GET, &sec, &PolicySet::new());
    assert_eq!(d.kind, Allow);
    assert!(d.reasons[0].contains("root user"));
    let denied = PolicySet::new().with_resource_policy(
        "secret",
        pol(r#"{"Statement":[{"Effect":"Deny","Principal":{"AWS":"111122223333"},"Action":"*","Resource":"*"}]}"#),
    );
    assert_eq!(kind(&root, GET, &sec, &denied), ExplicitDeny);
    // Other accounts' resources need their resource policy.
    assert_eq!(
        kind(&root, GET, &secret(B, "x"), &PolicySet::new()),
        ImplicitDeny
    );
    let granted =
        PolicySet::new().with_resource_policy("s", rp(r#"{"AWS":"111122223333"}"#, GET, "*"));
    assert_eq!(kind(&root, GET, &secret(B, "x"), &granted), Allow);
    // The root user cannot assume a role.
    let trust = PolicySet::new().with_resource_policy(
        "trust",
        pol(r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}]}"#),
    );
    assert_eq!(
        kind(
            &root,
            "sts:AssumeRole",
            "arn:aws:iam::111122223333:role/r",
            &trust
        ),
        ImplicitDeny
    );
}

#[test]
fn explicit_deny_reports_every_denying_statement() {
    let u = user(A, "alice");
    let set = PolicySet::new()
        .with_identity_policy("a", deny("*", "*"))
        .with_identity_policy("b", deny(GET, "*"))
        .with_permissions_boundary("pb", deny("secretsmanager:*", "*"));
    let d = decide(&u, GET, &secret(A, "x"), &set);
    assert_eq!(d.kind, ExplicitDeny);
    assert_eq!(d.statements.len(), 3);
    assert_eq!(d.reasons.len(), 3);
}

#[test]
fn deny_with_not_action_and_not_resource() {
    // "IAM JSON policy elements: NotAction" — deny everything except IAM outside MFA.
    let u = user(A, "alice");
    let set = PolicySet::new()
        .with_identity_policy("all", allow("*", "*"))
        .with_identity_policy(
            "mfa",
            pol(r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyAllUsersNotUsingMFA","Effect":"Deny","NotAction":"iam:*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}"#),
        );
    assert_eq!(kind(&u, "s3:ListAllMyBuckets", "*", &set), ExplicitDeny);
    assert_eq!(kind(&u, "iam:ListUsers", "*", &set), Allow);
    let r = iam::Request::new(u.clone(), "s3:ListAllMyBuckets", "*")
        .with_key("aws:MultiFactorAuthPresent", "true");
    assert_eq!(req_kind(&r, &set), Allow);
    // NotResource: deny everything but one bucket.
    let nr = PolicySet::new()
        .with_identity_policy("all", allow("s3:*", "*"))
        .with_identity_policy(
            "only",
            pol(r#"{"Statement":[{"Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}]}"#),
        );
    assert_eq!(kind(&u, "s3:GetObject", "arn:aws:s3:::b/k", &nr), Allow);
    assert_eq!(
        kind(&u, "s3:GetObject", "arn:aws:s3:::c/k", &nr),
        ExplicitDeny
    );
}

#[test]
fn action_names_are_case_insensitive_arns_are_not() {
    let u = user(A, "alice");
    let set = PolicySet::new().with_identity_policy(
        "p",
        allow(
            "SecretsManager:GetSecretValue",
            "arn:aws:secretsmanager:eu-west-3:111122223333:secret:Staging/*",
        ),
    );
    assert_eq!(
        kind(
            &u,
            "secretsmanager:getsecretvalue",
            &secret(A, "Staging/a-AbCdEf"),
            &set
        ),
        Allow
    );
    assert_eq!(
        kind(
            &u,
            "SECRETSMANAGER:GETSECRETVALUE",
            &secret(A, "Staging/a-AbCdEf"),
            &set
        ),
        Allow
    );
    assert_eq!(
        kind(&u, GET, &secret(A, "staging/a-AbCdEf"), &set),
        ImplicitDeny
    );
}

#[test]
fn condition_error_never_allows() {
    // Fail closed: a request value that cannot be parsed for its operator.
    let u = user(A, "alice");
    let p = pol(
        r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}}]}"#,
    );
    let set = PolicySet::new().with_identity_policy("p", p);
    let bad = iam::Request::new(u.clone(), "s3:GetObject", "*").with_key("aws:CurrentTime", "soon");
    assert_eq!(req_kind(&bad, &set), ImplicitDeny);
    let good = iam::Request::new(u, "s3:GetObject", "*")
        .with_key("aws:CurrentTime", "2025-01-01T00:00:00Z");
    assert_eq!(req_kind(&good, &set), Allow);
}

#[test]
fn decided_not_resource_with_unresolved_variable() {
    // Issue 15 item 5, decision documented in `iam::evaluator`: an unresolved
    // variable in NotResource excludes nothing, so a Deny applies to every resource;
    // an Allow never applies. (The IAM User Guide only says such a statement "might"
    // be invalid: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html)
    let deny_outside_home = pol(
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"OutsideHome","Effect":"Deny","Action":"secretsmanager:*","NotResource":"arn:aws:secretsmanager:eu-west-3:111122223333:secret:${aws:username}/*"}]}"#,
    );
    let set = PolicySet::new()
        .with_identity_policy("all", allow("secretsmanager:*", "*"))
        .with_identity_policy("home", deny_outside_home);
    // A user: the variable resolves; only other users' secrets are denied.
    let u = user(A, "alice");
    assert_eq!(kind(&u, GET, &secret(A, "alice/db-AbCdEf"), &set), Allow);
    assert_eq!(
        kind(&u, GET, &secret(A, "bob/db-AbCdEf"), &set),
        ExplicitDeny
    );
    // A role session has no aws:username: the Deny applies everywhere.
    let s = session(A, "eso", "s1");
    let d = decide(&s, GET, &secret(A, "alice/db-AbCdEf"), &set);
    assert_eq!(d.kind, ExplicitDeny);
    assert_eq!(d.statements[0].sid.as_deref(), Some("OutsideHome"));
    // The same NotResource in an Allow grants nothing to the session.
    let allow_outside = pol(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:*","NotResource":"arn:aws:secretsmanager:eu-west-3:111122223333:secret:${aws:username}/*"}]}"#,
    );
    let set = PolicySet::new().with_identity_policy("outside", allow_outside);
    assert_eq!(kind(&s, GET, &secret(A, "x-AbCdEf"), &set), ImplicitDeny);
    assert_eq!(kind(&u, GET, &secret(A, "x-AbCdEf"), &set), Allow);
}

#[test]
fn decided_wildcard_principal_does_not_bypass_a_boundary() {
    // Issue 15 item 5, decision documented in `iam::evaluator`: "*" is like the role
    // ARN for users and sessions alike; the bypass of a boundary is documented only
    // for a policy naming the user or session ARN
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html#access_policies_boundaries-eval-logic).
    let sec = secret(A, "x");
    let anyone = PolicySet::new().with_resource_policy("secret", rp(r#""*""#, GET, "*"));
    let bounded = anyone
        .clone()
        .with_permissions_boundary("b", allow("s3:*", "*"));
    let with_session_policy = anyone.clone().with_session_policy("sp", allow("s3:*", "*"));
    for who in [user(A, "carlos"), session(A, "eso", "s1")] {
        // Enough alone without identity policies...
        assert_eq!(kind(&who, GET, &sec, &anyone), Allow, "{who}");
        // ...but the boundary's implicit deny still limits it.
        let d = decide(&who, GET, &sec, &bounded);
        assert_eq!(d.kind, ImplicitDeny, "{who}");
        assert_eq!(d.missing_allow(), Some(PolicyKind::PermissionsBoundary));
        let ok = bounded
            .clone()
            .with_permissions_boundary("b", allow(GET, "*"));
        assert_eq!(kind(&who, GET, &sec, &ok), Allow, "{who}");
    }
    let s = session(A, "eso", "s1");
    assert_eq!(
        decide(&s, GET, &sec, &with_session_policy).missing_allow(),
        Some(PolicyKind::Session)
    );
}

#[test]
fn decided_arn_like_bare_wildcard_is_a_presence_test() {
    // Issue 15 item 5, decision documented in `iam::condition`: "*" matches every
    // value of a present key (the ARN operators' `*` may span colons:
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN).
    let cond = |op: &str| {
        pol(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"secretsmanager:ListSecrets","Resource":"*","Condition":{{"{op}":{{"aws:SourceArn":"*"}}}}}}]}}"#
        ))
    };
    let u = user(A, "alice");
    let base = iam::Request::new(u, "secretsmanager:ListSecrets", "*");
    let arn = base.clone().with_key(
        "aws:SourceArn",
        "arn:aws:lambda:eu-west-3:111122223333:function:f",
    );
    let not_arn = base.clone().with_key("aws:SourceArn", "not-an-arn");
    let like = PolicySet::new().with_identity_policy("like", cond("ArnLike"));
    assert_eq!(req_kind(&arn, &like), Allow);
    assert_eq!(req_kind(&not_arn, &like), Allow);
    assert_eq!(req_kind(&base, &like), ImplicitDeny);
    let equals = PolicySet::new().with_identity_policy("equals", cond("ArnEquals"));
    assert_eq!(req_kind(&arn, &equals), Allow);
    let not_like = PolicySet::new().with_identity_policy("not", cond("ArnNotLike"));
    assert_eq!(req_kind(&arn, &not_like), ImplicitDeny);
    assert_eq!(req_kind(&base, &not_like), Allow);
}
