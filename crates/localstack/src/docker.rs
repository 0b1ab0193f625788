//! Docker backend: LocalStack in a container on the host's network, listening on a
//! free loopback port (`GATEWAY_LISTEN`), so no traffic leaves 127.0.0.1 and the
//! daemon needs no bridge.
//!
//! Which image: `SMA_LOCALSTACK_IMAGE` when set; else the official pinned image
//! ([`crate::DEFAULT_IMAGE`]) when the daemon has it, else the local build
//! ([`local_image`], `cargo xtask localstack image`) when it was built from this lock,
//! else a pull of the official image is tried.
//!
//! No orphans: every container carries [`OWNER_LABEL`] (host, boot id, pid and start
//! time of the process that owns it) and is named after that process. It is removed
//! when its [`Container`] drops, at exit of a process whose container lives in a
//! `static` ([`crate::cleanup`]), on SIGINT/SIGTERM/SIGHUP, and — for an owner killed
//! with SIGKILL, which runs none of that — by the next start on this machine
//! ([`reap_orphans`]), which removes every labelled container whose owner is gone. A
//! separate watchdog process was not chosen: it could itself be SIGKILLed (a whole
//! process group is, by a CI timeout), so the reap at start would be needed anyway.

use crate::docker_api::Docker;
use crate::{Error, SERVICES};
use serde_json::json;
use sha2::{Digest, Sha256};

/// The repository of the image `cargo xtask localstack image` builds.
pub const LOCAL_IMAGE_REPOSITORY: &str = "sma/localstack-core";

/// The label of the local image holding the SHA-256 of the lock it was built from.
pub const LOCK_LABEL: &str = "org.sma.localstack.lock-sha256";

/// The label naming the process that owns a container:
/// `<hostname>/<boot id>/<pid>/<start time in clock ticks>`.
pub const OWNER_LABEL: &str = "org.sma.localstack.owner";

/// Set (to `1`) by `cargo xtask test` when its LocalStack runs in Docker: the Docker
/// backend's integration tests then fail instead of skipping when Docker cannot run.
pub const REQUIRE_DOCKER_TESTS: &str = "SMA_REQUIRE_DOCKER_TESTS";

/// Where LocalStack lives inside the local image.
pub const LOCAL_IMAGE_VENV: &str = "/opt/localstack/venv";

/// The local image: `sma/localstack-core:<localstack-core version of the lock>`.
pub fn local_image() -> String {
    let version = crate::venv::LOCALSTACK_CORE
        .split_once("==")
        .map(|(_, v)| v)
        .unwrap_or("unpinned");
    format!("{LOCAL_IMAGE_REPOSITORY}:{version}")
}

/// SHA-256 (hex) of what the local image is built from: the lock and the runtime pin.
pub fn lock_sha256() -> String {
    let mut hasher = Sha256::new();
    hasher.update(crate::paths::LOCK.as_bytes());
    hasher.update(b"\n");
    hasher.update(crate::venv::LOCALSTACK_CORE.as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `Ok` when a Docker daemon answers `GET /_ping`; otherwise what was found.
pub(crate) fn ping() -> Result<(), String> {
    Docker::from_env()?.ping()
}

/// Whether the daemon has the local image built from this lock.
pub fn local_image_is_current(docker: &Docker) -> Result<bool, String> {
    Ok(docker
        .image_labels(&local_image())?
        .is_some_and(|labels| labels.get(LOCK_LABEL) == Some(&lock_sha256())))
}

/// The image to run: see the module documentation. `Err` says what was tried.
pub fn choose_image(docker: &Docker, explicit: Option<&str>) -> Result<String, String> {
    if let Some(image) = explicit {
        if docker.image_labels(image)?.is_some() {
            return Ok(image.to_string());
        }
        return match docker.pull(image) {
            Ok(()) => Ok(image.to_string()),
            Err(e) => Err(format!(
                "SMA_LOCALSTACK_IMAGE={image} is not on this daemon and could not be pulled: {e}"
            )),
        };
    }
    if docker.image_labels(crate::DEFAULT_IMAGE)?.is_some() {
        return Ok(crate::DEFAULT_IMAGE.to_string());
    }
    let local = local_image();
    let local_note = match docker.image_labels(&local)? {
        Some(labels) if labels.get(LOCK_LABEL) == Some(&lock_sha256()) => return Ok(local),
        Some(_) => {
            format!("{local} was built from another lock (rebuild: cargo xtask localstack image)")
        }
        None => format!("{local} is not built (cargo xtask localstack image)"),
    };
    match docker.pull(crate::DEFAULT_IMAGE) {
        Ok(()) => Ok(crate::DEFAULT_IMAGE.to_string()),
        Err(e) => Err(format!(
            "{} is not on this daemon and could not be pulled ({e}); {local_note}",
            crate::DEFAULT_IMAGE
        )),
    }
}

/// Who we are, as written in [`OWNER_LABEL`].
fn owner_of(pid: u32) -> Option<String> {
    Some(format!(
        "{}/{}/{pid}/{}",
        hostname(),
        boot_id()?,
        start_time(pid)?
    ))
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|b| b.trim().to_string())
}

/// Field 22 of `/proc/<pid>/stat` (after the parenthesised command name).
fn start_time(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19).map(str::to_string)
}

