//! Steps of the features `sma prove` writes (`prove::feature`): a platform team's
//! configuration and the templates generated from it, deployed on LocalStack behind
//! the run's gateway; ESO driven by the generated manifests; the access matrix of every
//! seeded secret; identity probes.
//!
//! What a feature's tables say is what is checked: the expected outcomes come from the
//! feature (written from the configuration's intent by `prove`), never from the
//! generated policies. Shared state (deployments, seeded secrets, keys, OIDC providers)
//! is created once per run, whichever scenario needs it first, so scenarios of
//! different accesses may run concurrently.
//!
//! The first access matrix of a run first deploys every access of the configuration
//! and seeds every secret of its intent (several at a time): the cluster as it runs,
//! all roles and users side by side. It is also what keeps the proof fast: every
//! CloudFormation poll and every CreateSecret makes the gateway read IAM and secret
//! state again, so matrices tried while stacks deploy would re-read LocalStack on
//! nearly every call.

use crate::oidc::TestIssuer;
use crate::steps::eso_cluster::{connect_first, kube_secrets_for_key, manifests_of, KubeSecrets};
use crate::steps::Hidden;
use crate::{Keys, World};
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use cucumber::gherkin::Step;
use cucumber::{given, then, when};
use futures::StreamExt as _;
use prove::feature::RowExpectation;
use prove::identity::{IssuerChoice, OTHER_AUDIENCE};
use prove::intent::{AccessIntent, IdentityIntent};
use prove::{SeededSecret, MATRIX_ACTIONS};
use report::proof::{AccessProof, Cell, FileDigest, MatrixRow, Observed, ProbeRow};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

static FEATURES_DIR: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Sets the directory relative to which features name their configuration.
pub fn set_features_dir(dir: PathBuf) {
    if let Ok(mut d) = FEATURES_DIR.lock() {
        *d = Some(dir);
    }
}

fn features_dir() -> PathBuf {
    FEATURES_DIR
        .lock()
        .ok()
        .and_then(|d| d.clone())
        .unwrap_or_else(|| PathBuf::from("."))
}

type Once<T> = Arc<OnceCell<Result<T, String>>>;

/// A configuration loaded for a run, with everything created for it once.
struct Loaded {
    intents: Vec<AccessIntent>,
    seeds: Vec<SeededSecret>,
    templates: PathBuf,
    /// The cluster's issuer (the config's URL, a key of this run).
    cluster_issuer: TestIssuer,
    /// Another cluster's issuer, also registered in the accounts.
    other_issuer: TestIssuer,
    deployments: Mutex<HashMap<String, Once<Deployment>>>,
    secrets: Mutex<HashMap<(String, String, String), Once<SeededArn>>>,
    keys: Mutex<HashMap<String, Once<()>>>,
    providers: Mutex<HashMap<String, Once<()>>>,
    /// Every access deployed and every secret seeded (see the module docs).
    prepared: Once<()>,
}

/// A seeded secret's ARN and the value written (never printed).
#[derive(Debug, Clone)]
struct SeededArn {
    arn: String,
    value: Hidden,
}

/// What deploying an access created.
#[derive(Debug, Clone)]
struct Deployment {
    /// Kubernetes Secrets filled from the generated skeletons.
    kube_secrets: KubeSecrets,
    /// The IAM user of a static access.
    user_name: Option<String>,
}

/// A configuration file and its templates directory: what a feature's Background names.
type Sources = (PathBuf, PathBuf);

static LOADED: Mutex<Vec<(Sources, Arc<Loaded>)>> = Mutex::new(Vec::new());

fn once<K: std::hash::Hash + Eq, T>(map: &Mutex<HashMap<K, Once<T>>>, key: K) -> Once<T> {
    map.lock()
        .map(|mut m| m.entry(key).or_default().clone())
        .unwrap_or_default()
}

/// The issuer of another cluster of the same kind as `cluster_issuer`, the realistic
/// neighbour a trust policy must refuse: another EKS cluster of the same region, or
/// another GKE cluster of the same project and location; a random EKS issuer for any
/// other issuer.
fn another_cluster_issuer(cluster_issuer: &str) -> String {
    let random_eks = TestIssuer::random_eks_url();
    let random_id = random_eks
        .rsplit('/')
        .next()
        .unwrap_or("0")
        .to_ascii_lowercase();
    if let Some((base, _)) = cluster_issuer
        .strip_prefix("https://oidc.eks.")
        .and_then(|_| cluster_issuer.rsplit_once("/id/"))
    {
        return format!("{base}/id/{}", random_id.to_ascii_uppercase());
    }
    if let Some((base, _)) = cluster_issuer
        .strip_prefix("https://container.googleapis.com/")
        .and_then(|_| cluster_issuer.rsplit_once("/clusters/"))
    {
        return format!(
            "{base}/clusters/other-{}",
            &random_id[..8.min(random_id.len())]
        );
    }
    random_eks
}

