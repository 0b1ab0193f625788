//! The validated domain: what [`crate::ConfigFile::validate`] returns. Every value here
//! is well-formed and obeys the vendor's rules; renderers only lay it out.

pub use crate::config::{Setup, StoreKind};
use crate::values::{
    AccountId, ClusterName, GcpLocation, GcpProjectId, GcpRegion, IamName, KmsKeyArn, KubeLabel,
    KubeName, OidcIssuer, Region, SecretArnPattern, SecretName, SecretPrefix,
};

/// The five Secrets Manager actions of the vendor's policy, in the vendor's order.
pub const SECRETS_MANAGER_ACTIONS: [&str; 5] = [
    "secretsmanager:GetResourcePolicy",
    "secretsmanager:GetSecretValue",
    "secretsmanager:DescribeSecret",
    "secretsmanager:ListSecretVersionIds",
    "secretsmanager:ListSecrets",
];

/// The action that only works on `Resource: "*"`.
pub const LIST_SECRETS_ACTION: &str = "secretsmanager:ListSecrets";

/// The audience ESO requests for its service-account token, on EKS (IRSA) as on GKE
/// (`web-identity`): the default of the `eks.amazonaws.com/audience` annotation.
pub const STS_AUDIENCE: &str = "sts.amazonaws.com";

/// A validated configuration: one cluster and its accesses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The cluster.
    pub cluster: Cluster,
    /// Its accesses, in configuration order.
    pub accesses: Vec<Access>,
}

/// A validated cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// Its name.
    pub name: ClusterName,
    /// Where it runs.
    pub placement: Placement,
}

/// Where a cluster runs, with the facts that matter there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// An EKS cluster.
    Aws {
        /// Account of the cluster.
        account_id: AccountId,
        /// Region of the cluster.
        region: Region,
        /// OIDC issuer, when known (required by IRSA setups).
        oidc_issuer: Option<OidcIssuer>,
    },
    /// A GKE cluster.
    Gcp {
        /// GCP project.
        project_id: GcpProjectId,
        /// GCP region, if given.
        region: Option<GcpRegion>,
        /// The cluster's location (region or zone), if given.
        location: Option<GcpLocation>,
        /// The cluster's OIDC issuer: `oidc_issuer` if given, else derived from the
        /// project, location and name; `None` without a location (required by the
        /// `web-identity` setup only).
        oidc_issuer: Option<OidcIssuer>,
    },
}

impl Cluster {
    /// `aws` or `gcp`.
    pub fn cloud_name(&self) -> &'static str {
        match self.placement {
            Placement::Aws { .. } => "aws",
            Placement::Gcp { .. } => "gcp",
        }
    }
}

/// Which secrets an access may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretScope {
    /// `Resource: "*"`: every secret of the account, in every region (automatic setup).
    EntireAccount,
    /// Every secret of the access's account and region (no `secrets` section).
    EntireRegion,
    /// Only the listed secrets.
    Selected {
        /// Exact names.
        names: Vec<SecretName>,
        /// Name prefixes.
        prefixes: Vec<SecretPrefix>,
        /// Raw ARN patterns.
        arn_patterns: Vec<SecretArnPattern>,
    },
}

/// The AWS identity ESO uses for an access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// An IAM role assumed through IRSA.
    Role {
        /// Role name.
        name: IamName,
        /// Role ARN (path `/`).
        arn: String,
        /// The cluster's OIDC issuer the role trusts.
        oidc_issuer: OidcIssuer,
        /// ARN of the IAM OIDC provider of that issuer.
        oidc_provider_arn: String,
    },
    /// An IAM user whose access key is stored in a Kubernetes Secret.
    User {
        /// User name.
        name: IamName,
        /// User ARN (path `/`).
        arn: String,
    },
}

impl Identity {
    /// The IAM name of the role or user.
    pub fn name(&self) -> &IamName {
        match self {
            Identity::Role { name, .. } | Identity::User { name, .. } => name,
        }
    }

    /// The ARN of the role or user.
    pub fn arn(&self) -> &str {
        match self {
            Identity::Role { arn, .. } | Identity::User { arn, .. } => arn,
        }
    }
}

/// The Kubernetes side of an access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eso {
    /// Kind of store.
    pub store_kind: StoreKind,
    /// Namespace of the service account or credentials Secret (and of a `SecretStore`).
    pub namespace: KubeLabel,
    /// IRSA setups: the service account ESO authenticates as.
    pub service_account: Option<KubeName>,
    /// Static setups: the Kubernetes Secret holding the access key.
    pub credentials_secret: Option<KubeName>,
    /// `ClusterSecretStore`: namespaces allowed to use it (empty = all).
    pub allowed_namespaces: Vec<KubeLabel>,
    /// Namespace of the example `ExternalSecret`.
    pub example_namespace: KubeLabel,
}

/// Key of the access key id in the credentials Secret.
pub const ACCESS_KEY_ID_KEY: &str = "access-key-id";
/// Key of the secret access key in the credentials Secret.
pub const SECRET_ACCESS_KEY_KEY: &str = "secret-access-key";

