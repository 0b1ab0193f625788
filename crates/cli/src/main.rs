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
    /// Render CloudFormation, IAM policy and ESO manifests for each access (exit 0
    /// written; 1 when the rendered files grant more than the configuration says, 2 on
    /// error: nothing written in either case).
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
    #[command(after_long_help = SIMULATE_CASES)]
    Simulate(simulate::SimulateArgs),
    /// Serve the IAM-enforcing gateway in front of LocalStack.
    Gateway(gateway::GatewayArgs),
}

/// `sma simulate --help`: what a case holds and what comes out (the engine's own
/// description, `iam::simulate`).
const SIMULATE_CASES: &str = "\
A case (one JSON object per line):
  id                    string (required)
  principal             the caller's ARN, or an OIDC provider ARN or accounts.google.com
                        for a web-identity caller (required)
  action                service:Action (required)
  resource              an ARN, or * (required)
  role_arn              the role of an assumed-role session
  resource_account      the account owning the resource
  unique_id             the caller's user or role id (aws:userid)
  context               {key: string | [string]}
  principal_tags        {key: string}
  web_identity          the token's claims: {sub, aud, azp?, amr?}
  identity_policies     [policy]
  resource_policy       policy (also permissions_boundary, session_policy)
  scps, rcps            [[policy]]: one list per organization level
A policy is a JSON object, or a string holding one. Unknown fields are refused.

Out, one line per case: {id, decision: Allow | ExplicitDeny | ImplicitDeny, reasons,
statements, policy_kind?, error_code?, message?}, or {id, error} for a bad case (the
other cases still run; the exit code is 0 unless reading or writing fails).
";

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
        Command::Check(args) => return check::run(*args).unwrap_or_else(|e| failed(&e)),
        Command::Generate(args) => return generate::run(*args).unwrap_or_else(|e| failed(&e)),
        Command::Simulate(args) => simulate::run(args),
        Command::Gateway(args) => gateway::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => failed(&e),
    }
}

/// Prints `error` with its causes and returns exit code 2 (a configuration or tool
/// error; 1 is kept for findings, leaks and broken reads).
fn failed(error: &anyhow::Error) -> ExitCode {
    eprintln!("error: {}", error_chain(error));
    ExitCode::from(2)
}

/// `error: cause: cause…`, leaving out a cause whose text the message before it
/// already ends with (many errors quote their source in their own message).
fn error_chain(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let cause = cause.to_string();
        if !text.ends_with(&cause) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&cause);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::error_chain;

    #[test]
    fn a_cause_already_quoted_is_not_repeated() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let quoted = anyhow::Error::new(io).context("cannot read c.yaml: No such file");
        assert_eq!(error_chain(&quoted), "cannot read c.yaml: No such file");
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let wrapped = anyhow::Error::new(io).context("cannot read c.yaml");
        assert_eq!(error_chain(&wrapped), "cannot read c.yaml: No such file");
    }
}
