//! ESO ↔ IAM consistency: the calls an access's ESO manifests make External Secrets
//! Operator perform (`docs/eso-aws.md`, ESO 2.9.0), against what the access's policies
//! grant. Manifests are read by the `eso` crate; policies through `iam` only.
//!
//! What the manifests need (each mismatch is a finding naming the manifest file and
//! field, and the missing or excess permission):
//! - `data[].remoteRef.key`, `dataFrom[].extract.key` → `secretsmanager:GetSecretValue`
//!   (`DescribeSecret` for `metadataPolicy: Fetch`) on every ARN of that secret in the
//!   store's region, proved with automata like the scope proof (`eso-read`);
//! - `dataFrom[].find` by `name` → `ListSecrets` on `*`; by `path` or `tags` →
//!   `ListSecrets` + `BatchGetSecretValue` on `*` (`eso-find`);
//! - the configuration's customer-managed keys → `kms:Decrypt` with
//!   `kms:ViaService = secretsmanager.<region>.<suffix>`, not without it, and on no
//!   other key (`eso-kms`);
//! - `additionalRoles`, then `role` → `sts:AssumeRole` on the first hop from the access's
//!   identity, and no `sts:AssumeRole` on roles no store assumes (`eso-assume-role`);
//! - `sessionTags`/`transitiveTagKeys` → `sts:TagSession` in the trust policy of the
//!   role ESO tags (the last one it assumes); a trust policy that allows
//!   `sts:TagSession` while no store passes tags is excess (`eso-session-tags`);
//! - the store's region is the access's (`eso-region`); its authentication is the
//!   access's identity: IRSA service account and its `role-arn` annotation, or the
//!   static access key's Secret (`eso-identity`).
//!
//! Fail closed: what the artifacts cannot show (the policies of a role ESO assumes
//! further down a chain, a trust policy not in the artifacts, a condition on a key the
//! check does not know, an unsupported `dataFrom` source, another service than Secrets
//! Manager) is an `eso-unproven` finding, never a pass. Identity-side permissions are
//! decided with `iam::authorize` under a key or trust policy that delegates to IAM
//! (the account's root), so a verdict is about the access's own policies.

use std::collections::BTreeSet;

use eso::manifests::{DataFrom, Manifests, Store, StoreAuth};
use iam::{authorize, Effect, PolicySet, Principal, Request};
use model::{Access, Identity};

use crate::artifacts::PolicyDoc;
use crate::error::CheckError;
use crate::findings::{Finding, Location, Rule};
use crate::languages::{secret_arns_named, SecretSpace};
use crate::scope::{prove_needed, NeedVerdict};
use crate::Artifact;

/// The session name ESO gives `AssumeRoleWithWebIdentity` (eso-aws.md).
const ESO_SESSION_NAME: &str = "external-secrets-provider-aws";

/// What one access's ESO manifests are checked against.
pub struct EsoInputs<'a> {
    /// The access (intent, identity, keys, Kubernetes side).
    pub access: &'a Access,
    /// Its secrets' partition and account.
    pub space: &'a SecretSpace,
    /// Its identity policies (policy file and template).
    pub identity: &'a [&'a PolicyDoc],
    /// Its role's trust policies (IRSA setups).
    pub trust: &'a [&'a PolicyDoc],
}

/// Every Kubernetes document of `files` (several per file allowed), errors naming the
/// file.
pub(crate) fn parse_manifests<'a>(
    files: impl IntoIterator<Item = &'a Artifact>,
) -> Result<Manifests, CheckError> {
    let mut manifests = Manifests::default();
    for file in files {
        manifests
            .add_yaml(&file.path, &file.contents)
            .map_err(|e| CheckError::Manifest {
                file: file.path.clone(),
                message: e.to_string(),
            })?;
    }
    Ok(manifests)
}

