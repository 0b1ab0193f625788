//! The `web-identity` setup (sma's own, GKE → AWS without keys): the issuer derived
//! from the GKE cluster or given explicitly, the role in the secrets' account, and the
//! errors of bad input, each naming the field and the fix.

use model::{ErrorKind, Identity, Placement, Setup};

const GKE: &str = r#"
cluster:
  name: prod-gke
  cloud: gcp
  project_id: my-project
  location: europe-west1
accesses:
  - name: keyless
    setup: web-identity
    account_id: "123456789012"
    region: eu-west-3
    secrets:
      prefixes: [reporting/]
"#;

fn replaced(from: &str, to: &str) -> String {
    assert!(GKE.contains(from), "case does not apply: {from:?}");
    GKE.replacen(from, to, 1)
}

/// The only error of `config`: on `field`, of `kind`, mentioning `hint`.
#[track_caller]
fn one_error(config: &str, field: &str, kind: ErrorKind, hint: &str) {
    let errors = model::parse(config)
        .map(|_| ())
        .expect_err("the configuration must be refused");
    let model::ConfigError::Invalid(errors) = errors else {
        panic!("not a validation error: {errors}")
    };
    assert_eq!(errors.0.len(), 1, "{errors}");
    let error = &errors.0[0];
    assert_eq!((error.field.as_str(), error.kind), (field, kind), "{error}");
    let text = error.to_string();
    assert!(text.contains("Fix:"), "{text}");
    assert!(text.to_lowercase().contains(hint), "{hint:?} in {text}");
}

#[test]
fn the_issuer_comes_from_project_location_and_name() {
    let plan = model::parse(GKE).unwrap();
    let Placement::Gcp { oidc_issuer, .. } = &plan.cluster.placement else {
        panic!("a gcp cluster")
    };
    let issuer = "https://container.googleapis.com/v1/projects/my-project/locations/europe-west1/clusters/prod-gke";
    assert_eq!(oidc_issuer.as_ref().map(|i| i.as_str()), Some(issuer));
    let access = &plan.accesses[0];
    assert_eq!(access.setup, Setup::WebIdentity);
    let Identity::Role {
        arn,
        oidc_provider_arn,
        oidc_issuer,
        ..
    } = &access.identity
    else {
        panic!("a role")
    };
    // The role and the provider live in the secrets' account (a GKE cluster has none).
    assert_eq!(arn, "arn:aws:iam::123456789012:role/eso-prod-gke-keyless");
    assert_eq!(
        oidc_provider_arn,
        "arn:aws:iam::123456789012:oidc-provider/container.googleapis.com/v1/projects/my-project/locations/europe-west1/clusters/prod-gke"
    );
    assert_eq!(oidc_issuer.as_str(), issuer);
    assert_eq!(
        access.service_account_subject().as_deref(),
        Some("system:serviceaccount:external-secrets:external-secrets")
    );
    let warnings = access.grant_summary().warnings.join("\n");
    assert!(warnings.contains("sma's own setup"), "{warnings}");
}

#[test]
fn an_explicit_issuer_overrides_the_derived_one() {
    let plan = model::parse(&replaced(
        "  location: europe-west1\n",
        "  oidc_issuer: https://issuer.example.com/clusters/x/\n",
    ))
    .unwrap();
    let Identity::Role { oidc_issuer, .. } = &plan.accesses[0].identity else {
        panic!("a role")
    };
    assert_eq!(
        oidc_issuer.as_str(),
        "https://issuer.example.com/clusters/x"
    );
}

#[test]
fn a_zonal_cluster_has_its_zone_in_the_issuer() {
    let plan = model::parse(&replaced("europe-west1", "europe-west1-b")).unwrap();
    let Identity::Role { oidc_issuer, .. } = &plan.accesses[0].identity else {
        panic!("a role")
    };
    assert!(oidc_issuer
        .as_str()
        .contains("/locations/europe-west1-b/clusters/prod-gke"));
}

#[test]
fn static_credentials_on_gke_recommend_web_identity() {
    let plan = model::parse(&replaced(
        "setup: web-identity",
        "setup: static-credentials",
    ))
    .unwrap();
    let warnings = plan.accesses[0].grant_summary().warnings.join("\n");
    assert!(warnings.contains("setup: web-identity"), "{warnings}");
}

#[test]
fn missing_location_names_the_field() {
    one_error(
        &replaced("  location: europe-west1\n", ""),
        "cluster.location",
        ErrorKind::Missing,
        "location",
    );
}

#[test]
fn missing_project_names_the_field() {
    one_error(
        &replaced("  project_id: my-project\n", ""),
        "cluster.project_id",
        ErrorKind::Missing,
        "project",
    );
}

#[test]
fn a_role_name_over_64_characters_is_refused() {
    let long = "r".repeat(65);
    one_error(
        &replaced(
            "    region: eu-west-3\n",
            &format!("    region: eu-west-3\n    role_name: {long}\n"),
        ),
        "accesses[0].role_name",
        ErrorKind::Malformed,
        "64",
    );
}

#[test]
fn a_non_https_issuer_is_refused() {
    one_error(
        &replaced(
            "  location: europe-west1\n",
            "  oidc_issuer: http://issuer.example.com/x\n",
        ),
        "cluster.oidc_issuer",
        ErrorKind::Malformed,
        "https",
    );
}

#[test]
fn a_bad_location_is_refused() {
    one_error(
        &replaced("europe-west1", "Europe/West"),
        "cluster.location",
        ErrorKind::Malformed,
        "region or zone",
    );
}

#[test]
fn web_identity_is_not_for_eks_clusters() {
    let config = "cluster:\n  name: c\n  cloud: aws\n  account_id: \"123456789012\"\n  region: eu-west-3\n  oidc_issuer: https://oidc.eks.eu-west-3.amazonaws.com/id/X\naccesses:\n  - name: a\n    setup: web-identity\n";
    one_error(
        config,
        "accesses[0].setup",
        ErrorKind::NotAllowed,
        "role-arn",
    );
}

#[test]
fn vendor_irsa_on_gke_points_to_web_identity() {
    one_error(
        &replaced("setup: web-identity", "setup: role-arn"),
        "accesses[0].setup",
        ErrorKind::NotAllowed,
        "web-identity",
    );
}

#[test]
fn one_oidc_provider_per_issuer_per_account() {
    let config = format!(
        "{GKE}  - name: second\n    setup: web-identity\n    account_id: \"123456789012\"\n    region: eu-west-3\n    eso: {{service_account: other}}\n  - name: elsewhere\n    setup: web-identity\n    account_id: \"210987654321\"\n    region: eu-west-3\n"
    );
    let plan = model::parse(&config).unwrap();
    let from: Vec<Option<&str>> = plan
        .accesses
        .iter()
        .map(|a| a.oidc_provider_from.as_ref().map(|n| n.as_str()))
        .collect();
    // The first access of an account creates the provider; the second of the same
    // account finds it; another account needs its own.
    assert_eq!(from, [None, Some("keyless"), None]);
    let warnings = plan.accesses[1].grant_summary().warnings.join("\n");
    assert!(warnings.contains("deploy that stack first"), "{warnings}");
}
