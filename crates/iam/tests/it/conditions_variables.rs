//! Worked examples of the IAM User Guide pages "IAM JSON policy elements: Condition
//! operators", "Single-valued vs. multivalued context keys" / "Multivalued context
//! keys examples" and "IAM policy elements: Variables and tags", run end to end
//! through `authorize`.

use crate::common::*;
use iam::{Context, DecisionKind::*, PolicySet, Principal, Request};

fn set(policy: &str) -> PolicySet {
    PolicySet::new().with_identity_policy("p", pol(policy))
}

fn with_cond(action: &str, resource: &str, cond: &str) -> PolicySet {
    set(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"{resource}","Condition":{cond}}}]}}"#
    ))
}

fn alice() -> Principal {
    user(A, "alice")
}

// --- "IAM JSON policy elements: Condition operators" ---

#[test]
fn string_condition_principal_tag() {
    // StringEquals on aws:PrincipalTag/job-category.
    let s = with_cond(
        "iam:*",
        "*",
        r#"{"StringEquals":{"aws:PrincipalTag/job-category":"iamuser-admin"}}"#,
    );
    let admin = alice().with_tag("job-category", "iamuser-admin");
    assert_eq!(kind(&admin, "iam:ListUsers", "*", &s), Allow);
    let other = alice().with_tag("job-category", "IAMUSER-ADMIN");
    assert_eq!(kind(&other, "iam:ListUsers", "*", &s), ImplicitDeny);
    assert_eq!(kind(&alice(), "iam:ListUsers", "*", &s), ImplicitDeny);
    // Caller-supplied context keys take precedence over derived ones.
    let r = Request::new(other, "iam:ListUsers", "*")
        .with_key("aws:PrincipalTag/job-category", "iamuser-admin");
    assert_eq!(req_kind(&r, &s), Allow);
}

#[test]
fn string_like_with_variable_prefixes() {
    // s3:ListBucket restricted to "", "home/", "home/${aws:username}/".
    let s = with_cond(
        "s3:ListBucket",
        "arn:aws:s3:::amzn-s3-demo-bucket",
        r#"{"StringLike":{"s3:prefix":["","home/","home/${aws:username}/"]}}"#,
    );
    let list = |who: &Principal, prefix: &str| {
        req_kind(
            &Request::new(
                who.clone(),
                "s3:ListBucket",
                "arn:aws:s3:::amzn-s3-demo-bucket",
            )
            .with_key("s3:prefix", prefix),
            &s,
        )
    };
    assert_eq!(list(&alice(), ""), Allow);
    assert_eq!(list(&alice(), "home/"), Allow);
    assert_eq!(list(&alice(), "home/alice/"), Allow);
    assert_eq!(list(&alice(), "home/bob/"), ImplicitDeny);
    // A role session has no aws:username: the variable value matches nothing.
    assert_eq!(list(&session(A, "r", "alice"), "home/alice/"), ImplicitDeny);
}

#[test]
fn numeric_condition() {
    let s = with_cond(
        "s3:ListBucket",
        "*",
        r#"{"NumericLessThanEquals":{"s3:max-keys":"10"}}"#,
    );
    let r = |v: &str| {
        req_kind(
            &Request::new(alice(), "s3:ListBucket", "*").with_key("s3:max-keys", v),
            &s,
        )
    };
    assert_eq!(r("10"), Allow);
    assert_eq!(r("9"), Allow);
    assert_eq!(r("11"), ImplicitDeny);
    assert_eq!(kind(&alice(), "s3:ListBucket", "*", &s), ImplicitDeny);
}

