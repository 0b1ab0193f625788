//! ESO manifests and the Kubernetes objects they reference, read from YAML (several
//! documents per file allowed). Only the fields ESO's AWS provider uses are kept;
//! documents of other kinds are ignored.

use crate::EsoError;
use serde_norway::Value;

/// A Kubernetes ServiceAccount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccount {
    /// The file it was read from.
    pub file: String,
    /// Its name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// The `eks.amazonaws.com/role-arn` annotation.
    pub role_arn: Option<String>,
    /// The `eks.amazonaws.com/audience` annotation.
    pub audience: Option<String>,
}

/// A reference to one key of a Kubernetes Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretKeyRef {
    /// The Secret's name.
    pub name: String,
    /// The key in it.
    pub key: String,
    /// Its namespace, when given.
    pub namespace: Option<String>,
}

/// How a store authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreAuth {
    /// `auth.jwt.serviceAccountRef`.
    Jwt {
        /// The service account's name.
        service_account: String,
        /// Its namespace, when given.
        namespace: Option<String>,
        /// Extra audiences.
        audiences: Vec<String>,
    },
    /// `auth.secretRef`.
    SecretRef {
        /// `accessKeyIDSecretRef`.
        access_key_id: SecretKeyRef,
        /// `secretAccessKeySecretRef`.
        secret_access_key: SecretKeyRef,
        /// `sessionTokenSecretRef`.
        session_token: Option<SecretKeyRef>,
    },
    /// Neither: the controller pod's own credentials (not modelled by a proof).
    ControllerDefault,
}

/// A SecretStore or ClusterSecretStore with an AWS provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    /// The file it was read from.
    pub file: String,
    /// `SecretStore` or `ClusterSecretStore`.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// Its namespace (SecretStore only).
    pub namespace: Option<String>,
    /// `provider.aws.service`.
    pub service: String,
    /// `provider.aws.region`.
    pub region: String,
    /// `provider.aws.role`, assumed after authentication.
    pub role: Option<String>,
    /// `provider.aws.additionalRoles`, assumed in order before `role`.
    pub additional_roles: Vec<String>,
    /// `provider.aws.sessionTags`, passed when assuming `role`.
    pub session_tags: Vec<SessionTag>,
    /// `provider.aws.transitiveTagKeys`.
    pub transitive_tag_keys: Vec<String>,
    /// `provider.aws.prefix`, prepended to every remote key.
    pub prefix: String,
    /// How it authenticates.
    pub auth: StoreAuth,
    /// `spec.conditions[].namespaces` (ClusterSecretStore): empty means every namespace.
    pub allowed_namespaces: Vec<String>,
}

/// One `provider.aws.sessionTags[]` entry (tag values are labels, not secrets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionTag {
    /// `key`.
    pub key: String,
    /// `value`.
    pub value: String,
}

/// One `spec.data[]` entry of an ExternalSecret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRef {
    /// `secretKey`: the key in the target Kubernetes Secret.
    pub secret_key: String,
    /// `remoteRef.key`: the Secrets Manager secret.
    pub key: String,
    /// `remoteRef.metadataPolicy` (`None`, the default, or `Fetch`: only `DescribeSecret`).
    pub metadata_policy: Option<String>,
}

/// One `spec.dataFrom[]` entry of an ExternalSecret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataFrom {
    /// `extract.key`: one secret, its JSON object flattened (`GetSecretValue`).
    Extract {
        /// The Secrets Manager secret.
        key: String,
    },
    /// `find`: secrets found by name regexp (paginated `ListSecrets`), or by path or tags
    /// (`BatchGetSecretValue` with filters).
    Find {
        /// `find.name.regexp`.
        name_regexp: Option<String>,
        /// `find.path`.
        path: Option<String>,
        /// `find.tags`.
        tags: Vec<(String, String)>,
    },
    /// Anything else (`sourceRef` generators, …), named by its field.
    Unsupported {
        /// The field found (`sourceRef`).
        field: String,
    },
}

/// An ExternalSecret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalSecret {
    /// Its name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// `secretStoreRef.kind` (default `SecretStore`).
    pub store_kind: String,
    /// `secretStoreRef.name`.
    pub store_name: String,
    /// `spec.data`.
    pub data: Vec<RemoteRef>,
    /// `spec.dataFrom`.
    pub data_from: Vec<DataFrom>,
    /// The file it was read from.
    pub file: String,
}

/// A Kubernetes Secret's string data (a skeleton's keys have empty values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeSecret {
    /// Its name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// The keys of `stringData` / `data`.
    pub keys: Vec<String>,
}

