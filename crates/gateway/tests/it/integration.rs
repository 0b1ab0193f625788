//! End-to-end tests through the AWS SDK for Rust: SDK → gateway → LocalStack.

use crate::common::*;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iam_user_reads_only_what_its_policy_allows() {
    let ls = localstack().await;
    let gw = gateway(&ls).await;
    let ep = gw.endpoint();
    let acct = account();
    let app = secret(&ep, &acct, "app/db", "s1").await;
    let other = secret(&ep, &acct, "other/db", "s2").await;
    let policy = allow(
        &[
            "secretsmanager:GetSecretValue",
            "secretsmanager:DescribeSecret",
        ],
        &[&format!(
            "arn:aws:secretsmanager:{REGION}:{acct}:secret:app/*"
        )],
    );
    let alice = user_with_policy(&ep, &acct, "alice", &policy).await;
    let c = sm(&ep, &alice);

    let v = c
        .get_secret_value()
        .secret_id("app/db")
        .send()
        .await
        .expect("allowed by name");
    assert_eq!(v.secret_string(), Some("s1"));
    c.get_secret_value()
        .secret_id(&app)
        .send()
        .await
        .expect("allowed by ARN");

    let e = c
        .get_secret_value()
        .secret_id("other/db")
        .send()
        .await
        .expect_err("denied");
    let (code, msg) = err_of(&e);
    assert_eq!(code, "AccessDeniedException");
    assert_eq!(
        msg,
        format!("User: arn:aws:iam::{acct}:user/alice is not authorized to perform: secretsmanager:GetSecretValue on resource: {other} because no identity-based policy allows the secretsmanager:GetSecretValue action")
    );
    let e = c
        .list_secrets()
        .send()
        .await
        .expect_err("ListSecrets not granted");
    assert_eq!(err_of(&e).0, "AccessDeniedException");
    let e = c
        .delete_secret()
        .secret_id("app/db")
        .send()
        .await
        .expect_err("write not granted");
    assert_eq!(err_of(&e).0, "AccessDeniedException");
    // The secret still exists: the denial happened before LocalStack.
    sm(&ep, &root(&acct))
        .describe_secret()
        .secret_id("app/db")
        .send()
        .await
        .unwrap();

    // A missing secret the caller may not read is AccessDenied, not ResourceNotFound.
    let e = c
        .get_secret_value()
        .secret_id("nope/x")
        .send()
        .await
        .expect_err("denied");
    assert_eq!(err_of(&e).0, "AccessDeniedException");
    // A missing secret it may read is ResourceNotFound (from LocalStack).
    let e = c
        .get_secret_value()
        .secret_id("app/missing")
        .send()
        .await
        .expect_err("missing");
    assert_eq!(err_of(&e).0, "ResourceNotFoundException");

    let log = gw.handle().decisions();
    assert!(log.iter().any(|d| d.decision == "Allow"
        && d.action == "secretsmanager:GetSecretValue"
        && d.resource == app
        && d.principal.ends_with(":user/alice")));
    assert!(log
        .iter()
        .any(|d| d.decision == "ImplicitDeny" && d.resource == other && !d.reason.is_empty()));
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_change_is_honoured_on_the_very_next_call() {
    let OneSecret {
        ls,
        gw,
        ep,
        acct,
        user: alice,
    } = OneSecret::new(None, "alice", &["secretsmanager:GetSecretValue"]).await;
    let c = sm(&ep, &alice);
    c.get_secret_value()
        .secret_id("app/db")
        .send()
        .await
        .expect("allowed");
    let admin = iam(&ep, &root(&acct));
    let deny = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "secretsmanager:*", "Resource": "*"}]});
    admin
        .put_user_policy()
        .user_name("alice")
        .policy_name("deny")
        .policy_document(deny.to_string())
        .send()
        .await
        .unwrap();
    let e = c
        .get_secret_value()
        .secret_id("app/db")
        .send()
        .await
        .expect_err("denied right after");
    assert!(
        err_of(&e)
            .1
            .contains("with an explicit deny in an identity-based policy"),
        "{:?}",
        err_of(&e)
    );
    admin
        .delete_user_policy()
        .user_name("alice")
        .policy_name("deny")
        .send()
        .await
        .unwrap();
    c.get_secret_value()
        .secret_id("app/db")
        .send()
        .await
        .expect("allowed again right after");
    // A change made directly on LocalStack (behind the gateway) is seen after an
    // explicit invalidation (or the cache bound).
    iam(&ls, &root(&acct))
        .put_user_policy()
        .user_name("alice")
        .policy_name("deny")
        .policy_document(deny.to_string())
        .send()
        .await
        .unwrap();
    gw.handle().invalidate_cache();
    c.get_secret_value()
        .secret_id("app/db")
        .send()
        .await
        .expect_err("denied after invalidation");
    gw.shutdown().await;
}

