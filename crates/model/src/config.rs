//! The configuration file as written by a platform team (YAML), before validation.
//!
//! Every field is optional here so that a missing field becomes a validation error that
//! names the field and the fix, instead of a bare parser message. Unknown fields are
//! rejected (`deny_unknown_fields`): a typo never silently widens or narrows an access.
//! See `examples/aws-role-arn.yaml` for a commented example of every field.

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::ConfigError;

/// A whole configuration file: one cluster and the accesses it gets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The Kubernetes cluster that reads the secrets.
    pub cluster: Option<ClusterConfig>,
    /// Its accesses to AWS Secrets Manager (one ESO store each).
    #[serde(default)]
    pub accesses: Vec<AccessConfig>,
}

/// Where a cluster runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    /// Amazon EKS.
    Aws,
    /// Google GKE: static credentials (the vendor's GCP cross-cloud setup) or sma's
    /// `web-identity` setup.
    Gcp,
}

/// The cluster section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// Cluster name (used in default IAM role and user names).
    pub name: Option<String>,
    /// `aws` or `gcp`.
    pub cloud: Option<Cloud>,
    /// AWS clusters: the account the cluster (and any IRSA role) lives in.
    #[serde(default, deserialize_with = "quoted_string")]
    pub account_id: Option<String>,
    /// AWS clusters: the cluster's AWS region; GCP clusters: its GCP region (optional).
    pub region: Option<String>,
    /// The OIDC issuer URL: AWS clusters (needed by `automatic` and `role-arn`); GCP
    /// clusters (optional, `web-identity`): overrides the issuer derived from
    /// `project_id`, `location` and `name`.
    pub oidc_issuer: Option<String>,
    /// GCP clusters: the project id.
    pub project_id: Option<String>,
    /// GCP clusters: the cluster's location, a region (`europe-west1`, regional
    /// cluster) or a zone (`europe-west1-b`, zonal cluster); with `project_id` and
    /// `name` it gives the issuer of the `web-identity` setup.
    pub location: Option<String>,
}

/// How the cluster's ESO gets AWS credentials for one access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Setup {
    /// IRSA with the role the platform creates itself: every secret of the account.
    Automatic,
    /// IRSA with a role the customer creates (our CloudFormation stack), scopable.
    RoleArn,
    /// An IAM user's access key stored in a Kubernetes Secret (AWS or GCP clusters).
    StaticCredentials,
    /// sma's own setup, not one of the vendor's: from a GKE cluster, a role assumed by
    /// web identity with the service account's token, trusted through an IAM OIDC
    /// provider for the cluster's public issuer (IRSA's mechanism, outside EKS).
    ///
    /// Only `gcp` clusters may use it. On an `aws` (EKS) cluster the cluster's issuer
    /// is EKS's, and `role-arn` already gives exactly this trust with the vendor's
    /// support; a second web-identity role there would also sidestep the vendor's rule
    /// of one IRSA access per cluster. Self-managed clusters with their own issuer are
    /// not modelled as a cloud yet.
    WebIdentity,
}

impl Setup {
    /// The name as written in configuration files.
    pub fn as_str(self) -> &'static str {
        match self {
            Setup::Automatic => "automatic",
            Setup::RoleArn => "role-arn",
            Setup::StaticCredentials => "static-credentials",
            Setup::WebIdentity => "web-identity",
        }
    }

    /// Whether the setup uses a role assumed by web identity with the service
    /// account's token (IRSA on EKS, or sma's `web-identity` elsewhere): a role, a
    /// ServiceAccount annotated with it, a store with `auth.jwt`.
    pub fn uses_irsa(self) -> bool {
        matches!(self, Setup::Automatic | Setup::RoleArn | Setup::WebIdentity)
    }

    /// Whether the setup is one of the vendor's IRSA setups (`automatic`, `role-arn`),
    /// subject to the vendor's rules (EKS only, at most one per cluster).
    pub fn is_vendor_irsa(self) -> bool {
        matches!(self, Setup::Automatic | Setup::RoleArn)
    }

    /// Whether the setup is sma's own, not available in the vendor's console.
    pub fn is_sma_only(self) -> bool {
        matches!(self, Setup::WebIdentity)
    }
}

