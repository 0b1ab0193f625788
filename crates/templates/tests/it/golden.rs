//! The checked-in outputs of `examples/*.yaml` match what the generator produces now.
//! Regenerate with `cargo xtask gen` (or `SMA_BLESS=1 cargo test -p templates --test golden`).

use std::path::PathBuf;

fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

#[test]
fn golden_examples_are_up_to_date() {
    let dir = examples_dir();
    if std::env::var_os("SMA_BLESS").is_some() {
        templates::examples::regenerate_examples(&dir).expect("regenerate examples");
    }
    let configs = templates::examples::example_configs(&dir).expect("list examples");
    assert!(
        configs.len() >= 3,
        "expected the example configurations, found {configs:?}"
    );
    let drifts = templates::examples::check_examples(&dir).expect("check examples");
    assert!(
        drifts.is_empty(),
        "generated examples drifted (run `cargo xtask gen`):\n{}",
        drifts
            .iter()
            .map(|d| format!("  {d}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn every_setup_is_covered_by_an_example() {
    let dir = examples_dir();
    let mut setups = std::collections::BTreeSet::new();
    for config in templates::examples::example_configs(&dir).unwrap() {
        let plan = model::load(&config).unwrap();
        for access in &plan.accesses {
            setups.insert((access.setup.as_str(), access.cross_cloud));
        }
    }
    for wanted in [
        ("automatic", false),
        ("role-arn", false),
        ("static-credentials", false),
        ("static-credentials", true),
        ("web-identity", true),
    ] {
        assert!(setups.contains(&wanted), "no example covers {wanted:?}");
    }
}
