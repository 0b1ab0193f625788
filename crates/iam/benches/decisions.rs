//! Single-thread decisions per second on the four setups' policies, a 20-statement
//! policy with conditions and variables, and a baseline (one action-only statement)
//! measured in the same run so results can be read as ratios.
//!
//! `authorize_kind` is the allocation-free fast path; `authorize` adds the
//! explanation (deciding statements and reasons as strings).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use iam::{authorize, authorize_kind, Policy, PolicySet, Principal, Request};
use std::hint::black_box;

const ACCOUNT: &str = "123456789012";
const ACTIONS4: &str = r#"["secretsmanager:GetResourcePolicy","secretsmanager:GetSecretValue","secretsmanager:DescribeSecret","secretsmanager:ListSecretVersionIds"]"#;

fn secret(name: &str) -> String {
    format!("arn:aws:secretsmanager:eu-west-3:{ACCOUNT}:secret:{name}")
}

fn narrowed(pattern: &str, extra: &str) -> Policy {
    Policy::parse(&format!(
        r#"{{"Version":"2012-10-17","Statement":[
          {{"Sid":"ReadScoped","Effect":"Allow","Action":{ACTIONS4},"Resource":"arn:aws:secretsmanager:eu-west-3:{ACCOUNT}:secret:{pattern}"}},
          {{"Sid":"ListSecrets","Effect":"Allow","Action":"secretsmanager:ListSecrets","Resource":"*"}}{extra}]}}"#
    ))
    .unwrap()
}

fn setups() -> Vec<(&'static str, PolicySet, Vec<Request>)> {
    let session = Principal::from_arn(&format!(
        "arn:aws:sts::{ACCOUNT}:assumed-role/qovery-eso/s1"
    ))
    .unwrap()
    .with_unique_id("AROAEXAMPLE");
    let user = Principal::from_arn(&format!("arn:aws:iam::{ACCOUNT}:user/eso")).unwrap();
    let requests = |p: &Principal, names: &[&str]| -> Vec<Request> {
        let mut out = Vec::new();
        for n in names {
            for a in [
                "secretsmanager:GetSecretValue",
                "secretsmanager:DescribeSecret",
                "secretsmanager:PutSecretValue",
            ] {
                out.push(Request::new(p.clone(), a, secret(n)));
            }
        }
        out.push(Request::new(p.clone(), "secretsmanager:ListSecrets", "*"));
        out
    };
    let automatic = Policy::parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:GetResourcePolicy","secretsmanager:GetSecretValue","secretsmanager:DescribeSecret","secretsmanager:ListSecretVersionIds","secretsmanager:ListSecrets"],"Resource":"*"}]}"#,
    )
    .unwrap();
    let names = [
        "staging/db-AbCdEf",
        "prod/db-AbCdEf",
        "staging-legacy-x1Y2z3",
    ];
    let gcp_extra = r#",{"Sid":"AllowKMSDecrypt","Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:eu-west-3:123456789012:key/*","Condition":{"StringEquals":{"kms:ViaService":"secretsmanager.eu-west-3.amazonaws.com"}}}"#;
    let mut gcp_requests = requests(
        &user,
        &["prod/db-AbCdEf", "prod/db-AbCdEfG", "staging/db-AbCdEf"],
    );
    gcp_requests.push(
        Request::new(
            user.clone(),
            "kms:Decrypt",
            format!("arn:aws:kms:eu-west-3:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
        )
        .with_key("kms:ViaService", "secretsmanager.eu-west-3.amazonaws.com"),
    );
    let key_policy = Policy::parse(
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}]}"#,
    )
    .unwrap();
    vec![
        (
            "automatic",
            PolicySet::new().with_identity_policy("qovery-eso", automatic),
            requests(&session, &names),
        ),
        (
            "role_arn",
            PolicySet::new().with_identity_policy("eso", narrowed("staging/*", "")),
            requests(&session, &names),
        ),
        (
            "static_credentials",
            PolicySet::new().with_identity_policy("eso", narrowed("staging/*", "")),
            requests(&user, &names),
        ),
        (
            "gcp_cross_cloud",
            PolicySet::new()
                .with_identity_policy("eso", narrowed("prod/db-??????", gcp_extra))
                .with_resource_policy("key", key_policy),
            gcp_requests,
        ),
    ]
}

