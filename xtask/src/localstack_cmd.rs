//! `cargo xtask localstack up|down|status`: a LocalStack for working by hand
//! (`image`: [`crate::localstack_image`]).

use localstack::{detached, health, paths};
use std::io::BufRead;
use std::process::{Child, Command, Stdio};

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let work_dir = paths::target_dir().join("localstack");
    match args {
        [cmd] if cmd == "up" => {
            let (state, took, was_running) = detached::up(&work_dir).map_err(|e| e.to_string())?;
            if was_running {
                println!("LocalStack already running at {}", state.endpoint);
            } else {
                println!(
                    "LocalStack started at {} in {:.1}s (log {})",
                    state.endpoint,
                    took.as_secs_f64(),
                    state.log.display()
                );
            }
            println!("Use it from tests and tools with:");
            println!("  export SMA_LOCALSTACK_ENDPOINT={}", state.endpoint);
            println!("Stop it with: cargo xtask localstack down");
            Ok(())
        }
        [cmd] if cmd == "down" => match detached::down(&work_dir).map_err(|e| e.to_string())? {
            Some(state) => {
                println!("stopped LocalStack at {}", state.endpoint);
                Ok(())
            }
            None => {
                println!("no LocalStack started by `cargo xtask localstack up`");
                Ok(())
            }
        },
        [cmd] if cmd == "status" => match detached::read_state(&work_dir) {
            Some(state) => match health::probe(&state.endpoint) {
                Ok(()) => {
                    println!(
                        "running at {} (log {})",
                        state.endpoint,
                        state.log.display()
                    );
                    Ok(())
                }
                Err(e) => Err(format!(
                    "recorded at {} but not healthy: {e} (run `cargo xtask localstack down`)",
                    state.endpoint
                )),
            },
            None => {
                println!("not running");
                Ok(())
            }
        },
        [cmd, rest @ ..] if cmd == "image" => crate::localstack_image::run(rest),
        _ => Err("usage: cargo xtask localstack up|down|status|image [--force]".into()),
    }
}

/// The endpoint for the run and what keeps LocalStack alive until the run ends.
pub(crate) enum Running {
    /// `sma-localstack` owns it; closing its stdin (or our death) stops it.
    Owned {
        endpoint: String,
        /// Which backend, with its details (`SMA_LOCALSTACK_BACKEND=`).
        backend: String,
        child: Child,
    },
    /// Left running on purpose (`--keep-localstack`).
    Kept(String),
}

impl Running {
    pub(crate) fn endpoint(&self) -> String {
        match self {
            Running::Owned { endpoint, .. } => endpoint.clone(),
            Running::Kept(endpoint) => endpoint.clone(),
        }
    }

    /// Which backend runs it, for the summary.
    pub(crate) fn backend(&self) -> String {
        match self {
            Running::Owned { backend, .. } => backend.clone(),
            Running::Kept(_) => "host process kept running (--keep-localstack)".into(),
        }
    }

    pub(crate) fn stop(self) {
        if let Running::Owned { mut child, .. } = self {
            drop(child.stdin.take());
            let _ = child.wait();
        }
    }
}

/// Starts `sma-localstack` (built by the build step, with every backend) and reads
/// the endpoint it prints.
pub(crate) fn start_owned() -> Result<Running, String> {
    let binary = paths::target_dir().join("debug").join("sma-localstack");
    let mut child = Command::new(&binary)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout pipe")?;
    let mut stdout = std::io::BufReader::new(stdout);
    let mut line = String::new();
    let _ = stdout.read_line(&mut line);
    let mut backend = String::new();
    let _ = stdout.read_line(&mut backend);
    let backend = backend
        .trim()
        .strip_prefix("SMA_LOCALSTACK_BACKEND=")
        .unwrap_or("unknown")
        .to_string();
    match line.trim().strip_prefix("SMA_LOCALSTACK_ENDPOINT=") {
        Some(endpoint) => Ok(Running::Owned {
            endpoint: endpoint.to_string(),
            backend,
            child,
        }),
        None => {
            let status = child.wait().map_err(|e| e.to_string())?;
            Err(format!(
                "sma-localstack did not start LocalStack ({status}); see above"
            ))
        }
    }
}