/// Reads the access's ESO manifests (`files`: every `<access>/eso/*.yaml`).
pub fn read_manifests(access: &str, files: &[&Artifact]) -> Result<Manifests, CheckError> {
    if files.is_empty() {
        return Err(CheckError::MissingArtifact {
            access: access.to_owned(),
            file: format!("{access}/eso/*.yaml"),
        });
    }
    let manifests = parse_manifests(files.iter().copied())?;
    if manifests.stores.is_empty() {
        return Err(CheckError::Manifest {
            file: format!("{access}/eso/"),
            message: "no SecretStore or ClusterSecretStore: nothing tells what ESO does. Fix: generate the manifests again (sma generate)".to_owned(),
        });
    }
    Ok(manifests)
}

/// The 1-based line of `field` (`spec.dataFrom[0].find.path`) in the document of `file`
/// whose `kind` and `metadata.name` are given: the best line found walking the path
/// (the object's first line when nothing matches), for reports only.
pub fn field_line(text: &str, kind: &str, name: &str, field: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    // Documents: runs of lines between `---` separators.
    let mut starts = vec![0];
    starts.extend(
        lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.trim_end() == "---")
            .map(|(i, _)| i + 1),
    );
    let value_is = |line: &str, key: &str, value: &str| {
        let t = line.trim();
        t.strip_prefix(key)
            .map(|v| v.trim().trim_matches('"').trim_matches('\'') == value)
            .unwrap_or(false)
    };
    let indent = |l: &str| l.len() - l.trim_start().len();
    // `metadata.name` only: other `name:` keys (a store reference's) say nothing of
    // which object a document is.
    let metadata_name_is = |doc: &[&str]| {
        let Some(at) = doc.iter().position(|l| l.trim_end() == "metadata:") else {
            return false;
        };
        let depth = indent(doc[at]);
        let block: Vec<&&str> = doc[at + 1..]
            .iter()
            .filter(|l| !l.trim().is_empty())
            .take_while(|l| indent(l) > depth)
            .collect();
        // Its keys sit at the indentation of its first line, whatever YAML's step.
        let keys = block.first().map(|l| indent(l));
        block
            .iter()
            .any(|l| Some(indent(l)) == keys && value_is(l, "name:", name))
    };
    let (start, end) = starts
        .iter()
        .enumerate()
        .map(|(i, &s)| (s, starts.get(i + 1).copied().unwrap_or(lines.len())))
        .find(|&(s, e)| {
            let doc = &lines[s..e.max(s)];
            doc.iter().any(|l| value_is(l, "kind:", kind)) && metadata_name_is(doc)
        })
        .unwrap_or((0, lines.len()));
    let mut at = start;
    let mut found = lines[start..end]
        .iter()
        .position(|l| l.trim_start().starts_with("kind:"))
        .map_or(start, |p| start + p);
    for (key, index) in field_segments(field) {
        let key = key.as_str();
        let key_line = (at..end).find(|&i| {
            let t = lines[i].trim_start().trim_start_matches("- ");
            t.starts_with(&format!("{key}:")) || t.starts_with(&format!("\"{key}\":"))
        });
        let Some(k) = key_line else { break };
        found = k;
        at = k + 1;
        if let Some(n) = index {
            let base = indent(lines[k]);
            let items: Vec<usize> = (k + 1..end)
                .take_while(|&i| {
                    lines[i].trim().is_empty()
                        || indent(lines[i]) > base
                        || lines[i].trim_start().starts_with("- ")
                })
                .filter(|&i| lines[i].trim_start().starts_with("- "))
                .collect();
            let item_indent = items.first().map(|&i| indent(lines[i]));
            let item = items
                .iter()
                .filter(|&&i| Some(indent(lines[i])) == item_indent)
                .nth(n);
            let Some(&i) = item else { break };
            found = i;
            // The item's own first key sits on the `- ` line.
            at = i;
        }
    }
    found + 1
}

