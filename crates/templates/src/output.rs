//! Writing generated files: everything goes to a temporary directory next to the
//! target, which is then renamed into place. A reader never sees a half-written
//! directory, and an existing directory is only replaced when asked to.

use std::path::{Path, PathBuf};

use crate::render::GeneratedFile;

/// Why the output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The output directory exists and is not empty, and `force` was not given.
    #[error("{path} already exists and is not empty. Fix: choose another --out directory, or pass --force to replace it")]
    Exists {
        /// The directory.
        path: PathBuf,
    },
    /// `force` was given, but the directory holds something sma does not write there:
    /// it is not replaced (a mistyped `--out` must not delete a project or a home).
    #[error("{path} holds {entry}, which sma does not write there: --force only replaces a directory sma wrote (README.md or config.yaml and directories). Fix: choose another --out directory, or move {entry} away")]
    NotSmaOutput {
        /// The directory.
        path: PathBuf,
        /// The first entry sma would not have written.
        entry: String,
    },
    /// The output path exists and is not a directory.
    #[error("{path} exists and is not a directory. Fix: choose another --out path")]
    NotADirectory {
        /// The path.
        path: PathBuf,
    },
    /// A generated path would escape the output directory.
    #[error("generated path {path} is not a plain relative path")]
    UnsafePath {
        /// The path.
        path: PathBuf,
    },
    /// A file-system operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// On which path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> OutputError {
    let path = path.to_owned();
    move |source| OutputError::Io {
        action,
        path,
        source,
    }
}

/// Whether `out` may be (re)placed: absent, an empty directory, or anything with `force`.
pub fn check_target(out: &Path, force: bool) -> Result<(), OutputError> {
    match std::fs::symlink_metadata(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io("cannot inspect", out)(e)),
        Ok(meta) if !meta.is_dir() => Err(OutputError::NotADirectory {
            path: out.to_owned(),
        }),
        Ok(_) => {
            let entries: Vec<std::fs::DirEntry> = std::fs::read_dir(out)
                .map_err(io("cannot list", out))?
                .collect::<Result<_, _>>()
                .map_err(io("cannot list", out))?;
            if entries.is_empty() {
                return Ok(());
            }
            if !force {
                return Err(OutputError::Exists {
                    path: out.to_owned(),
                });
            }
            match entries.iter().find(|e| !sma_writes(e)) {
                Some(foreign) => Err(OutputError::NotSmaOutput {
                    path: out.to_owned(),
                    entry: foreign.file_name().to_string_lossy().into_owned(),
                }),
                None => Ok(()),
            }
        }
    }
}

/// Whether a top-level entry of an output directory is one sma writes: `README.md`
/// (`sma generate`), `config.yaml` (`sma prove`), or a visible directory (an access,
/// or `templates/`, `features/`, `report/`).
fn sma_writes(entry: &std::fs::DirEntry) -> bool {
    let name = entry.file_name();
    let name = name.to_string_lossy();
    if name.starts_with('.') {
        return false;
    }
    match entry.file_type() {
        Ok(t) if t.is_dir() => true,
        Ok(t) if t.is_file() => name == "README.md" || name == "config.yaml",
        _ => false,
    }
}

/// Writes `files` under `out` atomically. With `force`, an existing `out` that sma
/// wrote is replaced as a whole (files that are no longer generated disappear); one
/// holding anything else, or without `force` any non-empty `out`, is an error and
/// nothing is touched.
pub fn write_atomically(
    out: &Path,
    files: &[GeneratedFile],
    force: bool,
) -> Result<(), OutputError> {
    check_target(out, force)?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(io("cannot create", &parent))?;
    let staging = tempfile::Builder::new()
        .prefix(".sma-generate-")
        .tempdir_in(&parent)
        .map_err(io("cannot create a temporary directory in", &parent))?;
    for file in files {
        if file.path.is_absolute()
            || file
                .path
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(OutputError::UnsafePath {
                path: file.path.clone(),
            });
        }
        let target = staging.path().join(&file.path);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).map_err(io("cannot create", dir))?;
        }
        std::fs::write(&target, &file.contents).map_err(io("cannot write", &target))?;
    }
    // Readable like a normal directory, not 0700 like a temporary one.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(staging.path(), std::fs::Permissions::from_mode(0o755))
            .map_err(io("cannot set permissions of", staging.path()))?;
    }
    let staged = staging.keep();
    let result = swap_into_place(&staged, out, &parent);
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staged);
    }
    result
}

fn swap_into_place(staged: &Path, out: &Path, parent: &Path) -> Result<(), OutputError> {
    if std::fs::symlink_metadata(out).is_err() {
        return std::fs::rename(staged, out).map_err(io("cannot rename into", out));
    }
    // Move the old directory aside, move the new one in, then delete the old one.
    let aside = tempfile::Builder::new()
        .prefix(".sma-previous-")
        .tempdir_in(parent)
        .map_err(io("cannot create a temporary directory in", parent))?
        .keep();
    std::fs::remove_dir(&aside).map_err(io("cannot prepare", &aside))?;
    std::fs::rename(out, &aside).map_err(io("cannot move aside", out))?;
    if let Err(e) = std::fs::rename(staged, out) {
        // Put the previous output back.
        let _ = std::fs::rename(&aside, out);
        return Err(io("cannot rename into", out)(e));
    }
    std::fs::remove_dir_all(&aside).map_err(io("cannot remove the previous output", &aside))
}
