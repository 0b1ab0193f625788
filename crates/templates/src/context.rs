//! The data handed to the templates, built from a validated [`model::Plan`]. Every
//! string here comes from a validated model type; the templates still pass each value
//! through the `json`/`yaml_str` filters so that the output stays well-formed even if a
//! template override feeds them something else.

use serde::Serialize;

use model::plan::{ACCESS_KEY_ID_KEY, SECRET_ACCESS_KEY_KEY, STS_AUDIENCE};
use model::{Access, Identity, Placement, Plan, SecretScope, Setup};

/// The cluster, as templates see it.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterContext {
    /// Name.
    pub name: String,
    /// `aws` or `gcp`.
    pub cloud: &'static str,
    /// AWS: account id.
    pub account_id: Option<String>,
    /// AWS or GCP region.
    pub region: Option<String>,
    /// OIDC issuer URL (AWS: IRSA; GCP: `web-identity`), when known.
    pub oidc_issuer: Option<String>,
    /// GCP: project id.
    pub project_id: Option<String>,
    /// GCP: the cluster's location (region or zone), if given.
    pub location: Option<String>,
}

/// The AWS identity of an access.
#[derive(Debug, Clone, Serialize)]
pub struct IdentityContext {
    /// `role` or `user`.
    pub kind: &'static str,
    /// IAM name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// Role: the OIDC issuer URL (`https://…`).
    pub oidc_issuer: Option<String>,
    /// Role: the OIDC issuer without `https://`.
    pub oidc_issuer_host_path: Option<String>,
    /// Role: ARN of the IAM OIDC provider.
    pub oidc_provider_arn: Option<String>,
    /// Role: the trusted `sub` claim (`system:serviceaccount:NS:SA`).
    pub subject: Option<String>,
    /// Role: the trusted `aud` claim.
    pub audience: Option<&'static str>,
}

/// The Kubernetes side of an access.
#[derive(Debug, Clone, Serialize)]
pub struct EsoContext {
    /// `SecretStore` or `ClusterSecretStore`.
    pub store_kind: &'static str,
    /// Whether the store is a `ClusterSecretStore`.
    pub cluster_store: bool,
    /// Namespace of the service account / credentials Secret / `SecretStore`.
    pub namespace: String,
    /// IRSA: service account name.
    pub service_account: Option<String>,
    /// Static: credentials Secret name.
    pub credentials_secret: Option<String>,
    /// Static: key of the access key id in that Secret.
    pub access_key_id_key: &'static str,
    /// Static: key of the secret access key in that Secret.
    pub secret_access_key_key: &'static str,
    /// `ClusterSecretStore`: allowed namespaces (empty = all).
    pub allowed_namespaces: Vec<String>,
    /// Namespace of the example `ExternalSecret`.
    pub example_namespace: String,
    /// Remote key read by the example `ExternalSecret`.
    pub example_remote_key: String,
}

/// One policy statement, shaped for templates.
#[derive(Debug, Clone, Serialize)]
pub struct StatementContext {
    /// Sid.
    pub sid: &'static str,
    /// Actions.
    pub actions: Vec<String>,
    /// Resources.
    pub resources: Vec<String>,
    /// `StringEquals` condition key, if any.
    pub condition_key: Option<String>,
    /// `StringEquals` condition value, if any.
    pub condition_value: Option<String>,
}

/// Paths of the generated files, relative to the access's directory.
#[derive(Debug, Clone, Serialize)]
pub struct FileNames {
    /// IAM policy JSON.
    pub policy: &'static str,
    /// CloudFormation template.
    pub cloudformation: &'static str,
    /// ServiceAccount manifest (IRSA).
    pub service_account: Option<&'static str>,
    /// Store manifest.
    pub secret_store: &'static str,
    /// Credentials Secret skeleton (static).
    pub credentials_secret: Option<&'static str>,
    /// Example ExternalSecret.
    pub external_secret: &'static str,
}