/// The segments of a field path: `a.b[2].c["x.y/z"]` → `(a, None)`, `(b, Some(2))`,
/// `(c, None)`, `(x.y/z, None)` (a quoted key may hold dots).
fn field_segments(field: &str) -> Vec<(String, Option<usize>)> {
    let mut out: Vec<(String, Option<usize>)> = Vec::new();
    let mut rest = field;
    while !rest.is_empty() {
        if let Some(quoted) = rest.strip_prefix("[\"") {
            let end = quoted.find("\"]").unwrap_or(quoted.len());
            out.push((quoted[..end].to_owned(), None));
            rest = quoted.get(end + 2..).unwrap_or_default();
        } else if let Some(index) = rest.strip_prefix('[') {
            let end = index.find(']').unwrap_or(index.len());
            if let Some(last) = out.last_mut() {
                last.1 = index[..end].parse().ok();
            }
            rest = index.get(end + 1..).unwrap_or_default();
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            if end > 0 {
                out.push((rest[..end].to_owned(), None));
            }
            rest = &rest[end..];
        }
        rest = rest.strip_prefix('.').unwrap_or(rest);
    }
    out
}

/// One place in a manifest, for findings.
struct Field<'a> {
    file: &'a str,
    text: &'a str,
    kind: &'a str,
    name: &'a str,
}

impl Field<'_> {
    fn at(&self, finding: Finding, field: &str) -> Finding {
        let line = field_line(self.text, self.kind, self.name, field);
        finding.at(
            Some(format!("{} {} {} {field}", self.file, self.kind, self.name)),
            Some(Location {
                file: self.file.to_owned(),
                line,
            }),
        )
    }
}

/// An identity-side decision: action, resource, context keys.
type Decide<'a> = dyn Fn(&str, &str, &[(&str, &str)]) -> Decision + 'a;

/// What an identity-side decision found.
enum Decision {
    Allowed,
    Denied,
    /// Depends on a condition key the check does not supply.
    Unproven(String),
}

/// Whether the identity policies allow `action` on `resource` with `context` keys,
/// under a resource policy that delegates to IAM. Statements for the action with a
/// condition on another key make the answer `Unproven` when they could change it.
fn identity_decision(
    docs: &[&PolicyDoc],
    principal: &Principal,
    account: &str,
    partition: &str,
    action: &str,
    resource: &str,
    context: &[(&str, &str)],
) -> Decision {
    let delegate = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:{partition}:iam::{account}:root"}},"Action":"{action}","Resource":"*"}}]}}"#
    );
    let mut set = PolicySet::new();
    for doc in docs {
        set = set.with_identity_policy(doc.label.clone(), doc.policy.clone());
    }
    if let Ok(resource_policy) = iam::Policy::parse(&delegate) {
        set = set.with_resource_policy("delegates to IAM", resource_policy);
    }
    let mut request = Request::new(principal.clone(), action, resource);
    for (key, value) in context {
        request = request.with_key(key, *value);
    }
    let allowed = authorize(&request, &set).is_allowed();
    let known: BTreeSet<String> = context.iter().map(|(k, _)| k.to_lowercase()).collect();
    let known = &known;
    let doubtful: Vec<String> = docs
        .iter()
        .flat_map(|doc| {
            doc.policy
                .statements()
                .iter()
                .enumerate()
                .filter(move |(_, s)| {
                    s.matches_action(action)
                        && (s.effect() == Effect::Deny) == allowed
                        && s.condition_views()
                            .iter()
                            .any(|c| !known.contains(&c.key.to_lowercase()))
                })
                .map(move |(i, _)| doc.describe_statement(i))
        })
        .collect();
    match (allowed, doubtful.is_empty()) {
        (true, true) => Decision::Allowed,
        (false, true) => Decision::Denied,
        _ => Decision::Unproven(doubtful.join("; ")),
    }
}

