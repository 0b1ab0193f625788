//! `sma generate` for sma's `web-identity` setup: it says the setup is sma's own (not
//! in the vendor's console), and bad input is refused with the field and the fix,
//! writing nothing.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::root;

fn generate(config: &Path, out: &Path) -> (i32, String) {
    let args = [OsStr::new("generate"), OsStr::new("--config")];
    let (code, stdout, stderr) = crate::sma(args.into_iter().chain([
        config.as_os_str(),
        OsStr::new("--out"),
        out.as_os_str(),
    ]));
    (code, stdout + &stderr)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sma-gen-wi-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_example_generates_and_says_the_setup_is_smas() {
    let dir = scratch("ok");
    let out = dir.join("out");
    let (code, text) = generate(&root().join("examples/gcp-web-identity.yaml"), &out);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("sma's own setup"), "{text}");
    assert!(text.contains("vendor's console"), "{text}");
    assert!(out.join("aws-reporting/cloudformation.yaml").is_file());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_input_names_the_field_and_writes_nothing() {
    let example = std::fs::read_to_string(root().join("examples/gcp-web-identity.yaml")).unwrap();
    let long_role = format!("    region: eu-west-1\n    role_name: {}\n", "r".repeat(65));
    let cases = [
        (
            "location",
            example.replace("  location: europe-west1\n", ""),
            "cluster.location",
        ),
        (
            "project",
            example.replace("  project_id: analytics-prod\n", ""),
            "cluster.project_id",
        ),
        (
            "role",
            example.replacen(
                "    region: eu-west-1            # required: a gcp cluster has no AWS region\n",
                &long_role,
                1,
            ),
            "accesses[0].role_name",
        ),
        (
            "issuer",
            example.replace(
                "  location: europe-west1\n",
                "  oidc_issuer: http://issuer.example.com/x\n",
            ),
            "cluster.oidc_issuer",
        ),
    ];
    for (name, config, field) in cases {
        assert_ne!(config, example, "case {name} does not apply");
        let dir = scratch(name);
        let path = dir.join("cluster.yaml");
        std::fs::write(&path, config).unwrap();
        let out = dir.join("out");
        let (code, text) = generate(&path, &out);
        assert_ne!(code, 0, "{name}: {text}");
        assert!(text.contains(field), "{name}: {field} in {text}");
        assert!(text.contains("Fix:"), "{name}: {text}");
        assert!(!out.exists(), "{name}: nothing must be written");
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn flags_describe_one_web_identity_access() {
    let dir = scratch("flags");
    let out = dir.join("out");
    let run = |extra: &[&str]| {
        let flags = [
            "generate",
            "--setup",
            "web-identity",
            "--cloud",
            "gcp",
            "--cluster-name",
            "prod",
            "--project-id",
            "my-project",
            "--account-id",
            "123456789012",
            "--region",
            "eu-west-3",
            "--prefix",
            "app/",
            "--out",
        ];
        let (code, _, stderr) = crate::sma(
            flags
                .iter()
                .map(OsStr::new)
                .chain([out.as_os_str()])
                .chain(extra.iter().map(OsStr::new)),
        );
        (Some(code), stderr)
    };
    let (code, stderr) = run(&[]);
    assert_ne!(code, Some(0));
    assert!(stderr.contains("--location"), "{stderr}");
    assert!(!out.exists());
    let (code, stderr) = run(&["--location", "europe-west1-b"]);
    assert_eq!(code, Some(0), "{stderr}");
    let template =
        std::fs::read_to_string(out.join("aws-secrets-manager/cloudformation.yaml")).unwrap();
    assert!(
        template.contains("oidc-provider/container.googleapis.com/v1/projects/my-project/locations/europe-west1-b/clusters/prod"),
        "{template}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
