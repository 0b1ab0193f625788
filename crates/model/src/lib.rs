//! The domain of `sma`: a Kubernetes cluster and its accesses to AWS Secrets Manager
//! through the External Secrets Operator, the vendor's rules, and their validation.
//!
//! Flow: YAML text → [`ConfigFile`] (serde, unknown fields rejected) →
//! [`ConfigFile::validate`] → [`Plan`] (typed, every value well-formed and safe to render)
//! or [`ValidationErrors`] (each naming the field path and the fix).
//!
//! Invariants:
//! - no I/O except [`ConfigFile::read`];
//! - every string in a [`Plan`] comes from a validated type of [`values`], whose
//!   character sets exclude quotes, newlines, `$`, `{` and `}`: nothing can inject YAML,
//!   JSON, CloudFormation substitutions or IAM policy variables.

#![deny(missing_docs)]

pub mod config;
pub mod error;
pub mod flags;
pub mod grants;
pub mod plan;
mod validate;
pub mod values;

pub use config::{
    AccessConfig, Cloud, ClusterConfig, ConfigFile, EsoConfig, SecretsConfig, Setup, StoreKind,
};
pub use error::{ConfigError, ErrorKind, ValidationError, ValidationErrors};
pub use flags::SingleAccess;
pub use grants::GrantSummary;
pub use plan::{Access, Cluster, Eso, Identity, Placement, Plan, SecretScope, Statement};
pub use validate::{DEFAULT_NAMESPACE, DEFAULT_SERVICE_ACCOUNT};

/// Reads, parses and validates a configuration file.
pub fn load(path: &std::path::Path) -> Result<Plan, ConfigError> {
    Ok(ConfigFile::read(path)?.validate()?)
}

/// Parses and validates configuration text.
pub fn parse(text: &str) -> Result<Plan, ConfigError> {
    Ok(ConfigFile::from_yaml(text)?.validate()?)
}
