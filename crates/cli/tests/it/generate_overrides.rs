//! `sma generate --templates`: the grants it prints describe the configuration, so an
//! override that grants more is refused (exit 1, the finding with its counterexample,
//! nothing written); an override that changes nothing the proof sees is written.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::root;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sma-gen-tpl-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn generate_with(templates: &Path, out: &Path) -> (i32, String) {
    let config = ["generate", "--config", "examples/aws-role-arn.yaml"].map(OsStr::new);
    let (code, stdout, stderr) = crate::sma(config.into_iter().chain([
        OsStr::new("--templates"),
        templates.as_os_str(),
        OsStr::new("--out"),
        out.as_os_str(),
    ]));
    (code, stdout + &stderr)
}

#[test]
fn an_override_that_grants_more_is_refused() {
    let dir = scratch("wide");
    let templates = dir.join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    let policy = std::fs::read_to_string(root().join("templates/iam-policy.json.tera")).unwrap();
    let widened = policy.replace("{{ resource | json }}", "\"*\"");
    assert_ne!(policy, widened, "the override must change the policy");
    std::fs::write(templates.join("iam-policy.json.tera"), widened).unwrap();
    let out = dir.join("out");
    let (code, said) = generate_with(&templates, &out);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("scope-broader"), "{said}");
    assert!(said.contains("counterexample"), "{said}");
    assert!(said.contains("nothing was written"), "{said}");
    assert!(!out.exists(), "nothing written");
}

#[test]
fn an_override_the_proof_cannot_tell_apart_is_written() {
    let dir = scratch("same");
    let templates = dir.join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    let readme = std::fs::read_to_string(root().join("templates/access-readme.md.tera")).unwrap();
    std::fs::write(
        templates.join("access-readme.md.tera"),
        format!("Maintained by the platform team.\n\n{readme}"),
    )
    .unwrap();
    let out = dir.join("out");
    let (code, said) = generate_with(&templates, &out);
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("Wrote "), "{said}");
    assert!(out.join("staging-secrets/iam-policy.json").exists());
}
