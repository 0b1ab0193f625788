//! Runs a directory of features with the step library on one LocalStack behind the
//! run's one in-process gateway, and collects what the reports need: each scenario's
//! outcome with its access's decisions, and the proofs of `sma prove` features.

use crate::World;
use cucumber::{event, gherkin, writer, World as _, WriterExt as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Scenario outcomes, collected by the `after` hook.
static FINISHED: Mutex<Vec<report::ScenarioReport>> = Mutex::new(Vec::new());
/// Access proofs, collected by the `after` hook (one entry per scenario; merged per
/// access by [`RunOutcome::proofs`]).
static PROOFS: Mutex<Vec<report::proof::AccessProof>> = Mutex::new(Vec::new());

/// What a run needs.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The features directory (or one file).
    pub features: PathBuf,
    /// The LocalStack endpoint.
    pub localstack: String,
    /// Where the gateway appends its decision log.
    pub decision_log: PathBuf,
    /// Where to write cucumber's JUnit report, if anywhere.
    pub junit: Option<PathBuf>,
    /// Print every step (a terminal) or only failures and the summary (CI, `sma prove`).
    pub verbose: bool,
    /// Attach to each scenario's report the gateway's decisions for its account (the
    /// compliance report of the hand-written features). `sma prove` does not: its
    /// matrices carry their deciding statements, and copying tens of thousands of
    /// decisions after every scenario of a large proof costs more than the proof.
    pub scenario_decisions: bool,
}

/// What a run gives back.
#[derive(Debug, Clone, Default)]
pub struct RunOutcome {
    /// Whether a scenario failed (or a step had no definition).
    pub failed: bool,
    /// Every scenario's outcome with its access's decisions.
    pub scenarios: Vec<report::ScenarioReport>,
    /// The proofs of `sma prove` features, one per access.
    pub proofs: Vec<report::proof::AccessProof>,
}

/// Records how a scenario ended and the gateway's decisions for its access.
fn record_scenario(
    feature: &gherkin::Feature,
    scenario: &gherkin::Scenario,
    finished: &event::ScenarioFinished,
    world: Option<&World>,
    with_decisions: bool,
) {
    let failure = match finished {
        event::ScenarioFinished::StepPassed => None,
        event::ScenarioFinished::StepSkipped => {
            Some("a step was skipped (no definition matches it)".to_string())
        }
        event::ScenarioFinished::BeforeHookFailed(_) => Some("a before hook failed".to_string()),
        event::ScenarioFinished::StepFailed(_, _, error) => Some(error.to_string()),
    };
    let outcome = match (finished, &failure) {
        (event::ScenarioFinished::StepPassed, _) => report::Outcome::Passed,
        (event::ScenarioFinished::StepSkipped, _) => report::Outcome::Skipped,
        (_, reason) => report::Outcome::Failed {
            reason: reason.clone().unwrap_or_default(),
        },
    };
    let account = world.map(|w| w.account.clone()).filter(|a| !a.is_empty());
    let decisions = match &account {
        Some(account) if with_decisions => crate::steps::common::decisions_for(account),
        _ => Vec::new(),
    };
    if let Some(mut proof) = world.and_then(|w| w.proof.clone()) {
        if let Some(reason) = failure {
            proof.failures.push(format!("{}: {reason}", scenario.name));
        }
        if let Ok(mut all) = PROOFS.lock() {
            all.push(proof);
        }
    }
    let entry = report::ScenarioReport {
        feature: feature.name.clone(),
        scenario: scenario.name.clone(),
        tags: feature.tags.iter().chain(&scenario.tags).cloned().collect(),
        account,
        outcome,
        decisions,
    };
    if let Ok(mut all) = FINISHED.lock() {
        all.push(entry);
    }
}

/// One line per finished scenario, on stderr.
fn print_scenario_line(
    feature: &gherkin::Feature,
    scenario: &gherkin::Scenario,
    finished: &event::ScenarioFinished,
) {
    match finished {
        event::ScenarioFinished::StepPassed => {
            eprintln!("  passed  {} / {}", feature.name, scenario.name)
        }
        event::ScenarioFinished::StepFailed(_, _, error) => eprintln!(
            "  FAILED  {} / {}\n          {}",
            feature.name,
            scenario.name,
            error.to_string().replace('\n', "\n          ")
        ),
        other => eprintln!("  FAILED  {} / {}: {other:?}", feature.name, scenario.name),
    }
}

