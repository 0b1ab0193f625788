//! The Gherkin suite: every `.feature` under the workspace's `features/` directory,
//! run against one LocalStack (`SMA_LOCALSTACK_ENDPOINT`, set by `cargo xtask test`,
//! or one this process starts). A JUnit report goes to `target/reports/`.
//!
//! Arguments after `--` are cucumber's, e.g. `--tags @smoke` or `--name regex`.

mod steps;

use cucumber::{writer, World as _, WriterExt as _};
use std::path::PathBuf;

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

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        World::cucumber()
            .max_concurrent_scenarios(4)
            .with_writer(
                writer::Basic::raw(std::io::stdout(), writer::Coloring::Auto, 0)
                    .summarized()
                    .tee::<World, _>(writer::JUnit::for_tee(junit, 0))
                    .normalized(),
            )
            .fail_on_skipped()
            .run_and_exit(root.join("features"))
            .await;
    });
    eprintln!("JUnit report: {}", junit_path.display());
}
