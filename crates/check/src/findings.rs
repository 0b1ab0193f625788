//! What a check reports: findings with a stable rule id, the access, a message, the
//! counterexample (a secret name or a token's claims) and where in the generated files
//! the statement that causes it sits.

use serde::Serialize;

/// The rules, with ids that never change (SARIF `ruleId`, waivers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Rule {
    /// The policies allow a secret outside the intent.
    ScopeBroader,
    /// An intended secret is not readable.
    ScopeNarrower,
    /// The scope proof holds only under a condition or variable it cannot decide.
    ScopeUnproven,
    /// The trust policy admits a token whose `sub` is not the store's service account.
    TrustSubject,
    /// The trust policy admits a token whose `aud` is not the audience ESO requests.
    TrustAudience,
    /// The trust policy admits tokens of another identity provider.
    TrustProvider,
    /// The trust policy lets other principals assume the role (`sts:AssumeRole`, `*`).
    TrustPrincipal,
    /// The trust policy does not admit ESO's own token.
    TrustNarrower,
    /// The trust proof holds only under a condition it cannot decide.
    TrustUnproven,
    /// An action that does not exist in Secrets Manager, KMS or STS.
    LintUnknownAction,
    /// A Secrets Manager or KMS action that changes state.
    LintWriteAction,
    /// `secretsmanager:ListSecrets` on something other than `"*"`.
    LintListSecretsScoped,
    /// An Allow statement with `NotAction`.
    LintAllowNotAction,
    /// An Allow statement with `NotResource`.
    LintAllowNotResource,
    /// A wildcard in the region or account part of an ARN.
    LintArnWildcard,
    /// A policy without `Version: 2012-10-17`.
    LintMissingVersion,
    /// A secret an ExternalSecret reads (`remoteRef.key`, `extract.key`) is not readable
    /// by the call ESO makes.
    EsoRead,
    /// `dataFrom.find` lacks `ListSecrets` (by name) or `ListSecrets` +
    /// `BatchGetSecretValue` (by path or tags) on `"*"`.
    EsoFind,
    /// A customer-managed key of the access: `kms:Decrypt` through Secrets Manager missing,
    /// granted without `kms:ViaService`, or granted on keys the configuration does not list.
    EsoKms,
    /// `role`/`additionalRoles` not granted `sts:AssumeRole`, or `sts:AssumeRole` granted
    /// on roles no store assumes.
    EsoAssumeRole,
    /// `sessionTags` without `sts:TagSession` in the trust policy, or `sts:TagSession`
    /// trusted while no store passes tags.
    EsoSessionTags,
    /// The store's region is not the access's.
    EsoRegion,
    /// The store authenticates as another identity than the access's (service account,
    /// its role annotation, or the kind of credentials).
    EsoIdentity,
    /// The manifests use something the check cannot verify from the artifacts.
    EsoUnproven,
    /// The new artifacts allow something the baseline's did not (`--baseline`).
    BaselineNewAccess,
    /// The access grants a secret that no ExternalSecret reads (`--external-secrets`).
    UsageUnusedGrant,
    /// An ExternalSecret names the access's store from a namespace the store does not
    /// serve (`--external-secrets`).
    UsageStoreRefused,
    /// A waiver whose expiry date has passed.
    WaiverExpired,
}

/// Every rule, in id order (SARIF rule table).
pub const ALL_RULES: [Rule; 28] = [
    Rule::ScopeBroader,
    Rule::ScopeNarrower,
    Rule::ScopeUnproven,
    Rule::TrustSubject,
    Rule::TrustAudience,
    Rule::TrustProvider,
    Rule::TrustPrincipal,
    Rule::TrustNarrower,
    Rule::TrustUnproven,
    Rule::LintUnknownAction,
    Rule::LintWriteAction,
    Rule::LintListSecretsScoped,
    Rule::LintAllowNotAction,
    Rule::LintAllowNotResource,
    Rule::LintArnWildcard,
    Rule::LintMissingVersion,
    Rule::EsoRead,
    Rule::EsoFind,
    Rule::EsoKms,
    Rule::EsoAssumeRole,
    Rule::EsoSessionTags,
    Rule::EsoRegion,
    Rule::EsoIdentity,
    Rule::EsoUnproven,
    Rule::BaselineNewAccess,
    Rule::UsageUnusedGrant,
    Rule::UsageStoreRefused,
    Rule::WaiverExpired,
];

