//! What an access grants, in plain words, and the warnings a reviewer needs. Shared by
//! the `generate` command's output and each access's generated README.

use crate::plan::{Access, Identity, SecretScope, Setup, StoreKind};

/// The plain-language review of one access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantSummary {
    /// One sentence per thing the access can do.
    pub grants: Vec<String>,
    /// What a reviewer must know (broader than it looks, operational risks).
    pub warnings: Vec<String>,
}

impl Access {
    /// Describes what the access grants and what to watch out for.
    pub fn grant_summary(&self) -> GrantSummary {
        let mut grants = Vec::new();
        let mut warnings = Vec::new();
        let account = &self.account_id;
        let region = &self.region;
        let read = "read the value and metadata of";

        match &self.identity {
            Identity::Role {
                name, oidc_issuer, ..
            } => grants.push(format!(
                "IAM role `{name}` in account {account}, assumable only by the Kubernetes service account `{}` through the cluster's OIDC issuer {oidc_issuer} (audience {}).",
                self.service_account_subject().unwrap_or_default(),
                crate::plan::STS_AUDIENCE
            )),
            Identity::User { name, .. } => grants.push(format!(
                "IAM user `{name}` in account {account}; ESO authenticates with one of its access keys, stored in the Kubernetes Secret `{}/{}`.",
                self.eso.namespace,
                self.eso.credentials_secret.as_ref().map(|s| s.as_str()).unwrap_or_default()
            )),
        }

        match &self.scope {
            SecretScope::EntireAccount => {
                grants.push(format!(
                    "It can {read} every secret of account {account}, in every region (Resource \"*\")."
                ));
                warnings.push(format!(
                    "Automatic setup: the role reads EVERY secret of account {account} in every region, including secrets meant for other clusters or teams. Use role-arn with `secrets` to narrow it."
                ));
            }
            SecretScope::EntireRegion => {
                grants.push(format!(
                    "It can {read} every secret of account {account} in {region}."
                ));
                warnings.push(format!(
                    "No `secrets` scope: every secret of account {account} in {region} is readable, including those created later. List names or prefixes to narrow it."
                ));
            }
            SecretScope::Selected {
                names,
                prefixes,
                arn_patterns,
            } => {
                for name in names {
                    grants.push(format!(
                        "It can {read} the secret named exactly `{name}` in {region} of account {account} (ARN pattern `{name}-??????`)."
                    ));
                    if name.looks_like_arn_suffix() {
                        warnings.push(format!(
                            "Secret name `{name}` ends with a hyphen and six characters, like the random suffix AWS appends to ARNs; AWS advises against such names because partial-ARN lookups can pick the wrong secret."
                        ));
                    }
                }
                for prefix in prefixes {
                    grants.push(format!(
                        "It can {read} every secret whose name starts with `{prefix}` in {region} of account {account}, including ones created later."
                    ));
                    if prefix.ends_at_boundary() {
                        warnings.push(format!(
                            "Prefix `{prefix}` becomes `{prefix}*`: it also matches nested names such as `{prefix}a/b` and every future secret under it."
                        ));
                    } else {
                        warnings.push(format!(
                            "Prefix `{prefix}` becomes `{prefix}*`: it also matches `{prefix}foo` and `{prefix}-legacy`, not only `{prefix}/…`. End it with `/` or `-` if you meant a path."
                        ));
                    }
                }
                for pattern in arn_patterns {
                    grants.push(format!(
                        "It can {read} every secret whose ARN matches the raw pattern `{pattern}`."
                    ));
                    let name = pattern.name_pattern();
                    if name.contains('*') {
                        warnings.push(format!(
                            "Raw pattern `{pattern}`: `*` matches any run of characters (including `/`), so it may match more names than intended; prefer `names` (exact, `-??????`) or prefixes ending with `/`."
                        ));
                    } else if !name.ends_with("-??????") {
                        warnings.push(format!(
                            "Raw pattern `{pattern}` does not end with `-??????`: secret ARNs end with `-` and six random characters, so without a wildcard it may match no secret."
                        ));
                    }
                }
            }
        }

        grants.push(format!(
            "It can list the names and metadata (not the values) of every secret of account {account} (secretsmanager:ListSecrets on \"*\")."
        ));
        warnings.push(format!(
            "ListSecrets cannot be scoped by AWS: this identity sees the name, description, tags and other metadata of EVERY secret of account {account} in {region} (and in any other region it calls), not only the readable ones."
        ));

        for key in &self.kms_key_arns {
            grants.push(format!(
                "It can decrypt with the KMS key `{key}`, only through Secrets Manager in {region} (kms:ViaService)."
            ));
        }
        if !self.kms_key_arns.is_empty() {
            warnings.push(
                "kms:Decrypt is also decided by each key's key policy: it must allow this principal, or delegate to IAM policies of the account.".to_owned(),
            );
        }
        if Some(self.account_id.as_str()) != aws_wire::arn::account(self.identity.arn()) {
            warnings.push("Cross-account: the secrets also need a resource policy allowing this principal, and a customer-managed KMS key.".to_owned());
        }

        match self.eso.store_kind {
            StoreKind::ClusterSecretStore if self.eso.allowed_namespaces.is_empty() => {
                warnings.push(format!(
                    "ClusterSecretStore `{}` is usable from every namespace: anyone who can create an ExternalSecret anywhere in the cluster can read these secrets. Set eso.allowed_namespaces or use a SecretStore.",
                    self.name
                ));
            }
            StoreKind::ClusterSecretStore => {
                let namespaces: Vec<&str> = self
                    .eso
                    .allowed_namespaces
                    .iter()
                    .map(|n| n.as_str())
                    .collect();
                grants.push(format!(
                    "ExternalSecrets may use the ClusterSecretStore `{}` only from the namespaces {}.",
                    self.name,
                    namespaces.join(", ")
                ));
            }
            StoreKind::SecretStore => grants.push(format!(
                "Only ExternalSecrets in namespace `{}` can use the SecretStore `{}`.",
                self.eso.namespace, self.name
            )),
        }

        if self.setup == Setup::StaticCredentials {
            warnings.push(format!(
                "Static credentials: a long-lived access key. Anyone who can read the Secret `{}/{}` can use it from anywhere until it is deactivated; rotate it and never commit it.",
                self.eso.namespace,
                self.eso.credentials_secret.as_ref().map(|s| s.as_str()).unwrap_or_default()
            ));
            warnings.push(
                "ESO does not check static keys when it validates the store: a wrong or revoked key still shows the store as Ready until the first ExternalSecret fails.".to_owned(),
            );
        }
        if self.cross_cloud && self.setup == Setup::StaticCredentials {
            warnings.push("GCP cross-cloud: the AWS access key lives in the GKE cluster; protect the Secret as you would the AWS account.".to_owned());
            warnings.push("Prefer `setup: web-identity` (sma's own setup): no key at all, ESO's service-account token of this GKE cluster assumes a role through an IAM OIDC provider for the cluster's issuer, and only that service account can.".to_owned());
        }
        if self.setup.is_sma_only() {
            warnings.push(format!(
                "`{}` is sma's own setup, not one of the vendor's: the vendor's console does not offer it; deploy and review it from these files.",
                self.setup.as_str()
            ));
        }
        if let (Setup::WebIdentity, Identity::Role { oidc_issuer, .. }) =
            (self.setup, &self.identity)
        {
            warnings.push(match &self.oidc_provider_from {
                None => format!(
                    "The role trusts tokens of the issuer `{oidc_issuer}` only through an IAM OIDC provider in account {}, which the stack creates; IAM allows one provider per issuer per account, so if it already exists deploy the stack with OidcProviderExists=true.",
                    self.account_id
                ),
                Some(first) => format!(
                    "The role trusts tokens of the issuer `{oidc_issuer}` through the IAM OIDC provider that the stack of access `{first}` creates in account {} (one provider per issuer per account): deploy that stack first.",
                    self.account_id
                ),
            });
        }
        if matches!(self.setup, Setup::RoleArn | Setup::WebIdentity) {
            warnings.push(format!(
                "The role trusts only `{}`: ESO must use exactly this service account (auth.jwt.serviceAccountRef), otherwise AssumeRoleWithWebIdentity is denied.",
                self.service_account_subject().unwrap_or_default()
            ));
        }
        GrantSummary { grants, warnings }
    }
}
