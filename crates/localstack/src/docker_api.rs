//! A small Docker Engine API client over the daemon's socket (std + `serde_json`).
//!
//! Why not testcontainers: its client (bollard) pins API version 1.52 in every path,
//! which daemons older than Docker 29 refuse ("client version 1.52 is too new") —
//! Debian's `docker.io` (20.10 in bookworm, 26.1 in trixie) among them. Paths here
//! carry no version prefix, so the daemon answers in its own version; only calls that
//! exist since API 1.24 are used.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::time::Duration;

/// How long one answer may take (a pull or an import streams; each read is bounded).
const READ_TIMEOUT: Duration = Duration::from_secs(120);

/// Where the daemon listens: `DOCKER_HOST` (`unix://` or `tcp://`), else the default
/// socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaemonAddress {
    /// A Unix socket path.
    Unix(String),
    /// `host:port`.
    Tcp(String),
}

impl DaemonAddress {
    /// Reads `DOCKER_HOST`; `Err` names a scheme we do not speak.
    pub fn from_env() -> Result<DaemonAddress, String> {
        let host = std::env::var("DOCKER_HOST")
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "unix:///var/run/docker.sock".into());
        if let Some(path) = host.strip_prefix("unix://") {
            Ok(DaemonAddress::Unix(path.to_string()))
        } else if let Some(authority) = host.strip_prefix("tcp://") {
            Ok(DaemonAddress::Tcp(
                authority.trim_end_matches('/').to_string(),
            ))
        } else {
            Err(format!("DOCKER_HOST={host} is neither unix:// nor tcp://"))
        }
    }
}

impl std::fmt::Display for DaemonAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DaemonAddress::Unix(path) => write!(f, "unix://{path}"),
            DaemonAddress::Tcp(authority) => write!(f, "tcp://{authority}"),
        }
    }
}

trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

/// One daemon; every call opens its own connection (HTTP/1.0, closed after the answer).
#[derive(Debug, Clone)]
pub struct Docker {
    address: DaemonAddress,
}

/// An answer: status code and body.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The whole body.
    pub body: String,
}

impl Answer {
    /// The daemon's `message` field, or the body.
    pub fn message(&self) -> String {
        serde_json::from_str::<Value>(&self.body)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_string))
            .unwrap_or_else(|| self.body.trim().to_string())
    }
}

/// A container of ours as the daemon lists it.
#[derive(Debug, Clone)]
pub struct ListedContainer {
    /// Its id.
    pub id: String,
    /// Its labels.
    pub labels: std::collections::BTreeMap<String, String>,
    /// `running`, `exited`, ...
    pub state: String,
}

impl Docker {
    /// The daemon named by the environment.
    pub fn from_env() -> Result<Docker, String> {
        Ok(Docker {
            address: DaemonAddress::from_env()?,
        })
    }

    /// Where it listens.
    pub fn address(&self) -> &DaemonAddress {
        &self.address
    }

    fn connect(&self, timeout: Duration) -> Result<Box<dyn Stream>, String> {
        match &self.address {
            DaemonAddress::Unix(path) => {
                let stream = std::os::unix::net::UnixStream::connect(path)
                    .map_err(|e| format!("no daemon at {path}: {e}"))?;
                stream.set_read_timeout(Some(timeout)).ok();
                Ok(Box::new(stream))
            }
            DaemonAddress::Tcp(authority) => {
                let stream = std::net::TcpStream::connect(authority)
                    .map_err(|e| format!("no daemon at {authority}: {e}"))?;
                stream.set_read_timeout(Some(timeout)).ok();
                Ok(Box::new(stream))
            }
        }
    }

