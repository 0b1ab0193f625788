//! Cross-account evaluation (IAM User Guide, "Cross-account policy evaluation
//! logic"), KMS key policies (AWS KMS Developer Guide, "Key policies in AWS KMS",
//! "Allowing users in other accounts to use a KMS key") and role trust policies
//! (IAM User Guide, "Create a role for OpenID Connect federation"; STS "AssumeRole").

use crate::common::*;
use iam::{DecisionKind::*, PolicyKind, PolicySet, Request};

const GET: &str = "secretsmanager:GetSecretValue";

#[test]
fn cross_account_needs_both_sides() {
    // "Cross-account policy evaluation logic": account A's identity policy and
    // account B's resource policy must both allow.
    let u = user(A, "alice");
    let sec = secret(B, "shared-AbCdEf");
    let identity = || allow(GET, &secret(B, "*"));
    let grant = || rp(r#"{"AWS":"arn:aws:iam::111122223333:root"}"#, GET, "*");

    let only_identity = PolicySet::new().with_identity_policy("id", identity());
    let d = decide(&u, GET, &sec, &only_identity);
    assert_eq!(d.kind, ImplicitDeny);
    assert_eq!(d.missing_allow(), Some(PolicyKind::Resource));
    assert!(d.reasons[0].contains("cross-account"));

    let only_resource = PolicySet::new().with_resource_policy("secret", grant());
    let d = decide(&u, GET, &sec, &only_resource);
    assert_eq!(d.missing_allow(), Some(PolicyKind::Identity));

    let both = PolicySet::new()
        .with_identity_policy("id", identity())
        .with_resource_policy("secret", grant());
    let d = decide(&u, GET, &sec, &both);
    assert_eq!(d.kind, Allow);
    assert_eq!(d.statements.len(), 2);

    // Naming the user directly in account B still needs A's identity policy.
    let direct = PolicySet::new().with_resource_policy(
        "secret",
        rp(
            r#"{"AWS":"arn:aws:iam::111122223333:user/alice"}"#,
            GET,
            "*",
        ),
    );
    assert_eq!(kind(&u, GET, &sec, &direct), ImplicitDeny);
    // A's boundary still applies cross-account.
    let bounded = both
        .clone()
        .with_permissions_boundary("b", allow("s3:*", "*"));
    assert_eq!(
        decide(&u, GET, &sec, &bounded).missing_allow(),
        Some(PolicyKind::PermissionsBoundary)
    );
    // The resource policy must name the caller's account, not another.
    let wrong = PolicySet::new()
        .with_identity_policy("id", identity())
        .with_resource_policy("secret", rp(r#"{"AWS":"999988887777"}"#, GET, "*"));
    assert_eq!(kind(&u, GET, &sec, &wrong), ImplicitDeny);
}

#[test]
fn resource_account_override_and_star() {
    let u = user(A, "alice");
    let set =
        PolicySet::new().with_identity_policy("list", allow("secretsmanager:ListSecrets", "*"));
    assert_eq!(kind(&u, "secretsmanager:ListSecrets", "*", &set), Allow);
    let r = Request::new(u, "secretsmanager:ListSecrets", "*").with_resource_account(B);
    assert_eq!(req_kind(&r, &set), ImplicitDeny);
}

#[test]
fn cross_account_role_session() {
    let s = session(A, "eso", "pod");
    let sec = secret(B, "shared-AbCdEf");
    let set = PolicySet::new()
        .with_identity_policy("id", allow(GET, "*"))
        .with_resource_policy(
            "secret",
            rp(r#"{"AWS":"arn:aws:iam::111122223333:role/eso"}"#, GET, "*"),
        );
    assert_eq!(kind(&s, GET, &sec, &set), Allow);
    let with_session_policy = set.with_session_policy("sp", allow("s3:*", "*"));
    assert_eq!(
        decide(&s, GET, &sec, &with_session_policy).missing_allow(),
        Some(PolicyKind::Session)
    );
}

fn key_policy_delegating(account: &str) -> iam::Policy {
    // The default key policy: "Enable IAM User Permissions".
    pol(&format!(
        r#"{{"Version":"2012-10-17","Id":"key-default-1","Statement":[{{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"kms:*","Resource":"*"}}]}}"#
    ))
}

const KEY: &str = "arn:aws:kms:eu-west-3:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

#[test]
fn kms_key_policy_must_allow() {
    let u = user(A, "alice");
    // Identity policy alone is not enough: no key policy.
    let id_only = PolicySet::new().with_identity_policy("id", allow("kms:Decrypt", "*"));
    let d = decide(&u, "kms:Decrypt", KEY, &id_only);
    assert_eq!(d.kind, ImplicitDeny);
    assert_eq!(d.missing_allow(), Some(PolicyKind::Resource));
    assert!(d.reasons[0].contains("key policy"));
    // Key policy that delegates to the account: identity policies count.
    let delegated = id_only
        .clone()
        .with_resource_policy("key", key_policy_delegating(A));
    assert_eq!(kind(&u, "kms:Decrypt", KEY, &delegated), Allow);
    let no_identity = PolicySet::new().with_resource_policy("key", key_policy_delegating(A));
    assert_eq!(
        decide(&u, "kms:Decrypt", KEY, &no_identity).missing_allow(),
        Some(PolicyKind::Identity)
    );
    // Key policy that names the user directly: enough on its own.
    let direct = PolicySet::new().with_resource_policy(
        "key",
        rp(
            r#"{"AWS":"arn:aws:iam::111122223333:user/alice"}"#,
            "kms:Decrypt",
            "*",
        ),
    );
    assert_eq!(kind(&u, "kms:Decrypt", KEY, &direct), Allow);
    // Key policy without delegation nor the user: identity policies do not count.
    let other = id_only.with_resource_policy(
        "key",
        rp(
            r#"{"AWS":"arn:aws:iam::111122223333:user/admin"}"#,
            "kms:*",
            "*",
        ),
    );
    assert_eq!(kind(&u, "kms:Decrypt", KEY, &other), ImplicitDeny);
    // The root user needs the key policy too.
    let root = principal("arn:aws:iam::111122223333:root");
    assert_eq!(
        kind(&root, "kms:Decrypt", KEY, &PolicySet::new()),
        ImplicitDeny
    );
    assert_eq!(kind(&root, "kms:Decrypt", KEY, &no_identity), Allow);
}

#[test]
fn kms_via_service_condition() {
    // The GCP cross-cloud setup's kms:Decrypt statement with kms:ViaService.
    let u = user(A, "gcp-reader");
    let identity = pol(
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"AllowKMSDecrypt","Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:eu-west-3:111122223333:key/*","Condition":{"StringEquals":{"kms:ViaService":"secretsmanager.eu-west-3.amazonaws.com"}}}]}"#,
    );
    let set = PolicySet::new()
        .with_identity_policy("id", identity)
        .with_resource_policy("key", key_policy_delegating(A));
    let via = Request::new(u.clone(), "kms:Decrypt", KEY)
        .with_key("kms:ViaService", "secretsmanager.eu-west-3.amazonaws.com");
    assert_eq!(req_kind(&via, &set), Allow);
    let direct = Request::new(u.clone(), "kms:Decrypt", KEY);
    assert_eq!(req_kind(&direct, &set), ImplicitDeny);
    let other_region = Request::new(u, "kms:Decrypt", KEY)
        .with_key("kms:ViaService", "secretsmanager.us-east-1.amazonaws.com");
    assert_eq!(req_kind(&other_region, &set), ImplicitDeny);
}

#[test]
fn kms_cross_account() {
    let u = user(B, "bob");
    let key_policy = pol(
        r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":["kms:Decrypt","kms:DescribeKey"],"Resource":"*"}]}"#,
    );
    let both = PolicySet::new()
        .with_resource_policy("key", key_policy.clone())
        .with_identity_policy("id", allow("kms:Decrypt", KEY));
    assert_eq!(kind(&u, "kms:Decrypt", KEY, &both), Allow);
    let only_key = PolicySet::new().with_resource_policy("key", key_policy);
    assert_eq!(kind(&u, "kms:Decrypt", KEY, &only_key), ImplicitDeny);
}

const ISSUER: &str = "oidc.eks.eu-west-3.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";

fn irsa_trust(sub: &str) -> iam::Policy {
    pol(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::111122223333:oidc-provider/{ISSUER}"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"{ISSUER}:sub":"{sub}","{ISSUER}:aud":"sts.amazonaws.com"}}}}}}]}}"#
    ))
}

