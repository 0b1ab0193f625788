//! `sma check`: offline proofs that an access's generated policies read nothing outside
//! its intent, for every possible secret name, and that its role trusts nobody but
//! ESO's service account — with the shortest counterexample when they do not.
//!
//! Flow: a validated [`model::Plan`] → the artifacts `sma generate` renders
//! ([`templates::render_plan`], in memory) → the policies inside them ([`artifacts`],
//! parsed by `iam`) → per access the [`scope`] proof (automata over secret ARNs,
//! [`automata`] + [`languages`]), the [`trust`] proof, the ESO manifests against the
//! policies ([`eso_consistency`]) and the [`lint`] rules →
//! [`findings::Report`] → [`waivers`] applied → [`output`] (text, JSON, SARIF, JUnit).
//!
//! Invariants: pure (no I/O; callers read files), no async, no sampling (every answer
//! holds for every string), and fail closed: what a proof cannot decide is a finding
//! (`*-unproven`) or an error, never a pass.

#![deny(missing_docs)]

pub mod artifacts;
pub mod automata;
pub mod baseline;
pub mod error;
pub mod eso_consistency;
pub mod findings;
pub mod input;
pub mod languages;
pub mod lint;
pub mod output;
pub mod scope;
pub mod trust;
pub mod usage;
pub mod waivers;

pub use error::CheckError;
pub use findings::{Finding, Location, NotChecked, Report, Rule};

use artifacts::{PolicyDoc, PolicyRole, StackContext};
use model::{Access, Identity, Plan};

/// One artifact to check: a path relative to the output directory and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// `staging-secrets/iam-policy.json`.
    pub path: String,
    /// The file's text.
    pub contents: String,
}

impl From<&templates::GeneratedFile> for Artifact {
    fn from(file: &templates::GeneratedFile) -> Artifact {
        Artifact {
            path: file
                .path
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/"),
            contents: file.contents.clone(),
        }
    }
}

/// The IAM policy file of an access (`<access>/iam-policy.json`).
pub const POLICY_FILE: &str = "iam-policy.json";
/// The CloudFormation template of an access.
pub const CLOUDFORMATION_FILE: &str = "cloudformation.yaml";
/// The directory of an access's ESO manifests (`<access>/eso/*.yaml`).
pub const ESO_DIR: &str = "eso";

/// Renders `plan` with `templates` exactly as `sma generate` does, in memory.
pub fn generate(
    plan: &Plan,
    templates: &templates::Templates,
) -> Result<Vec<Artifact>, CheckError> {
    let files = templates::render_plan(plan, templates).map_err(|e| CheckError::Template {
        file: "(templates)".to_owned(),
        message: e.to_string(),
    })?;
    Ok(files.iter().map(Artifact::from).collect())
}

/// Renders `plan` with `templates` exactly as `sma generate` does, then checks it.
pub fn generate_and_check(
    plan: &Plan,
    templates: &templates::Templates,
) -> Result<Report, CheckError> {
    check_plan(plan, &generate(plan, templates)?)
}

