//! ESO ↔ IAM consistency on artifacts generated in memory from a role-arn access with a
//! customer-managed key, each test editing one file the way a user might.

use std::collections::BTreeSet;

use check::{Artifact, Rule};

const CONFIG: &str = r#"
cluster:
  name: prod-eks
  cloud: aws
  account_id: "123456789012"
  region: eu-west-3
  oidc_issuer: https://oidc.eks.eu-west-3.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE
accesses:
  - name: app
    setup: role-arn
    secrets:
      names: [staging/db]
    kms_key_arns:
      - arn:aws:kms:eu-west-3:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
"#;

const ROLE: &str = "arn:aws:iam::123456789012:role/eso-prod-eks-app";

/// The rules found after `edit` changed the generated artifacts.
fn rules_after(edit: impl Fn(&mut Vec<Artifact>)) -> BTreeSet<Rule> {
    let plan = model::parse(CONFIG).unwrap();
    let files = templates::render_plan(&plan, &templates::Templates::embedded().unwrap()).unwrap();
    let mut artifacts: Vec<Artifact> = files.iter().map(Artifact::from).collect();
    edit(&mut artifacts);
    let report = check::check_plan(&plan, &artifacts).unwrap();
    report
        .findings
        .iter()
        .filter(|f| f.rule.family() == "eso")
        .map(|f| f.rule)
        .collect()
}

/// Replaces `old` (which must occur) by `new` in `file` of access `app`.
fn replace(artifacts: &mut [Artifact], file: &str, old: &str, new: &str) {
    let path = format!("app/{file}");
    let a = artifacts.iter_mut().find(|a| a.path == path).unwrap();
    assert!(a.contents.contains(old), "{path} lacks {old:?}");
    a.contents = a.contents.replace(old, new);
}

/// Same edit in the policy JSON and the template's managed policy (sma writes both).
fn replace_in_policies(artifacts: &mut [Artifact], json: (&str, &str), yaml: (&str, &str)) {
    replace(artifacts, "iam-policy.json", json.0, json.1);
    replace(artifacts, "cloudformation.yaml", yaml.0, yaml.1);
}

#[test]
fn generated_manifests_are_consistent() {
    assert_eq!(rules_after(|_| {}), BTreeSet::new());
}

#[test]
fn a_customer_key_without_decrypt_is_missing() {
    let rules = rules_after(|a| {
        replace_in_policies(
            a,
            (r#""kms:Decrypt""#, r#""kms:DescribeKey""#),
            (r#""kms:Decrypt""#, r#""kms:DescribeKey""#),
        )
    });
    assert_eq!(rules, BTreeSet::from([Rule::EsoKms]));
}

#[test]
fn decrypt_without_via_service_is_excess() {
    // A ViaService of any service: decrypting outside Secrets Manager is allowed.
    let rules = rules_after(|a| {
        replace_in_policies(
            a,
            (r#""StringEquals""#, r#""StringLike""#),
            (
                r#"StringEquals:
                "kms:ViaService""#,
                r#"StringLike:
                "kms:ViaService""#,
            ),
        );
        replace_in_policies(
            a,
            ("secretsmanager.eu-west-3.amazonaws.com", "*.amazonaws.com"),
            (
                r#""secretsmanager.eu-west-3.amazonaws.com""#,
                r#""*.amazonaws.com""#,
            ),
        );
    });
    assert_eq!(rules, BTreeSet::from([Rule::EsoKms]));
}

#[test]
fn find_by_name_needs_list_secrets_on_star() {
    let rules = rules_after(|a| {
        replace(
            a,
            "eso/external-secret.yaml",
            "  data:\n",
            "  dataFrom:\n    - find:\n        name:\n          regexp: \"^staging/\"\n  data:\n",
        );
        replace_in_policies(
            a,
            (
                r#""secretsmanager:ListSecrets""#,
                r#""secretsmanager:ListSecretVersionIds""#,
            ),
            (
                r#""secretsmanager:ListSecrets""#,
                r#""secretsmanager:ListSecretVersionIds""#,
            ),
        );
    });
    assert!(rules.contains(&Rule::EsoFind), "{rules:?}");
}

#[test]
fn session_tags_need_tag_session_in_the_trust_policy() {
    // The store assumes the access's own role again with session tags: the trust policy
    // (in the artifacts) must allow sts:TagSession, and the role sts:AssumeRole.
    let rules = rules_after(|a| {
        replace(
            a,
            "eso/secret-store.yaml",
            "      region: \"eu-west-3\"\n",
            &format!("      region: \"eu-west-3\"\n      role: \"{ROLE}\"\n      sessionTags:\n        - key: team\n          value: payments\n"),
        )
    });
    assert_eq!(
        rules,
        BTreeSet::from([Rule::EsoAssumeRole, Rule::EsoSessionTags])
    );
}

#[test]
fn a_chain_beyond_the_first_role_is_unproven() {
    let rules = rules_after(|a| {
        replace(
            a,
            "eso/secret-store.yaml",
            "      region: \"eu-west-3\"\n",
            "      region: \"eu-west-3\"\n      additionalRoles: [\"arn:aws:iam::123456789012:role/hop\"]\n      role: \"arn:aws:iam::123456789012:role/last\"\n",
        )
    });
    assert_eq!(
        rules,
        BTreeSet::from([Rule::EsoAssumeRole, Rule::EsoUnproven])
    );
}

#[test]
fn another_service_account_is_another_identity() {
    let rules = rules_after(|a| {
        replace(
            a,
            "eso/secret-store.yaml",
            "name: \"external-secrets\"",
            "name: \"default\"",
        )
    });
    assert_eq!(rules, BTreeSet::from([Rule::EsoIdentity]));
}

#[test]
fn findings_point_at_the_manifest_field() {
    let plan = model::parse(CONFIG).unwrap();
    let files = templates::render_plan(&plan, &templates::Templates::embedded().unwrap()).unwrap();
    let mut artifacts: Vec<Artifact> = files.iter().map(Artifact::from).collect();
    replace(
        &mut artifacts,
        "eso/service-account.yaml",
        "role/eso-prod-eks-app",
        "role/other",
    );
    let report = check::check_plan(&plan, &artifacts).unwrap();
    let finding = report
        .findings
        .iter()
        .find(|f| f.rule == Rule::EsoIdentity)
        .unwrap();
    let location = finding.location.as_ref().unwrap();
    assert_eq!(location.file, "app/eso/service-account.yaml");
    let text = &artifacts
        .iter()
        .find(|a| a.path == location.file)
        .unwrap()
        .contents;
    let line = text.lines().nth(location.line - 1).unwrap();
    assert!(line.contains("eks.amazonaws.com/role-arn"), "{line}");
}
