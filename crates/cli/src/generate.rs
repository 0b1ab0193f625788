//! `sma generate`: validate a configuration (a YAML file, or flags for one access),
//! render the templates, write one directory per access atomically, and print what
//! each access grants with the warnings a reviewer needs.
//!
//! Thin on purpose: validation lives in `model`, rendering and writing in `templates`.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use crate::access_flags::SingleAccessArgs;

/// Flags of `sma generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Configuration file (YAML): a cluster and its accesses. See examples/aws-role-arn.yaml.
    #[arg(long, value_name = "FILE", conflicts_with = "single_access")]
    pub config: Option<PathBuf>,

    /// Output directory: one subdirectory per access. Written to a temporary directory
    /// and renamed into place.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Replace DIR if it exists and is not empty.
    #[arg(long)]
    pub force: bool,

    /// Directory of template overrides (same relative names as templates/ in the
    /// repository); templates not found there stay the embedded ones.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,

    /// The single access described by flags, instead of `--config`.
    #[command(flatten)]
    pub access: SingleAccessArgs,
}

/// Runs `sma generate`. Nothing is written unless validation and rendering succeed.
pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    let plan = match &args.config {
        Some(path) => model::load(path)?,
        None => args.access.single_access().validate()?,
    };
    let templates = match &args.templates {
        Some(dir) => templates::Templates::with_overrides(dir)?,
        None => templates::Templates::embedded()?,
    };
    let files = templates::render_plan(&plan, &templates)?;
    templates::write_atomically(&args.out, &files, args.force)
        .with_context(|| format!("writing {}", args.out.display()))?;
    print!("{}", templates::review_text(&plan));
    println!(
        "Wrote {} files for {} access(es) to {} (see README.md there).",
        files.len(),
        plan.accesses.len(),
        args.out.display()
    );
    Ok(())
}
