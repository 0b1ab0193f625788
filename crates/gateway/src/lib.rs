//! The IAM-enforcing gateway in front of LocalStack.
//!
//! Free LocalStack never denies anything. This crate is a reverse proxy that
//! authenticates every request exactly as AWS does (SigV4 in header or query form, STS
//! session tokens, OIDC web-identity tokens), decides it with the [`iam`] policy engine
//! from the policies it reads from LocalStack (as the owning account's root user), and
//! answers denials exactly as AWS does for the protocol, so SDKs raise the same errors.
//!
//! ```no_run
//! # async fn demo() -> Result<(), gateway::GatewayError> {
//! let config = gateway::Config::new("http://127.0.0.1:4566", "127.0.0.1:0".parse().unwrap());
//! let running = gateway::Gateway::start(config).await?;
//! println!("point the SDK at {}", running.endpoint());
//! running.handle().register_user_key("123456789012", "ci-user", "AKIA...", "secret");
//! running.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Layout: the wire formats (SigV4, JWT/JWKS, XML, encodings, dates, ARNs) live in
//! the pure [`aws_wire`] crate. Here, `serve` routes `/_sma/*` to `admin` and the rest
//! to `proxy` (the pipeline: read, authenticate, dispatch, relay or answer, log). The
//! services' dispatches (`sts/`, `secretsmanager/`) decide a `step::Step` and never
//! speak HTTP; they read through `directory` (cached IAM/secret/key state) and decide
//! through `authorize` (callers and `iam` decisions). `credentials` (who signed),
//! `issuers` (trusted OIDC key sets), `errors` (AWS error shapes), `decision_log`
//! (JSON Lines), `state` (what every connection shares).
#![warn(missing_docs)]

mod admin;
mod authorize;
mod credentials;
mod decision_log;
mod directory;
mod errors;
mod issuers;
mod proxy;
mod request_id;
mod secretsmanager;
mod state;
mod step;
mod sts;
mod upstream;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use aws_wire::jwt::Jwks;
use aws_wire::time;
pub use credentials::RootCredentials;
pub use decision_log::DecisionRecord;
use state::{KeyRegistration, Replace, RoleSessionRegistration, Shared};
pub use upstream::{Upstream, UpstreamError};

/// Default request body limit (AWS Secrets Manager values are ≤ 64 KiB; CloudFormation
/// template bodies ≤ 51,200 bytes): 8 MiB.
pub const DEFAULT_MAX_BODY: usize = 8 * 1024 * 1024;

/// Configuration of a gateway.
#[derive(Debug, Clone)]
pub struct Config {
    /// LocalStack's endpoint, e.g. `http://127.0.0.1:4566`.
    pub upstream: String,
    /// Where to listen (port 0: any free port; see [`RunningGateway::local_addr`]).
    pub listen: SocketAddr,
    /// OIDC issuers and their key sets (`iss` URL → JWKS), never fetched.
    pub oidc_issuers: Vec<(String, Jwks)>,
    /// Append decisions to this JSON Lines file.
    pub decision_log: Option<PathBuf>,
    /// How root credentials are recognised.
    pub root: RootCredentials,
    /// Largest request body accepted (larger: HTTP 413).
    pub max_body_bytes: usize,
    /// How long IAM/secret/key state read from LocalStack may be reused.
    ///
    /// `None` (the default): until the gateway relays a request that may change state
    /// (any write to IAM, Secrets Manager or KMS, any CloudFormation call, any admin
    /// registration), which invalidates everything before its answer reaches the
    /// caller. This is exact for every change made through the gateway, including
    /// CloudFormation stacks polled through it. `Some(bound)` additionally re-reads
    /// entries older than `bound`, for state changed directly on LocalStack behind the
    /// gateway's back (`Some(Duration::ZERO)`: read everything on every request). Such
    /// changes can also be announced with `POST /_sma/cache/invalidate`.
    ///
    /// Why not re-read by default: one re-read of a caller is about nine IAM and
    /// Secrets Manager calls, which cost LocalStack's single Python core more than the
    /// request itself (the `gateway_vs_direct` benchmark lost ~10% throughput to a 1 s
    /// bound).
    pub policy_cache_max_age: Option<Duration>,
    /// Timeout of each call to LocalStack.
    pub upstream_timeout: Duration,
    /// Whether `/_sma/*` admin endpoints (other than health) are served.
    pub admin_api: bool,
}

