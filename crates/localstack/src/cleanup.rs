//! Stops our LocalStack process groups and containers when the run is interrupted.
//!
//! Drop covers success, failure and panics (unwinding); this covers Ctrl-C, SIGTERM
//! and SIGHUP; `PR_SET_PDEATHSIG` (set in [`crate::host`]) covers a parent that dies
//! without running any of it. Containers are removed through the daemon, which is
//! not async-signal-safe: the handler only writes to a pipe, and a thread removes
//! them before the signal is raised again. Containers held in a `static` (as
//! [`crate::test_endpoint`] does) are removed at process exit (`atexit`). A SIGKILLed
//! owner runs none of this; the next start reaps what it left ([`crate::docker`]).

use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::{Mutex, Once};

const SLOTS: usize = 8;
static GROUPS: [AtomicI32; SLOTS] = [const { AtomicI32::new(0) }; SLOTS];

/// Remembers a process group to stop if the run is interrupted.
pub(crate) fn register(pgid: i32) {
    for slot in &GROUPS {
        if slot
            .compare_exchange(0, pgid, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return;
        }
    }
}

/// Forgets a process group that was stopped normally.
pub(crate) fn unregister(pgid: i32) {
    for slot in &GROUPS {
        let _ = slot.compare_exchange(pgid, 0, Ordering::SeqCst, Ordering::SeqCst);
    }
}

/// The container ids to remove on exit or interruption.
static CONTAINERS: Mutex<Vec<String>> = Mutex::new(Vec::new());
static CONTAINER_COUNT: AtomicUsize = AtomicUsize::new(0);
/// Write end of the pipe the signal handler uses to wake the removal thread.
static SIGNAL_PIPE: AtomicI32 = AtomicI32::new(-1);

/// Remembers a container to remove at exit or on SIGINT/SIGTERM/SIGHUP.
pub(crate) fn register_container(id: &str) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: at_exit is a plain function that never unwinds.
        unsafe { libc::atexit(at_exit) };
        start_signal_thread();
    });
    install_signal_handlers();
    if let Ok(mut ids) = CONTAINERS.lock() {
        ids.push(id.to_string());
        CONTAINER_COUNT.store(ids.len(), Ordering::SeqCst);
    }
}

/// Forgets a container that was removed normally.
pub(crate) fn unregister_container(id: &str) {
    if let Ok(mut ids) = CONTAINERS.lock() {
        ids.retain(|known| known != id);
        CONTAINER_COUNT.store(ids.len(), Ordering::SeqCst);
    }
}

/// Removes every registered container (best effort, errors on stderr).
fn remove_registered_containers() {
    let ids: Vec<String> = match CONTAINERS.try_lock() {
        Ok(mut ids) => {
            CONTAINER_COUNT.store(0, Ordering::SeqCst);
            std::mem::take(&mut *ids)
        }
        Err(_) => return,
    };
    if ids.is_empty() {
        return;
    }
    match crate::docker_api::Docker::from_env() {
        Ok(docker) => {
            for id in ids {
                if let Err(e) = docker.remove_container(&id) {
                    eprintln!("LocalStack: {e}");
                }
            }
        }
        Err(e) => eprintln!("LocalStack: cannot remove containers: {e}"),
    }
}

extern "C" fn at_exit() {
    remove_registered_containers();
}

fn start_signal_thread() {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: a plain pipe(2) into a local array.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return;
    }
    let read_end = fds[0];
    let spawned = std::thread::Builder::new()
        .name("localstack-signals".into())
        .spawn(move || {
            let mut signal = [0u8; 1];
            // SAFETY: reads one byte into a local buffer from our own pipe.
            let n = unsafe { libc::read(read_end, signal.as_mut_ptr().cast(), 1) };
            if n == 1 {
                remove_registered_containers();
                stop_groups_and_reraise(libc::c_int::from(signal[0]));
            }
        });
    if spawned.is_ok() {
        SIGNAL_PIPE.store(fds[1], Ordering::SeqCst);
    }
}

extern "C" fn on_signal(signal: libc::c_int) {
    // Only async-signal-safe calls here: write, killpg, signal, raise.
    let pipe = SIGNAL_PIPE.load(Ordering::SeqCst);
    if pipe >= 0 && CONTAINER_COUNT.load(Ordering::SeqCst) > 0 {
        let byte = signal as u8;
        // SAFETY: write(2) is async-signal-safe; the thread finishes the job.
        if unsafe { libc::write(pipe, (&byte as *const u8).cast(), 1) } == 1 {
            return;
        }
    }
    stop_groups_and_reraise(signal);
}

fn stop_groups_and_reraise(signal: libc::c_int) {
    for slot in &GROUPS {
        let pgid = slot.load(Ordering::SeqCst);
        if pgid > 0 {
            // SAFETY: killpg is async-signal-safe; a stale group id fails harmlessly.
            unsafe { libc::killpg(pgid, libc::SIGKILL) };
        }
    }
    // SAFETY: restore the default action and re-raise so our exit status says which
    // signal ended us, as the shell expects.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
}

/// Installs the SIGINT/SIGTERM/SIGHUP handlers once per process.
pub fn install_signal_handlers() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            // SAFETY: on_signal only performs async-signal-safe calls.
            unsafe {
                libc::signal(signal, on_signal as *const () as libc::sighandler_t);
            }
        }
    });
}
