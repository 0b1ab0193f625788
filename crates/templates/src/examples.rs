//! The golden examples: every `examples/<name>.yaml` is rendered with the embedded
//! templates into the checked-in directory `examples/<name>/`. `cargo xtask gen`
//! regenerates them; `cargo xtask gen --check` fails when they drift.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::output::{write_atomically, OutputError};
use crate::render::{render_plan, ArtifactKind, GeneratedFile, RenderError, Templates};

/// Why an example could not be processed.
#[derive(Debug, thiserror::Error)]
pub enum ExamplesError {
    /// Listing or reading failed.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// An example configuration is invalid.
    #[error("{path}: {source}")]
    Config {
        /// The example.
        path: PathBuf,
        /// The error.
        source: model::ConfigError,
    },
    /// Rendering failed.
    #[error("{path}: {source}")]
    Render {
        /// The example.
        path: PathBuf,
        /// The error.
        source: RenderError,
    },
    /// Writing failed.
    #[error(transparent)]
    Output(#[from] OutputError),
}

/// How a checked-in file differs from what the generator produces now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// The file's contents differ.
    Changed(PathBuf),
    /// The generator produces it but it is not checked in.
    Missing(PathBuf),
    /// It is checked in but no longer produced.
    Extra(PathBuf),
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Drift::Changed(p) => write!(f, "changed: {}", p.display()),
            Drift::Missing(p) => write!(f, "missing: {}", p.display()),
            Drift::Extra(p) => write!(f, "not generated any more: {}", p.display()),
        }
    }
}

/// The example configurations (`*.yaml` directly in `examples_dir`), sorted.
pub fn example_configs(examples_dir: &Path) -> Result<Vec<PathBuf>, ExamplesError> {
    let io = |source| ExamplesError::Io {
        path: examples_dir.to_owned(),
        source,
    };
    let mut configs = Vec::new();
    for entry in std::fs::read_dir(examples_dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "yaml") {
            configs.push(path);
        }
    }
    configs.sort();
    Ok(configs)
}

/// Where the output of an example configuration is checked in: `examples/<stem>/`.
pub fn output_dir_for(config: &Path) -> PathBuf {
    config.with_extension("")
}

/// Renders one example configuration with the embedded templates.
pub fn render_example(config: &Path) -> Result<Vec<GeneratedFile>, ExamplesError> {
    let plan = model::load(config).map_err(|source| ExamplesError::Config {
        path: config.to_owned(),
        source,
    })?;
    let templates = Templates::embedded().map_err(|source| ExamplesError::Render {
        path: config.to_owned(),
        source,
    })?;
    render_plan(&plan, &templates).map_err(|source| ExamplesError::Render {
        path: config.to_owned(),
        source,
    })
}

fn files_on_disk(
    root: &Path,
    dir: &Path,
    found: &mut BTreeSet<PathBuf>,
) -> Result<(), ExamplesError> {
    let io = |source| ExamplesError::Io {
        path: dir.to_owned(),
        source,
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(e)),
    };
    for entry in entries {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            files_on_disk(root, &path, found)?;
        } else {
            found.insert(path.strip_prefix(root).unwrap_or(&path).to_owned());
        }
    }
    Ok(())
}

/// Compares every example's checked-in output with a fresh rendering.
pub fn check_examples(examples_dir: &Path) -> Result<Vec<Drift>, ExamplesError> {
    let mut drifts = Vec::new();
    for config in example_configs(examples_dir)? {
        let out = output_dir_for(&config);
        let files = render_example(&config)?;
        let mut on_disk = BTreeSet::new();
        files_on_disk(&out, &out, &mut on_disk)?;
        for file in &files {
            let path = out.join(&file.path);
            on_disk.remove(&file.path);
            match std::fs::read_to_string(&path) {
                Ok(text) if text == file.contents => {}
                Ok(_) => drifts.push(Drift::Changed(path)),
                Err(_) => drifts.push(Drift::Missing(path)),
            }
        }
        drifts.extend(on_disk.into_iter().map(|p| Drift::Extra(out.join(p))));
    }
    Ok(drifts)
}

/// Regenerates every example's output directory (atomically, replacing the old one).
/// Returns the output directories written.
pub fn regenerate_examples(examples_dir: &Path) -> Result<Vec<PathBuf>, ExamplesError> {
    let mut written = Vec::new();
    for config in example_configs(examples_dir)? {
        let files = render_example(&config)?;
        let out = output_dir_for(&config);
        write_atomically(&out, &files, true)?;
        written.push(out);
    }
    Ok(written)
}

/// The checked-in CloudFormation templates of the examples (paths on disk), for linting
/// with cfn-lint. They are the files the generator produces now, so run
/// [`check_examples`] first to be sure the disk matches.
pub fn cloudformation_files(examples_dir: &Path) -> Result<Vec<PathBuf>, ExamplesError> {
    let mut paths = Vec::new();
    for config in example_configs(examples_dir)? {
        let out = output_dir_for(&config);
        for file in render_example(&config)? {
            if file.kind == ArtifactKind::CloudFormation {
                paths.push(out.join(&file.path));
            }
        }
    }
    Ok(paths)
}