impl Rule {
    /// The stable id (`scope-broader`).
    pub fn id(self) -> &'static str {
        match self {
            Rule::ScopeBroader => "scope-broader",
            Rule::ScopeNarrower => "scope-narrower",
            Rule::ScopeUnproven => "scope-unproven",
            Rule::TrustSubject => "trust-subject",
            Rule::TrustAudience => "trust-audience",
            Rule::TrustProvider => "trust-provider",
            Rule::TrustPrincipal => "trust-principal",
            Rule::TrustNarrower => "trust-narrower",
            Rule::TrustUnproven => "trust-unproven",
            Rule::LintUnknownAction => "lint-unknown-action",
            Rule::LintWriteAction => "lint-write-action",
            Rule::LintListSecretsScoped => "lint-list-secrets-scoped",
            Rule::LintAllowNotAction => "lint-allow-not-action",
            Rule::LintAllowNotResource => "lint-allow-not-resource",
            Rule::LintArnWildcard => "lint-arn-wildcard",
            Rule::LintMissingVersion => "lint-missing-version",
            Rule::EsoRead => "eso-read",
            Rule::EsoFind => "eso-find",
            Rule::EsoKms => "eso-kms",
            Rule::EsoAssumeRole => "eso-assume-role",
            Rule::EsoSessionTags => "eso-session-tags",
            Rule::EsoRegion => "eso-region",
            Rule::EsoIdentity => "eso-identity",
            Rule::EsoUnproven => "eso-unproven",
            Rule::BaselineNewAccess => "baseline-new-access",
            Rule::UsageUnusedGrant => "usage-unused-grant",
            Rule::UsageStoreRefused => "usage-store-refused",
            Rule::WaiverExpired => "waiver-expired",
        }
    }

    /// The rule for an id.
    pub fn from_id(id: &str) -> Option<Rule> {
        ALL_RULES.into_iter().find(|r| r.id() == id)
    }

    /// One sentence describing the rule.
    pub fn description(self) -> &'static str {
        match self {
            Rule::ScopeBroader => "The policies allow reading a secret outside the access's intended scope.",
            Rule::ScopeNarrower => "A secret inside the access's intended scope is not readable.",
            Rule::ScopeUnproven => "The scope proof holds only if a condition or policy variable it cannot decide takes the right value.",
            Rule::TrustSubject => "The role trusts tokens of service accounts other than the store's.",
            Rule::TrustAudience => "The role trusts tokens minted for an audience other than sts.amazonaws.com.",
            Rule::TrustProvider => "The role trusts tokens of an identity provider other than the cluster's issuer.",
            Rule::TrustPrincipal => "Principals other than the cluster's service account can assume the role.",
            Rule::TrustNarrower => "The role does not trust the token ESO presents.",
            Rule::TrustUnproven => "The trust proof holds only if a condition it cannot decide rejects the token.",
            Rule::LintUnknownAction => "The action does not exist in Secrets Manager, KMS or STS.",
            Rule::LintWriteAction => "A read-only access is granted an action that changes secrets or keys.",
            Rule::LintListSecretsScoped => "secretsmanager:ListSecrets only works on Resource \"*\".",
            Rule::LintAllowNotAction => "An Allow statement with NotAction grants every action not listed, including future ones.",
            Rule::LintAllowNotResource => "An Allow statement with NotResource grants every resource not listed, including future ones.",
            Rule::LintArnWildcard => "A wildcard in the region or account part of an ARN reaches other regions or accounts.",
            Rule::LintMissingVersion => "Without Version 2012-10-17, policy variables are literal text.",
            Rule::EsoRead => "A secret an ExternalSecret reads is not readable by the call ESO makes for it.",
            Rule::EsoFind => "dataFrom.find needs secretsmanager:ListSecrets (by name) and BatchGetSecretValue (by path or tags) on Resource \"*\".",
            Rule::EsoKms => "A customer-managed key needs kms:Decrypt through Secrets Manager only (kms:ViaService), on the configured keys only.",
            Rule::EsoAssumeRole => "The roles a store assumes (role, additionalRoles) and the sts:AssumeRole the policies grant differ.",
            Rule::EsoSessionTags => "A store's sessionTags need sts:TagSession in the assumed role's trust policy; without them it should not be trusted.",
            Rule::EsoRegion => "The store reads another region than the access's secrets are in.",
            Rule::EsoIdentity => "The store authenticates as another identity than the access's role or user.",
            Rule::EsoUnproven => "The manifests use something the check cannot verify from the artifacts.",
            Rule::BaselineNewAccess => "The new templates allow something the baseline's did not.",
            Rule::UsageUnusedGrant => "The access grants secrets that no ExternalSecret of the cluster reads.",
            Rule::UsageStoreRefused => "An ExternalSecret names the access's store from a namespace the store does not serve: ESO refuses it.",
            Rule::WaiverExpired => "A waiver has passed its expiry date.",
        }
    }

    /// The family shown in reports (`scope`, `trust`, `lint`, `eso`, `baseline`, `usage`, `waiver`).
    pub fn family(self) -> &'static str {
        let id = self.id();
        &id[..id.find('-').unwrap_or(id.len())]
    }
}

