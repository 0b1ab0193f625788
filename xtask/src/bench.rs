//! `cargo xtask bench`: every criterion benchmark of the workspace. Each bench
//! measures its own baseline in the same run and prints ratios against it.

use crate::run;

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if !args.is_empty() {
        return Err(format!(
            "cargo xtask bench takes no arguments; got {args:?}"
        ));
    }
    run::status(run::cargo().args(["bench", "--workspace"]))
}