/// One access section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessConfig {
    /// Access name: a Kubernetes name; it names the ESO store and the output directory.
    pub name: Option<String>,
    /// `automatic`, `role-arn`, `static-credentials` or `web-identity`.
    pub setup: Option<Setup>,
    /// AWS region of the secrets (defaults to an AWS cluster's region).
    pub region: Option<String>,
    /// Account of the secrets (defaults to an AWS cluster's account).
    #[serde(default, deserialize_with = "quoted_string")]
    pub account_id: Option<String>,
    /// Which secrets; omitted = every secret of the account and region.
    pub secrets: Option<SecretsConfig>,
    /// Customer-managed KMS keys that encrypt some of the secrets.
    #[serde(default)]
    pub kms_key_arns: Vec<String>,
    /// Role setups (IRSA, web-identity): name of the IAM role (default
    /// `eso-<cluster>-<access>`).
    pub role_name: Option<String>,
    /// Static setups: name of the IAM user (default `eso-<cluster>-<access>`).
    pub user_name: Option<String>,
    /// How ESO is set up in the cluster.
    #[serde(default)]
    pub eso: EsoConfig,
}

/// The `secrets` scope of an access.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsConfig {
    /// Exact secret names (each becomes `name-??????`).
    #[serde(default)]
    pub names: Vec<String>,
    /// Name prefixes (each becomes `prefix*`).
    #[serde(default)]
    pub prefixes: Vec<String>,
    /// Raw secret ARN patterns, validated.
    #[serde(default)]
    pub arn_patterns: Vec<String>,
}

/// Kind of ESO store to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum StoreKind {
    /// A namespaced `SecretStore`, usable only from its namespace.
    SecretStore,
    /// A cluster-wide `ClusterSecretStore`.
    #[default]
    ClusterSecretStore,
}

impl StoreKind {
    /// The Kubernetes kind.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::SecretStore => "SecretStore",
            StoreKind::ClusterSecretStore => "ClusterSecretStore",
        }
    }
}

/// The `eso` section of an access.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EsoConfig {
    /// `SecretStore` or `ClusterSecretStore` (default).
    pub store_kind: Option<StoreKind>,
    /// Namespace of the service account / credentials Secret (and of a `SecretStore`);
    /// default `external-secrets`.
    pub namespace: Option<String>,
    /// IRSA setups: the service account ESO uses (default `external-secrets`).
    pub service_account: Option<String>,
    /// Static setups: name of the Kubernetes Secret holding the access key
    /// (default `<access>-aws-credentials`).
    pub credentials_secret: Option<String>,
    /// `ClusterSecretStore` only: the namespaces allowed to use the store
    /// (omitted = every namespace; an empty list is refused, as it reads like "none").
    pub allowed_namespaces: Option<Vec<String>>,
    /// Namespace of the example `ExternalSecret` (default: the store's namespace for a
    /// `SecretStore`, `default` for a `ClusterSecretStore`).
    pub example_namespace: Option<String>,
}

/// Accepts a string only; an unquoted number gets an error that explains the quotes.
fn quoted_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    struct Visitor;
    impl serde::de::Visitor<'_> for Visitor {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a quoted string such as \"123456789012\"")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Err(E::custom(format!(
                "account id {v} is written as a number; quote it (account_id: \"{v:012}\") so YAML keeps every digit"
            )))
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Err(E::custom(format!(
                "account id {v} is written as a number; write 12 digits in quotes"
            )))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Err(E::custom(format!(
                "account id {v} is written as a number; write 12 digits in quotes"
            )))
        }
    }
    deserializer.deserialize_any(Visitor)
}

impl ConfigFile {
    /// Parses YAML text (no validation yet: see [`ConfigFile::validate`]).
    pub fn from_yaml(text: &str) -> Result<Self, ConfigError> {
        serde_norway::from_str(text).map_err(|error| ConfigError::Syntax {
            message: error.to_string(),
        })
    }

    /// Reads and parses a YAML file.
    pub fn read(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_yaml(&text)
    }
}
