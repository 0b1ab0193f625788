//! `cargo xtask localstack image`: a local LocalStack image for the Docker backend
//! when the official one cannot be pulled (no registry reachable).
//!
//! The same software as host mode, in a container: a minimal Debian root filesystem
//! with Python >= 3.12 (`debootstrap` of [`DEBIAN_SUITE`] from the machine's own
//! Debian mirror), LocalStack installed from `localstack/requirements-runtime.lock`
//! into a venv inside it (`chroot`, the host's network and CA bundle for PyPI), then
//! `docker import`ed as [`localstack::docker::local_image`] with its command,
//! environment and the lock's hash as a label. Idempotent: an image whose label is
//! the current lock's hash is kept; the official image present (or pullable) means
//! nothing to build. Needs root, `debootstrap` and a daemon; never installs packages.

use localstack::docker::{self, LOCAL_IMAGE_VENV, LOCK_LABEL};
use localstack::docker_api::Docker;
use localstack::{paths, venv, DEFAULT_IMAGE};
use std::fs;
use std::io::{IsTerminal, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The Debian release of the image: its `python3` is 3.13 (LocalStack needs >= 3.12).
pub(crate) const DEBIAN_SUITE: &str = "trixie";

/// What the image build did.
pub(crate) enum Outcome {
    /// The official image is on the daemon (already, or pulled now).
    Official,
    /// The local image was already built from this lock.
    Cached,
    /// The local image was built now.
    Built,
}

/// Runs the task and prints what it did and how long it took.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let force = match args {
        [] => false,
        [flag] if flag == "--force" => true,
        _ => return Err("usage: cargo xtask localstack image [--force]".into()),
    };
    let began = Instant::now();
    let outcome = ensure(force)?;
    let took = began.elapsed().as_secs_f64();
    let image = docker::local_image();
    match outcome {
        Outcome::Official => {
            println!(
                "LocalStack image: {DEFAULT_IMAGE} is on the daemon; nothing to build ({took:.1}s)"
            )
        }
        Outcome::Cached => println!(
            "LocalStack image: {image} is current (lock sha256 {}…); nothing to build ({took:.1}s)",
            &docker::lock_sha256()[..12]
        ),
        Outcome::Built => println!(
            "LocalStack image: built {image} in {took:.0}s; the Docker backend uses it when \
             {DEFAULT_IMAGE} is absent (or name it: SMA_LOCALSTACK_IMAGE={image})"
        ),
    }
    Ok(())
}

/// Makes sure the daemon has a LocalStack image: official, cached or built now.
pub(crate) fn ensure(force: bool) -> Result<Outcome, String> {
    let docker = Docker::from_env()?;
    docker.ping().map_err(|e| {
        format!(
            "no Docker daemon answers at {} ({e}); start one (as root: \
             `dockerd --bridge=none --iptables=false`) or set DOCKER_HOST",
            docker.address()
        )
    })?;
    if !force {
        if docker.image_labels(DEFAULT_IMAGE)?.is_some() {
            return Ok(Outcome::Official);
        }
        if docker::local_image_is_current(&docker)? {
            return Ok(Outcome::Cached);
        }
        match docker.pull(DEFAULT_IMAGE) {
            Ok(()) => return Ok(Outcome::Official),
            Err(e) => eprintln!(
                "LocalStack image: {DEFAULT_IMAGE} cannot be pulled ({}); building {} from Debian \
                 packages and the pinned lock",
                e.lines().next().unwrap_or(""),
                docker::local_image()
            ),
        }
    }
    build(&docker)?;
    Ok(Outcome::Built)
}

fn build(docker: &Docker) -> Result<(), String> {
    if !running_as_root() {
        return Err(format!(
            "building {} needs root (debootstrap and chroot); run it as root, or use an image \
             of your own with SMA_LOCALSTACK_IMAGE, or host mode (SMA_LOCALSTACK_NO_DOCKER=1)",
            docker::local_image()
        ));
    }
    for tool in ["debootstrap", "chroot", "tar"] {
        if !on_path(tool) {
            return Err(format!(
                "`{tool}` is not installed; install it (Debian: apt-get install {tool}) and run again"
            ));
        }
    }
    let work = paths::target_dir().join("localstack");
    fs::create_dir_all(&work).map_err(|e| format!("creating {}: {e}", work.display()))?;
    let log = work.join("image-build.log");
    fs::write(&log, "").map_err(|e| format!("creating {}: {e}", log.display()))?;
    let root = work.join(format!("image-rootfs-{}", std::process::id()));
    remove_rootfs(&root)?;
    let mirror = debian_mirror();
    eprintln!(
        "LocalStack image: Debian {DEBIAN_SUITE} from {mirror} + {} from the lock (a few minutes \
         once per lock); log {}",
        venv::LOCALSTACK_CORE,
        log.display()
    );
    let result = build_in(docker, &root, &mirror, &log);
    let cleaned = remove_rootfs(&root);
    result.and(cleaned)
}