/// 20 statements mixing actions, wildcards, NotAction/NotResource, conditions of
/// every family and policy variables.
fn twenty_statements() -> Policy {
    let mut stmts = Vec::new();
    for i in 0..4 {
        stmts.push(format!(
            r#"{{"Sid":"Home{i}","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::bucket{i}/home/${{aws:username}}/*"}}"#
        ));
        stmts.push(format!(
            r#"{{"Sid":"Tag{i}","Effect":"Allow","Action":"secretsmanager:Get*","Resource":"*","Condition":{{"StringEquals":{{"secretsmanager:ResourceTag/team":"${{aws:PrincipalTag/team}}"}},"Bool":{{"aws:SecureTransport":"true"}}}}}}"#
        ));
        stmts.push(format!(
            r#"{{"Sid":"Ip{i}","Effect":"Allow","Action":"ec2:Describe*","Resource":"*","Condition":{{"IpAddress":{{"aws:SourceIp":["10.{i}.0.0/16","2001:db8:{i}::/48"]}},"DateLessThan":{{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}}}}}"#
        ));
        stmts.push(format!(
            r#"{{"Sid":"Tags{i}","Effect":"Allow","Action":"iam:Tag*","Resource":"arn:aws:iam::123456789012:user/${{aws:username}}","Condition":{{"ForAllValues:StringLike":{{"aws:TagKeys":["team","cost-*"]}},"NumericLessThan":{{"iam:count":"{i}0"}}}}}}"#
        ));
        stmts.push(format!(
            r#"{{"Sid":"Deny{i}","Effect":"Deny","NotAction":["s3:*","secretsmanager:*","ec2:*","iam:*"],"NotResource":"arn:aws:s3:::public{i}/*","Condition":{{"StringNotLike":{{"aws:PrincipalArn":"arn:aws:iam::*:user/admin-*"}}}}}}"#
        ));
    }
    Policy::parse(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        stmts.join(",")
    ))
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("decisions");

    // Baseline: one statement, action match only.
    let user = Principal::from_arn(&format!("arn:aws:iam::{ACCOUNT}:user/eso")).unwrap();
    let baseline = PolicySet::new().with_identity_policy(
        "baseline",
        Policy::parse(
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
        )
        .unwrap(),
    );
    let base_req = Request::new(user.clone(), "s3:GetObject", "arn:aws:s3:::b/k");
    group.throughput(Throughput::Elements(1));
    group.bench_function("baseline/kind", |b| {
        b.iter(|| authorize_kind(black_box(&base_req), black_box(&baseline)))
    });
    group.bench_function("baseline/explained", |b| {
        b.iter(|| authorize(black_box(&base_req), black_box(&baseline)))
    });

    for (name, set, reqs) in setups() {
        group.throughput(Throughput::Elements(reqs.len() as u64));
        group.bench_function(format!("{name}/kind"), |b| {
            b.iter(|| {
                for r in &reqs {
                    black_box(authorize_kind(black_box(r), &set));
                }
            })
        });
        group.bench_function(format!("{name}/explained"), |b| {
            b.iter(|| {
                for r in &reqs {
                    black_box(authorize(black_box(r), &set));
                }
            })
        });
    }

    let twenty = PolicySet::new().with_identity_policy("twenty", twenty_statements());
    let alice = Principal::from_arn(&format!("arn:aws:iam::{ACCOUNT}:user/alice"))
        .unwrap()
        .with_tag("team", "blue");
    let reqs = vec![
        Request::new(
            alice.clone(),
            "s3:GetObject",
            "arn:aws:s3:::bucket3/home/alice/f",
        ),
        Request::new(alice.clone(), "secretsmanager:GetSecretValue", secret("x"))
            .with_key("secretsmanager:ResourceTag/team", "blue")
            .with_key("aws:SecureTransport", "true"),
        Request::new(alice.clone(), "ec2:DescribeInstances", "*")
            .with_key("aws:SourceIp", "10.3.4.5")
            .with_key("aws:CurrentTime", "2025-06-01T12:00:00Z"),
        Request::new(
            alice.clone(),
            "iam:TagUser",
            "arn:aws:iam::123456789012:user/alice",
        )
        .with_context(
            iam::Context::new()
                .with_many("aws:TagKeys", ["team", "cost-center"])
                .with("iam:count", "5"),
        ),
        Request::new(
            alice.clone(),
            "sqs:SendMessage",
            "arn:aws:sqs:eu-west-3:123456789012:q",
        ),
    ];
    group.throughput(Throughput::Elements(reqs.len() as u64));
    group.bench_function("twenty_statements/kind", |b| {
        b.iter(|| {
            for r in &reqs {
                black_box(authorize_kind(black_box(r), &twenty));
            }
        })
    });
    group.bench_function("twenty_statements/explained", |b| {
        b.iter(|| {
            for r in &reqs {
                black_box(authorize(black_box(r), &twenty));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
