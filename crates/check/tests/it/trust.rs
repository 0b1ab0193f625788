//! The trust proof on hand-written trust policies: each leak comes with the claims of a
//! token that would get in.

use check::artifacts::policy_json;
use check::trust::{prove_trust, TrustIntent};
use check::{Finding, Rule};

const ISSUER: &str = "oidc.eks.eu-west-3.amazonaws.com/id/EXAMPLE";
const SA: &str = "system:serviceaccount:external-secrets:external-secrets";

fn intent() -> TrustIntent {
    TrustIntent {
        provider_arn: format!("arn:aws:iam::123456789012:oidc-provider/{ISSUER}"),
        issuer_host_path: ISSUER.to_owned(),
        subject: SA.to_owned(),
        audience: "sts.amazonaws.com".to_owned(),
    }
}

fn trust(statements: &str) -> Vec<Finding> {
    let doc = policy_json(
        "r/cloudformation.yaml",
        &format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#),
    )
    .unwrap();
    prove_trust("r", &intent(), &doc).unwrap()
}

fn web_identity(condition: &str) -> String {
    format!(
        r#"{{"Sid":"Eso","Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::123456789012:oidc-provider/{ISSUER}"}},"Action":"sts:AssumeRoleWithWebIdentity"{condition}}}"#
    )
}

fn rules(findings: &[Finding]) -> Vec<Rule> {
    findings.iter().map(|f| f.rule).collect()
}

#[test]
fn exact_sub_and_aud_prove_clean() {
    let f = trust(&web_identity(&format!(
        r#","Condition":{{"StringEquals":{{"{ISSUER}:sub":"{SA}","{ISSUER}:aud":"sts.amazonaws.com"}}}}"#
    )));
    assert_eq!(f, vec![]);
}

#[test]
fn missing_sub_lets_any_service_account_in() {
    let f = trust(&web_identity(&format!(
        r#","Condition":{{"StringEquals":{{"{ISSUER}:aud":"sts.amazonaws.com"}}}}"#
    )));
    assert_eq!(rules(&f), vec![Rule::TrustSubject]);
    assert_eq!(
        f[0].counterexample.as_deref(),
        Some("sub=system:serviceaccount:default:anything, aud=sts.amazonaws.com")
    );
    assert_eq!(
        f[0].statement.as_deref(),
        Some("r/cloudformation.yaml statement \"Eso\"")
    );
}

#[test]
fn wildcarded_sub_gets_a_shortest_other_subject() {
    let f = trust(&web_identity(&format!(
        r#","Condition":{{"StringLike":{{"{ISSUER}:sub":"system:serviceaccount:external-secrets:*"}},"StringEquals":{{"{ISSUER}:aud":"sts.amazonaws.com"}}}}"#
    )));
    assert_eq!(rules(&f), vec![Rule::TrustSubject]);
    let example = f[0].counterexample.as_deref().unwrap();
    assert_eq!(
        example,
        "sub=system:serviceaccount:external-secrets:a, aud=sts.amazonaws.com"
    );
}

#[test]
fn missing_aud_accepts_tokens_for_other_audiences() {
    let f = trust(&web_identity(&format!(
        r#","Condition":{{"StringEquals":{{"{ISSUER}:sub":"{SA}"}}}}"#
    )));
    assert_eq!(rules(&f), vec![Rule::TrustAudience]);
    assert_eq!(
        f[0].counterexample.as_deref(),
        Some("sub=system:serviceaccount:external-secrets:external-secrets, aud=https://kubernetes.default.svc")
    );
}

#[test]
fn other_provider_and_assume_role_from_anyone_are_findings() {
    let other = r#"{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity"}"#;
    let anyone = r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}"#;
    let eso = web_identity(&format!(
        r#","Condition":{{"StringEquals":{{"{ISSUER}:sub":"{SA}","{ISSUER}:aud":"sts.amazonaws.com"}}}}"#
    ));
    let f = trust(&format!("{eso},{other},{anyone}"));
    assert_eq!(rules(&f), vec![Rule::TrustProvider, Rule::TrustPrincipal]);
    assert!(f[1]
        .counterexample
        .as_deref()
        .unwrap()
        .contains("any principal"));
    assert_eq!(f[1].location.as_ref().unwrap().line, 1);
}

#[test]
fn eso_locked_out_and_undecided_conditions() {
    let wrong = trust(&web_identity(&format!(
        r#","Condition":{{"StringEquals":{{"{ISSUER}:sub":"system:serviceaccount:default:eso","{ISSUER}:aud":"sts.amazonaws.com"}}}}"#
    )));
    assert_eq!(rules(&wrong), vec![Rule::TrustSubject, Rule::TrustNarrower]);
    let tagged = trust(&web_identity(&format!(
        r#","Condition":{{"StringEquals":{{"{ISSUER}:aud":"sts.amazonaws.com","aws:RequestTag/x":"y"}}}}"#
    )));
    assert!(rules(&tagged).contains(&Rule::TrustUnproven), "{tagged:#?}");
    assert!(!rules(&tagged).contains(&Rule::TrustSubject));
}
