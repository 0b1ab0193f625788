//! The flags that describe one access without a configuration file, shared by
//! `sma generate` and `sma check` (the intent of artifacts sma did not generate). They
//! become an ordinary configuration (`model::SingleAccess`), validated by the same
//! rules; errors name the flag.

use clap::{ArgGroup, Args, ValueEnum};

/// One access described by flags.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("single_access").multiple(true)))]
pub struct SingleAccessArgs {
    /// Single access without a file: its setup.
    #[arg(
        long,
        value_enum,
        group = "single_access",
        required_unless_present = "config"
    )]
    pub setup: Option<SetupArg>,

    /// Single access: where the cluster runs (default aws).
    #[arg(long, value_enum, group = "single_access")]
    pub cloud: Option<CloudArg>,

    /// Single access: cluster name (default `cluster`), used in default IAM names.
    #[arg(long, group = "single_access")]
    pub cluster_name: Option<String>,

    /// Single access: access name, a Kubernetes name (default `aws-secrets-manager`).
    #[arg(long, group = "single_access")]
    pub name: Option<String>,

    /// Single access: the cluster's AWS account (aws) or the secrets' account (gcp).
    #[arg(long, group = "single_access")]
    pub account_id: Option<String>,

    /// Single access: AWS region of the cluster and of the secrets.
    #[arg(long, group = "single_access")]
    pub region: Option<String>,

    /// Single access: the cluster's OIDC issuer URL (automatic, role-arn; web-identity:
    /// overrides the GKE issuer derived from --project-id, --location, --cluster-name).
    #[arg(long, group = "single_access")]
    pub oidc_issuer: Option<String>,

    /// Single access: GCP project id (gcp clusters).
    #[arg(long, group = "single_access")]
    pub project_id: Option<String>,

    /// Single access: the GKE cluster's location, a region or a zone (web-identity).
    #[arg(long, group = "single_access")]
    pub location: Option<String>,

    /// Single access: an exact secret name it may read (repeatable).
    #[arg(long = "secret-name", value_name = "NAME", group = "single_access")]
    pub secret_names: Vec<String>,

    /// Single access: a secret name prefix it may read (repeatable).
    #[arg(long = "prefix", value_name = "PREFIX", group = "single_access")]
    pub prefixes: Vec<String>,

    /// Single access: a raw secret ARN pattern it may read (repeatable).
    #[arg(long = "arn-pattern", value_name = "ARN", group = "single_access")]
    pub arn_patterns: Vec<String>,

    /// Single access: a customer-managed KMS key ARN to decrypt with (repeatable).
    #[arg(long = "kms-key-arn", value_name = "ARN", group = "single_access")]
    pub kms_key_arns: Vec<String>,

    /// Single access: IAM role name (IRSA setups, web-identity).
    #[arg(long, group = "single_access")]
    pub role_name: Option<String>,

    /// Single access: IAM user name (static-credentials).
    #[arg(long, group = "single_access")]
    pub user_name: Option<String>,

    /// Single access: kind of ESO store (default ClusterSecretStore).
    #[arg(long, value_enum, group = "single_access")]
    pub store_kind: Option<StoreKindArg>,

    /// Single access: namespace of the ESO service account / credentials Secret.
    #[arg(long, group = "single_access")]
    pub namespace: Option<String>,

    /// Single access: the ESO service account the role trusts (IRSA setups,
    /// web-identity).
    #[arg(long, group = "single_access")]
    pub service_account: Option<String>,
}

/// `--setup` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SetupArg {
    /// IRSA with the platform's role: every secret of the account.
    Automatic,
    /// IRSA with a customer-created role (CloudFormation stack), scopable.
    RoleArn,
    /// An IAM user's access key in a Kubernetes Secret.
    StaticCredentials,
    /// sma's keyless setup for GKE: a role trusting the cluster's OIDC issuer.
    WebIdentity,
}

/// `--cloud` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CloudArg {
    /// Amazon EKS.
    Aws,
    /// Google GKE (static-credentials or web-identity).
    Gcp,
}

/// `--store-kind` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StoreKindArg {
    /// A namespaced SecretStore.
    #[value(name = "SecretStore")]
    SecretStore,
    /// A cluster-wide ClusterSecretStore.
    #[value(name = "ClusterSecretStore")]
    ClusterSecretStore,
}

impl SingleAccessArgs {
    /// The single access described by the flags.
    pub fn single_access(&self) -> model::SingleAccess {
        model::SingleAccess {
            setup: self.setup.map(|s| match s {
                SetupArg::Automatic => model::Setup::Automatic,
                SetupArg::RoleArn => model::Setup::RoleArn,
                SetupArg::StaticCredentials => model::Setup::StaticCredentials,
                SetupArg::WebIdentity => model::Setup::WebIdentity,
            }),
            cloud: self.cloud.map(|c| match c {
                CloudArg::Aws => model::Cloud::Aws,
                CloudArg::Gcp => model::Cloud::Gcp,
            }),
            cluster_name: self.cluster_name.clone(),
            name: self.name.clone(),
            account_id: self.account_id.clone(),
            region: self.region.clone(),
            oidc_issuer: self.oidc_issuer.clone(),
            project_id: self.project_id.clone(),
            location: self.location.clone(),
            secret_names: self.secret_names.clone(),
            prefixes: self.prefixes.clone(),
            arn_patterns: self.arn_patterns.clone(),
            kms_key_arns: self.kms_key_arns.clone(),
            role_name: self.role_name.clone(),
            user_name: self.user_name.clone(),
            store_kind: self.store_kind.map(|k| match k {
                StoreKindArg::SecretStore => model::StoreKind::SecretStore,
                StoreKindArg::ClusterSecretStore => model::StoreKind::ClusterSecretStore,
            }),
            namespace: self.namespace.clone(),
            service_account: self.service_account.clone(),
        }
    }
}
