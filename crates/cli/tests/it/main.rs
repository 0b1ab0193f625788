//! The `sma` binary's integration tests, one binary: each module runs the built `sma`
//! on the repository's examples and temporary files.
//!
//! - `check_command`: `sma check` exit codes, waivers, committed artifacts.
//! - `generate_overrides`: `sma generate --templates` refuses overrides that grant more.
//! - `generate_web_identity`: `sma generate` for sma's own `web-identity` setup.

mod check_command;
mod generate_overrides;
mod generate_web_identity;

use std::path::PathBuf;

/// The repository's root.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}
