//! The callers that must not get an access's credentials, derived from its intent:
//! for a role, service-account tokens that differ from ESO's in one claim each; for a
//! user, its access key once deactivated or deleted.

use crate::intent::{AccessIntent, IdentityIntent};

/// The audience the account's OIDC provider also accepts in a proof, so that only the
/// role's trust policy can refuse it (providers shared with other workloads list
/// several audiences).
pub const OTHER_AUDIENCE: &str = "sma-prove-other-audience";

/// A service-account token that differs from ESO's in one respect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenProbe {
    /// Namespace of the service account.
    pub namespace: String,
    /// Name of the service account.
    pub service_account: String,
    /// The token's audience.
    pub audience: String,
    /// `cluster` (the cluster's issuer) or `another cluster` (another issuer that is
    /// also an IAM OIDC provider of the account).
    pub issuer: IssuerChoice,
    /// Whether the token has expired.
    pub expired: bool,
    /// What differs, in words.
    pub why: String,
}

/// Which issuer signs a probe token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssuerChoice {
    /// The cluster's.
    Cluster,
    /// Another cluster's, registered in the account too.
    Other,
}

impl IssuerChoice {
    /// As written in feature tables.
    pub fn as_str(self) -> &'static str {
        match self {
            IssuerChoice::Cluster => "the cluster",
            IssuerChoice::Other => "another cluster",
        }
    }

    /// Parses [`IssuerChoice::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "the cluster" => Some(IssuerChoice::Cluster),
            "another cluster" => Some(IssuerChoice::Other),
            _ => None,
        }
    }
}

/// The tokens that must not assume the access's role (none for a user).
pub fn token_probes(intent: &AccessIntent) -> Vec<TokenProbe> {
    let IdentityIntent::Role {
        namespace,
        service_account,
        audience,
        ..
    } = &intent.identity
    else {
        return vec![];
    };
    let other_namespace = if namespace == "default" {
        "kube-system"
    } else {
        "default"
    };
    let other_account_name = if service_account == "default" {
        "app"
    } else {
        "default"
    };
    let probe = |ns: &str, sa: &str, aud: &str, issuer, expired, why: &str| TokenProbe {
        namespace: ns.into(),
        service_account: sa.into(),
        audience: aud.into(),
        issuer,
        expired,
        why: why.into(),
    };
    vec![
        probe(
            other_namespace,
            service_account,
            audience,
            IssuerChoice::Cluster,
            false,
            "the same service account name in another namespace",
        ),
        probe(
            namespace,
            other_account_name,
            audience,
            IssuerChoice::Cluster,
            false,
            "another service account of ESO's namespace",
        ),
        probe(
            namespace,
            service_account,
            OTHER_AUDIENCE,
            IssuerChoice::Cluster,
            false,
            "another audience, which the account's OIDC provider also accepts",
        ),
        probe(
            namespace,
            service_account,
            audience,
            IssuerChoice::Other,
            false,
            "another cluster's issuer, also an OIDC provider of the account",
        ),
        probe(
            namespace,
            service_account,
            audience,
            IssuerChoice::Cluster,
            true,
            "an expired token",
        ),
    ]
}
