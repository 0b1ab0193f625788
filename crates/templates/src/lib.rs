//! Renders a validated [`model::Plan`] into the files a platform team deploys: per
//! access an IAM policy (JSON), a CloudFormation template (the IRSA role or the IAM
//! user), ESO manifests (`external-secrets.io/v1`) and a README saying what the access
//! grants.
//!
//! The templates live in the repository's `templates/` directory (tera), are embedded in
//! the binary, and can be overridden file by file ([`Templates::with_overrides`]).
//!
//! Invariants:
//! - output is deterministic (no timestamps, no random values): the golden examples
//!   under `examples/` are compared byte for byte;
//! - every value reaches a template through a validated model type and is escaped by the
//!   `json` / `yaml_str` filters; every rendered JSON and YAML file is parsed again
//!   before it is returned ([`RenderError::InvalidOutput`]);
//! - nothing is written until everything rendered, and then atomically
//!   ([`write_atomically`]).

#![deny(missing_docs)]

pub mod context;
pub mod examples;
pub mod output;
pub mod render;

pub use output::{write_atomically, OutputError};
pub use render::{render_plan, yaml_quote, ArtifactKind, GeneratedFile, RenderError, Templates};

/// A plain-text review of every access of `plan`: what it grants and the warnings a
/// reviewer needs (printed by `sma generate`).
pub fn review_text(plan: &model::Plan) -> String {
    let mut text = String::new();
    for access in &plan.accesses {
        let summary = access.grant_summary();
        text.push_str(&format!(
            "Access `{}` ({}, region {}):\n",
            access.name,
            access.setup.as_str(),
            access.region
        ));
        for grant in &summary.grants {
            text.push_str(&format!("  grants: {grant}\n"));
        }
        for warning in &summary.warnings {
            text.push_str(&format!("  WARNING: {warning}\n"));
        }
        text.push('\n');
    }
    text
}
