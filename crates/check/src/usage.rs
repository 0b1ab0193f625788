//! `sma check --external-secrets DIR`: least privilege from the cluster's real
//! ExternalSecret manifests. For each access (its store is named after it), the secrets
//! the ExternalSecrets that use the store read — `remoteRef.key` and `extract.key`
//! (exact names, with the store's `prefix`), `find.path` (a prefix) —, what the access
//! grants that none of them uses (`usage-unused-grant`, with the shortest unused secret
//! name, proved for every name by the scope proof against the used set), what they
//! need that the access lacks (`eso-read`), and the narrowest `secrets` section that
//! serves them, as YAML to paste into the configuration.
//!
//! `find` by `name.regexp` or `tags` can match any name: the used set is then unbounded,
//! and the access is reported as not narrowable rather than narrowed on a guess.

use std::collections::{BTreeMap, BTreeSet};

use eso::manifests::{DataFrom, ExternalSecret, Manifests};
use model::values::{SecretName, SecretPrefix};
use model::{Access, Plan, SecretScope};

use crate::error::CheckError;
use crate::findings::{Finding, Location, Rule};
use crate::languages::SecretSpace;
use crate::{access_policies, identity_policies, scope, Artifact};

/// What the ExternalSecrets of one access read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    /// The ExternalSecrets (`namespace/name`) that use the access's store.
    pub external_secrets: Vec<String>,
    /// Exact secret names read.
    pub names: BTreeSet<String>,
    /// Prefixes read (`find.path`).
    pub prefixes: BTreeSet<String>,
    /// Why the used set is unbounded (`find.name.regexp`, `find.tags`), if it is.
    pub unbounded: Vec<String>,
    /// ExternalSecrets that name the store from a namespace that cannot use it, and
    /// why: ESO never reads through this access for them, so their reads do not count.
    pub refused: Vec<(ExternalSecret, String)>,
    /// The first ExternalSecret that reads each name or prefix, and the field it reads
    /// it with (`spec.data`, `spec.dataFrom`): where an `eso-read` finding points.
    pub readers: BTreeMap<String, (ExternalSecret, &'static str)>,
}

impl Usage {
    /// The ExternalSecret that reads `secret` (by its exact name first, then by a
    /// prefix), with its field.
    pub fn reader_of(&self, secret: &str) -> Option<&(ExternalSecret, &'static str)> {
        self.readers.get(secret).or_else(|| {
            self.prefixes
                .iter()
                .find(|p| secret.starts_with(p.as_str()))
                .and_then(|p| self.readers.get(p))
        })
    }
}

/// The result of the analysis: findings and the YAML snippet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeastPrivilege {
    /// `usage-unused-grant` and `eso-read` findings.
    pub findings: Vec<Finding>,
    /// The narrowest `accesses[].secrets` sections, as YAML.
    pub snippet: String,
}

/// Reads ExternalSecret manifests (`files`: path and text; many documents per file).
pub fn read_external_secrets(files: &[Artifact]) -> Result<Manifests, CheckError> {
    crate::eso_consistency::parse_manifests(files)
}

