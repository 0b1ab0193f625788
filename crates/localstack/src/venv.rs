//! The host-mode venv: built once per lock, reused across clones and runs.
//!
//! Invariant: a venv directory under the cache is complete or absent. It is built in
//! a temporary sibling directory and renamed into place only after every package
//! installed and `import localstack` worked, so an interrupted install is never
//! reused. Everything inside is run as `venv/bin/python -m …`, which keeps working
//! after the rename (script shebangs would still name the temporary path).

use crate::python::Interpreter;
use crate::{paths, Error};
use sha2::{Digest, Sha256};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The LocalStack runtime installed (without dependencies) on top of the lock.
pub const LOCALSTACK_CORE: &str = "localstack-core==2026.3.0";

/// A complete venv.
#[derive(Debug, Clone)]
pub struct Venv {
    /// The venv directory.
    pub dir: PathBuf,
}

impl Venv {
    /// Its interpreter.
    pub fn python(&self) -> PathBuf {
        self.dir.join("bin").join("python")
    }
}

/// The cache key: the lock's content, the interpreter's minor version and the
/// runtime pin. A changed lock gives a new directory, so it is rebuilt.
pub fn cache_key(lock: &[u8], interpreter: &Interpreter) -> String {
    let mut hasher = Sha256::new();
    hasher.update(lock);
    hasher.update(
        format!(
            "\npython{}.{}\n{LOCALSTACK_CORE}\n",
            interpreter.major_minor.0, interpreter.major_minor.1
        )
        .as_bytes(),
    );
    let digest = hasher.finalize();
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!(
        "localstack-venv-py{}.{}-{hex}",
        interpreter.major_minor.0, interpreter.major_minor.1
    )
}

/// Returns the cached venv for this lock, building it first when absent.
/// Build output goes to `<log_dir>/venv-build.log`.
pub fn ensure(interpreter: &Interpreter, log_dir: &Path) -> Result<Venv, Error> {
    // The lock is compiled into the binary, so an installed `sma` needs no checkout.
    let lock = paths::LOCK.as_bytes();
    let cache = paths::cache_dir();
    let venv = Venv {
        dir: cache.join(cache_key(lock, interpreter)),
    };
    if venv.python().exists() && venv.dir.join(COMPLETE_MARKER).exists() {
        return Ok(venv);
    }
    fs::create_dir_all(&cache).map_err(Error::io(format!("creating {}", cache.display())))?;
    fs::create_dir_all(log_dir).map_err(Error::io(format!("creating {}", log_dir.display())))?;
    remove_abandoned_builds(&cache);

    let began = Instant::now();
    let log = log_dir.join("venv-build.log");
    eprintln!(
        "LocalStack venv: building {} with Python {} (about a minute, once per lock); log {}",
        venv.dir.display(),
        interpreter.version,
        log.display()
    );
    let building = cache.join(format!(
        ".building-{}-{}",
        venv.dir.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&building);
    fs::create_dir_all(&building).map_err(Error::io(format!("creating {}", building.display())))?;
    let lock_path = building.join("requirements-runtime.lock");
    fs::write(&lock_path, lock).map_err(Error::io(format!("writing {}", lock_path.display())))?;
    let result = build(interpreter, &building, &lock_path, &log);
    if let Err(err) = result {
        let _ = fs::remove_dir_all(&building);
        return Err(err);
    }
    match fs::rename(&building, &venv.dir) {
        Ok(()) => {}
        // Another run finished the same venv first: theirs is complete, use it.
        Err(_) if venv.dir.join(COMPLETE_MARKER).exists() => {
            let _ = fs::remove_dir_all(&building);
        }
        Err(source) => {
            let _ = fs::remove_dir_all(&building);
            return Err(Error::Io {
                context: format!("renaming the new venv into {}", venv.dir.display()),
                source,
            });
        }
    }
    eprintln!(
        "LocalStack venv: ready in {:.0}s",
        began.elapsed().as_secs_f64()
    );
    Ok(venv)
}

const COMPLETE_MARKER: &str = ".sma-complete";

fn build(interpreter: &Interpreter, dir: &Path, lock: &Path, log: &Path) -> Result<(), Error> {
    let python = dir.join("bin").join("python");
    run_logged(
        "python -m venv",
        Command::new(&interpreter.path)
            .arg("-m")
            .arg("venv")
            .arg(dir),
        log,
    )?;
    let pip = |args: &[&str]| {
        let mut command = Command::new(&python);
        command
            .args([
                "-m",
                "pip",
                "install",
                "--no-input",
                "--disable-pip-version-check",
            ])
            .args(["--progress-bar", "off"])
            .args(args);
        command
    };
    // The lock is complete (LocalStack's own runtime lock, frozen after a working
    // start): install it as is, without letting pip resolve newer versions.
    let lock_arg = lock.to_string_lossy().to_string();
    run_logged(
        "pip install the lock",
        &mut pip(&["--no-deps", "-r", &lock_arg]),
        log,
    )?;
    run_logged(
        "pip install localstack-core",
        &mut pip(&["--no-deps", LOCALSTACK_CORE]),
        log,
    )?;
    run_logged(
        "import check",
        Command::new(&python).args(["-c", "import localstack.runtime.main, cfnlint"]),
        log,
    )?;
    fs::write(dir.join(COMPLETE_MARKER), LOCALSTACK_CORE)
        .map_err(Error::io("writing the venv completion marker"))?;
    Ok(())
}

fn run_logged(step: &'static str, command: &mut Command, log: &Path) -> Result<(), Error> {
    let open = || {
        fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(Error::io(format!("opening {}", log.display())))
    };
    let status = command
        .stdin(Stdio::null())
        .stdout(open()?)
        .stderr(open()?)
        .status()
        .map_err(|e| Error::Venv {
            step,
            reason: e.to_string(),
            log: log.to_path_buf(),
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::Venv {
            step,
            reason: format!("exited with {status}"),
            log: log.to_path_buf(),
        })
    }
}

/// Removes `.building-*` directories whose builder process is gone.
fn remove_abandoned_builds(cache: &Path) {
    let Ok(entries) = fs::read_dir(cache) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(rest) = name.strip_prefix(".building-") else {
            continue;
        };
        let pid = rest.rsplit('-').next().and_then(|p| p.parse::<i32>().ok());
        // SAFETY: kill with signal 0 only checks that the process exists.
        let alive = pid.is_some_and(|pid| unsafe { libc::kill(pid, 0) } == 0);
        if !alive {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interpreter(minor: u32) -> Interpreter {
        Interpreter {
            path: PathBuf::from("/usr/bin/python3"),
            version: format!("3.{minor}.0"),
            major_minor: (3, minor),
        }
    }

    #[test]
    fn the_key_changes_with_the_lock_and_the_python() {
        let a = cache_key(b"x==1\n", &interpreter(13));
        assert_eq!(a, cache_key(b"x==1\n", &interpreter(13)));
        assert_ne!(a, cache_key(b"x==2\n", &interpreter(13)));
        assert_ne!(a, cache_key(b"x==1\n", &interpreter(12)));
        assert!(a.starts_with("localstack-venv-py3.13-"));
    }
}
