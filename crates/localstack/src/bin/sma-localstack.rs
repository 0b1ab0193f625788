//! Starts LocalStack (any backend), prints `SMA_LOCALSTACK_ENDPOINT=<url>` and
//! `SMA_LOCALSTACK_BACKEND=<which, with details>` on stdout, and stops it when
//! standard input closes.
//!
//! `cargo xtask test` runs this so that one LocalStack serves the whole run: the pipe
//! ties LocalStack's life to the xtask process however that process ends (normal exit,
//! panic, Ctrl-C, SIGTERM or SIGKILL all close the pipe).

use std::io::{Read, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    localstack::cleanup::install_signal_handlers();
    let localstack = match localstack::start(&localstack::Options::from_env()) {
        Ok(localstack) => localstack,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "SMA_LOCALSTACK_ENDPOINT={}", localstack.endpoint())
        .and_then(|()| writeln!(stdout, "SMA_LOCALSTACK_BACKEND={}", localstack.summary()))
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    // Block until the parent closes the pipe (or dies).
    let mut sink = Vec::new();
    let _ = std::io::stdin().lock().read_to_end(&mut sink);
    localstack.stop();
    ExitCode::SUCCESS
}