#[test]
fn date_condition() {
    let s = with_cond(
        "iam:*",
        "*",
        r#"{"DateGreaterThan":{"aws:TokenIssueTime":"2020-01-01T00:00:01Z"}}"#,
    );
    let r = |v: &str| {
        req_kind(
            &Request::new(alice(), "iam:ListUsers", "*").with_key("aws:TokenIssueTime", v),
            &s,
        )
    };
    assert_eq!(r("2020-01-01T00:00:02Z"), Allow);
    assert_eq!(r("2020-01-01T00:00:01Z"), ImplicitDeny);
    assert_eq!(r("1577836802"), Allow); // epoch seconds
    assert_eq!(r("2020-01-01T01:00:02+01:00"), Allow); // same instant, other offset
}

#[test]
fn bool_condition_secure_transport_deny() {
    let s = set(r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"s3:*","Resource":"*"},
        {"Sid":"DenyInsecure","Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#);
    let r = |v: Option<&str>| {
        let mut r = Request::new(alice(), "s3:GetObject", "arn:aws:s3:::b/k");
        if let Some(v) = v {
            r = r.with_key("aws:SecureTransport", v);
        }
        req_kind(&r, &s)
    };
    assert_eq!(r(Some("false")), ExplicitDeny);
    assert_eq!(r(Some("true")), Allow);
    // Missing key: Bool is false, the deny does not apply (the doc's advice is
    // BoolIfExists for that reason).
    assert_eq!(r(None), Allow);
}

#[test]
fn binary_condition() {
    let s = with_cond(
        "s3:*",
        "*",
        r#"{"BinaryEquals":{"k:key":"QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}"#,
    );
    let r = |v: &str| {
        req_kind(
            &Request::new(alice(), "s3:GetObject", "*").with_key("k:key", v),
            &s,
        )
    };
    assert_eq!(r("QmluYXJ5VmFsdWVJbkJhc2U2NA=="), Allow);
    assert_eq!(r("QmluYXJ5VmFsdWVJbkJhc2U2NA"), Allow); // same bytes, no padding
    assert_eq!(r("QmluYXJ5"), ImplicitDeny);
}

#[test]
fn ip_address_conditions() {
    let s = with_cond(
        "ec2:*",
        "*",
        r#"{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:DB8:1234:5678::/64"]}}"#,
    );
    let r = |ip: &str| {
        req_kind(
            &Request::new(alice(), "ec2:DescribeInstances", "*").with_key("aws:SourceIp", ip),
            &s,
        )
    };
    assert_eq!(r("203.0.113.7"), Allow);
    assert_eq!(r("203.0.114.7"), ImplicitDeny);
    assert_eq!(r("2001:db8:1234:5678::1"), Allow);
    assert_eq!(r("2001:db8:1234:5679::1"), ImplicitDeny);
    assert_eq!(r("not-an-ip"), ImplicitDeny);
    // NotIpAddress deny: "Denies access to AWS based on the source IP".
    let d = set(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
        {"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]},"Bool":{"aws:ViaAWSService":"false"}}}]}"#,
    );
    let r = |ip: &str| {
        req_kind(
            &Request::new(alice(), "s3:GetObject", "*")
                .with_key("aws:SourceIp", ip)
                .with_key("aws:ViaAWSService", "false"),
            &d,
        )
    };
    assert_eq!(r("192.0.2.10"), Allow);
    assert_eq!(r("198.51.100.1"), ExplicitDeny);
    // An unparsable request IP in a Deny condition fails closed: the deny applies.
    assert_eq!(r("garbage"), ExplicitDeny);
}

#[test]
fn arn_condition() {
    let s = PolicySet::new().with_resource_policy(
        "queue",
        pol(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sqs:SendMessage","Resource":"*","Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:eu-west-3:111122223333:topic-*"}}}]}"#),
    ).with_identity_policy("id", allow("sqs:*", "*"));
    let r = |src: &str| {
        req_kind(
            &Request::new(
                alice(),
                "sqs:SendMessage",
                "arn:aws:sqs:eu-west-3:111122223333:q",
            )
            .with_key("aws:SourceArn", src),
            &s,
        )
    };
    assert_eq!(r("arn:aws:sns:eu-west-3:111122223333:topic-a"), Allow);
    // Per-part matching: `*` in the resource part does not make the region match.
    let narrow = PolicySet::new().with_identity_policy(
        "p",
        pol(r#"{"Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:111122223333:topic-?"}}}]}"#),
    );
    let r2 = |src: &str| {
        req_kind(
            &Request::new(alice(), "sqs:SendMessage", "*").with_key("aws:SourceArn", src),
            &narrow,
        )
    };
    assert_eq!(r2("arn:aws:sns:us-east-1:111122223333:topic-a"), Allow);
    assert_eq!(
        r2("arn:aws:sns:us-east-1:111122223333:topic-ab"),
        ImplicitDeny
    );
    assert_eq!(
        r2("arn:aws:sns:us-east-1:444455556666:topic-a"),
        ImplicitDeny
    );
    assert_eq!(r2("not-an-arn"), ImplicitDeny);
}

#[test]
fn if_exists_condition() {
    // "…IfExists condition operators": the instance type example.
    let s = with_cond(
        "ec2:*",
        "*",
        r#"{"StringLikeIfExists":{"ec2:InstanceType":["t1.*","t2.*","m3.*"]}}"#,
    );
    let r = |t: Option<&str>| {
        let mut r = Request::new(alice(), "ec2:RunInstances", "*");
        if let Some(t) = t {
            r = r.with_key("ec2:InstanceType", t);
        }
        req_kind(&r, &s)
    };
    assert_eq!(r(Some("t2.micro")), Allow);
    assert_eq!(r(Some("c5.large")), ImplicitDeny);
    assert_eq!(r(None), Allow);
}

#[test]
fn null_condition() {
    // Deny when temporary credentials are not used (aws:TokenIssueTime absent).
    let s = set(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
        {"Effect":"Deny","Action":"ec2:*","Resource":"*","Condition":{"Null":{"aws:TokenIssueTime":"true"}}}]}"#,
    );
    assert_eq!(kind(&alice(), "ec2:RunInstances", "*", &s), ExplicitDeny);
    let temp = Request::new(alice(), "ec2:RunInstances", "*")
        .with_key("aws:TokenIssueTime", "2024-01-01T00:00:00Z");
    assert_eq!(req_kind(&temp, &s), Allow);
}

#[test]
fn negated_operators_match_missing_keys() {
    let s = set(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
        {"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-3","eu-west-1"]}}}]}"#,
    );
    let r = |region: Option<&str>| {
        let mut r = Request::new(alice(), "ec2:RunInstances", "*");
        if let Some(v) = region {
            r = r.with_key("aws:RequestedRegion", v);
        }
        req_kind(&r, &s)
    };
    assert_eq!(r(Some("eu-west-3")), Allow);
    assert_eq!(r(Some("us-east-1")), ExplicitDeny);
    assert_eq!(r(None), ExplicitDeny);
}

