//! Steps shared by the setup features: a fresh account behind the IAM-enforcing gateway,
//! its secrets, generating an access's templates with sma, and what ESO can read with
//! the access's credentials (an IAM user's keys or a role session).

use super::Hidden;
use crate::World;
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use cucumber::gherkin::Step;
use cucumber::{given, then, when};
use scenarios::{fresh_account_id, random_secret_value, secrets_manager, Keys, DEFAULT_REGION};
use tokio::sync::OnceCell;

/// One gateway for the whole run, in front of the run's LocalStack, trusting the run's
/// test OIDC issuer.
async fn gateway_endpoint(localstack: &str) -> String {
    static GATEWAY: OnceCell<gateway::RunningGateway> = OnceCell::const_new();
    GATEWAY
        .get_or_init(|| async {
            let listen = "127.0.0.1:0".parse().expect("loopback address");
            let issuer = super::oidc::TestIssuer::of_run();
            let config = gateway::Config::new(localstack, listen)
                .with_oidc_issuer(&issuer.url, issuer.jwks());
            gateway::Gateway::start(config)
                .await
                .expect("start the IAM-enforcing gateway")
        })
        .await
        .endpoint()
}

impl World {
    async fn gateway_client(&self, keys: &Keys) -> aws_sdk_secretsmanager::Client {
        secrets_manager(&self.gateway_endpoint, &self.region, keys).await
    }

    fn access_keys(&self) -> &Keys {
        self.access_keys
            .as_ref()
            .expect("a previous step gives the access its credentials")
    }

    /// The generated file of `kind` (there is one of each per access).
    pub fn generated(&self, kind: templates::render::ArtifactKind) -> &str {
        &self
            .generated_files
            .iter()
            .find(|f| f.kind == kind)
            .unwrap_or_else(|| panic!("sma generated no {kind:?} file"))
            .contents
    }
}

#[given("a fresh AWS account behind the IAM-enforcing gateway")]
async fn account_behind_gateway(world: &mut World) {
    world.endpoint = std::env::var("SMA_SCENARIO_ENDPOINT").expect("set by main");
    world.account = fresh_account_id();
    world.region = DEFAULT_REGION.to_string();
    world.gateway_endpoint = gateway_endpoint(&world.endpoint).await;
}

#[given("these secrets exist in the account:")]
async fn secrets_exist(world: &mut World, step: &Step) {
    let table = step.table.as_ref().expect("a table of secret names");
    let root = world.gateway_client(&Keys::root_of(&world.account)).await;
    for row in table.rows.iter().skip(1) {
        let name = row[0].trim().to_string();
        let value = random_secret_value();
        root.create_secret()
            .name(&name)
            .secret_string(&value)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateSecret {name}: {}", e.into_service_error()));
        world.secrets.push((name, Hidden(value)));
    }
}

/// How an access limits its secrets, as the scenario names it.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    /// `scoped to the prefix "…"`.
    Prefix,
    /// `scoped to the secret name "…"`.
    Name,
}

impl World {
    /// Sets the scenario's access: one access of an AWS cluster in the scenario's account
    /// and region, as a `sma generate` configuration. `identity` is the access's
    /// setup-specific line (`user_name: …`, `role_name: …`); `oidc_issuer` the cluster's.
    pub fn set_aws_access(
        &mut self,
        access: &str,
        setup: &str,
        identity: &str,
        oidc_issuer: Option<&str>,
        scope: Scope,
        value: &str,
    ) {
        let issuer = oidc_issuer
            .map(|i| format!("  oidc_issuer: {i}\n"))
            .unwrap_or_default();
        let scope = match scope {
            Scope::Prefix => format!("prefixes: [\"{value}\"]"),
            Scope::Name => format!("names: [\"{value}\"]"),
        };
        self.access_config = Some(format!(
            "cluster:\n  name: scenario\n  cloud: aws\n  account_id: \"{account}\"\n  region: {region}\n{issuer}\
             accesses:\n  - name: {access}\n    setup: {setup}\n    region: {region}\n\
             \x20   {identity}\n    secrets:\n      {scope}\n",
            account = self.account,
            region = self.region,
        ));
    }
}

#[when("sma generates its templates")]
async fn generate(world: &mut World) {
    let config = world.access_config.as_deref().expect("an access");
    let plan = model::parse(config).unwrap_or_else(|e| panic!("the access is invalid: {e}"));
    let templates = templates::render::Templates::embedded().expect("embedded templates");
    world.generated_files =
        templates::render::render_plan(&plan, &templates).expect("render the plan");
}

#[then(expr = "with the access's credentials, ESO reads {string}")]
async fn reads(world: &mut World, name: String) {
    let client = world.gateway_client(world.access_keys()).await;
    let output = client
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "GetSecretValue {name} was refused: {}",
                e.into_service_error()
            )
        });
    let written = world
        .secrets
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.0.as_str());
    assert!(
        output.secret_string() == written,
        "GetSecretValue {name} returned another value than the one written"
    );
}

#[then(expr = "with the access's credentials, reading {string} is denied with {word}")]
async fn denied(world: &mut World, name: String, code: String) {
    let client = world.gateway_client(world.access_keys()).await;
    match client.get_secret_value().secret_id(&name).send().await {
        Ok(_) => panic!("GetSecretValue {name} was allowed; the access must not read it"),
        Err(e) => {
            let error = e.into_service_error();
            assert_eq!(
                error.code(),
                Some(code.as_str()),
                "GetSecretValue {name}: {error}"
            );
        }
    }
}

#[then("with the access's credentials, ListSecrets shows every secret of the account")]
async fn lists_everything(world: &mut World) {
    let client = world.gateway_client(world.access_keys()).await;
    let mut listed = Vec::new();
    let mut pages = client.list_secrets().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.unwrap_or_else(|e| panic!("ListSecrets: {}", e.into_service_error()));
        listed.extend(
            page.secret_list()
                .iter()
                .filter_map(|s| s.name().map(str::to_string)),
        );
    }
    listed.sort();
    let mut expected: Vec<String> = world.secrets.iter().map(|(n, _)| n.clone()).collect();
    expected.sort();
    assert_eq!(
        listed, expected,
        "ListSecrets cannot be scoped: the access sees every name"
    );
}
