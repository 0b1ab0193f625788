//! Property tests of the decision (proptest):
//! - a Deny identical to an Allow always wins;
//! - adding an Allow never turns an Allow into a deny (monotonicity);
//! - every decision's deciding statements exist and are named in its reasons;
//! - the explained and fast paths agree; parsing never panics.

use crate::common::*;
use iam::{
    authorize, authorize_kind, DecisionKind, NamedPolicy, Policy, PolicySet, Principal, Request,
};
use proptest::prelude::*;

const ACTIONS: &[&str] = &[
    "secretsmanager:GetSecretValue",
    "secretsmanager:*",
    "secretsmanager:Get*",
    "secretsmanager:ListSecrets",
    "*",
    "s3:GetObject",
    "kms:Decrypt",
];
const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:secretsmanager:eu-west-3:111122223333:secret:staging/*",
    "arn:aws:secretsmanager:*:*:secret:prod/db-??????",
    "arn:aws:secretsmanager:eu-west-3:*",
    "arn:aws:s3:::b/${aws:username}/*",
    "arn:aws:secretsmanager:eu-west-3:444455556666:secret:*",
];
const CONDITIONS: &[&str] = &[
    "",
    r#","Condition":{"StringEquals":{"aws:PrincipalTag/team":"blue"}}"#,
    r#","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
    r#","Condition":{"StringNotEquals":{"aws:RequestedRegion":"eu-west-3"}}"#,
    r#","Condition":{"ForAllValues:StringLike":{"aws:TagKeys":["team","cost-*"]}}"#,
    r#","Condition":{"NumericLessThan":{"k:n":"5"}}"#,
    r#","Condition":{"BoolIfExists":{"aws:SecureTransport":"true"}}"#,
    r#","Condition":{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/${aws:PrincipalTag/team}*"}}"#,
];
const PRINCIPALS: &[&str] = &[
    r#""*""#,
    r#"{"AWS":"111122223333"}"#,
    r#"{"AWS":"arn:aws:iam::111122223333:role/eso"}"#,
    r#"{"AWS":"arn:aws:sts::111122223333:assumed-role/eso/s1"}"#,
    r#"{"AWS":"arn:aws:iam::111122223333:user/alice"}"#,
    r#"{"AWS":"444455556666"}"#,
];
const CALLERS: &[&str] = &[
    "arn:aws:iam::111122223333:user/alice",
    "arn:aws:sts::111122223333:assumed-role/eso/s1",
    "arn:aws:iam::444455556666:user/bob",
    "arn:aws:iam::111122223333:root",
];
const REQ_ACTIONS: &[&str] = &[
    "secretsmanager:GetSecretValue",
    "secretsmanager:ListSecrets",
    "s3:GetObject",
    "kms:Decrypt",
];
const REQ_RESOURCES: &[&str] = &[
    "*",
    "arn:aws:secretsmanager:eu-west-3:111122223333:secret:staging/a-AbCdEf",
    "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf",
    "arn:aws:secretsmanager:eu-west-3:444455556666:secret:x-AbCdEf",
    "arn:aws:s3:::b/alice/f",
];

#[derive(Debug, Clone)]
struct Stmt {
    not_action: bool,
    action: usize,
    not_resource: bool,
    resource: usize,
    condition: usize,
    principal: usize,
}

fn stmt() -> impl Strategy<Value = Stmt> {
    (
        any::<bool>(),
        0..ACTIONS.len(),
        prop::bool::weighted(0.2),
        0..RESOURCES.len(),
        0..CONDITIONS.len(),
        0..PRINCIPALS.len(),
    )
        .prop_map(|(na, a, nr, r, c, p)| Stmt {
            not_action: na && a != 4, // keep NotAction:"*" rare-free (it matches nothing)
            action: a,
            not_resource: nr,
            resource: r,
            condition: c,
            principal: p,
        })
}

fn render(s: &Stmt, effect: &str, with_principal: bool, sid: &str) -> String {
    let principal = if with_principal {
        format!(r#""Principal":{},"#, PRINCIPALS[s.principal])
    } else {
        String::new()
    };
    format!(
        r#"{{"Sid":"{sid}","Effect":"{effect}",{principal}"{}":"{}","{}":"{}"{}}}"#,
        if s.not_action { "NotAction" } else { "Action" },
        ACTIONS[s.action],
        if s.not_resource {
            "NotResource"
        } else {
            "Resource"
        },
        RESOURCES[s.resource],
        CONDITIONS[s.condition]
    )
}

fn policy(stmts: &[Stmt], effect: &str, with_principal: bool, prefix: &str) -> Policy {
    let body: Vec<String> = stmts
        .iter()
        .enumerate()
        .map(|(i, s)| render(s, effect, with_principal, &format!("{prefix}{i}")))
        .collect();
    pol(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        body.join(",")
    ))
}

#[derive(Debug, Clone)]
struct Case {
    caller: usize,
    action: usize,
    resource: usize,
    team: bool,
    ip: bool,
    tags: bool,
    n: usize,
}

fn case() -> impl Strategy<Value = Case> {
    (
        0..CALLERS.len(),
        0..REQ_ACTIONS.len(),
        0..REQ_RESOURCES.len(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        0..3usize,
    )
        .prop_map(|(caller, action, resource, team, ip, tags, n)| Case {
            caller,
            action,
            resource,
            team,
            ip,
            tags,
            n,
        })
}

fn request(c: &Case) -> Request {
    let mut p: Principal = principal(CALLERS[c.caller]);
    if c.team {
        p = p.with_tag("team", "blue");
    }
    let mut r = Request::new(p, REQ_ACTIONS[c.action], REQ_RESOURCES[c.resource]);
    if c.ip {
        r = r.with_key("aws:SourceIp", "10.1.2.3");
    }
    if c.tags {
        r.context
            .insert_many("aws:TagKeys", ["team", "cost-center"]);
    }
    r = r.with_key("k:n", ["3", "7", "many"][c.n]);
    r
}

#[derive(Debug, Clone)]
struct Sets {
    identity: Vec<Stmt>,
    resource: Option<Vec<Stmt>>,
    boundary: Option<Vec<Stmt>>,
    session: Option<Vec<Stmt>>,
    scp: Option<Vec<Stmt>>,
}

fn sets() -> impl Strategy<Value = Sets> {
    let list = || prop::collection::vec(stmt(), 1..4);
    (
        prop::collection::vec(stmt(), 0..4),
        prop::option::of(list()),
        prop::option::weighted(0.3, list()),
        prop::option::weighted(0.3, list()),
        prop::option::weighted(0.3, list()),
    )
        .prop_map(|(identity, resource, boundary, session, scp)| Sets {
            identity,
            resource,
            boundary,
            session,
            scp,
        })
}

fn build(s: &Sets) -> PolicySet {
    let mut set = PolicySet::new();
    if !s.identity.is_empty() {
        set = set.with_identity_policy("id", policy(&s.identity, "Allow", false, "I"));
    }
    if let Some(r) = &s.resource {
        set = set.with_resource_policy("res", policy(r, "Allow", true, "R"));
    }
    if let Some(b) = &s.boundary {
        set = set.with_permissions_boundary("pb", policy(b, "Allow", false, "B"));
    }
    if let Some(x) = &s.session {
        set = set.with_session_policy("sp", policy(x, "Allow", false, "S"));
    }
    if let Some(x) = &s.scp {
        set = set.with_scp_level(vec![NamedPolicy::new(
            "scp",
            policy(x, "Allow", false, "C"),
        )]);
    }
    set
}

/// Checks that every deciding statement exists and is named in the reasons.
fn check_explanation(set: &PolicySet, d: &iam::Decision) {
    for s in &d.statements {
        let named: Vec<&NamedPolicy> = set
            .identity_policies
            .iter()
            .chain(set.resource_policy.iter())
            .chain(set.permissions_boundary.iter())
            .chain(set.session_policy.iter())
            .chain(set.scps.iter().flatten())
            .chain(set.rcps.iter().flatten())
            .filter(|n| n.name == s.policy_name)
            .collect();
        assert!(!named.is_empty(), "no policy named {}", s.policy_name);
        assert!(named.iter().any(|n| {
            n.policy
                .statements()
                .get(s.index)
                .is_some_and(|st| st.sid() == s.sid.as_deref() && st.effect() == s.effect)
        }));
        let shown = s.to_string();
        assert!(
            d.reasons.iter().any(|r| r.contains(&shown)),
            "{shown} not in {:?}",
            d.reasons
        );
    }
    assert!(!d.reasons.is_empty());
    match d.kind {
        DecisionKind::ExplicitDeny => assert!(!d.statements.is_empty()),
        DecisionKind::ImplicitDeny => assert!(d.statements.is_empty()),
        DecisionKind::Allow => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn deny_identical_to_an_allow_always_wins(s in sets(), c in case()) {
        let base = build(&s);
        let r = request(&c);
        let before = authorize(&r, &base);
        check_explanation(&base, &before);
        if before.kind != DecisionKind::Allow {
            return Ok(());
        }
        // For each statement that allowed, add an identical Deny: it must win.
        for d in &before.statements {
            let stmts = match &*d.policy_name {
                "id" => &s.identity,
                "res" => s.resource.as_ref().unwrap(),
                "pb" => s.boundary.as_ref().unwrap(),
                "sp" => s.session.as_ref().unwrap(),
                _ => s.scp.as_ref().unwrap(),
            };
            let st = &stmts[d.index];
            let mut with = base.clone();
            if &*d.policy_name == "res" {
                let json = merge(&allow_part_json(stmts), &[render(st, "Deny", true, "DenyCopy")]);
                with.resource_policy = Some(NamedPolicy::new("res", pol(&json)));
            } else {
                with = with.with_identity_policy("deny-copy", policy(std::slice::from_ref(st), "Deny", false, "DenyCopy"));
            }
            let after = authorize(&r, &with);
            check_explanation(&with, &after);
            prop_assert_eq!(after.kind, DecisionKind::ExplicitDeny, "{} copied as Deny", d);
        }
    }

    #[test]
    fn adding_an_allow_never_turns_allow_into_deny(s in sets(), c in case(), extra in stmt(), place in 0..5usize) {
        let base = build(&s);
        let r = request(&c);
        let before = authorize(&r, &base);
        let mut more = s.clone();
        match place {
            0 => more.identity.push(extra),
            1 => more.resource.get_or_insert_with(Vec::new).push(extra),
            2 => if let Some(b) = more.boundary.as_mut() { b.push(extra) },
            3 => if let Some(x) = more.session.as_mut() { x.push(extra) },
            _ => if let Some(x) = more.scp.as_mut() { x.push(extra) },
        }
        let with = build(&more);
        let after = authorize(&r, &with);
        check_explanation(&with, &after);
        if before.kind == DecisionKind::Allow {
            prop_assert_eq!(after.kind, DecisionKind::Allow);
        }
    }

    #[test]
    fn explanations_name_existing_statements(s in sets(), c in case()) {
        let set = build(&s);
        let r = request(&c);
        let d = authorize(&r, &set);
        check_explanation(&set, &d);
        prop_assert_eq!(authorize_kind(&r, &set), d.kind);
    }

    #[test]
    fn parser_never_panics(text in ".{0,200}") {
        let _ = Policy::parse(&text);
    }

    #[test]
    fn parser_never_panics_on_near_policies(
        a in prop::sample::select(ACTIONS.to_vec()),
        r in ".{0,40}",
        op in "(ForAllValues:|ForAnyValue:)?(String|Numeric|Date|Arn|Ip|Bool|Binary|Null)[A-Za-z]{0,20}",
        v in ".{0,30}",
    ) {
        let json = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": a, "Resource": r, "Condition": {op: {"k:x": v}}}]
        });
        if let Ok(p) = Policy::from_value(&json) {
            let set = PolicySet::new().with_identity_policy("p", p);
            let req = Request::new(principal(CALLERS[0]), "s3:GetObject", "arn:aws:s3:::b/k").with_key("k:x", "10.0.0.1");
            let _ = authorize(&req, &set);
        }
    }
}

fn allow_part_json(stmts: &[Stmt]) -> Vec<String> {
    stmts
        .iter()
        .enumerate()
        .map(|(i, s)| render(s, "Allow", true, &format!("R{i}")))
        .collect()
}

fn merge(a: &[String], b: &[String]) -> String {
    let mut all = a.to_vec();
    all.extend(b.iter().cloned());
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        all.join(",")
    )
}