fn load(config: &Path, templates: &Path) -> Result<Arc<Loaded>, String> {
    let mut all = LOADED.lock().map_err(|_| "poisoned".to_string())?;
    let key = (config.to_path_buf(), templates.to_path_buf());
    if let Some((_, l)) = all.iter().find(|(k, _)| *k == key) {
        return Ok(l.clone());
    }
    let plan = model::load(config).map_err(|e| format!("{}: {e}", config.display()))?;
    let intents = prove::intent::of_plan(&plan);
    let issuer_url = intents
        .iter()
        .find_map(|i| match &i.identity {
            IdentityIntent::Role { issuer, .. } => Some(issuer.clone()),
            IdentityIntent::User { .. } => None,
        })
        .unwrap_or_else(TestIssuer::random_eks_url);
    let loaded = Arc::new(Loaded {
        seeds: prove::Seeds::of(&intents).secrets,
        intents,
        templates: templates.to_path_buf(),
        cluster_issuer: TestIssuer::new(&issuer_url),
        other_issuer: TestIssuer::new(&another_cluster_issuer(&issuer_url)),
        deployments: Mutex::default(),
        secrets: Mutex::default(),
        keys: Mutex::default(),
        providers: Mutex::default(),
        prepared: Once::default(),
    });
    all.push((key, loaded.clone()));
    Ok(loaded)
}

fn loaded_of(world: &World) -> Arc<Loaded> {
    let sources = world
        .prove_sources
        .as_ref()
        .expect("the Background step names the configuration first");
    LOADED
        .lock()
        .ok()
        .and_then(|all| {
            all.iter()
                .find(|(k, _)| k == sources)
                .map(|(_, l)| l.clone())
        })
        .expect("the Background step loads the configuration first")
}

impl Loaded {
    fn intent(&self, access: &str) -> &AccessIntent {
        self.intents
            .iter()
            .find(|i| i.access == access)
            .unwrap_or_else(|| panic!("the configuration has no access \"{access}\""))
    }

    fn access_dir(&self, access: &str) -> PathBuf {
        self.templates.join(access)
    }
}

#[given(expr = "the configuration {string} and its templates generated into {string}")]
async fn configuration(world: &mut World, config: String, templates: String) {
    let dir = features_dir();
    let (config, templates) = (dir.join(config), dir.join(templates));
    let loaded = load(&config, &templates).unwrap_or_else(|e| panic!("{e}"));
    world.endpoint = std::env::var("SMA_SCENARIO_ENDPOINT").expect("set by the runner");
    let gw = super::common::gateway(&world.endpoint).await;
    world.gateway_endpoint = gw.endpoint();
    for issuer in [&loaded.cluster_issuer, &loaded.other_issuer] {
        gw.handle().register_oidc_issuer(&issuer.url, issuer.jwks());
    }
    world.prove_sources = Some((config, templates));
}

/// Digests of every file generated for `access`, relative to the templates directory.
fn file_digests(templates: &Path, access: &str) -> Vec<FileDigest> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else {
                    out.push(p);
                }
            }
        }
    }
    let mut files = Vec::new();
    walk(&templates.join(access), &mut files);
    files.sort();
    files
        .iter()
        .filter_map(|p| {
            let bytes = std::fs::read(p).ok()?;
            Some(FileDigest {
                path: p.strip_prefix(templates).unwrap_or(p).display().to_string(),
                digest: prove::digest(&bytes),
            })
        })
        .collect()
}

fn base_proof(loaded: &Loaded, intent: &AccessIntent) -> AccessProof {
    let mut words = vec![match &intent.identity {
        IdentityIntent::Role { name, namespace, service_account, audience, .. } => format!(
            "ESO's service account {namespace}/{service_account} (audience {audience}) assumes role {name}"
        ),
        IdentityIntent::User { name } => format!("ESO uses an access key of IAM user {name}"),
    }];
    words.extend(
        prove::feature::scope_words(intent)
            .into_iter()
            .map(|w| format!("reads {w}")),
    );
    words.extend(intent.kms_keys.iter().map(|k| format!("decrypts with {k}")));
    AccessProof {
        access: intent.access.clone(),
        setup: intent.setup.as_str().to_string(),
        account: intent.account.clone(),
        region: intent.region.clone(),
        intent: words,
        files: file_digests(&loaded.templates, &intent.access),
        matrix: vec![],
        list_secrets: None,
        probes: vec![],
        failures: vec![],
        static_verdict: None,
    }
}

