//! Steps shared by the setup features: a fresh account behind the IAM-enforcing gateway,
//! its secrets, generating an access's templates with sma, and what ESO can read with
//! the access's credentials (an IAM user's keys or a role session).

use super::eso_cluster::{connect_first, kube_secrets_for_key, manifests_of};
use super::Hidden;
use crate::World;
use crate::{fresh_account_id, random_secret_value, secrets_manager, Keys, DEFAULT_REGION};
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use cucumber::gherkin::Step;
use cucumber::{given, then, when};
use tokio::sync::OnceCell;

static GATEWAY: OnceCell<gateway::RunningGateway> = OnceCell::const_new();
static DECISION_LOG: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

/// Sets where the run's gateway appends its decisions (before it starts).
pub fn set_decision_log(path: std::path::PathBuf) {
    let _ = DECISION_LOG.set(path);
}

/// The run's decision log (JSON Lines): the path given to the runner, else next to the
/// workspace's reports.
pub fn decision_log_path() -> std::path::PathBuf {
    DECISION_LOG.get().cloned().unwrap_or_else(|| {
        localstack::paths::target_dir()
            .join("reports")
            .join("gateway-decisions.jsonl")
    })
}

/// The run's one gateway, started on first use.
pub async fn gateway(localstack: &str) -> &'static gateway::RunningGateway {
    gateway_endpoint(localstack).await;
    GATEWAY.get().expect("started above")
}

/// One gateway for the whole run, in front of the run's LocalStack, trusting the run's
/// test OIDC issuer (and those registered later), logging its decisions.
pub async fn gateway_endpoint(localstack: &str) -> String {
    GATEWAY
        .get_or_init(|| async {
            let listen = "127.0.0.1:0".parse().expect("loopback address");
            let issuer = crate::oidc::TestIssuer::of_run();
            let config = gateway::Config::new(localstack, listen)
                .with_oidc_issuer(&issuer.url, issuer.jwks())
                .with_decision_log(decision_log_path());
            gateway::Gateway::start(config)
                .await
                .expect("start the IAM-enforcing gateway")
        })
        .await
        .endpoint()
}

/// The decisions the run's gateway made for the access principals of `account`.
pub fn decisions_for(account: &str) -> Vec<report::Decision> {
    let Some(gw) = GATEWAY.get() else {
        return vec![];
    };
    gw.handle()
        .decisions()
        .into_iter()
        .map(report_decision)
        .filter(|d| d.is_for_access_of(account))
        .collect()
}

/// The report's view of a gateway decision. Every field is named on both sides, so a
/// field renamed or removed in either struct fails to compile instead of losing
/// decisions silently.
pub fn report_decision(record: gateway::DecisionRecord) -> report::Decision {
    let gateway::DecisionRecord {
        time,
        request_id: _,
        principal,
        action,
        resource,
        decision,
        error_code,
        reason,
        deciding_statements,
        status: _,
        latency_us: _,
    } = record;
    report::Decision {
        time,
        principal,
        action,
        resource,
        decision,
        error_code,
        deciding_statements,
        reason,
    }
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

#[given(expr = "the secret {string} exists in another account")]
async fn secret_elsewhere(world: &mut World, name: String) {
    let other = fresh_account_id();
    let root = world.gateway_client(&Keys::root_of(&other)).await;
    let created = root
        .create_secret()
        .name(&name)
        .secret_string(random_secret_value())
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateSecret {name}: {}", e.into_service_error()));
    world.foreign_secret_arn = created.arn().map(str::to_string);
}

#[then(
    expr = "with the access's credentials, reading the other account's secret is denied with {word}"
)]
async fn foreign_denied(world: &mut World, code: String) {
    let arn = world
        .foreign_secret_arn
        .clone()
        .expect("a secret in another account");
    denied(world, arn, code).await;
}