impl Config {
    /// Defaults: LocalStack's root convention, no issuer, no log file, 8 MiB bodies,
    /// a cache invalidated by changes relayed through the gateway (no age bound), 30 s
    /// upstream timeout, admin API on.
    pub fn new(upstream: impl Into<String>, listen: SocketAddr) -> Self {
        Self {
            upstream: upstream.into(),
            listen,
            oidc_issuers: Vec::new(),
            decision_log: None,
            root: RootCredentials::default(),
            max_body_bytes: DEFAULT_MAX_BODY,
            policy_cache_max_age: None,
            upstream_timeout: Duration::from_secs(30),
            admin_api: true,
        }
    }

    /// Adds an OIDC issuer with its key set.
    pub fn with_oidc_issuer(mut self, issuer: impl Into<String>, jwks: Jwks) -> Self {
        self.oidc_issuers.push((issuer.into(), jwks));
        self
    }

    /// Sets the decision log file.
    pub fn with_decision_log(mut self, path: impl Into<PathBuf>) -> Self {
        self.decision_log = Some(path.into());
        self
    }
}

/// A configuration or start-up error.
#[derive(Debug, Error)]
pub enum GatewayError {
    /// `--oidc-issuer` argument malformed.
    #[error("invalid --oidc-issuer '{0}': expected ISSUER_URL=JWKS_FILE")]
    IssuerArg(String),
    /// JWKS file unreadable or invalid.
    #[error("JWKS for {issuer}: {message}")]
    Jwks {
        /// Issuer.
        issuer: String,
        /// What went wrong.
        message: String,
    },
    /// Bad upstream URL.
    #[error(transparent)]
    Upstream(#[from] upstream::UpstreamError),
    /// Binding or file I/O failed.
    #[error("{context}: {source}")]
    Io {
        /// What was attempted.
        context: String,
        /// The error.
        source: std::io::Error,
    },
}

/// Parses `ISSUER_URL=JWKS_FILE` (the CLI's `--oidc-issuer`) and reads the file.
pub fn parse_oidc_issuer_arg(arg: &str) -> Result<(String, Jwks), GatewayError> {
    let (issuer, file) = arg
        .split_once('=')
        .ok_or_else(|| GatewayError::IssuerArg(arg.to_string()))?;
    if !issuer.starts_with("https://") || file.is_empty() {
        return Err(GatewayError::IssuerArg(arg.to_string()));
    }
    Ok((issuer.to_string(), read_jwks_file(issuer, Path::new(file))?))
}

/// Reads a JWKS file for `issuer`.
pub fn read_jwks_file(issuer: &str, path: &Path) -> Result<Jwks, GatewayError> {
    let text = std::fs::read_to_string(path).map_err(|e| GatewayError::Jwks {
        issuer: issuer.into(),
        message: format!("{}: {e}", path.display()),
    })?;
    Jwks::parse(&text).map_err(|e| GatewayError::Jwks {
        issuer: issuer.into(),
        message: e.to_string(),
    })
}

/// Starts gateways.
#[derive(Debug)]
pub struct Gateway;

/// A handle to a running gateway's state: register keys and issuers, invalidate the
/// cache, read decisions. Cheap to clone.
#[derive(Clone)]
pub struct GatewayHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for GatewayHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayHandle").finish_non_exhaustive()
    }
}

impl GatewayHandle {
    /// Registers an IAM user's access key (e.g. one a CloudFormation stack created
    /// inside LocalStack, whose secret never passed through the gateway), replacing a
    /// key of the same id.
    pub fn register_user_key(
        &self,
        account_id: &str,
        user_name: &str,
        access_key_id: &str,
        secret_access_key: &str,
    ) {
        self.shared.register_user_key(
            KeyRegistration {
                access_key_id: access_key_id.to_string(),
                secret_access_key: secret_access_key.into(),
                account_id: account_id.to_string(),
                user_name: user_name.to_string(),
            },
            Replace::Allowed,
        );
    }

    /// Registers role-session credentials issued outside the gateway (the session's
    /// role, name and expiry are remembered as for `AssumeRole`). The session is pinned
    /// to the role's current unique id, so it gets nothing from a role recreated later
    /// under the same name. Fails when the role cannot be read.
    pub async fn register_role_session(
        &self,
        role_arn: &str,
        session_name: &str,
        access_key_id: &str,
        secret_access_key: &str,
        session_token: &str,
        expires_at: i64,
    ) -> Result<(), String> {
        self.shared
            .register_role_session(RoleSessionRegistration {
                role_arn,
                session_name,
                access_key_id,
                secret_access_key: secret_access_key.into(),
                session_token: session_token.into(),
                expires_at,
            })
            .await
    }

