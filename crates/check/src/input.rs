//! The thin I/O layer: reading artifacts and waivers from disk. Everything else in the
//! crate is pure.

use std::path::Path;

use crate::error::CheckError;
use crate::waivers::{parse_waivers, Waiver};
use crate::{Artifact, CLOUDFORMATION_FILE, ESO_DIR, POLICY_FILE};

fn read(path: &Path) -> Result<String, CheckError> {
    std::fs::read_to_string(path).map_err(|source| CheckError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Reads the artifacts of every access of `plan` from a directory laid out as `sma
/// generate` writes it (`<dir>/<access>/iam-policy.json`, `…/cloudformation.yaml`,
/// `…/eso/*.yaml`),
/// for files that were committed or edited by hand.
pub fn read_artifacts(dir: &Path, plan: &model::Plan) -> Result<Vec<Artifact>, CheckError> {
    let mut out = Vec::new();
    for access in &plan.accesses {
        for file in [POLICY_FILE, CLOUDFORMATION_FILE] {
            let relative = format!("{}/{file}", access.name);
            out.push(Artifact {
                contents: read(&dir.join(&relative))?,
                path: relative,
            });
        }
        // Every YAML file of the access's ESO directory, in name order.
        let eso_dir = dir.join(access.name.as_str()).join(ESO_DIR);
        let entries = std::fs::read_dir(&eso_dir).map_err(|source| CheckError::Read {
            path: eso_dir.clone(),
            source,
        })?;
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".yaml") || n.ends_with(".yml"))
            .collect();
        names.sort();
        for file in names {
            let relative = format!("{}/{ESO_DIR}/{file}", access.name);
            out.push(Artifact {
                contents: read(&dir.join(&relative))?,
                path: relative,
            });
        }
    }
    Ok(out)
}

/// Reads the policies of a baseline directory laid out as `sma generate` writes it
/// (`<dir>/<access>/iam-policy.json`, `…/cloudformation.yaml`): an access whose
/// directory is absent is left out (it is new); a directory missing one of the two
/// files is an error.
pub fn read_baseline(dir: &Path, plan: &model::Plan) -> Result<Vec<Artifact>, CheckError> {
    if !dir.is_dir() {
        return Err(CheckError::Read {
            path: dir.to_owned(),
            source: if dir.exists() {
                std::io::Error::other(
                    "is a file, not the directory of an earlier `sma generate --out`",
                )
            } else {
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no such directory (give the --out directory of an earlier `sma generate`)",
                )
            },
        });
    }
    let mut out = Vec::new();
    for access in &plan.accesses {
        if !dir.join(access.name.as_str()).is_dir() {
            continue;
        }
        for file in [POLICY_FILE, CLOUDFORMATION_FILE] {
            let relative = format!("{}/{file}", access.name);
            out.push(Artifact {
                contents: read(&dir.join(&relative))?,
                path: relative,
            });
        }
    }
    Ok(out)
}

/// Reads every YAML file (`.yaml`, `.yml`) under `dir`, recursively, in path order:
/// the cluster's ExternalSecret manifests for `--external-secrets`.
pub fn read_yaml_dir(dir: &Path) -> Result<Vec<Artifact>, CheckError> {
    let mut pending = vec![dir.to_owned()];
    let mut files = Vec::new();
    while let Some(current) = pending.pop() {
        let entries = std::fs::read_dir(&current).map_err(|source| CheckError::Read {
            path: current.clone(),
            source,
        })?;
        for entry in entries {
            let path = entry
                .map_err(|source| CheckError::Read {
                    path: current.clone(),
                    source,
                })?
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|path| {
            Ok(Artifact {
                contents: read(&path)?,
                path: path.display().to_string(),
            })
        })
        .collect()
}

/// Reads one file given on the command line (`--policy`), named by its path as given.
pub fn read_file(path: &Path) -> Result<Artifact, CheckError> {
    Ok(Artifact {
        contents: read(path)?,
        path: path.display().to_string(),
    })
}

/// Reads and validates a waivers file.
pub fn read_waivers(path: &Path) -> Result<Vec<Waiver>, CheckError> {
    parse_waivers(&path.display().to_string(), &read(path)?)
}