#[given("these customer-managed KMS keys exist in the account:")]
async fn kms_keys_exist(world: &mut World, step: &Step) {
    let table = step.table.as_ref().expect("a table of key names");
    let names: Vec<String> = table
        .rows
        .iter()
        .skip(1)
        .map(|r| r[0].trim().to_string())
        .collect();
    // The default key policy: the account may use IAM policies to grant the key.
    let key_policy = serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{}:root", world.account)},
        "Action": "kms:*", "Resource": "*"}]});
    let logical = |name: &str| -> String {
        let id: String = name.chars().filter(char::is_ascii_alphanumeric).collect();
        format!("Key{id}")
    };
    let mut resources = serde_json::Map::new();
    let mut outputs = serde_json::Map::new();
    for name in &names {
        resources.insert(
            logical(name),
            serde_json::json!({"Type": "AWS::KMS::Key", "Properties": {
                "Description": format!("sma scenario key {name}"), "KeyPolicy": key_policy}}),
        );
        outputs.insert(
            logical(name),
            serde_json::json!({"Value": {"Fn::GetAtt": [logical(name), "Arn"]}}),
        );
    }
    let template = serde_json::json!({"Resources": resources, "Outputs": outputs}).to_string();
    let created = world.deploy("sma-kms-keys", &template).await;
    for name in names {
        let arn = created
            .iter()
            .find(|(k, _)| *k == logical(&name))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no ARN for key {name}"));
        world.kms_keys.push((name, arn));
    }
}

