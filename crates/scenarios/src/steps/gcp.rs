//! Steps of `features/gcp_cross_cloud.feature`: a GKE cluster's static-credentials
//! access, whose user stack `sma generate` writes, deployed in the AWS account; the
//! access key is made for the stack's user afterwards, as the generated README says.

use super::common::{Cluster, Scope};
use crate::World;
use cucumber::{given, when};

/// A GKE cluster's static-credentials access; `identity` holds its IAM user line and
/// any further access lines.
fn gke_access(world: &mut World, access: &str, prefix: &str, identity: &str) {
    world.set_access(
        Cluster::Gke,
        access,
        "static-credentials",
        identity,
        Some((Scope::Prefix, prefix)),
    );
}

#[given(expr = "a GKE cluster's static-credentials access {string} scoped to the prefix {string}")]
async fn gke_access_scoped(world: &mut World, access: String, prefix: String) {
    gke_access(world, &access, &prefix, &format!("user_name: eso-{access}"));
}

#[given(
    expr = "a GKE cluster's static-credentials access {string} scoped to the prefix {string} that may decrypt with the key {string}"
)]
async fn gke_access_with_key(world: &mut World, access: String, prefix: String, key: String) {
    let identity = format!(
        "user_name: eso-{access}\n    kms_key_arns: [\"{}\"]",
        world.kms_key(&key)
    );
    gke_access(world, &access, &prefix, &identity);
}

#[when("the account root creates an access key for the stack's user")]
async fn access_key_for_stack_user(world: &mut World) {
    let user = world.stack_output("UserName").to_string();
    world.give_access_a_key_of(&user).await;
}