/// Checks the artifacts of every access of `plan`. Accesses are independent, so they
/// are checked on every core (a cluster's hundred accesses are the case that costs);
/// findings keep the configuration's order, and the first error in that order wins.
pub fn check_plan(plan: &Plan, artifacts: &[Artifact]) -> Result<Report, CheckError> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(plan.accesses.len())
        .max(1);
    let chunk = plan.accesses.len().div_ceil(threads).max(1);
    let results: Vec<Result<Vec<Finding>, CheckError>> = if threads == 1 {
        plan.accesses
            .iter()
            .map(|access| check_access(access, artifacts))
            .collect()
    } else {
        std::thread::scope(|scope| {
            let workers: Vec<_> = plan
                .accesses
                .chunks(chunk)
                .map(|accesses| {
                    scope.spawn(move || {
                        accesses
                            .iter()
                            .map(|access| check_access(access, artifacts))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|worker| match worker.join() {
                    Ok(results) => results,
                    // A panic in a proof is a bug; surface it rather than lose findings.
                    Err(panic) => std::panic::resume_unwind(panic),
                })
                .collect()
        })
    };
    let mut report = Report::default();
    for (access, result) in plan.accesses.iter().zip(results) {
        report.accesses.push(access.name.to_string());
        report.findings.extend(result?);
        report.not_applicable.extend(trust_not_applicable(access));
    }
    Ok(report)
}

/// The trust family does not apply to an IAM user's access (static credentials).
fn trust_not_applicable(access: &Access) -> Option<NotChecked> {
    matches!(access.identity, Identity::User { .. }).then(|| NotChecked {
        access: access.name.to_string(),
        family: "trust",
        reason: "an IAM user's access key is the credential: there is no trust policy".to_owned(),
    })
}

fn artifact<'a>(
    access: &Access,
    artifacts: &'a [Artifact],
    file: &str,
) -> Result<&'a Artifact, CheckError> {
    let path = format!("{}/{file}", access.name);
    artifacts
        .iter()
        .find(|a| a.path == path)
        .ok_or_else(|| CheckError::MissingArtifact {
            access: access.name.to_string(),
            file: path,
        })
}

/// The policies of an access's artifacts: the policy file and every policy of its
/// template (identity and trust), intrinsics resolved for the access's stack.
pub fn access_policies(
    access: &Access,
    artifacts: &[Artifact],
) -> Result<(PolicyDoc, Vec<PolicyDoc>), CheckError> {
    let policy_file = artifact(access, artifacts, POLICY_FILE)?;
    let template_file = artifact(access, artifacts, CLOUDFORMATION_FILE)?;
    let stack = StackContext {
        partition: access.region.partition().as_str().to_owned(),
        account_id: access
            .identity
            .arn()
            .split(':')
            .nth(4)
            .unwrap_or_default()
            .to_owned(),
        region: access.region.to_string(),
    };
    let policy = artifacts::policy_json(&policy_file.path, &policy_file.contents)?;
    let template_docs =
        artifacts::cloudformation(&template_file.path, &template_file.contents, &stack)?;
    Ok((policy, template_docs))
}

/// The identity policies among an access's policies: the template's when it carries
/// the policy file's policy (as sma generates it), else both.
pub fn identity_policies<'a>(
    policy: &'a PolicyDoc,
    template_docs: &'a [PolicyDoc],
) -> Vec<&'a PolicyDoc> {
    let template_identity: Vec<&PolicyDoc> = template_docs
        .iter()
        .filter(|d| d.role == PolicyRole::Identity)
        .collect();
    match template_identity.as_slice() {
        [same] if same.policy == policy.policy => vec![*same],
        _ => std::iter::once(policy).chain(template_identity).collect(),
    }
}

