//! Issue 15, item 1: `ForAnyValue:<op>IfExists` with the key missing or an empty list
//! is false in every policy type, as AWS evaluates it (observed behaviour; rule and
//! sources in `iam::condition`'s module docs:
//! <https://iam.cloudcopilot.io/resources/operators/ForAnyValue:StringNotEqualsIfExists>,
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html>).
//! Each case gives AWS's answer for a missing key, an empty list and, as a control, a
//! request that carries values. `ForAllValues…IfExists` is unchanged.

use crate::common::*;
use iam::{
    Context, Decision, DecisionKind, DecisionKind::*, NamedPolicy, PolicyKind, PolicySet, Request,
};

const LIST: &str = "secretsmanager:ListSecrets";

/// The three request shapes: no `aws:TagKeys`, an empty one, and one tag key.
fn shapes(base: Request) -> [(&'static str, Request); 3] {
    let mut empty = Context::new();
    empty.insert_many("aws:TagKeys", Vec::<String>::new());
    let mut one = Context::new();
    one.insert_many("aws:TagKeys", vec!["owner".to_string()]);
    [
        ("missing", base.clone()),
        ("empty", base.clone().with_context(empty)),
        ("present", base.with_context(one)),
    ]
}

/// Decides `base` in its three shapes and checks AWS's answers (in shape order);
/// returns the decisions for further checks.
fn expect(set: &PolicySet, base: Request, want: [DecisionKind; 3]) -> Vec<Decision> {
    shapes(base)
        .into_iter()
        .zip(want)
        .map(|((shape, r), want)| {
            let d = iam::authorize(&r, set);
            assert_eq!(d.kind, want, "{shape}");
            assert_eq!(iam::authorize_kind(&r, set), want, "{shape} (fast path)");
            d
        })
        .collect()
}

/// `{"ForAnyValue:<op>IfExists": {"aws:TagKeys": value}}` as a Condition element.
fn any_if_exists(op: &str, value: &str) -> String {
    format!(r#""Condition":{{"ForAnyValue:{op}IfExists":{{"aws:TagKeys":"{value}"}}}}"#)
}

#[test]
fn identity_allow() {
    // An Allow whose only condition is ForAnyValue…IfExists grants nothing without a
    // tag key (sma used to grant every read this way).
    let p = pol(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{LIST}","Resource":"*",{}}}]}}"#,
        any_if_exists("StringNotEquals", "temp*")
    ));
    let set = PolicySet::new().with_identity_policy("id", p);
    expect(
        &set,
        Request::new(user(A, "alice"), LIST, "*"),
        [ImplicitDeny, ImplicitDeny, Allow],
    );
}

#[test]
fn identity_deny() {
    // A Deny with it does not apply without a tag key: the read stays allowed.
    let p = pol(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}},{{"Effect":"Deny","Action":"secretsmanager:*","Resource":"*",{}}}]}}"#,
        any_if_exists("StringEquals", "owner")
    ));
    let set = PolicySet::new().with_identity_policy("id", p);
    expect(
        &set,
        Request::new(user(A, "alice"), LIST, "*"),
        [Allow, Allow, ExplicitDeny],
    );
}

#[test]
fn resource_policy_not_principal_deny() {
    // A secret policy denying everyone but bob when any tag key is sent.
    let sec = secret(A, "db-AbCdEf");
    let rp = pol(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"DenyOthers","Effect":"Deny","NotPrincipal":{{"AWS":["arn:aws:iam::111122223333:user/bob","111122223333"]}},"Action":"secretsmanager:*","Resource":"*",{}}}]}}"#,
        any_if_exists("StringLike", "*")
    ));
    let set = PolicySet::new()
        .with_identity_policy("id", allow("secretsmanager:*", "*"))
        .with_resource_policy("secret", rp);
    let d = expect(
        &set,
        Request::new(user(A, "alice"), "secretsmanager:TagResource", sec),
        [Allow, Allow, ExplicitDeny],
    );
    assert_eq!(d[2].denied_by(), Some(PolicyKind::Resource));
}

#[test]
fn scp() {
    let sec = secret(A, "db-AbCdEf");
    let full = NamedPolicy::new("FullAWSAccess", allow("*", "*"));
    let base = PolicySet::new().with_identity_policy("id", allow("secretsmanager:*", "*"));
    // SCP Deny with the condition: no tag key, no deny.
    let deny = pol(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Action":"secretsmanager:*","Resource":"*",{}}}]}}"#,
        any_if_exists("StringNotEquals", "owner")
    ));
    let with_deny = base
        .clone()
        .with_scp_level(vec![full, NamedPolicy::new("deny", deny)]);
    let mut two = Context::new();
    two.insert_many("aws:TagKeys", vec!["owner".to_string(), "temp".to_string()]);
    let r = Request::new(user(A, "alice"), "secretsmanager:TagResource", sec.clone());
    expect(&with_deny, r.clone(), [Allow, Allow, Allow]);
    assert_eq!(req_kind(&r.with_context(two), &with_deny), ExplicitDeny);
    // SCP Allow with the condition: the level does not allow without a tag key.
    let allow_if = pol(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*",{}}}]}}"#,
        any_if_exists("StringEquals", "owner")
    ));
    let gated = base.with_scp_level(vec![NamedPolicy::new("gated", allow_if)]);
    let d = expect(
        &gated,
        Request::new(user(A, "alice"), "secretsmanager:TagResource", sec),
        [ImplicitDeny, ImplicitDeny, Allow],
    );
    assert_eq!(d[0].missing_allow(), Some(PolicyKind::Scp));
    assert_eq!(d[1].missing_allow(), Some(PolicyKind::Scp));
}

