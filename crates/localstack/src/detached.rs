//! A LocalStack that outlives the command that started it, for working by hand
//! (`cargo xtask localstack up|down|status`, `cargo xtask test --keep-localstack`).
//!
//! Its endpoint and process group are written to `<work_dir>/detached.state`.

use crate::host::{HostProcess, Lifetime};
use crate::{health, python, venv, Error, READY_DEADLINE};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What `up` recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    /// The process group to stop.
    pub pgid: i32,
    /// The log file.
    pub log: PathBuf,
}

fn state_file(work_dir: &Path) -> PathBuf {
    work_dir.join("detached.state")
}

/// Reads the recorded state, if any.
pub fn read_state(work_dir: &Path) -> Option<State> {
    let text = fs::read_to_string(state_file(work_dir)).ok()?;
    let mut endpoint = None;
    let mut pgid = None;
    let mut log = None;
    for line in text.lines() {
        match line.split_once('=') {
            Some(("endpoint", v)) => endpoint = Some(v.to_string()),
            Some(("pgid", v)) => pgid = v.parse().ok(),
            Some(("log", v)) => log = Some(PathBuf::from(v)),
            _ => {}
        }
    }
    Some(State {
        endpoint: endpoint?,
        pgid: pgid?,
        log: log?,
    })
}

/// Returns the running detached LocalStack, or starts one (host mode).
/// The `bool` says whether it was already running.
pub fn up(work_dir: &Path) -> Result<(State, Duration, bool), Error> {
    let began = Instant::now();
    if let Some(state) = read_state(work_dir) {
        if health::probe(&state.endpoint).is_ok() {
            return Ok((state, began.elapsed(), true));
        }
    }
    let interpreter = python::find().map_err(|searched| Error::NoBackend {
        docker: "not used for a detached LocalStack".into(),
        python: searched,
    })?;
    let venv = venv::ensure(&interpreter, work_dir)?;
    let process = HostProcess::spawn(&venv, work_dir, Lifetime::Detached)?;
    let state = State {
        endpoint: process.endpoint().to_string(),
        pgid: process.pgid(),
        log: process.log_path().to_path_buf(),
    };
    if let Err(err) = health::wait_ready(&state.endpoint, READY_DEADLINE) {
        crate::host::stop_group(state.pgid, Duration::from_secs(5));
        return Err(Error::HostStart {
            reason: err.to_string(),
            log: state.log.clone(),
            log_tail: process.log_tail(30),
        });
    }
    fs::write(
        state_file(work_dir),
        format!(
            "endpoint={}\npgid={}\nlog={}\n",
            state.endpoint,
            state.pgid,
            state.log.display()
        ),
    )
    .map_err(Error::io("writing the detached state file"))?;
    Ok((state, began.elapsed(), false))
}

/// Stops the detached LocalStack; `Ok(None)` when none was recorded.
pub fn down(work_dir: &Path) -> Result<Option<State>, Error> {
    let Some(state) = read_state(work_dir) else {
        return Ok(None);
    };
    crate::host::stop_group(state.pgid, Duration::from_secs(10));
    fs::remove_file(state_file(work_dir)).map_err(Error::io("removing the state file"))?;
    Ok(Some(state))
}
