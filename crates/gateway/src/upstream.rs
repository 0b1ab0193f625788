//! The HTTP client to LocalStack: relaying requests, and the gateway's own signed calls
//! as an account's root user (query protocol for IAM/STS, JSON for Secrets Manager/KMS).

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, Uri};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use thiserror::Error;

use crate::errors::{full_body, Body};
use aws_wire::encoding::encode_form;
use aws_wire::sigv4::{sign_request, SigningParams};
use aws_wire::time::unix_now;
use aws_wire::xml;
use aws_wire::Secret;

/// Largest upstream answer the gateway reads into memory (relayed answers stream).
pub const MAX_UPSTREAM_BODY: usize = 32 * 1024 * 1024;

/// A failed call to LocalStack.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum UpstreamError {
    /// The endpoint URL is unusable.
    #[error("invalid upstream URL '{0}'")]
    BadUrl(String),
    /// Connecting or transferring failed.
    #[error("upstream unreachable: {0}")]
    Transport(String),
    /// No answer in time.
    #[error("upstream timed out")]
    Timeout,
    /// LocalStack answered with an AWS error.
    #[error("upstream error {status} {code}: {message}")]
    Aws {
        /// HTTP status.
        status: u16,
        /// AWS error code.
        code: String,
        /// Message.
        message: String,
    },
    /// The answer could not be read.
    #[error("unreadable upstream answer: {0}")]
    Parse(String),
    /// The call could not be signed (a value that cannot be a header).
    #[error("cannot sign the upstream call: {0}")]
    Signing(aws_wire::sigv4::SigV4Error),
}

impl UpstreamError {
    /// Whether this is an AWS error with `code`.
    pub fn is_code(&self, code: &str) -> bool {
        matches!(self, UpstreamError::Aws { code: c, .. } if c == code || c.ends_with(&format!("#{code}")))
    }
}

/// A pooled HTTP/1.1 client bound to one LocalStack endpoint.
#[derive(Clone)]
pub struct Upstream {
    client: Client<HttpConnector, Body>,
    scheme: http::uri::Scheme,
    authority: http::uri::Authority,
    root_secret: Secret,
    timeout: Duration,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("endpoint", &format!("{}://{}", self.scheme, self.authority))
            .finish()
    }
}

impl Upstream {
    /// A client for `endpoint` (e.g. `http://127.0.0.1:4566`); the gateway's own calls
    /// are signed as root with `root_secret`.
    pub fn new(
        endpoint: &str,
        root_secret: &str,
        timeout: Duration,
    ) -> Result<Self, UpstreamError> {
        let uri: Uri = endpoint
            .trim_end_matches('/')
            .parse()
            .map_err(|_| UpstreamError::BadUrl(endpoint.into()))?;
        let scheme = uri
            .scheme()
            .cloned()
            .ok_or_else(|| UpstreamError::BadUrl(endpoint.into()))?;
        if scheme != http::uri::Scheme::HTTP {
            return Err(UpstreamError::BadUrl(format!(
                "{endpoint} (only http:// is supported)"
            )));
        }
        let authority = uri
            .authority()
            .cloned()
            .ok_or_else(|| UpstreamError::BadUrl(endpoint.into()))?;
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(64)
            .build(connector);
        Ok(Self {
            client,
            scheme,
            authority,
            root_secret: Secret::new(root_secret),
            timeout,
        })
    }

    /// The endpoint URL.
    pub fn endpoint(&self) -> String {
        format!("{}://{}", self.scheme, self.authority)
    }

    /// The endpoint's `host[:port]` (the `Host` of every relayed request).
    pub fn authority(&self) -> &http::uri::Authority {
        &self.authority
    }

    /// The absolute upstream URI for a path-and-query.
    pub fn uri_for(&self, path_and_query: &str) -> Result<Uri, UpstreamError> {
        Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(path_and_query)
            .build()
            .map_err(|e| UpstreamError::BadUrl(e.to_string()))
    }