/// Everything a per-access template can use.
#[derive(Debug, Clone, Serialize)]
pub struct AccessContext {
    /// The cluster.
    pub cluster: ClusterContext,
    /// Access name.
    pub name: String,
    /// `automatic`, `role-arn`, `static-credentials` or `web-identity`.
    pub setup: &'static str,
    /// Human title of the setup.
    pub setup_title: &'static str,
    /// Whether the setup uses a role assumed by web identity (IRSA or `web-identity`).
    pub irsa: bool,
    /// Whether this is sma's `web-identity` setup (the stack also creates the IAM OIDC
    /// provider; the ServiceAccount also names the audience).
    pub web_identity: bool,
    /// `web-identity`: the access whose stack creates the IAM OIDC provider, when not
    /// this one (the stack's `OidcProviderExists` then defaults to `true`).
    pub oidc_provider_from: Option<String>,
    /// Whether this is the GCP cross-cloud setup.
    pub cross_cloud: bool,
    /// Region of the secrets.
    pub region: String,
    /// Account of the secrets.
    pub account_id: String,
    /// ARN partition.
    pub partition: &'static str,
    /// `entire-account`, `entire-region` or `selected`.
    pub scope: &'static str,
    /// Exact secret names.
    pub secret_names: Vec<String>,
    /// Secret name prefixes.
    pub secret_prefixes: Vec<String>,
    /// Raw ARN patterns.
    pub secret_arn_patterns: Vec<String>,
    /// KMS keys.
    pub kms_key_arns: Vec<String>,
    /// The AWS identity.
    pub identity: IdentityContext,
    /// The Kubernetes side.
    pub eso: EsoContext,
    /// The identity policy statements.
    pub statements: Vec<StatementContext>,
    /// Plain-language grants.
    pub grants: Vec<String>,
    /// Reviewer warnings.
    pub warnings: Vec<String>,
    /// Suggested CloudFormation stack name.
    pub stack_name: String,
    /// Generated file names.
    pub files: FileNames,
}

/// File name of the IAM policy.
pub const POLICY_FILE: &str = "iam-policy.json";
/// File name of the CloudFormation template.
pub const CLOUDFORMATION_FILE: &str = "cloudformation.yaml";
/// File name of the ServiceAccount manifest.
pub const SERVICE_ACCOUNT_FILE: &str = "eso/service-account.yaml";
/// File name of the store manifest.
pub const SECRET_STORE_FILE: &str = "eso/secret-store.yaml";
/// File name of the credentials Secret skeleton.
pub const CREDENTIALS_SECRET_FILE: &str = "eso/credentials-secret.skeleton.yaml";
/// File name of the example ExternalSecret.
pub const EXTERNAL_SECRET_FILE: &str = "eso/external-secret.yaml";
/// File name of the per-access README.
pub const README_FILE: &str = "README.md";

fn setup_title(setup: Setup, cross_cloud: bool) -> &'static str {
    match (setup, cross_cloud) {
        (Setup::Automatic, _) => "AWS automatic authentication (IRSA, platform-created role)",
        (Setup::RoleArn, _) => "AWS role ARN (IRSA, customer-created role)",
        (Setup::StaticCredentials, false) => "AWS static credentials (IAM user access key)",
        (Setup::StaticCredentials, true) => {
            "GCP cross-cloud (static AWS credentials from a GKE cluster)"
        }
        (Setup::WebIdentity, _) => {
            "Web identity from GKE (sma's keyless setup: IAM OIDC provider for the cluster's issuer)"
        }
    }
}

impl ClusterContext {
    /// Builds the cluster context.
    pub fn new(plan: &Plan) -> Self {
        let cluster = &plan.cluster;
        match &cluster.placement {
            Placement::Aws {
                account_id,
                region,
                oidc_issuer,
            } => Self {
                name: cluster.name.to_string(),
                cloud: "aws",
                account_id: Some(account_id.to_string()),
                region: Some(region.to_string()),
                oidc_issuer: oidc_issuer.as_ref().map(|i| i.to_string()),
                project_id: None,
                location: None,
            },
            Placement::Gcp {
                project_id,
                region,
                location,
                oidc_issuer,
            } => Self {
                name: cluster.name.to_string(),
                cloud: "gcp",
                account_id: None,
                region: region.as_ref().map(|r| r.to_string()),
                oidc_issuer: oidc_issuer.as_ref().map(|i| i.to_string()),
                project_id: Some(project_id.to_string()),
                location: location.as_ref().map(|l| l.to_string()),
            },
        }
    }
}

