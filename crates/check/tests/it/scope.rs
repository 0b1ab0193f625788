//! The scope proof on hand-written policies: counterexamples, Deny carve-outs,
//! NotResource, other regions, conditions and variables.

use crate::common::*;
use check::Rule;

#[test]
fn seed_staging_star_leaks_the_shortest_name_outside_staging_slash() {
    let doc = policy(&[read(
        "Allow",
        "Scoped",
        "Resource",
        &[&format!("{PREFIX}staging*")],
        "",
    )]);
    let findings = prove(&scope(&[], &["staging/"]), &doc);
    let f = only(&findings, Rule::ScopeBroader);
    let name = f.counterexample.as_deref().unwrap();
    assert!(
        name.starts_with("staging") && !name.starts_with("staging/"),
        "{name}"
    );
    // Shortest: the secret named exactly `staging` (ARN `…:secret:staging-XXXXXX`).
    assert_eq!(name, "staging");
    assert_eq!(
        f.statement.as_deref(),
        Some("p/iam-policy.json statement \"Scoped\"")
    );
    assert_eq!(
        f.actions.len(),
        4,
        "the four read actions are proved together"
    );
    assert!(iam::matches_pattern(
        &format!("{PREFIX}staging*"),
        &witness_arn(f)
    ));
    assert!(!findings.iter().any(|f| f.rule == Rule::ScopeNarrower));
}

#[test]
fn staging_slash_star_proves_clean() {
    let doc = policy(&[read(
        "Allow",
        "Scoped",
        "Resource",
        &[&format!("{PREFIX}staging/*")],
        "",
    )]);
    assert_eq!(prove(&scope(&[], &["staging/"]), &doc), vec![]);
    let exact = policy(&[read(
        "Allow",
        "Exact",
        "Resource",
        &[&format!("{PREFIX}staging/db-??????")],
        "",
    )]);
    assert_eq!(prove(&scope(&["staging/db"], &[]), &exact), vec![]);
}

#[test]
fn exact_name_without_suffix_wildcard_is_narrower_and_star_suffix_is_broader() {
    let no_suffix = policy(&[read(
        "Allow",
        "S",
        "Resource",
        &[&format!("{PREFIX}staging/db")],
        "",
    )]);
    let f = prove(&scope(&["staging/db"], &[]), &no_suffix);
    assert_eq!(
        only(&f, Rule::ScopeNarrower).counterexample.as_deref(),
        Some("staging/db")
    );
    let star = policy(&[read(
        "Allow",
        "S",
        "Resource",
        &[&format!("{PREFIX}staging/db*")],
        "",
    )]);
    let f = prove(&scope(&["staging/db"], &[]), &star);
    let leak = only(&f, Rule::ScopeBroader).counterexample.clone().unwrap();
    assert!(
        leak.starts_with("staging/db") && leak.len() == "staging/db".len() + 1,
        "{leak}"
    );
}

#[test]
fn deny_carve_outs_are_honoured() {
    // Allow everything of the region, Deny what is not under staging/: exactly staging/.
    let carve = policy(&[
        read("Allow", "All", "Resource", &[&format!("{PREFIX}*")], ""),
        read(
            "Deny",
            "NotStaging",
            "NotResource",
            &[&format!("{PREFIX}staging/*")],
            "",
        ),
    ]);
    assert_eq!(prove(&scope(&[], &["staging/"]), &carve), vec![]);
    // A Deny inside the intent makes it narrower, and names the Deny.
    let hole = policy(&[
        read(
            "Allow",
            "Staging",
            "Resource",
            &[&format!("{PREFIX}staging/*")],
            "",
        ),
        read(
            "Deny",
            "NoAdmin",
            "Resource",
            &[&format!("{PREFIX}staging/admin/*")],
            "",
        ),
    ]);
    let f = prove(&scope(&[], &["staging/"]), &hole);
    let narrower = only(&f, Rule::ScopeNarrower);
    assert!(narrower
        .counterexample
        .as_deref()
        .unwrap()
        .starts_with("staging/admin/"));
    assert_eq!(
        narrower.statement.as_deref(),
        Some("p/iam-policy.json statement \"NoAdmin\"")
    );
    assert_eq!(narrower.location.as_ref().unwrap().line, 1);
}

#[test]
fn other_regions_and_resource_star_are_broader() {
    let any_region = policy(&[read(
        "Allow",
        "S",
        "Resource",
        &["arn:aws:secretsmanager:*:123456789012:secret:staging/*"],
        "",
    )]);
    let f = prove(&scope(&[], &["staging/"]), &any_region);
    let leak = only(&f, Rule::ScopeBroader).counterexample.clone().unwrap();
    assert!(
        leak.starts_with("staging/") && leak.contains(" in region "),
        "{leak}"
    );
    let star = policy(&[read("Allow", "S", "Resource", &["*"], "")]);
    let f = prove(&scope(&[], &["staging/"]), &star);
    assert_eq!(
        only(&f, Rule::ScopeBroader).counterexample.as_deref(),
        Some("a")
    );
    // The automatic setup's intent is every secret of the account: "*" is exactly it.
    assert_eq!(prove(&model::SecretScope::EntireAccount, &star), vec![]);
}

#[test]
fn allow_not_resource_grants_everything_else() {
    let doc = policy(&[read(
        "Allow",
        "S",
        "NotResource",
        &[&format!("{PREFIX}prod/*")],
        "",
    )]);
    let f = prove(&scope(&[], &["staging/"]), &doc);
    let leak = only(&f, Rule::ScopeBroader).counterexample.clone().unwrap();
    assert!(!leak.starts_with("staging/") && !leak.starts_with("prod/"));
}

#[test]
fn undecidable_conditions_and_variables_are_never_a_silent_pass() {
    let tagged = policy(&[read(
        "Allow",
        "Tagged",
        "Resource",
        &[&format!("{PREFIX}*")],
        r#","Condition":{"StringEquals":{"secretsmanager:ResourceTag/team":"staging"}}"#,
    )]);
    let f = prove(&scope(&[], &["staging/"]), &tagged);
    assert!(f.iter().any(|f| f.rule == Rule::ScopeUnproven), "{f:#?}");
    assert!(!f.iter().any(|f| f.rule == Rule::ScopeBroader));
    let variable = policy(&[read(
        "Allow",
        "Var",
        "Resource",
        &[&format!("{PREFIX}${{aws:username}}/*")],
        "",
    )]);
    let f = prove(&scope(&[], &["staging/"]), &variable);
    assert!(f.iter().any(|f| f.rule == Rule::ScopeUnproven), "{f:#?}");
    // A conditional Allow inside the intent next to an unconditional one: clean.
    let inside = policy(&[
        read(
            "Allow",
            "S",
            "Resource",
            &[&format!("{PREFIX}staging/*")],
            "",
        ),
        read(
            "Allow",
            "T",
            "Resource",
            &[&format!("{PREFIX}staging/x*")],
            r#","Condition":{"Bool":{"aws:SecureTransport":"true"}}"#,
        ),
    ]);
    assert_eq!(prove(&scope(&[], &["staging/"]), &inside), vec![]);
}

#[test]
fn statements_for_other_actions_do_not_count() {
    let doc = policy(&[
        read(
            "Allow",
            "S",
            "Resource",
            &[&format!("{PREFIX}staging/*")],
            "",
        ),
        r#"{"Effect":"Allow","Action":"secretsmanager:ListSecrets","Resource":"*"}"#.to_owned(),
    ]);
    assert_eq!(prove(&scope(&[], &["staging/"]), &doc), vec![]);
}
