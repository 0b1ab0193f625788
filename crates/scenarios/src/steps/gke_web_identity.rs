//! Steps of `features/gcp-web-identity.feature`: sma's `web-identity` setup from a GKE
//! cluster. Test issuers play GKE's issuers (a GKE-shaped issuer URL, tokens with
//! GKE's claims: `iss`, `sub`, `aud`, `exp`, `iat`, `nbf` and the `kubernetes.io`
//! claim), trusted by the run's gateway and registered as IAM OIDC providers; ESO
//! authenticates from the generated manifests alone.

use super::common::{Cluster, Scope, GKE_LOCATION, GKE_PROJECT, SCENARIO_CLUSTER};
use super::eso_cluster::connect_first;
use super::irsa::assume_with_token_of;
use crate::oidc::TestIssuer;
use crate::{Keys, World};
use aws_sdk_sts::error::ProvideErrorMetadata;
use cucumber::{given, then, when};
use std::sync::OnceLock;

/// An audience the account's OIDC providers also accept, so that only the role's
/// trust can refuse a token minted for it.
const OTHER_AUDIENCE: &str = "sma-scenarios-other-audience";

/// The issuer of GKE cluster `cluster` of the scenarios' project and location.
fn gke_issuer_url(cluster: &str) -> String {
    format!(
        "https://container.googleapis.com/v1/projects/{GKE_PROJECT}/locations/{GKE_LOCATION}/clusters/{cluster}"
    )
}

/// The scenario's GKE cluster's issuer (the one its configuration derives).
fn cluster_issuer() -> &'static TestIssuer {
    static ISSUER: OnceLock<TestIssuer> = OnceLock::new();
    ISSUER.get_or_init(|| TestIssuer::new(&gke_issuer_url(SCENARIO_CLUSTER)))
}

/// Another GKE cluster of the same project: another issuer, another key.
fn other_cluster_issuer() -> &'static TestIssuer {
    static ISSUER: OnceLock<TestIssuer> = OnceLock::new();
    ISSUER.get_or_init(|| TestIssuer::new(&gke_issuer_url("another-cluster")))
}

#[given(
    expr = "the GKE cluster's issuer and another GKE cluster's are IAM OIDC providers of the account"
)]
async fn gke_providers(world: &mut World) {
    let gateway = super::common::gateway(&world.endpoint).await;
    let iam = aws_sdk_iam::Client::new(&world.root_config().await);
    for issuer in [cluster_issuer(), other_cluster_issuer()] {
        // The gateway stands in for STS fetching the issuer's public keys.
        gateway
            .handle()
            .register_oidc_issuer(&issuer.url, issuer.jwks());
        iam.create_open_id_connect_provider()
            .url(&issuer.url)
            .client_id_list(model::plan::STS_AUDIENCE)
            .client_id_list(OTHER_AUDIENCE)
            .thumbprint_list("9e99a48a9960b14926bb7f3b02e22da2b0ab7280")
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "CreateOpenIDConnectProvider {}: {}",
                    issuer.url,
                    e.into_service_error()
                )
            });
    }
}

#[given(expr = "a GKE cluster's web-identity access {string} scoped to the prefix {string}")]
async fn web_identity_access(world: &mut World, access: String, prefix: String) {
    world.set_access(
        Cluster::Gke,
        &access,
        "web-identity",
        &format!("role_name: eso-{access}"),
        Some((Scope::Prefix, &prefix)),
    );
}

#[when(expr = "the account root deploys the generated CloudFormation stack with {word}={word}")]
async fn deploy_with_parameter(world: &mut World, key: String, value: String) {
    let template = world
        .generated(templates::render::ArtifactKind::CloudFormation)
        .to_string();
    world.stack_outputs = super::common::deploy_stack_with(
        &world.root_config().await,
        "sma-access",
        &template,
        &[(&key, &value)],
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
}

#[then("ESO authenticates with the generated manifests, as the GKE cluster's service account")]
async fn eso_authenticates(world: &mut World) {
    let provider = connect_first(
        &world.gateway_endpoint,
        &world.generated_eso_manifests(),
        cluster_issuer(),
        &[],
    )
    .await
    .unwrap_or_else(|e| panic!("ESO cannot authenticate with the generated manifests: {e}"));
    assert_eq!(
        provider.credentials.source,
        world.stack_output("RoleARN"),
        "ESO assumed another role than the stack's"
    );
    world.access_keys = Some(Keys::from(&provider.credentials));
    world.eso = Some(provider);
}

/// Asserts that the token cannot assume the stack's role.
async fn refused(world: &World, issuer: &TestIssuer, who: &str, audience: &str, what: &str) {
    let (namespace, name) = who
        .split_once('/')
        .expect("a service account as namespace/name");
    match assume_with_token_of(world, issuer, namespace, name, audience).await {
        Ok(_) => panic!("{what} assumed the role; its trust names only ESO's service account of the GKE cluster"),
        Err(e) => {
            let error = e.into_service_error();
            assert_eq!(error.code(), Some("AccessDenied"), "{what}: {error}");
        }
    }
}

#[then(expr = "a token of another GKE cluster for {string} cannot assume the stack's role")]
async fn other_cluster_refused(world: &mut World, who: String) {
    let what = format!("a token of another GKE cluster for {who}");
    refused(
        world,
        other_cluster_issuer(),
        &who,
        model::plan::STS_AUDIENCE,
        &what,
    )
    .await;
}

#[then(expr = "a token of the GKE cluster for {string} cannot assume the stack's role")]
async fn other_service_account_refused(world: &mut World, who: String) {
    let what = format!("a token of the GKE cluster for {who}");
    refused(
        world,
        cluster_issuer(),
        &who,
        model::plan::STS_AUDIENCE,
        &what,
    )
    .await;
}

#[then(
    expr = "a token of the GKE cluster for {string} with another audience cannot assume the stack's role"
)]
async fn other_audience_refused(world: &mut World, who: String) {
    let what = format!("a token of the GKE cluster for {who} with audience {OTHER_AUDIENCE}");
    refused(world, cluster_issuer(), &who, OTHER_AUDIENCE, &what).await;
}

#[then(expr = "a token of the GKE cluster for {string} assumes the stack's role")]
async fn eso_token_accepted(world: &mut World, who: String) {
    let (namespace, name) = who
        .split_once('/')
        .expect("a service account as namespace/name");
    assume_with_token_of(
        world,
        cluster_issuer(),
        namespace,
        name,
        model::plan::STS_AUDIENCE,
    )
    .await
    .unwrap_or_else(|e| {
        panic!(
            "AssumeRoleWithWebIdentity as {who}: {}",
            e.into_service_error()
        )
    });
}
