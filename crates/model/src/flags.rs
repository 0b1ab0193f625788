//! A single access described by command-line flags instead of a file. It becomes an
//! ordinary [`ConfigFile`], validated by the same rules; errors then name the flag.

use crate::config::{
    AccessConfig, Cloud, ClusterConfig, ConfigFile, EsoConfig, SecretsConfig, Setup, StoreKind,
};
use crate::error::ValidationErrors;

/// Default access name when `--name` is not given.
pub const DEFAULT_ACCESS_NAME: &str = "aws-secrets-manager";
/// Default cluster name when `--cluster-name` is not given.
pub const DEFAULT_CLUSTER_NAME: &str = "cluster";

/// Everything the flags of `sma generate` can say about one access.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SingleAccess {
    /// `--setup`.
    pub setup: Option<Setup>,
    /// `--cloud` (default aws).
    pub cloud: Option<Cloud>,
    /// `--cluster-name`.
    pub cluster_name: Option<String>,
    /// `--name` of the access.
    pub name: Option<String>,
    /// `--account-id`: the cluster's account on aws, the secrets' account on gcp.
    pub account_id: Option<String>,
    /// `--region`: of the cluster and of the secrets.
    pub region: Option<String>,
    /// `--oidc-issuer`.
    pub oidc_issuer: Option<String>,
    /// `--project-id` (gcp).
    pub project_id: Option<String>,
    /// `--location` (gcp: the cluster's region or zone, for `web-identity`).
    pub location: Option<String>,
    /// `--secret-name`, repeatable.
    pub secret_names: Vec<String>,
    /// `--prefix`, repeatable.
    pub prefixes: Vec<String>,
    /// `--arn-pattern`, repeatable.
    pub arn_patterns: Vec<String>,
    /// `--kms-key-arn`, repeatable.
    pub kms_key_arns: Vec<String>,
    /// `--role-name`.
    pub role_name: Option<String>,
    /// `--user-name`.
    pub user_name: Option<String>,
    /// `--store-kind`.
    pub store_kind: Option<StoreKind>,
    /// `--namespace`.
    pub namespace: Option<String>,
    /// `--service-account`.
    pub service_account: Option<String>,
}

impl SingleAccess {
    /// The equivalent configuration file.
    pub fn to_config(&self) -> ConfigFile {
        let cloud = self.cloud.unwrap_or(Cloud::Aws);
        let scoped = !(self.secret_names.is_empty()
            && self.prefixes.is_empty()
            && self.arn_patterns.is_empty());
        let (cluster_account, access_account, cluster_region) = match cloud {
            Cloud::Aws => (self.account_id.clone(), None, self.region.clone()),
            Cloud::Gcp => (None, self.account_id.clone(), None),
        };
        ConfigFile {
            cluster: Some(ClusterConfig {
                name: Some(
                    self.cluster_name
                        .clone()
                        .unwrap_or_else(|| DEFAULT_CLUSTER_NAME.to_owned()),
                ),
                cloud: Some(cloud),
                account_id: cluster_account,
                region: cluster_region,
                oidc_issuer: self.oidc_issuer.clone(),
                project_id: self.project_id.clone(),
                location: self.location.clone(),
            }),
            accesses: vec![AccessConfig {
                name: Some(
                    self.name
                        .clone()
                        .unwrap_or_else(|| DEFAULT_ACCESS_NAME.to_owned()),
                ),
                setup: self.setup,
                region: self.region.clone(),
                account_id: access_account,
                secrets: scoped.then(|| SecretsConfig {
                    names: self.secret_names.clone(),
                    prefixes: self.prefixes.clone(),
                    arn_patterns: self.arn_patterns.clone(),
                }),
                kms_key_arns: self.kms_key_arns.clone(),
                role_name: self.role_name.clone(),
                user_name: self.user_name.clone(),
                eso: EsoConfig {
                    store_kind: self.store_kind,
                    namespace: self.namespace.clone(),
                    service_account: self.service_account.clone(),
                    ..EsoConfig::default()
                },
            }],
        }
    }

    /// Validates, renaming each error's field to the flag that sets it.
    pub fn validate(&self) -> Result<crate::Plan, ValidationErrors> {
        self.to_config()
            .validate()
            .map_err(|ValidationErrors(errors)| {
                ValidationErrors(
                    errors
                        .into_iter()
                        .map(|mut error| {
                            error.field = flag_for_field(&error.field);
                            error.fix = error
                                .fix
                                .replace("oidc_issuer", "--oidc-issuer")
                                .replace("`location: ", "`--location ");
                            error
                        })
                        .collect(),
                )
            })
    }
}

/// The flag that sets a configuration field (`accesses[0].secrets.prefixes[1]` →
/// `--prefix (2nd)`); unknown fields are returned unchanged.
pub fn flag_for_field(field: &str) -> String {
    let (base, index) = match field.rsplit_once('[') {
        Some((base, rest)) if field.ends_with(']') && !base.ends_with("accesses") => {
            (base, rest.trim_end_matches(']').parse::<usize>().ok())
        }
        _ => (field, None),
    };
    let flag = match base {
        "cluster.name" => "--cluster-name",
        "cluster.cloud" => "--cloud",
        "cluster.account_id" | "accesses[0].account_id" => "--account-id",
        "cluster.region" | "accesses[0].region" => "--region",
        "cluster.oidc_issuer" => "--oidc-issuer",
        "cluster.project_id" => "--project-id",
        "cluster.location" => "--location",
        "accesses[0].name" => "--name",
        "accesses[0].setup" => "--setup",
        "accesses[0].secrets" => "--secret-name/--prefix/--arn-pattern",
        "accesses[0].secrets.names" => "--secret-name",
        "accesses[0].secrets.prefixes" => "--prefix",
        "accesses[0].secrets.arn_patterns" => "--arn-pattern",
        "accesses[0].kms_key_arns" => "--kms-key-arn",
        "accesses[0].role_name" => "--role-name",
        "accesses[0].user_name" => "--user-name",
        "accesses[0].eso.store_kind" => "--store-kind",
        "accesses[0].eso.namespace" => "--namespace",
        "accesses[0].eso.service_account" => "--service-account",
        _ => return field.to_owned(),
    };
    match index {
        Some(i) => format!("{flag} (occurrence {})", i + 1),
        None => flag.to_owned(),
    }
}