fn build_in(docker: &Docker, root: &Path, mirror: &str, log: &Path) -> Result<(), String> {
    let root_arg = root.to_string_lossy().to_string();
    step("debootstrap", log, || {
        run_logged(
            Command::new("debootstrap").args([
                "--variant=minbase",
                "--include=python3,python3-venv,ca-certificates",
                DEBIAN_SUITE,
                &root_arg,
                mirror,
            ]),
            log,
        )
    })?;

    let opt = root.join("opt/localstack");
    fs::create_dir_all(&opt).map_err(|e| format!("creating {}: {e}", opt.display()))?;
    fs::write(opt.join("requirements-runtime.lock"), paths::LOCK)
        .map_err(|e| format!("writing the lock into the image: {e}"))?;
    // PyPI through the host's trust (a proxy's CA, say); removed before the import.
    let ca = host_ca_bundle()?;
    fs::copy(&ca, root.join("tmp/build-ca.pem"))
        .map_err(|e| format!("copying {} into the image: {e}", ca.display()))?;
    fs::copy("/etc/resolv.conf", root.join("etc/resolv.conf"))
        .map_err(|e| format!("copying /etc/resolv.conf into the image: {e}"))?;

    let pip = "--no-input --disable-pip-version-check --progress-bar off --no-cache-dir";
    let script = format!(
        "set -e; python3 -m venv {LOCAL_IMAGE_VENV}; \
         {LOCAL_IMAGE_VENV}/bin/python -m pip install {pip} --no-deps -r /opt/localstack/requirements-runtime.lock; \
         {LOCAL_IMAGE_VENV}/bin/python -m pip install {pip} --no-deps {core}; \
         {LOCAL_IMAGE_VENV}/bin/python -c 'import localstack.runtime.main'; \
         mkdir -p /var/lib/localstack /tmp/localstack",
        core = venv::LOCALSTACK_CORE
    );
    step("pip install (chroot)", log, || {
        let mut command = Command::new("chroot");
        command
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("HOME", "/root")
            .env("LANG", "C.UTF-8")
            .env("PIP_CERT", "/tmp/build-ca.pem")
            .args([&root_arg, "/bin/sh", "-c", &script]);
        for var in [
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "NO_PROXY",
            "http_proxy",
            "https_proxy",
            "no_proxy",
            "PIP_INDEX_URL",
        ] {
            if let Some(value) = std::env::var_os(var) {
                command.env(var, value);
            }
        }
        run_logged(&mut command, log)
    })?;

    for leftover in ["tmp/build-ca.pem", "etc/resolv.conf"] {
        let _ = fs::remove_file(root.join(leftover));
    }
    for dir in ["var/cache/apt/archives", "var/lib/apt/lists", "root/.cache"] {
        clear_dir(&root.join(dir));
    }

    let changes = vec![
        format!(
            "CMD [\"{LOCAL_IMAGE_VENV}/bin/python\", \"-m\", \"localstack.runtime.main\"]"
        ),
        format!(
            "ENV PATH={LOCAL_IMAGE_VENV}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        ),
        "ENV LANG=C.UTF-8".to_string(),
        "ENV DISABLE_EVENTS=1".to_string(),
        "ENV SKIP_SSL_CERT_DOWNLOAD=1".to_string(),
        "WORKDIR /var/lib/localstack".to_string(),
        format!("LABEL {LOCK_LABEL}={}", docker::lock_sha256()),
        format!(
            "LABEL org.sma.localstack.source=\"debootstrap {DEBIAN_SUITE} + {} + requirements-runtime.lock\"",
            venv::LOCALSTACK_CORE
        ),
    ];
    step("docker import", log, || {
        let mut tar = Command::new("tar")
            .args(["--numeric-owner", "-C", &root_arg, "-cf", "-", "."])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run tar: {e}"))?;
        let mut archive = tar.stdout.take().ok_or("no pipe from tar")?;
        let imported = docker.import(&mut archive, &docker::local_image(), &changes, |_| {});
        drop(archive);
        let output = tar.wait_with_output().map_err(|e| format!("tar: {e}"))?;
        imported?;
        if !output.status.success() {
            return Err(format!(
                "tar of the root filesystem failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        if !docker::local_image_is_current(docker)? {
            return Err("the imported image does not carry the lock's hash label".into());
        }
        Ok(())
    })
}

/// Runs one timed step. On a terminal (and not under CI) a line shows the elapsed
/// time and the log's last line while it runs; elsewhere only its start and end.
fn step(
    name: &str,
    log: &Path,
    work: impl FnOnce() -> Result<(), String> + Send,
) -> Result<(), String> {
    let live = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
    if !live {
        eprintln!("LocalStack image: {name}...");
    }
    let began = Instant::now();
    let result = std::thread::scope(|scope| {
        let worker = scope.spawn(work);
        while live && !worker.is_finished() {
            let last = last_line(log);
            let mut line = format!("  {name}: {:>4.0}s  {last}", began.elapsed().as_secs_f64());
            line.truncate(100);
            eprint!("\r\x1b[2K{line}");
            let _ = std::io::stderr().flush();
            std::thread::sleep(Duration::from_millis(500));
        }
        worker
            .join()
            .unwrap_or_else(|_| Err(format!("{name}: the step panicked")))
    });
    if live {
        eprint!("\r\x1b[2K");
    }
    let took = began.elapsed().as_secs_f64();
    match &result {
        Ok(()) => eprintln!("LocalStack image: {name} done in {took:.0}s"),
        Err(e) => eprintln!("LocalStack image: {name} FAILED after {took:.0}s: {e}"),
    }
    result
}

fn run_logged(command: &mut Command, log: &Path) -> Result<(), String> {
    let shown = format!("{command:?}");
    let out = fs::OpenOptions::new()
        .append(true)
        .open(log)
        .map_err(|e| format!("opening {}: {e}", log.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let status = command
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .status()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} failed ({status}); see {}:\n{}",
            command.get_program().to_string_lossy(),
            log.display(),
            tail(log, 15)
        ))
    }
}

fn last_line(log: &Path) -> String {
    tail(log, 1).trim().to_string()
}

fn tail(log: &Path, lines: usize) -> String {
    let Ok(mut file) = fs::File::open(log) else {
        return String::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(4096)));
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// `SMA_DEBIAN_MIRROR`, else the first Debian mirror of this machine's apt sources,
/// else `http://deb.debian.org/debian`.
fn debian_mirror() -> String {
    if let Ok(mirror) = std::env::var("SMA_DEBIAN_MIRROR") {
        if !mirror.trim().is_empty() {
            return mirror.trim().to_string();
        }
    }
    let mut sources = vec![PathBuf::from("/etc/apt/sources.list")];
    if let Ok(entries) = fs::read_dir("/etc/apt/sources.list.d") {
        let mut more: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        more.sort();
        sources.extend(more);
    }
    for file in sources {
        let text = fs::read_to_string(&file).unwrap_or_default();
        if let Some(mirror) = mirror_in(&text) {
            return mirror;
        }
    }
    "http://deb.debian.org/debian".into()
}

/// The first `…/debian` URI of an apt sources text (one-line or deb822 format).
fn mirror_in(sources: &str) -> Option<String> {
    sources
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .flat_map(|line| line.split_whitespace())
        .map(|word| word.trim_end_matches('/'))
        .find(|word| word.starts_with("http") && word.ends_with("/debian"))
        .map(str::to_string)
}

fn host_ca_bundle() -> Result<PathBuf, String> {
    ["PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"]
        .iter()
        .filter_map(|var| std::env::var_os(var).map(PathBuf::from))
        .chain([PathBuf::from("/etc/ssl/certs/ca-certificates.crt")])
        .find(|path| path.is_file())
        .ok_or_else(|| {
            "no CA bundle on this machine (/etc/ssl/certs/ca-certificates.crt); install \
             ca-certificates or set PIP_CERT"
                .into()
        })
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
        .unwrap_or(false)
        || Path::new("/usr/sbin").join(tool).is_file()
}

fn clear_dir(dir: &Path) {
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            let _ = if path.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
        }
    }
}

