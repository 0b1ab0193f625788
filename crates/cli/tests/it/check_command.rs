//! `sma check` end to end: exit codes (0 clean, 1 findings, 2 error), waivers (waived in
//! every format, expired fails), committed artifacts.

fn sma(args: &[&str]) -> (i32, String, String) {
    crate::sma(args)
}

const BROKEN: &str = "crates/check/tests/broken";

/// The broken cases' access `app` (`tests/broken/config.yaml`) as the flags of one access.
const APP_INTENT: &[&str] = &[
    "--setup",
    "role-arn",
    "--cluster-name",
    "prod-eks",
    "--account-id",
    "123456789012",
    "--region",
    "eu-west-3",
    "--oidc-issuer",
    "https://oidc.eks.eu-west-3.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE",
    "--name",
    "app",
    "--secret-name",
    "staging/db",
    "--prefix",
    "staging/app/",
];

#[test]
fn clean_examples_exit_zero_and_committed_output_checks_too() {
    let (code, out, _) = sma(&["check", "--config", "examples/aws-role-arn.yaml"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("clean"));
    let (code, out, _) = sma(&[
        "check",
        "--config",
        "examples/aws-role-arn.yaml",
        "--artifacts",
        "examples/aws-role-arn",
    ]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn findings_exit_one_with_the_counterexample() {
    let case = format!("{BROKEN}/staging-star");
    let (code, out, _) = sma(&[
        "check",
        "--config",
        &format!("{BROKEN}/config.yaml"),
        "--artifacts",
        &case,
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("[scope-broader]") && out.contains("counterexample: staging\n"),
        "{out}"
    );
}

#[test]
fn tool_errors_exit_two() {
    let (code, _, err) = sma(&["check", "--config", "does-not-exist.yaml"]);
    assert_eq!(code, 2);
    assert!(err.contains("does-not-exist.yaml"), "{err}");
    let (code, _, err) = sma(&[
        "check",
        "--config",
        &format!("{BROKEN}/config.yaml"),
        "--artifacts",
        "examples/aws-role-arn",
    ]);
    assert_eq!(code, 2, "missing artifacts are an error: {err}");
}

#[test]
fn waivers_mark_findings_waived_and_expired_ones_fail() {
    let dir = std::env::temp_dir().join(format!("sma-check-waivers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let waivers = dir.join("waivers.yaml");
    let config = format!("{BROKEN}/config.yaml");
    let case = format!("{BROKEN}/staging-star");
    std::fs::write(
        &waivers,
        "waivers:\n  - rule: scope-broader\n    access: app\n    reason: reviewed in PR 42\n    expires: \"2999-12-31\"\n",
    )
    .unwrap();
    let w = waivers.to_str().unwrap();
    for format in ["text", "json", "sarif", "junit"] {
        let (code, out, _) = sma(&[
            "check",
            "--config",
            &config,
            "--artifacts",
            &case,
            "--waivers",
            w,
            "--format",
            format,
        ]);
        assert_eq!(code, 0, "{format}: {out}");
        assert!(
            out.contains("reviewed in PR 42"),
            "{format} shows the waiver: {out}"
        );
    }
    std::fs::write(
        &waivers,
        "waivers:\n  - rule: scope-broader\n    access: app\n    reason: reviewed in PR 42\n    expires: \"2020-01-01\"\n",
    )
    .unwrap();
    let (code, out, _) = sma(&[
        "check",
        "--config",
        &config,
        "--artifacts",
        &case,
        "--waivers",
        w,
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("[waiver-expired]"), "{out}");
    let out_file = dir.join("report.sarif");
    let (code, _, err) = sma(&[
        "check",
        "--config",
        &config,
        "--artifacts",
        &case,
        "--format",
        "sarif",
        "--out",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("report written"));
    assert!(std::fs::read_to_string(&out_file)
        .unwrap()
        .contains("\"2.1.0\""));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Artifacts sma did not generate (or edited ones) with the intent given as flags: the
/// same findings as with the equivalent configuration file.
#[test]
fn intent_as_flags_gives_the_findings_of_the_equivalent_configuration() {
    let case = format!("{BROKEN}/staging-star");
    let with_config = sma(&[
        "check",
        "--config",
        &format!("{BROKEN}/config.yaml"),
        "--artifacts",
        &case,
    ]);
    let with_flags = sma(&[&["check"], APP_INTENT, &["--artifacts", &case]].concat());
    assert_eq!(with_flags.0, 1, "{}{}", with_flags.1, with_flags.2);
    assert!(
        with_flags.1.contains("counterexample: staging\n"),
        "{}",
        with_flags.1
    );
    assert_eq!(with_flags, with_config);
    // Flags and a file are not both the intent; a flag's error names the flag.
    let (code, _, err) = sma(&["check", "--config", "x.yaml", "--prefix", "a/"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = sma(&["check", "--setup", "role-arn", "--region", "eu-west-3"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--account-id"), "{err}");
}

/// `--policy`: a bare policy file (no template, no manifests) gets the scope proof and
/// the lint; the trust and ESO checks are reported as not checked, never as passed.
#[test]
fn a_bare_policy_file_is_proved_and_what_it_cannot_show_is_not_checked() {
    let intent = [&["check"], APP_INTENT, &["--policy"]].concat();
    let broken = format!("{BROKEN}/staging-star/app/iam-policy.json");
    let (code, out, _) = sma(&[&intent[..], &[broken.as_str()]].concat());
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("[scope-broader]") && out.contains("counterexample: staging\n"),
        "{out}"
    );
    assert!(
        out.contains("NOT CHECKED access `app`: trust checks")
            && out.contains("NOT CHECKED access `app`: eso checks")
            && out.contains("NOT clean (2 check(s) NOT CHECKED, listed above)"),
        "{out}"
    );
    let (_, junit, _) = sma(&[&intent[..], &[broken.as_str(), "--format", "junit"]].concat());
    assert!(
        junit.contains("skipped=\"2\"") && junit.contains("<skipped message="),
        "{junit}"
    );

    // A configuration of several accesses does not say which one the policy is.
    let (code, _, err) = sma(&[
        "check",
        "--config",
        "examples/aws-role-arn.yaml",
        "--policy",
        &broken,
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--policy checks one access"), "{err}");
}

/// A static-credentials access has no trust policy: JUnit gives it no `trust` test case
/// (none passed that was never run), JSON says why; the IRSA access keeps its own.
#[test]
fn trust_is_not_reported_for_an_iam_user() {
    let config = "examples/aws-role-arn.yaml";
    let (code, junit, err) = sma(&["check", "--config", config, "--format", "junit"]);
    assert_eq!(code, 0, "{junit}{err}");
    assert!(
        junit.contains("classname=\"sma.check.staging-secrets\" name=\"trust\""),
        "{junit}"
    );
    assert!(
        !junit.contains("classname=\"sma.check.billing-us\" name=\"trust\""),
        "{junit}"
    );
    let (_, json, _) = sma(&["check", "--config", config, "--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let not_applicable = value["not_applicable"].as_array().unwrap();
    assert_eq!(not_applicable.len(), 1, "{json}");
    assert_eq!(not_applicable[0]["access"], "billing-us");
    assert_eq!(not_applicable[0]["family"], "trust");
}

/// A waiver naming an access the configuration does not have is a typo that would
/// silently waive nothing: refused (exit 2, naming it); a waiver covering no finding is
/// pointed out.
#[test]
fn waivers_for_unknown_accesses_are_refused_and_unused_ones_noted() {
    let dir = std::env::temp_dir().join(format!("sma-check-waiver-names-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let waivers = dir.join("waivers.yaml");
    let config = "examples/aws-role-arn.yaml";
    std::fs::write(
        &waivers,
        "waivers:\n  - {rule: scope-broader, access: staging-secret, reason: typo, expires: \"2999-12-31\"}\n",
    )
    .unwrap();
    let w = waivers.to_str().unwrap();
    let (code, _, err) = sma(&["check", "--config", config, "--waivers", w]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`staging-secret`") && err.contains("staging-secrets, billing-us"),
        "{err}"
    );
    std::fs::write(
        &waivers,
        "waivers:\n  - {rule: scope-broader, access: staging-secrets, reason: old, expires: \"2999-12-31\"}\n",
    )
    .unwrap();
    let (code, _, err) = sma(&["check", "--config", config, "--waivers", w]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("matches no finding"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