/// The statements of `docs` that Allow `action` on resources other than `expected`
/// (exact ARNs): `*`, wildcards, or other ARNs.
fn granted_beyond(
    docs: &[&PolicyDoc],
    action: &str,
    expected: &[String],
) -> Vec<(String, Location, String)> {
    let mut out = Vec::new();
    for doc in docs {
        for (i, statement) in doc.policy.statements().iter().enumerate() {
            if statement.effect() != Effect::Allow || !statement.matches_action(action) {
                continue;
            }
            let Some(resources) = statement.resources() else {
                continue;
            };
            let texts: Vec<Option<String>> = resources
                .patterns
                .iter()
                .map(crate::languages::literal_pattern)
                .collect();
            let beyond = resources.negated
                || texts
                    .iter()
                    .find(|t| t.as_ref().is_none_or(|t| !expected.contains(t)))
                    .is_some();
            if beyond {
                let example = if resources.negated {
                    "every resource but those of its NotResource".to_owned()
                } else {
                    resources
                        .patterns
                        .iter()
                        .zip(&texts)
                        .find(|(_, t)| t.as_ref().is_none_or(|t| !expected.contains(t)))
                        .map(|(p, _)| crate::languages::pattern_text(p))
                        .unwrap_or_default()
                };
                out.push((doc.describe_statement(i), doc.location(i), example));
            }
        }
    }
    out
}

