//! Every generated IAM document parses and validates with the `iam` crate, and the
//! policies decide as their README says (names exact, prefixes wide, ListSecrets on `*`).

use std::path::PathBuf;

use templates::{ArtifactKind, GeneratedFile};

fn examples() -> Vec<(PathBuf, Vec<GeneratedFile>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    templates::examples::example_configs(&dir)
        .unwrap()
        .into_iter()
        .map(|config| {
            let files = templates::examples::render_example(&config).unwrap();
            (config, files)
        })
        .collect()
}

fn policy_of(files: &[GeneratedFile], access: &str) -> iam::Policy {
    let file = files
        .iter()
        .find(|f| f.kind == ArtifactKind::IamPolicy && f.path.starts_with(access))
        .expect("policy of the access");
    iam::Policy::parse(&file.contents).unwrap()
}

#[test]
fn every_generated_policy_parses_and_is_a_valid_identity_policy() {
    let mut count = 0;
    for (config, files) in examples() {
        for file in files.iter().filter(|f| f.kind == ArtifactKind::IamPolicy) {
            let policy = iam::Policy::parse(&file.contents)
                .unwrap_or_else(|e| panic!("{} {}: {e}", config.display(), file.path.display()));
            policy
                .validate_for(iam::PolicyKind::Identity)
                .unwrap_or_else(|e| panic!("{} {}: {e}", config.display(), file.path.display()));
            count += 1;
        }
    }
    assert!(count >= 5, "only {count} policies");
}

/// Replaces `!Sub "…"` values by their substitution for account 123456789012 in the
/// `aws` partition (the only variables the templates use in trust policies).
fn substitute(value: &serde_norway::Value) -> serde_norway::Value {
    use serde_norway::Value;
    match value {
        Value::Tagged(t) if t.tag == "!Sub" => {
            let text = t.value.as_str().expect("!Sub of a string");
            Value::from(
                text.replace("${AWS::Partition}", "aws")
                    .replace("${AWS::AccountId}", "123456789012"),
            )
        }
        Value::Mapping(m) => {
            Value::Mapping(m.iter().map(|(k, v)| (k.clone(), substitute(v))).collect())
        }
        Value::Sequence(s) => Value::Sequence(s.iter().map(substitute).collect()),
        other => other.clone(),
    }
}

/// The trust policy is a YAML mapping in the CloudFormation template (LocalStack's
/// `AWS::IAM::Role` refuses a JSON string there); with `!Sub` resolved it must be a
/// valid trust policy that trusts exactly the access's service account.
#[test]
fn every_generated_trust_policy_parses_and_is_a_valid_trust_policy() {
    let mut count = 0;
    for (_, files) in examples() {
        for file in files
            .iter()
            .filter(|f| f.kind == ArtifactKind::CloudFormation)
        {
            let template: serde_norway::Value = serde_norway::from_str(&file.contents).unwrap();
            let Some(role) = template["Resources"]["SecretsManagerReadRole"].as_mapping() else {
                continue;
            };
            let document =
                &role[&serde_norway::Value::from("Properties")]["AssumeRolePolicyDocument"];
            assert!(
                document.is_mapping(),
                "{}: the trust policy must be a mapping",
                file.path.display()
            );
            let concrete = serde_json::to_string(&substitute(document)).unwrap();
            assert!(
                !concrete.contains("${"),
                "unsubstituted variable in {concrete}"
            );
            let policy = iam::Policy::parse(&concrete).unwrap();
            policy.validate_trust_policy().unwrap();
            assert!(
                concrete.contains(":sub\":\"system:serviceaccount:"),
                "{concrete}"
            );
            count += 1;
        }
    }
    assert!(count >= 2, "only {count} trust policies");
}

fn allowed(policy: &iam::Policy, principal: &str, action: &str, resource: &str) -> bool {
    let principal = iam::Principal::from_arn(principal).unwrap();
    let set = iam::PolicySet::new().with_identity_policy("generated", policy.clone());
    iam::authorize(&iam::Request::new(principal, action, resource), &set).is_allowed()
}

#[test]
fn generated_policies_decide_as_documented() {
    let all = examples();
    let (_, role_arn) = all
        .iter()
        .find(|(c, _)| c.ends_with("aws-role-arn.yaml"))
        .unwrap();
    let staging = policy_of(role_arn, "staging-secrets");
    let session =
        "arn:aws:sts::123456789012:assumed-role/eso-prod-eks-staging/external-secrets-provider-aws";
    let secret =
        |name: &str| format!("arn:aws:secretsmanager:eu-west-3:123456789012:secret:{name}");
    let get = "secretsmanager:GetSecretValue";
    // Exact name: only that secret.
    assert!(allowed(
        &staging,
        session,
        get,
        &secret("staging/db-AbCdEf")
    ));
    assert!(!allowed(
        &staging,
        session,
        get,
        &secret("staging/dbx-AbCdEf")
    ));
    assert!(!allowed(
        &staging,
        session,
        get,
        &secret("staging/db-old-AbCdEf")
    ));
    // Prefix ending with `/`: everything below it.
    assert!(allowed(
        &staging,
        session,
        get,
        &secret("staging/app/a/b-AbCdEf")
    ));
    assert!(!allowed(
        &staging,
        session,
        get,
        &secret("staging/other-AbCdEf")
    ));
    // Other region: denied.
    assert!(!allowed(
        &staging,
        session,
        get,
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:staging/db-AbCdEf"
    ));
    // ListSecrets: on "*", whatever the scope.
    assert!(allowed(
        &staging,
        session,
        "secretsmanager:ListSecrets",
        "*"
    ));
    // Nothing else.
    assert!(!allowed(
        &staging,
        session,
        "secretsmanager:PutSecretValue",
        &secret("staging/db-AbCdEf")
    ));

    // The static access's prefix `billing` (no separator) also matches billingfoo:
    // exactly the warning its README gives.
    let billing = policy_of(role_arn, "billing-us");
    let user = "arn:aws:iam::123456789012:user/eso-prod-eks-billing";
    let billing_secret =
        |name: &str| format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}");
    assert!(allowed(
        &billing,
        user,
        get,
        &billing_secret("billing/x-AbCdEf")
    ));
    assert!(allowed(
        &billing,
        user,
        get,
        &billing_secret("billingfoo-AbCdEf")
    ));
    assert!(!allowed(
        &billing,
        user,
        get,
        &billing_secret("bill-AbCdEf")
    ));

    // Automatic: every secret of the account, any region.
    let (_, automatic) = all
        .iter()
        .find(|(c, _)| c.ends_with("aws-automatic.yaml"))
        .unwrap();
    let everything = policy_of(automatic, "all-secrets");
    let role = "arn:aws:sts::111122223333:assumed-role/eso-shared-eks-all-secrets/s";
    assert!(allowed(
        &everything,
        role,
        get,
        "arn:aws:secretsmanager:ap-south-1:111122223333:secret:anything-AbCdEf"
    ));
}