#[test]
fn web_identity_trust_policy() {
    // The vendor's IRSA trust policy (product.md): Federated provider + sub/aud.
    let provider = principal(&format!("arn:aws:iam::111122223333:oidc-provider/{ISSUER}"));
    let role = "arn:aws:iam::111122223333:role/qovery-eso";
    let set = PolicySet::new().with_resource_policy(
        "trust",
        irsa_trust("system:serviceaccount:eso:external-secrets"),
    );
    let ok = Request::new(provider.clone(), "sts:AssumeRoleWithWebIdentity", role)
        .with_key(
            &format!("{ISSUER}:sub"),
            "system:serviceaccount:eso:external-secrets",
        )
        .with_key(&format!("{ISSUER}:aud"), "sts.amazonaws.com");
    assert_eq!(req_kind(&ok, &set), Allow);
    let wrong_sub = Request::new(provider.clone(), "sts:AssumeRoleWithWebIdentity", role)
        .with_key(
            &format!("{ISSUER}:sub"),
            "system:serviceaccount:default:other",
        )
        .with_key(&format!("{ISSUER}:aud"), "sts.amazonaws.com");
    let d = iam::authorize(&wrong_sub, &set);
    assert_eq!(d.kind, ImplicitDeny);
    assert!(d.reasons[0].contains("trust policy"));
    // Condition key names are case-insensitive.
    let upper = Request::new(provider.clone(), "sts:AssumeRoleWithWebIdentity", role)
        .with_key(
            &format!("{}:SUB", ISSUER.to_uppercase()),
            "system:serviceaccount:eso:external-secrets",
        )
        .with_key(&format!("{ISSUER}:aud"), "sts.amazonaws.com");
    assert_eq!(req_kind(&upper, &set), Allow);
    // Another provider.
    let other = principal(
        "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-3.amazonaws.com/id/OTHER",
    );
    let r = Request::new(other, "sts:AssumeRoleWithWebIdentity", role)
        .with_key(
            &format!("{ISSUER}:sub"),
            "system:serviceaccount:eso:external-secrets",
        )
        .with_key(&format!("{ISSUER}:aud"), "sts.amazonaws.com");
    assert_eq!(req_kind(&r, &set), ImplicitDeny);
    // No trust policy at all.
    assert_eq!(req_kind(&ok, &PolicySet::new()), ImplicitDeny);
    // SCPs do not bind the federated caller.
    let scp = set.with_scp_level(vec![iam::NamedPolicy::new("scp", allow("s3:*", "*"))]);
    assert_eq!(req_kind(&ok, &scp), Allow);
}

