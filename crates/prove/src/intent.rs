//! Each access's intent, read from the validated configuration ([`model::Plan`]), and
//! the outcome it implies for any secret: the only source of expected outcomes.
//!
//! The rules are the platform team's words turned into predicates on a secret's
//! account, region, name and key, not on any policy text:
//! - an exact name `N` means the secret named `N`, nothing else;
//! - a prefix `P` means every name that starts with `P` (so `billing` without a `/`
//!   also means `billingfoo`: the configuration says so and `sma generate` warns);
//! - a raw ARN pattern means what IAM's glob (`*`, `?`) matches against the secret's
//!   ARN, whose name AWS follows with `-` and six random characters;
//! - no `secrets` section: every secret of the access's account and region; the
//!   automatic setup: every secret of the account;
//! - a secret under a customer-managed key is readable only when the access lists the
//!   key (`kms:Decrypt`); its metadata needs no key;
//! - ESO reaches secrets only through its store, in the store's region and the access's
//!   account: a secret elsewhere is never read through it.

use model::plan::{Access, Identity, Plan, SecretScope};
use model::Setup;

/// What the configuration says of one access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessIntent {
    /// The access's name (names its store and its output directory).
    pub access: String,
    /// Its setup.
    pub setup: Setup,
    /// The account of its secrets.
    pub account: String,
    /// The region of its secrets and of its ESO store.
    pub region: String,
    /// `aws` or `aws-us-gov`.
    pub partition: String,
    /// Which secrets it may read.
    pub scope: Scope,
    /// Customer-managed keys it may decrypt with.
    pub kms_keys: Vec<String>,
    /// Who uses it.
    pub identity: IdentityIntent,
    /// Namespace of the ESO service account or credentials Secret.
    pub namespace: String,
    /// The secret the generated example `ExternalSecret` reads.
    pub example_key: String,
}

/// Which secrets an access may read, as the configuration says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every secret of the account, any region (the automatic setup).
    EntireAccount,
    /// Every secret of the access's account and region.
    EntireRegion,
    /// Only these.
    Selected {
        /// Exact names.
        names: Vec<String>,
        /// Name prefixes.
        prefixes: Vec<String>,
        /// Raw secret ARN patterns.
        arn_patterns: Vec<String>,
    },
}

/// The identity ESO uses for an access, and who may use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityIntent {
    /// A role assumed by web identity with a service-account token.
    Role {
        /// The role's name.
        name: String,
        /// The role's ARN.
        arn: String,
        /// The cluster's OIDC issuer, without `https://`.
        issuer: String,
        /// Namespace of the only service account that may assume it.
        namespace: String,
        /// Name of that service account.
        service_account: String,
        /// The only audience its tokens may carry.
        audience: String,
    },
    /// An IAM user whose access key ESO reads from a Kubernetes Secret.
    User {
        /// The user's name.
        name: String,
    },
}

/// The outcome the intent implies for one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// Whether the call must succeed.
    pub allowed: bool,
    /// Why, in the platform team's words.
    pub why: String,
}

impl Expected {
    fn allow(why: impl Into<String>) -> Self {
        Self {
            allowed: true,
            why: why.into(),
        }
    }
    fn deny(why: impl Into<String>) -> Self {
        Self {
            allowed: false,
            why: why.into(),
        }
    }
}

/// The intent of every access of `plan`, in configuration order.
pub fn of_plan(plan: &Plan) -> Vec<AccessIntent> {
    plan.accesses.iter().map(AccessIntent::of).collect()
}

