//! Bad configurations: each gives exactly one clear error that names the field and the
//! fix. The cases start from one valid configuration and break one thing each.

use model::{ConfigError, ConfigFile, ErrorKind};

const VALID: &str = r#"
cluster:
  name: prod-eks
  cloud: aws
  account_id: "123456789012"
  region: eu-west-3
  oidc_issuer: https://oidc.eks.eu-west-3.amazonaws.com/id/EXAMPLE
accesses:
  - name: staging-secrets
    setup: role-arn
    region: eu-west-3
    secrets:
      names: [staging/db]
      prefixes: [staging/]
      arn_patterns: []
    kms_key_arns: []
    eso: {store_kind: ClusterSecretStore, namespace: external-secrets, service_account: external-secrets}
  - name: billing
    setup: static-credentials
    region: us-east-1
"#;

const GCP: &str = r#"
cluster:
  name: gke-1
  cloud: gcp
  project_id: my-project
accesses:
  - name: cross
    setup: static-credentials
    account_id: "123456789012"
    region: eu-west-1
"#;

fn replaced(base: &str, from: &str, to: &str) -> String {
    assert!(base.contains(from), "case does not apply: {from:?}");
    base.replacen(from, to, 1)
}

/// Expects exactly one validation error on `field`, of `kind`, whose text mentions
/// `hint` (case-insensitive).
#[track_caller]
fn expect_one(config: &str, field: &str, kind: ErrorKind, hint: &str) {
    let parsed =
        ConfigFile::from_yaml(config).unwrap_or_else(|e| panic!("should parse: {e}\n{config}"));
    let errors = match parsed.validate() {
        Ok(_) => panic!("accepted:\n{config}"),
        Err(errors) => errors.0,
    };
    assert_eq!(
        errors.len(),
        1,
        "expected one error on {field}, got {errors:#?}"
    );
    let error = &errors[0];
    assert_eq!(error.field, field, "{error}");
    assert_eq!(error.kind, kind, "{error}");
    assert!(
        !error.fix.is_empty() && !error.problem.is_empty(),
        "{error}"
    );
    let text = error.to_string();
    assert!(text.contains("Fix:"), "{text}");
    assert!(
        text.to_lowercase().contains(&hint.to_lowercase()),
        "error should mention {hint:?}: {text}"
    );
}

/// Expects a parse (shape) error whose message names `path`.
#[track_caller]
fn expect_syntax(config: &str, path: &str, hint: &str) {
    match ConfigFile::from_yaml(config) {
        Err(error @ ConfigError::Syntax { .. }) => {
            let text = error.to_string();
            assert!(text.contains(path), "should name {path}: {text}");
            assert!(
                text.to_lowercase().contains(&hint.to_lowercase()),
                "should mention {hint:?}: {text}"
            );
            assert!(text.contains("Fix:"), "{text}");
        }
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("parsed:\n{config}"),
    }
}

#[test]
fn the_base_configurations_are_valid() {
    let plan = model::parse(VALID).unwrap();
    assert_eq!(plan.accesses.len(), 2);
    model::parse(GCP).unwrap();
}

use ErrorKind::{Conflict, Malformed, Missing, NotAllowed};

