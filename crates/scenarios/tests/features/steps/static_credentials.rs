//! Steps of `features/static_credentials.feature`: the policy `sma generate` writes for
//! a static-credentials access, attached to an IAM user and enforced by the gateway.

use super::Hidden;
use crate::World;
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use cucumber::gherkin::Step;
use cucumber::{given, then, when};
use scenarios::{fresh_account_id, random_secret_value, secrets_manager, Keys, DEFAULT_REGION};
use tokio::sync::OnceCell;

/// One gateway for the whole run, in front of the run's LocalStack.
async fn gateway_endpoint(localstack: &str) -> String {
    static GATEWAY: OnceCell<gateway::RunningGateway> = OnceCell::const_new();
    GATEWAY
        .get_or_init(|| async {
            let listen = "127.0.0.1:0".parse().expect("loopback address");
            gateway::Gateway::start(gateway::Config::new(localstack, listen))
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
            .expect("a previous step creates the access's keys")
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

fn static_access(world: &mut World, access: &str, scope: &str) {
    let user = format!("eso-{access}");
    world.access_config = Some(format!(
        "cluster:\n  name: scenario\n  cloud: aws\n  account_id: \"{account}\"\n  region: {region}\n\
         accesses:\n  - name: {access}\n    setup: static-credentials\n    region: {region}\n\
         \x20   user_name: {user}\n    secrets:\n      {scope}\n",
        account = world.account,
        region = world.region,
    ));
    world.user_name = Some(user);
}

#[given(expr = "a static-credentials access {string} scoped to the prefix {string}")]
async fn access_with_prefix(world: &mut World, access: String, prefix: String) {
    static_access(world, &access, &format!("prefixes: [\"{prefix}\"]"));
}

#[given(expr = "a static-credentials access {string} scoped to the secret name {string}")]
async fn access_with_name(world: &mut World, access: String, name: String) {
    static_access(world, &access, &format!("names: [\"{name}\"]"));
}

#[when("sma generates its templates")]
async fn generate(world: &mut World) {
    let config = world.access_config.as_deref().expect("an access");
    let plan = model::parse(config).unwrap_or_else(|e| panic!("the access is invalid: {e}"));
    let templates = templates::render::Templates::embedded().expect("embedded templates");
    let files = templates::render::render_plan(&plan, &templates).expect("render the plan");
    let policy = files
        .iter()
        .find(|f| f.kind == templates::render::ArtifactKind::IamPolicy)
        .expect("an IAM policy among the generated files");
    world.generated_policy = Some(policy.contents.clone());
}

#[when(
    "the account root creates the access's IAM user with the generated policy and an access key"
)]
async fn create_user(world: &mut World) {
    let root = Keys::root_of(&world.account);
    let config = scenarios::sdk_config(&world.gateway_endpoint, &world.region, &root).await;
    let iam = aws_sdk_iam::Client::new(&config);
    let user = world.user_name.clone().expect("an access");
    let policy = world.generated_policy.clone().expect("generated templates");
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

#[then(expr = "with the access's keys, ESO reads {string}")]
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

#[then(expr = "with the access's keys, reading {string} is denied with {word}")]
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

#[then("with the access's keys, ListSecrets shows every secret of the account")]
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