/// Checks one access: scope proof of each artifact's identity policies, trust proof of
/// a role assumed by web identity (IRSA or `web-identity`), lint of every policy.
pub fn check_access(access: &Access, artifacts: &[Artifact]) -> Result<Vec<Finding>, CheckError> {
    let name = access.name.as_str();
    let (policy, template_docs) = access_policies(access, artifacts)?;
    let template_file = artifact(access, artifacts, CLOUDFORMATION_FILE)?;
    let space = languages::SecretSpace::of(access);
    let mut findings = Vec::new();

    let policy_findings = scope::prove_scope(name, &space, &access.scope, &[&policy])?;
    let template_identity: Vec<&PolicyDoc> = template_docs
        .iter()
        .filter(|d| d.role == PolicyRole::Identity)
        .collect();
    match template_identity.as_slice() {
        // The template carries the same policy (as sma generates it): same proof, the
        // findings only move to the template's statements.
        [same] if same.policy == policy.policy => {
            let moved: Vec<Finding> = policy_findings
                .iter()
                .map(|f| relocate(f.clone(), &policy, same))
                .collect();
            findings.extend(policy_findings);
            findings.extend(moved);
        }
        _ => {
            findings.extend(policy_findings);
            findings.extend(scope::prove_scope(
                name,
                &space,
                &access.scope,
                &template_identity,
            )?);
        }
    }

    if let Identity::Role {
        oidc_issuer,
        oidc_provider_arn,
        ..
    } = &access.identity
    {
        let intent = trust::TrustIntent {
            provider_arn: oidc_provider_arn.clone(),
            issuer_host_path: oidc_issuer.host_and_path().to_owned(),
            subject: access.service_account_subject().unwrap_or_default(),
            audience: model::plan::STS_AUDIENCE.to_owned(),
        };
        let trust_docs: Vec<&PolicyDoc> = template_docs
            .iter()
            .filter(|d| d.role == PolicyRole::Trust)
            .collect();
        if trust_docs.is_empty() {
            return Err(CheckError::Template {
                file: template_file.path.clone(),
                message: "an IRSA access's template has no AssumeRolePolicyDocument to prove"
                    .to_owned(),
            });
        }
        for doc in trust_docs {
            findings.extend(trust::prove_trust(name, &intent, doc)?);
        }
    }
    let eso_files: Vec<&Artifact> = artifacts
        .iter()
        .filter(|a| {
            a.path.starts_with(&format!("{name}/{ESO_DIR}/"))
                && (a.path.ends_with(".yaml") || a.path.ends_with(".yml"))
        })
        .collect();
    let identity_docs = identity_policies(&policy, &template_docs);
    let trust_docs: Vec<&PolicyDoc> = template_docs
        .iter()
        .filter(|d| d.role == PolicyRole::Trust)
        .collect();
    findings.extend(eso_consistency::check_eso(
        &eso_consistency::EsoInputs {
            access,
            space: &space,
            identity: &identity_docs,
            trust: &trust_docs,
        },
        &eso_files,
    )?);
    for doc in std::iter::once(&policy).chain(&template_docs) {
        findings.extend(lint::lint_policy(name, doc));
    }
    Ok(findings)
}

/// Checks a bare identity policy (a JSON file sma did not generate, without its
/// CloudFormation template or ESO manifests) against the intent of `access`: the scope
/// proof and the lint. The trust proof and the ESO checks need the files that are
/// missing; the report says so in [`Report::not_checked`] instead of passing them.
pub fn check_policy(access: &Access, policy_file: &Artifact) -> Result<Report, CheckError> {
    let name = access.name.as_str();
    let policy = artifacts::policy_json(&policy_file.path, &policy_file.contents)?;
    let space = languages::SecretSpace::of(access);
    let mut findings = scope::prove_scope(name, &space, &access.scope, &[&policy])?;
    findings.extend(lint::lint_policy(name, &policy));
    let missing = |family, what: &str| {
        NotChecked {
        access: name.to_owned(),
        family,
        reason: format!(
            "only a policy file was given; {what} are checked with --artifacts DIR (DIR/{name}/cloudformation.yaml and DIR/{name}/eso/)"
        ),
    }
    };
    let mut not_checked = Vec::new();
    if matches!(access.identity, Identity::Role { .. }) {
        not_checked.push(missing("trust", "the role's trust policy and the template"));
    }
    not_checked.push(missing("eso", "the ESO manifests against the policy"));
    Ok(Report {
        accesses: vec![name.to_owned()],
        findings,
        not_checked,
        not_applicable: trust_not_applicable(access).into_iter().collect(),
    })
}

/// A finding about statement `i` of `from` made about statement `i` of `to` (the same
/// policy in another file).
fn relocate(mut finding: Finding, from: &PolicyDoc, to: &PolicyDoc) -> Finding {
    let count = from.policy.statements().len();
    let index = (0..count).find(|&i| {
        finding.statement.as_deref() == Some(from.describe_statement(i).as_str())
            || (finding.statement.is_none() && finding.location.as_ref() == Some(&from.location(i)))
    });
    if let Some(i) = index {
        if finding.statement.is_some() {
            finding.statement = Some(to.describe_statement(i));
        }
        finding.location = Some(to.location(i));
    } else {
        finding.location = Some(to.location(0));
    }
    finding
}
