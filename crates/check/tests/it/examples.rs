//! Every example configuration under `examples/` checks clean: its generated policies
//! read exactly the intended secrets and its roles trust only ESO's service account.

use std::path::PathBuf;

fn examples() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut configs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    configs.sort();
    configs
}

#[test]
fn every_example_config_checks_clean() {
    let templates = templates::Templates::embedded().unwrap();
    let configs = examples();
    assert!(configs.len() >= 3, "examples not found");
    for config in configs {
        let plan = model::load(&config).unwrap();
        let report = check::generate_and_check(&plan, &templates).unwrap();
        let text = check::output::render(&report, check::output::Format::Text, None);
        assert!(report.is_clean(), "{}:\n{text}", config.display());
        assert_eq!(report.accesses.len(), plan.accesses.len());
    }
}
