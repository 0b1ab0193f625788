//! Deliberately broken artifacts (`tests/broken/<case>/`, each generated from
//! `tests/broken/config.yaml` and edited by hand to break one rule; its README says
//! how): each must give exactly the findings listed in its `expected-rules.txt`.

use std::collections::BTreeSet;
use std::path::PathBuf;

#[test]
fn each_broken_artifact_gives_its_specific_finding() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/broken");
    let plan = model::load(&root.join("config.yaml")).unwrap();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 10, "broken cases missing");
    let mut mismatches = Vec::new();
    for case in cases {
        let expected: BTreeSet<String> = std::fs::read_to_string(case.join("expected-rules.txt"))
            .unwrap()
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        assert!(!expected.is_empty(), "{}", case.display());
        let artifacts = check::input::read_artifacts(&case, &plan).unwrap();
        let report = check::check_plan(&plan, &artifacts).unwrap();
        let found: BTreeSet<String> = report
            .findings
            .iter()
            .map(|f| f.rule.id().to_owned())
            .collect();
        if found != expected {
            mismatches.push(format!(
                "{}: found {found:?}, expected {expected:?}",
                case.display()
            ));
        }
        assert!(!report.is_clean());
        for f in &report.findings {
            assert!(
                f.location.is_some() || f.rule == check::Rule::WaiverExpired,
                "{f:?}"
            );
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
