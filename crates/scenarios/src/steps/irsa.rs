//! Steps of the IRSA setups (`features/role_arn.feature`, `features/automatic.feature`):
//! the role stack `sma generate` writes, deployed in the scenario's account, and ESO
//! assuming its role by web identity as the generated manifests say (`eso`): the
//! service account its store names, the role and audience of that account's
//! annotations.

use super::common::{Cluster, Scope};
use crate::oidc::TestIssuer;
use crate::{Keys, World};
use aws_sdk_sts::error::ProvideErrorMetadata;
use cucumber::{given, then};

fn sts_client(world: &World) -> aws_sdk_sts::Client {
    // AssumeRoleWithWebIdentity is unsigned: the token is the credential.
    test_support::sdk::sts(
        &world.gateway_endpoint,
        &world.region,
        None,
        test_support::sdk::Retries::Sdk,
    )
}

#[given("the cluster's OIDC issuer is an IAM OIDC provider of the account")]
async fn oidc_provider(world: &mut World) {
    let iam = aws_sdk_iam::Client::new(&world.root_config().await);
    iam.create_open_id_connect_provider()
        .url(&TestIssuer::of_run().url)
        .client_id_list(eso::provider::DEFAULT_AUDIENCE)
        // IAM no longer checks thumbprints for well-known issuers; one is still required.
        .thumbprint_list("9e99a48a9960b14926bb7f3b02e22da2b0ab7280")
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateOpenIDConnectProvider: {}", e.into_service_error()));
}

fn irsa_access(world: &mut World, access: &str, setup: &str, scope: Option<(Scope, &str)>) {
    let identity = format!("role_name: eso-{access}");
    let oidc_issuer = Some(TestIssuer::of_run().url.as_str());
    world.set_access(
        Cluster::Eks { oidc_issuer },
        access,
        setup,
        &identity,
        scope,
    );
}

#[given(expr = "a role-arn access {string} scoped to the prefix {string}")]
async fn access_with_prefix(world: &mut World, access: String, prefix: String) {
    irsa_access(world, &access, "role-arn", Some((Scope::Prefix, &prefix)));
}

#[given(expr = "a role-arn access {string} scoped to the secret name {string}")]
async fn access_with_name(world: &mut World, access: String, name: String) {
    irsa_access(world, &access, "role-arn", Some((Scope::Name, &name)));
}

#[given(expr = "an automatic access {string}")]
async fn automatic_access(world: &mut World, access: String) {
    irsa_access(world, &access, "automatic", None);
}

/// Another service account's token, with the audience ESO's service account requests,
/// presented for the stack's role as ESO would present its own.
async fn assume_as(
    world: &World,
    namespace: &str,
    service_account: &str,
) -> Result<
    (),
    aws_sdk_sts::error::SdkError<
        aws_sdk_sts::operation::assume_role_with_web_identity::AssumeRoleWithWebIdentityError,
    >,
> {
    let manifests = world.generated_eso_manifests();
    let audience = manifests
        .service_accounts
        .first()
        .and_then(|sa| sa.audience.clone())
        .unwrap_or_else(|| eso::provider::DEFAULT_AUDIENCE.to_string());
    assume_with_token_of(
        world,
        TestIssuer::of_run(),
        namespace,
        service_account,
        &audience,
    )
    .await
    .map(|_| ())
}

/// The stack's role assumed as ESO does, with a token of `issuer` for the service
/// account `namespace/service_account` and `audience`.
pub(super) async fn assume_with_token_of(
    world: &World,
    issuer: &TestIssuer,
    namespace: &str,
    service_account: &str,
    audience: &str,
) -> Result<
    Keys,
    aws_sdk_sts::error::SdkError<
        aws_sdk_sts::operation::assume_role_with_web_identity::AssumeRoleWithWebIdentityError,
    >,
> {
    let token = issuer.service_account_token(namespace, service_account, audience);
    let out = sts_client(world)
        .assume_role_with_web_identity()
        .role_arn(world.stack_output("RoleARN"))
        .role_session_name(eso::provider::SESSION_NAME)
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
    world.connect_eso(&[]).await;
    let role = world.stack_output("RoleARN").to_string();
    let provider = world.eso.as_ref().expect("connected above");
    assert!(
        provider.credentials.source.contains(&role),
        "ESO assumed {} instead of the stack's role {role}",
        provider.credentials.source
    );
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
