//! `sma check --baseline OLD_DIR`: what the new artifacts allow that the old did not —
//! the offline counterpart of Access Analyzer's check-no-new-access, for reviewing a
//! template change.
//!
//! Per access: for each secret read action, the secrets (any name, any region of the
//! account) the new identity policies reach and the old did not, with the shortest one
//! (automata, [`scope::new_reach`]); for every other Secrets Manager, KMS and STS
//! action, and for the trust policy, statements are compared as parsed: an Allow
//! statement the old policies did not have, or a Deny statement the new ones dropped,
//! is new access unless identical — conservative, never a silent pass. An access absent
//! from the baseline is new as a whole.

use model::{Access, Plan};

use crate::artifacts::{PolicyDoc, PolicyRole};
use crate::error::CheckError;
use crate::findings::{Finding, Rule};
use crate::languages::SecretSpace;
use crate::lint::known_actions;
use crate::scope::{new_reach, SCOPED_READ_ACTIONS};
use crate::{access_policies, identity_policies, Artifact, POLICY_FILE};

/// The new access of every access of `plan`: `new` against `old` artifacts.
pub fn compare(
    plan: &Plan,
    new: &[Artifact],
    old: &[Artifact],
) -> Result<Vec<Finding>, CheckError> {
    let mut findings = Vec::new();
    for access in &plan.accesses {
        findings.extend(compare_access(access, new, old)?);
    }
    Ok(findings)
}

/// Statements of `docs` (with their document) that match `action`, of `effect`.
fn statements_for<'a>(
    docs: &[&'a PolicyDoc],
    effect: iam::Effect,
    action: Option<&str>,
) -> Vec<(&'a PolicyDoc, usize)> {
    docs.iter()
        .flat_map(|doc| {
            doc.policy
                .statements()
                .iter()
                .enumerate()
                .filter(move |(_, s)| {
                    s.effect() == effect && action.is_none_or(|a| s.matches_action(a))
                })
                .map(move |(i, _)| (*doc, i))
        })
        .collect()
}

/// Statements of `ours` absent (as parsed) from `theirs`.
fn absent_from<'a>(
    ours: &[(&'a PolicyDoc, usize)],
    theirs: &[(&PolicyDoc, usize)],
) -> Vec<(&'a PolicyDoc, usize)> {
    ours.iter()
        .filter(|(doc, i)| {
            let statement = &doc.policy.statements()[*i];
            !theirs
                .iter()
                .any(|(d, j)| &d.policy.statements()[*j] == statement)
        })
        .copied()
        .collect()
}

/// A statement that changed, the actions it concerns, and how.
type Changed<'a> = ((&'a PolicyDoc, usize), Vec<String>, &'static str);

/// Records `statements` as changed for `action`, one entry per statement and kind.
fn note<'a>(
    changed: &mut Vec<Changed<'a>>,
    statements: Vec<(&'a PolicyDoc, usize)>,
    action: &str,
    how: &'static str,
) {
    for key in statements {
        match changed
            .iter_mut()
            .find(|(k, _, h)| std::ptr::eq(k.0, key.0) && k.1 == key.1 && *h == how)
        {
            Some((_, actions, _)) => actions.push(action.to_owned()),
            None => changed.push((key, vec![action.to_owned()], how)),
        }
    }
}

fn trust_docs(docs: &[PolicyDoc]) -> Vec<&PolicyDoc> {
    docs.iter()
        .filter(|d| d.role == PolicyRole::Trust)
        .collect()
}

/// The new access of one access.
pub fn compare_access(
    access: &Access,
    new: &[Artifact],
    old: &[Artifact],
) -> Result<Vec<Finding>, CheckError> {
    let name = access.name.as_str();
    let (new_policy, new_template) = access_policies(access, new)?;
    let new_identity = identity_policies(&new_policy, &new_template);
    let old_file = format!("{name}/{POLICY_FILE}");
    if !old.iter().any(|a| a.path == old_file) {
        return Ok(vec![Finding::new(
            Rule::BaselineNewAccess,
            name,
            "the access is not in the baseline: everything it grants is new access",
        )
        .at(Some(new_policy.file.clone()), Some(new_policy.location(0)))]);
    }
    let (old_policy, old_template) = access_policies(access, old)?;
    let old_identity = identity_policies(&old_policy, &old_template);
    let space = SecretSpace::of(access);
    let mut findings = Vec::new();

    for action in SCOPED_READ_ACTIONS {
        if let Some(reach) = new_reach(name, &space, &new_identity, &old_identity, action)? {
            let mut finding = Finding::new(
                Rule::BaselineNewAccess,
                name,
                format!(
                    "{} now reaches secret `{}` (ARN {}), which the baseline did not{}",
                    action.trim_start_matches("secretsmanager:"),
                    reach.name,
                    reach.arn,
                    if reach.conditional {
                        " (if the conditions or policy variables of the statements allow it)"
                    } else {
                        ""
                    }
                ),
            )
            .with_counterexample(reach.name);
            let (statement, location) = reach.granted_by.unzip();
            finding = finding.at(statement, location);
            finding.actions = vec![action.to_owned()];
            findings.push(finding);
        }
    }

    // Every other action of the services, statement by statement.
    let mut changed: Vec<Changed> = Vec::new();
    let other_actions: Vec<String> = known_actions()
        .map(|(a, _)| a)
        .filter(|a| {
            !SCOPED_READ_ACTIONS
                .iter()
                .any(|s| s.eq_ignore_ascii_case(a))
        })
        .collect();
    for action in &other_actions {
        let (allow, deny) = (iam::Effect::Allow, iam::Effect::Deny);
        note(
            &mut changed,
            absent_from(
                &statements_for(&new_identity, allow, Some(action)),
                &statements_for(&old_identity, allow, Some(action)),
            ),
            action,
            "an Allow statement the baseline did not have",
        );
        note(
            &mut changed,
            absent_from(
                &statements_for(&old_identity, deny, Some(action)),
                &statements_for(&new_identity, deny, Some(action)),
            ),
            action,
            "a Deny statement of the baseline that is gone",
        );
    }
    let (new_trust, old_trust) = (trust_docs(&new_template), trust_docs(&old_template));
    for (ours, theirs, effect, how) in [
        (
            &new_trust,
            &old_trust,
            iam::Effect::Allow,
            "a trust Allow statement the baseline did not have",
        ),
        (
            &old_trust,
            &new_trust,
            iam::Effect::Deny,
            "a trust Deny statement of the baseline that is gone",
        ),
    ] {
        note(
            &mut changed,
            absent_from(
                &statements_for(ours, effect, None),
                &statements_for(theirs, effect, None),
            ),
            "who may assume the role",
            how,
        );
    }
    for ((doc, index), actions, how) in changed {
        let mut finding = Finding::new(
            Rule::BaselineNewAccess,
            name,
            format!(
                "{how}: {} ({}); the baseline's statements do not cover it as written, so it may grant new access",
                doc.describe_statement(index),
                actions.join(", ")
            ),
        )
        .with_counterexample(actions[0].clone());
        // A gone Deny lives in the old files: point at the new policy's first statement.
        finding = if how.contains("gone") {
            finding.at(
                Some(doc.describe_statement(index)),
                Some(new_policy.location(0)),
            )
        } else {
            finding.at(
                Some(doc.describe_statement(index)),
                Some(doc.location(index)),
            )
        };
        finding.actions = actions;
        findings.push(finding);
    }
    Ok(findings)
}
