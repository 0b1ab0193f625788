//! `GET /_localstack/health` over a plain TCP connection (std only: this runs before
//! any async runtime exists).

use crate::Error;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// One health probe: `Ok` when LocalStack answers 200 and lists Secrets Manager.
pub fn probe(endpoint: &str) -> Result<(), String> {
    let authority = endpoint
        .strip_prefix("http://")
        .ok_or_else(|| format!("endpoint {endpoint} must start with http://"))?
        .trim_end_matches('/');
    let addr = authority
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {authority}: {e}"))?
        .next()
        .ok_or_else(|| format!("{authority} resolves to nothing"))?;
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .map_err(|e| format!("connect {authority}: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
    write!(
        stream,
        "GET /_localstack/health HTTP/1.0\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("write: {e}"))?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| format!("read: {e}"))?;
    let status_ok = response
        .lines()
        .next()
        .is_some_and(|line| line.split_whitespace().nth(1) == Some("200"));
    if !status_ok {
        return Err(format!(
            "unexpected answer: {}",
            response.lines().next().unwrap_or("")
        ));
    }
    if !response.contains("\"secretsmanager\"") {
        return Err("health answer does not list secretsmanager".into());
    }
    Ok(())
}

/// Polls until healthy or the deadline passes.
pub fn wait_ready(endpoint: &str, deadline: Duration) -> Result<(), Error> {
    wait_ready_while(endpoint, deadline, || true)
}

/// Polls until healthy, the deadline passes, or `alive` says the process is gone.
pub fn wait_ready_while(
    endpoint: &str,
    deadline: Duration,
    mut alive: impl FnMut() -> bool,
) -> Result<(), Error> {
    let began = Instant::now();
    let mut last = String::from("never probed");
    while began.elapsed() < deadline {
        match probe(endpoint) {
            Ok(()) => return Ok(()),
            Err(e) => last = e,
        }
        if !alive() {
            last = format!("the process exited ({last})");
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(Error::NotReady {
        endpoint: endpoint.to_string(),
        seconds: began.elapsed().as_secs(),
        last,
    })
}
