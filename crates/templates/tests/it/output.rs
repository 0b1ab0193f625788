//! Writing the output: atomic, never clobbering without `force`, untouched on error;
//! template overrides; hostile values rendered safely.

use std::collections::BTreeMap;
use std::path::Path;

use templates::{
    render_plan, write_atomically, GeneratedFile, OutputError, RenderError, Templates,
};

const CONFIG: &str = r#"
cluster: {name: c1, cloud: aws, account_id: "123456789012", region: eu-west-3, oidc_issuer: "https://oidc.eks.eu-west-3.amazonaws.com/id/ABC"}
accesses:
  - {name: app, setup: role-arn, secrets: {prefixes: [app/]}}
  - {name: keys, setup: static-credentials}
"#;

fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    fn walk(root: &Path, dir: &Path, files: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, files);
            } else {
                files.insert(
                    path.strip_prefix(root).unwrap().display().to_string(),
                    std::fs::read_to_string(&path).unwrap(),
                );
            }
        }
    }
    walk(dir, dir, &mut files);
    files
}

fn rendered() -> Vec<GeneratedFile> {
    let plan = model::parse(CONFIG).unwrap();
    render_plan(&plan, &Templates::embedded().unwrap()).unwrap()
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn writes_one_directory_per_access() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    write_atomically(&out, &rendered(), false).unwrap();
    let files = snapshot(&out);
    for expected in [
        "README.md",
        "app/README.md",
        "app/iam-policy.json",
        "app/cloudformation.yaml",
        "app/eso/service-account.yaml",
        "app/eso/secret-store.yaml",
        "app/eso/external-secret.yaml",
        "keys/eso/credentials-secret.skeleton.yaml",
    ] {
        assert!(
            files.contains_key(expected),
            "missing {expected}: {:?}",
            files.keys()
        );
    }
    assert!(!files.contains_key("keys/eso/service-account.yaml"));
    // No temporary directory is left behind.
    assert_eq!(entries(tmp.path()), ["out"]);
}

#[test]
fn an_existing_directory_is_not_clobbered_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("precious.txt"), "keep me").unwrap();
    let before = snapshot(&out);
    let error = write_atomically(&out, &rendered(), false).unwrap_err();
    assert!(matches!(error, OutputError::Exists { .. }), "{error}");
    assert!(error.to_string().contains("--force"), "{error}");
    assert_eq!(snapshot(&out), before);
    assert_eq!(entries(tmp.path()), ["out"]);
}

#[test]
fn force_replaces_the_directory_as_a_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir_all(out.join("removed-access")).unwrap();
    std::fs::write(out.join("removed-access/iam-policy.json"), "old").unwrap();
    std::fs::write(out.join("README.md"), "old").unwrap();
    write_atomically(&out, &rendered(), true).unwrap();
    let files = snapshot(&out);
    assert!(!files.contains_key("removed-access/iam-policy.json"));
    assert!(files.contains_key("app/iam-policy.json"));
    assert_eq!(entries(tmp.path()), ["out"]);
}

#[test]
fn force_never_replaces_a_directory_sma_did_not_write() {
    let tmp = tempfile::tempdir().unwrap();
    for foreign in ["important.txt", ".git"] {
        let out = tmp.path().join(format!("out-{foreign}"));
        std::fs::create_dir_all(out.join("app")).unwrap();
        if foreign == ".git" {
            std::fs::create_dir_all(out.join(foreign)).unwrap();
        } else {
            std::fs::write(out.join(foreign), "keep me").unwrap();
        }
        let error = write_atomically(&out, &rendered(), true).unwrap_err();
        assert!(
            matches!(&error, OutputError::NotSmaOutput { entry, .. } if entry == foreign),
            "{error}"
        );
        assert!(out.join(foreign).exists(), "{foreign} untouched");
    }
}

#[test]
fn an_empty_existing_directory_is_used() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    write_atomically(&out, &rendered(), false).unwrap();
    assert!(out.join("README.md").is_file());
}

#[test]
fn a_file_in_the_way_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    std::fs::write(&out, "a file").unwrap();
    let error = write_atomically(&out, &rendered(), true).unwrap_err();
    assert!(
        matches!(error, OutputError::NotADirectory { .. }),
        "{error}"
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "a file");
}

/// The whole pipeline as `sma generate` runs it: validate, render, write. Any failure
/// before the write leaves the output directory exactly as it was.
fn generate(
    config: &str,
    templates_dir: Option<&Path>,
    out: &Path,
    force: bool,
) -> Result<(), String> {
    let plan = model::parse(config).map_err(|e| e.to_string())?;
    let templates = match templates_dir {
        Some(dir) => Templates::with_overrides(dir),
        None => Templates::embedded(),
    }
    .map_err(|e| e.to_string())?;
    let files = render_plan(&plan, &templates).map_err(|e| e.to_string())?;
    write_atomically(out, &files, force).map_err(|e| e.to_string())
}