/// What the ExternalSecrets using `access`'s store read (`prefix`: the store's).
pub fn usage_of(access: &Access, external: &[ExternalSecret], prefix: &str) -> Usage {
    let mut usage = Usage::default();
    let kind = access.eso.store_kind.as_str();
    let store_namespace = access.eso.namespace.as_str();
    for es in external
        .iter()
        .filter(|es| es.store_name == access.name.as_str() && es.store_kind == kind)
    {
        // ESO's rules for who may use a store (ESO API reference, SecretStore and
        // ClusterSecretStore `spec.conditions`): a SecretStore serves its own
        // namespace only (elsewhere the name is another namespace's store); a
        // ClusterSecretStore with conditions serves the namespaces they list.
        let refusal = match access.eso.store_kind {
            model::StoreKind::SecretStore if es.namespace != store_namespace => Some(format!(
                "a SecretStore serves only its own namespace ({store_namespace}): from namespace {} the name `{}` is that namespace's store, not this access's",
                es.namespace, es.store_name
            )),
            model::StoreKind::ClusterSecretStore
                if !access.eso.allowed_namespaces.is_empty()
                    && !access
                        .eso
                        .allowed_namespaces
                        .iter()
                        .any(|n| n.as_str() == es.namespace) =>
            {
                let allowed: Vec<&str> =
                    access.eso.allowed_namespaces.iter().map(|n| n.as_str()).collect();
                Some(format!(
                    "ClusterSecretStore `{}` serves only namespaces {} (spec.conditions); ESO refuses an ExternalSecret of namespace {}",
                    es.store_name,
                    allowed.join(", "),
                    es.namespace
                ))
            }
            _ => None,
        };
        if let Some(why) = refusal {
            usage.refused.push((es.clone(), why));
            continue;
        }
        usage
            .external_secrets
            .push(format!("{}/{}", es.namespace, es.name));
        let mut read = |what: String, field: &'static str| {
            usage
                .readers
                .entry(what)
                .or_insert_with(|| (es.clone(), field));
        };
        for entry in &es.data {
            usage.names.insert(format!("{prefix}{}", entry.key));
            read(format!("{prefix}{}", entry.key), "spec.data");
        }
        for entry in &es.data_from {
            match entry {
                DataFrom::Extract { key } => {
                    usage.names.insert(format!("{prefix}{key}"));
                    read(format!("{prefix}{key}"), "spec.dataFrom");
                }
                DataFrom::Find {
                    name_regexp,
                    path,
                    tags,
                } => match path {
                    // Path filters name prefixes; a regexp or tags on top only narrow.
                    Some(path) => {
                        usage.prefixes.insert(format!("{prefix}{path}"));
                        read(format!("{prefix}{path}"), "spec.dataFrom");
                    }
                    None if !tags.is_empty() => usage.unbounded.push(format!(
                        "{}/{} finds secrets by tags",
                        es.namespace, es.name
                    )),
                    None => usage.unbounded.push(format!(
                        "{}/{} finds secrets by name regexp {}",
                        es.namespace,
                        es.name,
                        name_regexp.as_deref().unwrap_or("(none)")
                    )),
                },
                DataFrom::Unsupported { field } => usage.unbounded.push(format!(
                    "{}/{} reads through dataFrom.{field}",
                    es.namespace, es.name
                )),
            }
        }
    }
    usage
}

/// The line of `field` in ExternalSecret `es`, in its file among `files` (1 when the
/// file or the field is not found).
fn manifest_line(files: &[Artifact], es: &ExternalSecret, field: &str) -> usize {
    files
        .iter()
        .find(|f| f.path == es.file)
        .map(|f| crate::eso_consistency::field_line(&f.contents, "ExternalSecret", &es.name, field))
        .unwrap_or(1)
}

