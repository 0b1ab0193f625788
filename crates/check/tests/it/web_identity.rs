//! `sma check`'s trust proof applies to the `web-identity` role (GKE → AWS) as to IRSA
//! roles: the generated stack of `examples/gcp-web-identity.yaml` proves clean, and the
//! same stack without its `:sub` or its `:aud` condition is a finding whose
//! counterexample is a token that would get in.

use check::{Artifact, Finding, Rule};

fn example() -> (model::Plan, Vec<Artifact>) {
    let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/gcp-web-identity.yaml");
    let plan = model::load(&config).unwrap();
    assert_eq!(plan.accesses[0].setup, model::Setup::WebIdentity);
    let templates = templates::Templates::embedded().unwrap();
    let files = templates::render::render_plan(&plan, &templates).unwrap();
    (plan, files.iter().map(Artifact::from).collect())
}

/// The findings of the example's access with its CloudFormation template passed
/// through `edit`.
fn findings_with(edit: impl Fn(&str) -> String) -> Vec<Finding> {
    let (plan, mut artifacts) = example();
    let path = format!("{}/cloudformation.yaml", plan.accesses[0].name);
    let template = artifacts
        .iter_mut()
        .find(|a| a.path == path)
        .expect("the access's CloudFormation template");
    template.contents = edit(&template.contents);
    check::check_access(&plan.accesses[0], &artifacts).unwrap()
}

/// The template without the trust condition line on `claim`.
fn without_condition(template: &str, claim: &str) -> String {
    let suffix = format!(":{claim}\":");
    let kept: Vec<&str> = template
        .lines()
        .filter(|line| !(line.contains(".com/v1/projects/") && line.contains(&suffix)))
        .collect();
    assert_eq!(
        kept.len() + 1,
        template.lines().count(),
        "exactly one `:{claim}` condition line in the generated trust"
    );
    kept.join("\n")
}

#[test]
fn the_generated_web_identity_trust_proves_clean() {
    assert_eq!(findings_with(str::to_owned), vec![]);
}

#[test]
fn a_trust_without_sub_is_a_finding() {
    let findings = findings_with(|t| without_condition(t, "sub"));
    let trust: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.rule == Rule::TrustSubject)
        .collect();
    assert_eq!(trust.len(), 1, "{findings:#?}");
    assert_eq!(
        trust[0].counterexample.as_deref(),
        Some("sub=system:serviceaccount:default:anything, aud=sts.amazonaws.com")
    );
}

#[test]
fn a_trust_without_aud_is_a_finding() {
    let findings = findings_with(|t| without_condition(t, "aud"));
    let trust: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.rule == Rule::TrustAudience)
        .collect();
    assert_eq!(trust.len(), 1, "{findings:#?}");
    let example = trust[0].counterexample.as_deref().unwrap_or_default();
    assert!(
        example.starts_with("sub=system:serviceaccount:reporting:eso-aws-reporting, aud="),
        "{example}"
    );
}