impl AccessContext {
    /// Builds the context of one access of `plan`.
    pub fn new(plan: &Plan, access: &Access) -> Self {
        let (secret_names, secret_prefixes, secret_arn_patterns, scope) = match &access.scope {
            SecretScope::EntireAccount => (vec![], vec![], vec![], "entire-account"),
            SecretScope::EntireRegion => (vec![], vec![], vec![], "entire-region"),
            SecretScope::Selected {
                names,
                prefixes,
                arn_patterns,
            } => (
                names.iter().map(|n| n.to_string()).collect(),
                prefixes.iter().map(|p| p.to_string()).collect(),
                arn_patterns.iter().map(|p| p.to_string()).collect(),
                "selected",
            ),
        };
        let identity = match &access.identity {
            Identity::Role {
                name,
                arn,
                oidc_issuer,
                oidc_provider_arn,
            } => IdentityContext {
                kind: "role",
                name: name.to_string(),
                arn: arn.clone(),
                oidc_issuer: Some(oidc_issuer.to_string()),
                oidc_issuer_host_path: Some(oidc_issuer.host_and_path().to_owned()),
                oidc_provider_arn: Some(oidc_provider_arn.clone()),
                subject: access.service_account_subject(),
                audience: Some(STS_AUDIENCE),
            },
            Identity::User { name, arn } => IdentityContext {
                kind: "user",
                name: name.to_string(),
                arn: arn.clone(),
                oidc_issuer: None,
                oidc_issuer_host_path: None,
                oidc_provider_arn: None,
                subject: None,
                audience: None,
            },
        };
        let irsa = access.setup.uses_irsa();
        let summary = access.grant_summary();
        Self {
            cluster: ClusterContext::new(plan),
            name: access.name.to_string(),
            setup: access.setup.as_str(),
            setup_title: setup_title(access.setup, access.cross_cloud),
            irsa,
            web_identity: access.setup == Setup::WebIdentity,
            oidc_provider_from: access.oidc_provider_from.as_ref().map(|a| a.to_string()),
            cross_cloud: access.cross_cloud,
            region: access.region.to_string(),
            account_id: access.account_id.to_string(),
            partition: access.region.partition().as_str(),
            scope,
            secret_names,
            secret_prefixes,
            secret_arn_patterns,
            kms_key_arns: access.kms_key_arns.iter().map(|k| k.to_string()).collect(),
            identity,
            eso: EsoContext {
                store_kind: access.eso.store_kind.as_str(),
                cluster_store: access.eso.store_kind == model::StoreKind::ClusterSecretStore,
                namespace: access.eso.namespace.to_string(),
                service_account: access.eso.service_account.as_ref().map(|s| s.to_string()),
                credentials_secret: access
                    .eso
                    .credentials_secret
                    .as_ref()
                    .map(|s| s.to_string()),
                access_key_id_key: ACCESS_KEY_ID_KEY,
                secret_access_key_key: SECRET_ACCESS_KEY_KEY,
                allowed_namespaces: access
                    .eso
                    .allowed_namespaces
                    .iter()
                    .map(|n| n.to_string())
                    .collect(),
                example_namespace: access.eso.example_namespace.to_string(),
                example_remote_key: access.example_remote_key(),
            },
            statements: access
                .policy_statements()
                .into_iter()
                .map(|s| {
                    let (condition_key, condition_value) = match s.string_equals {
                        Some((k, v)) => (Some(k), Some(v)),
                        None => (None, None),
                    };
                    StatementContext {
                        sid: s.sid,
                        actions: s.actions,
                        resources: s.resources,
                        condition_key,
                        condition_value,
                    }
                })
                .collect(),
            grants: summary.grants,
            warnings: summary.warnings,
            stack_name: format!("eso-secrets-manager-{}", access.name),
            files: FileNames {
                policy: POLICY_FILE,
                cloudformation: CLOUDFORMATION_FILE,
                service_account: irsa.then_some(SERVICE_ACCOUNT_FILE),
                secret_store: SECRET_STORE_FILE,
                credentials_secret: (!irsa).then_some(CREDENTIALS_SECRET_FILE),
                external_secret: EXTERNAL_SECRET_FILE,
            },
        }
    }
}

/// Everything the top-level index template can use.
#[derive(Debug, Clone, Serialize)]
pub struct IndexContext {
    /// The cluster.
    pub cluster: ClusterContext,
    /// The accesses.
    pub accesses: Vec<AccessContext>,
}