    /// Sends one request and reads the status line and headers; the body follows.
    fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        timeout: Duration,
    ) -> Result<(u16, BufReader<Box<dyn Stream>>), String> {
        let mut stream = self.connect(timeout)?;
        let mut request = format!("{method} {path} HTTP/1.0\r\nHost: docker\r\n");
        if let Some(body) = body {
            request.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        request.push_str("\r\n");
        request.push_str(body.unwrap_or(""));
        stream
            .write_all(request.as_bytes())
            .map_err(|e| format!("{method} {path}: {e}"))?;
        read_head(BufReader::new(stream), method, path)
    }

    /// One call, whole answer.
    pub fn call(&self, method: &str, path: &str, body: Option<&str>) -> Result<Answer, String> {
        let (status, mut reader) = self.send(method, path, body, READ_TIMEOUT)?;
        let mut text = String::new();
        reader
            .read_to_string(&mut text)
            .map_err(|e| format!("{method} {path}: reading the answer: {e}"))?;
        Ok(Answer { status, body: text })
    }

    /// `Ok` when the daemon answers `GET /_ping` within two seconds.
    pub fn ping(&self) -> Result<(), String> {
        let (status, _) = self.send("GET", "/_ping", None, Duration::from_secs(2))?;
        if status == 200 {
            Ok(())
        } else {
            Err(format!("the daemon answered the ping with {status}"))
        }
    }

    /// The labels of a local image, `None` when the daemon does not have it.
    pub fn image_labels(
        &self,
        image: &str,
    ) -> Result<Option<std::collections::BTreeMap<String, String>>, String> {
        let answer = self.call("GET", &format!("/images/{image}/json"), None)?;
        match answer.status {
            200 => {
                let value: Value = serde_json::from_str(&answer.body)
                    .map_err(|e| format!("inspecting {image}: {e}"))?;
                Ok(Some(string_map(&value["Config"]["Labels"])))
            }
            404 => Ok(None),
            status => Err(format!("inspecting {image}: {status} {}", answer.message())),
        }
    }

    /// Pulls `image` (`name:tag`); `Err` carries the daemon's reason (registry not
    /// reachable, unknown tag, rate limit...).
    pub fn pull(&self, image: &str) -> Result<(), String> {
        let (name, tag) = split_image(image)?;
        let path = format!(
            "/images/create?fromImage={}&tag={}",
            query_encode(name),
            query_encode(tag)
        );
        let (status, reader) = self.send("POST", &path, None, READ_TIMEOUT)?;
        let last = read_progress(reader, |_| {})?;
        if status != 200 {
            return Err(format!("pull {image}: {status} {}", message_of(&last)));
        }
        Ok(())
    }

    /// Creates a container named `name` from a JSON body; returns its id.
    pub fn create_container_named(&self, name: &str, body: &Value) -> Result<String, String> {
        let answer = self.call(
            "POST",
            &format!("/containers/create?name={}", query_encode(name)),
            Some(&body.to_string()),
        )?;
        if answer.status != 201 {
            return Err(format!(
                "creating the container: {} {}",
                answer.status,
                answer.message()
            ));
        }
        let value: Value = serde_json::from_str(&answer.body)
            .map_err(|e| format!("reading the created container: {e}"))?;
        value["Id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| "the daemon returned no container id".into())
    }

    /// Starts a created container.
    pub fn start_container(&self, id: &str) -> Result<(), String> {
        let answer = self.call("POST", &format!("/containers/{id}/start"), None)?;
        match answer.status {
            204 | 304 => Ok(()),
            status => Err(format!("starting {id}: {status} {}", answer.message())),
        }
    }

    /// Removes a container, stopping it first (`force`); a missing one is fine.
    pub fn remove_container(&self, id: &str) -> Result<(), String> {
        let answer = self.call(
            "DELETE",
            &format!("/containers/{id}?force=true&v=true"),
            None,
        )?;
        match answer.status {
            204 | 404 => Ok(()),
            status => Err(format!("removing {id}: {status} {}", answer.message())),
        }
    }

    /// Whether a container is running (`false` when gone).
    pub fn is_running(&self, id: &str) -> bool {
        self.call("GET", &format!("/containers/{id}/json"), None)
            .ok()
            .filter(|a| a.status == 200)
            .and_then(|a| serde_json::from_str::<Value>(&a.body).ok())
            .and_then(|v| v["State"]["Running"].as_bool())
            .unwrap_or(false)
    }

    /// The last `lines` lines of a container's output (stdout and stderr).
    pub fn logs_tail(&self, id: &str, lines: usize) -> String {
        match self.call(
            "GET",
            &format!("/containers/{id}/logs?stdout=true&stderr=true&tail={lines}"),
            None,
        ) {
            Ok(answer) if answer.status == 200 => demultiplex(answer.body.as_bytes()),
            Ok(answer) => format!("(no logs: {})", answer.message()),
            Err(e) => format!("(no logs: {e})"),
        }
    }

    /// Every container (running or not) carrying the label `key`.
    pub fn containers_labelled(&self, key: &str) -> Result<Vec<ListedContainer>, String> {
        let filters = serde_json::json!({ "label": [key] }).to_string();
        let answer = self.call(
            "GET",
            &format!(
                "/containers/json?all=true&filters={}",
                query_encode(&filters)
            ),
            None,
        )?;
        if answer.status != 200 {
            return Err(format!(
                "listing containers: {} {}",
                answer.status,
                answer.message()
            ));
        }
        let value: Value = serde_json::from_str(&answer.body)
            .map_err(|e| format!("reading the container list: {e}"))?;
        Ok(value
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|c| {
                        Some(ListedContainer {
                            id: c["Id"].as_str()?.to_string(),
                            labels: string_map(&c["Labels"]),
                            state: c["State"].as_str().unwrap_or("").to_string(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// `docker import`: streams a tar archive of a root filesystem (read from `tar`)
    /// into a new image `repository:tag`, applying Dockerfile `changes` (`CMD`, `ENV`,
    /// `LABEL`...). `progress` sees each status line of the daemon.
    pub fn import(
        &self,
        tar: &mut dyn Read,
        image: &str,
        changes: &[String],
        mut progress: impl FnMut(&str),
    ) -> Result<(), String> {
        let (repository, tag) = split_image(image)?;
        let mut path = format!(
            "/images/create?fromSrc=-&repo={}&tag={}",
            query_encode(repository),
            query_encode(tag)
        );
        for change in changes {
            path.push_str("&changes=");
            path.push_str(&query_encode(change));
        }
        let mut stream = self.connect(READ_TIMEOUT)?;
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: docker\r\nContent-Type: application/x-tar\r\n\
             Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        );
        stream
            .write_all(head.as_bytes())
            .map_err(|e| format!("import: {e}"))?;
        let mut buffer = vec![0u8; 1 << 20];
        loop {
            let n = tar
                .read(&mut buffer)
                .map_err(|e| format!("import: reading the archive: {e}"))?;
            if n == 0 {
                break;
            }
            stream
                .write_all(format!("{n:x}\r\n").as_bytes())
                .and_then(|()| stream.write_all(&buffer[..n]))
                .and_then(|()| stream.write_all(b"\r\n"))
                .map_err(|e| format!("import: sending the archive: {e}"))?;
        }
        stream
            .write_all(b"0\r\n\r\n")
            .map_err(|e| format!("import: {e}"))?;
        let (status, reader) = read_head(BufReader::new(stream), "POST", "/images/create")?;
        let reader = Dechunk::new(reader);
        let last = read_progress(BufReader::new(reader), &mut progress)?;
        if status != 200 || last.get("error").is_some() {
            return Err(format!("import: {status} {}", message_of(&last)));
        }
        Ok(())
    }
}

fn read_head(
    mut reader: BufReader<Box<dyn Stream>>,
    method: &str,
    path: &str,
) -> Result<(u16, BufReader<Box<dyn Stream>>), String> {
    let mut status_line = String::new();
    reader
        .read_line(&mut status_line)
        .map_err(|e| format!("{method} {path}: {e}"))?;
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("{method} {path}: not an HTTP answer: {status_line:?}"))?;
    loop {
        let mut header = String::new();
        let n = reader
            .read_line(&mut header)
            .map_err(|e| format!("{method} {path}: {e}"))?;
        if n == 0 || header == "\r\n" || header == "\n" {
            break;
        }
    }
    Ok((status, reader))
}

/// Reads a JSON-lines progress stream; returns the last message (an `error` wins).
fn read_progress(reader: impl BufRead, mut progress: impl FnMut(&str)) -> Result<Value, String> {
    let mut last = Value::Null;
    for line in reader.lines() {
        let line = line.map_err(|e| format!("reading the daemon's progress: {e}"))?;
        let Ok(value) = serde_json::from_str::<Value>(line.trim()) else {
            continue;
        };
        if let Some(status) = value["status"].as_str() {
            progress(status);
        }
        let is_error = value.get("error").is_some();
        last = value;
        if is_error {
            break;
        }
    }
    Ok(last)
}

fn message_of(value: &Value) -> String {
    value["error"]
        .as_str()
        .or_else(|| value["message"].as_str())
        .or_else(|| value["status"].as_str())
        .unwrap_or("no message")
        .to_string()
}

/// Decodes an HTTP/1.1 chunked body (the import answer); other bodies pass through
/// untouched only if they are chunked, which the daemon always does for streams.
struct Dechunk<R> {
    inner: R,
    left: usize,
    done: bool,
}

impl<R: BufRead> Dechunk<R> {
    fn new(inner: R) -> Self {
        Dechunk {
            inner,
            left: 0,
            done: false,
        }
    }
}

impl<R: BufRead> Read for Dechunk<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.done {
            return Ok(0);
        }
        if self.left == 0 {
            let mut size = String::new();
            if self.inner.read_line(&mut size)? == 0 {
                self.done = true;
                return Ok(0);
            }
            if size.trim().is_empty() {
                // The CRLF that ends the previous chunk.
                size.clear();
                if self.inner.read_line(&mut size)? == 0 {
                    self.done = true;
                    return Ok(0);
                }
            }
            let hex = size.trim().split(';').next().unwrap_or("");
            self.left = usize::from_str_radix(hex, 16)
                .map_err(|_| std::io::Error::other(format!("bad chunk size {hex:?}")))?;
            if self.left == 0 {
                self.done = true;
                return Ok(0);
            }
        }
        let want = out.len().min(self.left);
        let n = self.inner.read(&mut out[..want])?;
        if n == 0 {
            self.done = true;
        }
        self.left -= n;
        Ok(n)
    }
}

/// Docker multiplexes stdout and stderr of a container without a TTY in frames of
/// an 8-byte header (stream, 0, 0, 0, big-endian length) and the payload.
fn demultiplex(raw: &[u8]) -> String {
    let mut out = Vec::new();
    let mut rest = raw;
    while rest.len() >= 8 && rest[1..4] == [0, 0, 0] && rest[0] <= 2 {
        let len = u32::from_be_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize;
        let end = (8 + len).min(rest.len());
        out.extend_from_slice(&rest[8..end]);
        rest = &rest[end..];
    }
    out.extend_from_slice(rest);
    String::from_utf8_lossy(&out).into_owned()
}

fn string_map(value: &Value) -> std::collections::BTreeMap<String, String> {
    value
        .as_object()
        .map(|labels| {
            labels
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// `name:tag` → (`name`, `tag`); a tag is required (images are pinned).
pub fn split_image(image: &str) -> Result<(&str, &str), String> {
    match image.rsplit_once(':') {
        Some((name, tag)) if !name.is_empty() && !tag.is_empty() && !tag.contains('/') => {
            Ok((name, tag))
        }
        _ => Err(format!(
            "image {image:?} has no tag: name a pinned one, e.g. localstack/localstack:4.14.0"
        )),
    }
}

/// Percent-encodes a query component (RFC 3986 unreserved characters pass).
fn query_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_must_be_pinned() {
        assert_eq!(
            split_image("localstack/localstack:4.14.0").unwrap(),
            ("localstack/localstack", "4.14.0")
        );
        assert_eq!(
            split_image("registry:5000/ls:1").unwrap(),
            ("registry:5000/ls", "1")
        );
        assert!(split_image("localstack/localstack").is_err());
        assert!(split_image("registry:5000/ls").is_err());
    }

    #[test]
    fn log_frames_are_demultiplexed() {
        let mut raw = vec![1, 0, 0, 0, 0, 0, 0, 3];
        raw.extend_from_slice(b"ab\n");
        raw.extend_from_slice(&[2, 0, 0, 0, 0, 0, 0, 2]);
        raw.extend_from_slice(b"c\n");
        assert_eq!(demultiplex(&raw), "ab\nc\n");
    }

    #[test]
    fn chunked_bodies_are_decoded() {
        let body = b"4\r\nabcd\r\n2\r\nef\r\n0\r\n\r\n";
        let mut text = String::new();
        Dechunk::new(&body[..]).read_to_string(&mut text).unwrap();
        assert_eq!(text, "abcdef");
    }

    #[test]
    fn query_components_are_encoded() {
        assert_eq!(query_encode("CMD [\"a\"]"), "CMD%20%5B%22a%22%5D");
    }
}
