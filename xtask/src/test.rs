//! `cargo xtask test`: everything CI checks, in the order a failure is cheapest to see.

use crate::localstack_cmd::Running;
use crate::run::{self, Steps};
use localstack::{cleanup, detached, paths, python, venv};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

struct Flags {
    tags: Option<String>,
    keep_localstack: bool,
    lint: bool,
}

fn parse(args: &[String]) -> Result<Flags, String> {
    let mut flags = Flags {
        tags: None,
        keep_localstack: false,
        lint: true,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--tags" => {
                flags.tags = Some(
                    args.next()
                        .ok_or("--tags needs a tag expression, e.g. --tags '@role-arn and not @slow'")?
                        .clone(),
                )
            }
            "--keep-localstack" => flags.keep_localstack = true,
            "--no-lint" => flags.lint = false,
            other => {
                return Err(format!(
                    "unknown flag {other}; usage: cargo xtask test [--tags EXPR] [--keep-localstack] [--no-lint]"
                ))
            }
        }
    }
    Ok(flags)
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let flags = parse(args)?;
    let began = Instant::now();
    // Ctrl-C or SIGTERM during the run stops our LocalStack process group.
    cleanup::install_signal_handlers();
    let mut steps = Steps::default();

    let built = steps.run("build (workspace, all targets)", || {
        run::status(run::cargo().args(["build", "--workspace", "--all-targets", "--locked"]))
    });
    if !built {
        return steps.finish(began.elapsed());
    }
    if flags.lint {
        steps.run("cargo fmt --check", || {
            run::status(run::cargo().args(["fmt", "--all", "--check"]))
        });
        steps.run("cargo clippy -D warnings", || {
            run::status(run::cargo().args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--locked",
                "--",
                "-D",
                "warnings",
            ]))?;
            // The Gherkin runner has `test = false`, which `--all-targets` skips (and
            // cargo ignores `--test features` next to `--all-targets`).
            run::status(run::cargo().args([
                "clippy",
                "--workspace",
                "--test",
                "features",
                "--locked",
                "--",
                "-D",
                "warnings",
            ]))
        });
    }
    steps.run("golden examples (gen --check)", || crate::gen::run(true));

    let mut tool_python: Option<PathBuf> = None;
    steps.run("tool venv (Python, cfn-lint)", || {
        let interpreter = python::find().map_err(|searched| {
            format!(
                "cfn-lint needs Python >= 3.12; {searched}. Install Python 3.12+ or set SMA_PYTHON"
            )
        })?;
        let venv = venv::ensure(&interpreter, &paths::target_dir().join("localstack"))
            .map_err(|e| e.to_string())?;
        tool_python = Some(venv.python());
        Ok(())
    });
    if let Some(python) = &tool_python {
        steps.run("cfn-lint (generated CloudFormation)", || cfn_lint(python));
    }

    let mut localstack: Option<Running> = None;
    steps.run("LocalStack", || {
        localstack = Some(if flags.keep_localstack {
            let (state, took, reused) =
                detached::up(&paths::target_dir().join("localstack")).map_err(|e| e.to_string())?;
            eprintln!(
                "LocalStack {} at {} ({:.1}s); kept running: stop it with `cargo xtask localstack down`",
                if reused { "reused" } else { "started" },
                state.endpoint,
                took.as_secs_f64()
            );
            Running::Kept(state.endpoint)
        } else {
            crate::localstack_cmd::start_owned()?
        });
        Ok(())
    });
    let Some(localstack) = localstack else {
        return steps.finish(began.elapsed());
    };
    let endpoint = localstack.endpoint();
    let backend = localstack.backend();
    steps.note(format!("LocalStack of the tests and scenarios: {backend}"));
    // With Docker in use, the Docker backend's own tests (orphan reaping after SIGKILL,
    // fallback without an image) must run, not skip.
    let docker_in_use = backend.starts_with(localstack::Backend::Docker.to_string().as_str());

    steps.run("unit and integration tests", || {
        let mut command = if nextest_installed() {
            let mut c = run::cargo();
            c.args([
                "nextest",
                "run",
                "--workspace",
                "--locked",
                "--no-fail-fast",
            ]);
            c
        } else {
            let mut c = run::cargo();
            c.args(["test", "--workspace", "--locked", "--no-fail-fast"]);
            c
        };
        // The Gherkin suite (`test = false`) runs next, with cucumber's own harness.
        command.env("SMA_LOCALSTACK_ENDPOINT", &endpoint);
        if docker_in_use {
            command.env(localstack::docker::REQUIRE_DOCKER_TESTS, "1");
        }
        run::status(&mut command)
    });

    steps.run("Gherkin scenarios (features/)", || {
        let mut command = run::cargo();
        // `--workspace` keeps the feature set of the build step: no rebuild.
        command.args([
            "test",
            "--workspace",
            "--locked",
            "--test",
            "features",
            "--",
        ]);
        if let Some(tags) = &flags.tags {
            command.args(["--tags", tags]);
        }
        command.env("SMA_LOCALSTACK_ENDPOINT", &endpoint);
        run::status(&mut command)
    });

    localstack.stop();

    steps.run(
        "sma check (offline proofs) on examples and broken artifacts",
        crate::prove::check,
    );
    // Each proof starts a LocalStack of its own (examples share account ids).
    steps.run("sma prove on every example", crate::prove::examples);
    steps.run(
        "mutation test: sma prove refuses a broken generator",
        crate::prove::mutants,
    );
    steps.finish(began.elapsed())
}

fn nextest_installed() -> bool {
    run::cargo()
        .args(["nextest", "--version"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Lints the golden examples' CloudFormation templates (the generator's output,
/// checked current by the `gen --check` step): no error and no warning allowed.
fn cfn_lint(python: &Path) -> Result<(), String> {
    let templates = crate::gen::cloudformation_files()?;
    if templates.is_empty() {
        return Err("no CloudFormation template found under examples/".into());
    }
    eprintln!("cfn-lint on {} template(s)", templates.len());
    // cfn-lint has no `__main__`: call its console-script entry point, which keeps
    // working in a venv that was renamed into place (its script's shebang would not).
    let entry =
        "import sys; from cfnlint.runner import main; sys.argv[0] = 'cfn-lint'; sys.exit(main())";
    run::status(
        Command::new(python)
            .args(["-c", entry, "--format", "parseable", "--"])
            .args(&templates),
    )
}
