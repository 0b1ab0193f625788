//! How ESO's AWS provider obtains credentials for a store and calls Secrets Manager
//! with them (`docs/eso-aws.md`, "How ESO obtains credentials").

use crate::manifests::{ExternalSecret, Manifests, SecretKeyRef, Store, StoreAuth};
use crate::EsoError;
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;

/// The session name ESO gives `AssumeRoleWithWebIdentity`.
pub const SESSION_NAME: &str = "external-secrets-provider-aws";
/// The audience ESO requests when the ServiceAccount has no audience annotation.
pub const DEFAULT_AUDIENCE: &str = "sts.amazonaws.com";

/// What ESO asks the Kubernetes TokenRequest API for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// Namespace of the service account.
    pub namespace: String,
    /// Name of the service account.
    pub service_account: String,
    /// Audiences, in ESO's order.
    pub audiences: Vec<String>,
}

/// AWS credentials ESO obtained. `Debug` never shows the secret parts.
#[derive(Clone)]
pub struct Credentials {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Session token of temporary credentials.
    pub session_token: Option<String>,
    /// Who they belong to: the role ARN assumed, or the Secret the key came from.
    pub source: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// A secret value read from Secrets Manager. `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(pub String);

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretValue(<hidden>)")
    }
}

/// The cluster as ESO sees it: service-account tokens and Secret values.
pub trait Cluster {
    /// A token for `request` (the TokenRequest API), or why none can be had.
    fn token(&self, request: &TokenRequest) -> Result<String, String>;
    /// The value of `key` in the Secret `namespace/name`.
    fn secret_value(&self, namespace: &str, name: &str, key: &str) -> Option<String>;
}

/// ESO's provider for one store, authenticated.
#[derive(Debug)]
pub struct Provider {
    /// The store.
    pub store: Store,
    /// The credentials it obtained.
    pub credentials: Credentials,
    client: aws_sdk_secretsmanager::Client,
}

fn aws_error<E: ProvideErrorMetadata + std::fmt::Display>(operation: &str, e: E) -> EsoError {
    EsoError::Aws {
        operation: operation.to_string(),
        code: e.code().unwrap_or("Unknown").to_string(),
        message: e
            .message()
            .map(str::to_string)
            .unwrap_or_else(|| e.to_string()),
    }
}

fn kube_secret(
    cluster: &dyn Cluster,
    store: &Store,
    reference: &SecretKeyRef,
    referent_namespace: &str,
) -> Result<String, EsoError> {
    let namespace = reference
        .namespace
        .as_deref()
        .or(store.namespace.as_deref())
        .unwrap_or(referent_namespace);
    cluster
        .secret_value(namespace, &reference.name, &reference.key)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            EsoError::Reference(format!(
                "{} \"{}\" reads key \"{}\" of Secret {namespace}/{}, which the cluster does not have",
                store.kind, store.name, reference.key, reference.name
            ))
        })
}

impl Provider {
    /// Authenticates for `external_secret`'s store as ESO does, against `endpoint`
    /// (ESO's `AWS_STS_ENDPOINT` and `AWS_SECRETSMANAGER_ENDPOINT` overrides).
    pub async fn connect(
        endpoint: &str,
        manifests: &Manifests,
        external_secret: &ExternalSecret,
        cluster: &dyn Cluster,
    ) -> Result<Provider, EsoError> {
        let store = manifests.store_for(external_secret)?.clone();
        if store.service != "SecretsManager" {
            return Err(EsoError::Reference(format!(
                "{} \"{}\" uses service {}, not SecretsManager",
                store.kind, store.name, store.service
            )));
        }
        let referent = external_secret.namespace.as_str();
        let credentials = match &store.auth {
            StoreAuth::Jwt {
                service_account,
                namespace,
                audiences,
            } => {
                let sa = manifests.service_account(&store, service_account, namespace.as_deref(), referent)?;
                let role = sa.role_arn.clone().ok_or_else(|| {
                    EsoError::Reference(format!(
                        "an IAM role must be associated with service account {}/{} (annotation eks.amazonaws.com/role-arn)",
                        sa.namespace, sa.name
                    ))
                })?;
                let mut wanted = vec![sa.audience.clone().unwrap_or_else(|| DEFAULT_AUDIENCE.to_string())];
                wanted.extend(audiences.iter().cloned());
                let request = TokenRequest {
                    namespace: sa.namespace.clone(),
                    service_account: sa.name.clone(),
                    audiences: wanted,
                };
                let token = cluster.token(&request).map_err(|why| {
                    EsoError::Reference(format!("no token for service account {}/{}: {why}", sa.namespace, sa.name))
                })?;
                assume_role_with_web_identity(endpoint, &store.region, &role, &token).await?
            }
            StoreAuth::SecretRef {
                access_key_id,
                secret_access_key,
                session_token,
            } => Credentials {
                access_key_id: kube_secret(cluster, &store, access_key_id, referent)?,
                secret_access_key: kube_secret(cluster, &store, secret_access_key, referent)?,
                session_token: session_token
                    .as_ref()
                    .map(|r| kube_secret(cluster, &store, r, referent))
                    .transpose()?,
                source: format!("Secret {}", access_key_id.name),
            },
            StoreAuth::ControllerDefault => {
                return Err(EsoError::Reference(format!(
                    "{} \"{}\" has no auth: ESO would use its controller pod's own credentials, which a proof cannot attribute to the access",
                    store.kind, store.name
                )))
            }
        };
        if let Some(role) = &store.role {
            return Err(EsoError::Reference(format!(
                "{} \"{}\" chains to role {role} with provider.aws.role, which sma does not generate",
                store.kind, store.name
            )));
        }
        let client = secrets_manager(endpoint, &store.region, &credentials).await;
        Ok(Provider {
            store,
            credentials,
            client,
        })
    }