    /// Forgets a key; requests signed with it fail at once.
    pub fn remove_key(&self, access_key_id: &str) -> bool {
        self.shared.remove_key(access_key_id)
    }

    /// Sets (or replaces) an OIDC issuer's key set.
    pub fn register_oidc_issuer(&self, issuer: &str, jwks: Jwks) {
        self.shared.register_issuer(issuer, jwks, Replace::Allowed);
    }

    /// Forgets cached IAM/secret/key state: the next request reads LocalStack again.
    pub fn invalidate_cache(&self) {
        self.shared.invalidate_cache();
    }

    /// The decisions kept in memory (the last 100,000), oldest first.
    pub fn decisions(&self) -> Vec<DecisionRecord> {
        self.shared.log.recent()
    }

    /// The decisions kept in memory for which `wanted` holds, oldest first (copies
    /// only those: a large proof keeps tens of thousands).
    pub fn decisions_matching(
        &self,
        wanted: impl Fn(&DecisionRecord) -> bool,
    ) -> Vec<DecisionRecord> {
        self.shared.log.recent_matching(wanted)
    }
}

/// A gateway serving in the background.
pub struct RunningGateway {
    local_addr: SocketAddr,
    handle: GatewayHandle,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for RunningGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningGateway")
            .field("local_addr", &self.local_addr)
            .finish()
    }
}

impl RunningGateway {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://ADDR` to give SDK clients as endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// The state handle.
    pub fn handle(&self) -> GatewayHandle {
        self.handle.clone()
    }

    /// Stops accepting, lets requests in flight finish (up to 5 s), then returns.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(5), self.task).await;
    }

    /// Waits until the gateway stops (it stops only through [`RunningGateway::shutdown`]
    /// from another handle or when the runtime ends).
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

impl Gateway {
    /// Binds, then serves in a background task.
    pub async fn start(config: Config) -> Result<RunningGateway, GatewayError> {
        let upstream = upstream::Upstream::new(
            &config.upstream,
            config.root.secret.expose(),
            config.upstream_timeout,
        )?;
        let log = decision_log::DecisionLog::open(config.decision_log.clone())
            .await
            .map_err(|e| GatewayError::Io {
                context: "opening the decision log".into(),
                source: e,
            })?;
        let issuers = issuers::IssuerRegistry::new();
        for (iss, jwks) in &config.oidc_issuers {
            issuers.insert(iss, jwks.clone());
        }
        let shared = Arc::new(Shared {
            creds: credentials::CredentialStore::new(config.root.clone()),
            issuers,
            dir: directory::Directory::new(upstream.clone(), config.policy_cache_max_age),
            upstream,
            log,
            policies: authorize::PolicyCache::default(),
            max_body: config.max_body_bytes,
            admin_api: config.admin_api,
        });
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| GatewayError::Io {
                context: format!("binding {}", config.listen),
                source: e,
            })?;
        let local_addr = listener.local_addr().map_err(|e| GatewayError::Io {
            context: "reading the bound address".into(),
            source: e,
        })?;
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(serve(listener, shared.clone(), stop_rx));
        Ok(RunningGateway {
            local_addr,
            handle: GatewayHandle { shared },
            stop,
            task,
        })
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut connections = tokio::task::JoinSet::new();
    let mut purge = tokio::time::interval(Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = purge.tick() => shared.creds.purge_expired(time::unix_now()),
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                let mut stop = stop.clone();
                connections.spawn(async move {
                    let svc = service_fn(move |req| route(shared.clone(), req, peer));
                    let conn = http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), svc);
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = stop.changed() => {
                            conn.as_mut().graceful_shutdown();
                            let _ = conn.await;
                        }
                    }
                });
                while connections.try_join_next().is_some() {}
            }
        }
    }
    while connections.join_next().await.is_some() {}
}

/// Sends `/_sma/*` to the admin API, everything else through the proxy.
async fn route(
    shared: Arc<Shared>,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Result<Response<errors::Body>, std::convert::Infallible> {
    if req.uri().path().starts_with("/_sma/") {
        let (parts, body) = req.into_parts();
        return Ok(admin::handle(&shared, &parts.method, parts.uri.path(), peer, body).await);
    }
    proxy::handle(shared, req, peer).await
}

/// Runs a gateway until Ctrl-C (what `sma gateway` calls).
pub async fn run(config: Config) -> Result<(), GatewayError> {
    let running = Gateway::start(config).await?;
    eprintln!("sma gateway listening on {}", running.endpoint());
    let _ = tokio::signal::ctrl_c().await;
    running.shutdown().await;
    Ok(())
}
