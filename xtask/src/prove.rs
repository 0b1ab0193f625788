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
    if !failures.is_empty() {
        return Err(format!("sma prove failed on: {}", failures.join("; ")));
    }
    shards_merge_into_the_whole()?;
    let role_arn = localstack::paths::target_dir()
        .join("prove")
        .join("aws-role-arn")
        .join("report");
    check_report_in_browser(&role_arn, 2)
}

/// `--shard 1/2` and `2/2` merged by `sma report merge` give the unsharded verdicts.
fn shards_merge_into_the_whole() -> Result<(), String> {
    let config = examples_dir().join("aws-role-arn.yaml");
    let base = localstack::paths::target_dir().join("prove");
    let mut shard_reports = Vec::new();
    for k in 1..=2 {
        let out = base.join(format!("aws-role-arn-shard-{k}"));
        let output = Command::new(sma())
            .args(["prove", "--force", "--shard", &format!("{k}/2"), "--config"])
            .arg(&config)
            .arg("--out")
            .arg(&out)
            .env_remove("SMA_LOCALSTACK_ENDPOINT")
            .env_remove("LOCALSTACK_ENDPOINT")
            .output()
            .map_err(|e| e.to_string())?;
        if !output.status.success() {
            return Err(format!(
                "sma prove --shard {k}/2 failed:\n{}",
                text(&output)
            ));
        }
        shard_reports.push(out.join("report").join("report.json"));
    }
    let merged = base.join("aws-role-arn-merged");
    let output = Command::new(sma())
        .args(["report", "merge", "--force"])
        .args(&shard_reports)
        .arg("--out")
        .arg(&merged)
        .output()
        .map_err(|e| e.to_string())?;
    let merged_summary = String::from_utf8_lossy(&output.stdout).to_string();
    let whole = std::fs::read_to_string(base.join("aws-role-arn").join("report").join("report.md"))
        .map_err(|e| e.to_string())?;
    let merged_md = std::fs::read_to_string(merged.join("report.md")).map_err(|e| e.to_string())?;
    // The summary table (access, setup, verdict, counts) must be the same.
    let table = |md: &str| -> Vec<String> {
        md.lines()
            .filter(|l| l.starts_with("| ") && l.contains(" × 4 |"))
            .map(str::to_string)
            .collect()
    };
    if !output.status.success() || table(&whole) != table(&merged_md) || table(&whole).len() != 2 {
        return Err(format!(
            "merged shards differ from the unsharded proof:\nunsharded: {:?}\nmerged: {:?}\n{merged_summary}",
            table(&whole),
            table(&merged_md)
        ));
    }
    eprintln!("shards 1/2 and 2/2 merged give the unsharded verdicts:\n{merged_summary}");
    // A merge must stand for the whole configuration: one shard alone is refused.
    let partial = Command::new(sma())
        .args(["report", "merge", "--force"])
        .arg(&shard_reports[0])
        .arg("--out")
        .arg(base.join("aws-role-arn-partial"))
        .output()
        .map_err(|e| e.to_string())?;
    if partial.status.code() != Some(2) || !text(&partial).contains("missing shard(s) 2/2") {
        return Err(format!(
            "merging shard 1/2 alone must fail (exit 2, naming shard 2/2):\n{}",
            text(&partial)
        ));
    }
    eprintln!("shard 1/2 alone is refused: the merge names the missing shard 2/2");
    Ok(())
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
        expect: "LEAK GetSecretValue of \"staging/ap/member\"",
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
        expect: "in ap-south-1, which the configuration does not intend",
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

/// Mutants of the web-identity stack (sma's GKE setup), proven on
/// `examples/gcp-web-identity.yaml`: its trust must keep both conditions.
const WEB_IDENTITY_MUTANTS: &[Mutant] = &[
    Mutant {
        name: "web-identity trust without its :aud condition",
        file: "cloudformation/irsa-role.yaml.tera",
        from: "                {{ aud_key | yaml_str }}: {{ identity.audience | yaml_str }}\n",
        to: "",
        expect: "LEAK token of reporting/eso-aws-reporting, audience sma-prove-other-audience",
    },
    Mutant {
        name: "web-identity trust without its :sub condition",
        file: "cloudformation/irsa-role.yaml.tera",
        from: "                {{ sub_key | yaml_str }}: {{ identity.subject | yaml_str }}\n",
        to: "",
        expect: "LEAK token of default/eso-aws-reporting",
    },
];

/// Breaks the generator in every way of [`MUTANTS`] and checks that `sma prove` on the
/// role-arn example (a role-arn and a static access) fails for each, saying why; the
/// same for [`WEB_IDENTITY_MUTANTS`] on the gcp-web-identity example.
pub(crate) fn mutants() -> Result<(), String> {
    let role_arn = examples_dir().join("aws-role-arn.yaml");
    let web_identity = examples_dir().join("gcp-web-identity.yaml");
    let work = localstack::paths::target_dir().join("mutants");
    let mut survivors = Vec::new();
    let all = MUTANTS
        .iter()
        .map(|m| (m, &role_arn))
        .chain(WEB_IDENTITY_MUTANTS.iter().map(|m| (m, &web_identity)));
    for (i, (m, config)) in all.enumerate() {
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
        let output = sma_prove(config, Some(&overrides), &work.join(format!("out-{i}")))?;
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
            MUTANTS.len() + WEB_IDENTITY_MUTANTS.len()
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

/// Chromium, installed with Debian's package when missing and we may (root with
/// apt-get, as on CI); otherwise an error saying how to install it.
fn chromium() -> Result<PathBuf, String> {
    let installed = || {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
    };
    if let Some(path) = installed() {
        return Ok(path);
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    if root && Path::new("/usr/bin/apt-get").exists() {
        eprintln!(
            "Chromium is missing: installing Debian's chromium package (apt-get, about a minute)"
        );
        let status = Command::new("apt-get")
            .args([
                "install",
                "-y",
                "-qq",
                "--no-install-recommends",
                "chromium",
            ])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(std::process::Stdio::null())
            .status()
            .map_err(|e| format!("apt-get: {e}"))?;
        if status.success() {
            if let Some(path) = installed() {
                return Ok(path);
            }
        }
    }
    Err("checking report.html needs Chromium: install it (Debian: `sudo apt-get install chromium`) and run again".into())
}

/// Renders `report.html` in headless Chromium at 1400 px: the page must lay out without
/// horizontal scrolling and hold one grid per access with coloured cells; a screenshot
/// is written next to it (`report.png`) and must not be a blank page.
pub(crate) fn check_report_in_browser(report_dir: &Path, accesses: usize) -> Result<(), String> {
    let browser = chromium()?;
    let page = report_dir.join("report.html");
    let url = format!(
        "file://{}",
        page.canonicalize()
            .map_err(|e| format!("{}: {e}", page.display()))?
            .display()
    );
    let profile = report_dir.join(".chromium-profile");
    let run = |extra: &[String]| -> Result<Output, String> {
        Command::new(&browser)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--window-size=1400,1000",
                "--virtual-time-budget=3000",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(extra)
            .arg(&url)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", browser.display()))
    };
    let dom = run(&["--dump-dom".to_string()])?;
    let dom = String::from_utf8_lossy(&dom.stdout);
    let grids = dom.matches("class=\"access\"").count();
    let mut problems = Vec::new();
    if !dom.contains("data-layout=\"fits\"") {
        problems.push(
            "the page scrolls horizontally at 1400 px (or its layout script did not run)"
                .to_string(),
        );
    }
    if grids != accesses {
        problems.push(format!(
            "{grids} grid(s) rendered for {accesses} access(es)"
        ));
    }
    if !dom.contains("class=\"c ok-allow\"") || !dom.contains("class=\"c ok-deny\"") {
        problems.push("no coloured cells rendered".to_string());
    }
    let png = report_dir.join("report.png");
    let _ = std::fs::remove_file(&png);
    run(&[format!("--screenshot={}", png.display())])?;
    let size = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
    // A blank 1400×1000 page compresses to a few kilobytes; grids of text and colour
    // to tens.
    if size < 20_000 {
        problems.push(format!(
            "the screenshot {} is {size} bytes: a blank page?",
            png.display()
        ));
    }
    let _ = std::fs::remove_dir_all(&profile);
    if problems.is_empty() {
        eprintln!("report.html renders in Chromium: {grids} grid(s), fits 1400 px; screenshot {} ({size} bytes)", png.display());
        Ok(())
    } else {
        Err(format!("{}: {}", page.display(), problems.join("; ")))
    }
}

/// A cluster of 20 accesses (one role-arn, nineteen static-credentials, each with four
/// names and three prefixes): about a thousand seeded secrets, each tried by every
/// access.
fn scale_config() -> String {
    let mut yaml = String::from(
        "cluster:\n  name: bench\n  cloud: aws\n  account_id: \"123456789012\"\n  region: eu-west-3\n  oidc_issuer: oidc.eks.eu-west-3.amazonaws.com/id/BENCH0000000000000000000000000000\naccesses:\n",
    );
    for i in 0..20 {
        let setup = if i == 0 {
            "role-arn"
        } else {
            "static-credentials"
        };
        let region = if i % 2 == 0 { "eu-west-3" } else { "us-east-1" };
        yaml.push_str(&format!(
            "  - name: team-{i:02}\n    setup: {setup}\n    region: {region}\n    secrets:\n      names: [team-{i:02}/db, team-{i:02}/api-key, team-{i:02}/tls, shared/team-{i:02}]\n      prefixes: [team-{i:02}/app/, team-{i:02}/jobs/, apps/team-{i:02}/]\n"
        ));
    }
    yaml
}

/// `cargo xtask bench`'s proof at scale: the 20-access configuration against the
/// role-arn example, measured in the same run (target: <= 60 s, examples <= 20 s).
pub(crate) fn scale() -> Result<(), String> {
    let dir = localstack::paths::target_dir().join("bench-prove");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let config = dir.join("cluster-20-accesses.yaml");
    std::fs::write(&config, scale_config()).map_err(|e| e.to_string())?;
    let mut timings = Vec::new();
    for (name, config) in [
        (
            "aws-role-arn example",
            examples_dir().join("aws-role-arn.yaml"),
        ),
        ("20 accesses", config),
    ] {
        let began = std::time::Instant::now();
        let output = sma_prove(&config, None, &dir.join(name.replace(' ', "-")))?;
        let took = began.elapsed().as_secs_f64();
        if !output.status.success() {
            return Err(format!("sma prove on {name} failed:\n{}", text(&output)));
        }
        let phases: Vec<String> = String::from_utf8_lossy(&output.stderr)
            .lines()
            .filter(|l| {
                l.starts_with("sma prove:")
                    || l.starts_with("LocalStack:")
                    || l.starts_with("timing:")
            })
            .map(str::to_string)
            .collect();
        eprintln!("{name}: {took:.1}s\n  {}", phases.join("\n  "));
        timings.push((name, took));
    }
    let (base, scaled) = (timings[0].1, timings[1].1);
    eprintln!(
        "prove scale: example {base:.1}s (target <= 20 s), 20 accesses {scaled:.1}s (target <= 60 s), ratio {:.1}x",
        scaled / base
    );
    Ok(())
}

/// `sma check` through the binary: every example clean, generated and as committed
/// (`--artifacts`), and every deliberately broken artifact under
/// `crates/check/tests/broken/` refused (exit 1) with exactly its expected rules.
pub(crate) fn check() -> Result<(), String> {
    let root = examples_dir()
        .parent()
        .expect("workspace root")
        .to_path_buf();
    let mut failures = Vec::new();
    let run = |args: &[&std::ffi::OsStr]| -> Result<Output, String> {
        Command::new(sma())
            .arg("check")
            .args(args)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", sma().display()))
    };
    let configs =
        templates::examples::example_configs(&examples_dir()).map_err(|e| e.to_string())?;
    for config in &configs {
        let committed = config.with_extension("");
        for args in [
            vec![std::ffi::OsStr::new("--config"), config.as_os_str()],
            vec![
                std::ffi::OsStr::new("--config"),
                config.as_os_str(),
                std::ffi::OsStr::new("--artifacts"),
                committed.as_os_str(),
            ],
        ] {
            let output = run(&args)?;
            if !output.status.success() {
                failures.push(format!(
                    "sma check {args:?}: {}\n{}",
                    output.status,
                    text(&output)
                ));
            }
        }
    }
    let broken = root.join("crates/check/tests/broken");
    let config = broken.join("config.yaml");
    let mut cases = 0;
    for entry in std::fs::read_dir(&broken).map_err(|e| format!("{}: {e}", broken.display()))? {
        let dir = entry.map_err(|e| e.to_string())?.path();
        let Ok(expected) = std::fs::read_to_string(dir.join("expected-rules.txt")) else {
            continue;
        };
        cases += 1;
        let output = run(&[
            std::ffi::OsStr::new("--config"),
            config.as_os_str(),
            std::ffi::OsStr::new("--artifacts"),
            dir.as_os_str(),
            std::ffi::OsStr::new("--format"),
            std::ffi::OsStr::new("json"),
        ])?;
        let said = String::from_utf8_lossy(&output.stdout);
        let missing: Vec<&str> = expected
            .lines()
            .map(str::trim)
            .filter(|r| !r.is_empty() && !said.contains(&format!("\"{r}\"")))
            .collect();
        if output.status.code() != Some(1) || !missing.is_empty() {
            failures.push(format!(
                "{}: exit {:?}, missing rules {missing:?}",
                dir.display(),
                output.status.code()
            ));
        }
    }
    if failures.is_empty() {
        eprintln!("sma check: {} example(s) clean (generated and committed), {cases} broken artifacts each refused with its findings", configs.len());
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}
