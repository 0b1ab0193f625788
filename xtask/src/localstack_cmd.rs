//! `cargo xtask localstack up|down|status`: a LocalStack for working by hand.

use localstack::{detached, health, paths};

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
        _ => Err("usage: cargo xtask localstack up|down|status".into()),
    }
}