/// Every object read from a set of manifests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifests {
    /// ServiceAccounts.
    pub service_accounts: Vec<ServiceAccount>,
    /// Stores.
    pub stores: Vec<Store>,
    /// ExternalSecrets.
    pub external_secrets: Vec<ExternalSecret>,
    /// Secrets (for a proof: the skeletons the platform team fills).
    pub secrets: Vec<KubeSecret>,
}

fn text(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    match cur {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn required(v: &Value, path: &[&str], file: &str, kind: &str) -> Result<String, EsoError> {
    text(v, path).ok_or_else(|| EsoError::Manifest {
        file: file.to_string(),
        message: format!("{kind} has no {}", path.join(".")),
    })
}

fn key_ref(v: Option<&Value>) -> Option<SecretKeyRef> {
    let v = v?;
    Some(SecretKeyRef {
        name: text(v, &["name"])?,
        key: text(v, &["key"])?,
        namespace: text(v, &["namespace"]),
    })
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_sequence)
        .map(|s| {
            s.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn data_from(entry: &Value) -> DataFrom {
    if let Some(key) = text(entry, &["extract", "key"]) {
        return DataFrom::Extract { key };
    }
    if let Some(find) = entry.get("find") {
        let tags = find
            .get("tags")
            .and_then(Value::as_mapping)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        let value = |v: &Value| text(v, &[]).unwrap_or_default();
                        (value(k), value(v))
                    })
                    .collect()
            })
            .unwrap_or_default();
        return DataFrom::Find {
            name_regexp: text(find, &["name", "regexp"]),
            path: text(find, &["path"]),
            tags,
        };
    }
    let field = entry
        .as_mapping()
        .and_then(|m| m.keys().find_map(|k| k.as_str().map(str::to_string)))
        .unwrap_or_else(|| "(empty)".to_string());
    DataFrom::Unsupported { field }
}

impl Manifests {
    /// Adds every document of `yaml` (from `file`, named in errors).
    pub fn add_yaml(&mut self, file: &str, yaml: &str) -> Result<(), EsoError> {
        use serde::Deserialize as _;
        for document in serde_norway::Deserializer::from_str(yaml) {
            let doc = Value::deserialize(document).map_err(|e| EsoError::Manifest {
                file: file.to_string(),
                message: format!("not YAML: {e}"),
            })?;
            if doc.is_null() {
                continue;
            }
            self.add_document(file, &doc)?;
        }
        Ok(())
    }

