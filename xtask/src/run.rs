//! Running commands and timing the steps of a task.

use std::process::Command;
use std::time::{Duration, Instant};

/// Runs `command`, inheriting stdio; `Err` names the command when it fails.
pub(crate) fn status(command: &mut Command) -> Result<(), String> {
    let shown = format!("{command:?}");
    let status = command
        .status()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

/// `cargo` as invoked by the user (the `CARGO` variable cargo sets for us).
pub(crate) fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// One timed step of a task, for the closing summary.
pub(crate) struct Step {
    pub(crate) name: String,
    pub(crate) took: Duration,
    pub(crate) outcome: Result<(), String>,
}

/// Collects steps; stops running new ones after the first failure unless told to.
#[derive(Default)]
pub(crate) struct Steps {
    steps: Vec<Step>,
    notes: Vec<String>,
}

impl Steps {
    /// Runs and records one step, printing a header so logs are easy to scan.
    pub(crate) fn run(&mut self, name: &str, step: impl FnOnce() -> Result<(), String>) -> bool {
        eprintln!("\n==> {name}");
        let began = Instant::now();
        let outcome = step();
        let took = began.elapsed();
        match &outcome {
            Ok(()) => eprintln!("<== {name}: ok ({:.1}s)", took.as_secs_f64()),
            Err(e) => eprintln!("<== {name}: FAILED ({:.1}s): {e}", took.as_secs_f64()),
        }
        let ok = outcome.is_ok();
        self.steps.push(Step {
            name: name.to_string(),
            took,
            outcome,
        });
        ok
    }

    /// A line for the summary (e.g. which LocalStack backend ran the scenarios).
    pub(crate) fn note(&mut self, line: String) {
        self.notes.push(line);
    }

    /// Prints the table and the closing count line; `Err` when any step failed.
    pub(crate) fn finish(self, total: Duration) -> Result<(), String> {
        println!("\nSummary");
        for step in &self.steps {
            let verdict = match &step.outcome {
                Ok(()) => "ok".to_string(),
                Err(e) => format!("FAILED: {}", e.lines().next().unwrap_or("")),
            };
            println!(
                "  {:<44} {:>7.1}s  {verdict}",
                step.name,
                step.took.as_secs_f64()
            );
        }
        for note in &self.notes {
            println!("  {note}");
        }
        let failed = self.steps.iter().filter(|s| s.outcome.is_err()).count();
        let passed = self.steps.len() - failed;
        println!("  total {:.1}s", total.as_secs_f64());
        println!("steps: {passed} passed, {failed} failed");
        if failed == 0 {
            Ok(())
        } else {
            Err(format!("{failed} step(s) failed"))
        }
    }
}
