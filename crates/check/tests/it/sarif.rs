//! Every SARIF log `sma check` writes validates against the SARIF 2.1.0 JSON schema
//! (vendored in `tests/sarif-schema/`, see its PROVENANCE.txt), with stable rule ids,
//! locations and line numbers, and waived findings as accepted suppressions.

use std::path::PathBuf;

use check::output::{render, sarif, Format};
use serde_json::Value;

fn schema() -> jsonschema::Validator {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sarif-schema/sarif-schema-2.1.0.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn broken_report(case: &str) -> check::Report {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/broken");
    let plan = model::load(&root.join("config.yaml")).unwrap();
    let artifacts = check::input::read_artifacts(&root.join(case), &plan).unwrap();
    check::check_plan(&plan, &artifacts).unwrap()
}

fn assert_valid(validator: &jsonschema::Validator, log: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(log)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{log:#}");
}

#[test]
fn sarif_validates_against_the_schema_with_locations_and_suppressions() {
    let validator = schema();
    let mut report = broken_report("staging-star");
    let waivers = check::waivers::parse_waivers(
        "w.yaml",
        "waivers:\n  - {rule: scope-broader, access: app, reason: reviewed, expires: '2999-01-01'}\n",
    )
    .unwrap();
    check::waivers::apply_waivers(&mut report.findings, &waivers, (2026, 12, 3));
    let log = sarif(&report, Some("out"));
    assert_valid(&validator, &log);
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for r in results {
        assert_eq!(r["ruleId"], "scope-broader");
        assert_eq!(r["suppressions"][0]["status"], "accepted");
        let location = &r["locations"][0]["physicalLocation"];
        assert!(location["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .starts_with("out/app/"));
        assert!(location["region"]["startLine"].as_u64().unwrap() > 1);
    }
    // The rendered text is the same document.
    let text: Value = serde_json::from_str(&render(&report, Format::Sarif, Some("out"))).unwrap();
    assert_eq!(text, log);
}

#[test]
fn every_broken_case_and_a_clean_run_give_valid_sarif() {
    let validator = schema();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/broken");
    for entry in std::fs::read_dir(&root).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            let report = broken_report(path.file_name().unwrap().to_str().unwrap());
            assert_valid(&validator, &sarif(&report, None));
        }
    }
    assert_valid(&validator, &sarif(&check::Report::default(), None));
}

#[test]
fn the_schema_rejects_a_broken_log() {
    // The validator is not vacuous: a result without a message is invalid SARIF.
    let validator = schema();
    let mut log = sarif(&broken_report("missing-sub"), None);
    log["runs"][0]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("message");
    assert!(validator.validate(&log).is_err());
}
