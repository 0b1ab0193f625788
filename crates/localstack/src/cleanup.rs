//! Stops our LocalStack process groups when the run is interrupted.
//!
//! Drop covers success, failure and panics (unwinding); this covers Ctrl-C, SIGTERM
//! and SIGHUP; `PR_SET_PDEATHSIG` (set in [`crate::host`]) covers a parent that dies
//! without running any of it.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Once;

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

extern "C" fn on_signal(signal: libc::c_int) {
    // Only async-signal-safe calls here: killpg, signal, raise.
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
