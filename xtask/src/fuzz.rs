//! `cargo xtask fuzz [TARGET] [--seconds N]`: build a libFuzzer target from `fuzz/`
//! and run it for a bounded time, starting from the checked-in seed corpus
//! (`fuzz/seeds/<target>/`) and, when present, a token dictionary
//! (`fuzz/dicts/<target>.dict`).
//!
//! Works on the stable toolchain without cargo-fuzz: libfuzzer-sys provides the
//! fuzzing engine, and the coverage instrumentation is LLVM's SanitizerCoverage
//! pass, enabled through `-Cpasses=sancov-module` and `-Cllvm-args` (stable flags).
//! The build uses an explicit `--target` so that the flags reach only the fuzz
//! target, not build scripts or proc-macros (which would fail to link). No
//! AddressSanitizer (nightly only): safe Rust is memory-safe, and what we hunt for
//! is panics, which libFuzzer reports as crashes.
//!
//! Outputs: the growing corpus in `fuzz/corpus/<target>/` and crash inputs in
//! `fuzz/artifacts/<target>/` (both git-ignored).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// SanitizerCoverage flags equivalent to cargo-fuzz's defaults (minus ASan).
const SANCOV_FLAGS: &[&str] = &[
    "-Cpasses=sancov-module",
    "-Cllvm-args=-sanitizer-coverage-level=4",
    "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
    "-Cllvm-args=-sanitizer-coverage-pc-table",
    "-Cllvm-args=-sanitizer-coverage-trace-compares",
    "-Cdebug-assertions",
    "-Coverflow-checks",
];

/// Builds and runs fuzz target `target` for `seconds` seconds.
pub(crate) fn run(target: &str, seconds: u64) -> Result<(), String> {
    let root = workspace_root();
    let fuzz_dir = root.join("fuzz");
    if target.is_empty()
        || !target
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        || !fuzz_dir
            .join("fuzz_targets")
            .join(format!("{target}.rs"))
            .is_file()
    {
        return Err(format!(
            "unknown fuzz target {target:?} (targets are fuzz/fuzz_targets/*.rs)"
        ));
    }
    if seconds == 0 {
        return Err("--seconds must be at least 1".into());
    }
    let triple = host_triple()?;

    // Convention: a target with dependencies of its own declares a cargo feature
    // named after itself (`required-features`), so other targets build without them.
    let manifest = std::fs::read_to_string(fuzz_dir.join("Cargo.toml"))
        .map_err(|e| format!("cannot read fuzz/Cargo.toml: {e}"))?;
    let has_feature = manifest.lines().any(|l| {
        l.trim_start()
            .strip_prefix(target)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    });

    eprintln!("==> building fuzz target {target} ({triple}, sanitizer coverage)");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .current_dir(&fuzz_dir)
        .args(["build", "--release", "--bin", target, "--target", &triple]);
    if has_feature {
        build.args(["--features", target]);
    }
    build
        .arg("--manifest-path")
        .arg(fuzz_dir.join("Cargo.toml"))
        // The outer `cargo run` may export encoded flags that would override ours.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env("RUSTFLAGS", SANCOV_FLAGS.join(" "));
    let status = build
        .status()
        .map_err(|e| format!("cannot run cargo build for the fuzz target: {e}"))?;
    if !status.success() {
        return Err(format!("building fuzz target {target} failed ({status})"));
    }

    let binary = fuzz_dir
        .join("target")
        .join(&triple)
        .join("release")
        .join(target);
    let corpus = fuzz_dir.join("corpus").join(target);
    let seeds = fuzz_dir.join("seeds").join(target);
    let artifacts = fuzz_dir.join("artifacts").join(target);
    for dir in [&corpus, &artifacts] {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut cmd = Command::new(&binary);
    cmd.arg(&corpus);
    if seeds.is_dir() {
        cmd.arg(&seeds);
    }
    let dict = fuzz_dir.join("dicts").join(format!("{target}.dict"));
    if dict.is_file() {
        cmd.arg(format!("-dict={}", dict.display()));
    }
    cmd.arg(format!("-max_total_time={seconds}"))
        .arg("-max_len=4096")
        .arg("-timeout=10")
        .arg("-rss_limit_mb=2048")
        .arg("-print_final_stats=1")
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .stdin(Stdio::null());
    eprintln!("==> fuzzing {target} for {seconds}s");
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    // libFuzzer stops itself after -max_total_time; the watchdog only guards
    // against a hung process.
    let deadline = Instant::now() + Duration::from_secs(seconds + 120);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "fuzz target {target} did not stop after {seconds}s; killed"
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(200)),
            Err(e) => return Err(format!("waiting for the fuzzer failed: {e}")),
        }
    };
    if status.success() {
        eprintln!("<== fuzz {target}: no crash in {seconds}s");
        Ok(())
    } else {
        Err(format!(
            "fuzz target {target} found a crash ({status}); reproduce with `{} <input>` using the input saved in {}",
            binary.display(),
            artifacts.display()
        ))
    }
}

/// The workspace root (parent of `xtask/`).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The host target triple, from `rustc -vV`.
fn host_triple() -> Result<String, String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(rustc)
        .arg("-vV")
        .output()
        .map_err(|e| format!("cannot run rustc -vV: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .ok_or_else(|| "rustc -vV did not report the host triple".into())
}