async fn root_config(world: &World, account: &str, region: &str) -> aws_config::SdkConfig {
    crate::sdk_config(&world.gateway_endpoint, region, &Keys::root_of(account)).await
}

/// The account's IAM OIDC providers for the cluster's issuer and another cluster's,
/// each accepting ESO's audience and another one (so only trust policies refuse it).
async fn ensure_providers(
    world: &World,
    loaded: &Loaded,
    intent: &AccessIntent,
) -> Result<(), String> {
    let cell = once(&loaded.providers, intent.account.clone());
    cell.get_or_init(|| async {
        let iam =
            aws_sdk_iam::Client::new(&root_config(world, &intent.account, &intent.region).await);
        for issuer in [&loaded.cluster_issuer, &loaded.other_issuer] {
            let created = iam
                .create_open_id_connect_provider()
                .url(&issuer.url)
                .client_id_list(model::plan::STS_AUDIENCE)
                .client_id_list(OTHER_AUDIENCE)
                .thumbprint_list("9e99a48a9960b14926bb7f3b02e22da2b0ab7280")
                .send()
                .await;
            if let Err(e) = created {
                let e = e.into_service_error();
                if e.code() != Some("EntityAlreadyExists") {
                    return Err(format!("CreateOpenIDConnectProvider {}: {e}", issuer.url));
                }
            }
        }
        Ok(())
    })
    .await
    .clone()
}

async fn deploy(
    world: &World,
    loaded: &Loaded,
    intent: &AccessIntent,
) -> Result<Deployment, String> {
    if matches!(intent.identity, IdentityIntent::Role { .. }) {
        ensure_providers(world, loaded, intent).await?;
    }
    let dir = loaded.access_dir(&intent.access);
    let template = std::fs::read_to_string(dir.join("cloudformation.yaml"))
        .map_err(|e| format!("{}: {e}", dir.join("cloudformation.yaml").display()))?;
    let config = root_config(world, &intent.account, &intent.region).await;
    let outputs =
        super::common::deploy_stack(&config, &format!("sma-prove-{}", intent.access), &template)
            .await?;
    let mut deployment = Deployment {
        kube_secrets: vec![],
        user_name: None,
    };
    if let IdentityIntent::User { .. } = intent.identity {
        // As the generated README says: an access key for the stack's user, put into the
        // Kubernetes Secret of the generated skeleton.
        let user = outputs
            .iter()
            .find(|(k, _)| k == "UserName")
            .map(|(_, v)| v.clone())
            .ok_or("the generated stack has no UserName output")?;
        let key = create_access_key(&config, &user).await?;
        deployment.kube_secrets = kube_secrets_for_key(&eso_manifests(&dir)?, &key);
        deployment.user_name = Some(user);
    }
    Ok(deployment)
}

async fn create_access_key(config: &aws_config::SdkConfig, user: &str) -> Result<Keys, String> {
    let iam = aws_sdk_iam::Client::new(config);
    let created = iam
        .create_access_key()
        .user_name(user)
        .send()
        .await
        .map_err(|e| format!("CreateAccessKey {user}: {}", e.into_service_error()))?;
    let key = created.access_key().ok_or("no access key in the answer")?;
    Ok(Keys {
        access_key_id: key.access_key_id().to_string(),
        secret_access_key: key.secret_access_key().to_string(),
        session_token: None,
    })
}

fn eso_manifests(access_dir: &Path) -> Result<eso::Manifests, String> {
    let dir = access_dir.join("eso");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
        .collect();
    files.sort();
    let mut texts = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        texts.push((f.display().to_string(), text));
    }
    manifests_of(
        texts
            .iter()
            .map(|(name, text)| (name.clone(), text.as_str())),
    )
}

async fn deployment(world: &World, loaded: &Loaded, access: &str) -> Result<Deployment, String> {
    let intent = loaded.intent(access);
    once(&loaded.deployments, access.to_string())
        .get_or_init(|| deploy(world, loaded, intent))
        .await
        .clone()
}

#[when(expr = "access {string} is deployed from its generated templates")]
async fn deployed(world: &mut World, access: String) {
    let loaded = loaded_of(world);
    let intent = loaded.intent(&access).clone();
    world.account = intent.account.clone();
    world.region = intent.region.clone();
    world.proof = Some(base_proof(&loaded, &intent));
    if let Err(e) = deployment(world, &loaded, &access).await {
        panic!("deploying access \"{access}\" from its generated templates failed: {e}");
    }
}