#[test]
fn role_trust_policy() {
    // AssumeRole with session tags: the trust policy allows only when a tag key is
    // passed; without session tags it does not.
    let role = "arn:aws:iam::111122223333:role/admin";
    let trust = pol(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111122223333:user/alice"}},"Action":["sts:AssumeRole","sts:TagSession"],{}}}]}}"#,
        any_if_exists("StringLike", "project*")
    ));
    let set = PolicySet::new().with_resource_policy("trust", trust);
    let mut tagged = Context::new();
    tagged.insert_many("aws:TagKeys", vec!["project-x".to_string()]);
    let base = Request::new(user(A, "alice"), "sts:AssumeRole", role);
    expect(
        &set,
        base.clone(),
        [ImplicitDeny, ImplicitDeny, ImplicitDeny],
    );
    assert_eq!(req_kind(&base.with_context(tagged), &set), Allow);
}

const ISSUER: &str = "oidc.eks.eu-west-3.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";

#[test]
fn web_identity_trust_policy() {
    // IRSA trust with ForAnyValue:StringEqualsIfExists on the multivalued `amr`
    // claim: a token without it cannot assume the role.
    let provider = principal(&format!("arn:aws:iam::111122223333:oidc-provider/{ISSUER}"));
    let role = "arn:aws:iam::111122223333:role/eso";
    let trust = pol(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::111122223333:oidc-provider/{ISSUER}"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"{ISSUER}:aud":"sts.amazonaws.com"}},"ForAnyValue:StringEqualsIfExists":{{"{ISSUER}:amr":"authenticated"}}}}}}]}}"#
    ));
    let set = PolicySet::new().with_resource_policy("trust", trust);
    let base = Request::new(provider, "sts:AssumeRoleWithWebIdentity", role)
        .with_key(&format!("{ISSUER}:aud"), "sts.amazonaws.com");
    assert_eq!(req_kind(&base, &set), ImplicitDeny, "missing amr");
    let mut empty = base.context.clone();
    empty.insert_many(&format!("{ISSUER}:amr"), Vec::<String>::new());
    assert_eq!(
        req_kind(&base.clone().with_context(empty), &set),
        ImplicitDeny,
        "empty amr"
    );
    let mut amr = base.context.clone();
    amr.insert_many(
        &format!("{ISSUER}:amr"),
        vec![
            "authenticated".to_string(),
            "accounts.google.com".to_string(),
        ],
    );
    assert_eq!(
        req_kind(&base.with_context(amr), &set),
        Allow,
        "amr present"
    );
}

#[test]
fn for_all_values_if_exists_is_unchanged() {
    // ForAllValues stays vacuously true for a missing or empty key.
    let p = pol(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:ListSecrets","Resource":"*","Condition":{"ForAllValues:StringEqualsIfExists":{"aws:TagKeys":"owner"}}}]}"#,
    );
    let set = PolicySet::new().with_identity_policy("id", p);
    expect(
        &set,
        Request::new(user(A, "alice"), LIST, "*"),
        [Allow, Allow, Allow],
    );
}

#[test]
fn simulate_minimal_case_from_the_issue() {
    // The issue's `sma simulate` line: AWS answers ImplicitDeny.
    let line = r#"{"id":"a","principal":"arn:aws:iam::111111111111:user/alice","action":"secretsmanager:ListSecrets","resource":"*","context":{"aws:PrincipalAccount":"111111111111","aws:PrincipalArn":"arn:aws:iam::111111111111:user/alice","aws:userid":"AIDAYJIUUAJSJBOGJVK3H","aws:username":"alice"},"identity_policies":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:ListSecrets","Resource":"*","Condition":{"ForAnyValue:StringNotEqualsIfExists":{"aws:TagKeys":"temp*"}}}]}]}"#;
    let out = iam::simulate::simulate_line(line, 1);
    assert_eq!(out["decision"], "ImplicitDeny", "{out}");
    // Same with an empty list.
    let empty = line.replace(
        r#""aws:username":"alice"}"#,
        r#""aws:username":"alice","aws:TagKeys":[]}"#,
    );
    assert_ne!(empty, line);
    let out = iam::simulate::simulate_line(&empty, 1);
    assert_eq!(out["decision"], "ImplicitDeny", "{out}");
}
