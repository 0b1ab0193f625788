//! `--external-secrets`: least privilege of the broken cases' base access (`app`:
//! `staging/db` and everything under `staging/app/`) against ExternalSecret manifests.

use std::path::PathBuf;

use check::{Artifact, Rule};

fn analyze(external: &str) -> check::usage::LeastPrivilege {
    analyze_with_store("", external)
}

fn external_secret(name: &str, body: &str) -> String {
    format!("---\napiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata:\n  name: {name}\n  namespace: staging\nspec:\n  secretStoreRef:\n    kind: ClusterSecretStore\n    name: app\n{body}")
}

const READS_DB: &str =
    "  data:\n    - secretKey: password\n      remoteRef:\n        key: staging/db\n";

#[test]
fn a_prefix_nobody_reads_is_an_unused_grant_with_a_narrower_snippet() {
    let result = analyze(&external_secret("db", READS_DB));
    let unused: Vec<_> = result
        .findings
        .iter()
        .filter(|f| f.rule == Rule::UsageUnusedGrant)
        .collect();
    assert_eq!(unused.len(), 1, "{:#?}", result.findings);
    let example = unused[0].counterexample.as_deref().unwrap();
    assert!(example.starts_with("staging/app/"), "{example}");
    assert!(
        result.snippet.contains("names: [\"staging/db\"]"),
        "{}",
        result.snippet
    );
    assert!(!result.snippet.contains("prefixes"), "{}", result.snippet);
}

#[test]
fn manifests_that_read_everything_granted_leave_nothing_unused() {
    let both = external_secret("db", READS_DB)
        + &external_secret(
            "app",
            "  dataFrom:\n    - find:\n        path: staging/app/\n",
        );
    let result = analyze(&both);
    assert!(result.findings.is_empty(), "{:#?}", result.findings);
    assert!(
        result.snippet.contains("prefixes: [\"staging/app/\"]"),
        "{}",
        result.snippet
    );
}

#[test]
fn a_read_the_access_lacks_is_a_missing_permission_at_its_external_secret() {
    let manifests = external_secret("db", READS_DB)
        + &external_secret(
            "prod",
            "  data:\n    - secretKey: k\n      remoteRef:\n        key: prod/db\n",
        );
    let result = analyze(&manifests);
    let missing: Vec<_> = result
        .findings
        .iter()
        .filter(|f| f.rule == Rule::EsoRead)
        .collect();
    assert_eq!(missing.len(), 1, "{:#?}", result.findings);
    let f = missing[0];
    assert!(
        f.message.starts_with("ExternalSecret staging/prod reads"),
        "{}",
        f.message
    );
    assert!(!f.message.contains("intent"), "{}", f.message);
    let location = f.location.as_ref().expect("located at the ExternalSecret");
    let line = manifests.lines().nth(location.line - 1).unwrap();
    assert_eq!(
        line.trim(),
        "data:",
        "line {} of {}",
        location.line,
        manifests
    );
    assert!(location.file.ends_with(".yaml"), "{location:?}");
}

#[test]
fn find_by_tags_is_not_narrowed() {
    let result = analyze(&external_secret(
        "tagged",
        "  dataFrom:\n    - find:\n        tags:\n          team: payments\n",
    ));
    assert!(
        result.snippet.contains("not narrowed"),
        "{}",
        result.snippet
    );
    assert!(!result.snippet.contains("secrets:"), "{}", result.snippet);
}

#[test]
fn an_access_no_external_secret_uses_is_unused() {
    let other_store = external_secret("x", READS_DB).replace("name: app", "name: other");
    let result = analyze(&other_store);
    assert_eq!(result.findings.len(), 1);
    assert_eq!(result.findings[0].rule, Rule::UsageUnusedGrant);
}

/// The base access, its `eso` section given by `eso` (appended to the access), against
/// the ExternalSecrets of `external`.
fn analyze_with_store(eso: &str, external: &str) -> check::usage::LeastPrivilege {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/broken");
    let config = std::fs::read_to_string(root.join("config.yaml")).unwrap() + eso;
    let plan = model::parse(&config).unwrap();
    let artifacts = check::generate(&plan, &templates::Templates::embedded().unwrap()).unwrap();
    let files = [Artifact {
        path: "cluster/external-secrets.yaml".to_owned(),
        contents: external.to_owned(),
    }];
    let manifests = check::usage::read_external_secrets(&files).unwrap();
    check::usage::analyze(&plan, &artifacts, &manifests, &files).unwrap()
}

/// ESO refuses an ExternalSecret from a namespace the store does not serve: its reads
/// are not the access's usage (else they would hide an unused grant), and it is a
/// finding of its own.
#[test]
fn external_secrets_of_namespaces_the_store_does_not_serve_are_refused_not_counted() {
    let from_other = external_secret("db", READS_DB)
        + &external_secret(
            "app",
            "  dataFrom:\n    - find:\n        path: staging/app/\n",
        )
        .replace("namespace: staging", "namespace: payments");
    for (eso, kind) in [
        (
            "    eso:\n      allowed_namespaces: [staging]\n",
            "ClusterSecretStore",
        ),
        (
            "    eso:\n      store_kind: SecretStore\n      namespace: staging\n",
            "SecretStore",
        ),
    ] {
        let external = from_other.replace("kind: ClusterSecretStore", &format!("kind: {kind}"));
        let result = analyze_with_store(eso, &external);
        let rules: Vec<Rule> = result.findings.iter().map(|f| f.rule).collect();
        assert!(
            rules.contains(&Rule::UsageStoreRefused),
            "{kind}: {:#?}",
            result.findings
        );
        let refused = result
            .findings
            .iter()
            .find(|f| f.rule == Rule::UsageStoreRefused)
            .unwrap();
        assert!(
            refused.message.contains("payments/app"),
            "{}",
            refused.message
        );
        // At the refused ExternalSecret's store reference (its document is the second).
        let line = refused.location.as_ref().unwrap().line;
        let text_line = external.lines().nth(line - 1).unwrap_or_default();
        assert!(
            text_line.contains("secretStoreRef") && line > 12,
            "line {line}: {text_line:?}"
        );
        // The refused one read `staging/app/`: still unused by what ESO serves.
        let unused = result
            .findings
            .iter()
            .find(|f| f.rule == Rule::UsageUnusedGrant)
            .unwrap_or_else(|| panic!("{kind}: {:#?}", result.findings));
        assert!(
            unused
                .counterexample
                .as_deref()
                .unwrap()
                .starts_with("staging/app/"),
            "{unused:?}"
        );
    }
}
