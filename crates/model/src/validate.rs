//! Validation: turns a [`ConfigFile`] into a [`Plan`], or lists every problem with the
//! field that has it and the fix. The vendor's rules live here.

use std::collections::BTreeMap;

use crate::config::{AccessConfig, Cloud, ClusterConfig, ConfigFile, Setup, StoreKind};
use crate::error::{ErrorKind, ValidationError, ValidationErrors};
use crate::plan::{Access, Cluster, Eso, Identity, Placement, Plan, SecretScope};
use crate::values::{
    gke_issuer, shown, AccountId, ClusterName, GcpLocation, GcpProjectId, GcpRegion, IamName,
    KmsKeyArn, KubeLabel, KubeName, OidcIssuer, Region, Rejection, SecretArnPattern, SecretName,
    SecretPrefix,
};

/// Default namespace of ESO.
pub const DEFAULT_NAMESPACE: &str = "external-secrets";
/// Default service account of ESO.
pub const DEFAULT_SERVICE_ACCOUNT: &str = "external-secrets";

/// Collects errors while walking the configuration.
#[derive(Default)]
struct Collector {
    errors: Vec<ValidationError>,
}

impl Collector {
    fn push(
        &mut self,
        kind: ErrorKind,
        field: &str,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.errors
            .push(ValidationError::new(kind, field, problem, fix));
    }

    fn missing(&mut self, field: &str, fix: impl Into<String>) {
        self.push(ErrorKind::Missing, field, "is missing", fix);
    }

    fn not_allowed(&mut self, field: &str, problem: impl Into<String>, fix: impl Into<String>) {
        self.push(ErrorKind::NotAllowed, field, problem, fix);
    }

    /// Parses an optional value; records a malformed one.
    fn parse<T>(
        &mut self,
        field: &str,
        value: Option<&str>,
        parse: impl FnOnce(&str) -> Result<T, Rejection>,
    ) -> Option<T> {
        match parse(value?) {
            Ok(parsed) => Some(parsed),
            Err(rejection) => {
                self.push(
                    ErrorKind::Malformed,
                    field,
                    rejection.problem,
                    rejection.fix,
                );
                None
            }
        }
    }

    /// Parses a required value; records a missing or malformed one.
    fn require<T>(
        &mut self,
        field: &str,
        value: Option<&str>,
        fix_if_missing: &str,
        parse: impl FnOnce(&str) -> Result<T, Rejection>,
    ) -> Option<T> {
        if value.is_none() {
            self.missing(field, fix_if_missing);
            return None;
        }
        self.parse(field, value, parse)
    }
}

impl ConfigFile {
    /// Validates the configuration against the field formats and the vendor's rules.
    pub fn validate(&self) -> Result<Plan, ValidationErrors> {
        let mut c = Collector::default();
        let cluster = match &self.cluster {
            Some(cluster) => validate_cluster(&mut c, cluster),
            None => {
                c.missing(
                    "cluster",
                    "add a `cluster:` section with name, cloud and (aws) account_id and region",
                );
                None
            }
        };
        if self.accesses.is_empty() {
            c.missing(
                "accesses",
                "add at least one access under `accesses:` (name, setup, region)",
            );
        }
        let mut accesses = Vec::new();
        if let Some(cluster) = &cluster {
            for (index, access) in self.accesses.iter().enumerate() {
                if let Some(access) = validate_access(&mut c, cluster, index, access) {
                    accesses.push(access);
                }
            }
            check_cluster_rules(&mut c, cluster, &self.accesses);
        }
        if !c.errors.is_empty() {
            return Err(ValidationErrors(c.errors));
        }
        let cluster = cluster.expect("a cluster without errors was validated");
        check_unique(&mut c, &accesses);
        if !c.errors.is_empty() {
            return Err(ValidationErrors(c.errors));
        }
        share_oidc_providers(&mut accesses);
        Ok(Plan { cluster, accesses })
    }
}

