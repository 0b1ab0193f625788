//! Steps of `features/static_credentials.feature`: the policy `sma generate` writes for
//! a static-credentials access, attached to an IAM user and enforced by the gateway.

use super::common::{Cluster, Scope};
use crate::World;
use cucumber::{given, when};
use templates::render::ArtifactKind;

fn static_access(world: &mut World, access: &str, scope: Scope, value: &str) {
    let user = format!("eso-{access}");
    let identity = format!("user_name: {user}");
    world.set_access(
        Cluster::Eks { oidc_issuer: None },
        access,
        "static-credentials",
        &identity,
        Some((scope, value)),
    );
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
    let iam = aws_sdk_iam::Client::new(&world.root_config().await);
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
    world.give_access_a_key_of(&user).await;
}
