//! The errors of handing out a LocalStack endpoint: one enum, each variant saying what
//! to do about it.

use std::path::PathBuf;

/// Why no LocalStack endpoint could be handed out.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// None of the three backends is possible on this machine.
    #[error(
        "no way to run LocalStack on this machine. sma tries, in order:\n\
         \x20 1. an external endpoint: set SMA_LOCALSTACK_ENDPOINT=http://host:port (not set);\n\
         \x20 2. Docker: a running Docker daemon ({docker});\n\
         \x20 3. host mode: Python >= 3.12 ({python}).\n\
         Fix: install Python 3.12 or newer (your distribution's python3.12/python3.13 package, \
         python.org, or `pyenv install 3.13`) or point SMA_PYTHON at such an interpreter; \
         or start a Docker daemon; or export SMA_LOCALSTACK_ENDPOINT."
    )]
    NoBackend {
        /// What the Docker ping found.
        docker: String,
        /// Which interpreters were tried and why each was rejected.
        python: String,
    },
    /// The endpoint did not become healthy in time.
    #[error("LocalStack at {endpoint} is not healthy after {seconds}s: {last}")]
    NotReady {
        /// The endpoint polled.
        endpoint: String,
        /// How long we waited.
        seconds: u64,
        /// The last failure seen.
        last: String,
    },
    /// The host-mode venv could not be built.
    #[error("could not build the LocalStack venv ({step}): {reason}\n  log: {log}")]
    Venv {
        /// The step that failed.
        step: &'static str,
        /// The failure.
        reason: String,
        /// Where the full output is.
        log: PathBuf,
    },
    /// The host process died or never became healthy.
    #[error("LocalStack (host mode) did not start: {reason}\n  log: {log}\n--- last lines ---\n{log_tail}")]
    HostStart {
        /// The failure.
        reason: String,
        /// Its log file.
        log: PathBuf,
        /// The end of that log.
        log_tail: String,
    },
    /// The daemon answered but could not run LocalStack (no image and no registry,
    /// a failed start), and there is no Python >= 3.12 to fall back on.
    #[error(
        "a Docker daemon answers but cannot run LocalStack: {reason}\n\
         No Python >= 3.12 for host mode either ({python}). Ways out:\n\
         \x20 - SMA_LOCALSTACK_IMAGE=<a LocalStack image this daemon has> (or build one here: \
         `cargo xtask localstack image`, as root with debootstrap);\n\
         \x20 - SMA_LOCALSTACK_NO_DOCKER=1 with Python >= 3.12 installed (or SMA_PYTHON naming it): \
         host mode;\n\
         \x20 - SMA_LOCALSTACK_ENDPOINT=http://host:port of a LocalStack already running."
    )]
    DockerUnusable {
        /// What went wrong with Docker.
        reason: String,
        /// Which interpreters were tried and why each was rejected.
        python: String,
    },
    /// Filesystem or process error.
    #[error("{context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// The OS error.
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let context = context.into();
        move |source| Error::Io { context, source }
    }
}