fn validate_cluster(c: &mut Collector, cluster: &ClusterConfig) -> Option<Cluster> {
    let name = c.require(
        "cluster.name",
        cluster.name.as_deref(),
        "add `name: <cluster name>` under `cluster:`",
        ClusterName::parse,
    );
    let Some(cloud) = cluster.cloud else {
        c.missing(
            "cluster.cloud",
            "add `cloud: aws` (EKS) or `cloud: gcp` (GKE)",
        );
        return None;
    };
    let placement = match cloud {
        Cloud::Aws => {
            for (field, value) in [
                ("cluster.project_id", &cluster.project_id),
                ("cluster.location", &cluster.location),
            ] {
                if value.is_some() {
                    c.not_allowed(
                        field,
                        "is only for gcp clusters",
                        "remove it, or set `cloud: gcp`",
                    );
                }
            }
            let account_id = c.require(
                "cluster.account_id",
                cluster.account_id.as_deref(),
                "add the cluster's 12-digit AWS account id in quotes: account_id: \"123456789012\"",
                AccountId::parse,
            );
            let region = c.require(
                "cluster.region",
                cluster.region.as_deref(),
                "add the cluster's AWS region, e.g. region: eu-west-3",
                Region::parse,
            );
            let oidc_issuer = c.parse(
                "cluster.oidc_issuer",
                cluster.oidc_issuer.as_deref(),
                OidcIssuer::parse,
            );
            if cluster.oidc_issuer.is_some() && oidc_issuer.is_none() {
                return None;
            }
            Placement::Aws {
                account_id: account_id?,
                region: region?,
                oidc_issuer,
            }
        }
        Cloud::Gcp => {
            if cluster.account_id.is_some() {
                c.not_allowed(
                    "cluster.account_id",
                    "is only for aws clusters (a GKE cluster has no AWS account)",
                    "remove it; give each access its account_id instead",
                );
            }
            let project_id = c.require(
                "cluster.project_id",
                cluster.project_id.as_deref(),
                "add the GCP project id: project_id: my-project",
                GcpProjectId::parse,
            );
            let region = c.parse(
                "cluster.region",
                cluster.region.as_deref(),
                GcpRegion::parse,
            );
            if cluster.region.is_some() && region.is_none() {
                return None;
            }
            let location = c.parse(
                "cluster.location",
                cluster.location.as_deref(),
                GcpLocation::parse,
            );
            let explicit_issuer = c.parse(
                "cluster.oidc_issuer",
                cluster.oidc_issuer.as_deref(),
                |value| {
                    OidcIssuer::parse(value).map_err(|mut rejection| {
                        rejection.fix = "write the cluster's issuer as an https URL, e.g. https://container.googleapis.com/v1/projects/my-project/locations/europe-west1/clusters/prod (`gcloud container clusters describe CLUSTER --location LOCATION --format='value(selfLink)'` gives its path), or remove oidc_issuer to derive it from project_id, location and name".to_owned();
                        rejection
                    })
                },
            );
            if (cluster.location.is_some() && location.is_none())
                || (cluster.oidc_issuer.is_some() && explicit_issuer.is_none())
            {
                return None;
            }
            let project_id = project_id?;
            let name = name.clone()?;
            let oidc_issuer = match (explicit_issuer, &location) {
                (Some(issuer), _) => Some(issuer),
                (None, Some(location)) => c.parse("cluster.location", Some(""), |_| {
                    gke_issuer(&project_id, location, &name)
                }),
                (None, None) => None,
            };
            Placement::Gcp {
                project_id,
                region,
                location,
                oidc_issuer,
            }
        }
    };
    Some(Cluster {
        name: name?,
        placement,
    })
}