/// A validated access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// Name (names the ESO store and the output directory).
    pub name: KubeLabel,
    /// Setup.
    pub setup: Setup,
    /// Region of the secrets (and of the ESO store).
    pub region: Region,
    /// Account of the secrets.
    pub account_id: AccountId,
    /// Which secrets.
    pub scope: SecretScope,
    /// Customer-managed KMS keys.
    pub kms_key_arns: Vec<KmsKeyArn>,
    /// The AWS identity.
    pub identity: Identity,
    /// The Kubernetes side.
    pub eso: Eso,
    /// Whether the cluster runs on GCP (the GCP cross-cloud setup, or `web-identity`).
    pub cross_cloud: bool,
    /// `web-identity`: the earlier access of the configuration whose stack creates the
    /// IAM OIDC provider of the issuer in this access's account (IAM allows one per
    /// issuer per account), so this access's stack finds it; `None` when this access's
    /// stack creates it (or the setup has no provider).
    pub oidc_provider_from: Option<KubeLabel>,
}

/// One statement of an identity policy (always `Effect: Allow`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Statement id (letters and digits).
    pub sid: &'static str,
    /// Actions.
    pub actions: Vec<String>,
    /// Resources.
    pub resources: Vec<String>,
    /// Optional `StringEquals` condition: (key, value).
    pub string_equals: Option<(String, String)>,
}

impl Access {
    /// The identity policy the access needs: the vendor's single statement on `*` for
    /// the automatic setup; otherwise the four resource-scoped actions on the scoped
    /// resources plus `ListSecrets` on `*`; plus `kms:Decrypt` through Secrets Manager
    /// on the given keys.
    pub fn policy_statements(&self) -> Vec<Statement> {
        let mut statements = Vec::new();
        match &self.scope {
            SecretScope::EntireAccount => statements.push(Statement {
                sid: "ReadAllSecretsOfTheAccount",
                actions: SECRETS_MANAGER_ACTIONS
                    .iter()
                    .map(|a| a.to_string())
                    .collect(),
                resources: vec!["*".to_owned()],
                string_equals: None,
            }),
            scope => {
                statements.push(Statement {
                    sid: "ReadScopedSecrets",
                    actions: SECRETS_MANAGER_ACTIONS
                        .iter()
                        .filter(|a| **a != LIST_SECRETS_ACTION)
                        .map(|a| a.to_string())
                        .collect(),
                    resources: self.secret_resources(scope),
                    string_equals: None,
                });
                statements.push(Statement {
                    sid: "ListSecretsRequiresStar",
                    actions: vec![LIST_SECRETS_ACTION.to_owned()],
                    resources: vec!["*".to_owned()],
                    string_equals: None,
                });
            }
        }
        if !self.kms_key_arns.is_empty() {
            statements.push(Statement {
                sid: "AllowKMSDecrypt",
                actions: vec!["kms:Decrypt".to_owned()],
                resources: self.kms_key_arns.iter().map(|k| k.to_string()).collect(),
                string_equals: Some((
                    "kms:ViaService".to_owned(),
                    format!(
                        "secretsmanager.{}.{}",
                        self.region,
                        self.region.partition().dns_suffix()
                    ),
                )),
            });
        }
        statements
    }

    /// The ARN prefix of every secret of the access's account and region.
    pub fn secret_arn_prefix(&self) -> String {
        format!(
            "arn:{}:secretsmanager:{}:{}:secret:",
            self.region.partition().as_str(),
            self.region,
            self.account_id
        )
    }

    fn secret_resources(&self, scope: &SecretScope) -> Vec<String> {
        let prefix = self.secret_arn_prefix();
        match scope {
            SecretScope::EntireAccount => vec!["*".to_owned()],
            SecretScope::EntireRegion => vec![format!("{prefix}*")],
            SecretScope::Selected {
                names,
                prefixes,
                arn_patterns,
            } => names
                .iter()
                .map(|n| format!("{prefix}{n}-??????"))
                .chain(prefixes.iter().map(|p| format!("{prefix}{p}*")))
                .chain(arn_patterns.iter().map(|p| p.to_string()))
                .collect(),
        }
    }

    /// The service-account subject the role trusts (`system:serviceaccount:NS:SA`), for
    /// IRSA setups.
    pub fn service_account_subject(&self) -> Option<String> {
        self.eso
            .service_account
            .as_ref()
            .map(|sa| format!("system:serviceaccount:{}:{}", self.eso.namespace, sa))
    }

    /// A secret key to use in the example `ExternalSecret`: the first exact name, else
    /// something under the first prefix, else a placeholder.
    pub fn example_remote_key(&self) -> String {
        match &self.scope {
            SecretScope::Selected {
                names, prefixes, ..
            } => {
                if let Some(name) = names.first() {
                    name.to_string()
                } else if let Some(prefix) = prefixes.first() {
                    format!("{prefix}example")
                } else {
                    "example-secret".to_owned()
                }
            }
            _ => "example-secret".to_owned(),
        }
    }
}
