//! The Gherkin suite: every `.feature` under the workspace's `features/` directory,
//! run with the step library of `scenarios` against one LocalStack
//! (`SMA_LOCALSTACK_ENDPOINT`, set by `cargo xtask test`, or one this process starts).
//! Reports go to `target/reports/`: JUnit (`scenarios-junit.xml`), the compliance report
//! (`compliance.{json,md,html}`: each scenario's outcome with the gateway's decisions
//! for its access) and the gateway's raw decision log (`gateway-decisions.jsonl`).
//!
//! Arguments after `--` are cucumber's, e.g. `--tags @smoke` or `--name regex`.

use std::path::PathBuf;

fn main() {
    // Start (or attach to) LocalStack before any runtime exists: its process is
    // owned by a long-lived thread and stopped when this process exits.
    let endpoint = localstack::test_endpoint();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let reports = localstack::paths::target_dir().join("reports");
    let decision_log = reports.join("gateway-decisions.jsonl");
    // The gateway appends to its log: start the run's log afresh.
    let _ = std::fs::remove_file(&decision_log);
    let options = scenarios::runner::RunOptions {
        features: root.join("features"),
        localstack: endpoint,
        decision_log,
        junit: Some(reports.join("scenarios-junit.xml")),
        verbose: true,
        scenario_decisions: true,
    };
    let outcome = match scenarios::runner::run(&options, true) {
        Ok(outcome) => outcome,
        Err(e) => {
            eprintln!("could not run the features: {e}");
            std::process::exit(2);
        }
    };
    eprintln!(
        "JUnit report: {}",
        reports.join("scenarios-junit.xml").display()
    );
    let compliance = report::Report {
        generated_at: aws_wire::time::format_rfc3339(aws_wire::time::unix_now()),
        scenarios: outcome.scenarios,
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
    if outcome.failed {
        std::process::exit(1);
    }
}
