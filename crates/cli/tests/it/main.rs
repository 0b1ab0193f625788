//! The `sma` binary's integration tests, one binary: each module runs the built `sma`
//! on the repository's examples and temporary files.
//!
//! - `check_command`: `sma check` exit codes, waivers, committed artifacts.
//! - `generate_overrides`: `sma generate --templates` refuses overrides that grant more.
//! - `generate_web_identity`: `sma generate` for sma's own `web-identity` setup.

mod check_command;
mod generate_overrides;
mod generate_web_identity;

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::Command;

/// The repository's root.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs the built `sma` in the repository's root: exit code, stdout, stderr.
fn sma<S: AsRef<OsStr>>(args: impl IntoIterator<Item = S>) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sma"))
        .current_dir(root())
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