/// Rules across accesses: automatic and role-arn are mutually exclusive (at most one
/// IRSA access per cluster) and EKS-only; `web-identity` is for gcp clusters only (see
/// [`Setup::WebIdentity`] for why) and needs the cluster's issuer; IRSA needs the
/// issuer.
fn check_cluster_rules(c: &mut Collector, cluster: &Cluster, accesses: &[AccessConfig]) {
    let mut first_irsa: Option<(usize, Setup)> = None;
    let mut issuer_reported = false;
    for (index, access) in accesses.iter().enumerate() {
        let Some(setup) = access.setup else { continue };
        let field = format!("accesses[{index}].setup");
        match &cluster.placement {
            Placement::Gcp { oidc_issuer, .. } => {
                if setup.is_vendor_irsa() {
                    c.not_allowed(
                        &field,
                        format!(
                            "`{}` is not available on a gcp cluster: it is EKS's IRSA, and the vendor's GCP cross-cloud setup uses static credentials only",
                            setup.as_str()
                        ),
                        "set `setup: web-identity` (keyless: a role trusting the GKE cluster's OIDC issuer, sma's own setup) or `setup: static-credentials` (an IAM user's access key stored in a Kubernetes Secret)",
                    );
                } else if setup == Setup::WebIdentity && oidc_issuer.is_none() && !issuer_reported {
                    issuer_reported = true;
                    c.missing(
                        "cluster.location",
                        format!(
                            "accesses[{index}] uses `web-identity`, which needs the GKE cluster's OIDC issuer: add the cluster's location (`location: europe-west1` for a regional cluster, `location: europe-west1-b` for a zonal one, as `gcloud container clusters list` shows it), or give the issuer itself as oidc_issuer"
                        ),
                    );
                }
            }
            Placement::Aws { oidc_issuer, .. } => {
                if setup == Setup::WebIdentity {
                    c.not_allowed(
                        &field,
                        "`web-identity` is for clusters outside EKS (gcp clusters): an EKS cluster's issuer is trusted through IRSA",
                        "set `setup: role-arn`: the same keyless trust (a role assumed by web identity), supported by the vendor",
                    );
                    continue;
                }
                if !setup.uses_irsa() {
                    continue;
                }
                if let Some((first, first_setup)) = first_irsa {
                    c.push(
                        ErrorKind::Conflict,
                        &field,
                        format!(
                            "`{}` conflicts with accesses[{first}] (`{}`): automatic and role-arn are mutually exclusive, at most one per cluster",
                            setup.as_str(),
                            first_setup.as_str()
                        ),
                        format!("keep one IRSA access per cluster: merge this access's secrets into accesses[{first}] if they are in its region (an IRSA access's store reads one region), or use `setup: static-credentials` here (e.g. for secrets in another region)"),
                    );
                } else {
                    first_irsa = Some((index, setup));
                    if oidc_issuer.is_none() {
                        c.missing(
                            "cluster.oidc_issuer",
                            format!(
                                "accesses[{index}] uses `{}`, which needs the cluster's OIDC issuer: add oidc_issuer (from `aws eks describe-cluster --name CLUSTER --query cluster.identity.oidc.issuer`), or use static-credentials",
                                setup.as_str()
                            ),
                        );
                    }
                }
            }
        }
    }
}

fn default_iam_name(cluster: &Cluster, access: &KubeLabel) -> String {
    format!("eso-{}-{}", cluster.name, access)
}

/// The path of a field of access `index` (`accesses[2].secrets.names[0]`).
#[derive(Clone, Copy)]
struct AccessAt(usize);

impl AccessAt {
    fn at(self, field: &str) -> String {
        format!("accesses[{}].{field}", self.0)
    }
}

