//! Docker backend: a pinned LocalStack image through testcontainers.

use crate::Error;
use std::io::{Read, Write};
use std::time::Duration;
use testcontainers_modules::localstack::LocalStack as LocalStackImage;
use testcontainers_modules::testcontainers::{runners::SyncRunner, ImageExt};

/// `Ok` when a Docker daemon answers `GET /_ping`; otherwise what was found.
pub(crate) fn ping() -> Result<(), String> {
    let host =
        std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
    let request = b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n";
    let mut response = String::new();
    let timeout = Some(Duration::from_secs(2));
    if let Some(path) = host.strip_prefix("unix://") {
        let mut stream = std::os::unix::net::UnixStream::connect(path)
            .map_err(|e| format!("no daemon at {path}: {e}"))?;
        stream.set_read_timeout(timeout).ok();
        stream.write_all(request).map_err(|e| e.to_string())?;
        stream
            .read_to_string(&mut response)
            .map_err(|e| e.to_string())?;
    } else if let Some(authority) = host.strip_prefix("tcp://") {
        let mut stream = std::net::TcpStream::connect(authority)
            .map_err(|e| format!("no daemon at {authority}: {e}"))?;
        stream.set_read_timeout(timeout).ok();
        stream.write_all(request).map_err(|e| e.to_string())?;
        stream
            .read_to_string(&mut response)
            .map_err(|e| e.to_string())?;
    } else {
        return Err(format!("DOCKER_HOST={host} is neither unix:// nor tcp://"));
    }
    if response.starts_with("HTTP/1.") && response.contains(" 200 ") {
        Ok(())
    } else {
        Err(format!(
            "the daemon did not answer the ping ({})",
            response.lines().next().unwrap_or("empty answer")
        ))
    }
}

/// A running container; removed on drop.
pub(crate) struct Container {
    endpoint: String,
    // Dropped on a plain thread: the blocking runner must not run inside a runtime.
    inner: Option<testcontainers_modules::testcontainers::Container<LocalStackImage>>,
}

impl Container {
    pub(crate) fn start(image: &str) -> Result<Self, Error> {
        let (name, tag) = image
            .rsplit_once(':')
            .ok_or_else(|| Error::Docker(format!("image {image} has no tag: pin one")))?;
        let name = name.to_string();
        let tag = tag.to_string();
        // The blocking runner builds its own runtime; keep it off any caller's runtime.
        let started = std::thread::spawn(move || {
            let mut request = LocalStackImage::default()
                .with_name(name)
                .with_tag(tag)
                .with_env_var("SERVICES", crate::SERVICES);
            if let Ok(token) = std::env::var("LOCALSTACK_AUTH_TOKEN") {
                request = request.with_env_var("LOCALSTACK_AUTH_TOKEN", token);
            }
            let container = request.start().map_err(|e| e.to_string())?;
            let port = container
                .get_host_port_ipv4(4566)
                .map_err(|e| e.to_string())?;
            Ok::<_, String>((container, port))
        })
        .join()
        .map_err(|_| Error::Docker("the start thread panicked".into()))?
        .map_err(Error::Docker)?;
        let (container, port) = started;
        Ok(Container {
            endpoint: format!("http://127.0.0.1:{port}"),
            inner: Some(container),
        })
    }

    pub(crate) fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if let Some(container) = self.inner.take() {
            let _ = std::thread::spawn(move || drop(container)).join();
        }
    }
}