/// A place in a generated (or given) file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// Path relative to the output directory (`staging-secrets/iam-policy.json`).
    pub file: String,
    /// 1-based line of the statement.
    pub line: usize,
}

/// A waiver that covers a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedWaiver {
    /// Why the finding is accepted.
    pub reason: String,
    /// Last day the waiver holds (`YYYY-MM-DD`).
    pub expires: String,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule.
    #[serde(serialize_with = "rule_id")]
    pub rule: Rule,
    /// The access it concerns.
    pub access: String,
    /// The actions concerned (scope proof), empty otherwise.
    pub actions: Vec<String>,
    /// What is wrong, in words.
    pub message: String,
    /// The smallest example that shows it: a secret name, or a token's claims.
    pub counterexample: Option<String>,
    /// The statement responsible (`iam-policy.json statement "ReadScopedSecrets"`).
    pub statement: Option<String>,
    /// Where that statement is.
    pub location: Option<Location>,
    /// Set when a waiver accepts the finding.
    pub waiver: Option<AppliedWaiver>,
}

fn rule_id<S: serde::Serializer>(rule: &Rule, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(rule.id())
}

impl Finding {
    /// A finding of `rule` for `access` with `message`; the rest is filled in by the
    /// builder methods.
    pub fn new(rule: Rule, access: &str, message: impl Into<String>) -> Finding {
        Finding {
            rule,
            access: access.to_owned(),
            actions: Vec::new(),
            message: message.into(),
            counterexample: None,
            statement: None,
            location: None,
            waiver: None,
        }
    }

    /// Sets the counterexample.
    pub fn with_counterexample(mut self, example: impl Into<String>) -> Finding {
        self.counterexample = Some(example.into());
        self
    }

    /// Sets the responsible statement and its location.
    pub fn at(mut self, statement: Option<String>, location: Option<Location>) -> Finding {
        self.statement = statement;
        self.location = location;
        self
    }

    /// Whether the finding counts (not waived).
    pub fn is_open(&self) -> bool {
        self.waiver.is_none()
    }
}

/// The result of checking a configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The accesses checked, in configuration order.
    pub accesses: Vec<String>,
    /// The findings, waived ones included.
    pub findings: Vec<Finding>,
    /// What this run could not check, and why (e.g. only a policy was given, so no
    /// trust proof): a clean report says nothing about these.
    pub not_checked: Vec<NotChecked>,
    /// Families that do not apply to an access (an IAM user's key has no trust policy):
    /// neither run nor reported as passed.
    pub not_applicable: Vec<NotChecked>,
}

/// A family of checks an access did not get, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotChecked {
    /// The access.
    pub access: String,
    /// The family of rules not run (`trust`, `eso`; see [`Rule::family`]).
    pub family: &'static str,
    /// Why, and how to get it checked.
    pub reason: String,
}

impl std::fmt::Display for NotChecked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "access `{}`: {} checks: {}",
            self.access, self.family, self.reason
        )
    }
}

impl Report {
    /// Whether no finding is open (exit code 0).
    pub fn is_clean(&self) -> bool {
        self.findings.iter().all(|f| !f.is_open())
    }

    /// Findings that are not waived.
    pub fn open_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.is_open())
    }
}