#[test]
fn assume_role_trust_must_allow_even_in_one_account() {
    let u = user(A, "alice");
    let role = "arn:aws:iam::111122223333:role/admin";
    let identity = PolicySet::new().with_identity_policy("id", allow("sts:AssumeRole", role));
    let d = decide(&u, "sts:AssumeRole", role, &identity);
    assert_eq!(d.kind, ImplicitDeny);
    assert_eq!(d.missing_allow(), Some(PolicyKind::Resource));
    // Trust names the account: the identity policy must allow too.
    let trust_account = pol(
        r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}]}"#,
    );
    let both = identity
        .clone()
        .with_resource_policy("trust", trust_account.clone());
    assert_eq!(kind(&u, "sts:AssumeRole", role, &both), Allow);
    let trust_only = PolicySet::new().with_resource_policy("trust", trust_account);
    assert_eq!(kind(&u, "sts:AssumeRole", role, &trust_only), ImplicitDeny);
    // Trust names the user in the same account: no identity policy needed.
    let trust_user = PolicySet::new().with_resource_policy(
        "trust",
        pol(r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"sts:AssumeRole"}]}"#),
    );
    assert_eq!(kind(&u, "sts:AssumeRole", role, &trust_user), Allow);
    // Cross-account: both.
    let outsider = user(B, "bob");
    let trust_b = pol(
        r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:user/bob"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x-123"}}}]}"#,
    );
    let set = PolicySet::new()
        .with_resource_policy("trust", trust_b)
        .with_identity_policy("id", allow("sts:AssumeRole", role));
    let with_id =
        Request::new(outsider.clone(), "sts:AssumeRole", role).with_key("sts:ExternalId", "x-123");
    assert_eq!(req_kind(&with_id, &set), Allow);
    let without = Request::new(outsider, "sts:AssumeRole", role);
    assert_eq!(req_kind(&without, &set), ImplicitDeny);
}

/// STS User Guide, "Passing session tags in STS" ("Required permissions to add session
/// tags": the role trust policy must allow `sts:TagSession`) and "Monitor and control
/// actions taken with assumed roles" (the same for `sts:SetSourceIdentity`): an identity
/// policy alone is not enough, even within one account.
#[test]
fn session_tags_and_source_identity_need_the_trust_policy_even_in_one_account() {
    let u = user(A, "alice");
    let role = "arn:aws:iam::111122223333:role/admin";
    let identity = PolicySet::new().with_identity_policy("id", allow("sts:*", role));
    let assume_only = pol(
        r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}]}"#,
    );
    let set = identity.clone().with_resource_policy("trust", assume_only);
    assert_eq!(kind(&u, "sts:AssumeRole", role, &set), Allow);
    for action in ["sts:TagSession", "sts:SetSourceIdentity"] {
        let d = decide(&u, action, role, &set);
        assert_eq!(d.kind, ImplicitDeny, "{action}");
        assert_eq!(d.missing_allow(), Some(PolicyKind::Resource), "{action}");
    }
    let with_tags = pol(
        r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":["sts:AssumeRole","sts:TagSession"]}]}"#,
    );
    let set = identity.with_resource_policy("trust", with_tags);
    assert_eq!(kind(&u, "sts:TagSession", role, &set), Allow);
    assert_eq!(kind(&u, "sts:SetSourceIdentity", role, &set), ImplicitDeny);
    // On anything but a role, sts:TagSession is an ordinary action.
    let not_a_role = "arn:aws:iam::111122223333:user/bob";
    let plain = PolicySet::new().with_identity_policy("id", allow("sts:TagSession", "*"));
    assert_eq!(kind(&u, "sts:TagSession", not_a_role, &plain), Allow);
}
