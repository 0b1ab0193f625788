//! `sma check`: generate the templates in memory exactly as `sma generate` does (or
//! read committed ones with `--artifacts`), prove every access's policies and trust
//! offline, apply waivers, and print or write the report.
//!
//! Exit codes: 0 clean (every finding waived, or none), 1 findings, 2 tool or
//! configuration error (printed by `main`). Thin on purpose: the proofs live in `check`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use crate::access_flags::SingleAccessArgs;

/// Flags of `sma check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Configuration file (YAML): the intent of every access. See examples/aws-role-arn.yaml.
    /// Without it, the flags of one access (`--setup`, `--account-id`, `--region`,
    /// `--secret-name`, `--prefix`, … as for `sma generate`) state the intent.
    #[arg(long, value_name = "FILE", conflicts_with = "single_access")]
    pub config: Option<PathBuf>,

    /// The single access described by flags, instead of `--config`.
    #[command(flatten)]
    pub access: SingleAccessArgs,

    /// Directory of template overrides, as for `sma generate`.
    #[arg(long, value_name = "DIR", conflicts_with = "artifacts")]
    pub templates: Option<PathBuf>,

    /// Check the files already generated in DIR (`DIR/<access>/iam-policy.json`,
    /// `cloudformation.yaml`, `eso/*.yaml`, possibly edited, or written by hand) instead
    /// of generating them. With the flags of one access, `<access>` is `--name`
    /// (default `aws-secrets-manager`).
    #[arg(long, value_name = "DIR")]
    pub artifacts: Option<PathBuf>,

    /// Check only this identity policy (JSON, e.g. written by hand or exported from
    /// IAM) against the intent of the one access: the scope proof and the lint. The
    /// trust and ESO checks need the template and manifests (`--artifacts`); the report
    /// lists them as not checked.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["artifacts", "templates", "baseline", "external_secrets"]
    )]
    pub policy: Option<PathBuf>,

    /// Also report every access the new artifacts grant that those of OLD_DIR (a
    /// previous `sma generate` output, e.g. the base branch's committed files) did not:
    /// per secret read action the shortest newly readable secret name, and every other
    /// new Allow (or dropped Deny) statement, trust policy included (`baseline-new-access`).
    #[arg(long, value_name = "OLD_DIR")]
    pub baseline: Option<PathBuf>,

    /// The cluster's ExternalSecret manifests (YAML files under DIR, several documents
    /// per file): report what each access grants that none of them reads
    /// (`usage-unused-grant`) and what they read that it lacks (`eso-read`), and print
    /// the narrowest `secrets` section serving them (YAML, on standard error).
    #[arg(long, value_name = "DIR")]
    pub external_secrets: Option<PathBuf>,

    /// Report format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: FormatArg,

    /// Write the report to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Waivers file (YAML: `waivers: [{rule, access, reason, expires: YYYY-MM-DD}]`).
    /// Waived findings stay in the report, marked waived; an expired waiver fails.
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,

    /// Prefix for file paths in reports (e.g. the directory where the generated files
    /// are committed, so that SARIF locations point at them).
    #[arg(long, value_name = "DIR")]
    pub location_prefix: Option<String>,
}

/// `--format` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// Human-readable text.
    Text,
    /// JSON report.
    Json,
    /// SARIF 2.1.0 (GitHub code scanning).
    Sarif,
    /// JUnit XML.
    Junit,
}

fn today() -> (i32, u32, u32) {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    check::waivers::date_from_unix_days((seconds / 86_400) as i64)
}

/// Runs `sma check`; `Err` is a tool or configuration error (exit 2).
pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let plan = match &args.config {
        Some(path) => model::load(path)?,
        None => args.access.single_access().validate()?,
    };
    let waivers = match &args.waivers {
        Some(path) => check::input::read_waivers(path)?,
        None => Vec::new(),
    };
    let unknown: Vec<&str> = waivers
        .iter()
        .map(|w| w.access.as_str())
        .filter(|name| !plan.accesses.iter().any(|a| a.name.as_str() == *name))
        .collect();
    if let (Some(path), false) = (&args.waivers, unknown.is_empty()) {
        let names: Vec<&str> = plan.accesses.iter().map(|a| a.name.as_str()).collect();
        anyhow::bail!(
            "{}: waiver(s) for access {}, which the configuration does not have (its accesses: {}). Fix: correct the access name, or remove the waiver",
            path.display(),
            unknown.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "),
            names.join(", ")
        );
    }
    if let Some(path) = &args.policy {
        let [access] = plan.accesses.as_slice() else {
            anyhow::bail!(
                "--policy checks one access, and the configuration has {}: give the access's flags instead of --config, or check every access's files with --artifacts DIR",
                plan.accesses.len()
            );
        };
        let policy = check::input::read_file(path)?;
        let report = check::check_policy(access, &policy)?;
        return finish(report, &waivers, &args);
    }
    let artifacts = match &args.artifacts {
        Some(dir) => check::input::read_artifacts(dir, &plan)?,
        None => {
            let templates = match &args.templates {
                Some(dir) => templates::Templates::with_overrides(dir)?,
                None => templates::Templates::embedded()?,
            };
            check::generate(&plan, &templates)?
        }
    };
    let mut report = check::check_plan(&plan, &artifacts)?;
    if let Some(old) = &args.baseline {
        let baseline = check::input::read_baseline(old, &plan)?;
        report
            .findings
            .extend(check::baseline::compare(&plan, &artifacts, &baseline)?);
    }
    if let Some(dir) = &args.external_secrets {
        let files = check::input::read_yaml_dir(dir)?;
        let manifests = check::usage::read_external_secrets(&files)?;
        let least = check::usage::analyze(&plan, &artifacts, &manifests, &files)?;
        report.findings.extend(least.findings);
        eprint!("{}", least.snippet);
    }
    finish(report, &waivers, &args)
}

/// Applies the waivers and writes the report; the exit code follows the open findings.
fn finish(
    mut report: check::Report,
    waivers: &[check::waivers::Waiver],
    args: &CheckArgs,
) -> anyhow::Result<ExitCode> {
    check::waivers::apply_waivers(&mut report.findings, waivers, today());
    // A waiver that covers nothing hides nothing today but would hide a new finding
    // tomorrow: say so (on stderr, the report's format stays clean).
    for w in waivers {
        let used = report
            .findings
            .iter()
            .any(|f| f.rule == w.rule && f.access == w.access);
        if !used {
            eprintln!(
                "note: the waiver of `{}` for access `{}` matches no finding: remove it",
                w.rule.id(),
                w.access
            );
        }
    }
    let format = match args.format {
        FormatArg::Text => check::output::Format::Text,
        FormatArg::Json => check::output::Format::Json,
        FormatArg::Sarif => check::output::Format::Sarif,
        FormatArg::Junit => check::output::Format::Junit,
    };
    let rendered = check::output::render(&report, format, args.location_prefix.as_deref());
    match &args.out {
        Some(path) => {
            std::fs::write(path, rendered)
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!(
                "sma check: {} open finding(s), report written to {}",
                report.open_findings().count(),
                path.display()
            );
        }
        None => print!("{rendered}"),
    }
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