/// Merges the per-scenario proofs of each access into one.
fn merge_proofs(parts: Vec<report::proof::AccessProof>) -> Vec<report::proof::AccessProof> {
    let mut merged: Vec<report::proof::AccessProof> = Vec::new();
    for part in parts {
        match merged.iter_mut().find(|m| m.access == part.access) {
            None => merged.push(part),
            Some(m) => {
                m.matrix.extend(part.matrix);
                m.probes.extend(part.probes);
                m.failures.extend(part.failures);
                if m.list_secrets.is_none() {
                    m.list_secrets = part.list_secrets;
                }
                if m.files.is_empty() {
                    m.files = part.files;
                }
            }
        }
    }
    merged
}

/// Runs every feature under `options.features` and collects the outcome. `cli`: take
/// cucumber's options (`--tags`, `--name`…) from the process arguments; otherwise run
/// everything.
pub fn run(options: &RunOptions, cli: bool) -> Result<RunOutcome, String> {
    std::env::set_var("SMA_SCENARIO_ENDPOINT", &options.localstack);
    crate::steps::common::set_decision_log(options.decision_log.clone());
    let features_root = if options.features.is_dir() {
        options.features.clone()
    } else {
        options
            .features
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    };
    crate::steps::prove::set_features_dir(features_root);
    if let Ok(mut f) = FINISHED.lock() {
        f.clear();
    }
    if let Ok(mut p) = PROOFS.lock() {
        p.clear();
    }
    let junit = match &options.junit {
        Some(path) => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("create {}: {e}", dir.display()))?;
            }
            Some(
                std::fs::File::create(path)
                    .map_err(|e| format!("create {}: {e}", path.display()))?,
            )
        }
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let features = options.features.clone();
    let verbose = options.verbose;
    let with_decisions = options.scenario_decisions;
    let failed = runtime.block_on(async move {
        let cucumber = World::cucumber()
            .max_concurrent_scenarios(4)
            .after(move |feature, _rule, scenario, finished, world| {
                record_scenario(
                    feature,
                    scenario,
                    finished,
                    world.as_deref(),
                    with_decisions,
                );
                if !verbose {
                    print_scenario_line(feature, scenario, finished);
                }
                Box::pin(async {})
            })
            .fail_on_skipped();
        // Quiet runs print one line per scenario from the hook instead of every step.
        let out: Box<dyn std::io::Write> = if verbose {
            Box::new(std::io::stdout())
        } else {
            Box::new(std::io::sink())
        };
        let basic = writer::Basic::raw(out, writer::Coloring::Auto, 0);
        use cucumber::writer::Stats as _;
        match (junit, cli) {
            (Some(file), true) => cucumber
                .with_writer(
                    basic
                        .summarized()
                        .tee::<World, _>(writer::JUnit::for_tee(file, 0))
                        .normalized(),
                )
                .run(features)
                .await
                .execution_has_failed(),
            (Some(file), false) => cucumber
                .with_writer(
                    basic
                        .summarized()
                        .tee::<World, _>(writer::JUnit::for_tee(file, 0))
                        .normalized(),
                )
                .with_default_cli()
                .run(features)
                .await
                .execution_has_failed(),
            (None, true) => cucumber
                .with_writer(basic.summarized().normalized())
                .run(features)
                .await
                .execution_has_failed(),
            (None, false) => cucumber
                .with_writer(basic.summarized().normalized())
                .with_default_cli()
                .run(features)
                .await
                .execution_has_failed(),
        }
    });
    let scenarios = FINISHED.lock().map(|v| v.clone()).unwrap_or_default();
    let proofs = merge_proofs(PROOFS.lock().map(|v| v.clone()).unwrap_or_default());
    Ok(RunOutcome {
        failed,
        scenarios,
        proofs,
    })
}
