//! The four setups of the product (product.md): what each generated policy lets ESO
//! read, and the pitfalls the report must explain.

use crate::common::*;
use iam::{DecisionKind::*, PolicySet, Request};

const FIVE: &str = r#"["secretsmanager:GetResourcePolicy","secretsmanager:GetSecretValue","secretsmanager:DescribeSecret","secretsmanager:ListSecretVersionIds","secretsmanager:ListSecrets"]"#;
const FOUR: &str = r#"["secretsmanager:GetResourcePolicy","secretsmanager:GetSecretValue","secretsmanager:DescribeSecret","secretsmanager:ListSecretVersionIds"]"#;
const READS: &[&str] = &[
    "secretsmanager:GetResourcePolicy",
    "secretsmanager:GetSecretValue",
    "secretsmanager:DescribeSecret",
    "secretsmanager:ListSecretVersionIds",
];

fn narrowed(pattern: &str, extra: &str) -> iam::Policy {
    pol(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"ReadScoped","Effect":"Allow","Action":{FOUR},"Resource":"arn:aws:secretsmanager:eu-west-3:{A}:secret:{pattern}"}},{{"Sid":"ListSecrets","Effect":"Allow","Action":"secretsmanager:ListSecrets","Resource":"*"}}{extra}]}}"#
    ))
}

#[test]
fn automatic_reads_every_secret_of_the_account() {
    let role = session(A, "qovery-eso-cluster1", "eso");
    let set = PolicySet::new().with_identity_policy(
        "qovery-eso",
        pol(&format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":{FIVE},"Resource":"*"}}]}}"#)),
    );
    for a in READS {
        assert_eq!(
            kind(&role, a, &secret(A, "anything-AbCdEf"), &set),
            Allow,
            "{a}"
        );
    }
    assert_eq!(kind(&role, "secretsmanager:ListSecrets", "*", &set), Allow);
    // Not more than the five actions.
    assert_eq!(
        kind(
            &role,
            "secretsmanager:PutSecretValue",
            &secret(A, "x"),
            &set
        ),
        ImplicitDeny
    );
    // Another account's secret needs that account's resource policy.
    assert_eq!(
        kind(
            &role,
            "secretsmanager:GetSecretValue",
            &secret(B, "x"),
            &set
        ),
        ImplicitDeny
    );
}

#[test]
fn role_arn_and_static_read_only_the_scope() {
    for caller in [session(A, "customer-role", "eso"), user(A, "eso")] {
        let set = PolicySet::new().with_identity_policy("eso", narrowed("staging/*", ""));
        for a in READS {
            assert_eq!(
                kind(&caller, a, &secret(A, "staging/db-AbCdEf"), &set),
                Allow
            );
            assert_eq!(
                kind(&caller, a, &secret(A, "prod/db-AbCdEf"), &set),
                ImplicitDeny
            );
        }
        // ListSecrets stays on "*" and is all-or-nothing.
        assert_eq!(
            kind(&caller, "secretsmanager:ListSecrets", "*", &set),
            Allow
        );
        // Region is part of the ARN.
        let other_region = format!("arn:aws:secretsmanager:us-east-1:{A}:secret:staging/db-AbCdEf");
        assert_eq!(
            kind(
                &caller,
                "secretsmanager:GetSecretValue",
                &other_region,
                &set
            ),
            ImplicitDeny
        );
    }
}

#[test]
fn staging_star_pitfall() {
    // The seed's own example `secret:staging*` also matches staging-legacy, stagingfoo.
    let u = user(A, "eso");
    let set = PolicySet::new().with_identity_policy("eso", narrowed("staging*", ""));
    for name in [
        "staging-AbCdEf",
        "staging-legacy-AbCdEf",
        "stagingfoo-AbCdEf",
        "staging/x-AbCdEf",
    ] {
        assert_eq!(
            kind(&u, "secretsmanager:GetSecretValue", &secret(A, name), &set),
            Allow,
            "{name}"
        );
    }
    assert_eq!(
        kind(
            &u,
            "secretsmanager:GetSecretValue",
            &secret(A, "prod-AbCdEf"),
            &set
        ),
        ImplicitDeny
    );
}

#[test]
fn gcp_cross_cloud_exact_names_and_kms() {
    // `prod/db-??????` matches exactly one name (6 random characters).
    let u = user(A, "gcp-eso");
    let kms = r#",{"Sid":"AllowKMSDecrypt","Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"secretsmanager.eu-west-3.amazonaws.com"}}}"#;
    let key = "arn:aws:kms:eu-west-3:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let set = PolicySet::new()
        .with_identity_policy("eso", narrowed("prod/db-??????", kms))
        .with_resource_policy(
            "key",
            pol(r#"{"Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#),
        );
    let get = "secretsmanager:GetSecretValue";
    assert_eq!(kind(&u, get, &secret(A, "prod/db-AbCdEf"), &set), Allow);
    assert_eq!(
        kind(&u, get, &secret(A, "prod/db-AbCdEfG"), &set),
        ImplicitDeny
    );
    assert_eq!(
        kind(&u, get, &secret(A, "prod/db2-AbCdEf"), &set),
        ImplicitDeny
    );
    assert_eq!(
        kind(&u, get, &secret(A, "prod/db-x-AbCdEf"), &set),
        ImplicitDeny
    );
    let via = Request::new(u.clone(), "kms:Decrypt", key)
        .with_key("kms:ViaService", "secretsmanager.eu-west-3.amazonaws.com");
    assert_eq!(req_kind(&via, &set), Allow);
    assert_eq!(kind(&u, "kms:Decrypt", key, &set), ImplicitDeny);
}

#[test]
fn cross_account_secret_needs_resource_policy_identity_and_kms() {
    // product.md pitfall: cross-account secrets need the full ARN, a resource policy
    // on the secret, an identity policy, and a customer-managed KMS key.
    let u = user(A, "eso");
    let sec = secret(B, "shared/db-AbCdEf");
    let id = PolicySet::new().with_identity_policy(
        "eso",
        allow("secretsmanager:GetSecretValue", &secret(B, "shared/*")),
    );
    assert_eq!(
        kind(&u, "secretsmanager:GetSecretValue", &sec, &id),
        ImplicitDeny
    );
    let both = id.with_resource_policy(
        "secret-policy",
        rp(
            r#"{"AWS":"arn:aws:iam::111122223333:user/eso"}"#,
            "secretsmanager:GetSecretValue",
            "*",
        ),
    );
    assert_eq!(
        kind(&u, "secretsmanager:GetSecretValue", &sec, &both),
        Allow
    );
}
