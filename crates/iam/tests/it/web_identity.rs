//! Web identity federation (issue 15, items 2 and 4): built-in identity providers as
//! Federated principals with their condition keys (IAM User Guide, "Available keys
//! for AWS web identity federation",
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif>),
//! and OIDC providers that must belong to the role's account.

use crate::common::*;
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

const ISSUER: &str = "oidc.eks.eu-west-3.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";

fn oidc_provider(account: &str) -> Principal {
    principal(&format!("arn:aws:iam::{account}:oidc-provider/{ISSUER}"))
        .with_web_identity_claims(&WebIdentityClaims {
            subject: "system:serviceaccount:eso:external-secrets".into(),
            audiences: vec!["sts.amazonaws.com".into()],
            authorized_party: None,
            amr: vec![],
        })
        .unwrap()
}

fn irsa_trust(provider_account: &str, actions: &str) -> PolicySet {
    PolicySet::new().with_resource_policy(
        "trust",
        pol(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::{provider_account}:oidc-provider/{ISSUER}"}},"Action":{actions},"Condition":{{"StringEquals":{{"{ISSUER}:sub":"system:serviceaccount:eso:external-secrets","{ISSUER}:aud":"sts.amazonaws.com"}}}}}}]}}"#
        )),
    )
}

#[test]
fn oidc_provider_of_another_account_never_matches() {
    // STS API Reference, "AssumeRoleWithWebIdentity": the issuer is looked up among
    // the role's account's OIDC providers; otherwise InvalidIdentityToken "No
    // OpenIDConnect provider found in your account for <issuer>".
    // https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html
    let role_in_a = "arn:aws:iam::111122223333:role/eso";
    // Control: the role's own account's provider.
    let own = irsa_trust(A, &format!(r#""{WEB}""#));
    assert_eq!(
        req_kind(&Request::new(oidc_provider(A), WEB, role_in_a), &own),
        Allow
    );
    // The trust policy names account B's provider, and the caller is that provider:
    // the statement matches, but AWS never gets that far.
    let foreign = irsa_trust(B, &format!(r#""{WEB}""#));
    let r = Request::new(oidc_provider(B), WEB, role_in_a);
    let d = iam::authorize(&r, &foreign);
    assert_eq!(d.kind, ImplicitDeny);
    assert_eq!(iam::authorize_kind(&r, &foreign), ImplicitDeny);
    assert!(d.statements.is_empty());
    let refusal = d.refusal.as_ref().expect("a refusal");
    assert_eq!(refusal.code, "InvalidIdentityToken");
    assert_eq!(
        refusal.message,
        format!("No OpenIDConnect provider found in your account for https://{ISSUER}")
    );
    assert_eq!(d.access_denied_message(&r).unwrap(), refusal.message);
    assert!(
        d.reasons[0].contains("InvalidIdentityToken"),
        "{:?}",
        d.reasons
    );
    // Same with an explicit resource account.
    let r = Request::new(oidc_provider(B), WEB, "*").with_resource_account(A);
    assert_eq!(req_kind(&r, &foreign), ImplicitDeny);
    // The session-tag check inside the call is refused the same way.
    let tags = irsa_trust(B, &format!(r#"["{WEB}","sts:TagSession"]"#));
    let r = Request::new(oidc_provider(B), "sts:TagSession", role_in_a);
    assert_eq!(req_kind(&r, &tags), ImplicitDeny);
    let r = Request::new(oidc_provider(A), "sts:TagSession", role_in_a);
    assert_eq!(
        req_kind(
            &r,
            &irsa_trust(A, &format!(r#"["{WEB}","sts:TagSession"]"#))
        ),
        Allow
    );
}

#[test]
fn identity_providers_only_federate_through_their_own_call() {
    // A provider cannot sign a request: sts:AssumeRole (or any other action) by an
    // OIDC provider, a built-in provider or a SAML provider is refused, even when
    // a policy names it.
    let role = "arn:aws:iam::111122223333:role/eso";
    let trust = irsa_trust(A, r#"["sts:AssumeRole","sts:AssumeRoleWithWebIdentity"]"#);
    let r = Request::new(oidc_provider(A), "sts:AssumeRole", role);
    let d = iam::authorize(&r, &trust);
    assert_eq!(d.kind, ImplicitDeny);
    assert_eq!(iam::authorize_kind(&r, &trust), ImplicitDeny);
    assert_eq!(d.refusal.as_ref().unwrap().code, "AccessDenied");
    assert!(
        d.reasons[0].contains("sts:AssumeRoleWithWebIdentity"),
        "{:?}",
        d.reasons
    );
    let google = Principal::web_identity(
        BuiltInProvider::Google,
        &google_token(SA_ID, "sts.amazonaws.com"),
    );
    let any = trust_any(r#""Federated":"accounts.google.com""#);
    assert_eq!(
        req_kind(&Request::new(google.clone(), "sts:AssumeRole", role), &any),
        ImplicitDeny
    );
    assert_eq!(req_kind(&Request::new(google, WEB, role), &any), Allow);
    let saml = principal("arn:aws:iam::111122223333:saml-provider/corp");
    let saml_trust = trust_any(r#""Federated":"arn:aws:iam::111122223333:saml-provider/corp""#);
    assert_eq!(
        req_kind(
            &Request::new(saml.clone(), "sts:AssumeRoleWithSAML", role),
            &saml_trust
        ),
        Allow
    );
    assert_eq!(
        req_kind(&Request::new(saml, WEB, role), &saml_trust),
        ImplicitDeny
    );
    // A secret policy naming the provider grants it nothing.
    let secret_policy = PolicySet::new().with_resource_policy(
        "secret",
        rp(
            &format!(r#"{{"Federated":"arn:aws:iam::111122223333:oidc-provider/{ISSUER}"}}"#),
            "secretsmanager:GetSecretValue",
            "*",
        ),
    );
    let r = Request::new(
        oidc_provider(A),
        "secretsmanager:GetSecretValue",
        secret(A, "db-AbCdEf"),
    );
    assert_eq!(req_kind(&r, &secret_policy), ImplicitDeny);
}

/// A trust policy allowing every STS action to `principal` (a JSON member).
fn trust_any(principal: &str) -> PolicySet {
    PolicySet::new().with_resource_policy(
        "trust",
        pol(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{{principal}}},"Action":"sts:*"}}]}}"#
        )),
    )
}

#[test]
fn simulate_refuses_a_foreign_oidc_provider() {
    let line = format!(
        r#"{{"id":"x","principal":"arn:aws:iam::444455556666:oidc-provider/{ISSUER}","web_identity":{{"sub":"system:serviceaccount:eso:external-secrets","aud":"sts.amazonaws.com"}},"action":"{WEB}","resource":"arn:aws:iam::111122223333:role/eso","resource_policy":{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::444455556666:oidc-provider/{ISSUER}"}},"Action":"{WEB}"}}]}}}}"#
    );
    let out = iam::simulate::simulate_line(&line, 1);
    assert_eq!(out["decision"], "ImplicitDeny", "{out}");
    assert_eq!(out["error_code"], "InvalidIdentityToken", "{out}");
    assert_eq!(
        out["message"],
        format!("No OpenIDConnect provider found in your account for https://{ISSUER}")
    );
    // The same provider in the role's account is allowed.
    let own = line.replace("444455556666", "111122223333");
    let out = iam::simulate::simulate_line(&own, 1);
    assert_eq!(out["decision"], "Allow", "{out}");
    assert!(out.get("error_code").is_none());
}
