//! ESO's `dataFrom.find` (`eso-aws.md`, "Secrets Manager calls per feature"): by name
//! regexp it pages through ListSecrets, matches names with a (Go RE2) regexp and reads
//! each match with GetSecretValue, failing the sync if one read fails; with `path` or
//! `tags` it calls BatchGetSecretValue with filters, which the vendor's five actions do
//! not grant.

use crate::World;
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType};
use cucumber::gherkin::Step;
use cucumber::then;

#[then(expr = "with the access's credentials, ESO's find by name {string} reads exactly:")]
async fn find_by_name(world: &mut World, pattern: String, step: &Step) {
    // RE2 and the regex crate agree on the patterns features use (no backreferences).
    let regexp = regex::Regex::new(&pattern).expect("a valid name regexp");
    let matched: Vec<String> = world
        .list_as_access()
        .await
        .into_iter()
        .filter(|n| regexp.is_match(n))
        .collect();
    for name in &matched {
        world.read_as_access(name).await;
    }
    let table = step.table.as_ref().expect("a table of secret names");
    let mut expected: Vec<String> = table
        .rows
        .iter()
        .skip(1)
        .map(|r| r[0].trim().to_string())
        .collect();
    expected.sort();
    assert_eq!(
        matched, expected,
        "secrets ESO's find by name {pattern} syncs"
    );
}

#[then(expr = "with the access's credentials, ESO's find by path {string} is denied with {word}")]
async fn find_by_path_denied(world: &mut World, path: String, code: String) {
    let client = crate::secrets_manager(
        &world.gateway_endpoint,
        &world.region,
        world
            .access_keys
            .as_ref()
            .expect("the access's credentials"),
    )
    .await;
    let filter = Filter::builder()
        .key(FilterNameStringType::Name)
        .values(&path)
        .build();
    match client.batch_get_secret_value().filters(filter).send().await {
        Ok(_) => panic!("BatchGetSecretValue was allowed; the generated policy does not grant it"),
        Err(e) => {
            let error = e.into_service_error();
            assert_eq!(
                error.code(),
                Some(code.as_str()),
                "BatchGetSecretValue: {error}"
            );
        }
    }
}
