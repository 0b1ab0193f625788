//! Steps of `features/smoke.feature`: LocalStack answers as Secrets Manager.

use crate::World;
use crate::{fresh_account_id, random_secret_value, secrets_manager, Keys, DEFAULT_REGION};
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use cucumber::{given, then, when};

impl World {
    async fn root_client(&self) -> aws_sdk_secretsmanager::Client {
        secrets_manager(&self.endpoint, &self.region, &Keys::root_of(&self.account)).await
    }
}

#[given("a fresh AWS account on LocalStack")]
async fn fresh_account(world: &mut World) {
    world.endpoint = std::env::var("SMA_SCENARIO_ENDPOINT").expect("set by main");
    world.account = fresh_account_id();
    world.region = DEFAULT_REGION.to_string();
}

#[when(expr = "the account root creates the secret {string} with a random value")]
async fn create_secret(world: &mut World, name: String) {
    let value = random_secret_value();
    world
        .root_client()
        .await
        .create_secret()
        .name(&name)
        .secret_string(&value)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateSecret {name}: {}", e.into_service_error()));
    world.written_value = Some(value);
}

#[then(expr = "reading {string} returns that value")]
async fn read_back(world: &mut World, name: String) {
    let output = world
        .root_client()
        .await
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetSecretValue {name}: {}", e.into_service_error()));
    // Compare without printing either value.
    assert!(
        output.secret_string() == world.written_value.as_deref(),
        "GetSecretValue {name} returned a different value than was written"
    );
    let arn = output.arn().unwrap_or_default();
    let expected_prefix = format!(
        "arn:aws:secretsmanager:{}:{}:secret:{name}-",
        world.region, world.account
    );
    assert!(
        arn.starts_with(&expected_prefix) && arn.len() == expected_prefix.len() + 6,
        "ARN {arn} is not {expected_prefix}XXXXXX"
    );
}

#[then(expr = "ListSecrets shows {string}")]
async fn listed(world: &mut World, name: String) {
    let mut names = Vec::new();
    let mut pages = world
        .root_client()
        .await
        .list_secrets()
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.unwrap_or_else(|e| panic!("ListSecrets: {}", e.into_service_error()));
        names.extend(
            page.secret_list()
                .iter()
                .filter_map(|s| s.name().map(str::to_string)),
        );
    }
    assert!(
        names.contains(&name),
        "ListSecrets returned {names:?}, not {name}"
    );
}

#[when(expr = "the account root reads the secret {string}")]
async fn read_missing(world: &mut World, name: String) {
    match world
        .root_client()
        .await
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
    {
        Ok(_) => world.last_error_code = None,
        Err(e) => world.last_error_code = e.into_service_error().code().map(str::to_string),
    }
}

#[then(expr = "the call fails with {word}")]
async fn fails_with(world: &mut World, code: String) {
    assert_eq!(world.last_error_code.as_deref(), Some(code.as_str()));
}