#[when(expr = "ESO authenticates for access {string} as its generated manifests say")]
async fn eso_authenticates(world: &mut World, access: String) {
    let loaded = loaded_of(world);
    let deployment = deployment(world, &loaded, &access)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let manifests = eso_manifests(&loaded.access_dir(&access)).unwrap_or_else(|e| panic!("{e}"));
    let provider = connect_first(
        &world.gateway_endpoint,
        &manifests,
        &loaded.cluster_issuer,
        &deployment.kube_secrets,
    )
    .await
    .unwrap_or_else(|e| {
        panic!("ESO cannot authenticate for access \"{access}\" with its generated manifests: {e}")
    });
    world.eso = Some(provider);
}

fn provider(world: &World) -> &eso::Provider {
    world
        .eso
        .as_ref()
        .expect("ESO authenticated in an earlier step")
}

/// Creates the customer-managed key `arn` (its id as LocalStack's custom id) once.
async fn ensure_key(world: &World, loaded: &Loaded, arn: &str) -> Result<(), String> {
    once(&loaded.keys, arn.to_string())
        .get_or_init(|| async {
            let parts: Vec<&str> = arn.split(':').collect();
            let (region, account) = (
                parts.get(3).copied().unwrap_or(""),
                parts.get(4).copied().unwrap_or(""),
            );
            let id = arn.rsplit('/').next().unwrap_or("");
            let key_policy = serde_json::json!({"Version": "2012-10-17", "Statement": [{
                "Sid": "Enable IAM User Permissions", "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
                "Action": "kms:*", "Resource": "*"}]});
            let template =
                serde_json::json!({"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {
                "Description": "sma prove key", "KeyPolicy": key_policy,
                // LocalStack's documented way to choose a key's id.
                "Tags": [{"Key": "_custom_id_", "Value": id}]}}},
                "Outputs": {"Arn": {"Value": {"Fn::GetAtt": ["Key", "Arn"]}}}})
                .to_string();
            let config = root_config(world, account, region).await;
            let stack = format!(
                "sma-prove-key-{}",
                id.chars()
                    .filter(char::is_ascii_alphanumeric)
                    .take(20)
                    .collect::<String>()
            );
            // A key of an earlier run on the same LocalStack is kept: its id is the
            // configuration's, and a deleted key would only be pending deletion.
            let cfn = aws_sdk_cloudformation::Client::new(&config);
            if let Some(earlier) = super::common::settled_stack(&cfn, &stack).await? {
                let created = earlier.stack_status().map(|s| s.as_str()) == Some("CREATE_COMPLETE");
                let same_key = earlier
                    .outputs()
                    .iter()
                    .any(|o| o.output_key() == Some("Arn") && o.output_value() == Some(arn));
                if created && same_key {
                    return Ok(());
                }
            }
            let outputs = super::common::deploy_stack(&config, &stack, &template).await?;
            match outputs.iter().find(|(k, _)| k == "Arn") {
                Some((_, got)) if got == arn => Ok(()),
                Some((_, got)) => Err(format!("LocalStack created key {got} instead of {arn}")),
                None => Err("the key stack has no Arn output".into()),
            }
        })
        .await
        .clone()
}

async fn ensure_seeded(
    world: &World,
    loaded: &Loaded,
    secret: &SeededSecret,
) -> Result<SeededArn, String> {
    let key = (
        secret.account.clone(),
        secret.region.clone(),
        secret.name.clone(),
    );
    once(&loaded.secrets, key)
        .get_or_init(|| async {
            if let Some(k) = &secret.key {
                ensure_key(world, loaded, &k.arn).await?;
            }
            let client = aws_sdk_secretsmanager::Client::new(
                &root_config(world, &secret.account, &secret.region).await,
            );
            let value = crate::random_secret_value();
            let key = secret.key.as_ref().map(|k| k.arn.clone());
            let failed = |call: &str, e: &dyn std::fmt::Display| {
                format!(
                    "{call} {} in {} {}: {e}",
                    secret.name, secret.account, secret.region
                )
            };
            let arn = match client
                .create_secret()
                .name(&secret.name)
                .secret_string(&value)
                .set_kms_key_id(key.clone())
                .send()
                .await
            {
                Ok(created) => created.arn().unwrap_or_default().to_string(),
                Err(e) => {
                    let e = e.into_service_error();
                    if e.code() != Some("ResourceExistsException") {
                        return Err(failed("CreateSecret", &e));
                    }
                    // A secret of an earlier run on the same LocalStack: this run's
                    // value and key replace it.
                    let updated = client
                        .update_secret()
                        .secret_id(&secret.name)
                        .secret_string(&value)
                        .set_kms_key_id(key)
                        .send()
                        .await
                        .map_err(|e| failed("UpdateSecret", &e.into_service_error()))?;
                    updated.arn().unwrap_or_default().to_string()
                }
            };
            Ok(SeededArn {
                arn,
                value: Hidden(value),
            })
        })
        .await
        .clone()
}

