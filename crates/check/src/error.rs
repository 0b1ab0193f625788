//! Why a check could not run (exit code 2): the input, not the policies, is at fault.

use std::path::PathBuf;

/// A tool or input error.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// An input file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A policy document does not parse.
    #[error("{file} ({label}): not a valid IAM policy: {message}")]
    Policy {
        /// The file.
        file: String,
        /// The policy inside it.
        label: String,
        /// The parser's message (names the element).
        message: String,
    },
    /// A CloudFormation template cannot be read as policies.
    #[error("{file}: {message}")]
    Template {
        /// The file.
        file: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// An ESO manifest cannot be read, or the manifests do not fit together.
    #[error("{file}: {message}")]
    Manifest {
        /// The file (or the access's manifest directory).
        file: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// An access has no generated artifact to check.
    #[error("access `{access}`: missing artifact {file}. Fix: generate it with the same templates (sma generate)")]
    MissingArtifact {
        /// The access.
        access: String,
        /// The file.
        file: String,
    },
    /// The waivers file is not valid.
    #[error("waivers file {path}: {message}")]
    Waivers {
        /// The file.
        path: String,
        /// What is wrong (names the entry and the field).
        message: String,
    },
    /// A proof exceeded its bound (no verdict: never a pass).
    #[error("access `{access}`: {message}")]
    ProofTooLarge {
        /// The access.
        access: String,
        /// Which proof, and the bound.
        message: String,
    },
}
