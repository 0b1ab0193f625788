//! Helpers shared by the check crate's tests.

use check::artifacts::{policy_json, PolicyDoc};
use check::languages::SecretSpace;
use check::{Finding, Rule};
use model::values::{SecretName, SecretPrefix};
use model::SecretScope;

pub const PREFIX: &str = "arn:aws:secretsmanager:eu-west-3:123456789012:secret:";

pub fn space() -> SecretSpace {
    SecretSpace {
        partition: "aws".to_owned(),
        account: "123456789012".to_owned(),
        region: "eu-west-3".to_owned(),
    }
}

pub fn scope(names: &[&str], prefixes: &[&str]) -> SecretScope {
    SecretScope::Selected {
        names: names
            .iter()
            .map(|n| SecretName::parse(n).unwrap())
            .collect(),
        prefixes: prefixes
            .iter()
            .map(|p| SecretPrefix::parse(p).unwrap())
            .collect(),
        arn_patterns: Vec::new(),
    }
}

/// A policy of statements given as JSON objects.
pub fn policy(statements: &[String]) -> PolicyDoc {
    policy_json(
        "p/iam-policy.json",
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
            statements.join(",")
        ),
    )
    .unwrap()
}

/// A statement on the four read actions.
pub fn read(effect: &str, sid: &str, element: &str, resources: &[&str], extra: &str) -> String {
    let list: Vec<String> = resources.iter().map(|r| format!("{r:?}")).collect();
    format!(
        r#"{{"Sid":"{sid}","Effect":"{effect}","Action":["secretsmanager:GetSecretValue","secretsmanager:DescribeSecret","secretsmanager:GetResourcePolicy","secretsmanager:ListSecretVersionIds"],"{element}":[{}]{extra}}}"#,
        list.join(",")
    )
}

pub fn prove(scope: &SecretScope, doc: &PolicyDoc) -> Vec<Finding> {
    check::scope::prove_scope("a", &space(), scope, &[doc]).unwrap()
}

pub fn only(findings: &[Finding], rule: Rule) -> &Finding {
    let of: Vec<&Finding> = findings.iter().filter(|f| f.rule == rule).collect();
    assert_eq!(of.len(), 1, "expected one {rule:?}: {findings:#?}");
    of[0]
}

/// The ARN quoted in a finding's message (`(ARN …)`).
pub fn witness_arn(finding: &Finding) -> String {
    let start = finding.message.find("(ARN ").expect("ARN in message") + 5;
    let end = finding.message[start..].find(')').unwrap() + start;
    finding.message[start..end].to_owned()
}