fn validate_access(
    c: &mut Collector,
    cluster: &Cluster,
    index: usize,
    access: &AccessConfig,
) -> Option<Access> {
    let path = AccessAt(index);
    let errors_before = c.errors.len();
    let name = c.require(
        &path.at("name"),
        access.name.as_deref(),
        "add `name: <access name>`, a Kubernetes name such as staging-secrets (it names the ESO store)",
        KubeLabel::parse,
    );
    let setup = access.setup;
    if setup.is_none() {
        c.missing(
            &path.at("setup"),
            "add `setup: automatic`, `setup: role-arn`, `setup: static-credentials` or (gcp clusters) `setup: web-identity`",
        );
    }
    let (region, account_id) = access_location(c, path, cluster, setup, access);
    let scope = secret_scope(c, path, setup, access, &region, &account_id);
    let kms_key_arns: Vec<KmsKeyArn> = match &region {
        Some(region) => access
            .kms_key_arns
            .iter()
            .enumerate()
            .filter_map(|(i, k)| {
                c.parse(&path.at(&format!("kms_key_arns[{i}]")), Some(k), |v| {
                    KmsKeyArn::parse(v, region)
                })
            })
            .collect(),
        None => Vec::new(),
    };
    check_duplicates(c, &path.at("kms_key_arns"), &access.kms_key_arns);
    let irsa = setup.map(Setup::uses_irsa);
    let iam_name = iam_name(c, path, cluster, setup, access, &name);
    let eso = eso_side(c, path, irsa, access, &name);

    if c.errors.len() > errors_before {
        return None;
    }
    let (name, setup, region, account_id, scope, iam_name, eso) =
        (name?, setup?, region?, account_id?, scope?, iam_name?, eso?);
    let identity = identity_of(cluster, setup, &region, &account_id, iam_name)?;
    Some(Access {
        name,
        setup,
        region,
        account_id,
        scope,
        kms_key_arns,
        identity,
        eso,
        cross_cloud: matches!(cluster.placement, Placement::Gcp { .. }),
        oidc_provider_from: None,
    })
}

/// The access's region and account: its own, else the cluster's (an AWS cluster's); a
/// role of a vendor IRSA setup must live in the cluster's account.
fn access_location(
    c: &mut Collector,
    path: AccessAt,
    cluster: &Cluster,
    setup: Option<Setup>,
    access: &AccessConfig,
) -> (Option<Region>, Option<AccountId>) {
    let (cluster_account, cluster_region) = match &cluster.placement {
        Placement::Aws {
            account_id, region, ..
        } => (Some(account_id), Some(region)),
        Placement::Gcp { .. } => (None, None),
    };
    let region = match (&access.region, cluster_region) {
        (Some(region), _) => c.parse(&path.at("region"), Some(region), Region::parse),
        (None, Some(region)) => Some(region.clone()),
        (None, None) => {
            c.missing(
                &path.at("region"),
                "add the AWS region where the secrets live, e.g. region: eu-west-3 (a gcp cluster has no AWS region to default to)",
            );
            None
        }
    };
    let account_id = match (&access.account_id, cluster_account) {
        (Some(account), _) => c.parse(&path.at("account_id"), Some(account), AccountId::parse),
        (None, Some(account)) => Some(account.clone()),
        (None, None) => {
            c.missing(
                &path.at("account_id"),
                "add the 12-digit AWS account id of the secrets in quotes (a gcp cluster has no AWS account to default to)",
            );
            None
        }
    };
    if let (Some(setup), Some(account), Some(cluster_account)) =
        (setup, &account_id, cluster_account)
    {
        if setup.uses_irsa() && account != cluster_account {
            c.push(
                ErrorKind::Conflict,
                &path.at("account_id"),
                format!(
                    "a `{}` role lives in the cluster's account {cluster_account}, not {account}",
                    setup.as_str()
                ),
                format!("remove account_id (or set \"{cluster_account}\"); for secrets of another account use `setup: static-credentials` with an IAM user in that account"),
            );
        }
    }
    (region, account_id)
}

