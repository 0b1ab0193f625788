//! External Secrets Operator's AWS provider (release 2.9.0, as read in
//! `docs/eso-aws.md`'s sources), driven by manifests instead of a cluster:
//!
//! - [`manifests`]: the ServiceAccount, SecretStore / ClusterSecretStore, ExternalSecret
//!   and Secret documents, read from YAML with the fields ESO uses;
//! - `provider` (cargo feature `aws`, on by default): how ESO obtains credentials for a store (the service account's role
//!   and audience annotations, a token for the service account the store names,
//!   `AssumeRoleWithWebIdentity` with session name `external-secrets-provider-aws`; or
//!   the access key read through the names and keys the store points at), and the
//!   Secrets Manager calls it makes in the store's region.
//!
//! A mistake in a manifest (a store naming a service account that does not exist, an
//! annotation naming another role, a `secretRef` key that the Secret lacks, a region
//! other than the secrets') surfaces as an [`EsoError`] or a failed call, as it would in
//! a cluster.

#![warn(missing_docs)]

pub mod manifests;
#[cfg(feature = "aws")]
pub mod provider;

pub use manifests::{Manifests, Store, StoreAuth};
#[cfg(feature = "aws")]
pub use provider::{Cluster, Credentials, Provider, SecretValue, TokenRequest};

/// Why ESO could not do what a manifest asks.
#[derive(Debug, thiserror::Error)]
pub enum EsoError {
    /// A manifest could not be read.
    #[error("{file}: {message}")]
    Manifest {
        /// The file (or source) it came from.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// The manifests do not fit together (a reference to a missing object).
    #[error("{0}")]
    Reference(String),
    /// An AWS call failed.
    #[error("{operation}: {code}: {message}")]
    Aws {
        /// The operation, e.g. `AssumeRoleWithWebIdentity`.
        operation: String,
        /// AWS's error code (`AccessDenied`, …), or `Unknown`.
        code: String,
        /// AWS's message.
        message: String,
    },
}

impl EsoError {
    /// The AWS error code, when the error is an AWS answer.
    pub fn aws_code(&self) -> Option<&str> {
        match self {
            EsoError::Aws { code, .. } => Some(code),
            _ => None,
        }
    }
}