    fn add_document(&mut self, file: &str, doc: &Value) -> Result<(), EsoError> {
        let kind = text(doc, &["kind"]).unwrap_or_default();
        let name = || required(doc, &["metadata", "name"], file, &kind);
        match kind.as_str() {
            "ServiceAccount" => self.service_accounts.push(ServiceAccount {
                file: file.to_string(),
                name: name()?,
                namespace: text(doc, &["metadata", "namespace"]).unwrap_or("default".into()),
                role_arn: text(
                    doc,
                    &["metadata", "annotations", "eks.amazonaws.com/role-arn"],
                ),
                audience: text(
                    doc,
                    &["metadata", "annotations", "eks.amazonaws.com/audience"],
                ),
            }),
            "SecretStore" | "ClusterSecretStore" => {
                let aws = doc
                    .get("spec")
                    .and_then(|s| s.get("provider"))
                    .and_then(|p| p.get("aws"))
                    .ok_or_else(|| EsoError::Manifest {
                        file: file.into(),
                        message: format!(
                            "{kind} {} has no spec.provider.aws",
                            name().unwrap_or_default()
                        ),
                    })?;
                let auth = if let Some(sa) = aws
                    .get("auth")
                    .and_then(|a| a.get("jwt"))
                    .and_then(|j| j.get("serviceAccountRef"))
                {
                    StoreAuth::Jwt {
                        service_account: required(
                            sa,
                            &["name"],
                            file,
                            "auth.jwt.serviceAccountRef",
                        )?,
                        namespace: text(sa, &["namespace"]),
                        audiences: sa
                            .get("audiences")
                            .and_then(Value::as_sequence)
                            .map(|s| {
                                s.iter()
                                    .filter_map(|a| a.as_str().map(str::to_string))
                                    .collect()
                            })
                            .unwrap_or_default(),
                    }
                } else if let Some(r) = aws.get("auth").and_then(|a| a.get("secretRef")) {
                    let missing = |what: &str| EsoError::Manifest {
                        file: file.into(),
                        message: format!("{kind} auth.secretRef.{what} needs name and key"),
                    };
                    StoreAuth::SecretRef {
                        access_key_id: key_ref(r.get("accessKeyIDSecretRef"))
                            .ok_or_else(|| missing("accessKeyIDSecretRef"))?,
                        secret_access_key: key_ref(r.get("secretAccessKeySecretRef"))
                            .ok_or_else(|| missing("secretAccessKeySecretRef"))?,
                        session_token: key_ref(r.get("sessionTokenSecretRef")),
                    }
                } else {
                    StoreAuth::ControllerDefault
                };
                let allowed_namespaces = doc
                    .get("spec")
                    .and_then(|s| s.get("conditions"))
                    .and_then(Value::as_sequence)
                    .map(|conditions| {
                        conditions
                            .iter()
                            .filter_map(|c| c.get("namespaces").and_then(Value::as_sequence))
                            .flatten()
                            .filter_map(|n| n.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                self.stores.push(Store {
                    file: file.to_string(),
                    kind: kind.clone(),
                    name: name()?,
                    namespace: text(doc, &["metadata", "namespace"]),
                    service: required(aws, &["service"], file, "provider.aws")?,
                    region: required(aws, &["region"], file, "provider.aws")?,
                    role: text(aws, &["role"]),
                    additional_roles: strings(aws.get("additionalRoles")),
                    session_tags: aws
                        .get("sessionTags")
                        .and_then(Value::as_sequence)
                        .map(|tags| {
                            tags.iter()
                                .map(|t| SessionTag {
                                    key: text(t, &["key"]).unwrap_or_default(),
                                    value: text(t, &["value"]).unwrap_or_default(),
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                    transitive_tag_keys: strings(aws.get("transitiveTagKeys")),
                    prefix: text(aws, &["prefix"]).unwrap_or_default(),
                    auth,
                    allowed_namespaces,
                });
            }
            "ExternalSecret" => {
                let spec = doc.get("spec").ok_or_else(|| EsoError::Manifest {
                    file: file.into(),
                    message: "ExternalSecret has no spec".into(),
                })?;
                let data = spec
                    .get("data")
                    .and_then(Value::as_sequence)
                    .map(|entries| {
                        entries
                            .iter()
                            .filter_map(|d| {
                                Some(RemoteRef {
                                    secret_key: text(d, &["secretKey"])?,
                                    key: text(d, &["remoteRef", "key"])?,
                                    metadata_policy: text(d, &["remoteRef", "metadataPolicy"]),
                                })
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                self.external_secrets.push(ExternalSecret {
                    name: name()?,
                    namespace: text(doc, &["metadata", "namespace"]).unwrap_or("default".into()),
                    store_kind: text(spec, &["secretStoreRef", "kind"])
                        .unwrap_or("SecretStore".into()),
                    store_name: required(
                        spec,
                        &["secretStoreRef", "name"],
                        file,
                        "ExternalSecret",
                    )?,
                    data,
                    data_from: spec
                        .get("dataFrom")
                        .and_then(Value::as_sequence)
                        .map(|entries| entries.iter().map(data_from).collect())
                        .unwrap_or_default(),
                    file: file.to_string(),
                });
            }
            "Secret" => {
                let keys = ["stringData", "data"]
                    .iter()
                    .filter_map(|field| doc.get(*field).and_then(Value::as_mapping))
                    .flat_map(|m| m.keys().filter_map(|k| k.as_str().map(str::to_string)))
                    .collect();
                self.secrets.push(KubeSecret {
                    name: name()?,
                    namespace: text(doc, &["metadata", "namespace"]).unwrap_or("default".into()),
                    keys,
                });
            }
            _ => {}
        }
        Ok(())
    }

    /// The store an ExternalSecret refers to, checking the namespace rules: a
    /// SecretStore serves only its own namespace; a ClusterSecretStore only the
    /// namespaces its conditions allow.
    pub fn store_for(&self, external_secret: &ExternalSecret) -> Result<&Store, EsoError> {
        let store = self
            .stores
            .iter()
            .find(|s| {
                s.kind == external_secret.store_kind
                    && s.name == external_secret.store_name
                    && (s.kind == "ClusterSecretStore"
                        || s.namespace.as_deref() == Some(external_secret.namespace.as_str()))
            })
            .ok_or_else(|| {
                EsoError::Reference(format!(
                    "ExternalSecret {}/{} refers to {} \"{}\", which no manifest defines{}",
                    external_secret.namespace,
                    external_secret.name,
                    external_secret.store_kind,
                    external_secret.store_name,
                    if external_secret.store_kind == "SecretStore" {
                        " in its namespace"
                    } else {
                        ""
                    }
                ))
            })?;
        if store.kind == "ClusterSecretStore"
            && !store.allowed_namespaces.is_empty()
            && !store
                .allowed_namespaces
                .contains(&external_secret.namespace)
        {
            return Err(EsoError::Reference(format!(
                "ClusterSecretStore \"{}\" does not allow namespace \"{}\" (its conditions allow {:?})",
                store.name, external_secret.namespace, store.allowed_namespaces
            )));
        }
        Ok(store)
    }

    /// The ServiceAccount a store's `auth.jwt` names (namespace: the ref's, else the
    /// store's own, else the ExternalSecret's for referent auth).
    pub fn service_account(
        &self,
        store: &Store,
        name: &str,
        namespace: Option<&str>,
        referent_namespace: &str,
    ) -> Result<&ServiceAccount, EsoError> {
        let namespace = namespace
            .or(store.namespace.as_deref())
            .unwrap_or(referent_namespace);
        self.service_accounts
            .iter()
            .find(|sa| sa.name == name && sa.namespace == namespace)
            .ok_or_else(|| {
                EsoError::Reference(format!(
                    "{} \"{}\" authenticates as service account {namespace}/{name}, which no manifest defines",
                    store.kind, store.name
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORE: &str = "apiVersion: external-secrets.io/v1\nkind: ClusterSecretStore\nmetadata:\n  name: s\nspec:\n  provider:\n    aws:\n      service: SecretsManager\n      region: eu-west-3\n      auth:\n        jwt:\n          serviceAccountRef:\n            name: eso\n            namespace: external-secrets\n  conditions:\n    - namespaces: [staging]\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: eso\n  namespace: external-secrets\n  annotations:\n    eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/r\n";

    #[test]
    fn reads_a_store_and_its_service_account() {
        let mut m = Manifests::default();
        m.add_yaml("store.yaml", STORE).unwrap();
        let store = &m.stores[0];
        assert_eq!(store.region, "eu-west-3");
        let StoreAuth::Jwt {
            service_account,
            namespace,
            ..
        } = &store.auth
        else {
            panic!("jwt")
        };
        let sa = m
            .service_account(store, service_account, namespace.as_deref(), "x")
            .unwrap();
        assert_eq!(
            sa.role_arn.as_deref(),
            Some("arn:aws:iam::123456789012:role/r")
        );
    }

    #[test]
    fn conditions_limit_namespaces() {
        let mut m = Manifests::default();
        m.add_yaml("store.yaml", STORE).unwrap();
        let es = |ns: &str| ExternalSecret {
            name: "e".into(),
            namespace: ns.into(),
            store_kind: "ClusterSecretStore".into(),
            store_name: "s".into(),
            data: vec![],
            data_from: vec![],
            file: "es.yaml".into(),
        };
        assert!(m.store_for(&es("staging")).is_ok());
        let refused = m.store_for(&es("prod")).unwrap_err().to_string();
        assert!(
            refused.contains("does not allow namespace \"prod\""),
            "{refused}"
        );
    }

    #[test]
    fn reads_roles_session_tags_and_data_from() {
        let mut m = Manifests::default();
        let yaml = STORE.replace(
            "      region: eu-west-3\n",
            "      region: eu-west-3\n      role: arn:aws:iam::123456789012:role/last\n      additionalRoles: [arn:aws:iam::123456789012:role/first]\n      sessionTags:\n        - {key: team, value: pay}\n      transitiveTagKeys: [team]\n",
        ) + "---\napiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: e, namespace: staging}\nspec:\n  secretStoreRef: {kind: ClusterSecretStore, name: s}\n  dataFrom:\n    - extract: {key: one}\n    - find: {path: staging/, tags: {env: prod}}\n    - find: {name: {regexp: ^db}}\n    - sourceRef: {generatorRef: {kind: Password, name: p}}\n";
        m.add_yaml("all.yaml", &yaml).unwrap();
        let store = &m.stores[0];
        assert_eq!(store.file, "all.yaml");
        assert_eq!(
            store.role.as_deref(),
            Some("arn:aws:iam::123456789012:role/last")
        );
        assert_eq!(
            store.additional_roles,
            ["arn:aws:iam::123456789012:role/first"]
        );
        assert_eq!(
            store.session_tags,
            [SessionTag {
                key: "team".into(),
                value: "pay".into()
            }]
        );
        assert_eq!(store.transitive_tag_keys, ["team"]);
        let es = &m.external_secrets[0];
        assert_eq!(
            es.data_from,
            [
                DataFrom::Extract { key: "one".into() },
                DataFrom::Find {
                    name_regexp: None,
                    path: Some("staging/".into()),
                    tags: vec![("env".into(), "prod".into())]
                },
                DataFrom::Find {
                    name_regexp: Some("^db".into()),
                    path: None,
                    tags: vec![]
                },
                DataFrom::Unsupported {
                    field: "sourceRef".into()
                },
            ]
        );
    }

    #[test]
    fn a_missing_service_account_is_named() {
        let mut m = Manifests::default();
        m.add_yaml(
            "store.yaml",
            &STORE.replace("name: eso\n  namespace", "name: other\n  namespace"),
        )
        .unwrap();
        let store = &m.stores[0];
        let err = m
            .service_account(store, "eso", Some("external-secrets"), "x")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("external-secrets/eso, which no manifest defines"),
            "{err}"
        );
    }
}
