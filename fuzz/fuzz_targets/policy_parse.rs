//! Fuzz target: parse arbitrary bytes as a policy, then evaluate the policy as every
//! policy kind against fixed requests. Must never panic (parser or evaluator).
#![no_main]

use iam::{authorize, Policy, PolicyKind, PolicySet, Principal, Request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(policy) = Policy::parse(text) else {
        return;
    };
    for kind in [
        PolicyKind::Identity,
        PolicyKind::Resource,
        PolicyKind::PermissionsBoundary,
        PolicyKind::Session,
        PolicyKind::Scp,
        PolicyKind::Rcp,
    ] {
        let _ = policy.validate_for(kind);
    }
    let _ = policy.validate_trust_policy();
    let session = Principal::from_arn("arn:aws:sts::123456789012:assumed-role/eso/s1")
        .unwrap()
        .with_unique_id("AROAEXAMPLE")
        .with_tag("team", "blue");
    let user = Principal::from_arn("arn:aws:iam::123456789012:user/alice").unwrap();
    let requests = [
        Request::new(
            session.clone(),
            "secretsmanager:GetSecretValue",
            "arn:aws:secretsmanager:eu-west-3:123456789012:secret:staging/db-AbCdEf",
        )
        .with_key("aws:SourceIp", "10.1.2.3")
        .with_key("aws:CurrentTime", "2025-01-01T00:00:00Z"),
        Request::new(
            user.clone(),
            "kms:Decrypt",
            "arn:aws:kms:eu-west-3:444455556666:key/k",
        )
        .with_key("kms:ViaService", "secretsmanager.eu-west-3.amazonaws.com")
        .with_key("s3:max-keys", "ten"),
        Request::new(user, "sts:AssumeRole", "*"),
    ];
    let set = PolicySet::new()
        .with_identity_policy("p", policy.clone())
        .with_resource_policy("p", policy.clone())
        .with_permissions_boundary("p", policy.clone())
        .with_session_policy("p", policy.clone())
        .with_scp_level(vec![iam::NamedPolicy::new("p", policy.clone())])
        .with_rcp_level(vec![iam::NamedPolicy::new("p", policy)]);
    for r in &requests {
        let d = authorize(r, &set);
        assert_eq!(d.kind, iam::authorize_kind(r, &set));
        let _ = d.access_denied_message(r);
    }
});