#[test]
fn the_output_directory_is_untouched_on_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    generate(CONFIG, None, &out, false).unwrap();
    let before = snapshot(&out);

    // 1. Invalid configuration, even with --force.
    let bad = CONFIG.replace("region: eu-west-3", "region: moon-1");
    assert!(generate(&bad, None, &out, true)
        .unwrap_err()
        .contains("moon-1"));
    // 2. A template override that produces invalid YAML, with --force.
    let overrides = tmp.path().join("overrides");
    std::fs::create_dir_all(overrides.join("eso")).unwrap();
    std::fs::write(
        overrides.join("eso/secret-store.yaml.tera"),
        "kind: [unclosed\n",
    )
    .unwrap();
    let error = generate(CONFIG, Some(&overrides), &out, true).unwrap_err();
    assert!(error.contains("invalid YAML"), "{error}");
    // 3. A template override that does not compile.
    std::fs::write(overrides.join("eso/secret-store.yaml.tera"), "{{ unclosed").unwrap();
    assert!(generate(CONFIG, Some(&overrides), &out, true).is_err());
    // 4. A directory in the way without --force.
    assert!(generate(CONFIG, None, &out, false)
        .unwrap_err()
        .contains("--force"));
    // 5. A new, nonexistent output with a bad config is not created.
    let fresh = tmp.path().join("fresh");
    assert!(generate(&bad, None, &fresh, false).is_err());
    assert!(!fresh.exists());

    assert_eq!(snapshot(&out), before);
    assert_eq!(entries(tmp.path()), ["out", "overrides"]);
}

#[test]
fn overrides_replace_one_template_and_reject_unknown_names() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("access-readme.md.tera"),
        "custom readme for {{ name | comment }}\n",
    )
    .unwrap();
    let plan = model::parse(CONFIG).unwrap();
    let files = render_plan(&plan, &Templates::with_overrides(tmp.path()).unwrap()).unwrap();
    let readme = files
        .iter()
        .find(|f| f.path == Path::new("app/README.md"))
        .unwrap();
    assert_eq!(readme.contents, "custom readme for app\n");
    // Other templates stay embedded.
    let embedded = rendered();
    let policy = |files: &[GeneratedFile]| {
        files
            .iter()
            .find(|f| f.path == Path::new("app/iam-policy.json"))
            .unwrap()
            .contents
            .clone()
    };
    assert_eq!(policy(&files), policy(&embedded));

    std::fs::write(tmp.path().join("secret-stor.yaml.tera"), "x").unwrap();
    let error = Templates::with_overrides(tmp.path()).unwrap_err();
    assert!(
        matches!(error, RenderError::UnknownOverride { .. }),
        "{error}"
    );
}

/// A template override that feeds hostile text to the filters still cannot break the
/// output: `yaml_str` and `json` escape, `comment` refuses line breaks.
#[test]
fn hostile_values_are_escaped_or_refused_by_the_filters() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("eso")).unwrap();
    // Tera string literals have no escapes: build the hostile text from pieces, with a
    // real line break inside a literal.
    let hostile = "x\"\n  injected: true\n{% raw %}\\";
    let set_evil = "{% set evil = 'x\"' ~ \"\n  injected: true\n{% raw %}\" ~ '\\' %}";
    std::fs::write(
        tmp.path().join("eso/external-secret.yaml.tera"),
        format!("{set_evil}\napiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata:\n  name: {{{{ evil | yaml_str }}}}\n"),
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("iam-policy.json.tera"),
        format!("{set_evil}\n{{\"Sid\": {{{{ evil | json }}}}}}\n"),
    )
    .unwrap();
    let plan = model::parse(CONFIG).unwrap();
    let files = render_plan(&plan, &Templates::with_overrides(tmp.path()).unwrap()).unwrap();
    let manifest = files
        .iter()
        .find(|f| f.path == Path::new("app/eso/external-secret.yaml"))
        .unwrap();
    let parsed: serde_norway::Value = serde_norway::from_str(&manifest.contents).unwrap();
    assert_eq!(parsed["metadata"]["name"].as_str(), Some(hostile));
    assert!(parsed["injected"].is_null() && parsed["metadata"]["injected"].is_null());
    let policy = files
        .iter()
        .find(|f| f.path == Path::new("app/iam-policy.json"))
        .unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&policy.contents).unwrap();
    assert_eq!(parsed["Sid"].as_str(), Some(hostile));

    std::fs::write(
        tmp.path().join("access-readme.md.tera"),
        "{% set evil = \"a\nb\" %}# {{ evil | comment }}\n",
    )
    .unwrap();
    let error = render_plan(&plan, &Templates::with_overrides(tmp.path()).unwrap()).unwrap_err();
    assert!(error.to_string().contains("single-line"), "{error}");
}

#[test]
fn rendering_is_deterministic() {
    assert_eq!(rendered(), rendered());
}

#[test]
fn review_text_names_the_reviewer_warnings() {
    let plan = model::parse(CONFIG).unwrap();
    let text = templates::review_text(&plan);
    assert!(text.contains("ListSecrets cannot be scoped"), "{text}");
    assert!(
        text.contains("every secret of account 123456789012 in eu-west-3"),
        "{text}"
    );
    let plan = model::parse(&CONFIG.replace("prefixes: [app/]", "prefixes: [staging]")).unwrap();
    let text = templates::review_text(&plan);
    assert!(text.contains("`stagingfoo` and `staging-legacy`"), "{text}");
    let automatic = CONFIG.replace(
        "setup: role-arn, secrets: {prefixes: [app/]}",
        "setup: automatic",
    );
    let text = templates::review_text(&model::parse(&automatic).unwrap());
    assert!(
        text.contains("EVERY secret of account 123456789012 in every region"),
        "{text}"
    );
}
