//! `cargo xtask gen [--check]`: the golden examples.
//!
//! Every `examples/<name>.yaml` is rendered with the embedded templates into the
//! checked-in directory `examples/<name>/` (one subdirectory per access plus a
//! `README.md`). `--check` renders in memory and fails, listing the files, when the
//! checked-in output drifted (changed, missing, or no longer generated).
//!
//! Dependency this module needs in xtask/Cargo.toml:
//!     templates.workspace = true

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace root")
        .to_owned()
}

/// The directory of the example configurations.
pub(crate) fn examples_dir() -> PathBuf {
    root().join("examples")
}

pub(crate) fn run(check: bool) -> Result<(), String> {
    let dir = examples_dir();
    let configs = templates::examples::example_configs(&dir).map_err(|e| e.to_string())?;
    if configs.is_empty() {
        return Err(format!(
            "no example configuration (*.yaml) in {}",
            dir.display()
        ));
    }
    if check {
        let drifts = templates::examples::check_examples(&dir).map_err(|e| e.to_string())?;
        if !drifts.is_empty() {
            let list: Vec<String> = drifts.iter().map(|d| format!("  {d}")).collect();
            return Err(format!(
                "the generated examples drifted from the generator ({} file(s)); run `cargo xtask gen` and commit:\n{}",
                drifts.len(),
                list.join("\n")
            ));
        }
        eprintln!("examples up to date: {} configuration(s)", configs.len());
    } else {
        let written = templates::examples::regenerate_examples(&dir).map_err(|e| e.to_string())?;
        for out in written {
            eprintln!("wrote {}", out.display());
        }
    }
    Ok(())
}

/// The generated CloudFormation templates of the examples, for cfn-lint
/// (`python -m cfnlint -- <files>`). Run `run(true)` first so the files on disk are
/// the generator's current output.
pub(crate) fn cloudformation_files() -> Result<Vec<PathBuf>, String> {
    templates::examples::cloudformation_files(&examples_dir()).map_err(|e| e.to_string())
}