/// Rows: a secret name, and optionally (column `key`) the customer-managed key that
/// encrypts it (none: the AWS managed key).
#[given("these secrets exist in the account:")]
async fn secrets_exist(world: &mut World, step: &Step) {
    let table = step.table.as_ref().expect("a table of secret names");
    let root = world.gateway_client(&Keys::root_of(&world.account)).await;
    let key_column = table.rows[0].iter().position(|h| h.trim() == "key");
    for row in table.rows.iter().skip(1) {
        let name = row[0].trim().to_string();
        let key = key_column
            .map(|i| row[i].trim())
            .filter(|k| !k.is_empty())
            .map(|k| world.kms_key(k).to_string());
        let value = random_secret_value();
        root.create_secret()
            .name(&name)
            .secret_string(&value)
            .set_kms_key_id(key)
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

/// The name of the scenario's cluster.
pub const SCENARIO_CLUSTER: &str = "scenario";
/// The GCP project of the scenario's GKE cluster.
pub const GKE_PROJECT: &str = "sma-scenarios";
/// The location of the scenario's GKE cluster (a regional cluster).
pub const GKE_LOCATION: &str = "europe-west1";

/// Where the scenario's cluster runs.
#[derive(Debug, Clone, Copy)]
pub enum Cluster<'a> {
    /// An EKS cluster in the scenario's account and region, with this OIDC issuer.
    Eks {
        /// The issuer the access's role trusts, if it has one.
        oidc_issuer: Option<&'a str>,
    },
    /// A GKE cluster: its accesses name the AWS account and region themselves.
    Gke,
}

impl World {
    /// Sets the scenario's access, as a `sma generate` configuration: one access of
    /// `setup` in the scenario's account and region. `identity` is the access's
    /// setup-specific line (`user_name: …`, `role_name: …`); no scope means every
    /// secret of the account and region.
    pub fn set_access(
        &mut self,
        cluster: Cluster,
        access: &str,
        setup: &str,
        identity: &str,
        scope: Option<(Scope, &str)>,
    ) {
        let (account, region) = (&self.account, &self.region);
        let (cluster, access_account) = match cluster {
            Cluster::Eks { oidc_issuer } => (
                format!(
                    "  cloud: aws\n  account_id: \"{account}\"\n  region: {region}\n{}",
                    oidc_issuer
                        .map(|i| format!("  oidc_issuer: {i}\n"))
                        .unwrap_or_default()
                ),
                String::new(),
            ),
            Cluster::Gke => (
                format!("  cloud: gcp\n  project_id: {GKE_PROJECT}\n  region: europe-west1\n  location: {GKE_LOCATION}\n"),
                format!("    account_id: \"{account}\"\n"),
            ),
        };
        let scope = match scope {
            None => String::new(),
            Some((Scope::Prefix, v)) => format!("    secrets:\n      prefixes: [\"{v}\"]\n"),
            Some((Scope::Name, v)) => format!("    secrets:\n      names: [\"{v}\"]\n"),
        };
        self.access_config = Some(format!(
            "cluster:\n  name: {SCENARIO_CLUSTER}\n{cluster}accesses:\n  - name: {access}\n    setup: {setup}\n\
             {access_account}    region: {region}\n    {identity}\n{scope}"
        ));
    }

    /// An output of the deployed stack.
    pub fn stack_output(&self, key: &str) -> &str {
        self.stack_outputs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("the deployed stack has no output {key}"))
    }

    /// The account root creates an access key for `user` and the access uses it. The
    /// call goes through the gateway, which learns the new key from the answer.
    pub async fn give_access_a_key_of(&mut self, user: &str) {
        let iam = aws_sdk_iam::Client::new(&self.root_config().await);
        let created = iam
            .create_access_key()
            .user_name(user)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateAccessKey {user}: {}", e.into_service_error()));
        let key = created.access_key().expect("an access key");
        let key = Keys {
            access_key_id: key.access_key_id().to_string(),
            secret_access_key: key.secret_access_key().to_string(),
            session_token: None,
        };
        // As the generated README says: the key goes into the generated Secret, and ESO
        // reads it from there through its store's secretRef.
        let kube_secrets = kube_secrets_for_key(&self.generated_eso_manifests(), &key);
        self.connect_eso(&kube_secrets).await;
    }

    /// The ESO manifests `sma generate` wrote for the access.
    pub fn generated_eso_manifests(&self) -> eso::Manifests {
        manifests_of(
            self.generated_files
                .iter()
                .filter(|f| f.kind == templates::render::ArtifactKind::KubernetesManifest)
                .map(|f| (f.path.display().to_string(), f.contents.as_str())),
        )
        .unwrap_or_else(|e| panic!("the generated ESO manifests do not parse: {e}"))
    }

    /// ESO authenticates as the generated manifests say (the store of the generated
    /// ExternalSecret: a token of the service account it names, or the Secret it points
    /// at); the access's credentials are then ESO's, in the store's region.
    pub async fn connect_eso(&mut self, kube_secrets: &[((String, String, String), Hidden)]) {
        let provider = connect_first(
            &self.gateway_endpoint,
            &self.generated_eso_manifests(),
            crate::oidc::TestIssuer::of_run(),
            kube_secrets,
        )
        .await
        .unwrap_or_else(|e| panic!("ESO cannot authenticate with the generated manifests: {e}"));
        assert_eq!(
            provider.store.region, self.region,
            "the generated store reads another region than the access's"
        );
        self.access_keys = Some(Keys::from(&provider.credentials));
        self.eso = Some(provider);
    }

    /// The account root deploys `template` as stack `stack` through the gateway and
    /// waits for it; the stack's outputs. Polling goes through the gateway too, as a
    /// deployment tool's does: that is how the gateway learns that the stack's IAM
    /// resources have landed.
    pub async fn deploy(&self, stack: &str, template: &str) -> Vec<(String, String)> {
        deploy_stack(&self.root_config().await, stack, template)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The ARN of the customer-managed key the scenario calls `name`.
    pub fn kms_key(&self, name: &str) -> &str {
        self.kms_keys
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, arn)| arn.as_str())
            .unwrap_or_else(|| panic!("no KMS key {name} was created"))
    }

    /// An SDK configuration with the account root's credentials, through the gateway.
    pub async fn root_config(&self) -> aws_config::SdkConfig {
        let root = Keys::root_of(&self.account);
        crate::sdk_config(&self.gateway_endpoint, &self.region, &root).await
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

#[when("the account root deploys the generated CloudFormation stack")]
async fn deploy_generated_stack(world: &mut World) {
    let template = world
        .generated(templates::render::ArtifactKind::CloudFormation)
        .to_string();
    world.stack_outputs = world.deploy("sma-access", &template).await;
}

impl World {
    /// Reads `name` with the access's credentials as ESO does and checks the value is
    /// the one written (without printing it).
    pub async fn read_as_access(&self, name: &str) {
        let client = self.gateway_client(self.access_keys()).await;
        let output = client
            .get_secret_value()
            .secret_id(name)
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "GetSecretValue {name} was refused: {}",
                    e.into_service_error()
                )
            });
        let written = self
            .secrets
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| value.0.as_str());
        assert!(
            output.secret_string() == written,
            "GetSecretValue {name} returned another value than the one written"
        );
    }

    /// Every secret name ListSecrets shows the access.
    pub async fn list_as_access(&self) -> Vec<String> {
        let client = self.gateway_client(self.access_keys()).await;
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
        listed
    }
}