/// Checks one access's ESO manifests against its policies.
pub fn check_eso(inputs: &EsoInputs, files: &[&Artifact]) -> Result<Vec<Finding>, CheckError> {
    let access = inputs.access;
    let name = access.name.as_str();
    let manifests = read_manifests(name, files)?;
    let text_of = |file: &str| {
        files
            .iter()
            .find(|f| f.path == file)
            .map(|f| f.contents.as_str())
            .unwrap_or_default()
    };
    let partition = inputs.space.partition.as_str();
    let identity_arn = access.identity.arn();
    let account = identity_arn.split(':').nth(4).unwrap_or_default();
    let principal_arn = match &access.identity {
        Identity::Role { name: role, .. } => {
            format!("arn:{partition}:sts::{account}:assumed-role/{role}/{ESO_SESSION_NAME}")
        }
        Identity::User { arn, .. } => arn.clone(),
    };
    let principal = Principal::from_arn(&principal_arn).map_err(|e| CheckError::Manifest {
        file: format!("{name}/eso/"),
        message: format!("the access's identity {principal_arn} is not a principal: {e}"),
    })?;
    let decide = |action: &str, resource: &str, context: &[(&str, &str)]| {
        identity_decision(
            inputs.identity,
            &principal,
            account,
            partition,
            action,
            resource,
            context,
        )
    };
    let mut findings = Vec::new();
    let mut first_hops: Vec<String> = Vec::new();
    let mut any_session_tags = false;

    for store in &manifests.stores {
        let place = Field {
            file: &store.file,
            text: text_of(&store.file),
            kind: &store.kind,
            name: &store.name,
        };
        let finding = |rule: Rule, message: String, field: &str| {
            place.at(Finding::new(rule, name, message), field)
        };
        if store.service != "SecretsManager" {
            findings.push(finding(
                Rule::EsoUnproven,
                format!(
                    "store {} uses service {}: the check models Secrets Manager only",
                    store.name, store.service
                ),
                "spec.provider.aws.service",
            ));
        }
        if store.region != access.region.as_str() {
            findings.push(finding(
                Rule::EsoRegion,
                format!(
                    "store {} reads region {} but the access's secrets are in {}: ESO would answer \"Secret does not exist\"",
                    store.name, store.region, access.region
                ),
                "spec.provider.aws.region",
            ).with_counterexample(store.region.clone()));
        }
        findings.extend(check_auth(access, &manifests, store, &place, text_of));

        // Role chain: additionalRoles in order, then role; the first hop is assumed by
        // the access's identity, with its policies.
        let chain: Vec<(String, String)> = store
            .additional_roles
            .iter()
            .enumerate()
            .map(|(i, r)| (r.clone(), format!("spec.provider.aws.additionalRoles[{i}]")))
            .chain(
                store
                    .role
                    .iter()
                    .map(|r| (r.clone(), "spec.provider.aws.role".to_owned())),
            )
            .collect();
        for (hop, (role, field)) in chain.iter().enumerate() {
            if hop == 0 {
                first_hops.push(role.clone());
                match decide("sts:AssumeRole", role, &[]) {
                    Decision::Allowed => {}
                    Decision::Denied => findings.push(
                        finding(
                            Rule::EsoAssumeRole,
                            format!("ESO assumes {role} with the access's identity, but its policies do not allow sts:AssumeRole on it (missing permission)"),
                            field,
                        )
                        .with_counterexample(role.clone()),
                    ),
                    Decision::Unproven(why) => findings.push(finding(
                        Rule::EsoUnproven,
                        format!("sts:AssumeRole on {role} is allowed only if the conditions of {why} hold"),
                        field,
                    )),
                }
            } else {
                let previous = &chain[hop - 1].0;
                findings.push(finding(
                    Rule::EsoUnproven,
                    format!("ESO assumes {role} as {previous}, whose policies are not among the artifacts: sts:AssumeRole on it cannot be checked"),
                    field,
                ));
            }
        }
        if !store.session_tags.is_empty() || !store.transitive_tag_keys.is_empty() {
            any_session_tags = true;
            let field = if store.session_tags.is_empty() {
                "spec.provider.aws.transitiveTagKeys"
            } else {
                "spec.provider.aws.sessionTags"
            };
            match chain.last() {
                None => findings.push(finding(
                    Rule::EsoSessionTags,
                    "sessionTags are set but the store assumes no role (role, additionalRoles): ESO passes them to nobody".to_owned(),
                    field,
                )),
                Some((role, _)) if role == identity_arn && !inputs.trust.is_empty() => {
                    if !trust_allows_tag_session(inputs.trust) {
                        let mut f = finding(
                            Rule::EsoSessionTags,
                            format!("ESO passes session tags when it assumes {role}, but the role's trust policy does not allow sts:TagSession (missing permission; https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_permissions-required)"),
                            field,
                        );
                        f = f.with_counterexample("sts:TagSession");
                        findings.push(f);
                    }
                }
                Some((role, _)) => findings.push(finding(
                    Rule::EsoUnproven,
                    format!("ESO passes session tags when it assumes {role}, whose trust policy is not among the artifacts: it must allow sts:TagSession"),
                    field,
                )),
            }
        }
    }

    // Excess sts:AssumeRole: roles no store assumes first.
    for (statement, location, example) in
        granted_beyond(inputs.identity, "sts:AssumeRole", &first_hops)
    {
        findings.push(
            Finding::new(
                Rule::EsoAssumeRole,
                name,
                format!("the policies allow sts:AssumeRole on {example}, which no store of the access assumes (excess permission)"),
            )
            .with_counterexample(example)
            .at(Some(statement), Some(location)),
        );
    }
    // Excess sts:TagSession in the trust policy.
    if !any_session_tags && trust_allows_tag_session(inputs.trust) {
        for doc in inputs.trust {
            for (i, s) in doc.policy.statements().iter().enumerate() {
                if s.effect() == Effect::Allow && s.matches_action("sts:TagSession") {
                    findings.push(
                        Finding::new(
                            Rule::EsoSessionTags,
                            name,
                            "the trust policy allows sts:TagSession but no store passes session tags (excess permission: tags could set aws:PrincipalTag for policies that trust them)",
                        )
                        .with_counterexample("sts:TagSession")
                        .at(Some(doc.describe_statement(i)), Some(doc.location(i))),
                    );
                }
            }
        }
    }

    findings.extend(check_reads(inputs, &manifests, text_of, &decide)?);
    findings.extend(check_kms(inputs, &manifests, &decide));
    Ok(findings)
}

fn trust_allows_tag_session(trust: &[&PolicyDoc]) -> bool {
    let statements = || trust.iter().flat_map(|d| d.policy.statements());
    statements().any(|s| s.effect() == Effect::Allow && s.matches_action("sts:TagSession"))
        && !statements().any(|s| s.effect() == Effect::Deny && s.matches_action("sts:TagSession"))
}

