//! `cargo xtask bench`: every criterion benchmark of the workspace, against one
//! LocalStack for the benchmarks that need it (the gateway's). Each bench measures
//! its own baseline in the same run and prints ratios against it.

use crate::localstack_cmd;
use crate::run;

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    match args {
        [] => {}
        [only] if only == "prove" => return crate::prove::scale(),
        _ => {
            return Err(format!(
                "usage: cargo xtask bench [prove] (prove: only the proof at scale); got {args:?}"
            ))
        }
    }
    // `sma-localstack` is a debug binary of the workspace: build it first.
    run::status(run::cargo().args(["build", "--workspace", "--bins", "--locked"]))?;
    let localstack = localstack_cmd::start_owned()?;
    let result = run::status(
        run::cargo()
            .args(["bench", "--workspace", "--locked"])
            .env("SMA_LOCALSTACK_ENDPOINT", localstack.endpoint()),
    );
    localstack.stop();
    result?;
    crate::prove::scale()
}
