//! `--baseline`: new access of a template change, against the generated base of the
//! broken cases (`tests/broken/config.yaml`).

use std::path::PathBuf;

use check::{Finding, Rule};

fn broken(case: &str) -> (model::Plan, Vec<check::Artifact>) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/broken");
    let plan = model::load(&root.join("config.yaml")).unwrap();
    let artifacts = check::input::read_baseline(&root.join(case), &plan).unwrap();
    (plan, artifacts)
}

fn generated(plan: &model::Plan) -> Vec<check::Artifact> {
    check::generate(plan, &templates::Templates::embedded().unwrap()).unwrap()
}

fn new_access(findings: &[Finding]) -> Vec<&Finding> {
    findings
        .iter()
        .filter(|f| f.rule == Rule::BaselineNewAccess)
        .collect()
}

#[test]
fn the_same_templates_give_no_new_access() {
    let (plan, _) = broken("staging-star");
    let base = generated(&plan);
    assert!(check::baseline::compare(&plan, &base, &base)
        .unwrap()
        .is_empty());
}

#[test]
fn a_widened_prefix_is_new_access_with_the_shortest_new_name() {
    let (plan, widened) = broken("staging-star");
    let findings = check::baseline::compare(&plan, &widened, &generated(&plan)).unwrap();
    let found = new_access(&findings);
    assert!(!found.is_empty());
    let read = found
        .iter()
        .find(|f| f.actions == ["secretsmanager:GetSecretValue"])
        .unwrap();
    let name = read.counterexample.as_deref().unwrap();
    assert!(name.starts_with("staging"), "{name}");
    assert!(
        !name.starts_with("staging/app/") && name != "staging/db",
        "{name}"
    );
    assert!(read.location.is_some());
}

#[test]
fn narrowing_is_not_new_access() {
    let (plan, widened) = broken("staging-star");
    let findings = check::baseline::compare(&plan, &generated(&plan), &widened).unwrap();
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn a_new_write_action_is_new_access() {
    let (plan, written) = broken("write-action");
    let findings = check::baseline::compare(&plan, &written, &generated(&plan)).unwrap();
    assert!(
        findings.iter().any(|f| f
            .actions
            .iter()
            .any(|a| a == "secretsmanager:putsecretvalue")),
        "{findings:#?}"
    );
}

#[test]
fn a_wider_trust_is_new_access() {
    let (plan, trusted) = broken("missing-sub");
    let findings = check::baseline::compare(&plan, &trusted, &generated(&plan)).unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f.actions == ["who may assume the role"]),
        "{findings:#?}"
    );
}

#[test]
fn an_access_missing_from_the_baseline_is_new() {
    let (plan, _) = broken("staging-star");
    let findings = check::baseline::compare(&plan, &generated(&plan), &[]).unwrap();
    assert_eq!(new_access(&findings).len(), 1);
}