#[test]
fn c01_missing_cluster() {
    expect_one(
        "accesses: [{name: a, setup: static-credentials}]",
        "cluster",
        Missing,
        "cluster:",
    );
}
#[test]
fn c02_missing_accesses() {
    let config = VALID.split("accesses:").next().unwrap().to_owned();
    expect_one(&config, "accesses", Missing, "at least one access");
}
#[test]
fn c03_missing_cluster_name() {
    expect_one(
        &replaced(VALID, "  name: prod-eks\n", ""),
        "cluster.name",
        Missing,
        "name",
    );
}
#[test]
fn c04_malformed_cluster_name() {
    expect_one(
        &replaced(VALID, "name: prod-eks", "name: \"prod eks\""),
        "cluster.name",
        Malformed,
        "letters, digits",
    );
}
#[test]
fn c05_missing_cloud() {
    expect_one(
        &replaced(VALID, "  cloud: aws\n", ""),
        "cluster.cloud",
        Missing,
        "cloud: aws",
    );
}
#[test]
fn c06_unknown_cloud() {
    expect_syntax(
        &replaced(VALID, "cloud: aws", "cloud: azure"),
        "cluster.cloud",
        "aws",
    );
}
#[test]
fn c07_missing_cluster_account() {
    expect_one(
        &replaced(VALID, "  account_id: \"123456789012\"\n", ""),
        "cluster.account_id",
        Missing,
        "12-digit",
    );
}
#[test]
fn c08_short_account_id() {
    expect_one(
        &replaced(VALID, "\"123456789012\"", "\"12345678901\""),
        "cluster.account_id",
        Malformed,
        "12 digits",
    );
}
#[test]
fn c09_account_id_with_dashes() {
    expect_one(
        &replaced(VALID, "\"123456789012\"", "\"1234-5678-9012\""),
        "cluster.account_id",
        Malformed,
        "\"123456789012\"",
    );
}
#[test]
fn c10_unquoted_account_id() {
    expect_syntax(
        &replaced(VALID, "\"123456789012\"", "123456789012"),
        "cluster.account_id",
        "quote",
    );
}
#[test]
fn c11_bad_cluster_region() {
    expect_one(
        &replaced(
            VALID,
            "  region: eu-west-3\n  oidc",
            "  region: eu-west-33\n  oidc",
        ),
        "cluster.region",
        Malformed,
        "region code",
    );
}
#[test]
fn c12_availability_zone_as_region() {
    expect_one(
        &replaced(VALID, "    region: eu-west-3\n", "    region: eu-west-3a\n"),
        "accesses[0].region",
        Malformed,
        "availability zone",
    );
}
#[test]
fn c13_uppercase_region() {
    expect_one(
        &replaced(VALID, "region: us-east-1", "region: US-EAST-1"),
        "accesses[1].region",
        Malformed,
        "lowercase",
    );
}
#[test]
fn c14_http_issuer() {
    expect_one(
        &replaced(VALID, "https://oidc", "http://oidc"),
        "cluster.oidc_issuer",
        Malformed,
        "https",
    );
}
#[test]
fn c15_issuer_with_port() {
    expect_one(
        &replaced(VALID, "amazonaws.com/id", "amazonaws.com:443/id"),
        "cluster.oidc_issuer",
        Malformed,
        "port",
    );
}
#[test]
fn c16_issuer_with_query() {
    expect_one(
        &replaced(VALID, "id/EXAMPLE", "id/EXAMPLE?x=1"),
        "cluster.oidc_issuer",
        Malformed,
        "query",
    );
}
#[test]
fn c17_role_arn_without_issuer() {
    let config = replaced(
        VALID,
        "  oidc_issuer: https://oidc.eks.eu-west-3.amazonaws.com/id/EXAMPLE\n",
        "",
    );
    expect_one(&config, "cluster.oidc_issuer", Missing, "role-arn");
}
#[test]
fn c18_automatic_and_role_arn_together() {
    let config = format!("{VALID}  - name: all\n    setup: automatic\n");
    expect_one(&config, "accesses[2].setup", Conflict, "mutually exclusive");
}
#[test]
fn c19_role_arn_from_gcp() {
    expect_one(
        &replaced(GCP, "setup: static-credentials", "setup: role-arn"),
        "accesses[0].setup",
        NotAllowed,
        "static-credentials",
    );
}
#[test]
fn c20_automatic_from_gcp() {
    expect_one(
        &replaced(GCP, "setup: static-credentials", "setup: automatic"),
        "accesses[0].setup",
        NotAllowed,
        "gcp",
    );
}
#[test]
fn c21_gcp_access_without_account() {
    expect_one(
        &replaced(GCP, "    account_id: \"123456789012\"\n", ""),
        "accesses[0].account_id",
        Missing,
        "gcp cluster",
    );
}
#[test]
fn c22_gcp_access_without_region() {
    expect_one(
        &replaced(GCP, "    region: eu-west-1\n", ""),
        "accesses[0].region",
        Missing,
        "region",
    );
}
#[test]
fn c23_gcp_cluster_with_http_oidc_issuer() {
    expect_one(
        &replaced(
            GCP,
            "  project_id: my-project\n",
            "  project_id: my-project\n  oidc_issuer: http://x.example.com\n",
        ),
        "cluster.oidc_issuer",
        Malformed,
        "https",
    );
}
#[test]
fn c24_gcp_without_project() {
    expect_one(
        &replaced(GCP, "  project_id: my-project\n", ""),
        "cluster.project_id",
        Missing,
        "project",
    );
}
#[test]
fn c25_role_in_another_account() {
    expect_one(
        &replaced(
            VALID,
            "    region: eu-west-3\n",
            "    region: eu-west-3\n    account_id: \"999999999999\"\n",
        ),
        "accesses[0].account_id",
        Conflict,
        "cluster's account",
    );
}
#[test]
fn c26_uppercase_access_name() {
    expect_one(
        &replaced(VALID, "name: staging-secrets", "name: Staging_Secrets"),
        "accesses[0].name",
        Malformed,
        "\"staging-secrets\"",
    );
}
#[test]
fn c27_access_name_too_long() {
    let long = "a".repeat(64);
    expect_one(
        &replaced(VALID, "name: staging-secrets", &format!("name: {long}")),
        "accesses[0].name",
        Malformed,
        "63",
    );
}
#[test]
fn c28_duplicate_access_names() {
    expect_one(
        &replaced(VALID, "name: billing", "name: staging-secrets"),
        "accesses[1].name",
        Conflict,
        "already",
    );
}
#[test]
fn c29_missing_setup() {
    expect_one(
        &replaced(VALID, "    setup: static-credentials\n", ""),
        "accesses[1].setup",
        Missing,
        "static-credentials",
    );
}
#[test]
fn c30_unknown_setup() {
    expect_syntax(
        &replaced(VALID, "setup: static-credentials", "setup: static"),
        "accesses[1].setup",
        "static-credentials",
    );
}
#[test]
fn c31_unknown_field() {
    expect_syntax(
        &replaced(VALID, "    kms_key_arns: []", "    kms_keys: []"),
        "accesses[0]",
        "kms_keys",
    );
}
#[test]
fn c32_wildcard_in_name() {
    expect_one(
        &replaced(VALID, "names: [staging/db]", "names: [\"staging/*\"]"),
        "accesses[0].secrets.names[0]",
        Malformed,
        "wildcards are added",
    );
}
#[test]
fn c33_quote_in_prefix() {
    expect_one(
        &replaced(
            VALID,
            "prefixes: [staging/]",
            "prefixes: [\"staging\\\"/\"]",
        ),
        "accesses[0].secrets.prefixes[0]",
        Malformed,
        "`\"`",
    );
}
#[test]
fn c34_newline_in_name() {
    expect_one(
        &replaced(
            VALID,
            "names: [staging/db]",
            "names: [\"staging/db\\nkind: Secret\"]",
        ),
        "accesses[0].secrets.names[0]",
        Malformed,
        "newline",
    );
}
#[test]
fn c35_template_syntax_in_name() {
    expect_one(
        &replaced(VALID, "names: [staging/db]", "names: [\"{{ evil }}\"]"),
        "accesses[0].secrets.names[0]",
        Malformed,
        "`{`",
    );
}
#[test]
fn c36_policy_variable_in_prefix() {
    expect_one(
        &replaced(
            VALID,
            "prefixes: [staging/]",
            "prefixes: [\"${aws:username}/\"]",
        ),
        "accesses[0].secrets.prefixes[0]",
        Malformed,
        "`$`",
    );
}
#[test]
fn c37_arn_pattern_other_region() {
    expect_one(
        &replaced(
            VALID,
            "arn_patterns: []",
            "arn_patterns: [\"arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-??????\"]",
        ),
        "accesses[0].secrets.arn_patterns[0]",
        Malformed,
        "region",
    );
}
#[test]
fn c38_arn_pattern_wildcard_account() {
    expect_one(
        &replaced(
            VALID,
            "arn_patterns: []",
            "arn_patterns: [\"arn:aws:secretsmanager:eu-west-3:*:secret:x\"]",
        ),
        "accesses[0].secrets.arn_patterns[0]",
        Malformed,
        "wildcards are not allowed there",
    );
}
#[test]
fn c39_arn_pattern_not_an_arn() {
    expect_one(
        &replaced(VALID, "arn_patterns: []", "arn_patterns: [\"staging*\"]"),
        "accesses[0].secrets.arn_patterns[0]",
        Malformed,
        "not an ARN",
    );
}
#[test]
fn c40_arn_pattern_other_service() {
    expect_one(
        &replaced(
            VALID,
            "arn_patterns: []",
            "arn_patterns: [\"arn:aws:ssm:eu-west-3:123456789012:parameter/x\"]",
        ),
        "accesses[0].secrets.arn_patterns[0]",
        Malformed,
        "not a Secrets Manager ARN",
    );
}
#[test]
fn c41_arn_pattern_injection() {
    expect_one(
        &replaced(
            VALID,
            "arn_patterns: []",
            "arn_patterns: [\"arn:aws:secretsmanager:eu-west-3:123456789012:secret:x\\\", \\\"*\"]",
        ),
        "accesses[0].secrets.arn_patterns[0]",
        Malformed,
        "name pattern",
    );
}
#[test]
fn c42_kms_alias() {
    expect_one(
        &replaced(
            VALID,
            "kms_key_arns: []",
            "kms_key_arns: [\"arn:aws:kms:eu-west-3:123456789012:alias/app\"]",
        ),
        "accesses[0].kms_key_arns[0]",
        Malformed,
        "alias",
    );
}
#[test]
fn c43_kms_key_other_region() {
    expect_one(
        &replaced(VALID, "kms_key_arns: []", "kms_key_arns: [\"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\"]"),
        "accesses[0].kms_key_arns[0]",
        Malformed,
        "own region",
    );
}
#[test]
fn c44_automatic_with_scope() {
    let config = replaced(VALID, "setup: role-arn", "setup: automatic");
    expect_one(&config, "accesses[0].secrets", NotAllowed, "role-arn");
}
#[test]
fn c45_empty_scope() {
    expect_one(
        &replaced(
            VALID,
            "      names: [staging/db]\n      prefixes: [staging/]\n",
            "",
        ),
        "accesses[0].secrets",
        Missing,
        "remove `secrets`",
    );
}
#[test]
fn c46_duplicate_prefix() {
    expect_one(
        &replaced(
            VALID,
            "prefixes: [staging/]",
            "prefixes: [staging/, staging/]",
        ),
        "accesses[0].secrets.prefixes[1]",
        Conflict,
        "duplicate",
    );
}
#[test]
fn c47_bad_namespace() {
    expect_one(
        &replaced(
            VALID,
            "namespace: external-secrets",
            "namespace: \"external secrets\"",
        ),
        "accesses[0].eso.namespace",
        Malformed,
        "DNS-1123",
    );
}
#[test]
fn c48_bad_service_account() {
    expect_one(
        &replaced(
            VALID,
            "service_account: external-secrets",
            "service_account: \"eso:sa\"",
        ),
        "accesses[0].eso.service_account",
        Malformed,
        "Kubernetes",
    );
}
#[test]
fn c49_bad_store_kind() {
    expect_syntax(
        &replaced(VALID, "store_kind: ClusterSecretStore", "store_kind: Vault"),
        "accesses[0].eso.store_kind",
        "ClusterSecretStore",
    );
}
#[test]
fn c50_role_name_too_long() {
    let long = "r".repeat(65);
    expect_one(
        &replaced(
            VALID,
            "    kms_key_arns: []\n",
            &format!("    kms_key_arns: []\n    role_name: {long}\n"),
        ),
        "accesses[0].role_name",
        Malformed,
        "64",
    );
}
#[test]
fn c51_default_role_name_too_long() {
    let config = replaced(
        VALID,
        "name: staging-secrets",
        &format!("name: {}", "s".repeat(60)),
    );
    expect_one(
        &config,
        "accesses[0].role_name",
        Malformed,
        "set `role_name`",
    );
}
#[test]
fn c52_user_name_on_irsa_access() {
    expect_one(
        &replaced(
            VALID,
            "    kms_key_arns: []\n",
            "    kms_key_arns: []\n    user_name: someone\n",
        ),
        "accesses[0].user_name",
        NotAllowed,
        "role_name",
    );
}
#[test]
fn c53_service_account_on_static() {
    expect_one(
        &format!("{VALID}    eso: {{service_account: x}}\n"),
        "accesses[1].eso.service_account",
        NotAllowed,
        "IRSA",
    );
}
#[test]
fn empty_allowed_namespaces_is_refused_not_read_as_every_namespace() {
    expect_one(
        &replaced(
            VALID,
            "store_kind: ClusterSecretStore,",
            "store_kind: ClusterSecretStore, allowed_namespaces: [],",
        ),
        "accesses[0].eso.allowed_namespaces",
        Missing,
        "remove allowed_namespaces to allow every namespace",
    );
}
#[test]
fn c54_allowed_namespaces_on_secret_store() {
    expect_one(
        &replaced(
            VALID,
            "store_kind: ClusterSecretStore,",
            "store_kind: SecretStore, allowed_namespaces: [a],",
        ),
        "accesses[0].eso.allowed_namespaces",
        NotAllowed,
        "ClusterSecretStore",
    );
}
#[test]
fn c55_project_id_on_aws() {
    expect_one(
        &replaced(
            VALID,
            "  region: eu-west-3\n  oidc",
            "  region: eu-west-3\n  project_id: my-project\n  oidc",
        ),
        "cluster.project_id",
        NotAllowed,
        "gcp",
    );
}
#[test]
fn c56_unsupported_partition() {
    expect_one(
        &replaced(VALID, "region: us-east-1", "region: cn-north-1"),
        "accesses[1].region",
        Malformed,
        "partition",
    );
}
#[test]
fn c57_yaml_injection_in_name_is_rejected() {
    expect_one(
        &replaced(
            VALID,
            "name: billing",
            "name: \"billing\\n  namespace: kube-system\"",
        ),
        "accesses[1].name",
        Malformed,
        "DNS-1123",
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let config = replaced(
        &replaced(VALID, "region: us-east-1", "region: moon-1"),
        "prefixes: [staging/]",
        "prefixes: [\"a\\\"b\"]",
    );
    let errors = ConfigFile::from_yaml(&config)
        .unwrap()
        .validate()
        .unwrap_err();
    let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        ["accesses[0].secrets.prefixes[0]", "accesses[1].region"]
    );
    let text = errors.to_string();
    assert!(
        text.starts_with("the configuration has 2 problems:"),
        "{text}"
    );
}

#[test]
fn flag_errors_name_the_flag() {
    let flags = model::SingleAccess {
        setup: Some(model::Setup::RoleArn),
        account_id: Some("123456789012".into()),
        region: Some("eu-west-3".into()),
        prefixes: vec!["ok/".into(), "bad\"".into()],
        ..Default::default()
    };
    let errors = flags.validate().unwrap_err();
    let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        ["--prefix (occurrence 2)", "--oidc-issuer"],
        "{errors}"
    );
    assert!(errors.0[1].fix.contains("--oidc-issuer"), "{errors}");
}

/// The YAML parser's errors carry the line and column of the problem, so the platform
/// team finds the typo in a long file.
#[test]
fn syntax_errors_name_line_and_column() {
    let config = replaced(
        VALID,
        "  region: eu-west-3\n",
        "  region: eu-west-3\n  colour: blue\n",
    );
    let text = ConfigFile::from_yaml(&config).unwrap_err().to_string();
    println!("{text}");
    assert!(text.contains("unknown field `colour`"), "{text}");
    assert!(text.contains("line 7 column 3"), "{text}");
    assert!(text.contains("Fix:"), "{text}");
}