#[test]
fn conditions_and_keys_and_values_or() {
    // Operators AND, keys AND, values OR.
    let s = with_cond(
        "s3:*",
        "*",
        r#"{"StringEquals":{"aws:PrincipalTag/team":["blue","green"],"aws:RequestedRegion":"eu-west-3"},"Bool":{"aws:SecureTransport":"true"}}"#,
    );
    let r = |team: &str, region: &str, tls: &str| {
        req_kind(
            &Request::new(alice().with_tag("team", team), "s3:GetObject", "*")
                .with_key("aws:RequestedRegion", region)
                .with_key("aws:SecureTransport", tls),
            &s,
        )
    };
    assert_eq!(r("blue", "eu-west-3", "true"), Allow);
    assert_eq!(r("green", "eu-west-3", "true"), Allow);
    assert_eq!(r("red", "eu-west-3", "true"), ImplicitDeny);
    assert_eq!(r("blue", "us-east-1", "true"), ImplicitDeny);
    assert_eq!(r("blue", "eu-west-3", "false"), ImplicitDeny);
}

// --- "Multivalued context keys examples" ---

#[test]
fn deny_with_for_all_values_tag_keys() {
    // Deny tagging when any tag key starts with key1 (ForAnyValue), and the
    // ForAllValues allow-list for tag keys.
    let s = set(r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"iam:Tag*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["environment","cost-center"]}}},
        {"Effect":"Deny","Action":"iam:Tag*","Resource":"*","Condition":{"ForAnyValue:StringLike":{"aws:TagKeys":"key1*"}}}]}"#);
    let tag = |keys: &[&str]| {
        req_kind(
            &Request::new(alice(), "iam:TagUser", "*")
                .with_context(Context::new().with_many("aws:TagKeys", keys.iter().copied())),
            &s,
        )
    };
    assert_eq!(tag(&["environment"]), Allow);
    assert_eq!(tag(&["environment", "cost-center"]), Allow);
    assert_eq!(tag(&["environment", "owner"]), ImplicitDeny);
    assert_eq!(tag(&["key1-x", "environment"]), ExplicitDeny);
    // The documented pitfall: ForAllValues with Allow is true when the key is
    // missing or empty.
    assert_eq!(tag(&[]), Allow);
    assert_eq!(kind(&alice(), "iam:TagUser", "*", &s), Allow);
}

