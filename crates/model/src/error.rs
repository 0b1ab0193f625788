//! Errors of the model: reading a configuration file, and validating it.
//!
//! Every validation error names the offending field with its full path
//! (`accesses[0].secrets.prefixes[1]`), says what is wrong and how to fix it.

use std::fmt;
use std::path::PathBuf;

/// What kind of mistake a [`ValidationError`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A required field is absent.
    Missing,
    /// A field is present but its value is malformed (bad format, bad characters, too long).
    Malformed,
    /// A field is well-formed but not allowed here (wrong setup, wrong cloud).
    NotAllowed,
    /// The field conflicts with another one (vendor rule, duplicate, mismatch).
    Conflict,
}

/// One problem in a configuration: which field, what is wrong, how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}. Fix: {fix}")]
pub struct ValidationError {
    /// Kind of mistake.
    pub kind: ErrorKind,
    /// Path of the field, e.g. `accesses[0].secrets.prefixes[1]` (or a command-line flag
    /// such as `--prefix` when the configuration came from flags).
    pub field: String,
    /// What is wrong, in plain words.
    pub problem: String,
    /// What to do about it.
    pub fix: String,
}

impl ValidationError {
    /// Builds an error of the given kind for `field`.
    pub fn new(
        kind: ErrorKind,
        field: impl Into<String>,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            field: field.into(),
            problem: problem.into(),
            fix: fix.into(),
        }
    }
}

/// Every problem found in one configuration (never empty when returned as an error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationErrors(pub Vec<ValidationError>);

impl ValidationErrors {
    /// The individual errors, in the order of the configuration.
    pub fn errors(&self) -> &[ValidationError] {
        &self.0
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.len();
        write!(
            f,
            "the configuration has {count} problem{}:",
            if count == 1 { "" } else { "s" }
        )?;
        for error in &self.0 {
            write!(f, "\n  - {error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The text is not valid YAML, or does not have the expected shape (unknown field,
    /// wrong type, unknown enum value).
    #[error("{message}. Fix: compare with the commented example `examples/aws-role-arn.yaml`; field names are snake_case and every value of an enum is listed in the message")]
    Syntax {
        /// The parser's message, which names the field path and the line.
        message: String,
    },
    /// The configuration parsed but breaks a rule.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
}