/// A managed policy owned by a CloudFormation stack, attached to `user`, allowing
/// `action` on every secret. The logical id changes with the action, so an update
/// replaces the policy (LocalStack does not apply in-place document updates of
/// `AWS::IAM::ManagedPolicy`).
fn stack_policy(user: &str, action: &str) -> String {
    let logical_id = format!("Allow{}", action.rsplit(':').next().unwrap_or(action));
    json!({
        "Resources": {logical_id: {"Type": "AWS::IAM::ManagedPolicy", "Properties": {
            "Users": [user],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": action, "Resource": "*"}]}}}}
    })
    .to_string()
}

/// Polls DescribeStacks (through the gateway, as any deployment tool does) until the
/// stack leaves its `*_IN_PROGRESS` state; panics unless it reached `want`.
async fn wait_for_stack(cfn: &aws_sdk_cloudformation::Client, name: &str, want: &str) {
    for _ in 0..300 {
        let out = cfn.describe_stacks().stack_name(name).send().await.unwrap();
        let status = out.stacks()[0].stack_status().unwrap().as_str().to_string();
        if !status.ends_with("_IN_PROGRESS") {
            assert_eq!(status, want, "stack {name}");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("stack {name} still in progress after 30 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_change_through_a_cloudformation_stack_is_honoured_once_it_completes() {
    // The user starts with a policy that allows nothing relevant.
    let OneSecret {
        gw,
        ep,
        acct,
        user: alice,
        ..
    } = OneSecret::new(None, "alice", &["secretsmanager:ListSecrets"]).await;
    let c = sm(&ep, &alice);
    c.get_secret_value()
        .secret_id("app/db")
        .send()
        .await
        .expect_err("no grant yet");
    // The stack's resources are created by LocalStack itself, behind the gateway; the
    // deployment tool's own calls (CreateStack, DescribeStacks polls) pass through it.
    let cfn = cloudformation(&ep, &root(&acct));
    cfn.create_stack()
        .stack_name("grants")
        .template_body(stack_policy("alice", "secretsmanager:GetSecretValue"))
        .capabilities(aws_sdk_cloudformation::types::Capability::CapabilityNamedIam)
        .send()
        .await
        .unwrap();
    // A read while the stack is in progress may cache the state before its resources
    // exist; only the DescribeStacks polls can tell the gateway that they now do.
    let _either = c.get_secret_value().secret_id("app/db").send().await;
    wait_for_stack(&cfn, "grants", "CREATE_COMPLETE").await;
    c.get_secret_value()
        .secret_id("app/db")
        .send()
        .await
        .expect("granted by the stack, on the first call after it completed");
    cfn.update_stack()
        .stack_name("grants")
        .template_body(stack_policy("alice", "secretsmanager:DescribeSecret"))
        .capabilities(aws_sdk_cloudformation::types::Capability::CapabilityNamedIam)
        .send()
        .await
        .unwrap();
    let _either = c.get_secret_value().secret_id("app/db").send().await;
    wait_for_stack(&cfn, "grants", "UPDATE_COMPLETE").await;
    let e = c
        .get_secret_value()
        .secret_id("app/db")
        .send()
        .await
        .expect_err("revoked by the update, on the first call after it completed");
    assert_eq!(err_of(&e).0, "AccessDeniedException");
    c.describe_secret()
        .secret_id("app/db")
        .send()
        .await
        .expect("the updated grant");
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_age_bound_sees_changes_made_behind_the_gateway() {
    let mut config = gateway::Config::new(localstack().await, "127.0.0.1:0".parse().unwrap());
    config.policy_cache_max_age = Some(std::time::Duration::ZERO);
    let OneSecret {
        ls,
        gw,
        ep,
        acct,
        user: bob,
    } = OneSecret::new(Some(config), "bob", &["secretsmanager:GetSecretValue"]).await;
    let c = sm(&ep, &bob);
    c.get_secret_value()
        .secret_id("app/db")
        .send()
        .await
        .expect("allowed");
    let deny = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "secretsmanager:*", "Resource": "*"}]});
    iam(&ls, &root(&acct))
        .put_user_policy()
        .user_name("bob")
        .policy_name("deny")
        .policy_document(deny.to_string())
        .send()
        .await
        .unwrap();
    c.get_secret_value()
        .secret_id("app/db")
        .send()
        .await
        .expect_err("a direct change is seen without invalidation when nothing is cached");
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_policies_that_allow_and_that_deny() {
    let ls = localstack().await;
    let gw = gateway(&ls).await;
    let ep = gw.endpoint();
    let acct = account();
    let denied = secret(&ep, &acct, "denied/db", "s1").await;
    let granted = secret(&ep, &acct, "granted/db", "s2").await;
    let alice = user_with_policy(
        &ep,
        &acct,
        "alice",
        &allow(&["secretsmanager:GetSecretValue"], &[&denied]),
    )
    .await;
    let root_sm = sm(&ep, &root(&acct));
    let user_arn = format!("arn:aws:iam::{acct}:user/alice");
    root_sm
        .put_resource_policy()
        .secret_id(&denied)
        .resource_policy(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": {"AWS": user_arn}, "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}).to_string())
        .send()
        .await
        .unwrap();
    root_sm
        .put_resource_policy()
        .secret_id(&granted)
        .resource_policy(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}).to_string())
        .send()
        .await
        .unwrap();
    let c = sm(&ep, &alice);
    let e = c
        .get_secret_value()
        .secret_id(&denied)
        .send()
        .await
        .expect_err("resource policy denies");
    assert!(
        err_of(&e)
            .1
            .ends_with("with an explicit deny in a resource-based policy"),
        "{:?}",
        err_of(&e)
    );
    let v = c
        .get_secret_value()
        .secret_id(&granted)
        .send()
        .await
        .expect("resource policy naming the user allows on its own");
    assert_eq!(v.secret_string(), Some("s2"));
    // Root is stopped by an explicit deny too.
    root_sm
        .put_resource_policy()
        .secret_id(&granted)
        .resource_policy(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}).to_string())
        .send()
        .await
        .unwrap();
    let e = root_sm
        .get_secret_value()
        .secret_id(&granted)
        .send()
        .await
        .expect_err("root denied explicitly");
    assert_eq!(err_of(&e).0, "AccessDeniedException");
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permissions_boundary_limits_identity_policy() {
    let ls = localstack().await;
    let gw = gateway(&ls).await;
    let ep = gw.endpoint();
    let acct = account();
    secret(&ep, &acct, "app/db", "s1").await;
    let other = secret(&ep, &acct, "other/db", "s2").await;
    let alice = user_with_policy(&ep, &acct, "alice", &allow(&["secretsmanager:*"], &["*"])).await;
    let admin = iam(&ep, &root(&acct));
    let b = admin
        .create_policy()
        .policy_name("boundary")
        .policy_document(
            allow(
                &["secretsmanager:GetSecretValue"],
                &[&format!(
                    "arn:aws:secretsmanager:{REGION}:{acct}:secret:app/*"
                )],
            )
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    admin
        .put_user_permissions_boundary()
        .user_name("alice")
        .permissions_boundary(b.policy().unwrap().arn().unwrap())
        .send()
        .await
        .unwrap();
    let c = sm(&ep, &alice);
    c.get_secret_value()
        .secret_id("app/db")
        .send()
        .await
        .expect("inside the boundary");
    let e = c
        .get_secret_value()
        .secret_id(&other)
        .send()
        .await
        .expect_err("outside the boundary");
    assert!(
        err_of(&e).1.ends_with(
            "because no permissions boundary allows the secretsmanager:GetSecretValue action"
        ),
        "{:?}",
        err_of(&e)
    );
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_identity_role_reads_its_secrets_only() {
    let ls = localstack().await;
    let issuer = Issuer::new(&format!(
        "https://oidc.eks.eu-west-3.amazonaws.com/id/{}",
        account()
    ));
    let gw = gateway_trusting(&ls, &issuer).await;
    let ep = gw.endpoint();
    let acct = account();
    secret(&ep, &acct, "staging/db", "s1").await;
    secret(&ep, &acct, "prod/db", "s2").await;
    oidc_provider(&ep, &acct, &issuer, &["sts.amazonaws.com"]).await;
    let host = issuer.url.trim_start_matches("https://");
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Federated": format!("arn:aws:iam::{acct}:oidc-provider/{host}")},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {format!("{host}:sub"): "system:serviceaccount:eso:eso", format!("{host}:aud"): "sts.amazonaws.com"}}}]});
    let role_arn = role(
        &ep,
        &acct,
        "eso",
        &trust,
        &allow(
            &[
                "secretsmanager:GetSecretValue",
                "secretsmanager:ListSecrets",
            ],
            &[&format!(
                "arn:aws:secretsmanager:{REGION}:{acct}:secret:staging/*"
            )],
        ),
    )
    .await;
    let sts = sts(&ep, None);

    let out = sts
        .assume_role_with_web_identity()
        .role_arn(&role_arn)
        .role_session_name("external-secrets-provider-aws")
        .web_identity_token(issuer.token("system:serviceaccount:eso:eso", "sts.amazonaws.com", 600))
        .send()
        .await
        .expect("web identity accepted");
    let session = issued(out.credentials().unwrap());
    let smc = sm(&ep, &session);
    assert_eq!(
        smc.get_secret_value()
            .secret_id("staging/db")
            .send()
            .await
            .unwrap()
            .secret_string(),
        Some("s1")
    );
    let e = smc
        .get_secret_value()
        .secret_id("prod/db")
        .send()
        .await
        .expect_err("prod denied");
    assert!(err_of(&e).1.starts_with(&format!("User: arn:aws:sts::{acct}:assumed-role/eso/external-secrets-provider-aws is not authorized")), "{:?}", err_of(&e));
    // The session's own GetCallerIdentity works.
    let id = sts_with(&ep, &session)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(id.account(), Some(acct.as_str()));

    let assume = |token: String| {
        let sts = sts.clone();
        let role_arn = role_arn.clone();
        async move {
            sts.assume_role_with_web_identity()
                .role_arn(role_arn)
                .role_session_name("s")
                .web_identity_token(token)
                .send()
                .await
        }
    };
    let e = assume(issuer.token("system:serviceaccount:other:sa", "sts.amazonaws.com", 600))
        .await
        .expect_err("wrong subject");
    assert_eq!(
        err_of(&e),
        (
            "AccessDenied".into(),
            "Not authorized to perform sts:AssumeRoleWithWebIdentity".into()
        )
    );
    let e = assume(issuer.token("system:serviceaccount:eso:eso", "other-audience", 600))
        .await
        .expect_err("wrong audience");
    assert_eq!(
        err_of(&e),
        (
            "InvalidIdentityToken".into(),
            "Incorrect token audience".into()
        )
    );
    let e = assume(issuer.token("system:serviceaccount:eso:eso", "sts.amazonaws.com", -5))
        .await
        .expect_err("expired");
    assert_eq!(err_of(&e).0, "ExpiredTokenException");
    let stranger = Issuer::new(&issuer.url);
    let e = assume(stranger.token("system:serviceaccount:eso:eso", "sts.amazonaws.com", 600))
        .await
        .expect_err("signed by another key");
    assert_eq!(err_of(&e).0, "InvalidIdentityToken");
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_tags_in_the_token_need_tag_session_and_become_principal_tags() {
    let ls = localstack().await;
    let issuer = Issuer::new(&format!("https://issuer.example/{}", account()));
    let gw = gateway_trusting(&ls, &issuer).await;
    let ep = gw.endpoint();
    let acct = account();
    secret(&ep, &acct, "blue/db", "s1").await;
    secret(&ep, &acct, "green/db", "s2").await;
    oidc_provider(&ep, &acct, &issuer, &["sts.amazonaws.com"]).await;
    let host = issuer.url.trim_start_matches("https://");
    let trust = |actions: &[&str]| {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Federated": format!("arn:aws:iam::{acct}:oidc-provider/{host}")},
            "Action": actions}]})
    };
    // The role reads the secrets under its session's `team` tag.
    let per_team = allow(
        &["secretsmanager:GetSecretValue"],
        &[&format!(
            "arn:aws:secretsmanager:{REGION}:{acct}:secret:${{aws:PrincipalTag/team}}/*"
        )],
    );
    let untagged = role(
        &ep,
        &acct,
        "no-tags",
        &trust(&["sts:AssumeRoleWithWebIdentity"]),
        &per_team,
    )
    .await;
    let tagged = role(
        &ep,
        &acct,
        "tags",
        &trust(&["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]),
        &per_team,
    )
    .await;
    let now = aws_wire::time::unix_now();
    let token = |tags: Value| {
        issuer.sign_raw(
            &json!({"alg": "ES256", "kid": KEY_ID}),
            &json!({"iss": issuer.url, "sub": "system:serviceaccount:eso:eso", "aud": "sts.amazonaws.com",
                "iat": now, "exp": now + 600, "https://aws.amazon.com/tags": tags}),
        )
    };
    let blue = json!({"principal_tags": {"team": ["blue"]}, "transitive_tag_keys": ["team"]});
    let sts = sts(&ep, None);
    let assume = |role_arn: &str, token: String| {
        sts.assume_role_with_web_identity()
            .role_arn(role_arn)
            .role_session_name("eso")
            .web_identity_token(token)
            .send()
    };

    let e = assume(&untagged, token(blue.clone()))
        .await
        .expect_err("the trust policy does not allow sts:TagSession");
    assert_eq!(err_of(&e).0, "AccessDenied");
    let e = assume(
        &tagged,
        token(json!({"principal_tags": {"team": ["blue", "green"]}})),
    )
    .await
    .expect_err("two values for one tag");
    assert_eq!(err_of(&e).0, "InvalidIdentityToken");

    let out = assume(&tagged, token(blue)).await.expect("tags allowed");
    let session = issued(out.credentials().unwrap());
    let smc = sm(&ep, &session);
    smc.get_secret_value()
        .secret_id("blue/db")
        .send()
        .await
        .expect("the session's team tag names blue/");
    let e = smc
        .get_secret_value()
        .secret_id("green/db")
        .send()
        .await
        .expect_err("not another team's");
    assert_eq!(err_of(&e).0, "AccessDeniedException");
    gw.shutdown().await;
}

fn sts_with(ep: &str, c: &Creds) -> aws_sdk_sts::Client {
    sts(ep, Some(c))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assume_role_with_external_id_and_chaining_limits() {
    let ls = localstack().await;
    let gw = gateway(&ls).await;
    let ep = gw.endpoint();
    let acct = account();
    secret(&ep, &acct, "app/db", "s1").await;
    secret(&ep, &acct, "other/db", "s2").await;
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{acct}:root")},
        "Action": ["sts:AssumeRole", "sts:TagSession"], "Condition": {"StringEquals": {"sts:ExternalId": "ext-123"}}}]});
    let role_arn = role(
        &ep,
        &acct,
        "reader",
        &trust,
        &allow(
            &["secretsmanager:GetSecretValue"],
            &[&format!(
                "arn:aws:secretsmanager:{REGION}:{acct}:secret:app/*"
            )],
        ),
    )
    .await;
    let bob = user_with_policy(
        &ep,
        &acct,
        "bob",
        &allow(&["sts:AssumeRole", "sts:TagSession"], &[&role_arn]),
    )
    .await;
    let carol = user_with_policy(&ep, &acct, "carol", &allow(&["s3:*"], &["*"])).await;
    let sts_bob = sts(&ep, Some(&bob));

    let e = sts_bob
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("s")
        .send()
        .await
        .expect_err("no external id");
    assert_eq!(err_of(&e).0, "AccessDenied");
    let e = sts_bob
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("s")
        .external_id("wrong")
        .send()
        .await
        .expect_err("wrong external id");
    assert_eq!(err_of(&e).0, "AccessDenied");
    let e = sts(&ep, Some(&carol))
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("s")
        .external_id("ext-123")
        .send()
        .await
        .expect_err("no identity permission");
    assert_eq!(err_of(&e).1, format!("User: arn:aws:iam::{acct}:user/carol is not authorized to perform: sts:AssumeRole on resource: {role_arn} because no identity-based policy allows the sts:AssumeRole action"));
    let e = sts(&ep, Some(&root(&acct)))
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("s")
        .external_id("ext-123")
        .send()
        .await
        .expect_err("root cannot assume");
    assert_eq!(err_of(&e).1, "Roles may not be assumed by root accounts.");

    let out = sts_bob
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("s1")
        .external_id("ext-123")
        .tags(
            aws_sdk_sts::types::Tag::builder()
                .key("team")
                .value("blue")
                .build()
                .unwrap(),
        )
        .transitive_tag_keys("team")
        .send()
        .await
        .expect("assumed");
    let session = issued(out.credentials().unwrap());
    let smc = sm(&ep, &session);
    smc.get_secret_value()
        .secret_id("app/db")
        .send()
        .await
        .expect("role allows app/*");
    let e = smc
        .get_secret_value()
        .secret_id("other/db")
        .send()
        .await
        .expect_err("role does not allow other/*");
    assert_eq!(err_of(&e).0, "AccessDeniedException");
    // Wrong session token → UnrecognizedClientException.
    let forged = (
        session.0.clone(),
        session.1.clone(),
        Some("forged-token".to_string()),
    );
    let e = sm(&ep, &forged)
        .get_secret_value()
        .secret_id("app/db")
        .send()
        .await
        .expect_err("forged token");
    assert_eq!(err_of(&e).0, "UnrecognizedClientException");

    // Role chaining: the session may assume the role again (trust names the account,
    // and the role's policy lacks sts:AssumeRole → denied), and durations > 1 h fail.
    let e = sts(&ep, Some(&session))
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("s2")
        .external_id("ext-123")
        .send()
        .await
        .expect_err("no sts:AssumeRole in the role policy");
    assert_eq!(err_of(&e).0, "AccessDenied");
    iam(&ep, &root(&acct))
        .put_role_policy()
        .role_name("reader")
        .policy_name("chain")
        .policy_document(allow(&["sts:AssumeRole", "sts:TagSession"], &[&role_arn]).to_string())
        .send()
        .await
        .unwrap();
    let e = sts(&ep, Some(&session))
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("s2")
        .external_id("ext-123")
        .duration_seconds(7200)
        .send()
        .await
        .expect_err("chaining > 1h");
    assert_eq!(err_of(&e).0, "ValidationError");
    sts(&ep, Some(&session))
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("s2")
        .external_id("ext-123")
        .send()
        .await
        .expect("chained within 1 h");
    gw.shutdown().await;
}

