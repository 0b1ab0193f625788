//! `sma`: generate and prove the templates that connect Kubernetes clusters to AWS
//! Secrets Manager through the External Secrets Operator.
//!
//! This binary is thin: every subcommand parses its flags and calls a library crate.

mod access_flags;
mod check;
mod gateway;
mod generate;
mod prove;
mod simulate;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Secret Manager Access: generate and prove ESO access to AWS Secrets Manager.
#[derive(Parser)]
#[command(name = "sma", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Render CloudFormation, IAM policy and ESO manifests for each access.
    Generate(Box<generate::GenerateArgs>),
    /// Prove a configuration on LocalStack: ESO reads exactly what each access intends.
    Prove(Box<prove::ProveArgs>),
    /// Merge the reports of `sma prove --shard` runs.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Prove offline, for every possible secret name, that each access reads nothing
    /// outside its intent and its role trusts only ESO (exit 0 clean, 1 findings, 2 error).
    Check(Box<check::CheckArgs>),
    /// Evaluate authorization cases (JSON Lines in, one JSON line out per case).
    Simulate(simulate::SimulateArgs),
    /// Serve the IAM-enforcing gateway in front of LocalStack.
    Gateway(gateway::GatewayArgs),
}

#[derive(Subcommand)]
enum ReportCommand {
    /// Merge shards' report.json into one report.
    Merge(prove::MergeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Prove(args) => return prove::run(*args),
        Command::Report(ReportCommand::Merge(args)) => return prove::merge(args),
        Command::Check(args) => {
            return check::run(*args).unwrap_or_else(|error| {
                eprintln!("error: {error:#}");
                ExitCode::from(2)
            })
        }
        Command::Generate(args) => generate::run(*args),
        Command::Simulate(args) => simulate::run(args),
        Command::Gateway(args) => gateway::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