/// Which secrets the access may read.
fn secret_scope(
    c: &mut Collector,
    path: AccessAt,
    setup: Option<Setup>,
    access: &AccessConfig,
    region: &Option<Region>,
    account: &Option<AccountId>,
) -> Option<SecretScope> {
    let secrets = match (setup, &access.secrets) {
        (Some(Setup::Automatic), Some(_)) => {
            c.not_allowed(
                &path.at("secrets"),
                "the automatic setup always grants every secret of the account (Resource \"*\"); it cannot be scoped",
                "remove `secrets`, or use `setup: role-arn` to choose which secrets are readable",
            );
            return None;
        }
        (Some(Setup::Automatic), None) => return Some(SecretScope::EntireAccount),
        (_, None) => return Some(SecretScope::EntireRegion),
        (_, Some(secrets)) => secrets,
    };
    if secrets.names.is_empty() && secrets.prefixes.is_empty() && secrets.arn_patterns.is_empty() {
        c.push(
            ErrorKind::Missing,
            &path.at("secrets"),
            "lists no names, prefixes or arn_patterns",
            "list at least one entry, or remove `secrets` to grant every secret of the account and region",
        );
        return None;
    }
    let names: Vec<SecretName> = secrets
        .names
        .iter()
        .enumerate()
        .filter_map(|(i, n)| {
            c.parse(
                &path.at(&format!("secrets.names[{i}]")),
                Some(n),
                SecretName::parse,
            )
        })
        .collect();
    let prefixes: Vec<SecretPrefix> = secrets
        .prefixes
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            c.parse(
                &path.at(&format!("secrets.prefixes[{i}]")),
                Some(p),
                SecretPrefix::parse,
            )
        })
        .collect();
    let arn_patterns: Vec<SecretArnPattern> = match (region, account) {
        (Some(region), Some(account)) => secrets
            .arn_patterns
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                c.parse(
                    &path.at(&format!("secrets.arn_patterns[{i}]")),
                    Some(p),
                    |v| SecretArnPattern::parse(v, region, account),
                )
            })
            .collect(),
        _ => Vec::new(),
    };
    check_duplicates(c, &path.at("secrets.names"), &secrets.names);
    check_duplicates(c, &path.at("secrets.prefixes"), &secrets.prefixes);
    check_duplicates(c, &path.at("secrets.arn_patterns"), &secrets.arn_patterns);
    Some(SecretScope::Selected {
        names,
        prefixes,
        arn_patterns,
    })
}

/// The name of the access's IAM role (role setups) or user (static credentials): given,
/// else `eso-<cluster>-<access>`; the other setup's name field is refused.
fn iam_name(
    c: &mut Collector,
    path: AccessAt,
    cluster: &Cluster,
    setup: Option<Setup>,
    access: &AccessConfig,
    name: &Option<KubeLabel>,
) -> Option<IamName> {
    let (own_field, own_value, other_field, other_value) =
        if setup.map(Setup::uses_irsa) == Some(true) {
            (
                "role_name",
                &access.role_name,
                "user_name",
                &access.user_name,
            )
        } else {
            (
                "user_name",
                &access.user_name,
                "role_name",
                &access.role_name,
            )
        };
    if let (Some(setup), Some(_)) = (setup, other_value) {
        c.not_allowed(
            &path.at(other_field),
            format!("is not used by the `{}` setup", setup.as_str()),
            format!("remove {other_field}; this setup's IAM name is `{own_field}`"),
        );
    }
    match (own_value, name) {
        (Some(value), _) => c.parse(&path.at(own_field), Some(value), IamName::parse),
        (None, Some(name)) => {
            let default = default_iam_name(cluster, name);
            match IamName::parse(&default) {
                Ok(parsed) => Some(parsed),
                Err(_) => {
                    c.push(
                        ErrorKind::Malformed,
                        &path.at(own_field),
                        format!(
                            "the default name \"{default}\" is {} characters long; IAM names are at most 64",
                            default.len()
                        ),
                        format!("set `{own_field}` to a name of at most 64 characters"),
                    );
                    None
                }
            }
        }
        (None, None) => None,
    }
}