#[test]
fn for_all_values_guarded_by_null() {
    // The recommended fix: add "Null": {"aws:TagKeys": "false"}.
    let s = with_cond(
        "iam:Tag*",
        "*",
        r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["environment","cost-center"]},"Null":{"aws:TagKeys":"false"}}"#,
    );
    assert_eq!(kind(&alice(), "iam:TagUser", "*", &s), ImplicitDeny);
    let r = Request::new(alice(), "iam:TagUser", "*")
        .with_context(Context::new().with_many("aws:TagKeys", ["environment"]));
    assert_eq!(req_kind(&r, &s), Allow);
}

#[test]
fn for_any_value_missing_key_is_false() {
    let s = with_cond(
        "iam:*",
        "*",
        r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":"environment"}}"#,
    );
    assert_eq!(kind(&alice(), "iam:TagUser", "*", &s), ImplicitDeny);
    let s = with_cond(
        "iam:*",
        "*",
        r#"{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"environment"}}"#,
    );
    let r = Request::new(alice(), "iam:TagUser", "*")
        .with_context(Context::new().with_many("aws:TagKeys", ["environment", "owner"]));
    assert_eq!(req_kind(&r, &s), Allow);
}

// --- "IAM policy elements: Variables and tags" ---

#[test]
fn username_variable_in_resource() {
    let s = set(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/*"}]}"#,
    );
    assert_eq!(
        kind(
            &alice(),
            "s3:GetObject",
            "arn:aws:s3:::amzn-s3-demo-bucket/home/alice/f",
            &s
        ),
        Allow
    );
    assert_eq!(
        kind(
            &alice(),
            "s3:GetObject",
            "arn:aws:s3:::amzn-s3-demo-bucket/home/bob/f",
            &s
        ),
        ImplicitDeny
    );
    // Role sessions have no aws:username: the Resource matches nothing, never
    // everything (not even a literal "home//f" or "home/${aws:username}/f").
    let r = session(A, "r", "alice");
    assert_eq!(
        kind(
            &r,
            "s3:GetObject",
            "arn:aws:s3:::amzn-s3-demo-bucket/home//f",
            &s
        ),
        ImplicitDeny
    );
    assert_eq!(
        kind(
            &r,
            "s3:GetObject",
            "arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/f",
            &s
        ),
        ImplicitDeny
    );
}

#[test]
fn userid_variable_for_role_sessions() {
    let s = set(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:userid}/*"}]}"#,
    );
    let r = session(A, "r", "pod-1").with_unique_id("AROAEXAMPLEID");
    assert_eq!(
        kind(
            &r,
            "s3:GetObject",
            "arn:aws:s3:::b/AROAEXAMPLEID:pod-1/f",
            &s
        ),
        Allow
    );
    assert_eq!(
        kind(
            &r,
            "s3:GetObject",
            "arn:aws:s3:::b/AROAEXAMPLEID:pod-2/f",
            &s
        ),
        ImplicitDeny
    );
}

#[test]
fn version_2008_makes_variables_literal() {
    let s = set(
        r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}/*"}]}"#,
    );
    assert_eq!(
        kind(&alice(), "s3:GetObject", "arn:aws:s3:::b/alice/f", &s),
        ImplicitDeny
    );
    assert_eq!(
        kind(
            &alice(),
            "s3:GetObject",
            "arn:aws:s3:::b/${aws:username}/f",
            &s
        ),
        Allow
    );
    // No Version at all behaves like 2008-10-17.
    let s = set(
        r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}/*"}]}"#,
    );
    assert_eq!(
        kind(&alice(), "s3:GetObject", "arn:aws:s3:::b/alice/f", &s),
        ImplicitDeny
    );
}

#[test]
fn special_characters() {
    let s = set(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${*}${?}${$}/*"}]}"#,
    );
    assert_eq!(
        kind(&alice(), "s3:GetObject", "arn:aws:s3:::b/*?$/f", &s),
        Allow
    );
    assert_eq!(
        kind(&alice(), "s3:GetObject", "arn:aws:s3:::b/ab$/f", &s),
        ImplicitDeny
    );
}

#[test]
fn default_values() {
    // ${aws:PrincipalTag/team, 'company-wide'}
    let s = set(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:PrincipalTag/team, 'company-wide'}/*"}]}"#,
    );
    assert_eq!(
        kind(
            &alice(),
            "s3:GetObject",
            "arn:aws:s3:::b/company-wide/f",
            &s
        ),
        Allow
    );
    let blue = alice().with_tag("team", "blue");
    assert_eq!(
        kind(&blue, "s3:GetObject", "arn:aws:s3:::b/blue/f", &s),
        Allow
    );
    assert_eq!(
        kind(&blue, "s3:GetObject", "arn:aws:s3:::b/company-wide/f", &s),
        ImplicitDeny
    );
}

#[test]
fn variables_in_conditions_missing_key() {
    // Positive operator with an unresolved variable: false; negated: true.
    let s = set(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"s3:ExistingObjectTag/owner":"${aws:username}"}}}]}"#,
    );
    let r = |who: Principal| {
        req_kind(
            &Request::new(who, "s3:GetObject", "*").with_key("s3:ExistingObjectTag/owner", "alice"),
            &s,
        )
    };
    assert_eq!(r(alice()), Allow);
    assert_eq!(r(session(A, "r", "alice")), ImplicitDeny);
    let d = set(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"s3:ExistingObjectTag/owner":"${aws:username}"}}}]}"#,
    );
    let r = |who: Principal| {
        req_kind(
            &Request::new(who, "s3:GetObject", "*").with_key("s3:ExistingObjectTag/owner", "alice"),
            &d,
        )
    };
    assert_eq!(r(alice()), Allow);
    assert_eq!(r(session(A, "r", "alice")), ExplicitDeny);
}

#[test]
fn principal_arn_and_account_keys() {
    let s = set(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/platform/*"},"StringEquals":{"aws:PrincipalAccount":"111122223333"}}}]}"#,
    );
    let pathed = session(A, "eso", "s")
        .with_role_arn("arn:aws:iam::111122223333:role/platform/eso")
        .unwrap();
    assert_eq!(kind(&pathed, "s3:GetObject", "*", &s), Allow);
    assert_eq!(
        kind(&session(A, "eso", "s"), "s3:GetObject", "*", &s),
        ImplicitDeny
    );
}
