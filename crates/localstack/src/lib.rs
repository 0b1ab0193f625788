//! Hands tests a LocalStack endpoint.
//!
//! [`start`] picks the first backend that applies and says which one it picked:
//!
//! 1. **External**: `SMA_LOCALSTACK_ENDPOINT` (or `LOCALSTACK_ENDPOINT`) is set. Its
//!    health is checked; it is never stopped by us.
//! 2. **Docker**: a Docker daemon answers a ping (`DOCKER_HOST`, else the default
//!    socket). A pinned LocalStack image ([`docker`]: `SMA_LOCALSTACK_IMAGE`, else
//!    [`DEFAULT_IMAGE`] when present, else the local build of `cargo xtask localstack
//!    image`) runs on the host's network on a free loopback port, through our own Engine
//!    API client ([`docker_api`]); `LOCALSTACK_AUTH_TOKEN` is passed through when set.
//!    When the daemon cannot run it, host mode is used instead (one line says why).
//! 3. **Host**: a Python >= 3.12 is found ([`python`]); a venv built from the pinned lock
//!    ([`venv`]) runs `localstack-core` as a process on a free loopback port
//!    ([`host`]). The process group is stopped when the [`LocalStack`] is dropped, on
//!    Ctrl-C / SIGTERM ([`cleanup`]), and by the kernel when our process dies.
//!
//! When none applies, [`Error::NoBackend`] names the three ways and what this machine
//! lacks for each.

#![warn(missing_docs)]

pub mod cleanup;
pub mod detached;
pub mod docker;
pub mod docker_api;
mod error;
pub mod health;
pub mod host;
pub mod paths;
pub mod python;
pub mod venv;

pub use error::Error;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The last LocalStack image published under the free licence; newer tags refuse to
/// start without an auth token (see `../shared/docs/localstack.md`).
pub const DEFAULT_IMAGE: &str = "localstack/localstack:4.14.0";

/// The services every sma scenario needs; LocalStack starts only these.
pub const SERVICES: &str = "iam,sts,secretsmanager,cloudformation,kms";

/// How long a backend may take to answer its health check.
pub const READY_DEADLINE: Duration = Duration::from_secs(120);

/// Environment variables that name an already running LocalStack, in priority order.
pub const ENDPOINT_VARS: [&str; 2] = ["SMA_LOCALSTACK_ENDPOINT", "LOCALSTACK_ENDPOINT"];

/// Which way the endpoint was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An endpoint named by the environment; never stopped by us.
    External,
    /// A container on the host's network, started through the Docker Engine API.
    Docker,
    /// A `localstack-core` process started from the cached venv.
    Host,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::External => "external endpoint",
            Backend::Docker => "docker (container on the host network)",
            Backend::Host => "host process (localstack-core in a venv)",
        })
    }
}

/// A running (or attached) LocalStack. Dropping it stops what we started.
pub struct LocalStack {
    endpoint: String,
    backend: Backend,
    startup: Duration,
    detail: String,
    // Held for its Drop: stops the process group or the container.
    _owned: Owned,
}

// The payloads are held only for their Drop, which stops what we started.
#[allow(dead_code)]
enum Owned {
    Nothing,
    Host(host::HostProcess),
    Docker(Box<docker::Container>),
}

impl LocalStack {
    /// The base URL, e.g. `http://127.0.0.1:45123`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Which backend provides it.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Time from the call to [`start`] until the health check passed.
    pub fn startup(&self) -> Duration {
        self.startup
    }

    /// A human line: backend, endpoint, start-up time and details (log file, image).
    pub fn describe(&self) -> String {
        format!(
            "LocalStack: {} at {} (ready in {:.1}s{})",
            self.backend,
            self.endpoint,
            self.startup.as_secs_f64(),
            if self.detail.is_empty() {
                String::new()
            } else {
                format!("; {}", self.detail)
            }
        )
    }

    /// One line for a run's summary: the backend and its details (image or Python,
    /// and why Docker was not used when a daemon answered).
    pub fn summary(&self) -> String {
        format!("{} ({})", self.backend, self.detail)
    }

    /// Stops what we started and waits for it to be gone. Dropping does the same.
    pub fn stop(self) {
        drop(self)
    }
}

/// Knobs for [`start`]; [`Options::from_env`] reads them from the environment.
#[derive(Debug, Clone)]
pub struct Options {
    /// An endpoint to attach to instead of starting anything.
    pub external_endpoint: Option<String>,
    /// The image for the Docker backend (`SMA_LOCALSTACK_IMAGE`); `None` chooses
    /// (see [`docker`]).
    pub image: Option<String>,
    /// Skip the Docker backend even when a daemon answers (`SMA_LOCALSTACK_NO_DOCKER=1`).
    pub skip_docker: bool,
    /// Where the host process writes its log and state (default `target/localstack`).
    pub work_dir: std::path::PathBuf,
}