/// Assumes `role_arn` with `caller`'s credentials; the session's credentials.
async fn assume(ep: &str, caller: &Creds, role_arn: &str, session: &str) -> Creds {
    let out = sts(ep, Some(caller))
        .assume_role()
        .role_arn(role_arn)
        .role_session_name(session)
        .send()
        .await
        .expect("assumed");
    issued(out.credentials().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_recreated_under_the_same_name_does_not_revive_old_sessions() {
    let OneSecret {
        gw, ep, acct, user, ..
    } = OneSecret::new(None, "bob", &["sts:AssumeRole"]).await;
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{acct}:root")}, "Action": "sts:AssumeRole"}]});
    let read = allow(&["secretsmanager:GetSecretValue"], &["*"]);
    let role_arn = role(&ep, &acct, "reader", &trust, &read).await;
    let old = sm(&ep, &assume(&ep, &user, &role_arn, "old").await);
    old.get_secret_value()
        .secret_id("app/db")
        .send()
        .await
        .expect("the role allows it");

    let admin = iam(&ep, &root(&acct));
    admin
        .delete_role_policy()
        .role_name("reader")
        .policy_name("p")
        .send()
        .await
        .unwrap();
    admin
        .delete_role()
        .role_name("reader")
        .send()
        .await
        .unwrap();
    let e = old
        .get_secret_value()
        .secret_id("app/db")
        .send()
        .await
        .expect_err("the role is gone");
    assert_eq!(err_of(&e).0, "AccessDeniedException");

    // Same name, same trust, same permissions, new unique id.
    assert_eq!(role(&ep, &acct, "reader", &trust, &read).await, role_arn);
    let e = old
        .get_secret_value()
        .secret_id("app/db")
        .send()
        .await
        .expect_err("an old session gets nothing from the new role");
    assert_eq!(err_of(&e).0, "AccessDeniedException");
    sm(&ep, &assume(&ep, &user, &role_arn, "new").await)
        .get_secret_value()
        .secret_id("app/db")
        .send()
        .await
        .expect("a new session of the new role reads");
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_account_secret_with_customer_managed_key() {
    let ls = localstack().await;
    let gw = gateway(&ls).await;
    let ep = gw.endpoint();
    let (owner, reader) = (account(), account());
    let user_arn = format!("arn:aws:iam::{reader}:user/xacct");
    let key_policy = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{owner}:root")}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "Reader", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{reader}:root")}, "Action": "kms:Decrypt", "Resource": "*"}]});
    let key = kms_key(&ls, &owner, &key_policy).await;
    let arn = secret_with_key(&ep, &owner, "shared/db", "s1", &key).await;
    let x = user_with_policy(
        &ep,
        &reader,
        "xacct",
        &json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": arn},
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key}]}),
    )
    .await;
    let c = sm(&ep, &x);
    let e = c
        .get_secret_value()
        .secret_id(&arn)
        .send()
        .await
        .expect_err("no resource policy yet");
    assert!(
        err_of(&e).1.ends_with(
            "because no resource-based policy allows the secretsmanager:GetSecretValue action"
        ),
        "{:?}",
        err_of(&e)
    );
    sm(&ep, &root(&owner))
        .put_resource_policy()
        .secret_id(&arn)
        .resource_policy(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}).to_string())
        .send()
        .await
        .unwrap();
    let v = c
        .get_secret_value()
        .secret_id(&arn)
        .send()
        .await
        .expect("both sides allow");
    assert_eq!(v.secret_string(), Some("s1"));
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_managed_key_needs_kms_decrypt() {
    let ls = localstack().await;
    let gw = gateway(&ls).await;
    let ep = gw.endpoint();
    let acct = account();
    let key_policy = json!({"Version": "2012-10-17", "Statement": [{"Sid": "Delegate", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{acct}:root")}, "Action": "kms:*", "Resource": "*"}]});
    let key = kms_key(&ls, &acct, &key_policy).await;
    let arn = secret_with_key(&ep, &acct, "cmk/db", "s1", &key).await;
    let dana = user_with_policy(
        &ep,
        &acct,
        "dana",
        &allow(&["secretsmanager:GetSecretValue"], &[&arn]),
    )
    .await;
    let c = sm(&ep, &dana);
    let e = c
        .get_secret_value()
        .secret_id(&arn)
        .send()
        .await
        .expect_err("no kms:Decrypt");
    assert_eq!(err_of(&e).0, "AccessDeniedException");
    assert!(
        err_of(&e).1.starts_with("Access to KMS is not allowed"),
        "{:?}",
        err_of(&e)
    );
    iam(&ep, &root(&acct))
        .put_user_policy()
        .user_name("dana")
        .policy_name("kms")
        .policy_document(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key,
            "Condition": {"StringEquals": {"kms:ViaService": format!("secretsmanager.{REGION}.amazonaws.com")}}}]}).to_string())
        .send()
        .await
        .unwrap();
    c.get_secret_value()
        .secret_id(&arn)
        .send()
        .await
        .expect("kms:Decrypt via Secrets Manager allowed");
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_get_secret_value_returns_partial_results() {
    let ls = localstack().await;
    let gw = gateway(&ls).await;
    let ep = gw.endpoint();
    let acct = account();
    let a = secret(&ep, &acct, "team/a", "A").await;
    let b = secret(&ep, &acct, "team/b", "B").await;
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["secretsmanager:BatchGetSecretValue", "secretsmanager:ListSecrets"], "Resource": "*"},
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": a}]});
    let u = user_with_policy(&ep, &acct, "batch", &policy).await;
    let c = sm(&ep, &u);
    let out = c
        .batch_get_secret_value()
        .secret_id_list(&a)
        .secret_id_list(&b)
        .send()
        .await
        .expect("partial");
    let names: Vec<_> = out
        .secret_values()
        .iter()
        .map(|v| v.name().unwrap_or("").to_string())
        .collect();
    assert_eq!(names, vec!["team/a".to_string()]);
    assert_eq!(out.errors().len(), 1);
    assert_eq!(out.errors()[0].secret_id(), Some(b.as_str()));
    assert_eq!(out.errors()[0].error_code(), Some("AccessDeniedException"));
    let filter = aws_sdk_secretsmanager::types::Filter::builder()
        .key(aws_sdk_secretsmanager::types::FilterNameStringType::Name)
        .values("team/")
        .build();
    let out = c
        .batch_get_secret_value()
        .filters(filter)
        .send()
        .await
        .expect("filtered partial");
    let names: Vec<_> = out
        .secret_values()
        .iter()
        .map(|v| v.name().unwrap_or("").to_string())
        .collect();
    assert_eq!(names, vec!["team/a".to_string()]);
    assert!(out
        .errors()
        .iter()
        .any(|e| e.secret_id() == Some(b.as_str())));
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_key_stops_working_at_once_and_registered_keys_work() {
    let OneSecret {
        ls,
        gw,
        ep,
        acct,
        user: u,
    } = OneSecret::new(None, "erin", &["secretsmanager:GetSecretValue"]).await;
    let c = sm(&ep, &u);
    c.get_secret_value()
        .secret_id("app/db")
        .send()
        .await
        .unwrap();
    iam(&ep, &root(&acct))
        .delete_access_key()
        .user_name("erin")
        .access_key_id(&u.0)
        .send()
        .await
        .unwrap();
    let e = c
        .get_secret_value()
        .secret_id("app/db")
        .send()
        .await
        .expect_err("deleted key");
    assert_eq!(err_of(&e).0, "UnrecognizedClientException");

    // A key created behind the gateway (as a CloudFormation stack would) works once
    // registered; deleting it behind the gateway stops it on the next request.
    let direct = iam(&ls, &root(&acct));
    let k = direct
        .create_access_key()
        .user_name("erin")
        .send()
        .await
        .unwrap();
    let k = k.access_key().unwrap();
    let creds = (
        k.access_key_id().to_string(),
        k.secret_access_key().to_string(),
        None,
    );
    let e = sm(&ep, &creds)
        .get_secret_value()
        .secret_id("app/db")
        .send()
        .await
        .expect_err("not yet known");
    assert_eq!(err_of(&e).0, "UnrecognizedClientException");
    gw.handle()
        .register_user_key(&acct, "erin", &creds.0, &creds.1);
    sm(&ep, &creds)
        .get_secret_value()
        .secret_id("app/db")
        .send()
        .await
        .expect("registered key works");
    direct
        .delete_access_key()
        .user_name("erin")
        .access_key_id(&creds.0)
        .send()
        .await
        .unwrap();
    gw.handle().invalidate_cache();
    let e = sm(&ep, &creds)
        .get_secret_value()
        .secret_id("app/db")
        .send()
        .await
        .expect_err("deleted behind the gateway");
    assert_eq!(err_of(&e).0, "UnrecognizedClientException");
    gw.shutdown().await;
}

/// A GetCallerIdentity URL presigned as SDKs presign it (GET, only `host` signed, the
/// empty body's hash; `presign_uri` agrees with the SDK signer and botocore in
/// `aws-wire`'s tests) for a user key created through the gateway, sent as a plain GET
/// with the gateway's `host:port`: answered by LocalStack as that user. Tampered,
/// expired and out-of-bounds URLs get AWS's errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_request_reaches_localstack_as_the_caller() {
    use aws_wire::sigv4::{presign_uri, SigningParams};
    let ls = localstack().await;
    let gw = gateway(&ls).await;
    let ep = gw.endpoint();
    let acct = account();
    let u = user_with_policy(
        &ep,
        &acct,
        "frank",
        &allow(&["secretsmanager:ListSecrets"], &["*"]),
    )
    .await;
    let uri: http::Uri = format!("{ep}/?Action=GetCallerIdentity&Version=2011-06-15")
        .parse()
        .unwrap();
    let now = aws_wire::time::unix_now();
    let p = |time| SigningParams {
        access_key_id: &u.0,
        secret_access_key: &u.1,
        session_token: None,
        region: "us-east-1",
        service: "sts",
        time,
    };
    let signed = presign_uri(&http::Method::GET, &uri, 900, &p(now))
        .expect("presigning")
        .to_string();
    let (status, body) = raw("GET", &signed, &[], b"").await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(&format!("<Arn>arn:aws:iam::{acct}:user/frank</Arn>")),
        "{body}"
    );
    assert!(
        body.contains(&format!("<Account>{acct}</Account>")),
        "{body}"
    );
    // Tampered presigned URL: another action, or another signature.
    let tampered = signed.replace("GetCallerIdentity", "GetSessionToken");
    let (status, body) = raw("GET", &tampered, &[], b"").await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("<Code>SignatureDoesNotMatch</Code>"),
        "{body}"
    );
    let (head, sig) = signed.split_once("X-Amz-Signature=").unwrap();
    let flipped = if sig.starts_with('0') { "1" } else { "0" };
    let (status, body) = raw(
        "GET",
        &format!("{head}X-Amz-Signature={flipped}{}", &sig[1..]),
        &[],
        b"",
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("<Code>SignatureDoesNotMatch</Code>"),
        "{body}"
    );
    // Expired: dated 20 minutes ago. X-Amz-Expires says an hour, but outside S3 a
    // presigned request lives 15 minutes, as on AWS.
    let stale = presign_uri(&http::Method::GET, &uri, 3600, &p(now - 1200))
        .expect("presigning")
        .to_string();
    let (status, body) = raw("GET", &stale, &[], b"").await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("<Code>SignatureDoesNotMatch</Code>"),
        "{body}"
    );
    assert!(body.contains("Signature expired"), "{body}");
    // X-Amz-Expires out of bounds (1 s to 7 days).
    for bad in ["0", "604801"] {
        let url = signed.replace("X-Amz-Expires=900", &format!("X-Amz-Expires={bad}"));
        let (status, body) = raw("GET", &url, &[], b"").await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body.contains("<Code>IncompleteSignature</Code>"), "{body}");
        assert!(
            body.contains("X-Amz-Expires must be between 1 and 604800 seconds"),
            "{body}"
        );
    }
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unmodelled_services_are_denied_to_non_root_and_the_log_is_written() {
    let ls = localstack().await;
    let dir = std::env::temp_dir().join(format!("sma-gw-{}", account()));
    let log = dir.join("decisions.jsonl");
    let gw = gateway_with(
        gateway::Config::new(&ls, "127.0.0.1:0".parse().unwrap()).with_decision_log(&log),
    )
    .await;
    let ep = gw.endpoint();
    let acct = account();
    let u = user_with_policy(&ep, &acct, "gina", &allow(&["iam:*"], &["*"])).await;
    let e = iam(&ep, &u)
        .list_users()
        .send()
        .await
        .expect_err("IAM is not modelled for non-root");
    let (code, msg) = err_of(&e);
    assert_eq!(code, "AccessDenied");
    assert!(msg.contains("does not model the iam service"), "{msg}");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.iter().any(|l| l["action"] == "iam:ListUsers"
        && l["decision"] == "ImplicitDeny"
        && l["latency_us"].is_u64()));
    assert!(!text.contains(&u.1), "the secret key must never be logged");
    gw.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}
