//! Lint rules on every policy of an access: unknown actions of Secrets Manager, KMS
//! and STS (the real action list is data, `data/actions.txt`, with its source), write
//! actions granted, `ListSecrets` not on `"*"`, Allow with `NotAction`/`NotResource`,
//! wildcards in the region or account of an ARN, and a missing `Version`.

use iam::view::{Piece, ResourcePattern};
use iam::{Effect, Version};

use crate::artifacts::{PolicyDoc, PolicyRole};
use crate::findings::{Finding, Rule};

const ACTIONS: &str = include_str!("../data/actions.txt");

/// The services whose action names are checked.
const CHECKED_SERVICES: [&str; 3] = ["secretsmanager", "kms", "sts"];

/// `(action lowercased, is_write)` for every known action.
pub(crate) fn known_actions() -> impl Iterator<Item = (String, bool)> {
    ACTIONS
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut words = l.split_whitespace();
            let action = words.next().unwrap_or_default().to_ascii_lowercase();
            (action, words.next() == Some("write"))
        })
}

fn wildcard_match_ci(pattern: &str, action: &str) -> bool {
    iam::wildcard_match(pattern, action)
}

/// Lints one policy of access `access`.
pub fn lint_policy(access: &str, doc: &PolicyDoc) -> Vec<Finding> {
    let mut findings = Vec::new();
    let known: Vec<(String, bool)> = known_actions().collect();
    if doc.policy.version() != Version::V2012_10_17 {
        findings.push(
            Finding::new(
                Rule::LintMissingVersion,
                access,
                format!("{} ({}) has no `Version: 2012-10-17`: policy variables are literal text and newer features are off", doc.file, doc.label),
            )
            .at(Some(doc.label.clone()), Some(doc.location(0))),
        );
    }
    for (index, statement) in doc.policy.statements().iter().enumerate() {
        let at = |f: Finding| {
            f.at(
                Some(doc.describe_statement(index)),
                Some(doc.location(index)),
            )
        };
        let allow = statement.effect() == Effect::Allow;
        for pattern in statement.action_patterns() {
            let Some((service, _)) = pattern.split_once(':') else {
                continue;
            };
            if !CHECKED_SERVICES.contains(&service) {
                continue;
            }
            if !known.iter().any(|(a, _)| wildcard_match_ci(&pattern, a)) {
                findings.push(at(Finding::new(
                    Rule::LintUnknownAction,
                    access,
                    format!("action `{pattern}` matches no {service} action: a typo grants nothing (or denies nothing)"),
                )
                .with_counterexample(pattern.clone())));
            }
        }
        if allow && doc.role == PolicyRole::Identity {
            let writes: Vec<&str> = known
                .iter()
                .filter(|(a, write)| {
                    *write && (a.starts_with("secretsmanager:") || a.starts_with("kms:"))
                })
                .filter(|(a, _)| statement.matches_action(a))
                .map(|(a, _)| a.as_str())
                .collect();
            if !writes.is_empty() {
                findings.push(at(Finding::new(
                    Rule::LintWriteAction,
                    access,
                    format!(
                        "a read-only access is granted actions that change secrets or keys: {}",
                        writes.join(", ")
                    ),
                )
                .with_counterexample(writes[0].to_owned())));
            }
            if statement.has_not_action() {
                findings.push(at(Finding::new(
                    Rule::LintAllowNotAction,
                    access,
                    "Allow with NotAction grants every action it does not list, including actions AWS adds later",
                )));
            }
        }
        let Some(resources) = statement.resources() else {
            continue;
        };
        if allow && resources.negated {
            findings.push(at(Finding::new(
                Rule::LintAllowNotResource,
                access,
                "Allow with NotResource grants every resource it does not list, including ones created later",
            )));
        }
        if allow
            && statement.matches_action("secretsmanager:ListSecrets")
            && !resources.negated
            && !resources.patterns.contains(&ResourcePattern::Any)
        {
            findings.push(at(Finding::new(
                Rule::LintListSecretsScoped,
                access,
                "secretsmanager:ListSecrets is granted on specific resources; it has no resource type and only works on Resource \"*\", so ESO's find would be denied",
            )));
        }
        for pattern in &resources.patterns {
            let ResourcePattern::Parts(parts) = pattern else {
                continue;
            };
            for (part, what) in [(3, "region"), (4, "account")] {
                let wild = parts.get(part).is_some_and(|p| {
                    p.iter().any(|x| {
                        matches!(x, Piece::AnyRun | Piece::AnyOne | Piece::Variable { .. })
                    })
                }) || (parts.len() <= part
                    && parts
                        .last()
                        .is_some_and(|p| p.last() == Some(&Piece::AnyRun)));
                if wild {
                    findings.push(at(Finding::new(
                        Rule::LintArnWildcard,
                        access,
                        format!("a resource ARN has a wildcard in its {what} part: it reaches every {what}, not only the access's"),
                    )));
                    break;
                }
            }
        }
    }
    findings
}
