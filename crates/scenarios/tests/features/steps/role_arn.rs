//! Steps of `features/role_arn.feature`: the CloudFormation stack `sma generate` writes
//! for a role-arn access, deployed in the scenario's account, and ESO assuming its role
//! by web identity with a service-account token of the cluster.

use super::common::Scope;
use super::oidc::TestIssuer;
use crate::World;
use aws_sdk_sts::error::ProvideErrorMetadata;
use cucumber::{given, then, when};
use scenarios::Keys;
use templates::render::ArtifactKind;

/// The audience ESO requests for its token (`eks.amazonaws.com/audience` default).
const AUDIENCE: &str = "sts.amazonaws.com";
/// The session name ESO gives `AssumeRoleWithWebIdentity`.
const ESO_SESSION_NAME: &str = "external-secrets-provider-aws";
/// The service account the generated role trusts by default.
const ESO_NAMESPACE: &str = "external-secrets";
const ESO_SERVICE_ACCOUNT: &str = "external-secrets";

async fn root_config(world: &World) -> aws_config::SdkConfig {
    let root = Keys::root_of(&world.account);
    scenarios::sdk_config(&world.gateway_endpoint, &world.region, &root).await
}

fn sts_client(world: &World) -> aws_sdk_sts::Client {
    // AssumeRoleWithWebIdentity is unsigned: the token is the credential.
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new(world.region.clone()))
        .endpoint_url(&world.gateway_endpoint)
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

#[given("the cluster's OIDC issuer is an IAM OIDC provider of the account")]
async fn oidc_provider(world: &mut World) {
    let iam = aws_sdk_iam::Client::new(&root_config(world).await);
    iam.create_open_id_connect_provider()
        .url(&TestIssuer::of_run().url)
        .client_id_list(AUDIENCE)
        // IAM no longer checks thumbprints for well-known issuers; one is still required.
        .thumbprint_list("9e99a48a9960b14926bb7f3b02e22da2b0ab7280")
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateOpenIDConnectProvider: {}", e.into_service_error()));
}

fn role_arn_access(world: &mut World, access: &str, scope: Scope, value: &str) {
    let identity = format!("role_name: eso-{access}");
    let issuer = &TestIssuer::of_run().url;
    world.set_aws_access(access, "role-arn", &identity, Some(issuer), scope, value);
}

#[given(expr = "a role-arn access {string} scoped to the prefix {string}")]
async fn access_with_prefix(world: &mut World, access: String, prefix: String) {
    role_arn_access(world, &access, Scope::Prefix, &prefix);
}

#[given(expr = "a role-arn access {string} scoped to the secret name {string}")]
async fn access_with_name(world: &mut World, access: String, name: String) {
    role_arn_access(world, &access, Scope::Name, &name);
}

#[when("the account root deploys the generated CloudFormation stack")]
async fn deploy_stack(world: &mut World) {
    let cfn = aws_sdk_cloudformation::Client::new(&root_config(world).await);
    let template = world.generated(ArtifactKind::CloudFormation).to_string();
    let stack = "sma-access";
    cfn.create_stack()
        .stack_name(stack)
        .template_body(template)
        .capabilities(aws_sdk_cloudformation::types::Capability::CapabilityNamedIam)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateStack: {}", e.into_service_error()));
    // Poll through the gateway, as a deployment tool does: the gateway sees that the
    // stack's IAM resources have landed.
    for _ in 0..600 {
        let described = cfn
            .describe_stacks()
            .stack_name(stack)
            .send()
            .await
            .unwrap_or_else(|e| panic!("DescribeStacks: {}", e.into_service_error()));
        let found = &described.stacks()[0];
        let status = found.stack_status().map(|s| s.as_str()).unwrap_or("");
        if status.ends_with("_IN_PROGRESS") {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            continue;
        }
        assert_eq!(
            status,
            "CREATE_COMPLETE",
            "the generated stack failed: {}",
            found.stack_status_reason().unwrap_or("no reason given")
        );
        let role = found
            .outputs()
            .iter()
            .find(|o| o.output_key() == Some("RoleARN"))
            .and_then(|o| o.output_value())
            .expect("the stack's RoleARN output");
        world.role_arn = Some(role.to_string());
        return;
    }
    panic!("the generated stack was still in progress after 60 s");
}

async fn assume_as(
    world: &World,
    namespace: &str,
    service_account: &str,
) -> Result<
    Keys,
    aws_sdk_sts::error::SdkError<
        aws_sdk_sts::operation::assume_role_with_web_identity::AssumeRoleWithWebIdentityError,
    >,
> {
    let token = TestIssuer::of_run().service_account_token(namespace, service_account, AUDIENCE);
    let role = world.role_arn.as_deref().expect("a deployed stack");
    let out = sts_client(world)
        .assume_role_with_web_identity()
        .role_arn(role)
        .role_session_name(ESO_SESSION_NAME)
        .web_identity_token(token)
        .send()
        .await?;
    let c = out.credentials().expect("credentials in the answer");
    Ok(Keys {
        access_key_id: c.access_key_id().to_string(),
        secret_access_key: c.secret_access_key().to_string(),
        session_token: Some(c.session_token().to_string()),
    })
}

#[then("ESO's service account assumes the stack's role by web identity")]
async fn eso_assumes(world: &mut World) {
    let keys = assume_as(world, ESO_NAMESPACE, ESO_SERVICE_ACCOUNT)
        .await
        .unwrap_or_else(|e| panic!("AssumeRoleWithWebIdentity: {}", e.into_service_error()));
    world.access_keys = Some(keys);
}

#[then(expr = "the service account {string} cannot assume the stack's role")]
async fn other_service_account_refused(world: &mut World, who: String) {
    let (namespace, name) = who
        .split_once('/')
        .expect("a service account as namespace/name");
    match assume_as(world, namespace, name).await {
        Ok(_) => panic!("{who} assumed the role; its trust policy names only ESO's"),
        Err(e) => {
            let error = e.into_service_error();
            assert_eq!(error.code(), Some("AccessDenied"), "{who}: {error}");
        }
    }
}
