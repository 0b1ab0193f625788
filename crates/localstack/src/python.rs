//! Finds a Python >= 3.12 for host mode.
//!
//! Order: `SMA_PYTHON` (an explicit interpreter path), then `python3.13`, `python3.12`,
//! `python3` on `PATH`, then pyenv's installed versions. Every candidate is *run*
//! before it is trusted: pyenv shims exist on `PATH` but fail unless that version is
//! selected.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The lowest Python LocalStack's runtime accepts (it uses 3.12 syntax).
pub const MIN_VERSION: (u32, u32) = (3, 12);

/// A verified interpreter.
#[derive(Debug, Clone)]
pub struct Interpreter {
    /// The real executable (`sys.executable`), never a shim.
    pub path: PathBuf,
    /// `major.minor.micro`.
    pub version: String,
    /// `(major, minor)`.
    pub major_minor: (u32, u32),
}

/// Returns the first usable interpreter, or a description of every candidate tried.
pub fn find() -> Result<Interpreter, String> {
    let mut tried = Vec::new();
    if let Some(explicit) = std::env::var_os("SMA_PYTHON").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(&explicit);
        return probe(&path).map_err(|why| {
            format!(
                "SMA_PYTHON={} is not usable: {why}; unset it or point it at Python >= 3.12",
                path.display()
            )
        });
    }
    for name in ["python3.13", "python3.12", "python3"] {
        match probe(Path::new(name)) {
            Ok(found) => return Ok(found),
            Err(why) => tried.push(format!("{name} on PATH: {why}")),
        }
    }
    let pyenv_root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pyenv")));
    match pyenv_root {
        Some(root) => {
            let mut versions: Vec<((u32, u32, u32), PathBuf)> =
                std::fs::read_dir(root.join("versions"))
                    .into_iter()
                    .flatten()
                    .flatten()
                    .filter_map(|entry| {
                        let name = entry.file_name().to_string_lossy().to_string();
                        let version = parse_version(&name)?;
                        (version.0 == 3 && (version.0, version.1) >= MIN_VERSION)
                            .then(|| (version, entry.path().join("bin").join("python3")))
                    })
                    .collect();
            versions.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
            if versions.is_empty() {
                tried.push(format!(
                    "pyenv ({}): no 3.12+ version installed",
                    root.display()
                ));
            }
            for (_, path) in versions {
                match probe(&path) {
                    Ok(found) => return Ok(found),
                    Err(why) => tried.push(format!("{}: {why}", path.display())),
                }
            }
        }
        None => tried.push("pyenv: no PYENV_ROOT and no HOME".into()),
    }
    Err(format!("tried {}", tried.join("; ")))
}

/// Runs the candidate and checks its version.
pub fn probe(candidate: &Path) -> Result<Interpreter, String> {
    let output = Command::new(candidate)
        .args([
            "-c",
            "import sys; v = sys.version_info; print(v[0], v[1], v[2], sys.executable)",
        ])
        .env_remove("PYTHONHOME")
        .output()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                "not found".to_string()
            } else {
                e.to_string()
            }
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr.lines().next().unwrap_or("no output");
        return Err(format!("exits with {} ({first})", output.status));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut parts = stdout.trim().splitn(4, ' ');
    let mut number = || parts.next().and_then(|p| p.parse::<u32>().ok());
    let (Some(major), Some(minor), Some(micro)) = (number(), number(), number()) else {
        return Err(format!("unexpected version output {stdout:?}"));
    };
    let executable = parts.next().unwrap_or_default().trim();
    if (major, minor) < MIN_VERSION {
        return Err(format!("is Python {major}.{minor}.{micro}, needs >= 3.12"));
    }
    Ok(Interpreter {
        path: if executable.is_empty() {
            candidate.to_path_buf()
        } else {
            PathBuf::from(executable)
        },
        version: format!("{major}.{minor}.{micro}"),
        major_minor: (major, minor),
    })
}

fn parse_version(name: &str) -> Option<(u32, u32, u32)> {
    let mut parts = name.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let micro = parts.next().unwrap_or("0").parse().ok()?;
    parts.next().is_none().then_some((major, minor, micro))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pyenv_dir_names_parse_only_plain_versions() {
        assert_eq!(parse_version("3.13.0"), Some((3, 13, 0)));
        assert_eq!(parse_version("3.12"), Some((3, 12, 0)));
        assert_eq!(parse_version("pypy3.10-7.3"), None);
        assert_eq!(parse_version("3.13.0t"), None);
        assert_eq!(parse_version("miniconda3-latest"), None);
    }

    #[test]
    fn a_missing_interpreter_is_reported_not_found() {
        let err = probe(Path::new("/nonexistent/python3.99")).unwrap_err();
        assert_eq!(err, "not found");
    }
}