/// Removes a build root, refusing when anything is mounted under it (nothing is
/// mounted by this build; a mount there would be someone else's).
fn remove_rootfs(root: &Path) -> Result<(), String> {
    if !root.exists() {
        return Ok(());
    }
    let mounts = fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    let prefix = root.to_string_lossy().to_string();
    if mounts
        .lines()
        .filter_map(|line| line.split_whitespace().nth(1))
        .any(|point| point.starts_with(&prefix))
    {
        return Err(format!(
            "{} has a mount inside; unmount it before removing the build root",
            root.display()
        ));
    }
    fs::remove_dir_all(root).map_err(|e| format!("removing {}: {e}", root.display()))
}

/// `/proc/self` belongs to the effective user.
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mirror_comes_from_apt_sources_in_both_formats() {
        let deb822 = "Types: deb\n# http://snapshot.debian.org/archive/debian/2025\nURIs: http://deb.debian.org/debian\nSuites: bookworm\n";
        assert_eq!(
            mirror_in(deb822).as_deref(),
            Some("http://deb.debian.org/debian")
        );
        let one_line = "deb https://packages.cloud.google.com/apt cloud-sdk main\ndeb http://ftp.fr.debian.org/debian/ bookworm main\n";
        assert_eq!(
            mirror_in(one_line).as_deref(),
            Some("http://ftp.fr.debian.org/debian")
        );
        assert_eq!(mirror_in("deb https://example.com/apt x main"), None);
    }
}