/// The store's authentication against the access's identity.
fn check_auth<'a>(
    access: &Access,
    manifests: &Manifests,
    store: &Store,
    place: &Field,
    text_of: impl Fn(&str) -> &'a str,
) -> Vec<Finding> {
    let name = access.name.as_str();
    let finding = |rule: Rule, message: String, field: &str| {
        place.at(Finding::new(rule, name, message), field)
    };
    let mut findings = Vec::new();
    match (&access.identity, &store.auth) {
        (
            Identity::Role { arn, .. },
            StoreAuth::Jwt {
                service_account,
                namespace,
                ..
            },
        ) => {
            let expected_sa = access.eso.service_account.as_ref().map(|s| s.as_str());
            let sa_namespace = namespace.as_deref().or(store.namespace.as_deref());
            if expected_sa != Some(service_account.as_str())
                || sa_namespace.is_some_and(|ns| ns != access.eso.namespace.as_str())
            {
                findings.push(finding(
                    Rule::EsoIdentity,
                    format!(
                        "the store authenticates as service account {}/{service_account}, but the role trusts {}: AssumeRoleWithWebIdentity would be denied",
                        sa_namespace.unwrap_or("(the ExternalSecret's namespace)"),
                        access.service_account_subject().unwrap_or_default()
                    ),
                    "spec.provider.aws.auth.jwt.serviceAccountRef.name",
                ).with_counterexample(service_account.clone()));
                return findings;
            }
            match manifests.service_account(
                store,
                service_account,
                namespace.as_deref(),
                access.eso.namespace.as_str(),
            ) {
                Ok(sa) => {
                    let sa_place = Field {
                        file: &sa.file,
                        text: text_of(&sa.file),
                        kind: "ServiceAccount",
                        name: &sa.name,
                    };
                    if sa.role_arn.as_deref() != Some(arn.as_str()) {
                        findings.push(sa_place.at(
                            Finding::new(
                                Rule::EsoIdentity,
                                name,
                                format!(
                                    "service account {}/{} carries role {} but the access's role is {arn}",
                                    sa.namespace,
                                    sa.name,
                                    sa.role_arn.as_deref().unwrap_or("(no eks.amazonaws.com/role-arn annotation)")
                                ),
                            )
                            .with_counterexample(sa.role_arn.clone().unwrap_or_default()),
                            "metadata.annotations[\"eks.amazonaws.com/role-arn\"]",
                        ));
                    }
                    if let Some(audience) = sa
                        .audience
                        .as_deref()
                        .filter(|a| *a != model::plan::STS_AUDIENCE)
                    {
                        findings.push(sa_place.at(
                            Finding::new(
                                Rule::EsoIdentity,
                                name,
                                format!("service account {}/{} asks for tokens with audience {audience}; the role trusts {} only", sa.namespace, sa.name, model::plan::STS_AUDIENCE),
                            )
                            .with_counterexample(audience.to_owned()),
                            "metadata.annotations[\"eks.amazonaws.com/audience\"]",
                        ));
                    }
                }
                Err(e) => findings.push(finding(
                    Rule::EsoUnproven,
                    format!("{e}: its eks.amazonaws.com/role-arn annotation cannot be checked"),
                    "spec.provider.aws.auth.jwt.serviceAccountRef.name",
                )),
            }
        }
        (Identity::User { .. }, StoreAuth::SecretRef { access_key_id, .. }) => {
            let expected = access.eso.credentials_secret.as_ref().map(|s| s.as_str());
            if expected.is_some_and(|e| e != access_key_id.name) {
                findings.push(finding(
                    Rule::EsoIdentity,
                    format!(
                        "the store reads its access key from Secret {}, but the access's key is meant for {}",
                        access_key_id.name,
                        expected.unwrap_or_default()
                    ),
                    "spec.provider.aws.auth.secretRef.accessKeyIDSecretRef.name",
                ).with_counterexample(access_key_id.name.clone()));
            }
        }
        (identity, auth) => {
            let wanted = match identity {
                Identity::Role { .. } => "auth.jwt (IRSA with the access's role)",
                Identity::User { .. } => "auth.secretRef (the access's IAM user key)",
            };
            let got = match auth {
                StoreAuth::Jwt { .. } => "auth.jwt",
                StoreAuth::SecretRef { .. } => "auth.secretRef",
                StoreAuth::ControllerDefault => "no auth (the controller pod's own credentials)",
            };
            findings.push(
                finding(
                    Rule::EsoIdentity,
                    format!(
                        "the store authenticates with {got}; the access's identity needs {wanted}"
                    ),
                    "spec.provider.aws.auth",
                )
                .with_counterexample(got.to_owned()),
            );
        }
    }
    findings
}

