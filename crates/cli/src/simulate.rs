//! `sma simulate [FILE]`: the policy engine on JSON Lines cases (see `iam::simulate`).

use anyhow::Context as _;
use std::io::BufReader;
use std::path::PathBuf;

/// Flags of `sma simulate`.
#[derive(clap::Args)]
pub struct SimulateArgs {
    /// A JSON Lines file of cases; standard input when absent.
    file: Option<PathBuf>,
}

/// Reads the cases and writes one decision per line to standard output.
pub fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let stdout = std::io::stdout().lock();
    match args.file {
        Some(path) => {
            let file = std::fs::File::open(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            iam::simulate::run(BufReader::new(file), stdout)
        }
        None => iam::simulate::run(std::io::stdin().lock(), stdout),
    }
    .context("reading the cases or writing the decisions")
}
