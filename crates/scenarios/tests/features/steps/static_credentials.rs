//! Steps of `features/static_credentials.feature`: the policy `sma generate` writes for
//! a static-credentials access, attached to an IAM user and enforced by the gateway.

use super::common::Scope;
use crate::World;
use cucumber::{given, when};
use scenarios::Keys;
use templates::render::ArtifactKind;

fn static_access(world: &mut World, access: &str, scope: Scope, value: &str) {
    let user = format!("eso-{access}");
    let identity = format!("user_name: {user}");
    world.set_aws_access(access, "static-credentials", &identity, None, scope, value);
    world.user_name = Some(user);
}

#[given(expr = "a static-credentials access {string} scoped to the prefix {string}")]
async fn access_with_prefix(world: &mut World, access: String, prefix: String) {
    static_access(world, &access, Scope::Prefix, &prefix);
}

#[given(expr = "a static-credentials access {string} scoped to the secret name {string}")]
async fn access_with_name(world: &mut World, access: String, name: String) {
    static_access(world, &access, Scope::Name, &name);
}

#[when(
    "the account root creates the access's IAM user with the generated policy and an access key"
)]
async fn create_user(world: &mut World) {
    let root = Keys::root_of(&world.account);
    let config = scenarios::sdk_config(&world.gateway_endpoint, &world.region, &root).await;
    let iam = aws_sdk_iam::Client::new(&config);
    let user = world.user_name.clone().expect("an access");
    let policy = world.generated(ArtifactKind::IamPolicy).to_string();
    iam.create_user()
        .user_name(&user)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateUser: {}", e.into_service_error()));
    iam.put_user_policy()
        .user_name(&user)
        .policy_name("sma-generated")
        .policy_document(policy)
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutUserPolicy: {}", e.into_service_error()));
    // Created through the gateway, so the gateway learns the new key from the answer.
    let created = iam
        .create_access_key()
        .user_name(&user)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateAccessKey: {}", e.into_service_error()));
    let key = created.access_key().expect("an access key");
    world.access_keys = Some(Keys {
        access_key_id: key.access_key_id().to_string(),
        secret_access_key: key.secret_access_key().to_string(),
        session_token: None,
    });
}