/// The Kubernetes side: the store, the service account (role setups) or the
/// credentials Secret (static credentials), the namespaces.
fn eso_side(
    c: &mut Collector,
    path: AccessAt,
    irsa: Option<bool>,
    access: &AccessConfig,
    name: &Option<KubeLabel>,
) -> Option<Eso> {
    let eso = &access.eso;
    let store_kind = eso.store_kind.unwrap_or_default();
    let namespace = c.parse(
        &path.at("eso.namespace"),
        Some(eso.namespace.as_deref().unwrap_or(DEFAULT_NAMESPACE)),
        KubeLabel::parse,
    );
    let service_account = if irsa == Some(true) {
        c.parse(
            &path.at("eso.service_account"),
            Some(
                eso.service_account
                    .as_deref()
                    .unwrap_or(DEFAULT_SERVICE_ACCOUNT),
            ),
            KubeName::parse,
        )
    } else {
        if eso.service_account.is_some() {
            c.not_allowed(
                &path.at("eso.service_account"),
                "is only used by role setups (IRSA: automatic, role-arn; web-identity); static credentials authenticate with the access key",
                "remove eso.service_account",
            );
        }
        None
    };
    let credentials_secret = if irsa == Some(false) {
        match (&eso.credentials_secret, name) {
            (Some(secret), _) => c.parse(
                &path.at("eso.credentials_secret"),
                Some(secret),
                KubeName::parse,
            ),
            (None, Some(name)) => KubeName::parse(&format!("{name}-aws-credentials")).ok(),
            (None, None) => None,
        }
    } else {
        if eso.credentials_secret.is_some() {
            c.not_allowed(
                &path.at("eso.credentials_secret"),
                "is only used by the static-credentials setup",
                "remove eso.credentials_secret",
            );
        }
        None
    };
    let listed_namespaces = eso.allowed_namespaces.as_deref().unwrap_or_default();
    if store_kind == StoreKind::SecretStore && eso.allowed_namespaces.is_some() {
        c.not_allowed(
            &path.at("eso.allowed_namespaces"),
            "only applies to a ClusterSecretStore (a SecretStore is only usable from its own namespace)",
            "remove allowed_namespaces, or set `store_kind: ClusterSecretStore`",
        );
    } else if eso.allowed_namespaces.as_ref().is_some_and(Vec::is_empty) {
        c.push(
            ErrorKind::Missing,
            &path.at("eso.allowed_namespaces"),
            "is an empty list, which reads like \"no namespace\" but would leave the ClusterSecretStore usable from every namespace",
            "list the namespaces allowed to use the store, or remove allowed_namespaces to allow every namespace",
        );
    }
    let allowed_namespaces: Vec<KubeLabel> = listed_namespaces
        .iter()
        .enumerate()
        .filter_map(|(i, n)| {
            c.parse(
                &path.at(&format!("eso.allowed_namespaces[{i}]")),
                Some(n),
                KubeLabel::parse,
            )
        })
        .collect();
    check_duplicates(c, &path.at("eso.allowed_namespaces"), listed_namespaces);
    let example_namespace = match (&eso.example_namespace, store_kind, &namespace) {
        (Some(ns), _, _) => {
            let parsed = c.parse(
                &path.at("eso.example_namespace"),
                Some(ns),
                KubeLabel::parse,
            );
            if let (Some(parsed), StoreKind::SecretStore, Some(store_ns)) =
                (&parsed, store_kind, &namespace)
            {
                if parsed != store_ns {
                    c.push(
                        ErrorKind::Conflict,
                        &path.at("eso.example_namespace"),
                        format!("a SecretStore in `{store_ns}` cannot serve an ExternalSecret in `{parsed}`"),
                        "remove example_namespace, or use `store_kind: ClusterSecretStore`",
                    );
                }
            }
            if let (Some(parsed), false) = (&parsed, allowed_namespaces.is_empty()) {
                if !allowed_namespaces.contains(parsed) {
                    c.push(
                        ErrorKind::Conflict,
                        &path.at("eso.example_namespace"),
                        format!("`{parsed}` is not in eso.allowed_namespaces"),
                        "add it to allowed_namespaces or choose one of them",
                    );
                }
            }
            parsed
        }
        (None, StoreKind::SecretStore, ns) => ns.clone(),
        (None, StoreKind::ClusterSecretStore, _) => Some(
            allowed_namespaces
                .first()
                .cloned()
                .unwrap_or_else(|| KubeLabel::parse("default").expect("valid label")),
        ),
    };
    Some(Eso {
        store_kind,
        namespace: namespace?,
        service_account,
        credentials_secret,
        allowed_namespaces,
        example_namespace: example_namespace?,
    })
}

