//! Host mode: `localstack-core` as a process of ours, in its own process group.

use crate::venv::Venv;
use crate::{cleanup, Error, SERVICES};
use std::fs;
use std::io::Read;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Who stops the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// Stopped when the handle drops, on Ctrl-C, and by the kernel if we die.
    Owned,
    /// Outlives us (`cargo xtask localstack up`); stopped by `down`.
    Detached,
}

/// A LocalStack process we started.
pub struct HostProcess {
    endpoint: String,
    pgid: i32,
    log: PathBuf,
    lifetime: Lifetime,
    // Dropping the sender lets the keeper thread end (see `spawn`).
    keeper: Option<mpsc::Sender<()>>,
    child: Option<std::sync::Arc<std::sync::Mutex<Child>>>,
}

impl HostProcess {
    /// Starts LocalStack on a free loopback port; does not wait for health.
    pub fn spawn(venv: &Venv, work_dir: &Path, lifetime: Lifetime) -> Result<Self, Error> {
        fs::create_dir_all(work_dir)
            .map_err(Error::io(format!("creating {}", work_dir.display())))?;
        let port = free_port()?;
        let endpoint = format!("http://127.0.0.1:{port}");
        let log = work_dir.join(format!("localstack-{port}.log"));
        let data_dir = work_dir.join(format!("state-{port}"));
        let _ = fs::remove_dir_all(&data_dir);
        fs::create_dir_all(&data_dir)
            .map_err(Error::io(format!("creating {}", data_dir.display())))?;
        let log_file = fs::File::create(&log)
            .map_err(Error::io(format!("creating the log {}", log.display())))?;
        let log_err = log_file
            .try_clone()
            .map_err(Error::io("duplicating the log handle"))?;

        let mut command = Command::new(venv.python());
        command
            .args(["-m", "localstack.runtime.main"])
            .env("GATEWAY_LISTEN", format!("127.0.0.1:{port}"))
            .env(
                "LOCALSTACK_HOST",
                format!("localhost.localstack.cloud:{port}"),
            )
            .env("SERVICES", SERVICES)
            .env("DISABLE_EVENTS", "1")
            .env("SKIP_SSL_CERT_DOWNLOAD", "1")
            .env("LOCALSTACK_VOLUME_DIR", &data_dir)
            .env("FILESYSTEM_ROOT", &data_dir)
            .env("TMPDIR", &data_dir)
            .env_remove("PYTHONHOME")
            .env_remove("PYTHONPATH")
            .current_dir(&data_dir)
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(log_err);

        let child = match lifetime {
            Lifetime::Detached => {
                // SAFETY: setsid is async-signal-safe; it detaches from our terminal
                // and session so the process outlives this command.
                unsafe {
                    command.pre_exec(|| {
                        if libc::setsid() < 0 {
                            return Err(std::io::Error::last_os_error());
                        }
                        Ok(())
                    });
                }
                let child = command
                    .spawn()
                    .map_err(Error::io("starting python -m localstack.runtime.main"))?;
                let pid = child.id() as i32;
                // The handle is not waited on: the process belongs to `down` now.
                std::mem::forget(child);
                return Ok(HostProcess {
                    endpoint,
                    pgid: pid,
                    log,
                    lifetime,
                    keeper: None,
                    child: None,
                });
            }
            Lifetime::Owned => spawn_from_keeper_thread(command)?,
        };
        let (child, keeper) = child;
        let pgid = child.lock().map(|c| c.id() as i32).unwrap_or(0);
        cleanup::install_signal_handlers();
        cleanup::register(pgid);
        Ok(HostProcess {
            endpoint,
            pgid,
            log,
            lifetime,
            keeper: Some(keeper),
            child: Some(child),
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The process group (= the pid of the Python process).
    pub fn pgid(&self) -> i32 {
        self.pgid
    }

    /// The log file (stdout and stderr).
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// Whether the Python process is still running.
    pub fn is_alive(&self) -> bool {
        match &self.child {
            Some(child) => child
                .lock()
                .map(|mut c| matches!(c.try_wait(), Ok(None)))
                .unwrap_or(false),
            // SAFETY: signal 0 only checks existence.
            None => unsafe { libc::kill(self.pgid, 0) == 0 },
        }
    }

    /// The last `lines` lines of the log.
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.log, lines)
    }
}

impl Drop for HostProcess {
    fn drop(&mut self) {
        if self.lifetime == Lifetime::Detached {
            return;
        }
        stop_group(self.pgid, Duration::from_secs(10));
        if let Some(child) = &self.child {
            if let Ok(mut child) = child.lock() {
                let _ = child.wait();
            }
        }
        cleanup::unregister(self.pgid);
        self.keeper.take();
    }
}

type KeptChild = (std::sync::Arc<std::sync::Mutex<Child>>, mpsc::Sender<()>);

/// Spawns from a thread that lives as long as the handle: `PR_SET_PDEATHSIG` fires
/// when the *thread* that forked exits, so forking from a short-lived thread (a test
/// thread, a tokio worker) would kill LocalStack early.
fn spawn_from_keeper_thread(mut command: Command) -> Result<KeptChild, Error> {
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        let parent = libc::getpid();
        command.process_group(0).pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died before prctl took effect.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
    let (reply_tx, reply_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("localstack-keeper".into())
        .spawn(move || {
            let spawned = command.spawn();
            let ok = spawned.is_ok();
            let _ = reply_tx.send(spawned);
            if ok {
                // Returns when the sender is dropped, i.e. when the handle drops.
                let _ = stop_rx.recv();
            }
        })
        .map_err(Error::io("starting the keeper thread"))?;
    let child = reply_rx
        .recv()
        .map_err(|_| Error::Io {
            context: "the keeper thread ended early".into(),
            source: std::io::Error::other("channel closed"),
        })?
        .map_err(Error::io("starting python -m localstack.runtime.main"))?;
    Ok((std::sync::Arc::new(std::sync::Mutex::new(child)), stop_tx))
}

/// SIGTERM to the whole group, SIGKILL after `grace`.
pub fn stop_group(pgid: i32, grace: Duration) {
    if pgid <= 0 {
        return;
    }
    // SAFETY: plain syscalls on a process group we created.
    unsafe { libc::killpg(pgid, libc::SIGTERM) };
    let began = Instant::now();
    while began.elapsed() < grace {
        // SAFETY: signal 0 only checks whether any member is left.
        if unsafe { libc::killpg(pgid, 0) } != 0 {
            return;
        }
        // Reap our own child if it is the one that exited.
        // SAFETY: WNOHANG never blocks; a pid that is not our child returns -1.
        unsafe { libc::waitpid(pgid, std::ptr::null_mut(), libc::WNOHANG) };
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: as above.
    unsafe { libc::killpg(pgid, libc::SIGKILL) };
}

/// A free loopback port (bound, read, released).
pub(crate) fn free_port() -> Result<u16, Error> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(Error::io("finding a free loopback port"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(Error::io("reading the free port"))
}

fn tail(path: &Path, lines: usize) -> String {
    let mut text = String::new();
    if let Ok(mut file) = fs::File::open(path) {
        let _ = file.read_to_string(&mut text);
    }
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
