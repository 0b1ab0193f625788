//! `sma prove`: generate a configuration's templates, write one Gherkin feature per
//! access stating its intent, run them on LocalStack behind the IAM-enforcing gateway
//! with ESO driven by the generated manifests, and write the report.
//!
//! Exit codes: 0 every access proven; 1 an access leaks or an intended read fails; 2 a
//! tool or configuration error (nothing half-written).

use anyhow::Context as _;
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use templates::{ArtifactKind, GeneratedFile};

/// Flags of `sma prove`.
#[derive(Debug, Args)]
pub struct ProveArgs {
    /// Configuration file (YAML) to prove.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "features",
        conflicts_with = "features"
    )]
    pub config: Option<PathBuf>,

    /// Run again the features a previous `sma prove` wrote: DIR is that features
    /// directory (e.g. `sma-proof/features`); the configuration and templates are read
    /// next to it (`DIR/../config.yaml`, `DIR/../templates`).
    #[arg(long, value_name = "DIR")]
    pub features: Option<PathBuf>,

    /// Directory of template overrides, as for `sma generate`.
    #[arg(long, value_name = "DIR", requires = "config")]
    pub templates: Option<PathBuf>,

    /// Output directory: templates/, features/, report/ (default `sma-proof`; with
    /// --features, the report goes next to the features).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Replace the output directory if it exists and is not empty.
    #[arg(long)]
    pub force: bool,

    /// Prove only shard K of N (accesses split by their position in the
    /// configuration); merge the shards' report.json with `sma report merge`.
    #[arg(long, value_name = "K/N", value_parser = parse_shard, requires = "config")]
    pub shard: Option<(usize, usize)>,

    /// Print every Gherkin step instead of one line per scenario.
    #[arg(long)]
    pub verbose: bool,
}

