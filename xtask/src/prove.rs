//! `sma prove` in CI: every example configuration proven end to end, and the mutation
//! test (`cargo xtask mutants`): the generator broken on purpose in many ways, each of
//! which `sma prove` must refuse with a message saying what leaked or broke.
//!
//! Each `sma prove` run starts its own LocalStack (the examples share account ids and
//! names, and a proof must not see another run's state), through the binary the
//! workspace build made.

use crate::gen::examples_dir;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn sma() -> PathBuf {
    localstack::paths::target_dir().join("debug").join("sma")
}

fn templates_dir() -> PathBuf {
    examples_dir()
        .parent()
        .expect("examples/ lives in the workspace root")
        .join("templates")
}

/// Runs `sma prove` on `config` (with template overrides from `templates`) into `out`.
fn sma_prove(config: &Path, templates: Option<&Path>, out: &Path) -> Result<Output, String> {
    let mut command = Command::new(sma());
    command
        .args(["prove", "--force", "--config"])
        .arg(config)
        .arg("--out")
        .arg(out)
        // A LocalStack of its own: never the run's shared one.
        .env_remove("SMA_LOCALSTACK_ENDPOINT")
        .env_remove("LOCALSTACK_ENDPOINT");
    if let Some(dir) = templates {
        command.arg("--templates").arg(dir);
    }
    command.output().map_err(|e| {
        format!(
            "cannot run {}: {e} (is the workspace built?)",
            sma().display()
        )
    })
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Proves every `examples/*.yaml`; each must exit 0.
pub(crate) fn examples() -> Result<(), String> {
    let configs =
        templates::examples::example_configs(&examples_dir()).map_err(|e| e.to_string())?;
    let mut failures = Vec::new();
    for config in configs {
        let stem = config
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let out = localstack::paths::target_dir().join("prove").join(&stem);
        let began = std::time::Instant::now();
        let output = sma_prove(&config, None, &out)?;
        let took = began.elapsed().as_secs_f64();
        let summary = String::from_utf8_lossy(&output.stdout).to_string();
        eprintln!("sma prove {} ({took:.1}s):\n{summary}", config.display());
        if !output.status.success() {
            eprintln!("{}", String::from_utf8_lossy(&output.stderr));
            failures.push(format!(
                "{} ({}), report in {}",
                config.display(),
                output.status,
                out.join("report").display()
            ));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("sma prove failed on: {}", failures.join("; ")))
    }
}

/// One way to break the generator: in `file` (under templates/), replace `from` by
/// `to`; `sma prove` must then fail and say `expect`.
struct Mutant {
    name: &'static str,
    file: &'static str,
    from: &'static str,
    to: &'static str,
    expect: &'static str,
}

const MUTANTS: &[Mutant] = &[
    Mutant {
        name: "role scope widened to *",
        file: "cloudformation/irsa-role.yaml.tera",
        from: "              - {{ resource | yaml_str }}",
        to: "              - \"*\"",
        expect: "LEAK GetSecretValue of \"prod",
    },
    Mutant {
        name: "user scope widened to *",
        file: "cloudformation/static-user.yaml.tera",
        from: "{{ resource | yaml_str }}",
        to: "\"*\"",
        expect: "LEAK GetSecretValue",
    },
    Mutant {
        name: "a prefix loses its /",
        file: "cloudformation/irsa-role.yaml.tera",
        from: "{{ resource | yaml_str }}",
        to: "{{ resource | replace(from=\"/*\", to=\"*\") | yaml_str }}",
        expect: "LEAK GetSecretValue of \"staging/appfoo\"",
    },
    Mutant {
        name: "an exact name turned into a prefix",
        file: "cloudformation/irsa-role.yaml.tera",
        from: "{{ resource | yaml_str }}",
        to: "{{ resource | replace(from=\"-??????\", to=\"*\") | yaml_str }}",
        expect: "LEAK GetSecretValue of \"staging/dbx\"",
    },
    Mutant {
        name: "any customer-managed key may decrypt",
        file: "cloudformation/irsa-role.yaml.tera",
        from: "{{ resource | yaml_str }}",
        to: "{% if resource is starting_with(\"arn:aws:kms\") %}\"arn:aws:kms:*\"{% else %}{{ resource | yaml_str }}{% endif %}",
        expect: "-under-unlisted-key",
    },
    Mutant {
        name: "trust without its :aud condition",
        file: "cloudformation/irsa-role.yaml.tera",
        from: "                {{ aud_key | yaml_str }}: {{ identity.audience | yaml_str }}\n",
        to: "",
        expect: "LEAK token of external-secrets/external-secrets, audience sma-prove-other-audience",
    },
    Mutant {
        name: "trust without its :sub condition",
        file: "cloudformation/irsa-role.yaml.tera",
        from: "                {{ sub_key | yaml_str }}: {{ identity.subject | yaml_str }}\n",
        to: "",
        expect: "LEAK token of default/external-secrets",
    },
    Mutant {
        name: "trust :sub wildcarded to every service account",
        file: "cloudformation/irsa-role.yaml.tera",
        from: "              StringEquals:\n                {{ sub_key | yaml_str }}: {{ identity.subject | yaml_str }}",
        to: "              StringLike:\n                {{ sub_key | yaml_str }}: \"system:serviceaccount:*\"",
        expect: "LEAK token of",
    },
    Mutant {
        name: "the ServiceAccount annotation names another role",
        file: "eso/service-account.yaml.tera",
        from: "eks.amazonaws.com/role-arn: {{ identity.arn | yaml_str }}",
        to: "eks.amazonaws.com/role-arn: {{ identity.arn ~ \"-other\" | yaml_str }}",
        expect: "ESO cannot authenticate for access \"staging-secrets\"",
    },
    Mutant {
        name: "the store's serviceAccountRef names another service account",
        file: "eso/secret-store.yaml.tera",
        from: "            name: {{ eso.service_account | yaml_str }}",
        to: "            name: \"default\"",
        expect: "which no manifest defines",
    },
    Mutant {
        name: "the store reads another region",
        file: "eso/secret-store.yaml.tera",
        from: "region: {{ region | yaml_str }}",
        to: "region: \"ap-south-1\"",
        expect: "ResourceNotFoundException",
    },
    Mutant {
        name: "the store reads the access key from another key of the Secret",
        file: "eso/secret-store.yaml.tera",
        from: "key: {{ eso.access_key_id_key | yaml_str }}",
        to: "key: \"aws_access_key_id\"",
        expect: "which the cluster does not have",
    },
    Mutant {
        name: "the example ExternalSecret reads a secret outside the intent",
        file: "eso/external-secret.yaml.tera",
        from: "key: {{ eso.example_remote_key | yaml_str }}",
        to: "key: \"prod/db\"",
        expect: "which the configuration does not intend",
    },
];

/// Breaks the generator in every way of [`MUTANTS`] and checks that `sma prove` on the
/// role-arn example (a role-arn and a static access) fails for each, saying why.
pub(crate) fn mutants() -> Result<(), String> {
    let config = examples_dir().join("aws-role-arn.yaml");
    let work = localstack::paths::target_dir().join("mutants");
    let mut survivors = Vec::new();
    for (i, m) in MUTANTS.iter().enumerate() {
        let original = std::fs::read_to_string(templates_dir().join(m.file))
            .map_err(|e| format!("{}: {e}", m.file))?;
        if !original.contains(m.from) {
            return Err(format!(
                "mutant \"{}\" no longer applies: {} has no {:?}; update xtask/src/prove.rs",
                m.name, m.file, m.from
            ));
        }
        let overrides = work.join(format!("templates-{i}"));
        let _ = std::fs::remove_dir_all(&overrides);
        let target = overrides.join(m.file);
        std::fs::create_dir_all(target.parent().expect("a file in a folder"))
            .map_err(|e| e.to_string())?;
        std::fs::write(&target, original.replace(m.from, m.to)).map_err(|e| e.to_string())?;
        let output = sma_prove(&config, Some(&overrides), &work.join(format!("out-{i}")))?;
        let said = text(&output);
        let code = output.status.code();
        let caught = code == Some(1) && said.contains(m.expect);
        eprintln!(
            "  {} {:<62} exit {:?}",
            if caught { "caught  " } else { "SURVIVED" },
            m.name,
            code
        );
        if !caught {
            survivors.push(format!(
                "{} (exit {code:?}, expected exit 1 saying {:?}):\n{said}",
                m.name, m.expect
            ));
        }
    }
    if survivors.is_empty() {
        eprintln!(
            "{} mutants of the generator, every one caught by sma prove",
            MUTANTS.len()
        );
        Ok(())
    } else {
        Err(format!(
            "sma prove missed {} mutant(s) of the generator:\n{}",
            survivors.len(),
            survivors.join("\n\n")
        ))
    }
}