/// The IAM identity ESO uses: a role trusting the cluster's issuer (vendor IRSA setups
/// in the cluster's account; web-identity in the secrets' account), or a user.
/// `None` when the setup needs an issuer the cluster lacks (already reported by
/// `check_cluster_rules`).
fn identity_of(
    cluster: &Cluster,
    setup: Setup,
    region: &Region,
    account_id: &AccountId,
    iam_name: IamName,
) -> Option<Identity> {
    let partition = region.partition().as_str();
    let role_in = |account: &AccountId, issuer: &OidcIssuer, name: IamName| Identity::Role {
        arn: format!("arn:{partition}:iam::{account}:role/{name}"),
        oidc_provider_arn: format!(
            "arn:{partition}:iam::{account}:oidc-provider/{}",
            issuer.host_and_path()
        ),
        oidc_issuer: issuer.clone(),
        name,
    };
    match (setup.uses_irsa(), &cluster.placement) {
        (
            true,
            Placement::Aws {
                account_id: cluster_account,
                oidc_issuer: Some(issuer),
                ..
            },
        ) if setup.is_vendor_irsa() => Some(role_in(cluster_account, issuer, iam_name)),
        (
            true,
            Placement::Gcp {
                oidc_issuer: Some(issuer),
                ..
            },
        ) if setup == Setup::WebIdentity => Some(role_in(account_id, issuer, iam_name)),
        (true, _) => None,
        (false, _) => Some(Identity::User {
            arn: format!("arn:{partition}:iam::{account_id}:user/{iam_name}"),
            name: iam_name,
        }),
    }
}

fn check_duplicates(c: &mut Collector, field: &str, values: &[String]) {
    let mut seen = BTreeMap::new();
    for (index, value) in values.iter().enumerate() {
        if let Some(first) = seen.insert(value.as_str(), index) {
            c.push(
                ErrorKind::Conflict,
                &format!("{field}[{index}]"),
                format!("{} repeats {field}[{first}]", shown(value)),
                "remove the duplicate",
            );
        }
    }
}

/// IAM allows one OIDC provider per issuer per account: the first `web-identity`
/// access of an account creates it, the later ones of the same account find it.
fn share_oidc_providers(accesses: &mut [Access]) {
    let mut creators: BTreeMap<String, KubeLabel> = BTreeMap::new();
    for access in accesses.iter_mut() {
        let Identity::Role {
            oidc_provider_arn, ..
        } = &access.identity
        else {
            continue;
        };
        if access.setup != Setup::WebIdentity {
            continue;
        }
        match creators.get(oidc_provider_arn) {
            Some(first) => access.oidc_provider_from = Some(first.clone()),
            None => {
                creators.insert(oidc_provider_arn.clone(), access.name.clone());
            }
        }
    }
}

/// Access names (store names, directories) and IAM names must be unique.
fn check_unique(c: &mut Collector, accesses: &[Access]) {
    let mut names = BTreeMap::new();
    let mut iam_names = BTreeMap::new();
    for (index, access) in accesses.iter().enumerate() {
        if let Some(first) = names.insert(access.name.as_str(), index) {
            c.push(
                ErrorKind::Conflict,
                &format!("accesses[{index}].name"),
                format!("`{}` is already the name of accesses[{first}]", access.name),
                "give every access its own name (it names the ESO store and the output directory)",
            );
        }
        // IAM names are unique per account, case-insensitively.
        let key = access.identity.arn().to_ascii_lowercase();
        if let Some(first) = iam_names.insert(key, index) {
            let field = if access.setup.uses_irsa() {
                "role_name"
            } else {
                "user_name"
            };
            c.push(
                ErrorKind::Conflict,
                &format!("accesses[{index}].{field}"),
                format!(
                    "IAM name `{}` is already used by accesses[{first}] in the same account",
                    access.identity.name()
                ),
                format!("set a distinct `{field}`"),
            );
        }
    }
}