fn parse_shard(text: &str) -> Result<(usize, usize), String> {
    let bad = || format!("--shard takes K/N with 1 <= K <= N, e.g. 2/4; got \"{text}\"");
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let (k, n): (usize, usize) = (k.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
    if k == 0 || n == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

/// Whether the access at `index` (0-based) belongs to shard `k` of `n`.
pub fn in_shard(index: usize, (k, n): (usize, usize)) -> bool {
    index % n == k - 1
}

/// Runs `sma prove`.
pub fn run(args: ProveArgs) -> ExitCode {
    match prepare(&args) {
        Err(e) => crate::failed(&e),
        Ok(prepared) => match prove(&args, &prepared) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(e) => crate::failed(&e),
        },
    }
}

/// What a run works on.
struct Prepared {
    features: PathBuf,
    report_dir: PathBuf,
    config_name: String,
    config_digest: String,
    shard: String,
    /// `sma check`'s verdict per access (config mode only).
    static_verdicts: Vec<(String, String)>,
}

fn prepare(args: &ProveArgs) -> anyhow::Result<Prepared> {
    if let Some(features) = &args.features {
        anyhow::ensure!(
            features.is_dir(),
            "--features {}: not a directory",
            features.display()
        );
        let base = features.parent().map(Path::to_path_buf).unwrap_or_default();
        let config = base.join("config.yaml");
        let bytes = std::fs::read(&config).with_context(|| {
            format!(
                "{}: the features name ../config.yaml; run `sma prove --config FILE` to write it",
                config.display()
            )
        })?;
        return Ok(Prepared {
            features: features.clone(),
            report_dir: args.out.clone().unwrap_or(base).join("report"),
            config_name: "config.yaml".into(),
            config_digest: prove::digest(&bytes),
            shard: "1/1".into(),
            static_verdicts: vec![],
        });
    }
    let config = args
        .config
        .as_ref()
        .expect("clap requires --config or --features");
    let bytes = std::fs::read(config).with_context(|| format!("reading {}", config.display()))?;
    let plan = model::load(config)?;
    let templates = match &args.templates {
        Some(dir) => templates::Templates::with_overrides(dir)?,
        None => templates::Templates::embedded()?,
    };
    let generated = templates::render_plan(&plan, &templates)?;
    let static_verdicts = static_verdicts(&plan, &templates);
    let config_digest = prove::digest(&bytes);
    let config_name = config
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let intents = prove::intent::of_plan(&plan);
    let seeds = prove::Seeds::of(&intents);
    let shard = args.shard.unwrap_or((1, 1));
    let sources = prove::feature::Sources {
        config: "../config.yaml",
        templates: "../templates",
        config_digest: &config_digest,
        cluster: plan.cluster.name.as_str(),
    };
    let mut files: Vec<GeneratedFile> = generated
        .into_iter()
        .map(|f| GeneratedFile {
            path: Path::new("templates").join(&f.path),
            ..f
        })
        .collect();
    files.push(GeneratedFile {
        path: "config.yaml".into(),
        kind: ArtifactKind::Evidence,
        contents: String::from_utf8(bytes).context("the configuration is not UTF-8")?,
    });
    let selected: Vec<&prove::AccessIntent> = intents
        .iter()
        .enumerate()
        .filter(|(i, _)| in_shard(*i, shard))
        .map(|(_, intent)| intent)
        .collect();
    for intent in &selected {
        files.push(GeneratedFile {
            path: Path::new("features").join(format!("{}.feature", intent.access)),
            kind: ArtifactKind::Evidence,
            contents: prove::feature::render(intent, &seeds, &sources),
        });
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("sma-proof"));
    templates::write_atomically(&out, &files, args.force)
        .with_context(|| format!("writing {}", out.display()))?;
    eprintln!(
        "sma prove: {} access(es) of {} (shard {}/{}), {} seeded secrets; templates and features in {}",
        selected.len(),
        config.display(),
        shard.0,
        shard.1,
        seeds.secrets.len(),
        out.display()
    );
    Ok(Prepared {
        features: out.join("features"),
        report_dir: out.join("report"),
        config_name,
        config_digest,
        shard: format!("{}/{}", shard.0, shard.1),
        static_verdicts,
    })
}

/// `sma check`'s offline verdict for each access, in words (no waivers: the report
/// shows every finding).
fn static_verdicts(
    plan: &model::plan::Plan,
    templates: &templates::Templates,
) -> Vec<(String, String)> {
    let report = match check::generate_and_check(plan, templates) {
        Ok(report) => report,
        Err(e) => {
            return plan
                .accesses
                .iter()
                .map(|a| (a.name.to_string(), format!("sma check could not run: {e}")))
                .collect()
        }
    };
    plan.accesses
        .iter()
        .map(|a| {
            let findings: Vec<String> = report
                .open_findings()
                .filter(|f| f.access == a.name.as_str())
                .map(|f| match &f.counterexample {
                    Some(example) => format!("{}: {} (e.g. {example})", f.rule.id(), f.message),
                    None => format!("{}: {}", f.rule.id(), f.message),
                })
                .collect();
            let verdict = if findings.is_empty() {
                let trust = if a.setup.uses_irsa() {
                    "; only ESO's service account may assume the role"
                } else {
                    ""
                };
                format!("sma check: nothing outside the intent is readable, for every possible secret name{trust}")
            } else {
                format!("sma check: {} finding(s): {}", findings.len(), findings.join("; "))
            };
            (a.name.to_string(), verdict)
        })
        .collect()
}

fn prove(args: &ProveArgs, prepared: &Prepared) -> anyhow::Result<bool> {
    localstack::cleanup::install_signal_handlers();
    let mut options = localstack::Options::from_env();
    // An installed binary has no checkout: LocalStack's log and state go to the cache.
    options.work_dir = localstack::paths::cache_dir().join("runs");
    let localstack = localstack::start(&options).context("starting LocalStack")?;
    std::fs::create_dir_all(&prepared.report_dir)
        .with_context(|| format!("creating {}", prepared.report_dir.display()))?;
    let decision_log = prepared.report_dir.join("gateway-decisions.jsonl");
    let _ = std::fs::remove_file(&decision_log);
    let run_options = scenarios::runner::RunOptions {
        features: prepared.features.clone(),
        localstack: localstack.endpoint().to_string(),
        decision_log,
        junit: None,
        verbose: args.verbose,
        scenario_decisions: false,
    };
    let began = std::time::Instant::now();
    let outcome = scenarios::runner::run(&run_options, false).map_err(anyhow::Error::msg)?;
    eprintln!("timing: scenarios {:.1}s", began.elapsed().as_secs_f64());
    localstack.stop();
    let mut accesses = outcome.proofs;
    // A feature whose scenarios never reached an access step proves nothing.
    for s in &outcome.scenarios {
        if let report::Outcome::Failed { reason } = &s.outcome {
            let access = s
                .tags
                .iter()
                .find_map(|t| t.strip_prefix("access-"))
                .unwrap_or("");
            if !accesses.iter().any(|a| a.access == access) {
                accesses.push(report::proof::AccessProof {
                    access: access.to_string(),
                    setup: String::new(),
                    account: String::new(),
                    region: String::new(),
                    intent: vec![],
                    files: vec![],
                    matrix: vec![],
                    list_secrets: None,
                    probes: vec![],
                    failures: vec![format!("{}: {reason}", s.scenario)],
                    static_verdict: None,
                });
            }
        }
    }
    for a in &mut accesses {
        a.static_verdict = prepared
            .static_verdicts
            .iter()
            .find(|(name, _)| *name == a.access)
            .map(|(_, v)| v.clone());
    }
    accesses.sort_by(|a, b| a.access.cmp(&b.access));
    let report = report::proof::ProofReport {
        generated_at: aws_wire::time::format_rfc3339(aws_wire::time::unix_now()),
        config: prepared.config_name.clone(),
        config_digest: prepared.config_digest.clone(),
        shards: vec![prepared.shard.clone()],
        accesses,
    };
    let written = report.write(&prepared.report_dir)?;
    print_summary(&report);
    for path in written {
        eprintln!("report: {}", path.display());
    }
    Ok(report.passed() && !outcome.failed && !report.accesses.is_empty())
}

fn print_summary(report: &report::proof::ProofReport) {
    println!(
        "{:<28} {:<20} {:<8} {:>6} {:>7} {:>8}",
        "access", "setup", "verdict", "leaks", "broken", "secrets"
    );
    for a in &report.accesses {
        let (leaks, broken) = a.mismatches();
        println!(
            "{:<28} {:<20} {:<8} {:>6} {:>7} {:>8}",
            a.access,
            a.setup,
            a.verdict().as_str(),
            leaks,
            broken,
            a.matrix.len()
        );
        for f in &a.failures {
            println!("    {}", f.lines().next().unwrap_or(""));
        }
    }
}

/// Flags of `sma report merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' report.json files.
    #[arg(required = true, value_name = "REPORT_JSON")]
    pub reports: Vec<PathBuf>,
    /// Where to write the merged report (report.json, report.md, report.html, junit.xml).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Write into DIR even if it exists and is not empty (its report files are
    /// replaced, nothing else is touched).
    #[arg(long)]
    pub force: bool,
}

/// Runs `sma report merge`: 0 when every access is proven, 1 otherwise, 2 on error.
pub fn merge(args: MergeArgs) -> ExitCode {
    let result = (|| -> anyhow::Result<bool> {
        let mut parts = Vec::new();
        for path in &args.reports {
            parts.push((
                path.display().to_string(),
                report::proof::ProofReport::read(path)?,
            ));
        }
        let merged = report::proof::ProofReport::merge(parts)?;
        let not_empty = std::fs::read_dir(&args.out).is_ok_and(|mut d| d.next().is_some());
        if not_empty && !args.force {
            anyhow::bail!(
                "{} exists and is not empty: choose another --out, or pass --force to replace its report files",
                args.out.display()
            );
        }
        merged.write(&args.out)?;
        print_summary(&merged);
        Ok(merged.passed())
    })();
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => crate::failed(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_accesses() {
        for n in 1..5 {
            for i in 0..10 {
                assert_eq!((1..=n).filter(|k| in_shard(i, (*k, n))).count(), 1);
            }
        }
        assert!(parse_shard("0/2").is_err());
        assert!(parse_shard("3/2").is_err());
        assert_eq!(parse_shard("2/3"), Ok((2, 3)));
    }
}