/// Stacks deployed at once while preparing a run.
const DEPLOY_CONCURRENCY: usize = 4;
/// Secrets created at once while preparing a run.
const SEED_CONCURRENCY: usize = 8;

/// Deploys every access of the configuration whose templates were generated, then
/// seeds every secret of the intent, once per run. Failures are not reported here:
/// each shows where it matters, in its own access's deployment step or matrix row.
async fn prepare_run(world: &World, loaded: &Loaded) {
    loaded
        .prepared
        .get_or_init(|| async {
            let accesses: Vec<&str> = loaded
                .intents
                .iter()
                .map(|i| i.access.as_str())
                .filter(|a| loaded.access_dir(a).join("cloudformation.yaml").is_file())
                .collect();
            let began = std::time::Instant::now();
            let deployed = accesses.len();
            futures::stream::iter(accesses)
                .map(|access| deployment(world, loaded, access))
                .buffer_unordered(DEPLOY_CONCURRENCY)
                .for_each(|_| async {})
                .await;
            let deploying = began.elapsed();
            futures::stream::iter(&loaded.seeds)
                .map(|secret| ensure_seeded(world, loaded, secret))
                .buffer_unordered(SEED_CONCURRENCY)
                .for_each(|_| async {})
                .await;
            eprintln!(
                "timing: {deployed} access(es) deployed in {:.1}s, {} secret(s) seeded in {:.1}s",
                deploying.as_secs_f64(),
                loaded.seeds.len(),
                (began.elapsed() - deploying).as_secs_f64()
            );
            Ok(())
        })
        .await;
}

fn seeded_of(loaded: &Loaded, account: &str, region: &str, name: &str) -> Option<SeededSecret> {
    loaded
        .seeds
        .iter()
        .find(|s| s.account == account && s.region == region && s.name == name)
        .cloned()
}

#[then(expr = "ESO syncs the generated ExternalSecret of access {string}")]
async fn eso_syncs(world: &mut World, access: String) {
    let loaded = loaded_of(world);
    let manifests = eso_manifests(&loaded.access_dir(&access)).unwrap_or_else(|e| panic!("{e}"));
    let provider = provider(world);
    let region = provider.store.region.clone();
    for es in &manifests.external_secrets {
        for entry in &es.data {
            let name = format!("{}{}", provider.store.prefix, entry.key);
            let seed = seeded_of(&loaded, &world.account, &region, &name).unwrap_or_else(|| {
                panic!("ExternalSecret {}/{} reads \"{name}\" in {region}, which the configuration does not intend for access \"{access}\"", es.namespace, es.name)
            });
            let written = ensure_seeded(world, &loaded, &seed)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let synced = provider.sync(es).await.unwrap_or_else(|e| {
                panic!(
                    "ESO's sync of ExternalSecret {}/{} failed: {e}",
                    es.namespace, es.name
                )
            });
            let value = synced
                .iter()
                .find(|(k, _)| *k == entry.secret_key)
                .map(|(_, v)| v.0.as_str());
            assert!(
                value == Some(written.value.0.as_str()),
                "ExternalSecret {}/{} synced another value than the one written to \"{name}\"",
                es.namespace,
                es.name
            );
        }
    }
}

#[then(expr = "ESO may list the secrets of access {string}'s account")]
async fn eso_lists(world: &mut World, _access: String) {
    let observed = match provider(world).list_secrets().await {
        Ok(_) => Observed::Allowed,
        Err(e) => observed_of(&e),
    };
    let cell = Cell {
        action: "ListSecrets".into(),
        expected: true,
        observed: observed.clone(),
        decided_by: String::new(),
    };
    if let Some(p) = world.proof.as_mut() {
        p.list_secrets = Some(cell);
    }
    assert!(
        observed.allowed(),
        "ListSecrets was refused: ESO's find by name needs it ({observed:?})"
    );
}

fn observed_of(e: &eso::EsoError) -> Observed {
    match e.aws_code() {
        Some(code) => Observed::Denied {
            code: code.to_string(),
        },
        None => Observed::Error {
            message: e.to_string(),
        },
    }
}

/// Which callers are the access's principal, by their ARN: the named IAM user
/// (`arn:aws:iam::ACCOUNT:user/[PATH/]NAME`) or a session of the role the access's
/// credentials assume (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`). Matched by
/// whole ARN segments: a user `app` is not `app-admin`, nor `team/app-old`.
#[derive(Debug, PartialEq, Eq)]
enum PrincipalOf {
    User(String),
    RoleSessions(String),
}

