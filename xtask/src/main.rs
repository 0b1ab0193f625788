//! The project's build system, run as `cargo xtask <task>` (alias in
//! `.cargo/config.toml`). One module per task; only std and our own crates.

mod bench;
mod fuzz;
mod gen;
mod localstack_cmd;
mod localstack_image;
mod prove;
mod run;
mod test;
mod tidy;

use std::process::ExitCode;

const USAGE: &str = "\
cargo xtask <task>

tasks:
  test [--tags EXPR] [--keep-localstack]
                     build, unit tests, golden templates check, cfn-lint, then the
                     Gherkin scenarios against one LocalStack for the whole run
  localstack up|down|status
                     a LocalStack that outlives the command, for working by hand
  localstack image [--force]
                     a local LocalStack image for the Docker backend (sma/localstack-core)
                     when the official one cannot be pulled: debootstrap + the pinned
                     lock, docker import; cached by the lock's hash (root, debootstrap)
  prove              sma prove on every example, shards merged, report.html in Chromium
  check              sma check on every example and on the broken artifacts
  mutants            break the generator in many ways; sma prove must refuse each
  gen [--check]      render examples/*.yaml into their checked-in output
                     (--check: fail when the output drifts)
  bench [prove]      criterion benchmarks (policy engine, gateway), then sma prove at
                     scale (20 accesses, ~1000 secrets) against an example (prove: only that)
  fuzz [TARGET] [--seconds N]
                     run a fuzz target for a bounded time (default policy_parse, 60 s)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((task, rest)) = args.split_first() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = match task.as_str() {
        "test" => test::run(rest),
        "localstack" => localstack_cmd::run(rest),
        "gen" => match rest {
            [] => gen::run(false),
            [flag] if flag == "--check" => gen::run(true),
            _ => Err(format!("usage: cargo xtask gen [--check]; got {rest:?}")),
        },
        "bench" => bench::run(rest),
        "mutants" => prove::mutants(),
        "prove" => prove::examples(),
        "check" => prove::check(),
        "fuzz" => fuzz_args(rest).and_then(|(target, seconds)| fuzz::run(&target, seconds)),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown task {other:?}\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn fuzz_args(args: &[String]) -> Result<(String, u64), String> {
    let mut target = "policy_parse".to_string();
    let mut seconds = 60;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                seconds = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--seconds needs a number of seconds")?
            }
            name if !name.starts_with('-') => target = name.to_string(),
            other => return Err(format!("unknown fuzz flag {other}")),
        }
    }
    Ok((target, seconds))
}
