//! Web identity federation (issue 15, items 2 and 4): built-in identity providers as
//! Federated principals with their condition keys (IAM User Guide, "Available keys
//! for AWS web identity federation",
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif>),
//! and OIDC providers that must belong to the role's account.

mod common;
use common::*;
use iam::{BuiltInProvider, DecisionKind::*, PolicySet, Principal, Request, WebIdentityClaims};

const WEB: &str = "sts:AssumeRoleWithWebIdentity";
const ROLE: &str = "arn:aws:iam::111122223333:role/gke-eso";
/// A GCP service account's unique id: `sub` and `azp` of its Google-signed ID token.
const SA_ID: &str = "113475438248934895348";

fn google_token(azp: &str, aud: &str) -> WebIdentityClaims {
    WebIdentityClaims {
        subject: SA_ID.into(),
        audiences: vec![aud.into()],
        authorized_party: Some(azp.into()),
        amr: vec![],
    }
}

fn trust(principal: &str, condition: &str) -> PolicySet {
    PolicySet::new().with_resource_policy(
        "trust",
        pol(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"{principal}"}},"Action":"{WEB}","Condition":{condition}}}]}}"#
        )),
    )
}

#[test]
fn gke_workload_through_accounts_google_com() {
    // A GKE workload's Google-signed ID token (GCP service account): AWS sets
    // accounts.google.com:aud to azp (the service account id) and :oaud to the
    // token's audience.
    let set = trust(
        "accounts.google.com",
        &format!(
            r#"{{"StringEquals":{{"accounts.google.com:aud":"{SA_ID}","accounts.google.com:oaud":"sts.amazonaws.com","accounts.google.com:sub":"{SA_ID}"}}}}"#
        ),
    );
    let caller = Principal::web_identity(
        BuiltInProvider::Google,
        &google_token(SA_ID, "sts.amazonaws.com"),
    );
    assert_eq!(caller.account(), "");
    let d = iam::authorize(&Request::new(caller, WEB, ROLE), &set);
    assert_eq!(d.kind, Allow, "{:?}", d.reasons);
    // Another service account, or another audience: no.
    let other = Principal::web_identity(
        BuiltInProvider::Google,
        &google_token("999", "sts.amazonaws.com"),
    );
    assert_eq!(
        req_kind(&Request::new(other, WEB, ROLE), &set),
        ImplicitDeny
    );
    let other_aud = Principal::web_identity(BuiltInProvider::Google, &google_token(SA_ID, "x"));
    assert_eq!(
        req_kind(&Request::new(other_aud, WEB, ROLE), &set),
        ImplicitDeny
    );
    // Another built-in provider, or an OIDC provider, is not accounts.google.com.
    let cognito = Principal::web_identity(
        BuiltInProvider::Cognito,
        &google_token(SA_ID, "sts.amazonaws.com"),
    );
    assert_eq!(
        req_kind(&Request::new(cognito, WEB, ROLE), &set),
        ImplicitDeny
    );
    let oidc = principal("arn:aws:iam::111122223333:oidc-provider/accounts.google.com")
        .with_web_identity_claims(&google_token(SA_ID, "sts.amazonaws.com"))
        .unwrap();
    assert_eq!(req_kind(&Request::new(oidc, WEB, ROLE), &set), ImplicitDeny);
}

#[test]
fn cognito_identity_pool_amr() {
    // The AWS CDK's WebIdentityPrincipal example: Cognito identity pool `aud` and
    // `ForAnyValue:StringLike` on the multivalued `amr`.
    let set = trust(
        "cognito-identity.amazonaws.com",
        r#"{"StringEquals":{"cognito-identity.amazonaws.com:aud":"us-east-2:12345678-abcd-abcd-abcd-123456"},"ForAnyValue:StringLike":{"cognito-identity.amazonaws.com:amr":"authenticated"}}"#,
    );
    let token = |amr: &[&str]| WebIdentityClaims {
        subject: "us-east-2:identity-1".into(),
        audiences: vec!["us-east-2:12345678-abcd-abcd-abcd-123456".into()],
        authorized_party: None,
        amr: amr.iter().map(|s| s.to_string()).collect(),
    };
    let who = |amr: &[&str]| Principal::web_identity(BuiltInProvider::Cognito, &token(amr));
    assert_eq!(
        req_kind(
            &Request::new(who(&["authenticated", "accounts.google.com"]), WEB, ROLE),
            &set
        ),
        Allow
    );
    assert_eq!(
        req_kind(&Request::new(who(&["unauthenticated"]), WEB, ROLE), &set),
        ImplicitDeny
    );
    assert_eq!(
        req_kind(&Request::new(who(&[]), WEB, ROLE), &set),
        ImplicitDeny
    );
}

#[test]
fn login_with_amazon_and_facebook_keys() {
    let token = WebIdentityClaims {
        subject: "user-7".into(),
        audiences: vec!["app-42".into()],
        authorized_party: None,
        amr: vec![],
    };
    for (provider, app, user) in [
        (
            BuiltInProvider::LoginWithAmazon,
            "www.amazon.com:app_id",
            "www.amazon.com:user_id",
        ),
        (
            BuiltInProvider::Facebook,
            "graph.facebook.com:app_id",
            "graph.facebook.com:id",
        ),
    ] {
        let set = trust(
            provider.name(),
            &format!(r#"{{"StringEquals":{{"{app}":"app-42","{user}":"user-7"}}}}"#),
        );
        let caller = Principal::web_identity(provider, &token);
        assert_eq!(
            req_kind(&Request::new(caller, WEB, ROLE), &set),
            Allow,
            "{provider:?}"
        );
    }
}

#[test]
fn simulate_a_google_caller() {
    let line = format!(
        r#"{{"id":"g","principal":"accounts.google.com","web_identity":{{"sub":"{SA_ID}","aud":"sts.amazonaws.com","azp":"{SA_ID}"}},"action":"{WEB}","resource":"{ROLE}","resource_policy":{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"accounts.google.com"}},"Action":"{WEB}","Condition":{{"StringEquals":{{"accounts.google.com:aud":"{SA_ID}","accounts.google.com:oaud":"sts.amazonaws.com"}}}}}}]}}}}"#
    );
    let out = iam::simulate::simulate_line(&line, 1);
    assert_eq!(out["decision"], "Allow", "{out}");
    let wrong = line.replace(r#""azp":"113475438248934895348""#, r#""azp":"1""#);
    assert_ne!(wrong, line);
    assert_eq!(
        iam::simulate::simulate_line(&wrong, 1)["decision"],
        "ImplicitDeny"
    );
    // Claims on a caller that is not a web identity provider are an error.
    let user = line.replace(
        r#""principal":"accounts.google.com""#,
        r#""principal":"arn:aws:iam::111122223333:user/u""#,
    );
    let out = iam::simulate::simulate_line(&user, 1);
    assert!(
        out["error"].as_str().unwrap().starts_with("web_identity: "),
        "{out}"
    );
}