/// The reads of every ExternalSecret that uses one of the access's stores.
fn check_reads<'a>(
    inputs: &EsoInputs,
    manifests: &Manifests,
    text_of: impl Fn(&str) -> &'a str,
    decide: &Decide,
) -> Result<Vec<Finding>, CheckError> {
    let name = inputs.access.name.as_str();
    let mut findings = Vec::new();
    for es in &manifests.external_secrets {
        let store = manifests.store_for(es).map_err(|e| CheckError::Manifest {
            file: es.file.clone(),
            message: e.to_string(),
        })?;
        let place = Field {
            file: &es.file,
            text: text_of(&es.file),
            kind: "ExternalSecret",
            name: &es.name,
        };
        let mut reads: Vec<(String, &str, String)> = Vec::new();
        for (i, entry) in es.data.iter().enumerate() {
            let action = if entry.metadata_policy.as_deref() == Some("Fetch") {
                "secretsmanager:DescribeSecret"
            } else {
                "secretsmanager:GetSecretValue"
            };
            reads.push((
                entry.key.clone(),
                action,
                format!("spec.data[{i}].remoteRef.key"),
            ));
        }
        for (i, entry) in es.data_from.iter().enumerate() {
            match entry {
                DataFrom::Extract { key } => reads.push((
                    key.clone(),
                    "secretsmanager:GetSecretValue",
                    format!("spec.dataFrom[{i}].extract.key"),
                )),
                DataFrom::Find {
                    name_regexp,
                    path,
                    tags,
                } => {
                    let (field, needs): (String, &[&str]) = if path.is_some() || !tags.is_empty() {
                        let what = if path.is_some() { "path" } else { "tags" };
                        (
                            format!("spec.dataFrom[{i}].find.{what}"),
                            &["secretsmanager:ListSecrets", "secretsmanager:BatchGetSecretValue"],
                        )
                    } else {
                        let _ = name_regexp;
                        (
                            format!("spec.dataFrom[{i}].find.name.regexp"),
                            &["secretsmanager:ListSecrets"],
                        )
                    };
                    for action in needs {
                        match decide(action, "*", &[]) {
                            Decision::Allowed => {}
                            Decision::Denied => findings.push(place.at(
                                Finding::new(
                                    Rule::EsoFind,
                                    name,
                                    format!("{field} makes ESO call {} on Resource \"*\", which the policies do not allow (missing permission)", action.trim_start_matches("secretsmanager:")),
                                )
                                .with_counterexample(action.to_string()),
                                &field,
                            )),
                            Decision::Unproven(why) => findings.push(place.at(
                                Finding::new(
                                    Rule::EsoUnproven,
                                    name,
                                    format!("{field}: {action} on \"*\" is allowed only if the conditions of {why} hold"),
                                ),
                                &field,
                            )),
                        }
                    }
                }
                DataFrom::Unsupported { field } => findings.push(place.at(
                    Finding::new(
                        Rule::EsoUnproven,
                        name,
                        format!("spec.dataFrom[{i}].{field} is not a Secrets Manager read the check models"),
                    ),
                    &format!("spec.dataFrom[{i}].{field}"),
                )),
            }
        }
        for (key, action, field) in reads {
            let remote = format!("{}{key}", store.prefix);
            let needed = secret_arns_named(inputs.space, &store.region, &remote);
            let short = action.trim_start_matches("secretsmanager:");
            match prove_needed(name, inputs.identity, action, needed)? {
                NeedVerdict::Granted => {}
                NeedVerdict::Missing { example, denied_by } => {
                    let why = denied_by
                        .map(|(s, _)| format!("denied by {s}"))
                        .unwrap_or_else(|| "no Allow statement grants it".to_owned());
                    findings.push(place.at(
                        Finding::new(
                            Rule::EsoRead,
                            name,
                            format!("{field} reads secret `{remote}` in {}, but {short} is not allowed on {example} ({why}; missing permission)", store.region),
                        )
                        .with_counterexample(remote.clone()),
                        &field,
                    ));
                }
                NeedVerdict::Unproven { example, statements } => findings.push(place.at(
                    Finding::new(
                        Rule::EsoUnproven,
                        name,
                        format!("{field}: {short} on {example} is allowed only if the conditions or policy variables of {statements} hold"),
                    )
                    .with_counterexample(remote.clone()),
                    &field,
                )),
            }
        }
    }
    Ok(findings)
}