impl AccessIntent {
    /// The intent of one validated access.
    pub fn of(access: &Access) -> Self {
        let scope = match &access.scope {
            SecretScope::EntireAccount => Scope::EntireAccount,
            SecretScope::EntireRegion => Scope::EntireRegion,
            SecretScope::Selected {
                names,
                prefixes,
                arn_patterns,
            } => Scope::Selected {
                names: names.iter().map(|n| n.to_string()).collect(),
                prefixes: prefixes.iter().map(|p| p.to_string()).collect(),
                arn_patterns: arn_patterns.iter().map(|p| p.to_string()).collect(),
            },
        };
        let identity = match &access.identity {
            Identity::Role {
                name,
                arn,
                oidc_issuer,
                ..
            } => IdentityIntent::Role {
                name: name.to_string(),
                arn: arn.clone(),
                issuer: oidc_issuer
                    .to_string()
                    .trim_start_matches("https://")
                    .to_string(),
                namespace: access.eso.namespace.to_string(),
                service_account: access
                    .eso
                    .service_account
                    .as_ref()
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
                audience: model::plan::STS_AUDIENCE.to_string(),
            },
            Identity::User { name, .. } => IdentityIntent::User {
                name: name.to_string(),
            },
        };
        Self {
            access: access.name.to_string(),
            setup: access.setup,
            account: access.account_id.to_string(),
            region: access.region.to_string(),
            partition: access.region.partition().as_str().to_string(),
            scope,
            kms_keys: access.kms_key_arns.iter().map(|k| k.to_string()).collect(),
            identity,
            namespace: access.eso.namespace.to_string(),
            example_key: access.example_remote_key(),
        }
    }

    /// The ARN of the secret `name` of this access's account and region, with a
    /// stand-in for AWS's six random characters.
    fn arn_of(&self, account: &str, region: &str, name: &str) -> String {
        format!(
            "arn:{}:secretsmanager:{region}:{account}:secret:{name}-AbCdEf",
            self.partition
        )
    }

    /// Whether the intent names the secret `name` (any account and region), and why.
    pub fn names(&self, account: &str, region: &str, name: &str) -> Option<String> {
        match &self.scope {
            Scope::EntireAccount => Some("every secret of the account".into()),
            Scope::EntireRegion => Some(format!(
                "every secret of account {} in {}",
                self.account, self.region
            )),
            Scope::Selected {
                names,
                prefixes,
                arn_patterns,
            } => {
                if let Some(n) = names.iter().find(|n| *n == name) {
                    return Some(format!("the exact name \"{n}\""));
                }
                if let Some(p) = prefixes.iter().find(|p| name.starts_with(p.as_str())) {
                    return Some(format!("under the prefix \"{p}\""));
                }
                let arn = self.arn_of(account, region, name);
                arn_patterns
                    .iter()
                    .find(|p| glob_matches(p, &arn))
                    .map(|p| format!("matches the ARN pattern \"{p}\""))
            }
        }
    }

    /// The outcome of `action` (one of [`crate::MATRIX_ACTIONS`]) on `secret` through
    /// this access's ESO store.
    pub fn expect(&self, secret: &crate::SeededSecret, action: &str) -> Expected {
        if secret.account != self.account {
            return Expected::deny(format!(
                "account {} is not the access's ({})",
                secret.account, self.account
            ));
        }
        if secret.region != self.region {
            return Expected::deny(format!(
                "region {} is not the store's ({})",
                secret.region, self.region
            ));
        }
        let Some(why) = self.names(&secret.account, &secret.region, &secret.name) else {
            return Expected::deny("not in the access's secrets");
        };
        match &secret.key {
            Some(key) if action == "GetSecretValue" && !self.kms_keys.contains(&key.arn) => {
                Expected::deny(format!(
                    "{why}, but encrypted with the customer-managed key \"{}\" the access does not list",
                    key.label
                ))
            }
            Some(key) if action == "GetSecretValue" => Expected::allow(format!(
                "{why}, encrypted with the listed key \"{}\"",
                key.label
            )),
            _ => Expected::allow(why),
        }
    }
}

/// IAM's glob: `*` any run of characters, `?` one character, case-sensitive, whole
/// string (the `Resource` element's semantics for secret ARNs).
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_is_iam_glob() {
        assert!(glob_matches("a*", "abc"));
        assert!(glob_matches("a?c", "abc"));
        assert!(!glob_matches("a?c", "abbc"));
        assert!(glob_matches("*", ""));
        assert!(!glob_matches("staging/*", "stagingfoo"));
        assert!(glob_matches("staging*", "stagingfoo"));
        assert!(glob_matches("x-??????", "x-AbCdEf"));
        assert!(!glob_matches("x-??????", "x-AbCdEf-AbCdEf"));
    }
}
