//! `sma gateway`: the IAM-enforcing gateway in front of LocalStack, until Ctrl-C.

use anyhow::Context as _;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Flags of `sma gateway`.
#[derive(clap::Args)]
pub struct GatewayArgs {
    /// LocalStack's endpoint, e.g. http://127.0.0.1:4566.
    #[arg(long)]
    upstream: String,
    /// Loopback address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:4567")]
    listen: SocketAddr,
    /// A trusted OIDC issuer and the file holding its JWKS (never fetched), as
    /// ISSUER_URL=JWKS_FILE. Repeatable.
    #[arg(long = "oidc-issuer", value_name = "ISSUER_URL=JWKS_FILE")]
    oidc_issuers: Vec<String>,
    /// Append every authorization decision to this JSON Lines file.
    #[arg(long, value_name = "FILE")]
    decision_log: Option<PathBuf>,
    /// Re-read IAM, secret and key state older than this many milliseconds (0: on
    /// every request). Only needed when something changes LocalStack directly, not
    /// through the gateway; without it, every change relayed by the gateway (including
    /// CloudFormation deployments polled through it) is seen by the next request, and
    /// `POST /_sma/cache/invalidate` announces other changes.
    #[arg(long, value_name = "MS")]
    policy_cache_max_age_ms: Option<u64>,
}

/// Starts the gateway and serves until Ctrl-C.
pub fn run(args: GatewayArgs) -> anyhow::Result<()> {
    let mut config = gateway::Config::new(args.upstream, args.listen);
    for arg in &args.oidc_issuers {
        let (issuer, jwks) = gateway::parse_oidc_issuer_arg(arg)?;
        config = config.with_oidc_issuer(issuer, jwks);
    }
    if let Some(path) = args.decision_log {
        config = config.with_decision_log(path);
    }
    config.policy_cache_max_age = args
        .policy_cache_max_age_ms
        .map(std::time::Duration::from_millis);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(gateway::run(config))?;
    Ok(())
}
