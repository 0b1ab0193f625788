//! `sma generate`: validate a configuration (a YAML file, or flags for one access),
//! render the templates, write one directory per access atomically, and print what
//! each access grants with the warnings a reviewer needs.
//!
//! Thin on purpose: validation lives in `model`, rendering and writing in `templates`,
//! and the proof that the rendered files grant what the configuration says (the
//! grants printed) in `check`.

use std::path::PathBuf;
use std::process::ExitCode;

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

/// Runs `sma generate`: exit 0 when written, 1 when the rendered files grant more
/// than the configuration says (nothing written). Nothing is written unless
/// validation, rendering and the check succeed.
pub fn run(args: GenerateArgs) -> anyhow::Result<ExitCode> {
    let plan = match &args.config {
        Some(path) => model::load(path)?,
        None => args.access.single_access().validate()?,
    };
    let templates = match &args.templates {
        Some(dir) => templates::Templates::with_overrides(dir)?,
        None => templates::Templates::embedded()?,
    };
    let files = templates::render_plan(&plan, &templates)?;
    // The grants printed below describe the configuration; prove that the files say
    // the same before writing them (template overrides can say otherwise).
    let artifacts: Vec<check::Artifact> = files.iter().map(check::Artifact::from).collect();
    let report = check::check_plan(&plan, &artifacts)
        .context("checking the rendered files as `sma check` does")?;
    let beyond_intent = check::Report {
        findings: report
            .open_findings()
            .filter(|f| f.rule.family() != "lint")
            .cloned()
            .collect(),
        ..report
    };
    if !beyond_intent.findings.is_empty() {
        eprint!(
            "{}",
            check::output::render(&beyond_intent, check::output::Format::Text, None)
        );
        let source = match &args.templates {
            Some(dir) => format!("the template overrides in {}", dir.display()),
            None => "sma's templates".to_owned(),
        };
        eprintln!(
            "error: the files rendered from {source} grant more than the configuration says (findings above); nothing was written to {}. Fix the templates, or change the configuration to say what they should grant; `sma check --config FILE --templates DIR` gives the full report.",
            args.out.display()
        );
        return Ok(ExitCode::from(1));
    }
    templates::write_atomically(&args.out, &files, args.force)
        .with_context(|| format!("writing {}", args.out.display()))?;
    print!("{}", templates::review_text(&plan));
    println!(
        "Wrote {} files for {} access(es) to {} (see README.md there).",
        files.len(),
        plan.accesses.len(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
