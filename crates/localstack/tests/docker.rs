//! The Docker backend on a live daemon: orphan containers of a SIGKILLed owner are
//! removed by the next start, and a daemon that cannot give the image falls back to
//! host mode (or names the ways out). Skipped, with a line, where no daemon answers
//! (or, for the container tests, where the daemon has no LocalStack image), unless
//! `SMA_REQUIRE_DOCKER_TESTS=1` (set by `cargo xtask test` when its LocalStack runs
//! in Docker).

use localstack::docker::{self, OWNER_LABEL, REQUIRE_DOCKER_TESTS};
use localstack::docker_api::Docker;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, Stdio};

/// The daemon, or `None` (skip) with the reason on stderr.
fn daemon(need_image: bool) -> Option<Docker> {
    let required = std::env::var(REQUIRE_DOCKER_TESTS).is_ok_and(|v| v == "1");
    let ready = Docker::from_env().and_then(|docker| {
        docker.ping()?;
        if need_image {
            docker::choose_image(&docker, None)?;
        }
        Ok(docker)
    });
    match ready {
        Ok(docker) => Some(docker),
        Err(reason) if required => {
            panic!("{REQUIRE_DOCKER_TESTS}=1 but Docker is not usable: {reason}")
        }
        Err(reason) => {
            eprintln!("skipped: Docker is not usable here ({reason})");
            None
        }
    }
}

/// `sma-localstack` with no external endpoint in its environment.
fn sma_localstack() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sma-localstack"));
    command
        .env_remove("SMA_LOCALSTACK_ENDPOINT")
        .env_remove("LOCALSTACK_ENDPOINT")
        .env_remove("SMA_LOCALSTACK_NO_DOCKER")
        .env_remove("SMA_LOCALSTACK_IMAGE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Reads the endpoint and backend lines; panics with stderr when it did not start.
fn started(child: &mut Child) -> (String, String, BufReader<ChildStdout>) {
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout piped"));
    let mut endpoint = String::new();
    let mut backend = String::new();
    stdout.read_line(&mut endpoint).expect("reading stdout");
    stdout.read_line(&mut backend).expect("reading stdout");
    let Some(endpoint) = endpoint.trim().strip_prefix("SMA_LOCALSTACK_ENDPOINT=") else {
        let mut err = String::new();
        let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut err));
        panic!("sma-localstack did not start LocalStack:\n{err}");
    };
    let backend = backend
        .trim()
        .strip_prefix("SMA_LOCALSTACK_BACKEND=")
        .expect("the backend line")
        .to_string();
    (endpoint.to_string(), backend, stdout)
}

/// Our containers whose owner label names `pid`.
fn containers_of(docker: &Docker, pid: u32) -> Vec<String> {
    docker
        .containers_labelled(OWNER_LABEL)
        .expect("listing containers")
        .into_iter()
        .filter(|c| {
            c.labels
                .get(OWNER_LABEL)
                .and_then(|owner| owner.split('/').nth(2))
                == Some(pid.to_string().as_str())
        })
        .map(|c| c.id)
        .collect()
}

#[test]
fn a_container_left_by_a_sigkilled_run_is_removed_by_the_next_start() {
    let Some(docker) = daemon(true) else { return };

    let mut first = sma_localstack().spawn().expect("running sma-localstack");
    let (endpoint, backend, _out) = started(&mut first);
    assert!(
        backend.starts_with("docker"),
        "a daemon with an image must give the Docker backend, got: {backend}"
    );
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
    localstack::health::probe(&endpoint).expect("the container answers on loopback");
    let left = containers_of(&docker, first.id());
    assert_eq!(left.len(), 1, "one labelled container for the run");

    first.kill().expect("SIGKILL");
    first.wait().expect("reaping the killed run");
    assert!(
        docker.is_running(&left[0]),
        "nothing ran at SIGKILL, so the container must still be there (else this test proves nothing)"
    );

    let mut second = sma_localstack().spawn().expect("running sma-localstack");
    let (_, _, _out2) = started(&mut second);
    assert!(
        containers_of(&docker, first.id()).is_empty(),
        "the next start must remove the container of the killed run"
    );
    let second_pid = second.id();
    assert_eq!(containers_of(&docker, second_pid).len(), 1);
    drop(second.stdin.take());
    let status = second.wait().expect("waiting for sma-localstack");
    assert!(status.success(), "{status}");
    assert!(
        containers_of(&docker, second_pid).is_empty(),
        "a normal stop removes its container"
    );
}

#[test]
fn a_daemon_without_the_image_falls_back_to_host_mode() {
    if daemon(false).is_none() {
        return;
    }
    let mut child = sma_localstack()
        .env("SMA_LOCALSTACK_IMAGE", "sma/no-such-localstack:0")
        .spawn()
        .expect("running sma-localstack");
    let python = localstack::python::find();
    if python.is_err() {
        let output = child.wait_with_output().expect("waiting");
        assert!(!output.status.success());
        return assert_names_the_ways_out(&String::from_utf8_lossy(&output.stderr));
    }
    let (endpoint, backend, _out) = started(&mut child);
    assert!(
        backend.starts_with("host process") && backend.contains("Docker not used"),
        "the summary line says host mode and why not Docker: {backend}"
    );
    localstack::health::probe(&endpoint).expect("host-mode LocalStack answers");
    drop(child.stdin.take());
    let output = child.wait_with_output().expect("waiting");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let fallback_lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("falling back to host mode"))
        .collect();
    assert_eq!(fallback_lines.len(), 1, "one line says so:\n{stderr}");
    assert!(
        fallback_lines[0].contains("sma/no-such-localstack:0"),
        "{}",
        fallback_lines[0]
    );
}

#[test]
fn a_daemon_without_the_image_and_no_python_names_the_three_ways_out() {
    if daemon(false).is_none() {
        return;
    }
    let output = sma_localstack()
        .env("SMA_LOCALSTACK_IMAGE", "sma/no-such-localstack:0")
        .env("PATH", "/nonexistent")
        .env("SMA_PYTHON", "/nonexistent/python3")
        .env("HOME", "/nonexistent")
        .env_remove("PYENV_ROOT")
        .stdin(Stdio::null())
        .output()
        .expect("running sma-localstack");
    assert!(!output.status.success());
    assert_names_the_ways_out(&String::from_utf8_lossy(&output.stderr));
}

fn assert_names_the_ways_out(stderr: &str) {
    for way in [
        "SMA_LOCALSTACK_IMAGE=",
        "SMA_LOCALSTACK_NO_DOCKER=1",
        "SMA_LOCALSTACK_ENDPOINT=",
        "sma/no-such-localstack:0",
    ] {
        assert!(stderr.contains(way), "the error must name {way}:\n{stderr}");
    }
    assert_eq!(
        stderr.matches("error:").count(),
        1,
        "one error, not a cascade:\n{stderr}"
    );
}