    /// Sends a request as is (its URI must already point upstream).
    pub async fn send(&self, req: Request<Body>) -> Result<Response<Incoming>, UpstreamError> {
        match tokio::time::timeout(self.timeout, self.client.request(req)).await {
            Err(_) => Err(UpstreamError::Timeout),
            Ok(Err(e)) => Err(UpstreamError::Transport(e.to_string())),
            Ok(Ok(r)) => Ok(r),
        }
    }

    async fn call(
        &self,
        method: Method,
        headers: HeaderMap,
        body: Vec<u8>,
        p: SigningParams<'_>,
    ) -> Result<(u16, Bytes), UpstreamError> {
        let uri = self.uri_for("/")?;
        let mut headers = headers;
        headers.insert(
            "host",
            self.authority
                .as_str()
                .parse()
                .map_err(|_| UpstreamError::BadUrl(self.endpoint()))?,
        );
        sign_request(&method, &uri, &mut headers, &body, &p).map_err(UpstreamError::Signing)?;
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .body(full_body(body))
            .map_err(|e| UpstreamError::Transport(e.to_string()))?;
        *req.headers_mut() = headers;
        let resp = self.send(req).await?;
        let status = resp.status().as_u16();
        let bytes = match tokio::time::timeout(
            self.timeout,
            Limited::new(resp.into_body(), MAX_UPSTREAM_BODY).collect(),
        )
        .await
        {
            Err(_) => return Err(UpstreamError::Timeout),
            Ok(Err(e)) => return Err(UpstreamError::Transport(e.to_string())),
            Ok(Ok(c)) => c.to_bytes(),
        };
        Ok((status, bytes))
    }

    /// A query-protocol call (IAM, STS) as the root user of `account`; answers the root
    /// element of the XML document, or the AWS error.
    pub async fn query(
        &self,
        account: &str,
        service: &str,
        params: &[(&str, &str)],
    ) -> Result<xml::Element, UpstreamError> {
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-type",
            http::HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
        );
        let body = encode_form(params).into_bytes();
        let p = SigningParams {
            access_key_id: account,
            secret_access_key: self.root_secret.expose(),
            session_token: None,
            region: "us-east-1",
            service,
            time: unix_now(),
        };
        let (status, bytes) = self.call(Method::POST, headers, body, p).await?;
        let root = xml::parse(&bytes).map_err(|e| UpstreamError::Parse(e.to_string()))?;
        if status >= 300 || root.name == "ErrorResponse" {
            let err = root.find("Error");
            return Err(UpstreamError::Aws {
                status,
                code: err
                    .and_then(|e| e.text_at(&["Code"]))
                    .unwrap_or("Unknown")
                    .to_string(),
                message: err
                    .and_then(|e| e.text_at(&["Message"]))
                    .unwrap_or("")
                    .to_string(),
            });
        }
        Ok(root)
    }

    /// A JSON 1.1 call (Secrets Manager, KMS) as the root user of `account` in `region`.
    pub async fn json(
        &self,
        account: &str,
        region: &str,
        service: &str,
        target: &str,
        body: &Value,
    ) -> Result<Value, UpstreamError> {
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-type",
            http::HeaderValue::from_static("application/x-amz-json-1.1"),
        );
        headers.insert(
            "x-amz-target",
            target
                .parse()
                .map_err(|_| UpstreamError::BadUrl(target.into()))?,
        );
        let p = SigningParams {
            access_key_id: account,
            secret_access_key: self.root_secret.expose(),
            session_token: None,
            region,
            service,
            time: unix_now(),
        };
        let (status, bytes) = self
            .call(Method::POST, headers, body.to_string().into_bytes(), p)
            .await?;
        let v: Value = if bytes.is_empty() {
            Value::Object(Default::default())
        } else {
            serde_json::from_slice(&bytes).map_err(|e| UpstreamError::Parse(e.to_string()))?
        };
        if status >= 300 {
            let code = v.get("__type").and_then(Value::as_str).unwrap_or("Unknown");
            let code = code.rsplit('#').next().unwrap_or(code).to_string();
            let message = v
                .get("message")
                .or_else(|| v.get("Message"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            return Err(UpstreamError::Aws {
                status,
                code,
                message,
            });
        }
        Ok(v)
    }
}
