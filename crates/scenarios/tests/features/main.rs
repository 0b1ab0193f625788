//! The Gherkin suite: every `.feature` under the workspace's `features/` directory,
//! run against one LocalStack (`SMA_LOCALSTACK_ENDPOINT`, set by `cargo xtask test`,
//! or one this process starts). Reports go to `target/reports/`: JUnit
//! (`scenarios-junit.xml`), the compliance report (`compliance.{json,md,html}`: each
//! scenario's outcome with the gateway's decisions for its access) and the gateway's
//! raw decision log (`gateway-decisions.jsonl`).
//!
//! Arguments after `--` are cucumber's, e.g. `--tags @smoke` or `--name regex`.

mod steps;

use cucumber::{event, gherkin, writer, World as _, WriterExt as _};
use std::path::PathBuf;
use std::sync::Mutex;

/// Scenario outcomes, collected by the `after` hook for the compliance report.
static FINISHED: Mutex<Vec<report::ScenarioReport>> = Mutex::new(Vec::new());

/// Records how a scenario ended and the gateway's decisions for its access.
fn record_scenario(
    feature: &gherkin::Feature,
    scenario: &gherkin::Scenario,
    finished: &event::ScenarioFinished,
    world: Option<&World>,
) {
    let outcome = match finished {
        event::ScenarioFinished::StepPassed => report::Outcome::Passed,
        event::ScenarioFinished::StepSkipped => report::Outcome::Skipped,
        event::ScenarioFinished::BeforeHookFailed(_) => report::Outcome::Failed {
            reason: "a before hook failed".into(),
        },
        event::ScenarioFinished::StepFailed(_, _, error) => report::Outcome::Failed {
            reason: error.to_string(),
        },
    };
    let account = world.map(|w| w.account.clone()).filter(|a| !a.is_empty());
    let decisions = account
        .as_deref()
        .map(steps::common::decisions_for)
        .unwrap_or_default();
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

/// State of one scenario.
#[derive(Debug, Default, cucumber::World)]
pub struct World {
    /// The LocalStack endpoint.
    pub endpoint: String,
    /// The scenario's own account.
    pub account: String,
    /// The region used for every call.
    pub region: String,
    /// The value written to a secret, to compare with what is read back.
    pub written_value: Option<String>,
    /// The last AWS error code seen.
    pub last_error_code: Option<String>,
    /// The IAM-enforcing gateway's endpoint, for scenarios that go through it.
    pub gateway_endpoint: String,
    /// Secrets created by the scenario: name and the value written (never printed).
    pub secrets: Vec<(String, steps::Hidden)>,
    /// The access under test, as a `sma generate` configuration.
    pub access_config: Option<String>,
    /// The files sma generated for the access.
    pub generated_files: Vec<templates::render::GeneratedFile>,
    /// The outputs of the stack deployed from the generated CloudFormation.
    pub stack_outputs: Vec<(String, String)>,
    /// Customer-managed KMS keys the scenario created: its name for the key, key ARN.
    pub kms_keys: Vec<(String, String)>,
    /// A secret of another account (its full ARN).
    pub foreign_secret_arn: Option<String>,
    /// The IAM user name of the access.
    pub user_name: Option<String>,
    /// The access's own credentials.
    pub access_keys: Option<scenarios::Keys>,
}

fn main() {
    // Start (or attach to) LocalStack before any runtime exists: its process is
    // owned by a long-lived thread and stopped when this process exits.
    let endpoint = localstack::test_endpoint();
    std::env::set_var("SMA_SCENARIO_ENDPOINT", &endpoint);

    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let reports = localstack::paths::target_dir().join("reports");
    std::fs::create_dir_all(&reports).expect("create target/reports");
    let junit_path = reports.join("scenarios-junit.xml");
    let junit = std::fs::File::create(&junit_path).expect("create the JUnit report");
    // The gateway appends to its log: start the run's log afresh.
    let _ = std::fs::remove_file(steps::common::decision_log_path());

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let failed = runtime.block_on(async {
        let writer = World::cucumber()
            .max_concurrent_scenarios(4)
            .after(|feature, _rule, scenario, finished, world| {
                record_scenario(feature, scenario, finished, world.as_deref());
                Box::pin(async {})
            })
            .with_writer(
                writer::Basic::raw(std::io::stdout(), writer::Coloring::Auto, 0)
                    .summarized()
                    .tee::<World, _>(writer::JUnit::for_tee(junit, 0))
                    .normalized(),
            )
            .fail_on_skipped()
            .run(root.join("features"))
            .await;
        use cucumber::writer::Stats as _;
        writer.execution_has_failed()
    });
    eprintln!("JUnit report: {}", junit_path.display());
    let compliance = report::Report {
        generated_at: aws_wire::time::format_rfc3339(aws_wire::time::unix_now()),
        scenarios: FINISHED.lock().map(|v| v.clone()).unwrap_or_default(),
    };
    match compliance.write(&reports, "compliance") {
        Ok(files) => {
            for f in files {
                eprintln!("Compliance report: {}", f.display());
            }
        }
        Err(e) => {
            eprintln!("could not write the compliance report: {e}");
            std::process::exit(1);
        }
    }
    if failed {
        std::process::exit(1);
    }
}