    /// The Secrets Manager client ESO uses (the store's region and credentials).
    pub fn client(&self) -> &aws_sdk_secretsmanager::Client {
        &self.client
    }

    /// `GetSecretValue` of `key` (the store's `prefix` prepended), the current version.
    pub async fn get_secret_value(&self, key: &str) -> Result<SecretValue, EsoError> {
        let id = format!("{}{key}", self.store.prefix);
        let out = self
            .client
            .get_secret_value()
            .secret_id(&id)
            .send()
            .await
            .map_err(|e| aws_error("GetSecretValue", e.into_service_error()))?;
        Ok(SecretValue(
            out.secret_string().unwrap_or_default().to_string(),
        ))
    }

    /// One of the four secret-scoped read actions on `secret_id` (a name or an ARN).
    pub async fn call(&self, action: &str, secret_id: &str) -> Result<(), EsoError> {
        let c = &self.client;
        match action {
            "GetSecretValue" => c
                .get_secret_value()
                .secret_id(secret_id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_error(action, e.into_service_error())),
            "DescribeSecret" => c
                .describe_secret()
                .secret_id(secret_id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_error(action, e.into_service_error())),
            "GetResourcePolicy" => c
                .get_resource_policy()
                .secret_id(secret_id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_error(action, e.into_service_error())),
            "ListSecretVersionIds" => c
                .list_secret_version_ids()
                .secret_id(secret_id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_error(action, e.into_service_error())),
            other => Err(EsoError::Reference(format!(
                "{other} is not a read action of the access matrix"
            ))),
        }
    }

    /// Every secret name `ListSecrets` shows (paginated, no filters, as ESO's find by
    /// name does).
    pub async fn list_secrets(&self) -> Result<Vec<String>, EsoError> {
        let mut names = Vec::new();
        let mut pages = self.client.list_secrets().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws_error("ListSecrets", e.into_service_error()))?;
            names.extend(
                page.secret_list()
                    .iter()
                    .filter_map(|s| s.name().map(str::to_string)),
            );
        }
        Ok(names)
    }

    /// Syncs `external_secret`'s `data` entries: each remote key read with
    /// `GetSecretValue`; the sync fails at the first failing read, as ESO's does.
    pub async fn sync(
        &self,
        external_secret: &ExternalSecret,
    ) -> Result<Vec<(String, SecretValue)>, EsoError> {
        let mut synced = Vec::new();
        for entry in &external_secret.data {
            synced.push((
                entry.secret_key.clone(),
                self.get_secret_value(&entry.key).await?,
            ));
        }
        Ok(synced)
    }
}

async fn assume_role_with_web_identity(
    endpoint: &str,
    region: &str,
    role: &str,
    token: &str,
) -> Result<Credentials, EsoError> {
    // AssumeRoleWithWebIdentity is unsigned: the token is the credential.
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new(region.to_string()))
        .endpoint_url(endpoint)
        .build();
    let out = aws_sdk_sts::Client::from_conf(config)
        .assume_role_with_web_identity()
        .role_arn(role)
        .role_session_name(SESSION_NAME)
        .web_identity_token(token)
        .send()
        .await
        .map_err(|e| aws_error("AssumeRoleWithWebIdentity", e.into_service_error()))?;
    let c = out.credentials().ok_or_else(|| EsoError::Aws {
        operation: "AssumeRoleWithWebIdentity".into(),
        code: "Unknown".into(),
        message: "no credentials in the answer".into(),
    })?;
    Ok(Credentials {
        access_key_id: c.access_key_id().to_string(),
        secret_access_key: c.secret_access_key().to_string(),
        session_token: Some(c.session_token().to_string()),
        source: role.to_string(),
    })
}

/// A Secrets Manager client for `endpoint` in `region` with `credentials`.
pub async fn secrets_manager(
    endpoint: &str,
    region: &str,
    credentials: &Credentials,
) -> aws_sdk_secretsmanager::Client {
    let provider = aws_sdk_secretsmanager::config::Credentials::new(
        credentials.access_key_id.clone(),
        credentials.secret_access_key.clone(),
        credentials.session_token.clone(),
        None,
        "sma-eso",
    );
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(region.to_string()))
        .credentials_provider(provider)
        .load()
        .await;
    aws_sdk_secretsmanager::Client::new(&config)
}