impl Options {
    /// Reads `SMA_LOCALSTACK_ENDPOINT`/`LOCALSTACK_ENDPOINT`, `SMA_LOCALSTACK_IMAGE` and
    /// `SMA_LOCALSTACK_NO_DOCKER`.
    pub fn from_env() -> Options {
        let external_endpoint = ENDPOINT_VARS
            .iter()
            .find_map(|var| std::env::var(var).ok().filter(|v| !v.trim().is_empty()))
            .map(|v| v.trim().trim_end_matches('/').to_string());
        Options {
            external_endpoint,
            image: std::env::var("SMA_LOCALSTACK_IMAGE")
                .ok()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty()),
            skip_docker: std::env::var("SMA_LOCALSTACK_NO_DOCKER").is_ok_and(|v| v == "1"),
            work_dir: paths::target_dir().join("localstack"),
        }
    }
}

/// Starts or attaches to LocalStack, printing on stderr which backend was picked and
/// how long start-up took.
///
/// A daemon that answers but cannot run LocalStack (no image and no registry, a failed
/// start) never sinks the run when host mode is possible: one line says why Docker
/// was left, and host mode starts. Without Python >= 3.12 the error names the three
/// ways out ([`Error::DockerUnusable`]).
pub fn start(options: &Options) -> Result<LocalStack, Error> {
    let began = Instant::now();
    if let Some(endpoint) = &options.external_endpoint {
        health::wait_ready(endpoint, Duration::from_secs(30))?;
        return Ok(announce(LocalStack {
            endpoint: endpoint.clone(),
            backend: Backend::External,
            startup: began.elapsed(),
            detail: "from the environment; left running".into(),
            _owned: Owned::Nothing,
        }));
    }

    let docker_status = if options.skip_docker {
        Err("skipped (SMA_LOCALSTACK_NO_DOCKER=1)".to_string())
    } else {
        docker::ping()
    };
    let docker_status: Result<(), String> = match docker_status {
        Ok(()) => match docker::Container::start(options.image.as_deref()) {
            Ok(container) => {
                return Ok(announce(LocalStack {
                    endpoint: container.endpoint().to_string(),
                    backend: Backend::Docker,
                    startup: began.elapsed(),
                    detail: container.describe(),
                    _owned: Owned::Docker(Box::new(container)),
                }))
            }
            Err(reason) => {
                let interpreter = python::find()
                    .map_err(|searched| docker::no_fallback(reason.clone(), searched))?;
                eprintln!(
                    "LocalStack: Docker answers but cannot run LocalStack ({}); falling back to host mode (Python {})",
                    reason.lines().next().unwrap_or(""),
                    interpreter.version
                );
                if reason.lines().count() > 1 {
                    eprintln!("{reason}");
                }
                Err(reason)
            }
        },
        Err(e) => Err(e),
    };

    let interpreter = match python::find() {
        Ok(found) => found,
        Err(searched) => {
            return Err(Error::NoBackend {
                docker: docker_status.unwrap_err(),
                python: searched,
            })
        }
    };
    let venv = venv::ensure(&interpreter, &options.work_dir)?;
    let process = host::HostProcess::spawn(&venv, &options.work_dir, host::Lifetime::Owned)?;
    let endpoint = process.endpoint().to_string();
    if let Err(err) = health::wait_ready_while(&endpoint, READY_DEADLINE, || process.is_alive()) {
        return Err(Error::HostStart {
            reason: err.to_string(),
            log: process.log_path().to_path_buf(),
            log_tail: process.log_tail(30),
        });
    }
    let mut detail = format!(
        "python {}, log {}",
        interpreter.version,
        process.log_path().display()
    );
    if let Err(docker) = &docker_status {
        if !docker.starts_with("no daemon") {
            detail.push_str(&format!(
                "; Docker not used: {}",
                docker.lines().next().unwrap_or("")
            ));
        }
    }
    Ok(announce(LocalStack {
        endpoint,
        backend: Backend::Host,
        startup: began.elapsed(),
        detail,
        _owned: Owned::Host(process),
    }))
}

fn announce(localstack: LocalStack) -> LocalStack {
    eprintln!("{}", localstack.describe());
    localstack
}

/// The endpoint of a LocalStack shared by every test of this process.
///
/// Uses `SMA_LOCALSTACK_ENDPOINT` when set (as `cargo xtask test` does), otherwise
/// starts one on first use; it lives until the process exits (the kernel then stops
/// it). Panics with the backend error, which is what a test wants.
pub fn test_endpoint() -> String {
    static SHARED: OnceLock<Result<LocalStack, String>> = OnceLock::new();
    let shared = SHARED.get_or_init(|| {
        cleanup::install_signal_handlers();
        start(&Options::from_env()).map_err(|e| e.to_string())
    });
    match shared {
        Ok(localstack) => localstack.endpoint().to_string(),
        Err(message) => panic!("no LocalStack for the tests: {message}"),
    }
}