#[then(expr = "with the access's credentials, ESO reads {string}")]
async fn reads(world: &mut World, name: String) {
    world.read_as_access(&name).await;
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
    let listed = world.list_as_access().await;
    let mut expected: Vec<String> = world.secrets.iter().map(|(n, _)| n.clone()).collect();
    expected.sort();
    assert_eq!(
        listed, expected,
        "ListSecrets cannot be scoped: the access sees every name"
    );
}

/// Deploys `template` as stack `stack` with `config`'s credentials (through the
/// gateway) and waits for it; the stack's outputs. Polling goes through the gateway
/// too, as a deployment tool's does: that is how the gateway learns that the stack's
/// IAM resources have landed.
pub async fn deploy_stack(
    config: &aws_config::SdkConfig,
    stack: &str,
    template: &str,
) -> Result<Vec<(String, String)>, String> {
    deploy_stack_with(config, stack, template, &[]).await
}

/// [`deploy_stack`] with values for some of the template's parameters.
pub async fn deploy_stack_with(
    config: &aws_config::SdkConfig,
    stack: &str,
    template: &str,
    parameters: &[(&str, &str)],
) -> Result<Vec<(String, String)>, String> {
    let cfn = aws_sdk_cloudformation::Client::new(config);
    let parameters = parameters.iter().map(|(key, value)| {
        aws_sdk_cloudformation::types::Parameter::builder()
            .parameter_key(*key)
            .parameter_value(*value)
            .build()
    });
    let parameters: Vec<_> = parameters.collect();
    let create = || {
        cfn.create_stack()
            .stack_name(stack)
            .template_body(template)
            .set_parameters(Some(parameters.clone()))
            .capabilities(aws_sdk_cloudformation::types::Capability::CapabilityNamedIam)
            .send()
    };
    if let Err(e) = create().await {
        let e = e.into_service_error();
        if e.code() != Some("AlreadyExistsException") {
            return Err(format!("CreateStack {stack}: {e}"));
        }
        // A stack of an earlier run on the same LocalStack (`SMA_LOCALSTACK_ENDPOINT`):
        // deleted, so that this run proves what it deploys itself. As on AWS, its users'
        // access keys (made after the stack, as the README says) go first, or the
        // users could not be deleted.
        remove_access_keys_of_stack_users(config, &cfn, stack).await?;
        cfn.delete_stack()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| format!("DeleteStack {stack}: {}", e.into_service_error()))?;
        if let Some(left) = settled_stack(&cfn, stack).await? {
            let status = left.stack_status().map(|s| s.as_str()).unwrap_or("");
            if status != "DELETE_COMPLETE" {
                return Err(format!(
                    "stack {stack} of an earlier run could not be deleted ({status})"
                ));
            }
        }
        create()
            .await
            .map_err(|e| format!("CreateStack {stack}: {}", e.into_service_error()))?;
    }
    let found = settled_stack(&cfn, stack)
        .await?
        .ok_or_else(|| format!("stack {stack} vanished"))?;
    let status = found.stack_status().map(|s| s.as_str()).unwrap_or("");
    if status != "CREATE_COMPLETE" {
        return Err(format!(
            "stack {stack} ended {status}: {}",
            found.stack_status_reason().unwrap_or("no reason given")
        ));
    }
    Ok(found
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string())))
        .collect())
}