/// Least privilege of every access of `plan` against the ExternalSecrets of `external`
/// (read from `external_files`, whose texts give findings their lines).
pub fn analyze(
    plan: &Plan,
    artifacts: &[Artifact],
    external: &Manifests,
    external_files: &[Artifact],
) -> Result<LeastPrivilege, CheckError> {
    let mut out = LeastPrivilege::default();
    let mut snippet = String::from(
        "# Narrowest `secrets` sections that serve the ExternalSecrets (sma check --external-secrets):\naccesses:\n",
    );
    for access in &plan.accesses {
        let name = access.name.as_str();
        let (policy, template_docs) = access_policies(access, artifacts)?;
        let identity = identity_policies(&policy, &template_docs);
        // The store's prefix, from the access's own manifests when present.
        let own: Vec<Artifact> = artifacts
            .iter()
            .filter(|a| a.path.starts_with(&format!("{name}/{}/", crate::ESO_DIR)))
            .cloned()
            .collect();
        let prefix = read_external_secrets(&own)
            .ok()
            .and_then(|m| m.stores.into_iter().find(|s| s.name == name))
            .map(|s| s.prefix)
            .unwrap_or_default();
        let usage = usage_of(access, &external.external_secrets, &prefix);
        snippet.push_str(&format!("  - name: {name}\n"));
        let at_policy = |f: Finding| f.at(Some(policy.file.clone()), Some(policy.location(0)));
        for (es, why) in &usage.refused {
            out.findings.push(
                Finding::new(
                    Rule::UsageStoreRefused,
                    name,
                    format!(
                        "ExternalSecret {}/{} names store {name}, but {why}: its reads are not counted for this access",
                        es.namespace, es.name
                    ),
                )
                .at(
                    Some(format!(
                        "{} ExternalSecret {} spec.secretStoreRef",
                        es.file, es.name
                    )),
                    Some(Location {
                        file: es.file.clone(),
                        line: manifest_line(external_files, es, "spec.secretStoreRef"),
                    }),
                ),
            );
        }
        if usage.external_secrets.is_empty() {
            out.findings.push(at_policy(Finding::new(
                Rule::UsageUnusedGrant,
                name,
                format!(
                    "no ExternalSecret uses store {name}: everything the access grants is unused"
                ),
            )));
            snippet.push_str("    # no ExternalSecret uses this access: remove it\n");
            continue;
        }
        if !usage.unbounded.is_empty() {
            snippet.push_str(&format!(
                "    # not narrowed: {}\n",
                usage.unbounded.join("; ")
            ));
            continue;
        }
        let names: Result<Vec<SecretName>, String> = usage
            .names
            .iter()
            .map(|n| {
                SecretName::parse(n)
                    .map_err(|e| format!("secret name {n:?}: {} ({})", e.problem, e.fix))
            })
            .collect();
        let prefixes: Result<Vec<SecretPrefix>, String> = usage
            .prefixes
            .iter()
            .map(|p| {
                SecretPrefix::parse(p)
                    .map_err(|e| format!("find.path {p:?}: {} ({})", e.problem, e.fix))
            })
            .collect();
        let (names, prefixes) = match (names, prefixes) {
            (Ok(n), Ok(p)) => (n, p),
            (Err(e), _) | (_, Err(e)) => {
                return Err(CheckError::Manifest {
                    file: "(--external-secrets)".to_owned(),
                    message: format!(
                        "an ExternalSecret reads a name the configuration cannot hold: {e}"
                    ),
                })
            }
        };
        let used = SecretScope::Selected {
            names,
            prefixes,
            arn_patterns: Vec::new(),
        };
        let space = SecretSpace::of(access);
        for finding in scope::prove_scope(name, &space, &used, &identity)? {
            let f = match finding.rule {
                Rule::ScopeBroader => Finding {
                    rule: Rule::UsageUnusedGrant,
                    message: format!(
                        "granted but read by no ExternalSecret of the store ({}): {}",
                        usage.external_secrets.join(", "),
                        finding.message.replace(
                            "outside the intent",
                            "outside what the ExternalSecrets read"
                        )
                    ),
                    ..finding
                },
                Rule::ScopeNarrower => {
                    let secret = finding
                        .counterexample
                        .as_deref()
                        .map(|c| c.split(" in region ").next().unwrap_or(c))
                        .unwrap_or_default();
                    let reader = usage.reader_of(secret);
                    let message = format!(
                        "{} reads a secret the access does not grant (missing permission): {}",
                        reader.map_or("an ExternalSecret".to_owned(), |(es, _)| format!(
                            "ExternalSecret {}/{}",
                            es.namespace, es.name
                        )),
                        finding
                            .message
                            .replace("the intended secret", "the secret")
                            .replace("; intent: ", "; read by the ExternalSecrets: ")
                    );
                    let located = Finding {
                        rule: Rule::EsoRead,
                        message,
                        ..finding
                    };
                    match reader {
                        Some((es, field)) => located.at(
                            Some(format!("{} ExternalSecret {} {field}", es.file, es.name)),
                            Some(Location {
                                file: es.file.clone(),
                                line: manifest_line(external_files, es, field),
                            }),
                        ),
                        None => located,
                    }
                }
                _ => Finding {
                    rule: Rule::EsoUnproven,
                    ..finding
                },
            };
            out.findings.push(f);
        }
        snippet.push_str("    secrets:\n");
        let list = |items: &BTreeSet<String>| {
            items
                .iter()
                .map(|i| format!("\"{i}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !usage.names.is_empty() {
            snippet.push_str(&format!("      names: [{}]\n", list(&usage.names)));
        }
        if !usage.prefixes.is_empty() {
            snippet.push_str(&format!("      prefixes: [{}]\n", list(&usage.prefixes)));
        }
    }
    out.snippet = snippet;
    Ok(out)
}