impl PrincipalOf {
    fn of(world: &World, loaded: &Loaded, access: &str) -> Self {
        match &loaded.intent(access).identity {
            IdentityIntent::Role { .. } => {
                let source = &provider(world).credentials.source;
                PrincipalOf::RoleSessions(source.rsplit('/').next().unwrap_or("").to_string())
            }
            IdentityIntent::User { name } => PrincipalOf::User(name.clone()),
        }
    }

    fn matches(&self, caller_arn: &str) -> bool {
        match self {
            PrincipalOf::User(name) => caller_arn
                .split_once(":user/")
                .is_some_and(|(_, path_and_name)| path_and_name.rsplit('/').next() == Some(name)),
            PrincipalOf::RoleSessions(role) => {
                caller_arn
                    .split_once(":assumed-role/")
                    .is_some_and(|(_, role_and_session)| {
                        role_and_session.split('/').next() == Some(role)
                    })
            }
        }
    }
}

#[then(
    expr = "for access {string}, each secret gives the expected outcome of GetSecretValue, DescribeSecret, GetResourcePolicy, ListSecretVersionIds:"
)]
async fn matrix(world: &mut World, access: String, step: &Step) {
    let loaded = loaded_of(world);
    prepare_run(world, &loaded).await;
    let table = step.table.as_ref().expect("a table of secrets");
    let header: Vec<&str> = table.rows[0].iter().map(|h| h.trim()).collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("the table has no column \"{name}\""))
    };
    let (c_secret, c_account, c_region, c_key, c_expected, c_why) = (
        col("secret"),
        col("account"),
        col("region"),
        col("key"),
        col("expected"),
        col("why"),
    );
    let store_region = provider(world).store.region.clone();
    let mut requests = Vec::new();
    for row in table.rows.iter().skip(1) {
        let cell_text = |i: usize| row[i].trim().to_string();
        let expectation = RowExpectation::parse(&cell_text(c_expected)).unwrap_or_else(|| {
            panic!(
                "expected must be reads, metadata only or denied, not \"{}\"",
                cell_text(c_expected)
            )
        });
        let key =
            Some(cell_text(c_key))
                .filter(|k| !k.is_empty())
                .map(|arn| prove::seed::SeededKey {
                    label: arn.rsplit('/').next().unwrap_or("").to_string(),
                    arn,
                });
        let secret = SeededSecret {
            account: cell_text(c_account),
            region: cell_text(c_region),
            name: cell_text(c_secret),
            key,
            origin: cell_text(c_why),
        };
        requests.push((secret, expectation));
    }
    // Rows are independent: several in flight keep LocalStack and the gateway busy.
    let world_ref: &World = world;
    let rows: Vec<MatrixRow> = futures::stream::iter(requests)
        .map(|(secret, expectation)| {
            matrix_row(world_ref, &loaded, &store_region, secret, expectation)
        })
        .buffered(MATRIX_CONCURRENCY)
        .collect()
        .await;
    // The gateway's deciding statements, from its decision log (the ARN stands in the
    // cell until then).
    let principal = PrincipalOf::of(world, &loaded, &access);
    let decisions = super::common::gateway(&world.endpoint)
        .await
        .handle()
        .decisions_matching(|d| principal.matches(&d.principal));
    let mut rows = rows;
    let mut by_call: HashMap<(String, String), String> = HashMap::new();
    for d in &decisions {
        let why = if d.deciding_statements.is_empty() {
            format!("{}: {}", d.decision, d.reason)
        } else {
            format!("{}: {}", d.decision, d.deciding_statements.join("; "))
        };
        by_call.insert((d.action.clone(), d.resource.clone()), why);
    }
    for row in &mut rows {
        for c in &mut row.cells {
            if matches!(c.observed, Observed::Error { .. }) {
                c.decided_by.clear();
                continue;
            }
            let arn = std::mem::take(&mut c.decided_by);
            c.decided_by = by_call
                .get(&(format!("secretsmanager:{}", c.action), arn))
                .cloned()
                .unwrap_or_default();
        }
    }
    let mismatches: Vec<String> = rows
        .iter()
        .flat_map(|r| r.cells.iter().map(move |c| (r, c)))
        .filter(|(_, c)| c.expected != c.observed.allowed())
        .map(|(r, c)| {
            format!(
                "{} {} of \"{}\" ({} {}): expected {}, {} — {}",
                if c.expected { "BROKEN" } else { "LEAK" },
                c.action,
                r.secret,
                r.account,
                r.region,
                if c.expected { "allowed" } else { "denied" },
                match &c.observed {
                    Observed::Allowed => "allowed".to_string(),
                    Observed::Denied { code } => format!("denied ({code})"),
                    Observed::Error { message } => format!("error: {message}"),
                },
                r.why
            )
        })
        .collect();
    if let Some(p) = world.proof.as_mut() {
        p.matrix = rows;
    }
    assert!(
        mismatches.is_empty(),
        "access \"{access}\": {} cell(s) differ from the intent:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// Rows of the access matrix tried at once (four calls each). Most cells are denials
/// the gateway answers without LocalStack.
const MATRIX_CONCURRENCY: usize = 8;

/// Seeds one secret (once per run) and tries the four actions on it with ESO's
/// credentials; the cell's `decided_by` holds the secret's ARN until the decisions are
/// looked up.
async fn matrix_row(
    world: &World,
    loaded: &Loaded,
    store_region: &str,
    secret: SeededSecret,
    expectation: RowExpectation,
) -> MatrixRow {
    let cells = match ensure_seeded(world, loaded, &secret).await {
        Err(e) => MATRIX_ACTIONS
            .iter()
            .map(|action| Cell {
                action: action.to_string(),
                expected: expectation.allows(action),
                observed: Observed::Error {
                    message: format!("seeding failed: {e}"),
                },
                decided_by: String::new(),
            })
            .collect(),
        Ok(seeded) => {
            // ESO names secrets of its own account and region; others only by ARN.
            let id = if secret.account == world.account && secret.region == store_region {
                secret.name.clone()
            } else {
                seeded.arn.clone()
            };
            let calls = MATRIX_ACTIONS.map(|action| {
                let id = id.clone();
                async move {
                    match provider(world).call(action, &id).await {
                        Ok(()) => Observed::Allowed,
                        Err(e) => observed_of(&e),
                    }
                }
            });
            let observed = futures::future::join_all(calls).await;
            MATRIX_ACTIONS
                .iter()
                .zip(observed)
                .map(|(action, observed)| Cell {
                    action: action.to_string(),
                    expected: expectation.allows(action),
                    observed,
                    decided_by: seeded.arn.clone(),
                })
                .collect()
        }
    };
    MatrixRow {
        secret: secret.name,
        account: secret.account,
        region: secret.region,
        key: secret.key.map(|k| k.arn),
        why: secret.origin,
        cells,
    }
}

fn sts_client(world: &World, region: &str) -> aws_sdk_sts::Client {
    test_support::sdk::sts(
        &world.gateway_endpoint,
        region,
        None,
        test_support::sdk::Retries::Sdk,
    )
}

async fn assume(world: &World, region: &str, role: &str, token: String) -> Observed {
    match sts_client(world, region)
        .assume_role_with_web_identity()
        .role_arn(role)
        .role_session_name(eso::provider::SESSION_NAME)
        .web_identity_token(token)
        .send()
        .await
    {
        Ok(_) => Observed::Allowed,
        Err(e) => {
            let e = e.into_service_error();
            Observed::Denied {
                code: e.code().unwrap_or("Unknown").to_string(),
            }
        }
    }
}

#[then(expr = "these tokens cannot assume the role of access {string}:")]
async fn probes(world: &mut World, access: String, step: &Step) {
    let loaded = loaded_of(world);
    let intent = loaded.intent(&access).clone();
    let IdentityIntent::Role {
        arn,
        namespace,
        service_account,
        audience,
        ..
    } = &intent.identity
    else {
        panic!("access \"{access}\" has no role");
    };
    // Without this, a role nobody can assume would pass every probe.
    let own = loaded
        .cluster_issuer
        .token_valid_for(namespace, service_account, &[audience], 600);
    let observed = assume(world, &intent.region, arn, own).await;
    assert!(observed.allowed(), "ESO's own service account {namespace}/{service_account} cannot assume role {arn} ({observed:?}): the probes below would prove nothing");
    let table = step.table.as_ref().expect("a table of tokens");
    let mut leaks = Vec::new();
    for row in table.rows.iter().skip(1) {
        let c: Vec<&str> = row.iter().map(|x| x.trim()).collect();
        let [ns, sa, aud, issuer, expired, why] = c[..] else {
            panic!("six columns: namespace, service account, audience, issuer, expired, why")
        };
        let issuer_choice = IssuerChoice::parse(issuer).unwrap_or_else(|| {
            panic!("issuer is \"the cluster\" or \"another cluster\", not \"{issuer}\"")
        });
        let signer = match issuer_choice {
            IssuerChoice::Cluster => &loaded.cluster_issuer,
            IssuerChoice::Other => &loaded.other_issuer,
        };
        let seconds = if expired == "yes" { -60 } else { 600 };
        let token = signer.token_valid_for(ns, sa, &[aud], seconds);
        let observed = assume(world, &intent.region, arn, token).await;
        let caller = format!(
            "token of {ns}/{sa}, audience {aud}, issuer {issuer}{}",
            if expired == "yes" { ", expired" } else { "" }
        );
        if observed.allowed() {
            leaks.push(format!("LEAK {caller} assumed role {arn}: {why}"));
        }
        if let Some(p) = world.proof.as_mut() {
            p.probes.push(ProbeRow {
                caller,
                why: why.to_string(),
                observed,
            });
        }
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
}

#[then(
    expr = "a second access key of access {string}'s user reads {string} until it is deactivated, and nothing once deleted"
)]
async fn key_lifecycle(world: &mut World, access: String, name: String) {
    let loaded = loaded_of(world);
    let intent = loaded.intent(&access).clone();
    let deployment = deployment(world, &loaded, &access)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let user = deployment
        .user_name
        .clone()
        .expect("a static access has a user");
    let seed = seeded_of(&loaded, &intent.account, &intent.region, &name)
        .unwrap_or_else(|| panic!("\"{name}\" is not a seeded secret"));
    ensure_seeded(world, &loaded, &seed)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let root = root_config(world, &intent.account, &intent.region).await;
    let key = create_access_key(&root, &user)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let read = |keys: Keys| {
        let (endpoint, region, name) = (
            world.gateway_endpoint.clone(),
            intent.region.clone(),
            name.clone(),
        );
        async move {
            let client = crate::secrets_manager(&endpoint, &region, &keys).await;
            match client.get_secret_value().secret_id(&name).send().await {
                Ok(_) => Observed::Allowed,
                Err(e) => Observed::Denied {
                    code: e
                        .into_service_error()
                        .code()
                        .unwrap_or("Unknown")
                        .to_string(),
                },
            }
        }
    };
    let fresh = read(key.clone()).await;
    assert!(fresh.allowed(), "a new access key of user {user} cannot read \"{name}\" ({fresh:?}): the probes below would prove nothing");
    let iam = aws_sdk_iam::Client::new(&root);
    iam.update_access_key()
        .user_name(&user)
        .access_key_id(&key.access_key_id)
        .status(aws_sdk_iam::types::StatusType::Inactive)
        .send()
        .await
        .unwrap_or_else(|e| panic!("UpdateAccessKey: {}", e.into_service_error()));
    let deactivated = read(key.clone()).await;
    iam.delete_access_key()
        .user_name(&user)
        .access_key_id(&key.access_key_id)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DeleteAccessKey: {}", e.into_service_error()));
    let deleted = read(key).await;
    let mut leaks = Vec::new();
    for (caller, observed) in [
        ("a deactivated access key of the user", deactivated),
        ("a deleted access key of the user", deleted),
    ] {
        if observed.allowed() {
            leaks.push(format!("LEAK {caller} read \"{name}\""));
        }
        if let Some(p) = world.proof.as_mut() {
            p.probes.push(ProbeRow {
                caller: caller.into(),
                why: "IAM refuses keys that are not active".into(),
                observed,
            });
        }
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
}

#[cfg(test)]
mod tests {
    use super::PrincipalOf;

    #[test]
    fn principal_matches_whole_arn_segments() {
        let app = PrincipalOf::User("app".into());
        assert!(app.matches("arn:aws:iam::111122223333:user/app"));
        assert!(app.matches("arn:aws:iam::111122223333:user/team/app"));
        assert!(!app.matches("arn:aws:iam::111122223333:user/app-admin"));
        assert!(!app.matches("arn:aws:iam::111122223333:user/app/other"));
        assert!(!app.matches("arn:aws:sts::111122223333:assumed-role/app/s"));
        let role = PrincipalOf::RoleSessions("eso".into());
        assert!(role.matches("arn:aws:sts::111122223333:assumed-role/eso/session-1"));
        assert!(!role.matches("arn:aws:sts::111122223333:assumed-role/eso-admin/s"));
        assert!(!role.matches("arn:aws:iam::111122223333:user/eso"));
    }

    #[test]
    fn another_cluster_is_a_neighbour_of_the_same_kind() {
        let eks = "https://oidc.eks.us-east-1.amazonaws.com/id/ABCDEF0123456789";
        let other = super::another_cluster_issuer(eks);
        assert!(
            other.starts_with("https://oidc.eks.us-east-1.amazonaws.com/id/"),
            "{other}"
        );
        assert_ne!(other, eks);
        let gke =
            "https://container.googleapis.com/v1/projects/p/locations/europe-west1/clusters/prod";
        let other = super::another_cluster_issuer(gke);
        assert!(
            other.starts_with("https://container.googleapis.com/v1/projects/p/locations/europe-west1/clusters/other-"),
            "{other}"
        );
        assert!(super::another_cluster_issuer("https://issuer.example.com")
            .starts_with("https://oidc.eks."));
    }
}