/// Deletes every access key of the IAM users that `stack` created.
async fn remove_access_keys_of_stack_users(
    config: &aws_config::SdkConfig,
    cfn: &aws_sdk_cloudformation::Client,
    stack: &str,
) -> Result<(), String> {
    let resources = cfn
        .list_stack_resources()
        .stack_name(stack)
        .send()
        .await
        .map_err(|e| format!("ListStackResources {stack}: {}", e.into_service_error()))?;
    let iam = aws_sdk_iam::Client::new(config);
    let users = resources
        .stack_resource_summaries()
        .iter()
        .filter(|r| r.resource_type() == Some("AWS::IAM::User"))
        .filter_map(|r| r.physical_resource_id());
    for user in users {
        let Ok(keys) = iam.list_access_keys().user_name(user).send().await else {
            continue; // the user is already gone
        };
        for key in keys.access_key_metadata() {
            iam.delete_access_key()
                .user_name(user)
                .set_access_key_id(key.access_key_id().map(str::to_string))
                .send()
                .await
                .map_err(|e| format!("DeleteAccessKey of {user}: {}", e.into_service_error()))?;
        }
    }
    Ok(())
}

/// The stack once no operation is in progress on it (`None`: there is no such stack).
pub(crate) async fn settled_stack(
    cfn: &aws_sdk_cloudformation::Client,
    stack: &str,
) -> Result<Option<aws_sdk_cloudformation::types::Stack>, String> {
    // Polls start fast (LocalStack's stacks take a second or two) and back off: each
    // poll makes the gateway read IAM and secret state again.
    let mut pause = std::time::Duration::from_millis(100);
    let began = std::time::Instant::now();
    while began.elapsed() < std::time::Duration::from_secs(60) {
        let described = match cfn.describe_stacks().stack_name(stack).send().await {
            Ok(d) => d,
            Err(e) => {
                let e = e.into_service_error();
                // AWS answers a missing stack with ValidationError "does not exist".
                if e.message().is_some_and(|m| m.contains("does not exist")) {
                    return Ok(None);
                }
                return Err(format!("DescribeStacks {stack}: {e}"));
            }
        };
        let Some(found) = described.stacks().first() else {
            return Ok(None);
        };
        let status = found.stack_status().map(|s| s.as_str()).unwrap_or("");
        if !status.ends_with("_IN_PROGRESS") {
            return Ok(Some(found.clone()));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 3 / 2).min(std::time::Duration::from_millis(500));
    }
    Err(format!("stack {stack} was still in progress after 60 s"))
}

#[cfg(test)]
mod tests {
    use super::report_decision;

    /// The report reads decisions two ways: converted in memory, and parsed from the
    /// gateway's JSON lines. Both must give the same decision.
    #[test]
    fn a_decision_reaches_the_report_the_same_from_memory_and_from_the_log() {
        let record = gateway::DecisionRecord {
            time: "2026-12-03T12:00:00.000Z".into(),
            request_id: "r-1".into(),
            principal: "arn:aws:sts::111122223333:assumed-role/eso/external-secrets-provider-aws"
                .into(),
            action: "secretsmanager:GetSecretValue".into(),
            resource: "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf".into(),
            decision: "ImplicitDeny".into(),
            error_code: Some("AccessDeniedException".into()),
            reason: "no statement allows it".into(),
            deciding_statements: vec![
                "statement \"Read\" of the identity-based policy \"p\"".into()
            ],
            status: 400,
            latency_us: 120,
        };
        let line = serde_json::to_string(&record).expect("a record serializes");
        let parsed = report::Decision::from_json_line(&line).expect("the report reads the line");
        assert_eq!(parsed, report_decision(record));
        assert_eq!(parsed.error_code.as_deref(), Some("AccessDeniedException"));
    }
}