/// Whether the owner named by a label is gone. Containers of other hosts are never
/// judged (their owners are not ours to see); on this host a different boot id means
/// the owner died with the previous boot.
pub fn owner_is_gone(label: &str) -> bool {
    let parts: Vec<&str> = label.split('/').collect();
    let [host, boot, pid, started] = parts[..] else {
        return false;
    };
    if host != hostname() {
        return false;
    }
    if Some(boot.to_string()) != boot_id() {
        return true;
    }
    match pid.parse::<u32>() {
        Ok(pid) => start_time(pid).as_deref() != Some(started),
        Err(_) => false,
    }
}

/// Removes every container of ours whose owner is gone; returns how many.
pub fn reap_orphans(docker: &Docker) -> Result<usize, String> {
    let mut removed = 0;
    for container in docker.containers_labelled(OWNER_LABEL)? {
        let owner = container
            .labels
            .get(OWNER_LABEL)
            .map(String::as_str)
            .unwrap_or("");
        if owner_is_gone(owner) {
            docker.remove_container(&container.id)?;
            eprintln!(
                "LocalStack: removed container {} left by a run that is gone ({owner}, {})",
                short(&container.id),
                container.state
            );
            removed += 1;
        }
    }
    Ok(removed)
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

/// A running container of ours; removed on drop.
pub(crate) struct Container {
    docker: Docker,
    id: String,
    endpoint: String,
    image: String,
}

impl Container {
    /// Reaps orphans, chooses the image, starts it on a free loopback port and waits
    /// until it is healthy. `Err` is the reason, for the fallback line or the error.
    pub(crate) fn start(explicit_image: Option<&str>) -> Result<Self, String> {
        let docker = Docker::from_env()?;
        if let Err(e) = reap_orphans(&docker) {
            eprintln!("LocalStack: could not look for orphan containers: {e}");
        }
        let image = choose_image(&docker, explicit_image)?;
        let port = crate::host::free_port().map_err(|e| e.to_string())?;
        let owner = owner_of(std::process::id())
            .ok_or("cannot read this process's start time and boot id under /proc")?;
        let mut env = vec![
            format!("GATEWAY_LISTEN=127.0.0.1:{port}"),
            format!("LOCALSTACK_HOST=localhost.localstack.cloud:{port}"),
            format!("SERVICES={SERVICES}"),
            "DISABLE_EVENTS=1".to_string(),
            "SKIP_SSL_CERT_DOWNLOAD=1".to_string(),
        ];
        // Passed through for Pro images; never printed.
        if let Ok(token) = std::env::var("LOCALSTACK_AUTH_TOKEN") {
            env.push(format!("LOCALSTACK_AUTH_TOKEN={token}"));
        }
        let body = json!({
            "Image": image,
            "Env": env,
            "Labels": { OWNER_LABEL: owner },
            "HostConfig": { "NetworkMode": "host" },
        });
        let name = format!("sma-localstack-{}-{port}", std::process::id());
        let id = docker.create_container_named(&name, &body)?;
        let container = Container {
            docker,
            id,
            endpoint: format!("http://127.0.0.1:{port}"),
            image,
        };
        crate::cleanup::register_container(&container.id);
        container.docker.start_container(&container.id)?;
        let ready =
            crate::health::wait_ready_while(&container.endpoint, crate::READY_DEADLINE, || {
                container.docker.is_running(&container.id)
            });
        if let Err(e) = ready {
            return Err(format!(
                "{e}\n--- last lines of container {} ({}) ---\n{}",
                short(&container.id),
                container.image,
                container.docker.logs_tail(&container.id, 30)
            ));
        }
        Ok(container)
    }

    pub(crate) fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub(crate) fn describe(&self) -> String {
        format!(
            "image {}, container {} on {}",
            self.image,
            short(&self.id),
            self.docker.address()
        )
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if let Err(e) = self.docker.remove_container(&self.id) {
            eprintln!("LocalStack: {e}");
        }
        crate::cleanup::unregister_container(&self.id);
    }
}

/// The error when the daemon answers but cannot run LocalStack and no Python >= 3.12
/// is there to fall back on: the three ways out.
pub(crate) fn no_fallback(reason: String, python: String) -> Error {
    Error::DockerUnusable { reason, python }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_owner_label_is_alive_and_a_dead_pid_is_gone() {
        let me = owner_of(std::process::id()).expect("/proc is readable");
        assert!(!owner_is_gone(&me));
        let parts: Vec<&str> = me.split('/').collect();
        // Same pid, another start time: the pid was reused, the owner is gone.
        let reused = format!("{}/{}/{}/1", parts[0], parts[1], parts[2]);
        assert!(owner_is_gone(&reused));
        // Another boot of this host: gone.
        let rebooted = format!("{}/not-this-boot/{}/{}", parts[0], parts[2], parts[3]);
        assert!(owner_is_gone(&rebooted));
        // Another host: never judged.
        let elsewhere = format!("another-host/x/{}/1", parts[2]);
        assert!(!owner_is_gone(&elsewhere));
        assert!(!owner_is_gone("not a label"));
    }

    #[test]
    fn the_local_image_is_named_after_the_runtime_pin() {
        assert_eq!(local_image(), "sma/localstack-core:2026.3.0");
        assert_eq!(lock_sha256().len(), 64);
    }
}