/// `kms:Decrypt` on the configuration's customer-managed keys: through Secrets Manager
/// in each store's region, never without `kms:ViaService`, and on no other key.
fn check_kms(inputs: &EsoInputs, manifests: &Manifests, decide: &Decide) -> Vec<Finding> {
    let access = inputs.access;
    let name = access.name.as_str();
    let keys: Vec<String> = access.kms_key_arns.iter().map(|k| k.to_string()).collect();
    let at_policy = |f: Finding| {
        let statement = inputs.identity.iter().find_map(|doc| {
            doc.policy
                .statements()
                .iter()
                .position(|s| s.matches_action("kms:Decrypt"))
                .map(|i| (doc.describe_statement(i), doc.location(i)))
        });
        match statement {
            Some((s, l)) => f.at(Some(s), Some(l)),
            None => f.at(
                Some("kms_key_arns of the configuration".to_owned()),
                inputs.identity.first().map(|d| d.location(0)),
            ),
        }
    };
    let regions: BTreeSet<&str> = manifests.stores.iter().map(|s| s.region.as_str()).collect();
    let suffix = access.region.partition().dns_suffix();
    let mut findings = Vec::new();
    for key in &keys {
        for region in &regions {
            let via = format!("secretsmanager.{region}.{suffix}");
            match decide("kms:Decrypt", key, &[("kms:ViaService", &via)]) {
                Decision::Allowed => {}
                Decision::Denied => findings.push(at_policy(
                    Finding::new(
                        Rule::EsoKms,
                        name,
                        format!("secrets under the customer-managed key {key} need kms:Decrypt with kms:ViaService = {via}, which the policies do not allow (missing permission)"),
                    )
                    .with_counterexample(key.clone()),
                )),
                Decision::Unproven(why) => findings.push(at_policy(Finding::new(
                    Rule::EsoUnproven,
                    name,
                    format!("kms:Decrypt on {key} through Secrets Manager is allowed only if the conditions of {why} hold"),
                ))),
            }
        }
        // Without kms:ViaService (a direct call), or through another service.
        for context in [&[][..], &[("kms:ViaService", "s3.amazonaws.com")][..]] {
            if let Decision::Allowed = decide("kms:Decrypt", key, context) {
                findings.push(at_policy(
                    Finding::new(
                        Rule::EsoKms,
                        name,
                        format!("kms:Decrypt on {key} is allowed {} (excess permission): scope it with kms:ViaService = secretsmanager.<region>.{suffix}", if context.is_empty() { "without kms:ViaService, i.e. outside Secrets Manager" } else { "through another service than Secrets Manager" }),
                    )
                    .with_counterexample(key.clone()),
                ));
                break;
            }
        }
    }
    for (statement, location, example) in granted_beyond(inputs.identity, "kms:Decrypt", &keys) {
        findings.push(
            Finding::new(
                Rule::EsoKms,
                name,
                format!("kms:Decrypt is allowed on {example}, which is not among the access's kms_key_arns (excess permission)"),
            )
            .with_counterexample(example)
            .at(Some(statement), Some(location)),
        );
    }
    findings
}
